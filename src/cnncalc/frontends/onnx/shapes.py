"""cnncalc's own shape and dtype rules, for the tensors ONNX's shape inference leaves unknown."""
from __future__ import annotations

from math import prod

from ...formulas import pool_length_step
from ...i18n import Msg
from . import ops as _ops
from .common import CONTROL_FLOW, ONNX, _NoShape
from .fold import _axes, _np, _reshape_target, _slice_len, _slice_params
from .shapes_ops import LIKE_INPUT, MORE, _extra_out

def _broadcast(*shapes):
    out = []
    r = max(len(s) for s in shapes)
    for i in range(r):
        ds = {s[len(s) - r + i] for s in shapes if len(s) - r + i >= 0}
        ds.discard(1)
        if len(ds) > 1:
            raise _NoShape(Msg("fe.onnx.incompatible_broadcast"))
        out.append(ds.pop() if ds else 1)
    return tuple(out)


def _conv_out(n):
    return _ops.conv(n).output_shape


def _convT_out(n):
    return _ops.conv_transpose(n).output_shape


def _pool_out(n):
    if n.op == "LpPool" or n.op == "AveragePool" and any(d != 1 for d in n.attr("dilations") or ()):
        x = n.ish(0)
        spatial, k, s, d = _ops.window(n)
        pads = _ops.begin_end_pads(n, spatial, k, s, d)
        out = [pool_length_step("L", L, k_, s_, pb, pa, d_, bool(n.attr("ceil_mode", 0)), ONNX, None,
                                any(p != (0, 0) for p in pads)).value
               for L, k_, s_, d_, (pb, pa) in zip(spatial, k, s, d, pads)]
        return tuple(x[:2]) + tuple(out)
    return _ops.pool(n).output_shape


def _resize_out(n):
    x = n.ish(0)
    r = len(x)
    if n.op == "Upsample":
        scales = n.attr("scales") or (list(n.val(1).reshape(-1)) if n.val(1) is not None else None)
        sizes = None
    elif n.opset < 11:
        scales, sizes = (list(n.val(1).reshape(-1)) if n.val(1) is not None else None), None
    else:
        sv, zv = n.val(2), n.val(3)
        scales = list(sv.reshape(-1)) if sv is not None and sv.size else None
        sizes = [int(v) for v in zv.reshape(-1)] if zv is not None and zv.size else None
    axes = n.attr("axes")
    axes = list(range(r)) if axes is None else _axes(axes, r)
    out = list(x)
    if sizes is not None:
        policy = n.attr("keep_aspect_ratio_policy", "stretch")
        if policy in ("not_larger", "not_smaller"):
            ratios = [sz / x[a] for a, sz in zip(axes, sizes)]
            f = min(ratios) if policy == "not_larger" else max(ratios)
            for a in axes:
                out[a] = int(round(x[a] * f))   # spec: round half away from zero (rare ties)
        else:
            for a, sz in zip(axes, sizes):
                out[a] = sz
        return tuple(out)
    if scales is None:
        raise _NoShape(Msg("fe.onnx.resize_scales"))
    for a, sc in zip(axes, scales):
        out[a] = int(_np().floor(x[a] * float(sc) + 1e-9)) if float(sc) != 1 else x[a]
    return tuple(out)


def reduce_axes(n, rank):
    """The axes a Reduce node reduces: a list ([] for none given), or None when they are not known (an axes
    input computed at run time, unless its length alone decides: empty, or every axis)."""
    if "axes" in n.attrs:
        return n.ints("axes")
    if not n.has(1):
        return []
    axes = n.ints(1)
    if axes is None:
        s = n.shape_or_none(1)
        if s is not None and prod(s) == 0:
            return []
        if s is not None and len(s) == 1 and s[0] == rank and rank:   # axes are distinct: all of them
            return list(range(rank))
        return None
    return axes


def _reduce_out(n, x, keep_default=1):
    axes = reduce_axes(n, len(x))
    if axes is None:
        raise _NoShape(Msg("fe.onnx.reduce_axes_computed_run_time"))
    keep = bool(n.attr("keepdims", keep_default))
    if not axes:
        if n.attr("noop_with_empty_axes", 0):
            return x
        axes = list(range(len(x)))
    axes = set(_axes(axes, len(x)))
    return tuple((1 if i in axes else v) for i, v in enumerate(x) if keep or i not in axes)


SAME_SHAPE = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Clip", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Neg",
    "Abs", "Sin", "Cos", "Tan", "Sign", "Floor", "Ceil", "Round", "IsNaN", "IsInf", "Not", "BatchNormalization",
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization", "Softmax",
    "LogSoftmax", "Hardmax", "Identity", "Cast", "CastLike", "Dropout", "LRN", "Trilu", "CumSum",
    "MeanVarianceNormalization", "Shrink", "BitwiseNot", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
    "Acosh", "Atanh", "RMSNormalization", "Swish",
}
BROADCAST = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Less", "Greater",
             "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr",
             "BitwiseXor"}


def _own_shapes(n):
    """Output shapes by cnncalc's rules (None where unknown)."""
    op = n.op
    if n.domain == "com.microsoft":
        if op == "Attention":
            x = n.ish(0)
            hs = n.attr("qkv_hidden_sizes")
            return [(x[0], x[1], hs[2] if hs else n.ish(1)[1] // 3)]
        if op == "MultiHeadAttention":
            q, v = n.ish(0), n.shape_or_none(2)
            return [(q[0], q[1], v[2] if v is not None and len(v) == 3 else q[2])]
        if op in ("Gelu", "FastGelu", "BiasGelu", "QuickGelu"):
            return [n.ish(0)]
        return [None] * len(n.outputs)
    if n.domain:
        return [None] * len(n.outputs)
    if op in SAME_SHAPE:
        return [n.ish(0)] + [_extra_out(n, j) for j in range(1, len(n.outputs))]
    if op in LIKE_INPUT:
        return [n.ish(0)] + [None] * (len(n.outputs) - 1)
    if op in MORE:
        return MORE[op](n)
    if op in BROADCAST:
        return [_broadcast(*[n.ish(i) for i in range(len(n.inputs)) if n.has(i)])]
    if op in ("Conv", "ConvInteger"):
        return [_conv_out(n)]
    if op == "QLinearConv":
        return [_ops.conv(n, 3, 8).output_shape]
    if op == "ConvTranspose":
        return [_convT_out(n)]
    if op in ("MaxPool", "AveragePool", "LpPool"):
        o = _pool_out(n)
        return [o] + [o for _ in n.outputs[1:]]
    if op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        x = n.ish(0)
        return [tuple(x[:2]) + (1,) * (len(x) - 2)]
    if op == "Gemm":
        a, b = n.ish(0), n.ish(1)
        M = a[1] if n.attr("transA", 0) else a[0]
        N = b[0] if n.attr("transB", 0) else b[1]
        return [(M, N)]
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul"):
        a, b = n.ish(0), n.ish(3 if op == "QLinearMatMul" else 1)
        if len(a) == 1 and len(b) == 1:
            return [()]
        if len(a) == 1:
            return [tuple(b[:-2]) + (b[-1],)]
        if len(b) == 1:
            return [tuple(a[:-1])]
        return [_broadcast(a[:-2], b[:-2]) + (a[-2], b[-1])]
    if op == "Flatten":
        x = n.ish(0)
        a = n.attr("axis", 1) + len(x) if n.attr("axis", 1) < 0 else n.attr("axis", 1)
        return [(prod(x[:a]), prod(x[a:]))]
    if op == "Reshape":
        t = n.val(1)
        if t is None:
            raise _NoShape(Msg("fe.onnx.reshape_target"))
        return [_reshape_target(n.ish(0), [int(v) for v in t.reshape(-1)], n.attr("allowzero", 0))]
    if op == "Concat":
        shapes = [n.ish(i) for i in range(len(n.inputs)) if n.has(i)]
        a = n.attr("axis") % len(shapes[0])
        out = list(shapes[0])
        out[a] = sum(s[a] for s in shapes)
        return [tuple(out)]
    if op in ("Resize", "Upsample"):
        return [_resize_out(n)]
    if op == "Transpose":
        x = n.ish(0)
        perm = n.attr("perm") or list(range(len(x)))[::-1]
        return [tuple(x[p] for p in perm)]
    if op == "Unsqueeze":
        x = n.ish(0)
        axes = n.ints("axes") if "axes" in n.attrs else n.ints(1)
        if axes is None:
            raise _NoShape(Msg("fe.onnx.unsqueeze_axes"))
        r = len(x) + len(axes)
        axes = set(_axes(axes, r))
        it = iter(x)
        return [tuple(1 if i in axes else next(it) for i in range(r))]
    if op == "Squeeze":
        x = n.ish(0)
        axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
        if axes is None and n.has(1):
            raise _NoShape(Msg("fe.onnx.squeeze_axes"))
        axes = set(_axes(axes, len(x))) if axes is not None else {i for i, v in enumerate(x) if v == 1}
        return [tuple(v for i, v in enumerate(x) if i not in axes)]
    if op == "Slice":
        x = n.ish(0)
        p = _slice_params(n, len(x))
        if p is None:
            raise _NoShape(Msg("fe.onnx.slice_bounds"))
        out = list(x)
        for st, en, ax, sp in zip(*p):
            out[ax] = _slice_len(x[ax], st, en, sp)
        return [tuple(out)]
    if op == "Gather":
        x, i = n.ish(0), n.ish(1)
        a = n.attr("axis", 0) % len(x)
        return [tuple(x[:a]) + tuple(i) + tuple(x[a + 1:])]
    if op == "GatherElements":
        return [n.ish(1)]
    if op == "Split":
        x = n.ish(0)
        a = n.attr("axis", 0) % len(x)
        parts = n.ints("split") if "split" in n.attrs else (n.ints(1) if n.has(1) else None)
        if parts is None and n.has(1):
            if len(n.outputs) != 1:             # sizes computed at run time: one part alone is the whole axis
                raise _NoShape(Msg("fe.onnx.split_sizes_computed_run_time"))
            parts = [x[a]]
        if parts is None:
            k = len(n.outputs)
            step = -(-x[a] // k)
            parts = [min(step, x[a] - i * step) for i in range(k)]
        return [tuple(x[:a]) + (p,) + tuple(x[a + 1:]) for p in parts]
    if op == "Pad":
        x = n.ish(0)
        pads = n.ints("pads") if "pads" in n.attrs else n.ints(1)
        if pads is None:
            raise _NoShape("pads")
        axes = n.ints(3) if n.has(3) else list(range(len(x)))
        axes = _axes(axes, len(x))
        out = list(x)
        for j, a in enumerate(axes):
            out[a] += pads[j] + pads[j + len(axes)]
        return [tuple(out)]
    if op == "Expand":
        t = n.val(1)
        if t is None:
            raise _NoShape(Msg("fe.onnx.expand_shape"))
        return [_broadcast(n.ish(0), tuple(int(v) for v in t.reshape(-1)))]
    if op == "Tile":
        t = n.val(1)
        if t is None:
            raise _NoShape(Msg("fe.onnx.tile_repeats"))
        return [tuple(a * int(b) for a, b in zip(n.ish(0), t.reshape(-1)))]
    if op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
        return [_reduce_out(n, n.ish(0))]
    if op in ("ArgMax", "ArgMin"):
        x = n.ish(0)
        a = n.attr("axis", 0) % len(x)
        keep = n.attr("keepdims", 1)
        return [tuple((1 if i == a else v) for i, v in enumerate(x) if keep or i != a)]
    if op == "TopK":
        x, k = n.ish(0), n.val(1)
        if k is None:
            raise _NoShape("k")
        a = n.attr("axis", -1) % len(x)
        o = tuple(int(k.reshape(-1)[0]) if i == a else v for i, v in enumerate(x))
        return [o, o]
    if op in ("LSTM", "GRU", "RNN"):
        x = n.ish(0)
        H = n.attr("hidden_size")
        D = 2 if n.attr("direction", "forward") == "bidirectional" else 1
        if n.attr("layout", 0):
            B, T = x[0], x[1]
            y, yh = (B, T, D, H), (B, D, H)
        else:
            T, B = x[0], x[1]
            y, yh = (T, D, B, H), (D, B, H)
        return [y, yh, yh][:len(n.outputs)]
    if op == "ConstantOfShape":
        t = n.val(0)
        if t is None:
            raise _NoShape("shape")
        return [tuple(int(v) for v in t.reshape(-1))]
    if op == "Range":
        a, b, c = n.val(0), n.val(1), n.val(2)
        if a is None or b is None or c is None:
            raise _NoShape(Msg("fe.onnx.range_bounds"))
        return [(max(int(_np().ceil((float(b) - float(a)) / float(c))), 0),)]
    if op in ("DepthToSpace", "SpaceToDepth"):
        x = n.ish(0)
        b = n.attr("blocksize")
        if op == "DepthToSpace":
            return [(x[0], x[1] // (b * b), x[2] * b, x[3] * b)]
        return [(x[0], x[1] * b * b, x[2] // b, x[3] // b)]
    if op == "Einsum":
        _, out, sizes = _ops.einsum_parse(n)
        return [tuple(sizes[c] for c in out)]
    return [None] * len(n.outputs)


#: ops whose output type is not their first input's (the rules of _own_dtype below)
_TYPED = frozenset(("Shape", "Size", "NonZero", "ArgMax", "ArgMin", "TopK", "MaxPool", "Equal", "Less", "Greater",
                    "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf", "Cast", "BitCast",
                    "MatMulInteger", "ConvInteger", "NonMaxSuppression", "RegexFullMatch", "OneHot",
                    "DequantizeLinear", "DynamicQuantizeLinear", "QuantizeLinear", "RandomNormal", "RandomUniform",
                    "EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "BlackmanWindow", "HannWindow",
                    "HammingWindow", "CastLike", "ConstantOfShape", "Dropout", "Where")) | CONTROL_FLOW


def _own_dtype(n, i):
    op = n.op
    if op not in _TYPED:                              # the usual case: the type of the first input
        return n.dtype(0) if n.inputs else None
    if op in ("Shape", "Size", "NonZero", "ArgMax", "ArgMin"):
        return 7
    if op == "TopK" and i == 1 or op in ("MaxPool",) and i == 1:
        return 7
    if op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN",
              "IsInf"):
        return 9
    if op in ("Cast", "BitCast"):
        return n.attr("to")
    if op in ("MatMulInteger", "ConvInteger"):
        return 6
    if op == "NonMaxSuppression":
        return 7
    if op in ("RegexFullMatch",):
        return 9
    if op in CONTROL_FLOW:
        return None
    if op in ("OneHot",):
        return n.dtype(2)
    if op in ("DequantizeLinear", "DynamicQuantizeLinear") and i > 0 or op == "DequantizeLinear":
        return 2 if op == "DynamicQuantizeLinear" and i == 2 else n.dtype(1)
    if op in ("QuantizeLinear", "DynamicQuantizeLinear"):
        return n.attr("output_dtype") or (n.dtype(2) if n.has(2) else 2)
    if op in ("RandomNormal", "RandomUniform", "EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli"):
        return n.attr("dtype") or (n.dtype(0) if n.inputs else 1)
    if op in ("BlackmanWindow", "HannWindow", "HammingWindow"):
        return n.attr("output_datatype", 1)
    if op == "CastLike":
        return n.dtype(1)
    if op == "ConstantOfShape":
        v = n.attr("value")
        return v.data_type if v is not None else 1
    if op == "Dropout" and i == 1:
        return 9
    if op in ("Where",):
        return n.dtype(1)
    return n.dtype(0) if n.inputs else None


# ============================================================================ costs

def _numel(s):
    return prod(s)
