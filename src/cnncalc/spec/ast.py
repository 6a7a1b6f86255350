"""What a spec is made of after parsing: layer calls with their positions."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Arg:
    name: str | None          # None for a positional argument
    value: object
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class LayerCall:
    kind: str                 # as typed, e.g. "Conv2D"
    args: tuple[Arg, ...] = ()
    label: str | None = None
    line: int | None = None
    column: int | None = None
    text: str = ""            # the spec fragment, for error messages
    extra: dict = field(default_factory=dict, compare=False)

    def positional(self) -> list[Arg]:
        return [a for a in self.args if a.name is None]

    def keywords(self) -> list[Arg]:
        return [a for a in self.args if a.name is not None]
