"""The examples of README.zh-CN.md, of the README's paste / zh / solve / practice sections and of docs/spec.md
run, and say what the text around them says."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, cwd=ROOT,
                          encoding="utf-8")


def console_commands(path: Path) -> list[str]:
    return re.findall(r"^\$ cnncalc (.+?)(?:\s+# .*)?$", path.read_text(encoding="utf-8"), flags=re.M)


@pytest.mark.parametrize("path", ["README.zh-CN.md", "README.md"])
def test_console_examples_run(path):
    cmds = console_commands(ROOT / path)
    assert len(cmds) >= 8
    for cmd in cmds:
        if "LSTM(16)" in cmd:
            continue                                       # the README's deliberate error (test_cli checks it)
        p = run(*shlex.split(cmd))
        assert p.returncode == 0 and "Traceback" not in p.stderr, (cmd, p.stdout[-400:], p.stderr)


def test_readme_texts_are_what_the_commands_print():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    out = run("solve", "input(3, 224, 224) | conv1: conv2d(64, 7, stride=2, padding=?)", "--target", "conv1: 112x112")
    for line in ("Solution 1: conv1.padding = 3", "  Solve for P: floor((I + 2P - d*(K-1) - 1)/S) + 1 = O, with I = 224, "
                 "O = 112, K = 7, S = 2, d = 1", "  => P = 3"):
        assert line in out.stdout and line in readme, line
    out = run("solve", "input(3, 224, 224) | c: conv2d(64, 4, padding=?)", "--target", "c: same", "--lang", "zh")
    block = re.search(r"```\n(无解.*?)```", zh, flags=re.S).group(1)
    assert block in out.stdout
    assert "no padding keeps 224 with k=4, s=1: 2P + 1 = K needs an odd kernel" in readme
    out = run("solve", "input(3, 32, 32) | c: conv2d(16, ?k, padding=?p)", "--target", "c: same", "--range", "k=1..9")
    assert "Every solution has k = 2*p + 1: K = 2P + 1 keeps the size when S = 1" in out.stdout
    out = run("summary", "input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)", "--explain", "--lang", "zh")
    for line in re.search(r"```\n(\[1\] conv2d_1 = .*?)```", readme, flags=re.S).group(1).splitlines():
        assert line in out.stdout, line
    out = run("practice", "--topic", "params", "--seed", "5", "--lang", "zh", "--answer", "27744")
    block = re.search(r"```\n(第 \[6\] 层.*?)```", zh, flags=re.S).group(1)
    assert block in out.stdout


def test_python_examples_of_the_new_sections():
    for path in (ROOT / "README.md", ROOT / "README.zh-CN.md"):
        for block in re.findall(r"```py\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
            exec(compile(block, str(path), "exec"), {})        # noqa: S102 -- our own docs


def test_spec_md_examples():
    spec = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    blocks = ["\n".join(line[4:] for line in b.splitlines()) for b in re.findall(r"\n((?:    [^\n]*\n)+)", spec)]
    pasted = next(b for b in blocks if "nn.Conv2d(3, 16, 3, 1, 1)" in b)
    r = cnncalc.analyze(pasted)
    assert r.layers[0].output_shape == (1, 16, 32, 32) and r.layers[-1].output_shape == (1, 10)
    unknowns = next(b for b in blocks if "padding=?)" in b)
    first = "\n".join(unknowns.splitlines()[:2])
    assert cnncalc.solve(first, ["conv1: 112x112"]).best.values == {"conv1.padding": 3}


def test_example_files():
    assert cnncalc.analyze("examples/pasted_pytorch.txt").totals.params == 217_706
    assert cnncalc.analyze("examples/pasted_keras.txt", convention="keras").totals.params == 34_826
    r = cnncalc.analyze("examples/seed003_keras1.txt")
    assert [l.output_shape[2] for l in r.layers if l.kind in ("conv2d", "maxpool2d")] == [24, 22, 11, 9, 4]
