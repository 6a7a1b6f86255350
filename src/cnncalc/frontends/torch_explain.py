"""The worked explanation of a torch report's rows, from the op layer's formulas of every op each module ran.

A module row shows, for each distinct op call it made (identical calls grouped, e.g. the time steps of an LSTM):
the op with its operand shapes, the op layer's formulas with the numbers put in (output size, MACs, mults, adds,
FLOPs), and the call count; its parameters (the op's parameter formula when it accounts for exactly the
module's own weights, otherwise the module's weight tensors one by one); the sums over the descendants the
row stands for when ``depth`` folds them into it; and the ops that have no formula, named as uncounted.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..formulas import Step
from ..i18n import Msg

SUMMED = ("macs", "mults", "adds", "flops")
MAX_NAMED = 12          # descendants named one by one in a row's sums; the rest are counted


@dataclass(frozen=True)
class OpRecord:
    """One aten call as the op layer explained it (hashable: identical calls are counted, not repeated)."""

    name: str
    in_shapes: tuple
    out_shape: tuple
    steps: tuple


def _shapes(shapes) -> str:
    return ", ".join("(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")" for s in shapes)


def _value(rec: OpRecord, q: str) -> int | None:
    for st in rec.steps:
        if st.quantity == q and isinstance(st.value, int):
            return st.value
    return None


def _op_steps(rec: OpRecord, count: int, own_params: int, params_done: bool):
    head = Msg("fe.torch.op_head", name=rec.name, calls=Msg("fe.torch.x_calls", n=count) if count > 1 else "",
               ins=_shapes(rec.in_shapes), out=_shapes([rec.out_shape]))
    out = [Step("op", "", head)]
    explained = False
    for st in rec.steps:
        if st.quantity == "params":
            if not params_done and not explained and st.value == own_params:
                out.append(st)
                explained = True
            continue
        out.append(st)
    macs, mults, adds = _value(rec, "macs"), _value(rec, "mults"), _value(rec, "adds")
    flops = _value(rec, "flops")
    if flops is None and mults is not None and adds is not None:
        flops = mults + adds
        out.append(Step("flops", f"mults {mults:,} + adds {adds:,}", flops))
    if count > 1:
        for q, v in (("macs", macs), ("flops", flops)):
            if v:
                out.append(Step(q, f"{count} calls * {v:,}", count * v))
    return out, explained


def row_steps(name: str, members: list, stats: dict, owner_tensors: dict, owner_params: dict, cost,
              uncounted: dict) -> tuple:
    """The steps of the row for module ``name`` standing for ``members`` (itself and folded descendants)."""
    steps: list[Step] = []
    own = owner_params.get(name, 0)
    records: dict = {}
    s = stats.get(name)
    if s is not None and s.calls > 1:                 # a module run several times (a shared block, a loop)
        shown = "; ".join(f"{_shapes([i])} -> {_shapes([o or ()])}" for i, o in s.call_shapes)
        more = f"; ... {s.calls - len(s.call_shapes)} more" if s.calls > len(s.call_shapes) else ""
        steps.append(Step("calls", shown + more, s.calls, Msg("fe.torch.this_module_ran_this_many")))
    if s is not None:
        records = s.ops
    params_done = False
    for rec, count in records.items():
        more, explained = _op_steps(rec, count, own, params_done)
        steps += more
        params_done = params_done or explained
    if own and not params_done:
        parts = [f"{t} {_shapes([shape])} {prod(shape):,}" for t, shape in owner_tensors.get(name, [])]
        steps.append(Step("params", " + ".join(parts), own, Msg("fe.torch.tensors_this_module_holds")))
    folded = [m for m in members if m != name]
    if folded:
        for q in ("params",) + SUMMED:
            vals = []
            for m in folded:
                ms = stats.get(m)
                v = owner_params.get(m, 0) if q == "params" else (getattr(ms.cost, q) if ms else 0)
                if v:
                    vals.append((m, v))
            if not vals:
                continue
            own_v = own if q == "params" else (getattr(s.cost, q) if s else 0)
            terms = ([f"own {own_v:,}"] if own_v else []) + [f"{m} {v:,}" for m, v in vals[:MAX_NAMED]]
            rest = sum(v for _, v in vals[MAX_NAMED:])
            if rest:
                terms.append(f"{len(vals) - MAX_NAMED} more {rest:,}")
            total = own_v + sum(v for _, v in vals)
            steps.append(Step(q, " + ".join(terms), total, Msg("fe.torch.this_row_includes_modules_below")))
    if uncounted:
        steps.append(Step("uncounted", "", ", ".join(f"{k} x{v}" for k, v in sorted(uncounted.items())),
                          Msg("fe.torch.no_formula_not_totals")))
    return tuple(steps)
