"""Lines read once: a long spec repeats the same few lines, and each distinct line is parsed only once.

A *plain line* is a chain of layer calls on one physical line, ``conv2d(16, 3, padding=1) | batchnorm2d | relu``
or ``res(64)``: names (no dots, no keyword) with optional argument lists, separated by ``|``, and nothing else
-- no label, no assignment, no group, no repeat, no block definition, no pasted code.  Such a line means the
same wherever it stands at the top of a sequence (outside brackets), so its calls are parsed once into a
*template* and every occurrence gets a copy carrying its own line number (columns and text are the line's
own); a line that occurs only once is read token by token, as the template would cost a reading of its own.  The tokenizer (spec/text.py) hands a plain line to the parser as one token; anything else is read
token by token as before, and any error is reported by the token-by-token reading, so messages never change.
"""
from __future__ import annotations

from collections import Counter

from .ast import Arg, BinOp, Func, LayerCall, Name, Neg, Unknown

_NOT_LAYERS = frozenset(("def", "end", "import", "from", "Sequential"))


class Templates(dict):
    """Line text -> its template, or None for a line that is not plain; ``make(text)`` fills a missing one.

    With ``lines`` (the spec's lines, as the tokenizer cuts them), a line that occurs once gets None: a template
    costs a reading of its own (tokens and calls), which only a repeated line pays back."""

    def __init__(self, make, lines: list | None = None):
        super().__init__()
        self.make = make
        self.repeated = None if lines is None else {t for t, n in Counter(lines).items() if n > 1}

    def __missing__(self, text: str):
        tpl = self[text] = self.make(text) if self.repeated is None or text in self.repeated else None
        return tpl


def plain_tokens(toks) -> bool:
    """Whether the tokens of one line (ending with the 'end' token) form a plain line."""
    n = len(toks) - 1
    i = 0
    if n <= 0:
        return False
    while True:
        t = toks[i]
        if t.kind != "name" or "." in t.text or t.text in _NOT_LAYERS:
            return False
        i += 1
        t = toks[i]
        if t.kind == "punct" and t.text == "(":
            depth = 0
            while True:
                t = toks[i]
                if t.kind == "punct":
                    if t.text in ("(", "["):
                        depth += 1
                    elif t.text in (")", "]"):
                        depth -= 1
                i += 1
                if depth == 0:
                    break
        if i == n:
            return True
        t = toks[i]
        if not (t.kind == "punct" and t.text == "|") or i + 1 == n:
            return False
        i += 1


def _is_plain_value(v) -> bool:
    if isinstance(v, tuple):
        return all(_is_plain_value(i) for i in v)
    return not isinstance(v, (Name, BinOp, Neg, Func, Unknown))


def _shallow(v, depth: int = 0) -> bool:
    """Whether an expression nests at most 32 deep (reline recurses; long ones are read token by token)."""
    if depth > 32:
        return False
    if isinstance(v, tuple):
        return all(_shallow(i, depth + 1) for i in v)
    if isinstance(v, BinOp):
        return _shallow(v.left, depth + 1) and _shallow(v.right, depth + 1)
    if isinstance(v, Neg):
        return _shallow(v.value, depth + 1)
    if isinstance(v, Func):
        return all(_shallow(i, depth + 1) for i in v.args)
    return True


def template(items) -> tuple | None:
    """The template of a plain line's parsed calls (parsed alone, so on line 1), or None if it has none."""
    out = []
    for c in items:
        if not isinstance(c, LayerCall) or c.label is not None or "error" in c.extra or c.line != 1:
            return None
        if not all(_shallow(a.value) for a in c.args):
            return None
        args = tuple((a.name, a.value, a.column, _is_plain_value(a.value)) for a in c.args)
        extra = c.extra
        if all(plain for _, _, _, plain in args):     # the text alone says what the arguments are
            extra = dict(extra, literal=True)
        out.append((c.kind, args, c.column, c.text, extra))
    return tuple(out)


def instantiate(tpl: tuple, line: int) -> list:
    """The calls of a template, on line ``line``."""
    out = []
    for kind, args, column, text, extra in tpl:
        out.append(LayerCall(kind, tuple([Arg(name, v if plain else reline(v, line), line, col)
                                          for name, v, col, plain in args]),
                             None, line, column, text, extra))
    return out


def reline(v, line: int):
    """An argument expression moved to another line (the same columns)."""
    if isinstance(v, tuple):
        return tuple(reline(i, line) for i in v)
    if isinstance(v, Name):
        return Name(v.text, line, v.column)
    if isinstance(v, BinOp):
        return BinOp(v.op, reline(v.left, line), reline(v.right, line), line, v.column)
    if isinstance(v, Neg):
        return Neg(reline(v.value, line))
    if isinstance(v, Func):
        return Func(v.name, tuple(reline(i, line) for i in v.args), line, v.column)
    if isinstance(v, Unknown):
        return Unknown(v.name, line, v.column)
    return v
