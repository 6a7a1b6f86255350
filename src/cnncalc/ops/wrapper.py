"""Layers that run another layer: TimeDistributed applies its inner layer to every time step.

The inner layer is named by its kind (any one-input op of the registry) and its arguments as (name, value)
pairs: ``timedistributed(layer=dense, args=((units, 8),))``, Keras ``TimeDistributed(Dense(8))``.
"""
from __future__ import annotations

from dataclasses import replace

from ..formulas import Step
from ..i18n import Msg
from ..spec.ast import Arg, LayerCall
from .base import Ctx, fmt_shape
from .registry import KEEP, NONE, RF, Args, Param, bind, norm, register


def _inner_call(ctx: Ctx, a):
    from .registry import OPS
    kind = a.layer
    op = OPS.get(norm(kind)) if isinstance(kind, str) else None
    if op is None or op.kind == "timedistributed" or op.extra.get("inputs", 1) != 1:
        ctx.fail(Msg("err.op.layer_must_name_layer_kind", kind=repr(kind)), "layer")
    pairs = () if a.args is None else a.args
    pairs = tuple(pairs.items()) if isinstance(pairs, dict) else pairs
    if not isinstance(pairs, (tuple, list)) or any(
            not isinstance(p, (tuple, list)) or len(p) != 2 or not isinstance(p[0], str) for p in pairs):
        ctx.fail(Msg("err.op.args_must_name_value_pairs", args=repr(a.args)), "args")
    call = LayerCall(op.kind, tuple(Arg(k, v) for k, v in pairs), ctx.call.label, ctx.call.line, ctx.call.column,
                     ctx.call.text)
    inner = Ctx(ctx.conv, call, ctx.layer_id, op)
    inner.input_names = getattr(ctx, "input_names", None)
    inner.args = bind(op, call, inner.fail, ctx.conv)
    return op, inner


def _activation_flops(inner: Ctx, op, shape) -> tuple:
    """A conv / dense inner layer's activation='relu' (its FLOPs, as the analysis adds them to such layers)."""
    from .registry import OPS
    name = getattr(inner.args, "activation", None)
    if op.family not in ("conv", "linear") or name in (None, "linear"):
        return 0, ()
    act = OPS.get(norm(str(name)))
    if act is None or act.family != "activation" or act.kind in ("activation", "prelu"):
        inner.fail(Msg("err.op.unknown_activation_2", name=name), "activation")
    out = act.fn(inner, shape, Args({p.name: p.default for p in act.params}, {}, set()))
    return out.flops, tuple(replace(st, quantity=f"{act.kind}_{st.quantity}") for st in out.steps)


def _time_rf(rf: RF, inner_spatial: int) -> RF:
    """The inner layer's receptive-field effect with the time axis in front (each step on its own)."""
    if rf.kind == "keep" or (rf.kind in ("none", "global") and inner_spatial == 0):
        return KEEP
    if rf.kind in ("window", "transposed", "upsample"):
        return RF(rf.kind, (1,) + tuple(rf.kernel), (1,) + tuple(rf.stride),
                  (0,) + tuple(rf.padding or (0,) * len(rf.kernel)),
                  ((1,) + tuple(rf.dilation)) if rf.dilation else ())
    return NONE


@register("timedistributed", params=(Param("layer"), Param("args", ())), family="wrapper")
def timedistributed(ctx: Ctx, x, a):
    """The inner layer on every time step (axis 1), as on a batch of N*T; its weights once (Keras TimeDistributed).

    layer: the inner layer's kind; args: its arguments as (name, value) pairs."""
    if len(x) < 3:
        ctx.fail(Msg("err.op.timedistributed_needs_batch_time_inputs", x=fmt_shape(x)))
    op, inner = _inner_call(ctx, a)
    folded = (x[0] * x[1],) + tuple(x[2:])
    out = op.fn(inner, folded, inner.args)
    act_flops, act_steps = _activation_flops(inner, op, tuple(out.output_shape))
    shape = (x[0], x[1]) + tuple(out.output_shape[1:])
    steps = (Step("batch", f"{x[0]} * {x[1]}", folded[0], Msg("op.runs_on_each_time_step", kind=op.kind, x=x[1], x2=x[0])),) + out.steps + act_steps
    return replace(out, output_shape=shape, flops=out.flops + act_flops, steps=steps,
                   rf=_time_rf(out.rf, len(folded) - 2 if len(folded) > 2 else 0),
                   call=None, kernel_shape=out.kernel_shape)
