"""A text spec written out as the Python source of an equivalent ``torch.nn.Module``.

``to_pytorch(spec)`` analyses the spec under the PyTorch convention (channels-first) and writes a class whose
``__init__`` creates one module per layer -- in_channels / in_features taken from the analysed input shapes --
and whose ``forward`` follows the graph: merges become ``+``, ``-``, ``*``, ``torch.cat``, ``torch.maximum``,
a centre crop becomes slicing, ``slice`` becomes ``narrow``, global pooling a ``mean`` / ``amax`` over the
spatial dims.  Module attributes are the report's layer names with anything that is not a letter, digit or
``_`` replaced by ``_`` (``layer1.0.conv1`` -> ``self.layer1_0_conv1``); :func:`module_names` gives the map.

Nothing here imports torch: the result is source text.  The generated class carries ``input_shape`` (batch
first, as analysed) and ``input_dtype``, so ``Net()(torch.zeros(Net.input_shape, dtype=Net.input_dtype))``
runs it.  A layer PyTorch has no equivalent for raises :class:`~cnncalc.SpecError` naming the layer.
"""
from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass
from typing import Callable

from ..analysis import analyze_calls
from ..conventions import get_convention
from ..errors import SpecError
from ..ops import registry
from ..ops.base import Ctx
from ..spec import load

__all__ = ["to_pytorch", "module_names"]

#: attribute names a generated module must not take (nn.Module's own, plus the class attributes we write)
_MODULE_ATTRS = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile",
    "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer",
    "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia",
    "named_buffers", "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "smap", "state_dict", "to", "to_empty",
    "train", "training", "type", "xpu", "zero_grad", "input_shape", "input_dtype",
})
#: local names forward() uses itself
_RESERVED_VARS = frozenset({"self", "torch", "nn", "F", "x"}) | frozenset(dir(builtins))

#: activation kind -> (nn class, functional form for fused Keras-style ``activation=``)
_ACTIVATIONS = {
    "relu": ("ReLU", "F.relu({})"),
    "relu6": ("ReLU6", "F.relu6({})"),
    "leakyrelu": ("LeakyReLU", "F.leaky_relu({})"),
    "elu": ("ELU", "F.elu({})"),
    "selu": ("SELU", "F.selu({})"),
    "gelu": ("GELU", "F.gelu({})"),
    "sigmoid": ("Sigmoid", "torch.sigmoid({})"),
    "tanh": ("Tanh", "torch.tanh({})"),
    "silu": ("SiLU", "F.silu({})"),
    "hardswish": ("Hardswish", "F.hardswish({})"),
    "hardsigmoid": ("Hardsigmoid", "F.hardsigmoid({})"),
    "softplus": ("Softplus", "F.softplus({})"),
    "mish": ("Mish", "F.mish({})"),
    "softsign": ("Softsign", "F.softsign({})"),
}
_MODES = {"nearest": "nearest", "nearestexact": "nearest-exact", "linear": "linear", "bilinear": "bilinear",
          "bicubic": "bicubic", "trilinear": "trilinear"}
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


@dataclass
class _Step:
    """One layer of the generated module."""
    name: str                              # report name
    ctor: str | None                       # nn.Module constructor source, or None (functional)
    fwd: Callable[[list, str], str]        # (input variables, module reference) -> expression
    exact: bool = True                     # the module's output is the layer's output (hooks may compare)
    attr: str | None = None


def _r(v) -> str:
    """Python source of a plain value."""
    if isinstance(v, list):
        v = tuple(v)
    return repr(v)


def _one(vals) -> object:
    """An int when every dim agrees, else the tuple (PyTorch style: kernel_size=3, or (1, 7))."""
    vals = tuple(vals)
    return vals[0] if len(set(vals)) == 1 else vals


def _kw(**kw) -> str:
    return "".join(f", {k}={_r(v)}" for k, v in kw.items())


def _identifier(text: str, taken: set, reserved: frozenset, digit_prefix: str) -> str:
    s = re.sub(r"\W", "_", text, flags=re.ASCII) or "_"
    if s[0].isdigit():
        s = digit_prefix + s
    if keyword.iskeyword(s) or keyword.issoftkeyword(s) or s in reserved:
        s += "_"
    base, k = s, 2
    while s in taken:
        s = f"{base}_{k}"
        k += 1
    taken.add(s)
    return s


class _Exporter:
    def __init__(self, spec, class_name: str = "Net"):
        if not isinstance(class_name, str) or not class_name.isidentifier() or keyword.iskeyword(class_name):
            raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
        self.class_name = class_name
        self.calls = load(spec)
        self.report = analyze_calls(self.calls, convention="pytorch")
        self.conv = get_convention("pytorch")
        self.steps: list[_Step] = []
        attrs: set = set()
        for call, layer in zip(self.calls[1:], self.report.layers):
            step = self.layer(call, layer)
            if step.ctor is not None:
                step.attr = _identifier(layer.name, attrs, _MODULE_ATTRS, "layer_")
            self.steps.append(step)

    # ------------------------------------------------------------------ errors
    def _fail(self, call, layer, msg: str):
        raise SpecError(f"{layer.kind} cannot be exported to PyTorch: {msg}", line=call.line, column=call.column,
                        layer=layer.name, fragment=call.text or None)

    # ------------------------------------------------------------------ one layer
    def layer(self, call, layer) -> _Step:
        op = registry.lookup(call.kind, line=call.line, column=call.column, fragment=call.text, layer=layer.name)
        ctx = Ctx(self.conv, call, layer.name, op)
        a = ctx.args = registry.bind(op, call, ctx.fail)
        kind = op.kind
        spelling = registry.norm(call.kind)
        x = layer.input_shapes[0] if layer.input_shapes else layer.input_shape
        out = layer.output_shape
        fail = lambda msg: self._fail(call, layer, msg)  # noqa: E731

        def module(ctor, exact=True, wrap=None):
            def fwd(v, m):
                e = f"{m}({v[0]})"
                return wrap(e) if wrap else e
            return _Step(layer.name, ctor, fwd, exact)

        def fused(expr_fn=None):
            """Keras-style activation= on a conv / dense: applied functionally after the module."""
            act = getattr(a, "activation", None)
            if act in (None, "linear"):
                return expr_fn
            aop = registry.OPS.get(registry.norm(str(act)))
            if aop is None or aop.family != "activation":
                fail(f"unknown activation {act!r}")
            if aop.kind in ("softmax", "logsoftmax"):
                form = "F.log_softmax({}, dim=1)" if aop.kind == "logsoftmax" else "F.softmax({}, dim=1)"
            elif aop.kind in _ACTIVATIONS:
                form = _ACTIVATIONS[aop.kind][1]
            else:
                fail(f"activation {act!r} has no functional form")
            return (lambda e: form.format(expr_fn(e))) if expr_fn else form.format

        # ---- convolutions
        if op.family == "conv":
            n = op.extra["ndim"]
            N, C, spatial = ctx.split(x, n)
            k = ctx.ints(a, "kernel_size", n)
            s = ctx.ints(a, "stride", n)
            d = ctx.ints(a, "dilation", n)
            bias = ctx.bool_(a, "bias")
            pmode = str(a.padding_mode)
            if kind.startswith("convtranspose"):
                return self._transposed(call, layer, ctx, a, n, C, spatial, k, s, d, bias, fused)
            word, pads = ctx.conv_pads(a, spatial, k, s, d, causal_ok=True)
            pre = None
            kw = {}
            if word in ("same", "same_upper"):
                kw["padding"] = "same"
            elif any(pb != pa for pb, pa in pads):
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
                mode = {"zeros": "constant"}.get(pmode, pmode)
                pre = (f"F.pad({{}}, {_r(torch_order)})" if mode == "constant"
                       else f"F.pad({{}}, {_r(torch_order)}, mode={mode!r})")
            elif any(pb for pb, _ in pads):
                kw["padding"] = _one(pb for pb, _ in pads)
            if any(di != 1 for di in d):
                kw["dilation"] = _one(d)
            stride = {"stride": _one(s)} if any(si != 1 for si in s) else {}
            tail = {} if bias else {"bias": False}
            if pmode != "zeros" and pre is None:
                tail["padding_mode"] = pmode
            if kind.startswith("conv"):
                g = ctx.int_(a, "groups")
                F_ = ctx.int_(a, "filters")
                grp = {"groups": g} if g != 1 else {}
                ctor = f"nn.Conv{n}d({C}, {F_}, {_r(_one(k))}{_kw(**stride, **kw, **grp, **tail)})"
            elif kind.startswith("depthwise"):
                m = ctx.int_(a, "depth_multiplier")
                ctor = f"nn.Conv{n}d({C}, {C * m}, {_r(_one(k))}{_kw(**stride, **kw, groups=C, **tail)})"
            else:       # separable: depthwise (no bias) then pointwise
                m = ctx.int_(a, "depth_multiplier")
                F_ = ctx.int_(a, "filters")
                dw_tail = {"bias": False}
                if pmode != "zeros" and pre is None:
                    dw_tail["padding_mode"] = pmode
                ctor = (f"nn.Sequential(nn.Conv{n}d({C}, {C * m}, {_r(_one(k))}"
                        f"{_kw(**stride, **kw, groups=C, **dw_tail)}), "
                        f"nn.Conv{n}d({C * m}, {F_}, 1{_kw(**({} if bias else {'bias': False}))}))")
            act = fused()
            return _Step(layer.name, ctor,
                         lambda v, m: (act or (lambda e: e))(f"{m}({pre.format(v[0]) if pre else v[0]})"))

        # ---- pooling
        if op.family == "pool":
            n = op.extra["ndim"]
            N, C, spatial = ctx.split(x, n)
            if kind.startswith("global"):
                dims = tuple(range(2, 2 + n))
                keep = len(out) == len(x)
                fn = "mean" if "avg" in kind else "amax"
                dim = dims[0] if n == 1 else dims
                tail = ", keepdim=True" if keep else ""
                return _Step(layer.name, None, lambda v, m: f"{v[0]}.{fn}(dim={_r(dim)}{tail})")
            if kind.startswith("adaptive"):
                size = a.output_size
                sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
                if len(sizes) == 1:
                    sizes = sizes * n
                cls = "AdaptiveAvgPool" if "avg" in kind else "AdaptiveMaxPool"
                return module(f"nn.{cls}{n}d({_r(sizes[0] if len(set(sizes)) == 1 else sizes)})")
            k = ctx.ints(a, "kernel_size", n)
            s = k if a.stride is None else ctx.ints(a, "stride", n)
            d = ctx.ints(a, "dilation", n)
            ceil = ctx.bool_(a, "ceil_mode")
            pads = ctx.explicit_pads(a, "padding", n)
            kw = {}
            if s != k:
                kw["stride"] = _one(s)
            pre = None
            avg = kind.startswith("avg")
            include_pad = ctx.bool_(a, "count_include_pad")
            if any(pb != pa for pb, pa in pads):
                if ceil:
                    fail(f"asymmetric padding {pads} with ceil_mode=true has no PyTorch equivalent")
                if avg and not include_pad:
                    fail(f"asymmetric padding {pads} with count_include_pad=false has no PyTorch equivalent")
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
                pre = (f"F.pad({{}}, {_r(torch_order)})" if avg
                       else f"F.pad({{}}, {_r(torch_order)}, value=float('-inf'))")
            elif any(pb for pb, _ in pads):
                kw["padding"] = _one(pb for pb, _ in pads)
            if not avg and any(di != 1 for di in d):
                kw["dilation"] = _one(d)
            if ceil:
                kw["ceil_mode"] = True
            if avg and not include_pad:
                kw["count_include_pad"] = False
            if avg and a.divisor_override is not None:
                kw["divisor_override"] = a.divisor_override
            cls = "AvgPool" if avg else "MaxPool"
            ctor = f"nn.{cls}{n}d({_r(_one(k))}{_kw(**kw)})"
            return _Step(layer.name, ctor, lambda v, m: f"{m}({pre.format(v[0]) if pre else v[0]})")

        # ---- dense, embedding
        if kind == "dense":
            bias = ctx.bool_(a, "bias")
            units = ctx.int_(a, "units")
            act = fused()
            ctor = f"nn.Linear({x[-1]}, {units}{'' if bias else ', bias=False'})"
            return _Step(layer.name, ctor, lambda v, m: (act or (lambda e: e))(f"{m}({v[0]})"))
        if kind == "embedding":
            kw = {}
            if a.padding_idx is not None:
                kw["padding_idx"] = a.padding_idx
            if a.max_norm is not None:
                kw["max_norm"] = a.max_norm
            return module(f"nn.Embedding({ctx.int_(a, 'num_embeddings')}, {ctx.int_(a, 'embedding_dim')}{_kw(**kw)})")

        # ---- normalisation
        if kind.startswith("batchnorm"):
            r = len(x)
            if a.axis is not None and a.axis % r != 1:
                fail(f"PyTorch BatchNorm normalises axis 1; axis={a.axis} on {x}")
            dim = {2: 1, 3: 1, 4: 2, 5: 3}.get(r)
            if dim is None:
                fail(f"no PyTorch BatchNorm takes a {r}-d input {x}")
            affine = ctx.bool_(a, "affine")
            center, scale = ctx.bool_(a, "center"), ctx.bool_(a, "scale")
            if affine and center != scale:
                fail("PyTorch BatchNorm has both gamma and beta (affine) or neither")
            kw = {}
            if a.eps != 1e-5:
                kw["eps"] = a.eps
            if a.momentum != 0.1:
                kw["momentum"] = a.momentum
            if not (affine and center):
                kw["affine"] = False
            if not ctx.bool_(a, "track_running_stats"):
                kw["track_running_stats"] = False
            return module(f"nn.BatchNorm{dim}d({x[1]}{_kw(**kw)})")
        if kind == "layernorm":
            r = len(x)
            if a.normalized_shape is not None:
                ns = tuple(a.normalized_shape) if isinstance(a.normalized_shape, (tuple, list)) \
                    else (a.normalized_shape,)
            elif a.axis is not None:
                axes = sorted(ax % r for ax in (a.axis if isinstance(a.axis, (tuple, list)) else (a.axis,)))
                if axes != list(range(r - len(axes), r)):
                    fail(f"PyTorch LayerNorm normalises trailing dims; axis={a.axis} of {x} is not")
                ns = tuple(x[ax] for ax in axes)
            else:
                ns = (x[-1],)
            affine = ctx.bool_(a, "elementwise_affine")
            kw = {}
            if a.eps != 1e-5:
                kw["eps"] = a.eps
            if not affine:
                kw["elementwise_affine"] = False
            else:
                if not ctx.bool_(a, "scale"):
                    fail("PyTorch LayerNorm cannot drop gamma (scale=false) and keep affine")
                if not (ctx.bool_(a, "bias") and ctx.bool_(a, "center")):
                    kw["bias"] = False
            return module(f"nn.LayerNorm({_r(ns[0] if len(ns) == 1 else ns)}{_kw(**kw)})")
        if kind == "groupnorm":
            kw = {} if a.eps == 1e-5 else {"eps": a.eps}
            if not ctx.bool_(a, "affine"):
                kw["affine"] = False
            return module(f"nn.GroupNorm({ctx.int_(a, 'num_groups')}, {x[1]}{_kw(**kw)})")
        if kind.startswith("instancenorm"):
            dim = {3: 1, 4: 2, 5: 3}.get(len(x))
            if dim is None:
                fail(f"no PyTorch InstanceNorm takes a {len(x)}-d input {x}")
            kw = {}
            if a.eps != 1e-5:
                kw["eps"] = a.eps
            if a.momentum != 0.1:
                kw["momentum"] = a.momentum
            if a.affine is not None and ctx.bool_(a, "affine"):
                kw["affine"] = True
            if ctx.bool_(a, "track_running_stats"):
                kw["track_running_stats"] = True
            return module(f"nn.InstanceNorm{dim}d({x[1]}{_kw(**kw)})")

        # ---- activations
        if kind == "activation":
            name = registry.norm(str(a.activation))
            aop = registry.OPS.get(name)
            if aop is None or aop.family != "activation" or aop.kind in ("activation", "prelu"):
                fail(f"unknown activation {a.activation!r}")
            if aop.kind in ("softmax", "logsoftmax"):
                return module(f"nn.{'LogSoftmax' if aop.kind == 'logsoftmax' else 'Softmax'}(dim=1)")
            return module(f"nn.{_ACTIVATIONS[aop.kind][0]}()")
        if kind in _ACTIVATIONS:
            kw = {}
            if kind == "leakyrelu" and a.negative_slope != 0.01:
                kw["negative_slope"] = a.negative_slope
            if kind == "elu" and a.alpha != 1.0:
                kw["alpha"] = a.alpha
            if kind == "gelu" and str(a.approximate) != "none":
                kw["approximate"] = str(a.approximate)
            return module(f"nn.{_ACTIVATIONS[kind][0]}({_kw(**kw)[2:]})")
        if kind == "prelu":
            num = layer.params
            c = x[1] if len(x) > 1 else 1
            if num not in (1, c):
                fail(f"{num} slopes: PyTorch PReLU has one or one per channel ({c})")
            if a.num_parameters is None and a.shared_axes is not None and num == c and num != 1:
                shared = a.shared_axes if isinstance(a.shared_axes, (tuple, list)) else (a.shared_axes,)
                if sorted(shared) != list(range(2, len(x))):
                    fail(f"slopes shared over axes {a.shared_axes}: PyTorch PReLU shares over all but axis 1")
            kw = {"num_parameters": num} if num != 1 else {}
            if a.init != 0.25:
                kw["init"] = a.init
            return module(f"nn.PReLU({_kw(**kw)[2:]})")
        if kind == "rescaling":
            scale, offset = ctx.float_(a, "scale"), ctx.float_(a, "offset")
            return _Step(layer.name, None,
                         lambda v, m: f"{v[0]} * {scale!r}" + (f" + {offset!r}" if offset else ""))
        if kind == "normalization":
            fail("Keras Normalization keeps its mean and variance as (non-trainable) weights; PyTorch has no such "
                 "layer -- its statistics would be buffers, not parameters")
        if kind in ("softmax", "logsoftmax"):
            axis = 1 if a.axis is None else a.axis
            return module(f"nn.{'LogSoftmax' if kind == 'logsoftmax' else 'Softmax'}(dim={axis})")

        # ---- recurrent
        if op.family == "recurrent":
            I = x[-1]
            H = ctx.int_(a, "hidden_size")
            kw = {}
            L = ctx.int_(a, "num_layers")
            if L != 1:
                kw["num_layers"] = L
            if kind == "rnn":
                nl = str(a.nonlinearity if a.given("nonlinearity") else a.activation).lower()
                if nl not in ("tanh", "relu"):
                    fail(f"PyTorch RNN's nonlinearity is tanh or relu, got {nl!r}")
                if nl == "relu":
                    kw["nonlinearity"] = "relu"
            if not ctx.bool_(a, "bias"):
                kw["bias"] = False
            kw["batch_first"] = True
            if a.dropout:
                kw["dropout"] = a.dropout
            if ctx.bool_(a, "bidirectional"):
                kw["bidirectional"] = True
            if a.proj_size:
                kw["proj_size"] = a.proj_size
            last = len(out) == 2
            ctor = f"nn.{ {'rnn': 'RNN', 'lstm': 'LSTM', 'gru': 'GRU'}[kind]}({I}, {H}{_kw(**kw)})"
            return _Step(layer.name, ctor, lambda v, m: f"{m}({v[0]})[0]" + ("[:, -1]" if last else ""),
                         exact=False)

        # ---- shape, padding, upsampling, dropout
        if kind == "flatten":
            kw = {}
            if a.start_dim != 1:
                kw["start_dim"] = a.start_dim
            if a.end_dim != -1:
                kw["end_dim"] = a.end_dim
            return module(f"nn.Flatten({_kw(**kw)[2:]})")
        if kind == "reshape":
            view = "reshape" if self._maybe_strided(call) else "view"
            dims = ", ".join(str(i) for i in out[1:])
            return _Step(layer.name, None, lambda v, m: f"{v[0]}.{view}({v[0]}.size(0), {dims})")
        if kind == "identity":
            return module("nn.Identity()")
        if kind == "dropout":
            p = {} if a.p == 0.5 else {"p": a.p}
            m = re.fullmatch(r"(?:spatial)?dropout([123])d", spelling)
            if m and len(x) == int(m.group(1)) + 2:
                return module(f"nn.Dropout{m.group(1)}d({_kw(**p)[2:]})")
            if spelling == "alphadropout":
                return module(f"nn.AlphaDropout({_kw(**p)[2:]})")
            if spelling == "gaussiandropout":
                return module("nn.Identity()")     # Keras GaussianDropout: identity at inference
            return module(f"nn.Dropout({_kw(**p)[2:]})")
        if kind.startswith("zeropad"):
            n = op.extra["ndim"]
            spatial = x[2:]
            if len(spatial) != n:
                fail(f"expects a {n + 1}-d input per sample, got {x}")
            v = a.padding
            if isinstance(v, (tuple, list)) and len(v) == 2 * n and all(isinstance(i, int) for i in v):
                torch_order = tuple(v)
            else:
                pads = ctx.explicit_pads(a, "padding", n)
                torch_order = tuple(p for pb_pa in reversed(pads) for p in pb_pa)
            pad = torch_order[0] if len(set(torch_order)) == 1 else torch_order
            if a.value:
                return module(f"nn.ConstantPad{n}d({_r(pad)}, {_r(a.value)})")
            return module(f"nn.ZeroPad{n}d({_r(pad)})")
        if kind == "upsample":
            n = len(x) - 2
            mode = _MODES.get(str(a.mode).lower().replace("_", "").replace("-", ""))
            if mode is None:
                fail(f"unknown mode {a.mode!r}")
            if mode in _MODE_RANK and _MODE_RANK[mode] != n:
                fail(f"mode {mode!r} is for {_MODE_RANK[mode]}-d inputs (per sample: channels + "
                     f"{_MODE_RANK[mode]} spatial dims), this input {x} has {n}")
            kw = {}
            if a.size is not None:
                kw["size"] = _one(ctx.ints(a, "size", n))
            else:
                sf = a.scale_factor
                kw["scale_factor"] = _one(sf) if isinstance(sf, (tuple, list)) else sf
            if mode != "nearest":
                kw["mode"] = mode
            if a.align_corners is not None:
                kw["align_corners"] = ctx.bool_(a, "align_corners")
            return module(f"nn.Upsample({_kw(**kw)[2:]})")
        if kind.startswith("upsampling"):
            n = op.extra["ndim"]
            mode = str(a.interpolation).lower()
            if mode == "bilinear":
                mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[n]
            elif mode == "bicubic" and n != 2:
                fail("bicubic upsampling is 2-d only in PyTorch")
            elif mode not in ("nearest", "bicubic"):
                fail(f"interpolation {mode!r} has no PyTorch equivalent")
            kw = {"scale_factor": _one(ctx.ints(a, "size", n))}
            if mode != "nearest":
                kw["mode"] = mode
            return module(f"nn.Upsample({_kw(**kw)[2:]})")

        # ---- merges
        if kind in ("add", "subtract", "multiply"):
            sym = {"add": " + ", "subtract": " - ", "multiply": " * "}[kind]
            return _Step(layer.name, None, lambda v, m: sym.join(v))
        if kind == "average":
            return _Step(layer.name, None, lambda v, m: f"({' + '.join(v)}) / {len(v)}")
        if kind in ("maximum", "minimum"):
            def fold(v, m):
                e = v[0]
                for t in v[1:]:
                    e = f"torch.{kind}({e}, {t})"
                return e
            return _Step(layer.name, None, fold)
        if kind == "concat":
            axis = 1 if a.axis is None else a.axis
            return _Step(layer.name, None, lambda v, m: f"torch.cat([{', '.join(v)}], dim={axis})")
        if kind == "crop":
            big, like = layer.input_shapes
            idx = ", ".join(f"{(b - s) // 2}:{(b - s) // 2 + s}" for b, s in zip(big[2:], like[2:]))
            return _Step(layer.name, None, lambda v, m: f"{v[0]}[..., {idx}]")
        if kind == "slice":
            axis = 1 if a.axis is None else a.axis % len(x)
            return _Step(layer.name, None, lambda v, m: f"{v[0]}.narrow({axis}, {a.start}, {a.stop - a.start})")
        fail("no PyTorch equivalent is known for this layer kind")

    def _transposed(self, call, layer, ctx, a, n, C, spatial, k, s, d, bias, fused):
        F_ = ctx.int_(a, "filters")
        g = ctx.int_(a, "groups")
        pads = ctx.explicit_pads(a, "padding", n)
        op = None if a.output_padding is None else ctx.ints(a, "output_padding", n, lo=0)
        kw = {}
        if any(si != 1 for si in s):
            kw["stride"] = _one(s)
        crop = None
        if any(pb != pa for pb, pa in pads):
            full = [(L - 1) * s_ + d_ * (k_ - 1) + (op[i] if op else 0) + 1
                    for i, (L, k_, s_, d_) in enumerate(zip(spatial, k, s, d))]
            crop = ", ".join(f"{pb}:{f - pa}" for (pb, pa), f in zip(pads, full))
        elif any(pb for pb, _ in pads):
            kw["padding"] = _one(pb for pb, _ in pads)
        if op is not None and any(op):
            kw["output_padding"] = _one(op)
        if g != 1:
            kw["groups"] = g
        if not bias:
            kw["bias"] = False
        if any(di != 1 for di in d):
            kw["dilation"] = _one(d)
        if str(a.padding_mode) != "zeros":
            kw["padding_mode"] = str(a.padding_mode)
        act = fused() or (lambda e: e)
        ctor = f"nn.ConvTranspose{n}d({C}, {F_}, {_r(_one(k))}{_kw(**kw)})"
        return _Step(layer.name, ctor, lambda v, m: act(f"{m}({v[0]})" + (f"[..., {crop}]" if crop else "")),
                     exact=crop is None)

    def _maybe_strided(self, call) -> bool:
        """Whether the input of a reshape may be a non-contiguous view (then .reshape, not .view)."""
        src = {c.output: c for c in self.calls}
        c = src.get(call.inputs[0]) if call.inputs else None
        while c is not None:
            k = registry.norm(c.kind)
            op = registry.OPS.get(k)
            kind = op.kind if op else k
            if kind in ("slice", "crop") or (op and op.family == "recurrent"):
                return True
            if kind not in ("identity", "dropout", "reshape"):
                return False
            c = src.get(c.inputs[0]) if c.inputs else None
        return False

    # ------------------------------------------------------------------ the source
    def source(self) -> str:
        rep = self.report
        calls = self.calls
        in_id = calls[0].output or "input"
        ids = [in_id]
        ins_of = []
        prev = in_id
        for i, call in enumerate(calls[1:], start=1):
            ins = call.inputs if call.inputs is not None else (prev,)
            ins_of.append(tuple(ins))
            prev = call.output or f"t{i}"
            ids.append(prev)
        consumers: dict = {t: [] for t in ids}
        for i, ins in enumerate(ins_of, start=1):
            for t in ins:
                consumers[t].append(i)
        final = ids[-1]
        taken = set(_RESERVED_VARS)
        var = {}
        for p, t in enumerate(ids):
            if consumers[t] == [p + 1] or (t == final and not consumers[t]):
                var[t] = "x"
            elif p == 0:
                var[t] = _identifier(calls[0].label or "x_in", taken, _RESERVED_VARS, "t_")
            else:
                call, layer = calls[p], rep.layers[p - 1]
                var[t] = _identifier(call.extra.get("tensor") or layer.name, taken, _RESERVED_VARS, "t_")
        if len(ids) == 1:
            var[in_id] = "x"
        dtype = "torch.long" if any(rep.layers[i - 1].kind == "embedding" for i in consumers[in_id]) \
            else "torch.float32"
        out_shape = rep.layers[-1].output_shape if rep.layers else rep.input_shape
        t = rep.totals
        lines = [
            f'"""{self.class_name}: generated by cnncalc from a spec, PyTorch conventions (channels-first).',
            "",
            f"Input {rep.input_shape} -> output {tuple(out_shape)}; {t.params:,} parameters, {t.macs:,} MACs.",
            '"""',
            "import torch",
            "import torch.nn.functional as F",
            "from torch import nn",
            "",
            "",
            f"class {self.class_name}(nn.Module):",
            f"    input_shape = {_r(tuple(rep.input_shape))}    # batch first, as analysed",
            f"    input_dtype = {dtype}",
            "",
            "    def __init__(self):",
            "        super().__init__()",
        ]
        for step in self.steps:
            if step.ctor is None:
                continue
            note = f"  # {step.name}" if step.attr != step.name.replace(".", "_") else ""
            lines.append(f"        self.{step.attr} = {step.ctor}{note}")
        if not any(s.ctor for s in self.steps):
            lines.append("        pass")
        arg = var[in_id]
        lines += ["", f"    def forward(self, {arg}):"]
        for i, step in enumerate(self.steps, start=1):
            expr = step.fwd([var[t] for t in ins_of[i - 1]], f"self.{step.attr}" if step.attr else "")
            lines.append(f"        {var[ids[i]]} = {expr}")
        lines.append(f"        return {var[final]}")
        return "\n".join(lines) + "\n"


def to_pytorch(spec, *, class_name: str = "Net") -> str:
    """The Python source of an ``nn.Module`` equivalent to ``spec`` under the PyTorch convention.

    ``spec`` is anything :func:`cnncalc.analyze` takes (text, ``zoo:NAME``, a file path, a list of layers).
    The class has one module per layer with parameters or a PyTorch module of its own (attribute = the
    report's layer name, non-identifier characters replaced by ``_``; see :func:`module_names`), class
    attributes ``input_shape`` and ``input_dtype``, and a ``forward`` that follows the spec's graph.
    Raises :class:`~cnncalc.SpecError` for a spec that does not analyse, or a layer PyTorch cannot express.
    """
    return _Exporter(spec, class_name).source()


def module_names(spec) -> dict:
    """Report layer name -> attribute of the module ``to_pytorch`` generates for it.

    Only layers computed by exactly one module whose output is the layer's output are listed (not merges,
    crops, slices, reshapes or global pools, which are tensor expressions in ``forward``; not recurrent
    layers, whose modules return (output, state); not transposed convs with asymmetric padding, cropped after).
    A Keras-style fused ``activation=`` is applied after the module; the shape is the same.
    """
    e = _Exporter(spec)
    return {s.name: s.attr for s in e.steps if s.attr and s.exact}
