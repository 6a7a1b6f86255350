"""The table's words in another language (``--lang zh``): headers, title, totals and warnings.

English stays in table.py as it was; this module renders the same numbers from the message catalog
(``cnncalc.i18n``).  Training-memory lines (``report.training``) are appended as their own module writes them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..i18n import Msg, render, tr
from . import units

if TYPE_CHECKING:
    from .model import Report


def header(column: str, english: str, lang: str) -> str:
    return english if lang == "en" else tr(f"col.{column}" if column != "input" else "table.input", lang)


def cell(column: str, text: str, lang: str) -> str:
    """A table cell: numbers and shapes are the same in every language; a global receptive field is not."""
    if lang != "en" and column == "rf" and text == "global":
        return tr("table.global", lang)
    return text


def title_of(report: Report, conv, lang: str) -> str:
    return tr("table.title", lang, name=conv.name, framework=conv.framework, layout=Msg(f"layout.{conv.layout}"),
              batch=report.batch, dtype=report.dtype)


def totals_lines(report: Report, lang: str) -> list[str]:
    tt = report.totals
    torch = report.source == "torch"
    lines = [
        tr("totals.params", lang, params=f"{tt.params:,}", si=units.si(tt.params), trainable=f"{tt.trainable_params:,}",
           non_trainable=f"{tt.non_trainable_params:,}",
           buffers=Msg("totals.buffers", n=f"{tt.buffers:,}") if tt.buffers else ""),
        tr("totals.macs", lang, macs=f"{tt.macs:,}", si=units.si(tt.macs), mults=f"{tt.mults:,}", adds=f"{tt.adds:,}"),
        tr("totals.flops", lang, flops=f"{tt.flops:,}", si=units.si(tt.flops)),
        tr("totals.memory", lang, peak=units.nbytes(report.peak_activation_bytes),
           torch=Msg("totals.memory_torch") if torch else ""),
        tr("totals.memory2", lang, outputs=units.nbytes(tt.activation_bytes), input=units.nbytes(report.input_bytes),
           params=units.nbytes(tt.param_bytes),
           buffers=Msg("totals.buffer_bytes", n=units.nbytes(tt.buffer_bytes)) if tt.buffer_bytes else ""),
        tr("totals.legend", lang),
    ]
    if getattr(report, "training", None) is not None:      # the training-memory hook (report/training_view.py)
        from .training_view import totals_lines as training_lines
        lines += training_lines(report, lang)
    if report.uncounted_ops:
        lines.append(tr("totals.uncounted", lang, ops=", ".join(f"{k} x{v}" for k, v in report.uncounted_ops.items())))
    for w in report.warnings:
        if "uncounted ops:" in w:
            continue
        lines.append(tr("totals.warning", lang, w=render(w, lang)))
    return lines
