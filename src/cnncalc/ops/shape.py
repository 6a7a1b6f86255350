"""Layers that move data without arithmetic: flatten, reshape, identity, dropout, zero padding, upsampling."""
from __future__ import annotations

from fractions import Fraction
from math import floor, prod

from ..formulas import Step
from ..i18n import Msg
from ..limits import MAX_NUMBER, shown
from .base import DIM_NAMES, Ctx, fmt_shape
from .registry import GLOBAL, KEEP, NONE, RF, LayerOut, Param, register


@register("flatten", params=(Param("start_dim", 1), Param("end_dim", -1)), family="shape")
def flatten(ctx: Ctx, x, a):
    """Join the axes start_dim..end_dim (default: everything after the batch)."""
    r = len(x)
    for name in ("start_dim", "end_dim"):
        v = getattr(a, name)
        if isinstance(v, bool) or not isinstance(v, int):
            ctx.fail(Msg("err.op.must_whole_number_axis_input", name=name, x=fmt_shape(x), v=repr(v)), name)
    sd = a.start_dim if a.start_dim >= 0 else r + a.start_dim
    ed = a.end_dim if a.end_dim >= 0 else r + a.end_dim
    if not (0 <= sd <= ed < r):
        ctx.fail(Msg("err.op.start_dim_end_dim_out", start_dim=a.start_dim, end_dim=a.end_dim, x=fmt_shape(x)), "start_dim")
    joined = prod(x[sd:ed + 1])
    out = x[:sd] + (joined,) + x[ed + 1:]
    steps = (Step("features", " * ".join(str(i) for i in x[sd:ed + 1]), joined),)
    spatial = r > 2
    return LayerOut(out, steps=steps, rf=GLOBAL if spatial else KEEP)


@register("reshape", "view", params=(Param("shape", aliases=("target_shape",)),), family="shape")
def reshape(ctx: Ctx, x, a):
    """New shape for one sample (batch kept); one -1 is inferred."""
    shape = a.shape if isinstance(a.shape, (tuple, list)) else (a.shape,)
    if any(not isinstance(s, int) or isinstance(s, bool) or (s < 1 and s != -1) for s in shape) or \
            list(shape).count(-1) > 1:
        ctx.fail(Msg("err.op.shape_must_whole_numbers_most", shape=repr(a.shape)), "shape")
    total = prod(x[1:])
    known = prod(s for s in shape if s != -1)
    if -1 in shape:
        if total % known:
            ctx.fail(Msg("err.op.cannot_reshape_values_into_not", fmt_shape=fmt_shape(x[1:]), total=total, shape=fmt_shape(shape), known=known), "shape")
        shape = tuple(total // known if s == -1 else s for s in shape)
    elif known != total:
        ctx.fail(Msg("err.op.cannot_reshape_values_into_values", fmt_shape=fmt_shape(x[1:]), total=total, shape=fmt_shape(shape), known=known),
                 "shape")
    same = tuple(shape) == tuple(x[1:])
    return LayerOut((x[0],) + tuple(shape), rf=KEEP if same else NONE)


@register("identity", "linear_activation", "noop", params=(), family="shape")
def identity(ctx: Ctx, x, a):
    """Output = input."""
    return LayerOut(tuple(x))


@register("dropout", "dropout1d", "dropout2d", "dropout3d", "spatialdropout1d", "spatialdropout2d",
          "spatialdropout3d", "alphadropout", "gaussiandropout",
          params=(Param("p", 0.5, ("rate",)), Param("inplace", False)), family="shape")
def dropout(ctx: Ctx, x, a):
    """No cost at inference."""
    return LayerOut(tuple(x))


def make_zeropad(n: int):
    def zeropad(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        v = a.padding
        if isinstance(v, (tuple, list)) and len(v) == 2 * n and all(isinstance(i, int) for i in v):
            # PyTorch ZeroPad order: (left, right, top, bottom[, front, back]) -- last dim first;
            # in 1-d, (left, right) for PyTorch ZeroPad1d and Keras ZeroPadding1D alike
            pairs = [(v[2 * i], v[2 * i + 1]) for i in range(n)][::-1]
            pads = ctx.explicit_pads(a, "padding", n, value=tuple(pairs))
        else:
            pads = ctx.explicit_pads(a, "padding", n)
        out = tuple(L + pb + pa for L, (pb, pa) in zip(spatial, pads))
        steps = tuple(Step(f"{dim}_out", f"{L} + {pb} + {pa}", o) for dim, L, (pb, pa), o
                      in zip(DIM_NAMES[n], spatial, pads, out))
        return LayerOut(ctx.join(N, C, out), steps=steps, rf=RF("window", (1,) * n, (1,) * n, tuple(p[0] for p in pads)))
    return zeropad


for _n in (1, 2, 3):
    register(f"zeropad{_n}d", f"zeropadding{_n}d", f"constantpad{_n}d", *(["zeropad", "pad"] if _n == 2 else []),
             params=(Param("padding", 1, ("pad",)), Param("value", 0)), family="shape", ndim=_n)(make_zeropad(_n))

_INTERP_FLOPS = {"nearest": 0, "nearestexact": 0, "linear": 3, "bilinear": 7, "trilinear": 15, "bicubic": 31}


def _scaled(ctx: Ctx, L: int, f, dim: str) -> int:
    """floor(L * f) as PyTorch computes it (in doubles), exact for whole factors and beyond 2^53."""
    if isinstance(f, int) or f.is_integer():
        o = L * int(f)
    elif L < 2 ** 53:
        o = floor(L * f)                      # PyTorch: floor(double(L) * scale), bit for bit
    else:
        o = floor(L * Fraction(f))            # the double's exact value: no rounding of L
    if o < 1:
        ctx.fail(Msg("err.op.scale_factor_makes_output_along", f=f, dim=dim, L=L, o=o),
                 "scale_factor")
    if o > MAX_NUMBER:
        ctx.fail(Msg("err.op.scale_factor_makes_output_along_2", f=f, dim=dim, o=shown(o)),
                 "scale_factor")
    return o


def _upsample(ctx: Ctx, x, factors, sizes, mode: str, keras: bool):
    rank = len(x)
    if rank < 3:
        ctx.fail(Msg("err.op.upsampling_needs_channels_spatial_dims", x=fmt_shape(x)))
    n = rank - 2
    N, C, spatial = ctx.split(x, n)
    steps, out, scale = [], [], []
    for i, (dim, L) in enumerate(zip(DIM_NAMES.get(n, tuple(f"d{j}" for j in range(n))), spatial)):
        if sizes is not None:
            o = sizes[i]
            steps.append(Step(f"{dim}_out", "", o, Msg("op.size_given")))
            scale.append(Fraction(o, L))          # exact: the receptive field divides its stride by it
        else:
            f = factors[i]
            o = L * f if keras else _scaled(ctx, L, f, dim)
            steps.append(Step(f"{dim}_out", f"{L}*{f}" if keras else f"floor({L}*{f})", o))
            scale.append(f)
        out.append(o)
    per = _INTERP_FLOPS.get(mode.replace("_", ""), 0)
    if mode == "linear" and n > 1:
        per = (2 ** n) + (2 ** n - 1)
    flops = N * C * prod(out) * per
    if per:
        steps.append(Step("flops", f"{N * C * prod(out):,} outputs * {per}", flops,
                          Msg("op.weighted_taps_per_output", mode=mode, p=2 ** n if mode != 'bicubic' else 16)))
    taps = 1 if per == 0 else (4 if mode == "bicubic" else 2)
    return LayerOut(ctx.join(N, C, out), flops=flops, steps=tuple(steps),
                    rf=RF("upsample", (taps,) * n, tuple(scale), ()))


@register("upsample", "interpolate", params=(Param("scale_factor", None, ("scale",)), Param("size", None),
                                             Param("mode", "nearest"), Param("align_corners", None)),
          family="shape")
def upsample(ctx: Ctx, x, a):
    """PyTorch nn.Upsample: size, or floor(L * scale_factor)."""
    n = len(x) - 2
    mode = ctx.choice(a, "mode", ("nearest", "nearest_exact", "linear", "bilinear", "bicubic", "trilinear"))
    need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
    if need is not None and need != n:
        ctx.fail(Msg("err.op.mode_interpolates_spatial_dim_s", mode=mode, need=need, x=fmt_shape(x), n=max(n, 0)),
                 "mode")
    if (a.scale_factor is None) == (a.size is None):
        ctx.fail(Msg("err.op.upsample_needs_exactly_one_scale"))
    if a.size is not None:
        return _upsample(ctx, x, None, ctx.ints(a, "size", n), mode, False)
    sf = a.scale_factor
    vals = sf if isinstance(sf, (tuple, list)) else (sf,) * n
    if len(vals) != n or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf")
                             for v in vals):
        ctx.fail(Msg("err.op.scale_factor_must_positive_number", n=n, sf=repr(sf)), "scale_factor")
    return _upsample(ctx, x, tuple(vals), None, mode, False)


def make_keras_upsampling(n: int):
    def upsampling(ctx: Ctx, x, a):
        ctx.split(x, n)
        mode = ctx.choice(a, "interpolation", ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"))
        if mode not in _INTERP_FLOPS:
            ctx.fail(Msg("err.op.interpolation_not_counted_yet_use", mode=mode), "interpolation")
        return _upsample(ctx, x, ctx.ints(a, "size", n), None, mode, True)
    return upsampling


for _n in (1, 2, 3):
    register(f"upsampling{_n}d", params=(Param("size", 2, ("scale", "scale_factor")),
                                         Param("interpolation", "nearest", ("mode",))),
             family="shape", ndim=_n)(make_keras_upsampling(_n))


def make_cropping(n: int):
    def cropping(ctx: Ctx, x, a):
        N, C, spatial = ctx.split(x, n)
        v = a.cropping
        if n == 1 and isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) for i in v):
            v = (tuple(v),)                       # Cropping1D((start, end)): one (before, after) pair
        pads = ctx.explicit_pads(a, "cropping", n, value=v)
        out = tuple(L - cb - ca for L, (cb, ca) in zip(spatial, pads))
        for dim, L, (cb, ca), o in zip(DIM_NAMES[n], spatial, pads, out):
            if o < 1:
                ctx.fail(Msg("err.op.cropping_removes_all_least_one", cb=cb, ca=ca, dim=dim, L=L, x=fmt_shape(x)), "cropping")
        steps = tuple(Step(f"{dim}_out", f"{L} - {cb} - {ca}", o, Msg("op.size_cropped_before_cropped_after"))
                      for dim, L, (cb, ca), o in zip(DIM_NAMES[n], spatial, pads, out))
        return LayerOut(ctx.join(N, C, out), steps=steps,
                        rf=RF("window", (1,) * n, (1,) * n, tuple(-p[0] for p in pads)))
    cropping.__doc__ = (f"Remove (before, after) elements from each spatial dim (Keras Cropping{n}D); "
                        f"no arithmetic.")
    return cropping


for _n, _default in ((1, 1), (2, 0), (3, 1)):          # Keras' defaults: (1, 1), ((0, 0), (0, 0)), ((1, 1),) * 3
    register(f"cropping{_n}d", f"crop{_n}d", params=(Param("cropping", _default),), family="shape",
             ndim=_n)(make_cropping(_n))


@register("permute", params=(Param("dims", aliases=("perm", "axes")),), family="shape")
def permute(ctx: Ctx, x, a):
    """Reorder the axes (Keras Permute): dims permutes the non-batch axes, numbered from 1; no arithmetic.

    A permutation of all the axes that starts with 0 (the batch) is read as torch.permute."""
    r = len(x)
    dims = a.dims if isinstance(a.dims, (tuple, list)) else (a.dims,)
    ok = all(isinstance(d, int) and not isinstance(d, bool) for d in dims)
    if ok and sorted(dims) == list(range(1, r)):
        perm = (0,) + tuple(dims)
    elif ok and sorted(dims) == list(range(r)) and dims[0] == 0:
        perm = tuple(dims)
    else:
        ctx.fail(Msg("err.op.dims_must_permutation_non_batch", p=r - 1, x=fmt_shape(x), dims=repr(a.dims)), "dims")
    out = tuple(x[p] for p in perm)
    steps = tuple(Step(f"axis {i}", Msg("op.input_axis", p=p), out[i]) for i, p in enumerate(perm) if i)
    return LayerOut(out, steps=steps, rf=KEEP if perm == tuple(range(r)) else NONE)
