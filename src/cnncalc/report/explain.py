"""Explanations: every number's formula with the values put in, in the seeds' style."""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from ..conventions import get_convention
from ..formulas import Step
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


def layer_lines(report: Report, layer: LayerReport) -> list[str]:
    nb = report.dtype_bytes
    head = (f"[{layer.index}] {layer.name} = {layer.text or layer.kind}    "
            f"{units.shape(layer.input_shape)} -> {units.shape(layer.output_shape)}")
    lines = [head]
    lines += [f"    {s}" for s in layer.steps]
    n = prod(layer.output_shape)
    mem = [Step("activation_bytes", f"{' * '.join(map(str, layer.output_shape))} * {nb} bytes ({report.dtype})",
                layer.activation_bytes)]
    if layer.params:
        mem.append(Step("param_bytes", f"{layer.params:,} * {nb}", layer.param_bytes))
    if layer.buffers:
        mem.append(Step("buffer_bytes", f"{layer.buffers - 1:,} * {nb} + 8 (int64 num_batches_tracked)",
                        layer.buffer_bytes))
    del n
    lines += [f"    {s}" for s in mem]
    lines += [f"    {s}" for s in layer.rf_steps]
    lines += [f"    warning: {w}" for w in layer.warnings]
    return lines


def explain(report: Report, layer=None) -> str:
    """All layers, or one (index or name)."""
    conv = get_convention(report.convention)
    out = [f"Convention {conv.name} ({conv.framework}): {RULES[conv.name]}.",
           f"Input {units.shape(report.input_shape)} ({conv.layout}, batch first), dtype {report.dtype}.", ""]
    layers = report.layers if layer is None else [report[layer]]
    for lay in layers:
        out += layer_lines(report, lay)
        out.append("")
    if layer is None:
        t = report.totals
        parts = [f"{lay.params:,}" for lay in report.layers if lay.params]
        summed = " + ".join(parts) + " = " if len(parts) > 1 else ""
        out.append(f"Totals are sums over the layers: params = {summed}{t.params:,}; macs = {t.macs:,}; "
                   f"flops = {t.flops:,}")
    return "\n".join(out).rstrip() + "\n"
