"""Budgets: the largest batch whose training step -- and whose inference -- fits in a memory size.

Memory grows with the batch (activations, their gradients and saved tensors scale with it; parameters,
gradients and optimizer state do not), so the largest batch is found by doubling, then bisecting, with the
analysis itself at each batch: about 2 log2(batch) analyses.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError
from .i18n import Msg, render
from .report import units

MAX_BATCH = 1 << 40


@dataclass(frozen=True)
class Fit:
    budget: int
    train_batch: int                 # 0: not even batch 1 fits
    train_peak: int                  # at train_batch (or at 1 when none fits)
    train_next: int                  # the peak at train_batch + 1 (over the budget)
    infer_batch: int
    infer_peak: int
    infer_next: int
    fixed: int                       # training bytes that do not grow with the batch
    per_sample: int                  # training activation bytes of one more sample, at the largest batch
    optimizer: str
    amp: str | None


def largest(peak_at, budget: int) -> tuple[int, int, int]:
    """(largest batch b with peak_at(b) <= budget, peak_at(b), peak_at(b + 1)); b = 0 when none fits."""
    p1 = peak_at(1)
    if p1 > budget:
        return 0, p1, p1
    lo, plo = 1, p1
    hi = 2
    while True:
        ph = peak_at(hi)
        if ph > budget:
            break
        lo, plo = hi, ph
        if hi >= MAX_BATCH:
            return lo, plo, ph
        hi *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        pm = peak_at(mid)
        if pm <= budget:
            lo, plo = mid, pm
        else:
            hi = mid
    return lo, plo, peak_at(lo + 1)


def fit_spec(spec, budget: int, *, convention: str = "pytorch", dtype: str = "float32", optimizer: str = "sgd",
             amp: str | None = None) -> Fit:
    from .spec import load
    from .train_spec import analyze_training
    from .training import check_optimizer
    optimizer, amp = check_optimizer(optimizer, amp)
    calls = load(spec)
    cache: dict = {}

    def reports(b):
        if b not in cache:
            r = analyze_training(calls, convention=convention, batch=b, dtype=dtype, optimizer=optimizer, amp=amp)
            cache[b] = (r, r.training)
        return cache[b]

    def train_peak(b):
        return reports(b)[1].peak_bytes

    def infer_peak(b):
        r = reports(b)[0]
        return r.totals.param_bytes + r.totals.buffer_bytes + r.peak_activation_bytes

    tb, tp, tn = largest(train_peak, budget)
    ib, ip, inext = largest(infer_peak, budget)
    t = reports(max(tb, 1))[1]
    fixed = t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.weight_copy_bytes + t.gradient_bytes
    return Fit(budget, tb, tp, tn, ib, ip, inext, fixed, max(tn - tp, 0), optimizer, amp)


def fit_reports(report_at, budget: int, *, optimizer: str = "sgd", amp: str | None = None) -> Fit:
    """The same for any front-end: ``report_at(batch)`` analyses the network at that batch with a training
    step (a torch model or an ONNX file with its inputs' first dimension set to the batch)."""
    from .training import check_optimizer
    optimizer, amp = check_optimizer(optimizer, amp)
    cache: dict = {}

    def rep(b):
        if b not in cache:
            cache[b] = report_at(b)
        return cache[b]

    def infer_peak(b):
        r = rep(b)
        return r.totals.param_bytes + r.totals.buffer_bytes + r.peak_activation_bytes

    tb, tp, tn = largest(lambda b: rep(b).training.peak_bytes, budget)
    ib, ip, inext = largest(infer_peak, budget)
    t = rep(max(tb, 1)).training
    fixed = t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.weight_copy_bytes + t.gradient_bytes
    return Fit(budget, tb, tp, tn, ib, ip, inext, fixed, max(tn - tp, 0), optimizer, amp)


def fit_text(f: Fit, lang: str = "en") -> str:
    """The answer in words, in ``lang``."""
    amp = Msg("fit.amp", amp=f.amp) if f.amp else ""
    lines = [Msg("fit.budget", size=units.nbytes(f.budget), budget=f.budget, optimizer=f.optimizer, amp=amp)]
    if f.train_batch == 0:
        lines.append(Msg("fit.train_none", size=units.nbytes(f.train_peak), peak=f.train_peak))
    else:
        lines.append(Msg("fit.train", batch=f.train_batch, size=units.nbytes(f.train_peak), peak=f.train_peak,
                         more=f.train_batch + 1, needs=f.train_next))
    dominant = Msg("fit.fixed") if f.fixed >= f.train_peak - f.fixed else Msg("fit.activations")
    lines.append(Msg("fit.dominate", dominant=dominant, fixed=f.fixed, per=f.per_sample))
    if f.infer_batch == 0:
        lines.append(Msg("fit.infer_none", peak=f.infer_peak))
    else:
        lines.append(Msg("fit.infer", batch=f.infer_batch, size=units.nbytes(f.infer_peak), peak=f.infer_peak,
                         more=f.infer_batch + 1, needs=f.infer_next))
    return "\n".join(render(line, lang) for line in lines) + "\n"


def check_budget(budget) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise SpecError(Msg("err.fit.memory_budget_whole_number_bytes", budget=repr(budget)))
    return budget
