"""``to_pytorch`` rules for sliding-window layers: convolutions (plain, depthwise, separable, transposed)
and pooling (windowed, adaptive, global)."""
from __future__ import annotations

from ...i18n import Msg
from .python_source import _kw, _one, _r, _Step


class ConvPoolRules:
    """Mixed into the exporter: ``_conv_pool(t)`` is the step of a conv or pool layer, else None."""

    def _conv_pool(self, t):
        call, layer, op, ctx, a, kind, spelling, x, out, fail, module, fused = t
        # ---- convolutions
        if op.family == "conv":
            n = op.extra["ndim"]
            N, C, spatial = ctx.split(x, n)
            k = ctx.ints(a, "kernel_size", n)
            s = ctx.ints(a, "stride", n)
            d = ctx.ints(a, "dilation", n)
            bias = ctx.bool_(a, "bias")
            pmode = str(a.padding_mode)
            if kind.startswith("convtranspose"):
                return self._transposed(call, layer, ctx, a, n, C, spatial, k, s, d, bias, fused)
            word, pads = ctx.conv_pads(a, spatial, k, s, d, causal_ok=True)
            pre = None
            kw = {}
            if word in ("same", "same_upper"):
                kw["padding"] = "same"
            elif any(pb != pa for pb, pa in pads):
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
                mode = {"zeros": "constant"}.get(pmode, pmode)
                pre = (f"F.pad({{}}, {_r(torch_order)})" if mode == "constant"
                       else f"F.pad({{}}, {_r(torch_order)}, mode={mode!r})")
            elif any(pb for pb, _ in pads):
                kw["padding"] = _one(pb for pb, _ in pads)
            if any(di != 1 for di in d):
                kw["dilation"] = _one(d)
            stride = {"stride": _one(s)} if any(si != 1 for si in s) else {}
            tail = {} if bias else {"bias": False}
            if pmode != "zeros" and pre is None:
                tail["padding_mode"] = pmode
            if kind.startswith("conv"):
                g = ctx.int_(a, "groups")
                F_ = ctx.int_(a, "filters")
                grp = {"groups": g} if g != 1 else {}
                ctor = f"nn.Conv{n}d({C}, {F_}, {_r(_one(k))}{_kw(**stride, **kw, **grp, **tail)})"
            elif kind.startswith("depthwise"):
                m = ctx.int_(a, "depth_multiplier")
                ctor = f"nn.Conv{n}d({C}, {C * m}, {_r(_one(k))}{_kw(**stride, **kw, groups=C, **tail)})"
            else:       # separable: depthwise (no bias) then pointwise
                m = ctx.int_(a, "depth_multiplier")
                F_ = ctx.int_(a, "filters")
                dw_tail = {"bias": False}
                if pmode != "zeros" and pre is None:
                    dw_tail["padding_mode"] = pmode
                ctor = (f"nn.Sequential(nn.Conv{n}d({C}, {C * m}, {_r(_one(k))}"
                        f"{_kw(**stride, **kw, groups=C, **dw_tail)}), "
                        f"nn.Conv{n}d({C * m}, {F_}, 1{_kw(**({} if bias else {'bias': False}))}))")
            act = fused()
            return _Step(layer.name, ctor,
                         lambda v, m: (act or (lambda e: e))(f"{m}({pre.format(v[0]) if pre else v[0]})"))

        # ---- pooling
        if op.family == "pool":
            n = op.extra["ndim"]
            N, C, spatial = ctx.split(x, n)
            if kind.startswith("global"):
                dims = tuple(range(2, 2 + n))
                keep = len(out) == len(x)
                fn = "mean" if "avg" in kind else "amax"
                dim = dims[0] if n == 1 else dims
                tail = ", keepdim=True" if keep else ""
                return _Step(layer.name, None, lambda v, m: f"{v[0]}.{fn}(dim={_r(dim)}{tail})")
            if kind.startswith("adaptive"):
                size = a.output_size
                sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
                if len(sizes) == 1:
                    sizes = sizes * n
                cls = "AdaptiveAvgPool" if "avg" in kind else "AdaptiveMaxPool"
                return module(f"nn.{cls}{n}d({_r(sizes[0] if len(set(sizes)) == 1 else sizes)})")
            k = ctx.ints(a, "kernel_size", n)
            s = k if a.stride is None else ctx.ints(a, "stride", n)
            d = ctx.ints(a, "dilation", n)
            ceil = ctx.bool_(a, "ceil_mode")
            pads = ctx.explicit_pads(a, "padding", n)
            kw = {}
            if s != k:
                kw["stride"] = _one(s)
            pre = None
            avg = kind.startswith("avg")
            include_pad = ctx.bool_(a, "count_include_pad")
            if any(pb != pa for pb, pa in pads):
                if ceil:
                    fail(Msg("err.export.asymmetric_padding_ceil_mode_true", pads=pads))
                if avg and not include_pad:
                    fail(Msg("err.export.asymmetric_padding_count_include_pad", pads=pads))
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
                pre = (f"F.pad({{}}, {_r(torch_order)})" if avg
                       else f"F.pad({{}}, {_r(torch_order)}, value=float('-inf'))")
            elif any(pb for pb, _ in pads):
                kw["padding"] = _one(pb for pb, _ in pads)
            if not avg and any(di != 1 for di in d):
                kw["dilation"] = _one(d)
            if ceil:
                kw["ceil_mode"] = True
            if avg and not include_pad:
                kw["count_include_pad"] = False
            if avg and a.divisor_override is not None:
                kw["divisor_override"] = a.divisor_override
            cls = "AvgPool" if avg else "MaxPool"
            ctor = f"nn.{cls}{n}d({_r(_one(k))}{_kw(**kw)})"
            return _Step(layer.name, ctor, lambda v, m: f"{m}({pre.format(v[0]) if pre else v[0]})")

    def _transposed(self, call, layer, ctx, a, n, C, spatial, k, s, d, bias, fused):
        F_ = ctx.int_(a, "filters")
        g = ctx.int_(a, "groups")
        pads = ctx.explicit_pads(a, "padding", n)
        op = None if a.output_padding is None else ctx.ints(a, "output_padding", n, lo=0)
        kw = {}
        if any(si != 1 for si in s):
            kw["stride"] = _one(s)
        crop = None
        if any(pb != pa for pb, pa in pads):
            full = [(L - 1) * s_ + d_ * (k_ - 1) + (op[i] if op else 0) + 1
                    for i, (L, k_, s_, d_) in enumerate(zip(spatial, k, s, d))]
            crop = ", ".join(f"{pb}:{f - pa}" for (pb, pa), f in zip(pads, full))
        elif any(pb for pb, _ in pads):
            kw["padding"] = _one(pb for pb, _ in pads)
        if op is not None and any(op):
            kw["output_padding"] = _one(op)
        if g != 1:
            kw["groups"] = g
        if not bias:
            kw["bias"] = False
        if any(di != 1 for di in d):
            kw["dilation"] = _one(d)
        if str(a.padding_mode) != "zeros":
            kw["padding_mode"] = str(a.padding_mode)
        act = fused() or (lambda e: e)
        ctor = f"nn.ConvTranspose{n}d({C}, {F_}, {_r(_one(k))}{_kw(**kw)})"
        return _Step(layer.name, ctor, lambda v, m: act(f"{m}({v[0]})" + (f"[..., {crop}]" if crop else "")),
                     exact=crop is None)
