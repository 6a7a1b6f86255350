"""An ONNX graph's training step: each node that runs becomes a node of ``training.py`` with the op layer's
backward rule for the op kind it translates to (onnx/ops.py); initializers are the parameters (their trainable
part gets gradients and optimizer state); reshapes are views of their input."""
from __future__ import annotations

from math import prod

from ...ops.training import NOTHING, SHARES, Backward, Saved, backward
from ...training import TNode, by_rows, simulate
from . import ops as _ops
from .common import DTYPE_BYTES, FLOAT_TYPES

VIEWS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"}


def _rule(n, r, acts, out_shape, static_inputs, g, trainable) -> Backward:
    shapes = [tuple(g.shapes.get(t) or ()) for t in acts]
    if n.op in VIEWS:
        return SHARES
    if r is None or r.call is None:
        return NOTHING
    kind, family, args = r.call
    if family == "pointwise":
        consts = [prod(g.shapes.get(t) or ()) for t in static_inputs]
        args = {"constants": consts if not trainable else [], "partner_grad": trainable > 0}
    elif family == "reduction":
        args = {"keeps_input": n.op in ("ReduceMax", "ReduceMin")}
    if kind == "matmul" and static_inputs:           # an activation times a weight: a dense layer
        saved = (Saved("input", "in0", prod(shapes[0])),) if trainable and shapes else ()
        bias = bool(args.get("bias"))
        return Backward(saved, r.macs, r.macs if trainable else 0, 2 * r.macs,
                        (2 * r.macs + (prod(out_shape) if bias else 0)) if trainable else 0)
    return backward(kind, family, shapes, tuple(out_shape), args, r)


def training_of(report, g, *, optimizer: str, amp):
    act_bytes = 2 if amp else report.dtype_bytes
    nodes, inputs = [], {}
    produced = set()
    order, groups, row_names = g.rows_of_nodes
    node_rows = {n.index: row_names[key] for key in order for n in groups[key]}
    for n in g.live_nodes:
        for t in n.inputs:
            if t and t not in g.static and t not in produced and t not in inputs:
                shape = g.shapes.get(t) or ()
                inputs[t] = prod(shape) * (act_bytes if g.dtypes.get(t) in FLOAT_TYPES else
                                           DTYPE_BYTES.get(g.dtypes.get(t), 4))
        if not n.outputs or not n.outputs[0]:
            continue
        out = n.outputs[0]
        produced.update(o for o in n.outputs if o)
        shape = g.shapes.get(out) or ()
        st = g.stats[n.index]
        trainable = st.params - st.non_trainable
        try:
            r = _ops.counted(n)
        except Exception:  # noqa: BLE001 -- a node without a formula keeps nothing known
            r = None
        acts = [t for t in n.inputs if t and t not in g.static]
        static = [t for t in n.inputs if t and t in g.static]
        b = _rule(n, r, acts, shape, static, g, trainable)
        elem = act_bytes if g.dtypes.get(out) in FLOAT_TYPES else DTYPE_BYTES.get(g.dtypes.get(out), 4)
        shapes = {f"in{i}": tuple(g.shapes.get(t) or ()) for i, t in enumerate(acts)}
        shapes["out"] = tuple(shape)
        nodes.append(TNode(f"{node_rows.get(n.index, n.name or n.op)}#{n.index}", tuple(acts), out,
                           prod(shape) * elem, b, trainable=trainable, frozen=st.non_trainable,
                           param_tensors=(trainable,) if trainable else (), shapes=shapes))
    if not nodes:
        return None
    result = simulate(nodes, inputs, act_bytes=act_bytes, param_bytes_each=report.dtype_bytes,
                      buffer_bytes=0, optimizer=optimizer, amp=amp, keep=frozenset(inputs))   # the loop's batch
    return by_rows(result, lambda name: name.rsplit("#", 1)[0])
