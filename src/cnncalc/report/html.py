"""A Report as an HTML table, for Jupyter (``Report._repr_html_``).

The same columns and numbers as the web page's table (``web/static/table.js``): one row per layer, each count with
thousands separators and its share of the total, a totals row, then the totals that are not column sums (peak
activation memory).  Every string that comes from the model -- layer names, kinds, warnings, the dtype -- goes
through ``html.escape``: a layer named ``<script>`` is shown as those characters.
"""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from . import units

if TYPE_CHECKING:      # hints only: model.py imports the renderers (Report._repr_html_ ...), not the reverse
    from .model import Report

# (key, header, kind): l = text, n = number -- the page's COLS
COLUMNS = (("index", "#", "n"), ("name", "Layer", "l"), ("kind", "Kind", "l"), ("output_shape", "Output shape", "l"),
           ("params", "Params", "n"), ("macs", "MACs", "n"), ("flops", "FLOPs", "n"), ("mults", "Mults", "n"),
           ("adds", "Adds", "n"), ("activation_bytes", "Act. bytes", "n"), ("param_bytes", "Param bytes", "n"),
           ("rf", "RF size / stride", "l"))
SHARED = ("params", "macs", "flops", "activation_bytes")      # cells that show their share of the total
MAX_ROWS = 2_000

STYLE = """<style>
.cnncalc-report { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 13px; }
.cnncalc-report .cc-scroll { max-height: 32em; overflow: auto; }
.cnncalc-report table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.cnncalc-report th, .cnncalc-report td { padding: 2px 8px; white-space: nowrap; text-align: right; }
.cnncalc-report th { position: sticky; top: 0; background: var(--jp-layout-color1, #fff); }
.cnncalc-report .l { text-align: left; }
.cnncalc-report .cc-name { max-width: 28ch; overflow: hidden; text-overflow: ellipsis; }
.cnncalc-report .cc-mono { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
.cnncalc-report .cc-share { opacity: .6; font-size: 11px; }
.cnncalc-report .cc-warn { color: #b3261e; }
.cnncalc-report tfoot td { font-weight: 600; border-top: 1px solid currentColor; }
.cnncalc-report p { margin: 4px 0; }
</style>"""


def share(value: int, total: int) -> str:
    """The page's share of a total: '12.3%', '<0.1%' for a small non-zero part, '' for none."""
    if total <= 0 or value <= 0:
        return ""
    p = 100 * value / total
    return "<0.1%" if p < 0.05 else f"{p:.1f}%"


def _cls(cls: str) -> str:
    return f' class="{cls}"' if cls else ""


def _si(n: int) -> str:
    return f" ({escape(units.si(n))})" if n >= 1000 else ""


def _cell(layer, key: str, totals) -> tuple[str, str]:
    """(class, inner HTML) of one cell."""
    if key == "index":
        return "", str(layer.index)
    if key == "name":
        mark = ' <span class="cc-warn">⚠</span>' if layer.warnings else ""
        return "l cc-name", escape(str(layer.name)) + mark
    if key == "kind":
        return "l", escape(str(layer.kind))
    if key == "output_shape":
        return "l cc-mono", escape(units.shape(layer.output_shape))
    if key == "rf":
        return "l cc-mono", escape(units.rf_short(layer.rf))
    value = getattr(layer, key)
    part = share(value, getattr(totals, key)) if key in SHARED else ""
    return "", f"{value:,}" + (f' <span class="cc-share">{escape(part)}</span>' if part else "")


def to_html(report: Report, max_rows: int = MAX_ROWS) -> str:
    """The report as an HTML fragment (a styled, scrollable table and its totals)."""
    t = report.totals
    head = "".join(f'<th{_cls("l" if kind == "l" else "")}>{escape(label)}</th>' for _, label, kind in COLUMNS)
    rows = []
    for layer in report.layers[:max_rows]:
        title = escape(str(layer.name) + "".join(f"\n⚠ {w}" for w in layer.warnings), quote=True)
        cells = []
        for key, _, _ in COLUMNS:
            cls, inner = _cell(layer, key, t)
            attr = f' title="{title}"' if key == "name" else ""
            cells.append(f'<td{_cls(cls)}{attr}>{inner}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = len(report.layers) - max_rows
    if more > 0:
        rows.append(f'<tr><td></td><td class="l" colspan="{len(COLUMNS) - 1}">… {more:,} more layers '
                    f'(report.to_csv() or report.table() has them all; the totals below count every layer)</td></tr>')
    foot = []
    for key, _, kind in COLUMNS:
        if key == "name":
            foot.append('<td class="l">Total</td>')
        elif kind == "n" and key != "index":
            foot.append(f"<td>{getattr(t, key):,}</td>")
        else:
            foot.append("<td></td>")
    context = (f"convention {escape(report.convention)} · input {escape(units.shape(report.input_shape))} · "
               f"batch {report.batch} · dtype {escape(str(report.dtype))} · {len(report.layers):,} layers")
    summary = (f"Params <b>{t.params:,}</b>{_si(t.params)}, trainable {t.trainable_params:,} · "
               f"MACs <b>{t.macs:,}</b>{_si(t.macs)} · FLOPs <b>{t.flops:,}</b>{_si(t.flops)} · "
               f"peak activations <b>{report.peak_activation_bytes:,}</b> B "
               f"({escape(units.nbytes(report.peak_activation_bytes))}) · parameters {t.param_bytes:,} B")
    warnings = "".join(f'<p class="cc-warn">⚠ {escape(str(w))}</p>' for w in report.warnings)
    return (f'<div class="cnncalc-report">{STYLE}<p><b>cnncalc</b> · {context}</p>'
            f'<div class="cc-scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'<tfoot><tr>{"".join(foot)}</tr></tfoot></table></div><p>{summary}</p>{warnings}</div>')
