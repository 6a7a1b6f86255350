"""Exports: CSV and Markdown (JSON is Report.to_json)."""
from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from ..conventions import get_convention
from ..i18n import Msg, tr
from . import units
from .localized import cell

if TYPE_CHECKING:      # hints only: model.py imports the renderers (Report.table() ...), not the reverse
    from .model import Report

CSV_FIELDS = ("index", "name", "kind", "input_shape", "output_shape", "params", "trainable_params",
              "non_trainable_params", "buffers", "macs", "flops", "mults", "adds", "activation_bytes", "param_bytes",
              "rf_size", "rf_stride", "rf_padding", "rf_center")


def _rf_cols(layer):
    if layer.rf is None:
        return ["", "", "", ""]
    d = layer.rf.to_dict()
    if d["global"]:
        return ["global", "", "", ""]
    cols = ["x".join(str(v) for v in d[k]) for k in ("size", "stride", "padding", "center")]
    if d.get("approximate"):
        cols[0] = "~" + cols[0]
    return cols


def to_csv(report: Report) -> str:
    from .training_view import TRAIN_CSV_FIELDS, layer_values
    train = report.training is not None
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS + (TRAIN_CSV_FIELDS if train else ()))
    shapes: dict = {}                            # rows share their shape tuples and receptive-field views:
    views: dict = {}                             # each one's cells are written once

    def shape(s):
        text = shapes.get(s) if type(s) is tuple else None
        if text is None:
            text = "x".join(map(str, s))
            if type(s) is tuple:
                shapes[s] = text
        return text

    def rf_cols(layer):
        got = views.get(id(layer.rf))
        if got is None:
            got = views[id(layer.rf)] = (_rf_cols(layer), layer.rf)    # (the view kept: its id stays its own)
        return got[0]

    rows = []
    for layer in report.layers:
        extra = [layer_values(report, layer)[k] for k in TRAIN_CSV_FIELDS] if train else []
        rows.append([layer.index, layer.name, layer.kind, shape(layer.input_shape), shape(layer.output_shape),
                     layer.params, layer.trainable_params, layer.non_trainable_params, layer.buffers, layer.macs,
                     layer.flops, layer.mults, layer.adds, layer.activation_bytes, layer.param_bytes,
                     *rf_cols(layer), *extra])
    w.writerows(rows)
    t = report.totals
    tr = report.training
    extra = [tr.saved_bytes, tr.backward_input_macs, tr.backward_weight_macs] if train else []
    w.writerow(["", "total", "", "", "", t.params, t.trainable_params, t.non_trainable_params, t.buffers, t.macs,
                t.flops, t.mults, t.adds, t.activation_bytes, t.param_bytes, "", "", "", "", *extra])
    return buf.getvalue()


def to_markdown(report: Report, lang: str = "en") -> str:
    """The table as Markdown: a document for people, so in ``lang`` (its words from the message catalog; the
    English ones are the ``md.*`` templates).  CSV stays English: its header is field names, like JSON's keys."""
    conv = get_convention(report.convention)
    head = ["#"] + [tr(f"md.col.{c}", lang) for c in ("layer", "kind", "output_shape", "params", "macs", "flops",
                                                       "activations", "rf")]
    rows = [["0", report.input_name, "input", units.shape(report.input_shape), "", "", "", f"{report.input_bytes:,}",
             ""]]
    for layer in report.layers:
        rows.append([str(layer.index), layer.name, layer.kind, units.shape(layer.output_shape), f"{layer.params:,}",
                     f"{layer.macs:,}", f"{layer.flops:,}", f"{layer.activation_bytes:,}",
                     cell("rf", units.rf_short(layer.rf), lang)])
    t = report.totals
    rows.append(["", tr("md.total", lang), "", "", f"**{t.params:,}**", f"**{t.macs:,}**", f"**{t.flops:,}**",
                 f"**{t.activation_bytes:,}**", ""])
    layout = conv.layout if lang == "en" else Msg(f"layout.{conv.layout}")
    out = [tr("md.convention", lang, name=conv.name, framework=conv.framework, layout=layout, batch=report.batch,
              dtype=report.dtype), "", "| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if 4 <= i < len(head) - 1 else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += ["", tr("md.totals", lang, trainable=t.trainable_params, non_trainable=t.non_trainable_params,
                   mults=t.mults, adds=t.adds, param_bytes=t.param_bytes), tr("md.legend", lang)]
    if report.training is not None:
        from .training_view import totals_lines
        out += ["", "```"] + totals_lines(report, lang) + ["```"]
    return "\n".join(out) + "\n"
