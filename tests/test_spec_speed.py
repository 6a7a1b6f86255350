"""The shortcuts that make long text specs fast give what the plain reading gives (issue 15).

* plain lines parsed once (spec/lines.py): the same AST, field by field, as the token-by-token parser;
* block expansions repeated (spec/graph.py, ``_stamp``): the same layer calls as expanding every call;
* op results stored per (kind, arguments, input shapes) (analysis.py): 1, 1.0 and True stay apart, errors are
  never stored;
* receptive-field views and explanation lines made when read (rf.py): equal to the ones made at once.

Inputs: the zoo, the examples, the fuzz test's seeds and 300 of its mutations, and hand-written corner cases.
Times are benchmarks (bench/bench_spec.py), not tests; the one check on time here is that the work grows
linearly (a 20,000-layer spec costs about twice a 10,000-layer one, generously bounded).
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import rf as rfmod
from cnncalc.errors import SpecError
from cnncalc.spec import graph
from cnncalc.spec.text import _Parser, parse_program
from cnncalc.zoo import get as zoo_get
from cnncalc.zoo import models as zoo_models

from fuzz_inputs import mutate, seeds

ROOT = Path(__file__).resolve().parents[1]

CORNERS = [
    "input(3, 8, 8)\nconv2d(4, 3) | relu\nconv2d(4, 3) | relu\n| batchnorm2d\nrelu",
    "input(3, 8, 8)\nx =\nconv2d(4, 3) | relu\nconv2d(4, 3)\nx | add(x)",
    "input(3, 8, 8)\nstem:\nconv2d(4, 3) | relu\nconv2d(4, 1)\nstem",
    "input(3, 8, 8)\nconv2d(4, 3) |\nrelu\nconv2d(4, 3) |\nrelu",
    "input(3, 8, 8)\ndef act(): batchnorm2d | relu\nconv2d(4, 3) | act\nconv2d(4, 3) | act\nconv2d(4, 3) | act",
    "input(3, 8, 8)\ndef b(c, s=1):\n  conv2d(c, 3, stride=s, padding=1) | relu\n  conv2d(c, 3, padding=1)\nend\n"
    "b(4)\nb(4)\nb(4, 2)\nb(4)\nb(8)\nb(c=8)\nb(8, s=1)\nb(True)\nb(1)\nb(1.0)\nb(4)",
    "input(3, 8, 8)\ndef b(c):\n  conv2d(c, 3, padding=1) | relu\n  add(in) | relu\nend\nb(3)\nb(3)\nb(3)\nin2: b(3)\nb(3)",
    "input(3, 8, 8)\ndef b(c):\n  x: conv2d(c, 1)\n  conv2d(c, 3, padding=1)\n  add(x)\n  in\nend\nb(3)\nb(3)\ny: (b(3) * 3)\nb(3)",
    "input(3, 8, 8)\ndef inner(c): conv2d(c, 1) | relu\ndef outer(c):\n  inner(c)\n  inner(c)\nend\nouter(4)\nouter(4)\nouter(4)",
    "input(3, 8, 8)\ndef b(c): conv2d(c, 1)\nb(4)\nb(4)\ndef b(c): conv2d(c, 3)\nb(4)\nb(4)",
    "input(3, 8, 8)\ndef b(c): relu\nb(4)\nb(4)\ndef relu(): sigmoid\nb(4)\nb(4)",
    "input(3, 8, 8)\nconv2d(4, 3, padding=1) | relu  # a comment\nconv2d(4, 3, padding=1) | relu  # a comment\n\n",
    "input(3, 8, 8)\nconv2d(4, (3, 3), padding=[1, 1]) | dropout(0.5) | relu\n" * 2,
    "input(3, 8, 8)\nconv2d(4, 3, padding=1, 'x')\nconv2d(4, 3, padding=1, 'x')",
    "input(3, 8, 8)\nconv2d(4, 3, groups=1, padding=1)\nconv2d(4, 3, groups=True, padding=1)",
    "input(3, 8, 8)\nconv2d(4, 3, bias=1) | conv2d(4, 1, bias=True) | conv2d(4, 1, bias=1) | conv2d(4, 1, bias=1.0)",
    "input(3, 8, 8)\nconv2d(4, 3)\nconv2d(4, 99)\nconv2d(4, 3)",
    "input(3, 8, 8)\nConv2d(3, 4, 3) | ReLU\nnn.Conv2d(4, 4, 3) | nn.ReLU()\nConv2d(4, 4, 1) | ReLU",
    "input(3, 8, 8)\nｃｏｎｖ２ｄ（４， ３）\nconv2d(4, 3）",
    "input(3, 8, 8)\nconv2d(4, 3) | relu\nconv2d(4, 3) | relu\nend",
    "input(3, 8, 8)\nconv2d(4, 3) | relu\nconv2d(4, 3) | relu\n)",
    "input(3, 8, 8)\nconv2d(4, 3 | relu\nconv2d(4, 3) | relu",
    "input(3, 8, 8)\nconv2d(4, 3) | relu\nconv2d(4, 3) | relu\nconv2d(4, 1e999)",
    "input(3, 8, 8)\nconv2d(?c, 3)\nconv2d(?c, 3)\nconv2d(?, 3)\nconv2d(?, 3)",
    # a repeated block whose outputs are named: the alias is on that call's node only, never on the record
    "input(4, 8, 8)\ndef res(c):\n    conv2d(c, 3, padding=1) | relu\n    add(in)\nend\n"
    "a = res(4)\nb = res(4)\nres(4)\nadd(a)\nadd(b)",
]


def _texts():
    out = [m.text for m in zoo_models()]
    out += [p.read_text() for p in sorted((ROOT / "examples").glob("*.txt"))]
    out += seeds()["readme"] + [p for ps in seeds()["prefixes"] for p in ps[:3]]
    rng = random.Random(15)
    base = list(out) + CORNERS
    out += [mutate(rng, rng.choice(base)) for _ in range(300)]
    return [t for t in out if isinstance(t, str)] + CORNERS


TEXTS = _texts()


def _same_nodes(a, b):
    assert a == b
    for x, y in zip(a, b):                  # extra is not part of ==: compare it too, where there is one
        ex, ey = (dict(getattr(n, "extra", None) or {}) for n in (x, y))
        ex.pop("literal", None)             # the mark of arguments written out in full (spec/lines.py)
        ey.pop("literal", None)
        assert ex == ey


def _outcome(fn):
    try:
        return "ok", fn()
    except SpecError as e:
        return "error", e.to_dict()


def test_plain_lines_parse_as_the_parser_does():
    for text in TEXTS:
        fast, plain = _outcome(lambda: parse_program(text)), _outcome(lambda: _Parser(text).sequence(None))
        assert fast[0] == plain[0], text
        if fast[0] == "ok":
            _same_nodes(fast[1], plain[1])
        else:
            assert fast[1] == plain[1], text


def test_repeated_blocks_expand_as_every_call_does(monkeypatch):
    cases = []
    for text in TEXTS:
        try:
            cases.append((text, parse_program(text)))
        except SpecError:
            pass
    stamped = [_outcome(lambda: graph.elaborate(prog, text)) for text, prog in cases]
    monkeypatch.setattr(graph, "_stamp_key", lambda *a: None)
    for (text, prog), got in zip(cases, stamped):
        want = _outcome(lambda: graph.elaborate(prog, text))
        assert got[0] == want[0], text
        if got[0] == "ok":
            _same_nodes(got[1], want[1])
            assert [n.inputs for n in got[1]] == [n.inputs for n in want[1]]
        else:
            assert got[1] == want[1], text


def test_stored_op_results_keep_types_and_errors_apart():
    with pytest.raises(SpecError, match="groups"):     # groups=True is no whole number, after groups=1 worked
        cnncalc.analyze(CORNERS[14])
    r = cnncalc.analyze(CORNERS[15].rpartition(" | ")[0])    # bias=1 and True both mean a bias: 4 params more
    assert [l.params for l in r.layers] == [3 * 9 * 4 + 4, 4 * 4 + 4, 4 * 4 + 4]
    with pytest.raises(SpecError, match="bias must be true or false, got 1.0"):   # 1.0 is not 1 here
        cnncalc.analyze(CORNERS[15])
    with pytest.raises(SpecError) as e:                # the same layer again after a failing one: still fine,
        cnncalc.analyze(CORNERS[16])                   # and the error names the failing one (line 3)
    assert e.value.line == 3
    r = cnncalc.analyze("input(3, 8, 8)\n" + "conv2d(3, 3, padding=1) | relu\n" * 4)
    assert [l.name for l in r.layers] == ["conv2d_1", "relu_1", "conv2d_2", "relu_2", "conv2d_3", "relu_3",
                                          "conv2d_4", "relu_4"]
    assert [l.rf.size for l in r.layers[::2]] == [(3, 3), (5, 5), (7, 7), (9, 9)]   # 1 + 2 per 3x3 conv


def test_lazy_views_and_lines_equal_eager_ones():
    for name in ("resnet18", "unet", "googlenet"):
        r = cnncalc.analyze(zoo_get(name).text)
        for layer in r.layers:
            if layer.rf is not None:
                state = layer.rf.__dict__.get("_source", None)
                eager = rfmod._view(*state) if state else None
                assert eager is None or eager == layer.rf
            assert tuple(layer.rf_steps) == tuple(layer.rf_steps)     # made once, read again the same
        assert r == cnncalc.analyze(zoo_get(name).text)          # rows, views and lines compare equal


def test_time_grows_linearly():
    import time

    def best(n):
        text = "input(16, 32, 32)\n" + "conv2d(16, 3, padding=1) | batchnorm2d | relu\n" * (n // 3)
        times = []
        for _ in range(3):
            t = time.process_time()
            cnncalc.analyze(text)
            times.append(time.process_time() - t)
        return min(times)
    small, big = best(3_000), best(12_000)
    assert big < 8 * small + 0.05, (small, big)          # 4x the layers: linear is 4x; quadratic would be 16x


def test_totals_are_the_sums_of_the_rows():
    from cnncalc.report.model import Totals
    for name in ("resnet50", "unet", "efficientnet_b0"):
        r = cnncalc.analyze(zoo_get(name).text)
        assert r.totals == Totals.of(r.layers)


def test_json_text_is_json_dumps_text():
    import json

    from cnncalc.report.jsontext import dumps
    for name, kw in (("resnet18", {}), ("unet", {"train": True, "optimizer": "adam"}), ("googlenet", {})):
        d = cnncalc.analyze(zoo_get(name).text, **kw).to_dict(explain=True)
        assert dumps(d, 2) == json.dumps(d, indent=2) and dumps(d, 4) == json.dumps(d, indent=4)
    odd = {"a": [], "b": {}, "c": [1.5, float("nan"), float("inf"), -0.0, True, None, "é\"\n", [[]], [{}], [1, True]],
           "d": (1, 2), "e": 10**30, "f": cnncalc.analyze("input(3, 28, 28) | conv2d(4, 3)").warnings}
    assert dumps(odd) == json.dumps(odd, indent=2) and dumps({1: 2}) == json.dumps({1: 2}, indent=2)


def _merge_as_before(states, dims=()):
    """rf.merge as it was written before its shortcuts (the oracle of the test below)."""
    from fractions import Fraction  # noqa: F401
    if any(s is None for s in states):
        return None, None
    if any(s == rfmod.GLOBAL_STATE for s in states):
        return rfmod.GLOBAL_STATE, None
    if len({len(s) for s in states}) != 1:
        return None, None
    out, problems = [], 0
    for d in range(len(states[0])):
        per = [s[d] for s in states]
        out.append(max(per, key=lambda t: t[0]))
        if len({j for _, j, _ in per}) > 1 or len({rfmod._centre(r, P) for r, _, P in per}) > 1:
            problems += 1
    out = rfmod.Approx(out) if any(isinstance(s, rfmod.Approx) for s in states) else tuple(out)
    return out, problems


def test_merge_shortcuts_give_the_same_state():
    from fractions import Fraction
    rng = random.Random(15)

    def state(rank):
        dims = []
        for _ in range(rank):
            r = rng.choice([1, 3, 5, 7, 4, Fraction(7, 2)])
            j = rng.choice([1, 2, Fraction(1, 2)])
            dims.append((r, j, rng.choice([0, 1, 2, 3, Fraction(1, 2)])))
        return (rfmod.Approx if rng.random() < 0.1 else tuple)(dims)
    for _ in range(3000):
        rank = rng.choice([1, 2, 2, 3])
        a = state(rank)
        states = [a, a if rng.random() < 0.2 else state(rank)] + ([state(rank)] if rng.random() < 0.2 else [])
        got, warning = rfmod.merge(states, ("D", "H", "W")[:rank])
        want, problems = _merge_as_before(states)
        assert got == want and type(got) is type(want) and (warning is not None) == (problems > 0), states


def test_parse_text_gives_the_plain_readings_graph():
    from cnncalc.spec.text import parse_text
    for text in TEXTS:
        got = _outcome(lambda: parse_text(text))
        want = _outcome(lambda: graph.elaborate(_Parser(text).sequence(None), text))
        assert got[0] == want[0], text
        if got[0] == "ok":
            _same_nodes(got[1], want[1])
            assert [(n.inputs, n.output) for n in got[1]] == [(n.inputs, n.output) for n in want[1]]
        else:
            assert got[1] == want[1], text


# ------------------------------------------------------------------- repeated blocks kept compact (stamps)

STAMP_CORNERS = [
    # the block's output is an earlier tensor of it; a tensor of it nothing reads (alive to the end)
    "input(4, 8, 8)\ndef b(c):\n  x: conv2d(c, 1)\n  conv2d(c, 3, padding=1)\n  relu\n  x\nend\n"
    "b(4)\nb(4)\nb(4)\nconv2d(4, 1)\nb(4)",
    # a block that hands on its own input (its layers are dead ends, alive to the end)
    "input(4, 8, 8)\ndef b(c):\n  conv2d(c, 1) | relu\n  in\nend\nb(4)\nb(4)\nb(4)\nconv2d(4, 3, padding=1)\nb(4)",
    # the block's input read again after it (a skip around three blocks); named block outputs
    "input(4, 8, 8)\nskip: conv2d(4, 1)\ndef b(c): conv2d(c, 3, padding=1) | relu\nb(4)\nb(4)\nb(4)\nadd(skip)\n"
    "y = b(4)\nb(4)\nadd(y)",
    # the same block from other input shapes (a strided block changes them), then the first shape again
    "input(4, 16, 16)\ndef b(c, s=1):\n  conv2d(c, 3, stride=s, padding=1) | batchnorm2d | relu\nend\n"
    "b(4)\nb(4)\nb(4, 2)\nb(4)\nb(4)\nb(4, 2)\nb(4)\nb(4)",
    "input(4, 16, 16)\ndef b(c, s=1):\n  conv2d(c, 3, stride=s, padding=1) | batchnorm2d | relu\n  add(in)\nend\n"
    "b(4)\nb(4)\nb(4, 2)\nb(4)",                   # (an error: a strided block cannot add its input)
    # an error in a repeated block after it worked from another shape: the same error, the same layer named
    "input(4, 8, 8)\ndef b(c): conv2d(c, 5)\nb(4)\nb(4)\nb(4)\nb(4)",
    # a block whose merge mixes receptive fields that do not line up (a warning per instance)
    "input(4, 16, 16)\ndef b(c):\n  conv2d(c, 3, stride=2, padding=1)\n  upsample(scale_factor=2)\n  add(in)\nend\n"
    "b(4)\nb(4)\nb(4)",
    # blocks inside a labelled group and a repeat; a list argument (no stored result)
    "input(4, 8, 8)\ndef b(c): conv2d(c, [3, 3], padding=1) | relu\nstage:\n  b(4)\n  b(4)\n  b(4)\n"
    "(b(4)) * 3\nb(4)",
    "input(4, 8, 8, batch=2)\ndef b(c): conv2d(c, 3, padding=1) | relu | dropout(0.1)\n" + "b(4)\n" * 40,
]


def _analysis(text, compact):
    from cnncalc.analysis import analyze_calls
    from cnncalc.spec import load
    trace = []
    report = analyze_calls(load(text, compact=compact), trace=trace)
    return report, [(d[0].kind, d[2]) for d in trace]


def _same_analysis(text):
    got, want = _outcome(lambda: _analysis(text, True)), _outcome(lambda: _analysis(text, False))
    assert got[0] == want[0], text
    if got[0] == "error":
        assert got[1] == want[1], text
        return False
    (a, ta), (b, tb) = got[1], want[1]
    assert a == b, text
    assert a.to_dict(explain=True) == b.to_dict(explain=True), text
    assert a.warnings == b.warnings and a.peak_activation_bytes == b.peak_activation_bytes, text
    assert [l.rf_steps for l in a.layers] == [l.rf_steps for l in b.layers], text
    assert ta == tb, text                              # the training step's record of each row
    return True


def test_compact_blocks_analyse_as_their_calls():
    """cnncalc.analyze keeps repeated blocks as stamps and repeats their layers' results from the block's
    first run on the same input shape (repeats.layer_items, analysis.py): every row, warning, memory figure, explanation
    and error is the one the written-out calls give."""
    from cnncalc.spec.stamps import Stamp, expand
    stamped = 0
    for text in TEXTS + STAMP_CORNERS:
        try:
            compact = load_compact(text)
        except SpecError:
            continue
        if any(type(c) is Stamp for c in compact):
            stamped += 1
            _same_nodes(expand(compact), load_plain(text))
        _same_analysis(text)
    assert stamped >= 40                               # the zoo's ResNets, the corners above ...


def load_compact(text):
    from cnncalc.spec import load
    return load(text, compact=True)


def load_plain(text):
    from cnncalc.spec import load
    return load(text)


def test_compact_blocks_hand_checked_memory():
    """Three residual blocks of 4 x 8 x 8 float32 tensors (256 numbers, 1,024 B each), stamped: the live bytes
    by hand.  conv runs with x (the block's input) and its output: 2 x 1,024; relu: x, conv, relu = 3,072 (conv
    freed after relu); add: x, relu, add = 3,072 (x and relu freed after it); the next block starts from add
    alone, as the first started from the input."""
    text = "input(4, 8, 8)\ndef b(c):\n  conv2d(c, 3, padding=1) | relu\n  add(in)\nend\nb(4)\nb(4)\nb(4)"
    assert any(type(c).__name__ == "Stamp" for c in load_compact(text))
    r = cnncalc.analyze(text)
    assert [l.live_bytes for l in r.layers] == [2048, 3072, 3072] * 3
    assert r.peak_activation_bytes == 3072
    assert [l.name for l in r.layers][3:6] == ["b_2.conv2d_1", "b_2.relu_1", "b_2.add_1"]
    assert r.layers[5].inputs == ("b_2.relu_1", "b_1.add_1") and r.layers[5].input_indices == (5, 3)   # x | add(in)
    assert [l.rf.size for l in r.layers[::3]] == [(3, 3), (5, 5), (7, 7)]   # 1 + 2 per 3x3 conv
    assert r.totals.params == 3 * (4 * 4 * 9 + 4)


@given(st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compact_blocks_property(data):
    """Random blocks (convs, pools, norms, activations, residual adds) called with random arguments: the
    compact analysis is the written-out one."""
    draw = data.draw
    body = []
    for _ in range(draw(st.integers(1, 5))):
        layer = draw(st.sampled_from(["conv2d(c, k, padding=p)", "conv2d(c, k, stride=s)", "relu",
                                      "batchnorm2d", "maxpool2d(2)", "add(in)", "conv2d(c, 1)", "sigmoid"]))
        body.append(layer)
    block = "def b(c, k=3, p=1, s=1):\n" + "".join(f"  {layer}\n" for layer in body) + "end\n"
    calls = []
    for _ in range(draw(st.integers(2, 8))):
        c = draw(st.sampled_from([4, 4, 4, 8]))
        k = draw(st.sampled_from([1, 3, 3, 5]))
        p = draw(st.sampled_from([0, 1, 1, 2]))
        s = draw(st.sampled_from([1, 1, 2]))
        calls.append(f"b({c}, k={k}, p={p}, s={s})" if draw(st.booleans()) else f"b({c})")
    size = draw(st.sampled_from([8, 16, 32]))
    text = f"input(4, {size}, {size})\n" + block + "\n".join(calls) + "\n"
    _same_analysis(text)


def test_window_shortcut_is_apply():
    """rf.window (the analysis's shortcut for convs and pools, unrolled for images) against rf.apply and
    rf.too_large, the general recurrence, on random states: whole numbers, fractions, numbers at and past the
    tracked range, ranks 1 to 3, windows of another rank than the state."""
    from fractions import Fraction

    from cnncalc.ops.registry import RF
    rng = random.Random(16)
    lim = rfmod._RF_LIMIT
    values = [0, 1, 2, 3, 7, Fraction(1, 2), Fraction(7, 3), lim - 1, lim, lim + 1, -lim, -lim - 1, 10 ** 40]
    for _ in range(4000):
        rank = rng.choice([1, 2, 2, 2, 3])
        state = tuple((rng.choice(values), rng.choice(values), rng.choice(values)) for _ in range(rank))
        n = rank if rng.random() < 0.9 else rng.choice([1, 2, 3])
        step = RF("window", tuple(rng.choice([1, 2, 3, 7, lim]) for _ in range(n)),
                  tuple(rng.choice([1, 2, 3, lim]) for _ in range(n)),
                  tuple(rng.choice([0, 1, 2, lim]) for _ in range(n)) if rng.random() < 0.8 else ())
        new, big = rfmod.window(state, step)
        want = rfmod.apply(state, step, rank)
        if want is not None and rfmod.too_large(want):
            assert (new, big) == (None, True), (state, step)
        else:
            assert (new, big) == (want, False) and type(new) is type(want), (state, step)


def test_template_args_made_when_read():
    """A plain line's node (spec/ast.py template_call) makes its Args on first read: the same Args, with the
    node's own line and the columns of the text; equality, pickling and dataclasses.replace see them."""
    import pickle
    from dataclasses import replace

    from cnncalc.spec import load
    from cnncalc.spec.ast import Arg
    calls = load("input(3, 8, 8)\nconv2d(4, 3, padding=1) | relu\nconv2d(4, 3, padding=1) | relu")
    third = calls[3]                                   # line 3's conv: 'conv2d(4, 3, padding=1)'
    assert "args" not in third.__dict__                # not made yet
    copy = pickle.loads(pickle.dumps(third))
    assert third.args == (Arg(None, 4, 3, 8), Arg(None, 3, 3, 11), Arg("padding", 1, 3, 14))   # columns 8, 11, 14
    assert third.__dict__["args"] is third.args        # made once, then an attribute like any other
    assert copy == third and copy.args == third.args
    assert replace(calls[1], label="x").args == (Arg(None, 4, 2, 8), Arg(None, 3, 2, 11), Arg("padding", 1, 2, 14))
    assert calls[4].args == () and calls[4].kind == "relu"


def test_fast_init_is_the_dataclass_init():
    """frozen.fast_init (LayerCall, Arg, report rows ...) against the dataclass's own __init__: the same fields
    and defaults, a fresh dict from each default factory, still frozen; a field named like its local is refused."""
    import dataclasses

    from cnncalc.frozen import fast_init

    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
        b: str = "x"
        c: dict = dataclasses.field(default_factory=dict)
        d: tuple = ()

    Fast = fast_init(dataclasses.dataclass(frozen=True)(type("Fast", (), {
        "__annotations__": dict(Plain.__annotations__), "b": "x", "c": dataclasses.field(default_factory=dict),
        "d": ()})))
    for args, kw in (((1,), {}), ((1, "y"), {"d": (2,)}), ((), {"a": 3, "c": {"k": 1}})):
        p, f = Plain(*args, **kw), Fast(*args, **kw)
        assert dataclasses.astuple(p) == dataclasses.astuple(f) and list(vars(f)) == ["a", "b", "c", "d"]
    assert Fast(1).c is not Fast(1).c                  # a new dict each time, as the factory gives
    with pytest.raises(dataclasses.FrozenInstanceError):
        Fast(1).a = 2
    with pytest.raises(TypeError, match="_d_"):
        fast_init(dataclasses.make_dataclass("Bad", [("_d_", int)], frozen=True))
