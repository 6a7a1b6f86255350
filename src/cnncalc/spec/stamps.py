"""Repeated block calls: one expansion recorded, the others stamped from it (issue 15).

A block whose body is layer calls only, called again with the same plain arguments, expands to the same layer
calls each time but for their names (the instance's prefix) and tensor ids (numbered on).  The elaborator
(spec/graph.py) records the first expansion as a :class:`Record` and makes each later call a :class:`Stamp`:
the record, the instance's prefix, its input tensor and where its tensor ids start.

``Stamp.calls()`` gives the layer calls that expanding the block gives, field for field.  ``elaborate()``
returns those; ``elaborate(compact=True)`` (used by ``cnncalc.analyze`` on text specs) keeps the stamps, and
the analysis (repeats.py, analysis.py) repeats a block's layer results from its first run on the same input
shape instead of looking each layer up again.  Only the analysis reads a compact list.
"""
from __future__ import annotations

from .ast import LayerCall

_new = object.__new__


class Record:
    """A block's recorded expansion, its tensors renumbered: the block's input is -1, its own tensors 1, 2, ...

    ``nodes``: per layer call (its fields as a LayerCall's dict, with no label, inputs or output; the name
    after the instance's prefix; the input tensors; the output tensor).  ``here``: the block's output tensor.
    ``work``: the elaborator's work count of one expansion.  For the analysis: ``last``, per layer, the position
    of the last layer in the block that reads its output (None: none does); ``entry_last``, the position of the
    last layer that reads the block's input (None: none does), ``here_last`` the same for its output;
    ``replayable``: its tensors are numbered 1, 2, ... in order and no ``input(...)`` is inside; ``rows``: per
    layer, what the analysis reads to repeat it (its inputs with the block's input as 0)."""

    __slots__ = ("nodes", "here", "work", "last", "entry_last", "here_last", "replayable", "rows")

    def __init__(self, nodes: tuple, here: int, work: int):
        self.nodes, self.here, self.work = nodes, here, work
        reader: dict = {}
        for pos, (_, _, inputs, _) in enumerate(nodes):
            for i in inputs:
                reader[i] = pos
        self.last = tuple([reader.get(out) for _, _, _, out in nodes])
        self.entry_last = reader.get(-1)
        self.here_last = reader.get(here) if here >= 0 else None
        self.replayable = [out for *_, out in nodes] == list(range(1, len(nodes) + 1)) and all(
            f["kind"].lower().replace("_", "") not in ("input", "inputlayer") for f, *_ in nodes)
        # what the analysis reads of each layer when it repeats the block (analysis.py)
        self.rows = tuple([("." + suffix, tuple([max(i, 0) for i in inputs]), out, last, f["line"], f["text"])
                           for (f, suffix, inputs, out), last in zip(nodes, self.last)])


class Stamp:
    """One more call of a recorded block: ``record`` expanded under ``prefix``, its input the tensor ``entry``,
    its own tensor ids numbered from ``base`` + 1; ``output``: the tensor id the block leaves as current."""

    __slots__ = ("record", "prefix", "entry", "base", "output")

    def __init__(self, record: Record, prefix: str, entry: str, base: int):
        self.record, self.prefix, self.entry, self.base = record, prefix, entry, base
        here = record.here
        self.output = entry if here < 0 else f"t{base + here}"

    def __len__(self) -> int:
        return len(self.record.nodes)

    def calls(self) -> list[LayerCall]:
        """The layer calls of this block call (what expanding its body gives)."""
        entry, base, prefix = self.entry, self.base, self.prefix
        out = []
        append = out.append
        # each node starts as a copy of its recorded fields (kind, args, line, column, text, extra; the dict of
        # a LayerCall, in its fields' order) -- half the cost of LayerCall(...).  The recorded extras are shared
        # by every stamp: nothing writes into a node's extra after elaboration (elaborate() gives an aliased
        # node a new dict)
        for fields, suffix, inputs, o in self.record.nodes:
            if len(inputs) == 1:                       # most layers: one input (the block's, or a tensor of it)
                i = inputs[0]
                ins = (entry,) if i < 0 else (f"t{base + i}",)
            else:
                ins = tuple([entry if i < 0 else f"t{base + i}" for i in inputs])
            node = _new(LayerCall)
            d = node.__dict__
            d.update(fields)
            d["label"] = f"{prefix}.{suffix}"
            d["inputs"] = ins
            d["output"] = f"t{base + o}"
            append(node)
        return out


def expand(nodes: list) -> list[LayerCall]:
    """A compact list of layer calls and stamps as layer calls only."""
    out = []
    for n in nodes:
        if type(n) is Stamp:
            out.extend(n.calls())
        else:
            out.append(n)
    return out


def record(nodes: list, prefix: str, entry: str, first: int, current: str, work: int) -> Record | None:
    """A block's first expansion (``nodes``; its tensors numbered after ``first``) as a Record, or None when it
    cannot be repeated by renumbering (a layer reads a tensor from outside the block, or is named otherwise)."""
    def local(t: str) -> int | None:
        if t == entry:
            return -1
        n = int(t[1:]) - first if t[:1] == "t" and t[1:].isdigit() else 0
        return n if n > 0 else None

    out = []
    for c in nodes:
        ins = [local(t) for t in c.inputs]
        if None in ins or not (c.label or "").startswith(prefix + ".") or local(c.output) is None:
            return None
        fields = dict(c.__dict__, label=None, inputs=None, output=None)     # (the keys keep the fields' order)
        out.append((fields, c.label[len(prefix) + 1:], tuple(ins), local(c.output)))
    here = local(current)
    return None if here is None or not out else Record(tuple(out), here, work)
