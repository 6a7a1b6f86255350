"""The analysis's reading of a layer list: tensor lifetimes, and repeated blocks (stamps) (issue 15).

``cnncalc.analyze`` loads a text spec compactly (spec/stamps.py): a block called again with the same arguments
is one :class:`~cnncalc.spec.stamps.Stamp`, not its layer calls.  :func:`layer_items` hands analysis.py the
layers: each layer call as it is; a stamp's calls the first time its block meets its input shape (their
results make the block's *plan* for that shape); after that the stamp with its plan, and analysis.py repeats
the block's layers from it -- the same op results, input shapes and wiring, only the receptive fields, names,
indexes and memory worked out again.  test_spec_speed.py checks every test text both ways.
"""
from __future__ import annotations

from .spec.stamps import Stamp


def last_uses(calls, in_id: str) -> tuple[dict, int]:
    """Tensor id -> index of the last layer that reads it (None: no layer does, it is a network output); and
    the number of layers.

    Peak memory follows these lifetimes: a tensor is born when its layer runs and freed after its last
    consumer has run; tensors no layer consumes stay alive to the end.  While a layer runs, its inputs and
    its output are both alive.  No workspace, no in-place reuse, no allocator rounding.  A stamp's own tensors
    (nothing outside its block reads them) are left to :func:`layer_items`.
    """
    last = {in_id: None}
    prev = in_id
    i = 0
    for call in calls[1:]:
        if type(call) is Stamp:                        # a repeated block: its input's and output's last readers
            rec = call.record
            if rec.entry_last is not None:
                last[call.entry] = i + 1 + rec.entry_last
            if rec.here >= 0:
                last[call.output] = None if rec.here_last is None else i + 1 + rec.here_last
            i += len(rec.nodes)
            prev = call.output
            continue
        i += 1
        for t in (call.inputs if call.inputs is not None else (prev,)):
            last[t] = i
        prev = call.output or f"t{i}"
        last.setdefault(prev, None)
    return last, i


def layer_items(calls: list, shapes: dict, last: dict, log: list):
    """The layers of a compact list for analyze_calls: layer calls, and ``(stamp, plan)`` for a stamp whose
    block already ran from the same input shape.  ``plan``: per layer, (op result record, input shapes).

    A stamp met with a new input shape gives its layer calls (their tensors' last readers added to ``last``);
    their result records, which analyze_calls appends to ``log``, make the plan for that shape."""
    plans: dict = {}
    index = 0
    for c in calls[1:]:
        if type(c) is not Stamp:
            index += 1
            yield c
            continue
        rec = c.record
        key = (id(rec), shapes[c.entry])
        plan = plans.get(key)
        if plan is not None:
            yield c, plan
            index += len(rec.nodes)
            continue
        sub = c.calls()
        for node, end in zip(sub, rec.last):           # the block's own tensors' last readers (as last_uses)
            if node.output != c.output:
                last[node.output] = None if end is None else index + 1 + end
        n = len(log)
        yield from sub
        if rec.replayable and len(log) - n == len(sub):   # each layer's result record and input shapes
            plans[key] = [(done, tuple([shapes[t] for t in node.inputs])) for done, node in zip(log[n:], sub)]
        index += len(sub)
