"""Analyse a real ``torch.nn.Module`` without running real arithmetic.

One forward pass runs on meta tensors (shapes and dtypes only, no data, no memory) through
``torch.func.functional_call`` with meta copies of the parameters and buffers, so the user's model is never
modified (same parameters, device, dtype, mode and hooks afterwards) and models built on the meta device work.
A ``TorchDispatchMode`` sees every aten operator: its cost comes from the formula table in ``aten.py`` and is
attributed to the innermost module running (global module hooks, removed afterwards).  Receptive fields follow
the tensors through convolutions, pools, residual adds and concats with the rules of the text spec.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from math import prod

from .. import rf as rfmod
from ..errors import SpecError
from ..ops.base import DIM_NAMES
from ..ops.registry import RF
from ..report.model import LayerReport, Report, Totals
from .aten import Cost, cost_of, op_name

VIEW_OPS = {"view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand", "slice",
            "select", "unbind", "split", "split_with_sizes", "unsafe_split", "chunk", "squeeze", "unsqueeze",
            "alias", "as_strided", "detach", "narrow", "diagonal", "unfold", "view_as", "expand_as"}
MERGE_OPS = {"add", "sub", "rsub", "mul", "div", "maximum", "minimum", "where", "cat", "stack", "addcmul",
             "addcdiv"}


@dataclass
class ModuleStats:
    cost: Cost = field(default_factory=Cost)
    input_shape: tuple | None = None
    output_shape: tuple | None = None
    output_bytes: int = 0
    rf_state: object = None
    calls: int = 0
    uncounted: dict = field(default_factory=dict)


def _tensors(obj) -> list:
    """Every tensor inside nested lists / tuples / dicts, in order (iterative: it runs for every op)."""
    from torch import Tensor
    found, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            found.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
    return found


def _first_tensor(obj):
    ts = _tensors(obj)
    return ts[0] if ts else None


class _Tracer:
    """State of one traced forward pass."""

    def __init__(self, model, names):
        self.names = names                      # module object id -> qualified name
        self.stack: list[str] = [""]
        self.stats: dict[str, ModuleStats] = {}
        self.states: dict[int, object] = {}     # id(tensor) -> receptive-field state
        self.live = 0
        self.peak = 0
        self.in_spatial: tuple = ()

    def module_stats(self, name):
        s = self.stats.get(name)
        if s is None:
            s = self.stats[name] = ModuleStats()
        return s

    # ---------------------------------------------------------------- memory: tensors alive right now
    def born(self, t):
        n = prod(t.shape) * t.element_size()
        self.live += n
        self.peak = max(self.peak, self.live)
        weakref.finalize(t, self._freed, n)

    def _freed(self, n):
        self.live -= n

    # ---------------------------------------------------------------- receptive fields
    def state(self, t):
        return self.states.get(id(t), "const")

    def set_state(self, t, st):
        key = id(t)
        self.states[key] = st
        weakref.finalize(t, self.states.pop, key, None)

    def rf_of(self, name, args, out):
        outs = _tensors(out)
        if not outs:
            return
        o = outs[0]
        ins = _tensors(args)
        known = [self.state(t) for t in ins if self.state(t) != "const"]
        if not known:
            return                               # computed from parameters/constants only
        x = ins[0]
        st = self.state(x)
        out_rank = max(o.dim() - 2, 0)
        if name in ("convolution", "_convolution"):
            w, stride, padding, dilation, transposed = args[1], args[3], args[4], args[5], bool(args[6])
            k = tuple(w.shape[2:])
            ke = tuple(d * (kk - 1) + 1 for kk, d in zip(k, dilation))
            new = rfmod.apply(st, RF("transposed" if transposed else "window", ke, tuple(stride), tuple(padding),
                                     tuple(dilation)), out_rank)
        elif name.startswith(("max_pool", "avg_pool")):
            nd = x.dim() - 2
            norm = lambda v, d: (tuple(v) * nd if len(v) == 1 else tuple(v)) if isinstance(v, (list, tuple)) and v \
                else ((v,) * nd if isinstance(v, int) else d)  # noqa: E731
            k = norm(args[1], None)
            s = norm(args[2] if len(args) > 2 else [], k) or k
            p = norm(args[3] if len(args) > 3 else 0, (0,) * nd)
            d = norm(args[4] if len(args) > 4 and name.startswith("max") else 1, (1,) * nd)
            ke = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
            new = rfmod.apply(st, RF("window", ke, s, p), out_rank)
        elif "adaptive" in name:
            sp_in, sp_out = tuple(x.shape[2:]), tuple(o.shape[2:])
            if all(n == 1 for n in sp_out):
                new = rfmod.GLOBAL_STATE if st is not None else None
            elif all(L % n == 0 for L, n in zip(sp_in, sp_out)):
                kk = tuple(L // n for L, n in zip(sp_in, sp_out))
                new = rfmod.apply(st, RF("window", kk, kk, (0,) * len(kk)), out_rank)
            else:
                new = None
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
                self.module_stats(self.stack[-1]).uncounted.setdefault("warning: " + warning, 0)
        elif name in ("embedding", "index_select", "gather", "index", "_unsafe_index"):
            new = None
        elif name in ("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
                      "native_layer_norm", "native_group_norm", "_softmax", "_log_softmax", "_safe_softmax",
                      "constant_pad_nd", "native_dropout") or cost_of(name, args, {}, out) is not None \
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
            self.set_state(t, new)


#: meta kernels written as slow Python decompositions (batch norm costs ~0.6 ms a call): their outputs depend
#: only on the inputs' metadata, so repeated calls build the outputs from a cache instead of running them
_SLOW_META = {"native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
              "native_layer_norm", "native_group_norm", "hardtanh", "gelu", "_softmax", "_safe_softmax",
              "_log_softmax", "silu", "hardswish", "hardsigmoid", "convolution", "addmm", "mm", "bmm",
              "max_pool2d_with_indices", "avg_pool2d", "cat", "mean", "relu", "sigmoid", "add", "mul"}
_META_CACHE: dict = {}
_INPLACE_SAME = {"hardtanh_", "relu_", "sigmoid_", "silu_", "hardswish_", "hardsigmoid_", "gelu_", "tanh_",
                 "leaky_relu_", "elu_", "clamp_", "clamp_min_", "mish_", "selu_"}


def _run_cached(func, a, k, flat):
    """func(*a, **k) on meta tensors; for slow non-aliasing ops, outputs rebuilt from cached metadata."""
    import torch
    packet = func.overloadpacket.__name__
    if packet in _INPLACE_SAME and flat and flat[0] is a[0] and all(t.device.type == "meta" for t in flat):
        return a[0]                 # an in-place elementwise op leaves its input's metadata as it was
    if packet not in _SLOW_META or any(r.alias_info is not None for r in func._schema.returns) \
            or not flat or any(t.device.type != "meta" for t in flat):
        return func(*a, **k)

    def meta_key(v):
        if isinstance(v, torch.Tensor):
            return ("T", tuple(v.shape), v.stride(), v.dtype)
        if isinstance(v, (list, tuple)):
            return tuple(meta_key(i) for i in v)
        if isinstance(v, dict):
            return tuple(sorted((key, meta_key(i)) for key, i in v.items()))
        return v if isinstance(v, (int, float, bool, str, type(None), torch.dtype)) else repr(v)

    try:
        key = (func, meta_key(a), meta_key(k))
        hash(key)
    except TypeError:
        return func(*a, **k)
    spec = _META_CACHE.get(key)
    if spec is None:
        out = func(*a, **k)
        if len(_META_CACHE) > 50_000:
            _META_CACHE.clear()
        if isinstance(out, torch.Tensor):
            _META_CACHE[key] = ("T", tuple(out.shape), out.stride(), out.dtype)
        elif isinstance(out, tuple) and all(isinstance(o, torch.Tensor) for o in out):
            _META_CACHE[key] = ("tuple", tuple((tuple(o.shape), o.stride(), o.dtype) for o in out))
        return out
    if spec[0] == "T":
        return torch.empty_strided(spec[1], spec[2], dtype=spec[3], device="meta")
    return tuple(torch.empty_strided(s, st, dtype=dt, device="meta") for s, st, dt in spec[1])


def _meta_like(obj, dtypes=None):
    import torch
    if isinstance(obj, torch.Tensor):
        return torch.empty(obj.shape, dtype=obj.dtype, device="meta")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_meta_like(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _meta_like(v) for k, v in obj.items()}
    return obj


def _inputs(input_size, input_data, dtypes):
    """(args, kwargs) of meta tensors for the forward call."""
    import torch
    if input_data is not None:
        if isinstance(input_data, dict):
            return (), _meta_like(input_data)
        if isinstance(input_data, torch.Tensor):
            return (_meta_like(input_data),), {}
        return tuple(_meta_like(list(input_data))), {}
    if input_size is None:
        raise SpecError("analysing a torch model needs input_size=(N, C, H, W) (or a list of sizes), "
                        "or input_data=")
    sizes = [input_size] if all(isinstance(v, int) for v in input_size) else list(input_size)
    dtypes = dtypes or [torch.float32] * len(sizes)
    if len(dtypes) != len(sizes):
        raise SpecError(f"dtypes has {len(dtypes)} entries for {len(sizes)} inputs")
    out = []
    for s, dt in zip(sizes, dtypes):
        if not all(isinstance(v, int) and v >= 1 for v in s):
            raise SpecError(f"input sizes must be whole numbers >= 1, got {tuple(s)}")
        out.append(torch.empty(tuple(s), dtype=dt, device="meta"))
    return tuple(out), {}


def analyze_module(model, input_size=None, *, input_data=None, dtypes=None, depth: int = 3,
                   kwargs: dict | None = None) -> Report:
    import torch
    from torch.func import functional_call
    from torch.utils._python_dispatch import TorchDispatchMode

    from torch.nn.parameter import UninitializedParameter
    lazy = [n for n, p in model.named_parameters() if isinstance(p, UninitializedParameter)]
    if lazy:
        raise SpecError(f"the model has uninitialized lazy parameters ({', '.join(lazy[:3])}"
                        f"{', ...' if len(lazy) > 3 else ''}): run one real forward first so their shapes are known")
    names = {}
    for name, m in model.named_modules():
        names.setdefault(id(m), name)
    tracer = _Tracer(model, names)
    args, kw = _inputs(input_size, input_data, dtypes)
    kw = dict(kw, **_meta_like(dict(kwargs or {})))     # tensors in kwargs= become meta like the inputs
    first_in = _first_tensor((args, kw))
    in_shape = tuple(first_in.shape) if first_in is not None else ()
    tracer.in_spatial = in_shape[2:] if len(in_shape) >= 3 else ()
    tracer.input_bytes = sum(prod(t.shape) * t.element_size() for t in _tensors((args, kw)))
    for t in _tensors((args, kw)):
        tracer.born(t)
        tracer.set_state(t, rfmod.initial_state(tuple(t.shape[2:])) if t.dim() >= 3 and t.is_floating_point()
                         else None)

    # unique parameters and buffers (shared weights once), as meta tensors
    owner_params: dict[str, int] = {}
    owner_buffers: dict[str, int] = {}
    owner_pbytes: dict[str, int] = {}
    owner_bbytes: dict[str, int] = {}
    kernel: dict[str, tuple] = {}
    seen = set()
    meta_state = {}
    metas: dict[int, object] = {}   # id(real tensor) -> its one meta copy: tied tensors stay tied for functional_call

    def meta_of(t):
        if id(t) not in metas:
            metas[id(t)] = torch.empty(t.shape, dtype=t.dtype, device="meta")
        return metas[id(t)]

    for mname, m in model.named_modules():
        for tensors, counts, nbytes in ((m.named_parameters(recurse=False, remove_duplicate=False), owner_params,
                                         owner_pbytes),
                                        (m.named_buffers(recurse=False, remove_duplicate=False), owner_buffers,
                                         owner_bbytes)):
            for tname, t in tensors:
                if t is None:
                    continue
                meta_state[f"{mname}.{tname}" if mname else tname] = meta_of(t)
                if id(t) in seen:                   # shared / tied: counted once, at its first owner
                    continue
                seen.add(id(t))
                counts[mname] = counts.get(mname, 0) + t.numel()
                nbytes[mname] = nbytes.get(mname, 0) + t.numel() * t.element_size()
        w = getattr(m, "weight", None)
        if isinstance(w, torch.Tensor) and w.dim() >= 2:
            kernel[mname] = tuple(w.shape)

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, a=(), k=None):
            k = k or {}
            flat = _tensors((a, k))
            if any(t.device.type == "meta" for t in flat) and any(t.device.type != "meta" for t in flat):
                # a real tensor the model keeps outside its parameters and buffers (a plain attribute, a
                # constant made in forward): use its shape only, never its values or the user's object
                from torch.utils._pytree import tree_map
                a, k = tree_map(lambda t: _meta_like(t) if isinstance(t, torch.Tensor) and t.device.type != "meta"
                                else t, (a, k))
            out = _run_cached(func, a, k, flat)
            name = op_name(func)
            here = tracer.module_stats(tracer.stack[-1])
            c = cost_of(name, a, k, out)
            if c is None:
                here.uncounted[name] = here.uncounted.get(name, 0) + 1
            else:
                here.cost += c
            if not (name in VIEW_OPS or func.overloadpacket.__name__.endswith("_")):
                for t in _tensors(out):
                    if t.device.type == "meta":
                        tracer.born(t)
            try:
                tracer.rf_of(name, a, out)
            except Exception:            # a receptive-field rule must never break the count
                for t in _tensors(out):
                    tracer.set_state(t, None)
            return out

    def pre(m, a):
        name = tracer.names.get(id(m))
        if name is None:
            return
        tracer.stack.append(name)
        s = tracer.module_stats(name)
        s.calls += 1
        t = _first_tensor(a)
        if s.input_shape is None and t is not None:
            s.input_shape = tuple(t.shape)

    def post(m, a, out):
        name = tracer.names.get(id(m))
        if name is None:
            return
        s = tracer.module_stats(name)
        t = _first_tensor(out)
        if t is not None:
            if s.output_shape is None:
                s.output_shape = tuple(t.shape)
                s.output_bytes = prod(t.shape) * t.element_size()
            s.rf_state = tracer.state(t)
        if tracer.stack and tracer.stack[-1] == name:
            tracer.stack.pop()

    originals = [(m, dict(m._parameters), dict(m._buffers)) for m in model.modules()]
    h1 = torch.nn.modules.module.register_module_forward_pre_hook(pre)
    h2 = torch.nn.modules.module.register_module_forward_hook(post)
    try:
        with torch.no_grad(), Mode():
            # every (module, name) slot is swapped exactly once (modules deduplicated, tied tensors given the
            # same meta copy); torch's own tie_weights=True swaps a module reached under several names several
            # times and restores the meta copy, not the user's tensor
            output = functional_call(model, meta_state, args, kw, strict=False, tie_weights=False)
    except SpecError:
        raise
    except Exception as e:  # the model's own code failed on shapes-only tensors
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = ""
        if "meta" in msg.lower() or "item()" in msg or "data-dependent" in msg.lower():
            hint = "; cnncalc runs the forward on shapes only (meta tensors): code that reads tensor values " \
                   "cannot be analysed"
        raise SpecError(f"the model's forward failed on inputs {[tuple(t.shape) for t in _tensors((args, kw))]}: "
                        f"{type(e).__name__}: {msg}{hint}") from None
    finally:
        h1.remove()
        h2.remove()
        _restore(originals)
    root = tracer.module_stats("")
    out_t = _first_tensor(output)
    if out_t is not None:
        root.output_shape = root.output_shape or tuple(out_t.shape)
        root.rf_state = tracer.state(out_t)
    root.input_shape = root.input_shape or in_shape        # inputs given as keyword arguments only
    return _report(model, tracer, depth, owner_params, owner_buffers, owner_pbytes, owner_bbytes, kernel, in_shape)


def _restore(originals):
    """Safety net: put back any parameter or buffer the forward left swapped (the user's model is never changed)."""
    for m, params, buffers in originals:
        for slots, orig in ((m._parameters, params), (m._buffers, buffers)):
            for k, v in orig.items():
                if slots.get(k) is not v:
                    setattr(m, k, v) if v is not None else slots.__setitem__(k, None)
            for k in [k for k in slots if k not in orig]:
                del slots[k]


def _report(model, tracer, depth, owner_params, owner_buffers, owner_pbytes, owner_bbytes, kernel, in_shape):
    # rows: modules down to `depth` in pre-order; a row's figures are its own plus those of every
    # descendant below the cut, so the totals are sums of the rows
    all_names = [n for n, _ in model.named_modules()]
    kinds = {n: type(m).__name__ for n, m in model.named_modules()}

    def level(n):
        return 0 if n == "" else n.count(".") + 1

    def row_of(n):
        cur = n
        while level(cur) > depth:
            cur = cur.rsplit(".", 1)[0] if "." in cur else ""
        return cur

    agg: dict[str, dict] = {}
    for n in all_names:
        r = row_of(n)
        a = agg.setdefault(r, {"cost": Cost(), "params": 0, "buffers": 0, "pbytes": 0, "bbytes": 0,
                               "uncounted": {}})
        s = tracer.stats.get(n)
        if s:
            a["cost"] += s.cost
            for k, v in s.uncounted.items():
                a["uncounted"][k] = a["uncounted"].get(k, 0) + v
        a["params"] += owner_params.get(n, 0)
        a["buffers"] += owner_buffers.get(n, 0)
        a["pbytes"] += owner_pbytes.get(n, 0)
        a["bbytes"] += owner_bbytes.get(n, 0)
    layers = []
    uncounted: dict[str, int] = {}
    warnings = []
    index = 0
    for n in all_names:
        if n not in agg:
            continue
        s = tracer.stats.get(n) or ModuleStats()
        a = agg[n]
        if n and s.calls == 0 and not a["params"]:
            continue                                   # never called, holds nothing
        index += 1
        c = a["cost"]
        unc = {k: v for k, v in a["uncounted"].items() if not k.startswith("warning: ")}
        warn = tuple(k[len("warning: "):] for k in a["uncounted"] if k.startswith("warning: "))
        for k, v in unc.items():
            uncounted[k] = uncounted.get(k, 0) + v
        if unc:
            warn += (f"uncounted ops: {', '.join(f'{k} x{v}' for k, v in sorted(unc.items()))}",)
        name = n or type(model).__name__
        warnings += [f"{name}: {w}" for w in warn]
        layers.append(LayerReport(
            index=index, name=name, kind=kinds[n], label=n or None,
            input_shape=s.input_shape or (), output_shape=s.output_shape or (),
            params=a["params"], trainable_params=a["params"], non_trainable_params=0, buffers=a["buffers"],
            macs=c.macs, flops=c.flops, mults=c.mults, adds=c.adds, activation_bytes=s.output_bytes,
            param_bytes=a["pbytes"], buffer_bytes=a["bbytes"],
            rf=rfmod.describe(s.rf_state, tracer.in_spatial) if s.rf_state not in ("const",) else None,
            kernel_shape=kernel.get(n), warnings=warn, text=kinds[n], depth=level(n)))
    # trainable split from requires_grad of the real parameters
    frozen = {}
    seen = set()
    for mname, m in model.named_modules():
        for p in m.parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            if not p.requires_grad:
                r = row_of(mname)
                frozen[r] = frozen.get(r, 0) + p.numel()
    if frozen:
        from dataclasses import replace
        layers = [replace(l, trainable_params=l.params - frozen.get(l.label or "", 0),
                          non_trainable_params=frozen.get(l.label or "", 0)) for l in layers]
    layers = tuple(layers)
    import torch
    p0 = next(iter(model.parameters()), None)
    dt = p0.dtype if p0 is not None else torch.float32
    return Report("pytorch", in_shape, str(dt).replace("torch.", ""), dt.itemsize if hasattr(dt, "itemsize")
                  else torch.empty((), dtype=dt).element_size(), layers, Totals.of(layers),
                  input_bytes=tracer.input_bytes, warnings=tuple(warnings), peak_activation_bytes=tracer.peak,
                  uncounted_ops=dict(sorted(uncounted.items())), source="torch")
