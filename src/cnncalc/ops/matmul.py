"""Matrix products and scaled dot-product attention on explicit operands.

``matmul`` multiplies two tensors as ``numpy.matmul`` does (batch dims broadcast; a 1-d operand is a vector);
``scaled_dot_product_attention`` is softmax(Q K^T / sqrt(E)) V over (..., L, E), (..., S, E), (..., S, Ev).
Both are layers of the text spec (``matmul`` of two named tensors) and the definitions the torch front-end
(aten ``mm`` / ``bmm`` / ``addmm`` / ``baddbmm`` / SDPA kernels) and the ONNX front-end (``MatMul``, ``Gemm``,
``Attention``) translate to.
"""
from __future__ import annotations

from math import prod

from ..formulas import Step
from ..i18n import Msg
from .base import Ctx, fmt_shape
from .registry import GLOBAL, LayerOut, Param, register


def _batch(ctx: Ctx, a, b, what: str) -> tuple:
    rank = max(len(a), len(b))
    out = []
    for d in range(rank):
        x = a[d - rank + len(a)] if d - rank + len(a) >= 0 else 1
        y = b[d - rank + len(b)] if d - rank + len(b) >= 0 else 1
        if x != y and 1 not in (x, y):
            ctx.fail(Msg("err.op.batch_dims_do_not_broadcast", what=what, a=fmt_shape(a), b=fmt_shape(b)))
        out.append(max(x, y))
    return tuple(out)


def product_cost(batch: int, m: int, k: int, n: int, bias: bool) -> tuple[int, int, tuple]:
    """(macs, adds, steps) of ``batch`` products (m, k) @ (k, n), plus a bias add per output when ``bias``."""
    outputs = batch * m * n
    macs = outputs * k
    adds = outputs * (k - 1) + (outputs if bias else 0)
    btxt = f"{batch:,} * " if batch != 1 else ""
    steps = (
        Step("macs", f"{btxt}({m} x {n}) outputs * {k}", macs, Msg("op.each_output_dot_product_length")),
        Step("mults", f"{outputs:,} * {k}", macs),
        Step("adds", f"{outputs:,} * ({k} - 1{' + 1 bias' if bias else ''})", adds),
    )
    return macs, adds, steps


@register("matmul", "mm", "bmm", "batchmatmul",
          params=(Param("bias", False, (), "add a bias per output (aten addmm / baddbmm, ONNX Gemm with C)"),),
          family="linear", inputs=2, min_inputs=2)
def matmul(ctx: Ctx, shapes, a):
    """A @ B with numpy.matmul semantics: MACs = batch * m * n * k."""
    if len(shapes) != 2:
        ctx.fail(Msg("err.op.matmul_takes_two_inputs", shapes=len(shapes)))
    x, y = shapes
    if not x or not y:
        ctx.fail(Msg("err.op.matmul_needs_tensors_rank", x=fmt_shape(x), y=fmt_shape(y)))
    xv, yv = len(x) == 1, len(y) == 1
    x2 = (1,) + tuple(x) if xv else tuple(x)
    y2 = tuple(y) + (1,) if yv else tuple(y)
    m, k = x2[-2], x2[-1]
    k2, n = y2[-2], y2[-1]
    if k != k2:
        ctx.fail(Msg("err.op.matmul_inner_sizes_differ", x=fmt_shape(x), y=fmt_shape(y), k=k, k2=k2))
    batch = _batch(ctx, x2[:-2], y2[:-2], "matmul")
    out = batch + (() if xv else (m,)) + (() if yv else (n,))
    bias = ctx.bool_(a, "bias")
    macs, adds, steps = product_cost(prod(batch), m, k, n, bias)
    return LayerOut(out, macs=macs, mults=macs, adds=adds, flops=macs + adds, rf=GLOBAL, steps=steps)


def attention_core(bh: int, L: int, S: int, E: int, Ev: int) -> tuple[int, int, int, tuple]:
    """(macs, adds, softmax FLOPs, steps) of softmax(Q K^T) V for ``bh`` (batch * heads) query blocks."""
    scores, context = bh * L * S * E, bh * L * S * Ev
    macs = scores + context
    adds = bh * L * S * (E - 1) + bh * L * Ev * (S - 1)
    soft = bh * L * (5 * S - 2)
    steps = (
        Step("macs", f"QK^T {bh:,}*{L}*{S}*{E} + AV {bh:,}*{L}*{S}*{Ev}", macs,
             Msg("op.batch_x_head_blocks_queries", bh=bh, L=L, S=S)),
        Step("mults", "macs", macs),
        Step("adds", f"{bh * L * S:,}*({E} - 1) + {bh * L * Ev:,}*({S} - 1)", adds),
        Step("flops", f"mults {macs:,} + adds {adds:,} + softmax {bh * L:,} rows * (5*{S} - 2)",
             macs + adds + soft),
    )
    return macs, adds, soft, steps


@register("scaled_dot_product_attention", "sdpa", params=(), family="attention", inputs=3, min_inputs=3)
def sdpa(ctx: Ctx, shapes, a):
    """softmax(Q K^T / sqrt(E)) V: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev)."""
    if len(shapes) != 3:
        ctx.fail(Msg("err.op.scaled_dot_product_attention_takes", shapes=len(shapes)))
    q, k, v = shapes
    if min(len(q), len(k), len(v)) < 2 or q[-1] != k[-1] or k[-2] != v[-2]:
        ctx.fail(Msg("err.op.query_key_value_do_not", q=fmt_shape(q), k=fmt_shape(k), v=fmt_shape(v)))
    *b, L, E = q
    S, Ev = k[-2], v[-1]
    batch = tuple(b)                  # grouped-query attention: fewer key/value heads, shared by the queries
    macs, adds, soft, steps = attention_core(prod(batch), L, S, E, Ev)
    return LayerOut(batch + (L, Ev), macs=macs, mults=macs, adds=adds, flops=macs + adds + soft, rf=GLOBAL,
                    steps=steps)
