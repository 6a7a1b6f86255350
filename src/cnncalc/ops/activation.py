"""Activations: one factory for the elementwise family, plus PReLU and Softmax.

FLOPs per element (each of + - * / max min compare exp log tanh erf sqrt counts 1):
"""
from __future__ import annotations

from math import prod

from ..formulas import Step
from .base import Ctx, fmt_shape
from .registry import LayerOut, Param, register

#: name -> (flops per element, how, spellings)
ACTIVATION_FLOPS = {
    "relu": (1, "max(x, 0)", ()),
    "relu6": (2, "min(max(x, 0), 6)", ()),
    "leakyrelu": (2, "compare, multiply", ("leaky_relu", "lrelu")),
    "elu": (4, "compare, exp, subtract, multiply", ()),
    "selu": (5, "compare, exp, subtract, 2 multiplies", ()),
    "gelu": (5, "x*0.5*(1 + erf(x/sqrt 2)): divide, erf, add, 2 multiplies", ()),
    "sigmoid": (4, "1/(1 + exp(-x)): negate, exp, add, divide", ("logistic",)),
    "tanh": (1, "tanh", ()),
    "silu": (5, "x*sigmoid(x): sigmoid (4) + multiply", ("swish",)),
    "hardswish": (5, "x*relu6(x + 3)/6: add, max, min, multiply, divide", ("hard_swish", "hswish")),
    "hardsigmoid": (4, "relu6(x + 3)/6: add, max, min, divide", ("hard_sigmoid",)),
    "softplus": (3, "log(1 + exp(x)): exp, add, log", ()),
    "mish": (5, "x*tanh(softplus(x)): softplus (3), tanh, multiply", ()),
    "softsign": (3, "x/(1 + |x|): abs, add, divide", ()),
}


def make_elementwise(name: str, per: int, how: str):
    def act(ctx: Ctx, x, a):
        n = prod(x)
        return LayerOut(tuple(x), flops=n * per,
                        steps=(Step("flops", f"{n:,} elements * {per}", n * per, f"{name}: {how}"),))
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
            ctx.fail(f"num_parameters must be 1 or the number of channels ({c}), got {k}", "num_parameters")
        params, how = k, ("one slope shared by all channels" if k == 1 else f"one slope per channel ({c})")
    elif a.shared_axes is not None or ctx.conv.prelu_default == "full":
        shape = list(x[1:])
        axes = a.shared_axes if isinstance(a.shared_axes, (tuple, list)) else \
            (() if a.shared_axes is None else (a.shared_axes,))
        for ax in axes:
            if not isinstance(ax, int) or not 1 <= ax <= len(shape):
                ctx.fail(f"shared_axes must name axes 1..{len(shape)} of the input {fmt_shape(x)}, got {ax!r}",
                         "shared_axes")
            shape[ax - 1] = 1
        params = prod(shape)
        how = f"alpha of shape {fmt_shape(shape)} (Keras: one per element, shared along shared_axes)"
    else:
        params, how = 1, "one slope (PyTorch default num_parameters=1)"
    return LayerOut(tuple(x), params=params, flops=2 * n,
                    steps=(Step("params", "", params, how), Step("flops", f"{n:,} elements * 2", 2 * n,
                                                                 "compare, multiply")))


def _softmax(ctx: Ctx, x, a, log: bool = False):
    r = len(x)
    axis = ctx.channel_axis(r) if a.axis is None else a.axis
    if not isinstance(axis, int) or not -r <= axis < r or axis % r == 0:
        ctx.fail(f"axis {axis!r} is not a non-batch axis of the input {fmt_shape(x)}", "axis")
    n = x[axis]
    rows = prod(x) // n
    if log:
        flops = rows * (5 * n - 1)
        return LayerOut(tuple(x), flops=flops, steps=(
            Step("flops", f"{rows:,} rows * (5*{n} - 1)", flops,
                 "per row: n-1 compares (max), n subtracts, n exps, n-1 adds, 1 log, n subtracts"),))
    flops = rows * (5 * n - 2)
    return LayerOut(tuple(x), flops=flops, steps=(
        Step("flops", f"{rows:,} rows * (5*{n} - 2)", flops,
             "per row: n-1 compares (max), n subtracts, n exps, n-1 adds, n divides"),))


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
        ctx.fail(f"unknown activation '{name}'" + did_you_mean(name, list(ACTIVATION_FLOPS) + ["softmax"]),
                 "activation")
    from .registry import Args
    return op.fn(ctx, x, Args({p.name: p.default for p in op.params}, {}, set()))
