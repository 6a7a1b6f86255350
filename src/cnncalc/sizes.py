"""Sizes as users write them: tensor sizes ``1x3x224x224`` (optionally ``:int64``) and byte sizes ``24GiB``."""
from __future__ import annotations

import re

from .errors import SpecError
from .i18n import Msg


def parse_size(text: str):
    """(dims, dtype or None) of ``1x3x224x224[:dtype]``."""
    size, _, dt = text.partition(":")
    try:
        dims = tuple(int(v) for v in size.lower().replace(",", "x").split("x") if v)
    except ValueError:
        raise SpecError(Msg("err.sizes.input_expected_sizes_like_x", text=repr(text))) from None
    if not dims or any(d < 1 for d in dims):
        raise SpecError(Msg("err.sizes.input_sizes_must_whole_numbers", text=repr(text)))
    return dims, dt or None


UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "tb": 10**12}


def parse_bytes(text: str, option: str, minimum: int = 16 * 2**20) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in UNITS:
        raise SpecError(Msg("err.sizes.give_size_such_as_mib", option=option, text=repr(text)))
    value = int(float(m.group(1)) * UNITS[m.group(2).lower()])
    if value < minimum:
        raise SpecError(Msg("err.sizes.least_bytes", option=option, text=repr(text), minimum=minimum))
    return value
