"""The torch front-end's lead over FlopCounterMode: fails loudly (exit 1) when cnncalc becomes slower.

Run: part of `make bench` (or .venv/bin/python bench/bench_torch_lead.py [--repeats 5]).

For ResNet-50 (tests/reference_nets.py, torchvision's layout) and ViT-B/16 (bench_torch.py's `ViT`, torchvision's
vit_b_16 layout) at batch 1, 3x224x224: `cnncalc.analyze(model, input_size=...)` against a forward of the same
architecture built on the meta device under `torch.utils.flop_counter.FlopCounterMode` (what that tool needs to
count without running arithmetic).  Both warm (one call first), then alternating, best of N.  The MACs must agree
(cnncalc's MACs = FlopCounterMode's FLOPs / 2), else the run fails too.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_torch import ViT, run_cnncalc, run_flopcounter  # noqa: E402

import torch  # noqa: E402


def models():
    from reference_nets import resnet50
    return {"resnet50": resnet50, "vit_b_16": lambda: ViT(image_size=224)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    print("| model | cnncalc (ms) | FlopCounterMode on meta (ms) | cnncalc / FlopCounterMode | MACs agree |")
    print("|---|---:|---:|---:|---|")
    failures = []
    for name, build in models().items():
        model = build().eval()
        with torch.device("meta"):
            meta = build().eval()
        _, macs = run_cnncalc(model, args.size)
        _, fc_macs = run_flopcounter(meta, args.size)
        times = {"cnncalc": [], "fc": []}
        for _ in range(args.repeats):
            for key, fn, m in (("cnncalc", run_cnncalc, model), ("fc", run_flopcounter, meta)):
                gc.collect()
                t0 = time.perf_counter()
                fn(m, args.size)
                times[key].append(time.perf_counter() - t0)
        a, b = min(times["cnncalc"]), min(times["fc"])
        agree = macs == fc_macs
        print(f"| {name} | {a * 1e3:.1f} | {b * 1e3:.1f} | {a / b:.2f} | {'yes' if agree else f'NO: {macs:,} vs {fc_macs:,}'} |",
              flush=True)
        if a > b:
            failures.append(f"{name}: cnncalc {a * 1e3:.1f} ms is slower than FlopCounterMode {b * 1e3:.1f} ms")
        if not agree:
            failures.append(f"{name}: MACs {macs:,} differ from FlopCounterMode's {fc_macs:,}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
