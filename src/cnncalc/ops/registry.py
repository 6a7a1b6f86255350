"""The table of layer kinds: one small function per op, registered under every spelling.

An op function takes ``(ctx, x, a)`` -- the layer context, the input shape
(batch first, in the convention's layout) and the bound arguments -- and
returns a :class:`LayerOut`.  It never touches tensors: everything is
arithmetic on shapes, so cost grows with the number of layers only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..errors import SpecError, did_you_mean
from ..formulas import LazySteps, Step, steps_state
from ..frozen import fast_init
from ..i18n import Msg
from .signatures import for_call

REQUIRED = object()


def norm(name: str) -> str:
    """Spellings are case-insensitive and ignore '_': Conv2D == conv_2d == conv2d."""
    return name.lower().replace("_", "")


@dataclass(frozen=True)
class Param:
    name: str                       # canonical, as shown to users: "kernel_size"
    default: object = REQUIRED
    aliases: tuple[str, ...] = ()
    doc: str = ""


@fast_init
@dataclass(frozen=True)
class RF:
    """How a layer changes the receptive field.

    kind: "keep" (elementwise), "window" (kernel/stride/left padding per
    spatial dim), "transposed" (stride divides), "upsample" (stride divides),
    "global" (sees its whole input), "none" (no spatial meaning any more).
    """

    kind: str
    kernel: tuple = ()
    stride: tuple = ()
    padding: tuple = ()
    dilation: tuple = ()     # transposed convs: the taps sit d apart inside the effective kernel


KEEP = RF("keep")
GLOBAL = RF("global")
NONE = RF("none")


@fast_init
@dataclass(frozen=True)
class LayerOut:
    output_shape: tuple[int, ...]
    params: int = 0
    non_trainable: int = 0
    buffers: int = 0                 # PyTorch buffer elements (running stats): memory, not parameters
    int64_buffers: int = 0           # of which stored as int64 (num_batches_tracked), 8 bytes each
    macs: int = 0
    mults: int = 0
    adds: int = 0
    flops: int = 0
    rf: RF = KEEP
    steps: tuple[Step, ...] = ()     # or a function making them, called when first read (formulas.LazySteps)
    kernel_shape: tuple[int, ...] | None = None
    warnings: tuple[str, ...] = ()
    call: tuple | None = field(default=None, compare=False)   # (kind, family, args) when run by ops.apply

    @property
    def trainable(self) -> int:
        return self.params - self.non_trainable

    __getstate__ = steps_state


LayerOut.steps = LazySteps()


@dataclass(frozen=True)
class OpDef:
    kind: str                        # canonical name shown in reports
    fn: Callable
    params: tuple[Param, ...]
    family: str
    spellings: tuple[str, ...]
    doc: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def param_names(self) -> list[str]:
        return [p.name for p in self.params]


OPS: dict[str, OpDef] = {}          # normalized spelling -> op
KINDS: dict[str, OpDef] = {}        # canonical kind -> op


def register(kind: str, *spellings: str, params=(), family: str = "", doc: str = "", **extra):
    """Register ``fn`` under ``kind`` and every spelling (normalized)."""

    def deco(fn):
        op = OpDef(kind, fn, tuple(params), family, (kind,) + spellings, doc or (fn.__doc__ or "").strip(), extra)
        for p in op.params:
            if p.name.startswith("_") or p.name in ("given", "position", "items"):
                raise RuntimeError(f"{kind}: parameter name {p.name!r} would hide Args' own attributes")
        for s in op.spellings:
            key = norm(s)
            if key in OPS and OPS[key].kind != kind:
                raise RuntimeError(f"spelling {s!r} registered twice ({OPS[key].kind}, {kind})")
            OPS[key] = op
        KINDS[kind] = op
        return fn

    return deco


def lookup(name: str, *, line=None, column=None, fragment=None, layer=None) -> OpDef:
    op = OPS.get(norm(name))
    if op is None:
        raise SpecError(Msg("err.unknown_layer", name=name,
                            near=did_you_mean(name, sorted({s for o in KINDS.values() for s in o.spellings}))),
                        line=line, column=column, fragment=fragment, layer=layer)
    return op


class Args:
    """Bound arguments: attribute access by canonical name, with positions for errors."""

    def __init__(self, values: dict, positions: dict, given: set):
        d = self.__dict__
        d.update(values)                   # a.kernel_size is a plain attribute read (register() refuses a
        d["_values"] = values              # parameter named like a method or starting with '_')
        d["_positions"] = positions
        d["_given"] = given

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def given(self, name: str) -> bool:
        return name in self._given

    def position(self, name: str):
        return self._positions.get(name)

    def items(self):
        return self._values.items()


def bind(op: OpDef, call, fail, conv=None) -> Args:
    """Match a call's positional and keyword arguments to the op's parameters.

    A call written with a framework's class name (``Conv2d``, ``nn.Linear``, ``layers.Dense``) takes that
    class's positional order (ops/signatures.py); cnncalc's own spellings take the order of ``op.params``.
    """
    if call.kind[:1].isupper():                      # Conv2d, Linear, Conv2D: a framework's class name
        sig = for_call(call)
        if sig is not None and sig.kind == op.kind:
            return _bind_framework(op, sig, call, fail, conv)
    by_name = _by_name(op)
    values: dict = {}
    positions: dict = {}
    pos_params = [p for p in op.params if not p.name.startswith("*")]
    positional = call.positional()
    if len(positional) > len(pos_params):
        extra = positional[len(pos_params)]
        fail(Msg("err.too_many_positional", kind=op.kind, n=len(pos_params),
                 names=", ".join(p.name for p in pos_params) or "none", got=len(positional)),
             (extra.line, extra.column))
    for p, a in zip(pos_params, positional):
        values[p.name] = a.value
        positions[p.name] = (a.line, a.column)
    for a in call.keywords():
        p = by_name.get(norm(a.name))
        if p is None:
            names = [p.name for p in op.params] + [al for p in op.params for al in p.aliases]
            hint = did_you_mean(a.name, names)
            known = ", ".join(p.name for p in op.params) or "none"
            fail(Msg("err.no_such_argument", kind=op.kind, name=a.name, near=hint, known=known), (a.line, a.column))
        if p.name in values:
            fail(Msg("err.argument_twice", name=p.name, kind=op.kind), (a.line, a.column))
        values[p.name] = a.value
        positions[p.name] = (a.line, a.column)
    given = set(values)
    for p in op.params:
        if p.name not in values:
            if p.default is REQUIRED:
                fail(Msg("err.needs_argument", kind=op.kind, name=p.name), None)
            values[p.name] = p.default
    return Args(values, positions, given)


def _by_name(op: OpDef) -> dict:
    by_name = op.extra.get("_by_name")
    if by_name is None:
        by_name = op.extra["_by_name"] = {}
        for p in op.params:
            by_name[norm(p.name)] = p
            for a in p.aliases:
                by_name[norm(a)] = p
    return by_name


def _bind_framework(op: OpDef, sig, call, fail, conv) -> Args:
    """Bind a call by a framework class's signature: its positional order, its names, its ignored options."""
    by_name = _by_name(op)
    ignored = {norm(n) for n in sig.ignored}
    values: dict = {}
    positions: dict = {}
    positional = call.positional()
    if len(positional) > len(sig.positional):
        extra = positional[len(sig.positional)]
        fail(Msg("err.too_many_positional", kind=sig.cls, n=len(sig.positional),
                 names=", ".join(sig.positional) or "none", got=len(positional)), (extra.line, extra.column))
    pairs = [(name, a) for name, a in zip(sig.positional, positional)] + [(a.name, a) for a in call.keywords()]
    if sig.extra.get("keras1"):                       # Convolution2D(nb_filter, nb_row, nb_col)
        rows = dict(pairs)
        rest = [(n, a) for n, a in pairs if n not in ("nb_filter", "nb_row", "nb_col")]
        pairs = [("filters", rows["nb_filter"]), ("kernel_size", _Joined((rows["nb_row"], rows["nb_col"])))] + rest
    for name, a in pairs:
        key = norm(name)
        if key == "dataformat" and str(a.value).lower() == "channels_first" and getattr(conv, "channels_last", 0):
            fail(Msg("err.data_format", conv=conv.name), (a.line, a.column))
        p = by_name.get(key)
        if p is None:
            if key in ignored:
                continue
            names = list(sig.positional) + [p.name for p in op.params]
            fail(Msg("err.no_such_argument", kind=sig.cls, name=name, near=did_you_mean(name, names),
                     known=", ".join(sig.positional) or "none"), (a.line, a.column))
        if p.name in values:
            fail(Msg("err.argument_twice", name=name, kind=sig.cls), (a.line, a.column))
        values[p.name] = a.value
        positions[p.name] = (a.line, a.column)
    given = set(values)
    for name, v in sig.defaults:
        p = by_name[norm(name)]
        values.setdefault(p.name, v)
    for p in op.params:
        if p.name not in values:
            if p.default is REQUIRED:
                shown = next((n for n in sig.positional if by_name.get(norm(n)) is p), p.name)
                fail(Msg("err.needs_argument", kind=sig.cls, name=shown), None)
            values[p.name] = p.default
    return Args(values, positions, given)


class _Joined:
    """Two positional arguments read as one tuple (Keras 1's nb_row, nb_col), at the first one's position."""

    def __init__(self, args):
        self.value = tuple(a.value for a in args)
        self.line, self.column = args[0].line, args[0].column
