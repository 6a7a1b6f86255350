"""Recurrent layers: RNN (SimpleRNN), LSTM, GRU -- stacked, bidirectional, every time step counted.

Per layer l and direction, with gate size G (H for RNN, 4H for LSTM, 3H for GRU):
w_ih (G, I_l), w_hh (G, H_r), biases (one or two vectors of G by convention),
LSTM projection w_hr (P, H) with H_r = P.  MACs per step: G*I_l + G*H_r (+ P*H).
"""
from __future__ import annotations

from ..conventions import Convention
from ..formulas import Step
from .base import Ctx, fmt_shape
from .registry import NONE, LayerOut, Param, register

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
#: elementwise FLOPs of one cell step per hidden unit (activation table of ops/activation.py)
CELL_FLOPS = {
    "rnn": 1,    # tanh (or relu)
    "lstm": 18,  # 3 sigmoids (4 each), tanh(g), c = f*c + i*g (3), tanh(c), h = o*tanh(c)
    "gru": 15,   # 2 sigmoids (4 each), r*h_n, add, tanh, h = (1-z)*n + z*h (4)
}


def bias_vectors(kind: str, conv: Convention, reset_after: bool | None) -> int:
    """How many bias vectors of size G a layer/direction has."""
    if conv.name == "keras" and kind == "gru":
        return 2 if (reset_after is None or reset_after) else 1
    return conv.rnn_biases


def recurrent_param_parts(kind: str, input_size: int, hidden: int, num_layers: int, dirs: int, bias: bool,
                          conv: Convention, reset_after: bool | None = None, proj_size: int = 0):
    """[(name, count)] for every weight of the stack, in PyTorch's order."""
    G = GATES[kind] * hidden
    hr = proj_size or hidden
    nb = bias_vectors(kind, conv, reset_after) if bias else 0
    parts = []
    for layer in range(num_layers):
        i_l = input_size if layer == 0 else hr * dirs
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            parts.append((f"w_ih{sfx}", G * i_l))
            parts.append((f"w_hh{sfx}", G * hr))
            if nb:
                parts.append((f"bias{sfx}", nb * G))
            if proj_size:
                parts.append((f"w_hr{sfx}", proj_size * hidden))
            if kind == "rnn" and conv.name == "caffe":
                # BVLC caffe RNNLayer: o_t = tanh(W_ho h_t + b_o) (include/caffe/layers/rnn_layer.hpp)
                parts.append((f"w_ho{sfx}", hidden * hidden))
                if bias:
                    parts.append((f"b_o{sfx}", hidden))
    return parts


def make_recurrent(kind: str):
    def recurrent(ctx: Ctx, x, a):
        if len(x) != 3:
            what = "an image-shaped" if len(x) >= 4 else "a"
            ctx.fail(f"{ctx.op.kind} needs a sequence (batch, steps, features); got {what} input {fmt_shape(x)}"
                     + ("; add flatten or reshape first" if len(x) >= 4 else ""))
        N, T, I = x
        if ctx.conv.name == "caffe" and kind == "gru":
            ctx.fail("Caffe (BVLC) has no GRU layer; its recurrent layers are RNN and LSTM")
        H = ctx.int_(a, "hidden_size")
        L = ctx.int_(a, "num_layers")
        dirs = 2 if ctx.bool_(a, "bidirectional") else 1
        if dirs == 2 and ctx.conv.name == "caffe":
            ctx.fail("Caffe (BVLC) recurrent layers are unidirectional", "bidirectional")
        caffe_out = kind == "rnn" and ctx.conv.name == "caffe"      # W_ho, b_o output layer
        bias = ctx.bool_(a, "bias")
        P = ctx.int_(a, "proj_size", lo=0)
        if P and kind != "lstm":
            ctx.fail("proj_size exists only for LSTM", "proj_size")
        if P >= H:
            ctx.fail(f"proj_size ({P}) must be smaller than hidden_size ({H})", "proj_size")
        if a.input_size is not None and a.input_size != I:
            ctx.fail(f"input_size={a.input_size} but the sequence has {I} features", "input_size")
        reset_after = None if a.reset_after is None else ctx.bool_(a, "reset_after")
        if reset_after is not None and kind != "gru":
            ctx.fail("reset_after exists only for GRU", "reset_after")
        if reset_after is False and ctx.conv.name != "keras":
            ctx.fail("reset_after=false is a Keras GRU option (PyTorch/ONNX GRUs have two bias vectors)",
                     "reset_after")
        rs = ctx.conv.return_sequences if a.return_sequences is None else ctx.bool_(a, "return_sequences")
        parts = recurrent_param_parts(kind, I, H, L, dirs, bias, ctx.conv, reset_after, P)
        params = sum(c for _, c in parts)
        G = GATES[kind] * H
        hr = P or H
        nb = bias_vectors(kind, ctx.conv, reset_after) if bias else 0
        steps = [Step("gates", f"{GATES[kind]}*{H}", G, f"{kind}: gate size")]
        macs = adds = 0
        for layer in range(L):
            i_l = I if layer == 0 else hr * dirs
            per = G * i_l + G * hr + P * H + (H * H if caffe_out else 0)
            lp = G * i_l + G * hr + nb * G + P * H + ((H * H + (H if bias else 0)) if caffe_out else 0)
            steps.append(Step(f"params[layer {layer}]",
                              f"{dirs}*({G}*{i_l} + {G}*{hr}" + (f" + {nb}*{G}" if nb else "")
                              + (f" + {P}*{H}" if P else "") + (f" + {H}*{H} + {H}" if caffe_out else "") + ")",
                              dirs * lp,
                              f"{nb} bias vector(s) per direction ({ctx.conv.name})"))
            macs += N * T * dirs * per
            adds += N * T * dirs * (G * (i_l - 1) + G * (hr - 1) + G + nb * G + (P * (H - 1) if P else 0)
                                    + ((H * (H - 1) + (H if bias else 0)) if caffe_out else 0))
        cell = N * T * L * dirs * (CELL_FLOPS[kind] + (1 if caffe_out else 0)) * H
        flops = macs + adds + cell
        steps.append(Step("params", " + ".join(str(c) for _, c in parts) if len(parts) <= 6 else "sum of the above",
                          params))
        steps.append(Step("macs", f"{N}*{T} steps * sum over layers and directions of (G*I + G*H_r)", macs,
                          "every time step counted"))
        steps.append(Step("flops", f"mults {macs:,} + adds {adds:,} + cell {cell:,}", flops,
                          f"cell: {CELL_FLOPS[kind]} per hidden unit per step"))
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
