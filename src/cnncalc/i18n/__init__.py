"""Messages in more than one language: English (the default) and Chinese (``zh``, the seed documents' terms).

Every message cnncalc writes for people has an id and a template per language (``en.py``, ``zh.py``, same
keys; a test checks it).  Code builds a :class:`Msg` -- a ``str`` holding the English text, so everything that
treats it as text keeps working -- that remembers its id and parameters; a renderer asked for another language
calls :func:`render`.  Text without an id (a rare op's note, a formula written by a front-end) goes through the
language's glossary of formula words (``outputs``, ``elements``, ...) and is otherwise left as it is.

Nothing here imports the rest of cnncalc: the core (errors, formulas, ops, report) builds on it.
"""
from __future__ import annotations

import os
import re

from . import en, zh

LANGS = ("en", "zh")
CATALOGS = {"en": en.MESSAGES, "zh": zh.MESSAGES}
_LANG_WORDS = {"en": "en", "english": "en", "zh": "zh", "cn": "zh", "chinese": "zh", "中文": "zh"}


def norm_lang(lang) -> str | None:
    """'en', 'zh', or None for a language cnncalc does not speak (``zh_CN.UTF-8``, ``zh-Hans`` are 'zh')."""
    if lang is None:
        return "en"
    key = str(lang).strip().lower()
    if key in _LANG_WORDS:
        return _LANG_WORDS[key]
    head = re.split(r"[-_.@]", key)[0]
    return _LANG_WORDS.get(head) if head in ("en", "zh") else None


def lang_from_env(environ=None) -> str:
    """The language of the environment: 'zh' when LANGUAGE / LC_ALL / LC_MESSAGES / LANG says zh_*, else 'en'."""
    environ = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        v = environ.get(var)
        if v:
            first = v.split(":")[0]
            return "zh" if norm_lang(first) == "zh" else "en"
    return "en"


_EN = en.MESSAGES


class Msg(str):
    """A message: its English text (``str(m)``), its id and parameters, to be rendered in any language.

    Parameters may be Msgs themselves (rendered in the same language) or plain values.
    """

    def __new__(cls, msg_id: str, /, **params):
        # English is the text itself; a Msg parameter formats as its English text, so no conversion is needed
        if not params:
            m = _CONSTANT.get(msg_id)
            if m is None:
                m = _CONSTANT[msg_id] = _make(cls, msg_id, _EN[msg_id].format(), params)   # '{{' is '{'
            return m
        return _make(cls, msg_id, _EN[msg_id].format(**params), params)

    @property
    def id(self) -> str:
        return self._m[0]

    @property
    def params(self) -> dict:
        return self._m[1]

    def render(self, lang: str = "en") -> str:
        if lang == "en":
            return str.__str__(self)
        msg_id, params = self._m
        table = CATALOGS.get(lang) or CATALOGS["en"]
        return _fill(table.get(msg_id, _EN[msg_id]), params, lang)

    def __reduce__(self):
        return (_restore, (self.id, self.params))


_CONSTANT: dict = {}


def _make(cls, msg_id, text, params):
    self = str.__new__(cls, text)
    self._m = (msg_id, params)
    return self


def _restore(msg_id, params):
    return Msg(msg_id, **params)


class Glossed(str):
    """Text without an id inside a Msg (a pointwise op's note 'mul: one multiply'): its formula words are
    translated through the glossary when the Msg is rendered, as :func:`render` does for text on its own."""


def _fill(template, params: dict, lang: str) -> str:
    values = {k: render(v, lang) if isinstance(v, (Msg, Glossed)) else v for k, v in params.items()}
    return template(values) if callable(template) else template.format(**values)


def tr(msg_id: str, lang: str = "en", **params) -> str:
    """The message ``msg_id`` in ``lang`` with its parameters filled in."""
    return Msg(msg_id, **params).render(lang)


def render(obj, lang: str = "en", glossary: bool = True) -> str:
    """Any text in ``lang``: a Msg by its template, other text through the language's glossary of formula
    words (``glossary=False``: left as it is -- an error message without an id stays English)."""
    if obj is None:
        return ""
    if lang == "en" or lang not in CATALOGS:
        return str(obj)
    if isinstance(obj, Msg):
        return obj.render(lang)
    return gloss(str(obj), lang) if glossary else str(obj)


_GLOSS_RE: dict = {}
_PATTERNS: dict = {}


def _patterns(lang: str):
    if lang not in _PATTERNS:
        _PATTERNS[lang] = [(re.compile(rx), sub) for rx, sub in zh.PATTERNS]
    return _PATTERNS[lang]


def gloss(text: str, lang: str) -> str:
    """Formula words of a text without an id, in ``lang`` (longest phrases first; identifiers untouched)."""
    if lang != "zh" or not text:
        return text
    for rx, sub in _patterns(lang):
        text = rx.sub(sub, text)
    table = zh.GLOSSARY
    rx = _GLOSS_RE.get(lang)
    if rx is None:
        words = sorted(table, key=len, reverse=True)
        rx = _GLOSS_RE[lang] = re.compile(r"(?<![A-Za-z_.])(" + "|".join(re.escape(w) for w in words)
                                          + r")(?![A-Za-z_0-9]|\.[A-Za-z_0-9])")   # not in dotted names
    return rx.sub(lambda m: table[m.group(1)], text)


_Q_PATTERNS = (
    (re.compile(r"^([A-Z])_out$"), "q.dim_out"),
    (re.compile(r"^pad_([A-Z])$"), "q.pad"),
    (re.compile(r"^blocks_([A-Z])$"), "q.blocks"),
    (re.compile(r"^params\[layer (\d+)\]$"), "q.params_layer"),
    (re.compile(r"^params\[layers 1-(\d+)\]$"), "q.params_layers"),
    (re.compile(r"^offset\[(\d+)\]$"), "q.offset"),
    (re.compile(r"^axis (\d+)$"), "q.axis"),
)


def quantity(name: str, lang: str) -> str:
    """The name of a computed quantity (``params``, ``H_out``, ``relu_flops``) in ``lang``."""
    if lang == "en":
        return name
    table = CATALOGS[lang]
    if f"q.{name}" in table:
        return table[f"q.{name}"]
    for rx, key in _Q_PATTERNS:
        m = rx.match(name)
        if m:
            return table[key].format(m.group(1))
    head, sep, tail = name.rpartition("_")
    if sep and f"q.{tail}" in table:                 # a fused activation's steps: relu_flops
        return f"{head} {table[f'q.{tail}']}"
    return gloss(name, lang)


#: argparse's own messages (its gettext ids), as Msg ids: the CLI's option errors in the user's language
_ARGPARSE = (
    (re.compile(r"^argument (?P<arg>.+?): (?P<rest>.*)$", re.S), "argparse.argument"),
    (re.compile(r"^invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)$", re.S), "argparse.invalid_choice"),
    (re.compile(r"^invalid (?P<type>\w+) value: (?P<value>.*)$", re.S), "argparse.invalid_value"),
    (re.compile(r"^expected one argument$"), "argparse.expected_one"),
    (re.compile(r"^expected at least one argument$"), "argparse.expected_at_least_one"),
    (re.compile(r"^expected at most one argument$"), "argparse.expected_at_most_one"),
    (re.compile(r"^the following arguments are required: (?P<args>.*)$", re.S), "argparse.required"),
    (re.compile(r"^unrecognized arguments: (?P<args>.*)$", re.S), "argparse.unrecognized"),
    (re.compile(r"^ambiguous option: (?P<option>\S+) could match (?P<matches>.*)$", re.S), "argparse.ambiguous"),
    (re.compile(r"^not allowed with argument (?P<arg>.*)$", re.S), "argparse.not_allowed_with"),
    (re.compile(r"^one of the arguments (?P<args>.*) is required$", re.S), "argparse.one_of_required"),
)


def argparse_message(message: str) -> str:
    """An argparse error message as a Msg (its English text unchanged), or the text itself when unknown."""
    for rx, msg_id in _ARGPARSE:
        m = rx.match(message)
        if m:
            params = m.groupdict()
            if "rest" in params:
                params["rest"] = argparse_message(params["rest"])
            return Msg(msg_id, **params)
    return message


#: other programs' fixed messages that reach ours (the json decoder, YAML's parser, the OS): text -> Msg id
FOREIGN = {
    "Expecting value": "foreign.json_value", "Expecting ',' delimiter": "foreign.json_comma",
    "Expecting ':' delimiter": "foreign.json_colon",
    "Expecting property name enclosed in double quotes": "foreign.json_property", "Extra data": "foreign.json_extra",
    "Unterminated string starting at": "foreign.json_unterminated",
    "Invalid control character at": "foreign.json_control", "Invalid \\escape": "foreign.json_escape",
    "Invalid \\uXXXX escape": "foreign.json_uescape",
    "Illegal trailing comma before end of object": "foreign.json_trailing_object",
    "Illegal trailing comma before end of array": "foreign.json_trailing_array",
    "mapping values are not allowed here": "foreign.yaml_mapping_values",
    "could not find expected ':'": "foreign.yaml_colon", "did not find expected key": "foreign.yaml_key",
    "did not find expected node content": "foreign.yaml_node",
    "did not find expected ',' or ']'": "foreign.yaml_flow_seq", "did not find expected ',' or '}'": "foreign.yaml_flow_map",
    "found unexpected end of stream": "foreign.yaml_eos",
    "No such file or directory": "foreign.os_no_such_file", "Permission denied": "foreign.os_permission",
    "Is a directory": "foreign.os_is_dir", "Not a directory": "foreign.os_not_dir",
}


def foreign(text):
    """Another program's message as a Msg when it is one of :data:`FOREIGN` (English unchanged), else as it is."""
    if text is None:
        return text
    msg_id = FOREIGN.get(str(text))
    return Msg(msg_id) if msg_id else _foreign_pattern(str(text)) if isinstance(text, str) else text
_FOREIGN_RX = (
    (re.compile(r"^expected (?P<want>.+), but (?P<verb>got|found) (?P<found>.+)$", re.S), "foreign.yaml_expected_but"),
    (re.compile(r"^found character (?P<char>.+) that cannot start any token$", re.S), "foreign.yaml_bad_char"),
    (re.compile(r"^found undefined alias (?P<name>.+)$", re.S), "foreign.yaml_alias"),
    (re.compile(r"^(?P<a>'[^']*') or (?P<b>'[^']*')$", re.S), "foreign.either"),
)


def _foreign_pattern(text: str):
    for rx, msg_id in _FOREIGN_RX:
        m = rx.match(text)
        if m:
            return Msg(msg_id, **{k: _foreign_pattern(v) for k, v in m.groupdict().items()})
    return text
