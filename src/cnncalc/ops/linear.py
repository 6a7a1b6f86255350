"""Dense / Linear (on the last axis, any rank) and Embedding."""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx
from .registry import GLOBAL, KEEP, NONE, LayerOut, Param, register


@register("dense", "linear", "fc", "fullyconnected", "innerproduct",
          params=(Param("units", aliases=("out_features", "num_output", "features", "out")),
                  Param("bias", True, ("use_bias", "bias_term")),
                  Param("in_features", None, ("in_channels",), "checked against the input"),
                  Param("activation", None)),
          family="linear")
def dense(ctx: Ctx, x, a):
    """Fully connected layer on the last axis: params = (in + 1) * units."""
    if len(x) < 2:
        ctx.fail(Msg("err.dense_rank", shape=x))
    warnings = ()
    if ctx.conv.name == "caffe" and len(x) > 2:
        # Caffe InnerProduct (axis=1) flattens everything after the batch axis
        x = (x[0], prod(x[1:]))
        warnings = (Msg("op.caffe_innerproduct_flattens_all_axes"),)
    units = ctx.int_(a, "units")
    bias = ctx.bool_(a, "bias")
    fin = x[-1]
    ctx.check_declared(a, "in_features", fin, lambda: Msg("err.in_features", given=a.in_features, fin=fin),
                       features=True)
    rows = prod(x[:-1])
    params = (fin + (1 if bias else 0)) * units
    macs = rows * fin * units
    adds = rows * units * (fin - 1 + (1 if bias else 0))

    def explain():                                     # made when the explanation is read
        rtxt = Msg("expr.rows", rows=f"{rows:,}") if rows != 1 else ""
        return (
            Step("params", f"({fin} + 1)*{units}" if bias else f"{fin}*{units}", params),
            Step("macs", _rows(rtxt, f"{fin} * {units}"), macs),
            Step("mults", _rows(rtxt, f"{fin} * {units}"), macs),
            Step("adds", _rows(rtxt, Msg("expr.adds", outs=units, per=fin,
                                         bias=Msg("frag.plus_1_bias") if bias else "")), adds),
        )
    if len(x) == 2:
        rf = GLOBAL
    elif ctx.conv.channels_last:
        rf = KEEP      # the last axis is the channel axis: a 1x1 convolution
    else:
        rf = GLOBAL    # channels-first: the last axis is spatial (W), mixed entirely
    kshape = (fin, units) if ctx.conv.channels_last else (units, fin)
    return LayerOut(x[:-1] + (units,), params=params, macs=macs, mults=macs, adds=adds, flops=macs + adds,
                    steps=explain, rf=rf, kernel_shape=kshape, warnings=warnings)


def _rows(rows, rest):
    """'{rows} rows * ' before a formula (both may be Msgs: joined as one, so each language renders its own)."""
    return Msg("expr.join", a=rows, b=rest) if rows else rest


@register("embedding", "embed",
          params=(Param("num_embeddings", aliases=("input_dim", "vocab_size", "vocab")),
                  Param("embedding_dim", aliases=("output_dim", "dim", "features")),
                  Param("padding_idx", None), Param("max_norm", None), Param("mask_zero", False),
                  Param("input_length", None)),
          family="linear")
def embedding(ctx: Ctx, x, a):
    """Lookup table: params = num_embeddings * embedding_dim; no arithmetic."""
    v = ctx.int_(a, "num_embeddings")
    dim = ctx.int_(a, "embedding_dim")
    params = v * dim
    steps = (Step("params", f"{v}*{dim}", params, Msg("note.embedding")),)
    return LayerOut(tuple(x) + (dim,), params=params, steps=steps, rf=NONE, kernel_shape=(v, dim))
