"""The one error type users see, with its position in the spec and a did-you-mean."""
from __future__ import annotations

import difflib
from typing import Iterable


FRAGMENT_SHOWN = 240       # characters of the offending spec text shown in a message (all of it in .fragment)


class SpecError(ValueError):
    """A malformed spec or an impossible layer.

    ``str(err)`` is one line naming the layer (label or index), the line and
    column, the sizes involved and, for typos, a suggestion.  The attributes
    let a user interface mark the spot: ``line`` and ``column`` are 1-based
    (``None`` when unknown), ``layer`` is the layer's label or ``#index kind``.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 layer: str | None = None, fragment: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.layer = layer
        self.fragment = fragment
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.layer:
            where.append(f"layer {self.layer}")
        if self.line is not None:
            where.append(f"line {self.line}, column {self.column}")
        prefix = f"{', '.join(where)}: " if where else ""
        # one line, even when the offending layer call spans several lines of the spec
        frag = ""
        if self.fragment:
            frag = " ".join(str(self.fragment).split())
            frag = f"  [in: {frag if len(frag) <= FRAGMENT_SHOWN else frag[:FRAGMENT_SHOWN - 3] + '...'}]"
        return " ".join(f"{prefix}{self.message}{frag}".splitlines())

    def to_dict(self) -> dict:
        return {"error": self.message, "line": self.line, "column": self.column,
                "layer": self.layer, "fragment": self.fragment, "message": str(self)}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    choices = list(choices)
    norm = {c.lower().replace("_", ""): c for c in choices}
    hits = difflib.get_close_matches(word.lower().replace("_", ""), list(norm), n=1, cutoff=0.6)
    return f" (did you mean '{norm[hits[0]]}'?)" if hits else ""
