"""``cnncalc practice``: seed-style problems on small random networks -- output size, parameters, multiply-adds,
receptive field, memory -- with the answer and the worked solution from cnncalc's own analysis.

A problem is a function of its topic and seed: the same seed poses the same network and question (the random
generator is ``random.Random(seed)``, whose sequence Python keeps stable across versions).  The answer is the
analysis' number, and the worked solution is the analysis' own steps, so the solution ends on the answer.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .analysis import analyze_calls
from .errors import SpecError, check_lang
from .i18n import Msg, render, tr
from .report import units
from .spec import load_text

TOPICS = ("size", "params", "macs", "rf", "memory")
SIZES = (28, 32, 56, 64, 100, 112, 128, 224, 227)


@dataclass(frozen=True)
class Problem:
    topic: str
    seed: int
    lang: str
    spec: str                       # the network, one layer per line
    layer: int                      # the row asked about (its index in the report)
    question: str
    answer: object                  # an int, or a tuple (C, H, W) for 'size'
    answer_text: str
    solution: tuple[str, ...]       # the worked solution; its last line ends with the answer

    def check(self, given: str) -> bool | None:
        """True / False, or None when ``given`` cannot be read as an answer."""
        if self.topic == "size":
            nums = tuple(int(v) for v in re.findall(r"\d+", str(given)))
            if not nums:
                return None
            return nums in (self.answer, (self.batch,) + self.answer)
        value = read_number(given)
        return None if value is None else value == self.answer

    @property
    def batch(self) -> int:
        m = re.search(r"batch=(\d+)", self.spec)
        return int(m.group(1)) if m else 1

    def to_dict(self) -> dict:
        answer = list(self.answer) if isinstance(self.answer, tuple) else self.answer
        return {"topic": self.topic, "seed": self.seed, "lang": self.lang, "network": self.spec,
                "layer": self.layer, "question": self.question, "answer": answer, "answer_text": self.answer_text,
                "solution": list(self.solution)}

    def text(self) -> str:
        """The problem as posed: the network and the question."""
        head = tr("practice.network", self.lang, conv="pytorch")
        return "\n".join([head] + [f"    {line}" for line in self.spec.splitlines()] + ["", self.question]) + "\n"


def read_number(text) -> int | None:
    """'1,792', '1792', '1.5M', '72 KiB' -> a whole number (None when it is not one)."""
    s = str(text).strip().replace(",", "").replace("，", "").replace("_", "")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?[bB])?", s)
    if not m:
        return None
    scale = 1
    if m.group(2):
        scale = (1024 if m.group(3) and m.group(3).lower() == "ib" else 1000) ** (" KMG".index(m.group(2).upper()))
    value = float(m.group(1)) * scale
    return int(value) if value == int(value) else None


# --------------------------------------------------------------------------------------------------- networks

def _network(rng: random.Random, topic: str) -> list[str]:
    """A small CNN as spec lines: input, 1-4 conv / pool layers (with relu), and for params / macs sometimes a
    flatten + dense head."""
    c = rng.choice((1, 3))
    size = rng.choice(SIZES)
    batch = rng.choice((1, 1, 8, 16, 32)) if topic == "memory" else 1
    lines = [f"input({c}, {size}, {size}" + (f", batch={batch})" if batch > 1 else ")")]
    for i in range(rng.randint(1, 4)):
        if size < 6:
            break
        if i and rng.random() < 0.35:
            k = rng.choice((2, 2, 3))
            s = rng.choice((k, 2)) if k == 3 else 2
            p = 1 if k == 3 and rng.random() < 0.3 else 0
            pool = rng.choice(("maxpool2d", "maxpool2d", "avgpool2d"))
            lines.append(f"{pool}({k}" + (f", stride={s}" if s != k else "") + (f", padding={p}" if p else "") + ")")
            size = (size + 2 * p - k) // s + 1
        else:
            f = rng.choice((8, 16, 32, 64, 96, 128))
            k = rng.choice((1, 3, 3, 5, 7)) if size >= 7 else 3
            s = rng.choice((1, 1, 1, 2))
            p = rng.choice((0, k // 2)) if k > 1 else 0
            args = [str(f), str(k)] + ([f"stride={s}"] if s != 1 else []) + ([f"padding={p}"] if p else [])
            lines.append(f"conv2d({', '.join(args)}) | relu")
            size = (size + 2 * p - k) // s + 1
    if topic in ("params", "macs") and rng.random() < 0.3:
        lines.append(f"flatten | dense({rng.choice((10, 64, 128, 256))})")
    return lines


def _rows(report, topic: str):
    if topic in ("params", "macs"):
        return [l for l in report.layers if l.kind in ("conv2d", "dense")]
    if topic == "rf":
        return [l for l in report.layers if l.rf is not None and not l.rf.is_global and l.kind != "relu"]
    return [l for l in report.layers if l.kind != "relu"]


def make_problem(topic: str = "size", seed: int = 0, lang: str = "en") -> Problem:
    """The problem ``seed`` of ``topic`` ('size', 'params', 'macs', 'rf', 'memory'), in ``lang``."""
    lang = check_lang(lang)
    if topic not in TOPICS:
        raise SpecError(Msg("practice.bad_topic", topic=topic, choices=", ".join(TOPICS)))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(Msg("err.whole_number", name="seed", lo=0, v=repr(seed)))
    rng = random.Random(f"cnncalc-practice-{topic}-{seed}")
    while True:
        lines = _network(rng, topic)
        spec = "\n".join(lines)
        try:
            report = analyze_calls(load_text(spec))
        except SpecError:
            continue
        rows = _rows(report, topic)
        if rows:
            break
    layer = rows[-1] if topic == "rf" or rng.random() < 0.6 else rng.choice(rows)
    return _pose(topic, seed, lang, spec, report, layer)


def _pose(topic, seed, lang, spec, report, layer) -> Problem:
    text = layer.text or layer.kind
    base = dict(index=layer.index, layer=layer.name, text=text)
    solution = [tr("practice.solution", lang)]
    if topic == "size":
        answer = tuple(layer.output_shape[1:])
        question = tr("practice.q_size", lang, shape=units.shape(report.input_shape[1:]),
                      layout=Msg("layout.channels_first"), **base)
        for row in report.layers:
            if row.index > layer.index:
                break
            dims = [s for s in row.steps if s.quantity.endswith("_out")]
            if dims:
                solution.append(f"[{row.index}] {row.text or row.kind}")
                solution += [f"    {s.render(lang)}" for s in dims]
        solution.append(f"{tr('col.output_shape', lang)} = {' x '.join(map(str, answer))}")
        answer_text = "x".join(map(str, answer))
    elif topic in ("params", "macs"):
        answer = layer.params if topic == "params" else layer.macs
        question = tr(f"practice.q_{topic}", lang, **base)
        solution.append(f"[{layer.index}] {text}    {units.shape(layer.input_shape)} -> {units.shape(layer.output_shape)}")
        solution += [f"    {s.render(lang)}" for s in layer.steps if s.quantity == topic]
        answer_text = f"{answer:,}"
    elif topic == "rf":
        answer = layer.rf.size[0]
        question = tr("practice.q_rf", lang, **base)
        for row in report.layers:
            if row.index > layer.index:
                break
            if row.rf_steps:
                solution.append(f"[{row.index}] {row.text or row.kind}")
                solution.append(f"    {render(row.rf_steps[0], lang)}")
        solution.append(tr("practice.rf_line", lang, r=answer))
        answer_text = str(answer)
    else:
        answer = layer.activation_bytes
        question = tr("practice.q_memory", lang, batch=report.batch, dtype=report.dtype, **base)
        from .report.explain import layer_lines
        lines = layer_lines(report, layer, lang)
        solution.append(lines[0])
        solution += [line for line in lines if "activation_bytes" in line or "激活显存" in line]
        answer_text = f"{answer:,} ({units.nbytes(answer)})"
    return Problem(topic, seed, lang, spec, layer.index, question, answer, answer_text, tuple(solution))


def final_number(line: str):
    """The number a solution line ends on (for tests): '... = 1,792' -> 1792, 'r = 10' -> 10, '32 x 12 x 12'."""
    m = re.search(r"=\s*([\d,]+(?:\s*x\s*[\d,]+)*)(?:\s*\[.*\])?\s*$", line)
    if not m:
        return None
    parts = [int(p.replace(",", "")) for p in re.split(r"\s*x\s*", m.group(1))]
    return tuple(parts) if len(parts) > 1 else parts[0]


def session(topic: str | None, seed: int, count: int, lang: str, read, write, echo: bool = False) -> tuple[int, int]:
    """Pose ``count`` problems from ``seed`` on; ``read()`` gives an answer line (None at the end of input);
    ``echo`` writes the answer after the prompt (when it does not come from a terminal)."""
    right = 0
    for i in range(count):
        t = topic or TOPICS[(seed + i) % len(TOPICS)]
        p = make_problem(t, seed + i, lang)
        write(p.text())
        write(tr("practice.prompt", lang))
        given = read()
        if echo and given is not None:
            write(given.strip() + "\n")
        if given is None or not given.strip():
            write("\n" + tr("practice.no_answer", lang, answer=p.answer_text) + "\n")
        else:
            ok = p.check(given)
            if ok:
                right += 1
                write(tr("practice.right", lang, answer=p.answer_text) + "\n")
            elif ok is None:
                write(tr("practice.unreadable", lang, given=given.strip(), answer=p.answer_text) + "\n")
            else:
                write(tr("practice.wrong", lang, given=given.strip(), answer=p.answer_text) + "\n")
        write("\n".join(p.solution) + "\n")
        write(tr("practice.seed", lang, topic=t, seed=seed + i) + "\n\n")
    if count > 1:
        write(tr("practice.score", lang, right=right, total=count) + "\n")
    return right, count
