"""A ``torch.nn.Module`` written out as a cnncalc text spec, through ``torch.fx.symbolic_trace``.

``to_spec(model, input_size)`` traces the model symbolically, runs the traced graph once on meta tensors
(``torch.func.functional_call`` with meta copies of the parameters: the model is not modified, no real
arithmetic) to learn every intermediate shape and every Python number computed from shapes (``x.size(0)``,
U-Net crop offsets), and writes one spec line per layer:

* ``call_module`` nodes become layers labelled with the module's qualified name (``layer1.0.conv1``; a module
  called twice gets ``_1``, ``_2``, ... on its later calls);
* functions and tensor methods (``torch.flatten``, ``F.relu``, ``x.view``, ``x.mean((2, 3))``, ``+``,
  ``torch.cat``, slicing, ...) become layers labelled with the fx node's name (``add_1``, ``cat``);
* a tensor read by a layer other than the line before it is referred to by its label: a line starting with
  a bare name switches to that tensor (``maxpool | layer1.0.conv1: conv2d(...)``), merges name their inputs
  (``add_1: add(layer1.0.bn2, maxpool)``).

The spec starts with ``x: input(C, H, W)`` (``batch=N`` when ``input_size[0]`` is not 1).  The result is
checked: cnncalc analyses it and every layer's shape must equal the shape torch computed.  Anything the spec
cannot express raises :class:`~cnncalc.SpecError` naming the module or op and saying why.
"""
from __future__ import annotations

import math
import operator
import re

from ..errors import SpecError

__all__ = ["to_spec"]

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


class _Converter:
    def __init__(self, model, input_size, dtype):
        import torch
        import torch.fx as fx
        from torch import nn
        self.torch, self.nn, self.fx = torch, nn, fx
        self.model = model
        self.input_size = tuple(int(s) for s in input_size)
        if len(self.input_size) < 2 or any(s < 1 for s in self.input_size):
            raise SpecError(f"input_size must be (batch, ...) with whole sizes >= 1, got {tuple(input_size)}")
        was_training = model.training
        model.eval()                 # trace the inference graph (dropout off, BatchNorm running stats)
        try:
            try:
                self.gm = fx.symbolic_trace(model)
            except Exception as e:   # noqa: BLE001 -- any tracing failure is the user's model, not ours
                raise SpecError(f"torch.fx cannot trace {type(model).__name__}: {type(e).__name__}: "
                                f"{' '.join(str(e).split())[:300]}; only models torch.fx can trace symbolically "
                                f"(no data-dependent control flow) can be written as a spec") from None
            self.nodes = list(self.gm.graph.nodes)
            inputs = [n for n in self.nodes if n.op == "placeholder"]
            if len(inputs) != 1:
                raise SpecError(f"{type(model).__name__}.forward takes {len(inputs)} inputs "
                                f"({', '.join(n.name for n in inputs)}); a spec has exactly one input")
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
            raise SpecError(f"running {type(self.model).__name__} on a meta input of size {self.input_size} "
                            f"failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}") from None
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
            return f"module '{n.target}' ({type(self.gm.get_submodule(n.target)).__name__})"
        if n.op == "call_method":
            return f"method .{n.target}() (fx node '{n.name}')"
        t = n.target
        name = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or str(t)
        mod = getattr(t, "__module__", None) or ""
        if mod.startswith("torch.nn.functional"):
            name = "F." + name
        elif mod.startswith("torch") or mod == "_operator" or mod == "operator":
            name = ("torch." if mod.startswith("torch") else "operator.") + name
        return f"{name} (fx node '{n.name}')"

    def unsupported(self, n, why: str):
        raise SpecError(f"{self.what(n)} is not expressible in a cnncalc spec: {why}")

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
        from ..ops import registry
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
            raise SpecError(f"{type(self.model).__name__} returns {len(flat)} values "
                            f"({', '.join(str(o) for o in flat)}); a spec has one output")
        o = outs[0]
        if o not in self.label:
            self.unsupported(o, "its result is not a tensor derived from the input")
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
                raise SpecError(f"the parameter or buffer '{n.target}' is used directly in forward() (fx node "
                                f"'{n.name}'); a spec computes only from the input through layers")
            if n in self.derived:
                self.unsupported(n, "its result is not a single tensor")
            self.unsupported(n, "it creates a tensor that does not come from the input")
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
            self.unsupported(n, "it creates a tensor that does not come from the input")
        try:
            if n.op == "call_module":
                self.module(n)
            elif n.op in ("call_function", "call_method"):
                self.function(n)
            else:
                self.unsupported(n, f"fx op {n.op}")
        except _Unsupported as e:
            self.unsupported(n, str(e))
        except SpecError:
            raise
        except ValueError as e:         # a value the spec cannot write (inf, nan, an object)
            self.unsupported(n, f"argument value {e} cannot be written in a spec")

    def tensor_args(self, n):
        return [a for a in n.all_input_nodes if self.is_tensor(a)]

    # ------------------------------------------------------------------ modules
    def module(self, n):
        nn = self.nn
        mod = self.gm.get_submodule(n.target)
        T = type(mod)
        if len(n.args) != 1 or n.kwargs:
            raise _Unsupported("it is called with more than the input tensor")
        x = n.args[0]
        if not self.is_tensor(x):
            raise _Unsupported("its input is not a tensor")
        xs = self.shape(x)

        def emit(text):
            self._emit(n, text, [x])

        conv = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
        convt = {nn.ConvTranspose1d: 1, nn.ConvTranspose2d: 2, nn.ConvTranspose3d: 3}
        if T in conv:
            kw = {}
            if any(s != 1 for s in mod.stride):
                kw["stride"] = _one(mod.stride)
            if isinstance(mod.padding, str):
                if mod.padding != "valid":
                    kw["padding"] = mod.padding
            elif any(mod.padding):
                kw["padding"] = _one(mod.padding)
            if any(d != 1 for d in mod.dilation):
                kw["dilation"] = _one(mod.dilation)
            if mod.groups != 1:
                kw["groups"] = mod.groups
            if mod.bias is None:
                kw["bias"] = False
            if mod.padding_mode != "zeros":
                kw["padding_mode"] = mod.padding_mode
            return emit(_call(f"conv{conv[T]}d", mod.out_channels, _one(mod.kernel_size), **kw))
        if T in convt:
            kw = {}
            if any(s != 1 for s in mod.stride):
                kw["stride"] = _one(mod.stride)
            if any(mod.padding):
                kw["padding"] = _one(mod.padding)
            if any(mod.output_padding):
                kw["output_padding"] = _one(mod.output_padding)
            if mod.groups != 1:
                kw["groups"] = mod.groups
            if any(d != 1 for d in mod.dilation):
                kw["dilation"] = _one(mod.dilation)
            if mod.bias is None:
                kw["bias"] = False
            return emit(_call(f"convtranspose{convt[T]}d", mod.out_channels, _one(mod.kernel_size), **kw))
        bn = {nn.BatchNorm1d: 1, nn.BatchNorm2d: 2, nn.BatchNorm3d: 3, nn.SyncBatchNorm: None}
        if T in bn:
            kw = self._norm_kw(mod, affine_default=True, track_default=True)
            dim = bn[T] or {2: 1, 3: 1, 4: 2, 5: 3}.get(len(xs))
            return emit(_call(f"batchnorm{dim}d" if dim else "batchnorm", **kw))
        inorm = {nn.InstanceNorm1d: 1, nn.InstanceNorm2d: 2, nn.InstanceNorm3d: 3}
        if T in inorm:
            return emit(_call(f"instancenorm{inorm[T]}d", **self._norm_kw(mod, affine_default=False,
                                                                          track_default=False)))
        if T is nn.LayerNorm:
            kw = {"normalized_shape": tuple(mod.normalized_shape)}
            if mod.eps != 1e-5:
                kw["eps"] = mod.eps
            if not mod.elementwise_affine:
                kw["elementwise_affine"] = False
            elif getattr(mod, "bias", None) is None:
                kw["bias"] = False
            return emit(_call("layernorm", **kw))
        if T is nn.GroupNorm:
            kw = {}
            if mod.eps != 1e-5:
                kw["eps"] = mod.eps
            if not mod.affine:
                kw["affine"] = False
            return emit(_call("groupnorm", mod.num_groups, **kw))
        simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SELU: "selu", nn.SiLU: "silu", nn.Sigmoid: "sigmoid",
                  nn.Tanh: "tanh", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid", nn.Mish: "mish",
                  nn.Softsign: "softsign", nn.Softplus: "softplus", nn.Identity: "identity"}
        if T in simple:
            return emit(simple[T])
        if T is nn.LeakyReLU:
            return emit(_call("leakyrelu", **({} if mod.negative_slope == 0.01 else
                                              {"negative_slope": mod.negative_slope})))
        if T is nn.ELU:
            return emit(_call("elu", **({} if mod.alpha == 1.0 else {"alpha": mod.alpha})))
        if T is nn.GELU:
            return emit(_call("gelu", **({} if mod.approximate == "none" else {"approximate": mod.approximate})))
        if T is nn.Hardtanh:
            if (mod.min_val, mod.max_val) == (0.0, 6.0):
                return emit("relu6")
            raise _Unsupported(f"Hardtanh({mod.min_val}, {mod.max_val}): only Hardtanh(0, 6) = relu6 exists")
        if T is nn.PReLU:
            return emit(_call("prelu", num_parameters=mod.num_parameters))
        if T in (nn.Softmax, nn.LogSoftmax):
            axis = self._softmax_dim(mod.dim, len(xs))
            return emit(_call("softmax" if T is nn.Softmax else "logsoftmax", axis=axis))
        pools = {nn.MaxPool1d: ("max", 1), nn.MaxPool2d: ("max", 2), nn.MaxPool3d: ("max", 3),
                 nn.AvgPool1d: ("avg", 1), nn.AvgPool2d: ("avg", 2), nn.AvgPool3d: ("avg", 3)}
        if T in pools:
            mode, dim = pools[T]
            p = {"kernel_size": mod.kernel_size, "stride": mod.stride, "padding": mod.padding,
                 "ceil_mode": mod.ceil_mode}
            if mode == "max":
                p.update(dilation=mod.dilation, return_indices=mod.return_indices)
            else:
                p.update(count_include_pad=mod.count_include_pad,
                         divisor_override=getattr(mod, "divisor_override", None))
            return emit(self._pool_text(mode, dim, p))
        adaptive = {nn.AdaptiveAvgPool1d: ("avg", 1), nn.AdaptiveAvgPool2d: ("avg", 2),
                    nn.AdaptiveAvgPool3d: ("avg", 3), nn.AdaptiveMaxPool1d: ("max", 1),
                    nn.AdaptiveMaxPool2d: ("max", 2), nn.AdaptiveMaxPool3d: ("max", 3)}
        if T in adaptive:
            mode, dim = adaptive[T]
            if getattr(mod, "return_indices", False):
                raise _Unsupported("return_indices=True returns a tuple")
            return emit(_call(f"adaptive{mode}pool{dim}d", self._size(mod.output_size)))
        if T is nn.Linear:
            return emit(_call("dense", mod.out_features, **({} if mod.bias is not None else {"bias": False})))
        if T is nn.Flatten:
            r = len(xs)
            s, e = mod.start_dim % r, mod.end_dim % r
            if s == 0:
                raise _Unsupported("start_dim=0 flattens the batch axis")
            if (s, e) == (1, r - 1):
                return emit("flatten")
            return emit(_call("flatten", start_dim=mod.start_dim, end_dim=mod.end_dim))
        if T is nn.Unflatten:
            return self._reshape(n, x)
        drop = {nn.Dropout: "dropout", nn.Dropout1d: "dropout1d", nn.Dropout2d: "dropout2d",
                nn.Dropout3d: "dropout3d", nn.AlphaDropout: "alphadropout", nn.FeatureAlphaDropout: "alphadropout"}
        if T in drop:
            return emit(_call(drop[T], **({} if mod.p == 0.5 else {"p": mod.p})))
        if T is nn.Embedding:
            kw = {}
            if mod.padding_idx is not None:
                kw["padding_idx"] = mod.padding_idx
            if mod.max_norm is not None:
                kw["max_norm"] = mod.max_norm
            return emit(_call("embedding", mod.num_embeddings, mod.embedding_dim, **kw))
        if T in (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d):
            return emit(self._upsample_text(mod.size, mod.scale_factor, mod.mode, mod.align_corners))
        pads = {nn.ZeroPad1d: 1, nn.ZeroPad2d: 2, nn.ZeroPad3d: 3, nn.ConstantPad1d: 1, nn.ConstantPad2d: 2,
                nn.ConstantPad3d: 3}
        if T in pads:
            return emit(self._pad_text(tuple(mod.padding), float(mod.value), len(xs)))
        if T in (nn.RNN, nn.LSTM, nn.GRU):
            return          # emitted by the getitem that takes its output sequence
        if isinstance(mod, (nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d, nn.ReplicationPad1d,
                            nn.ReplicationPad2d, nn.ReplicationPad3d, nn.CircularPad1d, nn.CircularPad2d,
                            nn.CircularPad3d)):
            raise _Unsupported("the spec pads with a constant only (zeropad); reflection / replication / "
                               "circular padding is a conv's padding_mode there")
        raise _Unsupported("the spec has no layer for this module type")

    def _norm_kw(self, mod, *, affine_default, track_default) -> dict:
        kw = {}
        if mod.eps != 1e-5:
            kw["eps"] = mod.eps
        if mod.momentum != 0.1:
            kw["momentum"] = mod.momentum
        if mod.affine != affine_default:
            kw["affine"] = mod.affine
        if mod.track_running_stats != track_default:
            kw["track_running_stats"] = mod.track_running_stats
        return kw

    @staticmethod
    def _softmax_dim(dim, rank):
        if dim is None:                  # torch's legacy implicit dim (torch.nn.functional._get_softmax_dim)
            dim = 0 if rank in (0, 1, 3) else 1
        if dim % rank == 0:
            raise _Unsupported(f"softmax over axis {dim} (the batch axis)")
        return dim % rank

    @staticmethod
    def _size(size):
        if isinstance(size, (tuple, list)):
            return tuple(size)[0] if len(set(size)) == 1 and None not in size else tuple(size)
        return size

    def _pool_text(self, mode, dim, p) -> str:
        if p.get("return_indices"):
            raise _Unsupported("return_indices=True returns a tuple")
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

    def _upsample_text(self, size, scale, mode, align_corners) -> str:
        mode = str(mode).replace("-", "_")
        if mode not in ("nearest", "nearest_exact", "linear", "bilinear", "bicubic", "trilinear"):
            raise _Unsupported(f"interpolation mode {mode!r} (the spec has nearest, nearest_exact, linear, "
                               f"bilinear, bicubic, trilinear)")
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

    def _maxpool_padded(self, n, x, pad):
        """F.pad(x, pad, value=-inf) read only by a max pool without padding: one max pool with (asymmetric)
        padding -- to_pytorch's form of maxpool2d(..., padding=((top, bottom), (left, right)))."""
        users = [u for u in n.users if u in self.needed]
        F = self.torch.nn.functional
        u = users[0] if len(users) == 1 else None
        mode_dim = None
        if u is not None and u.op == "call_module":
            mod = self.gm.get_submodule(u.target)
            dims = {self.nn.MaxPool1d: 1, self.nn.MaxPool2d: 2, self.nn.MaxPool3d: 3}
            if type(mod) in dims and len(u.args) == 1 and not u.kwargs:
                mode_dim = dims[type(mod)]
                p = {"kernel_size": mod.kernel_size, "stride": mod.stride, "padding": mod.padding,
                     "dilation": mod.dilation, "ceil_mode": mod.ceil_mode, "return_indices": mod.return_indices}
        elif u is not None and u.op == "call_function":
            for d in (1, 2, 3):
                if u.target is getattr(F, f"max_pool{d}d"):
                    mode_dim = d
                    p = _bind(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                               "return_indices"), self.resolve(tuple(u.args), keep=True),
                              self.resolve(dict(u.kwargs), keep=True))
        rank = len(self.shape(x))
        if mode_dim is None or mode_dim != rank - 2 or _one(p.get("padding", 0)) != 0 or p.get("ceil_mode") \
                or len(pad) % 2 or len(pad) > 2 * mode_dim or any(v < 0 for v in pad):
            raise _Unsupported("padding with -inf is expressible only right before a max pool without padding "
                               "(as the pool's own asymmetric padding)")
        full = tuple(pad) + (0,) * (2 * mode_dim - len(pad))
        pairs = tuple((full[2 * i], full[2 * i + 1]) for i in range(mode_dim))[::-1]
        p["padding"] = pairs
        self._emit(u, self._pool_text("max", mode_dim, p), [x])
        self.label[n] = self.label[u]
        self.done.add(u)

    def _pad_text(self, pad, value, rank) -> str:
        n = rank - 2
        if len(pad) % 2 or len(pad) > 2 * n or n not in (1, 2, 3):
            raise _Unsupported(f"padding {pad} of a {rank}-d tensor (the spec pads 1 to 3 spatial dims)")
        if any(p < 0 for p in pad):
            raise _Unsupported(f"negative padding {pad} (a crop)")
        full = tuple(pad) + (0,) * (2 * n - len(pad))
        if not math.isfinite(value):
            raise _Unsupported(f"padding with {value}: the spec pads with a finite constant")
        kw = {"value": value} if value else {}
        return _call(f"zeropad{n}d", full, **kw)

    # ------------------------------------------------------------------ functions and methods
    def function(self, n):
        torch, F = self.torch, self.torch.nn.functional
        t = n.target
        meth = n.op == "call_method"
        name = t if meth else None
        args, kwargs = n.args, n.kwargs

        def is_(*fns, methods=()):
            return (meth and name in methods) or (not meth and any(t is f for f in fns))

        def b(names):
            return _bind(names, self.resolve(tuple(args), keep=True), self.resolve(dict(kwargs), keep=True))

        tens = self.tensor_args(n)
        x = args[0] if args and isinstance(args[0], self.fx.Node) and self.is_tensor(args[0]) else None
        emit = (lambda text: self._emit(n, text, [x]))

        # ---- elementwise merges
        binary = {"add": (operator.add, operator.iadd, torch.add), "subtract": (operator.sub, operator.isub, torch.sub),
                  "multiply": (operator.mul, operator.imul, torch.mul),
                  "maximum": (torch.maximum,), "minimum": (torch.minimum,)}
        methods = {"add": ("add", "add_"), "subtract": ("sub", "sub_"), "multiply": ("mul", "mul_"),
                   "maximum": ("maximum",), "minimum": ("minimum",)}
        for kind, fns in binary.items():
            if is_(*fns, methods=methods[kind]):
                p = b(("input", "other", "alpha"))
                if p.get("alpha", 1) != 1:
                    raise _Unsupported(f"alpha={p['alpha']} scales an operand")
                ops = [p.get("input"), p.get("other")]
                if kind in ("add", "subtract", "multiply"):
                    first, second = self._const(ops[1]), self._const(ops[0])
                    if (self._from_input(ops[0]) and first is not None) or \
                            (self._from_input(ops[1]) and second is not None):
                        xt, c = (ops[0], first) if first is not None and self._from_input(ops[0]) \
                            else (ops[1], second)
                        scale, offset = {"multiply": (c, 0.0), "add": (1.0, c),
                                         "subtract": (1.0, -c) if xt is ops[0] else (-1.0, c)}[kind]
                        return self._rescale(n, xt, scale, offset)
                for o in ops:
                    self._operand(o)
                return self._emit(n, f"{kind}({', '.join(self._src(o) for o in ops)})", ops, merge=True)
        if n in self.averages:
            leaves = self.averages[n]
            return self._emit(n, f"average({', '.join(self._src(o) for o in leaves)})", leaves, merge=True)
        if is_(operator.truediv, torch.div, methods=("div",)) and len(args) == 2 and not kwargs and \
                self._from_input(args[0]) and self._const(args[1]) not in (None, 0):
            return self._rescale(n, args[0], 1.0 / self._const(args[1]), 0.0)
        if not meth and t in (operator.truediv, operator.itruediv, torch.div, operator.pow, torch.pow,
                              operator.floordiv, operator.neg):
            raise _Unsupported("division, powers and negation are not spec layers")
        if is_(torch.cat, torch.concat, torch.concatenate):
            p = b(("tensors", "dim"))
            ts = p["tensors"]
            dim = p.get("dim", p.get("axis", 0))
            for o in ts:
                self._operand(o)
            r = len(self.shape(ts[0]))
            if dim % r == 0:
                raise _Unsupported("concatenation along the batch axis")
            if len(ts) == 1:
                return self._alias(n, ts[0])
            axis = {} if dim % r == 1 else {"axis": dim % r}
            extra = "".join(f", axis={v}" for v in axis.values())
            return self._emit(n, f"concat({', '.join(self._src(o) for o in ts)}{extra})", list(ts), merge=True)

        if x is None or len(tens) != 1 or x not in self.derived:
            if not meth and t is operator.getitem and args and isinstance(args[0], self.fx.Node):
                return self._getitem(n)
            raise _Unsupported("the spec's layers take one tensor computed from the input (or merge several)")

        # ---- activations
        acts = {"relu": ((F.relu, torch.relu, torch.relu_, F.relu_), ("relu", "relu_")),
                "relu6": ((F.relu6,), ()), "selu": ((F.selu, torch.selu), ()), "silu": ((F.silu,), ()),
                "sigmoid": ((torch.sigmoid, F.sigmoid), ("sigmoid", "sigmoid_")),
                "tanh": ((torch.tanh, F.tanh), ("tanh", "tanh_")), "hardswish": ((F.hardswish,), ()),
                "hardsigmoid": ((F.hardsigmoid,), ()), "mish": ((F.mish,), ()), "softsign": ((F.softsign,), ()),
                "softplus": ((F.softplus,), ())}
        for kind, (fns, ms) in acts.items():
            if is_(*fns, methods=ms):
                return emit(kind)
        if is_(F.leaky_relu):
            slope = b(("input", "negative_slope", "inplace")).get("negative_slope", 0.01)
            return emit(_call("leakyrelu", **({} if slope == 0.01 else {"negative_slope": slope})))
        if is_(F.elu):
            alpha = b(("input", "alpha", "inplace")).get("alpha", 1.0)
            return emit(_call("elu", **({} if alpha == 1.0 else {"alpha": alpha})))
        if is_(F.gelu):
            approx = b(("input", "approximate")).get("approximate", "none")
            return emit(_call("gelu", **({} if approx == "none" else {"approximate": approx})))
        if is_(F.hardtanh):
            p = b(("input", "min_val", "max_val", "inplace"))
            if (p.get("min_val", -1.0), p.get("max_val", 1.0)) == (0.0, 6.0):
                return emit("relu6")
            raise _Unsupported("only hardtanh(0, 6) = relu6 exists in the spec")
        if is_(F.softmax, torch.softmax, F.log_softmax, torch.log_softmax, methods=("softmax", "log_softmax")):
            p = b(("input", "dim"))
            log = (name or getattr(t, "__name__", "")).startswith("log")
            axis = self._softmax_dim(p.get("dim"), len(self.shape(x)))
            return emit(_call("logsoftmax" if log else "softmax", axis=axis))

        # ---- pooling, upsampling, padding, dropout
        for dim in (1, 2, 3):
            if is_(getattr(F, f"max_pool{dim}d")):
                p = b(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"))
                return emit(self._pool_text("max", dim, p))
            if is_(getattr(F, f"avg_pool{dim}d")):
                p = b(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                       "divisor_override"))
                return emit(self._pool_text("avg", dim, p))
            for mode in ("avg", "max"):
                if is_(getattr(F, f"adaptive_{mode}_pool{dim}d")):
                    p = b(("input", "output_size", "return_indices"))
                    if p.get("return_indices"):
                        raise _Unsupported("return_indices=True returns a tuple")
                    return emit(_call(f"adaptive{mode}pool{dim}d", self._size(p["output_size"])))
        if is_(F.interpolate, getattr(F, "upsample", None)):
            p = b(("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"))
            return emit(self._upsample_text(p.get("size"), p.get("scale_factor"), p.get("mode", "nearest"),
                                            p.get("align_corners")))
        if is_(F.pad):
            p = b(("input", "pad", "mode", "value"))
            if p.get("mode", "constant") != "constant":
                raise _Unsupported(f"mode={p['mode']!r}: the spec pads with a constant only")
            value = float(p.get("value") or 0)
            if value == float("-inf"):
                return self._maxpool_padded(n, x, tuple(p["pad"]))
            return emit(self._pad_text(tuple(p["pad"]), value, len(self.shape(x))))
        drops = {F.dropout: "dropout", F.dropout1d: "dropout1d", F.dropout2d: "dropout2d", F.dropout3d: "dropout3d",
                 F.alpha_dropout: "alphadropout", F.feature_alpha_dropout: "alphadropout"}
        for fn, kind in drops.items():
            if is_(fn):
                pr = b(("input", "p", "training", "inplace")).get("p", 0.5)
                return emit(_call(kind, **({} if pr == 0.5 else {"p": pr})))

        # ---- reductions over the spatial dims: global pooling
        if is_(torch.mean, torch.amax, methods=("mean", "amax")):
            p = b(("input", "dim", "keepdim"))
            r = len(self.shape(x))
            dims = p.get("dim")
            if dims is None or dims == ():
                raise _Unsupported("a reduction over every axis, the batch axis included")
            dims = sorted({d % r for d in (dims if isinstance(dims, (tuple, list)) else (dims,))})
            if dims != list(range(2, r)) or r not in (3, 4, 5):
                raise _Unsupported(f"a reduction over axes {tuple(dims)} of a {r}-d tensor: only one over all "
                                   f"the spatial axes (2..{r - 1}) is a global pooling layer")
            mode = "avg" if (name or t.__name__) == "mean" else "max"
            kw = {"keepdims": True} if p.get("keepdim") else {}
            return emit(_call(f"global{mode}pool{r - 2}d", **kw))

        # ---- shape ops
        if is_(torch.flatten, methods=("flatten",)):
            p = b(("input", "start_dim", "end_dim"))
            r = len(self.shape(x))
            s, e = p.get("start_dim", 0) % r, p.get("end_dim", -1) % r
            if s == 0:
                raise _Unsupported("start_dim=0 flattens the batch axis")
            if s == e:
                return self._alias(n, x)
            return emit("flatten" if (s, e) == (1, r - 1) else _call("flatten", start_dim=s, end_dim=e))
        if is_(torch.reshape, torch.squeeze, torch.unsqueeze,
               methods=("view", "reshape", "squeeze", "unsqueeze", "view_as", "reshape_as", "unflatten")):
            return self._reshape(n, x)
        if is_(torch.narrow, methods=("narrow",)):
            p = b(("input", "dim", "start", "length"))
            r = len(self.shape(x))
            d = p["dim"] % r
            if d == 0:
                raise _Unsupported("narrowing the batch axis")
            start = p["start"] % self.shape(x)[d]
            return emit(_call("slice", start, start + p["length"], **({} if d == 1 else {"axis": d})))
        if meth and name in ("contiguous", "clone", "detach", "float", "to", "type_as", "cpu", "cuda") or \
                (not meth and t in (torch.clone,)):
            if self.shape(n) != self.shape(x):
                raise _Unsupported("changes the shape")
            return self._alias(n, x)
        if not meth and t is operator.getitem:
            return self._getitem(n)
        raise _Unsupported("no spec layer does this")

    def _from_input(self, o) -> bool:
        return isinstance(o, self.fx.Node) and self.is_tensor(o) and o in self.derived

    def _const(self, o):
        """A finite Python number (given, or computed from shapes), else None."""
        v = self.val.get(o) if isinstance(o, self.fx.Node) else o
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        return None

    def _rescale(self, n, x, scale, offset):
        """x * scale + offset (a Keras Rescaling layer); a multiply whose only use adds a number is fused."""
        users = [u for u in n.users if u in self.needed]
        target = n
        if offset == 0.0 and len(users) == 1:
            u = users[0]
            if u.op == "call_function" and u.target in (operator.add, operator.sub, self.torch.add,
                                                          self.torch.sub) and len(u.args) == 2 and not u.kwargs:
                a, c = u.args
                if a is n and self._const(c) is not None:
                    offset = self._const(c) * (1 if u.target in (operator.add, self.torch.add) else -1)
                    target = u
                elif c is n and u.target in (operator.add, self.torch.add) and self._const(a) is not None:
                    offset = self._const(a)
                    target = u
        kw = {}
        if scale != 1.0:
            kw["scale"] = scale
        if offset != 0.0:
            kw["offset"] = offset
        self._emit(target, _call("rescaling", **kw), [x])
        if target is not n:
            self.label[n] = self.label[target]
            self.done.add(target)

    def _operand(self, o):
        """A merge operand must be a tensor computed from the input."""
        fx = self.fx
        if isinstance(o, fx.Node) and self.is_tensor(o) and o in self.derived:
            return
        if isinstance(o, fx.Node) and o.op == "get_attr":
            raise _Unsupported(f"it uses the parameter or buffer '{o.target}' directly (merges take tensors "
                               f"computed from the input through layers)")
        if isinstance(o, fx.Node) and self.is_tensor(o):
            raise _Unsupported("an operand is a tensor that does not come from the input")
        shown = self.val[o] if isinstance(o, fx.Node) else o
        raise _Unsupported(f"an operand is the constant {shown!r} (merges take tensors computed from the input; "
                           f"the spec has no scaling or offset layer)")

    def _reshape(self, n, x):
        xs, ys = self.shape(x), self.shape(n)
        if ys == xs:
            return self._alias(n, x)
        if not ys or ys[0] != xs[0]:
            raise _Unsupported(f"reshapes {xs} to {ys}: the batch axis must stay first and unchanged")
        if len(ys) == 1:
            raise _Unsupported(f"reshapes {xs} to {ys}: a spec layer's output keeps a non-batch axis")
        if len(ys) == 2:
            return self._emit(n, "flatten", [x])
        return self._emit(n, _call("reshape", tuple(ys[1:])), [x])

    # ------------------------------------------------------------------ getitem: sequences, splits, slicing
    def _getitem(self, n):
        fx, nn = self.fx, self.nn
        src, idx = n.args[0], self.resolve(n.args[1])
        v = self.val.get(src)
        # output sequence of a recurrent module
        if src.op == "call_module" and isinstance(self.gm.get_submodule(src.target), (nn.RNN, nn.LSTM, nn.GRU)):
            if idx != 0:
                self.unsupported(n, f"item {idx} of {type(self.gm.get_submodule(src.target)).__name__}'s output "
                                    f"is its final hidden state; a spec layer gives the output sequence only")
            return self._recurrent(src, n)
        root = src
        while root.op == "call_function" and root.target is operator.getitem and isinstance(root.args[0], fx.Node):
            root = root.args[0]
        if root is not src and root.op == "call_module" and \
                isinstance(self.gm.get_submodule(root.target), (nn.RNN, nn.LSTM, nn.GRU)):
            self.unsupported(n, f"it takes {type(self.gm.get_submodule(root.target)).__name__} '{root.target}''s "
                                f"final hidden state; a spec layer gives the output sequence only")
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
                    self.unsupported(owner, "splitting the batch axis")
                sizes = [t.shape[d] for t in v]
                i = idx % len(v)
                start = sum(sizes[:i])
                return self._emit(n, _call("slice", start, start + sizes[i], **({} if d == 1 else {"axis": d})),
                                  [whole])
            self.unsupported(n, "it takes an item of a tuple of tensors the spec cannot produce")
        if not isinstance(v, self.torch.Tensor):
            return
        if not (isinstance(src, fx.Node) and self.is_tensor(src)):
            self.unsupported(n, "indexing a value that is not a tensor")
        self._slicing(n, src, idx)

    def _split_dim(self, owner):
        p = _bind(("input", "split_size_or_sections", "dim"), owner.args, owner.kwargs)
        return self.resolve(p.get("dim", 0))

    def _recurrent(self, rnn_node, seq_node):
        nn = self.nn
        mod = self.gm.get_submodule(rnn_node.target)
        if len(rnn_node.args) != 1 or rnn_node.kwargs:
            self.unsupported(rnn_node, "it is given an initial state; a spec layer starts from zeros")
        if not mod.batch_first:
            self.unsupported(rnn_node, "batch_first=False: a spec sequence is (batch, steps, features)")
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
            self.unsupported(n, "indexing with None adds an axis")
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
                    self.unsupported(n, f"a step of {step} along axis {axis}")
                if (start, stop) == (0, size):
                    continue
                if stop <= start:
                    self.unsupported(n, f"an empty slice along axis {axis}")
            elif isinstance(it, int) and not isinstance(it, bool):
                start = it % size
                stop = start + 1
                drop = True
            else:
                self.unsupported(n, f"index {it!r}")
            if axis == 0:
                self.unsupported(n, "slicing the batch axis")
            steps.append(_call("slice", start, stop, **({} if axis == 1 else {"axis": axis})))
        ys = self.shape(n)
        if drop:
            if len(ys) < 2:
                self.unsupported(n, f"the result {ys} keeps only the batch axis")
            steps.append("flatten" if len(ys) == 2 else _call("reshape", tuple(ys[1:])))
        if not steps:
            return self._alias(n, src)
        self._chain(n, steps, src)

    # ------------------------------------------------------------------ check
    def check(self, text: str):
        from ..analysis import analyze
        try:
            report = analyze(text)
        except SpecError as e:
            raise SpecError(f"the spec written for {type(self.model).__name__} does not analyse "
                            f"(a to_spec bug or a cnncalc limit): {e}") from None
        by_name = {layer.name: layer for layer in report.layers}
        for lab, shape in self.checks:
            got = by_name[lab].output_shape
            if tuple(got) != tuple(shape):
                raise SpecError(f"layer {lab}: torch computes {tuple(shape)} but the spec gives {tuple(got)}; "
                                f"the spec cannot express this layer exactly", layer=lab)
        return report


def to_spec(model, input_size, *, dtype=None) -> str:
    """A cnncalc text spec for ``model`` (a ``torch.nn.Module``) taking a tensor of ``input_size``.

    ``input_size`` is batch first, e.g. ``(1, 3, 224, 224)``; ``dtype`` is the input's dtype (default: int64
    when the input feeds an ``nn.Embedding``, else float32).  The model is traced with
    ``torch.fx.symbolic_trace`` in eval mode (its mode is restored) and run once on meta tensors; it is not
    modified.  The spec is analysed before it is returned and every layer's shape must match torch's.
    Raises :class:`~cnncalc.SpecError` naming the module or op that the spec cannot express, and why.
    """
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover
        raise SpecError("to_spec needs torch installed") from None
    import torch
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"to_spec takes a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_size, int) or not all(isinstance(s, int) for s in tuple(input_size)):
        raise SpecError(f"input_size must be a tuple of whole numbers, batch first, got {input_size!r}")
    c = _Converter(model, input_size, dtype)
    text = c.convert()
    c.check(text)
    return text
