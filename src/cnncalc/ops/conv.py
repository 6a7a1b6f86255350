"""Convolutions: conv1d/2d/3d, depthwise, separable and transposed, built by one factory per family."""
from __future__ import annotations

from functools import lru_cache
from math import gcd, prod

from ..formulas import Step, conv_length_step, floor_sum, keff, same_padding_step, transposed_length_step
from ..i18n import Msg
from .base import DIM_NAMES, Ctx, fmt_shape
from .registry import RF, LayerOut, Param, register

_COMMON = (
    Param("stride", 1, ("strides", "subsample")),
    Param("padding", 0, ("pad", "border_mode")),
    Param("dilation", 1, ("dilation_rate",)),
)
_TAIL = (
    Param("bias", True, ("use_bias", "bias_term")),
    Param("in_channels", None, ("in_features",), "checked against the input's channels"),
    Param("padding_mode", "zeros", (), "accepted (sizes do not depend on it)"),
    Param("activation", None, (), "Keras: a fused activation, counted as a separate op"),
)


def _kernel_shape(ctx: Ctx, c_in_per_group: int, c_out: int, k: tuple) -> tuple:
    return tuple(k) + (c_in_per_group, c_out) if ctx.conv.channels_last else (c_out, c_in_per_group) + tuple(k)


def _spatial_out(ctx: Ctx, a, spatial, k, s, d, causal_ok=False):
    """Output spatial size and steps for a (non-transposed) convolution."""
    word, pads = ctx.conv_pads(a, spatial, k, s, d, causal_ok=causal_ok)
    names = DIM_NAMES[len(spatial)]
    steps, out = [], []
    for dim, L, k_, s_, d_, (pb, pa) in zip(names, spatial, k, s, d, pads):
        if word in ("same", "same_upper", "same_lower") and ctx.conv.name != "pytorch":
            steps.append(same_padding_step(dim, L, k_, s_, d_, lower=word == "same_lower"))
        st = conv_length_step(dim, L, k_, s_, pb, pa, d_, ctx.conv, word)
        if st.value < 1:
            ke = keff(k_, d_)
            ctx.fail(Msg("err.kernel_too_large", k=k_, dilated=Msg("frag.dilated", ke=ke) if d_ > 1 else "",
                         dim=dim, L=L, pb=pb, pa=pa, total=L + pb + pa, ke=ke, shape=fmt_shape(spatial)),
                     "kernel_size")
        steps.append(st)
        out.append(st.value)
    return tuple(out), pads, steps


def _check_in_channels(ctx: Ctx, a, c: int):
    ctx.check_declared(a, "in_channels", c, lambda: Msg("err.in_channels", given=a.in_channels, c=c))


@lru_cache(maxsize=1024)
def _params_note(ktxt: str, cg: int, F: int, grouped: bool, bias: bool) -> Msg:
    return Msg("note.conv_params", k=ktxt, c=cg, f=F, per_group=Msg("frag.per_group") if grouped else "",
               bias=Msg("frag.plus_bias") if bias else "")


def _conv_costs(n_out_elems: int, k_per_out: int, bias: bool):
    macs = n_out_elems * k_per_out
    adds = n_out_elems * (k_per_out - 1 + (1 if bias else 0))
    return macs, macs, adds


def _cost_steps(prefix, n, c_out, out, k_per_out, kdesc, bias, macs, adds):
    outs = n * c_out * prod(out)
    return [
        Step(f"{prefix}macs", Msg("expr.conv_macs", outs=f"{outs:,}", kdesc=kdesc, per=k_per_out), macs,
             Msg("note.conv_macs")),
        Step(f"{prefix}mults", f"{outs:,} * {k_per_out}", macs),
        Step(f"{prefix}adds", Msg("expr.adds", outs=f"{outs:,}", per=k_per_out,
                                  bias=Msg("frag.plus_1_bias") if bias else ""), adds),
    ]


def _grouped_conv_args(ctx: Ctx, x, a, n: int):
    """The validated arguments shared by convolutions and transposed convolutions."""
    N, C, spatial = ctx.split(x, n)
    _check_in_channels(ctx, a, C)
    F = ctx.int_(a, "filters")
    k = ctx.ints(a, "kernel_size", n)
    s = ctx.ints(a, "stride", n)
    d = ctx.ints(a, "dilation", n)
    g = ctx.int_(a, "groups")
    bias = ctx.bool_(a, "bias")
    if C % g or F % g:
        ctx.fail(Msg("err.groups", g=g, c=C, f=F), "groups")
    return N, C, spatial, F, k, s, d, g, bias


def make_conv(n: int):
    def conv(ctx: Ctx, x, a):
        N, C, spatial, F, k, s, d, g, bias = _grouped_conv_args(ctx, x, a, n)
        if ctx.conv.name == "keras" and any(si > 1 for si in s) and any(di > 1 for di in d):
            ctx.fail(Msg("err.op.keras_does_not_allow_strides", s=fmt_shape(s), d=fmt_shape(d)), "stride")
        out, pads, steps = _spatial_out(ctx, a, spatial, k, s, d, causal_ok=True)
        cg = C // g
        kprod = prod(k)
        k_per_out = cg * kprod
        weights = F * k_per_out
        params = weights + (F if bias else 0)
        macs, mults, adds = _conv_costs(N * F * prod(out), k_per_out, bias)

        def explain():                                 # made when the explanation is read
            ktxt = "*".join(str(i) for i in k)
            pexpr = f"({ktxt}*{cg} + 1)*{F}" if bias else f"{ktxt}*{cg}*{F}"
            return steps + [Step("params", pexpr, params, _params_note(ktxt, cg, F, g > 1, bias)),
                            *_cost_steps("", N, F, out, k_per_out, f"({cg}*{ktxt})", bias, macs, adds)]
        return LayerOut(ctx.join(N, F, out), params=params, macs=macs, mults=mults, adds=adds, flops=mults + adds,
                        rf=RF("window", tuple([keff(a_, b_) for a_, b_ in zip(k, d)]), s, tuple([p[0] for p in pads])),
                        steps=explain, kernel_shape=_kernel_shape(ctx, cg, F, k))
    return conv


def make_depthwise(n: int):
    def depthwise(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        _check_in_channels(ctx, a, C)
        k = ctx.ints(a, "kernel_size", n)
        m = ctx.int_(a, "depth_multiplier")
        s = ctx.ints(a, "stride", n)
        d = ctx.ints(a, "dilation", n)
        bias = ctx.bool_(a, "bias")
        out, pads, steps = _spatial_out(ctx, a, spatial, k, s, d)
        F = C * m
        kprod = prod(k)
        params = F * kprod + (F if bias else 0)
        macs, mults, adds = _conv_costs(N * F * prod(out), kprod, bias)

        def explain():                                 # made when the explanation is read
            ktxt = "*".join(str(i) for i in k)
            return steps + [Step("params", f"({ktxt} + 1)*{C}*{m}" if bias else f"{ktxt}*{C}*{m}", params,
                                 Msg("op.one_kernel_per_input_channel", ktxt=ktxt)),
                            *_cost_steps("", N, F, out, kprod, ktxt, bias, macs, adds)]
        kshape = tuple(k) + (C, m) if ctx.conv.channels_last else (F, 1) + tuple(k)
        return LayerOut(ctx.join(N, F, out), params=params, macs=macs, mults=mults, adds=adds, flops=mults + adds,
                        rf=RF("window", tuple(keff(a_, b_) for a_, b_ in zip(k, d)), s, tuple(p[0] for p in pads)),
                        steps=explain, kernel_shape=kshape)
    return depthwise


def make_separable(n: int):
    def separable(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        _check_in_channels(ctx, a, C)
        F = ctx.int_(a, "filters")
        k = ctx.ints(a, "kernel_size", n)
        m = ctx.int_(a, "depth_multiplier")
        s = ctx.ints(a, "stride", n)
        d = ctx.ints(a, "dilation", n)
        bias = ctx.bool_(a, "bias")
        out, pads, steps = _spatial_out(ctx, a, spatial, k, s, d)
        kprod = prod(k)
        ktxt = "*".join(str(i) for i in k)
        dw = C * m * kprod
        pw = C * m * F
        params = dw + pw + (F if bias else 0)
        steps.append(Step("params", f"{ktxt}*{C}*{m} + {C}*{m}*{F}" + (f" + {F}" if bias else ""), params,
                          Msg("op.depthwise_kernels_pointwise_x_kernels")))
        npos = N * prod(out)
        dmacs = npos * C * m * kprod
        pmacs = npos * F * C * m
        macs = dmacs + pmacs
        adds = npos * C * m * (kprod - 1) + npos * F * (C * m - 1 + (1 if bias else 0))
        steps.append(Step("macs", f"{npos:,}*{C}*{m}*{ktxt} + {npos:,}*{F}*{C}*{m}", macs, "depthwise + pointwise"))
        steps.append(Step("mults", "= macs", macs))
        steps.append(Step("adds", f"{npos:,}*{C * m}*({kprod}-1) + {npos:,}*{F}*({C * m}-1{' + 1' if bias else ''})",
                          adds))
        return LayerOut(ctx.join(N, F, out), params=params, macs=macs, mults=macs, adds=adds, flops=macs + adds,
                        rf=RF("window", tuple(keff(a_, b_) for a_, b_ in zip(k, d)), s, tuple(p[0] for p in pads)),
                        steps=tuple(steps), kernel_shape=None)
    return separable


def _covered(L: int, k: int, s: int, d: int, pb: int, out: int) -> int:
    """How many of the `out` output positions of a transposed conv receive at least one product.

    Output o gets the products of input i and tap t when o = i*s + t*d - pb (0 <= i < L, 0 <= t < k).
    Closed form (no loop over L, k or s): see _hits_below.
    """
    if (d == 1 and k >= s) or (s == 1 and (L >= d or k == 1)):
        lo, hi = max(0, -pb), min(out - 1, (L - 1) * s + d * (k - 1) - pb)
        return max(0, hi - lo + 1)
    if out <= 0:
        return 0
    g = gcd(s, d)                       # every hit is a multiple of g: count y = hit/g in [ceil(pb/g), ceil((pb+out)/g))
    return _hits_below(L, k, s // g, d // g, -(-(pb + out) // g)) - _hits_below(L, k, s // g, d // g, -(-pb // g))


def _hits_below(L: int, k: int, s: int, d: int, x: int) -> int:
    """How many distinct values i*s + t*d (0 <= i < L, 0 <= t < k; s, d coprime) are below x.

    The pairs (i + d, t - s) and (i, t) give the same value, so each value has exactly one pair with
    t < s or i >= L - d (the one with the smallest t): count those pairs, two rectangles of lattice points
    under the line i*s + t*d < x, each a floor sum.
    """
    n = _rect_below(0, L, 0, min(s, k), s, d, x)
    if k > s:
        n += _rect_below(max(0, L - d), L, s, k, s, d, x)
    return n


def _rect_below(i0: int, i1: int, t0: int, t1: int, s: int, d: int, x: int) -> int:
    """Points i0 <= i < i1, t0 <= t < t1 with i*s + t*d < x: for each t, clamp(ceil((x - t*d)/s) - i0, 0, w)."""
    w = i1 - i0
    if w <= 0 or t1 <= t0:
        return 0
    t_full = min(max(-(-(x - (i1 - 1) * s) // d), t0), t1)     # t < t_full: the whole row of w points
    t_none = min(max(-(-(x - i0 * s) // d), t_full), t1)        # t >= t_none: no point
    n = t_none - t_full                                        # between: ceil((x - t*d)/s) - i0, t = t_none-1-j
    return w * (t_full - t0) + floor_sum(n, s, d, x + s - 1 - (t_none - 1) * d) - i0 * n


def _transposed_same_crop(conv_name: str, word: str, L: int, k: int, s: int, d: int, op) -> int:
    """Left crop (PyTorch-style padding) that Keras / ONNX 'same' transposed convs use."""
    ke = keff(k, d)
    if conv_name == "keras":
        # keras/src/backend/common/backend_utils.py _convert_conv_transpose_padding_args_from_keras_to_jax
        if word == "valid":
            return 0
        pad_len = s + ke - 2 if op is None else ke + ke % 2 - 2 + op
        left = min(pad_len // 2 + pad_len % 2, ke - 1)
        return ke - 1 - left
    # ONNX ConvTranspose: total_padding = s*(L-1) + op + ke - L*s; SAME_UPPER puts total//2 first
    if word == "valid":
        return 0
    total = s * (L - 1) + (op or 0) + ke - L * s
    return total - total // 2 if word == "same_lower" else total // 2


def make_transposed(n: int):
    def transposed(ctx: Ctx, x, a):
        N, C, spatial, F, k, s, d, g, bias = _grouped_conv_args(ctx, x, a, n)
        word = ctx.padding_word(a)
        conv = ctx.conv
        op = None
        if a.output_padding is not None:
            op = ctx.ints(a, "output_padding", n, lo=0)
        if word is not None:
            if (conv.name == "keras" and word in ("same", "valid")) or \
                    (conv.name == "onnx" and word in ("same", "same_upper", "same_lower", "valid")):
                pads = [(_transposed_same_crop(conv.name, word, L, k_, s_, d_, None if op is None else op[i]), 0)
                        for i, (L, k_, s_, d_) in enumerate(zip(spatial, k, s, d))]
            else:
                ctx.fail(Msg("err.op.transposed_convolutions_take_whole_number", framework=conv.framework, padding=repr(a.padding)), "padding")
        else:
            if conv.name == "keras":
                ctx.fail(Msg("err.op.keras_conv_dtranspose_takes_padding", n=n, padding=repr(a.padding)), "padding")
            pads = ctx.explicit_pads(a, "padding", n)
        if op is not None:
            if conv.name == "caffe" and any(op):
                ctx.fail(Msg("err.op.caffe_deconvolution_has_no_output"), "output_padding")
            if conv.name == "pytorch":
                for o_, s_, d_ in zip(op, s, d):
                    if not (o_ < s_ or o_ < d_):
                        ctx.fail(Msg("err.op.output_padding_must_smaller_than", op=fmt_shape(op), s=fmt_shape(s), d=fmt_shape(d)),
                                 "output_padding")
        names = DIM_NAMES[n]
        steps, out = [], []
        for i, (dim, L, k_, s_, d_, (pb, pa)) in enumerate(zip(names, spatial, k, s, d, pads)):
            st = transposed_length_step(dim, L, k_, s_, pb, pa, None if op is None else op[i], d_, conv, word)
            if st.value < 1:
                ctx.fail(Msg("err.op.output_length_along_would_padding", dim=dim, value=st.value, pb=pb, pa=pa, L=L, k=k_, s=s_), "padding")
            steps.append(st)
            out.append(st.value)
        fg = F // g
        kprod = prod(k)
        ktxt = "*".join(str(i) for i in k)
        params = C * fg * kprod + (F if bias else 0)
        steps.append(Step("params", f"{C}*{fg}*{ktxt}" + (f" + {F}" if bias else ""), params,
                          f"weight ({C}, {fg}, {ktxt}){' + bias' if bias else ''}"))
        nin = N * prod(spatial)
        macs = nin * C * fg * kprod
        # each output element sums the products that land on it; positions hit by none get none
        covered = prod(_covered(L, k_, s_, d_, pb, o) for L, k_, s_, d_, (pb, _), o
                           in zip(spatial, k, s, d, pads, out))
        n_out = N * F * prod(out)
        adds = macs - N * F * covered + (n_out if bias else 0)
        steps.append(Step("macs", Msg("op.input_positions", nin=nin, C=C, fg=fg, ktxt=ktxt), macs,
                          Msg("op.every_input_value_meets_every")))
        steps.append(Step("adds", Msg("op.products_sums_started", macs=macs, p=N * F * covered) +
                          (f" + {n_out:,} bias" if bias else ""), adds))
        kshape = tuple(k) + (fg, C) if conv.channels_last else (C, fg) + tuple(k)
        pleft = tuple(pb for pb, _ in pads)
        return LayerOut(ctx.join(N, F, out), params=params, macs=macs, mults=macs, adds=adds, flops=macs + adds,
                        rf=RF("transposed", tuple(keff(a_, b_) for a_, b_ in zip(k, d)), s, pleft, tuple(d)),
                        steps=tuple(steps), kernel_shape=kshape)
    return transposed


for _n in (1, 2, 3):
    register(f"conv{_n}d", f"conv{_n}D", f"convolution{_n}d", *(["conv", "convolution"] if _n == 2 else []),
             params=(Param("filters", aliases=("out_channels", "num_filters", "num_output", "channels")),
                     Param("kernel_size", aliases=("kernel", "filter_size", "k")), *_COMMON,
                     Param("groups", 1, ("group",)), *_TAIL),
             family="conv", ndim=_n)(make_conv(_n))
    register(f"convtranspose{_n}d", f"conv{_n}dtranspose", f"conv{_n}d_transpose", f"deconv{_n}d",
             f"convolution{_n}dtranspose", *(["deconvolution", "deconv", "convtranspose"] if _n == 2 else []),
             params=(Param("filters", aliases=("out_channels", "num_filters", "num_output", "channels")),
                     Param("kernel_size", aliases=("kernel", "filter_size", "k")), *_COMMON,
                     Param("output_padding", None, ("outpadding",)), Param("groups", 1, ("group",)), *_TAIL),
             family="conv", ndim=_n)(make_transposed(_n))
for _n in (1, 2):
    register(f"depthwiseconv{_n}d", f"depthwiseconv{_n}D", f"depthwise_conv{_n}d",
             *(["depthwiseconv", "depthwise"] if _n == 2 else []),
             params=(Param("kernel_size", aliases=("kernel", "filter_size", "k")),
                     Param("depth_multiplier", 1, ("multiplier",)), *_COMMON, *_TAIL),
             family="conv", ndim=_n)(make_depthwise(_n))
    register(f"separableconv{_n}d", f"separableconv{_n}D", f"separable_conv{_n}d",
             *(["separableconv", "separable"] if _n == 2 else []),
             params=(Param("filters", aliases=("out_channels",)),
                     Param("kernel_size", aliases=("kernel", "filter_size", "k")),
                     Param("depth_multiplier", 1, ("multiplier",)), *_COMMON, *_TAIL),
             family="conv", ndim=_n)(make_separable(_n))
