"""One training step, simulated on shapes: forward, backward, optimizer step -- memory over time and its peak.

Each front-end gives the step as a list of :class:`TNode` (forward order): the tensors a layer reads and makes,
its parameters, and the op layer's backward rule (``ops/training.py``: what autograd saves, backward MACs).  The
simulation then follows storage lifetimes as PyTorch's autograd does:

- **forward**: a layer's output is allocated (an in-place layer reuses its input's storage); tensors the rule
  saves, and tensors later layers still read, stay alive; the others are freed after their last reader;
- **backward** (reverse order): the gradient of a layer's output is alive while the layer's backward runs; it
  allocates the gradient of each input that needs one and the gradients of its trainable parameters (they stay);
  then its output's gradient and its saved tensors are released;
- **optimizer step**: the state (``sgd`` none, ``momentum`` one buffer, ``adam`` / ``adamw`` two buffers and a
  step counter per parameter tensor) and the temporaries of the update (Adam: two tensors of the parameter being
  updated).

The step simulated is a steady-state one (the second): gradients were set to None by ``zero_grad()`` and are
re-allocated during the backward; the optimizer state exists from the start.  With ``amp``, activations and
their gradients are half precision and autocast keeps a half-precision copy of every weight for the forward and
backward; parameters, gradients and optimizer state stay float32 (master weights).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial

from .errors import SpecError, did_you_mean
from .i18n import Msg
from .ops.training import DTYPE_BYTES, Backward, same_inputs, saved_steps

OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: temporaries of one parameter tensor's update, in units of that tensor (Adam: sqrt(v), then / bias correction)
UPDATE_TEMPS = {"sgd": 0, "momentum": 0, "adam": 2, "adamw": 2}
AMP = {"fp16": 2, "bf16": 2, "float16": 2, "bfloat16": 2}


@dataclass(slots=True)
class TNode:
    """One layer (or op) of the step."""

    name: str
    inputs: tuple                    # tensor ids read
    output: str                      # tensor id made
    out_bytes: int
    backward: Backward
    trainable: int = 0               # parameter elements that get a gradient
    frozen: int = 0
    param_tensors: tuple = ()        # element counts of its trainable parameter tensors (optimizer temporaries)
    shapes: dict = field(default_factory=dict)   # "in0"/"out" -> shape, for explanations
    weight_grad: bool | None = None  # reads weights that need a gradient (None: trainable > 0); a weight shared
    #                                  by several ops has its elements counted at its first op only
    extra_grad: int = 0              # elements of weight-gradient pieces made here and added into a buffer that
    #                                  a later op of the forward (earlier in the backward) already holds
    no_grad: bool = False            # its output gets no gradient although its input does (autograd's copy of
    #                                  the original input of an in-place product, which that product keeps)


@dataclass(frozen=True)
class Event:
    phase: str                       # "forward", "backward", "optimizer"
    layer: str
    total: int
    activations: int                 # saved and live activations and their gradients
    gradients: int
    temporaries: int = 0             # the optimizer update's
    detail: str = ""


@dataclass(frozen=True)
class TrainingResult:
    optimizer: str
    amp: str | None
    param_bytes: int
    buffer_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    weight_copy_bytes: int           # amp: half-precision copies of the weights
    saved_bytes: int                 # everything autograd keeps at the end of the forward pass
    peak_bytes: int
    peak_phase: str
    peak_layer: str
    peak_activations: int
    peak_gradients: int
    peak_temporaries: int            # the optimizer update's temporaries, when the peak is in the step
    backward_input_macs: int
    backward_weight_macs: int
    backward_input_flops: int
    backward_weight_flops: int
    events: tuple                    # (phase, layer, activations, gradients, temporaries, detail) per event
    per_layer: dict                  # name -> {"saved_bytes", "input_macs", "weight_macs", ...}

    @cached_property
    def timeline(self) -> tuple[Event, ...]:
        """Memory over the step: one event per layer in the forward and in the backward, then the update."""
        base = self.param_bytes + self.buffer_bytes + self.optimizer_bytes + self.weight_copy_bytes
        return tuple(Event(ph, layer, base + a + g + t, a, g, t, d) for ph, layer, a, g, t, d in self.events)

    @property
    def backward_macs(self) -> int:
        return self.backward_input_macs + self.backward_weight_macs

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in (
            "optimizer", "amp", "param_bytes", "buffer_bytes", "gradient_bytes", "optimizer_bytes",
            "weight_copy_bytes", "saved_bytes", "peak_bytes", "peak_phase", "peak_layer", "peak_activations",
            "peak_gradients", "peak_temporaries", "backward_input_macs", "backward_weight_macs", "backward_input_flops",
            "backward_weight_flops")}
        d["backward_macs"] = self.backward_macs
        d["timeline"] = [e.__dict__ for e in self.timeline]
        return d


def _wgrad(n: TNode) -> bool:
    return n.trainable > 0 if n.weight_grad is None else n.weight_grad


def check_optimizer(optimizer: str, amp) -> tuple[str, str | None]:
    opt = str(optimizer).lower()
    if opt not in OPTIMIZERS:
        raise SpecError(Msg("err.train.unknown_optimizer_choose_one", optimizer=optimizer, p=', '.join(OPTIMIZERS), did_you_mean=did_you_mean(str(optimizer), list(OPTIMIZERS))))
    if amp is not None and str(amp).lower() not in AMP:
        raise SpecError(Msg("err.train.unknown_amp_choose_fp_bf", amp=amp, did_you_mean=did_you_mean(str(amp), list(AMP))))
    return opt, (None if amp is None else str(amp).lower())


def simulate(nodes: list[TNode], inputs: dict, *, act_bytes: int, param_bytes_each: int = 4, buffer_bytes: int = 0,
             optimizer: str = "sgd", amp: str | None = None, storages: tuple | None = None,
             final: str | None = None, grads_in_forward: bool = False, state_bytes: int | None = None,
             update_temps: int | None = None, hold: frozenset = frozenset(),
             keep: frozenset = frozenset(), read_until: dict | None = None) -> TrainingResult:
    """``inputs``: network input tensor id -> bytes (they need no gradient).  ``act_bytes``: bytes per element of
    activations (2 with amp).  ``storages``: (tensor id -> storage key, storage key -> bytes, tensor id -> bytes)
    when the front-end knows which tensors share memory (views, in-place ops); else in-place layers share.
    ``grads_in_forward``: the previous step's gradients are still alive during the forward (Keras calls
    ``zero_grad()`` after it); ``state_bytes`` / ``update_temps``: the optimizer's state and the update's
    temporaries in bytes when the framework's optimizer differs from PyTorch's (Keras).  ``hold``: tensor ids
    alive until the forward pass ends (Keras' graph runner keeps every layer's output until the model returns);
    ``keep``: tensor ids alive for the whole step (the batch and the prediction, held by the training loop).
    ``read_until``: tensor id -> index of a node until which the tensor stays alive although no later node reads
    it (PyTorch: a module's inputs, which its caller holds until the module returns).

    Every pass is one loop over the nodes with running totals: the work grows with the number of nodes."""
    optimizer, amp = check_optimizer(optimizer, amp)
    trainable = frozen = n_tensors = largest = 0     # (largest: the biggest parameter tensor, for the update)
    for n in nodes:
        trainable += n.trainable
        frozen += n.frozen
        tensors = n.param_tensors
        if tensors:
            n_tensors += len(tensors)
            biggest = max(tensors)
            if biggest > largest:
                largest = biggest
    p_bytes = (trainable + frozen) * (4 if amp else param_bytes_each)
    g_each = 4 if amp else param_bytes_each
    state = OPTIMIZERS[optimizer] * trainable * g_each + (4 * n_tensors if optimizer.startswith("adam") else 0)
    if state_bytes is not None:
        state = state_bytes
    copies = (trainable + frozen) * AMP[amp] if amp else 0
    base = p_bytes + buffer_bytes + state + copies

    # storage of each tensor (in-place layers write into their input's storage); which tensors need a gradient;
    # which are read at all (an output nothing reads gets no gradient); who reads each storage last in the
    # forward pass; what each layer saves (storages, and bytes of its own tensors)
    own_storage = storages is None
    if own_storage:
        storage = {t: t for t in inputs}
        size = dict(inputs)
        tensor_bytes = None                           # a tensor's bytes are its storage's
    else:
        storage, size, tensor_bytes = dict(storages[0]), dict(storages[1]), dict(storages[2])
    sget = storage.get
    consumed = set()
    needs = dict.fromkeys(inputs, False)
    last_read = {}
    saves: dict = {}                                  # layer index -> storages it saved
    pending: dict = {}                                # storage -> how many layers' backward still read it
    own_at: dict = {}
    rules: dict = {}                                  # id(rule) -> (bytes of its own tensors, refs it saves)
    for i, n in enumerate(nodes):
        ins = n.inputs
        bw = n.backward
        out = n.output
        if own_storage:
            if bw.inplace and ins and ins[0] in storage:
                storage[out] = storage[ins[0]]
            else:
                storage[out] = out
                size[out] = n.out_bytes
        need = n.trainable > 0 if n.weight_grad is None else n.weight_grad
        for t in ins:
            consumed.add(t)
            last_read[sget(t, t)] = i
            if not need and needs.get(t, False):
                need = True
        needs[out] = need and not n.no_grad
        if not need or not bw.saved:
            continue                  # no gradient flows here: autograd records nothing, keeps nothing
        rule = rules.get(id(bw))
        if rule is None:
            rule = rules[id(bw)] = _saved_refs(bw, act_bytes)
        own, refs = rule
        if own:
            own_at[i] = own
        if len(refs) == 1:                            # most rules keep one tensor: its input or its output
            k = refs[0]
            t = out if k < 0 else (ins[k] if k < len(ins) else None)
            if t is not None:
                st = sget(t, t)
                pending[st] = pending.get(st, 0) + 1
                saves[i] = (st,)
            continue
        mine = []
        for k in refs:
            t = out if k < 0 else (ins[k] if k < len(ins) else None)
            if t is not None:
                st = sget(t, t)
                if st not in mine:
                    mine.append(st)
                    pending[st] = pending.get(st, 0) + 1
        if mine:
            saves[i] = mine
    for t, i in (read_until or {}).items():
        s_ = sget(t, t)
        if last_read.get(s_, -1) < i:
            last_read[s_] = i
    saved_by = pending                                # storage -> layers that saved it (a count)
    final = sget(final if final is not None else nodes[-1].output) if nodes else None

    events: list = []
    add = events.append
    kept = frozenset(sget(t, t) for t in keep)
    held = frozenset(sget(t, t) for t in hold) | kept
    # storages the forward frees after node i: those nothing saved or holds, after their last reader (an output
    # nothing reads later: once made)
    frees: dict = {}
    for s, i in last_read.items():
        if s != final and s not in saved_by and s not in held:
            frees.setdefault(i, []).append(s)
    # ---- forward (running totals)
    live = {}
    for t in inputs:
        live[storage[t]] = size[storage[t]]
    live_sum = sum(live.values())
    own_live = 0
    old_grads = trainable * g_each if grads_in_forward else 0
    add(("forward", "inputs", live_sum, old_grads, 0, ""))
    peak_v, peak_i = live_sum + old_grads, 0
    for i, n in enumerate(nodes):
        st = storage[n.output]
        if st not in live:
            b = live[st] = size[st]
            live_sum += b
            if last_read.get(st, -1) < i and st != final and st not in saved_by and st not in held:
                frees.setdefault(i, []).append(st)
        if own_at:
            own_live += own_at.get(i, 0)
        v = live_sum + own_live
        add(("forward", n.name, v, old_grads, 0, ""))
        if v + old_grads > peak_v:
            peak_v, peak_i = v + old_grads, len(events) - 1
        gone = frees.get(i)
        if gone is not None:
            for s in gone:
                b = live.pop(s, None)
                if b is not None:
                    live_sum -= b
    saved_total = live_sum + own_live
    for s in held - kept:                              # the model returns: what only its graph runner held goes
        if s != final and s not in saved_by:
            b = live.pop(s, None)
            if b is not None:
                live_sum -= b

    # ---- backward: the network's output is freed once the loss is computed, unless a layer saved it
    if final is not None and final not in saved_by and final not in kept:
        b = live.pop(final, None)
        if b is not None:
            live_sum -= b
    grad_live = {}
    grad_sum = 0
    param_grads = 0
    bi_macs = bw_macs = bi_flops = bw_flops = 0
    grad_rows = [None] * len(nodes)                    # per node: its backward's MACs and FLOPs
    for i in range(len(nodes) - 1, -1, -1):
        n = nodes[i]
        go = n.output
        if not needs[go]:
            continue                                   # nothing upstream wants a gradient through here
        if go not in grad_live and sget(go) != final and go in consumed:
            b = grad_live[go] = size[storage[go]] if tensor_bytes is None else tensor_bytes.get(go, n.out_bytes)
            grad_sum += b
        bw = n.backward
        in_grad = False
        made = 0
        for t in n.inputs:
            if needs.get(t, False):
                in_grad = True
                if t not in grad_live:
                    b = grad_live[t] = size[storage[t]] if tensor_bytes is None else tensor_bytes.get(t, 0)
                    grad_sum += b
                    made += b
        param_grads += n.trainable * g_each
        v = live_sum + own_live + grad_sum
        g = param_grads + n.extra_grad * g_each
        if bw.temp or bw.pending_grads or bw.late_input_grad:    # the layer's own peak, inside its backward
            v += bw.temp * act_bytes - (made if bw.late_input_grad else 0)
            g -= bw.pending_grads * g_each
        add(("backward", n.name, v, g, 0, ""))
        if v + g > peak_v:
            peak_v, peak_i = v + g, len(events) - 1
        wgrad = n.trainable > 0 if n.weight_grad is None else n.weight_grad
        im = bw.input_macs if in_grad else 0
        iflops = bw.input_flops if in_grad else 0
        wm = bw.weight_macs if wgrad else 0
        wflops = bw.weight_flops if wgrad else 0
        bi_macs += im
        bw_macs += wm
        bi_flops += iflops
        bw_flops += wflops
        grad_rows[i] = (im, wm, iflops, wflops)
        # release: the output's gradient, this layer's own saved tensors, storages no pending layer saved
        b = grad_live.pop(go, None)
        if b is not None:
            grad_sum -= b
        if own_at:
            own_live -= own_at.get(i, 0)
        for s in saves.get(i, ()):
            left = pending[s] - 1
            if left:
                pending[s] = left
            else:
                del pending[s]
                if s not in kept:
                    b = live.pop(s, None)
                    if b is not None:
                        live_sum -= b
        so = sget(go)
        if so in live and so not in pending and so != final and so not in kept:
            live_sum -= live.pop(so)
    v = live_sum + max(own_live, 0) + grad_sum
    add(("backward", "end", v, param_grads, 0, ""))
    if v + param_grads > peak_v:
        peak_v, peak_i = v + param_grads, len(events) - 1

    # ---- optimizer step: state exists (in base); the update's temporaries for the largest tensor
    temps = UPDATE_TEMPS[optimizer] * largest * g_each if update_temps is None else update_temps
    v = sum(live.get(s, 0) for s in kept)
    add(("optimizer", "step", v, param_grads, temps, f"update temporaries {temps:,} B"))
    if v + param_grads + temps > peak_v:
        peak_v, peak_i = v + param_grads + temps, len(events) - 1
    ph, layer, pa, pg, pt, _ = events[peak_i] if base + peak_v > 0 else ("", "", 0, 0, 0, "")
    return TrainingResult(optimizer, amp, p_bytes, buffer_bytes, param_grads, state, copies, saved_total,
                          base + pa + pg + pt if ph else 0, ph, layer, pa, pg, pt, bi_macs, bw_macs, bi_flops,
                          bw_flops, tuple(events), PerLayer(nodes, grad_rows, act_bytes))


def _saved_refs(bw: Backward, act_bytes: int) -> tuple:
    """(bytes of the tensors a rule makes and keeps itself, the tensors of the node it keeps: -1 its output,
    k its input k)."""
    own = 0
    refs = []
    for s in bw.saved:
        if s.ref == "own":
            own += s.numel * DTYPE_BYTES.get(s.dtype, act_bytes)
        else:
            refs.append(-1 if s.ref == "out" else int(s.ref[2:]))
    return own, tuple(refs)


class PerLayer(Mapping):
    """name -> {"input_macs", "weight_macs", "input_flops", "weight_flops", "saved_bytes", "saved_steps"}: made
    from the simulation's per-node numbers when first read (a long network's step is simulated without them)."""

    def __init__(self, nodes, grad_rows, act_bytes: int):
        self._parts = (nodes, grad_rows, act_bytes)
        self._made = None

    @property
    def _data(self) -> dict:
        if self._made is None:
            nodes, grad_rows, act_bytes = self._parts
            made: dict = {}
            from_grads = set()                         # names whose backward numbers are set (the first node's)
            saved_of: dict = {}                        # (rule, output bytes) -> bytes the rule keeps
            for n, g in zip(nodes, grad_rows):
                d = made.get(n.name)
                if d is None:
                    d = made[n.name] = dict(zip(_GRAD_KEYS, g or (0, 0, 0, 0)))
                    if g is not None:
                        from_grads.add(n.name)
                elif g is not None and n.name not in from_grads:
                    d.update(zip(_GRAD_KEYS, g))
                    from_grads.add(n.name)
                bw = n.backward
                if not bw.saved:
                    d["saved_steps"], d["saved_bytes"] = (), 0
                    continue
                same = same_inputs(bw.saved, n.inputs) if len(set(n.inputs)) < len(n.inputs) else None
                d["saved_steps"] = partial(saved_steps, n.name, bw.saved, n.shapes, act_bytes, same)  # when read
                key = (id(bw), n.out_bytes, tuple(same.items()) if same else ())
                sb = saved_of.get(key)
                if sb is None:
                    sb = saved_of[key] = sum(
                        s.numel * DTYPE_BYTES.get(s.dtype, act_bytes) if s.ref == "own" else
                        (n.out_bytes if s.ref == "out" else s.numel * act_bytes)
                        for i, s in enumerate(bw.saved) if not same or i not in same)
                d["saved_bytes"] = sb
            self._made = made
            self._parts = None
        return self._made

    def __getitem__(self, name):
        return self._data[name]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __reduce__(self):                               # pickled (the web's worker) as the dict it stands for
        return dict, (self._data,)


_GRAD_KEYS = ("input_macs", "weight_macs", "input_flops", "weight_flops")


def saved_steps_of(d: dict) -> tuple:
    """A per-layer entry's 'saved for backward' steps (made when first read)."""
    steps = d.get("saved_steps", ())
    if callable(steps):
        steps = d["saved_steps"] = tuple(steps())
    return tuple(steps)


def by_rows(result: TrainingResult, row_of) -> TrainingResult:
    """The result with its per-node numbers summed into report rows: ``row_of(node name)`` -> row name or None
    (a model front-end's nodes are ops; its rows are modules or node groups)."""
    from dataclasses import replace
    per_row: dict = {}
    for name, d in result.per_layer.items():
        row = row_of(name)
        if row is None:
            continue
        agg = per_row.setdefault(row, {"input_macs": 0, "weight_macs": 0, "input_flops": 0, "weight_flops": 0,
                                       "saved_bytes": 0, "saved_steps": ()})
        for k in ("input_macs", "weight_macs", "input_flops", "weight_flops", "saved_bytes"):
            agg[k] += d.get(k, 0)
        agg["saved_steps"] += saved_steps_of(d)
    return replace(result, per_layer=per_row)
