"""Attention layers on (N, T, E) inputs: query, value[, key].

Multi-head attention (Keras MultiHeadAttention layout).

Projections: query -> H*key_dim, key -> H*key_dim, value -> H*value_dim, each a dense layer on the last
axis; scores = Q K^T per head (H * T_q * T_k * key_dim MACs), softmax over T_k, context = A V
(H * T_q * T_k * value_dim MACs); output dense H*value_dim -> E_out (the query's last dim by default).
"""
from __future__ import annotations

from ..formulas import Step
from ..i18n import Msg
from .pointwise import ACTIVATIONS
from .base import Ctx, fmt_shape
from .registry import GLOBAL, LayerOut, Param, register


@register("multiheadattention", "mha",
          params=(Param("num_heads", aliases=("heads",)), Param("key_dim"), Param("value_dim", None),
                  Param("use_bias", True, ("bias",)), Param("output_shape", None), Param("dropout", 0.0),
                  Param("attention_axes", None)),
          family="attention", inputs=-1, min_inputs=1)
def multihead_attention(ctx: Ctx, shapes, a):
    """Multi-head attention: query, value and key projections, Q K^T, softmax, A V, output projection."""
    if not 1 <= len(shapes) <= 3:
        ctx.fail(Msg("err.op.multiheadattention_takes_query_value_optional", shapes=len(shapes)))
    q = shapes[0]
    v = shapes[1] if len(shapes) > 1 else q
    k = shapes[2] if len(shapes) > 2 else v
    for name, s in (("query", q), ("value", v), ("key", k)):
        if len(s) != 3:
            ctx.fail(Msg("err.op.multiheadattention_needs_batch_steps_features", name=name, s=fmt_shape(s)))
    if a.attention_axes not in (None, (1,), 1, [1]):
        ctx.fail(Msg("err.op.attention_over_axes_other_than"), "attention_axes")
    if k[1] != v[1]:
        ctx.fail(Msg("err.op.key_value_must_have_same", k=fmt_shape(k), v=fmt_shape(v)))
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
            ctx.fail(Msg("err.op.output_shape_must_whole_number", shape=repr(shape)), "output_shape")
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
                       f"{H}*{vd}*{eo} + {b}*{eo}", params, Msg("op.query_key_value_output_projections")),
        Step("macs", f"projections {proj:,} + QK^T {scores:,} + AV {context:,} + output {out:,}", macs,
             Msg("op.heads_query_steps_x_key", H=H, Tq=Tq, Tk=Tk)),
        Step("flops", f"mults {macs:,} + adds {adds:,} + softmax {soft:,} + scaling {scale:,}",
             macs + adds + soft + scale),
    )
    return LayerOut((N, Tq, eo), params=params, macs=macs, mults=macs, adds=adds,
                    flops=macs + adds + soft + scale, rf=GLOBAL, steps=steps)


@register("attentionscores", params=(Param("num_heads", aliases=("heads",)),), family="attention", inputs=-1,
          min_inputs=2)
def attention_scores(ctx: Ctx, shapes, a):
    """The attention weights a MultiHeadAttention layer also returns: (batch, heads, query steps, key steps).

    Keras' ``return_attention_scores=True``: softmax(Q K^T) per head.  Its cost is the attention layer's
    (counted on its row): reading it costs nothing."""
    if len(shapes) != 2:
        ctx.fail(Msg("err.op.attentionscores_takes_query_key", shapes=len(shapes)))
    q, k = shapes
    for name, s in (("query", q), ("key", k)):
        if len(s) != 3:
            ctx.fail(Msg("err.op.attentionscores_needs_batch_steps_features", name=name, s=fmt_shape(s)))
    H = ctx.int_(a, "num_heads")
    out = (q[0], H, q[1], k[1])
    steps = (Step("elements", f"{q[0]} * {H} * {q[1]} * {k[1]}", q[0] * H * q[1] * k[1],
                  Msg("op.attention_scores_cost_nothing")),)
    return LayerOut(out, rf=GLOBAL, steps=steps)


def _qvk(ctx: Ctx, shapes, what: str):
    if len(shapes) not in (2, 3):
        ctx.fail(Msg("err.op.takes_query_value_optional_key", what=what, shapes=len(shapes)))
    q, v = shapes[0], shapes[1]
    k = shapes[2] if len(shapes) > 2 else v
    for name, s in (("query", q), ("value", v), ("key", k)):
        if len(s) != 3:
            ctx.fail(Msg("err.op.needs_batch_steps_features_inputs", what=what, name=name, s=fmt_shape(s)))
    if k[1] != v[1] or k[0] != v[0] or q[0] != k[0]:
        ctx.fail(Msg("err.op.key_value_must_have_same_2", what=what, k=fmt_shape(k), v=fmt_shape(v), q=fmt_shape(q)))
    if q[2] != k[2]:
        ctx.fail(Msg("err.op.query_s_features_key_s", what=what, q=q[2], k=k[2]))
    return q, v, k


def _luong(ctx: Ctx, shapes, a, additive: bool):
    what = "additiveattention" if additive else "attention"
    q, v, k = _qvk(ctx, shapes, what)
    N, Tq, d = q
    Tv, dv = k[1], v[2]
    use_scale = ctx.bool_(a, "use_scale")
    mode = "concat" if additive else ctx.choice(a, "score_mode", ("dot", "concat"))
    pairs = N * Tq * Tv
    if mode == "dot":
        params = 1 if use_scale else 0
        score_macs, score_adds, elementwise = pairs * d, pairs * (d - 1), pairs if use_scale else 0
        score = Step("macs (scores)", f"{N}*{Tq}*{Tv}*{d}", score_macs,
                     Msg("op.note_qk", scale=Msg("op.then_times_scalar_scale_flop") if use_scale else ""))
    else:
        # additive: sum over d of scale * tanh(q + k); Keras' concat mode: w * sum(tanh(scale * (q + k)))
        params = (d if additive else 1) * use_scale + (0 if additive else 1)
        per = 1 + ACTIVATIONS["tanh"][0] + (1 if use_scale else 0)
        score_macs, score_adds = 0, 0
        elementwise = pairs * d * per + pairs * (d - 1) + (0 if additive else pairs)
        score = Step("flops (scores)", f"{pairs:,} pairs * ({d}*{per} + {d} - 1{'' if additive else ' + 1'})",
                     elementwise, Msg("op.note_additive", scale=Msg("op.times_scale") if use_scale else "",
                         concat="" if additive else Msg("op.times_concat_score_weight")))
    context = pairs * dv
    macs = score_macs + context
    adds = score_adds + N * Tq * dv * (Tv - 1)
    soft = N * Tq * (5 * Tv - 2)
    flops = macs + adds + elementwise + soft
    if additive:
        how = Msg("op.scale_one_per_feature", d=d) if use_scale else Msg("op.use_scale_false_no_weights")
    else:
        parts = [w for w, on in ((Msg("op.scale_scalar"), use_scale), (Msg("op.concat_weight_scalar"), mode == "concat"))
                 if on]
        how = Msg("op.comma_join", a=parts[0], b=parts[1]) if len(parts) == 2 else parts[0] if parts else Msg("op.no_weights")
    steps = (Step("params", "", params, how), score,
             Step("macs", f"scores {score_macs:,} + AV {N}*{Tq}*{Tv}*{dv}", macs,
                  Msg("op.products_matrix_products_elementwise_work")),
             Step("mults", "macs", macs),
             Step("adds", f"{score_adds:,} + {N * Tq * dv:,}*({Tv} - 1)", adds),
             Step("flops", f"mults {macs:,} + adds {adds:,} + scores {elementwise:,} + softmax {N * Tq:,} rows * "
                           f"(5*{Tv} - 2)", flops))
    return LayerOut((N, Tq, dv), params=params, macs=macs, mults=macs, adds=adds, flops=flops, rf=GLOBAL,
                    steps=steps)


@register("attention", "dotproductattention", "luongattention",
          params=(Param("use_scale", False), Param("score_mode", "dot"), Param("dropout", 0.0)),
          family="attention", inputs=-1, min_inputs=2)
def attention(ctx: Ctx, shapes, a):
    """Keras Attention (Luong): softmax(Q K^T [* scale]) V; query (N, Tq, d), value (N, Tv, dv), key (N, Tv, d).

    score_mode='concat' scores w * sum(tanh(scale * (q + k))) instead of Q K^T.  Weights: a scalar scale
    (use_scale) and a scalar concat_score_weight (concat); MACs: the matrix products only."""
    return _luong(ctx, shapes, a, additive=False)


@register("additiveattention", "bahdanauattention",
          params=(Param("use_scale", True), Param("dropout", 0.0)), family="attention", inputs=-1, min_inputs=2)
def additive_attention(ctx: Ctx, shapes, a):
    """Keras AdditiveAttention (Bahdanau): softmax(sum(scale * tanh(q + k))) V; d weights with use_scale.

    The scores are elementwise work (FLOPs, no MACs); the MACs are those of the A V product."""
    return _luong(ctx, shapes, a, additive=True)
