"""Sizes written as ``1x3x224x224`` (optionally ``:int64``), as the CLI and the web API take them."""
from __future__ import annotations

from .errors import SpecError


def parse_size(text: str):
    """(dims, dtype or None) of ``1x3x224x224[:dtype]``."""
    size, _, dt = text.partition(":")
    try:
        dims = tuple(int(v) for v in size.lower().replace(",", "x").split("x") if v)
    except ValueError:
        raise SpecError(f"--input {text!r}: expected sizes like 1x3x224x224 (optionally :int64)") from None
    if not dims or any(d < 1 for d in dims):
        raise SpecError(f"--input {text!r}: sizes must be whole numbers >= 1")
    return dims, dt or None
