"""Speed of text specs (issue 15): cnncalc against a bare-loop floor, per layer, and the CLI on a big spec.

The floor is the least code that reads the same text and computes what the analysis must: each layer's output
shape, parameters and MACs (a conv chain, and ResNet-style blocks with a residual add) -- no errors, no
explanations, no receptive fields, no memory.  cnncalc does all of that and more; the ratio says how close its
parse + analysis comes to that floor.  Times are the best of N runs, cnncalc and the floor alternating (the
machine is shared: a slow moment hits both).  The floor runs as plain Python does, its garbage collector on;
cnncalc.analyze turns the collector off while it works, so the floor is timed that way too ("floor, gc off",
5-15 % faster) and the stricter ratio is shown beside the first.  The CLI rows run ``cnncalc summary`` in a subprocess (table to a
file, and ``--format json``), best of N, interpreter start-up included.

Run: make bench   (or .venv/bin/python bench/bench_spec.py [--quick])
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
import time

import cnncalc

CHAIN_LINE = "conv2d(16, 3, padding=1) | batchnorm2d | relu"            # 3 layers
BLOCK_DEF = """def res(c):
    conv2d(c, 3, padding=1) | batchnorm2d | relu
    conv2d(c, 3, padding=1) | batchnorm2d
    add(in) | relu
end"""                                                                    # 7 layers a call


def chain_spec(n_layers: int) -> str:
    return "input(16, 32, 32)\n" + "\n".join([CHAIN_LINE] * (n_layers // 3)) + "\n"


def blocks_spec(n_layers: int) -> str:
    return "input(16, 32, 32)\n" + BLOCK_DEF + "\n" + "res(16)\n" * (n_layers // 7)


# ----------------------------------------------------------------------------------------------- the floor

_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


def _items(line: str):
    """'conv2d(16, 3, padding=1) | relu' -> [(kind, positional, keywords)] (flat arguments only)."""
    out = []
    for part in line.split("#", 1)[0].split("|"):
        m = _CALL.match(part)
        kind, args = m.group(1), m.group(2)
        pos, kw = [], {}
        if args:
            for a in args.split(","):
                name, eq, value = a.partition("=")
                if eq:
                    kw[name.strip()] = value.strip()
                else:
                    pos.append(name.strip())
        out.append((kind, pos, kw))
    return out


def _value(v: str, env: dict):
    return env[v] if v in env else int(v)


def _layer(kind, pos, kw, env, shape, block_in):
    """(output shape, params, MACs) of one layer of the two benchmark specs."""
    n, c, h, w = shape
    if kind == "conv2d":
        f, k = _value(pos[0], env), _value(pos[1], env)
        p, s = _value(kw.get("padding", "0"), env), _value(kw.get("stride", "1"), env)
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return (n, f, ho, wo), (k * k * c + 1) * f, n * f * ho * wo * k * k * c
    if kind == "batchnorm2d":
        return shape, 2 * c, 0
    if kind == "relu":
        return shape, 0, 0
    if kind == "add":
        if block_in != shape:
            raise ValueError("add: shapes differ")
        return shape, 0, 0
    raise ValueError(kind)


def floor(text: str):
    """Parse the spec (input, 'def NAME(p): ... end' blocks, calls of blocks, '|' chains) and compute each
    layer's shape, params and MACs.  Returns the per-layer rows and the totals."""
    lines = iter(text.splitlines())
    blocks: dict = {}
    rows = []
    shape = None
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if shape is None:                                  # input(C, H, W)
            shape = (1,) + tuple(int(v) for v in line[line.index("(") + 1:line.rindex(")")].split(","))
            continue
        if line.startswith("def "):
            name = line[4:line.index("(")]
            params = [p.strip() for p in line[line.index("(") + 1:line.rindex(")")].split(",")]
            body = []
            for b in lines:
                if b.strip() == "end":
                    break
                body += _items(b)
            blocks[name] = (params, body)
            continue
        for kind, pos, kw in _items(line):
            if kind in blocks:
                params, body = blocks[kind]
                env = dict(zip(params, (int(v) for v in pos)))
                block_in = shape
                for k2, p2, kw2 in body:
                    shape, params_, macs = _layer(k2, p2, kw2, env, shape, block_in)
                    rows.append((shape, params_, macs))
            else:
                shape, params_, macs = _layer(kind, pos, kw, {}, shape, None)
                rows.append((shape, params_, macs))
    return rows, (sum(r[1] for r in rows), sum(r[2] for r in rows))


def floor_without_gc(text: str):
    """The floor with Python's cyclic garbage collector off while it runs, as cnncalc.analyze runs (api.py):
    the same work, without the collections that its many small tuples set off."""
    gc.disable()
    try:
        return floor(text)
    finally:
        gc.enable()


# ----------------------------------------------------------------------------------------------- timing

def _timed(fn) -> float:
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def side_by_side(fns, repeats: int) -> list[float]:
    """Best time of each function, run in turns (a, b, a, b, ...)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], _timed(fn))
    return best


def spec_rows(sizes, repeats: int):
    rows = []
    for shape_name, make in (("chain", chain_spec), ("ResNet blocks", blocks_spec)):
        for n in sizes:
            text = make(n)
            report = cnncalc.analyze(text)
            per_layer, (params, macs) = floor(text)
            if (len(report.layers), report.totals.params, report.totals.macs) != (len(per_layer), params, macs):
                sys.exit(f"the floor and cnncalc disagree on {shape_name} {n}: {len(per_layer)} layers, "
                         f"{params:,} params, {macs:,} MACs against {len(report.layers)}, "
                         f"{report.totals.params:,}, {report.totals.macs:,}")
            reps = repeats if n <= 10_000 else max(5, repeats // 2)
            t_cnn, t_floor, t_bare = side_by_side([lambda: cnncalc.analyze(text), lambda: floor(text),
                                                   lambda: floor_without_gc(text)], reps)
            k = len(report.layers)
            rows.append((shape_name, k, t_cnn, t_floor, t_bare))
    return rows


def cli_env(cache_dir: str) -> dict:
    """The environment of the CLI runs: Python's compiled bytecode cached (in ``cache_dir``), as on any machine
    after a package's first run.  With ``PYTHONDONTWRITEBYTECODE`` set (this development sandbox sets it) every
    run compiles every module again, about 0.1 s of each run."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir          # the bytecode goes there, not into the source tree
    return env


def cli_rows(n: int, repeats: int):
    cli = os.path.join(os.path.dirname(sys.executable), "cnncalc")
    cmd = [cli] if os.path.exists(cli) else [sys.executable, "-m", "cnncalc"]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chain.txt")
        with open(path, "w") as f:
            f.write(chain_spec(n))
        env = cli_env(os.path.join(tmp, "pycache"))
        runs = [("table", [*cmd, "summary", path]), ("json", [*cmd, "summary", path, "--format", "json"]),
                ("csv", [*cmd, "summary", path, "--format", "csv"]),
                ("startup (--version)", [*cmd, "--version"])]

        def one(args):
            def go():
                r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                if r.returncode:
                    sys.exit(f"{' '.join(args)} failed: {r.stderr.decode()[-400:]}")
            return go
        for _, args in runs:                           # a first run of each compiles and caches the bytecode
            one(args)()
        best = side_by_side([one(a) for _, a in runs], repeats)
        for (name, args), t in zip(runs, best):
            out.append((name, t))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no 30,000-layer row")
    ap.add_argument("--repeats", type=int, default=None, help="runs of each (best of N); default 7, quick 3")
    opts = ap.parse_args()
    repeats = opts.repeats or (3 if opts.quick else 7)
    sizes = (100, 1_000, 10_000) if opts.quick else (100, 1_000, 10_000, 30_000)
    print(f"Python {sys.version.split()[0]}, cnncalc {cnncalc.__version__}, best of {repeats} "
          f"(30,000 layers: of {max(5, repeats // 2)}), alternating\n")
    print("| spec | layers | cnncalc | floor | ratio | floor, gc off | ratio to it | cnncalc µs/layer | "
          "floor µs/layer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape_name, k, a, b, c in spec_rows(sizes, repeats):
        print(f"| {shape_name} | {k:,} | {a * 1000:.1f} ms | {b * 1000:.1f} ms | {a / b:.1f}× | {c * 1000:.1f} ms | "
              f"{a / c:.1f}× | {a / k * 1e6:.1f} | {b / k * 1e6:.2f} |")
    n = 10_000
    print(f"\n| CLI, {n:,}-layer chain (subprocess, bytecode cached) | best |")
    print("|---|---:|")
    for name, t in cli_rows(n, max(3, repeats // 2)):
        what = "cnncalc --version" if name.startswith("startup") else f"cnncalc summary ({name})"
        print(f"| {what} | {t:.2f} s |")


if __name__ == "__main__":
    main()
