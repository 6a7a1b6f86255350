"""One analysis pass: layer calls in, a Report out.  Pure arithmetic on shapes."""
from __future__ import annotations

from math import prod

from . import rf as rfmod
from .conventions import Convention, get_convention
from .errors import SpecError, did_you_mean
from .i18n import Msg
from .limits import MAX_NUMBER, MAX_RANK, shown
from .ops import registry
from .ops.base import DIM_NAMES, Ctx, fmt_shape
from .report.model import SUMMED, Report, Totals, row
from .spec import LayerCall
from .repeats import last_uses, layer_items
from .spec.stamps import Stamp

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
DTYPE_ALIASES = {"fp32": "float32", "float": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16",
                 "fp64": "float64", "double": "float64", "uint8": "int8"}


def dtype_bytes(dtype: str) -> tuple[str, int]:
    key = str(dtype).lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise SpecError(Msg("err.unknown_dtype", dtype=dtype, choices=", ".join(DTYPE_BYTES),
                            near=did_you_mean(str(dtype), list(DTYPE_BYTES) + list(DTYPE_ALIASES))))
    return key, DTYPE_BYTES[key]


def _input_shape(call: LayerCall, batch, example: str = "input(3, 224, 224)") -> tuple:
    dims = []
    where = {}      # id of each size -> (line, column) of the argument that gave it, to point at a bad one
    for a in call.args:
        if a.name is None:
            vals = a.value if isinstance(a.value, tuple) else (a.value,)
            dims.extend(vals)
            where.update({len(dims) - len(vals) + i: (a.line, a.column) for i in range(len(vals))})
        elif registry.norm(a.name) in ("batch", "batchsize"):
            if batch is None:
                batch = a.value
                where["batch"] = (a.line, a.column)
        elif registry.norm(a.name) in ("name", "dtype"):         # Keras Input(shape=..., name="x")
            continue
        elif registry.norm(a.name) in ("shape", "inputshape", "size"):
            vals = a.value if isinstance(a.value, tuple) else (a.value,)
            dims.extend(vals)
            where.update({len(dims) - len(vals) + i: (a.line, a.column) for i in range(len(vals))})
        else:
            raise SpecError(Msg("err.analysis.input_has_no_argument_write", name=a.name, did_you_mean=did_you_mean(a.name, ["shape", "batch"])),
                            line=a.line, column=a.column, layer="#0 input", fragment=call.text)
    if not dims:
        raise SpecError(Msg("err.input_needs_shape"), line=call.line,
                        column=call.column, layer="#0 input", fragment=call.text)
    batch = 1 if batch is None else batch
    for key, v in list(enumerate(dims)) + [("batch", batch)]:
        line, column = where.get(key, (call.line, call.column))
        if isinstance(v, str) and key != "batch":
            raise SpecError(Msg("err.analysis.input_sizes_must_numbers_name", v=v, example=example),
                            line=line, column=column, layer="#0 input", fragment=call.text)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise SpecError(Msg("err.input_sizes", v=repr(v), shape=fmt_shape(dims), batch=batch), line=line,
                            column=column,
                            layer="#0 input", fragment=call.text)
        if v > MAX_NUMBER:
            what = Msg("word.batch") if key == "batch" else Msg("word.input_size")
            raise SpecError(Msg("err.analysis.too_large_sizes_are_most", what=what, v=shown(v)), line=line,
                            column=column, layer="#0 input", fragment=call.text)
    if len(dims) + 1 > MAX_RANK:
        raise SpecError(Msg("err.analysis.input_has_dims_tensor_may", dims=len(dims), MAX_RANK=MAX_RANK),
                        line=call.line, column=call.column, layer="#0 input", fragment=call.text)
    return (batch,) + tuple(dims)


def _check_output(ctx: Ctx, shape: tuple) -> None:
    """Sizes stay exact and cheap: at most 10^18 each, at most MAX_RANK dims."""
    if len(shape) > MAX_RANK:
        ctx.fail(Msg("err.analysis.output_would_have_dims_tensor", shape=len(shape), MAX_RANK=MAX_RANK))
    for i, v in enumerate(shape):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= MAX_NUMBER:
            what = Msg("err.analysis.size_too_large") if isinstance(v, int) and v > 0 else Msg("err.analysis.not_a_size")
            ctx.fail(Msg("err.analysis.output_size_axis", v=shown(v), i=i, shape=len(shape), what=what))


def _spatial_of(shape: tuple, conv: Convention) -> tuple:
    if len(shape) < 3:
        return ()
    return tuple(shape[1:-1]) if conv.channels_last else tuple(shape[2:])


def _fuse_activation(ctx: Ctx, out):
    """Keras layers' activation='relu': the activation's FLOPs are added to the layer (and explained)."""
    from dataclasses import replace

    name = str(ctx.args.activation)
    act = registry.OPS.get(registry.norm(name))
    if act is None or act.family != "activation" or act.kind in ("activation", "prelu"):
        ctx.fail(Msg("err.op.unknown_activation", name=name, name2=did_you_mean(name, [k for k, o in registry.KINDS.items()
                                                                    if o.family == "activation"])), "activation")
    a = registry.Args({p.name: p.default for p in act.params}, {}, set())
    extra = act.fn(ctx, out.output_shape, a)
    steps = out.steps + tuple(replace(st, quantity=f"{act.kind}_{st.quantity}") for st in extra.steps)
    return replace(out, flops=out.flops + extra.flops, steps=steps)


def _steps_of(out):
    """The op's steps for its rows: still unmade, a function that makes them once (for every row that has
    this result) when one is read."""
    steps = out.__dict__.get("steps", ())
    return (lambda: out.steps) if callable(steps) else steps


def _value_key(v):
    """A value as a key that tells 1, 1.0 and True apart (they are equal, and hash alike, in Python)."""
    t = type(v)
    if t is int or t is str:
        return v
    if t is tuple:
        return (tuple, tuple([_value_key(i) for i in v]))
    return (t, v)


def _run_op(call: LayerCall, index: int, ins: tuple, in_shapes: tuple, display: dict, conv: Convention,
            in_shape: tuple, nbytes: int) -> tuple:
    """What one layer's op decides: (op, LayerOut, output shape, activation bytes, the report row's fields that
    follow from them), or its SpecError.

    Stored by the analysis under everything the result depends on: the kind as written (a framework class
    binds its own way), the framework it came from, the arguments as given and the input shapes (the
    convention and dtype are the analysis's).  The names of the layer and of its inputs only appear in error
    messages, and errors are never stored, so a repeated layer costs one look-up."""
    layer_id = call.label or f"#{index} {call.kind}"
    op = registry.lookup(call.kind, line=call.line, column=call.column, fragment=call.text, layer=layer_id)
    ctx = Ctx(conv, call, layer_id, op)
    try:
        ctx.args = registry.bind(op, call, ctx.fail, conv)
        ctx.input_names = [display[t] for t in ins]
        n_in = op.extra.get("inputs", 1)
        if n_in == 1:
            if len(ins) != 1:
                ctx.fail(Msg("err.one_input", kind=op.kind, n=len(ins), names=", ".join(ctx.input_names)))
            out = op.fn(ctx, in_shapes[0], ctx.args)
        else:
            out = op.fn(ctx, list(in_shapes), ctx.args)
        out_shape = tuple(out.output_shape)
        _check_output(ctx, out_shape)
        if op.family in ("conv", "linear") and getattr(ctx.args, "activation", None) not in (None, "linear"):
            out = _fuse_activation(ctx, out)
    except SpecError as err:
        hint = layout_hint(in_shape, conv, call)
        if hint is None:
            raise
        raise err.with_hint(hint) from None
    params = out.params
    act = prod(out_shape) * nbytes
    common = {"kind": op.kind, "output_shape": out_shape, "params": params,
              "trainable_params": params - out.non_trainable, "non_trainable_params": out.non_trainable,
              "buffers": out.buffers, "macs": out.macs, "flops": out.flops, "mults": out.mults, "adds": out.adds,
              "param_bytes": params * nbytes,
              "buffer_bytes": (out.buffers - out.int64_buffers) * nbytes + 8 * out.int64_buffers,
              "kernel_shape": out.kernel_shape, "steps": _steps_of(out), "depth": 0, "activation_bytes": act}
    # [5]: how many layers have this result; then the output's spatial rank, the warnings, the RF effect
    return [op, out, out_shape, act, common, 0, max(len(out_shape) - 2, 0), tuple(out.warnings), out.rf, ctx.args]


def _rf_step(rf, state_in, in_states, out_spatial_rank: int, layer_warnings: tuple):
    """The receptive field after a layer that may change it (a window, a merge of ``in_states``, a global or
    transposed op ...): (new state, its explanation lines, the layer's warnings with any about it)."""
    rf_kind = rf.kind
    dims = DIM_NAMES.get(len(state_in), ()) if isinstance(state_in, tuple) else ()
    if rf_kind == "merge":
        new_state, w = rfmod.merge(in_states, dims)
        if w:
            layer_warnings = layer_warnings + (w,)
        if isinstance(new_state, tuple) and len(new_state) != out_spatial_rank:
            new_state = None
        return new_state, (), layer_warnings
    if rf_kind == "window" and type(state_in) is tuple:
        new_state, big = rfmod.window(state_in, rf)
    else:
        new_state = rfmod.apply(state_in, rf, out_spatial_rank)
        big = rfmod.too_large(new_state)
    if big:
        new_state = None
        layer_warnings = layer_warnings + (Msg("op.receptive_field_not_tracked_from",
                                               MAX_RF_DIGITS=rfmod.MAX_RF_DIGITS),)
    return new_state, () if rf_kind == "keep" else rfmod.StepLines(state_in, new_state, rf, dims), layer_warnings


def _view(state, views: dict, in_spatial: tuple):
    """The report's receptive-field view of a state, one per state (a merge may give an input's own)."""
    key = id(state) if isinstance(state, tuple) else state
    view = views.get(key)
    if view is None and key not in views:
        view = views[key] = rfmod.describe(state, in_spatial)
    return view


def analyze_calls(calls: list[LayerCall], *, convention="pytorch", batch: int | None = None,
                  dtype: str = "float32", trace: list | None = None) -> Report:
    """The report of a spec's layer calls.  ``trace``: a list that receives, per layer row, the op's result
    record (op, LayerOut, output shape, ..., bound arguments) -- one object for every row with the same result,
    so the training step (train_spec.py) works once per distinct layer."""
    conv = get_convention(convention)
    dname, nbytes = dtype_bytes(dtype)
    if not calls:
        raise SpecError(Msg("err.empty_spec"))
    first = calls[0]
    if registry.norm(first.kind) not in ("input", "inputlayer"):
        raise SpecError(Msg("err.must_start_with_input",
                            example="input(224, 224, 3)" if conv.channels_last else "input(3, 224, 224)"),
                        line=first.line, column=first.column, fragment=first.text, layer=f"#0 {first.kind}")
    example = "input(224, 224, 3)" if conv.channels_last else "input(3, 224, 224)"
    in_shape = _input_shape(first, batch, example)
    in_spatial = _spatial_of(in_shape, conv)
    in_id = first.output or "input"
    shapes = {in_id: in_shape}
    states = {in_id: rfmod.initial_state(in_spatial)}
    views = {}
    display = {in_id: first.label or "input"}
    producer = {in_id: 0}
    layers = []
    counts: dict[str, int] = {}
    warnings = []
    prev = in_id
    input_bytes = prod(in_shape) * nbytes
    last, n_layers = last_uses(calls, in_id)
    frees = [0] * (n_layers + 1)      # layer index -> bytes freed after it runs
    if last[in_id] is not None:
        frees[last[in_id]] = input_bytes
    live_now = peak = input_bytes
    memo: dict = {}                   # what one layer computes, by what it depends on (see _run_op)
    made: list = []                   # every such result, with the number of layers that have it
    arg_keys: dict = {}               # id of a call's argument tuple -> its part of the key
    is_input: dict = {}               # kind as written -> whether it is input(...)
    prev_state = rf_view_in = None    # the last layer's receptive-field state and view
    if any(type(c) is Stamp for c in calls):       # repeated blocks kept compact (spec/stamps.py)
        log = trace if trace is not None else []   # every row's result: a block's first run makes its plan
        items = layer_items(calls, shapes, last, log)
    else:
        log, items = trace, calls[1:]
    index = 0
    for call in items:
        # Two loops, one per kind of item, share their per-layer steps written out twice (receptive field, memory,
        # the row): a call per layer would cost ~3 ms on 10,000 layers (bench_spec).  Change them together;
        # tests/test_spec_speed.py (test_compact_blocks_*) checks that both give the same report.
        if type(call) is tuple:                        # a repeated block, its layers' results known (repeats.py)
            stamp, plan = call
            rec = stamp.record
            prefix, output, here, start = stamp.prefix, stamp.output, rec.here, index
            entry = stamp.entry                        # the block's tensors by number, its input as 0
            l_state, l_name, l_index = [states[entry]], [display[entry]], [producer[entry]]
            for (done, in_shapes), (suffix, inputs, o, end, line, text) in zip(plan, rec.rows):
                index += 1
                done[5] += 1
                if trace is not None:
                    trace.append(done)
                op, out, out_shape, act, common, _, out_spatial_rank, layer_warnings, rf, _ = done
                name = prefix + suffix
                state_in = l_state[inputs[0]]
                if state_in is None:                   # no receptive field to follow (see below)
                    new_state = rf_view = None
                    rf_steps = ()
                else:
                    if rf.kind == "keep" and (not isinstance(state_in, tuple) or len(state_in) == out_spatial_rank):
                        new_state, rf_steps = state_in, ()
                    else:
                        new_state, rf_steps, layer_warnings = _rf_step(
                            rf, state_in, [l_state[i] for i in inputs] if rf.kind == "merge" else None,
                            out_spatial_rank, layer_warnings)
                    if new_state is state_in and rf_view_in is not None and prev_state is state_in:
                        rf_view = rf_view_in           # the same state as the last layer's: its view
                    else:
                        rf_view = _view(new_state, views, in_spatial)
                prev_state, rf_view_in = new_state, rf_view
                l_state.append(new_state)
                l_name.append(name)
                l_index.append(index)
                if o == here:                          # the block's output: the tensor the layers after it read
                    states[output], shapes[output], display[output], producer[output] = \
                        new_state, out_shape, name, index
                    end = last.get(output)
                elif end is not None:
                    end += start + 1
                for w in layer_warnings:
                    warnings.append(Msg("warn.layer", name=name, w=w))
                live_now += act
                live = live_now
                if live_now > peak:
                    peak = live_now
                if end is not None:
                    frees[end] += act
                live_now -= frees[index]
                if len(inputs) == 1:
                    i = inputs[0]
                    names, sources = (l_name[i],), (l_index[i],)
                else:
                    names, sources = tuple([l_name[i] for i in inputs]), tuple([l_index[i] for i in inputs])
                layers.append(row(common, index, name, name, in_shapes[0], act, rf_view, rf_steps,
                                  layer_warnings, line, text, names, in_shapes, live, sources))
            prev = output
            continue
        index += 1
        kind = call.kind
        first_input = is_input.get(kind)
        if first_input is None:
            first_input = is_input[kind] = registry.norm(kind) in ("input", "inputlayer")
        if first_input:
            layer_id = call.label or f"#{index} {kind}"
            if call.label is None or call.output is None:
                raise SpecError(Msg("err.input_once"), line=call.line, column=call.column, layer=layer_id,
                                fragment=call.text)
            extra_shape = _input_shape(call, batch, example)   # another input of a several-input model
            shapes[call.output] = extra_shape
            states[call.output] = rfmod.initial_state(_spatial_of(extra_shape, conv))
            display[call.output] = call.label
            producer[call.output] = 0
            live_now += prod(extra_shape) * nbytes
            peak = max(peak, live_now)
            if last.get(call.output) is not None:
                frees[last[call.output]] += prod(extra_shape) * nbytes
            prev = call.output
            continue
        ins = call.inputs if call.inputs is not None else (prev,)
        in_shapes = (shapes[ins[0]],) if len(ins) == 1 else tuple([shapes[t] for t in ins])
        extra = call.extra
        if "literal" in extra:                         # arguments written out in the text (spec/lines.py)
            key = (kind, extra.get("framework"), call.text, in_shapes)
        else:
            args = call.args
            arg_key = arg_keys.get(id(args))           # repeated blocks share their calls' argument tuples
            if arg_key is None:
                arg_key = []                           # each argument's name and typed value
                for a in args:
                    v = a.value
                    t = type(v)
                    arg_key.append((a.name, v if t is int or t is str else _value_key(v)))
                arg_key = arg_keys[id(args)] = tuple(arg_key)   # (the calls, and so the tuples, stay alive)
            key = (kind, extra.get("framework") if extra else None, arg_key, in_shapes)
        try:
            done = memo.get(key)
        except TypeError:                              # an argument that is a list or a dict: not a key
            key = done = None
        if done is None:
            done = _run_op(call, index, ins, in_shapes, display, conv, in_shape, nbytes)
            made.append(done)
            if key is not None:
                memo[key] = done
        done[5] += 1
        if log is not None:
            log.append(done)
        op, out, out_shape, act, common, _, out_spatial_rank, layer_warnings, rf, _ = done
        label = call.label
        if label is None:
            counts[op.kind] = n = counts.get(op.kind, 0) + 1
            name = f"{op.kind}_{n}"
        else:
            name = label
        out_id = call.output or f"t{index}"
        state_in = states[ins[0]]                      # (the same steps as the repeated block's loop above)
        if state_in is None:                           # no receptive field to follow (a vector, after flatten):
            new_state = rf_view = None                 # none after any layer, a merge's included (rfmod.apply,
            rf_steps = ()                              # rfmod.merge), and no lines to explain
        else:
            if rf.kind == "keep" and (not isinstance(state_in, tuple) or len(state_in) == out_spatial_rank):
                new_state, rf_steps = state_in, ()     # elementwise: the same receptive field (rfmod.apply)
            else:
                new_state, rf_steps, layer_warnings = _rf_step(
                    rf, state_in, [states[t] for t in ins] if rf.kind == "merge" else None, out_spatial_rank,
                    layer_warnings)
            if new_state is state_in and rf_view_in is not None and prev_state is state_in:
                rf_view = rf_view_in                   # the same state as the last layer's: its view
            else:
                rf_view = _view(new_state, views, in_spatial)
        prev_state, rf_view_in = new_state, rf_view
        states[out_id] = new_state
        shapes[out_id] = out_shape
        display[out_id] = extra.get("tensor") or name
        producer[out_id] = index
        prev = out_id
        for w in layer_warnings:
            warnings.append(Msg("warn.layer", name=name, w=w))
        live_now += act
        live = live_now
        if live_now > peak:
            peak = live_now
        end = last.get(out_id)
        if end is not None:
            frees[end] += act
        live_now -= frees[index]
        if len(ins) == 1:
            t = ins[0]
            names, sources = (display[t],), (producer[t],)
        else:
            names, sources = tuple([display[t] for t in ins]), tuple([producer[t] for t in ins])
        layers.append(row(common, index, name, label, in_shapes[0], act, rf_view, rf_steps,
                          layer_warnings, call.line, call.text, names, in_shapes, live, sources))
    layers = tuple(layers)
    totals = Totals(**{k: sum(d[4][k] * d[5] for d in made) for k in SUMMED})    # = Totals.of(layers)
    if looks_channels_last(in_shape, conv):
        warnings.insert(0, Msg("warn.channels_last", **_layout_params(in_shape, conv)))
    return Report(conv.name, in_shape, dname, nbytes, layers, totals, input_bytes=input_bytes,
                  warnings=tuple(warnings), peak_activation_bytes=peak)


def looks_channels_last(shape: tuple, conv: Convention) -> bool:
    """An image input written (H, W, C) under a channels-first convention: input(28, 28, 1), input(224, 224, 3)."""
    if conv.channels_last or len(shape) != 4:
        return False
    _, a, b, c = shape
    return c <= 4 and a >= 8 and b >= 8 and a > c and b > c and c < a // 2


def _layout_params(shape: tuple, conv: Convention) -> dict:
    _, a, b, c = shape
    return {"shape": fmt_shape(shape[1:]), "conv": conv.name, "c": a, "hw": f"{b}x{c}", "fixed": f"{c}, {a}, {b}"}


def layout_hint(shape: tuple, conv: Convention, call):
    """A hint for an error at a layer: the input looks channels-last, or a Keras layer under a channels-first
    convention."""
    if looks_channels_last(shape, conv):
        return Msg("hint.channels_last", **_layout_params(shape, conv))
    if not conv.channels_last:
        from .ops.signatures import KERAS, for_call
        sig = for_call(call)
        if sig is not None and sig.framework == KERAS and not (call.extra or {}).get("framework") == "pytorch":
            from .ops.signatures import SHARED
            if sig.cls not in SHARED:
                return Msg("hint.keras_layer", cls=sig.cls, conv=conv.name)
    return None
