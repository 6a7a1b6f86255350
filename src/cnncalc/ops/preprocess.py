"""Preprocessing layers found inside Keras models: Rescaling and Normalization."""
from __future__ import annotations

from math import prod

from ..formulas import Step
from .base import Ctx
from .registry import LayerOut, Param, register


@register("rescaling", params=(Param("scale", 1.0), Param("offset", 0.0)), family="activation")
def rescaling(ctx: Ctx, x, a):
    """x * scale + offset: 2 FLOPs per element, no parameters."""
    n = prod(x)
    return LayerOut(tuple(x), flops=2 * n, steps=(Step("flops", f"{n:,} elements * 2", 2 * n, "multiply, add"),))


@register("normalization", params=(Param("axis", -1), Param("mean", None), Param("variance", None),
                                   Param("invert", False)), family="norm")
def normalization(ctx: Ctx, x, a):
    """(x - mean) / sqrt(variance): Keras keeps mean, variance (one per feature on `axis`) and a count as
    non-trainable weights: 2C + 1."""
    axes = a.axis if isinstance(a.axis, (tuple, list)) else (a.axis,)
    if any(not isinstance(ax, int) or not -len(x) <= ax < len(x) for ax in axes):
        ctx.fail(f"axis {a.axis!r} is not an axis of {x}", "axis")
    c = prod(x[ax] for ax in axes)
    params = 2 * c + 1
    n = prod(x)
    return LayerOut(tuple(x), params=params, non_trainable=params, flops=2 * n,
                    steps=(Step("params", f"2*{c} + 1", params, "mean, variance and count (non-trainable)"),
                           Step("flops", f"{n:,} elements * 2", 2 * n, "subtract, multiply by 1/std")))
