"""Readers for the text spec and its YAML / JSON form."""
from __future__ import annotations

import os

from ..errors import SpecError
from ..i18n import Msg, foreign
from .ast import Arg, LayerCall
from .structured import load_json, load_structured, load_yaml
from .text import parse_text

__all__ = ["Arg", "LayerCall", "load", "load_text", "parse_text", "load_yaml", "load_json", "load_structured"]


def load(spec, compact: bool = False) -> list[LayerCall]:
    """Text, ``zoo:NAME``, a path to a .txt/.yaml/.yml/.json file, or an already-loaded list/dict.
    ``compact``: a text spec's repeated block calls kept as stamps (spec/stamps.py; for ``analyze_calls`` only)."""
    if isinstance(spec, str) and spec.strip().lower().startswith("zoo:"):
        return load_text(spec, compact)
    if isinstance(spec, (list, tuple, dict)):
        return load_structured(spec)
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and "\n" not in spec and "(" not in spec
                                         and "|" not in spec and os.path.isfile(spec)):
        path = os.fspath(spec)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise SpecError(Msg("err.spec.cannot_read", path=path, strerror=foreign(e.strerror))) from None
        ext = os.path.splitext(path)[1].lower()
        if ext in (".yaml", ".yml"):
            return load_yaml(text)
        if ext == ".json":
            return load_json(text)
        return parse_text(text, compact)
    if isinstance(spec, str) and os.path.splitext(spec.strip())[1].lower() in (".txt", ".yaml", ".yml", ".json", ".spec") \
            and "(" not in spec and "|" not in spec:
        raise SpecError(Msg("err.spec.no_such_spec_file", p=spec.strip()))
    if not isinstance(spec, str):
        raise SpecError(Msg("err.spec.spec_text_file_path_list", name=type(spec).__name__))
    return load_text(spec, compact)


def load_text(spec: str, compact: bool = False) -> list[LayerCall]:
    """A spec sent as text (by the web API): text, JSON text or ``zoo:NAME``. Never read as a file name."""
    if not isinstance(spec, str):
        raise SpecError(Msg("err.spec.spec_text", name=type(spec).__name__))
    if spec.strip().lower().startswith("zoo:"):
        from ..zoo import get
        return parse_text(get(spec.strip()[4:]).text, compact)
    stripped = spec.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        return load_json(spec)
    return parse_text(spec, compact)
