"""Training numbers in every output: the terminal lines, CSV / Markdown columns, JSON keys and explanations."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..formulas import Step
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
    steps = [Step("saved", s.expr, s.value, s.note) for s in d.get("saved_steps", ())]
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
        Step("gradients", f"{n:,} trainable params * {g} B", t.gradient_bytes, "frozen layers: none"),
        Step("optimizer state", _state_expr(t, n, g), t.optimizer_bytes, OPT_STATE[t.optimizer]),
    ]
    if t.buffer_bytes:
        steps.append(Step("buffers", "", t.buffer_bytes, "running statistics"))
    if t.weight_copy_bytes:
        steps.append(Step("half-precision weight copies", f"{n + report.totals.non_trainable_params:,} * 2 B",
                          t.weight_copy_bytes, "autocast casts each weight once per step"))
    steps.append(Step("saved for backward", "", t.saved_bytes, "all that autograd keeps at the end of the forward"))
    steps.append(Step("peak", f"params {t.param_bytes:,} + buffers {t.buffer_bytes:,} + optimizer "
                              f"{t.optimizer_bytes:,}" + (f" + weight copies {t.weight_copy_bytes:,}"
                                                          if t.weight_copy_bytes else "")
                      + f" + gradients so far {t.peak_gradients:,} + activations {t.peak_activations:,}"
                      + (f" + update temporaries {t.peak_temporaries:,}" if t.peak_temporaries else ""),
                      t.peak_bytes, f"{t.peak_phase} at {t.peak_layer}"))
    return steps


def _state_expr(t, n: int, g: int) -> str:
    k = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[t.optimizer]
    if not k:
        return "0"
    return f"{k} * {n:,} params * {g} B" + (" + 4 B per tensor (step)" if t.optimizer.startswith("adam") else "")


def totals_lines(report: Report) -> list[str]:
    t = report.training
    if t is None:
        return []
    fixed = t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.weight_copy_bytes
    dominant = max((("activations", t.peak_activations), ("parameters + gradients + optimizer state",
                                                          fixed + t.peak_gradients)), key=lambda kv: kv[1])[0]
    amp = f", amp {t.amp}" if t.amp else ""
    return [
        f"Training:     one step with {t.optimizer}{amp}: peak {units.nbytes(t.peak_bytes)} "
        f"({t.peak_bytes:,} B) in the {t.peak_phase} at {t.peak_layer}; {dominant} dominate",
        f"              parameters {units.nbytes(t.param_bytes)} + gradients {units.nbytes(t.gradient_bytes)} + "
        f"optimizer state {units.nbytes(t.optimizer_bytes)}"
        + (f" + weight copies {units.nbytes(t.weight_copy_bytes)}" if t.weight_copy_bytes else "")
        + f"; saved for backward {units.nbytes(t.saved_bytes)}",
        f"              backward MACs {t.backward_macs:,} ({units.si(t.backward_macs)}): input gradients "
        f"{t.backward_input_macs:,} + weight gradients {t.backward_weight_macs:,}",
    ]


def to_dict(report: Report) -> dict | None:
    return None if report.training is None else report.training.to_dict()
