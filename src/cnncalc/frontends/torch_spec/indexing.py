"""``to_spec`` rules for indexing: ``x[...]`` slicing, items of ``split`` / ``chunk``, and the output
sequence of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (their ``[0]``, and ``[:, -1]`` for the last step)."""
from __future__ import annotations

import operator

from ...i18n import Msg
from .spec_text import _bind, _call


class IndexRules:
    """Mixed into the converter: ``_getitem(n)`` writes the layers of an indexing node."""

    # ------------------------------------------------------------------ getitem: sequences, splits, slicing
    def _getitem(self, n):
        fx, nn = self.fx, self.nn
        src, idx = n.args[0], self.resolve(n.args[1])
        v = self.val.get(src)
        # output sequence of a recurrent module
        if src.op == "call_module" and isinstance(self.gm.get_submodule(src.target), (nn.RNN, nn.LSTM, nn.GRU)):
            if idx != 0:
                self.unsupported(n, Msg("fe.tospec.item_s_output_final_hidden", idx=idx, name=type(self.gm.get_submodule(src.target)).__name__))
            return self._recurrent(src, n)
        root = src
        while root.op == "call_function" and root.target is operator.getitem and isinstance(root.args[0], fx.Node):
            root = root.args[0]
        if root is not src and root.op == "call_module" and \
                isinstance(self.gm.get_submodule(root.target), (nn.RNN, nn.LSTM, nn.GRU)):
            self.unsupported(n, Msg("fe.tospec.takes_s_final_hidden_state", name=type(self.gm.get_submodule(root.target)).__name__, target=root.target))
        if isinstance(v, (tuple, list)):
            owner = src
            if owner.op in ("call_function", "call_method") and \
                    (owner.target in ("split", "chunk", "split_with_sizes", "tensor_split") or
                     getattr(owner.target, "__name__", "") in ("split", "chunk", "split_with_sizes")):
                dim = self._split_dim(owner)
                whole = owner.args[0]
                r = len(self.shape(whole))
                d = dim % r
                if d == 0:
                    self.unsupported(owner, Msg("fe.tospec.splitting_batch_axis"))
                sizes = [t.shape[d] for t in v]
                i = idx % len(v)
                start = sum(sizes[:i])
                return self._emit(n, _call("slice", start, start + sizes[i], **({} if d == 1 else {"axis": d})),
                                  [whole])
            self.unsupported(n, Msg("fe.tospec.takes_item_tuple_tensors_spec"))
        if not isinstance(v, self.torch.Tensor):
            return
        if not (isinstance(src, fx.Node) and self.is_tensor(src)):
            self.unsupported(n, Msg("fe.tospec.indexing_value_that_not_tensor"))
        self._slicing(n, src, idx)

    def _split_dim(self, owner):
        p = _bind(("input", "split_size_or_sections", "dim"), owner.args, owner.kwargs)
        return self.resolve(p.get("dim", 0))

    def _recurrent(self, rnn_node, seq_node):
        nn = self.nn
        mod = self.gm.get_submodule(rnn_node.target)
        if len(rnn_node.args) != 1 or rnn_node.kwargs:
            self.unsupported(rnn_node, Msg("fe.tospec.given_initial_state_spec_layer"))
        if not mod.batch_first:
            self.unsupported(rnn_node, Msg("fe.tospec.batch_first_false_spec_sequence"))
        kind = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}[type(mod)]
        kw = {}
        if mod.num_layers != 1:
            kw["num_layers"] = mod.num_layers
        if mod.bidirectional:
            kw["bidirectional"] = True
        if not mod.bias:
            kw["bias"] = False
        if getattr(mod, "proj_size", 0):
            kw["proj_size"] = mod.proj_size
        if mod.dropout:
            kw["dropout"] = mod.dropout
        if kind == "rnn" and mod.nonlinearity != "tanh":
            kw["nonlinearity"] = mod.nonlinearity
        # output[:, -1] as the only use: return_sequences=false
        users = [u for u in seq_node.users if u in self.needed]
        T = self.shape(seq_node)[1]
        last = bool(users) and all(
            u.op == "call_function" and u.target is operator.getitem and
            self._is_last_step(self.resolve(u.args[1]), T) for u in users)
        x = rnn_node.args[0]
        if last:
            kw["return_sequences"] = False
            lab = self._emit(rnn_node, _call(kind, mod.hidden_size, **kw), [x], check=False)
            self.label[seq_node] = lab
            for u in users:
                self.label[u] = lab
                self.done.add(u)
            self.checks.append((lab, self.shape(users[0])))
        else:
            lab = self._emit(rnn_node, _call(kind, mod.hidden_size, **kw), [x], check=False)
            self.label[seq_node] = lab
            self.checks.append((lab, self.shape(seq_node)))

    @staticmethod
    def _is_last_step(idx, T) -> bool:
        if not (isinstance(idx, tuple) and len(idx) == 2):
            return False
        a, b = idx
        return a == slice(None, None, None) and isinstance(b, int) and not isinstance(b, bool) and b % T == T - 1

    def _slicing(self, n, src, idx):
        xs = self.shape(src)
        r = len(xs)
        items = list(idx) if isinstance(idx, tuple) else [idx]
        if any(i is None for i in items):
            self.unsupported(n, Msg("fe.tospec.indexing_none_adds_axis"))
        if any(isinstance(i, (self.torch.Tensor, list)) for i in items):
            self.unsupported(n, "advanced (tensor / list) indexing")
        if items.count(Ellipsis) > 1:
            self.unsupported(n, "several '...'")
        if Ellipsis in items:
            k = items.index(Ellipsis)
            items = items[:k] + [slice(None)] * (r - len(items) + 1) + items[k + 1:]
        items += [slice(None)] * (r - len(items))
        steps = []
        drop = False
        for axis, (it, size) in enumerate(zip(items, xs)):
            if isinstance(it, slice):
                start, stop, step = it.indices(size)
                if step != 1:
                    self.unsupported(n, Msg("fe.tospec.step_along_axis", step=step, axis=axis))
                if (start, stop) == (0, size):
                    continue
                if stop <= start:
                    self.unsupported(n, Msg("fe.tospec.empty_slice_along_axis", axis=axis))
            elif isinstance(it, int) and not isinstance(it, bool):
                start = it % size
                stop = start + 1
                drop = True
            else:
                self.unsupported(n, f"index {it!r}")
            if axis == 0:
                self.unsupported(n, Msg("fe.tospec.slicing_batch_axis"))
            steps.append(_call("slice", start, stop, **({} if axis == 1 else {"axis": axis})))
        ys = self.shape(n)
        if drop:
            if len(ys) < 2:
                self.unsupported(n, Msg("fe.tospec.result_keeps_only_batch_axis", ys=ys))
            steps.append("flatten" if len(ys) == 2 else _call("reshape", tuple(ys[1:])))
        if not steps:
            return self._alias(n, src)
        self._chain(n, steps, src)
