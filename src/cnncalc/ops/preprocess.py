"""Preprocessing layers found inside Keras models: Rescaling and Normalization."""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx
from .registry import LayerOut, Param, register


@register("rescaling", params=(Param("scale", 1.0), Param("offset", 0.0)), family="activation")
def rescaling(ctx: Ctx, x, a):
    """x * scale + offset: 2 FLOPs per element, no parameters."""
    n = prod(x)
    return LayerOut(tuple(x), flops=2 * n, steps=(Step("flops", f"{n:,} elements * 2", 2 * n, Msg("op.multiply_add")),))


@register("normalization", params=(Param("axis", -1), Param("mean", None), Param("variance", None),
                                   Param("invert", False)), family="norm")
def normalization(ctx: Ctx, x, a):
    """(x - mean) / sqrt(variance): Keras keeps mean, variance (one per feature on `axis`) and a count as
    non-trainable weights: 2C + 1 -- none when mean and variance are given as constants."""
    axes = a.axis if isinstance(a.axis, (tuple, list)) else (a.axis,)
    if any(not isinstance(ax, int) or isinstance(ax, bool) or not -len(x) <= ax < len(x) for ax in axes):
        ctx.fail(Msg("err.op.axis_not_axis", axis=repr(a.axis), x=x), "axis")
    c = prod(x[ax] for ax in axes)
    n = prod(x)
    if a.mean is not None and a.variance is not None:
        params, how = 0, ("", Msg("op.mean_variance_given_as_constants"))
    else:
        params, how = 2 * c + 1, (f"2*{c} + 1", Msg("op.mean_variance_count_non_trainable"))
    return LayerOut(tuple(x), params=params, non_trainable=params, flops=2 * n,
                    steps=(Step("params", how[0], params, how[1]),
                           Step("flops", f"{n:,} elements * 2", 2 * n, Msg("op.subtract_multiply_by_std"))))
