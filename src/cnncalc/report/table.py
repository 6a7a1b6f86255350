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


#: above this many rows the table is written directly (rich lays out 1-2 ms a row: 10,000 rows took 11 s, a
#: 430-row DenseNet-121 0.5 s): the same text as rich's table when piped (tests/test_table_speed.py), without
#: rich's colours on a terminal
FAST_ROWS = 200


def table_parts(report: Report, columns=DEFAULT_COLUMNS, lang: str = "en"):
    """(title, [(header, justify)], rows): what the table shows, for either renderer."""
    from .localized import cell, header, title_of
    conv = get_convention(report.convention)
    title = (f"cnncalc · convention {conv.name} ({conv.framework}, {conv.layout}) · batch {report.batch} · "
             f"dtype {report.dtype}") if lang == "en" else title_of(report, conv, lang)
    if report.mode:                          # a model the CLI built: which mode it ran in
        title += f" · {report.mode} mode" if lang == "en" else f" · {'训练' if report.mode == 'training' else '推理'}模式"
    heads = [("#", "right"), (header("layer", "Layer", lang), "left")]
    heads += [(header(c, COLUMNS[c][0], lang), "left" if c in ("output_shape", "kernel_shape", "rf", "input_shape")
               else "right") for c in columns]
    train = report.training is not None
    if train:
        from .training_view import layer_values
        heads += [(header("saved_bytes", "Saved (train)", lang), "right"), (header("bwd_macs", "Bwd MACs", lang), "right")]
    inp = {"output_shape": units.shape(report.input_shape), "activation_bytes": units.nbytes(report.input_bytes)}
    first = header("input", "input", lang)
    if report.input_name != "input":         # a named network input (Keras: its InputLayer)
        first = f"{report.input_name} ({first})"
    rows = [["0", first, *[inp.get(c, "") for c in columns], *(("", "") if train else ())]]
    for layer in report.layers:
        if report.source != "spec":          # a module tree: indent by depth, show the class
            short = layer.name.rsplit("/", 1)[-1] if report.source in ("onnx", "keras") and "/" in layer.name \
                else layer.name.rsplit(".", 1)[-1]          # ONNX node names: /layer1/layer1.0/Add
            name = "  " * layer.depth + (short if layer.depth else layer.name) + f" ({layer.kind})"
        else:
            name = layer.name if layer.label or layer.name.startswith(layer.kind) else f"{layer.name} ({layer.kind})"
        if layer.warnings:
            name += " [!]"
        extra = ()
        if train:
            v = layer_values(report, layer)
            extra = (units.nbytes(v["saved_bytes"]),
                     units.count(v["backward_input_macs"] + v["backward_weight_macs"]))
        rows.append([str(layer.index), name, *[cell(c, COLUMNS[c][1](layer), lang) for c in columns], *extra])
    return title, heads, rows


def build_table(report: Report, columns=DEFAULT_COLUMNS, lang: str = "en"):
    from rich import box
    from rich.table import Table
    title, heads, rows = table_parts(report, columns, lang)
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_footer=False)
    for i, (head, justify) in enumerate(heads):
        t.add_column(head, justify=justify, no_wrap=True)
    for row in rows:
        t.add_row(*row)
    return t


def plain_lines(report: Report, columns=DEFAULT_COLUMNS, lang: str = "en") -> list[str]:
    """The same table as plain lines, laid out directly: linear and fast for reports of any size."""
    from rich.cells import cell_len                 # display width: CJK characters take two cells
    title, heads, rows = table_parts(report, columns, lang)
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, (h, _) in enumerate(heads)]

    def line(cells):
        out = []
        for (_, justify), w, c in zip(heads, widths, cells):
            pad = " " * (w - cell_len(c))
            out.append(pad + c if justify == "right" else c + pad)
        return "  " + "   ".join(out)
    head = line([h for h, _ in heads])
    return [title, "", head, " " + "─" * cell_len(head)] + [line(r) for r in rows] + [""]   # rich's header rule


def totals_lines(report: Report, lang: str = "en") -> list[str]:
    if lang != "en":
        from .localized import totals_lines as localized
        return localized(report, lang)
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
    if report.training is not None:
        from .training_view import totals_lines as training_lines
        lines += training_lines(report)
    if report.uncounted_ops:
        lines.append("Uncounted:    " + ", ".join(f"{k} x{v}" for k, v in report.uncounted_ops.items())
                     + " (cnncalc has no formula for these ops: they are NOT in MACs/FLOPs)")
    for w in report.warnings:
        if "uncounted ops:" in w:
            continue
        lines.append(f"[!] {w}")
    return lines


def print_report(report: Report, console=None, columns=None, lang: str = "en") -> None:
    """Print the table and the totals (``lang`` 'zh': headers, totals and warnings in Chinese)."""
    from rich.console import Console

    from ..errors import check_lang
    lang = check_lang(lang)
    columns = columns or (MODEL_COLUMNS if report.source != "spec" else DEFAULT_COLUMNS)
    if len(report.layers) > FAST_ROWS:                # a big table: written directly, not laid out by rich
        import sys
        out = console.file if console is not None else sys.stdout
        out.write("\n".join(plain_lines(report, columns, lang) + totals_lines(report, lang)) + "\n")
        return
    table = build_table(report, columns, lang)
    if console is None:
        console = Console()
        if not console.is_terminal:      # piped: the table's natural width, not 80 columns
            console = Console(width=max(100, natural_width(report, columns, lang)))
    console.print(table)
    for line in totals_lines(report, lang):
        console.print(line, highlight=False, markup=False)


def natural_width(report: Report, columns, lang: str) -> int:
    """The width rich's table takes unconstrained (its ``measure().maximum + 1``), from the directly written lines:
    the same cells and the same layout, about 15 times faster than rich's measuring pass, which lays out every
    cell (tests/test_table_speed.py checks both agree)."""
    from rich.cells import cell_len
    lines = plain_lines(report, columns, lang)
    del lines[3]                                    # the header rule, one cell longer than the rows
    return max(cell_len(line) for line in lines) + 3


def render_text(report: Report, width: int | None = None, columns=None, lang: str = "en") -> str:
    """The table and totals as text (``lang`` 'en' or 'zh')."""
    from ..errors import check_lang
    lang = check_lang(lang)
    columns = columns or (MODEL_COLUMNS if report.source != "spec" else DEFAULT_COLUMNS)
    if len(report.layers) > FAST_ROWS:
        return "\n".join(line.rstrip() for line in plain_lines(report, columns, lang) + totals_lines(report, lang)) + "\n"
    width = width or max(100, natural_width(report, columns, lang))
    from rich.console import Console
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False)
    print_report(report, console, columns, lang)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
