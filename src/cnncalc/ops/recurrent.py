"""Recurrent layers: RNN (SimpleRNN), LSTM, GRU -- stacked, bidirectional, every time step counted.

Per layer l and direction, with gate size G (H for RNN, 4H for LSTM, 3H for GRU):
w_ih (G, I_l), w_hh (G, H_r), biases (one or two vectors of G by convention),
LSTM projection w_hr (P, H) with H_r = P.  MACs per step: G*I_l + G*H_r (+ P*H).
"""
from __future__ import annotations

from ..formulas import (CELL_FLOPS, GATES, Step, bias_vectors, recurrent_param_parts,  # noqa: F401
                        recurrent_param_total)
from ..i18n import Msg
from .base import Ctx, fmt_shape
from .registry import NONE, LayerOut, Param, register

STEP_LAYERS = 8     # layers of a stack explained one by one; deeper stacks: layer 0, then the others at once


def make_recurrent(kind: str):
    def recurrent(ctx: Ctx, x, a):
        if len(x) != 3:
            ctx.fail(Msg("err.rnn_rank", kind=ctx.op.kind, shape=fmt_shape(x),
                         what=Msg("frag.image_shaped") if len(x) >= 4 else Msg("frag.a"),
                         flat=Msg("frag.flatten_first") if len(x) >= 4 else ""))
        N, T, I = x
        if ctx.conv.name == "caffe" and kind == "gru":
            ctx.fail(Msg("err.op.caffe_bvlc_has_no_gru"))
        H = ctx.int_(a, "hidden_size")
        L = ctx.int_(a, "num_layers")
        dirs = 2 if ctx.bool_(a, "bidirectional") else 1
        if dirs == 2 and ctx.conv.name == "caffe":
            ctx.fail(Msg("err.op.caffe_bvlc_recurrent_layers_are"), "bidirectional")
        caffe_out = kind == "rnn" and ctx.conv.name == "caffe"      # W_ho, b_o output layer
        bias = ctx.bool_(a, "bias")
        P = ctx.int_(a, "proj_size", lo=0)
        if P and kind != "lstm":
            ctx.fail(Msg("err.op.proj_size_exists_only_lstm"), "proj_size")
        if P >= H:
            ctx.fail(Msg("err.op.proj_size_must_smaller_than", P=P, H=H), "proj_size")
        ctx.check_declared(a, "input_size", I, lambda: Msg("err.input_size", given=a.input_size, I=I),
                           features=True)
        reset_after = None if a.reset_after is None else ctx.bool_(a, "reset_after")
        if reset_after is not None and kind != "gru":
            ctx.fail(Msg("err.op.reset_after_exists_only_gru"), "reset_after")
        if reset_after is False and ctx.conv.name != "keras":
            ctx.fail(Msg("err.op.reset_after_false_keras_gru"),
                     "reset_after")
        rs = ctx.conv.return_sequences if a.return_sequences is None else ctx.bool_(a, "return_sequences")
        params = recurrent_param_total(kind, I, H, L, dirs, bias, ctx.conv, reset_after, P)
        G = GATES[kind] * H
        hr = P or H
        nb = bias_vectors(kind, ctx.conv, reset_after) if bias else 0
        steps = [Step("gates", f"{GATES[kind]}*{H}", G, Msg("note.gates", kind=kind))]
        macs = adds = 0
        # layers 1.. are alike (input dirs*H_r): layer 0, then each other layer's numbers times their count
        for layer, count in ([(i, 1) for i in range(L)] if L <= STEP_LAYERS else [(0, 1), (1, L - 1)]):
            i_l = I if layer == 0 else hr * dirs
            per = G * i_l + G * hr + P * H + (H * H if caffe_out else 0)
            lp = G * i_l + G * hr + nb * G + P * H + ((H * H + (H if bias else 0)) if caffe_out else 0)
            which = f"layer {layer}" if count == 1 else f"layers 1-{L - 1}"
            steps.append(Step(f"params[{which}]",
                              ("" if count == 1 else f"{count}*") +
                              f"{dirs}*({G}*{i_l} + {G}*{hr}" + (f" + {nb}*{G}" if nb else "")
                              + (f" + {P}*{H}" if P else "") + (f" + {H}*{H} + {H}" if caffe_out else "") + ")",
                              count * dirs * lp,
                              Msg("note.rnn_bias", nb=nb, conv=ctx.conv.name)))
            macs += count * N * T * dirs * per
            adds += count * N * T * dirs * (G * (i_l - 1) + G * (hr - 1) + G + nb * G + (P * (H - 1) if P else 0)
                                            + ((H * (H - 1) + (H if bias else 0)) if caffe_out else 0))
        cell = N * T * L * dirs * (CELL_FLOPS[kind] + (1 if caffe_out else 0)) * H
        flops = macs + adds + cell
        parts = recurrent_param_parts(kind, I, H, L, dirs, bias, ctx.conv, reset_after, P) if L * dirs <= 3 else ()
        steps.append(Step("params", " + ".join(str(c) for _, c in parts) if 0 < len(parts) <= 6
                          else Msg("op.sum_above"), params))
        steps.append(Step("macs", Msg("expr.rnn_macs", N=N, T=T), macs, Msg("note.rnn_steps")))
        steps.append(Step("flops", Msg("expr.rnn_flops", macs=f"{macs:,}", adds=f"{adds:,}", cell=f"{cell:,}"), flops,
                          Msg("note.rnn_cell", per=CELL_FLOPS[kind])))
        out = (N, T, dirs * hr) if rs else (N, dirs * hr)
        return LayerOut(out, params=params, macs=macs, mults=macs, adds=adds, flops=flops, rf=NONE,
                        steps=tuple(steps))
    return recurrent


_RNN_PARAMS = (Param("hidden_size", aliases=("units", "hidden", "num_units")),
               Param("num_layers", 1, ("layers",)), Param("bidirectional", False),
               Param("bias", True, ("use_bias",)), Param("return_sequences", None),
               Param("batch_first", True), Param("dropout", 0.0), Param("input_size", None),
               Param("proj_size", 0), Param("reset_after", None), Param("nonlinearity", "tanh"),
               Param("activation", "tanh"), Param("recurrent_activation", "sigmoid"))

register("rnn", "simplernn", params=_RNN_PARAMS, family="recurrent")(make_recurrent("rnn"))
register("lstm", params=_RNN_PARAMS, family="recurrent")(make_recurrent("lstm"))
register("gru", params=_RNN_PARAMS, family="recurrent")(make_recurrent("gru"))
