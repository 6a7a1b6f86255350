"""cnncalc: shapes, parameters, MACs/FLOPs, memory and receptive fields of neural networks -- and why."""
from __future__ import annotations

from .api import analyze
from .conventions import CONVENTIONS, get_convention
from .errors import SpecError
from .formulas import (conv_output_length, conv_params, dense_params, pool_output_length, recurrent_params,
                       same_padding, transposed_output_length)
from .report.model import LayerReport, Report, Totals

__version__ = "0.1.0"


def to_spec(model, input_size, **kw) -> str:
    """A text spec for a torch model expressible in the spec language (sequential and graph CNNs)."""
    from .frontends.torch_spec import to_spec as _to_spec
    return _to_spec(model, input_size, **kw)


def to_pytorch(spec, **kw) -> str:
    """The Python source of an ``nn.Module`` equivalent to a spec (pytorch convention)."""
    from .export.pytorch import to_pytorch as _to_pytorch
    return _to_pytorch(spec, **kw)


def solve(spec, targets=(), **kw):
    """Solve a spec's ``?`` unknowns for targets (see :func:`cnncalc.solver.solve`): ``cnncalc.solve(
    "input(3, 224, 224) | c: conv2d(64, 7, stride=2, padding=?)", ["c: 112x112"]).best.values`` is
    ``{'c.padding': 3}``; ``max_params='5M'``, ``max_macs='1G'``, ``fit='8GiB'``, ``batch='?'``, ``ranges``."""
    from .solver import solve as _solve
    return _solve(spec, targets, **kw)


def summary(model, input_size=None, **kw) -> Report:
    """Analyse (as :func:`analyze`), print the table and return the report."""
    report = analyze(model, input_size, **kw)
    from .report.table import print_report
    print_report(report)
    return report

__all__ = ["analyze", "summary", "solve", "to_spec", "to_pytorch", "SpecError", "Report", "LayerReport", "Totals", "CONVENTIONS", "get_convention",
           "conv_output_length", "pool_output_length", "transposed_output_length", "same_padding",
           "conv_params", "dense_params", "recurrent_params", "__version__"]
