"""A torch model's training step, from the same meta-tensor forward: every aten call becomes a node of
``training.py`` with the op layer's backward rule (``ops/training.py``), the tensors it reads and makes, and
which of them share storage (views and in-place ops share, as the meta tensors' storages tell).

Parameters and buffers are not activations: an op that reads only them (a weight's transpose) makes a
parameter view; an op reading activations and parameters gets the parameters' elements as its trainable count
(once per parameter, shared weights included) when they require a gradient.
"""
from __future__ import annotations

import weakref
from dataclasses import replace
from math import prod

from ..ops.training import NOTHING, Backward, Saved, backward
from ..training import TNode, by_rows, simulate

#: aten ops that keep something for the backward although they have no arithmetic of their own
DROPOUT = {"native_dropout"}
#: ops whose outputs need no gradient (random masks, fills, comparisons, indices)
NO_GRAD = {"empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "bernoulli", "argmax",
           "argmin", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "bitwise_not", "isnan", "isinf"}
#: in-place products whose derivative for the other operand reads the original self (autograd clones it)
ORIGINAL_SELF = {"mul_", "div_", "addcmul_", "addcdiv_"}
KEEPS_INPUT = {"amax", "amin", "max", "min", "var", "std", "logsumexp", "norm", "linalg_vector_norm"}


class TrainTrace:
    def __init__(self, params: dict):
        self.params = params                  # id(meta param or buffer) -> requires_grad
        self.param_like: dict = {}            # tensor serial -> (param id, requires_grad)
        self.serial = 0
        self.cdata_key: dict = {}
        self.owners: dict = {}
        self.storage_of: dict = {}            # tensor serial -> storage key
        self.storage_bytes: dict = {}
        self.tensor_bytes: dict = {}
        self.inputs: dict = {}
        self.nodes: list[TNode] = []
        self.last_use: dict = {}              # param id -> (index of the last node using it, elements)
        self.uses: dict = {}                  # node index -> [(param id, elements)] it reads with a gradient
        self.module_of: dict = {}             # node name -> module name
        self.unknown: dict = {}               # aten op -> calls whose saved tensors are not known
        self.acts: set = set()                # serials of activations (network inputs and what they make)
        self.alias: dict = {}                 # further outputs of an op -> its first output (one gradient path)
        self.floats: set = set()              # storage keys of floating-point tensors (halved under amp)
        # scaled_dot_product_attention run as its math backend (the only one meta tensors take): module ->
        # [calls, bytes of their (L, S) attention weights] when no dropout follows the softmax, the case where
        # PyTorch on the CPU (and CUDA for most inputs) runs a fused kernel that keeps no weights
        self.math_attention: dict = {}
        self._softmax_at = None               # (module, bytes) of an sdpa softmax just seen, until the next op
        self.calls: list = []                 # module calls under way: the activation ids of their inputs
        self._clone_at = None                 # (source id, clone id, its node index) of a clone, until the next op
        self.read_until: dict = {}            # activation id -> last node of a module call it was an input of

    # ------------------------------------------------------------------ module calls
    def enter(self, module: str, tensors) -> None:
        """Module ``module`` is called with these tensors: its caller holds them until it returns."""
        self.calls.append((module, [self.tid(t) for t in tensors]))

    def leave(self, module: str) -> None:
        """Module ``module`` returned (calls whose return was not seen -- a forward that raised and was caught
        -- end with it)."""
        if not any(m == module for m, _ in self.calls):
            return
        last = len(self.nodes) - 1
        while True:
            m, ids = self.calls.pop()
            for sid in ids:
                sid = self.alias.get(sid, sid)
                if sid in self.acts and self.read_until.get(sid, -1) < last:
                    self.read_until[sid] = last
            if m == module:
                return

    def hold(self, t) -> None:
        """Tensor ``t`` stays alive until now although no op read it last (a C++ loop's local)."""
        sid = self.alias.get(self.tid(t), self.tid(t))
        if sid in self.acts and self.read_until.get(sid, -1) < len(self.nodes) - 1:
            self.read_until[sid] = len(self.nodes) - 1

    # ------------------------------------------------------------------ identities
    def tid(self, t) -> str:
        sid = t.__dict__.get("_cnncalc_serial")
        if sid is None:
            self.serial += 1
            sid = t.__dict__["_cnncalc_serial"] = f"t{self.serial}"
            st = t.untyped_storage()
            c = st._cdata
            key = self.cdata_key.get(c)
            if key is not None:
                alive = [r for r in self.owners[key] if r() is not None]
                if not alive:
                    key = None
                else:
                    self.owners[key] = alive
            if key is None:
                key = f"s{self.serial}"
                self.cdata_key[c] = key
                self.owners[key] = []
                self.storage_bytes[key] = st.nbytes()
                if t.is_floating_point():
                    self.floats.add(key)
            self.owners[key].append(weakref.ref(t))
            self.storage_of[sid] = key
            self.tensor_bytes[sid] = prod(t.shape) * t.element_size()
        return sid

    def add_input(self, t) -> None:
        sid = self.tid(t)
        self.inputs[sid] = prod(t.shape) * t.element_size()
        self.acts.add(sid)

    def _param(self, t, sid=None):
        if sid is None:
            sid = self.tid(t)
        if id(t) in self.params:
            self.param_like[sid] = (id(t), self.params[id(t)], t.numel())
        return self.param_like.get(sid)

    # ------------------------------------------------------------------ one aten call
    def op(self, name: str, module: str, func_name: str, flat, outs, r) -> None:
        self._attention_backend(name, module, outs)
        original = self._original_self(name, func_name, flat, outs)
        tid, known = self.tid, self.acts
        acts, act_ids, params, constants = [], [], [], []
        for t in flat:
            sid = tid(t)                               # (each tensor's id read once: tid() is the hot call)
            p = self._param(t, sid)
            if p is not None:
                params.append(p)
            elif sid in known:
                acts.append(t)
                act_ids.append(sid)
            else:
                constants.append(t.numel())
        if not outs or name in NO_GRAD or not outs[0].is_floating_point():
            acts, act_ids = [], []                     # what these make needs no gradient: a constant
        out_ids = [tid(o) for o in outs]
        computes = bool(constants) and any(g for _, g, _ in params) and outs and name not in NO_GRAD \
            and outs[0].is_floating_point()
        if not acts and not computes:         # a view of a parameter, or constants only
            if params and outs:
                for oid in out_ids:
                    self.param_like[oid] = params[0]
            return
        if not outs:
            return
        alias = self.alias
        in_ids = tuple(dict.fromkeys([alias.get(sid, sid) for sid in act_ids]))
        in_serials = set(act_ids)
        for i, o in enumerate(outs):                   # an in-place op: the same tensor, a new version
            if out_ids[i] in in_serials:
                key = self.storage_of[out_ids[i]]
                self.serial += 1
                new = o.__dict__["_cnncalc_serial"] = f"t{self.serial}"
                self.storage_of[new] = key
                self.tensor_bytes[new] = self.tensor_bytes[out_ids[i]]
                out_ids[i] = new
        self.acts.update(out_ids)
        for oid in out_ids:                            # written in place by an activation: no longer constant
            self.param_like.pop(oid, None)
        for pid, grad, numel in params:              # the last op to use a weight gets its gradient buffer:
            if grad:                                 # the backward reaches it first (a shared weight's
                self.last_use[pid] = (len(self.nodes), numel)   # gradients accumulate there from then on)
                self.uses.setdefault(len(self.nodes), []).append((pid, numel))
        trainable, tensors = 0, []
        inplace = func_name.endswith("_") and not func_name.startswith("_")
        b = self._rule(name, r, acts, outs[0], params, inplace, constants)
        node = TNode(f"{module or '(model)'}:{name}#{len(self.nodes) + 1}", in_ids, out_ids[0],
                     self.tensor_bytes[out_ids[0]], b, trainable=trainable, param_tensors=tuple(tensors),
                     weight_grad=any(g for _, g, _ in params),
                     shapes={**{f"in{i}": tuple(t.shape) for i, t in enumerate(acts)}, "out": tuple(outs[0].shape)})
        if original is not None:
            self._keeps_original(node, original)
        self.module_of[node.name] = module
        self.nodes.append(node)
        # further outputs (unbind, split, chunk pieces; statistics): each its own tensor and gradient, made by
        # the same op from the same inputs -- their gradients wait for each other as autograd's buffers do
        for k, oid in enumerate(out_ids[1:], start=1):
            extra = TNode(f"{node.name}.{k}", in_ids, oid, self.tensor_bytes[oid], NOTHING, weight_grad=False)
            self.module_of[extra.name] = module
            self.nodes.append(extra)

    def _original_self(self, name: str, func_name: str, flat, outs):
        """An in-place product whose other operand needs a gradient (``h.mul_(gate)``) needs the original
        ``h``: autograd clones it first (the ``clone`` just before, of the same tensor) and keeps the clone, not
        ``h``, until that op's backward.  Returns the clone's id for such an op, else None."""
        seen, self._clone_at = self._clone_at, None
        found = None
        if seen is not None and func_name in ORIGINAL_SELF and flat and self.tid(flat[0]) == seen[0] \
                and seen[2] < len(self.nodes) and self.nodes[seen[2]].output == seen[1]:
            found = seen[1]
            self.nodes[seen[2]].no_grad = True       # autograd's copy: no gradient flows to it
        if name == "clone" and flat and outs and self.tid(flat[0]) in self.acts:
            self._clone_at = (self.tid(flat[0]), self.tid(outs[0]), len(self.nodes))
        return found

    @staticmethod
    def _keeps_original(node, clone_id: str) -> None:
        """The node's rule keeps the clone where it kept its (overwritten) first input."""
        k = len(node.inputs)
        node.inputs = node.inputs + (clone_id,)
        saved = tuple(Saved(s.what, f"in{k}", s.numel, s.dtype) if s.ref == "in0" else s
                      for s in node.backward.saved)
        node.backward = replace(node.backward, saved=saved)

    def _attention_backend(self, name: str, module: str, outs) -> None:
        """``_safe_softmax`` is made only by scaled_dot_product_attention's math backend; with dropout the next op
        makes its mask (``empty_like`` / ``bernoulli_`` / ``native_dropout``), and PyTorch's CPU kernels take the
        math backend too."""
        seen, self._softmax_at = self._softmax_at, None
        if seen is not None and name in ("detach", "alias"):   # autograd's own view of the weights: look on
            self._softmax_at = seen
            return
        if seen is not None and name not in ("empty_like", "bernoulli", "bernoulli_", "native_dropout", "dropout"):
            calls = self.math_attention.setdefault(seen[0], [0, 0])
            calls[0] += 1
            calls[1] += seen[1]
        if name == "_safe_softmax" and outs:
            self._softmax_at = (module, prod(outs[0].shape) * outs[0].element_size())

    def attention_warnings(self) -> list:
        """One warning per module whose attention kept its weights where a fused kernel would not."""
        from ..i18n import Msg
        self._attention_backend("", "", ())                 # an sdpa softmax that was the model's last op
        return [Msg("fe.torch.training_attention_math_backend", module=m or "(model)", calls=c, nbytes=b)
                for m, (c, b) in self.math_attention.items()]

    def _rule(self, name, r, acts, out, params, inplace, constants=()) -> Backward:
        shapes = [tuple(t.shape) for t in acts]
        o = tuple(out.shape)
        if r is not None and r.call is not None:
            kind, family, args = r.call
            if family == "pointwise":
                args = {"inplace": inplace, "partner_grad": any(g for _, g, _ in params), "constants": constants}
            elif family == "activation":
                args = dict(args, inplace=inplace)
            elif family == "reduction":
                args = {"keeps_input": name in KEEPS_INPUT}
            if kind == "matmul" and params:           # x @ W: a dense layer
                trainable = any(g for _, g, _ in params)
                saved = (Saved("input", "in0", prod(shapes[0])),) if trainable and shapes else ()
                bias = bool(args.get("bias"))
                return Backward(saved, r.macs, r.macs if trainable else 0, 2 * r.macs,
                                (2 * r.macs + (prod(o) if bias else 0)) if trainable else 0)
            return backward(kind, family, shapes, o, args, r)
        if name in DROPOUT:
            return Backward((Saved("mask", "own", prod(o), "bool"),))
        if r is None:
            self.unknown[name] = self.unknown.get(name, 0) + 1
        return NOTHING                                  # views, copies, concatenations keep nothing


def finish(trace: TrainTrace, output, rows: dict, *, act_bytes: int, buffer_bytes: int, optimizer: str, amp):
    """The TrainingResult, with per-layer numbers summed into the report's rows: ``rows`` maps a module name
    shown as a row ('' for the model) to the row's name; a module below the cut goes to its nearest row."""
    final = trace.alias.get(trace.tid(output), trace.tid(output)) if output is not None else None
    if amp:                                            # autocast: activations in half precision
        for key in trace.floats:
            trace.storage_bytes[key] //= 2
        for sid, key in trace.storage_of.items():
            if key in trace.floats:
                trace.tensor_bytes[sid] //= 2
        trace.inputs = {k: v // 2 if trace.storage_of.get(k) in trace.floats else v for k, v in trace.inputs.items()}
        act_bytes = 2

    def row_of(module: str):
        while module not in rows and module:
            module = module.rsplit(".", 1)[0] if "." in module else ""
        return rows.get(module)

    grads: dict = {}                                   # node index -> element counts of the gradients it makes
    for index, numel in trace.last_use.values():
        grads.setdefault(index, []).append(numel)
    for index, numels in grads.items():
        node = trace.nodes[index]
        node.trainable, node.param_tensors = sum(numels), tuple(numels)
    for index, used in trace.uses.items():           # an earlier use of a shared weight: its gradient piece is
        trace.nodes[index].extra_grad = sum(          # made, then added into the buffer (a transient)
            numel for pid, numel in used if trace.last_use[pid][0] != index)
    result = simulate(trace.nodes, trace.inputs, act_bytes=act_bytes, param_bytes_each=4, buffer_bytes=buffer_bytes,
                      optimizer=optimizer, amp=amp, storages=(trace.storage_of, trace.storage_bytes,
                                                              trace.tensor_bytes), final=final,
                      read_until=trace.read_until, keep=frozenset(trace.inputs))   # the batch: the loop holds it
    return by_rows(result, lambda name: row_of(trace.module_of.get(name, "")))
