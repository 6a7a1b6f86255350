"""The documented limits of a spec (docs/spec.md, "Limits").

Beyond them cnncalc answers with a SpecError at once instead of computing for ages, exhausting memory or
giving a rounded number: the work of an analysis grows with the number of layers, never with the sizes.
"""
from __future__ import annotations

from .i18n import Msg

MAX_NUMBER = 10 ** 18        # whole numbers written or computed in a spec, and every tensor size: exact
MAX_NESTING = 100            # brackets, groups, block definitions and calls, assignments, JSON / YAML levels
MAX_RANK = 64                # dims of a tensor, batch included
MAX_STRUCTURED_VALUES = 1_000_000   # values in a YAML / JSON spec (after expanding YAML aliases)
MAX_RF_DIGITS = 100          # receptive-field numbers beyond 10^100 are no longer tracked ('unknown')


def too_big(v) -> bool:
    """A whole number outside +-MAX_NUMBER (bools are not numbers here)."""
    return type(v) is int and not -MAX_NUMBER <= v <= MAX_NUMBER


def shown(v) -> str:
    """A number for a message: long ones abbreviated."""
    s = str(v) if not (type(v) is int and v.bit_length() > 4000) else Msg("lim.many_digits")
    return s if len(s) <= 40 else Msg("lim.abbrev", head=s[:12], tail=s[-6:], n=len(s.lstrip('-')))


NUMBER_LIMIT_TEXT = Msg("lim.number_limit")
