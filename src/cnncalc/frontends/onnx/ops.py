"""ONNX nodes translated into the op layer (``ops/``): the ONNX front-end carries no arithmetic of its own.

Each entry of :data:`FORMULAS` reads a node (its attributes and the shapes around it) and names the op kind and
arguments it is, under the onnx convention: ``Conv`` -> ``conv2d(filters, kernel_size, stride, padding=[(begin,
end), ...], dilation, groups, bias)``, ``Gemm`` / ``MatMul`` -> ``matmul``, ``LSTM`` -> ``lstm``, ``MaxPool`` ->
``maxpool2d``, ...  The op layer answers with the output shape, MACs / mults / adds / FLOPs and the worked
explanation; the shape rules of Conv / ConvTranspose / pooling use the same answer.  Ops that only move data
are in :data:`ZERO`; any other op is listed as uncounted.
"""
from __future__ import annotations

from math import prod

from ...errors import SpecError
from ...i18n import Msg
from ...formulas import Step, keff, same_padding
from ...ops import apply
from ...ops.pointwise import pointwise, reduction
from ...ops.registry import LayerOut

ZERO_OUT = LayerOut(())


def _run(kind, inputs, **args) -> LayerOut:
    return apply.run(kind, inputs, convention="onnx", **args)


def combine(*outs: LayerOut, shape=()) -> LayerOut:
    """Several op-layer answers as one node's: costs summed, steps in order."""
    return LayerOut(tuple(shape), macs=sum(o.macs for o in outs), mults=sum(o.mults for o in outs),
                    adds=sum(o.adds for o in outs), flops=sum(o.flops for o in outs),
                    steps=lambda: tuple(s for o in outs for s in o.steps))


# ---------------------------------------------------------------------------- windows: conv and pool

_ONES = {1: (1,), 2: (1, 1), 3: (1, 1, 1)}
_NO_PADS = {1: ((0, 0),), 2: ((0, 0), (0, 0)), 3: ((0, 0), (0, 0), (0, 0))}


def window(n, w_shape=None):
    """(spatial, kernel, strides, dilations) of a conv or pool node."""
    spatial = tuple(n.ish(0)[2:])
    nd = len(spatial)
    attrs = n.attrs
    k = attrs.get("kernel_shape") or (w_shape[2:] if w_shape is not None else None)
    if k is None:
        raise KeyError("kernel_shape")
    s = attrs.get("strides")
    d = attrs.get("dilations")
    ones = _ONES.get(nd) or (1,) * nd
    return spatial, tuple(k), tuple(s) if s else ones, tuple(d) if d else ones


def _padding(n, nd):
    """The padding argument of the op layer: an auto_pad word, or (begin, end) pairs."""
    attrs = n.attrs
    word = attrs.get("auto_pad")
    if word is not None:
        word = str(word).upper()
        if word in ("SAME_UPPER", "SAME_LOWER", "VALID"):
            return word.lower()
    pads = attrs.get("pads")
    if not pads:
        return _NO_PADS.get(nd) or ((0, 0),) * nd
    return tuple([(pads[i], pads[i + nd]) for i in range(nd)])


def conv(n, w_index=1, b_index=2) -> LayerOut:
    if n.answer is not None:                   # the shape rule asked first (a model read without ONNX inference)
        return n.answer
    x, w = n.ish(0), n.ish(w_index)
    spatial, k, s, d = window(n, w)
    nd = len(spatial)
    n.answer = out = _run(f"conv{nd}d", x, filters=w[0], kernel_size=k, stride=s, padding=_padding(n, nd),
                          dilation=d, groups=n.attr("group", 1), bias=n.has(b_index))
    return out


def conv_transpose_pads(n):
    """(begin, end) pads per spatial dim of a ConvTranspose, after auto_pad / output_shape (ONNX spec)."""
    w = n.ish(1)
    spatial, k, s, d = window(n, w)
    nd = len(spatial)
    op_ = n.attr("output_padding") or [0] * nd
    out_shape = n.attr("output_shape")
    word = str(n.attr("auto_pad", "NOTSET")).upper()
    if out_shape is not None or word in ("SAME_UPPER", "SAME_LOWER"):
        target = list(out_shape)[-nd:] if out_shape is not None else [L * s_ for L, s_ in zip(spatial, s)]
        pads = []
        for L, k_, s_, d_, o_, T in zip(spatial, k, s, d, op_, target):
            total = s_ * (L - 1) + o_ + keff(k_, d_) - T
            # ONNX spec (and onnxruntime): SAME_UPPER puts total/2 at the start, the odd pixel at the end;
            # SAME_LOWER and an explicit output_shape put the odd pixel at the start
            begin = total // 2 if word == "SAME_UPPER" else total - total // 2
            pads.append((begin, total - begin))
        return tuple(pads)
    if word == "VALID":
        return ((0, 0),) * nd
    pads = n.attr("pads") or [0] * (2 * nd)
    return tuple((pads[i], pads[i + nd]) for i in range(nd))


def conv_transpose(n) -> LayerOut:
    x, w = n.ish(0), n.ish(1)
    spatial, k, s, d = window(n, w)
    nd = len(spatial)
    g = n.attr("group", 1)
    pads, extra = [], []
    for (pb, pa), o_ in zip(conv_transpose_pads(n), n.attr("output_padding") or [0] * nd):
        # an output_shape larger than the natural size gives a negative pad: more output, as output_padding
        extra.append(o_ + max(0, -pb) + max(0, -pa))
        pads.append((max(pb, 0), max(pa, 0)))
    return _run(f"convtranspose{nd}d", x, filters=w[1] * g, kernel_size=k, stride=s, padding=tuple(pads),
                dilation=d, groups=g, bias=n.has(2), output_padding=tuple(extra))


def pool(n) -> LayerOut:
    if n.answer is not None:
        return n.answer
    x = n.ish(0)
    spatial, k, s, d = window(n)
    nd = len(spatial)
    mode = "max" if n.op == "MaxPool" else "avg"
    args = dict(kernel_size=k, stride=s, padding=_padding(n, nd), ceil_mode=bool(n.attr("ceil_mode", 0)))
    if mode == "max":
        args["dilation"] = d
    elif any(v != 1 for v in d):                # AveragePool-19's dilations: the op layer's average has none
        raise SpecError(Msg("err.onnx.average_pooling_dilations_has_no"))
    n.answer = out = _run(f"{mode}pool{nd}d", x, **args)
    return out


def _global_pool(n) -> LayerOut:
    x = n.ish(0)
    mode = "max" if n.op == "GlobalMaxPool" else "avg"
    return _run(f"global{mode}pool{len(x) - 2}d", x, keepdims=True)


# ---------------------------------------------------------------------------- products

def _gemm(n) -> LayerOut:
    a, b = n.ish(0), n.ish(1)
    a = (a[1], a[0]) if n.attr("transA", 0) else tuple(a)
    b = (b[1], b[0]) if n.attr("transB", 0) else tuple(b)
    return _run("matmul", [a, b], bias=n.has(2))


def _matmul(n, ai=0, bi=1) -> LayerOut:
    return _run("matmul", [n.ish(ai), n.ish(bi)])


def einsum_parse(n):
    """(operand letter strings, output letter string, {letter: size}) with '...' spelled out as letters."""
    eq = str(n.attr("equation")).replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    shapes = [n.ish(i) for i in range(len(terms))]
    ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell_letters = "".join(chr(0x100 + j) for j in range(ell))
    sizes, spelled = {}, []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell_letters[ell - k:])
        spelled.append(t)
        for c, d in zip(t, s):
            sizes[c] = max(sizes.get(c, 1), d)
    if arrow:
        out = rhs.replace("...", ell_letters)
    else:                   # implicit mode: the letters seen once, in alphabetical order, after the ellipsis
        once = [c for c in sorted(set("".join(spelled)) - set(ell_letters)) if "".join(spelled).count(c) == 1]
        out = ell_letters + "".join(once)
    return spelled, out, sizes


def _einsum(n):
    terms, out, sizes = einsum_parse(n)
    outputs = prod(sizes[c] for c in out)
    if len(terms) == 1:
        return reduction("einsum", prod(n.ish(0))) if set(terms[0]) - set(out) else ZERO_OUT
    if len(terms) != 2:
        return None
    total = prod(sizes.values())
    k = max(total // max(outputs, 1), 1)
    # a contraction is a batch of products: every output sums k products of the two operands
    r = _run("matmul", [(outputs, k), (k, 1)])
    eq = str(n.attr("equation")).replace(" ", "")
    return combine(LayerOut((), steps=(Step("einsum", "", eq, Msg("fe.onnx.outputs_each_sum_products", outputs=outputs, k=k)),)),
                   r)


def _attention_sizes(n):
    q, k, v = n.ish(0), n.ish(1), n.ish(2)
    if len(q) == 4:
        return q, k, v
    hq, hkv = n.attr("q_num_heads"), n.attr("kv_num_heads")
    B, S, L = q[0], q[1], k[1]
    return (B, hq, S, q[2] // hq), (B, hkv, L, k[2] // hkv), (B, hkv, L, v[2] // hkv)


def _attention(n) -> LayerOut:
    q, k, v = _attention_sizes(n)
    if n.has(4) and n.has(5):              # opset-23 past_key / past_value: attention runs over past + new keys
        pk, pv = n.ish(4), n.ish(5)
        k = tuple(k[:-2]) + (k[-2] + pk[-2], k[-1])
        v = tuple(v[:-2]) + (v[-2] + pv[-2], v[-1])
    return combine(_run("scaled_dot_product_attention", [q, k, v]))     # heads laid out as the node lays them


def _ms_attention(n) -> LayerOut:
    x, w = n.ish(0), n.ish(1)
    B, S, Din = x
    heads = n.attr("num_heads")
    hs = n.attr("qkv_hidden_sizes") or [w[1] // 3] * 3
    proj = _run("matmul", [(B * S, Din), (Din, w[1])], bias=n.has(2))
    core = _run("scaled_dot_product_attention", [(B * heads, S, hs[0] // heads), (B * heads, S, hs[1] // heads),
                                                 (B * heads, S, hs[2] // heads)])
    return combine(proj, core)


def _ms_mha(n) -> LayerOut:
    q, k, v = n.ish(0), n.shape_or_none(1), n.shape_or_none(2)
    heads = n.attr("num_heads")
    if k is None or v is None or len(q) != 3:
        raise KeyError(Msg("fe.onnx.packed_query_key_value"))
    B, S, D = q
    L = k[1] if len(k) == 3 else k[2]
    Dv = v[2] if len(v) == 3 else v[1] * v[3]
    core = _run("scaled_dot_product_attention", [(B * heads, S, D // heads), (B * heads, L, D // heads),
                                                 (B * heads, L, Dv // heads)])
    if n.has(3):                                            # bias added to the projected query, key and value
        return combine(core, pointwise("add", B * S * D + 2 * B * L * D))
    return combine(core)


# ---------------------------------------------------------------------------- recurrent, norms, softmax

def _recurrent(n) -> LayerOut:
    x, r = n.ish(0), n.ish(2)
    T, B = (x[1], x[0]) if n.attr("layout", 0) else (x[0], x[1])
    dirs = n.ish(1)[0]
    r_out = _run(n.op.lower(), (B, T, x[2]), hidden_size=r[2], bidirectional=dirs == 2, bias=n.has(3))
    return LayerOut((), macs=r_out.macs, mults=r_out.mults, adds=r_out.adds, flops=r_out.flops,
                    steps=lambda: tuple(s for s in r_out.steps if not s.quantity.startswith("params")))


def _softmax(n) -> LayerOut:
    x = n.ish(0)
    kind = "softmax" if n.op == "Softmax" else "logsoftmax"
    if n.opset < 13:                       # the input coerced to 2-d at axis
        a = n.attr("axis", 1) % len(x)
        return combine(_run(kind, (prod(x[:a]), prod(x[a:])), axis=1))
    a = n.attr("axis", -1) % len(x)
    if a == 0:                             # softmax over the first axis: rows are the other elements
        return combine(_run(kind, (prod(x[1:]), x[0]), axis=1))
    return _run(kind, x, axis=a)


def _no_params(out: LayerOut) -> LayerOut:
    """The ONNX front-end counts parameters from the file's initializers: the op's parameter rule is not shown."""
    return LayerOut(out.output_shape, macs=out.macs, mults=out.mults, adds=out.adds, flops=out.flops,
                    steps=lambda: tuple(s for s in out.steps if s.quantity != "params"))


def _layernorm(n) -> LayerOut:
    x = n.ish(0)
    a = n.attr("axis", -1) % len(x)
    return _no_params(_run("layernorm", x, normalized_shape=tuple(x[a:]), elementwise_affine=n.has(1),
                           bias=n.has(2)))


def _instancenorm(n) -> LayerOut:
    return _no_params(_run("instancenorm", n.ish(0), affine=n.has(1)))


def _groupnorm(n) -> LayerOut:
    return _no_params(_run("groupnorm", n.ish(0), num_groups=n.attr("num_groups"), affine=n.has(1)))


def _batchnorm(n) -> LayerOut:
    return _no_params(_run("batchnorm", n.ish(0)))


# ---------------------------------------------------------------------------- pointwise

def _resize(n) -> LayerOut:
    x, o = n.ish(0), n.osh(0)
    mode = str(n.attr("mode", "nearest")).lower()
    if mode == "nearest":
        return ZERO_OUT
    nd = len(x) - 2 if len(x) >= 3 else sum(1 for a, b in zip(x, o) if a != b)
    taps = (2 if mode in ("linear", "bilinear") else 4) ** nd
    return pointwise(f"resize ({mode}, {taps} taps)", prod(o), per=2 * taps - 1)


#: ONNX op -> the op layer's pointwise name
POINTWISE_ONNX = {
    "Relu": "relu", "LeakyRelu": "leakyrelu", "PRelu": "prelu", "Elu": "elu", "Selu": "selu", "Gelu": "gelu",
    "Sigmoid": "sigmoid", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Tanh": "tanh",
    "Softplus": "softplus", "Softsign": "softsign", "Mish": "mish", "Clip": "clamp", "Erf": "erf", "Exp": "exp",
    "Log": "log", "Sqrt": "sqrt", "Reciprocal": "reciprocal", "Neg": "neg", "Abs": "abs", "Sin": "sin",
    "Cos": "cos", "Sign": "sign", "Floor": "floor", "Ceil": "ceil", "Round": "round", "Add": "add", "Sub": "sub",
    "Mul": "mul", "Div": "div", "Pow": "pow", "Mod": "mod", "Where": "where", "Equal": "compare",
    "Less": "compare", "Greater": "compare", "LessOrEqual": "compare", "GreaterOrEqual": "compare",
    "com.microsoft.Gelu": "gelu", "com.microsoft.FastGelu": "gelu",
}


def _pointwise(name):
    def cost(n):
        if not n.is_float(0) and not (n.op == "Where" and n.is_float(1)):
            return ZERO_OUT                           # integer arithmetic (shapes, indices): no FLOPs
        return pointwise(name, prod(n.osh(0)))
    return cost


def _variadic(name, extra=0):
    def cost(n):
        if not n.is_float(0):
            return ZERO_OUT
        k = sum(1 for i in range(len(n.inputs)) if n.has(i))
        return pointwise(name, prod(n.osh(0)), per=k - 1 + extra)
    return cost


def _reduce(n):
    return reduction(n.op, prod(n.ish(0))) if n.is_float(0) else ZERO_OUT


def _col2im(n) -> LayerOut:
    img, blk = n.ints(1), n.ints(2)
    if img is None or blk is None:
        raise KeyError(Msg("fe.onnx.image_shape_block_shape_not"))
    nd = len(img)
    pads = n.attr("pads") or [0] * (2 * nd)
    return _run("fold", n.ish(0), output_size=tuple(img), kernel_size=tuple(blk),
                dilation=tuple(n.attr("dilations") or [1] * nd), stride=tuple(n.attr("strides") or [1] * nd),
                padding=tuple((pads[i], pads[i + nd]) for i in range(nd)))


FORMULAS = {
    "Col2Im": _col2im,
    "Conv": conv, "ConvInteger": conv, "QLinearConv": lambda n: conv(n, 3, 8),
    "ConvTranspose": conv_transpose, "Gemm": _gemm, "MatMul": _matmul, "MatMulInteger": _matmul,
    "QLinearMatMul": lambda n: _matmul(n, 0, 3), "Einsum": _einsum,
    "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent, "Attention": _attention,
    "com.microsoft.Attention": _ms_attention, "com.microsoft.MultiHeadAttention": _ms_mha,
    "Softmax": _softmax, "LogSoftmax": _softmax, "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm, "InstanceNormalization": _instancenorm, "GroupNormalization": _groupnorm,
    "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool,
    "Resize": _resize, "Upsample": _resize,
    "Sum": _variadic("add"), "Max": _variadic("maximum"), "Min": _variadic("minimum"), "Mean": _variadic("add", 1),
}
for _k, _v in POINTWISE_ONNX.items():
    FORMULAS.setdefault(_k, _pointwise(_v))
for _k in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
    FORMULAS[_k] = _reduce

#: ops that only move, view, create or copy data: no arithmetic
ZERO = {
    "Reshape", "Transpose", "Concat", "Gather", "GatherElements", "GatherND", "Slice", "Squeeze", "Unsqueeze",
    "Shape", "Size", "Constant", "ConstantOfShape", "Identity", "Cast", "CastLike", "Flatten", "Dropout", "Pad",
    "Expand", "Tile", "Split", "Range", "DepthToSpace", "SpaceToDepth", "ScatterND", "ScatterElements", "Scatter",
    "NonZero", "OneHot", "Trilu", "EyeLike", "ArgMax", "ArgMin", "TopK", "CumSum", "ReverseSequence", "Compress",
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Bernoulli", "Not", "And", "Or",
    "Xor", "IsNaN", "IsInf", "Optional", "OptionalGetElement", "OptionalHasElement",
}


def counted(n) -> LayerOut | None:
    """The op layer's answer for a node, or None when the op has no formula (listed as uncounted)."""
    fn = FORMULAS.get(n.key)
    if fn is not None:
        return fn(n)
    if n.key in ZERO:
        return ZERO_OUT
    return None


def begin_end_pads(n, spatial, k, s, d):
    """(begin, end) pads per spatial dim of a window node, auto_pad resolved (LpPool, which has no op)."""
    word = _padding(n, len(spatial))
    if word == "valid":
        return [(0, 0)] * len(spatial)
    if isinstance(word, str):
        return [same_padding(L, k_, s_, d_, lower=word == "same_lower") for L, k_, s_, d_ in zip(spatial, k, s, d)]
    return list(word)
