"""Sliding blocks: ``unfold`` (im2col, ``nn.Unfold``) and ``fold`` (col2im, ``nn.Fold``, ONNX ``Col2Im``).

``unfold`` turns (N, C, *spatial) into (N, C*prod(k), L) -- every k-window as a column, L windows;
``fold`` does the inverse, summing overlapping blocks: (N, C*prod(k), L) -> (N, C, *output_size).  L is the
number of windows, per spatial dim ``floor((size + 2*p - d*(k-1) - 1)/s) + 1``, the convolution's formula.
"""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import DIM_NAMES, Ctx, fmt_shape
from .registry import NONE, LayerOut, Param, register

_PARAMS = (Param("kernel_size", aliases=("kernel", "block_shape")), Param("dilation", 1, ("dilations",)),
           Param("padding", 0, ("pads",)), Param("stride", 1, ("strides",)))


def _blocks(ctx: Ctx, a, sizes, n: int):
    """Windows per dim and their steps, as a convolution counts them."""
    k = ctx.ints(a, "kernel_size", n)
    d = ctx.ints(a, "dilation", n)
    s = ctx.ints(a, "stride", n)
    pads = ctx.explicit_pads(a, "padding", n)
    steps, counts = [], []
    for dim, L, k_, d_, s_, (pb, pa) in zip(DIM_NAMES.get(n, tuple(f"d{i}" for i in range(n))), sizes, k, d, s,
                                            pads):
        v = (L + pb + pa - d_ * (k_ - 1) - 1) // s_ + 1
        if v < 1:
            ctx.fail(Msg("err.op.kernel_dilation_larger_than_padded", k=k_, d=d_, L=L, pb=pb, pa=pa, dim=dim),
                     "kernel_size")
        steps.append(Step(f"blocks_{dim}", f"floor(({L} + {pb} + {pa} - {d_}*({k_}-1) - 1)/{s_}) + 1", v))
        counts.append(v)
    return k, counts, steps


@register("fold", "col2im", params=(Param("output_size", aliases=("image_shape", "size")),) + _PARAMS,
          family="shape")
def fold(ctx: Ctx, x, a):
    """col2im: (N, C*prod(k), L) -> (N, C, *output_size), overlapping blocks summed: one add per input value."""
    if len(x) != 3:
        ctx.fail(Msg("err.op.fold_needs_batch_channels_prod", x=fmt_shape(x)))
    size = a.output_size
    sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    n = len(sizes) if len(sizes) > 1 else (len(a.kernel_size) if isinstance(a.kernel_size, (tuple, list)) else 2)
    sizes = ctx.ints(a, "output_size", n)
    k, counts, steps = _blocks(ctx, a, sizes, n)
    N, CK, L = x
    K = prod(k)
    if CK % K:
        ctx.fail(Msg("err.op.fold_input_s_channels_are", CK=CK, K=K, k=fmt_shape(k)), "kernel_size")
    if L != prod(counts):
        ctx.fail(Msg("err.op.fold_input_has_blocks_but", L=L, sizes=fmt_shape(sizes), k=fmt_shape(k), p=' * '.join(map(str, counts)), counts=prod(counts)), "output_size")
    C = CK // K
    adds = N * CK * L
    steps += [Step("channels", f"{CK}/{K}", C, Msg("op.input_channels_kernel_positions")),
              Step("adds", Msg("op.input_values", N=N, CK=CK, L=L), adds, Msg("op.each_added_into_output_position")),
              Step("flops", "adds", adds)]
    return LayerOut((N, C) + tuple(sizes), adds=adds, flops=adds, steps=tuple(steps), rf=NONE)


@register("unfold", "im2col", params=_PARAMS, family="shape")
def unfold(ctx: Ctx, x, a):
    """im2col: (N, C, *spatial) -> (N, C*prod(k), L), every window a column; data movement, no arithmetic."""
    N, C, spatial = ctx.split(x, None)
    k, counts, steps = _blocks(ctx, a, spatial, len(spatial))
    K = prod(k)
    steps += [Step("channels", f"{C}*{K}", C * K), Step("blocks", " * ".join(map(str, counts)), prod(counts))]
    return LayerOut((N, C * K, prod(counts)), steps=tuple(steps), rf=NONE)
