"""Multi-head attention (Keras MultiHeadAttention layout): inputs query, value[, key] of shape (N, T, E).

Projections: query -> H*key_dim, key -> H*key_dim, value -> H*value_dim, each a dense layer on the last
axis; scores = Q K^T per head (H * T_q * T_k * key_dim MACs), softmax over T_k, context = A V
(H * T_q * T_k * value_dim MACs); output dense H*value_dim -> E_out (the query's last dim by default).
"""
from __future__ import annotations

from ..formulas import Step
from .base import Ctx, fmt_shape
from .registry import GLOBAL, LayerOut, Param, register


@register("multiheadattention", "mha", "attention",
          params=(Param("num_heads", aliases=("heads",)), Param("key_dim"), Param("value_dim", None),
                  Param("use_bias", True, ("bias",)), Param("output_shape", None), Param("dropout", 0.0),
                  Param("attention_axes", None)),
          family="attention", inputs=-1, min_inputs=1)
def multihead_attention(ctx: Ctx, shapes, a):
    """Multi-head attention: query, value and key projections, Q K^T, softmax, A V, output projection."""
    if not 1 <= len(shapes) <= 3:
        ctx.fail(f"multiheadattention takes query, value and an optional key, got {len(shapes)} inputs")
    q = shapes[0]
    v = shapes[1] if len(shapes) > 1 else q
    k = shapes[2] if len(shapes) > 2 else v
    for name, s in (("query", q), ("value", v), ("key", k)):
        if len(s) != 3:
            ctx.fail(f"multiheadattention needs (batch, steps, features) inputs; {name} is {fmt_shape(s)}")
    if a.attention_axes not in (None, (1,), 1, [1]):
        ctx.fail("attention over axes other than the sequence axis is not supported", "attention_axes")
    if k[1] != v[1]:
        ctx.fail(f"key {fmt_shape(k)} and value {fmt_shape(v)} must have the same number of steps")
    N, Tq, Eq = q
    Tk = k[1]
    H = ctx.int_(a, "num_heads")
    kd = ctx.int_(a, "key_dim")
    vd = kd if a.value_dim is None else ctx.int_(a, "value_dim")
    bias = ctx.bool_(a, "use_bias")
    eo = Eq
    if a.output_shape is not None:
        shape = a.output_shape
        eo = shape[-1] if isinstance(shape, (tuple, list)) and shape else shape
        if isinstance(eo, bool) or not isinstance(eo, int) or eo < 1:
            ctx.fail(f"output_shape must be a whole number >= 1 (the output features) or a tuple ending with "
                     f"one, got {shape!r}", "output_shape")
    b = 1 if bias else 0
    pq, pk, pv = (Eq + b) * H * kd, (k[2] + b) * H * kd, (v[2] + b) * H * vd
    po = H * vd * eo + b * eo
    params = pq + pk + pv + po
    proj = N * (Tq * Eq * H * kd + Tk * k[2] * H * kd + Tk * v[2] * H * vd)
    scores = N * H * Tq * Tk * kd
    context = N * H * Tq * Tk * vd
    out = N * Tq * H * vd * eo
    macs = proj + scores + context + out
    bias_adds = b * N * (Tq * H * kd + Tk * H * kd + Tk * H * vd + Tq * eo)
    adds = macs - N * (Tq * H * kd + Tk * H * kd + Tk * H * vd + H * Tq * Tk + H * Tq * vd + Tq * eo) + bias_adds
    soft = N * H * Tq * (5 * Tk - 2)
    scale = N * H * Tq * Tk                                  # scores divided by sqrt(key_dim)
    steps = (
        Step("params", f"({Eq} + {b})*{H}*{kd} + ({k[2]} + {b})*{H}*{kd} + ({v[2]} + {b})*{H}*{vd} + "
                       f"{H}*{vd}*{eo} + {b}*{eo}", params, "query, key, value and output projections"),
        Step("macs", f"projections {proj:,} + QK^T {scores:,} + AV {context:,} + output {out:,}", macs,
             f"{H} heads, {Tq} query steps x {Tk} key steps"),
        Step("flops", f"mults {macs:,} + adds {adds:,} + softmax {soft:,} + scaling {scale:,}",
             macs + adds + soft + scale),
    )
    return LayerOut((N, Tq, eo), params=params, macs=macs, mults=macs, adds=adds,
                    flops=macs + adds + soft + scale, rf=GLOBAL, steps=steps)
