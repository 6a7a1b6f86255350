"""The op layer's entry point for model front-ends: one op kind, its arguments, its input shapes.

The text spec reaches an op through a parsed layer call; the torch, ONNX and Keras front-ends translate their
framework's op (an aten call, an ONNX node, a Keras layer config) into the same kind and arguments and call
:func:`run`.  The op's definition -- output shape, parameters, MACs / mults / adds / FLOPs, receptive-field
effect and the worked explanation -- is therefore written once, in ``ops/``, and shared by every front-end.

A model has a node per op, so :func:`run` is kept cheap: keyword arguments named as the op's parameters are
bound directly, the call's text (shown only in an error) is written when an error asks for it, and the op's
explanation steps are made when first read (``LayerOut.steps``).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from types import MappingProxyType

from ..conventions import get_convention
from ..spec.ast import Arg
from . import registry
from .base import Ctx

_CONVENTIONS: dict = {}
_new = object.__new__


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


class ModelCall:
    """The layer call an op sees when a model front-end runs it: keyword arguments only, no place in a text;
    its ``text`` (``conv2d(filters=64, ...)``, for error messages) is written when read."""

    __slots__ = ("kind", "values", "label")
    line = column = inputs = output = None
    extra: dict = {}

    def __init__(self, kind: str, values: dict, label):
        self.kind = kind
        self.values = values
        self.label = label

    @property
    def args(self) -> tuple:
        return tuple(Arg(k, v) for k, v in self.values.items())

    @property
    def text(self) -> str:
        return call_text(self.kind, self.values)

    def positional(self) -> list:
        return []

    def keywords(self) -> list:
        return list(self.args)


def _bind(op, args: dict):
    """Keyword arguments that are all the op's own parameter names: bound without the general matcher (the
    same values, in the same order), or None (aliases, unknown names, a missing argument: registry.bind).

    What a set of names needs (the defaults of the parameters not given, or None) is worked out once per op and
    set of names: a model calls an op with the same names at every node."""
    plans = op.extra.get("_bind_plans")
    if plans is None:
        plans = op.extra["_bind_plans"] = {}
    names = tuple(args)
    plan = plans.get(names, False)
    if plan is False:
        plan = plans[names] = _bind_plan(op, names)
    if plan is None:
        return None
    defaults, given = plan
    values = dict(args)
    if defaults:
        values.update(defaults)
    return registry.Args(values, _NO_POSITIONS, given)


_NO_POSITIONS = MappingProxyType({})  # a model's call has no place in a text (shared, and read-only)


def _bind_plan(op, names: tuple):
    """(the defaults to add to keyword arguments ``names`` -- a dict in the op's parameter order --, the set of
    names given), or None when the general matcher must bind them."""
    params = {p.name: p.default for p in op.params}
    if any(k not in params for k in names):
        return None
    plan = {}
    for name, default in params.items():
        if name not in names:
            if default is registry.REQUIRED:
                return None
            plan[name] = default
    return plan, frozenset(names)


_LOCAL = threading.local()              # .memo: results stored while a front-end's analysis runs (see memo())


@contextmanager
def memo():
    """Within this block, :func:`run` gives a repeated call (same kind, convention, name, arguments and input
    shapes: a model's repeated blocks) the result it gave before; errors are never stored.  One analysis at a
    time per thread; the results go when the block ends."""
    outer = getattr(_LOCAL, "memo", None)
    _LOCAL.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _LOCAL.memo = outer


def _key(v):
    """A value as a key that tells 1, 1.0 and True apart (equal and hashed alike in Python); None: no key."""
    t = type(v)
    if t is int or t is str:
        return v
    if t is tuple or t is list:
        for i in v:
            if type(i) is not int:
                break
        else:
            return (t, tuple(v))                      # a shape, a kernel size: whole numbers only
        if t is tuple:
            for i in v:                               # (begin, end) pads per dimension
                if type(i) is not tuple or len(i) != 2 or type(i[0]) is not int or type(i[1]) is not int:
                    break
            else:
                return (t, tuple((tuple, i) for i in v))
        items = []
        for i in v:
            k = _key(i)
            if k is None and i is not None:
                return None
            items.append(k)
        return (t, tuple(items))
    if t is float or t is bool or v is None:
        return (t, v)
    return None


def run(kind: str, inputs, *, convention: str = "pytorch", name: str | None = None, **args) -> registry.LayerOut:
    """Run op ``kind`` on ``inputs`` (one shape, or a list of shapes for ops with several inputs).

    Raises :class:`~cnncalc.SpecError` when the arguments do not fit the input, as a spec layer would.
    """
    store = getattr(_LOCAL, "memo", None)
    if store is None:
        return _run(kind, inputs, convention, name, args)
    key = (kind, convention, name, _key(inputs), *[_key(v) for v in args.values()], *args)
    if None in key[3:]:
        return _run(kind, inputs, convention, name, args)
    out = store.get(key)
    if out is None:
        out = store[key] = _run(kind, inputs, convention, name, args)
    return out


def _run(kind: str, inputs, convention: str, name, args: dict) -> registry.LayerOut:
    op = registry.KINDS[kind]
    call = ModelCall(kind, args, name)
    ctx = Ctx(_convention(convention), call, name or kind, op)
    a = _bind(op, args)
    ctx.args = a if a is not None else registry.bind(op, call, ctx.fail)
    if op.extra.get("inputs", 1) != 1:
        shapes = [tuple(s) for s in inputs]
        ctx.input_names = [f"input {i + 1}" for i in range(len(shapes))]
    else:
        shapes = tuple(inputs)
        ctx.input_names = _ONE_INPUT
    out = op.fn(ctx, shapes, ctx.args)
    result = _new(registry.LayerOut)                 # dataclasses.replace(out, call=...), keeping lazy steps
    d = result.__dict__
    d.update(out.__dict__)
    d["call"] = (op.kind, op.family, dict(ctx.args.items()))
    return result


_ONE_INPUT = ("input",)
