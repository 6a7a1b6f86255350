"""The converter: trace the model with torch.fx, run it on meta tensors, then write one spec line per
layer (the rules for each kind of node are the mixins) and check the spec against torch's shapes."""
from __future__ import annotations

import operator
import re

from ...analysis import analyze_calls
from ...errors import SpecError
from ...i18n import Msg
from ...spec import load
from .functions import FunctionRules
from .indexing import IndexRules
from .modules import ModuleRules
from .spec_text import _WORDS, _Unsupported


class _Converter(ModuleRules, FunctionRules, IndexRules):
    """One traced model: its values, the labels of its tensors and the spec lines written so far."""

    def __init__(self, model, input_size, dtype):
        import torch
        import torch.fx as fx
        from torch import nn
        self.torch, self.nn, self.fx = torch, nn, fx
        self.model = model
        self.input_size = tuple(int(s) for s in input_size)
        if len(self.input_size) < 2 or any(s < 1 for s in self.input_size):
            raise SpecError(Msg("err.tospec.input_size_must_batch_whole", input_size=tuple(input_size)))
        was_training = model.training
        model.eval()                 # trace the inference graph (dropout off, BatchNorm running stats)
        try:
            try:
                self.gm = fx.symbolic_trace(model)
            except Exception as e:   # noqa: BLE001 -- any tracing failure is the user's model, not ours
                raise SpecError(Msg("err.tospec.torch_fx_cannot_trace_only", name=type(model).__name__, name2=type(e).__name__, e=' '.join(str(e).split())[:300])) from None
            self.nodes = list(self.gm.graph.nodes)
            inputs = [n for n in self.nodes if n.op == "placeholder"]
            if len(inputs) != 1:
                raise SpecError(Msg("err.tospec.forward_takes_inputs_spec_has", name=type(model).__name__, inputs=len(inputs), p=', '.join(n.name for n in inputs)))
            self.placeholder = inputs[0]
            self.dtype = dtype if dtype is not None else self._guess_dtype()
            self.val = self._run()
        finally:
            model.train(was_training)

    # ------------------------------------------------------------------ concrete values of every node
    def _guess_dtype(self):
        torch, nn = self.torch, self.nn
        for user in self.placeholder.users:
            if user.op == "call_module" and isinstance(self.gm.get_submodule(user.target), (nn.Embedding,
                                                                                             nn.EmbeddingBag)):
                return torch.long
            if user.op == "call_function" and user.target is torch.nn.functional.embedding:
                return torch.long
        return torch.float32

    def _run(self) -> dict:
        torch, fx = self.torch, self.fx
        env: dict = {}

        class Recorder(fx.Interpreter):
            def run_node(self, n):
                r = super().run_node(n)
                env[n] = r
                return r

        gm = self.gm

        class Runner(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.gm = gm

            def forward(self, x):
                return Recorder(self.gm).run(x)

        state = {}
        for name, t in list(gm.named_parameters(remove_duplicate=False)) + \
                list(gm.named_buffers(remove_duplicate=False)):
            state["gm." + name] = torch.empty_like(t, device="meta")
        x = torch.zeros(self.input_size, dtype=self.dtype, device="meta")
        try:
            with torch.no_grad():
                torch.func.functional_call(Runner(), state, (x,))
        except Exception as e:   # noqa: BLE001
            raise SpecError(Msg("err.tospec.running_on_meta_input_size", name=type(self.model).__name__, input_size=self.input_size, name2=type(e).__name__, e=' '.join(str(e).split())[:300])) from None
        return env

    # ------------------------------------------------------------------ helpers
    def is_tensor(self, n) -> bool:
        return isinstance(self.val.get(n), self.torch.Tensor)

    def shape(self, n) -> tuple:
        return tuple(self.val[n].shape)

    def resolve(self, a, keep: bool = False):
        """Concrete value of an argument: nodes replaced by what they computed (tensor nodes kept if keep)."""
        fx = self.fx
        if isinstance(a, fx.Node):
            return a if keep and self.is_tensor(a) else self.val[a]
        if isinstance(a, (tuple, list)):
            return type(a)(self.resolve(i, keep) for i in a)
        if isinstance(a, slice):
            return slice(self.resolve(a.start), self.resolve(a.stop), self.resolve(a.step))
        if isinstance(a, dict):
            return {k: self.resolve(v, keep) for k, v in a.items()}
        return a

    def what(self, n) -> str:
        if n.op == "call_module":
            return Msg("fe.tospec.module", target=n.target, cls=type(self.gm.get_submodule(n.target)).__name__)
        if n.op == "call_method":
            return Msg("fe.tospec.method_fx_node", target=n.target, name=n.name)
        t = n.target
        name = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or str(t)
        mod = getattr(t, "__module__", None) or ""
        if mod.startswith("torch.nn.functional"):
            name = "F." + name
        elif mod.startswith("torch") or mod == "_operator" or mod == "operator":
            name = ("torch." if mod.startswith("torch") else "operator.") + name
        return Msg("fe.tospec.fx_node", name=name, name2=n.name)

    def unsupported(self, n, why: str):
        raise SpecError(Msg("err.tospec.not_expressible_cnncalc_spec", p=self.what(n), why=why))

    # ------------------------------------------------------------------ the spec
    def convert(self) -> str:
        fx = self.fx
        # nodes the output depends on
        out_node = next(n for n in reversed(self.nodes) if n.op == "output")
        needed = set()
        stack = [out_node]
        while stack:
            n = stack.pop()
            if n in needed:
                continue
            needed.add(n)
            stack.extend(n.all_input_nodes)
        self.needed = needed
        # which nodes depend on the input
        self.derived = set()
        for n in self.nodes:
            if n is self.placeholder or any(i in self.derived for i in n.all_input_nodes):
                self.derived.add(n)
        # labels
        from ...ops import registry
        self.reserved = set(registry.KINDS) | _WORDS
        self.taken: set = set()
        self.wanted = {self._want(n) for n in self.nodes if n in needed}
        self.label: dict = {}          # tensor node -> label of the spec tensor holding it
        self.lines: list[str] = []
        self.current = None
        self.checks: list[tuple[str, tuple]] = []     # (label, torch shape)
        self.done: set = set()

        self.averages = self._find_averages()
        shape = self.input_size[1:]
        lab = self._new_label(self.placeholder.name)
        batch = f", batch={self.input_size[0]}" if self.input_size[0] != 1 else ""
        self.lines.append(f"{lab}: input({', '.join(str(s) for s in shape)}{batch})")
        self.label[self.placeholder] = lab
        self.current = lab
        for n in self.nodes:
            if n.op in ("placeholder", "output") or n not in needed or n in self.done:
                continue
            self.node(n)
        res = out_node.args[0]
        flat = [res] if isinstance(res, fx.Node) else list(res.values()) if isinstance(res, dict) else \
            list(res) if isinstance(res, (tuple, list)) else [res]
        outs = [o for o in flat if isinstance(o, fx.Node) and self.is_tensor(o)]
        if len(flat) != 1 or len(outs) != 1:
            raise SpecError(Msg("err.tospec.returns_values_spec_has_one", name=type(self.model).__name__, flat=len(flat), p=', '.join(str(o) for o in flat)))
        o = outs[0]
        if o not in self.label:
            self.unsupported(o, Msg("fe.tospec.result_not_tensor_derived_from"))
        if self.label[o] != self.current:
            self._emit(o, "identity", [o], name=f"{self.label[o]}.out", alias_src=True)
        return "\n".join(self.lines) + "\n"

    def _find_averages(self) -> dict:
        """``(a + b + c) / 3`` (to_pytorch's form of ``average``): the division node -> its operands; the adds
        inside (used only there) are not layers of their own."""
        torch = self.torch
        adds = (operator.add, torch.add)
        found = {}
        for n in self.nodes:
            if not (n.op == "call_function" and n.target in (operator.truediv, torch.div) and len(n.args) == 2
                    and isinstance(n.args[1], (int, float)) and not isinstance(n.args[1], bool)
                    and isinstance(n.args[0], self.fx.Node) and not n.kwargs):
                continue
            leaves, inner, stack = [], [], [n.args[0]]
            while stack:
                a = stack.pop()
                if isinstance(a, self.fx.Node) and a.op == "call_function" and a.target in adds and \
                        len(a.args) == 2 and not a.kwargs and len(a.users) == 1 and \
                        all(isinstance(i, self.fx.Node) and self.is_tensor(i) for i in a.args):
                    inner.append(a)
                    stack.extend(reversed(a.args))
                else:
                    leaves.append(a)
            if len(leaves) == n.args[1] >= 2 and inner:
                found[n] = leaves
                self.done.update(inner)
        return found

    def _want(self, n) -> str:
        return n.target if n.op == "call_module" else n.name

    def _new_label(self, want: str) -> str:
        """A unique label: a name token (letters, digits, '_', '.'); a leading digit gets '_' (a label that
        is a number could not be referred to), a layer kind or keyword gets '_0', a repeat '_1', '_2', ..."""
        s = re.sub(r"[^A-Za-z0-9_.]", "_", want) or "_"
        if not re.match(r"[A-Za-z_]", s):
            s = "_" + s
        base = s
        if s in self.reserved:
            s = f"{base}_0"
        k = 1
        while s in self.taken or s in self.reserved or (s != base and s in self.wanted):
            s = f"{base}_{k}"
            k += 1
        self.taken.add(s)
        return s

    def _src(self, n) -> str:
        if n not in self.label:
            if n.op == "get_attr":
                raise SpecError(Msg("err.tospec.parameter_buffer_used_directly_forward", target=n.target, name=n.name))
            if n in self.derived:
                self.unsupported(n, Msg("fe.tospec.result_not_single_tensor"))
            self.unsupported(n, Msg("fe.tospec.creates_tensor_that_does_not"))
        return self.label[n]

    def _emit(self, node, kind_text: str, inputs, *, name: str | None = None, merge: bool = False,
              check: bool = True, alias_src: bool = False):
        """One spec line for ``node`` reading ``inputs`` (nodes); returns its label."""
        lab = self._new_label(name or self._want(node))
        srcs = [self._src(i) for i in inputs]
        if merge:
            line = f"{lab}: {kind_text}"
        elif srcs[0] == self.current:
            line = f"{lab}: {kind_text}"
        else:
            line = f"{srcs[0]} | {lab}: {kind_text}"
        self.lines.append(line)
        self.current = lab
        if not alias_src:
            self.label[node] = lab
        if check and self.is_tensor(node):
            self.checks.append((lab, self.shape(node)))
        return lab

    def _chain(self, node, steps, src):
        """Several spec layers for one node: steps = [kind text, ...], the last one gets the node's label."""
        first = True
        for i, text in enumerate(steps):
            last = i == len(steps) - 1
            lab = self._new_label(self._want(node) if last else f"{self._want(node)}.{i}")
            if first and self._src(src) != self.current:
                self.lines.append(f"{self._src(src)} | {lab}: {text}")
            else:
                self.lines.append(f"{lab}: {text}")
            first = False
            self.current = lab
        self.label[node] = self.current
        self.checks.append((self.current, self.shape(node)))

    def _alias(self, node, src):
        self.label[node] = self._src(src)

    # ------------------------------------------------------------------ one node
    def node(self, n):
        if n.op == "get_attr":
            return          # constants are checked where they are used
        if not self.is_tensor(n):
            v = self.val.get(n)
            if isinstance(v, (tuple, list)) and any(isinstance(t, self.torch.Tensor) for t in v):
                return      # a tuple of tensors (recurrent output, split): handled by its getitem users
            return          # a Python value computed from shapes: used as a constant
        if n not in self.derived:
            self.unsupported(n, Msg("fe.tospec.creates_tensor_that_does_not"))
        try:
            if n.op == "call_module":
                self.module(n)
            elif n.op in ("call_function", "call_method"):
                self.function(n)
            else:
                self.unsupported(n, Msg("fe.tospec.fx_op", op=n.op))
        except _Unsupported as e:
            self.unsupported(n, e.args[0] if len(e.args) == 1 else str(e))      # a Msg: its Chinese too
        except SpecError:
            raise
        except ValueError as e:         # a value the spec cannot write (inf, nan, an object)
            self.unsupported(n, Msg("fe.tospec.argument_value_cannot_written_spec", e=e))

    def tensor_args(self, n):
        return [a for a in n.all_input_nodes if self.is_tensor(a)]

    # ------------------------------------------------------------------ check
    def check(self, text: str):
        try:
            report = analyze_calls(load(text))
        except SpecError as e:
            raise SpecError(Msg("err.tospec.spec_written_does_not_analyse", name=type(self.model).__name__, e=e)) from None
        by_name = {layer.name: layer for layer in report.layers}
        for lab, shape in self.checks:
            got = by_name[lab].output_shape
            if tuple(got) != tuple(shape):
                raise SpecError(Msg("err.tospec.layer_torch_computes_but_spec", lab=lab, shape=tuple(shape), got=tuple(got)), layer=lab)
        return report
