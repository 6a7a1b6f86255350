"""Receptive fields through aten operators: the rule of each op, applied to the state of its input tensors.

The torch front-end's tracer keeps a receptive-field state per tensor (``tracer.state`` / ``tracer.set_state``);
after each operator, :func:`rf_of` sets the state of its outputs: convolutions and pools apply their window,
views and shape-keeping ops pass the state on, residual adds and concats merge, matmuls and attention mix
everything (the global state), and anything else loses it.
"""
from __future__ import annotations

from .. import rf as rfmod
from ..ops.base import DIM_NAMES
from ..ops.registry import RF
from .aten import FORMULAS, ZERO
from .torch_meta import _tensors

VIEW_OPS = {"view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand", "slice",
            "select", "unbind", "split", "split_with_sizes", "unsafe_split", "chunk", "squeeze", "unsqueeze",
            "alias", "as_strided", "detach", "narrow", "diagonal", "unfold", "view_as", "expand_as"}
MERGE_OPS = {"add", "sub", "rsub", "mul", "div", "maximum", "minimum", "where", "cat", "stack", "addcmul",
             "addcdiv"}


def rf_of(tracer, name, args, out, r=None):
    """Set the receptive-field state of the outputs of aten op ``name`` (called with ``args``) on ``tracer``;
    ``r`` is the op layer's answer for the call (convolutions and pools take its receptive-field effect)."""
    outs = _tensors(out)
    if not outs:
        return
    o = outs[0]
    ins = _tensors(args)
    known = [tracer.state(t) for t in ins if tracer.state(t) != "const"]
    if not known:
        return                               # computed from parameters/constants only
    x = ins[0]
    st = tracer.state(x)
    out_rank = max(o.dim() - 2, 0)
    if r is not None and r.call is not None and r.call[1] in ("conv", "pool"):
        new = rfmod.apply(st, r.rf, out_rank)        # the op layer's receptive-field effect (ops/conv.py, pool.py)
    elif name in ("convolution", "_convolution") or name.startswith(("max_pool", "avg_pool", "_adaptive",
                                                                         "adaptive")):
        new = None                                   # the op layer refused these arguments: unknown
    elif name.startswith(("upsample", "_upsample")):
        f = tuple(b / a for a, b in zip(x.shape[2:], o.shape[2:]))
        taps = 1 if "nearest" in name else (4 if "bicubic" in name else 2)
        new = rfmod.apply(st, RF("upsample", (taps,) * len(f), f, ()), out_rank)
    elif name in VIEW_OPS or name in ("clone", "contiguous", "_to_copy", "copy", "flatten", "reshape"):
        if tuple(o.shape) == tuple(x.shape):
            new = st
        elif o.dim() == 2 and x.dim() > 2 and st is not None:
            new = rfmod.GLOBAL_STATE            # flattened: everything mixes downstream
        else:
            new = None
    elif name in ("mean", "sum", "amax", "amin", "max", "min", "var", "std"):
        dims = args[1] if len(args) > 1 else None
        dims = list(range(x.dim())) if dims is None else ([dims] if isinstance(dims, int) else list(dims))
        dims = {d % x.dim() for d in dims}
        spatial = set(range(2, x.dim()))
        new = (rfmod.GLOBAL_STATE if st is not None else None) if spatial and spatial <= dims else \
            (st if not dims & spatial and o.dim() == x.dim() else None)
    elif name in ("mm", "addmm", "bmm", "baddbmm", "_scaled_dot_product_flash_attention",
                  "_scaled_dot_product_efficient_attention"):
        new = rfmod.GLOBAL_STATE if any(s is not None for s in known) else None
    elif name in MERGE_OPS:
        new, warning = rfmod.merge(known, DIM_NAMES.get(len(known[0]), ()) if isinstance(known[0], tuple) else ())
        if warning:
            tracer.module_stats(tracer.stack[-1]).uncounted.setdefault("warning: " + warning, 0)
    elif name in ("embedding", "index_select", "gather", "index", "_unsafe_index"):
        new = None
    elif name in ("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
                  "native_layer_norm", "native_group_norm", "_softmax", "_log_softmax", "_safe_softmax",
                  "constant_pad_nd", "native_dropout") or (name in FORMULAS or name in ZERO) \
            and len(known) == 1 and tuple(o.shape) == tuple(x.shape):
        if name == "constant_pad_nd" and st not in (None, rfmod.GLOBAL_STATE):
            pad = args[1]
            nd = len(st)
            left = tuple(pad[2 * (nd - 1 - i)] for i in range(nd))
            new = rfmod.apply(st, RF("window", (1,) * nd, (1,) * nd, left), out_rank)
        else:
            new = st
    else:
        new = None
    if isinstance(new, tuple) and len(new) != out_rank:
        new = None
    for t in outs:
        tracer.set_state(t, new)
