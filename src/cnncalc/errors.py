"""The one error type users see, with its position in the spec and a did-you-mean."""
from __future__ import annotations

import difflib
from typing import Iterable

from .i18n import Msg, norm_lang, render


FRAGMENT_SHOWN = 240       # characters of the offending spec text shown in a message (all of it in .fragment)


class SpecError(ValueError):
    """A malformed spec or an impossible layer.

    ``str(err)`` is one line naming the layer (label or index), the line and
    column, the sizes involved and, for typos, a suggestion.  The attributes
    let a user interface mark the spot: ``line`` and ``column`` are 1-based
    (``None`` when unknown), ``layer`` is the layer's label or ``#index kind``.
    ``message`` may be an :class:`~cnncalc.i18n.Msg` (an id and parameters): ``err.render("zh")`` gives the
    same line in Chinese, ``str(err)`` stays English.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 layer: str | None = None, fragment: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.layer = layer
        self.fragment = fragment
        super().__init__(self._render())

    def _render(self, lang: str = "en") -> str:
        where = []
        if self.layer:
            where.append(render(Msg("err.where_layer", layer=self.layer), lang))
        if self.line is not None:
            where.append(render(Msg("err.where_line", line=self.line, column=self.column) if self.column is not None
                                else Msg("err.where_line_only", line=self.line), lang))
        sep, colon = (", ", ": ") if lang == "en" else ("，", "：")
        prefix = f"{sep.join(where)}{colon}" if where else ""
        # one line, even when the offending layer call spans several lines of the spec
        frag = ""
        if self.fragment:
            frag = " ".join(str(self.fragment).split())
            frag = render(Msg("err.fragment", fragment=frag if len(frag) <= FRAGMENT_SHOWN
                              else frag[:FRAGMENT_SHOWN - 3] + '...'), lang)
        return " ".join(f"{prefix}{render(self.message, lang, glossary=False)}{frag}".splitlines())

    def render(self, lang: str = "en") -> str:
        """The one-line message in ``lang`` ('en' or 'zh'); ``str(err)`` is ``err.render('en')``."""
        return self._render(norm_lang(lang) or "en")

    def with_hint(self, hint) -> "SpecError":
        """The same error with a hint appended (a Msg or text): '...; for Keras use --convention keras'."""
        err = SpecError(Msg("err.with_hint", msg=self.message, hint=hint), line=self.line, column=self.column,
                        layer=self.layer, fragment=self.fragment)
        return err

    def to_dict(self) -> dict:
        return {"error": self.message, "line": self.line, "column": self.column,
                "layer": self.layer, "fragment": self.fragment, "message": str(self)}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close (a Msg: it has a zh form)."""
    choices = list(choices)
    norm = {c.lower().replace("_", ""): c for c in choices}
    hits = difflib.get_close_matches(word.lower().replace("_", ""), list(norm), n=1, cutoff=0.6)
    return Msg("hint.did_you_mean", word=norm[hits[0]]) if hits else ""


def check_lang(lang) -> str:
    """'en' or 'zh'; anything else is a SpecError."""
    key = norm_lang(lang)
    if key is None:
        raise SpecError(Msg("err.unknown_lang", lang=lang))
    return key
