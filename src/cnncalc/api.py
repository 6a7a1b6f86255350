"""The public entry point: ``analyze`` takes any network cnncalc reads and dispatches on what it is.

It sits above the core (spec, ops, analysis, report) and the front-ends (Keras, PyTorch, ONNX), which it
imports when needed; the core never imports a front-end.
"""
from __future__ import annotations

from .analysis import analyze_calls
from .errors import SpecError
from .report.model import Report
from .spec import load

__all__ = ["analyze"]


def _is_torch_module(obj) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def analyze(spec, input_size=None, *, convention: str = "pytorch", batch: int | None = None,
            dtype: str = "float32", input_data=None, dtypes=None, depth: int = 3, kwargs: dict | None = None) -> Report:
    """Analyse a network: text, ``zoo:NAME``, a spec file (.txt/.yaml/.json), a list of layers, a
    ``torch.nn.Module`` (with ``input_size=(N, C, H, W)`` or ``input_data=``), or an ONNX model (a ``.onnx``
    path or an ``onnx.ModelProto``; ``input_size`` binds its dynamic dimensions, ``depth`` groups its nodes).

    For specs, ``batch`` defaults to the input's ``batch=`` or 1; every reported shape starts with it.
    For torch models, ``input_size`` may be a list of sizes (several inputs), ``dtypes`` gives their dtypes,
    ``input_data`` a tensor, a tuple/list of tensors or a dict of keyword tensors, ``kwargs`` extra keyword
    arguments, and ``depth`` how deep the module tree is shown.  Nothing is computed on real data.
    """
    from .frontends.keras import analyze_keras, is_keras_source
    if is_keras_source(spec):             # first: on the torch backend a Keras model is an nn.Module too
        return analyze_keras(spec, batch=batch, dtype=dtype)
    if _is_torch_module(spec):
        from .frontends.torch import analyze_module
        return analyze_module(spec, input_size, input_data=input_data, dtypes=dtypes, depth=depth, kwargs=kwargs)
    from .frontends.onnx import is_onnx_source
    if is_onnx_source(spec):
        from .frontends.onnx import analyze_onnx
        return analyze_onnx(spec, input_size, depth=depth)
    if input_size is not None:
        raise SpecError("input_size= is for torch and ONNX models; a spec gives its input with input(...)")
    import gc
    enabled = gc.isenabled()
    gc.disable()            # many small acyclic objects: the collector only adds super-linear time
    try:
        return analyze_calls(load(spec), convention=convention, batch=batch, dtype=dtype)
    finally:
        if enabled:
            gc.enable()
