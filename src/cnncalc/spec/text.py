"""The one-line text spec.

Grammar (layers separated by newlines or ``|``; ``#`` starts a comment)::

    spec   := item (SEP item)*                  SEP is '|' or a new line
    item   := 'def' NAME '(' params ')' ':' (NEWLINE spec 'end' | line)     a block
            | NAME '=' line                      the line's output is the tensor NAME
            | [LABEL ':'] (call | '(' spec ')') ['*' INT]
    line   := item ('|' item)*                   continued by a next line that starts with '|'
    call   := NAME ['(' [arg (',' arg)*] ')']    a bare NAME that names a tensor refers to it
    arg    := [NAME '='] expr
    expr   := term (('+' | '-') term)*;  term := unary (('*' | '/' | '//' | '%') unary)*
    unary  := '-' unary | NUMBER | STRING | NAME | true | false | none | '(' expr, ... ')' | '[' expr, ... ']'
            | '?' | '?' NAME                       an unknown, for ``cnncalc solve`` (same name, same value)

Pasted code is read too (spec/paste.py): ``nn.Sequential(a, b, ...)``, ``keras.Sequential([a, b, ...])``,
``model.add(layer)``, ``import`` lines; full-width punctuation counts as its ASCII twin.
"""
from __future__ import annotations

import re
import unicodedata

from ..errors import SpecError
from ..i18n import Msg
from ..limits import MAX_NESTING, NUMBER_LIMIT_TEXT, shown, too_big
from . import lines as plain_lines
from . import paste
from .ast import REQUIRED, Arg, Assign, BinOp, BlockDef, Func, Group, LayerCall, Name, Neg, PlainLine, Unknown
from .tokens import _OPEN, Tok, _line_of, tokenize  # noqa: F401 -- Tok, tokenize: read from here too

def _template(text: str):
    """The template of a plain line, or None (not plain, or an error: the token-by-token reading reports it)."""
    try:
        toks = tokenize(text)
        if not plain_lines.plain_tokens(toks):
            return None
        return plain_lines.template(_Parser(text, toks=toks).sequence(None))
    except SpecError:
        return None


class _Parser:
    def __init__(self, src: str, templates: dict | None = None, toks: list | None = None):
        self.src = paste.fold_width(src)
        self.toks = tokenize(src, templates) if toks is None else toks     # (toks: the text's, already made)
        self.i = 0
        self.keep_lines = False  # top-level plain lines as PlainLine nodes (parse_text), not as their calls
        self.calls = 0          # calls seen so far, for '#index' in errors found while parsing
        self.depth = 0          # items inside items: groups, block bodies, assignments

    # ------------------------------------------------------------------ helpers
    def peek(self, k: int = 0) -> Tok:
        try:
            return self.toks[self.i + k]
        except IndexError:
            return self.toks[-1]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, msg: str, tok: Tok, layer: str | None = None) -> SpecError:
        return SpecError(msg, line=tok.line, column=tok.column, fragment=_line_of(self.src, tok.pos), layer=layer)

    def _expand(self) -> None:
        """Replace the 'line' token here by the line's own tokens (read where a sequence item is not)."""
        t = self.toks[self.i]
        toks = [Tok(x.kind, x.text, t.line, x.column, t.pos + x.pos) for x in tokenize(t.text)[:-1]]
        self.toks[self.i:self.i + 1] = toks

    def is_punct(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "punct" and t.text == text

    def is_name(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "name" and t.text == text

    def shown(self, t: Tok) -> str:
        return Msg("tok.end_of_spec") if t.kind == "end" else (Msg("tok.end_of_line") if t.kind == "nl"
                                                                else repr(t.text))

    def expect(self, text: str) -> Tok:
        t = self.peek()
        if not (t.kind == "punct" and t.text == text):
            raise self.fail(Msg("err.expected_found", want=text, found=self.shown(t)), t)
        return self.take()

    def skip_nl(self) -> None:
        while self.peek().kind == "nl":
            self.i += 1

    def skip_seps(self) -> None:
        while self.peek().kind == "nl" or self.is_punct("|"):
            self.i += 1

    # ------------------------------------------------------------------ grammar
    def sequence(self, closing: str | None) -> list:
        """Items up to `closing` (')' or 'end'; None = end of spec)."""
        out: list = []
        self.skip_seps()
        while not self._at_close(closing):
            t = self.peek()
            if t.kind == "line" and self.depth <= MAX_NESTING:       # a plain line: its calls at once
                toks, i, instantiate = self.toks, self.i, plain_lines.instantiate
                keep = self.keep_lines and self.depth == 0           # the elaborator reads them as they are
                while True:                                          # and the plain lines right after it
                    if keep:
                        out.append(PlainLine(t.template, t.line))
                    else:
                        out += instantiate(t.template, t.line)
                    self.calls += len(t.template)
                    i += 1
                    if toks[i].kind != "nl" or toks[i + 1].kind != "line":
                        break
                    i += 1
                    t = toks[i]
                self.i = i
            else:
                node = self.item()
                if node is not None:                     # pasted code without a layer: import, compile(...)
                    out.append(node)
            t = self.peek()
            if self._at_close(closing):
                break
            if t.kind == "nl" or (t.kind == "punct" and t.text == "|"):
                self.skip_seps()
                continue
            raise self.fail(Msg("err.expected_sep", found=repr(t.text)), t)
        return out

    def _at_close(self, closing: str | None) -> bool:
        t = self.peek()
        if t.kind == "end":
            if closing is None:
                return True
            raise self.fail(Msg("err.text.expected", closing=closing, p=Msg("err.text.to_close_block") if closing == "end" else ""), t)
        if closing == "end":
            return t.kind == "name" and t.text == "end"
        return closing is not None and t.kind == "punct" and t.text == closing

    def line(self) -> list:
        """Items of one logical line: '|' continues it, and so does a next line starting with '|'."""
        items = [self.item()]
        items = [i for i in items if i is not None]
        while True:
            if self.is_punct("|"):
                self.take()
                self.skip_nl()
            elif self.peek().kind == "nl":
                k = 0
                while self.peek(k).kind == "nl":
                    k += 1
                if not self.is_punct("|", k):
                    return items
                self.i += k + 1
                self.skip_nl()
            else:
                return items
            if self.peek().kind == "end" or self.is_punct(")") or self.is_name("end"):
                return items
            node = self.item()
            if node is not None:
                items.append(node)

    def item(self):
        self.depth += 1
        try:
            if self.depth > MAX_NESTING + 1:
                t = self.peek()
                raise self.fail(Msg("err.text.nesting_deeper_than_levels_groups", MAX_NESTING=MAX_NESTING), t)
            return self._item()
        finally:
            self.depth -= 1

    def _item(self):
        t = self.peek()
        if t.kind == "line":
            self._expand()
            t = self.peek()
        if t.kind == "name" and t.text == "def" and self.peek(1).kind == "name":
            return self.block_def()
        if paste.is_skipped_statement(self):
            paste.skip_statement(self)
            return None
        if t.kind == "name" and self.is_punct("=", 1):
            self.i += 2
            self.skip_nl()
            items = self.line()
            return Assign(t.text, tuple(items), t.line, t.column) if items else None
        if paste.is_add_call(self):
            return paste.add_call(self)
        label = None
        if (t.kind == "name" or (t.kind == "number" and t.text.isdigit())) and self.is_punct(":", 1):
            label = t.text
            self.i += 2
            self.skip_nl()
        start = self.peek()
        if paste.is_sequential(self):
            node = paste.sequential(self, label)
            if node is None:
                return None
        elif self.is_punct("("):
            self.take()
            items = self.sequence(")")
            self.expect(")")
            if not items:
                raise self.fail(Msg("err.text.empty_group"), start)
            node = Group(tuple(items), 1, start.line, start.column, label)
        elif start.kind == "name":
            node = self.call(label)
        else:
            raise self.fail(Msg("err.expected_layer", found=self.shown(start)), start)
        if self.is_punct("*"):
            self.take()
            n = self.peek()
            if n.kind == "name":                         # a block parameter: '* n'
                self.take()
                times = Name(n.text, n.line, n.column)
            elif n.kind != "number" or not re.fullmatch(r"\d+", n.text) or self.number(n) < 1:
                raise self.fail(Msg("err.text.must_followed_by_positive_whole", text=repr(n.text)), n)
            else:
                self.take()
                times = self.number(n)
            at = (n.line, n.column)
            if isinstance(node, Group) and node.repeat == 1 and not isinstance(times, Name):
                node = Group(node.items, times, node.line, node.column, node.label, at)
            else:
                lab = node.label
                if isinstance(node, LayerCall) and lab:
                    node = LayerCall(node.kind, node.args, None, node.line, node.column, node.text, node.extra)
                node = Group((node,), times, start.line, start.column, lab, at)
        return node

    def block_def(self) -> BlockDef:
        kw = self.take()
        name = self.take()
        params = []
        self.expect("(")
        self.skip_nl()
        while not self.is_punct(")"):
            p = self.peek()
            if p.kind != "name":
                raise self.fail(Msg("err.text.expected_parameter_name_def_found", text=name.text, p=self.shown(p)), p)
            self.take()
            default = REQUIRED
            if self.is_punct("="):
                self.take()
                default = self.expr()
            elif params and params[-1][1] is not REQUIRED:
                raise self.fail(Msg("err.text.parameter_without_default_follows_one", text=p.text), p)
            params.append((p.text, default))
            self.skip_nl()
            if self.is_punct(","):
                self.take()
                self.skip_nl()
            elif not self.is_punct(")"):
                raise self.fail(Msg("err.text.expected_parameters_found", text=name.text, p=self.shown(self.peek())),
                                self.peek())
        self.take()
        self.expect(":")
        if self.peek().kind == "nl":
            items = self.sequence("end")
            self.take()                                  # 'end'
        else:
            items = self.line()
        if not items:
            raise self.fail(Msg("err.text.block_has_empty_body", text=name.text), name)
        return BlockDef(name.text, tuple(params), tuple(items), kw.line, kw.column)

    def call(self, label: str | None) -> LayerCall:
        name = self.take()
        self.calls += 1
        args: list[Arg] = []
        end_pos = name.pos + len(name.text)
        deferred = None
        layer = label or f"#{self.calls - 1} {name.text}"   # input(...) is #0
        if self.is_punct("("):
            self.take()
            self.skip_nl()
            seen_kw = False
            while not self.is_punct(")"):
                t = self.peek()
                if t.kind == "name" and self.is_punct("=", 1):
                    self.i += 2
                    self.skip_nl()
                    value = self.expr(layer)
                    args.append(Arg(t.text, value, t.line, t.column))
                    seen_kw = True
                else:
                    value = self.expr(layer)
                    if seen_kw and deferred is None:
                        deferred = (Msg("err.positional_after_keyword"), t.line, t.column)
                    args.append(Arg(None, value, t.line, t.column))
                self.skip_nl()
                if self.is_punct(","):
                    self.take()
                    self.skip_nl()
                elif not self.is_punct(")"):
                    bad = self.peek()
                    raise self.fail(Msg("err.expected_arg_sep", name=name.text, found=repr(bad.text)), bad, layer)
            close = self.take()
            end_pos = close.pos + 1
        text = self.src[name.pos:end_pos]
        if label:
            text = f"{label}: {text}"
        extra = {"error": deferred} if deferred else {}
        if end_pos != name.pos + len(name.text):
            extra["parens"] = True                       # 'relu()' is always a layer, never a tensor name
        return LayerCall(name.text, tuple(args), label, name.line, name.column, text, extra)

    # ------------------------------------------------------------------ expressions
    def expr(self, layer=None):
        left = self.term(layer)
        while self.is_punct("+") or self.is_punct("-"):
            op = self.take()
            left = BinOp(op.text, left, self.term(layer), op.line, op.column)
        return left

    def term(self, layer=None):
        left = self.unary(layer)
        while any(self.is_punct(o) for o in ("*", "/", "//", "%")):
            op = self.take()
            left = BinOp(op.text, left, self.unary(layer), op.line, op.column)
        return left

    def unary(self, layer=None):
        minus = 0
        while self.is_punct("-"):                        # a loop, not recursion: '- - - 3' may be long
            self.take()
            minus += 1
        if self.is_punct("+"):
            self.take()
        v = self.value(layer)
        if not minus:
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v if minus % 2 else v
        return Neg(v) if minus % 2 else Neg(Neg(v))      # each '-' checks a number; two cancel out

    def number(self, t: Tok, layer=None):
        """The value of a number token; too large or too small for exact arithmetic is an error here."""
        text = t.text
        if not any(c in text for c in ".eE"):
            digits = text.lstrip("0") or "0"
            if len(digits) > 19 or too_big(int(digits)):
                raise self.fail(Msg("err.text.number_too_large", text=shown(text), NUMBER_LIMIT_TEXT=NUMBER_LIMIT_TEXT), t, layer)
            return int(digits)
        v = float(text)
        if v in (float("inf"), float("-inf")):
            raise self.fail(Msg("err.text.number_too_large_float_overflows", text=shown(text)), t, layer)
        if v == 0 and any(unicodedata.digit(c, 0) for c in re.split(r"[eE]", text)[0]):
            raise self.fail(Msg("err.text.number_too_small_float_underflows", text=shown(text)), t, layer)
        return v

    def value(self, layer=None):
        t = self.peek()
        if t.kind == "number":
            self.take()
            return self.number(t, layer)
        if t.kind == "string":
            self.take()
            return t.text[1:-1]
        if t.kind == "unknown":
            self.take()
            return Unknown(t.text[1:] or None, t.line, t.column)
        if t.kind == "name":
            self.take()
            low = t.text.lower()
            if low in ("true", "false", "none", "null"):
                return {"true": True, "false": False, "none": None, "null": None}[low]
            if low in ("max", "min") and self.is_punct("("):
                self.take()
                fargs = []
                while not self.is_punct(")"):
                    fargs.append(self.expr(layer))
                    if self.is_punct(","):
                        self.take()
                    elif not self.is_punct(")"):
                        raise self.fail(Msg("err.text.expected_found", low=low, p=self.shown(self.peek())),
                                        self.peek(), layer)
                self.take()
                return Func(low, tuple(fargs), t.line, t.column)
            return Name(t.text, t.line, t.column)
        if t.kind == "punct" and t.text in _OPEN:
            closing = _OPEN[self.take().text]
            items = []
            commas = 0
            self.skip_nl()
            while not self.is_punct(closing):
                items.append(self.expr(layer))
                self.skip_nl()
                if self.is_punct(","):
                    self.take()
                    commas += 1
                    self.skip_nl()
                elif not self.is_punct(closing):
                    bad = self.peek()
                    raise self.fail(Msg("err.text.expected_tuple_found", closing=closing, text=repr(bad.text)), bad, layer)
            self.take()
            if closing == ")" and len(items) == 1 and commas == 0 and isinstance(items[0], (BinOp, Neg)):
                return items[0]                           # parentheses grouping arithmetic: (w + 1)*2
            return tuple(items)
        raise self.fail(Msg("err.expected_value", found=self.shown(t)), t, layer)




def _parse(src: str, keep_lines: bool = False) -> list:
    try:
        p = _Parser(src, plain_lines.Templates(_template, paste.fold_width(src).split("\n")))
        p.keep_lines = keep_lines
        return p.sequence(None)
    except SpecError:
        return _Parser(src).sequence(None)


def parse_program(src: str) -> list:
    """Parse a text spec into its AST (calls, groups, assignments, block definitions).

    Plain lines (spec/lines.py) are parsed once each; if anything goes wrong the spec is read again token by
    token, so an error is always the one that reading finds."""
    return _parse(src)


def parse_text(src: str, compact: bool = False) -> list[LayerCall]:
    """Parse and elaborate a text spec into the flat graph of layer calls (``compact``: repeated blocks kept as
    stamps, for the analysis; spec/stamps.py)."""
    from .graph import elaborate
    return elaborate(_parse(src, keep_lines=True), src, compact=compact)
