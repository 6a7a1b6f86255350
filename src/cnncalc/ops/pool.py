"""Pooling: max/avg 1d/2d/3d, global and adaptive pooling."""
from __future__ import annotations

from math import gcd, prod

from ..formulas import Step, keff, pool_length_step, same_padding
from ..i18n import Msg
from .base import DIM_NAMES, Ctx, fmt_shape
from .registry import GLOBAL, RF, LayerOut, Param, register


def _pool_pads(ctx: Ctx, a, spatial, k, s, d):
    conv = ctx.conv
    word = ctx.padding_word(a)
    n = len(spatial)
    if conv.pool_rule == "tf":
        if word not in ("valid", "same"):
            ctx.fail(Msg("err.op.pooling_takes_padding_valid_same", framework=conv.framework, padding=repr(a.padding), n=n), "padding")
        pads = [same_padding(L, k_, s_, d_) if word == "same" else (0, 0) for L, k_, s_, d_ in zip(spatial, k, s, d)]
        return word, pads
    if word is not None:
        if conv.name == "onnx" and word in ("valid", "same", "same_upper", "same_lower"):
            if word == "valid":
                return word, [(0, 0)] * n
            return word, [same_padding(L, k_, s_, d_, lower=word == "same_lower")
                          for L, k_, s_, d_ in zip(spatial, k, s, d)]
        ctx.fail(Msg("err.op.pooling_takes_whole_number_padding", framework=conv.framework, padding=repr(a.padding)), "padding")
    pads = ctx.explicit_pads(a, "padding", n)
    for (pb, pa), k_, d_ in zip(pads, k, d):
        if conv.name == "pytorch" and max(pb, pa) > k_ // 2:
            ctx.fail(Msg("err.pool_half", p=max(pb, pa), k=k_, h=k_ // 2), "padding")
        if conv.name == "caffe" and max(pb, pa) >= k_:
            ctx.fail(Msg("err.op.caffe_requires_pad_kernel_padding", pb=max(pb, pa), k=k_), "padding")
    return None, pads


def make_pool(n: int, mode: str):
    def pool(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        k = ctx.ints(a, "kernel_size", n)
        s = k if a.stride is None else ctx.ints(a, "stride", n)
        d = ctx.ints(a, "dilation", n)
        if mode == "avg" and any(di != 1 for di in d):
            ctx.fail(Msg("err.op.average_pooling_has_no_dilation"), "dilation")
        if ctx.conv.pool_rule in ("tf", "caffe") and any(di != 1 for di in d):
            ctx.fail(Msg("err.op.pooling_has_no_dilation", framework=ctx.conv.framework), "dilation")
        ceil_mode = ctx.bool_(a, "ceil_mode")
        warnings = []
        if ctx.conv.pool_rule == "caffe" and a.given("ceil_mode") and not ceil_mode:
            warnings.append(Msg("op.caffe_pooling_always_rounds_up"))
        word, pads = _pool_pads(ctx, a, spatial, k, s, d)
        if ctx.conv.name == "pytorch" and mode == "avg" and n == 3 and any(L < k_ for L, k_ in zip(spatial, k)):
            # aten/src/ATen/native/Pool.h pool3d_shape_check(check_input_size=true): AvgPool3d only
            ctx.fail(Msg("err.op.pytorch_avgpool_d_needs_unpadded", spatial=fmt_shape(spatial), k=fmt_shape(k)), "kernel_size")
        any_pad = any(pb or pa for pb, pa in pads)
        steps, out = [], []
        for dim, L, k_, s_, d_, (pb, pa) in zip(DIM_NAMES[n], spatial, k, s, d, pads):
            st = pool_length_step(dim, L, k_, s_, pb, pa, d_, ceil_mode, ctx.conv, word, any_pad)
            if st.value < 1:
                ctx.fail(Msg("err.pool_window", k=keff(k_, d_), dim=dim, L=L, pb=pb, pa=pa, total=L + pb + pa,
                             shape=fmt_shape(spatial)), "kernel_size")
            steps.append(st)
            out.append(st.value)
        K = prod(k)
        outs = N * C * prod(out)
        flops = outs * (K - 1) if mode == "max" else outs * K

        def explain():                                 # made when the explanation is read
            expr = Msg("expr.maxpool_flops" if mode == "max" else "expr.avgpool_flops", outs=f"{outs:,}", K=K)
            return steps + [Step("flops", expr, flops)]
        return LayerOut(ctx.join(N, C, out), flops=flops, steps=explain, warnings=tuple(warnings),
                        rf=RF("window", tuple(keff(a_, b_) for a_, b_ in zip(k, d)), s, tuple(p[0] for p in pads)))
    return pool


def make_global(n: int | None, mode: str):
    def gpool(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        keep = ctx.conv.global_keepdims if a.keepdims is None else ctx.bool_(a, "keepdims")
        area = prod(spatial)
        flops = N * C * (area - 1 if mode == "max" else area)
        what = "comparisons" if mode == "max" else "adds + 1 divide"
        out = ctx.join(N, C, (1,) * len(spatial)) if keep else (N, C)
        return LayerOut(out, flops=flops, steps=lambda: (Step("flops", f"{N * C:,} channels * ({area:,} - 1 {what})",
                                                                flops),), rf=GLOBAL)
    return gpool


def adaptive_bins(L: int, o: int) -> list[tuple[int, int]]:
    """PyTorch adaptive pooling bins: [floor(i*L/o), ceil((i+1)*L/o)) -- a list of o: for tests and small o."""
    return [((i * L) // o, -((-(i + 1) * L) // o)) for i in range(o)]


def adaptive_bin_total(L: int, o: int) -> int:
    """Elements in all o bins of adaptive_bins(L, o) together, in closed form: L + o - gcd(L, o).

    sum(ceil((i+1)L/o) - floor(iL/o)) telescopes to L plus one for every bin edge jL/o (1 <= j <= o) that
    is not whole; gcd(L, o) of them are.
    """
    return L + o - gcd(L, o)


def make_adaptive(n: int, mode: str):
    def adaptive(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        size = a.output_size
        sizes = size if isinstance(size, (tuple, list)) else (size,) * n
        if len(sizes) == 1:
            sizes = tuple(sizes) * n
        if len(sizes) != n or any(v is not None and (not isinstance(v, int) or v < 1) for v in sizes):
            ctx.fail(Msg("err.op.output_size_must_whole_number", n=n, size=repr(size)),
                     "output_size")
        out = tuple(L if o is None else o for L, o in zip(spatial, sizes))
        window_elems = 1
        steps = []
        uniform = True
        for dim, L, o in zip(DIM_NAMES[n], spatial, out):
            total = adaptive_bin_total(L, o)
            window_elems *= total
            uniform = uniform and L % o == 0
            steps.append(Step(f"{dim}_out", "", o, Msg("op.output_size_bin_i_covers", L=L, o=o)))
        outs = N * C * prod(out)
        flops = N * C * window_elems - (outs if mode == "max" else 0)
        steps.append(Step("flops", Msg("op.channels_bin_elements", p=N * C, window_elems=window_elems)
                                   + (f" - {outs:,}" if mode == "max" else ""), flops))
        if all(o == 1 for o in out):
            rf = GLOBAL
        elif uniform:
            kk = tuple(L // o for L, o in zip(spatial, out))
            rf = RF("window", kk, kk, (0,) * n)
        else:
            rf = RF("none")
        warnings = () if uniform or rf is GLOBAL else (
            Msg("op.adaptive_bins_unequal_size_no"),)
        return LayerOut(ctx.join(N, C, out), flops=flops, steps=tuple(steps), rf=rf, warnings=warnings)
    return adaptive


_POOL_PARAMS = (
    Param("kernel_size", aliases=("pool_size", "kernel", "k")),
    Param("stride", None, ("strides",)),
    Param("padding", 0, ("pad",)),
    Param("dilation", 1, ("dilation_rate",)),
    Param("ceil_mode", False),
    Param("count_include_pad", True, (), "average pooling divisor; does not change sizes or counts"),
    Param("divisor_override", None),
    Param("return_indices", False),
)

for _n in (1, 2, 3):
    for _mode, _names in (("max", ("maxpool{n}d", "maxpooling{n}d", "max_pool{n}d")),
                          ("avg", ("avgpool{n}d", "averagepooling{n}d", "avg_pool{n}d", "averagepool{n}d"))):
        _sp = [s.format(n=_n) for s in _names]
        if _n == 2:
            _sp += ["maxpool", "pool"] if _mode == "max" else ["avgpool"]
        register(_sp[0], *_sp[1:], params=_POOL_PARAMS, family="pool", ndim=_n)(make_pool(_n, _mode))
        _g = [f"global{_mode}pool{_n}d", f"global{'average' if _mode == 'avg' else 'max'}pooling{_n}d"]
        if _n == 2:
            _g += [f"global{_mode}pool", f"global{'average' if _mode == 'avg' else 'max'}pool"]
        register(_g[0], *_g[1:], params=(Param("keepdims", None),), family="pool", ndim=_n)(make_global(_n, _mode))
        register(f"adaptive{_mode}pool{_n}d", f"adaptive_{_mode}_pool{_n}d",
                 *([f"adaptive{_mode}pool"] if _n == 2 else []),
                 params=(Param("output_size", aliases=("size",)), Param("return_indices", False)),
                 family="pool", ndim=_n)(make_adaptive(_n, _mode))
