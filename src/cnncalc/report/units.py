"""Human-readable numbers: thousands separators, SI counts, binary bytes."""
from __future__ import annotations


def count(n: int) -> str:
    return f"{n:,}"


_FLOAT_SAFE = 10 ** 300       # whole numbers beyond this do not fit a float: shown as 1.23E+400


def _huge(n: int) -> str:
    from decimal import Decimal
    return f"{Decimal(n):.2E}"


def si(n: float) -> str:
    """1,589,760 -> '1.59 M'."""
    if isinstance(n, int) and abs(n) >= _FLOAT_SAFE:
        return _huge(n)
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:g}"


def nbytes(n: int) -> str:
    """200016 -> '195.3 KiB'."""
    if isinstance(n, int) and abs(n) >= _FLOAT_SAFE:
        return _huge(n) + " B"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def shape(s) -> str:
    return "(" + ", ".join(str(i) for i in s) + ")"


def rf_short(rf) -> str:
    if rf is None:
        return "-"
    if rf.is_global:
        return "global"

    def num(v):
        from fractions import Fraction
        v = Fraction(v)
        return str(v.numerator) if v.denominator == 1 else f"{float(v):g}"

    size = "x".join(num(v) for v in rf.size)
    stride = "x".join(num(v) for v in rf.stride)
    return f"{'≈' if rf.approximate else ''}{size} /{stride}"
