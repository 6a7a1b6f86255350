"""Chinese output (--lang zh): the message catalog is complete, the seed MNIST network's table and explanation
read as the seeds write them (golden files), no English prose is left, and errors speak Chinese too.

Golden files are reviewed by hand; regenerate with CNNCALC_UPDATE_GOLDEN=1 only after reading the change.
"""
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.i18n import CATALOGS, Msg, lang_from_env, norm_lang, render, tr
from cnncalc.ops import registry

GOLDEN = Path(__file__).parent / "golden"
MNIST = open("examples/mnist.txt").read()


def _golden(name, text):
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


# --------------------------------------------------------------------------------------------- the catalog

def test_every_message_has_both_languages():
    en, zh = CATALOGS["en"], CATALOGS["zh"]
    assert set(en) == set(zh), f"only in en: {sorted(set(en) - set(zh))}; only in zh: {sorted(set(zh) - set(en))}"


def _fields(template):
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


@pytest.mark.parametrize("key", sorted(CATALOGS["en"]))
def test_templates_take_the_same_parameters(key):
    en, zh = CATALOGS["en"][key], CATALOGS["zh"][key]
    # a translation may leave out a parameter the language does not need, never add one
    assert _fields(zh) <= _fields(en) | {"K"}, key


def test_english_stays_the_default():
    err = pytest.raises(cnncalc.SpecError, cnncalc.analyze, "input(3, 8, 8) | conv2d(4, 9)").value
    assert str(err).startswith("layer #1 conv2d, line 1, column 28: kernel 9 is larger than the padded input")
    assert err.render("zh").startswith("第 #1 conv2d 层，第 1 行第 28 列：卷积核 9 比 H 方向填充后的输入还大")
    assert str(err) == err.render("en")


def test_language_names():
    assert norm_lang("zh_CN.UTF-8") == norm_lang("zh-Hans") == norm_lang("ZH") == "zh"
    assert norm_lang(None) == norm_lang("en_US.UTF-8") == "en"
    assert norm_lang("fr") is None
    assert lang_from_env({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert lang_from_env({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert lang_from_env({}) == "en"
    with pytest.raises(cnncalc.SpecError, match="unknown language 'fr'"):
        cnncalc.analyze(MNIST).explain(lang="fr")


def test_msg_is_its_english_text():
    m = Msg("err.in_channels", given=3, c=64)
    assert m == "in_channels=3 but the input has 64 channels" and isinstance(m, str)
    assert m.render("zh") == "in_channels=3，但输入有 64 个通道"
    import pickle
    assert pickle.loads(pickle.dumps(m)).render("zh") == m.render("zh")


# --------------------------------------------------------------------------------------------- golden files

def test_golden_mnist_table_zh():
    _golden("mnist_table_zh.txt", cnncalc.analyze(MNIST).table(lang="zh"))


def test_golden_mnist_explain_zh():
    _golden("mnist_explain_zh.txt", cnncalc.analyze(MNIST).explain(lang="zh"))


def test_zh_uses_the_seeds_terms_and_formulas():
    table = cnncalc.analyze(MNIST).table(lang="zh")
    text = cnncalc.analyze(MNIST).explain(lang="zh")
    for term in ("输出尺寸", "参数量", "乘加次数 (MACs)", "计算量", "感受野", "显存占用"):
        assert term in table, term
    for term in ("乘法次数", "加法次数", "步长", "填充", "卷积核", "向下取整"):
        assert term in text, term
    # seed 004: O = floor((I - K + 2P)/S) + 1, the fraction rounded down; seed 002: (5*5*1+1)*32 = 832
    assert "输出尺寸 H_out = ⌊(28 - 5 + 2*0)/1⌋ + 1 = 24   [pytorch：分式部分向下取整]" in text
    assert "参数量 = (5*5*1 + 1)*32 = 832" in text
    assert "参数量 = 832 + 9,248 + 205,056 + 2,570 = 217,706" in text
    ceil = cnncalc.analyze("input(3, 112, 112) | maxpool2d(3, stride=2, padding=1)", convention="caffe")
    assert "⌈(112 - 3 + 2*1)/2⌉ + 1" in ceil.explain(lang="zh") and "向上取整" in ceil.explain(lang="zh")


# --------------------------------------------------------------------------------------------- no English left

#: words that are not prose: identifiers, framework and unit names, math functions
ALLOWED = {"MACs", "FLOPs", "GFLOPS", "KiB", "MiB", "GiB", "TiB", "B", "K", "M", "G", "T", "x", "n", "r", "s", "k",
           "d", "I", "O", "P", "S", "N", "L", "C", "H", "W", "D", "max", "min", "exp", "tanh", "floor", "ceil",
           "same", "valid", "pytorch", "keras", "caffe", "onnx", "PyTorch", "Keras", "TensorFlow", "ONNX", "Caffe",
           "BVLC", "torchvision", "cnncalc", "input", "int", "float", "weight", "bias", "gamma", "beta",
           "in_channels", "out_channels", "kernel_size", "channels_first", "channels_last", "ceil_mode",
           "running_mean", "running_var", "num_batches_tracked", "mean", "variance", "factor", "Scale", "BatchNorm",
           "SAME_UPPER", "SAME_LOWER", "auto_pad", "help", "global", "convention", "lang", "zh", "en", "true", "false",
           "solve", "summary", "tensorflow", "Python"}
ALLOWED |= {cls for _, cls in __import__("cnncalc.ops.signatures", fromlist=["x"]).SIGNATURES}
ALLOWED |= {s for op in registry.KINDS.values() for s in op.spellings} | set(registry.KINDS)
ALLOWED |= {p.name for op in registry.KINDS.values() for p in op.params}


def english_words(text: str, names=()) -> set:
    """ASCII words of ``text`` that are prose: not identifiers, units or the network's own layer names."""
    words = set()
    for line in text.splitlines():
        line = re.sub(r"\[(?:in|出错处)：?[^\]]*\]", "", line)           # the spec fragment quoted in errors
        line = re.sub(r"^\s*\[\d+\] \S+ = .*?    \(", "(", line)           # '[1] conv2d_1 = conv2d(32, 5)    (...'
        line = re.sub(r"'[^']*'", "", line)                                 # quoted spec text
        for w in re.findall(r"[A-Za-z][A-Za-z_0-9]*", line):
            if any(c.isdigit() for c in w) or "_" in w or w in ALLOWED or w in names:
                continue
            words.add(w)
    return words


COMMON = [
    MNIST,
    "input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)",
    "input(3, 224, 224) | conv2d(64, 7, stride=2, padding=3, bias=false) | batchnorm2d | relu | "
    "maxpool2d(3, stride=2, padding=1) | avgpool2d(2) | flatten | dropout(0.5) | dense(1000) | softmax",
    "input(20) | embedding(1000, 64) | lstm(32) | dense(10)",
    "input(3, 32, 32) | a: conv2d(8, 3, padding=1) | b: conv2d(8, 3, padding=1) | add(a) | concat(a) | sigmoid",
]


@pytest.mark.parametrize("spec", COMMON, ids=["mnist", "seed001", "stem", "lstm", "merge"])
def test_zh_output_has_no_english_prose(spec):
    report = cnncalc.analyze(spec)
    names = {layer.name for layer in report.layers}
    for text in (report.table(lang="zh"), report.explain(lang="zh")):
        assert not english_words(text, names), english_words(text, names)


def test_zh_keras_convention_and_warnings():
    r = cnncalc.analyze("input(28, 28, 3) | conv2d(16, 3, strides=2, padding=same) | batchnorm", convention="keras")
    assert not english_words(r.explain(lang="zh")) and not english_words(r.table(lang="zh"))
    w = cnncalc.analyze("input(28, 28, 1) | flatten | dense(10)")                  # looks channels-last
    assert any("通道在后" in line for line in w.table(lang="zh").splitlines())


COMMON_MISTAKES = [
    "input(3, 32, 32) | conv2d(8, 3) $",
    "input(3, 32, 32) | conv2d(8, 3",
    "input(3, 32, 32) | conv2d(8, 3))",
    "input(3, 32, 32) | conv2 d(8, 3)",
    "input(3, 32, 32) | conv(8, 3, stride=2, strides=1)",
    "input(3, 32, 32) | convv2d(8, 3)",
    "input(3, 32, 32) | conv2d(8, 3, strid=2)",
    "input(3, 32, 32) | dense",
    "input(3, 32) | dense(4, true, 32, none, 9)",
    "input(3, 32, 32) | conv2d(8, 0)",
    "input(3, 8, 8) | conv2d(8, 9)",
    "input(3, 8, 8) | maxpool2d(9)",
    "input(3, 8, 8) | maxpool2d(3, stride=2, padding=2)",
    "input(3, 28, 28) | conv2d(8, 3, padding=same, stride=2)",
    "input(3, 32, 32) | conv2d(8, 3, groups=2)",
    "input(3, 32, 32) | lstm(16)",
    "input(3, 32, 32) | Conv2d(4, 8, 3)",
    "input(512) | Linear(256, 10)",
    "input(3, 8, 8) | a: conv2d(4, 1) | b = a | conv2d(5, 1) | add(a, b)",
    "conv2d(8, 3) | relu",
    "",
    "input(3, 32, 32) | conv2d(8, 3, padding=?)",
    "input(28, 28, 1) | conv2d(8, 5)",
    "input(3, 32, 32) | conv2d(8, 3, bias=maybe)",
    "input(3, 32, 32) | conv2d(kernel_size=3, 8)",
    "input(0, 32, 32)",
]


@pytest.mark.parametrize("spec", COMMON_MISTAKES)
def test_common_mistakes_have_chinese_messages(spec):
    err = pytest.raises(cnncalc.SpecError, cnncalc.analyze, spec).value
    zh = err.render("zh")
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    names = set(re.findall(r"(\w+)\s*(?::|=(?!=))", spec))             # the spec's own labels and tensor names
    assert not english_words(zh, names), (zh, english_words(zh, names))
    assert "\n" not in zh


def test_dtype_and_convention_errors_in_zh():
    for kw in ({"dtype": "fp33"}, {"convention": "pytorh"}):
        err = pytest.raises(cnncalc.SpecError, cnncalc.analyze, MNIST, **kw).value
        assert not english_words(err.render("zh")), err.render("zh")


# --------------------------------------------------------------------------------------------- the CLI

def _cli(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, env=e,
                          encoding="utf-8")


def test_cli_lang_zh_table_and_explain():
    out = _cli("summary", "examples/mnist.txt", "--lang", "zh", "-o", "/dev/stdout")
    assert out.returncode == 0 and "参数量" in out.stdout and "217,706" in out.stdout
    out = _cli("summary", "examples/mnist.txt", "--explain", "--lang", "zh")
    assert out.stdout == (GOLDEN / "mnist_explain_zh.txt").read_text(encoding="utf-8")


def test_cli_lang_from_environment_and_errors():
    out = _cli("summary", "input(3, 8, 8) | conv2d(4, 9)", env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LANGUAGE": ""})
    assert out.returncode == 2 and out.stderr.startswith("cnncalc：错误：第 #1 conv2d 层") and "Traceback" not in out.stderr
    out = _cli("summary", "input(3, 8, 8) | conv2d(4, 9)", "--lang", "en", env={"LANG": "zh_CN.UTF-8"})
    assert out.stderr.startswith("cnncalc: error: layer #1 conv2d")
    out = _cli("summary", "examples/mnist.txt", "--lang", "fr")
    assert out.returncode == 2 and "unknown language 'fr'" in out.stderr


def test_render_falls_back_to_the_glossary():
    assert render("18,432 elements * 1", "zh") == "18,432 个元素 * 1"
    assert tr("err.needs_argument", "zh", kind="dense", name="units") == "dense 需要参数 'units'"


def test_the_catalog_imports_nothing_of_cnncalc():
    import ast
    root = Path(__file__).resolve().parents[1] / "src" / "cnncalc" / "i18n"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1 and not (node.module or "").startswith("cnncalc"), (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert all(a.name in ("os", "re") for a in node.names), (path.name, [a.name for a in node.names])


@pytest.mark.parametrize("optimizer,amp", [("adam", None), ("momentum", "fp16")])
def test_zh_training_output_has_no_english_prose(optimizer, amp):
    spec = "input(3, 32, 32) | conv1: conv2d(8, 3, padding=1) | batchnorm2d | relu | maxpool2d(2) | dropout(0.5) | " \
           "flatten | dense(10) | softmax"
    report = cnncalc.analyze(spec, batch=16, train=True, optimizer=optimizer, amp=amp)
    names = {layer.name for layer in report.layers} | {"adam", "momentum", "amp", "fp16", "autograd", "autocast",
                                                        "exp_avg", "exp_avg_sq", "float32"}
    for text in (report.table(lang="zh"), report.explain(lang="zh")):
        assert "反向传播保存" in text
        assert not english_words(text, names), english_words(text, names)
