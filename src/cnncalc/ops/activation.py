"""Activations: one factory for the elementwise family (FLOPs per element from ops/pointwise.py), plus PReLU
and Softmax."""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx, fmt_shape
from .pointwise import ACTIVATIONS, pointwise
from .registry import LayerOut, Param, register

#: other spellings of the activations (their FLOPs per element: ops/pointwise.py, shared by every front-end)
SPELLINGS = {"leakyrelu": ("leaky_relu", "lrelu"), "sigmoid": ("logistic",), "silu": ("swish",),
             "hardswish": ("hard_swish", "hswish", "hard_silu"), "hardsigmoid": ("hard_sigmoid",)}
#: name -> (flops per element, how, spellings)
ACTIVATION_FLOPS = {name: (per, how, SPELLINGS.get(name, ())) for name, (per, how) in ACTIVATIONS.items()}


def make_elementwise(name: str, per: int, how: str):
    def act(ctx: Ctx, x, a):
        out = pointwise(name, prod(x))
        return LayerOut(tuple(x), flops=out.flops, steps=lambda: out.steps)
    act.__doc__ = f"{name}: {per} FLOP(s) per element ({how})."
    return act


for _name, (_per, _how, _sp) in ACTIVATION_FLOPS.items():
    _params = (Param("negative_slope", 0.01, ("alpha", "slope")), Param("inplace", False)) \
        if _name == "leakyrelu" else (Param("alpha", 1.0), Param("inplace", False)) if _name == "elu" else \
        (Param("approximate", "none"),) if _name == "gelu" else (Param("inplace", False),)
    register(_name, *_sp, params=_params, family="activation")(make_elementwise(_name, _per, _how))


@register("prelu", params=(Param("num_parameters", None, ("num_params",)), Param("shared_axes", None),
                           Param("init", 0.25)),
          family="activation")
def prelu(ctx: Ctx, x, a):
    """PReLU: learnable slopes. PyTorch: num_parameters (1 or C); Keras: one per element unless shared_axes."""
    n = prod(x)
    if a.num_parameters is not None:
        k = ctx.int_(a, "num_parameters")
        c = x[ctx.channel_axis(len(x))] if len(x) > 1 else 1
        if k not in (1, c):
            ctx.fail(Msg("err.op.num_parameters_must_number_channels", c=c, k=k), "num_parameters")
        params, how = k, (Msg("op.one_slope_shared_by_all") if k == 1 else Msg("op.one_slope_per_channel", c=c))
    elif a.shared_axes is not None or ctx.conv.prelu_default == "full":
        shape = list(x[1:])
        axes = a.shared_axes if isinstance(a.shared_axes, (tuple, list)) else \
            (() if a.shared_axes is None else (a.shared_axes,))
        for ax in axes:
            if not isinstance(ax, int) or not 1 <= ax <= len(shape):
                ctx.fail(Msg("err.op.shared_axes_must_name_axes", shape=len(shape), x=fmt_shape(x), ax=repr(ax)),
                         "shared_axes")
            shape[ax - 1] = 1
        params = prod(shape)
        how = Msg("op.alpha_shape_keras_one_per", shape=fmt_shape(shape))
    else:
        params, how = 1, Msg("op.one_slope_pytorch_default_num")
    return LayerOut(tuple(x), params=params, flops=2 * n,
                    steps=(Step("params", "", params, how), Step("flops", f"{n:,} elements * 2", 2 * n,
                                                                 Msg("op.compare_multiply"))))


def _softmax(ctx: Ctx, x, a, log: bool = False):
    r = len(x)
    axis = ctx.channel_axis(r) if a.axis is None else a.axis
    if not isinstance(axis, int) or not -r <= axis < r or axis % r == 0:
        ctx.fail(Msg("err.op.axis_not_non_batch_axis", axis=repr(axis), x=fmt_shape(x)), "axis")
    n = x[axis]
    rows = prod(x) // n
    if log:
        flops = rows * (5 * n - 1)
        return LayerOut(tuple(x), flops=flops, steps=(
            Step("flops", f"{rows:,} rows * (5*{n} - 1)", flops,
                 Msg("op.per_row_n_compares_max")),))
    flops = rows * (5 * n - 2)
    return LayerOut(tuple(x), flops=flops, steps=(
        Step("flops", Msg("expr.softmax", rows=f"{rows:,}", n=n), flops, Msg("note.softmax")),))


@register("softmax", params=(Param("axis", None, ("dim",)),), family="activation")
def softmax(ctx: Ctx, x, a):
    """Softmax along an axis (default: the channel axis): 5n - 2 FLOPs per row of n."""
    return _softmax(ctx, x, a)


@register("logsoftmax", params=(Param("axis", None, ("dim",)),), family="activation")
def logsoftmax(ctx: Ctx, x, a):
    """log(softmax) along an axis (default: the channel axis): 5n - 1 FLOPs per row of n."""
    return _softmax(ctx, x, a, log=True)


@register("activation", params=(Param("activation", aliases=("fn", "function")),), family="activation")
def activation(ctx: Ctx, x, a):
    """Keras Activation('name'): the named activation."""
    from .registry import OPS, norm
    name = str(a.activation)
    op = OPS.get(norm(name))
    if op is None or op.family != "activation" or op.kind in ("activation", "prelu"):
        from ..errors import did_you_mean
        ctx.fail(Msg("err.op.unknown_activation", name=name, name2=did_you_mean(name, list(ACTIVATION_FLOPS) + ["softmax"])),
                 "activation")
    from .registry import Args
    return op.fn(ctx, x, Args({p.name: p.default for p in op.params}, {}, set()))
