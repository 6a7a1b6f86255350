"""cnncalc vs onnx-tool on ONNX exports of torchvision's classifiers: time and peak memory.

Run: `make bench` (all benchmarks), or after it / after `make test` and `.venv/bin/pip install -e ".[bench]"`:
.venv/bin/python bench/bench_onnx.py [--models resnet50 vgg16] [--repeats 5] [--no-memory]

* Files: every classification model of torchvision (`torchvision.models.list_models(module=torchvision.models)`,
  random weights, 224x224, batch 1, exported once with the TorchScript exporter, opset 17, into
  $CNNCALC_BENCH_DIR or /tmp/cnncalc-bench-onnx; later runs reuse them).  Without torchvision the plain-torch
  copies of tests/reference_nets.py are exported instead.
* Time: both tools warm in one process that imports nothing else (the export runs in a child process), then
  alternating calls with ``gc.collect()`` before each, best of N
  (``--repeats``, default 5; more for a fast file, up to 200, until each tool has run for 1 s: a few-millisecond
  file is then timed over about 2 s of alternating runs, not judged on a moment of the shared machine).
  cnncalc: `cnncalc.analyze(path)` (parameters, shapes, MACs, memory, receptive fields).  onnx-tool:
  `Model(path)`, `graph_reorder_nodes()`, `shape_infer()`, `profile()` -- what `onnx_tool.model_profile` does,
  less printing the table.
* Memory: in a fresh process per tool and file, after a warm-up analysis of a small file (imports done), the
  growth of the process's peak resident set (`VmHWM` − `VmRSS` before the call, from /proc/self/status; the
  peak is reset after the warm-up by writing 5 to /proc/self/clear_refs), divided by the model's size (the .onnx
  file and the external data files its weights are stored in).
* The table fails loudly (exit 1) when cnncalc is less than 2x faster than onnx-tool on any file or grows by
  more than 1.2x the file's size.
"""
from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
CACHE = Path(os.environ.get("CNNCALC_BENCH_DIR", "/tmp/cnncalc-bench-onnx"))


def _models():
    from torchvision_import import import_torchvision
    tv = import_torchvision()
    if tv is not None:
        names = tv.models.list_models(module=tv.models)
        return names, lambda n: tv.models.get_model(n, weights=None)
    import reference_nets as R
    names = ["alexnet", "vgg16", "resnet18", "resnet50", "googlenet", "inception_v3", "densenet121",
             "squeezenet1_0", "mobilenet_v2", "efficientnet_b0"]
    return names, lambda n: getattr(R, n)()


def export_all(only=None) -> list[Path]:
    import torch
    names, build = _models()
    if only:
        names = [n for n in names if n in only]
    CACHE.mkdir(parents=True, exist_ok=True)
    files = []
    for name in names:
        path = CACHE / f"{name}.onnx"
        if not path.exists():
            size = 299 if name == "inception_v3" else 224
            print(f"exporting {name} ...", file=sys.stderr, flush=True)
            model = build(name).eval()
            tmp = path.with_suffix(".tmp")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (torch.randn(1, 3, size, size),), str(tmp), dynamo=False, opset_version=17)
            tmp.rename(path)
            del model
            gc.collect()
        files.append(path)
    return files


def exported(only=None) -> list[Path]:
    """The export files, made (when missing) and listed in a child process: the timing process then holds the
    two tools only, not torch, torchvision and the models built for the export (a heap of a million objects
    that every ``gc.collect()`` between two timed calls walks, flushing the CPU caches for both tools)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--export-only"] + (["--models", *only] if only else [])
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if out.returncode:
        sys.exit(f"exporting the models failed (exit {out.returncode})")
    return [Path(line[5:]) for line in out.stdout.splitlines() if line.startswith("FILE ")]   # (not the exporter's prints)


def run_cnncalc(path):
    import cnncalc
    return cnncalc.analyze(str(path)).totals.macs


def run_onnx_tool(path):
    import onnx_tool
    m = onnx_tool.Model(str(path), {"verbose": False})
    g = m.graph
    g.graph_reorder_nodes()
    g.shape_infer()
    g.profile()
    return g.macs[0]


TOOLS = {"cnncalc": run_cnncalc, "onnx-tool": run_onnx_tool}

_MEMORY = """
import sys
sys.path.insert(0, {bench!r})
from bench_onnx import TOOLS
def status(key):
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key)) * 1024
TOOLS[{tool!r}]({small!r})
try:
    open('/proc/self/clear_refs', 'w').write('5')   # the peak so far (imports, warm-up) is not the call's
except OSError:
    pass
base = status('VmRSS')
TOOLS[{tool!r}]({path!r})
print(max(0, status('VmHWM') - base))
"""


def memory_growth(tool, path, small) -> int:
    code = _MEMORY.format(bench=str(HERE), tool=tool, small=str(small), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return int(out.stdout.split()[-1])


#: a fast file is timed more often: each tool gets at least this many seconds of runs (best of all of them), so
#: that a few-millisecond analysis is not judged on five samples of a noisy machine
MIN_SECONDS = 1.0
MAX_REPEATS = 200


def best_times(path, repeats):
    """Best time of each tool, in alternating runs: ``repeats`` runs, or more (up to MAX_REPEATS) until every
    tool has run for MIN_SECONDS."""
    times = {t: [] for t in TOOLS}
    for fn in TOOLS.values():
        fn(path)                                       # warm: first-call imports, the file in the page cache
    done = 0
    while done < repeats or done < MAX_REPEATS and min(sum(v) for v in times.values()) < MIN_SECONDS:
        for tool, fn in TOOLS.items():                 # alternating
            gc.collect()
            t0 = time.perf_counter()
            fn(path)
            times[tool].append(time.perf_counter() - t0)
        done += 1
    return {t: min(v) for t, v in times.items()}


def model_bytes(path: Path) -> int:
    """The model's size: the .onnx file and the external data files its weights are stored in (the exporter
    writes a model over 2 GB -- vit_h_14 -- as one file per weight beside it)."""
    import onnx
    from onnx.external_data_helper import uses_external_data
    model = onnx.load(str(path), load_external_data=False)
    places = set()
    for t in model.graph.initializer:
        if uses_external_data(t):
            places.add(next((e.value for e in t.external_data if e.key == "location"), None))
    return path.stat().st_size + sum((path.parent / p).stat().st_size for p in places if p)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", help="only these model names")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true", help="skip the per-process memory measurement")
    ap.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)   # exported()'s child
    args = ap.parse_args(argv)
    if args.export_only:
        print("\n".join(f"FILE {p}" for p in export_all(args.models)))
        return 0
    import onnx_tool  # noqa: F401 -- fail early when the peer is missing: .venv/bin/pip install onnx-tool
    files = exported(args.models)
    small = min(files, key=lambda p: p.stat().st_size)
    print("| file | size (MB, with external data) | cnncalc (ms) | onnx-tool (ms) | speed-up | cnncalc RSS growth / size "
          "| onnx-tool RSS growth / size |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    bad, ratios, mems = [], [], []
    for path in files:
        size = model_bytes(path)
        try:
            t = best_times(path, args.repeats)
        except Exception as e:  # noqa: BLE001 -- a peer that fails on a file is reported, not fatal
            print(f"| {path.stem} | {size / 1e6:.1f} | failed: {type(e).__name__}: {str(e)[:80]} | | | | |")
            bad.append(f"{path.stem}: failed")
            continue
        speed = t["onnx-tool"] / t["cnncalc"]
        ratios.append(speed)
        mem = {"cnncalc": "", "onnx-tool": ""}
        if not args.no_memory:
            for tool in TOOLS:
                try:
                    mem[tool] = memory_growth(tool, path, small) / size
                except Exception as e:  # noqa: BLE001
                    mem[tool] = f"failed ({str(e)[:40]})"
            if isinstance(mem["cnncalc"], float):
                mems.append(mem["cnncalc"])
                if mem["cnncalc"] > 1.2:
                    bad.append(f"{path.stem}: cnncalc grew by {mem['cnncalc']:.2f}x the file size")
        if speed < 2:
            bad.append(f"{path.stem}: only {speed:.2f}x faster than onnx-tool")
        fmt = {k: f"{v:.2f}" if isinstance(v, float) else v for k, v in mem.items()}
        print(f"| {path.stem} | {size / 1e6:.1f} | {t['cnncalc'] * 1e3:.1f} | {t['onnx-tool'] * 1e3:.1f} | "
              f"{speed:.1f}x | {fmt['cnncalc']} | {fmt['onnx-tool']} |", flush=True)
    if ratios:
        ratios.sort()
        print(f"\n{len(ratios)} files: speed-up min {ratios[0]:.1f}x, median {ratios[len(ratios) // 2]:.1f}x"
              + (f"; cnncalc memory growth at most {max(mems):.2f}x the file size" if mems else ""))
    if bad:
        print("FAILED: " + "; ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
