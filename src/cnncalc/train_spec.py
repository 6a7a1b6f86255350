"""The training step of an analysed spec: each layer call and its report row become a TNode of training.py."""
from __future__ import annotations

from math import prod

from .ops import registry
from .ops.registry import LayerOut
from .ops.training import backward
from .training import TNode, simulate


def nodes_of(calls, report, act_bytes: int | None = None, expander=None, trace: list | None = None
             ) -> tuple[list[TNode], dict]:
    """(nodes, network inputs) for the spec's layer calls and the report analysed from them; activations take
    ``act_bytes`` each (the report's dtype unless mixed precision says 2).  ``expander`` (Keras on torch) turns
    one layer's node into the framework's ops.  ``trace``: the analysis's result record per row
    (``analyze_calls(trace=)``); rows with the same record share their op, arguments and backward rule, which
    are then worked out once."""
    nb = act_bytes or report.dtype_bytes
    first = calls[0]
    in_id = first.output or "input"
    inputs = {in_id: prod(report.input_shape) * nb}
    prev = in_id
    nodes = []
    append = nodes.append
    layers = report.layers
    by_name = None
    made: dict = {}                     # id(result record) -> what the node needs from it
    is_input: dict = {}                 # kind as written -> whether it is input(...)
    j = 0
    for index, call in enumerate(calls[1:], start=1):
        kind_is_input = is_input.get(call.kind)
        if kind_is_input is None:
            kind_is_input = is_input[call.kind] = registry.norm(call.kind) in ("input", "inputlayer")
        if kind_is_input:
            shape = _input_row_shape(report, call)
            inputs[call.output] = prod(shape) * nb if shape else 0
            prev = call.output
            continue
        row = layers[j]
        record = trace[j] if trace is not None else None
        j += 1
        extra = call.extra
        shares = extra.get("shares") if extra else None
        if shares is not None:
            if by_name is None:
                by_name = {r.name: r for r in layers}
            owner = by_name.get(shares)
        else:
            owner = None
        ins = call.inputs if call.inputs is not None else (prev,)
        out_id = call.output or f"t{index}"
        got = made.get(id(record)) if record is not None and owner is None else None
        if got is None:
            got = _rule(call, row, owner, nb, record)
            if record is not None and owner is None:
                made[id(record)] = got
        op, args, b, shapes, tensors, out_bytes = got
        node = TNode(row.name, ins if type(ins) is tuple else tuple(ins), out_id, out_bytes, b, row.trainable_params,
                     row.non_trainable_params,
                     tensors, shapes, None if owner is None else owner.trainable_params > 0)
        if expander is not None:
            nodes += expander.expand(op.kind, op.family, args, row, node)
        else:
            append(node)
        prev = out_id
    return nodes, inputs


def _rule(call, row, owner, nb: int, record) -> tuple:
    """(op, arguments, backward rule, shapes, parameter tensors, output bytes) of one layer row.  A shared
    layer's later call (``owner``): its weights are the owner row's (counted there), their gradient computed on
    every call."""
    if record is not None and owner is None:
        op, out, args = record[0], record[1], dict(record[9].items())
    else:
        op = registry.lookup(call.kind)
        args = dict(registry.bind(op, call, _never).items())
        ref = owner or row
        out = LayerOut(row.output_shape, params=ref.params, non_trainable=ref.non_trainable_params, macs=row.macs,
                       mults=row.mults, adds=row.adds, flops=row.flops)
    if op.kind == "attentionscores":                # the attention layer's saved weights, not a new tensor
        from .errors import SpecError
        from .i18n import Msg
        raise SpecError(Msg("err.train.attention_scores", name=row.name))
    in_shapes = [tuple(s) for s in row.input_shapes]
    out_shape = tuple(row.output_shape)
    b = backward(op.kind, op.family, in_shapes, out_shape, args, out)
    shapes = {f"in{i}": s for i, s in enumerate(in_shapes)}
    shapes["out"] = out_shape
    return op, args, b, shapes, _param_tensors(op.kind, op.family, row, args), prod(out_shape) * nb


def _never(msg, where=None):                    # the call was bound once already, during the analysis
    raise AssertionError(msg)


def _input_row_shape(report, call):
    """The shape of a further network input (a several-input spec), batch first."""
    from .analysis import _input_shape
    return _input_shape(call, report.batch)


def _param_tensors(kind: str, family: str, row, args) -> tuple:
    """Element counts of a layer's trainable tensors as PyTorch holds them (the optimizer keeps a step counter
    per tensor, and updates one tensor at a time): kernel and bias, gamma and beta, a recurrent stack's weights
    and biases per layer and direction."""
    n = row.trainable_params
    if not n:
        return ()
    k = prod(row.kernel_shape) if row.kernel_shape else 0
    if family == "norm" and n % 2 == 0 and args.get("affine", True) not in (False, "false"):
        return (n // 2, n // 2)
    if family == "recurrent":
        per = 2 * (2 if args.get("bidirectional") in (True, "true") else 1) * int(args.get("num_layers", 1) or 1)
        tensors = per * (2 if args.get("bias", True) not in (False, "false") else 1)
        return (n // tensors,) * tensors
    if 0 < k <= n:
        rest = n - k
        return (k,) + ((rest,) if rest else ())
    return (n,)


def analyze_training(calls, *, convention: str = "pytorch", batch: int | None = None, dtype: str = "float32",
                     optimizer: str = "sgd", amp=None):
    """The report of a spec's layer calls with its training step (``report.training``)."""
    from dataclasses import replace

    from .analysis import analyze_calls
    trace: list = []
    report = analyze_calls(calls, convention=convention, batch=batch, dtype=dtype, trace=trace)
    return replace(report, training=train_report(calls, report, optimizer=optimizer, amp=amp, trace=trace))


def train_report(calls, report, *, optimizer: str = "sgd", amp=None, trace: list | None = None):
    """The training step of a spec (PyTorch's rules) or of a Keras model (``report.source == "keras"``: the
    ops Keras 3 runs on its torch backend, train_keras.py).  ``trace``: see :func:`nodes_of`."""
    act = 2 if amp else report.dtype_bytes
    buffers = sum(r.buffer_bytes for r in report.layers)
    if report.source == "keras":
        from .train_keras import Expander, state_bytes, update_temps
        from .training import by_rows, check_optimizer
        opt, _ = check_optimizer(optimizer, amp)
        expander = Expander(act)
        nodes, inputs = nodes_of(calls, report, act, expander)
        each = 4 if amp else report.dtype_bytes
        trainable = sum(n.trainable for n in nodes)
        result = simulate(nodes, inputs, act_bytes=act, param_bytes_each=report.dtype_bytes, buffer_bytes=buffers,
                          optimizer=optimizer, amp=amp, grads_in_forward=True,
                          state_bytes=state_bytes(opt, trainable, each), update_temps=update_temps(opt, trainable, each),
                          hold=frozenset(expander.layer_outputs),
                          keep=frozenset(inputs) | ({nodes[-1].output} if nodes else set()))
        return by_rows(result, lambda name: name.split("#")[0])
    nodes, inputs = nodes_of(calls, report, act, trace=trace)
    return simulate(nodes, inputs, act_bytes=act, param_bytes_each=report.dtype_bytes,
                    buffer_bytes=buffers, optimizer=optimizer, amp=amp, keep=frozenset(inputs))  # the loop's batch
