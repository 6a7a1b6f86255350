"""The terminal table (rich): one row per layer, a totals block, the convention named."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ..conventions import get_convention
from . import units

if TYPE_CHECKING:      # hints only: model.py imports the renderers (Report.table() ...), not the reverse
    from .model import Report

COLUMNS = {
    "output_shape": ("Output shape", lambda l: units.shape(l.output_shape)),
    "params": ("Params", lambda l: units.count(l.params)),
    "trainable_params": ("Trainable", lambda l: units.count(l.trainable_params)),
    "non_trainable_params": ("Non-trainable", lambda l: units.count(l.non_trainable_params)),
    "macs": ("MACs", lambda l: units.count(l.macs)),
    "flops": ("FLOPs", lambda l: units.count(l.flops)),
    "mults": ("Mults", lambda l: units.count(l.mults)),
    "adds": ("Adds", lambda l: units.count(l.adds)),
    "activation_bytes": ("Activations", lambda l: units.nbytes(l.activation_bytes)),
    "param_bytes": ("Param mem", lambda l: units.nbytes(l.param_bytes)),
    "rf": ("RF size /stride", lambda l: units.rf_short(l.rf)),
    "input_shape": ("Input shape", lambda l: units.shape(l.input_shape) if l.input_shape else "-"),
    "kernel_shape": ("Kernel", lambda l: "-" if l.kernel_shape is None else units.shape(l.kernel_shape)),
}
DEFAULT_COLUMNS = ("output_shape", "params", "macs", "flops", "activation_bytes", "rf")
MODEL_COLUMNS = ("input_shape", "output_shape", "kernel_shape", "params", "macs", "flops", "rf")
ALL_COLUMNS = ("output_shape", "kernel_shape", "params", "trainable_params", "non_trainable_params", "macs", "flops",
               "mults", "adds", "activation_bytes", "param_bytes", "rf")


def build_table(report: Report, columns=DEFAULT_COLUMNS):
    from rich import box
    from rich.table import Table

    conv = get_convention(report.convention)
    title = (f"cnncalc · convention {conv.name} ({conv.framework}, {conv.layout}) · batch {report.batch} · "
             f"dtype {report.dtype}")
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_footer=False)
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("Layer", no_wrap=True)
    for c in columns:
        t.add_column(COLUMNS[c][0], justify="left" if c in ("output_shape", "kernel_shape", "rf", "input_shape")
                     else "right",
                     no_wrap=True)
    inp = {"output_shape": units.shape(report.input_shape), "activation_bytes": units.nbytes(report.input_bytes)}
    t.add_row("0", "input", *[inp.get(c, "") for c in columns])
    for layer in report.layers:
        if report.source != "spec":          # a module tree: indent by depth, show the class
            short = layer.name.rsplit("/", 1)[-1] if report.source == "onnx" and "/" in layer.name \
                else layer.name.rsplit(".", 1)[-1]          # ONNX node names: /layer1/layer1.0/Add
            name = "  " * layer.depth + (short if layer.depth else layer.name) + f" ({layer.kind})"
        else:
            name = layer.name if layer.label or layer.name.startswith(layer.kind) else f"{layer.name} ({layer.kind})"
        if layer.warnings:
            name += " [!]"
        t.add_row(str(layer.index), name, *[COLUMNS[c][1](layer) for c in columns])
    return t


def totals_lines(report: Report) -> list[str]:
    tt = report.totals
    lines = [
        f"Params:       {tt.params:,} ({units.si(tt.params)})  trainable {tt.trainable_params:,}  "
        f"non-trainable {tt.non_trainable_params:,}" + (f"  + buffers {tt.buffers:,}" if tt.buffers else ""),
        f"MACs:         {tt.macs:,} ({units.si(tt.macs)})   mults {tt.mults:,}  adds {tt.adds:,}",
        f"FLOPs:        {tt.flops:,} ({units.si(tt.flops)})",
        f"Memory:       peak {units.nbytes(report.peak_activation_bytes)} of activations (inference; a tensor is "
        f"freed after its last consumer{', as the forward really frees it' if report.source == 'torch' else ''})",
        f"              all layer outputs {units.nbytes(tt.activation_bytes)} + input {units.nbytes(report.input_bytes)};"
        f" parameters {units.nbytes(tt.param_bytes)}"
        + (f" + buffers {units.nbytes(tt.buffer_bytes)}" if tt.buffer_bytes else ""),
        "MACs: multiply-accumulates of conv/dense/recurrent layers (bias excluded; torchvision's 'GFLOPS'). "
        "FLOPs: every floating-point op (see --help).",
    ]
    if report.uncounted_ops:
        lines.append("Uncounted:    " + ", ".join(f"{k} x{v}" for k, v in report.uncounted_ops.items())
                     + " (cnncalc has no formula for these ops: they are NOT in MACs/FLOPs)")
    for w in report.warnings:
        if "uncounted ops:" in w:
            continue
        lines.append(f"[!] {w}")
    return lines


def print_report(report: Report, console=None, columns=None) -> None:
    from rich.console import Console
    columns = columns or (MODEL_COLUMNS if report.source != "spec" else DEFAULT_COLUMNS)
    table = build_table(report, columns)
    if console is None:
        console = Console()
        if not console.is_terminal:      # piped: the table's natural width, not 80 columns
            console = Console(width=max(100, _natural_width(table)))
    console.print(table)
    for line in totals_lines(report):
        console.print(line, highlight=False, markup=False)


def _natural_width(table) -> int:
    from rich.console import Console
    probe = Console(width=1000, file=io.StringIO())
    return probe.measure(table).maximum + 1


def render_text(report: Report, width: int | None = None, columns=None) -> str:
    columns = columns or (MODEL_COLUMNS if report.source != "spec" else DEFAULT_COLUMNS)
    width = width or max(100, _natural_width(build_table(report, columns)))
    from rich.console import Console
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False)
    print_report(report, console, columns)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
