"""Reading what people paste: full-width punctuation, ``nn.Sequential(...)`` / ``keras.Sequential([...])``,
``model.add(...)`` lines, ``import`` lines and OrderedDict children -- all into the spec grammar's items.

The input still comes from ``input(...)`` (a line before the pasted model), a Keras ``Input(shape=...)``
inside it, ``input_shape=`` on its first layer, or ``--input`` / ``input_size=`` for the whole spec.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import SpecError
from ..i18n import Msg
from .ast import Group, LayerCall

#: full-width punctuation and digits pasted from a Chinese page -> their ASCII twins (one character each, so
#: columns stay where they were); also the ideographic space, curly quotes, the enumeration comma and '×'
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_WIDE.update({0x3000: ord(" "), 0x201C: ord('"'), 0x201D: ord('"'), 0x2018: ord("'"), 0x2019: ord("'"),
              0x3001: ord(","), 0x00D7: ord("*"), 0x2212: ord("-")})
_SKIPPED_METHODS = ("compile", "fit", "summary", "evaluate", "predict", "build", "to", "eval", "train", "cuda")


def fold_width(src: str) -> str:
    """Full-width （ ） ， ： ＝ ［ ］ ｜ and digits as ( ) , : = [ ] | 0-9 (same length: columns are kept)."""
    return src.translate(_WIDE)


def class_name(name: str) -> str:
    """The last part of a dotted name: 'nn.Sequential' -> 'Sequential'."""
    return name.rpartition(".")[2]


def is_sequential(p) -> bool:
    t = p.peek()
    return t.kind == "name" and class_name(t.text) == "Sequential" and p.is_punct("(", 1)


def is_add_call(p) -> bool:
    t = p.peek()
    return t.kind == "name" and "." in t.text and t.text.rpartition(".")[2] == "add" and p.is_punct("(", 1)


def is_skipped_statement(p) -> bool:
    """Lines of pasted code that describe no layer: imports, model.compile(...), model.summary(), ..."""
    t = p.peek()
    if t.kind != "name":
        return False
    if t.text in ("import", "from") and p.peek(1).kind == "name":
        return True
    return "." in t.text and t.text.rpartition(".")[2] in _SKIPPED_METHODS and p.is_punct("(", 1)


def skip_statement(p) -> None:
    """Skip to the end of the line (a bracket spanning lines is followed to its end)."""
    depth = 0
    while True:
        t = p.peek()
        if t.kind == "end" or (t.kind == "nl" and depth == 0):
            return
        if t.kind == "punct" and t.text in ("(", "["):
            depth += 1
        elif t.kind == "punct" and t.text in (")", "]"):
            depth -= 1
        p.take()


def add_call(p):
    """model.add(Layer(...)): the layer."""
    p.take()
    p.expect("(")
    p.skip_nl()
    node = p.item()
    p.skip_nl()
    p.expect(")")
    return node


def sequential(p, label):
    """nn.Sequential(a, b, ...) / keras.Sequential([a, b, ...], name=...): a group of the layers (None if empty)."""
    name = p.take()
    cls = name.text
    p.expect("(")
    p.skip_nl()
    bracket = p.is_punct("[")
    if bracket:
        p.take()
    closing = "]" if bracket else ")"
    items = _items(p, cls, closing)
    p.take()
    if bracket:                                      # ], name="model")
        p.skip_nl()
        while p.is_punct(","):
            p.take()
            p.skip_nl()
            if p.peek().kind == "name" and p.is_punct("=", 1):
                p.i += 2
                p.expr()
                p.skip_nl()
        p.expect(")")
    if not items:
        return None
    return Group(tuple(items), 1, name.line, name.column, label)


def _items(p, cls: str, closing: str) -> list:
    items = []
    p.skip_nl()
    while not p.is_punct(closing):
        t = p.peek()
        if closing == ")" and t.kind == "name" and p.is_punct("=", 1):     # Sequential(..., name="x")
            p.i += 2
            p.expr()
        elif t.kind == "name" and class_name(t.text) == "OrderedDict" and p.is_punct("(", 1):
            items += _ordered_dict(p, cls)
        elif t.kind == "name" or (t.kind == "punct" and t.text == "("):
            node = p.item()
            if node is not None:
                items.append(node)
        else:
            raise p.fail(Msg("err.sequential_item", cls=cls, found=p.shown(t)), t)
        p.skip_nl()
        if p.is_punct(","):
            p.take()
            p.skip_nl()
        elif not p.is_punct(closing):
            bad = p.peek()
            raise p.fail(Msg("err.expected_arg_sep", name=cls, found=p.shown(bad)), bad)
    return items


def _ordered_dict(p, cls: str) -> list:
    """OrderedDict([('conv1', nn.Conv2d(...)), ...]): the layers, labelled with their names."""
    p.take()
    p.expect("(")
    p.skip_nl()
    p.expect("[")
    out = []
    p.skip_nl()
    while not p.is_punct("]"):
        p.expect("(")
        p.skip_nl()
        t = p.peek()
        if t.kind != "string":
            raise p.fail(Msg("err.sequential_item", cls=cls, found=p.shown(t)), t)
        p.take()
        label = t.text[1:-1]
        p.skip_nl()
        p.expect(",")
        p.skip_nl()
        node = p.item()
        if isinstance(node, LayerCall):
            node = replace(node, label=label, text=f"{label}: {node.text}")
        elif isinstance(node, Group):
            node = replace(node, label=label)
        out.append(node)
        p.skip_nl()
        p.expect(")")
        p.skip_nl()
        if p.is_punct(","):
            p.take()
            p.skip_nl()
    p.take()
    p.skip_nl()
    p.expect(")")
    return out


def with_input(calls: list[LayerCall], size, batch=None) -> list[LayerCall]:
    """The calls of a spec without ``input(...)``, given one: ``size`` is batch first, as for models."""
    from .ast import Arg
    if calls and calls[0].kind.lower().replace("_", "") in ("input", "inputlayer"):
        raise SpecError(Msg("err.input_twice", line=calls[0].line))
    dims = tuple(size)
    if len(dims) < 2 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise SpecError(Msg("err.input_sizes", v=dims, shape=dims, batch=dims[0] if dims else "?"))
    n = dims[0] if batch is None else batch
    text = f"input({', '.join(map(str, dims[1:]))}, batch={n})"
    first = LayerCall("input", tuple(Arg(None, d) for d in dims[1:]) + (Arg("batch", n),), None, None, None,
                      text, {}, (), "t0")
    out = [first]
    for c in calls:                                  # the layers that found no input now read this one
        out.append(replace(c, inputs=("t0",)) if c.inputs == () else c)
    return out
