"""The op layer's entry point for model front-ends: one op kind, its arguments, its input shapes.

The text spec reaches an op through a parsed layer call; the torch, ONNX and Keras front-ends translate their
framework's op (an aten call, an ONNX node, a Keras layer config) into the same kind and arguments and call
:func:`run`.  The op's definition -- output shape, parameters, MACs / mults / adds / FLOPs, receptive-field
effect and the worked explanation -- is therefore written once, in ``ops/``, and shared by every front-end.
"""
from __future__ import annotations

from dataclasses import replace

from ..conventions import get_convention
from ..spec.ast import Arg, LayerCall
from . import registry
from .base import Ctx

_CONVENTIONS: dict = {}


def _convention(name: str):
    c = _CONVENTIONS.get(name)
    if c is None:
        c = _CONVENTIONS[name] = get_convention(name)
    return c


def call_text(kind: str, args: dict) -> str:
    def show(v):
        if isinstance(v, (tuple, list)):
            return "(" + ", ".join(show(i) for i in v) + ("," if len(v) == 1 else "") + ")"
        return repr(v) if isinstance(v, str) else str(v)
    return f"{kind}(" + ", ".join(f"{k}={show(v)}" for k, v in args.items()) + ")"


def run(kind: str, inputs, *, convention: str = "pytorch", name: str | None = None, **args) -> registry.LayerOut:
    """Run op ``kind`` on ``inputs`` (one shape, or a list of shapes for ops with several inputs).

    Raises :class:`~cnncalc.SpecError` when the arguments do not fit the input, as a spec layer would.
    """
    op = registry.KINDS[kind]
    call = LayerCall(kind, tuple(Arg(k, v) for k, v in args.items()), name, None, None, call_text(kind, args))
    ctx = Ctx(_convention(convention), call, name or kind, op)
    ctx.args = registry.bind(op, call, ctx.fail)
    several = op.extra.get("inputs", 1) != 1
    shapes = [tuple(s) for s in inputs] if several else tuple(inputs)
    ctx.input_names = [f"input {i + 1}" for i in range(len(shapes))] if several else ["input"]
    out = op.fn(ctx, shapes, ctx.args)
    return replace(out, call=(op.kind, op.family, dict(ctx.args.items())))
