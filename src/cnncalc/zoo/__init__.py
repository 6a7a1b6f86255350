"""The model zoo: classic networks as readable spec files shipped in the package.

Each file starts with ``# NAME: description`` and ``# input: CxHxW`` lines; ``zoo:NAME`` loads it.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ..errors import SpecError, did_you_mean
from ..i18n import Msg


@dataclass(frozen=True)
class ZooModel:
    name: str
    description: str
    input: str
    text: str


def _files():
    return sorted((f for f in resources.files(__package__).iterdir() if f.name.endswith(".txt")),
                  key=lambda f: f.name)


def _parse(name: str, text: str) -> ZooModel:
    desc, inp = "", ""
    for line in text.splitlines():
        if line.startswith(f"# {name}:"):
            desc = line.split(":", 1)[1].strip()
        elif line.lower().startswith("# input:"):
            inp = line.split(":", 1)[1].strip()
    return ZooModel(name, desc, inp, text)


def models() -> list[ZooModel]:
    return [_parse(f.name[:-4], f.read_text(encoding="utf-8")) for f in _files()]


def names() -> list[str]:
    return [f.name[:-4] for f in _files()]


def get(name: str) -> ZooModel:
    key = name.strip().lower()
    for f in _files():
        if f.name[:-4] == key:
            return _parse(key, f.read_text(encoding="utf-8"))
    raise SpecError(Msg("err.zoo.no_model_zoo_cnncalc_zoo", name=name, name2=did_you_mean(name, names())))
