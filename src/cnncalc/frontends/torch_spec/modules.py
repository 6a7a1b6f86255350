"""``to_spec`` rules for ``call_module`` nodes: one ``torch.nn`` module call -> one spec layer."""
from __future__ import annotations

from ...i18n import Msg
from .spec_text import _Unsupported, _call, _one, _pad_text, _pool_text, _size, _softmax_dim, _upsample_text


class ModuleRules:
    """Mixed into the converter: ``module(n)`` writes the layer of an ``nn.Module`` call."""

    def module(self, n):
        nn = self.nn
        mod = self.gm.get_submodule(n.target)
        T = type(mod)
        if len(n.args) != 1 or n.kwargs:
            raise _Unsupported(Msg("fe.tospec.called_more_than_input_tensor"))
        x = n.args[0]
        if not self.is_tensor(x):
            raise _Unsupported(Msg("fe.tospec.input_not_tensor"))
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
            raise _Unsupported(Msg("fe.tospec.hardtanh_only_hardtanh_relu_exists", min_val=mod.min_val, max_val=mod.max_val))
        if T is nn.PReLU:
            return emit(_call("prelu", num_parameters=mod.num_parameters))
        if T in (nn.Softmax, nn.LogSoftmax):
            axis = _softmax_dim(mod.dim, len(xs))
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
            return emit(_pool_text(mode, dim, p))
        adaptive = {nn.AdaptiveAvgPool1d: ("avg", 1), nn.AdaptiveAvgPool2d: ("avg", 2),
                    nn.AdaptiveAvgPool3d: ("avg", 3), nn.AdaptiveMaxPool1d: ("max", 1),
                    nn.AdaptiveMaxPool2d: ("max", 2), nn.AdaptiveMaxPool3d: ("max", 3)}
        if T in adaptive:
            mode, dim = adaptive[T]
            if getattr(mod, "return_indices", False):
                raise _Unsupported(Msg("fe.tospec.return_indices_true_returns_tuple"))
            return emit(_call(f"adaptive{mode}pool{dim}d", _size(mod.output_size)))
        if T is nn.Linear:
            return emit(_call("dense", mod.out_features, **({} if mod.bias is not None else {"bias": False})))
        if T is nn.Flatten:
            r = len(xs)
            s, e = mod.start_dim % r, mod.end_dim % r
            if s == 0:
                raise _Unsupported(Msg("fe.tospec.start_dim_flattens_batch_axis"))
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
            return emit(_upsample_text(mod.size, mod.scale_factor, mod.mode, mod.align_corners))
        pads = {nn.ZeroPad1d: 1, nn.ZeroPad2d: 2, nn.ZeroPad3d: 3, nn.ConstantPad1d: 1, nn.ConstantPad2d: 2,
                nn.ConstantPad3d: 3}
        if T in pads:
            return emit(_pad_text(tuple(mod.padding), float(mod.value), len(xs)))
        if T in (nn.RNN, nn.LSTM, nn.GRU):
            return          # emitted by the getitem that takes its output sequence
        if isinstance(mod, (nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d, nn.ReplicationPad1d,
                            nn.ReplicationPad2d, nn.ReplicationPad3d, nn.CircularPad1d, nn.CircularPad2d,
                            nn.CircularPad3d)):
            raise _Unsupported(Msg("fe.tospec.spec_pads_constant_only_zeropad"))
        raise _Unsupported(Msg("fe.tospec.spec_has_no_layer_this"))

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
