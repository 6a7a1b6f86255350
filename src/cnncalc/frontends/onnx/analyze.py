"""The analysis pass over an ONNX model's nodes (shapes, parameters, costs, receptive fields, memory), the rows."""
from __future__ import annotations

from functools import partial
from math import prod

from ... import rf as rfmod
from ...errors import SpecError
from ...i18n import Msg
from ...ops import apply
from ...formulas import Step
from ...report.model import LayerReport, Report, Totals
from ..aten import Cost
from . import ops as _ops
from .common import (CONTROL_FLOW, DTYPE_BYTES, DTYPE_NAMES, FLOAT_TYPES, _Graph, _N, _NoShape, _short_error,
                     _Stat, int_shape, keeps_values)
from .fold import _fold, _in_file_array, _np_dtype_to_onnx
from .graph_rules import NOT_PARAMS, PASSTHROUGH, WEIGHT_SLOTS, _module_path, _rf_new
from .load import _bind, _declared, _infer, _load
from .shapes import _own_dtype, _own_shapes

def analyze_onnx(source, input_size=None, *, depth: int = 3, dtypes=None, _onnx_inference: bool | None = None
                 ) -> Report:
    """Analyse an ONNX model (a path to a ``.onnx`` file or an ``onnx.ModelProto``).

    ``input_size``: the size of the input (a tuple), of each input in order (a list of tuples) or by name (a
    dict); needed for every dimension the model leaves open (``batch_size``, ``?``).  ``depth``: how deep the
    module groups named by the node names are shown (large: one row per node).  ``dtypes`` is accepted for
    symmetry with the torch front-end and ignored: an ONNX model carries its input types.
    """
    return _analyze(source, input_size, depth, _onnx_inference)[0]


def analyze_onnx_training(source, input_size=None, *, depth: int = 3, optimizer: str = "sgd", amp=None) -> Report:
    """An ONNX model with one training step (``report.training``), as if its graph were trained in PyTorch."""
    from dataclasses import replace

    from .train import training_of
    report, g = _analyze(source, input_size, depth, None)
    return replace(report, training=training_of(report, g, optimizer=optimizer, amp=amp))


def _analyze(source, input_size, depth, _onnx_inference):
    """``_onnx_inference``: True -- ONNX's shape inference first, cnncalc's rules fill its gaps; False -- cnncalc's
    rules only; None (the default) -- cnncalc's rules alone when every node is of a kind whose shape and type
    rules are exact (OWN_RULES_EXACT), and the whole pass again with ONNX's inference as soon as one output's
    shape or type is not known that way."""
    import gc
    enabled = gc.isenabled()
    gc.disable()            # many small acyclic objects: the collector only adds time (a pass over every object)
    try:
        return _analyze_loaded(_load(source), input_size, depth, _onnx_inference)
    finally:
        if enabled:
            gc.enable()


def _analyze_loaded(loaded, input_size, depth, _onnx_inference):
    if _onnx_inference is None:
        with apply.memo():                            # a repeated block's nodes: the op layer answers once
            try:
                return _analyze_model(loaded, input_size, depth, None)
            except _NeedInference:                    # a node outside OWN_RULES_EXACT, or a gap in the rules
                pass
        _onnx_inference = True
    with apply.memo():
        return _analyze_model(loaded, input_size, depth, _onnx_inference)


class _NeedInference(Exception):
    """cnncalc's rules alone leave a tensor's shape or type unknown: ONNX's inference is needed after all."""


#: ONNX op kinds (default domain) whose cnncalc shape and element-type rules are exact for every input they
#: accept or say "unknown" (checked against onnxruntime on every node test of ONNX's backend suite and on 80
#: torchvision exports, tests/test_onnx*.py): a model made of these alone needs no ONNX shape inference.
OWN_RULES_EXACT = frozenset((
    "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Ceil", "Clip", "Concat", "Constant",
    "ConstantOfShape", "Conv", "ConvTranspose", "Div", "Dropout", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand",
    "Flatten", "Floor", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "HardSigmoid",
    "HardSwish", "Identity", "InstanceNormalization", "LeakyRelu", "Less", "Log", "MatMul", "Max", "MaxPool",
    "Min", "Mod", "Mul", "Neg", "Not", "Pad", "Pow", "PRelu", "Range", "Reciprocal", "ReduceL2", "ReduceMax",
    "ReduceMean", "ReduceMin", "ReduceSum", "Relu", "Reshape", "Round", "ScatterND", "Selu", "Shape", "Sigmoid",
    "Slice", "Softmax", "Softplus", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Tile", "Transpose",
    "Unsqueeze", "Where"))


def _own_rules_suffice(nodes) -> bool:
    """Every node of the (top-level) graph is of a kind in OWN_RULES_EXACT, in the default domain."""
    exact = OWN_RULES_EXACT
    for n in nodes:
        if n.op not in exact or n.domain:
            return False
    return True


def _analyze_model(loaded, input_size, depth, _onnx_inference):
    onnx, model, title = loaded
    g0 = model.graph
    own_only = _onnx_inference is None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    g = _Graph()
    nodes = [_N(g, p, i, opset) for i, p in enumerate(g0.node[:])]
    if own_only and not _own_rules_suffice(nodes):
        raise _NeedInference()                        # (before any work: the pass runs again with ONNX's)
    init_names = {t.name for t in g0.initializer}
    graph_inputs = [vi for vi in g0.input if vi.name not in init_names]
    symbols: dict = {}
    bound = _bind(graph_inputs, input_size, symbols)
    declared, declared_types = _declared(g0, symbols)   # what the file states: a gap's filler, a check elsewhere
    disagree: list = []
    warnings: list[str] = []
    info = {}
    if _onnx_inference:
        try:
            info = _infer(onnx, model, graph_inputs, bound)
        except Exception as e:  # noqa: BLE001 -- inference is a help, cnncalc's rules remain
            warnings.append(Msg("fe.onnx.onnx_shape_inference_failed_cnncalc", e=_short_error(e)))

    # constants: initializers (values only when small and stored in the file)
    const_meta = {}                                   # name -> (numel, dtype)
    shapes, dtypes, static_set, values = g.shapes, g.dtypes, g.static, g.values
    static_set.add("")                                # an absent optional input counts as known
    for t in g0.initializer[:]:
        name, shape, dt = t.name, tuple(t.dims[:]), t.data_type
        shapes[name] = shape
        dtypes[name] = dt
        static_set.add(name)
        numel = prod(shape)
        const_meta[name] = (numel, dt)
        if keeps_values(numel, dt):
            values.later(name, lambda t=t: _in_file_array(t))
    for vi in graph_inputs:
        g.shapes[vi.name] = bound[vi.name]
        g.dtypes[vi.name] = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else None

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
        static = not is_cf and static_set.issuperset(n.inputs) \
            or n.op in ("Shape", "Size") and n.has(0) and n.shape_or_none(0) is not None
        # values of static nodes (shape arithmetic, Constant)
        if static and n.op == "Identity" and len(n.inputs) == 1 and n.inputs[0] in g.shapes:
            # a constant passed on (exporters repeat a shared bias so): the same value, read if a rule asks
            src = n.inputs[0]
            g.values.later(n.outputs[0], partial(g.values.get, src))
            vals = None
        else:
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
            if shape is None:
                shape = declared.get(o)
            elif o in declared and tuple(declared[o]) != tuple(shape):
                disagree.append((o, declared[o], tuple(shape)))
            if shape is not None:
                g.shapes[o] = int_shape(shape)
            elif own_only:
                raise _NeedInference()
            g.dtypes[o] = dt = dt or declared_types.get(o) or _own_dtype(n, j)
            if own_only and dt is None:
                raise _NeedInference()
            if static:
                g.static.add(o)
            # a ConstantOfShape of a shape stored in the file is a constant tensor too (light model files make their
            # weights so); one of a shape computed from the input's (Shape -> ...) is a run-time fill
            if (n.op == "Constant" or n.op == "ConstantOfShape" and n.has(0) and n.inputs[0] in const_meta) \
                    and o in g.shapes:
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
            st.param_parts.append((r, g.shapes.get(r, (numel,)), trainable))
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
                c = _ops.counted(n)
            except (_NoShape, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as e:
                c = None
                why = Msg("fe.onnx.tensor_has_no_known_shape", p=e.args[0]) if isinstance(e, _NoShape) and e.args else \
                    (e.message if isinstance(e, SpecError) else Msg("fe.onnx.formula", name=type(e).__name__))
                st.warnings.append(Msg("fe.onnx.not_counted", key=n.key, why=why))
            known_out = shapes.get(n.outputs[0]) if n.outputs else None
            if c is not None and c.output_shape and known_out is not None and c.output_shape != known_out and \
                    tuple(c.output_shape) != tuple(known_out):
                st.warnings.append(Msg("fe.onnx.not_counted_op_layer_s", key=n.key, tuple=tuple(c.output_shape), known_out=tuple(known_out)))
                c = None
            if c is None:
                st.uncounted[n.key] = st.uncounted.get(n.key, 0) + 1
            else:
                st.cost += c
                st.steps.append(c)                    # its steps are made when the row's are read
                if c.rf is not None:
                    st.rf = c.rf
        # receptive field
        known = [states.get(i) for i in n.inputs if i not in static_set]   # non-constant inputs
        first = known[0] if known else None
        out_shape = g.shapes.get(n.outputs[0]) if n.outputs else None
        new = None
        if out_shape is not None and not is_cf and known:
            try:
                new = _rf_new(n, first, known, out_shape, st.warnings.append, st.rf)
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

    live_nodes = [n for n in nodes if not static_set.issuperset(n.outputs) or not n.outputs]
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
    out_bytes = {}                                    # tensor -> its bytes (the rows read them too)
    for n in live_nodes:
        born = 0
        for o in n.outputs:
            if not o or o in g.static:
                continue
            b = out_bytes[o] = nbytes(o)
            born += b
            if o in outputs:
                continue
            end = last.get(o, n.index)
            frees[end] = frees.get(end, 0) + b
        live += born
        peak = max(peak, live)
        stats[n.index].live = live
        live -= frees.pop(n.index, 0)

    if disagree:
        ex = "; ".join(f"'{t}' {_fmt(d)} declared, {_fmt(c)} computed" for t, d, c in disagree[:3])
        warnings.append(Msg("fe.onnx.tensor_shape_s_declared_model", disagree=len(disagree), ex=ex, p='; ...' if len(disagree) > 3 else ''))

    # ---------------------------------------------------------------- rows
    if control:
        names = ", ".join(f"{c.op} '{c.name or c.outputs[0]}'" for c in control)
        warnings.append(Msg("fe.onnx.model_has_control_flow_cnncalc", names=names, subgraph_nodes=subgraph_nodes))
    # the nodes shown (all but constant arithmetic without parameters), grouped into rows by module path
    paths = {}
    groups: dict = {}
    order = []
    row_of_tensor = {}
    for n in nodes:
        if static_set.issuperset(n.outputs) and not stats[n.index].params and n.op not in CONTROL_FLOW:
            continue
        path = paths[n.index] = _module_path(n.proto, n.name)
        mods = path[0]
        key = ("m", mods[:depth]) if len(mods) >= depth else ("n", n.index)
        members = groups.get(key)
        if members is None:
            members = groups[key] = []
            order.append(key)
        members.append(n)
        for o in n.outputs:
            row_of_tensor[o] = key
    row_names = {}
    counts: dict[str, int] = {}
    for key in order:
        members = groups[key]
        if key[0] == "n":
            n = members[0]
            if n.name:
                row_names[key] = n.name
            else:
                counts[n.op] = counts.get(n.op, 0) + 1
                row_names[key] = f"{n.op}_{counts[n.op]}"
        else:
            mods = key[1]
            labels = paths[members[0].index][1]
            row_names[key] = labels[len(mods) - 1] if mods else (g0.name or title)
    # for a training step (onnx/train.py): the nodes that run, their statistics, the row each belongs to
    g.live_nodes, g.stats = live_nodes, stats
    g.rows_of_nodes = (order, groups, row_names)      # (node -> row name: made by onnx/train.py when asked)

    layers = []
    uncounted: dict[str, int] = {}
    views: dict = {}                                  # id(receptive-field state) -> its view, shared by rows
    for index, key in enumerate(order, start=1):
        members = groups[key]
        if len(members) == 1:                         # most rows: one node
            s = stats[members[0].index]
            c, params, nt, pbytes = s.cost, s.params, s.non_trainable, s.pbytes
            unc = dict(s.uncounted) if s.uncounted else {}
            warn = list(s.warnings) if s.warnings else []
            kernels = [s.kernel] if s.kernel is not None else []
            live_bytes = s.live
            n0 = members[0]
            text = n0.name or n0.op
        else:
            c = Cost()
            params = nt = pbytes = 0
            unc = {}
            warn = []
            kernels = []
            for n in members:
                s = stats[n.index]
                c += s.cost
                params += s.params
                nt += s.non_trainable
                pbytes += s.pbytes
                for k, v in s.uncounted.items():
                    unc[k] = unc.get(k, 0) + v
                warn += [w for w in s.warnings if w not in warn]
                if s.kernel is not None:
                    kernels.append(s.kernel)
            live_bytes = max(stats[n.index].live for n in members)
            text = " ".join(n.name or n.op for n in members[:3]) + (" ..." if len(members) > 3 else "")
        for k, v in unc.items():
            uncounted[k] = uncounted.get(k, 0) + v
        if unc:
            warn.append(Msg("fe.onnx.uncounted_ops", p=', '.join(f'{k} x{v}' for k, v in sorted(unc.items()))))
        # inputs from outside the row, output of its last node (shapes are tuples: see g.shapes)
        ins, in_shapes = [], []
        for n in members:
            for i in n.inputs:
                if not i or i in static_set:
                    continue
                r = row_of_tensor.get(i)
                if r == key:
                    continue
                src = i if r is None else row_names[r]
                if src not in ins:
                    ins.append(src)
                    in_shapes.append(shapes.get(i) or ())
        out_t = members[-1].outputs[0] if members[-1].outputs else ""
        out_shape = shapes.get(out_t) or ()
        if not out_shape and out_t and out_t not in shapes:
            warn.append(Msg("fe.onnx.shape_unknown", out_t=out_t))
        st = states.get(out_t)
        if st is None or st == "const":
            rf_view = None
        else:
            rf_view = views.get(id(st))               # (states stay alive in ``states``: ids are stable)
            if rf_view is None:
                rf_view = views[id(st)] = rfmod.describe(st, in_spatial)
        if key[0] == "n":
            n = members[0]
            kind = n.key
            label = n.name or None
            dep = len(paths[n.index][0]) + 1
        else:
            mods = key[1]
            classes = paths[members[0].index][2]
            kind = classes[len(mods) - 1] if mods and len(classes) >= len(mods) else _kinds(members)
            label = row_names[key] if mods else None
            dep = len(mods)
        name = row_names[key]
        if warn:
            warnings.extend([f"{name}: {w}" for w in warn])
        # (the fields in their declared order, passed by position: a row per node, and matching 28 keywords
        # to their parameters costs more than building the row)
        layers.append(LayerReport(
            index, name, kind, label, in_shapes[0] if in_shapes else (), out_shape,     # index .. output_shape
            params, params - nt, nt, 0,                  # params, trainable, non-trainable, buffers
            c.macs, c.flops, c.mults, c.adds,            # macs, flops, mults, adds
            out_bytes.get(out_t, 0), pbytes, 0,          # activation, param, buffer bytes
            rf_view, kernels[0] if len(kernels) == 1 else None,           # rf, kernel_shape
            partial(_row_steps, [(n, stats[n.index]) for n in members]), (), tuple(warn),   # steps, rf_steps, warnings
            None, text, tuple(ins), tuple(in_shapes), live_bytes, dep))   # line, text, inputs, input_shapes, live, depth
    layers = tuple(layers)
    fdt = next((t.data_type for t in g0.initializer if t.data_type in FLOAT_TYPES), None) \
        or next((g.dtypes.get(vi.name) for vi in graph_inputs if g.dtypes.get(vi.name) in FLOAT_TYPES), 1)
    report = Report("onnx", tuple(in_shape0), DTYPE_NAMES.get(fdt, "float32"), DTYPE_BYTES.get(fdt, 4), layers,
                    Totals.of(layers), input_bytes=input_bytes, warnings=tuple(warnings), peak_activation_bytes=peak,
                    uncounted_ops=dict(sorted(uncounted.items())), source="onnx")
    return report, g


def _row_steps(members) -> list:
    """A row's explanation (made when read): each node's constant inputs and its op's steps, named by the node
    when the row has several."""
    steps = []
    for n, s in members:
        prefix = "" if len(members) == 1 else f"{n.name or n.key}: "
        if s.params:
            parts = (f"{r} {_fmt(shape)}{'' if trainable else ' non-trainable'}" for r, shape, trainable in s.param_parts)
            steps.append(Step(f"{prefix}params", " + ".join(parts), s.params,
                              Msg("fe.onnx.constant_tensors_feeding_this_node")))
        for out in s.steps:
            steps += [Step(prefix + st_.quantity, st_.expr, st_.value, st_.note) for st_ in out.steps] if prefix \
                else out.steps
    return steps


def _fmt(shape) -> str:
    return "(" + ", ".join(str(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_reshape(n):
    """A reshape that changes the element count: the model does not run at these input sizes."""
    x, o = n.shape_or_none(0), n.g.shapes.get(n.outputs[0])
    if x is not None and o is not None and prod(x) != prod(o):
        raise SpecError(Msg("err.onnx.node_reshapes_elements_model_does", p=n.name or n.outputs[0], x=x, x2=prod(x), o=o, o2=prod(o)))


def _kinds(members) -> str:
    seen = []
    for n in members:
        if n.key not in seen:
            seen.append(n.key)
    return "+".join(seen[:3]) + ("+..." if len(seen) > 3 else "")


def node_shapes(source, input_size=None, *, _onnx_inference: bool | None = True) -> dict:
    """{tensor name: shape} of every tensor cnncalc knows (node outputs included), for checks against a runtime."""
    _, g = _analyze(source, input_size, 10**6, _onnx_inference)
    return dict(g.shapes)
