"""What the ONNX front-end's modules share: data types, limits, the node wrapper and the per-node record."""
from __future__ import annotations

from ...conventions import get_convention
from ..aten import Cost

ONNX = get_convention("onnx")

#: ONNX TensorProto data types
FLOAT_TYPES = {1, 10, 11, 16, 17, 18, 19, 20}       # float, float16, double, bfloat16, float8 variants
DTYPE_NAMES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
               10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"}
DTYPE_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
               17: 1, 18: 1, 19: 1, 20: 1, 21: 1, 22: 1, 23: 1}

CONTROL_FLOW = {"If", "Loop", "Scan", "SequenceMap"}
FOLD_LIMIT = 1 << 16            # constant folding only for small tensors (shapes, axes, scales)
FLOAT_VALUES_KEPT = 64          # float constants up to this size keep their values (Resize scales, Range bounds)


def keeps_values(numel: int, data_type: int) -> bool:
    """Whether cnncalc reads a stored tensor's values: small integer tensors (shapes, axes, pads, indices) and
    tiny float ones (scales, bounds).  A weight's values never change a shape, a count or a cost, so they are
    never read (nor copied, nor kept in memory)."""
    return numel <= (FOLD_LIMIT if data_type not in FLOAT_TYPES else FLOAT_VALUES_KEPT)


def int_shape(shape) -> tuple:
    """A shape as a tuple of Python ints; a rule's answer mostly is one already, kept without a copy (numpy's
    integers come from folded values)."""
    if type(shape) is tuple:
        for v in shape:
            if type(v) is not int:
                return tuple(map(int, shape))
        return shape
    return tuple(map(int, shape))


class _NoShape(Exception):
    """A formula needs a shape that neither ONNX nor cnncalc could infer."""


def _short_error(e: Exception) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:200]}" if msg else type(e).__name__


class _Stat:
    """What one node adds to its row (a plain class: a model has thousands of nodes)."""

    __slots__ = ("cost", "params", "non_trainable", "pbytes", "uncounted", "warnings", "live", "kernel", "steps",
                 "param_parts", "rf")

    def __init__(self):
        self.cost = Cost()
        self.params = self.non_trainable = self.pbytes = self.live = 0
        self.uncounted: dict = {}
        self.warnings: list = []
        self.kernel: tuple | None = None
        self.steps: list = []              # the op layer's LayerOuts (their steps made when the row's are read)
        self.param_parts: list = []        # (constant, shape, trainable) feeding the node
        self.rf = None                     # the op layer's receptive-field effect (convs and pools)


class _N:
    """One node with what is known about its inputs and outputs."""

    __slots__ = ("g", "proto", "index", "op", "domain", "key", "opset", "answer", "inputs", "outputs", "attrs",
                 "name")

    def __init__(self, g, proto, index, opset):
        self.g = g
        self.proto = proto
        self.index = index
        self.op = op = proto.op_type
        self.name = proto.name                         # (read once: a protobuf field read is not free)
        domain = proto.domain
        if domain == "ai.onnx":
            domain = ""
        self.domain = domain
        self.key = f"{domain}.{op}" if domain else op
        self.opset = opset
        self.answer = None                             # the op layer's answer, once asked (ops.conv, ops.pool)
        self.inputs = proto.input[:]                   # (a slice of a repeated field: a list, faster than list())
        self.outputs = proto.output[:]
        self.attrs = attrs = {}
        for a in proto.attribute[:]:
            t = a.type                                 # (a graph's own nodes never refer to function attributes)
            if t == 2:                                 # the common kinds read directly: INT, INTS, FLOAT, STRING,
                attrs[a.name] = a.i
            elif t == 7:
                attrs[a.name] = a.ints[:]
            elif t == 1:
                attrs[a.name] = a.f
            elif t == 3:
                attrs[a.name] = a.s.decode()
            elif t == 4:                               # TENSOR (Constant's value)
                attrs[a.name] = a.t
            else:
                from onnx import helper
                try:
                    v = helper.get_attribute_value(a)
                except Exception:  # noqa: BLE001
                    continue
                attrs[a.name] = v.decode() if isinstance(v, bytes) else v

    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def has(self, i) -> bool:
        return i < len(self.inputs) and self.inputs[i] != ""

    def ish(self, i):
        s = self.g.shapes.get(self.inputs[i]) if self.has(i) else None
        if s is None:
            raise _NoShape(self.inputs[i] if self.has(i) else f"input {i}")
        return s

    def osh(self, i=0):
        s = self.g.shapes.get(self.outputs[i]) if i < len(self.outputs) else None
        if s is None:
            raise _NoShape(self.outputs[i] if i < len(self.outputs) else f"output {i}")
        return s

    def shape_or_none(self, i):
        return self.g.shapes.get(self.inputs[i]) if self.has(i) else None

    def val(self, i):
        return self.g.values.get(self.inputs[i]) if self.has(i) else None

    def dtype(self, i):
        return self.g.dtypes.get(self.inputs[i]) if self.has(i) else None

    def is_float(self, i=0) -> bool:
        return self.dtype(i) in FLOAT_TYPES

    def ints(self, name_or_index, default=None):
        """An int list from an attribute (old opsets) or a constant input (new ones)."""
        if isinstance(name_or_index, str):
            v = self.attr(name_or_index)
            return default if v is None else [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
        v = self.val(name_or_index)
        return default if v is None else [int(x) for x in v.reshape(-1)]



class _Values(dict):
    """Known tensor values; a small initializer's array is made from its TensorProto only when a rule reads it
    (most are biases and scales nobody folds)."""

    def __init__(self):
        super().__init__()
        self._pending: dict = {}

    def later(self, name, read):
        """``read()`` gives the value of ``name`` (or None) when it is first asked for."""
        self._pending[name] = read

    def get(self, name, default=None):
        if name in self._pending:
            v = self._pending.pop(name)()
            if v is not None:
                self[name] = v
        return super().get(name, default)

    def __setitem__(self, name, value):
        self._pending.pop(name, None)
        super().__setitem__(name, value)


class _Graph:
    def __init__(self):
        self.shapes: dict = {}
        self.dtypes: dict = {}
        self.values = _Values()
        self.static: set = set()
