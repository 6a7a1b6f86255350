"""The exporter: analyse the spec (PyTorch convention), turn each layer into a ``_Step`` (the rules are
the mixins), name the module attributes and forward's variables, and write the class source."""
from __future__ import annotations

import keyword
from typing import Callable, NamedTuple

from ...analysis import analyze_calls
from ...conventions import get_convention
from ...errors import SpecError
from ...i18n import Msg
from ...ops import registry
from ...ops.base import Ctx
from ...spec import load
from .conv_pool import ConvPoolRules
from .dense_norm_activation import DenseNormActivationRules
from .python_source import _ACTIVATIONS, _MODULE_ATTRS, _RESERVED_VARS, _identifier, _r, _Step
from .shape_merge import ShapeMergeRules


class _Layer(NamedTuple):
    """What the rules know of one layer: its call and report row, the op and its bound arguments, the
    input and output shapes, and the helpers ``fail(msg)``, ``module(ctor, exact, wrap)`` and
    ``fused(expr_fn)`` (a Keras-style ``activation=`` applied after the module)."""
    call: object
    layer: object
    op: object
    ctx: Ctx
    a: object
    kind: str
    spelling: str
    x: tuple
    out: tuple
    fail: Callable
    module: Callable
    fused: Callable


class _Exporter(ConvPoolRules, DenseNormActivationRules, ShapeMergeRules):
    def __init__(self, spec, class_name: str = "Net"):
        if not isinstance(class_name, str) or not class_name.isidentifier() or keyword.iskeyword(class_name):
            raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
        self.class_name = class_name
        self.calls = load(spec)
        self.report = analyze_calls(self.calls, convention="pytorch")
        self.conv = get_convention("pytorch")
        self.steps: list[_Step] = []
        attrs: set = set()
        for call, layer in zip(self.calls[1:], self.report.layers):
            step = self.layer(call, layer)
            if step.ctor is not None:
                step.attr = _identifier(layer.name, attrs, _MODULE_ATTRS, "layer_")
            self.steps.append(step)

    # ------------------------------------------------------------------ errors
    def _fail(self, call, layer, msg: str):
        raise SpecError(Msg("err.export.cannot_exported_pytorch", kind=layer.kind, msg=msg), line=call.line, column=call.column,
                        layer=layer.name, fragment=call.text or None)

    # ------------------------------------------------------------------ one layer
    def layer(self, call, layer) -> _Step:
        op = registry.lookup(call.kind, line=call.line, column=call.column, fragment=call.text, layer=layer.name)
        ctx = Ctx(self.conv, call, layer.name, op)
        a = ctx.args = registry.bind(op, call, ctx.fail)
        kind = op.kind
        spelling = registry.norm(call.kind)
        x = layer.input_shapes[0] if layer.input_shapes else layer.input_shape
        out = layer.output_shape
        fail = lambda msg: self._fail(call, layer, msg)  # noqa: E731

        def module(ctor, exact=True, wrap=None):
            def fwd(v, m):
                e = f"{m}({v[0]})"
                return wrap(e) if wrap else e
            return _Step(layer.name, ctor, fwd, exact)

        def fused(expr_fn=None):
            """Keras-style activation= on a conv / dense: applied functionally after the module."""
            act = getattr(a, "activation", None)
            if act in (None, "linear"):
                return expr_fn
            aop = registry.OPS.get(registry.norm(str(act)))
            if aop is None or aop.family != "activation":
                fail(Msg("err.export.unknown_activation", act=repr(act)))
            if aop.kind in ("softmax", "logsoftmax"):
                form = "F.log_softmax({}, dim=1)" if aop.kind == "logsoftmax" else "F.softmax({}, dim=1)"
            elif aop.kind in _ACTIVATIONS:
                form = _ACTIVATIONS[aop.kind][1]
            else:
                fail(Msg("err.export.activation_has_no_functional_form", act=repr(act)))
            return (lambda e: form.format(expr_fn(e))) if expr_fn else form.format

        t = _Layer(call, layer, op, ctx, a, kind, spelling, x, out, fail, module, fused)
        for rules in (self._conv_pool, self._dense_norm_activation, self._shape_merge):
            step = rules(t)
            if step is not None:
                return step
        fail(Msg("err.export.no_pytorch_equivalent_known_this"))

    # ------------------------------------------------------------------ the source
    def source(self) -> str:
        rep = self.report
        calls = self.calls
        in_id = calls[0].output or "input"
        ids = [in_id]
        ins_of = []
        prev = in_id
        for i, call in enumerate(calls[1:], start=1):
            ins = call.inputs if call.inputs is not None else (prev,)
            ins_of.append(tuple(ins))
            prev = call.output or f"t{i}"
            ids.append(prev)
        consumers: dict = {t: [] for t in ids}
        for i, ins in enumerate(ins_of, start=1):
            for t in ins:
                consumers[t].append(i)
        final = ids[-1]
        taken = set(_RESERVED_VARS)
        var = {}
        for p, t in enumerate(ids):
            if consumers[t] == [p + 1] or (t == final and not consumers[t]):
                var[t] = "x"
            elif p == 0:
                var[t] = _identifier(calls[0].label or "x_in", taken, _RESERVED_VARS, "t_")
            else:
                call, layer = calls[p], rep.layers[p - 1]
                var[t] = _identifier(call.extra.get("tensor") or layer.name, taken, _RESERVED_VARS, "t_")
        if len(ids) == 1:
            var[in_id] = "x"
        dtype = "torch.long" if any(rep.layers[i - 1].kind == "embedding" for i in consumers[in_id]) \
            else "torch.float32"
        out_shape = rep.layers[-1].output_shape if rep.layers else rep.input_shape
        t = rep.totals
        lines = [
            f'"""{self.class_name}: generated by cnncalc from a spec, PyTorch conventions (channels-first).',
            "",
            f"Input {rep.input_shape} -> output {tuple(out_shape)}; {t.params:,} parameters, {t.macs:,} MACs.",
            '"""',
            "import torch",
            "import torch.nn.functional as F",
            "from torch import nn",
            "",
            "",
            f"class {self.class_name}(nn.Module):",
            f"    input_shape = {_r(tuple(rep.input_shape))}    # batch first, as analysed",
            f"    input_dtype = {dtype}",
            "",
            "    def __init__(self):",
            "        super().__init__()",
        ]
        for step in self.steps:
            if step.ctor is None:
                continue
            note = f"  # {step.name}" if step.attr != step.name.replace(".", "_") else ""
            lines.append(f"        self.{step.attr} = {step.ctor}{note}")
        if not any(s.ctor for s in self.steps):
            lines.append("        pass")
        arg = var[in_id]
        lines += ["", f"    def forward(self, {arg}):"]
        for i, step in enumerate(self.steps, start=1):
            expr = step.fwd([var[t] for t in ins_of[i - 1]], f"self.{step.attr}" if step.attr else "")
            lines.append(f"        {var[ids[i]]} = {expr}")
        lines.append(f"        return {var[final]}")
        return "\n".join(lines) + "\n"
