"""``to_spec`` rules for ``call_function`` / ``call_method`` nodes: ``F.relu``, ``torch.cat``, ``+``,
``x.view``, ``x.mean((2, 3))``, ... -> spec layers (merges, activations, pooling, shape ops)."""
from __future__ import annotations

import math
import operator

from ...i18n import Msg
from .spec_text import _Unsupported, _bind, _call, _one, _pad_text, _pool_text, _size, _softmax_dim, _upsample_text


class FunctionRules:
    """Mixed into the converter: ``function(n)`` writes the layer of a function or tensor method."""

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
                    raise _Unsupported(Msg("fe.tospec.alpha_scales_operand", p=p['alpha']))
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
            raise _Unsupported(Msg("fe.tospec.division_powers_negation_are_not"))
        if is_(torch.cat, torch.concat, torch.concatenate):
            p = b(("tensors", "dim"))
            ts = p["tensors"]
            dim = p.get("dim", p.get("axis", 0))
            for o in ts:
                self._operand(o)
            r = len(self.shape(ts[0]))
            if dim % r == 0:
                raise _Unsupported(Msg("fe.tospec.concatenation_along_batch_axis"))
            if len(ts) == 1:
                return self._alias(n, ts[0])
            axis = {} if dim % r == 1 else {"axis": dim % r}
            extra = "".join(f", axis={v}" for v in axis.values())
            return self._emit(n, f"concat({', '.join(self._src(o) for o in ts)}{extra})", list(ts), merge=True)

        if x is None or len(tens) != 1 or x not in self.derived:
            if not meth and t is operator.getitem and args and isinstance(args[0], self.fx.Node):
                return self._getitem(n)
            raise _Unsupported(Msg("fe.tospec.spec_s_layers_take_one"))

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
            raise _Unsupported(Msg("fe.tospec.only_hardtanh_relu_exists_spec"))
        if is_(F.softmax, torch.softmax, F.log_softmax, torch.log_softmax, methods=("softmax", "log_softmax")):
            p = b(("input", "dim"))
            log = (name or getattr(t, "__name__", "")).startswith("log")
            axis = _softmax_dim(p.get("dim"), len(self.shape(x)))
            return emit(_call("logsoftmax" if log else "softmax", axis=axis))

        # ---- pooling, upsampling, padding, dropout
        for dim in (1, 2, 3):
            if is_(getattr(F, f"max_pool{dim}d")):
                p = b(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"))
                return emit(_pool_text("max", dim, p))
            if is_(getattr(F, f"avg_pool{dim}d")):
                p = b(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                       "divisor_override"))
                return emit(_pool_text("avg", dim, p))
            for mode in ("avg", "max"):
                if is_(getattr(F, f"adaptive_{mode}_pool{dim}d")):
                    p = b(("input", "output_size", "return_indices"))
                    if p.get("return_indices"):
                        raise _Unsupported(Msg("fe.tospec.return_indices_true_returns_tuple"))
                    return emit(_call(f"adaptive{mode}pool{dim}d", _size(p["output_size"])))
        if is_(F.interpolate, getattr(F, "upsample", None)):
            p = b(("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"))
            return emit(_upsample_text(p.get("size"), p.get("scale_factor"), p.get("mode", "nearest"),
                                            p.get("align_corners")))
        if is_(F.pad):
            p = b(("input", "pad", "mode", "value"))
            if p.get("mode", "constant") != "constant":
                raise _Unsupported(Msg("fe.tospec.mode_spec_pads_constant_only", p=repr(p['mode'])))
            value = float(p.get("value") or 0)
            if value == float("-inf"):
                return self._maxpool_padded(n, x, tuple(p["pad"]))
            return emit(_pad_text(tuple(p["pad"]), value, len(self.shape(x))))
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
                raise _Unsupported(Msg("fe.tospec.reduction_over_every_axis_batch"))
            dims = sorted({d % r for d in (dims if isinstance(dims, (tuple, list)) else (dims,))})
            if dims != list(range(2, r)) or r not in (3, 4, 5):
                raise _Unsupported(Msg("fe.tospec.reduction_over_axes_d_tensor", dims=tuple(dims), r=r, p=r - 1))
            mode = "avg" if (name or t.__name__) == "mean" else "max"
            kw = {"keepdims": True} if p.get("keepdim") else {}
            return emit(_call(f"global{mode}pool{r - 2}d", **kw))

        # ---- shape ops
        if is_(torch.flatten, methods=("flatten",)):
            p = b(("input", "start_dim", "end_dim"))
            r = len(self.shape(x))
            s, e = p.get("start_dim", 0) % r, p.get("end_dim", -1) % r
            if s == 0:
                raise _Unsupported(Msg("fe.tospec.start_dim_flattens_batch_axis"))
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
                raise _Unsupported(Msg("fe.tospec.narrowing_batch_axis"))
            start = p["start"] % self.shape(x)[d]
            return emit(_call("slice", start, start + p["length"], **({} if d == 1 else {"axis": d})))
        if meth and name in ("contiguous", "clone", "detach", "float", "to", "type_as", "cpu", "cuda") or \
                (not meth and t in (torch.clone,)):
            if self.shape(n) != self.shape(x):
                raise _Unsupported(Msg("fe.tospec.changes_shape"))
            return self._alias(n, x)
        if not meth and t is operator.getitem:
            return self._getitem(n)
        raise _Unsupported(Msg("fe.tospec.no_spec_layer_does_this"))

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
            raise _Unsupported(Msg("fe.tospec.padding_inf_expressible_only_right"))
        full = tuple(pad) + (0,) * (2 * mode_dim - len(pad))
        pairs = tuple((full[2 * i], full[2 * i + 1]) for i in range(mode_dim))[::-1]
        p["padding"] = pairs
        self._emit(u, _pool_text("max", mode_dim, p), [x])
        self.label[n] = self.label[u]
        self.done.add(u)

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
            raise _Unsupported(Msg("fe.tospec.uses_parameter_buffer_directly_merges", target=o.target))
        if isinstance(o, fx.Node) and self.is_tensor(o):
            raise _Unsupported(Msg("fe.tospec.operand_tensor_that_does_not"))
        shown = self.val[o] if isinstance(o, fx.Node) else o
        raise _Unsupported(Msg("fe.tospec.operand_constant_merges_take_tensors", shown=repr(shown)))

    def _reshape(self, n, x):
        xs, ys = self.shape(x), self.shape(n)
        if ys == xs:
            return self._alias(n, x)
        if not ys or ys[0] != xs[0]:
            raise _Unsupported(Msg("fe.tospec.reshapes_batch_axis_must_stay", xs=xs, ys=ys))
        if len(ys) == 1:
            raise _Unsupported(Msg("fe.tospec.reshapes_spec_layer_s_output", xs=xs, ys=ys))
        if len(ys) == 2:
            return self._emit(n, "flatten", [x])
        return self._emit(n, _call("reshape", tuple(ys[1:])), [x])
