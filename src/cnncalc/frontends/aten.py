"""Costs of aten operators: one small formula per op, registered in a table (as torch.utils.flop_counter does).

Each formula takes (args, kwargs, out) -- shapes only, the tensors are meta -- and returns a Cost.  Ops that
move data without arithmetic are listed in ZERO; any other op is reported as uncounted, never as zero.
The elementwise FLOP table is the one the text spec uses (ops/activation.py, docs/definitions.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..ops.activation import ACTIVATION_FLOPS
from ..ops.norm import AFFINE_FLOPS_PER_ELEMENT, NORM_FLOPS_PER_ELEMENT, NORM_FLOPS_PER_GROUP
from ..ops.pool import adaptive_bins


@dataclass
class Cost:
    macs: int = 0
    mults: int = 0
    adds: int = 0
    flops: int = 0

    def __iadd__(self, o: "Cost"):
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


def _numel(t) -> int:
    return prod(t.shape)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _mac_cost(macs: int, outputs: int, k: int, bias: bool) -> Cost:
    adds = outputs * (k - 1) + (outputs if bias else 0)
    return Cost(macs, macs, adds, macs + adds)


@register("mm")
def _mm(args, kwargs, out):
    (m, k), (_, n) = _shape(args[0]), _shape(args[1])
    return _mac_cost(m * n * k, m * n, k, False)


@register("addmm")
def _addmm(args, kwargs, out):
    (m, k), (_, n) = _shape(args[1]), _shape(args[2])
    return _mac_cost(m * n * k, m * n, k, True)


@register("bmm")
def _bmm(args, kwargs, out):
    (b, m, k), (_, _, n) = _shape(args[0]), _shape(args[1])
    return _mac_cost(b * m * n * k, b * m * n, k, False)


@register("baddbmm")
def _baddbmm(args, kwargs, out):
    (b, m, k), (_, _, n) = _shape(args[1]), _shape(args[2])
    return _mac_cost(b * m * n * k, b * m * n, k, True)


@register("convolution", "_convolution")
def _conv(args, kwargs, out):
    x, w, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else False
    ks = _shape(w)[2:]
    kprod = prod(ks)
    o = _first(out)
    if not transposed:
        k = _shape(w)[1] * kprod                       # C_in/groups * prod(kernel)
        return _mac_cost(_numel(o) * k, _numel(o), k, bias is not None)
    macs = _numel(x) * _shape(w)[1] * kprod          # every input value meets C_out/groups * prod(k) weights
    outputs = _numel(o)
    adds = macs - outputs + (outputs if bias is not None else 0)
    return Cost(macs, macs, adds, macs + adds)


@register("_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
          "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_flash_attention_for_cpu",
          "_scaled_dot_product_fused_attention_overrideable")
def _sdpa(args, kwargs, out):
    q, k, v = args[0], args[1], args[2]
    *b, L, E = _shape(q)
    S, Ev = _shape(k)[-2], _shape(v)[-1]
    bh = prod(b)
    macs = bh * L * S * (E + Ev)
    soft = bh * L * (5 * S - 2)
    adds = bh * L * S * (E - 1) + bh * L * Ev * (S - 1)
    return Cost(macs, macs, adds, macs + adds + soft)


def _elementwise(per: int):
    def cost(args, kwargs, out):
        return Cost(flops=_numel(_first(out)) * per)
    return cost


ELEMENTWISE = {
    "add": 1, "sub": 1, "rsub": 1, "mul": 1, "div": 1, "neg": 1, "abs": 1, "sign": 1, "reciprocal": 1,
    "exp": 1, "log": 1, "sqrt": 1, "rsqrt": 1, "pow": 1, "sin": 1, "cos": 1, "erf": 1, "tanh": 1,
    "maximum": 1, "minimum": 1, "where": 1, "clamp_min": 1, "clamp_max": 1, "clamp": 2, "addcmul": 2, "addcdiv": 2,
    "relu": 1, "hardtanh": 2, "leaky_relu": 2, "elu": 4, "selu": 5, "gelu": 5, "sigmoid": 4, "silu": 5,
    "hardswish": 5, "hardsigmoid": 4, "softplus": 3, "mish": 5, "_prelu_kernel": 2, "prelu": 2, "eq": 1, "ne": 1,
    "lt": 1, "le": 1, "gt": 1, "ge": 1, "log_sigmoid_forward": 4, "silu_backward": 0,
}
assert ELEMENTWISE["sigmoid"] == ACTIVATION_FLOPS["sigmoid"][0] and ELEMENTWISE["gelu"] == ACTIVATION_FLOPS["gelu"][0]
for _name, _per in ELEMENTWISE.items():
    FORMULAS.setdefault(_name, _elementwise(_per))


@register("_softmax", "_safe_softmax")
def _softmax(args, kwargs, out):
    x, dim = args[0], args[1]
    n = _shape(x)[dim]
    return Cost(flops=_numel(x) // n * (5 * n - 2))


@register("_log_softmax")
def _log_softmax(args, kwargs, out):
    x, dim = args[0], args[1]
    n = _shape(x)[dim]
    return Cost(flops=_numel(x) // n * (5 * n - 1))


@register("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
          "_native_batch_norm_legit_functional", "cudnn_batch_norm", "miopen_batch_norm")
def _batch_norm(args, kwargs, out):
    return Cost(flops=2 * _numel(args[0]))


@register("native_layer_norm")
def _layer_norm(args, kwargs, out):
    x, ns, w = args[0], args[1], args[2] if len(args) > 2 else None
    n = _numel(x)
    groups = n // prod(ns)
    return Cost(flops=n * (NORM_FLOPS_PER_ELEMENT + (AFFINE_FLOPS_PER_ELEMENT if w is not None else 0))
                + groups * NORM_FLOPS_PER_GROUP)


@register("native_group_norm")
def _group_norm(args, kwargs, out):
    x, w, N, G = args[0], args[1], args[3], args[6]
    n = _numel(x)
    return Cost(flops=n * (NORM_FLOPS_PER_ELEMENT + (AFFINE_FLOPS_PER_ELEMENT if w is not None else 0))
                + N * G * NORM_FLOPS_PER_GROUP)


def _window(args, idx=1):
    k = args[idx]
    return prod(k) if isinstance(k, (list, tuple)) else k


@register("max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
          "max_pool1d_with_indices")
def _max_pool(args, kwargs, out):
    o = _first(out)
    nd = len(_shape(args[0])) - 2
    k = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
    k = list(k) * nd if len(k) == 1 else k
    return Cost(flops=_numel(o) * (prod(k) - 1))


@register("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(args, kwargs, out):
    nd = len(_shape(args[0])) - 2
    k = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
    k = list(k) * nd if len(k) == 1 else k
    return Cost(flops=_numel(_first(out)) * prod(k))


@register("_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool2d",
          "adaptive_max_pool3d", "adaptive_max_pool1d")
def _adaptive(args, kwargs, out, _max=None):
    x = args[0]
    o = _first(out)
    sp_in, sp_out = _shape(x)[2:], _shape(o)[2:]
    elems = prod(sum(e - b for b, e in adaptive_bins(L, n)) for L, n in zip(sp_in, sp_out))
    nc = prod(_shape(x)[:2])
    return Cost(flops=nc * elems)


@register("mean", "sum", "amax", "amin", "max", "min", "var", "std", "logsumexp", "norm", "linalg_vector_norm")
def _reduce(args, kwargs, out):
    return Cost(flops=_numel(args[0]))


_UPSAMPLE = {"upsample_nearest1d": 0, "upsample_nearest2d": 0, "upsample_nearest3d": 0, "_upsample_nearest_exact2d": 0,
             "_upsample_nearest_exact1d": 0, "_upsample_nearest_exact3d": 0,
             "upsample_linear1d": 3, "upsample_bilinear2d": 7, "upsample_trilinear3d": 15, "upsample_bicubic2d": 31,
             "_upsample_bilinear2d_aa": 7, "_upsample_bicubic2d_aa": 31}
for _name, _per in _UPSAMPLE.items():
    FORMULAS[_name] = _elementwise(_per)

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
}


def op_name(func) -> str:
    """aten.add_.Tensor -> 'add' (in-place variants cost the same)."""
    name = func.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.startswith("_") or (name.endswith("_") and
                                                                           name[:-1] in FORMULAS) else name


def cost_of(name: str, args, kwargs, out):
    """A Cost, or None when the op is not known (it is then listed as uncounted)."""
    fn = FORMULAS.get(name)
    if fn is not None:
        return fn(args, kwargs, out)
    if name in ZERO:
        return Cost()
    return None
