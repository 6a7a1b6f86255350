"""``to_pytorch`` rules for dense and embedding layers, normalisation, activations and recurrent layers."""
from __future__ import annotations

from ...i18n import Msg
from ...ops import registry
from .python_source import _ACTIVATIONS, _kw, _r, _Step


class DenseNormActivationRules:
    """Mixed into the exporter: ``_dense_norm_activation(t)`` is the step of such a layer, else None."""

    def _dense_norm_activation(self, t):
        call, layer, op, ctx, a, kind, spelling, x, out, fail, module, fused = t
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
                fail(Msg("err.export.pytorch_batchnorm_normalises_axis_axis", axis=a.axis, x=x))
            dim = {2: 1, 3: 1, 4: 2, 5: 3}.get(r)
            if dim is None:
                fail(Msg("err.export.no_pytorch_batchnorm_takes_d", r=r, x=x))
            affine = ctx.bool_(a, "affine")
            center, scale = ctx.bool_(a, "center"), ctx.bool_(a, "scale")
            if affine and center != scale:
                fail(Msg("err.export.pytorch_batchnorm_has_both_gamma"))
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
                    fail(Msg("err.export.pytorch_layernorm_normalises_trailing_dims", axis=a.axis, x=x))
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
                    fail(Msg("err.export.pytorch_layernorm_cannot_drop_gamma"))
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
                fail(Msg("err.export.no_pytorch_instancenorm_takes_d", x=len(x), x2=x))
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
                fail(Msg("err.export.unknown_activation_2", activation=repr(a.activation)))
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
                fail(Msg("err.export.slopes_pytorch_prelu_has_one", num=num, c=c))
            if a.num_parameters is None and a.shared_axes is not None and num == c and num != 1:
                shared = a.shared_axes if isinstance(a.shared_axes, (tuple, list)) else (a.shared_axes,)
                if sorted(shared) != list(range(2, len(x))):
                    fail(Msg("err.export.slopes_shared_over_axes_pytorch", shared_axes=a.shared_axes))
            kw = {"num_parameters": num} if num != 1 else {}
            if a.init != 0.25:
                kw["init"] = a.init
            return module(f"nn.PReLU({_kw(**kw)[2:]})")
        if kind == "rescaling":
            scale, offset = ctx.float_(a, "scale"), ctx.float_(a, "offset")
            return _Step(layer.name, None,
                         lambda v, m: f"{v[0]} * {scale!r}" + (f" + {offset!r}" if offset else ""))
        if kind == "normalization":
            fail(Msg("err.export.keras_normalization_keeps_mean_variance"))
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
                    fail(Msg("err.export.pytorch_rnn_s_nonlinearity_tanh", nl=repr(nl)))
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
