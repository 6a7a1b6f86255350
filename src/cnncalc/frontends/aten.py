"""aten operators translated into the op layer (``ops/``): the torch front-end carries no arithmetic of its own.

Each entry of :data:`FORMULAS` takes an aten call -- ``(args, kwargs, out)`` with meta tensors, shapes only --
and names the op kind and arguments it is (``convolution`` -> ``conv2d(filters=..., kernel_size=..., ...)``,
``addmm`` -> ``matmul(bias=True)``, ``native_batch_norm`` -> ``batchnorm``, ...).  The op layer answers with
the output shape, MACs / mults / adds / FLOPs and the worked explanation, exactly as for a layer of the text
spec.  Ops that move data without arithmetic are in :data:`ZERO`; any other op is reported as uncounted, never
as zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..ops import apply
from ..ops.pointwise import POINTWISE, pointwise, reduction
from ..formulas import Step
from ..i18n import Msg
from ..ops.registry import LayerOut


@dataclass
class Cost:
    macs: int = 0
    mults: int = 0
    adds: int = 0
    flops: int = 0

    def __iadd__(self, o):
        self.macs += o.macs
        self.mults += o.mults
        self.adds += o.adds
        self.flops += o.flops
        return self


FORMULAS: dict = {}


def register(*names):
    def deco(fn):
        for n in names:
            FORMULAS[n] = fn
        return fn
    return deco


def _shape(t):
    return tuple(t.shape)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _run(kind, inputs, **args) -> LayerOut:
    return apply.run(kind, inputs, convention="pytorch", **args)


def _ints(v, nd):
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    return tuple(v * nd if len(v) == 1 else v)


@register("mm")
def _mm(args, kwargs, out):
    return _run("matmul", [_shape(args[0]), _shape(args[1])])


@register("addmm")
def _addmm(args, kwargs, out):
    return _run("matmul", [_shape(args[1]), _shape(args[2])], bias=True)


@register("bmm")
def _bmm(args, kwargs, out):
    return _run("matmul", [_shape(args[0]), _shape(args[1])])


@register("baddbmm")
def _baddbmm(args, kwargs, out):
    return _run("matmul", [_shape(args[1]), _shape(args[2])], bias=True)


@register("convolution", "_convolution")
def _conv(args, kwargs, out):
    x, w, bias = args[0], args[1], args[2]
    stride, padding, dilation = args[3], args[4], args[5]
    transposed = bool(args[6]) if len(args) > 6 else False
    output_padding = args[7] if len(args) > 7 else 0
    groups = args[8] if len(args) > 8 else 1
    nd = w.dim() - 2
    k = tuple(w.shape[2:])
    common = dict(kernel_size=k, stride=_ints(stride, nd), padding=_ints(padding, nd), dilation=_ints(dilation, nd),
                  groups=groups, bias=bias is not None)
    if not transposed:
        return _run(f"conv{nd}d", _shape(x), filters=w.shape[0], **common)
    return _run(f"convtranspose{nd}d", _shape(x), filters=w.shape[1] * groups,
                output_padding=_ints(output_padding, nd), **common)


@register("_grouped_mm")
def _grouped_mm(args, kwargs, out):
    """Mixture-of-experts: each row of a (tokens, k) matrix meets one expert's (k, n) weight (2-d x 3-d with
    offsets), or a batch of products (3-d x 3-d): MACs = output elements x k."""
    o = _shape(_first(out))
    k = _shape(args[0])[-1]
    return _run("matmul", [(prod(o) // o[-1], k), (k, o[-1])])


@register("grid_sampler_2d", "grid_sampler_3d")
def _grid_sampler(args, kwargs, out):
    """Sampling at arbitrary points: bilinear (mode 0) weighs 4 neighbours (2-d) or 8 (3-d), nearest copies."""
    mode = args[2] if len(args) > 2 else 0
    taps = 4 if _shape(args[0]).__len__() == 4 else 8
    per = 0 if mode == 1 else (2 * taps - 1 if mode == 0 else 31)
    return pointwise(Msg("fe.torch.grid_sampling", p=['bilinear', 'nearest', 'bicubic'][mode] if mode in (0, 1, 2) else mode),
                     prod(_shape(_first(out))), per=per)


@register("roi_align")
def _roi_align(args, kwargs, out):
    """torchvision's RoIAlign: each output value averages s_h x s_w bilinear samples of one channel (4 weighted
    taps each: 4 multiplies, 4 adds), then one divide: 8 x samples + 1 FLOPs, no multiply-accumulates.  With
    sampling_ratio <= 0 the samples per bin follow each box's size (ceil(box height / pooled height) as the
    kernel): known from real boxes only."""
    x, rois, scale, ph, pw, ratio = args[:6]
    aligned = bool(args[6]) if len(args) > 6 else False
    channels = _shape(x)[1]
    if ratio > 0:
        samples = rois.shape[0] * ratio * ratio
    elif rois.device.type == "meta":
        return None
    else:
        from math import ceil
        samples = 0
        for box in rois.tolist():
            h = (box[4] - box[2]) * scale
            w = (box[3] - box[1]) * scale
            h, w = (h, w) if aligned else (max(h, 1.0), max(w, 1.0))
            samples += max(ceil(h / ph), 0) * max(ceil(w / pw), 0)
    outputs = prod(_shape(_first(out)))
    flops = 8 * samples * channels * ph * pw + outputs
    return LayerOut((), flops=flops, steps=(Step(
        "flops", Msg("fe.torch.samples_all_boxes_channels_bins", samples=samples, channels=channels, ph=ph, pw=pw, outputs=outputs),
        flops, Msg("fe.torch.roi_align_bilinear_taps_multiplies")),),
        call=("roi_align", "pointwise", {}))


@register("index_add")
def _index_add(args, kwargs, out):
    """self.index_add_(dim, index, source): one add per element of source (mixture-of-experts outputs summed)."""
    return pointwise("add", prod(_shape(args[3])))


@register("_weight_norm_interface")
def _weight_norm(args, kwargs, out):
    """w = g * v / ||v||: square, sum, sqrt and divide per norm group, multiply per element: 3 per element."""
    return pointwise(Msg("fe.torch.weight_norm"), prod(_shape(args[0])), per=3)


@register("col2im")
def _col2im(args, kwargs, out):
    x, size, k, d, p, s = args[:6]
    return _run("fold", _shape(x), output_size=tuple(size), kernel_size=tuple(k), dilation=tuple(d),
                padding=tuple(p), stride=tuple(s))


@register("_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
          "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_flash_attention_for_cpu",
          "_scaled_dot_product_fused_attention_overrideable")
def _sdpa(args, kwargs, out):
    return _run("scaled_dot_product_attention", [_shape(args[0]), _shape(args[1]), _shape(args[2])])


#: aten pointwise op -> the op layer's pointwise name (None: no arithmetic worth a FLOP)
POINTWISE_ATEN = {
    **{n: n for n in ("add", "sub", "mul", "div", "neg", "abs", "sign", "reciprocal", "exp", "log", "sqrt",
                      "rsqrt", "pow", "sin", "cos", "erf", "tanh", "maximum", "minimum", "where", "clamp_min",
                      "clamp_max", "clamp", "addcmul", "addcdiv", "relu", "hardtanh", "elu", "selu", "gelu",
                      "sigmoid", "silu", "hardswish", "hardsigmoid", "softplus", "mish", "prelu")},
    "rsub": "sub", "leaky_relu": "leakyrelu", "_prelu_kernel": "prelu", "log_sigmoid_forward": "log_sigmoid",
    "eq": "compare", "ne": "compare", "lt": "compare", "le": "compare", "gt": "compare", "ge": "compare",
    "floor": "floor", "ceil": "ceil", "round": "round", "trunc": "round", "log2": "log", "log10": "log",
    "log1p": "log", "expm1": "exp",
}


def _pointwise(name):
    def cost(args, kwargs, out):
        return pointwise(name, prod(_shape(_first(out))))
    return cost


for _aten, _name in POINTWISE_ATEN.items():
    assert _name in POINTWISE, _name
    FORMULAS[_aten] = _pointwise(_name)
FORMULAS["silu_backward"] = lambda args, kwargs, out: LayerOut(())


@register("_softmax", "_safe_softmax")
def _softmax(args, kwargs, out):
    return _run("softmax", _shape(args[0]), axis=args[1])


@register("_log_softmax")
def _log_softmax(args, kwargs, out):
    return _run("logsoftmax", _shape(args[0]), axis=args[1])


@register("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
          "_native_batch_norm_legit_functional", "cudnn_batch_norm", "miopen_batch_norm")
def _batch_norm(args, kwargs, out):
    x, w = args[0], args[1]
    tracked = len(args) > 3 and args[3] is not None and hasattr(args[3], "shape")
    return _run("batchnorm", _shape(x), affine=w is not None, track_running_stats=tracked)


@register("native_layer_norm")
def _layer_norm(args, kwargs, out):
    x, ns = args[0], tuple(args[1])
    w = args[2] if len(args) > 2 else None
    b = args[3] if len(args) > 3 else None
    return _run("layernorm", _shape(x), normalized_shape=ns, elementwise_affine=w is not None,
                bias=b is not None)


@register("native_group_norm")
def _group_norm(args, kwargs, out):
    return _run("groupnorm", _shape(args[0]), num_groups=args[6], affine=args[1] is not None)


@register("max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
          "max_pool1d_with_indices")
def _max_pool(args, kwargs, out):
    nd = args[0].dim() - 2
    k = _ints(args[1], nd)
    s = _ints(args[2], nd) if len(args) > 2 and args[2] not in ([], (), None) else k
    p = _ints(args[3], nd) if len(args) > 3 else (0,) * nd
    d = _ints(args[4], nd) if len(args) > 4 else (1,) * nd
    ceil = bool(args[5]) if len(args) > 5 else False
    return _run(f"maxpool{nd}d", _shape(args[0]), kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)


@register("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(args, kwargs, out):
    nd = args[0].dim() - 2
    k = _ints(args[1], nd)
    s = _ints(args[2], nd) if len(args) > 2 and args[2] not in ([], (), None) else k
    p = _ints(args[3], nd) if len(args) > 3 else (0,) * nd
    ceil = bool(args[4]) if len(args) > 4 else False
    return _run(f"avgpool{nd}d", _shape(args[0]), kernel_size=k, stride=s, padding=p, ceil_mode=ceil)


def _adaptive(mode):
    def cost(args, kwargs, out):
        x, o = args[0], _first(out)
        return _run(f"adaptive{mode}pool{x.dim() - 2}d", _shape(x), output_size=_shape(o)[2:])
    return cost


for _n in ("_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d"):
    FORMULAS[_n] = _adaptive("avg")
for _n in ("adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d"):
    FORMULAS[_n] = _adaptive("max")


@register("mean", "sum", "amax", "amin", "max", "min", "var", "std", "logsumexp", "norm", "linalg_vector_norm",
          "aminmax")
def _reduce(args, kwargs, out):
    return reduction("reduce", prod(_shape(args[0])))


_UPSAMPLE = {"upsample_nearest1d": 0, "upsample_nearest2d": 0, "upsample_nearest3d": 0, "_upsample_nearest_exact2d": 0,
             "_upsample_nearest_exact1d": 0, "_upsample_nearest_exact3d": 0,
             "upsample_linear1d": 3, "upsample_bilinear2d": 7, "upsample_trilinear3d": 15, "upsample_bicubic2d": 31,
             "_upsample_bilinear2d_aa": 7, "_upsample_bicubic2d_aa": 31}


def _upsample(name, per):
    def cost(args, kwargs, out):
        return pointwise(name, prod(_shape(_first(out))), per=per)
    return cost


for _name, _per in _UPSAMPLE.items():
    FORMULAS[_name] = _upsample(_name, _per)

#: ops that only move, view, create or copy data: no arithmetic
ZERO = {
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand", "expand_as",
    "clone", "contiguous", "cat", "stack", "slice", "select", "unbind", "split", "split_with_sizes",
    "unsafe_split", "unsafe_split_with_sizes", "chunk", "squeeze", "unsqueeze", "flatten", "detach", "alias",
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "fill",
    "arange", "copy", "_to_copy", "to", "lift_fresh", "lift_fresh_copy", "embedding", "constant_pad_nd", "pad",
    "index_select", "gather", "narrow", "new_empty", "new_zeros", "new_ones", "new_full", "as_strided", "repeat",
    "roll", "flip", "bernoulli", "rand", "rand_like", "randn", "randn_like", "scalar_tensor", "masked_fill",
    "index", "index_put", "scatter", "_local_scalar_dense", "set", "resize", "diagonal", "tril", "triu",
    "reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
    "replication_pad3d", "native_dropout", "dropout", "channel_shuffle", "pixel_shuffle", "pixel_unshuffle",
    "unfold", "im2col", "_unsafe_index", "bitwise_not", "logical_not", "any", "all", "argmax", "argmin", "sort",
    "topk", "cumsum", "one_hot", "_assert_tensor_metadata", "sym_size", "sym_stride", "sym_numel", "item",
    "_has_compatible_shallow_copy_type", "is_same_size", "view_as", "split_copy", "unbind_copy", "t_copy",
    "transpose_copy", "_pin_memory", "record_stream", "zero", "masked_select", "nonzero",
    # shapes, indices and integer bookkeeping: no floating-point work
    "linspace", "eye", "_assert_async", "floor_divide", "remainder", "bitwise_and", "bitwise_or", "histc",
    "_assert_scalar", "sym_constrain_range_for_size", "logical_and", "logical_or", "fmod",
    "_unique", "_unique2", "unique_dim", "unique_consecutive", "unique_dim_consecutive", "argsort", "msort",
}


def op_name(func) -> str:
    """aten.add_.Tensor -> 'add' (in-place variants cost the same)."""
    name = func.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.startswith("_") or (name.endswith("_") and
                                                                           name[:-1] in FORMULAS) else name


_CACHE: dict = {}
_CACHE_MAX = 4096
#: ops whose cost depends on their operands' values (RoIAlign with adaptive sampling: the boxes' sizes)
VALUE_DEPENDENT = {"roi_align"}


def _key(v):
    """A hashable summary of an aten argument: tensors by shape and dtype, lists as tuples."""
    shape = getattr(v, "shape", None)
    if shape is not None:
        return ("T", tuple(shape), str(getattr(v, "dtype", "")))
    if isinstance(v, (list, tuple)):
        return tuple(_key(i) for i in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _key(x)) for k, x in v.items()))
    hash(v)
    return v


def counted(name: str, args, kwargs, out) -> LayerOut | None:
    """The op layer's answer for an aten call, or None when the op is not known (it is then listed as
    uncounted).  An op without arithmetic answers an empty LayerOut.  Calls are answered from a cache keyed
    by the operands' shapes and the other arguments: a network repeats the same calls block after block."""
    fn = FORMULAS.get(name)
    if fn is None:
        return ZERO_OUT if name in ZERO else None
    if name in VALUE_DEPENDENT:                      # its cost reads the operands' values: never cached
        return fn(args, kwargs, out)
    try:
        key = (name, _key(args), _key(kwargs), _key(out))
    except TypeError:                                # an unhashable argument: compute it afresh
        return fn(args, kwargs, out)
    r = _CACHE.get(key)
    if r is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        r = _CACHE[key] = fn(args, kwargs, out)
    return r


ZERO_OUT = LayerOut(())


def cost_of(name: str, args, kwargs, out):
    """A Cost, or None when the op is not known."""
    r = counted(name, args, kwargs, out)
    return None if r is None else Cost(r.macs, r.mults, r.adds, r.flops)
