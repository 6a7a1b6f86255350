"""``cnncalc solve``: the inverse problems -- which padding keeps the size, which kernel gives 112, how large a
batch fits in 8 GiB.

``?`` marks an unknown whole number in a spec (``conv2d(64, 7, stride=2, padding=?)``; ``?k`` names one, and
the same name twice is one unknown); targets say what must come out: a shape at a layer (``conv1: 112x112``, or
``same``: the layer keeps its input's spatial size), bounds on parameters, MACs or memory.  The answer is found
by the analysis itself, candidate by candidate over a stated range: every solution (or, when the question asks
for a maximum -- one unknown, only upper bounds -- the largest, by doubling and bisecting: the bounded quantities
grow with a batch, a width or an input size).  Each solution carries its report, so it is explained with the
same formulas as ``cnncalc summary --explain``; solve_text.py writes the answer, with the closed-form
derivation where there is one (O = floor((I + 2P - d(K-1) - 1)/S) + 1 solved for P, K, S or d).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import product

from .analysis import analyze_calls
from .errors import SpecError
from .i18n import Msg
from .spec.ast import Assign, BlockDef, Group, LayerCall, Unknown
from .spec.graph import elaborate, unknown_key
from .spec.text import parse_program

MAX_EVALS = 20_000                 # analyses one enumeration may run (the product of the ranges)
BATCH = "batch"
#: default search ranges by the argument an unknown stands for
RANGES = {"padding": (0, 32), "stride": (1, 32), "kernel_size": (1, 32), "dilation": (1, 16),
          "output_padding": (0, 8), "groups": (1, 64), "input": (1, 1024), BATCH: (1, 1 << 24)}
DEFAULT_RANGE = (1, 1024)          # filters, units, hidden sizes and anything else
_SIZE = re.compile(r"^\s*(?:(?P<layer>[^:]+?)\s*:)?\s*(?P<dims>same|\d+(?:\s*[xX*×,]\s*\d+)*)\s*$")
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)\s*$")


@dataclass(frozen=True)
class Target:
    """What must come out: kind 'shape' (dims at a layer), 'same', 'max_params', 'max_macs' or 'fit'."""
    kind: str
    layer: str | None = None           # None: the last layer
    dims: tuple = ()
    bound: int = 0
    text: str = ""


@dataclass(frozen=True)
class UnknownInfo:
    key: object
    name: str                          # shown: 'conv1.padding', 'k' (for ?k), 'batch'
    param: str                         # the argument it stands for: padding, kernel_size, input, batch, ...
    layer: str | None                  # the layer holding it (its report name), None for the batch
    line: int | None
    column: int | None
    lo: int
    hi: int


@dataclass(frozen=True)
class Check:
    target: Target
    ok: bool
    actual: object                     # the output shape, or the number compared with the bound


@dataclass(frozen=True)
class Solution:
    values: dict                       # unknown name -> value
    report: object
    calls: tuple
    checks: tuple


@dataclass
class SolveResult:
    spec: str
    unknowns: list
    targets: list
    mode: str                          # 'all' or 'largest'
    solutions: list
    tried: int
    convention: str
    near: list = field(default_factory=list)        # infeasible candidates, for the answer 'none'
    after: Solution | None = None                   # 'largest': the candidate one above the answer
    after_value: int | None = None
    memory: str = "inference"

    @property
    def best(self) -> Solution | None:
        return self.solutions[-1] if self.mode == "largest" and self.solutions else \
            (self.solutions[0] if self.solutions else None)

    def text(self, lang: str = "en") -> str:
        from .solver_text import render_result
        return render_result(self, lang)

    def __str__(self) -> str:
        return self.text()


# --------------------------------------------------------------------------------------------------- inputs

def parse_target(text: str) -> Target:
    """'conv1: 112x112', '112x112' (the last layer), 'conv1: same', '10' -> a shape Target."""
    m = _SIZE.match(str(text).replace("×", "x"))
    if not m:
        raise SpecError(Msg("solve.bad_target", text=text))
    layer = m.group("layer")
    if m.group("dims") == "same":
        return Target("same", layer, (), 0, str(text).strip())
    dims = tuple(int(v) for v in re.split(r"\s*[xX*,]\s*", m.group("dims")))
    return Target("shape", layer, dims, 0, str(text).strip())


def parse_count(text, option: str) -> int:
    """5M, 1.5G, 250K, 1000000, 1e6 -> a whole number (SI: K = 10^3, M = 10^6, G = 10^9, T = 10^12)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    s = str(text).replace(",", "").replace("_", "")
    m = _COUNT.match(s)
    try:
        value = float(m.group(1)) * 10 ** (3 * " KMGT".index(m.group(2).upper() or " ")) if m else float(s)
    except ValueError:
        raise SpecError(Msg("solve.bad_count", option=option, text=text)) from None
    if value < 0 or value != value or value == float("inf"):
        raise SpecError(Msg("solve.bad_count", option=option, text=text))
    return int(value)


def parse_range(text: str) -> tuple[str | None, int, int]:
    """'0..10' (every unknown) or 'NAME=0..10' (an unknown by its name or argument) -> (name, lo, hi)."""
    name, eq, rng = str(text).rpartition("=")
    m = re.fullmatch(r"\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*", rng)
    if not m or int(m.group(1)) > int(m.group(2)):
        raise SpecError(Msg("solve.bad_range", text=text))
    return (name.strip() or None) if eq else None, int(m.group(1)), int(m.group(2))


def _source(spec) -> str:
    if not isinstance(spec, str):
        raise SpecError(Msg("solve.text_only", what=type(spec).__name__))
    if spec.strip().lower().startswith("zoo:"):
        from .zoo import get
        return get(spec.strip()[4:]).text
    if "\n" not in spec and "(" not in spec and "|" not in spec and os.path.isfile(spec):
        with open(spec, encoding="utf-8") as f:
            return f.read()
    return spec


# --------------------------------------------------------------------------------------------------- unknowns

def _collect(items, out: dict) -> None:
    """Every Unknown of the AST, by key, in the order written."""
    stack = list(items)[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, Unknown):
            out.setdefault(unknown_key(node), node)
        elif isinstance(node, (Group, Assign, BlockDef)):
            stack.extend(reversed(node.items))
            if isinstance(node, BlockDef):
                stack.extend(d for _, d in node.params[::-1])
        elif isinstance(node, LayerCall):
            stack.extend(a.value for a in reversed(node.args))
        elif isinstance(node, tuple):
            stack.extend(reversed(node))
        elif hasattr(node, "__dataclass_fields__"):
            stack.extend(getattr(node, f) for f in node.__dataclass_fields__ if f not in ("line", "column"))


class _Probe(int):
    """An unknown's stand-in while finding which argument of which layer it is (a distinct whole number)."""


def _describe(prog, src, found: dict, convention) -> dict:
    """key -> (param, layer name): bind each layer once with the unknowns as probes."""
    from .ops import registry
    probes = {k: _Probe(1000003 + i) for i, k in enumerate(found)}
    where: dict = {}
    try:
        calls = elaborate(prog, src, unknowns=probes)
    except SpecError:
        return where
    by_id = {id(p): k for k, p in probes.items()}
    counts: dict = {}
    for index, call in enumerate(calls):
        low = registry.norm(call.kind)
        if low in ("input", "inputlayer"):
            for i, a in enumerate(call.args):
                for v in (a.value if isinstance(a.value, tuple) else (a.value,)):
                    if id(v) in by_id:
                        where.setdefault(by_id[id(v)], ("input" if a.name is None or registry.norm(a.name) != "batch"
                                                        else BATCH, "input", i))
            continue
        op = registry.OPS.get(low)
        if op is None:
            continue
        counts[op.kind] = counts.get(op.kind, 0) + 1
        name = call.label or f"{op.kind}_{counts[op.kind]}"
        try:
            args = registry.bind(op, call, _refuse)
        except SpecError:
            continue
        for pname, v in args.items():
            for x in (v if isinstance(v, tuple) else (v,)):
                if id(x) in by_id:
                    where.setdefault(by_id[id(x)], (pname, name, None))
    return where


def _refuse(msg, where=None):
    raise SpecError(msg)


def unknowns_of(spec, *, convention: str = "pytorch", batch=None, ranges=()) -> tuple:
    """(source text, AST, [UnknownInfo]) of a spec with ``?`` unknowns (and ``batch='?'``)."""
    src = _source(spec)
    prog = parse_program(src)
    found: dict = {}
    _collect(prog, found)
    where = _describe(prog, src, found, convention)
    infos = []
    for key, u in found.items():
        param, layer, pos = where.get(key, ("?", None, None))
        if u.name:
            name = u.name
        elif param == "input":
            name = f"input[{pos}]"
        elif param == BATCH:
            name = BATCH
        else:
            name = f"{layer}.{param}" if layer else f"?@{u.line}:{u.column}"
        lo, hi = RANGES.get(param, DEFAULT_RANGE)
        infos.append(UnknownInfo(key, name, param, layer, u.line, u.column, lo, hi))
    if isinstance(batch, str) and batch.strip() == "?":
        infos.append(UnknownInfo(BATCH, BATCH, BATCH, None, None, None, *RANGES[BATCH]))
    for rname, lo, hi in ranges:
        hit = False
        for i, info in enumerate(infos):
            if rname is None or rname in (info.name, info.param, info.name.rpartition(".")[2]):
                infos[i] = UnknownInfo(info.key, info.name, info.param, info.layer, info.line, info.column, lo, hi)
                hit = True
        if not hit:
            raise SpecError(Msg("solve.range_unknown", name=rname, names=", ".join(i.name for i in infos)))
    return src, prog, infos


# --------------------------------------------------------------------------------------------------- checks

def layer_of(report, name):
    """The row a target names: a label, a report name, or '#3' / '3' (the row's index); None: the last row."""
    if name is None:
        return report.layers[-1]
    key = name.strip()
    if re.fullmatch(r"#?\d+", key):
        n = int(key.lstrip("#"))
        for layer in report.layers:
            if layer.index == n:
                return layer
    for layer in report.layers:
        if key in (layer.name, layer.label):
            return layer
    from .errors import did_you_mean
    raise SpecError(Msg("solve.no_layer", name=key, near=did_you_mean(key, [l.name for l in report.layers])))


def _spatial(shape, channels_last: bool) -> tuple:
    if len(shape) < 3:
        return ()
    return tuple(shape[1:-1]) if channels_last else tuple(shape[2:])


def shape_matches(shape: tuple, dims: tuple, channels_last: bool) -> bool:
    """'112x112' is the spatial size; with channels, one sample's shape; with the batch, the whole shape."""
    sp = _spatial(shape, channels_last)
    if sp and len(dims) == len(sp):
        return tuple(sp) == tuple(dims)
    if len(dims) == len(shape) - 1:
        return tuple(shape[1:]) == tuple(dims)
    return tuple(shape) == tuple(dims)


def inference_memory(calls, report) -> int:
    """Bytes an inference pass needs: the peak of live activations + parameters + buffers."""
    return report.peak_activation_bytes + report.totals.param_bytes + report.totals.buffer_bytes


def training_memory(calls, report) -> int:
    """The training step's peak (the training-memory module, with SGD); a hook for --memory training."""
    try:
        from .train_spec import train_report
    except ImportError:
        raise SpecError(Msg("solve.no_training")) from None
    return train_report(calls, report).peak_bytes


#: how --fit measures memory: name -> fn(calls, report) -> bytes (another model of memory registers here)
MEMORY = {"inference": inference_memory, "training": training_memory}


def check(target: Target, calls, report, channels_last: bool, memory: str = "inference") -> Check:
    if target.kind == "max_params":
        return Check(target, report.totals.params <= target.bound, report.totals.params)
    if target.kind == "max_macs":
        return Check(target, report.totals.macs <= target.bound, report.totals.macs)
    if target.kind == "fit":
        used = MEMORY[memory](calls, report)
        return Check(target, used <= target.bound, used)
    layer = layer_of(report, target.layer)
    if target.kind == "same":
        ok = _spatial(layer.output_shape, channels_last) == _spatial(layer.input_shape, channels_last)
        return Check(target, ok and bool(_spatial(layer.output_shape, channels_last)), layer.output_shape)
    return Check(target, shape_matches(layer.output_shape, target.dims, channels_last), layer.output_shape)


# --------------------------------------------------------------------------------------------------- search

def solve(spec, targets=(), *, max_params=None, max_macs=None, fit=None, memory: str = "inference",
          convention: str = "pytorch", dtype: str = "float32", batch=None, ranges=(), limit: int = MAX_EVALS,
          mode: str | None = None) -> SolveResult:
    """Solve a spec's ``?`` unknowns for the targets.

    ``targets``: shape targets ('conv1: 112x112', '112x112' for the last layer, 'conv1: same');
    ``max_params`` / ``max_macs``: counts (5_000_000 or '5M'); ``fit``: bytes (or '8GiB') that an inference
    pass may use (``memory='training'``: a training step); ``batch='?'`` makes the batch an unknown;
    ``ranges``: ('0..10' or 'padding=0..10', ...) search ranges.  ``mode`` 'all' lists every solution,
    'largest' gives the largest value (default: 'largest' for one unknown and only upper bounds).
    """
    from .conventions import get_convention
    from .sizes import parse_bytes
    conv = get_convention(convention)
    tlist = [t if isinstance(t, Target) else parse_target(t) for t in targets]
    if max_params is not None:
        tlist.append(Target("max_params", bound=parse_count(max_params, "--max-params"), text=str(max_params)))
    if max_macs is not None:
        tlist.append(Target("max_macs", bound=parse_count(max_macs, "--max-macs"), text=str(max_macs)))
    if fit is not None:
        if memory not in MEMORY:
            raise SpecError(Msg("solve.bad_memory", memory=memory, choices=", ".join(MEMORY)))
        budget = fit if isinstance(fit, int) and not isinstance(fit, bool) else parse_bytes(str(fit), "--fit", 1)
        tlist.append(Target("fit", bound=budget, text=str(fit)))
    if not tlist:
        raise SpecError(Msg("solve.no_target"))
    parsed = [parse_range(r) if isinstance(r, str) else tuple(r) for r in ranges]
    src, prog, infos = unknowns_of(spec, convention=conv.name, batch=batch, ranges=parsed)
    if not infos:
        raise SpecError(Msg("solve.no_unknown"))
    fixed_batch = None if isinstance(batch, str) else batch
    bounds_only = all(t.kind in ("max_params", "max_macs", "fit") for t in tlist)
    mode = mode or ("largest" if len(infos) == 1 and bounds_only else "all")
    result = SolveResult(src, infos, tlist, mode, [], 0, conv.name, memory=memory)

    def attempt(values: tuple):
        binding = {i.key: v for i, v in zip(infos, values) if i.key != BATCH}
        b = next((v for i, v in zip(infos, values) if i.key == BATCH), fixed_batch)
        result.tried += 1
        try:
            calls = elaborate(prog, src, unknowns=binding)
            report = analyze_calls(calls, convention=conv, batch=b, dtype=dtype)
            checks = tuple(check(t, calls, report, conv.channels_last, memory) for t in tlist)
        except SpecError as err:
            if err.message.__class__ is Msg and err.message.id.startswith("solve."):
                raise
            return None, err
        sol = Solution({i.name: v for i, v in zip(infos, values)}, report, tuple(calls), checks)
        return sol, None

    if mode == "largest":
        _largest(result, infos[0], attempt)
    else:
        total = 1
        for i in infos:
            total *= i.hi - i.lo + 1
        if total > limit:
            raise SpecError(Msg("solve.too_many", total=f"{total:,}", limit=f"{limit:,}"))
        for values in product(*(range(i.lo, i.hi + 1) for i in infos)):
            sol, err = attempt(values)
            if sol is not None and all(c.ok for c in sol.checks):
                result.solutions.append(sol)
            elif len(result.near) < 400:
                result.near.append((values, sol if sol is not None else err))
    return result


def _largest(result: SolveResult, info: UnknownInfo, attempt) -> None:
    """The largest value in [lo, hi] meeting every bound (they grow with it): double, then bisect."""
    def ok(v):
        sol, err = attempt((v,))
        good = sol is not None and all(c.ok for c in sol.checks)
        return good, sol if sol is not None else err

    start = info.lo                       # the smallest values may not make a network at all (a kernel larger
    good, first = ok(start)               # than the input): start at the first one that does
    while not good and not isinstance(first, Solution) and start < min(info.hi, info.lo + 256):
        result.near.append(((start,), first))
        start += 1
        good, first = ok(start)
    if not good:
        result.near.append(((start,), first))
        return
    lo, best, hi, bad = start, first, None, None
    step = 1
    while hi is None:
        probe = min(lo + step, info.hi)
        if probe == lo:
            break
        g, s = ok(probe)
        if g:
            lo, best = probe, s
            step *= 2
        else:
            hi, bad = probe, s
    while hi is not None and hi - lo > 1:
        mid = (lo + hi) // 2
        g, s = ok(mid)
        if g:
            lo, best = mid, s
        else:
            hi, bad = mid, s
    result.solutions.append(best)
    if hi is not None:
        result.after_value = hi
        result.after = bad if isinstance(bad, Solution) else None
        if result.after is None:
            result.near.append(((hi,), bad))


__all__ = ["solve", "SolveResult", "Solution", "Target", "UnknownInfo", "parse_target", "parse_count",
           "parse_range"]
