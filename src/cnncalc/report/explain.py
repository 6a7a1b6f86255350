"""Explanations: every number's formula with the values put in, in the seeds' style."""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from ..conventions import get_convention
from ..errors import check_lang
from ..formulas import Step
from ..i18n import Msg, render
from . import units

if TYPE_CHECKING:      # hints only: model.py imports the renderers (Report.table() ...), not the reverse
    from .model import LayerReport, Report

RULES = {
    "pytorch": "conv and pool round down (floor); pool ceil_mode drops a window that starts in the right padding; "
               "'same' needs stride 1",
    "keras": "'valid': ceil((L - k_eff + 1)/s); 'same': ceil(L/s) with the odd pad pixel at the bottom/right",
    "caffe": "conv rounds down; pooling rounds up, then drops a window starting in the padding (pad > 0)",
    "onnx": "explicit pads round down (ceil with ceil_mode); auto_pad SAME_UPPER/SAME_LOWER: ceil(L/s)",
}


def layer_lines(report: Report, layer: LayerReport, lang: str = "en") -> list[str]:
    """One layer's explanation: its steps, memory and receptive field, in ``lang`` ('en' or 'zh')."""
    lang = check_lang(lang)
    nb = report.dtype_bytes
    head = (f"[{layer.index}] {layer.name} = {layer.text or layer.kind}    "
            f"{units.shape(layer.input_shape)} -> {units.shape(layer.output_shape)}")
    lines = [head]
    lines += [f"    {s.render(lang)}" for s in layer.steps]
    n = prod(layer.output_shape)
    mem = [Step("activation_bytes", Msg("expr.act_bytes", dims=" * ".join(map(str, layer.output_shape)), nb=nb,
                                        dtype=report.dtype), layer.activation_bytes)]
    if layer.params:
        mem.append(Step("param_bytes", f"{layer.params:,} * {nb}", layer.param_bytes))
    if layer.buffers:
        mem.append(Step("buffer_bytes", Msg("expr.buffer_bytes", n=f"{layer.buffers - 1:,}", nb=nb),
                        layer.buffer_bytes))
    del n
    lines += [f"    {s.render(lang)}" for s in mem]
    lines += [f"    {render(s, lang)}" for s in layer.rf_steps]
    if report.training is not None:
        from .training_view import layer_steps
        lines += [f"    {s.render(lang)}" for s in layer_steps(report, layer)]
    lines += [f"    {render(Msg('explain.warning', w=w), lang)}" for w in layer.warnings]
    return lines


def explain(report: Report, layer=None, lang: str = "en") -> str:
    """All layers, or one (index or name); ``lang`` 'zh' writes it in Chinese with the seeds' formulas."""
    lang = check_lang(lang)
    conv = get_convention(report.convention)
    out = [render(Msg("explain.convention", name=conv.name, framework=conv.framework,
                      rules=Msg(f"rules.{conv.name}")), lang),
           render(Msg("explain.input", shape=units.shape(report.input_shape), layout=Msg(f"layout.{conv.layout}"),
                      dtype=report.dtype), lang), ""]
    layers = report.layers if layer is None else [report[layer]]
    for lay in layers:
        out += layer_lines(report, lay, lang)
        out.append("")
    if layer is None:
        t = report.totals
        parts = [f"{lay.params:,}" for lay in report.layers if lay.params]
        summed = " + ".join(parts) + " = " if len(parts) > 1 else ""
        out.append(render(Msg("explain.totals", summed=summed, params=f"{t.params:,}", macs=f"{t.macs:,}",
                              flops=f"{t.flops:,}"), lang))
        if report.training is not None:
            from .training_view import summary_steps
            tr = report.training
            amp = f", amp {tr.amp}" if tr.amp else ""
            out += ["", render(Msg("explain.training", optimizer=tr.optimizer, amp=amp), lang)]
            out += [f"    {s.render(lang)}" for s in summary_steps(report)]
            out.append("    " + render(Msg("explain.backward_total", i=f"{tr.backward_input_macs:,}",
                                           w=f"{tr.backward_weight_macs:,}", total=f"{tr.backward_macs:,}"), lang))
    return "\n".join(out).rstrip() + "\n"
