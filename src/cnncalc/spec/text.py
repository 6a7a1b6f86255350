"""The one-line text spec.

Grammar (layers separated by newlines or ``|``; ``#`` starts a comment)::

    spec   := item (SEP item)*
    item   := [LABEL ':'] (call | '(' spec ')') ['*' INT]
    call   := NAME ['(' [arg (',' arg)*] ')']
    arg    := [NAME '='] value
    value  := NUMBER | STRING | NAME | true | false | none | '(' value, ... ')' | '[' value, ... ']'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import SpecError
from .ast import Arg, LayerCall

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<nl>\n)
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)
  | (?P<punct>[()\[\],=:|*])
""", re.VERBOSE)

_OPEN = {"(": ")", "[": "]"}
MAX_LAYERS = 100_000    # '* N' expands eagerly: a typo like '* 99999999999' must not exhaust memory


@dataclass(frozen=True)
class Tok:
    kind: str      # number, string, name, punct, nl, end
    text: str
    line: int
    column: int
    pos: int


def _layer_near(toks: list[Tok], opener: int | None = None) -> str | None:
    """The layer an error in the token stream belongs to: the call owning `opener`, else the last call."""
    if opener is not None and opener > 0 and toks[opener - 1].kind == "name":
        return toks[opener - 1].text
    for i in range((len(toks) if opener is None else opener) - 1, -1, -1):
        if toks[i].kind == "name" and i + 1 < len(toks) and toks[i + 1].text == "(":
            return toks[i].text
    return None


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    line, line_start, pos = 1, 0, 0
    stack: list[int] = []            # indexes in toks of the open '(' / '['
    n = len(src)

    def fail(msg, ln, col, at, opener=None):
        return SpecError(msg, line=ln, column=col, fragment=_line_of(src, at), layer=_layer_near(toks, opener))

    while pos < n:
        m = _TOKEN.match(src, pos)
        col = pos - line_start + 1
        if not m:
            raise fail(f"unexpected character {src[pos]!r}", line, col, pos, stack[-1] if stack else None)
        kind = m.lastgroup
        text = m.group()
        if kind == "nl":
            toks.append(Tok("nl", text, line, col, pos))
            line += 1
            line_start = m.end()
        elif kind not in ("ws", "comment"):
            tok = Tok(kind, text, line, col, pos)
            if kind == "punct" and text in _OPEN:
                stack.append(len(toks))
            elif kind == "punct" and text in (")", "]"):
                if not stack:
                    raise fail(f"unbalanced '{text}': nothing to close", line, col, pos)
                k = stack.pop()
                opener = toks[k]
                if _OPEN[opener.text] != text:
                    raise fail(f"'{text}' closes the '{opener.text}' opened at line {opener.line}, "
                               f"column {opener.column}", line, col, pos, k)
            toks.append(tok)
        pos = m.end()
    if stack:
        t = toks[stack[-1]]
        raise fail(f"unbalanced '{t.text}': never closed", t.line, t.column, t.pos, stack[-1])
    toks.append(Tok("end", "", line, pos - line_start + 1, pos))
    return toks


def _line_of(src: str, pos: int) -> str:
    start = src.rfind("\n", 0, pos) + 1
    end = src.find("\n", pos)
    return src[start:end if end >= 0 else len(src)].strip()


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = tokenize(src)
        self.i = 0

    # helpers
    def peek(self, k: int = 0) -> Tok:
        try:
            return self.toks[self.i + k]
        except IndexError:
            return self.toks[-1]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, msg: str, tok: Tok) -> SpecError:
        return SpecError(msg, line=tok.line, column=tok.column, fragment=_line_of(self.src, tok.pos))

    def is_punct(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "punct" and t.text == text

    def expect(self, text: str) -> Tok:
        t = self.peek()
        if not (t.kind == "punct" and t.text == text):
            shown = "end of spec" if t.kind == "end" else ("end of line" if t.kind == "nl" else repr(t.text))
            raise self.fail(f"expected '{text}' but found {shown}", t)
        return self.take()

    def skip_nl(self) -> None:
        while self.peek().kind == "nl":
            self.i += 1

    def skip_seps(self) -> None:
        while self.peek().kind == "nl" or self.is_punct("|"):
            self.i += 1

    # grammar
    def sequence(self, closing: str | None, base: int = 0) -> list[LayerCall]:
        """``base``: index of this sequence's first layer in the flattened spec (for error messages)."""
        out: list[LayerCall] = []
        self.skip_seps()
        while not self._at_close(closing):
            out.extend(self.item(base + len(out)))
            t = self.peek()
            if self._at_close(closing):
                break
            if t.kind == "nl" or (t.kind == "punct" and t.text == "|"):
                self.skip_seps()
                continue
            raise self.fail(f"expected '|' or a new line between layers, found {t.text!r}", t)
        return out

    def _at_close(self, closing: str | None) -> bool:
        t = self.peek()
        if closing is None:
            return t.kind == "end"
        if t.kind == "end":
            raise self.fail(f"expected '{closing}'", t)
        return t.kind == "punct" and t.text == closing

    def item(self, index: int = 0) -> list[LayerCall]:
        label = None
        t = self.peek()
        if t.kind == "name" and self.is_punct(":", 1):
            label = t.text
            self.i += 2
            self.skip_nl()
        start = self.peek()
        if self.is_punct("("):
            if label:
                raise self.fail(f"the label '{label}' must name one layer, not a group: "
                                "put it inside the parentheses", start)
            self.take()
            layers = self.sequence(")", index)
            self.expect(")")
            if not layers:
                raise self.fail("empty group '()'", start)
        elif start.kind == "name":
            layers = [self.call(label, index)]
        else:
            shown = "end of spec" if start.kind == "end" else repr(start.text)
            raise self.fail(f"expected a layer name, found {shown}", start)
        if self.is_punct("*"):
            star = self.take()
            n = self.peek()
            if n.kind != "number" or not re.fullmatch(r"\+?\d+", n.text) or int(n.text) < 1:
                raise self.fail(f"'*' must be followed by a positive whole number of repeats, found {n.text!r}", n)
            self.take()
            times = int(n.text)
            del star
            if index + times * len(layers) > MAX_LAYERS:
                raise self.fail(f"'* {times}' would make {index + times * len(layers):,} layers; a spec may have "
                                f"at most {MAX_LAYERS:,}", n)
            layers = _repeat(layers, times)
        return layers

    def call(self, label: str | None, index: int = 0) -> LayerCall:
        name = self.take()
        try:
            return self._call(name, label)
        except SpecError as e:
            if e.layer:
                raise
            raise SpecError(e.message, line=e.line, column=e.column, layer=label or f"#{index} {name.text}",
                            fragment=e.fragment) from None

    def _call(self, name: Tok, label: str | None) -> LayerCall:
        args: list[Arg] = []
        end_pos = name.pos + len(name.text)
        if self.is_punct("("):
            self.take()
            self.skip_nl()
            seen_kw = False
            while not self.is_punct(")"):
                t = self.peek()
                if t.kind == "name" and self.is_punct("=", 1):
                    self.i += 2
                    self.skip_nl()
                    value = self.value()
                    args.append(Arg(t.text, value, t.line, t.column))
                    seen_kw = True
                else:
                    value = self.value()
                    if seen_kw:
                        raise self.fail("a positional argument cannot follow a keyword argument", t)
                    args.append(Arg(None, value, t.line, t.column))
                self.skip_nl()
                if self.is_punct(","):
                    self.take()
                    self.skip_nl()
                elif not self.is_punct(")"):
                    bad = self.peek()
                    raise self.fail(f"expected ',' or ')' in the arguments of {name.text}, found {bad.text!r}", bad)
            close = self.take()
            end_pos = close.pos + 1
        text = self.src[name.pos:end_pos]
        if label:
            text = f"{label}: {text}"
        return LayerCall(name.text, tuple(args), label, name.line, name.column, text)

    def value(self):
        t = self.peek()
        if t.kind == "number":
            self.take()
            return _number(t.text)
        if t.kind == "string":
            self.take()
            return t.text[1:-1]
        if t.kind == "name":
            self.take()
            low = t.text.lower()
            return {"true": True, "false": False, "none": None, "null": None}.get(low, t.text)
        if t.kind == "punct" and t.text in _OPEN:
            closing = _OPEN[self.take().text]
            items = []
            self.skip_nl()
            while not self.is_punct(closing):
                items.append(self.value())
                self.skip_nl()
                if self.is_punct(","):
                    self.take()
                    self.skip_nl()
                elif not self.is_punct(closing):
                    bad = self.peek()
                    raise self.fail(f"expected ',' or '{closing}' in a tuple, found {bad.text!r}", bad)
            self.take()
            return tuple(items)
        shown = "end of spec" if t.kind == "end" else ("end of line" if t.kind == "nl" else repr(t.text))
        raise self.fail(f"expected a value, found {shown}", t)


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _repeat(layers: list[LayerCall], times: int) -> list[LayerCall]:
    if times == 1:
        return layers
    out = []
    for r in range(1, times + 1):
        for lc in layers:
            label = f"{lc.label}.{r}" if lc.label else None
            out.append(LayerCall(lc.kind, lc.args, label, lc.line, lc.column, lc.text, dict(lc.extra, repeat=r)))
    return out


def parse_text(src: str) -> list[LayerCall]:
    """Parse a text spec into a flat list of layer calls (groups expanded)."""
    p = _Parser(src)
    return p.sequence(None)
