"""A Keras layer's further outputs, when a later layer reads them: the states of a recurrent layer built with
``return_state=True`` (``output, h`` for SimpleRNN / GRU, ``output, h, c`` for LSTM), and the attention weights
of a MultiHeadAttention called with ``return_attention_scores=True`` (an ``attentionscores`` row
``name[1]``: (batch, heads, query steps, key steps), no cost of its own).

A state is the hidden (or cell) state after the last time step, a tensor (batch, units) that costs nothing
beyond the layer itself: with ``return_sequences=False`` it has the output's shape (an identity row
``name[1]``); with ``return_sequences=True`` it is the last step of the sequence (a ``slice`` row
``name[last step]``, then a reshape row ``name[1]``, ``name[2]`` per state).  Rows and shapes only -- the
layer's parameters and MACs stay on its own row.
"""
from __future__ import annotations

from ..spec.ast import Arg, LayerCall

#: recurrent layers -> number of states after the output
STATES = {"SimpleRNN": 1, "GRU": 1, "LSTM": 2}


def _time_steps(node) -> int | None:
    """The sequence length of the tensor a layer call reads (its ``keras_tensor`` config holds the shape)."""
    def first(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            return x
        for v in (x if isinstance(x, (list, tuple)) else x.values() if isinstance(x, dict) else ()):
            t = first(v)
            if t is not None:
                return t
        return None
    t = first(node.get("args", []) if isinstance(node, dict) else [])
    shape = ((t or {}).get("config") or {}).get("shape")
    return shape[1] if isinstance(shape, list) and len(shape) == 3 and isinstance(shape[1], int) else None


def state_calls(layer: dict, label: str, output: str, wanted, node, inputs=()) -> tuple[dict, list]:
    """({output index: tensor id}, the calls that make them) for the states of ``layer`` (called as ``label``
    on the tensors ``inputs``, its output 0 ``output``) that later layers read (``wanted``); an index this
    function cannot place is left out (the caller's message names it)."""
    cfg = layer.get("config") or {}
    if layer.get("class_name") == "MultiHeadAttention":
        return _attention_scores(cfg, label, wanted, inputs)
    n = STATES.get(layer.get("class_name"), 0) if cfg.get("return_state") else 0
    wanted = [j for j in wanted if 1 <= j <= n]
    calls, out = [], {}
    if not wanted:
        return {}, []
    units = cfg.get("units")
    src = output
    if cfg.get("return_sequences"):
        steps = _time_steps(node)
        if not isinstance(steps, int) or not isinstance(units, int):
            return {}, []
        src = f"{label}[last step]:0:0"
        calls.append(LayerCall("slice", (Arg("start", steps - 1), Arg("stop", steps), Arg("axis", 1)),
                               f"{label}[last step]", None, None, f"{layer.get('class_name')} '{label}' last step",
                               {}, (output,), src))
    for j in wanted:
        tid = f"{label}[{j}]:0:0"
        what = "cell state" if j == 2 else "hidden state"
        if cfg.get("return_sequences"):
            calls.append(LayerCall("reshape", (Arg("shape", (units,)),), f"{label}[{j}]", None, None,
                                   f"{layer.get('class_name')} '{label}' {what}", {}, (src,), tid))
        else:
            calls.append(LayerCall("identity", (), f"{label}[{j}]", None, None,
                                   f"{layer.get('class_name')} '{label}' {what}", {}, (src,), tid))
        out[j] = tid
    return out, calls


def _attention_scores(cfg: dict, label: str, wanted, inputs) -> tuple[dict, list]:
    """Output 1 of a MultiHeadAttention (query, value[, key]): its attention weights."""
    if 1 not in wanted or not inputs or not isinstance(cfg.get("num_heads"), int):
        return {}, []
    key = inputs[1] if len(inputs) > 1 else inputs[0]          # the key's steps are the value's
    tid = f"{label}[1]:0:0"
    call = LayerCall("attentionscores", (Arg("num_heads", cfg["num_heads"]),), f"{label}[1]", None, None,
                     f"MultiHeadAttention '{label}' attention scores", {}, (inputs[0], key), tid)
    return {1: tid}, [call]
