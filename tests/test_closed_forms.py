"""The closed forms that replaced loops over sizes give exactly what the loops gave.

Each old loop is kept here as the oracle, and hypothesis compares it with the closed form on small random
sizes; the last tests check that huge sizes now answer at once and exactly.
"""
from __future__ import annotations

import time
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.conventions import get_convention
from cnncalc.formulas import floor_sum
from cnncalc.ops.conv import _covered
from cnncalc.ops.pool import adaptive_bin_total, adaptive_bins
from cnncalc.ops.recurrent import recurrent_param_parts, recurrent_param_total
from cnncalc.rf import transposed_span


# --------------------------------------------------------------------------- the old loops, as oracles

def old_transposed_span(k_eff: int, s: int, d: int = 1) -> Fraction:
    best = 0
    for o in range(s):
        ts = [t for t in range(0, k_eff, d) if (o - t) % s == 0]
        if ts:
            best = max(best, (ts[-1] - ts[0]) // s)
    return Fraction(best)


def old_covered(L: int, k: int, s: int, d: int, pb: int, out: int) -> int:
    hit = {i * s + t * d - pb for i in range(L) for t in range(k)}
    return sum(1 for o in hit if 0 <= o < out)


def old_adaptive_total(L: int, o: int) -> int:
    return sum(e - b for b, e in adaptive_bins(L, o))


# --------------------------------------------------------------------------- equal on small sizes

@settings(max_examples=3000, deadline=None)
@given(k_eff=st.integers(0, 60), s=st.integers(1, 40), d=st.integers(1, 12))
def test_transposed_span(k_eff, s, d):
    assert transposed_span(k_eff, s, d) == old_transposed_span(k_eff, s, d)


@settings(max_examples=3000, deadline=None)
@given(L=st.integers(1, 25), k=st.integers(1, 12), s=st.integers(1, 15), d=st.integers(1, 9),
       pb=st.integers(-20, 60), out=st.integers(-5, 400))
def test_transposed_covered(L, k, s, d, pb, out):
    assert _covered(L, k, s, d, pb, out) == old_covered(L, k, s, d, pb, out)


@settings(max_examples=1000, deadline=None)
@given(L=st.integers(1, 25), k=st.integers(1, 12), s=st.integers(1, 15), d=st.integers(1, 9),
       p=st.integers(0, 10), op=st.integers(0, 14))
def test_transposed_covered_on_real_output_lengths(L, k, s, d, p, op):
    """The window the layer really uses: out = (L-1)*s - 2p + d*(k-1) + op + 1, left crop p."""
    out = (L - 1) * s - 2 * p + d * (k - 1) + op + 1
    assert _covered(L, k, s, d, p, out) == old_covered(L, k, s, d, p, out)


@settings(max_examples=2000, deadline=None)
@given(n=st.integers(0, 60), m=st.integers(1, 50), a=st.integers(0, 120), b=st.integers(-300, 300))
def test_floor_sum(n, m, a, b):
    assert floor_sum(n, m, a, b) == sum((a * i + b) // m for i in range(n))


@settings(max_examples=2000, deadline=None)
@given(L=st.integers(1, 300), o=st.integers(1, 300))
def test_adaptive_bin_total(L, o):
    assert adaptive_bin_total(L, o) == old_adaptive_total(L, o)


@settings(max_examples=1000, deadline=None)
@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), I=st.integers(1, 40), H=st.integers(2, 40),
       L=st.integers(1, 12), dirs=st.sampled_from([1, 2]), bias=st.booleans(),
       convention=st.sampled_from(["pytorch", "keras", "caffe", "onnx"]), reset_after=st.sampled_from([None, True, False]),
       proj=st.integers(0, 1))
def test_recurrent_param_total(kind, I, H, L, dirs, bias, convention, reset_after, proj):
    conv = get_convention(convention)
    P = (H - 1) if proj and kind == "lstm" else 0
    parts = recurrent_param_parts(kind, I, H, L, dirs, bias, conv, reset_after, P)
    assert recurrent_param_total(kind, I, H, L, dirs, bias, conv, reset_after, P) == sum(c for _, c in parts)


@settings(max_examples=300, deadline=None)
@given(L=st.integers(1, 9), kind=st.sampled_from(["lstm", "gru", "rnn"]), dirs=st.booleans(), N=st.integers(1, 3),
       T=st.integers(1, 5), H=st.integers(1, 9))
def test_recurrent_stack_counts_match_layer_by_layer(L, kind, dirs, N, T, H):
    """A stack of L layers costs what its layers cost one by one: layer 0 on the input, the others alike."""
    bi = "true" if dirs else "false"
    whole = cnncalc.analyze(f"input({T}, 6, batch={N}) | {kind}({H}, num_layers={L}, bidirectional={bi})").layers[0]
    first = cnncalc.analyze(f"input({T}, 6, batch={N}) | {kind}({H}, bidirectional={bi})").layers[0]
    rest = cnncalc.analyze(f"input({T}, {H * (2 if dirs else 1)}, batch={N}) | {kind}({H}, bidirectional={bi})")
    rest = rest.layers[0]
    for f in ("params", "macs", "adds", "flops"):
        assert getattr(whole, f) == getattr(first, f) + (L - 1) * getattr(rest, f), f


# --------------------------------------------------------------------------- huge sizes: at once, exact

def _fast(spec: str, **kw):
    t0 = time.perf_counter()
    report = cnncalc.analyze(spec, **kw)
    assert time.perf_counter() - t0 < 0.5, spec
    return report


def test_bombs_answer_in_milliseconds():
    r = _fast("input(3, 8, 8) | convtranspose2d(4, 2, stride=100000000000)")
    L = r.layers[0]
    assert L.output_shape == (1, 4, 7 * 10 ** 11 + 2, 7 * 10 ** 11 + 2)
    assert L.adds == L.macs - 4 * (8 * 2) ** 2 + 4 * (7 * 10 ** 11 + 2) ** 2   # 16 hit positions per dim
    r = _fast("input(3, 8, 8) | adaptiveavgpool2d(100000000)")
    assert r.layers[0].output_shape == (1, 3, 10 ** 8, 10 ** 8)
    assert r.layers[0].flops == 3 * (8 + 10 ** 8 - 8) ** 2
    r = _fast("input(5, 3) | lstm(4, num_layers=1000000000000)")
    assert r.layers[0].params == recurrent_param_total("lstm", 3, 4, 10 ** 12, 1, True, get_convention("pytorch"))


def test_sizes_up_to_10_18_are_exact():
    r = _fast("input(3, 1000000000000000000, 8) | conv2d(4, 3)")
    assert r.layers[0].output_shape == (1, 4, 10 ** 18 - 2, 6)
    assert r.layers[0].macs == 4 * (10 ** 18 - 2) * 6 * 27
    r = _fast("input(3, 999999999999999999, 8) | maxpool2d(2)")
    assert r.layers[0].output_shape == (1, 3, 499999999999999999, 4)
    r = _fast("input(3, 450000000000000001, 8) | upsample(scale_factor=2)")     # a double would say 9e17
    assert r.layers[0].output_shape == (1, 3, 900000000000000002, 16)
    r = _fast("input(3, 450000000000000001, 8) | upsample(scale_factor=1.5)")
    assert r.layers[0].output_shape == (1, 3, 675000000000000001, 12)        # floor(450000000000000001 * 1.5)
    r = _fast("input(3, 1000000000000000000, 8) | upsample(size=(1, 8))")       # a ratio of 10^-18, exactly
    assert r.layers[0].rf.stride[0] == 10 ** 18
