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

import re

from ..errors import SpecError
from ..i18n import Msg, foreign
from ..limits import MAX_NESTING, MAX_STRUCTURED_VALUES, NUMBER_LIMIT_TEXT, shown, too_big
from .ast import Arg, BlockDef, Group, LayerCall
from .graph import elaborate

WHERE_SPEC = Msg("st.where_spec")

_TYPE_KEYS = ("type", "layer", "kind", "op")
_LABEL_KEYS = ("name", "label")


def _line(node) -> int | None:
    v = node.get("__line__") if isinstance(node, dict) else None
    return v if type(v) is int and v >= 1 else None


def check_data(data, where: str = WHERE_SPEC) -> None:
    """Bounded before anything recurses into it: at most MAX_NESTING levels (which also stops cycles) and
    MAX_STRUCTURED_VALUES values (YAML aliases expanded); whole numbers within +-10^18, floats finite."""
    stack = [(data, 1, None)]
    count = 0
    while stack:
        node, depth, line = stack.pop()
        count += 1
        if count > MAX_STRUCTURED_VALUES:
            raise SpecError(Msg("err.st.more_than_values_yaml_aliases", where=where, MAX_STRUCTURED_VALUES=MAX_STRUCTURED_VALUES), line=line)
        if isinstance(node, (dict, list, tuple)):
            line = _line(node) or line
            if depth > MAX_NESTING:
                raise SpecError(Msg("err.st.nesting_deeper_than_levels_spec", where=where, MAX_NESTING=MAX_NESTING), line=line)
            stack.extend((v, depth + 1, line) for v in (node.values() if isinstance(node, dict) else node))
        elif too_big(node):
            raise SpecError(Msg("err.st.number_too_large", where=where, node=shown(node), NUMBER_LIMIT_TEXT=NUMBER_LIMIT_TEXT), line=line)
        elif isinstance(node, float) and (node != node or node in (float("inf"), float("-inf"))):
            raise SpecError(Msg("err.st.not_number_spec_can_use", where=where, node=node), line=line)


def _name(v, what: str, where: str, line):
    """A label or kind: a non-empty string (a whole number is read as its digits, nn.Sequential style)."""
    if type(v) is int and v >= 0:
        return str(v)
    if not isinstance(v, str) or not v.strip():
        raise SpecError(Msg("err.st.must_non_empty_name", where=where, what=what, v=repr(v), p=Msg("st.eg_name" if what == "'name'" else "st.eg_type")), line=line)
    return v


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
        raise SpecError(Msg("err.st.msg", where=where, message=e.message), line=line, fragment=text) from None


def _refs(body: dict, where: str, line):
    for key in ("inputs", "input"):
        if key in body:
            v = body.pop(key)
            names = v if isinstance(v, list) else [v]
            if not all(isinstance(n, str) for n in names):
                hint = Msg("st.hint_named_input") if key == "input" else ""
                raise SpecError(Msg("err.st.takes_tensor_names", where=where, key=key, v=shown_value(v), hint=hint), line=line)
            return tuple(names)
    return None


def _item(node, where: str) -> list:
    if isinstance(node, str):
        return _text_items(node, where, None)
    if not isinstance(node, dict):
        raise SpecError(Msg("err.st.layer_must_string_mapping", where=where, node=shown_value(node)))
    line = _line(node)
    body = {k: v for k, v in node.items() if k != "__line__"}
    bad = [k for k in body if not isinstance(k, str) or not k.strip()]
    if bad:
        raise SpecError(Msg("err.st.keys_must_names_type_name", where=where, bad=repr(bad[0])), line=line)
    if "def" in body or "block" in body:
        key = "def" if "def" in body else "block"
        name = _name(body.pop(key), Msg("st.what_block_name_key", key=key), where, line)
        body.pop("block" if key == "def" else "def", None)
        params = body.pop("params", {}) or {}
        if isinstance(params, list):
            if not all(isinstance(p, str) for p in params):
                raise SpecError(Msg("err.st.block_params_must_names", where=where, name=name, params=repr(params)), line=line)
            params = {p: None for p in params}
        if not isinstance(params, dict):
            raise SpecError(Msg("err.st.block_params_must_mapping_names", where=where, name=name, params=shown_value(params)), line=line)
        from .ast import REQUIRED
        plist = tuple((p, REQUIRED if d is None else _value(d)) for p, d in params.items() if p != "__line__")
        wrong = [p for p, _ in plist if not isinstance(p, str) or not p.strip()]
        if wrong:
            raise SpecError(Msg("err.st.block_parameter_must_name_like", where=where, name=name, wrong=repr(wrong[0])),
                            line=line)
        return [BlockDef(str(name), plist, tuple(_items(body.get("layers") or [], Msg("st.where_block", where=where, name=name))),
                         line, 1)]
    if "layers" in body or "repeat" in body:
        times = body.get("repeat", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise SpecError(Msg("err.st.repeat_must_whole_number", where=where, times=repr(times)), line=line)
        refs = _refs(body, where, line)
        inner = _items(body.get("layers") or [], where)
        if refs:
            inner = [LayerCall(refs[0], (), None, line, 1, refs[0])] + inner
        if not inner:
            raise SpecError(Msg("err.st.group_needs_least_one_layer", where=where), line=line)
        label = next((_name(body[k], f"'{k}'", where, line) for k in _LABEL_KEYS if k in body), None)
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
            kind = _name(body.pop(k), f"'{k}'", where, line)
            for lk in _LABEL_KEYS:
                if lk in body:
                    label = _name(body.pop(lk), f"'{lk}'", where, line)
            pos = body.pop("args", ())
            args = [Arg(None, _value(v), line, 1) for v in (pos if isinstance(pos, (list, tuple)) else [pos])]
            args += [Arg(k2, _value(v), line, 1) for k2, v in body.items()]
            break
    if kind is None:
        for lk in _LABEL_KEYS:
            if lk in body and len(body) > 1:
                label = _name(body.pop(lk), f"'{lk}'", where, line)
        if len(body) != 1:
            raise SpecError(Msg("err.st.layer_mapping_needs_type_key", where=where, body=sorted(body)), line=line)
        kind, val = next(iter(body.items()))
        if isinstance(val, dict):
            val = {k: v for k, v in val.items() if k != "__line__"}
            bad = [k for k in val if not isinstance(k, str) or not k.strip()]
            if bad:
                raise SpecError(Msg("err.st.argument_names_must_names_like", where=where, kind=kind, bad=repr(bad[0])),
                                line=line)
            for lk in _LABEL_KEYS:
                if lk in val:
                    label = _name(val.pop(lk), f"'{lk}'", where, line)
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


def shown_value(v) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _show(a: Arg) -> str:
    v = a.value
    s = getattr(v, "text", None) or repr(v)
    return s if a.name is None else f"{a.name}={s}"


def _items(data, where: str) -> list:
    if not isinstance(data, (list, tuple)):
        raise SpecError(Msg("err.st.expected_list_layers", where=where, name=type(data).__name__))
    out = []
    for i, node in enumerate(data):
        out.extend(_item(node, Msg("st.where_item", where=where, i=i + 1)))
    return out


def program_of(data, where: str = WHERE_SPEC) -> list:
    check_data(data, where)
    if isinstance(data, dict):
        body = {k: v for k, v in data.items() if k != "__line__"}
        layers = body.get("layers")
        if layers is None:
            raise SpecError(Msg("err.st.mapping_spec_needs_layers_list", where=where), line=_line(data))
        items = []
        blocks = body.get("blocks") or {}
        if not isinstance(blocks, dict):
            raise SpecError(Msg("err.st.blocks_must_map_block_names", where=where, blocks=shown_value(blocks)),
                            line=_line(data))
        for name, b in blocks.items():
            if name == "__line__":
                continue
            if not isinstance(b, dict):
                raise SpecError(Msg("err.st.block_block_must_mapping_layers", where=where, name=name, b=shown_value(b)), line=_line(blocks))
            items += _item(dict(b, **{"def": _name(name, Msg("st.what_block_name"), where, _line(b))}), Msg("st.where_block", where=where, name=name))
        if "input" in body:
            items += _item({"input": body["input"]}, Msg("st.where_input", where=where))
        return items + _items(layers, where)
    return _items(data, where)


def load_structured(data, where: str = WHERE_SPEC) -> list[LayerCall]:
    return elaborate(program_of(data, where))


def _at(mark) -> dict:
    return {"line": mark.line + 1, "column": mark.column + 1} if mark is not None else {}


_YAML_FLOW = re.compile(r"""'(?:[^']|'')*'|"[^"\\]*(?:\\.[^"\\]*)*"|(?:^|(?<=\s))#[^\n]*|[\[\]{}]""", re.M)


def _check_nesting(text: str, brackets, fmt: str, containers: str) -> None:
    """Brackets counted on the text before a parser sees it (PyYAML's scanner takes quadratic time on deep
    [[[[ and recurses; so does the JSON decoder): more than MAX_NESTING levels is a SpecError at the spot."""
    depth = 0
    for m in brackets.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_NESTING:
                pos = m.start()
                raise SpecError(Msg("err.st.nesting_deeper_than_levels_spec_2", fmt=fmt, MAX_NESTING=MAX_NESTING, containers=containers), line=text.count("\n", 0, pos) + 1,
                                column=pos - text.rfind("\n", 0, pos))
        elif c in "]}":
            depth = max(depth - 1, 0)


def _flow_depth(text: str) -> None:
    _check_nesting(text, _YAML_FLOW, "YAML", Msg("st.lists_and_mappings"))


def load_yaml(text: str) -> list[LayerCall]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
                if key in seen:
                    raise SpecError(Msg("err.st.yaml_key_appears_twice_one", key=key, p=seen[key] + 1), **_at(key_node.start_mark))
                seen[key] = key_node.start_mark.line
        m = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
        m["__line__"] = node.start_mark.line + 1
        return m

    def construct_int(loader, node):
        if len(str(node.value)) > 40:               # no 4,300-digit conversions: far beyond 10^18 anyway
            raise SpecError(Msg("err.st.yaml_number_too_large", shown=shown(node.value), NUMBER_LIMIT_TEXT=NUMBER_LIMIT_TEXT),
                            **_at(node.start_mark))
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    _Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    _flow_depth(text)
    try:
        depth = 0
        for ev in yaml.parse(text, Loader=_Loader):     # the events first, without recursion: the depth
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_NESTING:
                    raise SpecError(Msg("err.st.yaml_nesting_deeper_than_levels", MAX_NESTING=MAX_NESTING), **_at(ev.start_mark))
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SpecError(Msg("err.st.yaml", p=foreign(str(getattr(e, 'problem', None) or e))), **_at(mark)) from None
    except SpecError:
        raise
    except (ValueError, OverflowError) as e:        # a scalar its constructor rejects, e.g. a date 2024-13-45
        raise SpecError(Msg("err.st.yaml_value_cannot_read", e=e)) from None
    return load_structured(data)


_JSON_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def load_json(text: str) -> list[LayerCall]:
    import json
    _check_nesting(text, _JSON_NESTING, "JSON", Msg("st.lists_and_objects"))     # first: the decoder recurses

    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise SpecError(Msg("err.st.json_key_appears_twice_one", k=k))
            out[k] = v
        return out

    def whole(digits: str) -> int:
        if len(digits) > 40:
            raise SpecError(Msg("err.st.json_number_too_large", digits=shown(digits), NUMBER_LIMIT_TEXT=NUMBER_LIMIT_TEXT))
        return int(digits)

    def constant(name: str):
        raise SpecError(Msg("err.st.json_not_number_spec_can", name=name))

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=whole, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise SpecError(Msg("err.st.json", msg=foreign(e.msg)), line=e.lineno, column=e.colno) from None
    return load_structured(data)
