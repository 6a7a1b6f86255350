"""Keras layer configs as op-layer calls: a layer's class name and config become an op kind and its arguments.

Class names are spellings the op layer knows (Conv2D, MaxPooling2D, Dense, ...), config keys its argument
names (filters, kernel_size, strides, padding, ...); the few layers whose config says something else (ReLU's
max_value, Bidirectional, TimeDistributed, ...) are translated here.  Read without Keras: the config is enough.
"""
from __future__ import annotations

from ..errors import SpecError, did_you_mean
from ..i18n import Msg
from ..ops import registry

#: config keys that never change shapes or counts
IGNORED = {"name", "trainable", "dtype", "kernel_initializer", "bias_initializer", "kernel_regularizer",
           "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
           "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint", "pointwise_initializer",
           "pointwise_regularizer", "pointwise_constraint", "recurrent_initializer", "recurrent_regularizer",
           "recurrent_constraint", "beta_initializer", "gamma_initializer", "moving_mean_initializer",
           "moving_variance_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
           "gamma_constraint", "embeddings_initializer", "embeddings_regularizer", "embeddings_constraint",
           "alpha_initializer", "alpha_regularizer", "alpha_constraint", "seed", "noise_shape", "synchronized",
           "unit_forget_bias", "recurrent_dropout", "go_backwards", "stateful", "unroll", "return_state",
           "use_cudnn", "implementation", "time_major", "lora_rank", "lora_alpha", "quantization_config",
           "sparse", "ragged", "optional", "mask_zero", "input_length", "data_format", "renorm", "renorm_clipping",
           "renorm_momentum", "fused", "virtual_batch_size", "adjustment", "rms_scaling", "tied_weights",
           "autocast"}


def _kind_and_args(layer: dict, where: str):
    cls = layer.get("class_name")
    cfg = dict(layer.get("config") or {})
    if cfg.get("data_format") == "channels_first":
        raise SpecError(Msg("err.keras.data_format_channels_first_not", where=where, cls_=cls))
    extra = {}
    if cls == "Bidirectional":
        inner = cfg.get("layer") or {}
        if cfg.get("merge_mode", "concat") != "concat":
            raise SpecError(Msg("err.keras.bidirectional_merge_mode_not_supported", where=where, p=repr(cfg.get('merge_mode'))))
        back = cfg.get("backward_layer")
        if back and (back.get("class_name") != inner.get("class_name") or any(
                (back.get("config") or {}).get(k) != (inner.get("config") or {}).get(k)
                for k in ("units", "use_bias", "reset_after"))):
            raise SpecError(Msg("err.keras.bidirectional_backward_layer_unlike_forward", where=where))
        cls, cfg = inner.get("class_name"), dict(inner.get("config") or {})
        extra["bidirectional"] = True
    if cls == "ReLU":
        mv, ns, th = cfg.get("max_value"), cfg.get("negative_slope", 0) or 0, cfg.get("threshold", 0) or 0
        if th:
            raise SpecError(Msg("err.keras.relu_threshold_not_supported", where=where, th=th))
        if mv == 6 and not ns:
            return "relu6", {}
        if mv is None and ns:
            return "leakyrelu", {"negative_slope": ns}
        if mv is None:
            return "relu", {}
        raise SpecError(Msg("err.keras.relu_max_value_negative_slope", where=where, mv=mv, ns=ns))
    if cls == "TimeDistributed":
        inner = cfg.get("layer") or {}
        if is_model(inner):
            raise SpecError(Msg("err.keras.timedistributed_whole_model_not_supported", where=where, p=inner.get('class_name')))
        kind, args = _kind_and_args(inner, Msg("fe.keras.inner_layer", where=where))
        if registry.KINDS[kind].extra.get("inputs", 1) != 1:
            raise SpecError(Msg("err.keras.timedistributed_layer_several_inputs_not", where=where, p=inner.get('class_name')))
        return "timedistributed", {"layer": kind, "args": tuple(args.items())}
    if cls == "Lambda":
        raise SpecError(Msg("err.keras.lambda_layer_python_code_config", where=where))
    if is_model(layer):
        raise SpecError(Msg("err.keras.subclassed_keras_model_has_no", where=where, cls_=cls))
    if cls == "Activation" and cfg.get("activation") in ("linear", None):
        return "identity", {}
    if cls == "LayerNormalization" and cfg.get("rms_scaling"):
        cfg.update(center=False, scale=True)              # keras: rms_scaling keeps gamma only
    if cls == "Softmax" and "axis" in cfg:
        return "softmax", {"axis": cfg["axis"]}
    op = registry.OPS.get(registry.norm(cls or ""))
    if op is None:
        known = sorted({s for o in registry.KINDS.values() for s in o.spellings})
        raise SpecError(Msg("err.keras.keras_layer_not_supported", where=where, cls_=cls, did_you_mean=did_you_mean(cls or "", known)))
    names = {}
    for p in op.params:
        names[registry.norm(p.name)] = p.name
        for al in p.aliases:
            names[registry.norm(al)] = p.name
    args = {}
    for k, v in cfg.items():
        if k in IGNORED:
            continue
        key = names.get(registry.norm(k))
        if key is None:
            continue                                      # an option that changes no shape or count
        if isinstance(v, list):
            v = _tuple(v)
        if key == "activation" and v in ("linear", None):
            continue
        if isinstance(v, dict):
            continue                                      # a serialized object (initializer, ...)
        args[key] = v
    args.update(extra)
    if op.kind == "batchnorm" and "axis" in args and args["axis"] in (-1, [-1], (-1,)):
        args.pop("axis")
    return op.kind, args


def _tuple(v):
    return tuple(_tuple(i) if isinstance(i, list) else i for i in v)


MODEL_CLASSES = ("Functional", "Sequential", "Model")


def is_model(layer: dict) -> bool:
    """A model inside the model (its layers are flattened into the graph), or a subclassed one (no graph)."""
    cfg = layer.get("config") if isinstance(layer, dict) else None
    return isinstance(layer, dict) and (layer.get("class_name") in MODEL_CLASSES or (
        isinstance(cfg, dict) and isinstance(cfg.get("layers"), list)) or "compile_config" in layer)
