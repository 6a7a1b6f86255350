"""``to_pytorch`` rules for shape layers (flatten, reshape, identity), dropout, padding, upsampling and the
merges (``+``, ``-``, ``*``, average, maximum / minimum, ``torch.cat``, centre crop, ``narrow``)."""
from __future__ import annotations

import re

from ...i18n import Msg
from ...ops import registry
from .python_source import _kw, _one, _r, _Step

_MODES = {"nearest": "nearest", "nearestexact": "nearest-exact", "linear": "linear", "bilinear": "bilinear",
          "bicubic": "bicubic", "trilinear": "trilinear"}
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


class ShapeMergeRules:
    """Mixed into the exporter: ``_shape_merge(t)`` is the step of such a layer, else None."""

    def _shape_merge(self, t):
        call, layer, op, ctx, a, kind, spelling, x, out, fail, module, fused = t
        # ---- shape, padding, upsampling, dropout
        if kind == "flatten":
            kw = {}
            if a.start_dim != 1:
                kw["start_dim"] = a.start_dim
            if a.end_dim != -1:
                kw["end_dim"] = a.end_dim
            return module(f"nn.Flatten({_kw(**kw)[2:]})")
        if kind == "reshape":
            view = "reshape" if self._maybe_strided(call) else "view"
            dims = ", ".join(str(i) for i in out[1:])
            return _Step(layer.name, None, lambda v, m: f"{v[0]}.{view}({v[0]}.size(0), {dims})")
        if kind == "identity":
            return module("nn.Identity()")
        if kind == "dropout":
            p = {} if a.p == 0.5 else {"p": a.p}
            m = re.fullmatch(r"(?:spatial)?dropout([123])d", spelling)
            if m and len(x) == int(m.group(1)) + 2:
                return module(f"nn.Dropout{m.group(1)}d({_kw(**p)[2:]})")
            if spelling == "alphadropout":
                return module(f"nn.AlphaDropout({_kw(**p)[2:]})")
            if spelling == "gaussiandropout":
                return module("nn.Identity()")     # Keras GaussianDropout: identity at inference
            return module(f"nn.Dropout({_kw(**p)[2:]})")
        if kind.startswith("zeropad"):
            n = op.extra["ndim"]
            spatial = x[2:]
            if len(spatial) != n:
                fail(Msg("err.export.expects_d_input_per_sample", p=n + 1, x=x))
            v = a.padding
            if isinstance(v, (tuple, list)) and len(v) == 2 * n and all(isinstance(i, int) for i in v):
                torch_order = tuple(v)
            else:
                pads = ctx.explicit_pads(a, "padding", n)
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
            pad = torch_order[0] if len(set(torch_order)) == 1 else torch_order
            if a.value:
                return module(f"nn.ConstantPad{n}d({_r(pad)}, {_r(a.value)})")
            return module(f"nn.ZeroPad{n}d({_r(pad)})")
        if kind == "upsample":
            n = len(x) - 2
            mode = _MODES.get(str(a.mode).lower().replace("_", "").replace("-", ""))
            if mode is None:
                fail(Msg("err.export.unknown_mode", mode=repr(a.mode)))
            if mode in _MODE_RANK and _MODE_RANK[mode] != n:
                fail(Msg("err.export.mode_d_inputs_per_sample", mode=repr(mode), MODE_RANK=_MODE_RANK[mode], x=x, n=n))
            kw = {}
            if a.size is not None:
                kw["size"] = _one(ctx.ints(a, "size", n))
            else:
                sf = a.scale_factor
                kw["scale_factor"] = _one(sf) if isinstance(sf, (tuple, list)) else sf
            if mode != "nearest":
                kw["mode"] = mode
            if a.align_corners is not None:
                kw["align_corners"] = ctx.bool_(a, "align_corners")
            return module(f"nn.Upsample({_kw(**kw)[2:]})")
        if kind.startswith("upsampling"):
            n = op.extra["ndim"]
            mode = str(a.interpolation).lower()
            if mode == "bilinear":
                mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[n]
            elif mode == "bicubic" and n != 2:
                fail(Msg("err.export.bicubic_upsampling_d_only_pytorch"))
            elif mode not in ("nearest", "bicubic"):
                fail(Msg("err.export.interpolation_has_no_pytorch_equivalent", mode=repr(mode)))
            kw = {"scale_factor": _one(ctx.ints(a, "size", n))}
            if mode != "nearest":
                kw["mode"] = mode
            return module(f"nn.Upsample({_kw(**kw)[2:]})")

        # ---- merges
        if kind in ("add", "subtract", "multiply"):
            sym = {"add": " + ", "subtract": " - ", "multiply": " * "}[kind]
            return _Step(layer.name, None, lambda v, m: sym.join(v))
        if kind == "average":
            return _Step(layer.name, None, lambda v, m: f"({' + '.join(v)}) / {len(v)}")
        if kind in ("maximum", "minimum"):
            def fold(v, m):
                e = v[0]
                for t in v[1:]:
                    e = f"torch.{kind}({e}, {t})"
                return e
            return _Step(layer.name, None, fold)
        if kind == "concat":
            axis = 1 if a.axis is None else a.axis
            return _Step(layer.name, None, lambda v, m: f"torch.cat([{', '.join(v)}], dim={axis})")
        if kind == "crop":
            big, like = layer.input_shapes
            idx = ", ".join(f"{(b - s) // 2}:{(b - s) // 2 + s}" for b, s in zip(big[2:], like[2:]))
            return _Step(layer.name, None, lambda v, m: f"{v[0]}[..., {idx}]")
        if kind == "slice":
            axis = 1 if a.axis is None else a.axis % len(x)
            return _Step(layer.name, None, lambda v, m: f"{v[0]}.narrow({axis}, {a.start}, {a.stop - a.start})")

    def _maybe_strided(self, call) -> bool:
        """Whether the input of a reshape may be a non-contiguous view (then .reshape, not .view)."""
        src = {c.output: c for c in self.calls}
        c = src.get(call.inputs[0]) if call.inputs else None
        while c is not None:
            k = registry.norm(c.kind)
            op = registry.OPS.get(k)
            kind = op.kind if op else k
            if kind in ("slice", "crop") or (op and op.family == "recurrent"):
                return True
            if kind not in ("identity", "dropout", "reshape"):
                return False
            c = src.get(c.inputs[0]) if c.inputs else None
        return False
