"""What a spec is made of after parsing, and the flat graph it elaborates into.

Parsing gives an AST (calls, groups, assignments, block definitions; argument
values may be expressions).  Elaboration (``spec/graph.py``) expands blocks and
repeats, evaluates expressions and resolves tensor names, giving a flat list of
:class:`LayerCall` nodes, each with explicit input tensors and an output tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..frozen import fast_init


@fast_init
@dataclass(frozen=True)
class Arg:
    name: str | None          # None for a positional argument
    value: object             # a plain value, or an Expr before elaboration
    line: int | None = None
    column: int | None = None


@fast_init
@dataclass(frozen=True)
class LayerCall:
    kind: str                 # as typed, e.g. "Conv2D"
    args: tuple[Arg, ...] = ()
    label: str | None = None
    line: int | None = None
    column: int | None = None
    text: str = ""            # the spec fragment, for error messages
    extra: dict = field(default_factory=dict, compare=False)
    inputs: tuple[str, ...] | None = None   # tensor ids (after elaboration); None = the previous layer's output
    output: str | None = None               # tensor id of the output (after elaboration)

    def positional(self) -> list[Arg]:
        return [a for a in self.args if a.name is None]

    def keywords(self) -> list[Arg]:
        return [a for a in self.args if a.name is not None]


class _TemplateArgs:
    """``LayerCall.args`` of a node made from a plain line's template (:func:`template_call`): the tuple of Args
    is made when first read.  A long spec's layers are mostly such nodes, and the analysis reads a layer's
    arguments only the first time it meets that layer (it stores op results by the call's text).  Every read
    (equality, ``repr``, ``dataclasses.replace``, pickling through ``__dict__``) gives the same tuple; once made
    it sits in the instance's ``__dict__`` and this descriptor is no longer consulted."""

    __slots__ = ()

    def __get__(self, obj, cls=None):
        if obj is None:
            return ()
        d = obj.__dict__
        source = d.pop("_template_args", None)
        if source is None:
            return ()
        template, line = source
        args = d["args"] = tuple([Arg(n, v, line, col) for n, v, col, _ in template])
        return args


LayerCall.args = _TemplateArgs()        # (instances made by LayerCall(...) hold their own: it is not read)
_new = object.__new__


def template_call(kind: str, template: tuple, line: int, column, text: str, extra: dict, inputs: tuple,
                  output: str) -> LayerCall:
    """The node of one call of a plain line (spec/lines.py): its arguments (name, value, column, plain) are
    written out in the text, so its Args wait until read.  ``extra`` is shared by every line with this
    template: nothing writes into a node's extra after elaboration."""
    node = _new(LayerCall)
    d = node.__dict__
    d["kind"] = kind
    d["_template_args"] = (template, line)
    d["label"] = None
    d["line"] = line
    d["column"] = column
    d["text"] = text
    d["extra"] = extra
    d["inputs"] = inputs
    d["output"] = output
    return node


@dataclass(frozen=True)
class Group:
    items: tuple
    repeat: int = 1
    line: int | None = None
    column: int | None = None
    label: str | None = None
    count_at: tuple | None = None     # (line, column) of the repeat count


@dataclass(frozen=True)
class Assign:
    """``name = chain``: the chain's output is the tensor ``name``."""
    name: str
    items: tuple
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class BlockDef:
    """``def name(p1, p2=default): ... end``: a reusable sub-network; its input is ``in``."""
    name: str
    params: tuple            # ((name, default Expr or REQUIRED), ...)
    items: tuple
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class PlainLine:
    """The layer calls of a plain line (spec/lines.py) at the top of a spec: its template and its line.  Only
    between parsing and elaboration in ``parse_text``; ``parse_program`` gives the calls themselves."""
    template: tuple
    line: int


# ---------------------------------------------------------------- expressions in argument values

@dataclass(frozen=True)
class Name:
    """A bare word: a block parameter, a tensor name, or else a string (``padding=same``)."""
    text: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Neg:
    value: object


@dataclass(frozen=True)
class Func:
    """max(a, b, ...) / min(a, b, ...) in an argument value."""
    name: str
    args: tuple
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Unknown:
    """``?`` (or ``?name``) in an argument: a whole number ``cnncalc solve`` searches for.  Unnamed ones are
    each their own unknown; ``?s`` written twice is one unknown."""
    name: str | None
    line: int | None = None
    column: int | None = None


#: the default of a block parameter that must be given
REQUIRED = object()
