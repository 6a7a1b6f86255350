"""Bad input never shows a traceback: one SpecError, one line, pointing at the spot.

Every message names the layer (its label, or '#index kind'), 'line N, column M' of the
offending token (1-based), and the sizes involved.  The expected columns are computed
from the spec text itself (the position of the offending token), never from cnncalc.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import SpecError

ROOT = Path(__file__).resolve().parents[1]


def col(spec: str, token: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column), 1-based, of the n-th occurrence of token in spec."""
    pos = -1
    for _ in range(occurrence):
        pos = spec.index(token, pos + 1)
    line = spec.count("\n", 0, pos) + 1
    return line, pos - (spec.rfind("\n", 0, pos) + 1) + 1


def error_of(spec, **kw) -> SpecError:
    with pytest.raises(SpecError) as info:
        cnncalc.analyze(spec, **kw)
    err = info.value
    text = str(err)
    assert "\n" not in text and "\r" not in text, f"message is not one line: {text!r}"
    assert "Traceback" not in text
    return err


def check(err: SpecError, *, where: tuple[int, int] | None, layer: str | None, needles=()):
    text = str(err)
    if where is not None:
        line, column = where
        assert (err.line, err.column) == (line, column), text
        assert f"line {line}, column {column}" in text
    if layer is not None:
        assert err.layer == layer, text
        assert f"layer {layer}" in text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"


# --------------------------------------------------------------------------- one case per mistake

# (id, spec, kwargs, offending token (occurrence), layer, needles)
CASES = [
    ("unclosed-paren", "input(3, 32, 32) | conv2d(8, 3", {}, ("(", 2), None, ["unbalanced '('", "never closed"]),
    ("extra-close-paren", "input(3, 32, 32) | conv2d(8, 3))", {}, (")", 3), None, ["unbalanced ')'"]),
    ("unclosed-group", "input(3, 32, 32) | (conv2d(8, 3) | relu", {}, ("(", 2), None, ["unbalanced '('"]),
    ("mismatched-bracket", "input(3, 32, 32) | conv2d(8, (3, 3)]", {}, ("]", 1), None,
     ["']' closes the '(' opened at line 1, column 26"]),
    ("unknown-layer", "input(3, 32, 32) | covn2d(8, 3)", {}, ("covn2d", 1), "#1 covn2d",
     ["unknown layer 'covn2d'", "did you mean 'conv2d'"]),
    ("unknown-layer-label", "input(3, 32, 32)\nconv2d(8, 3)\nmine: maxpol2d(2)", {}, ("maxpol2d", 1), "mine",
     ["did you mean 'maxpool2d'"]),
    ("unknown-argument", "input(1, 28, 28) | conv2d(32, 3, strid=2)", {}, ("strid", 1), "#1 conv2d",
     ["has no argument 'strid'", "did you mean 'stride'"]),
    ("keras-argument-typo", "input(28, 28, 1) | conv2d(32, 3, stides=2)", {"convention": "keras"}, ("stides", 1),
     "#1 conv2d", ["did you mean 'strides'"]),
    ("kernel-too-large", "input(1, 28, 28) | conv2d(32, 50)", {}, ("50", 1), "#1 conv2d", ["28", "50"]),
    ("kernel-too-large-W", "input(1, 28, 10) | conv2d(4, (3, 12))", {}, ("(3, 12)", 1), "#1 conv2d",
     ["along W", "10", "12"]),
    ("dilated-kernel-too-large", "input(1, 28, 28) | conv2d(32, 5, dilation=7)", {}, ("5", 1), "#1 conv2d",
     ["dilated to 29", "28"]),
    ("kernel-too-large-after-padding", "input(1, 8, 8) | conv2d(4, 11, padding=1)", {}, ("11", 1), "#1 conv2d",
     ["8 + 1 + 1 = 10", "11"]),
    ("pool-too-large", "input(3, 4, 4) | maxpool2d(5)", {}, ("5", 1), "#1 maxpool2d", ["5", "4"]),
    ("groups-channels", "input(3, 28, 28) | conv2d(32, 3, groups=2)", {}, ("groups", 1), "#1 conv2d",
     ["groups=2", "input channels 3", "filters 32"]),
    ("groups-filters", "input(4, 28, 28) | conv2d(30, 3, groups=4)", {}, ("groups", 1), "#1 conv2d",
     ["groups=4", "filters 30"]),
    ("zero-input", "input(0, 28, 28) | conv2d(32, 3)", {}, ("0", 1), "#0 input", ["got 0", "(0, 28, 28)"]),
    ("negative-input", "input(3, -28, 28) | conv2d(32, 3)", {}, ("-28", 1), "#0 input", ["-28"]),
    ("zero-in-shape-tuple", "input(shape=(3, 0, 5))", {}, ("shape", 1), "#0 input", ["got 0", "(3, 0, 5)"]),
    ("zero-filters", "input(3, 28, 28) | conv2d(0, 3)", {}, ("0", 1), "#1 conv2d", ["filters", "got 0"]),
    ("negative-kernel", "input(3, 28, 28) | conv2d(8, -3)", {}, ("-3", 1), "#1 conv2d", ["kernel_size", "-3"]),
    ("zero-stride", "input(3, 28, 28) | conv2d(8, 3, stride=0)", {}, ("stride", 1), "#1 conv2d", ["stride", "got 0"]),
    ("zero-units", "input(3, 28, 28) | flatten | fc: dense(0)", {}, ("0)", 1), "fc", ["units", "got 0"]),
    ("negative-hidden", "input(7, 5) | lstm(-4)", {}, ("-4", 1), "#1 lstm", ["-4"]),
    ("same-stride-pytorch", "input(3, 28, 28) | conv2d(8, 3, padding=same, stride=2)", {}, ("padding", 1),
     "#1 conv2d", ["padding='same'", "stride", "(2, 2)"]),
    ("rnn-on-image", "input(3, 32, 32) | lstm(16)", {}, ("lstm", 1), "#1 lstm",
     ["sequence", "(1, 3, 32, 32)"]),
    ("missing-input", "conv2d(8, 3) | relu", {}, ("conv2d", 1), "#0 conv2d", ["input("]),
    ("missing-input-keras-hint", "dense(8)", {"convention": "keras"}, ("dense", 1), "#0 dense",
     ["input(224, 224, 3)"]),
    ("input-twice", "input(3, 8, 8) | relu | input(3, 8, 8)", {}, ("input", 2), "#2 input", ["only once"]),
    ("positional-after-keyword", "input(3, 32, 32) | conv2d(kernel_size=3, 8)", {}, ("8)", 1), "#1 conv2d",
     ["positional argument cannot follow a keyword"]),
    ("positional-after-keyword-in-group",
     "input(3, 32, 32) | (conv2d(8, 3) | relu) * 2 | conv2d(kernel_size=3, 8)", {}, ("8)", 1), "#5 conv2d",
     ["positional"]),
    ("argument-twice", "input(3, 32, 32) | conv2d(8, 3, stride=2, strides=1)", {}, ("strides", 1), "#1 conv2d",
     ["'stride'", "twice"]),
    ("missing-required", "input(3, 32, 32) | dense", {}, ("dense", 1), "#1 dense", ["'units'"]),
    ("too-many-positionals", "input(3, 32) | dense(4, true, 32, none, 9)", {}, ("9", 1), "#1 dense",
     ["at most 4 positional", "got 5"]),
    ("bad-repeat", "input(3, 32, 32) | conv2d(8, 3) * 0", {}, ("0", 1), None, ["positive whole number"]),
    ("huge-repeat", "input(3, 8, 8) | relu * 99999999999", {}, ("99999999999", 1), None, ["at most 100,000"]),
    ("unexpected-character", "input(3, 32, 32) | conv2d(8, 3) $", {}, ("$", 1), None, ["unexpected character"]),
    ("missing-separator", "input(3, 32, 32) | conv2 d(8, 3)", {}, ("d(", 1), None, ["expected '|'"]),
    ("caffe-same", "input(3, 8, 8) | conv2d(4, 3, padding=same)", {"convention": "caffe"}, ("padding", 1),
     "#1 conv2d", ["no 'same'"]),
    ("keras-explicit-pad", "input(8, 8, 3) | conv2d(4, 3, padding=1)", {"convention": "keras"}, ("padding", 1),
     "#1 conv2d", ["'valid' or 'same'", "zeropadding2d"]),
    ("pytorch-pool-pad", "input(3, 8, 8) | maxpool2d(3, stride=2, padding=2)", {}, ("padding", 1), "#1 maxpool2d",
     ["at most half", "3//2 = 1"]),
    ("bad-flatten-dim", "input(3, 8, 8) | flatten(1, (2, 3))", {}, ("(2, 3)", 1), "#1 flatten", ["end_dim"]),
    ("bad-batchnorm-axis", "input(3, 8, 8) | batchnorm(axis=(1, 2))", {}, ("axis", 1), "#1 batchnorm",
     ["axis", "(1, 3, 8, 8)"]),
    ("bad-layernorm-axis", "input(3, 8, 8) | layernorm(axis=7)", {}, ("axis", 1), "#1 layernorm", ["axis", "7"]),
]


@pytest.mark.parametrize("spec,kw,token,layer,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_points_at_the_spot(spec, kw, token, layer, needles):
    err = error_of(spec, **kw)
    check(err, where=col(spec, *token), layer=layer, needles=needles)


def test_literal_positions():
    """A few positions written out by hand, in case col() and cnncalc ever agree on a mistake."""
    err = error_of("input(1, 28, 28) | conv2d(32, 3, strid=2)")
    assert (err.line, err.column) == (1, 34)           # 'input(1, 28, 28) | conv2d(32, 3, ' is 33 characters
    err = error_of("input(1, 28, 28) | conv2d(32, 50)")
    assert (err.line, err.column) == (1, 31)           # the '50'
    err = error_of("input(3, 32, 32) | covn2d(8, 3)")
    assert (err.line, err.column) == (1, 20)


def test_error_on_line_3():
    spec = "input(3, 32, 32)\nconv2d(8, 3)\nconv2d(16, 3, strid=2)\nrelu"
    err = error_of(spec)
    assert err.line == 3
    assert err.column == 15                            # 'conv2d(16, 3, ' is 14 characters
    check(err, where=(3, 15), layer="#2 conv2d", needles=["did you mean 'stride'"])


def test_error_on_line_3_with_label_and_sizes():
    spec = "input(3, 32, 32)\nconv2d(8, 3)\n  block3: conv2d(16, 40)\nrelu"
    err = error_of(spec)
    check(err, where=(3, 22), layer="block3", needles=["30", "40"])     # 32 - 3 + 1 = 30 < 40


def test_layer_call_spanning_lines_stays_one_line():
    spec = "input(3, 32, 32)\nconv2d(8,\n       50)"
    err = error_of(spec)
    check(err, where=(3, 8), layer="#1 conv2d", needles=["32", "50"])
    err = error_of("input(3, 32, 32)\nconv2d(8,\n   3, kernel_size=2, 4)")
    check(err, where=(3, 22), layer="#1 conv2d", needles=["positional"])


def test_bad_input_in_shape_keyword_and_batch():
    err = error_of("input(3, 8, 8, batch=0)")
    check(err, where=col("input(3, 8, 8, batch=0)", "batch"), layer="#0 input", needles=["batch 0"])
    err = error_of("input(3, 8, 8)", batch=-2)
    assert "batch -2" in str(err)


@pytest.mark.parametrize("kw,needles", [
    ({"convention": "pytorh"}, ["unknown convention 'pytorh'", "did you mean 'pytorch'"]),
    ({"convention": "kears"}, ["unknown convention 'kears'", "did you mean 'keras'"]),
    ({"dtype": "flaot32"}, ["unknown dtype 'flaot32'", "did you mean 'float32'"]),
    ({"dtype": "int4"}, ["unknown dtype 'int4'", "float32"]),
])
def test_unknown_convention_or_dtype(kw, needles):
    err = error_of("input(3, 32, 32) | conv2d(8, 3)", **kw)
    check(err, where=None, layer=None, needles=needles)


def test_empty_spec():
    for spec in ("", "   \n  # only a comment\n"):
        err = error_of(spec)
        assert "empty" in str(err)


def test_error_attributes_and_dict():
    err = error_of("input(1, 28, 28) | c1: conv2d(32, 50)")
    d = err.to_dict()
    assert d["line"] == 1 and d["column"] == err.column and d["layer"] == "c1"
    assert d["message"] == str(err) and "50" in d["error"]
    assert isinstance(err, ValueError)                 # SpecError is a ValueError: plain `except ValueError` works


# --------------------------------------------------------------------------- no other exception, ever

_TOKENS = ["input", "(", ")", "3", "32", "0", "-5", "2.5", "1e400", "99999999999", ",", " ", "|", "\n", "=", "*",
           ":", "[", "]", "'", '"', "-", ".", "#", "conv2d", "dense", "lstm", "gru", "maxpool2d", "flatten",
           "reshape", "upsample", "embedding", "prelu", "batchnorm", "layernorm", "conv2dtranspose",
           "adaptiveavgpool2d", "zeropad2d", "stride", "padding", "axis", "same", "valid", "true", "none", "x",
           "(-1,)", "scale_factor", "groups", "dilation", "output_padding", "start_dim", "shared_axes"]


@settings(max_examples=400, deadline=None)
@given(body=st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=30),
       prefix=st.sampled_from(["", "input(3, 32, 32) | ", "input(32, 32, 3) | ", "input(7, 5) | "]),
       convention=st.sampled_from(["pytorch", "keras", "caffe", "onnx"]))
def test_random_text_raises_only_spec_error(body, prefix, convention):
    spec = prefix + "".join(body)
    try:
        cnncalc.analyze(spec, convention=convention)
    except SpecError as err:
        assert "\n" not in str(err)


_VALUES = ["0", "1", "2", "3", "-1", "7", "2.5", "same", "valid", "causal", "same_lower", "true", "false", "none",
           "'x'", "(1, 2)", "(2, 3, 4)", "((1, 2), (3, 4))", "[1, 2]", "()", "1e9", "relu"]


@st.composite
def _layer(draw):
    from cnncalc.ops import registry
    names = sorted({s for op in registry.KINDS.values() for s in op.spellings})
    params = sorted({p.name for op in registry.KINDS.values() for p in op.params})
    name = draw(st.sampled_from(names))
    args = draw(st.lists(st.one_of(st.sampled_from(_VALUES),
                                   st.tuples(st.sampled_from(params), st.sampled_from(_VALUES))
                                   .map(lambda kv: f"{kv[0]}={kv[1]}")), max_size=4))
    return f"{name}({', '.join(args)})" if args else name


@settings(max_examples=400, deadline=None)
@given(layers=st.lists(_layer(), min_size=1, max_size=3),
       prefix=st.sampled_from(["input(3, 32, 32)", "input(32, 32, 3)", "input(10, 8)", "input(16)",
                               "input(2, 8, 8, 8)"]),
       convention=st.sampled_from(["pytorch", "keras", "caffe", "onnx"]))
def test_random_layers_raise_only_spec_error(layers, prefix, convention):
    spec = " | ".join([prefix] + layers)
    try:
        cnncalc.analyze(spec, convention=convention)
    except SpecError as err:
        assert "\n" not in str(err)


# --------------------------------------------------------------------------- the command line

def _has_cli() -> bool:
    try:
        return importlib.util.find_spec("cnncalc.cli") is not None
    except (ImportError, ValueError):
        return False


needs_cli = pytest.mark.skipif(not _has_cli(), reason="cnncalc.cli not written yet")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


@needs_cli
@pytest.mark.parametrize("spec,needles", [
    ("input(1, 28, 28) | conv2d(32, 3, strid=2)", ["did you mean 'stride'", "line 1, column 34"]),
    ("input(1, 28, 28) | conv2d(32, 50)", ["28", "50", "layer #1 conv2d"]),
    ("input(3, 32, 32) | covn2d(8, 3)", ["did you mean 'conv2d'"]),
    ("input(3, 32, 32) | conv2d(8, 3", ["unbalanced '('"]),
    ("input(3, 28, 28) | conv2d(32, 3, groups=2)", ["groups=2"]),
    ("input(3, 32, 32) | lstm(16)", ["(1, 3, 32, 32)"]),
    ("input(3, 28, 28) | conv2d(8, 3, padding=same, stride=2)", ["padding='same'"]),
    ("conv2d(8, 3) | relu", ["input("]),
    ("input(0, 28, 28)", ["got 0"]),
    ("input(3, 32, 32)\nconv2d(8, 3)\nconv2d(16, 3, strid=2)", ["line 3, column 15"]),
])
def test_cli_bad_spec_exit_2_no_traceback(spec, needles):
    p = run_cli("summary", spec)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    for needle in needles:
        assert needle in p.stderr, (needle, p.stderr)


@needs_cli
@pytest.mark.parametrize("option", [["--convention", "pytorh"], ["--dtype", "flaot32"]])
def test_cli_bad_option_exit_2_no_traceback(option):
    p = run_cli("summary", "input(3, 8, 8) | relu", *option)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    assert "did you mean" in p.stderr or "invalid choice" in p.stderr


@pytest.mark.parametrize("spec,col", [
    ("input(1, 28, 28) | conv2d(32, 3", 26),          # the '(' never closed
    ("input(1, 28, 28) | conv2d(32, 3)) | relu", 33),  # the extra ')'
    ("input(1, 28, 28) | conv2d(32, 3 ! )", 33),       # a stray character
    ("input(1, 28, 28) | conv2d(32, (3, 3]", 36),      # ']' closing '('
])
def test_token_level_errors_name_the_layer(spec, col):
    with pytest.raises(cnncalc.SpecError) as e:
        cnncalc.analyze(spec)
    assert e.value.layer == "conv2d" and e.value.column == col and e.value.line == 1
    assert "layer conv2d" in str(e.value)


def test_missing_spec_file_is_a_clear_error():
    with pytest.raises(cnncalc.SpecError, match="no such spec file: nets/missing.yaml"):
        cnncalc.analyze("nets/missing.yaml")


@pytest.mark.parametrize("path", ["nothere.keras", "nothere.onnx", "nothere.json", "nothere.yaml"])
def test_missing_model_files_are_clear_errors(path):
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-m", "cnncalc", "summary", path], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "nothere" in p.stderr


# --------------------------------------------------------------------------- limits and former internal errors

def test_bare_name_as_input_size():
    spec = "input(3, H, W) | conv2d(8, 3)"
    err = error_of(spec)
    check(err, where=col(spec, "H"), layer="#0 input", needles=["sizes must be numbers", "'H'", "input(3, 224, 224)"])
    err = error_of("input(H, W, 3)", convention="keras")
    assert "input(224, 224, 3)" in str(err)


@pytest.mark.parametrize("spec,chain,token", [
    ("input(3, 8, 8)\ndef a(x=1): a(x)\na", "a → a", ("a(x)", 1)),
    ("input(3, 8, 8)\ndef a(): b\ndef b(): a\na", "a → b → a", ("a\n", 1)),
    ("input(3, 8, 8)\ndef a(n=1):\n    relu\n    a(n)\nend\na(2)", "a → a", ("a(n)", 1)),
])
def test_recursive_blocks(spec, chain, token):
    err = error_of(spec)
    check(err, where=col(spec, *token), layer=None, needles=["block 'a' calls itself", chain])


def test_deep_block_chains_are_a_nesting_error():
    spec = "input(3, 8, 8)\ndef b0(): relu\n" + "".join(f"def b{i}(): b{i - 1}\n" for i in range(1, 150)) + "b149"
    err = error_of(spec)
    assert "nesting deeper than 100 levels" in str(err) and err.line is not None


@pytest.mark.parametrize("opener", ["(", "["])
def test_10000_nested_brackets(opener):
    spec = "input(3, 8, 8) | dense(" + opener * 10000 + "1"
    err = error_of(spec)
    assert (err.line, err.column) == (1, len("input(3, 8, 8) | dense(") + 100)   # the 101st open bracket
    assert "nesting deeper than 100 levels" in str(err)
    ok = "input(3, 8, 8) | flatten | dense(" + "(" * 99 + "1 + 9" + ")" * 99 + ")"
    assert cnncalc.analyze(ok).layers[-1].output_shape == (1, 10)             # 100 levels are fine


def test_10000_nested_groups_and_definitions():
    err = error_of("input(3, 8, 8)\n" + "(" * 10000 + "relu" + ")" * 10000)
    assert "nesting deeper than 100 levels" in str(err) and (err.line, err.column) == (2, 101)
    spec = "input(3, 8, 8)\n" + "".join(f"def d{i}():\n" for i in range(300)) + "relu\n" + "end\n" * 300 + "d0"
    err = error_of(spec)
    assert "nesting deeper than 100 levels" in str(err) and err.line == 103      # d101, inside 101 blocks
    err = error_of("input(3, 8, 8)\n" + "a = " * 10000 + "relu")
    assert "nesting deeper than 100 levels" in str(err) and err.line == 2


def test_10000_minus_signs_cancel_out():
    spec = "input(3, 8, 8) | flatten | dense(" + "-" * 10000 + "10)"
    assert cnncalc.analyze(spec).layers[-1].output_shape == (1, 10)
    err = error_of("input(3, 8, 8) | flatten | dense(" + "-" * 10001 + "10)")
    assert "units" in str(err) and "-10" in str(err)


def test_long_products_are_exact_or_a_clear_error():
    import time
    ok = "input(3, 8, 8) | flatten | dense(" + "*".join(["2"] * 59) + ")"
    assert cnncalc.analyze(ok).layers[-1].output_shape == (1, 2 ** 59)
    spec = "input(3, 8, 8) | flatten | dense(" + "*".join(["2"] * 2000) + ")"
    t0 = time.perf_counter()
    err = error_of(spec)
    assert time.perf_counter() - t0 < 0.5
    # 2^59 * 2 is the first product over 10^18: the 60th factor's '*' is the spot
    check(err, where=col(spec, "*", 59), layer="#2 dense", needles=["too large", "10^18"])


@pytest.mark.parametrize("number,needle", [
    ("1000000000000000001", "too large"), ("1" + "0" * 30, "too large"), ("9" * 5000, "too large"),
    ("1e999", "overflows to infinity"), ("1e-999", "underflows to 0"),
])
def test_numbers_out_of_range(number, needle):
    spec = f"input(3, 8, 8) | upsample(scale_factor={number})"
    err = error_of(spec)
    check(err, where=col(spec, number[:5]), layer="#1 upsample", needles=[needle])


def test_upsample_factors_that_break_sizes():
    err = error_of("input(3, 8, 8) | upsample(scale_factor=1e300)")
    assert "at most 10^18" in str(err) and err.layer == "#1 upsample"
    err = error_of("input(3, 8, 8) | upsample(scale_factor=0.01)")
    assert "floor(8*0.01) = 0" in str(err)


def test_sizes_beyond_10_18():
    spec = "input(3, 1000000000000000001, 8)"
    check(error_of(spec), where=col(spec, "1000000000000000001"), layer="#0 input", needles=["too large"])
    err = error_of("input(3, 1000000000000000000, 8) | convtranspose2d(4, 2, stride=2)")
    check(err, where=None, layer="#1 convtranspose2d", needles=["sizes are at most 10^18"])


@pytest.mark.parametrize("text,needles", [
    ('[{"input": [3, 8, 8]}, {"type": "relu", "name": ""}]', ["'name' must be a non-empty name"]),
    ('[{"input": [3, 8, 8]}, {"relu": {"name": "  "}}]', ["'name' must be a non-empty name"]),
    ('[{"input": [3, 8, 8]}, {"type": "relu", "name": ["a"]}]', ["'name'", "['a']"]),
    ('[{"input": [3, 8, 8]}, {"type": ""}]', ["'type' must be a non-empty name"]),
    ('[{"input": [3, 8, 8]}, {"def": "", "layers": ["relu"]}]', ["block's name"]),
    ('[{"input": [3, 8, 8]}, {"type": "relu", "type": "tanh"}]', ["'type' appears twice"]),
    ('[{"input": [3, 8, 8]}, {"repeat": 1000000000, "layers": []}]', ["at least one layer"]),
    ('[{"input": [3, 8, 8]}, {"upsample": {"scale_factor": 1e999}}]', ["floats must be finite"]),
    ('[{"input": [3, 8, 8]}, {"upsample": {"scale_factor": NaN}}]', ["NaN", "finite"]),
    ('[{"input": [3, 100000000000000000000, 8]}]', ["too large", "10^18"]),
    ('{"layers": [], "blocks": [1]}', ["'blocks' must map"]),
    ("[" * 10000 + "]" * 10000, ["nesting deeper than 100 levels"]),
])
def test_json_mistakes(text, needles):
    err = error_of(text)
    check(err, where=None, layer=None, needles=needles)


@pytest.mark.parametrize("text,needles,line", [
    ("- input: [3, 8, 8]\n- {type: relu, name: ''}\n", ["'name' must be a non-empty name"], 2),
    ("- input: [3, 8, 8]\n- type: relu\n  name: a\n  name: b\n", ["'name' appears twice", "first at line 3"], 4),
    ("- input: [3, 8, 8]\n- relu: {name: a}\n- relu: {name: a}\n- add: [a, a]\n", None, None),
    ("- " + "[" * 10000 + "]" * 10000, ["nesting deeper than 100 levels"], 1),
    ("\n".join(f"{'  ' * i}- " for i in range(200)) + "relu", ["nesting deeper than 100 levels"], 101),
    ("- input: [3, 8, 8]\n- 2024-13-45\n", ["YAML"], None),
    ("- input: [3, 8, 8]\n- upsample: {scale_factor: .inf}\n", ["finite"], 2),
    ("- input: [3, " + "9" * 5000 + ", 8]\n", ["too large"], 1),
])
def test_yaml_mistakes(text, needles, line):
    from cnncalc.analysis import analyze_calls
    from cnncalc.spec import load_yaml
    if needles is None:                                  # a name used twice is allowed, as in text: it rebinds
        assert analyze_calls(load_yaml(text)).layers[-1].output_shape == (1, 3, 8, 8)
        return
    with pytest.raises(SpecError) as info:
        analyze_calls(load_yaml(text))
    check(info.value, where=None, layer=None, needles=needles)
    assert "\n" not in str(info.value) and info.value.line == line


def test_python_objects_nested_or_cyclic():
    from cnncalc.analysis import analyze_calls
    from cnncalc.spec import load
    deep: list = []
    for _ in range(10000):
        deep = [deep]
    cyclic: list = [{"input": [3, 8, 8]}]
    cyclic.append(cyclic)
    for data in ([{"input": [3, 8, 8]}, deep], cyclic):
        with pytest.raises(SpecError, match="nesting deeper than 100 levels"):
            analyze_calls(load(data))


def test_found_by_the_fuzzer():
    spec = "input(4, 32) | multiheadattention(4, 2, output_shape=bicubic)"
    check(error_of(spec), where=col(spec, "output_shape"), layer="#1 multiheadattention", needles=["output_shape"])
    named = cnncalc.analyze('[{"input": [3, 8, 8]}, {"type": "relu", "name": 1}, {"type": "relu", "name": 1}]')
    assert [layer.name for layer in named.layers] == ["1", "1"]       # whole-number names, as '0: conv2d(...)'
    err = error_of("input(3, 8, 8) | relu", batch="2")
    assert "batch" in str(err) and "got '2'" in str(err)
    err = error_of('[{"input": [3, 8, 8], "name": "a"}]')
    assert "{type: input, args: [3, 224, 224], name: x}" in str(err)


def test_a_place_without_a_column_names_the_line_only():
    """Structured (YAML/JSON) errors often know the line, not the column: no 'column None' in any language."""
    from cnncalc.i18n import Msg
    err = cnncalc.SpecError(Msg("err.empty_spec"), line=3)
    assert str(err).startswith("line 3: ") and "None" not in str(err)
    assert err.render("zh").startswith("第 3 行") and "None" not in err.render("zh")
    assert str(cnncalc.SpecError(Msg("err.empty_spec"), line=3, column=4)).startswith("line 3, column 4: ")
