"""Speed of analysing long text specs (issue 2, section 10): time vs number of layers.

Run: make bench   (or .venv/bin/python bench/bench_spec.py)
"""
from __future__ import annotations

import statistics
import time

import cnncalc

BLOCK = "conv2d(16, 3, padding=1) | batchnorm2d | relu"


def spec(n_layers: int) -> str:
    reps = n_layers // 3
    return "input(16, 32, 32)\n" + "\n".join([BLOCK] * reps)


def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    print(f"{'layers':>8} {'parse+analyse best (s)':>24} {'median (s)':>11} {'us/layer':>9}")
    for n in (1_000, 3_000, 10_000, 30_000):
        text = spec(n)
        best, med = best_of(lambda: cnncalc.analyze(text), repeats=3 if n > 10_000 else 5)
        print(f"{n:>8,} {best:>24.3f} {med:>11.3f} {best / n * 1e6:>9.1f}")
    r = cnncalc.analyze(spec(10_000))
    print(f"check: {len(r.layers):,} layers, {r.totals.params:,} params")


if __name__ == "__main__":
    main()
