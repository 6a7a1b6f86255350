"""Analyse a real ``torch.nn.Module`` without running real arithmetic.

One forward pass runs on meta tensors (shapes and dtypes only, no data, no memory) through
``torch.func.functional_call`` with meta copies of the parameters and buffers, so the user's model is never
modified (same parameters, device, dtype, mode and hooks afterwards) and models built on the meta device work.
A ``TorchDispatchMode`` sees every aten operator: its cost comes from the formula table in ``aten.py`` and is
attributed to the innermost module running (global module hooks, removed afterwards).  Receptive fields follow
the tensors through convolutions, pools, residual adds and concats with the rules of the text spec
(``torch_rf.py``).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from math import prod

from .. import rf as rfmod
from ..errors import SpecError
from ..i18n import Msg
from ..report.model import LayerReport, Report, Totals
from . import torch_rf
from .aten import Cost, counted, op_name
from .torch_explain import OpRecord, row_steps
from .torch_inputs import meta_inputs, real_inputs
from .torch_meta import _first_tensor, _meta_like, _run_cached, _tensors
from .torch_rf import VIEW_OPS


@dataclass
class ModuleStats:
    cost: Cost = field(default_factory=Cost)
    input_shape: tuple | None = None
    output_shape: tuple | None = None
    output_bytes: int = 0
    rf_state: object = None
    calls: int = 0
    uncounted: dict = field(default_factory=dict)
    ops: dict = field(default_factory=dict)        # OpRecord -> calls: the op layer's worked formulas
    call_shapes: list = field(default_factory=list)  # [input shape, output shape] of each call (the first 8)


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

    def rf_of(self, name, args, out, r=None):
        torch_rf.rf_of(self, name, args, out, r)


#: a model whose forward reads tensor values is run on real CPU tensors, up to this many parameter elements
MAX_REAL_PARAMS = 2_000_000_000
DATA_DEPENDENT = ("nonzero", "item()", "data-dependent", "_local_scalar_dense", "Cannot copy out of meta",
                  "meta tensor", "NotImplementedError", "data dependent")


def analyze_module(model, input_size=None, *, input_data=None, dtypes=None, depth: int = 3,
                   kwargs: dict | None = None, train: bool = False, optimizer: str = "sgd", amp=None) -> Report:
    """The model traced on meta tensors; when its forward reads tensor values (``nonzero``, ``.item()``, a
    data-dependent shape), on real CPU tensors instead (random inputs of the given sizes, no gradients, the
    user's parameters read but never written, buffers copied), with the report saying so."""
    try:
        return _analyze_module(model, input_size, input_data=input_data, dtypes=dtypes, depth=depth,
                               kwargs=kwargs, train=train, optimizer=optimizer, amp=amp)
    except _DataDependent as dd:
        import torch
        params = list(model.parameters()) + list(model.buffers())
        if any(p.device.type == "meta" for p in params):
            raise NeedsRealTensors(Msg("err.torch.model_s_forward_reads_tensor", why=dd.why)) from None
        n = sum(p.numel() for p in params)
        if n > MAX_REAL_PARAMS:
            raise SpecError(Msg("err.torch.model_s_forward_reads_tensor_2", why=dd.why, n=n, MAX_REAL_PARAMS=MAX_REAL_PARAMS)) from None
        with torch.no_grad():
            report = _analyze_module(model, input_size, input_data=input_data, dtypes=dtypes, depth=depth,
                                     kwargs=kwargs, train=train, optimizer=optimizer, amp=amp, real=True)
        from dataclasses import replace
        given = input_data is not None and any(t.device.type != "meta" for t in _tensors(input_data))
        what = Msg("fe.torch.given_input_data") if given else Msg("fe.torch.random_input_given_size")
        note = (Msg("fe.torch.forward_reads_tensor_values_ran", why=dd.why, what=what))
        return replace(report, warnings=(note,) + report.warnings)


class NeedsRealTensors(SpecError):
    """A model on the meta device whose forward reads tensor values (the CLI then builds it on the CPU)."""


class _DataDependent(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _analyze_module(model, input_size=None, *, input_data=None, dtypes=None, depth: int = 3,
                    kwargs: dict | None = None, train: bool = False, optimizer: str = "sgd", amp=None,
                    real: bool = False) -> Report:
    import torch
    from torch.func import functional_call
    from torch.utils._python_dispatch import TorchDispatchMode

    from torch.nn.parameter import UninitializedParameter
    lazy = [n for n, p in model.named_parameters() if isinstance(p, UninitializedParameter)]
    if lazy:
        raise SpecError(Msg("err.torch.model_has_uninitialized_lazy_parameters", p=', '.join(lazy[:3]), p2=', ...' if len(lazy) > 3 else ''))
    names = {}
    for name, m in model.named_modules():
        names.setdefault(id(m), name)
    tracer = _Tracer(model, names)
    args, kw = (real_inputs if real else meta_inputs)(input_size, input_data, dtypes, kwargs)
    first_in = _first_tensor((args, kw))
    in_shape = tuple(first_in.shape) if first_in is not None else ()
    # a list of images (torchvision's detection models: List[Tensor[C, H, W]]): the batch is their count
    images = args[0] if args and isinstance(args[0], (list, tuple)) else None
    batch_size = len(images) if images and all(isinstance(t, torch.Tensor) and t.dim() == 3 for t in images) \
        else None
    tracer.in_spatial = in_shape[2:] if len(in_shape) >= 3 else ()
    tracer.input_bytes = sum(prod(t.shape) * t.element_size() for t in _tensors((args, kw)))
    trace = None
    for t in _tensors((args, kw)):
        tracer.born(t)
        tracer.set_state(t, rfmod.initial_state(tuple(t.shape[2:])) if t.dim() >= 3 and t.is_floating_point()
                         else None)

    # unique parameters and buffers (shared weights once), as meta tensors
    owner_params: dict[str, int] = {}
    owner_buffers: dict[str, int] = {}
    owner_pbytes: dict[str, int] = {}
    owner_bbytes: dict[str, int] = {}
    owner_tensors: dict[str, list] = {}             # module -> [(parameter name, shape)] it owns
    kernel: dict[str, tuple] = {}
    seen = set()
    meta_state = {}
    metas: dict[int, object] = {}   # id(real tensor) -> its one meta copy: tied tensors stay tied for functional_call

    buffer_ids = {id(b) for b in model.buffers()}

    def meta_of(t):
        if id(t) not in metas:
            if real:                                 # parameters read as they are; buffers copied (BN stats)
                metas[id(t)] = t.detach().clone() if id(t) in buffer_ids else t
            else:
                m = metas[id(t)] = torch.empty(t.shape, dtype=t.dtype, device="meta")
                if train and t.requires_grad and id(t) not in buffer_ids:
                    m.requires_grad_()               # aten takes the paths it takes when a step will follow
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
                if counts is owner_params:
                    owner_tensors.setdefault(mname, []).append((tname, tuple(t.shape)))
                nbytes[mname] = nbytes.get(mname, 0) + t.numel() * t.element_size()
        w = getattr(m, "weight", None)
        if isinstance(w, torch.Tensor) and w.dim() >= 2:
            kernel[mname] = tuple(w.shape)
    if train:
        from .torch_train import TrainTrace
        grads = {id(metas[id(p)]): p.requires_grad for p in model.parameters() if id(p) in metas}
        grads.update({id(metas[id(b)]): False for b in model.buffers() if id(b) in metas})
        # modules that keep their own references (nn.LSTM's flat weights) pass the real tensors to aten
        grads.update({id(p): p.requires_grad for p in model.parameters()})
        grads.update({id(b): False for b in model.buffers()})
        trace = TrainTrace(grads)
        for t in _tensors((args, kw)):
            trace.add_input(t)

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
            try:
                r = counted(name, a, k, out)
            except SpecError as e:                   # the op layer refuses arguments torch accepted
                r = None
                here.uncounted.setdefault(f"warning: {name}: {e.message}", 0)
            o = _first_tensor(out)
            o_shape = tuple(o.shape) if o is not None else ()
            if r is not None and r.output_shape and r.output_shape != o_shape:
                here.uncounted.setdefault(Msg("fe.torch.warning_op_layer_s_output", name=name, output_shape=r.output_shape, o_shape=o_shape), 0)
                r = None
            if r is None:
                here.uncounted[name] = here.uncounted.get(name, 0) + 1
            else:
                here.cost += r
                if r.steps:
                    rec = OpRecord(name, tuple(tuple(t.shape) for t in flat), o_shape, r.steps)
                    here.ops[rec] = here.ops.get(rec, 0) + 1
            if not (name in VIEW_OPS or func.overloadpacket.__name__.endswith("_")):
                for t in _tensors(out):
                    if t.device.type == "meta" or real:
                        tracer.born(t)
            if trace is not None:
                trace.op(name, tracer.stack[-1], func.overloadpacket.__name__, flat, _tensors(out), r)
            try:
                tracer.rf_of(name, a, out, r)
            except Exception:            # a receptive-field rule must never break the count
                for t in _tensors(out):
                    tracer.set_state(t, None)
            return out

    def pre(m, a):
        name = tracer.names.get(id(m))
        if name is None:
            return
        tracer.stack.append(name)
        if trace is not None:
            trace.enter(name, _tensors(a))
        s = tracer.module_stats(name)
        s.calls += 1
        t = _first_tensor(a)
        if s.input_shape is None and t is not None:
            s.input_shape = tuple(t.shape)
        if len(s.call_shapes) < 8:
            s.call_shapes.append([tuple(t.shape) if t is not None else (), None])

    def post(m, a, out):
        name = tracer.names.get(id(m))
        if name is None:
            return
        s = tracer.module_stats(name)
        t = _first_tensor(out)
        if s.call_shapes and s.call_shapes[-1][1] is None and len(s.call_shapes) <= s.calls:
            s.call_shapes[-1][1] = tuple(t.shape) if t is not None else ()
        if t is not None:
            if s.output_shape is None:
                s.output_shape = tuple(t.shape)
                s.output_bytes = prod(t.shape) * t.element_size()
            s.rf_state = tracer.state(t)
        if tracer.stack and tracer.stack[-1] == name:
            tracer.stack.pop()
        if trace is not None:
            trace.leave(name)

    originals = [(m, dict(m._parameters), dict(m._buffers), dict(m.__dict__)) for m in model.modules()]
    h1 = torch.nn.modules.module.register_module_forward_pre_hook(pre)
    h2 = torch.nn.modules.module.register_module_forward_hook(post)
    try:
        # a training step is traced with gradients on (meta tensors: autograd's records cost nothing), as aten
        # chooses some paths by it: a matmul of a 3-d input folds it into a copy when gradients will be needed
        grad_mode = torch.enable_grad() if train and not real else torch.no_grad()
        # and GRU / RNN layers take the CPU's path, which meta tensors would not (torch_rnn_cpu.py)
        from contextlib import nullcontext

        from .torch_rnn_cpu import cpu_recurrent_mode
        recurrent_mode = cpu_recurrent_mode(trace.hold if trace is not None else None) if train and not real and \
            any(isinstance(m, torch.nn.RNNBase) for m in model.modules()) else nullcontext()
        with grad_mode, Mode(), recurrent_mode:
            # every (module, name) slot is swapped exactly once (modules deduplicated, tied tensors given the
            # same meta copy); torch's own tie_weights=True swaps a module reached under several names several
            # times and restores the meta copy, not the user's tensor
            output = functional_call(model, meta_state, args, kw, strict=False, tie_weights=False)
    except SpecError:
        raise
    except Exception as e:  # the model's own code failed on shapes-only tensors
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = ""
        floats = [t for t in _tensors((args, kw)) if t.is_floating_point()]
        if floats and ("indices" in msg or ("Long" in msg and "Float" in msg) or "Embedding" in msg):
            hint = Msg("fe.torch.token_ids_are_integers_give")
        elif not real and any(k.lower() in f"{type(e).__name__}: {msg}".lower() for k in DATA_DEPENDENT):
            raise _DataDependent(f"{type(e).__name__}: {msg[:160]}") from None
        raise SpecError(Msg("err.torch.model_s_forward_failed_on", p=[tuple(t.shape) for t in _tensors((args, kw))], name=type(e).__name__, msg=msg, hint=hint)) from None
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
    report = _report(model, tracer, depth, owner_params, owner_buffers, owner_pbytes, owner_bbytes, kernel,
                     in_shape, owner_tensors)
    from dataclasses import replace
    if batch_size is not None:
        report = replace(report, batch_size=batch_size)
    if trace is None:
        return report

    from .torch_train import finish
    rows = {(row.label or ""): row.name for row in report.layers}
    result = finish(trace, out_t, rows, act_bytes=report.dtype_bytes, optimizer=optimizer, amp=amp,
                    buffer_bytes=report.totals.buffer_bytes)
    warnings = report.warnings + tuple(Msg("fe.torch.training_memory_no_rule_what", k=k, v=v) for k, v in sorted(trace.unknown.items()))
    warnings += tuple(trace.attention_warnings())
    # LSTM follows aten's step-by-step loop (the CPU runs oneDNN's kernel), a packed GRU / RNN too
    others = getattr(recurrent_mode, "others", 0)
    recurrent = [name for name, m in model.named_modules() if isinstance(m, torch.nn.RNNBase)
                 and (m.mode == "LSTM" or others) and name in tracer.stats and tracer.stats[name].calls]
    if recurrent:
        warnings += (Msg("fe.torch.training_recurrent_estimate", p=", ".join(recurrent[:3]) +
                         (", ..." if len(recurrent) > 3 else "")),)
    return replace(report, training=result, warnings=warnings)


def _restore(originals):
    """Safety net: put back any parameter or buffer the forward left swapped, and any attribute it set (the
    user's model is never changed: a forward that caches tensors in attributes, as torchvision's anchor
    generators do with ``self.cell_anchors = [a.to(device) ...]``, would otherwise keep meta tensors)."""
    for m, params, buffers, attrs in originals:
        now = m.__dict__
        for k in [k for k in now if k not in attrs]:
            del now[k]
        for k, v in attrs.items():
            if now.get(k) is not v:
                now[k] = v
        for slots, orig in ((m._parameters, params), (m._buffers, buffers)):
            for k, v in orig.items():
                if slots.get(k) is not v:
                    setattr(m, k, v) if v is not None else slots.__setitem__(k, None)
            for k in [k for k in slots if k not in orig]:
                del slots[k]


def _report(model, tracer, depth, owner_params, owner_buffers, owner_pbytes, owner_bbytes, kernel, in_shape,
            owner_tensors):
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
                               "uncounted": {}, "members": []})
        s = tracer.stats.get(n)
        a["members"].append(n)
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
        if n and s.calls == 0 and not a["params"] and not a["buffers"]:
            continue                                   # never called, holds nothing
        index += 1
        c = a["cost"]
        unc = {k: v for k, v in a["uncounted"].items() if not k.startswith("warning: ")}
        warn = tuple(k[len("warning: "):] for k in a["uncounted"] if k.startswith("warning: "))
        for k, v in unc.items():
            uncounted[k] = uncounted.get(k, 0) + v
        if unc:
            warn += (Msg("fe.onnx.uncounted_ops", p=', '.join(f'{k} x{v}' for k, v in sorted(unc.items()))),)
        name = n or type(model).__name__
        warnings += [f"{name}: {w}" for w in warn]
        layers.append(LayerReport(
            index=index, name=name, kind=kinds[n], label=n or None,
            input_shape=s.input_shape or (), output_shape=s.output_shape or (),
            params=a["params"], trainable_params=a["params"], non_trainable_params=0, buffers=a["buffers"],
            macs=c.macs, flops=c.flops, mults=c.mults, adds=c.adds, activation_bytes=s.output_bytes,
            param_bytes=a["pbytes"], buffer_bytes=a["bbytes"],
            rf=rfmod.describe(s.rf_state, tracer.in_spatial) if s.rf_state not in ("const",) else None,
            kernel_shape=kernel.get(n), warnings=warn, text=kinds[n], depth=level(n),
            steps=row_steps(n, a["members"], tracer.stats, owner_tensors, owner_params, c, unc)))
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
