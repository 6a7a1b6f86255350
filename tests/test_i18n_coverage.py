"""No English prose in Chinese output, everywhere a user can look: every message is a catalog id with a Chinese
template, and what reaches a zh rendering -- bad input of every kind (text, YAML, JSON, paste, API and CLI options,
limits, fuzzed text) and every op kind's notes and warnings -- reads as Chinese apart from identifiers, numbers,
units and the user's own text.

The checker, :func:`prose`, finds the ASCII words of a text that are prose.  It first removes what is not the
program's own words:

* the data of a message: the values of its non-Msg parameters (names, numbers, shapes, the user's fragment) --
  unless a value itself reads as English prose (two lower-case words in a row), which is exactly the mistake of
  passing English text into a message, so it stays and is checked; parameters named ``e``, ``msg`` or
  ``strerror`` carry another program's text (a Python exception, the json decoder, the OS) and are data always;
* the quoted spec fragment ``[出错处：...]`` and anything in quotes or backticks (the user's text, identifiers);
* option names (``--input``), ``name=value`` arguments and dotted names (``nn.Conv2d``, ``features.0``);

then a word is allowed when it has a digit or an underscore (``conv2d_1``, ``H_out``), is one letter (``k``, ``P``),
is all capitals (``CPU``, ``SAME``, ``NAME``), or is in :data:`ALLOWED`: units, math functions, framework and format names, layer kinds and their argument
names, framework class names (everything ``cnncalc layers`` lists).  Whatever is left is English prose.
"""
import contextlib
import io
import random
import re
import string
import sys

import pytest

import cnncalc
from cnncalc.i18n import CATALOGS, Glossed, Msg
from test_errors import CASES
from test_i18n import ALLOWED as BASE_ALLOWED, COMMON_MISTAKES, MNIST

ALLOWED = BASE_ALLOWED | {
    # math functions and notation of formulas
    "log", "sqrt", "erf", "abs", "sigmoid", "softplus", "relu", "relu6", "mul", "prod", "QK", "AV", "std",
    # interpolation and padding modes, Python and JSON literals, formats and frameworks
    "nearest", "bilinear", "bicubic", "linear", "trilinear", "causal", "reflect", "zeros", "True", "False", "None",
    "null", "NaN", "JSON", "YAML", "ConvTranspose", "InnerProduct", "Deconvolution", "AvgPool3d", "BatchNorm",
    "LayerNorm", "InstanceNorm", "PReLU", "RNN", "LSTM", "GRU", "Normalization", "Gemm", "nn", "torch", "pip",
    "fp16", "bf16", "float32", "float16", "bfloat16", "float64", "int64", "uint8", "SPEC", "COMMAND",
    # argument and key names of specs, attention and ONNX, placeholders in examples
    "query", "key", "value", "params", "repeat", "type", "name", "width", "config", "json", "pickle", "id", "out",
    "dilations", "uXXXX", "Ev", "amp",
    # Keras and torch classes, methods and argument names
    "Bidirectional", "Lambda", "Sequential", "TimeDistributed", "Hardtanh", "hardtanh", "inputs", "outputs",
    "dtypes", "seed", "forward", "fx", "meta", "call", "Model", "Input",
    # ONNX op types
    "reduce", "Expand", "GatherND", "OneHot", "Range", "Reshape", "Resize", "Split", "Squeeze", "Tile", "Unsqueeze", "inference", "none",
    "serve", "zoo", "export", "practice", "layers", "web", "onnx",
    "transposed", "dot", "concat", "autograd", "sequence", "optional", "map", "mean", "variance", "def", "end",
}
PROSE_VALUE = re.compile(r"[a-z]{2,} [a-z]{2,}")
#: parameters that carry another program's text (an exception's message, the OS's, a decoder's): data, shown as is
FOREIGN_PARAMS = ("e", "msg", "strerror")


def _data(msg, out: list) -> list:
    """The values of a Msg's non-Msg parameters that are data, not prose (see the module docstring)."""
    if isinstance(msg, Msg):
        for k, v in msg.params.items():
            if isinstance(v, (Msg, Glossed)):
                _data(v, out)
            elif v is not None and str(v) and (k in FOREIGN_PARAMS or not (isinstance(v, str) and PROSE_VALUE.search(v))):
                out.append(str(v))
    return out


def prose(text: str, names=(), msg=None) -> set:
    """The English prose words of ``text`` (zh output); ``names`` are the network's own; ``msg`` its Msg."""
    if "e.g." in text or "i.e." in text:
        return {"e.g."}
    for value in sorted(set(_data(msg, [])) | {str(n) for n in names}, key=len, reverse=True):
        text = re.sub(r"(?<![A-Za-z0-9_])" + re.escape(value) + r"(?![A-Za-z0-9_])", " ", text)
    text = re.sub(r"^\s*\[\d+\] \S+ = .*?    \(", "(", text, flags=re.M)  # an explanation echoes the spec line
    text = re.sub(r"\[(?:in|出错处)[:：][^\]]*\]", " ", text)              # the spec fragment quoted in errors
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`", " ", text)           # quoted text
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)                # options
    text = re.sub(r"pip install\b", " ", text)                              # a command to type
    text = re.sub(r"[A-Za-z_]\w*=\S*", " ", text)                           # name=value
    text = re.sub(r"[A-Za-z_]\w*(?:\.\w+)+", " ", text)                     # dotted names
    words = set()
    for w in re.findall(r"[A-Za-z][A-Za-z_0-9]*", text):
        if len(w) > 1 and not any(c.isdigit() for c in w) and "_" not in w and not w.isupper() and w not in ALLOWED:
            words.add(w)
    return words


def error_words(err: cnncalc.SpecError, names=()) -> set:
    zh = err.render("zh")
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    return prose(zh, names, err.message)


def _labels(spec: str) -> set:
    return set(re.findall(r"(\w+)\s*(?::|=(?!=))", spec))


# --------------------------------------------------------------------------------------------- the checker itself

def test_the_checker_finds_english_and_passes_identifiers():
    assert prose("卷积核 9 比 H 方向填充后的输入还大") == set()
    assert prose("conv2d_1 的 kernel_size=3；nn.Conv2d；--input 1x3x8x8；'my layer'") == set()
    assert prose("第 1 层：kernel is too large") == {"kernel", "is", "too", "large"}
    assert prose("请写成 input(3, 224, 224)，e.g. 这样") == {"e.g."}
    # a parameter's value is data -- unless it is English prose, the mistake the check exists for
    assert prose(Msg("err.spec.no_such_spec_file", p="my model file").render("zh"),
                 msg=Msg("err.spec.no_such_spec_file", p="my model file")) == {"my", "model", "file"}
    m = Msg("err.spec.no_such_spec_file", p="MyNet.txt")
    assert prose(m.render("zh"), msg=m) == set()


# --------------------------------------------------------------------------------------------- the catalog

@pytest.mark.parametrize("key", sorted(CATALOGS["zh"]))
def test_every_chinese_template_is_chinese(key):
    template = CATALOGS["zh"][key]
    literal = "".join(text + ("0" if field is not None else "") for text, field, *_ in string.Formatter().parse(template))
    assert not prose(literal), (key, template, prose(literal))


def _plain_string_sites():
    """Calls that raise or report a message written as a plain string instead of a Msg id."""
    import ast
    from pathlib import Path
    root = Path(cnncalc.__file__).parent
    sites = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func not in ("SpecError", "TooLarge", "fail", "_fail", "_expr_fail"):
                continue
            arg = node.args[0]
            while isinstance(arg, ast.BinOp):
                arg = arg.left
            if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                sites.append(f"{path.relative_to(root)}:{node.lineno}")
    return sites


def test_no_message_is_a_plain_string():
    assert _plain_string_sites() == [], "write these messages as Msg ids (i18n/en_*.py and zh_*.py)"


# --------------------------------------------------------------------------------------------- bad input

JSON_MISTAKES = [
    '[{"input": [3, 8, 8]}, {"type": "relu", "name": ""}]', '[{"input": [3, 8, 8]}, {"type": "relu", "name": ["a"]}]',
    '[{"input": [3, 8, 8]}, {"def": "", "layers": ["relu"]}]', '[{"input": [3, 8, 8]}, {"type": "relu", "type": "x"}]',
    '[{"input": [3, 8, 8]}, {"repeat": 10, "layers": []}]', '[{"input": [3, 8, 8]}, {"upsample": {"scale_factor": NaN}}]',
    '[{"input": [3, 100000000000000000000, 8]}]', '{"layers": [], "blocks": [1]}', "[" * 10000 + "]" * 10000,
    '[{"input": [3, 8, 8]}, ]', '{"layers": [1,}', '[{"input": [3, 8, 8]}] x', '[{"input": [3, 8, 8]}, 7]',
    '{"blocks": {}}', '[{"input": [3, 8, 8]}, {"conv2d": {"filters": 4}, "relu": {}}]', '[{"": 1}]',
    '[{"input": [3, 8, 8]}, {"type": "relu", "input": [1]}]', '[{"input": [3, 8, 8]}, {"3x": {}}]',
    '{"layers": [{"input": [3, 8, 8]}], "blocks": {"b": {"params": [1], "layers": ["relu"]}}}',
]
YAML_MISTAKES = [
    "- input: [3, 8, 8]\n- {type: relu, name: ''}\n", "- input: [3, 8, 8]\n- type: relu\n  name: a\n  name: b\n",
    "- " + "[" * 10000 + "]" * 10000, "- input: [3, 8, 8]\n- 2024-13-45\n",
    "- input: [3, 8, 8]\n- upsample: {scale_factor: .inf}\n", "- input: [3, " + "9" * 5000 + ", 8]\n",
    "- input: [3, 8, 8]\n- relu: a: b\n", "- input: [3, 8\n", "layers: {a: 1}\n",
]
MORE_TEXT = [
    "input(3, 8, 8) | conv2d(4, 3) | dense(10) | add(x)", "input(3,8,8) | upsample(scale_factor=1e999)", "input(3, H, W)", "input(3,8,8) | " + "(" * 10000 + "relu" +
    ")" * 10000, "x: input(3,8,8)\n((x) * 99999) * 99999", "input(4, 32) | multiheadattention(4, 2, output_shape=bicubic)",
    "input(3,8,8) | lstm(4, num_layers=1000000000000)", "input(3, 8, 8) | relu * 0", "input(3, 8, 8) | () ",
    "def b(w):\n  conv2d(w, 3)\nend\ninput(3, 8, 8) | b(4, 5)", "def b(w):\nend\ninput(3, 8, 8) | b(4)",
    "def b(w):\n  b(w)\nend\ninput(3, 8, 8) | b(4)", "input(3, 8, 8) | conv2d(4, 3, padding=valid, stride=0)",
    "input(3, 8, 8) | maxpool2d(2, padding=same)",
    "input(3, 8, 8) | reshape((5, 5))", "input(3, 8, 8) | concat(a)", "input(3, 8, 8) | dense(4, activation=reluu)",
    "input(3, 8, 8) | flatten | dense(1e3)",
    "input(3, 8) | lstm(4, proj_size=8)", "input(3, 8, 8) | groupnorm(2)", "input(3, 8, 8) | permute((1, 1, 2))",
    "input(3, 8, 8) | slice(5, 9)", "input(3, 8, 8) | softmax(axis=7)", "input(3, 8, 8) | conv1d(4, 3)",
    "input(99999999999999999999, 3)", "input(3, 8, 8) | conv2d(4, 3, groups=4)", "input(1e400)",
    "nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU()", "input(3, 8, 8) | nn.Linear(10, 4)",
    "input(4, 6, 8) | q: identity | scaled_dot_product_attention(q)",
]
API_MISTAKES = [
    (MNIST, {"convention": "pytorh"}), (MNIST, {"dtype": "fp33"}), (MNIST, {"batch": 0}), (MNIST, {"batch": -3}),
    (MNIST, {"train": True, "optimizer": "adamw2"}), (MNIST, {"train": True, "amp": "fp8"}), (123, {}),
    ("no_such_file.txt", {}), ("input(3, 8, 8) | relu", {"convention": "caffe", "dtype": "int3"}),
]


def _check_error(spec, **kw):
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyze(spec, **kw)
    err = info.value
    names = _labels(spec) if isinstance(spec, str) else set()
    assert not error_words(err, names), (err.render("zh"), error_words(err, names))


@pytest.mark.parametrize("spec,kw", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_errors_of_test_errors_in_chinese(spec, kw):
    _check_error(spec, **kw)


@pytest.mark.parametrize("spec", COMMON_MISTAKES + MORE_TEXT)
def test_text_mistakes_in_chinese(spec):
    if spec == "":
        spec = " "
    _check_error(spec)


@pytest.mark.parametrize("text", JSON_MISTAKES)
def test_json_mistakes_in_chinese(text):
    _check_error(text)


@pytest.mark.parametrize("text", YAML_MISTAKES)
def test_yaml_mistakes_in_chinese(text):
    from cnncalc.analysis import analyze_calls
    from cnncalc.spec import load_yaml
    with pytest.raises(cnncalc.SpecError) as info:
        analyze_calls(load_yaml(text))
    assert not error_words(info.value), info.value.render("zh")


@pytest.mark.parametrize("spec,kw", API_MISTAKES)
def test_api_mistakes_in_chinese(spec, kw):
    _check_error(spec, **kw)


def test_fuzzed_text_errors_in_chinese():
    """400 random layer chains and mutated seeds (tests/fuzz_inputs.py): every SpecError speaks Chinese."""
    import fuzz_inputs
    rng = random.Random(13)
    seen = 0
    for i in range(400):
        spec = fuzz_inputs.random_chain(rng) if i % 2 else fuzz_inputs.mutate(rng, fuzz_inputs.seed_text(rng))
        try:
            cnncalc.analyze(spec, convention=("pytorch", "keras", "caffe", "onnx")[i % 4])
        except cnncalc.SpecError as err:
            seen += 1
            names = _labels(spec) | set(re.findall(r"[A-Za-z_]\w*", spec))     # the spec's own words are data
            assert not error_words(err, names), (spec, err.render("zh"), error_words(err, names))
    assert seen > 100


CLI_MISTAKES = [
    ["summary", "--lang", "zh"], ["summary", "x.txt", "--bogus", "--lang", "zh"],
    ["summary", "input(3, 8, 8)", "--batch", "abc", "--lang", "zh"],
    ["summary", "input(3, 8, 8)", "--format", "pdf", "--lang", "zh"],
    ["summary", "input(3, 8, 8) | relu", "--input", "1x3", "--input", "1x4", "--lang", "zh"],
    ["summary", "input(3, 8, 8) | relu", "--fit", "lots", "--lang", "zh"],
    ["summary", "input(3, 8, 8) | relu", "--optimizer", "adam", "--lang", "zh"],
    ["summary", "input(3, 8, 8) | relu", "--input", "1xfoo", "--lang", "zh"],
    ["summary", "input(3, 8, 8) | relu", "--batch", "0", "--lang", "zh"],
    ["summary", "no_such.onnx", "--lang", "zh"], ["zoo", "resnet19", "--lang", "zh"],
    ["serve", "--port", "70000", "--lang", "zh"],
]


@pytest.mark.parametrize("argv", CLI_MISTAKES, ids=[" ".join(a[:3]) for a in CLI_MISTAKES])
def test_cli_option_errors_in_chinese(argv):
    from cnncalc.cli import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
    text = err.getvalue()
    assert rc == 2 and "Traceback" not in text, text
    message = "\n".join(line for line in text.splitlines()
                        if not line.startswith(("用法：", "  ")) and "|" not in line)   # usage and the caret view
    assert "错误" in message, text
    assert not prose(message, set(argv)), (message, prose(message, set(argv)))


# --------------------------------------------------------------------------------------------- notes and warnings

def _rare_specs():
    from test_export_roundtrip import NOT_EXPORTABLE, SMALL_SPECS
    return list(SMALL_SPECS.values()) + list(NOT_EXPORTABLE.values()) + [
        "input(6, 16) | q: dense(16) | k: dense(16) | attention(q, k) | additiveattention(q, k)",
        "input(6, 16) | q: dense(16) | k: dense(16) | attention(q, k, score_mode=concat, use_scale=true) | "
        "additiveattention(q, k, use_scale=false)",
        "input(6, 16) | multiheadattention(4, 8) | layerscale | scalar(mul, 2.0)",
        "input(3, 12, 12) | cropping2d(((1, 2), (0, 1))) | unfold(3) | fold((9, 11), 3)",
        "input(4, 10, 10) | a: conv2d(4, 3, padding=1) | scaleadd(a, scale=0.5) | permute((2, 3, 1))",
        "input(5, 8) | normalization(axis=-1) | timedistributed(dense, args=((\"units\", 4),))",
        "input(6, 8) | cropping1d((1, 1)) | a: identity | b: identity | matmul(a, b)",
        "input(2, 4, 5, 6) | cropping3d(1) | adaptiveavgpool3d((2, 3, 1))",
        "input(4, 6, 8) | q: identity | k: identity | v: identity | scaled_dot_product_attention(q, k, v)",
        "input(4, 9, 9) | a: identity | b: conv2d(4, 3) | crop(a, b) | adaptiveavgpool2d(2)",
        "input(3, 8, 8) | a: conv2d(4, 3, padding=1) | b: conv2d(4, 3, stride=2, padding=1) | upsample(scale_factor=2) "
        "| add(a)",                                                       # a misaligned merge: the warning
        "input(3, 5, 5) | adaptivemaxpool2d(3) | convtranspose2d(2, 3, stride=2)",
    ]


def _all_kinds_corpus():
    specs = [(s, "pytorch") for s in _rare_specs()]
    specs += [(s, conv) for s in (
        "input(3, 15, 15) | conv2d(4, 3, stride=2, padding=1) | maxpool2d(3, stride=2, ceil_mode=true) | "
        "avgpool2d(2) | convtranspose2d(2, 3, stride=2) | batchnorm2d | dense(3)",
        "input(3, 16) | lstm(4) | rnn(2)") for conv in ("caffe",)]
    specs += [("input(8, 16) | q: identity | k: identity | attentionscores(q, k, num_heads=2)", "pytorch")]
    specs += [("input(15, 15, 3) | conv2d(4, 3, strides=2, padding=same) | maxpool2d(3, strides=2, padding=same) | "
               "conv2dtranspose(2, 3, strides=2, padding=same) | batchnorm | separableconv2d(4, 3) | dense(3)", "keras"),
              ("input(3, 15, 15) | conv2d(4, 3, stride=2, padding=same_lower) | convtranspose2d(2, 3, stride=2, "
               "padding=same) | maxpool2d(3, stride=2, padding=same_upper)", "onnx")]
    return specs


@pytest.mark.parametrize("spec,convention", _all_kinds_corpus())
def test_every_op_kinds_notes_and_warnings_in_chinese(spec, convention):
    report = cnncalc.analyze(spec, convention=convention)
    names = {part for layer in report.layers for part in re.split(r"[.\s]", layer.name)} | _labels(spec)
    for text in (report.table(lang="zh"), report.explain(lang="zh")):
        for line in text.splitlines():
            assert not prose(line, names), (line, prose(line, names))


def test_the_corpus_covers_every_op_kind():
    from cnncalc.ops import registry
    covered = {layer.kind for spec, conv in _all_kinds_corpus() for layer in cnncalc.analyze(spec, convention=conv).layers}
    covered |= {layer.kind for layer in cnncalc.analyze(MNIST).layers}
    assert set(registry.KINDS) - covered == set()


# --------------------------------------------------------------------------------------------- exports

def test_markdown_follows_the_language_and_csv_stays_field_names():
    """Markdown is a document for people: in Chinese with --lang zh (English unchanged by default); CSV's header
    is field names, like JSON's keys, in every language (docs/usage.md says so)."""
    report = cnncalc.analyze(MNIST, batch=2, train=True)
    md = report.to_markdown(lang="zh")
    assert "| # | 层 | 类型 | 输出尺寸 | 参数量 | 乘加次数 (MACs) |" in md and "**合计**" in md and "**217,706**" in md
    names = {layer.name for layer in report.layers} | {"adam", "momentum", "sgd", "fp16", "float32", "autograd"}
    assert not prose(md, names), prose(md, names)
    assert report.to_markdown() == report.to_markdown(lang="en") and "| # | Layer | Kind |" in report.to_markdown()
    assert report.to_csv().splitlines()[0].startswith("index,name,kind,input_shape,output_shape,params,")


def test_fit_answer_in_chinese():
    from cnncalc.fit import fit_spec, fit_text
    for budget, optimizer, amp in ((1 << 30, "sgd", None), (1 << 20, "adam", "fp16"), (1000, "momentum", None)):
        f = fit_spec(MNIST, budget, optimizer=optimizer, amp=amp)
        zh = fit_text(f, "zh")
        assert "显存预算" in zh and not prose(zh, {optimizer, amp or ""}), zh
        assert fit_text(f) == fit_text(f, "en") and fit_text(f).startswith("Budget ")


def test_practice_and_solve_in_chinese():
    from cnncalc.practice import make_problem
    for topic in ("size", "params", "macs", "rf", "memory"):
        for seed in range(3):
            d = make_problem(topic, seed, "zh").to_dict()
            names = set(re.findall(r"\w+", d.get("spec", "")))
            for key, value in d.items():
                if isinstance(value, str) and key != "topic":
                    assert not prose(value, names), (topic, seed, key, value)
    r = cnncalc.solve("input(3, 32, 32) | c: conv2d(16, ?k, padding=?p)", ["c: same"])
    assert not prose(r.text(lang="zh"), {"c", "k", "p"}), r.text(lang="zh")


def test_web_refusals_in_the_requests_language():
    pytest.importorskip("fastapi")
    import json
    from cnncalc.web.app import _error
    body = json.loads(_error(503, Msg("err.web.busy", s=20.0), "limit", "zh").body)
    assert body["message"] == "服务器忙：20 秒内没有空出分析槽位；请稍后再试"
    body = json.loads(_error(503, Msg("err.web.busy", s=20.0), "limit").body)
    assert body["message"] == "the server is busy: no analysis slot came free within 20 s; try again"
