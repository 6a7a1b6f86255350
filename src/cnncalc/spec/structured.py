"""The same network as YAML or JSON: a list of layers with the same names and arguments.

Accepted items::

    - input: [1, 28, 28]              # one key: kind -> args (list = positional, dict = keywords, scalar = one)
    - conv2d: {filters: 32, kernel_size: 5}
    - {type: maxpool2d, kernel_size: 2, name: pool1}   # 'type' (or layer/kind) + keywords; 'name' labels it
    - "dense(256) | relu"             # a string is read as text
    - {conv2d: [8, 1], input: pool1}  # 'input' / 'inputs' take named tensors (a branch)
    - {add: [a, b]}                   # merges take tensor names
    - {repeat: 2, layers: [...], name: stage1, input: x}   # a group
    - {def: block, params: {width: null, stride: 1}, layers: [...]}   # a block; null = required

Inside blocks, string values are expressions of the parameters ("width*4").
The top level is that list, or a mapping with ``layers`` (and optionally ``input`` and ``blocks``).
"""
from __future__ import annotations

from ..errors import SpecError
from .ast import Arg, BlockDef, Group, LayerCall
from .graph import elaborate

_TYPE_KEYS = ("type", "layer", "kind", "op")
_LABEL_KEYS = ("name", "label")


def _line(node) -> int | None:
    return node.get("__line__") if isinstance(node, dict) else None


def _value(v):
    """YAML values: lists become tuples; strings that parse as expressions become expressions."""
    if isinstance(v, list):
        return tuple(_value(i) for i in v)
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items() if k != "__line__"}
    if isinstance(v, str) and v.strip():
        from .text import _Parser
        try:
            p = _Parser(v)
            e = p.expr()
            if p.peek().kind == "end":
                return e
        except SpecError:
            pass
    return v


def _text_items(text: str, where: str, line):
    from .text import parse_program
    try:
        return parse_program(text)
    except SpecError as e:
        raise SpecError(f"{where}: {e.message}", line=line, fragment=text) from None


def _refs(body: dict, where: str, line):
    for key in ("inputs", "input"):
        if key in body:
            v = body.pop(key)
            names = v if isinstance(v, list) else [v]
            if not all(isinstance(n, str) for n in names):
                raise SpecError(f"{where}: '{key}' takes tensor names, got {v!r}", line=line)
            return tuple(names)
    return None


def _item(node, where: str) -> list:
    if isinstance(node, str):
        return _text_items(node, where, None)
    if not isinstance(node, dict):
        raise SpecError(f"{where}: a layer must be a string or a mapping, got {node!r}")
    line = _line(node)
    body = {k: v for k, v in node.items() if k != "__line__"}
    if "def" in body or "block" in body:
        name = body.pop("def", None) or body.pop("block")
        params = body.pop("params", {}) or {}
        if isinstance(params, list):
            params = {p: None for p in params}
        from .text import REQUIRED
        plist = tuple((p, REQUIRED if d is None else _value(d)) for p, d in params.items() if p != "__line__")
        return [BlockDef(str(name), plist, tuple(_items(body.get("layers") or [], f"{where} block {name}")),
                         line, 1)]
    if "layers" in body or "repeat" in body:
        times = body.get("repeat", 1)
        if not isinstance(times, int) or times < 1:
            raise SpecError(f"{where}: repeat must be a whole number >= 1, got {times!r}", line=line)
        refs = _refs(body, where, line)
        inner = _items(body.get("layers") or [], where)
        if refs:
            inner = [LayerCall(refs[0], (), None, line, 1, refs[0])] + inner
        label = next((body[k] for k in _LABEL_KEYS if k in body), None)
        return [Group(tuple(inner), times, line, 1, label)]
    if len(body) == 1 and next(iter(body)) in ("input", "inputs"):
        refs = None
    else:
        refs = _refs(body, where, line)
    label = None
    kind = None
    args: list = []
    for k in _TYPE_KEYS:
        if k in body:
            kind = body.pop(k)
            for lk in _LABEL_KEYS:
                if lk in body:
                    label = body.pop(lk)
            pos = body.pop("args", ())
            args = [Arg(None, _value(v), line, 1) for v in (pos if isinstance(pos, (list, tuple)) else [pos])]
            args += [Arg(k2, _value(v), line, 1) for k2, v in body.items()]
            break
    if kind is None:
        for lk in _LABEL_KEYS:
            if lk in body and len(body) > 1:
                label = body.pop(lk)
        if len(body) != 1:
            raise SpecError(f"{where}: a layer mapping needs a 'type' key or exactly one 'kind: arguments' entry, "
                            f"got keys {sorted(body)}", line=line)
        kind, val = next(iter(body.items()))
        if isinstance(val, dict):
            val = {k: v for k, v in val.items() if k != "__line__"}
            for lk in _LABEL_KEYS:
                if lk in val:
                    label = val.pop(lk)
            pos = val.pop("args", ())
            args = [Arg(None, _value(v), line, 1) for v in (pos if isinstance(pos, (list, tuple)) else [pos])]
            args += [Arg(k, _value(v), line, 1) for k, v in val.items()]
        elif isinstance(val, list):
            args = [Arg(None, _value(v), line, 1) for v in val]
        elif val is not None:
            args = [Arg(None, _value(val), line, 1)]
    shown = ", ".join(_show(a) for a in args)
    text = f"{label + ': ' if label else ''}{kind}({shown})"
    return [LayerCall(str(kind), tuple(args), label, line, 1, text, {}, refs)]


def _show(a: Arg) -> str:
    v = a.value
    s = getattr(v, "text", None) or repr(v)
    return s if a.name is None else f"{a.name}={s}"


def _items(data, where: str) -> list:
    if not isinstance(data, (list, tuple)):
        raise SpecError(f"{where}: expected a list of layers, got {type(data).__name__}")
    out = []
    for i, node in enumerate(data):
        out.extend(_item(node, f"{where} item {i + 1}"))
    return out


def program_of(data, where: str = "spec") -> list:
    if isinstance(data, dict):
        body = {k: v for k, v in data.items() if k != "__line__"}
        layers = body.get("layers")
        if layers is None:
            raise SpecError(f"{where}: a mapping spec needs a 'layers' list")
        items = []
        for name, b in (body.get("blocks") or {}).items():
            if name == "__line__":
                continue
            items += _item(dict(b, **{"def": name}), f"{where} block {name}")
        if "input" in body:
            items += _item({"input": body["input"]}, f"{where} input")
        return items + _items(layers, where)
    return _items(data, where)


def load_structured(data, where: str = "spec") -> list[LayerCall]:
    return elaborate(program_of(data, where))


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
