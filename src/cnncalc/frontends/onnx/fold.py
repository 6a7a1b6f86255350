"""Constant folding: the values of small static tensors (the shape-computing subgraphs), and their helpers."""
from __future__ import annotations

from math import prod

from .common import FOLD_LIMIT

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


#: TensorProto data types whose raw_data numpy reads as it is (little-endian): (numpy dtype, bytes per element)
_RAW_DTYPES = {1: ("<f4", 4), 6: ("<i4", 4), 7: ("<i8", 8), 11: ("<f8", 8), 9: ("?", 1), 2: ("u1", 1), 3: ("i1", 1),
               10: ("<f2", 2)}


def _in_file_array(t):
    """A tensor's values when they are stored in the model itself, else None.

    Values kept in an external file are never read: a model names that file, and a model may come from anyone
    (the web API reads uploads), so a path inside it is never opened.
    """
    if t.data_location == 1 or len(t.external_data):  # TensorProto.EXTERNAL
        return None
    raw = t.raw_data
    dt = _RAW_DTYPES.get(t.data_type) if raw else None
    if dt is not None:                         # the common case, read directly (numpy_helper.to_array: the same)
        dims = t.dims[:]
        if len(raw) == prod(dims) * dt[1]:
            return _np().frombuffer(raw, dt[0]).reshape(dims).copy()
    from onnx import numpy_helper
    try:
        return numpy_helper.to_array(t)
    except Exception:  # noqa: BLE001 -- a malformed tensor: its values are unknown
        return None


def _fold(n):
    """Output values of a node whose inputs are all known constants (small tensors), or None."""
    np = _np()
    op = n.op
    if n.domain:
        return None
    if op == "Constant":
        a = n.attrs
        if "value" in a:
            v = _in_file_array(a["value"])
            return None if v is None else [v]
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
            v = n.attr("value")
            fill = _in_file_array(v) if v is not None else np.float32(0)
            if fill is None or fill.size != 1:
                return None
            fill = fill.reshape(-1)[0]
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


_ONNX_OF_NP: dict = {}


def _np_dtype_to_onnx(dt):
    try:
        return _ONNX_OF_NP[dt]
    except KeyError:
        pass
    try:
        from onnx import helper
        v = helper.np_dtype_to_tensor_dtype(dt)
    except Exception:  # noqa: BLE001
        v = None
    _ONNX_OF_NP[dt] = v
    return v
