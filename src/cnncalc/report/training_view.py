"""Training numbers in every output: the terminal lines, CSV / Markdown columns, JSON keys and explanations."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..formulas import Step
from ..i18n import Msg, tr
from ..training import saved_steps_of
from . import units

if TYPE_CHECKING:
    from .model import LayerReport, Report

TRAIN_CSV_FIELDS = ("saved_bytes", "backward_input_macs", "backward_weight_macs")
OPT_STATE = {"sgd": "none", "momentum": "1 x params (momentum buffer)",
             "adam": "2 x params (exp_avg, exp_avg_sq) + a step counter per tensor",
             "adamw": "2 x params (exp_avg, exp_avg_sq) + a step counter per tensor"}


def layer_values(report: Report, layer: LayerReport) -> dict:
    t = report.training
    d = (t.per_layer.get(layer.name) or {}) if t is not None else {}
    return {"saved_bytes": d.get("saved_bytes", 0), "backward_input_macs": d.get("input_macs", 0),
            "backward_weight_macs": d.get("weight_macs", 0), "backward_input_flops": d.get("input_flops", 0),
            "backward_weight_flops": d.get("weight_flops", 0)}


def layer_steps(report: Report, layer: LayerReport) -> list[Step]:
    """'saved for backward ...', the backward MACs of the layer."""
    t = report.training
    if t is None:
        return []
    d = t.per_layer.get(layer.name) or {}
    steps = [Step("saved", s.expr, s.value, s.note) for s in saved_steps_of(d)]
    if d.get("input_macs"):
        steps.append(Step("backward input_macs", "forward macs (a transposed product)", d["input_macs"],
                          "gradient of the input"))
    elif layer.macs and not d.get("input_macs"):
        steps.append(Step("backward input_macs", "", 0, "no input gradient: nothing before needs one"))
    if d.get("weight_macs"):
        steps.append(Step("backward weight_macs", "forward macs", d["weight_macs"], "gradient of the weights"))
    return steps


def summary_steps(report: Report) -> list[Step]:
    """The peak of a training step as a sum, and the terms it adds."""
    t = report.training
    n = report.totals.trainable_params
    g = 4 if t.amp else report.dtype_bytes
    steps = [
        Step("parameters", "", t.param_bytes, "all parameters, float32 master weights" if t.amp else
             "all parameters"),
        Step("gradients", Msg("expr.grads", n=f"{n:,}", g=g), t.gradient_bytes, "frozen layers: none"),
        Step("optimizer state", _state_expr(t, n, g), t.optimizer_bytes, OPT_STATE[t.optimizer]),
    ]
    if t.buffer_bytes:
        steps.append(Step("buffers", "", t.buffer_bytes, "running statistics"))
    if t.weight_copy_bytes:
        steps.append(Step("half-precision weight copies", f"{n + report.totals.non_trainable_params:,} * 2 B",
                          t.weight_copy_bytes, "autocast casts each weight once per step"))
    steps.append(Step("saved for backward", "", t.saved_bytes, "all that autograd keeps at the end of the forward"))
    steps.append(Step("peak", Msg("expr.peak", params=f"{t.param_bytes:,}", buffers=f"{t.buffer_bytes:,}",
                                  opt=f"{t.optimizer_bytes:,}", grads=f"{t.peak_gradients:,}",
                                  acts=f"{t.peak_activations:,}",
                                  copies=Msg("expr.peak_copies", n=f"{t.weight_copy_bytes:,}")
                                  if t.weight_copy_bytes else "",
                                  temps=Msg("expr.peak_temps", n=f"{t.peak_temporaries:,}")
                                  if t.peak_temporaries else ""),
                      t.peak_bytes, Msg("note.peak_at", phase=Msg(f"phase.{t.peak_phase}"), layer=t.peak_layer)))
    return steps


def _state_expr(t, n: int, g: int) -> str:
    k = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[t.optimizer]
    if not k:
        return "0"
    return Msg("expr.state", k=k, n=f"{n:,}", g=g,
               step=Msg("expr.state_step") if t.optimizer.startswith("adam") else "")


def totals_lines(report: Report, lang: str = "en") -> list[str]:
    t = report.training
    if t is None:
        return []
    fixed = t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.weight_copy_bytes
    dominant = Msg("training.activations") if t.peak_activations > fixed + t.peak_gradients else \
        Msg("training.fixed")
    amp = f", amp {t.amp}" if t.amp else ""
    copies = Msg("training.copies", n=units.nbytes(t.weight_copy_bytes)) if t.weight_copy_bytes else ""
    return [
        tr("totals.training", lang, optimizer=t.optimizer, amp=amp, peak=units.nbytes(t.peak_bytes),
           peak_b=f"{t.peak_bytes:,}", phase=Msg(f"phase.{t.peak_phase}"), layer=t.peak_layer, dominant=dominant),
        tr("totals.training_terms", lang, params=units.nbytes(t.param_bytes), grads=units.nbytes(t.gradient_bytes),
           opt=units.nbytes(t.optimizer_bytes), copies=copies, saved=units.nbytes(t.saved_bytes)),
        tr("totals.training_bwd", lang, total=f"{t.backward_macs:,}", si=units.si(t.backward_macs),
           i=f"{t.backward_input_macs:,}", w=f"{t.backward_weight_macs:,}"),
    ]


def to_dict(report: Report) -> dict | None:
    return None if report.training is None else report.training.to_dict()
