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
                m = _CONSTANT[msg_id] = _make(cls, msg_id, _EN[msg_id], params)
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


def _fill(template, params: dict, lang: str) -> str:
    if callable(template):
        return template({k: render(v, lang) if isinstance(v, Msg) else v for k, v in params.items()})
    return template.format(**{k: render(v, lang) if isinstance(v, Msg) else v for k, v in params.items()})


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
        rx = _GLOSS_RE[lang] = re.compile(r"(?<![A-Za-z_])(" + "|".join(re.escape(w) for w in words)
                                          + r")(?![A-Za-z_0-9])")
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
