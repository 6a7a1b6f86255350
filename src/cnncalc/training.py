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

from dataclasses import dataclass, field

from .errors import SpecError, did_you_mean
from .i18n import Msg
from .ops.training import DTYPE_BYTES, Backward, saved_steps

OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: temporaries of one parameter tensor's update, in units of that tensor (Adam: sqrt(v), then / bias correction)
UPDATE_TEMPS = {"sgd": 0, "momentum": 0, "adam": 2, "adamw": 2}
AMP = {"fp16": 2, "bf16": 2, "float16": 2, "bfloat16": 2}


@dataclass
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
    timeline: tuple[Event, ...]
    per_layer: dict                  # name -> {"saved_bytes", "input_macs", "weight_macs", ...}

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
             keep: frozenset = frozenset()) -> TrainingResult:
    """``inputs``: network input tensor id -> bytes (they need no gradient).  ``act_bytes``: bytes per element of
    activations (2 with amp).  ``storages``: (tensor id -> storage key, storage key -> bytes, tensor id -> bytes)
    when the front-end knows which tensors share memory (views, in-place ops); else in-place layers share.
    ``grads_in_forward``: the previous step's gradients are still alive during the forward (Keras calls
    ``zero_grad()`` after it); ``state_bytes`` / ``update_temps``: the optimizer's state and the update's
    temporaries in bytes when the framework's optimizer differs from PyTorch's (Keras).  ``hold``: tensor ids
    alive until the forward pass ends (Keras' graph runner keeps every layer's output until the model returns);
    ``keep``: tensor ids alive for the whole step (the batch and the prediction, held by the training loop)."""
    optimizer, amp = check_optimizer(optimizer, amp)
    trainable = sum(n.trainable for n in nodes)
    frozen = sum(n.frozen for n in nodes)
    p_bytes = (trainable + frozen) * (4 if amp else param_bytes_each)
    g_each = 4 if amp else param_bytes_each
    state = OPTIMIZERS[optimizer] * trainable * g_each + (4 * sum(len(n.param_tensors) for n in nodes)
                                                         if optimizer.startswith("adam") else 0)
    if state_bytes is not None:
        state = state_bytes
    copies = (trainable + frozen) * AMP[amp] if amp else 0
    base = p_bytes + buffer_bytes + state + copies

    # storage of each tensor: in-place layers write into their input's storage
    if storages is not None:
        storage, size, tensor_bytes = dict(storages[0]), dict(storages[1]), dict(storages[2])
    else:
        storage = dict((t, t) for t in inputs)
        size = dict(inputs)
        for n in nodes:
            if n.backward.inplace and n.inputs and n.inputs[0] in storage:
                storage[n.output] = storage[n.inputs[0]]
            else:
                storage[n.output] = n.output
                size[n.output] = n.out_bytes
        tensor_bytes = {t: size[storage[t]] for t in storage}
    # which tensors need a gradient; which are read at all (an output nothing reads gets no gradient)
    consumed = {t for n in nodes for t in n.inputs}
    needs = {t: False for t in inputs}
    for n in nodes:
        needs[n.output] = _wgrad(n) or any(needs.get(t, False) for t in n.inputs)
    # who reads each storage in the forward pass, and who saved it
    last_read = {}
    saved_by: dict = {}
    own_saved = []
    for i, n in enumerate(nodes):
        for t in n.inputs:
            last_read[storage.get(t, t)] = i
        if not needs.get(n.output, False):
            continue                  # no gradient flows here: autograd records nothing, keeps nothing
        for s in n.backward.saved:
            if s.ref == "own":
                own_saved.append((i, s.numel * DTYPE_BYTES.get(s.dtype, act_bytes)))
                continue
            t = n.output if s.ref == "out" else (n.inputs[int(s.ref[2:])] if int(s.ref[2:]) < len(n.inputs) else None)
            if t is not None:
                saved_by.setdefault(storage.get(t, t), set()).add(i)
    final = storage.get(final if final is not None else nodes[-1].output) if nodes else None
    own_at = {}
    for i, b in own_saved:
        own_at[i] = own_at.get(i, 0) + b

    timeline: list[Event] = []
    peak = (0, "", "", 0, 0, 0)

    def note(phase, layer, acts, grads, temps=0, detail=""):
        nonlocal peak
        total = base + acts + grads + temps
        timeline.append(Event(phase, layer, total, acts, grads, temps, detail))
        if total > peak[0]:
            peak = (total, phase, layer, acts, grads, temps)

    kept = frozenset(storage.get(t, t) for t in keep)
    held = frozenset(storage.get(t, t) for t in hold) | kept
    # ---- forward (running totals: the cost grows with the number of layers)
    live = {s: size[s] for s in set(storage[t] for t in inputs)}
    live_sum = sum(live.values())
    own_live = 0

    def free(s):
        nonlocal live_sum
        b = live.pop(s, None)
        if b is not None:
            live_sum -= b

    old_grads = trainable * g_each if grads_in_forward else 0
    note("forward", "inputs", live_sum, old_grads)
    for i, n in enumerate(nodes):
        st = storage[n.output]
        if st not in live:
            live[st] = size[st]
            live_sum += size[st]
        own_live += own_at.get(i, 0)
        note("forward", n.name, live_sum + own_live, old_grads)
        for s in {storage.get(t, t) for t in n.inputs} | {st}:
            if s != final and last_read.get(s, -1) <= i and not saved_by.get(s) and s not in held:
                free(s)
    saved_total = live_sum + own_live
    for s in held - kept:                              # the model returns: what only its graph runner held goes
        if s != final and not saved_by.get(s):
            free(s)

    # ---- backward: the network's output is freed once the loss is computed, unless a layer saved it
    if final is not None and final not in saved_by and final not in kept:
        free(final)
    grads = {}
    grad_live = {}
    grad_sum = 0
    param_grads = 0
    bi_macs = bw_macs = bi_flops = bw_flops = 0
    per_layer = {}
    pending = {s: set(v) for s, v in saved_by.items()}
    saves: dict = {}
    for s, who in saved_by.items():
        for i in who:
            saves.setdefault(i, []).append(s)
    for i in range(len(nodes) - 1, -1, -1):
        n = nodes[i]
        if not needs.get(n.output, False):
            continue                                   # nothing upstream wants a gradient through here
        go = n.output
        if go not in grad_live and storage.get(go) != final and go in consumed:
            grad_live[go] = tensor_bytes.get(go, n.out_bytes)
            grad_sum += grad_live[go]
        b = n.backward
        in_needed = [t for t in n.inputs if needs.get(t, False)]
        for t in in_needed:
            if t not in grad_live:
                grad_live[t] = tensor_bytes.get(t, 0)
                grad_sum += grad_live[t]
        new_param_grads = n.trainable * g_each
        param_grads += new_param_grads
        note("backward", n.name, live_sum + own_live + grad_sum, param_grads + n.extra_grad * g_each)
        im = b.input_macs if in_needed else 0
        wm = b.weight_macs if _wgrad(n) else 0
        bi_macs += im
        bw_macs += wm
        bi_flops += b.input_flops if in_needed else 0
        bw_flops += b.weight_flops if _wgrad(n) else 0
        per_layer[n.name] = {"input_macs": im, "weight_macs": wm,
                             "input_flops": b.input_flops if in_needed else 0,
                             "weight_flops": b.weight_flops if _wgrad(n) else 0}
        grads[n.name] = new_param_grads
        # release: the output's gradient, this layer's own saved tensors, storages no pending layer saved
        grad_sum -= grad_live.pop(go, 0)
        own_live -= own_at.get(i, 0)
        for s in saves.get(i, ()):
            who = pending.get(s)
            if who is not None:
                who.discard(i)
                if not who:
                    del pending[s]
                    if s not in kept:
                        free(s)
        so = storage.get(n.output)
        if so in live and so not in pending and so != final and so not in kept:
            free(so)
    note("backward", "end", live_sum + max(own_live, 0) + grad_sum, param_grads)

    # ---- optimizer step: state exists (in base); the update's temporaries for the largest tensor
    largest = max((t for n in nodes for t in n.param_tensors), default=0)
    temps = UPDATE_TEMPS[optimizer] * largest * g_each if update_temps is None else update_temps
    note("optimizer", "step", sum(live.get(s, 0) for s in kept), param_grads, temps,
         f"update temporaries {temps:,} B")
    for n in nodes:
        per_layer.setdefault(n.name, {"input_macs": 0, "weight_macs": 0, "input_flops": 0, "weight_flops": 0})
        per_layer[n.name]["saved_steps"] = tuple(saved_steps(n.name, n.backward.saved, n.shapes, act_bytes))
        per_layer[n.name]["saved_bytes"] = sum(
            s.numel * DTYPE_BYTES.get(s.dtype, act_bytes) if s.ref == "own" else
            (n.out_bytes if s.ref == "out" else s.numel * act_bytes) for s in n.backward.saved)
    return TrainingResult(optimizer, amp, p_bytes, buffer_bytes, param_grads, state, copies, saved_total,
                          peak[0], peak[1], peak[2], peak[3], peak[4], peak[5], bi_macs, bw_macs, bi_flops, bw_flops,
                          tuple(timeline), per_layer)


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
        agg["saved_steps"] += tuple(d.get("saved_steps", ()))
    return replace(result, per_layer=per_row)
