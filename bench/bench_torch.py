"""cnncalc.analyze on real torch models vs. the usual peers: time, parameters and MACs.

Tools compared (each on a fresh deep copy of the same model, input batch 1):

* cnncalc     ``cnncalc.analyze(model, input_size=(1, 3, H, W))`` -- meta tensors, no arithmetic;
* torchinfo   ``torchinfo.summary(model, input_size=..., verbose=0)`` -> ``total_params``, ``total_mult_adds``;
* ptflops     ``ptflops.get_model_complexity_info(model, (3, H, W), as_strings=False,
              print_per_layer_stat=False)`` (default 'pytorch' backend) -> (MACs, params);
* thop        ``thop.profile(model, inputs=(x,), verbose=False)`` -> (MACs, params);
* FlopCounter ``torch.utils.flop_counter.FlopCounterMode`` around a forward of the model built on the meta
              device (FLOPs / 2 = MACs; it counts no parameters).

torchinfo, ptflops and thop run the model for real on a CPU tensor, with ``torch.set_num_threads(2)``.
Times are the best of ``--repeats`` runs (3); a run over 60 s is done once and marked.  A peer is skipped at a
size where it would take over ~120 s (estimated from one plain forward) or would not fit in memory.

Run: make bench-torch   (or .venv/bin/python bench/bench_torch.py [--models resnet50 --sizes 224])
Progress goes to stderr, the Markdown tables to stdout.  See bench/README.md for the caveats.
"""
from __future__ import annotations

import argparse
import copy
import gc
import io
import os
import sys
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))          # reference_nets (plain-torch torchvision models)
sys.path.insert(0, str(HERE.parent / "src"))            # cnncalc from the checkout even without `pip install -e`

import cnncalc                                           # noqa: E402

THREADS = 2
ONCE_S = 60.0          # a run longer than this is not repeated
SKIP_S = 120.0         # a peer estimated to take longer than this is skipped
TOOLS = ("cnncalc", "torchinfo", "ptflops", "thop", "FlopCounterMode")


# ----------------------------------------------------------------------------------------------- models
class ViT(nn.Module):
    """ViT-B/16-like (torchvision vit_b_16 layout): 16x16 patch conv, class token, learned position embedding
    sized for ``image_size``, 12 pre-norm ``nn.TransformerEncoderLayer`` (d=768, 12 heads, MLP 3072, GELU),
    final LayerNorm, linear head on the class token.  86,567,656 parameters, like torchvision's at 224."""

    def __init__(self, image_size=224, patch=16, dim=768, depth=12, heads=12, mlp=3072, classes=1000):
        super().__init__()
        n = (image_size // patch) ** 2
        self.conv_proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.layers = nn.Sequential(*[
            nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu", layer_norm_eps=1e-6,
                                       batch_first=True, norm_first=True) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)                 # (N, n, dim)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
        x = self.ln(self.layers(x))
        return self.head(x[:, 0])


def factory(name: str, size: int):
    if name == "vit":
        return lambda: ViT(image_size=size)
    from reference_nets import MODELS
    return MODELS[name][0]


MODEL_NAMES = ("resnet50", "mobilenet_v2", "densenet121", "vit")


# ----------------------------------------------------------------------------------------------- tools
def run_cnncalc(model, size):
    r = cnncalc.analyze(model, input_size=(1, 3, size, size))
    return r.totals.params, r.totals.macs


def run_torchinfo(model, size):
    import torchinfo
    s = torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0)
    return s.total_params, s.total_mult_adds


def run_ptflops(model, size):
    import ptflops
    with redirect_stdout(io.StringIO()):
        macs, params = ptflops.get_model_complexity_info(model, (3, size, size), as_strings=False,
                                                         print_per_layer_stat=False)
    return params, macs


def run_thop(model, size):
    import thop
    x = torch.randn(1, 3, size, size)
    macs, params = thop.profile(model, inputs=(x,), verbose=False)
    return int(params), int(macs)


def run_flopcounter(meta_model, size):
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.empty(1, 3, size, size, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        meta_model(x)
    return None, fc.get_total_flops() // 2


RUNNERS = {"cnncalc": run_cnncalc, "torchinfo": run_torchinfo, "ptflops": run_ptflops, "thop": run_thop,
           "FlopCounterMode": run_flopcounter}


# ----------------------------------------------------------------------------------------------- helpers
def log(*a):
    print(*a, file=sys.stderr, flush=True)


def mem_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def activation_bytes(meta_model, size) -> tuple[int, int]:
    """(peak bytes of live activations without autograd, bytes autograd saves for backward) of one forward,
    found on meta tensors.  The second is an upper bound: on meta, scaled_dot_product_attention runs its math
    decomposition (the attention matrix is saved), on CPU a flash kernel (it is not)."""
    import weakref
    from torch.utils._python_dispatch import TorchDispatchMode

    state = {"live": 0, "peak": 0}

    def freed(n):
        state["live"] -= n

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in (out if isinstance(out, (tuple, list)) else (out,)):
                if isinstance(t, torch.Tensor) and t.device.type == "meta" and t._base is None:
                    n = t.numel() * t.element_size()
                    state["live"] += n
                    state["peak"] = max(state["peak"], state["live"])
                    weakref.finalize(t, freed, n)
            return out

    x = torch.empty(1, 3, size, size, device="meta")
    with torch.no_grad(), Mode():
        meta_model(x)
    saved = {}

    def pack(t):
        b = t if t._base is None else t._base
        if not isinstance(b, nn.Parameter):
            saved[id(b)] = b.numel() * b.element_size()
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = meta_model(x)
    del out
    return state["peak"], sum(saved.values())


def timed(fn, repeats):
    """(best time, result, runs done, note): best of `repeats`, a single run when one takes > ONCE_S."""
    best, result, runs = float("inf"), None, 0
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        best, runs = min(best, dt), runs + 1
        if dt > ONCE_S:
            break
    return best, result, runs


def fmt_int(v):
    return "—" if v is None else f"{v:,}"


def fmt_rel(v, ref):
    if v is None or ref in (None, 0):
        return "—"
    d = (v - ref) / ref * 100
    return "0" if v == ref else (f"{d:+.2f}%" if abs(d) >= 0.01 else f"{d:+.1e}%")


def fmt_time(t, runs, repeats):
    if t is None:
        return "—"
    s = f"{t:.3f}" if t < 10 else f"{t:.1f}"
    return s + (" (1 run)" if runs < repeats and runs == 1 else "")


# ----------------------------------------------------------------------------------------------- bench
def bench_one(name, size, tools, repeats):
    make = factory(name, size)
    model = make().eval()
    with torch.device("meta"):
        meta_model = make().eval()
    rows = {}

    # estimates for the peers that run the model for real: one plain forward, and memory on meta tensors
    peers_real = [t for t in tools if t in ("torchinfo", "ptflops", "thop")]
    fwd_s = None
    if peers_real:
        x = torch.randn(1, 3, size, size)
        with torch.no_grad():
            for _ in range(2):                    # the first forward in a process also initialises oneDNN
                t0 = time.perf_counter()
                model(x)
                dt = time.perf_counter() - t0
                fwd_s = dt if fwd_s is None else min(fwd_s, dt)
                if dt > 10:
                    break
        del x
        nograd_mem, grad_mem = activation_bytes(meta_model, size)
        avail = mem_available()
        log(f"  forward {fwd_s:.2f} s; activations {nograd_mem / 2**30:.2f} GiB (no_grad), "
            f"{grad_mem / 2**30:.2f} GiB saved by autograd (upper bound); {avail / 2**30:.1f} GiB available")

    for tool in tools:
        note = ""
        if tool in peers_real:
            # ptflops runs with autograd on (it does not use no_grad): every activation is kept
            need = nograd_mem + (grad_mem if tool == "ptflops" else 0)
            need += 2 * sum(p.numel() * p.element_size() for p in model.parameters())   # model + its deep copy
            if need > 0.8 * avail:
                rows[tool] = dict(skip=f"skipped: needs ~{need / 2**30:.1f} GiB, {avail / 2**30:.1f} GiB available")
                log(f"  {tool:16s} {rows[tool]['skip']}")
                continue
            est = fwd_s * (2.0 if tool == "ptflops" else 1.5)
            if est > SKIP_S:
                rows[tool] = dict(skip=f"skipped: estimated {est:.0f} s > {SKIP_S:.0f} s")
                log(f"  {tool:16s} {rows[tool]['skip']}")
                continue
        if tool == "FlopCounterMode":
            fn = lambda: RUNNERS[tool](meta_model, size)          # noqa: E731
        else:
            m = copy.deepcopy(model)                              # peers leave hooks/buffers/attributes behind
            fn = lambda: RUNNERS[tool](m, size)                   # noqa: E731
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, (params, macs), runs = timed(fn, repeats)
        except Exception as e:                                    # a peer failing is a result, not a crash
            rows[tool] = dict(skip=f"failed: {type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''}")
            log(f"  {tool:16s} {rows[tool]['skip']}")
            continue
        finally:
            fn = m = None
            gc.collect()
        if macs is None and tool == "ptflops":
            note = "ptflops reported failure"
        rows[tool] = dict(time=t, runs=runs, params=params, macs=macs, note=note)
        log(f"  {tool:16s} {t:8.3f} s ({runs} run{'s' if runs > 1 else ''})  params {fmt_int(params):>14}  "
            f"MACs {fmt_int(macs):>18}")
    return rows, fwd_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODEL_NAMES),
                    help=f"models (default: all of {', '.join(MODEL_NAMES)}); names from tests/reference_nets.py "
                         "also work")
    ap.add_argument("--sizes", nargs="+", type=int, default=[224, 1024], help="input H=W (default 224 1024)")
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    models = [m for arg in a.models for m in arg.split(",") if m]
    torch.set_num_threads(THREADS)
    tools = ["cnncalc"] + [t for t in a.tools if t != "cnncalc"]    # cnncalc is the reference of the columns

    # the first cnncalc call in a process pays one-time imports (torch.func, dispatch machinery): shown apart
    with torch.device("meta"):
        tiny = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    t0 = time.perf_counter()
    cnncalc.analyze(tiny, input_size=(1, 3, 8, 8))
    cold = time.perf_counter() - t0

    results = []
    load_start = os.getloadavg()[0]
    t_start = time.perf_counter()
    for name in models:
        for size in a.sizes:
            log(f"{name} @ {size}x{size}")
            rows, fwd_s = bench_one(name, size, tools, a.repeats)
            results.append((name, size, rows, fwd_s))
    total = time.perf_counter() - t_start

    print(f"## cnncalc vs peers on torch models (torch {torch.__version__}, {THREADS} threads, batch 1, "
          f"best of {a.repeats})\n")
    print("| model | input | tool | time (s) | × cnncalc time | params | Δ params | MACs | Δ MACs | note |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, size, rows, fwd_s in results:
        ref = rows["cnncalc"]
        for tool in tools:
            r = rows.get(tool)
            if r is None:
                continue
            if "skip" in r:
                print(f"| {name} | {size} | {tool} | — | — | — | — | — | — | {r['skip']} |")
                continue
            ratio = "1" if tool == "cnncalc" else f"{r['time'] / ref['time']:.1f}"
            print(f"| {name} | {size} | {tool} | {fmt_time(r['time'], r['runs'], a.repeats)} | {ratio} | "
                  f"{fmt_int(r['params'])} | {fmt_rel(r['params'], ref['params']) if tool != 'cnncalc' else ''} | "
                  f"{fmt_int(r['macs'])} | {fmt_rel(r['macs'], ref['macs']) if tool != 'cnncalc' else ''} | "
                  f"{r['note']} |")
    if "torchinfo" in tools:
        print("\n### speed-up of cnncalc over torchinfo\n")
        print("| model | input | first forward (s) | cnncalc (s) | torchinfo (s) | speed-up |")
        print("|---|---|---:|---:|---:|---:|")
        for name, size, rows, fwd_s in results:
            c, ti = rows["cnncalc"], rows.get("torchinfo", {})
            if "time" in ti:
                print(f"| {name} | {size} | {fwd_s:.3f} | {c['time']:.3f} | {ti['time']:.3f} | "
                      f"{ti['time'] / c['time']:.1f}× |")
            else:
                print(f"| {name} | {size} | {'—' if fwd_s is None else f'{fwd_s:.3f}'} | {c['time']:.3f} | — | "
                      f"{ti.get('skip', '—')} |")
    print(f"\nFirst cnncalc call in the process (one-time imports, not in the table): {cold:.2f} s.  "
          f"Whole benchmark: {total:.0f} s on {os.cpu_count()} CPUs, 1-min load average {load_start:.1f} at the "
          f"start, {os.getloadavg()[0]:.1f} at the end (other processes slow the peers more than cnncalc).  "
          "Δ = (tool − cnncalc) / cnncalc.  "
          "The peers count different things: see bench/README.md.")


if __name__ == "__main__":
    main()
