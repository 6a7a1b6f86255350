"""The same network as YAML or JSON: a list of layers with the same names and arguments.

Accepted items::

    - input: [1, 28, 28]              # one key: kind -> args (list = positional, dict = keywords, scalar = one)
    - conv2d: {filters: 32, kernel_size: 5}
    - {type: maxpool2d, kernel_size: 2, name: pool1}   # 'type' (or 'layer'/'kind') + keywords; 'name'/'label'
    - "dense(256)"                    # a string is parsed as text
    - {repeat: 2, layers: [...]}      # a group

The top level is that list, or a mapping with ``layers`` (and optionally ``input``).
"""
from __future__ import annotations

from ..errors import SpecError
from .ast import Arg, LayerCall
from .text import parse_text

_TYPE_KEYS = ("type", "layer", "kind", "op")
_LABEL_KEYS = ("name", "label")


def _line(node) -> int | None:
    return node.get("__line__") if isinstance(node, dict) else None


def _clean(v):
    if isinstance(v, list):
        return tuple(_clean(i) for i in v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if k != "__line__"}
    return v


def _item(node, where: str) -> list[LayerCall]:
    if isinstance(node, str):
        try:
            calls = parse_text(node)
        except SpecError as e:
            raise SpecError(f"{where}: {e.message}", fragment=node) from None
        return calls
    if not isinstance(node, dict):
        raise SpecError(f"{where}: a layer must be a string or a mapping, got {node!r}")
    line = _line(node)
    body = {k: v for k, v in node.items() if k != "__line__"}
    if "layers" in body or "repeat" in body:
        times = body.get("repeat", 1)
        if not isinstance(times, int) or times < 1:
            raise SpecError(f"{where}: repeat must be a whole number >= 1, got {times!r}", line=line)
        inner = load_structured(body.get("layers") or [], where)
        out = []
        for r in range(1, times + 1):
            for c in inner:
                label = f"{c.label}.{r}" if c.label and times > 1 else c.label
                out.append(LayerCall(c.kind, c.args, label, c.line, c.column, c.text))
        return out
    label = None
    for k in _LABEL_KEYS:
        if k in body and any(t in body for t in _TYPE_KEYS):
            label = body.pop(k)
    kind = None
    for k in _TYPE_KEYS:
        if k in body:
            kind = body.pop(k)
            args = []
            pos = body.pop("args", ())
            for v in (pos if isinstance(pos, (list, tuple)) else [pos]):
                args.append(Arg(None, _clean(v), line, 1))
            for k2, v in body.items():
                args.append(Arg(k2, _clean(v), line, 1))
            break
    if kind is None:
        if len(body) != 1:
            raise SpecError(f"{where}: a layer mapping needs a 'type' key or exactly one 'kind: arguments' entry, "
                            f"got keys {sorted(body)}", line=line)
        kind, val = next(iter(body.items()))
        val = _clean(val)
        if isinstance(val, dict):
            lab = [k for k in val if k in _LABEL_KEYS]
            for k in lab:
                label = val.pop(k)
            pos = val.pop("args", ())
            args = [Arg(None, v, line, 1) for v in (pos if isinstance(pos, (list, tuple)) else [pos])]
            args += [Arg(k, v, line, 1) for k, v in val.items()]
        elif isinstance(val, tuple):
            args = [Arg(None, v, line, 1) for v in val]
        elif val is None:
            args = []
        else:
            args = [Arg(None, val, line, 1)]
    text = f"{kind}(" + ", ".join(repr(a.value) if a.name is None else f"{a.name}={a.value!r}" for a in args) + ")"
    return [LayerCall(str(kind), tuple(args), label, line, 1, text)]


def load_structured(data, where: str = "spec") -> list[LayerCall]:
    if isinstance(data, dict):
        body = {k: v for k, v in data.items() if k != "__line__"}
        layers = body.get("layers")
        if layers is None:
            raise SpecError(f"{where}: a mapping spec needs a 'layers' list")
        calls = []
        if "input" in body:
            calls += _item({"input": body["input"]}, f"{where} input")
        return calls + load_structured(layers, where)
    if not isinstance(data, (list, tuple)):
        raise SpecError(f"{where}: expected a list of layers, got {type(data).__name__}")
    out = []
    for i, node in enumerate(data):
        out.extend(_item(node, f"{where} item {i + 1}"))
    return out


def load_yaml(text: str) -> list[LayerCall]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        m = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
        m["__line__"] = node.start_mark.line + 1
        return m

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SpecError(f"YAML: {getattr(e, 'problem', e)}", line=mark.line + 1 if mark else None,
                        column=mark.column + 1 if mark else None) from None
    return load_structured(data)


def load_json(text: str) -> list[LayerCall]:
    import json
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"JSON: {e.msg}", line=e.lineno, column=e.colno) from None
    return load_structured(data)
