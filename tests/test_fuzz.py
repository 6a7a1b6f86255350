"""Fuzzing: however mangled the input, the answer is a report or a SpecError -- within a second.

Seeded and deterministic.  The text cases mutate the zoo, the README / docs / examples specs and random
layer chains built from the registry (characters and tokens deleted, duplicated, replaced; numbers made 0,
negative, huge, fractional, infinite; unicode; deep nesting; recursive blocks); the structured cases
mutate YAML / JSON specs (empty and duplicate names, wrong types, deep nesting, cycles); the CLI cases run
``cnncalc summary`` in-process.  Anything but a report or a SpecError -- or a SpecError that is a
last-resort fallback ('internal error') rather than a real diagnosis -- fails with the input printed.

CNNCALC_FUZZ_N sets the number of text cases (default 20,000; the structured and CLI cases scale with it),
CNNCALC_FUZZ_SEED the seed; ``make fuzz-long`` runs 100,000.
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import time
import traceback
from pathlib import Path

import pytest

import cnncalc
from cnncalc import SpecError
from cnncalc.analysis import analyze_calls
from cnncalc.spec import load, load_json, load_yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_inputs import mutate, mutate_structure, printable, seed_text, structured_seed, texts  # noqa: E402

N = int(os.environ.get("CNNCALC_FUZZ_N", "20000"))
SEED = int(os.environ.get("CNNCALC_FUZZ_SEED", "20250909"))
SLOW_S = 1.0                       # every single case must answer within this ...
LAYERS_PER_S = 5_000               # ... or, for a report of more layers, 1 s per 5,000 layers
FALLBACK = ("internal error", "Traceback")
CONVENTIONS = ("pytorch", "pytorch", "keras", "caffe", "onnx")

# --------------------------------------------------------------------------- running cases


class Tally:
    """Outcomes, failures and the slowest case of a series of cases."""

    def __init__(self, what: str):
        self.what = what
        self.counts = {"report": 0, "SpecError": 0, "failure": 0}
        self.failures: list[str] = []
        self.slowest = (0.0, "")

    def run(self, label: str, shown: str, fn, layers_of=None) -> None:
        """fn() -> a Report, or 'report' / 'SpecError'; layers_of() counts the layers of a slow case that is
        not a Report (a SpecError may come after thousands of layers were analysed)."""
        outcome, layers = "failure", 0
        t0 = time.perf_counter()
        try:
            out = fn()
            dt = time.perf_counter() - t0
            outcome = out if isinstance(out, str) else "report"
            if isinstance(out, cnncalc.Report):
                layers = len(out.layers)
                if random.Random(len(shown)).random() < 0.05:
                    out.to_json()                               # a sample of reports is also rendered
                    out.explain()
        except SpecError as e:
            dt = time.perf_counter() - t0
            msg = str(e)
            bad = [m for m in FALLBACK if m in msg]
            if "\n" in msg or bad or not e.message or (e.line is not None and e.line < 1) \
                    or (e.column is not None and e.column < 1):
                self.fail(label, shown, f"bad SpecError: {msg!r} (line {e.line}, column {e.column})")
            else:
                outcome = "SpecError"
        except BaseException as e:  # noqa: BLE001 -- that is what the fuzzer looks for
            dt = time.perf_counter() - t0
            if isinstance(e, KeyboardInterrupt):
                raise
            tb = traceback.extract_tb(e.__traceback__)[-3:]
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(tb))
            self.fail(label, shown, f"{type(e).__name__}: {str(e)[:300]}  at {where}")
        self.counts[outcome] += 1
        if dt > self.slowest[0]:
            self.slowest = (dt, f"{label}: {shown[:200]!r}")
        if dt > SLOW_S and not layers and layers_of is not None:
            layers = layers_of()
        allowed = SLOW_S * max(1.0, layers / LAYERS_PER_S)      # the work may grow with layers, never with sizes
        if dt > allowed:
            self.fail(label, shown, f"took {dt:.2f} s (limit {allowed:.1f} s for {layers:,} layers)")

    @staticmethod
    def count(spec, per_layer: int = 1, loader=load):
        """A layers_of for a spec: its layers after expanding repeats and blocks (0 if it does not load)."""
        def layers() -> int:
            try:
                return per_layer * len(loader(spec))
            except SpecError:
                return 0
        return layers

    def fail(self, label: str, shown: str, why: str) -> None:
        self.failures.append(f"{label}: {why}\n    input ({len(shown)} chars): {shown[:2000]!r}")

    def finish(self) -> None:
        print(f"\nfuzz {self.what}: {sum(self.counts.values()):,} cases, {self.counts['report']:,} reports, "
              f"{self.counts['SpecError']:,} SpecErrors, {self.counts['failure']:,} other outcomes, "
              f"{len(self.failures)} failing inputs; slowest {self.slowest[0] * 1000:.0f} ms ({self.slowest[1]})")
        assert not self.failures, f"{len(self.failures)} failing inputs:\n" + "\n".join(self.failures[:25])


def test_fuzz_text_specs():
    rng = random.Random(SEED)
    tally = Tally("text")
    for n in range(N):
        text = mutate(rng, seed_text(rng))
        conv = rng.choice(CONVENTIONS)
        batch = rng.choice([None] * 8 + [2, 10 ** 18])
        tally.run(f"text #{n} convention={conv} batch={batch}", text,
                  lambda: cnncalc.analyze(text, convention=conv, batch=batch), Tally.count(text))
    tally.finish()


def test_fuzz_structured_specs():
    rng = random.Random(SEED + 1)
    tally = Tally("structured")
    for n in range(max(200, N // 8)):
        data, cyclic = mutate_structure(rng, structured_seed(rng))
        conv = rng.choice(CONVENTIONS)
        how = rng.randrange(3)
        if how == 0 and not cyclic:
            js, _ = texts(rng, data)
            tally.run(f"json #{n} convention={conv}", js, lambda: cnncalc.analyze(js, convention=conv),
                      Tally.count(js))
        elif how == 1 and not cyclic:
            _, ym = texts(rng, data)
            tally.run(f"yaml #{n} convention={conv}", ym, lambda: analyze_calls(load_yaml(ym), convention=conv),
                      Tally.count(ym, loader=load_yaml))
        else:
            tally.run(f"python object #{n} convention={conv}", "(a Python object; cyclic)" if cyclic else
                      printable(data),
                      lambda: analyze_calls(load(data), convention=conv), None if cyclic else Tally.count(data))
    for k in (99, 100, 101, 10000):                              # deep texts, whatever the seed
        for text in ("[" * k + "]" * k, '{"a": ' * k + "1" + "}" * k, "[" * k):
            tally.run(f"json depth {k}", text, lambda: load_json(text))
        for text in ("- " + "[" * k + "]" * k, "\n".join(f"{'  ' * i}- " for i in range(min(k, 1000))) + "relu"):
            tally.run(f"yaml depth {k}", text, lambda: load_yaml(text))
    tally.finish()


# --------------------------------------------------------------------------- the command line, in-process

def run_cli(argv: list[str]) -> tuple[int, str]:
    from cnncalc.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:                                  # argparse
            rc = e.code if isinstance(e.code, int) else 2
    return rc, out.getvalue() + err.getvalue()


def test_fuzz_cli_summary():
    rng = random.Random(SEED + 2)
    tally = Tally("cli")
    for n in range(max(200, N // 60)):
        text = mutate(rng, seed_text(rng)) if rng.random() < 0.8 else seed_text(rng)
        opts = rng.choice([[], [], ["--format", "json"], ["--format", "csv"], ["--format", "markdown"],
                           ["--explain"], ["--wide"], ["--convention", "keras"], ["--convention", "caffe"],
                           ["--batch", "3"], ["--dtype", "float16"]])
        argv = ["summary", *opts, "--", text]

        def case(argv=argv):
            rc, out = run_cli(argv)
            bad = [m for m in FALLBACK if m in out]
            if rc not in (0, 2) or bad:
                raise AssertionError(f"exit {rc}, {bad}: {out[-500:]!r}")
            if rc == 2 and not out.startswith("cnncalc: error: ") and "usage:" not in out:
                raise AssertionError(f"exit 2 without a message: {out!r}")
            return "report" if rc == 0 else "SpecError"
        tally.run(f"cli #{n} {' '.join(opts)}", text, case, Tally.count(text, 10))   # a table row costs more
    tally.finish()


@pytest.mark.parametrize("spec", [
    "input(3,8,8) | convtranspose2d(4, 2, stride=100000000000)",
    "input(3,8,8) | adaptiveavgpool2d(100000000)",
    "input(3,8,8) | upsample(scale_factor=1e999)",
    "input(3, H, W)",
    "input(3,8,8) | dense(" + "*".join(["2"] * 2000) + ")",
    "input(3,8,8) | " + "(" * 10000 + "relu" + ")" * 10000,
    "x: input(3,8,8)\n((x) * 99999) * 99999",
    "input(4, 32) | multiheadattention(4, 2, output_shape=bicubic)",
    "input(8, 8) | multiheadattention(1, 2, output_shape=((1, 1), (0, 1)))",
    "input(3,8,8) | lstm(4, num_layers=1000000000000)",
])
def test_known_bombs_answer_fast(spec):
    t0 = time.perf_counter()
    with contextlib.suppress(SpecError):
        cnncalc.analyze(spec)
    assert time.perf_counter() - t0 < SLOW_S
