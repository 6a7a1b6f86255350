"""Sizes as users write them: tensor sizes ``1x3x224x224`` (optionally ``:int64``) and byte sizes ``24GiB``."""
from __future__ import annotations

import re

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


UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "tb": 10**12}


def parse_bytes(text: str, option: str, minimum: int = 16 * 2**20) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in UNITS:
        raise SpecError(f"{option} {text!r}: give a size such as 512MiB, 1GiB or 2GB")
    value = int(float(m.group(1)) * UNITS[m.group(2).lower()])
    if value < minimum:
        raise SpecError(f"{option} {text!r}: at least {minimum:,} bytes")
    return value
