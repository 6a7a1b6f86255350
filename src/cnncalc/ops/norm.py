"""Normalisation: batch, layer, group and instance norm, with each convention's parameter rule."""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx, fmt_shape
from .registry import LayerOut, Param, register

NORM_FLOPS_PER_ELEMENT = 5      # mean (add), variance (subtract, square, add), normalise (multiply)
NORM_FLOPS_PER_GROUP = 5        # two divides (mean, variance), add eps, sqrt, reciprocal
AFFINE_FLOPS_PER_ELEMENT = 2    # multiply by gamma, add beta


def make_batchnorm(n: int | None):
    def batchnorm(ctx: Ctx, x, a):
        r = len(x)
        if r < 2:
            ctx.fail(Msg("err.op.batchnorm_needs_batch_channels", x=fmt_shape(x)))
        if n is not None and r not in {1: (2, 3), 2: (4,), 3: (5,)}[n]:
            ctx.fail(Msg("err.op.expects_d_input_per_sample", kind=ctx.op.kind, p=n + 1, x=fmt_shape(x)))
        if a.axis is not None and (isinstance(a.axis, bool) or not isinstance(a.axis, int) or not -r <= a.axis < r):
            ctx.fail(Msg("err.op.axis_must_axis_input", x=fmt_shape(x), p=-r, p2=r - 1, axis=repr(a.axis)), "axis")
        axis = ctx.channel_axis(r) if a.axis is None else a.axis % r
        C = x[axis]
        ctx.check_declared(a, "num_features", C, lambda: Msg("err.num_features", given=a.num_features, c=C,
                                                                     axis=axis))
        center = ctx.bool_(a, "center") and ctx.bool_(a, "affine")
        scale = ctx.bool_(a, "scale") and ctx.bool_(a, "affine")
        track = ctx.bool_(a, "track_running_stats")
        style = ctx.conv.batchnorm
        buffers = int64 = non_trainable = 0
        affine = (1 if center else 0) + (1 if scale else 0)
        if style == "pytorch":
            params = affine * C
            if track:
                buffers, int64 = 2 * C + 1, 1      # running_mean, running_var; num_batches_tracked (int64)
        elif style == "caffe":
            params = affine * C + 2 * C + 1
            non_trainable = 2 * C + 1
        else:  # keras, onnx
            params = affine * C + 2 * C
            non_trainable = 2 * C
        elems = prod(x)
        flops = 2 * elems

        def explain():                                 # made when the explanation is read
            note = Msg("note.bn_pytorch", affine=affine, C=C, C2=2 * C) if style == "pytorch" else \
                Msg("note.bn_caffe", affine=affine, C=C) if style == "caffe" else \
                Msg("note.bn_keras", affine=affine, C=C)
            return (Step("params", "", params, note),
                    Step("flops", f"{elems:,} elements * 2", flops, Msg("note.bn_flops")))
        return LayerOut(tuple(x), params=params, non_trainable=non_trainable, buffers=buffers, int64_buffers=int64,
                        flops=flops, steps=explain)
    return batchnorm


_BN_PARAMS = (Param("num_features", None, ("channels",)), Param("eps", 1e-5, ("epsilon",)),
              Param("momentum", 0.1), Param("affine", True), Param("center", True), Param("scale", True),
              Param("track_running_stats", True), Param("axis", None))

register("batchnorm", "batchnormalization", "bn", params=_BN_PARAMS, family="norm")(make_batchnorm(None))
for _n in (1, 2, 3):
    register(f"batchnorm{_n}d", params=_BN_PARAMS, family="norm", ndim=_n)(make_batchnorm(_n))


def _norm_flops(elems: int, groups: int, affine: bool):
    return elems * (NORM_FLOPS_PER_ELEMENT + (AFFINE_FLOPS_PER_ELEMENT if affine else 0)) + groups * NORM_FLOPS_PER_GROUP


def _norm_step(elems, groups, affine, flops):
    return Step("flops", f"{elems:,} elements * {NORM_FLOPS_PER_ELEMENT + (2 if affine else 0)} + {groups:,} groups * "
                         f"{NORM_FLOPS_PER_GROUP}", flops, Msg("op.statistics_computed_inference")
                + (Msg("op.plus_gamma_beta") if affine else ""))


@register("layernorm", "layernormalization", "ln",
          params=(Param("normalized_shape", None, ("shape",)), Param("eps", 1e-5, ("epsilon",)),
                  Param("elementwise_affine", True, ("affine",)), Param("bias", True), Param("center", True),
                  Param("scale", True), Param("axis", None)),
          family="norm")
def layernorm(ctx: Ctx, x, a):
    """LayerNorm over the trailing dims (default: the last axis); params = 2 * prod(normalized_shape)."""
    if a.normalized_shape is not None:
        ns = a.normalized_shape if isinstance(a.normalized_shape, (tuple, list)) else (a.normalized_shape,)
        if tuple(x[len(x) - len(ns):]) != tuple(ns) or len(ns) >= len(x):
            ctx.fail(Msg("err.op.normalized_shape_does_not_match", ns=fmt_shape(ns), x=fmt_shape(x)),
                     "normalized_shape")
    elif a.axis is not None:
        axes = a.axis if isinstance(a.axis, (tuple, list)) else (a.axis,)
        if any(isinstance(ax, bool) or not isinstance(ax, int) or not -len(x) <= ax < len(x) for ax in axes):
            ctx.fail(Msg("err.op.axis_must_axes_input", x=fmt_shape(x), p=-len(x), p2=len(x) - 1, axis=repr(a.axis)),
                     "axis")
        ns = tuple(x[ax] for ax in axes)
    else:
        ns = (x[-1],)
    affine = ctx.bool_(a, "elementwise_affine")
    g = (1 if ctx.bool_(a, "scale") else 0) if affine else 0
    b = (1 if ctx.bool_(a, "bias") and ctx.bool_(a, "center") else 0) if affine else 0
    params = (g + b) * prod(ns)
    elems = prod(x)
    groups = elems // prod(ns)
    flops = _norm_flops(elems, groups, affine)
    return LayerOut(tuple(x), params=params, flops=flops,
                    steps=(Step("params", f"{g + b}*{prod(ns)}", params, Msg("op.gamma_shape", p=', beta' if b else '', ns=fmt_shape(ns))),
                           _norm_step(elems, groups, affine, flops)))


@register("groupnorm", "groupnormalization",
          params=(Param("num_groups", aliases=("groups",)), Param("num_channels", None, ("channels",)),
                  Param("eps", 1e-5, ("epsilon",)), Param("affine", True)),
          family="norm")
def groupnorm(ctx: Ctx, x, a):
    """GroupNorm: channels split into groups; params = 2C when affine."""
    if len(x) < 2:
        ctx.fail(Msg("err.op.groupnorm_needs_batch_channels", x=fmt_shape(x)))
    C = x[ctx.channel_axis(len(x))]
    G = ctx.int_(a, "num_groups")
    if a.num_channels is not None and a.num_channels != C:
        ctx.fail(Msg("err.op.num_channels_but_input_has", num_channels=a.num_channels, C=C), "num_channels")
    if C % G:
        ctx.fail(Msg("err.op.channels_must_divide_by_num", C=C, G=G), "num_groups")
    affine = ctx.bool_(a, "affine")
    params = 2 * C if affine else 0
    elems = prod(x)
    flops = _norm_flops(elems, x[0] * G, affine)
    return LayerOut(tuple(x), params=params, flops=flops,
                    steps=(Step("params", f"2*{C}" if affine else "0", params),
                           _norm_step(elems, x[0] * G, affine, flops)))


def make_instancenorm(n: int | None):
    def instancenorm(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        if a.num_features is not None and a.num_features != C:
            ctx.fail(Msg("err.op.num_features_but_input_has", num_features=a.num_features, C=C), "num_features")
        affine = ctx.conv.name == "keras" if a.affine is None else ctx.bool_(a, "affine")
        params = 2 * C if affine else 0
        track = ctx.bool_(a, "track_running_stats")
        elems = prod(x)
        flops = _norm_flops(elems, N * C, affine)
        return LayerOut(tuple(x), params=params, buffers=2 * C + 1 if track else 0, int64_buffers=1 if track else 0,
                        flops=flops, steps=(Step("params", f"2*{C}" if affine else "0", params,
                                                 "affine" if affine else Msg("op.pytorch_default_affine_false")),
                                            _norm_step(elems, N * C, affine, flops)))
    return instancenorm


_IN_PARAMS = (Param("num_features", None, ("channels",)), Param("eps", 1e-5, ("epsilon",)),
              Param("momentum", 0.1), Param("affine", None), Param("track_running_stats", False))
register("instancenorm", "instancenormalization", params=_IN_PARAMS, family="norm")(make_instancenorm(None))
for _n in (1, 2, 3):
    register(f"instancenorm{_n}d", params=_IN_PARAMS, family="norm", ndim=_n)(make_instancenorm(_n))


@register("layerscale", params=(Param("projection_dim", None, ("channels", "dim")), Param("init_values", 1e-6)),
          family="norm")
def layerscale(ctx: Ctx, x, a):
    """x * gamma, a learned scale per channel (ConvNeXt's LayerScale): C parameters, 1 FLOP per element.

    The channels are the last axis; projection_dim, when given, must be their number."""
    C = x[-1]
    if a.projection_dim is not None and ctx.int_(a, "projection_dim") != C:
        ctx.fail(Msg("err.op.projection_dim_not_last_axis", projection_dim=a.projection_dim, x=fmt_shape(x), C=C),
                 "projection_dim")
    n = prod(x)
    return LayerOut(tuple(x), params=C, flops=n,
                    steps=(Step("params", "", C, Msg("op.gamma_one_scale_per_channel")),
                           Step("flops", f"{n:,} elements * 1", n, Msg("op.one_multiply"))))
