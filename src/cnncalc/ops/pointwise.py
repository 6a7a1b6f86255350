"""Pointwise arithmetic: one table of FLOPs per element, one factory, for every front-end.

The activation layers of the text spec (ops/activation.py), the aten elementwise ops of the torch front-end and
the elementwise nodes of ONNX all take their FLOPs per element from here (the pattern of fvcore's
``elementwise_flop_counter``): each of + - * / max min compare exp log tanh erf sqrt counts 1.
"""
from __future__ import annotations

from dataclasses import replace
from math import prod

from ..formulas import Step
from ..i18n import Glossed, Msg
from .registry import KEEP, LayerOut, Param, register

#: name -> (FLOPs per element, how); activations first (they are also layers of the text spec)
ACTIVATIONS = {
    "relu": (1, "max(x, 0)"),
    "relu6": (2, "min(max(x, 0), 6)"),
    "leakyrelu": (2, "compare, multiply"),
    "elu": (4, "compare, exp, subtract, multiply"),
    "selu": (5, "compare, exp, subtract, 2 multiplies"),
    "gelu": (5, "x*0.5*(1 + erf(x/sqrt 2)): divide, erf, add, 2 multiplies"),
    "sigmoid": (4, "1/(1 + exp(-x)): negate, exp, add, divide"),
    "tanh": (1, "tanh"),
    "silu": (5, "x*sigmoid(x): sigmoid (4) + multiply"),
    "hardswish": (5, "x*relu6(x + 3)/6: add, max, min, multiply, divide"),
    "hardsigmoid": (4, "relu6(x + 3)/6: add, max, min, divide"),
    "softplus": (3, "log(1 + exp(x)): exp, add, log"),
    "mish": (5, "x*tanh(softplus(x)): softplus (3), tanh, multiply"),
    "softsign": (3, "x/(1 + |x|): abs, add, divide"),
}

_ONE = {name: (1, how) for name, how in (
    ("add", "one add"), ("sub", "one subtract"), ("mul", "one multiply"), ("div", "one divide"),
    ("neg", "negate"), ("abs", "absolute value"), ("sign", "sign"), ("reciprocal", "one divide"),
    ("exp", "exp"), ("log", "log"), ("sqrt", "sqrt"), ("rsqrt", "reciprocal sqrt"), ("pow", "power"),
    ("sin", "sine"), ("cos", "cosine"), ("erf", "erf"), ("maximum", "one max"), ("minimum", "one min"),
    ("where", "one select"), ("clamp_min", "one max"), ("clamp_max", "one min"), ("compare", "one compare"),
    ("floor", "round down"), ("ceil", "round up"), ("round", "round"), ("mod", "remainder"))}

#: every pointwise op: name -> (FLOPs per element, how)
POINTWISE = {**ACTIVATIONS, **_ONE,
             "clamp": (2, "max, min"), "hardtanh": (2, "max, min"), "prelu": (2, "compare, multiply"),
             "addcmul": (2, "multiply, add"), "addcdiv": (2, "divide, add"),
             "log_sigmoid": (4, "log(1/(1 + exp(-x))): negate, exp, add, log")}


def pointwise(name: str, elements: int, per: int | None = None) -> LayerOut:
    """FLOPs of one pointwise op over ``elements`` outputs, with its worked step (output shape left empty)."""
    table = POINTWISE.get(name)
    p = table[0] if per is None else per
    flops = elements * p

    def explain():                                     # made when the explanation is read
        note = f"{name}: {table[1]}" if table is not None and table[0] == p else name
        return (Step("flops", f"{elements:,} elements * {p}", flops, note),)
    return LayerOut((), flops=flops, steps=explain, call=(name, "pointwise", {}))


def reduction(name: str, elements: int) -> LayerOut:
    """A reduction (mean, sum, max, ...) reads every input element once: one FLOP each."""
    return LayerOut((), flops=elements, steps=lambda: (Step("flops", Msg("op.input_elements", elements=elements),
                                                            elements, Msg("op.one_add_compare_per_element",
                                                                          name=name)),),
                    call=(name, "reduction", {}))


#: arithmetic of a tensor and a constant number (Keras `x + 3.0`, an ops.numpy layer of the config)
SCALAR_OPS = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "mod")


@register("scalar", "scalarop", params=(Param("op"), Param("value", None)), family="pointwise")
def scalar(ctx, x, a):
    """A tensor and a constant number, elementwise (x + 3, x * (1/6), max(x, 0.5)): 1 FLOP per element."""
    op = ctx.choice(a, "op", SCALAR_OPS)
    if a.value is not None and (isinstance(a.value, bool) or not isinstance(a.value, (int, float))):
        ctx.fail(Msg("err.op.value_must_number", value=repr(a.value)), "value")
    out = pointwise(op, prod(x))
    steps = out.steps if a.value is None else tuple(replace(st, note=Msg("op.constant", note=Glossed(st.note), value=repr(a.value)))
                                                    for st in out.steps)
    return LayerOut(tuple(x), flops=out.flops, rf=KEEP, steps=steps)
