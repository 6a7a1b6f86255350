"""The closed form behind a one-unknown size question: O = floor((I + 2P - d(K-1) - 1)/S) + 1, solved for the
padding P, the kernel K, the stride S or the dilation d of a convolution (the floor rule of PyTorch, ONNX and
Caffe convolutions), with the numbers put in.  Seed 004: keeping the size with S = 1 needs K = 2P + 1.

``interval(...)`` gives the whole numbers the formula allows; the tests check it against the search.
"""
from __future__ import annotations

from .i18n import tr

VARS = {"padding": "P", "kernel_size": "K", "stride": "S", "dilation": "d"}
CONV_KINDS = ("conv1d", "conv2d", "conv3d")


def _cdiv(a: int, b: int) -> int:
    return -((-a) // b)


def interval(var: str, I: int, O: int, K: int, S: int, P: int, d: int):
    """(lo, hi, term, (a, b)) -- the whole numbers of ``var`` with floor((I + 2P - d(K-1) - 1)/S) + 1 = O lie in
    [lo, hi] (lo > hi: none); ``term`` (a Step-like text such as '2P') lies in [a, b]."""
    if var == "S":                                     # (O-1)*S <= N <= O*S - 1
        N = I + 2 * P - d * (K - 1) - 1
        if N < 0:
            return 1, 0, "S", (1, 0)
        if O == 1:
            return N + 1, 10 ** 9, "S", (N + 1, 10 ** 9)
        return max(1, _cdiv(N + 1, O)), N // (O - 1), "S", (_cdiv(N + 1, O), N // (O - 1))
    A, B = (O - 1) * S, (O - 1) * S + S - 1            # A <= N <= B, N = I + 2P - d(K-1) - 1
    if var == "P":
        c = I - d * (K - 1) - 1
        a, b = A - c, B - c
        return max(0, _cdiv(a, 2)), b // 2, "2P", (a, b)
    if var == "K":
        c = I + 2 * P - 1 + d                          # N = c - d*K
        a, b = c - B, c - A
        return max(1, _cdiv(a, d)), b // d, f"{d}*K" if d != 1 else "K", (a, b)
    if var == "d":
        c = I + 2 * P - 1                              # N = c - (K-1)*d
        if K == 1:
            ok = A <= c <= B
            return (1, 10 ** 9, "d", (1, 10 ** 9)) if ok else (1, 0, "d", (1, 0))
        a, b = c - B, c - A
        return max(1, _cdiv(a, K - 1)), b // (K - 1), f"{K - 1}*d", (a, b)
    raise ValueError(var)


def derivation(result, lang: str) -> list[str]:
    """Lines deriving the answer, when there is one unknown: a conv's padding / kernel / stride / dilation,
    with a size target at that conv; [] otherwise."""
    try:
        return _derivation(result, lang)
    except Exception:                                   # noqa: BLE001 -- a derivation is extra: never an error
        return []


def _derivation(result, lang: str) -> list[str]:
    case = _case(result)
    if case is None:
        return []
    var, I, O, k, s, p, d, u = case
    lo, hi, term, (a, b) = interval(var, I, O, k, s, p, d)
    known = {"P": p, "K": k, "S": s, "d": d}
    known.pop(var)
    knowns = ("，" if lang == "zh" else ", ").join(f"{n} = {v}" for n, v in known.items()
                                                  if not (n == "d" and v == 1 and lang == "zh"))
    formula = tr("solve.d_formula" if d == 1 or var == "d" else "solve.d_formula_dil", lang)
    lines = [tr("solve.d_head", lang, var=var, formula=formula, I=I, O=O, knowns=knowns)]
    if var == "P":
        rhs = f"{I - d * (k - 1) - 1} + 2P"
    elif var == "K":
        rhs = f"{I + 2 * p - 1 + d} - {term}"
    elif var == "d":
        rhs = f"{I + 2 * p - 1} - {term}"
    else:
        rhs = f"{I + 2 * p - d * (k - 1) - 1}"
    if var == "S":
        lines.append(tr("solve.d_stride", lang, O=O, O1=O - 1, N=rhs))
    else:
        lines.append(tr("solve.d_ineq", lang, A=(O - 1) * s, rhs=rhs, B=(O - 1) * s + s - 1, term=term, a=a, b=b))
    lo, hi = max(lo, u.lo), min(hi, u.hi)
    if var == "P" and lo > hi and s == 1 and O == I and d == 1 and k % 2 == 0:
        lines.append(tr("solve.none_odd", lang, I=I, K=k))
    elif lo > hi:
        lines.append(tr("solve.d_none", lang, var=var, lo=u.lo, hi=u.hi))
    elif var == "P" and s == 1 and O == I and d == 1:
        lines.append(tr("solve.d_keep", lang, var=var, vals=_vals(lo, hi), K=k))
    else:
        lines.append(tr("solve.d_result", lang, var=var, vals=_vals(lo, hi)))
    return ["  " + line for line in lines]


def _vals(lo: int, hi: int) -> str:
    if hi - lo <= 6:
        return ", ".join(str(v) for v in range(lo, hi + 1))
    return f"{lo}, {lo + 1}, ..., {hi}"


def _case(result):
    """(var, I, O, K, S, P, d, unknown) when the question has the closed form, else None."""
    from .conventions import get_convention
    from .ops import registry
    from .spec.graph import elaborate
    if len(result.unknowns) != 1:
        return None
    u = result.unknowns[0]
    var = VARS.get(u.param)
    targets = [t for t in result.targets if t.kind in ("shape", "same")]
    if var is None or len(targets) != 1 or not u.layer:
        return None
    t = targets[0]
    conv = get_convention(result.convention)
    if conv.name == "keras":
        return None
    # the layer with the unknown bound to a stand-in: its arguments and its input size
    from .analysis import analyze_calls
    from .spec.text import parse_program
    prog = parse_program(result.spec)
    probe = _Probe(1000003)
    calls = elaborate(prog, result.spec, unknowns={u.key: probe})
    counts, index = {}, None
    for i, call in enumerate(calls):
        op = registry.OPS.get(registry.norm(call.kind))
        if op is None:
            continue
        counts[op.kind] = counts.get(op.kind, 0) + 1
        if (call.label or f"{op.kind}_{counts[op.kind]}") == u.layer:
            index = i
            break
    if index is None:
        return None
    call = calls[index]
    op = registry.OPS[registry.norm(call.kind)]
    if op.kind not in CONV_KINDS or (t.layer or None) not in (u.layer, call.label, None):
        return None
    if t.layer is None and index != len(calls) - 1:
        return None
    args = registry.bind(op, call, _refuse, conv)
    vals = {}
    for name in ("kernel_size", "stride", "padding", "dilation"):
        v = getattr(args, name)
        v = v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v
        if isinstance(v, str) or isinstance(v, tuple):
            return None
        vals[name] = v
    before = analyze_calls(calls[:index], convention=conv)
    shape = before.layers[-1].output_shape if before.layers else before.input_shape
    spatial = shape[2:]
    if not spatial or len(set(spatial)) != 1:
        return None
    I = spatial[0]
    if t.kind == "same":
        O = I
    else:
        dims = t.dims
        if len(dims) == len(spatial):
            O = dims[0]
        elif len(dims) == len(shape) - 1:
            O = dims[1]
        else:
            O = dims[2]
    k, s, p, d = (None if vals[n] is probe else vals[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    return var, I, O, k, s, p, d, u


class _Probe(int):
    """The unknown's stand-in while reading the other arguments of its layer."""


def _refuse(msg, where=None):
    from .errors import SpecError
    raise SpecError(msg)
