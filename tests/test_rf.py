"""Receptive fields: hand arithmetic (Araujo et al. 2019) and a torch gradient oracle.

The oracle: with positive weights and inputs (max pools replaced by average pools of the same geometry), the
input pixels that influence output unit u are exactly those with a non-zero d(out[u])/d(input).  cnncalc
predicts the span [-P + u*S, -P + u*S + r - 1] (clipped to the image).
"""
from fractions import Fraction
from math import floor

import pytest

import cnncalc

torch = pytest.importorskip("torch")
nn = torch.nn

from gradient_oracle import extent as _extent  # noqa: E402
from gradient_oracle import positive as _positive  # noqa: E402


def test_hand_arithmetic_alexnet_like():
    # conv 11/4 p2: r = 11, S = 4, P = 2; pool 3/2: r = 11 + 2*4 = 19, S = 8; conv 5 p2: r = 19 + 4*8 = 51, P = 2 + 2*8 = 18
    r = cnncalc.analyze("input(3, 224, 224) | conv2d(64, 11, stride=4, padding=2) | maxpool2d(3, stride=2)"
                        " | conv2d(192, 5, padding=2)")
    rf = [l.rf for l in r.layers]
    assert (rf[0].size, rf[0].stride, rf[0].padding) == ((11, 11), (4, 4), (2, 2))
    assert (rf[1].size, rf[1].stride, rf[1].padding) == ((19, 19), (8, 8), (2, 2))
    assert (rf[2].size, rf[2].stride, rf[2].padding) == ((51, 51), (8, 8), (18, 18))
    assert rf[2].center == (-18 + Fraction(51 - 1, 2),) * 2 == (7, 7)


def test_dilation_enters_through_effective_kernel():
    # k = 3, d = 4 -> k_eff = 9
    r = cnncalc.analyze("input(1, 64, 64) | conv2d(1, 3, dilation=4) | conv2d(1, 3, dilation=2, stride=2)")
    assert r.layers[0].rf.size == (9, 9)
    assert r.layers[1].rf.size == (9 + 4, 9 + 4) and r.layers[1].rf.stride == (2, 2)


def test_global_after_flatten_and_global_pool():
    r = cnncalc.analyze("input(3, 32, 32) | conv2d(8, 3) | globalavgpool2d | dense(10)")
    assert r.layers[0].rf.is_global is False
    assert r.layers[1].rf.is_global and r.layers[2].rf.is_global
    assert r.to_dict()["layers"][1]["rf"]["global"] is True
    assert cnncalc.analyze("input(10) | dense(4)").layers[0].rf is None      # no spatial input at all


CASES = [
    # (cnncalc spec body, torch layers)
    ("conv2d(2, 3) | relu | avgpool2d(2) | conv2d(2, 3, stride=2, padding=1)",
     lambda: [nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3, stride=2, padding=1)]),
    ("conv2d(2, 3, dilation=2) | conv2d(2, 5, stride=2, padding=2, dilation=3) | avgpool2d(3, stride=2, padding=1)",
     lambda: [nn.Conv2d(1, 2, 3, dilation=2), nn.Conv2d(2, 2, 5, stride=2, padding=2, dilation=3),
              nn.AvgPool2d(3, stride=2, padding=1)]),
    ("conv2d(2, (3, 5), stride=(2, 1), padding=(1, 2)) | zeropad2d(((2, 0), (1, 3))) | conv2d(2, 3, stride=2)",
     lambda: [nn.Conv2d(1, 2, (3, 5), stride=(2, 1), padding=(1, 2)), nn.ZeroPad2d((1, 3, 2, 0)),
              nn.Conv2d(2, 2, 3, stride=2)]),
    ("conv2d(2, 7, stride=2, padding=3) | avgpool2d(3, stride=2, padding=1) | conv2d(2, 3, padding=1)",
     lambda: [nn.Conv2d(1, 2, 7, stride=2, padding=3), nn.AvgPool2d(3, stride=2, padding=1),
              nn.Conv2d(2, 2, 3, padding=1)]),
]


@pytest.mark.parametrize("body,layers", CASES)
def test_gradient_oracle_sequential(body, layers):
    size = 61
    net = _positive(nn.Sequential(*layers()))
    r = cnncalc.analyze(f"input(1, {size}, {size}) | {body}")
    rf = r.layers[-1].rf
    out_hw = r.layers[-1].output_shape[2:]
    for unit, exact in [((0, 0), True), (tuple(o // 2 for o in out_hw), True), (tuple(o - 1 for o in out_hw), False)]:
        spans = [(-rf.padding[d] + u * rf.stride[d], -rf.padding[d] + u * rf.stride[d] + rf.size[d] - 1)
                 for d, u in enumerate(unit)]
        if any(e < 0 or b > size - 1 for b, e in spans):
            continue        # the unit sees only padding: no gradient to compare
        got = _extent(net, (1, size, size), unit)
        if got is None and not exact:
            continue        # every pixel it could see lies in an intermediate map's padding
        for d, u in enumerate(unit):
            start = -rf.padding[d] + u * rf.stride[d]
            end = start + rf.size[d] - 1
            want = (max(0, start), min(size - 1, end))
            if exact:
                assert got[d] == want, (unit, d, rf)
            else:
                # the last unit may lose pixels to an intermediate map's floor-dropped border: never more than r
                assert want[0] <= got[d][0] <= got[d][1] <= want[1], (unit, d, rf)


@pytest.mark.parametrize("k,s,p,d", [(3, 2, 1, 1), (4, 2, 1, 1), (3, 3, 0, 2), (5, 2, 2, 1), (2, 3, 0, 1),
                                     (2, 2, 0, 1), (3, 2, 0, 2)])
def test_gradient_oracle_transposed(k, s, p, d):
    # output o of a transposed conv reads input i when o = i*s - p + t*d; cnncalc's size is the widest such
    # span (in input pixels, after a 3x3 conv), centred on o's continuous centre: every output's true extent
    # lies within [round(start), round(end)], and the widest one fills it.
    size = 15
    net = _positive(nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, dilation=d)))
    r = cnncalc.analyze(f"input(1, {size}, {size}) | conv2d(1, 3) | convtranspose2d(1, {k}, stride={s}, "
                        f"padding={p}, dilation={d})")
    rf = r.layers[-1].rf
    out = r.layers[-1].output_shape[2]
    widest = 0
    for u in range(out):
        reads = [(u + p - t * d) // s for t in range(k) if (u + p - t * d) % s == 0 and 0 <= (u + p - t * d) // s < size - 2]
        if not reads:
            continue
        lo, hi = min(reads), max(reads) + 2
        got = _extent(net, (1, size, size), (u, u))
        assert got[0] == (lo, hi)
        start = -rf.padding[0] + u * rf.stride[0]
        end = start + rf.size[0] - 1
        rnd = lambda v: floor(v + Fraction(1, 2))  # noqa: E731
        # away from the borders; with dilation the taps that land differ from output to output, so only the
        # size (below) is exact there: the centre is the mean tap position (docs/definitions.md)
        if lo > 0 and hi < size - 1 and d == 1:
            assert rnd(start) <= lo and hi <= rnd(end), (u, start, end, lo, hi)
        widest = max(widest, hi - lo + 1)
    assert widest == rf.size[0]
