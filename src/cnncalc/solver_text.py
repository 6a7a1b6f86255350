"""The answer of ``cnncalc solve`` in words (en / zh): the unknowns and targets, every solution with the formulas
of the layers involved (numbers put in) and its checks, the closed-form derivation where there is one, and why
there is no solution when there is none ("2P + 1 = K needs an odd kernel").
"""
from __future__ import annotations

from .i18n import Msg, tr
from .report import units

SHOWN_IN_FULL = 10        # solutions explained line by line; the others are listed
_QUANTITIES = {"shape": ("_out", "pad_"), "same": ("_out", "pad_"), "max_params": ("params",),
               "max_macs": ("macs",), "fit": ()}


def _t(lang, msg_id, **kw) -> str:
    return tr(msg_id, lang, **kw)


def target_text(t, lang: str) -> str:
    layer = t.layer if t.layer else _t(lang, "solve.last_layer")
    if t.kind == "shape":
        return _t(lang, "solve.t_shape", layer=layer, dims="x".join(map(str, t.dims)))
    if t.kind == "same":
        return _t(lang, "solve.t_same", layer=layer)
    if t.kind == "max_params":
        return _t(lang, "solve.t_params", bound=f"{t.bound:,}")
    if t.kind == "max_macs":
        return _t(lang, "solve.t_macs", bound=f"{t.bound:,}")
    return _t(lang, "solve.t_fit", bound=f"{t.bound:,}", human=units.nbytes(t.bound))


def check_text(c, lang: str, memory: str = "inference") -> str:
    mark = "✓" if c.ok else "✗"
    t = c.target
    if t.kind in ("shape", "same"):
        layer = t.layer if t.layer else _t(lang, "solve.last_layer")
        want = "x".join(map(str, t.dims)) if t.kind == "shape" else _t(lang, "solve.same_word")
        return _t(lang, "solve.c_shape", mark=mark, layer=layer, shape=units.shape(c.actual), want=want)
    op = "<=" if c.ok else ">"
    if t.kind == "max_params":
        return _t(lang, "solve.c_params", mark=mark, n=f"{c.actual:,}", op=op, bound=f"{t.bound:,}")
    if t.kind == "max_macs":
        return _t(lang, "solve.c_macs", mark=mark, n=f"{c.actual:,}", op=op, bound=f"{t.bound:,}")
    return _t(lang, "solve.c_fit", mark=mark, n=f"{c.actual:,}", human=units.nbytes(c.actual), op=op,
              bound=f"{t.bound:,}", bh=units.nbytes(t.bound), memory=Msg(f"solve.memory_{memory}"))


def _values(sol) -> str:
    return ", ".join(f"{k} = {v:,}" for k, v in sol.values.items())


def _layer_lines(result, sol, lang: str) -> list[str]:
    """The formulas of the layers that hold an unknown or a target, for the quantities the targets ask about."""
    names, wanted = [], set()
    for u in result.unknowns:
        if u.layer and u.layer not in names:
            names.append(u.layer)
    for t in result.targets:
        wanted.update(_QUANTITIES[t.kind])
        if t.kind in ("shape", "same"):
            last = sol.report.layers[-1].name
            name = t.layer or last
            layer = _find(sol.report, name)
            if layer is not None and layer.name not in names:
                names.append(layer.name)
    lines = []
    for name in names:
        layer = _find(sol.report, name)
        if layer is None:
            continue
        steps = [s for s in layer.steps if any(s.quantity.endswith(w) or s.quantity.startswith(w) for w in wanted)]
        lines.append(f"    [{layer.index}] {layer.name} = {layer.text or layer.kind}    "
                     f"{units.shape(layer.input_shape)} -> {units.shape(layer.output_shape)}")
        lines += [f"        {s.render(lang)}" for s in steps]
    return lines


def _find(report, name):
    for layer in report.layers:
        if name in (layer.name, layer.label) or (name.startswith("#") and str(layer.index) == name[1:]):
            return layer
    return None


def _memory_lines(result, sol, lang: str) -> list[str]:
    if not any(t.kind == "fit" for t in result.targets) or result.memory != "inference":
        return []
    r = sol.report
    return ["    " + _t(lang, "solve.memory_sum", peak=f"{r.peak_activation_bytes:,}", params=f"{r.totals.param_bytes:,}",
                       buffers=f"{r.totals.buffer_bytes:,}",
                       total=f"{r.peak_activation_bytes + r.totals.param_bytes + r.totals.buffer_bytes:,}")]


def explain_solution(result, sol, lang: str) -> list[str]:
    lines = _layer_lines(result, sol, lang) + _memory_lines(result, sol, lang)
    lines += [f"    {check_text(c, lang, result.memory)}" for c in sol.checks]
    return lines


def render_result(result, lang: str = "en") -> str:
    from .errors import check_lang
    from .solver_derive import derivation
    lang = check_lang(lang)
    out = [_t(lang, "solve.unknowns", list="; ".join(
        _t(lang, "solve.unknown", name=u.name, lo=f"{u.lo:,}", hi=f"{u.hi:,}") for u in result.unknowns))]
    out.append(_t(lang, "solve.targets", list="; ".join(target_text(t, lang) for t in result.targets)))
    out.append(_t(lang, "solve.convention", conv=result.convention, tried=f"{result.tried:,}"))
    out.append("")
    derived = derivation(result, lang)
    if result.mode == "largest" and result.solutions:
        best = result.solutions[-1]
        u = result.unknowns[0]
        out.append(_t(lang, "solve.largest", name=u.name, value=f"{best.values[u.name]:,}"))
        out += explain_solution(result, best, lang)
        if result.after is not None:
            out.append(_t(lang, "solve.next_fails", name=u.name, value=f"{result.after_value:,}"))
            out += [f"    {check_text(c, lang, result.memory)}" for c in result.after.checks if not c.ok]
        elif result.after_value is not None:
            out.append(_t(lang, "solve.next_fails", name=u.name, value=f"{result.after_value:,}"))
            out += [f"    {_reason(result.near[-1][1], lang)}"] if result.near else []
        else:
            out.append(_t(lang, "solve.range_end", name=u.name, value=f"{u.hi:,}"))
    elif result.solutions:
        n = len(result.solutions)
        out.append(_t(lang, "solve.count", n=n))
        for i, sol in enumerate(result.solutions, start=1):
            if i <= SHOWN_IN_FULL:
                out.append(_t(lang, "solve.solution", i=i, values=_values(sol)))
                out += explain_solution(result, sol, lang)
            else:
                out.append(f"  {_values(sol)}")
        out += derived + _pattern(result, lang)
    else:
        out.append(_t(lang, "solve.none", names=", ".join(u.name for u in result.unknowns)))
        out += derived
        out += _near_misses(result, lang)
    return "\n".join(out).rstrip() + "\n"


def _pattern(result, lang: str) -> list[str]:
    """Seed 004: a kernel and a padding solved together for one layer's size: every solution has K = 2P + 1."""
    us = {u.param: u for u in result.unknowns}
    if len(result.unknowns) != 2 or set(us) != {"kernel_size", "padding"} or \
            us["kernel_size"].layer != us["padding"].layer or len(result.solutions) < 2:
        return []
    k, p = us["kernel_size"].name, us["padding"].name
    if all(s.values[k] == 2 * s.values[p] + 1 for s in result.solutions):
        return [_t(lang, "solve.pattern_keep", k=k, p=p)]
    return []


def _reason(x, lang: str) -> str:
    """Why a candidate fails: its failed checks, or its error."""
    from .errors import SpecError
    if isinstance(x, SpecError):
        return x.render(lang)
    return "; ".join(check_text(c, lang) for c in x.checks if not c.ok)


def _distance(item) -> float:
    """How far a candidate is from a shape target (the closest are shown first; errors last)."""
    _, x = item
    checks = getattr(x, "checks", None)
    if checks is None:
        return float("inf")
    d = 0.0
    for c in checks:
        if not c.ok and c.target.kind == "shape":
            got = [v for v in c.actual[-len(c.target.dims):]]
            d += sum(abs(a - b) for a, b in zip(got, c.target.dims))
        elif not c.ok and c.target.kind == "same":
            d += 1
    return d


def _near_misses(result, lang: str, shown: int = 6) -> list[str]:
    """A few candidates and what they give instead (the closest first for a shape target)."""
    if not result.near:
        return []
    out = [_t(lang, "solve.tried")]
    names = [u.name for u in result.unknowns]
    seen = 0
    for values, x in sorted(result.near, key=_distance)[:shown]:
        what = ", ".join(f"{n} = {v:,}" for n, v in zip(names, values))
        out.append(f"    {what}: {_reason(x, lang)}")
        seen += 1
    if len(result.near) > seen:
        out.append("    " + _t(lang, "solve.more", n=len(result.near) - seen))
    return out
