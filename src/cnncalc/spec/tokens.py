"""Tokens of the text spec: one regular expression, one pass; a plain line (spec/lines.py) may be one token.

Errors found here (a character that is no token, brackets that do not match, nesting too deep) name the
line, the column and the layer they are in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import SpecError
from ..frozen import fast_init
from ..i18n import Msg
from ..limits import MAX_NESTING
from . import paste

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<nl>\n)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<unknown>\?[A-Za-z_][A-Za-z0-9_]*|\?)
  | (?P<punct>//|[()\[\],=:|*+\-/%])
""", re.VERBOSE)

_OPEN = {"(": ")", "[": "]"}


@fast_init
@dataclass(frozen=True)
class Tok:
    kind: str      # number, string, name, punct, nl, end; 'line': a whole plain line (spec/lines.py)
    text: str
    line: int
    column: int
    pos: int
    template: tuple | None = field(default=None, compare=False, repr=False)   # a 'line' token's calls


def _layer_near(toks: list[Tok], opener: int | None = None) -> str | None:
    """The layer an error in the token stream belongs to: the call owning `opener`, else the last call."""
    if opener is not None and opener > 0 and toks[opener - 1].kind == "name":
        return toks[opener - 1].text
    for i in range((len(toks) if opener is None else opener) - 1, -1, -1):
        if toks[i].kind == "name" and i + 1 < len(toks) and toks[i + 1].text == "(":
            return toks[i].text
    return None


def tokenize(src: str, templates: dict | None = None) -> list[Tok]:
    """The tokens of a spec.  With ``templates`` (line text -> its template or None: a lines.Templates, which
    makes a missing one), a plain line (spec/lines.py) at the top level becomes one 'line' token."""
    typed, src = src, paste.fold_width(src)
    toks: list[Tok] = []
    line, line_start, pos = 1, 0, 0
    stack: list[int] = []            # indexes in toks of the open '(' / '['
    n = len(src)

    def fail(msg, ln, col, at, opener=None):
        return SpecError(msg, line=ln, column=col, fragment=_line_of(src, at), layer=_layer_near(toks, opener))

    after_line = False               # the last line was a plain line: the next may be one too
    while pos < n:
        if pos == line_start and templates is not None and not stack and (after_line or _may_start_line(toks)):
            end = src.find("\n", pos)
            if end < 0:
                end = n
            text = src[pos:end]
            tpl = templates[text]
            if tpl is not None:
                toks.append(Tok("line", text, line, 1, pos, tpl))
                pos = end
                if end < n:                                  # its new line
                    toks.append(Tok("nl", "\n", line, end - line_start + 1, end))
                    line += 1
                    pos = line_start = end + 1
                    after_line = True
                continue
            after_line = False
        m = _TOKEN.match(src, pos)
        col = pos - line_start + 1
        if not m:
            wide = typed[pos] != src[pos] or not src[pos].isascii()      # pasted full-width, or not ASCII at all
            raise fail(Msg("err.unexpected_wide" if wide else "err.unexpected_char", char=repr(typed[pos])), line, col,
                       pos, stack[-1] if stack else None)
        kind = m.lastgroup
        text = m.group()
        if kind == "nl":
            toks.append(Tok("nl", text, line, col, pos))
            line += 1
            line_start = m.end()
        elif kind not in ("ws", "comment"):
            tok = Tok(kind, text, line, col, pos)
            if kind == "punct" and text in _OPEN:
                if len(stack) >= MAX_NESTING:
                    raise fail(Msg("err.text.nesting_deeper_than_levels_more", MAX_NESTING=MAX_NESTING), line, col, pos, stack[-1])
                stack.append(len(toks))
            elif kind == "punct" and text in (")", "]"):
                if not stack:
                    raise fail(Msg("err.unbalanced_close", text=text), line, col, pos)
                k = stack.pop()
                opener = toks[k]
                if _OPEN[opener.text] != text:
                    raise fail(Msg("err.mismatched_close", text=text, open=opener.text, line=opener.line,
                                   column=opener.column), line, col, pos, k)
            toks.append(tok)
        pos = m.end()
    if stack:
        t = toks[stack[-1]]
        raise fail(Msg("err.never_closed", text=t.text), t.line, t.column, t.pos, stack[-1])
    toks.append(Tok("end", "", line, pos - line_start + 1, pos))
    return toks


def _may_start_line(toks: list[Tok]) -> bool:
    """Whether a plain line here would be read as items of a sequence: not after 'x =', 'label:', 'def f():'
    or a trailing '|' (those read the next line as part of theirs)."""
    for i in range(len(toks) - 1, -1, -1):
        t = toks[i]
        if t.kind != "nl":
            return not (t.kind == "punct" and t.text in ("=", ":", "|"))
    return True


def _line_of(src: str, pos: int) -> str:
    start = src.rfind("\n", 0, pos) + 1
    end = src.find("\n", pos)
    return src[start:end if end >= 0 else len(src)].strip()
