"""The public entry point: ``analyze`` takes any network cnncalc reads and dispatches on what it is.

It sits above the core (spec, ops, analysis, report) and the front-ends (Keras, PyTorch, ONNX), which it
imports when needed; the core never imports a front-end.
"""
from __future__ import annotations

from .analysis import analyze_calls
from .report.model import Report
from .spec import load

__all__ = ["analyze"]


def _is_torch_module(obj) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def _is_subclassed(model) -> bool:
    from .frontends.keras import is_subclassed
    return is_subclassed(model)


def analyze(spec, input_size=None, *, convention: str = "pytorch", batch: int | None = None,
            dtype: str = "float32", input_data=None, dtypes=None, depth: int = 3, kwargs: dict | None = None,
            train: bool = False, optimizer: str = "sgd", amp: str | None = None) -> Report:
    """Analyse a network: text, ``zoo:NAME``, a spec file (.txt/.yaml/.json), a list of layers, a
    ``torch.nn.Module`` (with ``input_size=(N, C, H, W)`` or ``input_data=``), or an ONNX model (a ``.onnx``
    path or an ``onnx.ModelProto``; ``input_size`` binds its dynamic dimensions, ``depth`` groups its nodes).

    For specs, ``batch`` defaults to the input's ``batch=`` or 1; every reported shape starts with it.
    For torch models, ``input_size`` may be a list of sizes (several inputs), ``dtypes`` gives their dtypes,
    ``input_data`` a tensor, a tuple/list of tensors or a dict of keyword tensors, ``kwargs`` extra keyword
    arguments, and ``depth`` how deep the module tree is shown.  Nothing is computed on real data.

    ``train=True`` adds one training step (``report.training``): saved activations, gradients, optimizer state
    (``optimizer`` sgd / momentum / adam / adamw), the backward's MACs and the step's peak memory; ``amp``
    (fp16 / bf16) for mixed precision.
    """
    if train:
        from .training import check_optimizer
        check_optimizer(optimizer, amp)
    from .frontends.detect import is_keras_source, is_onnx_source
    if is_keras_source(spec) and not (input_size is not None and _is_torch_module(spec) and _is_subclassed(spec)):
        from .frontends.keras import analyze_keras
        # first: on the torch backend a Keras model is an nn.Module too (a subclassed one, with no layer graph,
        # is traced as one when input_size is given)
        report = analyze_keras(spec, batch=batch, dtype=dtype)
        if train:
            from .frontends.keras import calls_from_config, read_config
            return _with_training(calls_from_config(read_config(spec)), report, optimizer, amp)
        return report
    if _is_torch_module(spec):
        from .frontends.torch import analyze_module
        return analyze_module(spec, input_size, input_data=input_data, dtypes=dtypes, depth=depth, kwargs=kwargs,
                              train=train, optimizer=optimizer, amp=amp)
    if is_onnx_source(spec):
        from .frontends.onnx import analyze_onnx
        if train:
            from .frontends.onnx.analyze import analyze_onnx_training
            return analyze_onnx_training(spec, input_size, depth=depth, optimizer=optimizer, amp=amp)
        return analyze_onnx(spec, input_size, depth=depth)
    import gc
    enabled = gc.isenabled()
    gc.disable()            # many small acyclic objects: the collector only adds super-linear time
    try:
        calls = load(spec, compact=input_size is None and not train)    # (repeated blocks as stamps)
        if input_size is not None:         # a spec without input(...), e.g. a pasted nn.Sequential: batch first
            from .spec.paste import with_input
            calls = with_input(calls, input_size)
        if train:
            from .train_spec import analyze_training
            return analyze_training(calls, convention=convention, batch=batch, dtype=dtype, optimizer=optimizer,
                                    amp=amp)
        return analyze_calls(calls, convention=convention, batch=batch, dtype=dtype)
    finally:
        if enabled:
            gc.enable()


def _with_training(calls, report: Report, optimizer: str, amp) -> Report:
    from dataclasses import replace

    from .train_spec import train_report
    return replace(report, training=train_report(calls, report, optimizer=optimizer, amp=amp))
