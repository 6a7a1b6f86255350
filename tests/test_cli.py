"""The command line: formats, explanations, exit codes, the layer reference, and the README's examples."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST = ("input(1, 28, 28) | conv2d(32, 5) | relu | maxpool2d(2) | conv2d(32, 3) | relu | maxpool2d(2) | flatten"
         " | dense(256) | relu | dense(10) | softmax")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, timeout=60)


def test_summary_table():
    p = run("summary", MNIST)
    assert p.returncode == 0, p.stderr
    assert "217,706" in p.stdout and "convention pytorch" in p.stdout
    assert "(1, 32, 24, 24)" in p.stdout and "MACs" in p.stdout


def test_summary_json_schema():
    p = run("summary", MNIST, "--format", "json", "--batch", "2")
    d = json.loads(p.stdout)
    assert d["totals"]["params"] == 217_706
    assert d["input_shape"] == [2, 1, 28, 28]
    assert d["layers"][0]["macs"] == 2 * 32 * 24 * 24 * 25      # batch 2, 25 MACs per output


@pytest.mark.parametrize("fmt,needle", [("csv", "total"), ("markdown", "**217,706**")])
def test_summary_other_formats(fmt, needle):
    p = run("summary", MNIST, "-f", fmt)
    assert p.returncode == 0 and needle in p.stdout


def test_explain_all_and_one_layer():
    p = run("summary", "input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)", "--explain")
    assert "adds = 25,000 * (27 - 1 + 1 bias) = 675,000" in p.stdout
    p = run("summary", MNIST, "--explain", "4")
    assert "[4] conv2d_2" in p.stdout and "[1]" not in p.stdout


def test_file_and_stdin_and_output(tmp_path):
    assert "217,706" in run("summary", "examples/mnist.yaml").stdout
    assert "217,706" in run("summary", "-", stdin=MNIST).stdout
    out = tmp_path / "r.json"
    assert run("summary", MNIST, "-f", "json", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["totals"]["params"] == 217_706


def test_dtype_and_convention_options():
    d = json.loads(run("summary", "input(8, 8, 3) | conv2d(4, 3)", "-c", "keras", "--dtype", "float16",
                       "-f", "json").stdout)
    assert d["convention"] == "keras" and d["layers"][0]["activation_bytes"] == 6 * 6 * 4 * 2


@pytest.mark.parametrize("spec,needle", [
    ("input(1, 28, 28) | conv2d(32, 50)", "50"),
    ("input(1, 28, 28) | conv2d(32, 3, strid=2)", "did you mean 'stride'"),
    ("input(1, 28, 28) | conv2d(32, 3", "unbalanced"),
])
def test_bad_input_exit_2_no_traceback(spec, needle):
    p = run("summary", spec)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and needle in p.stderr
    assert "^" in p.stderr            # the caret marks the spot


def test_bad_option_values_exit_2():
    for args in (["--convention", "kears"], ["--dtype", "float13"], ["--batch", "0"]):
        p = run("summary", MNIST, *args)
        assert p.returncode == 2 and "Traceback" not in p.stderr, args


def test_help_states_definitions():
    p = run("summary", "--help")
    assert "multiply-accumulates" in p.stdout and "torchvision" in p.stdout and "receptive field" in p.stdout


def test_layer_reference_matches_docs():
    assert run("layers").stdout == (ROOT / "docs" / "layers.md").read_text()


def test_readme_console_examples_run():
    readme = (ROOT / "README.md").read_text()
    cmds = re.findall(r"^\$ cnncalc (.+?)(?:\s+# .*)?$", readme, flags=re.M)
    assert len(cmds) >= 4
    import shlex
    for cmd in cmds:
        p = run(*shlex.split(cmd))
        assert "Traceback" not in p.stderr, cmd
        assert p.returncode in (0, 2), cmd
        if "LSTM(16)" in cmd:
            assert p.returncode == 2 and "lstm needs a sequence" in p.stderr
        else:
            assert p.returncode == 0, (cmd, p.stderr)
    assert "56" in run("summary", "input(3, 112, 112) | maxpool2d(3, stride=2, padding=1)").stdout


def test_readme_python_example_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 2
    ns = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)       # noqa: S102 -- our own README
    r = ns["report"]
    assert r.totals.params == 46_922                       # 832 + (32*12*12 + 1)*10 = 832 + 46,090
    assert ns["data"]["totals"]["params"] == 46_922
    pytest.importorskip("torch")
    ns = {}
    exec(compile(blocks[1], "README.md", "exec"), ns)       # noqa: S102
    # conv: 16*1024*1024 outputs * 27 MACs; linear: 16*10
    assert ns["report"].totals.macs == 16 * 1024 * 1024 * 27 + 16 * 10 == 452_984_992


def test_export_to_pytorch_runs(tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "net.py"
    p = run("export", "zoo:resnet18", "--to", "pytorch", "--class-name", "ResNet18", "-o", str(out))
    assert p.returncode == 0, p.stderr
    ns = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)    # noqa: S102 -- code we just generated
    with torch.device("meta"):
        model = ns["ResNet18"]()
        y = model(torch.empty(1, 3, 224, 224))
    assert sum(q.numel() for q in model.parameters()) == 11_689_512   # torchvision's published count
    assert tuple(y.shape) == (1, 1000)
    bad = run("export", "input(3, 8, 8) | conv2d(4, 50)")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_top_level_round_trip_helpers():
    torch = pytest.importorskip("torch")
    import cnncalc
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 16 * 16, 10))
    spec = cnncalc.to_spec(model, (1, 3, 16, 16))
    assert cnncalc.analyze(spec).totals.params == sum(q.numel() for q in model.parameters())
    assert "class Net" in cnncalc.to_pytorch(spec)
