"""cnncalc: shapes, parameters, MACs/FLOPs, memory and receptive fields of neural networks -- and why."""
from __future__ import annotations

from .analysis import analyze
from .conventions import CONVENTIONS, get_convention
from .errors import SpecError
from .formulas import (conv_output_length, conv_params, dense_params, pool_output_length, recurrent_params,
                       same_padding, transposed_output_length)
from .report.model import LayerReport, Report, Totals

__version__ = "0.1.0"


def summary(model, input_size=None, **kw) -> Report:
    """Analyse (as :func:`analyze`), print the table and return the report."""
    report = analyze(model, input_size, **kw)
    from .report.table import print_report
    print_report(report)
    return report

__all__ = ["analyze", "summary", "SpecError", "Report", "LayerReport", "Totals", "CONVENTIONS", "get_convention",
           "conv_output_length", "pool_output_length", "transposed_output_length", "same_padding",
           "conv_params", "dense_params", "recurrent_params", "__version__"]
