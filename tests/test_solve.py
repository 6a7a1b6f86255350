"""cnncalc solve: the inverse problems of the seeds, checked by hand arithmetic and against brute force with
the analysis itself (cnncalc.analyze of the spec with each candidate written in)."""
import random
import subprocess
import sys

import pytest

import cnncalc
from cnncalc import SpecError
from cnncalc.solver import parse_count, parse_range, parse_target
from cnncalc.solver_derive import interval


def values(result):
    return [tuple(s.values.values()) for s in result.solutions]


# --------------------------------------------------------------------------------------------- the seeds

def test_resnet_stem_padding_by_hand():
    # 112 = floor((224 + 2P - 7)/2) + 1  <=>  222 <= 217 + 2P <= 223  <=>  P = 3
    r = cnncalc.solve("input(3, 224, 224) | conv1: conv2d(64, 7, stride=2, padding=?)", ["conv1: 112x112"])
    assert values(r) == [(3,)]
    assert r.best.values == {"conv1.padding": 3}
    assert r.best.report["conv1"].output_shape == (1, 64, 112, 112)
    text = r.text()
    assert "H_out = floor((224 + 2*3 - 1*(7-1) - 1)/2) + 1 = 112" in text
    assert "222 <= 217 + 2P <= 223,  so 5 <= 2P <= 6" in text and "=> P = 3" in text


@pytest.mark.parametrize("k,p", [(1, 0), (3, 1), (5, 2), (7, 3), (11, 5)])
def test_seed001_padding_that_keeps_the_size(k, p):
    # seed 001: S = 1 keeps the size with padding 1 for a 3x3 kernel, 2 for 5x5, 3 for 7x7
    r = cnncalc.solve(f"input(3, 100, 100) | c: conv2d(10, {k}, padding=?)", ["c: same"])
    assert values(r) == [(p,)]
    assert f"K = 2P + 1 ({k} = 2*{p} + 1)" in r.text()


def test_seed004_no_padding_keeps_an_even_kernel():
    r = cnncalc.solve("input(3, 224, 224) | c: conv2d(64, 4, padding=?)", ["c: 224x224"])
    assert r.solutions == []
    assert "no padding keeps 224 with k=4, s=1: 2P + 1 = K needs an odd kernel" in r.text()
    assert "k=4、s=1 时没有哪个填充能保持 224：2P + 1 = K 要求卷积核为奇数" in r.text("zh")


def test_seed004_k_equals_2p_plus_1():
    r = cnncalc.solve("input(3, 32, 32) | c: conv2d(16, ?k, padding=?p)", ["c: same"], ranges=["k=1..15", "p=0..10"])
    assert values(r) == [(k, (k - 1) // 2) for k in range(1, 16, 2)]
    assert all(k == 2 * p + 1 for k, p in values(r))


def test_kernel_stride_dilation_and_input_size():
    assert values(cnncalc.solve("input(1, 28, 28) | c: conv2d(8, ?)", ["c: 24x24"])) == [(5,)]     # 28 - K + 1 = 24
    assert values(cnncalc.solve("input(3, 224, 224) | c: conv2d(8, 3, stride=?, padding=1)", ["c: 56x56"])) == [(4,)]
    assert values(cnncalc.solve("input(3, 64, 64) | c: conv2d(8, 3, dilation=?)", ["c: 60x60"])) == [(2,)]
    r = cnncalc.solve("input(1, ?s, ?s) | conv2d(32, 5) | maxpool2d(2) | conv2d(32, 3) | maxpool2d(2)", ["5x5"],
                      ranges=["s=1..64"])
    # seed 002 backwards: 28 -> 24 -> 12 -> 10 -> 5; 29, 30, 31 too (the pools floor); 32 -> 28 -> 14 -> 12 -> 6
    assert values(r) == [(28,), (29,), (30,), (31,)]


# --------------------------------------------------------------------------------------------- brute force

def brute(template: str, target_layer: str, dims: tuple, lo: int, hi: int, **kw):
    out = []
    for v in range(lo, hi + 1):
        try:
            r = cnncalc.analyze(template.replace("?", str(v)), **kw)
        except SpecError:
            continue
        if r[target_layer].output_shape[2:] == dims:
            out.append(v)
    return out


@pytest.mark.parametrize("seed", range(60))
def test_single_unknowns_against_brute_force_and_the_closed_form(seed):
    rng = random.Random(seed)
    I = rng.choice((7, 28, 32, 55, 100, 224))
    k, s, p, d = rng.choice((1, 2, 3, 4, 5, 7)), rng.choice((1, 2, 3)), rng.choice((0, 1, 2, 3)), rng.choice((1, 1, 2))
    var = rng.choice(("padding", "kernel_size", "stride", "dilation"))
    args = {"kernel_size": k, "stride": s, "padding": p, "dilation": d}
    try:
        O = cnncalc.analyze(f"input(2, {I}, {I}) | conv2d(4, {k}, stride={s}, padding={p}, dilation={d})") \
            .layers[0].output_shape[2]
    except SpecError:
        O = max(1, I // 2)
    O = O + rng.choice((0, 0, 1, -1)) if O > 1 else O
    args[var] = "?"
    template = (f"input(2, {I}, {I}) | c: conv2d(4, {args['kernel_size']}, stride={args['stride']}, "
                f"padding={args['padding']}, dilation={args['dilation']})")
    lo, hi = (0, 12) if var == "padding" else (1, 12)
    r = cnncalc.solve(template, [f"c: {O}x{O}"], ranges=[f"{lo}..{hi}"])
    found = [v for (v,) in values(r)]
    assert found == brute(template, "c", (O, O), lo, hi)
    sym = {"padding": "P", "kernel_size": "K", "stride": "S", "dilation": "d"}[var]
    a, b, _, _ = interval(sym, I, O, k, s, p, d)
    assert found == [v for v in range(max(a, lo), min(b, hi) + 1)]


def test_largest_batch_that_fits_against_brute_force():
    spec = "input(3, 64, 64) | conv2d(32, 3, padding=1) | relu | maxpool2d(2) | flatten | dense(10)"
    budget = 50 * 2 ** 20
    r = cnncalc.solve(spec, fit="50MiB", batch="?")
    assert r.mode == "largest"
    b = r.best.values["batch"]

    def mem(n):
        rep = cnncalc.analyze(spec, batch=n)
        return rep.peak_activation_bytes + rep.totals.param_bytes + rep.totals.buffer_bytes
    assert mem(b) <= budget < mem(b + 1)
    assert f"Largest batch = {b:,}" in r.text() and "最大的 batch" in r.text("zh")


def test_largest_width_under_a_parameter_budget():
    spec = "input(3, 32, 32) | conv2d(?f, 3, padding=1) | relu | flatten | dense(10)"
    r = cnncalc.solve(spec, max_params="1M")
    f = r.best.values["f"]
    params = lambda n: cnncalc.analyze(spec.replace("?f", str(n))).totals.params   # noqa: E731
    assert params(f) <= 1_000_000 < params(f + 1)
    assert f == 97          # (27 + 1)*f + (1024*f + 1)*10 <= 10^6  <=>  10,268 f <= 999,990


def test_largest_input_under_a_macs_budget_and_all_mode():
    spec = "input(3, ?s, ?s) | conv2d(16, 3, padding=1)"
    r = cnncalc.solve(spec, max_macs="10M")
    s = r.best.values["s"]
    assert s * s * 16 * 27 <= 10_000_000 < (s + 1) ** 2 * 16 * 27
    r = cnncalc.solve(spec, max_macs="100K", mode="all", ranges=["s=1..20"])
    assert values(r) == [(n,) for n in range(1, 21) if n * n * 432 <= 100_000]


def test_shape_and_bound_together():
    r = cnncalc.solve("input(3, 32, 32) | c: conv2d(?f, ?k, padding=1) | flatten | dense(10)",
                      ["c: 32x32"], max_params=50_000, ranges=["f=1..8", "k=1..5"])
    # padding 1 keeps 32 only with k = 3; params (27 + 1)*f + (1024*f + 1)*10 = 10,268 f + 10 <= 50,000: f <= 4
    assert values(r) == [(f, 3) for f in range(1, 5)]


# --------------------------------------------------------------------------------------------- inputs and errors

def test_parsers():
    assert parse_target("conv1: 112x112").dims == (112, 112) and parse_target("112 × 112").layer is None
    assert parse_target("c: same").kind == "same"
    assert parse_count("5M", "--max-params") == 5_000_000 and parse_count("1.5G", "x") == 1_500_000_000
    assert parse_count("250,000", "x") == 250_000
    assert parse_range("padding=0..10") == ("padding", 0, 10) and parse_range("1..4") == (None, 1, 4)
    for bad in ("", "conv1:", "a: b"):
        pytest.raises(SpecError, parse_target, bad)
    pytest.raises(SpecError, parse_count, "lots", "--max-params")
    pytest.raises(SpecError, parse_range, "5..1")


@pytest.mark.parametrize("spec,kw,needle", [
    ("input(3, 8, 8) | conv2d(4, 3)", {"targets": ["6x6"]}, "no unknown"),
    ("input(3, 8, 8) | conv2d(4, ?)", {}, "nothing to solve for"),
    ("input(3, 8, 8) | conv2d(4, ?)", {"targets": ["nope: 6x6"]}, "no layer 'nope'"),
    ("input(3, ?, ?) | conv2d(?, ?)", {"targets": ["6x6"]}, "combinations"),
    ("input(3, 8, 8) | conv2d(4, ?)", {"targets": ["6x6"], "ranges": ["stride=1..3"]}, "no unknown of this spec"),
    ("input(3, 8, 8) | conv2d(4, ?)", {"targets": ["6x6"], "fit": "1GiB", "memory": "magic"}, "--memory magic"),
])
def test_solve_errors(spec, kw, needle):
    targets = kw.pop("targets", [])
    with pytest.raises(SpecError, match=needle):
        cnncalc.solve(spec, targets, **kw)


def test_summary_of_a_spec_with_an_unknown_says_so():
    with pytest.raises(SpecError, match=r"'\?' marks an unknown for cnncalc solve"):
        cnncalc.analyze("input(3, 8, 8) | conv2d(4, 3, padding=?)")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True)


def test_cli_solve():
    out = _cli("solve", "input(3, 224, 224) | conv1: conv2d(64, 7, stride=2, padding=?)", "--target", "conv1: 112x112")
    assert out.returncode == 0 and "Solution 1: conv1.padding = 3" in out.stdout
    out = _cli("solve", "input(3, 224, 224) | c: conv2d(64, 4, padding=?)", "--target", "c: same", "--lang", "zh")
    assert out.returncode == 1 and "无解" in out.stdout and "要求卷积核为奇数" in out.stdout
    out = _cli("solve", "input(3, 224, 224) | c: conv2d(64, 4, padding=?)", "--target", "c: 22x")
    assert out.returncode == 2 and "--target" in out.stderr and "Traceback" not in out.stderr
    out = _cli("solve", "zoo:lenet5", "--batch", "?", "--fit", "64MiB")
    assert out.returncode == 0 and "Largest batch" in out.stdout
