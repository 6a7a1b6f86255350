"""``json.dumps(data, indent=n)``, the same text, faster for a report's plain data.

The standard library writes indented JSON with its pure-Python encoder (its C encoder only writes compact
JSON): about 60 µs a layer row.  :func:`dumps` writes the same characters for the types a report holds --
dicts with string keys, lists and tuples, strings, ints, floats, booleans and None -- and lists of plain
numbers, the shapes, with one join; anything else falls back to ``json.dumps``.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _string

_compact = json.JSONEncoder().encode


class _Other(Exception):
    """A value this writer does not know: json.dumps writes it (or says why not)."""


def dumps(data, indent: int = 2) -> str:
    try:
        out: list[str] = []
        _write(data, out, "\n", " " * indent)
        return "".join(out)
    except _Other:
        return json.dumps(data, indent=indent)


def _scalar(v) -> str:
    t = type(v)
    if t is str or isinstance(v, str):                     # a Msg (a warning) is a str
        return _string(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return _compact(v)                                 # NaN, Infinity as json writes them
    raise _Other


def _write(v, out: list, nl: str, step: str) -> None:
    t = type(v)
    if t is dict:
        if not v:
            out.append("{}")
            return
        inner = nl + step
        out.append("{")
        sep = inner
        for k, x in v.items():
            if type(k) is not str:
                raise _Other
            tx = type(x)
            if tx is dict or tx is list or tx is tuple:
                out.append(sep + _string(k) + ": ")
                _write(x, out, inner, step)
            else:
                out.append(sep + _string(k) + ": " + _scalar(x))
            sep = "," + inner
        out.append(nl)
        out.append("}")
    elif t is list or t is tuple:
        if not v:
            out.append("[]")
            return
        inner = nl + step
        if all(type(x) is int for x in v):                 # a shape: one number a line
            out.append("[" + inner + ("," + inner).join(map(int.__repr__, v)) + nl + "]")
            return
        out.append("[")
        sep = inner
        for x in v:
            tx = type(x)
            if tx is dict or tx is list or tx is tuple:
                out.append(sep)
                _write(x, out, inner, step)
            else:
                out.append(sep + _scalar(x))
            sep = "," + inner
        out.append(nl)
        out.append("]")
    else:
        out.append(_scalar(v))
