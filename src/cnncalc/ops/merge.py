"""Layers with several inputs (merges) and channel slicing.

Merge functions take ``(ctx, shapes, a)`` with one shape per input; ``ctx.input_names``
names the inputs for error messages.  Elementwise merges broadcast like NumPy
(a squeeze-excitation gate (N, C, 1, 1) times (N, C, H, W)).
"""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx, fmt_shape
from .registry import KEEP, RF, LayerOut, Param, register

MERGE_RF = RF("merge")


def _names(ctx: Ctx, i: int) -> str:
    names = getattr(ctx, "input_names", None) or []
    return f"'{names[i]}'" if i < len(names) else f"input {i + 1}"


def broadcast(ctx: Ctx, shapes) -> tuple:
    rank = max(len(s) for s in shapes)
    out = []
    for d in range(rank):
        sizes = {s[d - rank + len(s)] for s in shapes if d - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            desc = ", ".join(f"{_names(ctx, i)} {fmt_shape(s)}" for i, s in enumerate(shapes))
            ctx.fail(Msg("err.merge_shapes", kind=ctx.op.kind, desc=desc))
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


ELEMENTWISE = {
    "add": ("sum", lambda k: k - 1, ("sum", "residual")),
    "subtract": ("difference", lambda k: k - 1, ("sub",)),
    "multiply": ("product", lambda k: k - 1, ("mul", "mult")),
    "average": ("mean", lambda k: k, ("avg", "mean")),
    "maximum": ("maximum", lambda k: k - 1, ("max",)),
    "minimum": ("minimum", lambda k: k - 1, ("min",)),
}


def make_elementwise(kind: str, what: str, per):
    def merge(ctx: Ctx, shapes, a):
        if len(shapes) < 2:
            ctx.fail(Msg("err.op.needs_least_two_inputs", kind=kind, shapes=len(shapes)))
        out = broadcast(ctx, shapes)
        n = prod(out)
        flops = n * per(len(shapes))
        return LayerOut(out, flops=flops, rf=MERGE_RF,
                        steps=lambda: (Step("flops", f"{n:,} elements * {per(len(shapes))}", flops,
                                            Msg("note.merge", what=Msg(f"word.{what}"), n=len(shapes))),))
    merge.__doc__ = f"Elementwise {what} of its inputs (NumPy broadcasting)."
    return merge


for _k, (_what, _per, _sp) in ELEMENTWISE.items():
    register(_k, *_sp, params=(), family="merge", inputs=-1, min_inputs=2)(make_elementwise(_k, _what, _per))


@register("scaleadd", "customscalelayer", "scaledadd", params=(Param("scale", 1.0),), family="merge", inputs=2,
          min_inputs=2)
def scaleadd(ctx: Ctx, shapes, a):
    """x[0] + x[1] * scale: a scaled residual sum (Keras InceptionResNetV2's CustomScaleLayer), 2 FLOPs per element.

    No parameters: the scale is a constant of the config."""
    if len(shapes) != 2:
        ctx.fail(Msg("err.op.scaleadd_takes_shortcut_branch_scale", shapes=len(shapes)))
    scale = ctx.float_(a, "scale")
    out = broadcast(ctx, shapes)
    n = prod(out)
    return LayerOut(out, flops=2 * n, rf=MERGE_RF,
                    steps=(Step("flops", f"{n:,} elements * 2", 2 * n,
                                Msg("op.x_x_one_multiply_one", scale=scale)),))


@register("concat", "concatenate", "cat", params=(Param("axis", None, ("dim",)),), family="merge", inputs=-1,
          min_inputs=2)
def concat(ctx: Ctx, shapes, a):
    """Join inputs along an axis (default: the channel axis of the convention)."""
    if len(shapes) < 2:
        ctx.fail(Msg("err.op.concat_needs_least_two_inputs", shapes=len(shapes)))
    rank = len(shapes[0])
    axis = ctx.channel_axis(rank) if a.axis is None else a.axis
    if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank or axis % rank == 0:
        ctx.fail(Msg("err.op.axis_not_non_batch_axis_2", axis=repr(axis), fmt_shape=fmt_shape(shapes[0])), "axis")
    axis %= rank
    for i, s in enumerate(shapes[1:], start=1):
        if len(s) != rank or any(s[d] != shapes[0][d] for d in range(rank) if d != axis):
            ctx.fail(Msg("err.op.concat_along_axis_differ_outside", axis=axis, ctx=_names(ctx, 0), fmt_shape=fmt_shape(shapes[0]), ctx2=_names(ctx, i), s=fmt_shape(s)))
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return LayerOut(tuple(out), rf=MERGE_RF,
                    steps=lambda: (Step(f"axis {axis}", " + ".join(str(s[axis]) for s in shapes), out[axis]),))


@register("crop", "centercrop", "cropto", params=(), family="merge", inputs=2, min_inputs=2)
def crop(ctx: Ctx, shapes, a):
    """Centre-crop the first input's spatial dims to the second's (U-Net's copy and crop)."""
    if len(shapes) != 2:
        ctx.fail(Msg("err.op.crop_takes_tensor_crop_tensor", shapes=len(shapes)))
    x, like = shapes
    N, C, sp = ctx.split(x, None)
    _, _, sp2 = ctx.split(like, None)
    if len(sp) != len(sp2) or any(b > a_ for a_, b in zip(sp, sp2)):
        ctx.fail(Msg("err.op.crop_cannot_crop_size", ctx=_names(ctx, 0), x=fmt_shape(x), ctx2=_names(ctx, 1), like=fmt_shape(like)))
    off = tuple((a_ - b) // 2 for a_, b in zip(sp, sp2))
    steps = tuple(Step(f"offset[{i}]", f"({a_} - {b})//2", o) for i, (a_, b, o) in enumerate(zip(sp, sp2, off)))
    return LayerOut(ctx.join(N, C, sp2), steps=steps, rf=RF("window", (1,) * len(sp), (1,) * len(sp),
                                                            tuple(-o for o in off)))


@register("slice", "narrow", params=(Param("start"), Param("stop"), Param("axis", None, ("dim",))), family="shape")
def slice_(ctx: Ctx, x, a):
    """Channels start..stop-1 (or another axis): a split branch."""
    rank = len(x)
    axis = ctx.channel_axis(rank) if a.axis is None else a.axis
    if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank or axis % rank == 0:
        ctx.fail(Msg("err.op.axis_not_non_batch_axis_3", axis=repr(axis), x=fmt_shape(x)), "axis")
    axis %= rank
    start = ctx.int_(a, "start", lo=0)
    stop = ctx.int_(a, "stop", lo=1)
    if not start < stop <= x[axis]:
        ctx.fail(Msg("err.op.slice_does_not_fit_axis", start=start, stop=stop, axis=axis, x=x[axis], x2=fmt_shape(x)), "stop")
    out = list(x)
    out[axis] = stop - start
    return LayerOut(tuple(out), rf=KEEP)
