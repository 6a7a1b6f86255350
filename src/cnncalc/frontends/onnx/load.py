"""Reading an ONNX model, binding its input sizes, and ONNX's own shape inference."""
from __future__ import annotations

import numbers
import operator
import os
from math import prod

from ...errors import SpecError
from ...i18n import Msg
from .common import _short_error, keeps_values
from ..detect import is_onnx_source  # noqa: F401 -- part of this module's interface
from .wire import read_light


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise SpecError(Msg("err.onnx.reading_onnx_models_needs_onnx")) from None
    return onnx


def light_copy(onnx, model):
    """A copy of the model without the bytes of its large initializers (their name, type and dims stay): shapes,
    parameter counts and costs need no weight values, and a copy of a ViT-B/16's weights costs more than the
    whole analysis.  Small initializers (shapes, axes, scales) keep their values for constant folding."""
    m = onnx.ModelProto()
    for field, value in model.ListFields():
        if field.name == "graph":
            continue
        _copy_field(m, field, value)
    g = m.graph
    for field, value in model.graph.ListFields():
        if field.name != "initializer":
            _copy_field(g, field, value)
    for t in model.graph.initializer:
        if keeps_values(prod(t.dims), t.data_type) or t.data_location == onnx.TensorProto.EXTERNAL:
            g.initializer.add().CopyFrom(t)
        else:
            light = g.initializer.add()
            light.name, light.data_type = t.name, t.data_type
            light.dims.extend(t.dims)
    return m


def _copy_field(msg, field, value):
    if field.is_repeated:
        getattr(msg, field.name).extend(value)
    elif field.type == field.TYPE_MESSAGE:
        getattr(msg, field.name).CopyFrom(value)
    else:
        setattr(msg, field.name, value)


def _load(source):
    onnx = _import_onnx()
    if isinstance(source, onnx.ModelProto):
        return onnx, light_copy(onnx, source), "model"
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise SpecError(Msg("err.onnx.no_such_onnx_file", path=path))
    try:
        # read without the bytes of large weights (wire.py); weights stored outside the file are not read either:
        # their shapes are in the file
        m = onnx.ModelProto()
        m.ParseFromString(read_light(path))
    except Exception as e:  # noqa: BLE001 -- a corrupt or foreign file
        raise SpecError(Msg("err.onnx.cannot_read_onnx_model", path=path, e=_short_error(e))) from None
    return onnx, m, os.path.basename(path)


def _dims_of(vi):
    """[(value or None, name or None)] of a ValueInfo, or None when it carries no shape."""
    t = vi.type
    if not t.HasField("tensor_type"):
        return None
    tt = t.tensor_type
    if not tt.HasField("shape"):
        return None
    return [(d.dim_value, None) if d.HasField("dim_value") else (None, d.dim_param or None) for d in tt.shape.dim]


def _sizes_list(input_size, names):
    """input_size -> {input name: tuple}; a bare whole number is a 1-d size (``input_size=(5)`` is the int 5)."""
    if input_size is None:
        return {}
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        input_size = (input_size,)
    if isinstance(input_size, dict):
        unknown = [k for k in input_size if k not in names]
        if unknown:
            raise SpecError(Msg("err.onnx.input_size_names_which_not", unknown=repr(unknown[0]), p=', '.join(names)))
        sizes = dict(input_size)
    else:
        seq = list(input_size)
        if seq and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in seq):
            seq = [tuple(seq)]
        if len(seq) > len(names):
            raise SpecError(Msg("err.onnx.input_sizes_given_but_model", seq=len(seq), names=len(names), p=', '.join(names)))
        sizes = {n: s for n, s in zip(names, seq)}
    out = {}
    for n, s in sizes.items():
        if isinstance(s, numbers.Integral) and not isinstance(s, bool):
            s = (s,)
        try:
            s = tuple(operator.index(v) for v in s)
        except TypeError:
            raise SpecError(Msg("err.onnx.input_sizes_must_whole_numbers", n=n, s=repr(s))) from None
        if not all(v >= 0 for v in s):
            raise SpecError(Msg("err.onnx.input_sizes_must_whole_numbers", n=n, s=s))
        out[n] = s
    return out


def _example(dims, given):
    vals = [v if v is not None else 1 for v, _ in dims] if dims is not None else list(given or (1,))
    return "x".join(str(v) for v in vals)


def _py_tuple(text):
    """'1x3x224' -> '(1, 3, 224)'; a single size keeps its comma: '(5,)'."""
    parts = text.split("x")
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


#: kinds of ONNX types that are not tensors, in words
_NOT_TENSOR = {"sequence_type": Msg("fe.onnx_sequence"), "optional_type": Msg("fe.onnx_optional"),
               "map_type": Msg("fe.onnx_map"), "sparse_tensor_type": Msg("fe.onnx_sparse")}


def _not_tensor(vi):
    """'a sequence' (...) when a graph input is not a plain tensor, else None."""
    kind = vi.type.WhichOneof("value") if vi.HasField("type") else None
    return _NOT_TENSOR.get(kind)


def _bind(graph_inputs, input_size, symbols=None):
    """{input name: concrete shape}, binding named dimensions consistently across inputs (into ``symbols``)."""
    names = [vi.name for vi in graph_inputs]
    sizes = _sizes_list(input_size, names)
    symbols = {} if symbols is None else symbols
    bound = {}
    for vi in graph_inputs:
        what = _not_tensor(vi)
        if what is not None:
            raise SpecError(Msg("err.onnx.input_not_tensor_cnncalc_analyses", name=vi.name, what=what))
    # the inputs with a size first: their named dimensions bind the same names in the others
    for vi in sorted(graph_inputs, key=lambda vi: vi.name not in sizes):
        dims = _dims_of(vi)
        given = sizes.get(vi.name)
        if given is not None:
            if dims is not None and len(dims) != len(given):
                raise SpecError(Msg("err.onnx.input_has_dimensions_size_given", name=vi.name, dims=len(dims), p=', '.join(str(v) if v is not None else (p or '?') for v, p in dims), given=len(given), p2='x'.join(map(str, given)) or '()'))
            for i, (g, (v, p)) in enumerate(zip(given, dims or [(None, None)] * len(given))):
                if g == 0 and v != 0:       # an empty dimension only where the model itself fixes it at 0
                    raise SpecError(Msg("err.onnx.input_sizes_must_whole_numbers_2", name=vi.name, given=given))
                if v is not None and v != g:
                    raise SpecError(Msg("err.onnx.input_dimension_fixed_model_size", name=vi.name, i=i, v=v, g=g, p='x'.join(map(str, given))))
                if p is not None:
                    if symbols.setdefault(p, g) != g:
                        raise SpecError(Msg("err.onnx.input_dimension_here_but_another", name=vi.name, i=i, p=p, g=g, symbols=symbols[p]))
            bound[vi.name] = given
            continue
        if dims is None:
            raise SpecError(Msg("err.onnx.input_has_no_shape_model", name=vi.name))
        shape = []
        for i, (v, p) in enumerate(dims):
            if v is None and p is not None and p in symbols:
                v = symbols[p]
            if v is None:
                what = f"'{p}'" if p else Msg("fe.unnamed")
                ex = _example(dims, None)
                raise SpecError(Msg("err.onnx.input_dimension_needs_value_pass", name=vi.name, i=i, what=what, ex=ex, ex2=_py_tuple(ex), p="" if len(graph_inputs) == 1 else
                                   Msg("fe.onnx_inputs_in_order", names=', '.join(names))))
            shape.append(v)
        bound[vi.name] = tuple(shape)
    return {vi.name: bound[vi.name] for vi in graph_inputs}


def _infer(onnx, model, graph_inputs, bound):
    """Shape inference on a copy with the inputs bound; {tensor: (elem_type, shape or None)}."""
    # a copy without value_info and without the values of weights: inference needs their shapes, not their
    # bytes; values are kept where a shape may depend on them (integer tensors: shapes, axes, pads; tiny float
    # ones: Resize scales, Range bounds)
    m = onnx.ModelProto()
    for field, value in model.ListFields():
        if field.name != "graph":
            _copy_field(m, field, value)
    g = m.graph
    for field, value in model.graph.ListFields():
        if field.name not in ("initializer", "value_info"):
            _copy_field(g, field, value)
    listed = {vi.name for vi in g.input}
    for t in model.graph.initializer:
        n = prod(t.dims)
        if keeps_values(n, t.data_type):
            g.initializer.append(t)
        elif t.name not in listed:
            g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
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
    real_inputs = {vi.name for vi in graph_inputs}
    for vi in list(out.graph.value_info) + list(out.graph.output) + [vi for vi in out.graph.input
                                                                      if vi.name in real_inputs]:
        if not vi.type.HasField("tensor_type"):
            continue
        dims = _dims_of(vi)
        shape = tuple(v for v, _ in dims) if dims is not None and all(v is not None for v, _ in dims) else None
        info[vi.name] = (vi.type.tensor_type.elem_type or None, shape)
    return info


def _declared(graph, symbols):
    """({tensor: shape}, {tensor: element type}) the model itself declares (its outputs and value_info); a shape
    where every dimension is a number or a name bound by the inputs' sizes, the rest are not known from the file."""
    shapes, types = {}, {}
    for vi in list(graph.value_info) + list(graph.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            types[vi.name] = vi.type.tensor_type.elem_type
        dims = _dims_of(vi)
        if dims is None:
            continue
        shape = tuple(v if v is not None else symbols.get(p) if p else None for v, p in dims)
        if all(v is not None for v in shape):
            shapes[vi.name] = shape
    return shapes, types
