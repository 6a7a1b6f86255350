"""Spec source text for ``to_spec``: plain values, layer calls, and the layer arguments shared by
modules and functions (pooling, upsampling, padding, softmax axes); ``_Unsupported`` is what a rule
raises for something the spec cannot express (the converter names the node)."""
from __future__ import annotations

import math

from ...i18n import Msg

_WORDS = {"true", "false", "none", "null", "def", "end", "in", "max", "min", "input", "inputlayer"}


# --------------------------------------------------------------------------- spec text of values
def _sv(v) -> str:
    """Spec source of a plain value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(v)
        return repr(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (tuple, list)):
        items = [_sv(i) for i in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    raise ValueError(v)


def _one(v):
    """3 for (3, 3); the tuple when the dims differ."""
    if isinstance(v, (tuple, list)):
        v = tuple(v)
        return v[0] if v and len(set(v)) == 1 else v
    return v


def _call(kind: str, *pos, **kw) -> str:
    args = [_sv(p) for p in pos] + [f"{k}={_sv(v)}" for k, v in kw.items()]
    return f"{kind}({', '.join(args)})" if args else kind


def _bind(names, args, kwargs) -> dict:
    out = dict(zip(names, args))
    out.update(kwargs)
    return out


class _Unsupported(Exception):
    pass


# --------------------------------------------------------------------------- layer arguments
def _softmax_dim(dim, rank):
    if dim is None:                  # torch's legacy implicit dim (torch.nn.functional._get_softmax_dim)
        dim = 0 if rank in (0, 1, 3) else 1
    if dim % rank == 0:
        raise _Unsupported(Msg("fe.tospec.softmax_over_axis_batch_axis", dim=dim))
    return dim % rank


def _size(size):
    if isinstance(size, (tuple, list)):
        return tuple(size)[0] if len(set(size)) == 1 and None not in size else tuple(size)
    return size


def _pool_text(mode, dim, p) -> str:
    if p.get("return_indices"):
        raise _Unsupported(Msg("fe.tospec.return_indices_true_returns_tuple"))
    k = p["kernel_size"]
    s = p.get("stride")
    kw = {}
    if s not in (None, (), []) and _one(s) != _one(k):
        kw["stride"] = _one(s)
    pad = p.get("padding", 0)
    if isinstance(pad, tuple) and pad and all(isinstance(i, tuple) for i in pad):
        if any(any(i) for i in pad):
            kw["padding"] = pad
    elif _one(pad) != 0:
        kw["padding"] = _one(pad)
    dil = p.get("dilation", 1)
    if _one(dil) != 1:
        kw["dilation"] = _one(dil)
    if p.get("ceil_mode"):
        kw["ceil_mode"] = True
    if mode == "avg":
        if not p.get("count_include_pad", True):
            kw["count_include_pad"] = False
        if p.get("divisor_override") is not None:
            kw["divisor_override"] = p["divisor_override"]
    return _call(f"{mode}pool{dim}d", _one(k), **kw)


def _upsample_text(size, scale, mode, align_corners) -> str:
    mode = str(mode).replace("-", "_")
    if mode not in ("nearest", "nearest_exact", "linear", "bilinear", "bicubic", "trilinear"):
        raise _Unsupported(Msg("fe.tospec.interpolation_mode_spec_has_nearest", mode=repr(mode)))
    kw = {}
    if size is not None:
        kw["size"] = _one(size)
    else:
        kw["scale_factor"] = _one(scale)
    if mode != "nearest":
        kw["mode"] = mode
    if align_corners is not None:
        kw["align_corners"] = bool(align_corners)
    return _call("upsample", **kw)


def _pad_text(pad, value, rank) -> str:
    n = rank - 2
    if len(pad) % 2 or len(pad) > 2 * n or n not in (1, 2, 3):
        raise _Unsupported(Msg("fe.tospec.padding_d_tensor_spec_pads", pad=pad, rank=rank))
    if any(p < 0 for p in pad):
        raise _Unsupported(Msg("fe.tospec.negative_padding_crop", pad=pad))
    full = tuple(pad) + (0,) * (2 * n - len(pad))
    if not math.isfinite(value):
        raise _Unsupported(Msg("fe.tospec.padding_spec_pads_finite_constant", value=value))
    kw = {"value": value} if value else {}
    return _call(f"zeropad{n}d", full, **kw)
