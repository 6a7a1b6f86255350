"""One analysis pass: layer calls in, a Report out.  Pure arithmetic on shapes."""
from __future__ import annotations

from math import prod

from . import rf as rfmod
from .conventions import Convention, get_convention
from .errors import SpecError, did_you_mean
from .ops import registry
from .ops.base import DIM_NAMES, Ctx, fmt_shape
from .report.model import LayerReport, Report, Totals
from .spec import LayerCall, load

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
DTYPE_ALIASES = {"fp32": "float32", "float": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16",
                 "fp64": "float64", "double": "float64", "uint8": "int8"}


def dtype_bytes(dtype: str) -> tuple[str, int]:
    key = str(dtype).lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype '{dtype}'; choose one of {', '.join(DTYPE_BYTES)}"
                        + did_you_mean(str(dtype), list(DTYPE_BYTES) + list(DTYPE_ALIASES)))
    return key, DTYPE_BYTES[key]


def _input_shape(call: LayerCall, batch) -> tuple:
    dims = []
    where = {}      # id of each size -> (line, column) of the argument that gave it, to point at a bad one
    for a in call.args:
        if a.name is None:
            vals = a.value if isinstance(a.value, tuple) else (a.value,)
            dims.extend(vals)
            where.update({len(dims) - len(vals) + i: (a.line, a.column) for i in range(len(vals))})
        elif registry.norm(a.name) == "batch":
            if batch is None:
                batch = a.value
                where["batch"] = (a.line, a.column)
        elif registry.norm(a.name) in ("shape", "inputshape", "size"):
            vals = a.value if isinstance(a.value, tuple) else (a.value,)
            dims.extend(vals)
            where.update({len(dims) - len(vals) + i: (a.line, a.column) for i in range(len(vals))})
        else:
            raise SpecError(f"input has no argument '{a.name}'" + did_you_mean(a.name, ["shape", "batch"])
                            + "; write input(C, H, W) or input(shape=(...), batch=N)",
                            line=a.line, column=a.column, layer="#0 input", fragment=call.text)
    if not dims:
        raise SpecError("input needs the shape of one sample, e.g. input(3, 224, 224)", line=call.line,
                        column=call.column, layer="#0 input", fragment=call.text)
    batch = 1 if batch is None else batch
    for key, v in list(enumerate(dims)) + [("batch", batch)]:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            line, column = where.get(key, (call.line, call.column))
            raise SpecError(f"input sizes and batch must be whole numbers >= 1, got {v!r} in "
                            f"{fmt_shape(dims)} (batch {batch})", line=line, column=column,
                            layer="#0 input", fragment=call.text)
    return (batch,) + tuple(dims)


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
        ctx.fail(f"unknown activation '{name}'" + did_you_mean(name, [k for k, o in registry.KINDS.items()
                                                                    if o.family == "activation"]), "activation")
    a = registry.Args({p.name: p.default for p in act.params}, {}, set())
    extra = act.fn(ctx, out.output_shape, a)
    steps = out.steps + tuple(replace(st, quantity=f"{act.kind}_{st.quantity}") for st in extra.steps)
    return replace(out, flops=out.flops + extra.flops, steps=steps)


def analyze_calls(calls: list[LayerCall], *, convention="pytorch", batch: int | None = None,
                  dtype: str = "float32") -> Report:
    conv = get_convention(convention)
    dname, nbytes = dtype_bytes(dtype)
    if not calls:
        raise SpecError("the spec is empty: start with input(...), e.g. input(3, 224, 224) | conv2d(64, 3)")
    first = calls[0]
    if registry.norm(first.kind) not in ("input", "inputlayer"):
        raise SpecError("the spec must start with input(...) giving one sample's shape, e.g. "
                        + ("input(224, 224, 3)" if conv.channels_last else "input(3, 224, 224)"),
                        line=first.line, column=first.column, layer=first.label or f"#0 {first.kind}",
                        fragment=first.text)
    shape = _input_shape(first, batch)
    in_spatial = _spatial_of(shape, conv)
    state = rfmod.initial_state(in_spatial)
    layers = []
    counts: dict[str, int] = {}
    warnings = []
    rf_view = None
    for index, call in enumerate(calls[1:], start=1):
        layer_id = call.label or f"#{index} {call.kind}"
        if registry.norm(call.kind) in ("input", "inputlayer"):
            raise SpecError("input(...) may appear only once, at the start", line=call.line, column=call.column,
                            layer=layer_id, fragment=call.text)
        op = registry.lookup(call.kind, line=call.line, column=call.column, fragment=call.text, layer=layer_id)
        ctx = Ctx(conv, call, layer_id, op)
        ctx.args = registry.bind(op, call, ctx.fail)
        out = op.fn(ctx, shape, ctx.args)
        if op.family in ("conv", "linear") and getattr(ctx.args, "activation", None) not in (None, "linear"):
            out = _fuse_activation(ctx, out)
        counts[op.kind] = counts.get(op.kind, 0) + 1
        name = call.label or f"{op.kind}_{counts[op.kind]}"
        out_spatial_rank = max(len(out.output_shape) - 2, 0)
        new_state = rfmod.apply(state, out.rf, out_spatial_rank)
        dims = DIM_NAMES.get(len(state), ()) if isinstance(state, tuple) else ()
        rf_steps = tuple(rfmod.step_text(state, new_state, out.rf, dims)) if out.rf.kind != "keep" else ()
        if new_state is not state or rf_view is None:
            rf_view = rfmod.describe(new_state, in_spatial)
        state = new_state
        act = prod(out.output_shape) * nbytes
        for w in out.warnings:
            warnings.append(f"{name}: {w}")
        layers.append(LayerReport(
            index=index, name=name, kind=op.kind, label=call.label, input_shape=shape,
            output_shape=tuple(out.output_shape), params=out.params, trainable_params=out.trainable,
            non_trainable_params=out.non_trainable, buffers=out.buffers, macs=out.macs, flops=out.flops,
            mults=out.mults, adds=out.adds, activation_bytes=act, param_bytes=out.params * nbytes,
            buffer_bytes=(out.buffers - out.int64_buffers) * nbytes + 8 * out.int64_buffers,
            rf=rf_view, kernel_shape=out.kernel_shape, steps=out.steps,
            rf_steps=rf_steps, warnings=out.warnings, line=call.line, text=call.text))
        shape = tuple(out.output_shape)
    layers = tuple(layers)
    return Report(conv.name, calls and _input_shape(first, batch), dname, nbytes, layers, Totals.of(layers),
                  input_bytes=prod(_input_shape(first, batch)) * nbytes, warnings=tuple(warnings))


def analyze(spec, *, convention: str = "pytorch", batch: int | None = None, dtype: str = "float32") -> Report:
    """Analyse a network given as text, a spec file (.txt/.yaml/.json) or a list of layers.

    ``batch`` defaults to the input's ``batch=`` or 1; every reported shape starts with it.
    """
    return analyze_calls(load(spec), convention=convention, batch=batch, dtype=dtype)
