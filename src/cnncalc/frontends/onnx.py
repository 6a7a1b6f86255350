"""ONNX models: a ``.onnx`` file or an ``onnx.ModelProto``, analysed without running it.

Needs only the ``onnx`` package (imported here, lazily: ``pip install 'cnncalc[onnx]'``).

1. Inputs: dynamic dimensions (``batch_size``, ``?``) are bound from ``input_size`` (``--input``); a dimension
   without a value stops with a SpecError naming it.
2. Shapes: ``onnx.shape_inference.infer_shapes(data_prop=True)`` on the bound model; where it leaves a gap,
   cnncalc's own rules (conv / transposed conv / pool lengths of ``formulas.py`` under the onnx convention,
   broadcasting, Gemm/MatMul, Flatten, Reshape, Concat, Resize, ...) and a small constant folder for the
   shape-computing subgraphs (Shape -> Gather -> Concat -> Reshape) fill it.
3. Parameters: constant tensors (initializers, Constant nodes), traced back through Identity / Cast /
   Transpose / Reshape, that feed a weight or data input of a node: Conv W/B, Gemm B/C, MatMul's constant
   operand, BatchNormalization scale/B (and mean/var, non-trainable), LSTM W/R/B, Add/Mul constant operands,
   a Gather table, ...; each once, at its first consumer.  Constants feeding shapes, axes, pads, scales,
   indices or exponents, and constant scalars, are not parameters.
4. Costs: one formula per op (the aten table's definitions: MACs of Conv/ConvTranspose/Gemm/MatMul/Einsum/
   recurrent nodes and attention, FLOPs of everything elementwise); data movement is free; any other op is
   listed in ``report.uncounted_ops``.  Nodes computed from constants only (shape arithmetic) cost nothing:
   a runtime folds them once.
5. Rows: one per node, grouped into the modules named by the node names (``/layer1/layer1.0/conv1/Conv``, or
   the torch dynamo exporter's ``pkg.torch.onnx.name_scopes`` metadata) down to ``depth``.
"""
from __future__ import annotations

import ast
import numbers
import operator
import os
from dataclasses import dataclass, field
from fractions import Fraction
from math import prod

from .. import rf as rfmod
from ..conventions import get_convention
from ..errors import SpecError
from ..formulas import Step, keff, pool_length_step, same_padding, transposed_length_step
from ..ops.activation import ACTIVATION_FLOPS
from ..ops.base import DIM_NAMES
from ..ops.norm import AFFINE_FLOPS_PER_ELEMENT, NORM_FLOPS_PER_ELEMENT, NORM_FLOPS_PER_GROUP
from ..ops.recurrent import CELL_FLOPS
from ..ops.registry import RF
from ..report.model import LayerReport, Report, Totals
from .aten import Cost

ONNX = get_convention("onnx")

#: ONNX TensorProto data types
FLOAT_TYPES = {1, 10, 11, 16, 17, 18, 19, 20}       # float, float16, double, bfloat16, float8 variants
DTYPE_NAMES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
               10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"}
DTYPE_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
               17: 1, 18: 1, 19: 1, 20: 1, 21: 1, 22: 1, 23: 1}

CONTROL_FLOW = {"If", "Loop", "Scan", "SequenceMap"}
FOLD_LIMIT = 1 << 16            # constant folding only for small tensors (shapes, axes, scales)


class _NoShape(Exception):
    """A formula needs a shape that neither ONNX nor cnncalc could infer."""


def _short_error(e: Exception) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:200]}" if msg else type(e).__name__


# ============================================================================ loading and binding

def is_onnx_source(spec) -> bool:
    """An ``onnx.ModelProto`` or a path ending in ``.onnx`` (checked without importing onnx)."""
    t = type(spec)
    if t.__name__ == "ModelProto" and t.__module__.split(".")[0] == "onnx":
        return True
    if isinstance(spec, (str, os.PathLike)):
        s = os.fspath(spec)
        return isinstance(s, str) and s.lower().endswith(".onnx") and "\n" not in s and "|" not in s
    return False


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise SpecError("reading ONNX models needs the onnx package: pip install 'cnncalc[onnx]' "
                        "(or pip install onnx)") from None
    return onnx


def _load(source):
    onnx = _import_onnx()
    if isinstance(source, onnx.ModelProto):
        m = onnx.ModelProto()
        m.CopyFrom(source)
        return onnx, m, "model"
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise SpecError(f"no such ONNX file: {path}")
    try:
        # weights stored outside the file are not needed: their shapes are in the file
        m = onnx.load(path, load_external_data=False)
    except Exception as e:  # noqa: BLE001 -- a corrupt or foreign file
        raise SpecError(f"cannot read the ONNX model {path}: {_short_error(e)}") from None
    return onnx, m, os.path.basename(path)


def _dims_of(vi):
    """[(value or None, name or None)] of a ValueInfo, or None when it carries no shape."""
    t = vi.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    out = []
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            out.append((d.dim_value, None))
        else:
            out.append((None, d.dim_param or None))
    return out


def _sizes_list(input_size, names):
    """input_size -> {input name: tuple}."""
    if input_size is None:
        return {}
    if isinstance(input_size, dict):
        unknown = [k for k in input_size if k not in names]
        if unknown:
            raise SpecError(f"input_size names {unknown[0]!r}, which is not an input of the model; its inputs: "
                            f"{', '.join(names)}")
        sizes = dict(input_size)
    else:
        seq = list(input_size)
        if seq and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in seq):
            seq = [tuple(seq)]
        if len(seq) > len(names):
            raise SpecError(f"{len(seq)} input sizes given, but the model has {len(names)} input(s): "
                            f"{', '.join(names)}")
        sizes = {n: s for n, s in zip(names, seq)}
    out = {}
    for n, s in sizes.items():
        try:
            s = tuple(operator.index(v) for v in s)
        except TypeError:
            raise SpecError(f"input '{n}': sizes must be whole numbers >= 1, got {s!r}") from None
        if not all(v >= 1 for v in s):
            raise SpecError(f"input '{n}': sizes must be whole numbers >= 1, got {s}")
        out[n] = s
    return out


def _example(dims, given):
    vals = [v if v is not None else 1 for v, _ in dims] if dims is not None else list(given or (1,))
    return "x".join(str(v) for v in vals)


def _bind(graph_inputs, input_size):
    """{input name: concrete shape}, binding named dimensions consistently across inputs."""
    names = [vi.name for vi in graph_inputs]
    sizes = _sizes_list(input_size, names)
    symbols: dict[str, int] = {}
    bound = {}
    # the inputs with a size first: their named dimensions bind the same names in the others
    for vi in sorted(graph_inputs, key=lambda vi: vi.name not in sizes):
        dims = _dims_of(vi)
        given = sizes.get(vi.name)
        if given is not None:
            if dims is not None and len(dims) != len(given):
                raise SpecError(f"input '{vi.name}' has {len(dims)} dimensions "
                                f"({', '.join(str(v) if v is not None else (p or '?') for v, p in dims)}); "
                                f"the size given has {len(given)}: {'x'.join(map(str, given))}")
            for i, (g, (v, p)) in enumerate(zip(given, dims or [(None, None)] * len(given))):
                if v is not None and v != g:
                    raise SpecError(f"input '{vi.name}' dimension {i} is fixed at {v} in the model; the size given "
                                    f"has {g} ({'x'.join(map(str, given))})")
                if p is not None:
                    if symbols.setdefault(p, g) != g:
                        raise SpecError(f"input '{vi.name}' dimension {i} ('{p}') is {g} here but {symbols[p]} in "
                                        f"another input: dimensions with the same name must agree")
            bound[vi.name] = given
            continue
        if dims is None:
            raise SpecError(f"input '{vi.name}' has no shape in the model: give its size, e.g. --input "
                            f"1x3x224x224 (input_size= from Python)")
        shape = []
        for i, (v, p) in enumerate(dims):
            if v is None and p is not None and p in symbols:
                v = symbols[p]
            if v is None:
                what = f"'{p}'" if p else "unnamed"
                ex = _example(dims, None)
                raise SpecError(f"input '{vi.name}' dimension {i} ({what}) needs a value: pass --input {ex} "
                                f"(input_size=({ex.replace('x', ', ')}) from Python)"
                                + ("" if len(graph_inputs) == 1 else
                                   f"; the model's inputs, in order: {', '.join(names)}"))
            shape.append(v)
        bound[vi.name] = tuple(shape)
    return {vi.name: bound[vi.name] for vi in graph_inputs}


def _infer(onnx, model, graph_inputs, bound):
    """Shape inference on a copy with the inputs bound; {tensor: (elem_type, shape or None)}."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    del g.value_info[:]
    # large weights enter as typed inputs: inference needs their shapes, not their bytes
    big = [t for t in g.initializer if prod(t.dims) > FOLD_LIMIT]
    if big:
        keep = [t for t in g.initializer if prod(t.dims) <= FOLD_LIMIT]
        listed = {vi.name for vi in g.input}
        for t in big:
            if t.name not in listed:
                g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        del g.initializer[:]
        g.initializer.extend(keep)
    for vi in g.input:
        if vi.name in bound:
            tt = vi.type.tensor_type
            tt.ClearField("shape")
            for d in bound[vi.name]:
                tt.shape.dim.add().dim_value = d
    for vi in g.output:
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    out = onnx.shape_inference.infer_shapes(m, check_type=False, strict_mode=False, data_prop=True)
    info = {}
    for vi in list(out.graph.value_info) + list(out.graph.output) + list(out.graph.input):
        if not vi.type.HasField("tensor_type"):
            continue
        dims = _dims_of(vi)
        shape = tuple(v for v, _ in dims) if dims is not None and all(v is not None for v, _ in dims) else None
        info[vi.name] = (vi.type.tensor_type.elem_type or None, shape)
    return info


# ============================================================================ per-node context

@dataclass
class _Stat:
    cost: Cost = field(default_factory=Cost)
    params: int = 0
    non_trainable: int = 0
    pbytes: int = 0
    uncounted: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    live: int = 0
    kernel: tuple | None = None
    steps: list = field(default_factory=list)
    param_parts: list = field(default_factory=list)


class _N:
    """One node with what is known about its inputs and outputs."""

    def __init__(self, g, proto, index, opset):
        self.g = g
        self.proto = proto
        self.index = index
        self.op = proto.op_type
        self.domain = proto.domain if proto.domain not in ("", "ai.onnx") else ""
        self.key = f"{self.domain}.{self.op}" if self.domain else self.op
        self.opset = opset
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.attrs = {}
        from onnx import helper
        for a in proto.attribute:
            try:
                v = helper.get_attribute_value(a)
            except Exception:  # noqa: BLE001
                continue
            self.attrs[a.name] = v.decode() if isinstance(v, bytes) else v

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


# ============================================================================ constant folding

def _np():
    import numpy as np
    return np


def _axes(a, rank):
    return [int(x) % rank if rank else 0 for x in a]


def _int_div(a, b):
    np = _np()
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        q = np.abs(a) // np.where(b == 0, 1, np.abs(b))
        return (q * np.sign(a) * np.sign(b)).astype(np.result_type(a, b))
    return a / b


def _slice_params(n, rank):
    if n.opset < 10 or "starts" in n.attrs:
        starts, ends = n.ints("starts"), n.ints("ends")
        axes = n.ints("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = n.ints(1), n.ints(2)
        if starts is None or ends is None:
            return None
        axes = n.ints(3, list(range(len(starts)))) if n.has(3) else list(range(len(starts)))
        steps = n.ints(4, [1] * len(starts)) if n.has(4) else [1] * len(starts)
        if axes is None or steps is None:
            return None
    return starts, ends, _axes(axes, rank), steps


def _slice_len(L, start, end, step):
    return len(range(*slice(start, end, step).indices(L)))


def _reshape_target(shape_in, target, allowzero=False):
    out = list(target)
    for i, t in enumerate(out):
        if t == 0 and not allowzero:
            out[i] = shape_in[i]
    if -1 in out:
        known = prod(v for v in out if v != -1)
        out[out.index(-1)] = prod(shape_in) // known if known else 0
    return tuple(int(v) for v in out)


def _fold(n):
    """Output values of a node whose inputs are all known constants (small tensors), or None."""
    np = _np()
    op = n.op
    if n.domain:
        return None
    if op == "Constant":
        from onnx import numpy_helper
        a = n.attrs
        if "value" in a:
            try:
                return [numpy_helper.to_array(a["value"])]
            except Exception:  # noqa: BLE001 -- external data not loaded
                return None
        for k, dt in (("value_float", np.float32), ("value_int", np.int64)):
            if k in a:
                return [np.array(a[k], dtype=dt)]
        for k, dt in (("value_floats", np.float32), ("value_ints", np.int64)):
            if k in a:
                return [np.array(list(a[k]), dtype=dt)]
        return None
    if op in ("Shape", "Size"):
        s = n.shape_or_none(0)
        if s is None:
            return None
        if op == "Size":
            return [np.array(prod(s), dtype=np.int64)]
        start, end = n.attr("start", 0), n.attr("end", None)
        return [np.array(s[start:end] if end is not None else s[start:], dtype=np.int64)]
    vals = [n.val(i) if n.has(i) else None for i in range(len(n.inputs))]
    if any(v is None for i, v in enumerate(vals) if n.has(i)):
        return None
    x = vals[0] if vals else None
    try:
        if op in ("Identity", "Dropout"):
            return [x]
        if op == "Cast":
            from onnx import helper
            return [x.astype(helper.tensor_dtype_to_np_dtype(n.attr("to")))]
        if op == "CastLike":
            return [x.astype(vals[1].dtype)]
        if op == "ConstantOfShape":
            from onnx import numpy_helper
            v = n.attr("value")
            fill = numpy_helper.to_array(v).reshape(-1)[0] if v is not None else np.float32(0)
            shape = [int(s) for s in x.reshape(-1)]
            if prod(shape) > FOLD_LIMIT:
                return None
            return [np.full(shape, fill, dtype=fill.dtype)]
        if op == "Gather":
            return [np.take(x, vals[1].astype(np.int64), axis=n.attr("axis", 0))]
        if op == "Unsqueeze":
            axes = n.ints("axes") if "axes" in n.attrs else n.ints(1)
            r = x.ndim + len(axes)
            out = x
            for a in sorted(_axes(axes, r)):
                out = np.expand_dims(out, a)
            return [out]
        if op == "Squeeze":
            axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
            if axes is None:
                return [np.squeeze(x)]
            return [np.squeeze(x, axis=tuple(_axes(axes, x.ndim)))]
        if op == "Concat":
            return [np.concatenate([v for v in vals if v is not None], axis=n.attr("axis"))]
        if op == "Slice":
            p = _slice_params(n, x.ndim)
            if p is None:
                return None
            idx = [slice(None)] * x.ndim
            for st, en, ax, sp in zip(*p):
                idx[ax] = slice(st, en, sp)
            return [x[tuple(idx)]]
        if op == "Reshape":
            return [x.reshape(_reshape_target(x.shape, [int(v) for v in vals[1]], n.attr("allowzero", 0)))]
        if op == "Flatten":
            a = n.attr("axis", 1) % (x.ndim or 1) if x.ndim else 0
            return [x.reshape(prod(x.shape[:a]), -1)]
        if op == "Transpose":
            return [np.transpose(x, n.attr("perm"))]
        if op == "Expand":
            shape = np.broadcast_shapes(x.shape, tuple(int(v) for v in vals[1]))
            return [np.broadcast_to(x, shape).copy()] if prod(shape) <= FOLD_LIMIT else None
        if op == "Tile":
            return [np.tile(x, [int(v) for v in vals[1]])]
        if op == "Range":
            return [np.arange(x, vals[1], vals[2]).astype(np.result_type(x, vals[1], vals[2]))]
        binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": _int_div, "Pow": np.power,
                  "Equal": np.equal, "Less": np.less, "Greater": np.greater, "LessOrEqual": np.less_equal,
                  "GreaterOrEqual": np.greater_equal, "And": np.logical_and, "Or": np.logical_or,
                  "Xor": np.logical_xor}
        if op in binary:
            r = binary[op](x, vals[1])
            return [r.astype(x.dtype) if op in ("Add", "Sub", "Mul", "Pow") else r]
        if op == "Mod":
            r = np.fmod(x, vals[1]) if n.attr("fmod", 0) else np.mod(x, vals[1])
            return [r]
        if op in ("Max", "Min", "Sum"):
            f = {"Max": np.maximum, "Min": np.minimum, "Sum": np.add}[op]
            r = x
            for v in vals[1:]:
                r = f(r, v)
            return [r]
        unary = {"Neg": np.negative, "Abs": np.abs, "Sqrt": np.sqrt, "Reciprocal": np.reciprocal, "Exp": np.exp,
                 "Log": np.log, "Floor": np.floor, "Ceil": np.ceil, "Round": np.round, "Sign": np.sign,
                 "Not": np.logical_not, "Relu": lambda v: np.maximum(v, 0)}
        if op in unary:
            r = unary[op](x)
            return [r.astype(x.dtype) if op not in ("Not",) else r]
        if op == "Where":
            return [np.where(x, vals[1], vals[2])]
        if op in ("ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "ReduceMean"):
            axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
            keep = bool(n.attr("keepdims", 1))
            f = {"ReduceProd": np.prod, "ReduceSum": np.sum, "ReduceMin": np.min, "ReduceMax": np.max,
                 "ReduceMean": np.mean}[op]
            if not axes:
                if n.attr("noop_with_empty_axes", 0):
                    return [x]
                axes = list(range(x.ndim))
            return [np.asarray(f(x, axis=tuple(_axes(axes, x.ndim)), keepdims=keep)).astype(x.dtype)]
        if op == "Split":
            axis = n.attr("axis", 0) % x.ndim
            parts = n.ints("split") if "split" in n.attrs else (n.ints(1) if n.has(1) else None)
            if parts is None:
                k = len(n.outputs)
                L = x.shape[axis]
                step = -(-L // k)
                parts = [min(step, L - i * step) for i in range(k)]
            cuts = list(np.cumsum(parts)[:-1])
            return list(np.split(x, cuts, axis=axis))
    except Exception:  # noqa: BLE001 -- folding is a convenience: unknown stays unknown
        return None
    return None


# ============================================================================ cnncalc's own shape rules

def _broadcast(*shapes):
    out = []
    r = max(len(s) for s in shapes)
    for i in range(r):
        ds = {s[len(s) - r + i] for s in shapes if len(s) - r + i >= 0}
        ds.discard(1)
        if len(ds) > 1:
            raise _NoShape("incompatible broadcast")
        out.append(ds.pop() if ds else 1)
    return tuple(out)


def _spatial_pads(n, spatial, k, s, d, transposed=False):
    """(begin, end) pads per spatial dim and the auto_pad word (None for explicit pads)."""
    nd = len(spatial)
    word = str(n.attr("auto_pad", "NOTSET")).upper()
    if word in ("SAME_UPPER", "SAME_LOWER"):
        if transposed:
            return None, word.lower()
        return [same_padding(L, k_, s_, d_, lower=word == "SAME_LOWER") for L, k_, s_, d_ in zip(spatial, k, s, d)], \
            word.lower()
    if word == "VALID":
        return [(0, 0)] * nd, "valid"
    pads = n.attr("pads") or [0] * (2 * nd)
    return [(pads[i], pads[i + nd]) for i in range(nd)], None


def _window(n, w_shape=None):
    """(spatial, kernel, strides, dilations) of a conv or pool node."""
    x = n.ish(0)
    spatial = x[2:]
    nd = len(spatial)
    k = n.attr("kernel_shape") or (list(w_shape[2:]) if w_shape is not None else None)
    if k is None:
        raise _NoShape("kernel")
    s = n.attr("strides") or [1] * nd
    d = n.attr("dilations") or [1] * nd
    return spatial, list(k), list(s), list(d)


def _conv_out(n):
    x, w = n.ish(0), n.ish(1)
    spatial, k, s, d = _window(n, w)
    pads, word = _spatial_pads(n, spatial, k, s, d)
    out = []
    for L, k_, s_, d_, (pb, pa) in zip(spatial, k, s, d, pads):
        if word in ("same_upper", "same_lower"):
            out.append(-(-L // s_))
        else:
            out.append((L + pb + pa - keff(k_, d_)) // s_ + 1)
    return (x[0], w[0]) + tuple(out)


def _convT_pads(n):
    """Begin pads of a ConvTranspose (after auto_pad / output_shape), and the output spatial sizes."""
    w = n.ish(1)
    spatial, k, s, d = _window(n, w)
    nd = len(spatial)
    op_ = n.attr("output_padding") or [0] * nd
    out_shape = n.attr("output_shape")
    word = str(n.attr("auto_pad", "NOTSET")).upper()
    if out_shape is not None or word in ("SAME_UPPER", "SAME_LOWER"):
        target = list(out_shape)[-nd:] if out_shape is not None else [L * s_ for L, s_ in zip(spatial, s)]
        begins = []
        for L, k_, s_, d_, o_, T in zip(spatial, k, s, d, op_, target):
            total = s_ * (L - 1) + o_ + keff(k_, d_) - T
            # ONNX spec (and onnxruntime): SAME_UPPER puts total/2 at the start, the odd pixel at the end;
            # SAME_LOWER and an explicit output_shape put the odd pixel at the start
            begins.append(total // 2 if word == "SAME_UPPER" else total - total // 2)
        return begins, target
    pads, _ = _spatial_pads(n, spatial, k, s, d)
    outs = [transposed_length_step("L", L, k_, s_, pb, pa, o_, d_, ONNX).value
            for L, k_, s_, d_, o_, (pb, pa) in zip(spatial, k, s, d, op_, pads)]
    return [pb for pb, _ in pads], outs


def _convT_out(n):
    x, w = n.ish(0), n.ish(1)
    _, outs = _convT_pads(n)
    return (x[0], w[1] * n.attr("group", 1)) + tuple(outs)


def _pool_out(n):
    x = n.ish(0)
    spatial, k, s, d = _window(n)
    pads, word = _spatial_pads(n, spatial, k, s, d)
    ceil_mode = bool(n.attr("ceil_mode", 0))
    out = [pool_length_step("L", L, k_, s_, pb, pa, d_, ceil_mode, ONNX, word, any(p != (0, 0) for p in pads)).value
           for L, k_, s_, d_, (pb, pa) in zip(spatial, k, s, d, pads)]
    return tuple(x[:2]) + tuple(out)


def _resize_out(n):
    x = n.ish(0)
    r = len(x)
    if n.op == "Upsample":
        scales = n.attr("scales") or (list(n.val(1).reshape(-1)) if n.val(1) is not None else None)
        sizes = None
    elif n.opset < 11:
        scales, sizes = (list(n.val(1).reshape(-1)) if n.val(1) is not None else None), None
    else:
        sv, zv = n.val(2), n.val(3)
        scales = list(sv.reshape(-1)) if sv is not None and sv.size else None
        sizes = [int(v) for v in zv.reshape(-1)] if zv is not None and zv.size else None
    axes = n.attr("axes")
    axes = list(range(r)) if axes is None else _axes(axes, r)
    out = list(x)
    if sizes is not None:
        policy = n.attr("keep_aspect_ratio_policy", "stretch")
        if policy in ("not_larger", "not_smaller"):
            ratios = [sz / x[a] for a, sz in zip(axes, sizes)]
            f = min(ratios) if policy == "not_larger" else max(ratios)
            for a in axes:
                out[a] = int(round(x[a] * f))   # spec: round half away from zero (rare ties)
        else:
            for a, sz in zip(axes, sizes):
                out[a] = sz
        return tuple(out)
    if scales is None:
        raise _NoShape("resize scales")
    for a, sc in zip(axes, scales):
        out[a] = int(_np().floor(x[a] * float(sc) + 1e-9)) if float(sc) != 1 else x[a]
    return tuple(out)


def _reduce_out(n, x, keep_default=1):
    axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
    keep = bool(n.attr("keepdims", keep_default))
    if not axes:
        if n.attr("noop_with_empty_axes", 0):
            return x
        axes = list(range(len(x)))
    axes = set(_axes(axes, len(x)))
    return tuple((1 if i in axes else v) for i, v in enumerate(x) if keep or i not in axes)


SAME_SHAPE = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Clip", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Neg",
    "Abs", "Sin", "Cos", "Tan", "Sign", "Floor", "Ceil", "Round", "IsNaN", "IsInf", "Not", "BatchNormalization",
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization", "Softmax",
    "LogSoftmax", "Hardmax", "Identity", "Cast", "CastLike", "Dropout", "LRN", "Trilu", "CumSum",
    "MeanVarianceNormalization", "Shrink", "BitwiseNot", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
    "Acosh", "Atanh", "RMSNormalization", "Swish",
}
BROADCAST = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Less", "Greater",
             "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr",
             "BitwiseXor"}


def _own_shapes(n):
    """Output shapes by cnncalc's rules (None where unknown)."""
    op = n.op
    if n.domain == "com.microsoft":
        if op == "Attention":
            x = n.ish(0)
            hs = n.attr("qkv_hidden_sizes")
            return [(x[0], x[1], hs[2] if hs else n.ish(1)[1] // 3)]
        if op == "MultiHeadAttention":
            q, v = n.ish(0), n.shape_or_none(2)
            return [(q[0], q[1], v[2] if v is not None and len(v) == 3 else q[2])]
        if op in ("Gelu", "FastGelu", "BiasGelu", "QuickGelu"):
            return [n.ish(0)]
        return [None] * len(n.outputs)
    if n.domain:
        return [None] * len(n.outputs)
    if op in SAME_SHAPE:
        return [n.ish(0)] + [n.shape_or_none(0) for _ in n.outputs[1:]]
    if op in BROADCAST:
        return [_broadcast(*[n.ish(i) for i in range(len(n.inputs)) if n.has(i)])]
    if op in ("Conv", "ConvInteger"):
        return [_conv_out(n)]
    if op == "ConvTranspose":
        return [_convT_out(n)]
    if op in ("MaxPool", "AveragePool", "LpPool"):
        o = _pool_out(n)
        return [o] + [o for _ in n.outputs[1:]]
    if op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        x = n.ish(0)
        return [tuple(x[:2]) + (1,) * (len(x) - 2)]
    if op == "Gemm":
        a, b = n.ish(0), n.ish(1)
        M = a[1] if n.attr("transA", 0) else a[0]
        N = b[0] if n.attr("transB", 0) else b[1]
        return [(M, N)]
    if op in ("MatMul", "MatMulInteger"):
        a, b = n.ish(0), n.ish(1)
        if len(a) == 1 and len(b) == 1:
            return [()]
        if len(a) == 1:
            return [tuple(b[:-2]) + (b[-1],)]
        if len(b) == 1:
            return [tuple(a[:-1])]
        return [_broadcast(a[:-2], b[:-2]) + (a[-2], b[-1])]
    if op == "Flatten":
        x = n.ish(0)
        a = n.attr("axis", 1) % (len(x) + 1) if n.attr("axis", 1) < 0 else n.attr("axis", 1)
        return [(prod(x[:a]), prod(x[a:]))]
    if op == "Reshape":
        t = n.val(1)
        if t is None:
            raise _NoShape("reshape target")
        return [_reshape_target(n.ish(0), [int(v) for v in t.reshape(-1)], n.attr("allowzero", 0))]
    if op == "Concat":
        shapes = [n.ish(i) for i in range(len(n.inputs)) if n.has(i)]
        a = n.attr("axis") % len(shapes[0])
        out = list(shapes[0])
        out[a] = sum(s[a] for s in shapes)
        return [tuple(out)]
    if op in ("Resize", "Upsample"):
        return [_resize_out(n)]
    if op == "Transpose":
        x = n.ish(0)
        perm = n.attr("perm") or list(range(len(x)))[::-1]
        return [tuple(x[p] for p in perm)]
    if op == "Unsqueeze":
        x = n.ish(0)
        axes = n.ints("axes") if "axes" in n.attrs else n.ints(1)
        if axes is None:
            raise _NoShape("unsqueeze axes")
        r = len(x) + len(axes)
        axes = set(_axes(axes, r))
        it = iter(x)
        return [tuple(1 if i in axes else next(it) for i in range(r))]
    if op == "Squeeze":
        x = n.ish(0)
        axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
        if axes is None and n.has(1):
            raise _NoShape("squeeze axes")
        axes = set(_axes(axes, len(x))) if axes is not None else {i for i, v in enumerate(x) if v == 1}
        return [tuple(v for i, v in enumerate(x) if i not in axes)]
    if op == "Slice":
        x = n.ish(0)
        p = _slice_params(n, len(x))
        if p is None:
            raise _NoShape("slice bounds")
        out = list(x)
        for st, en, ax, sp in zip(*p):
            out[ax] = _slice_len(x[ax], st, en, sp)
        return [tuple(out)]
    if op == "Gather":
        x, i = n.ish(0), n.ish(1)
        a = n.attr("axis", 0) % len(x)
        return [tuple(x[:a]) + tuple(i) + tuple(x[a + 1:])]
    if op == "GatherElements":
        return [n.ish(1)]
    if op == "Split":
        x = n.ish(0)
        a = n.attr("axis", 0) % len(x)
        parts = n.ints("split") if "split" in n.attrs else (n.ints(1) if n.has(1) else None)
        if parts is None:
            k = len(n.outputs)
            step = -(-x[a] // k)
            parts = [min(step, x[a] - i * step) for i in range(k)]
        return [tuple(x[:a]) + (p,) + tuple(x[a + 1:]) for p in parts]
    if op == "Pad":
        x = n.ish(0)
        pads = n.ints("pads") if "pads" in n.attrs else n.ints(1)
        if pads is None:
            raise _NoShape("pads")
        axes = n.ints(3) if n.has(3) else list(range(len(x)))
        axes = _axes(axes, len(x))
        out = list(x)
        for j, a in enumerate(axes):
            out[a] += pads[j] + pads[j + len(axes)]
        return [tuple(out)]
    if op == "Expand":
        t = n.val(1)
        if t is None:
            raise _NoShape("expand shape")
        return [_broadcast(n.ish(0), tuple(int(v) for v in t.reshape(-1)))]
    if op == "Tile":
        t = n.val(1)
        if t is None:
            raise _NoShape("tile repeats")
        return [tuple(a * int(b) for a, b in zip(n.ish(0), t.reshape(-1)))]
    if op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
        return [_reduce_out(n, n.ish(0))]
    if op in ("ArgMax", "ArgMin"):
        x = n.ish(0)
        a = n.attr("axis", 0) % len(x)
        keep = n.attr("keepdims", 1)
        return [tuple((1 if i == a else v) for i, v in enumerate(x) if keep or i != a)]
    if op == "TopK":
        x, k = n.ish(0), n.val(1)
        if k is None:
            raise _NoShape("k")
        a = n.attr("axis", -1) % len(x)
        o = tuple(int(k.reshape(-1)[0]) if i == a else v for i, v in enumerate(x))
        return [o, o]
    if op in ("LSTM", "GRU", "RNN"):
        x = n.ish(0)
        H = n.attr("hidden_size")
        D = 2 if n.attr("direction", "forward") == "bidirectional" else 1
        if n.attr("layout", 0):
            B, T = x[0], x[1]
            y, yh = (B, T, D, H), (B, D, H)
        else:
            T, B = x[0], x[1]
            y, yh = (T, D, B, H), (D, B, H)
        return [y, yh, yh][:len(n.outputs)]
    if op == "ConstantOfShape":
        t = n.val(0)
        if t is None:
            raise _NoShape("shape")
        return [tuple(int(v) for v in t.reshape(-1))]
    if op == "Range":
        a, b, c = n.val(0), n.val(1), n.val(2)
        if a is None or b is None or c is None:
            raise _NoShape("range bounds")
        return [(max(int(_np().ceil((float(b) - float(a)) / float(c))), 0),)]
    if op in ("DepthToSpace", "SpaceToDepth"):
        x = n.ish(0)
        b = n.attr("blocksize")
        if op == "DepthToSpace":
            return [(x[0], x[1] // (b * b), x[2] * b, x[3] * b)]
        return [(x[0], x[1] * b * b, x[2] // b, x[3] // b)]
    if op == "Einsum":
        _, out, sizes = _einsum_parse(n)
        return [tuple(sizes[c] for c in out)]
    if op == "Attention":
        q, v = n.ish(0), n.ish(2)
        if len(q) == 4:
            return [(q[0], q[1], q[2], v[3])] + [None] * (len(n.outputs) - 1)
        hq, hkv = n.attr("q_num_heads"), n.attr("kv_num_heads")
        return [(q[0], q[1], hq * (v[2] // hkv))] + [None] * (len(n.outputs) - 1)
    return [None] * len(n.outputs)


def _own_dtype(n, i):
    op = n.op
    if op in ("Shape", "Size", "NonZero", "ArgMax", "ArgMin"):
        return 7
    if op == "TopK" and i == 1 or op in ("MaxPool",) and i == 1:
        return 7
    if op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN",
              "IsInf"):
        return 9
    if op == "Cast":
        return n.attr("to")
    if op == "CastLike":
        return n.dtype(1)
    if op == "ConstantOfShape":
        v = n.attr("value")
        return v.data_type if v is not None else 1
    if op == "Dropout" and i == 1:
        return 9
    if op in ("Where",):
        return n.dtype(1)
    return n.dtype(0) if n.inputs else None


# ============================================================================ costs

def _numel(s):
    return prod(s)


def _mac_cost(macs, outputs, k, bias):
    adds = outputs * (k - 1) + (outputs if bias else 0)
    return Cost(macs, macs, adds, macs + adds)


def _c_conv(n, w_index=1, b_index=2):
    w = n.ish(w_index)
    o = n.osh(0)
    k = w[1] * prod(w[2:])
    return _mac_cost(_numel(o) * k, _numel(o), k, n.has(b_index))


def _c_convT(n):
    x, w, o = n.ish(0), n.ish(1), n.osh(0)
    macs = _numel(x) * w[1] * prod(w[2:])       # every input value meets C_out/groups * prod(k) weights
    outputs = _numel(o)
    adds = macs - outputs + (outputs if n.has(2) else 0)
    return Cost(macs, macs, adds, macs + adds)


def _c_gemm(n):
    a, b = n.ish(0), n.ish(1)
    M, K = (a[1], a[0]) if n.attr("transA", 0) else (a[0], a[1])
    N = b[0] if n.attr("transB", 0) else b[1]
    return _mac_cost(M * N * K, M * N, K, n.has(2))


def _c_matmul(n, ai=0, bi=1):
    K = n.ish(ai)[-1]
    o = n.osh(0)
    outputs = _numel(o)
    return _mac_cost(outputs * K, outputs, K, False)


def _einsum_parse(n):
    """(operand letter strings, output letter string, {letter: size}) with '...' spelled out as letters."""
    eq = str(n.attr("equation")).replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    shapes = [n.ish(i) for i in range(len(terms))]
    ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell_letters = "".join(chr(0x100 + j) for j in range(ell))
    sizes, spelled = {}, []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell_letters[ell - k:])
        spelled.append(t)
        for c, d in zip(t, s):
            sizes[c] = max(sizes.get(c, 1), d)
    if arrow:
        out = rhs.replace("...", ell_letters)
    else:                   # implicit mode: the letters seen once, in alphabetical order, after the ellipsis
        once = [c for c in sorted(set("".join(spelled)) - set(ell_letters)) if "".join(spelled).count(c) == 1]
        out = ell_letters + "".join(once)
    return spelled, out, sizes


def _c_einsum(n):
    terms, out, sizes = _einsum_parse(n)
    outputs = prod(sizes[c] for c in out)
    if len(terms) == 1:
        return Cost(flops=_numel(n.ish(0))) if set(terms[0]) - set(out) else Cost()
    if len(terms) != 2:
        return None
    total = prod(sizes.values())
    return _mac_cost(total, outputs, max(total // max(outputs, 1), 1), False)


def _c_recurrent(n):
    kind = n.op.lower()
    x, w, r = n.ish(0), n.ish(1), n.ish(2)
    layout = n.attr("layout", 0)
    T, B = (x[1], x[0]) if layout else (x[0], x[1])
    I = x[2]
    D = w[0]
    G = w[1]
    H = r[2]
    nb = 2 if n.has(3) else 0
    steps = B * T * D
    macs = steps * (G * I + G * H)
    adds = steps * (G * (I - 1) + G * (H - 1) + G + nb * G)
    cell = steps * CELL_FLOPS[kind] * H
    return Cost(macs, macs, adds, macs + adds + cell)


def _attention_core(bh, L, S, E, Ev):
    """Scores, softmax and weighted sum of (batch*heads) queries of length L over S keys."""
    macs = bh * L * S * (E + Ev)
    adds = bh * L * S * (E - 1) + bh * L * Ev * (S - 1)
    soft = bh * L * (5 * S - 2)
    return Cost(macs, macs, adds, macs + adds + soft)


def _c_ms_attention(n):
    x, w = n.ish(0), n.ish(1)
    B, S, Din = x
    heads = n.attr("num_heads")
    hs = n.attr("qkv_hidden_sizes") or [w[1] // 3] * 3
    proj_out = B * S * w[1]
    c = _mac_cost(proj_out * Din, proj_out, Din, n.has(2))
    c += _attention_core(B * heads, S, S, hs[0] // heads, hs[2] // heads)
    return c


def _c_ms_mha(n):
    q, k, v = n.ish(0), n.shape_or_none(1), n.shape_or_none(2)
    heads = n.attr("num_heads")
    if k is None or v is None or len(q) != 3:
        raise _NoShape("packed query/key/value")
    B, S, D = q
    L = k[1] if len(k) == 3 else k[2]
    Dv = v[2] if len(v) == 3 else v[1] * v[3]
    c = _attention_core(B * heads, S, L, D // heads, Dv // heads)
    if n.has(3):
        c += Cost(flops=B * S * D + 2 * B * L * D)
    return c


def _c_attention(n):
    q, k, v = n.ish(0), n.ish(1), n.ish(2)
    if len(q) == 4:
        B, Hq, S, E = q
        L, Ev = k[2], v[3]
    else:
        Hq, Hkv = n.attr("q_num_heads"), n.attr("kv_num_heads")
        B, S, E = q[0], q[1], q[2] // Hq
        L, Ev = k[1], v[2] // Hkv
    return _attention_core(B * Hq, S, L, E, Ev)


def _c_softmax(n):
    x = n.ish(0)
    if n.opset < 13:
        a = n.attr("axis", 1) % len(x)
        m = prod(x[a:])
    else:
        a = n.attr("axis", -1) % len(x)
        m = x[a]
    return Cost(flops=_numel(x) // max(m, 1) * (5 * m - 2))


def _c_norm(n, groups_of):
    x = n.ish(0)
    el = _numel(x)
    affine = n.has(1)
    return Cost(flops=el * (NORM_FLOPS_PER_ELEMENT + (AFFINE_FLOPS_PER_ELEMENT if affine else 0))
                + groups_of(x) * NORM_FLOPS_PER_GROUP)


def _layernorm_groups(n):
    def f(x):
        a = n.attr("axis", -1) % len(x)
        return prod(x[:a])
    return f


def _c_pool(n, per):
    o = n.osh(0)
    K = prod(n.attr("kernel_shape"))
    return Cost(flops=_numel(o) * per(K))


def _c_resize(n):
    x, o = n.ish(0), n.osh(0)
    mode = str(n.attr("mode", "nearest")).lower()
    if mode == "nearest":
        return Cost()
    nd = len(x) - 2 if len(x) >= 3 else sum(1 for a, b in zip(x, o) if a != b)
    taps = (2 if mode in ("linear", "bilinear") else 4) ** nd
    return Cost(flops=_numel(o) * (2 * taps - 1))


def _c_elementwise(per):
    def cost(n):
        if not n.is_float(0) and not (n.op == "Where" and n.is_float(1)):
            return Cost()
        return Cost(flops=_numel(n.osh(0)) * per)
    return cost


def _c_variadic(extra=0):
    def cost(n):
        if not n.is_float(0):
            return Cost()
        k = sum(1 for i in range(len(n.inputs)) if n.has(i))
        return Cost(flops=_numel(n.osh(0)) * (k - 1 + extra))
    return cost


def _c_reduce(n):
    return Cost(flops=_numel(n.ish(0))) if n.is_float(0) else Cost()


def _c_global_pool(n):
    x = n.ish(0)
    return Cost(flops=_numel(x))


FORMULAS = {
    "Conv": _c_conv, "ConvInteger": _c_conv, "QLinearConv": lambda n: _c_conv(n, 3, 8),
    "ConvTranspose": _c_convT, "Gemm": _c_gemm, "MatMul": _c_matmul, "MatMulInteger": _c_matmul,
    "QLinearMatMul": lambda n: _c_matmul(n, 0, 3), "Einsum": _c_einsum,
    "LSTM": _c_recurrent, "GRU": _c_recurrent, "RNN": _c_recurrent, "Attention": _c_attention,
    "com.microsoft.Attention": _c_ms_attention, "com.microsoft.MultiHeadAttention": _c_ms_mha,
    "Softmax": _c_softmax, "LogSoftmax": _c_softmax,
    "BatchNormalization": lambda n: Cost(flops=2 * _numel(n.ish(0))),
    "LayerNormalization": lambda n: _c_norm(n, _layernorm_groups(n)),
    "InstanceNormalization": lambda n: _c_norm(n, lambda x: x[0] * x[1]),
    "GroupNormalization": lambda n: _c_norm(n, lambda x: x[0] * n.attr("num_groups")),
    "MaxPool": lambda n: _c_pool(n, lambda K: K - 1), "AveragePool": lambda n: _c_pool(n, lambda K: K),
    "GlobalAveragePool": _c_global_pool, "GlobalMaxPool": _c_global_pool,
    "Resize": _c_resize, "Upsample": _c_resize,
    "Sum": _c_variadic(), "Max": _c_variadic(), "Min": _c_variadic(), "Mean": _c_variadic(1),
}
_PER_ELEMENT = {
    "Relu": ACTIVATION_FLOPS["relu"][0], "LeakyRelu": ACTIVATION_FLOPS["leakyrelu"][0], "PRelu": 2,
    "Elu": ACTIVATION_FLOPS["elu"][0], "Selu": ACTIVATION_FLOPS["selu"][0], "Gelu": ACTIVATION_FLOPS["gelu"][0],
    "Sigmoid": ACTIVATION_FLOPS["sigmoid"][0], "HardSigmoid": ACTIVATION_FLOPS["hardsigmoid"][0],
    "HardSwish": ACTIVATION_FLOPS["hardswish"][0], "Tanh": 1, "Softplus": ACTIVATION_FLOPS["softplus"][0],
    "Softsign": ACTIVATION_FLOPS["softsign"][0], "Mish": ACTIVATION_FLOPS["mish"][0], "Clip": 2,
    "Erf": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Reciprocal": 1, "Neg": 1, "Abs": 1, "Sin": 1, "Cos": 1, "Sign": 1,
    "Floor": 1, "Ceil": 1, "Round": 1, "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Mod": 1, "Where": 1,
    "Equal": 1, "Less": 1, "Greater": 1, "LessOrEqual": 1, "GreaterOrEqual": 1,
    "com.microsoft.Gelu": ACTIVATION_FLOPS["gelu"][0], "com.microsoft.FastGelu": ACTIVATION_FLOPS["gelu"][0],
}
for _k, _v in _PER_ELEMENT.items():
    FORMULAS.setdefault(_k, _c_elementwise(_v))
for _k in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
    FORMULAS[_k] = _c_reduce

#: ops that only move, view, create or copy data: no arithmetic
ZERO = {
    "Reshape", "Transpose", "Concat", "Gather", "GatherElements", "GatherND", "Slice", "Squeeze", "Unsqueeze",
    "Shape", "Size", "Constant", "ConstantOfShape", "Identity", "Cast", "CastLike", "Flatten", "Dropout", "Pad",
    "Expand", "Tile", "Split", "Range", "DepthToSpace", "SpaceToDepth", "ScatterND", "ScatterElements", "Scatter",
    "NonZero", "OneHot", "Trilu", "EyeLike", "ArgMax", "ArgMin", "TopK", "CumSum", "ReverseSequence", "Compress",
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Bernoulli", "Not", "And", "Or",
    "Xor", "IsNaN", "IsInf", "Optional", "OptionalGetElement", "OptionalHasElement",
}


def _cost(n):
    fn = FORMULAS.get(n.key)
    if fn is not None:
        return fn(n)
    if n.key in ZERO:
        return Cost()
    return None


# ============================================================================ parameters

#: input slots that hold weights: slot -> trainable (any dtype, scalars included)
WEIGHT_SLOTS = {
    "Conv": {1: True, 2: True}, "ConvTranspose": {1: True, 2: True}, "ConvInteger": {1: True},
    "QLinearConv": {3: True, 8: True}, "Gemm": {1: True, 2: True}, "MatMulInteger": {1: True},
    "QLinearMatMul": {3: True},
    "BatchNormalization": {1: True, 2: True, 3: False, 4: False},
    "LayerNormalization": {1: True, 2: True}, "InstanceNormalization": {1: True, 2: True},
    "GroupNormalization": {1: True, 2: True}, "RMSNormalization": {1: True}, "PRelu": {1: True},
    "LSTM": {1: True, 2: True, 3: True, 7: True}, "GRU": {1: True, 2: True, 3: True},
    "RNN": {1: True, 2: True, 3: True},
    "com.microsoft.Attention": {1: True, 2: True}, "com.microsoft.MultiHeadAttention": {3: True},
    "com.microsoft.SkipLayerNormalization": {2: True, 3: True, 4: True},
}
#: input slots that are never parameters: shapes, axes, pads, scales, indices, exponents, masks, states
NOT_PARAMS = {
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3},
    "Upsample": {1}, "Unsqueeze": {1}, "Squeeze": {1}, "Split": {1}, "TopK": {1}, "ConstantOfShape": {0},
    "Range": {0, 1, 2}, "Clip": {1, 2}, "OneHot": {0, 1, 2}, "Where": {0}, "Gather": {1}, "GatherElements": {1},
    "GatherND": {1}, "ScatterND": {1}, "ScatterElements": {1}, "Scatter": {1}, "Dropout": {1, 2},
    "DequantizeLinear": {1, 2}, "QuantizeLinear": {1, 2}, "Pow": {1}, "LSTM": {4, 5, 6}, "GRU": {4, 5},
    "RNN": {4, 5}, "Trilu": {1}, "CumSum": {1}, "Shape": {0}, "Size": {0}, "CastLike": {1},
    "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "ReduceProd": {1}, "ReduceL1": {1},
    "ReduceL2": {1}, "ReduceLogSum": {1}, "ReduceLogSumExp": {1}, "ReduceSumSquare": {1},
    "QLinearConv": {1, 2, 4, 5, 6, 7}, "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "ConvInteger": {2, 3},
    "MatMulInteger": {2, 3}, "Einsum": set(), "com.microsoft.Attention": {3, 4, 5},
    "com.microsoft.MultiHeadAttention": {4, 5, 6, 7},
}
#: static nodes a parameter passes through unchanged in substance (input 0)
PASSTHROUGH = {"Identity", "Cast", "CastLike", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten",
               "DequantizeLinear", "Expand", "Tile"}


# ============================================================================ receptive fields

VIEW = {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "GatherElements", "GatherND",
        "Flatten", "Expand", "Tile", "Split", "DepthToSpace", "SpaceToDepth", "Identity", "Cast", "CastLike",
        "Dropout", "TopK", "ArgMax", "ArgMin"}
MERGE = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Where", "Concat", "Pow", "PRelu", "Equal",
         "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Mod"}
KEEP = SAME_SHAPE - {"Identity", "Cast", "CastLike", "Dropout"}
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}


def _rf_new(n, st, known, out_shape, warn):
    """The receptive-field state of a node's first output."""
    op = n.op
    x = n.shape_or_none(0)
    out_rank = max(len(out_shape) - 2, 0)
    if n.domain:
        if n.key in ("com.microsoft.Attention", "com.microsoft.MultiHeadAttention"):
            return rfmod.GLOBAL_STATE if any(s is not None for s in known) else None
        return st if n.key.endswith("Gelu") and x == out_shape else None
    if op in ("Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"):
        w = n.ish(3 if op == "QLinearConv" else 1) if op in ("Conv", "ConvInteger", "QLinearConv") else None
        spatial, k, s, d = _window(n, w)
        pads, _ = _spatial_pads(n, spatial, k, s, d)
        ke = tuple(keff(a, b) for a, b in zip(k, d))
        return rfmod.apply(st, RF("window", ke, tuple(s), tuple(p[0] for p in pads)), out_rank)
    if op == "ConvTranspose":
        spatial, k, s, d = _window(n, n.ish(1))
        begins, _ = _convT_pads(n)
        ke = tuple(keff(a, b) for a, b in zip(k, d))
        return rfmod.apply(st, RF("transposed", ke, tuple(s), tuple(begins), tuple(d)), out_rank)
    if op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        return rfmod.GLOBAL_STATE if st is not None else None
    if op in ("Resize", "Upsample"):
        if x is None or len(x) < 3 or tuple(x[:2]) != tuple(out_shape[:2]):
            return None
        mode = str(n.attr("mode", "nearest")).lower()
        taps = 1 if mode == "nearest" else (4 if mode == "cubic" else 2)
        f = tuple(Fraction(b, a) for a, b in zip(x[2:], out_shape[2:]))
        return rfmod.apply(st, RF("upsample", (taps,) * len(f), f, ()), out_rank)
    if op in ("MatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "Einsum", "Attention"):
        return rfmod.GLOBAL_STATE if any(s is not None for s in known) else None
    if op in MERGE:
        new, w = rfmod.merge(known, DIM_NAMES.get(len(known[0]), ()) if isinstance(known[0], tuple) else ())
        if w:
            warn(w)
        return new
    if op == "Pad":
        if isinstance(st, tuple) and x is not None:
            pads = n.ints("pads") if "pads" in n.attrs else n.ints(1)
            axes = n.ints(3) if n.has(3) else list(range(len(x)))
            if pads is None or axes is None:
                return None
            axes = _axes(axes, len(x))
            begin = {a: pads[j] for j, a in enumerate(axes)}
            if any(begin.get(a, 0) or pads[j + len(axes)] for j, a in enumerate(axes) if a < 2):
                return None
            nd = len(st)
            left = tuple(begin.get(2 + i, 0) for i in range(nd))
            return rfmod.apply(st, RF("window", (1,) * nd, (1,) * nd, left), out_rank)
        return st
    if op in REDUCE:
        if x is None:
            return None
        axes = n.ints("axes") if "axes" in n.attrs else (n.ints(1) if n.has(1) else None)
        dims = set(range(len(x))) if not axes else set(_axes(axes, len(x)))
        spatial = set(range(2, len(x)))
        if spatial and spatial <= dims:
            return rfmod.GLOBAL_STATE if st is not None else None
        return st if not dims & spatial and len(out_shape) == len(x) else None
    if op in VIEW:
        if x is not None and tuple(out_shape) == tuple(x):
            return st
        if len(out_shape) == 2 and x is not None and len(x) > 2 and st is not None:
            return rfmod.GLOBAL_STATE
        return None
    if op in KEEP:
        return st if x is not None and tuple(x) == tuple(out_shape) else None
    return None


# ============================================================================ module paths

def _module_path(proto):
    """(module components, display labels per prefix, classes per prefix) from a node's name or metadata."""
    meta = {p.key: p.value for p in proto.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes:
        try:
            sc = ast.literal_eval(scopes)
            classes = ast.literal_eval(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
        except (ValueError, SyntaxError):
            sc, classes = None, []
        if isinstance(sc, list) and len(sc) >= 2:
            mods = tuple(str(s) for s in sc[1:-1])
            cls = tuple(str(c).rsplit(".", 1)[-1] for c in classes[1:-1]) if len(classes) == len(sc) else ()
            return mods, mods, cls
    name = proto.name
    if name.startswith("/") and name.count("/") >= 2:
        parts = tuple(p for p in name.strip("/").split("/")[:-1] if p)
        labels, cur = [], ""
        for p in parts:
            # torch's exporter writes a Sequential child as 'layer1.0' under 'layer1': rebuild 'layer1.0.conv1'
            cur = p if not cur or p.startswith(cur + ".") else f"{cur}.{p}"
            labels.append(cur)
        return parts, tuple(labels), ()
    return (), (), ()


# ============================================================================ the analysis

class _Graph:
    def __init__(self):
        self.shapes: dict = {}
        self.dtypes: dict = {}
        self.values: dict = {}
        self.static: set = set()


def analyze_onnx(source, input_size=None, *, depth: int = 3, dtypes=None, _onnx_inference: bool = True) -> Report:
    """Analyse an ONNX model (a path to a ``.onnx`` file or an ``onnx.ModelProto``).

    ``input_size``: the size of the input (a tuple), of each input in order (a list of tuples) or by name (a
    dict); needed for every dimension the model leaves open (``batch_size``, ``?``).  ``depth``: how deep the
    module groups named by the node names are shown (large: one row per node).  ``dtypes`` is accepted for
    symmetry with the torch front-end and ignored: an ONNX model carries its input types.
    """
    return _analyze(source, input_size, depth, _onnx_inference)[0]


def _analyze(source, input_size, depth, _onnx_inference):
    onnx, model, title = _load(source)
    g0 = model.graph
    init_names = {t.name for t in g0.initializer}
    graph_inputs = [vi for vi in g0.input if vi.name not in init_names]
    bound = _bind(graph_inputs, input_size)
    warnings: list[str] = []
    info = {}
    if _onnx_inference:
        try:
            info = _infer(onnx, model, graph_inputs, bound)
        except Exception as e:  # noqa: BLE001 -- inference is a help, cnncalc's rules remain
            warnings.append(f"ONNX shape inference failed ({_short_error(e)}); cnncalc's own shape rules were used")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)

    g = _Graph()
    # constants: initializers (values only when small and stored in the file)
    const_meta = {}                                   # name -> (numel, dtype)
    from onnx import numpy_helper
    for t in g0.initializer:
        shape = tuple(t.dims)
        g.shapes[t.name] = shape
        g.dtypes[t.name] = t.data_type
        g.static.add(t.name)
        const_meta[t.name] = (prod(shape), t.data_type)
        if prod(shape) <= FOLD_LIMIT and t.data_location != onnx.TensorProto.EXTERNAL:
            try:
                g.values[t.name] = numpy_helper.to_array(t)
            except Exception:  # noqa: BLE001
                pass
    for vi in graph_inputs:
        g.shapes[vi.name] = bound[vi.name]
        g.dtypes[vi.name] = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else None

    nodes = [_N(g, p, i, opset) for i, p in enumerate(g0.node)]
    stats = [_Stat() for _ in nodes]
    root = {}                                         # static tensor -> the constant it passes through from
    claimed: set = set()
    control = []
    subgraph_nodes = 0
    states = {}
    for vi in graph_inputs:
        s = bound[vi.name]
        states[vi.name] = rfmod.initial_state(tuple(s[2:])) if len(s) >= 3 and g.dtypes[vi.name] in FLOAT_TYPES \
            else None
    in_shape0 = bound[graph_inputs[0].name] if graph_inputs else ()
    in_spatial = tuple(in_shape0[2:]) if len(in_shape0) >= 3 else ()

    for n, st in zip(nodes, stats):
        is_cf = n.op in CONTROL_FLOW
        if is_cf:
            control.append(n)
            for a in n.proto.attribute:
                for sub in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                    subgraph_nodes += len(sub.node)
        static = not is_cf and all(i == "" or i in g.static for i in n.inputs) \
            or n.op in ("Shape", "Size") and n.has(0) and n.shape_or_none(0) is not None
        # values of static nodes (shape arithmetic, Constant)
        vals = _fold(n) if static else None
        # shapes: ONNX inference, else folded values, else cnncalc's rules
        own = None
        for j, o in enumerate(n.outputs):
            if o == "":
                continue
            dt, shape = info.get(o, (None, None))
            if vals is not None and j < len(vals) and vals[j] is not None:
                g.values[o] = vals[j]
                if shape is None:
                    shape = tuple(int(v) for v in vals[j].shape)
                dt = dt or _np_dtype_to_onnx(vals[j].dtype)
            if shape is None:
                if own is None:
                    try:
                        own = _own_shapes(n)
                    except (_NoShape, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
                        own = [None] * len(n.outputs)
                shape = own[j] if j < len(own) else None
            if shape is not None:
                g.shapes[o] = tuple(int(v) for v in shape)
            g.dtypes[o] = dt or _own_dtype(n, j)
            if static:
                g.static.add(o)
            if n.op == "Constant" and o in g.shapes:
                const_meta[o] = (prod(g.shapes[o]), g.dtypes[o])
        if n.op == "Reshape" and n.outputs and not static:
            _check_reshape(n)
        # parameters: constants reaching a weight or data input
        for i, name in enumerate(n.inputs):
            if name == "":
                continue
            r = root.get(name, name if name in const_meta else None)
            if r is None:
                continue
            if static and n.op in PASSTHROUGH and i == 0:
                for o in n.outputs:
                    root[o] = r
                continue
            if r in claimed:
                continue
            numel, dt = const_meta[r]
            slots = WEIGHT_SLOTS.get(n.key, {})
            if i in slots:
                trainable = slots[i]
            elif i in NOT_PARAMS.get(n.key, ()) or n.op in ("Shape", "Size") or numel <= 1 \
                    or dt not in FLOAT_TYPES:
                continue
            else:
                trainable = True
            claimed.add(r)
            st.param_parts.append(f"{r} {_fmt(g.shapes.get(r, (numel,)))}{'' if trainable else ' non-trainable'}")
            st.params += numel
            st.non_trainable += 0 if trainable else numel
            st.pbytes += numel * DTYPE_BYTES.get(dt, 4)
        # kernel shape shown in the row
        try:
            if n.op in ("Conv", "ConvTranspose", "ConvInteger", "LSTM", "GRU", "RNN"):
                st.kernel = n.ish(1)
            elif n.op == "QLinearConv":
                st.kernel = n.ish(3)
            elif n.op in ("Gemm", "MatMul") and not static:
                for i in (1, 0):
                    if n.has(i) and n.inputs[i] in g.static and len(n.ish(i)) >= 2:
                        st.kernel = n.ish(i)
                        break
        except _NoShape:
            pass
        if static:
            continue
        # cost
        if is_cf:
            st.uncounted[n.key] = st.uncounted.get(n.key, 0) + 1
        else:
            try:
                c = _cost(n)
            except (_NoShape, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as e:
                c = None
                why = f"tensor '{e.args[0]}' has no known shape" if isinstance(e, _NoShape) and e.args else \
                    f"{type(e).__name__} in its formula"
                st.warnings.append(f"{n.key} not counted: {why}")
            if c is None:
                st.uncounted[n.key] = st.uncounted.get(n.key, 0) + 1
            else:
                st.cost += c
                try:
                    st.steps += _cost_steps(n, c)
                except Exception:  # noqa: BLE001 -- an explanation must never break the count
                    pass
        # receptive field
        ins_states = [states.get(i) if i not in g.static else "const" for i in n.inputs if i != ""]
        known = [s for s in ins_states if s != "const"]
        first = next((s for s in ins_states if s != "const"), None)
        out_shape = g.shapes.get(n.outputs[0]) if n.outputs else None
        new = None
        if out_shape is not None and not is_cf and known:
            try:
                new = _rf_new(n, first, known, out_shape, st.warnings.append)
            except Exception:  # noqa: BLE001 -- a receptive-field rule must never break the count
                new = None
            if isinstance(new, tuple) and len(new) != max(len(out_shape) - 2, 0):
                new = None
        for o in n.outputs:
            states[o] = new if o == n.outputs[0] else None

    # ---------------------------------------------------------------- memory: tensor lifetimes
    def nbytes(t):
        s = g.shapes.get(t)
        return 0 if s is None else prod(s) * DTYPE_BYTES.get(g.dtypes.get(t), 4)

    live_nodes = [n for n in nodes if not all(o in g.static for o in n.outputs if o) or not n.outputs]
    last = {}
    for n in live_nodes:
        for i in n.inputs:
            if i and i not in g.static:
                last[i] = n.index
    outputs = {vi.name for vi in g0.output}
    input_bytes = sum(nbytes(vi.name) for vi in graph_inputs)
    live = peak = input_bytes
    frees: dict[int, int] = {}
    for vi in graph_inputs:
        if vi.name in last and vi.name not in outputs:
            frees[last[vi.name]] = frees.get(last[vi.name], 0) + nbytes(vi.name)
    for n in live_nodes:
        born = 0
        for o in n.outputs:
            if not o or o in g.static:
                continue
            b = nbytes(o)
            born += b
            if o in outputs:
                continue
            end = last.get(o, n.index)
            frees[end] = frees.get(end, 0) + b
        live += born
        peak = max(peak, live)
        stats[n.index].live = live
        live -= frees.pop(n.index, 0)

    # ---------------------------------------------------------------- rows
    if control:
        names = ", ".join(f"{c.op} '{c.proto.name or c.outputs[0]}'" for c in control)
        warnings.append(f"the model has control flow ({names}): cnncalc counted the main graph only; the "
                        f"{subgraph_nodes} node(s) inside their subgraphs (their MACs, FLOPs, parameters and "
                        f"shapes) are NOT counted, and the control-flow nodes are listed as uncounted")
    shown = [n for n in nodes if not all(o in g.static for o in n.outputs if o) or stats[n.index].params
             or n.op in CONTROL_FLOW]
    paths = {n.index: _module_path(n.proto) for n in shown}
    groups: dict = {}
    order = []
    for n in shown:
        mods, labels, classes = paths[n.index]
        key = ("m", mods[:depth]) if len(mods) >= depth else ("n", n.index)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(n)
    row_of_tensor = {}
    for key in order:
        for n in groups[key]:
            for o in n.outputs:
                row_of_tensor[o] = key
    row_names = {}
    counts: dict[str, int] = {}
    for key in order:
        members = groups[key]
        if key[0] == "n":
            n = members[0]
            if n.proto.name:
                row_names[key] = n.proto.name
            else:
                counts[n.op] = counts.get(n.op, 0) + 1
                row_names[key] = f"{n.op}_{counts[n.op]}"
        else:
            mods = key[1]
            labels = paths[members[0].index][1]
            row_names[key] = labels[len(mods) - 1] if mods else (g0.name or title)

    layers = []
    uncounted: dict[str, int] = {}
    for index, key in enumerate(order, start=1):
        members = groups[key]
        c = Cost()
        params = nt = pbytes = 0
        unc: dict[str, int] = {}
        warn: list[str] = []
        kernels = []
        steps = []
        for n in members:
            s = stats[n.index]
            prefix = "" if len(members) == 1 else f"{n.proto.name or n.key}: "
            if s.params:
                steps.append(Step(f"{prefix}params", " + ".join(s.param_parts), s.params,
                                  "constant tensors feeding this node's weight/data inputs"))
            steps += [Step(prefix + st_.quantity, st_.expr, st_.value, st_.note) for st_ in s.steps]
            c += s.cost
            params += s.params
            nt += s.non_trainable
            pbytes += s.pbytes
            for k, v in s.uncounted.items():
                unc[k] = unc.get(k, 0) + v
            warn += [w for w in s.warnings if w not in warn]
            if s.kernel is not None:
                kernels.append(s.kernel)
        for k, v in unc.items():
            uncounted[k] = uncounted.get(k, 0) + v
        if unc:
            warn.append(f"uncounted ops: {', '.join(f'{k} x{v}' for k, v in sorted(unc.items()))}")
        # inputs from outside the row, output of its last node
        ins, in_shapes = [], []
        for n in members:
            for i in n.inputs:
                if not i or i in g.static or row_of_tensor.get(i) == key:
                    continue
                src = row_names[row_of_tensor[i]] if i in row_of_tensor else i
                if src not in ins:
                    ins.append(src)
                    in_shapes.append(g.shapes.get(i) or ())
        out_t = members[-1].outputs[0] if members[-1].outputs else ""
        out_shape = g.shapes.get(out_t) or ()
        if not out_shape and out_t and out_t not in g.shapes:
            warn.append(f"the shape of '{out_t}' is unknown")
        st = states.get(out_t)
        if key[0] == "n":
            n = members[0]
            kind = n.key
            label = n.proto.name or None
            dep = len(paths[n.index][0]) + 1
        else:
            mods = key[1]
            classes = paths[members[0].index][2]
            kind = classes[len(mods) - 1] if mods and len(classes) >= len(mods) else _kinds(members)
            label = row_names[key] if mods else None
            dep = len(mods)
        name = row_names[key]
        warnings.extend(f"{name}: {w}" for w in warn)
        layers.append(LayerReport(
            index=index, name=name, kind=kind, label=label, input_shape=in_shapes[0] if in_shapes else (),
            output_shape=tuple(out_shape), params=params, trainable_params=params - nt, non_trainable_params=nt,
            buffers=0, macs=c.macs, flops=c.flops, mults=c.mults, adds=c.adds,
            activation_bytes=nbytes(out_t) if out_t not in g.static else 0, param_bytes=pbytes, buffer_bytes=0,
            rf=rfmod.describe(st, in_spatial) if st not in (None, "const") else None,
            kernel_shape=kernels[0] if len(kernels) == 1 else None, warnings=tuple(warn), steps=tuple(steps),
            text=" ".join(n.proto.name or n.op for n in members[:3]) + (" ..." if len(members) > 3 else ""),
            inputs=tuple(ins), input_shapes=tuple(tuple(s) for s in in_shapes),
            live_bytes=max(stats[n.index].live for n in members), depth=dep))
    layers = tuple(layers)
    fdt = next((t.data_type for t in g0.initializer if t.data_type in FLOAT_TYPES), None) \
        or next((g.dtypes.get(vi.name) for vi in graph_inputs if g.dtypes.get(vi.name) in FLOAT_TYPES), 1)
    report = Report("onnx", tuple(in_shape0), DTYPE_NAMES.get(fdt, "float32"), DTYPE_BYTES.get(fdt, 4), layers,
                    Totals.of(layers), input_bytes=input_bytes, warnings=tuple(warnings), peak_activation_bytes=peak,
                    uncounted_ops=dict(sorted(uncounted.items())), source="onnx")
    return report, g


def _fmt(shape) -> str:
    return "(" + ", ".join(str(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"


def _cost_steps(n, c) -> list:
    """The formula of a node's cost, with the numbers put in."""
    op = n.op
    steps = []
    if c.macs:
        if op in ("Conv", "ConvInteger", "QLinearConv"):
            w, o = n.ish(3 if op == "QLinearConv" else 1), n.osh(0)
            expr = f"{prod(o):,} outputs * ({w[1]} input channels/group * {'*'.join(map(str, w[2:]))} kernel)"
        elif op == "ConvTranspose":
            w, x = n.ish(1), n.ish(0)
            expr = f"{prod(x):,} inputs * ({w[1]} output channels/group * {'*'.join(map(str, w[2:]))} kernel)"
        elif op == "Gemm":
            a, b = n.ish(0), n.ish(1)
            M, K = (a[1], a[0]) if n.attr("transA", 0) else (a[0], a[1])
            expr = f"{M} rows * {K} in * {b[0] if n.attr('transB', 0) else b[1]} out"
        elif op in ("MatMul", "MatMulInteger", "QLinearMatMul"):
            expr = f"{prod(n.osh(0)):,} outputs * {n.ish(0)[-1]} (inner dimension)"
        elif op in ("LSTM", "GRU", "RNN"):
            x, w, r = n.ish(0), n.ish(1), n.ish(2)
            T, B = (x[1], x[0]) if n.attr("layout", 0) else (x[0], x[1])
            expr = f"{B} batch * {T} steps * {w[0]} direction(s) * ({w[1]}*{x[2]} + {w[1]}*{r[2]})"
        else:
            expr = ""
        steps.append(Step("macs", expr, c.macs, f"{n.key}: bias excluded" if expr else n.key))
        steps.append(Step("adds", "", c.adds, "bias additions included"))
    per = _PER_ELEMENT.get(n.key)
    if per is not None and c.flops and not c.macs:
        steps.append(Step("flops", f"{prod(n.osh(0)):,} elements * {per}", c.flops, n.key))
    elif c.flops:
        extra = c.flops - c.mults - c.adds
        expr = (f"mults {c.mults:,} + adds {c.adds:,}" + (f" + {extra:,} (softmax, cell)" if extra else "")) \
            if c.macs else ""
        steps.append(Step("flops", expr, c.flops, f"{n.key} (docs/definitions.md)"))
    return steps


def _check_reshape(n):
    """A reshape that changes the element count: the model does not run at these input sizes."""
    x, o = n.shape_or_none(0), n.g.shapes.get(n.outputs[0])
    if x is not None and o is not None and prod(x) != prod(o):
        raise SpecError(f"node '{n.proto.name or n.outputs[0]}' reshapes {x} ({prod(x):,} elements) to {o} "
                        f"({prod(o):,}): the model does not run at these input sizes (an exporter may have "
                        f"fixed a dimension the input declares dynamic; try the size the model was exported with)")


def _kinds(members) -> str:
    seen = []
    for n in members:
        if n.key not in seen:
            seen.append(n.key)
    return "+".join(seen[:3]) + ("+..." if len(seen) > 3 else "")


def _np_dtype_to_onnx(dt):
    try:
        from onnx import helper
        return helper.np_dtype_to_tensor_dtype(dt)
    except Exception:  # noqa: BLE001
        return None


def node_shapes(source, input_size=None, *, _onnx_inference: bool = True) -> dict:
    """{tensor name: shape} of every tensor cnncalc knows (node outputs included), for checks against a runtime."""
    _, g = _analyze(source, input_size, 10**6, _onnx_inference)
    return dict(g.shapes)
