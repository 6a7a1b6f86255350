"""Keras models as cnncalc graphs -- from the model object, its JSON (``model.to_json()``) or a ``.keras``
archive.  The JSON and the archive are read WITHOUT Keras: the config inside is enough.

Keras class names are spellings cnncalc already knows (Conv2D, MaxPooling2D, Dense, ...), config keys are its
argument names (filters, kernel_size, strides, padding, ...), and ``inbound_nodes`` give the graph; so a model
becomes the same flat list of layer calls a text spec elaborates to, analysed under the keras convention.
"""
from __future__ import annotations

import json
import os
import zipfile

from ..errors import SpecError, did_you_mean
from ..ops import registry
from ..spec.ast import Arg, LayerCall

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
        raise SpecError(f"{where}: {cls} with data_format='channels_first' is not supported (cnncalc's keras "
                        f"convention is channels-last)")
    extra = {}
    if cls == "Bidirectional":
        inner = cfg.get("layer") or {}
        if cfg.get("merge_mode", "concat") != "concat":
            raise SpecError(f"{where}: Bidirectional merge_mode={cfg.get('merge_mode')!r} is not supported "
                            f"(only 'concat')")
        back = cfg.get("backward_layer")
        if back and (back.get("class_name") != inner.get("class_name") or any(
                (back.get("config") or {}).get(k) != (inner.get("config") or {}).get(k)
                for k in ("units", "use_bias", "reset_after"))):
            raise SpecError(f"{where}: Bidirectional with a backward_layer unlike the forward layer is not "
                            f"supported (cnncalc counts two copies of the forward layer)")
        cls, cfg = inner.get("class_name"), dict(inner.get("config") or {})
        extra["bidirectional"] = True
    if cls == "ReLU":
        mv, ns, th = cfg.get("max_value"), cfg.get("negative_slope", 0) or 0, cfg.get("threshold", 0) or 0
        if th:
            raise SpecError(f"{where}: ReLU(threshold={th}) is not supported")
        if mv == 6 and not ns:
            return "relu6", {}
        if mv is None and ns:
            return "leakyrelu", {"negative_slope": ns}
        if mv is None:
            return "relu", {}
        raise SpecError(f"{where}: ReLU(max_value={mv}, negative_slope={ns}) is not supported (max_value 6 "
                        f"without a slope, or no max_value)")
    if cls in ("Functional", "Sequential", "Model", "TimeDistributed", "Lambda"):
        raise SpecError(f"{where}: a {cls} layer inside the model is not supported yet (flatten nested models)")
    if cls == "Activation" and cfg.get("activation") in ("linear", None):
        return "identity", {}
    if cls == "LayerNormalization" and cfg.get("rms_scaling"):
        cfg.update(center=False, scale=True)              # keras: rms_scaling keeps gamma only
    if cls == "Softmax" and "axis" in cfg:
        return "softmax", {"axis": cfg["axis"]}
    op = registry.OPS.get(registry.norm(cls or ""))
    if op is None:
        known = sorted({s for o in registry.KINDS.values() for s in o.spellings})
        raise SpecError(f"{where}: Keras layer {cls} is not supported" + did_you_mean(cls or "", known))
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


def _history(t) -> str:
    cfg = t.get("config", {}) if isinstance(t, dict) else {}
    h = cfg.get("keras_history")
    if not h:
        raise SpecError(f"cannot follow an inbound tensor: {str(t)[:80]}")
    return f"{h[0]}:{h[1]}:{h[2]}"


def _inbound_tensors(node) -> list[str]:
    out = []

    def walk(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            out.append(_history(x))
        elif isinstance(x, (list, tuple)):
            for i in x:
                walk(i)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
    if isinstance(node, dict):
        walk(node.get("args", []))
        walk({k: v for k, v in (node.get("kwargs") or {}).items() if k != "mask"})
    else:                                                 # older format: [[name, node, tensor, kwargs], ...]
        for item in node:
            out.append(f"{item[0]}:{item[1]}:{item[2]}")
    return out


def _input_call(layer: dict, label: str):
    cfg = layer.get("config") or {}
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if shape is None and cfg.get("shape") is not None:
        shape = [None] + list(cfg["shape"])
    if not shape or any(d is None for d in shape[1:]):
        raise SpecError(f"input layer '{label}' has an unknown dimension {shape}: give a model built with a "
                        f"complete input shape")
    args = [Arg(None, tuple(shape[1:]))]
    if shape[0]:
        args.append(Arg("batch", shape[0]))
    return LayerCall("input", tuple(args), label, None, None, f"InputLayer{tuple(shape)}", {}, (), f"{label}:0:0")


def calls_from_config(config: dict) -> list[LayerCall]:
    """Layer calls of a Keras model config (the ``config`` of ``model.to_json()``)."""
    cls = config.get("class_name")
    cfg = config.get("config", config)
    layers = cfg.get("layers") or []
    calls: list[LayerCall] = []
    if cls == "Sequential" or (cls is None and not any("inbound_nodes" in l for l in layers)):
        prev = None
        first = layers[0] if layers else None
        if first is None or first.get("class_name") != "InputLayer":
            shape = (cfg.get("build_input_shape") or config.get("build_config", {}).get("input_shape")
                     or (first or {}).get("build_config", {}).get("input_shape"))
            if not shape:
                raise SpecError("the Sequential model has no input shape: build it with keras.Input(...) first")
            calls.append(_input_call({"config": {"batch_shape": shape}}, "input"))
            prev = "input:0:0"
        for i, layer in enumerate(layers):
            name = (layer.get("config") or {}).get("name") or f"layer_{i}"
            if layer.get("class_name") == "InputLayer":
                calls.append(_input_call(layer, name))
                prev = f"{name}:0:0"
                continue
            kind, args = _kind_and_args(layer, f"layer '{name}' ({layer.get('class_name')})")
            out = f"{name}:0:0"
            calls.append(LayerCall(kind, tuple(Arg(k, v) for k, v in args.items()), name, None, None,
                                   f"{layer.get('class_name')} '{name}'", {}, (prev,), out))
            prev = out
        return calls
    # Functional: layers in topological order, each with its inbound nodes
    # a mask= keyword (Embedding(mask_zero=True) serialises its mask as a NotEqual op layer) changes no shape
    # or count: the layers that only compute masks are left out
    read, masks = set(), set()
    for layer in layers:
        for node in layer.get("inbound_nodes") or []:
            read.update(_inbound_tensors(node))
            if isinstance(node, dict) and (node.get("kwargs") or {}).get("mask") is not None:
                masks.update(_inbound_tensors({"args": [node["kwargs"]["mask"]]}))
    read.update(f"{h[0]}:{h[1]}:{h[2]}" for h in _as_list(cfg.get("output_layers")))
    names = {layer.get("name") or (layer.get("config") or {}).get("name") for layer in layers}
    for layer in layers:
        name = layer.get("name") or (layer.get("config") or {}).get("name")
        if layer.get("class_name") == "InputLayer":
            calls.append(_input_call(layer, name))
            continue
        if f"{name}:0:0" in masks and f"{name}:0:0" not in read:
            continue
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise SpecError(f"layer '{name}' is called {len(nodes)} times (shared weights): not supported yet")
        kind, args = _kind_and_args(layer, f"layer '{name}' ({layer.get('class_name')})")
        ins = tuple(_inbound_tensors(nodes[0])) if nodes else ()
        for t in ins:                                     # cnncalc follows output 0 of call 0 of each layer
            src, node_index, index = t.rsplit(":", 2)
            where = f"layer '{name}' ({layer.get('class_name')})"
            if src not in names:
                raise SpecError(f"{where} reads a tensor of an unknown layer '{src}'")
            if (node_index, index) != ("0", "0"):
                raise SpecError(f"{where} reads output {index} of call {node_index} of layer '{src}' (a layer "
                                f"with several outputs, e.g. return_state=True, or a shared layer): not supported "
                                f"yet")
        calls.append(LayerCall(kind, tuple(Arg(k, v) for k, v in args.items()), name, None, None,
                               f"{layer.get('class_name')} '{name}'", {}, ins, f"{name}:0:0"))
    # the input layer must come first
    calls.sort(key=lambda c: 0 if registry.norm(c.kind) == "input" else 1)
    return calls


def _as_list(v):
    if not v:
        return []
    if isinstance(v[0], (list, tuple)):
        return list(v)
    return [v]


def read_config(source) -> dict:
    """A Keras model's config from a model object, a JSON string, a .json file or a .keras archive."""
    if hasattr(source, "to_json") and hasattr(source, "layers"):
        return json.loads(source.to_json())
    if isinstance(source, dict):
        return source
    if isinstance(source, (str, os.PathLike)):
        s = os.fspath(source)
        if s.lstrip().startswith("{"):
            return json.loads(s)
        if s.endswith(".keras") or zipfile.is_zipfile(s):
            with zipfile.ZipFile(s) as z:
                return json.loads(z.read("config.json"))
        with open(s, encoding="utf-8") as f:
            return json.load(f)
    raise SpecError(f"not a Keras model, JSON or .keras archive: {type(source).__name__}")


def is_keras_source(spec) -> bool:
    """A Keras model object, a .keras archive, or Keras JSON (a file or a string with class_name/config)."""
    if any(c.__module__.split(".")[0] in ("keras", "tf_keras") for c in type(spec).__mro__[:-1]):
        return True
    if isinstance(spec, dict):
        return "class_name" in spec and "config" in spec
    if not isinstance(spec, (str, os.PathLike)):
        return False
    s = os.fspath(spec)
    if s.lstrip().startswith("{"):
        head = s.lstrip()[:4000]
        return '"class_name"' in head and '"config"' in head and '"layers"' not in head[:20]
    if s.endswith(".keras"):
        return True
    if s.endswith(".json") and os.path.isfile(s):
        with open(s, encoding="utf-8") as f:
            head = f.read(4000)
        return '"class_name"' in head and '"config"' in head
    return False


def analyze_keras(source, *, batch: int | None = None, dtype: str = "float32"):
    from ..analysis import analyze_calls
    from dataclasses import replace
    try:
        config = read_config(source)
    except (json.JSONDecodeError, KeyError, zipfile.BadZipFile) as e:
        raise SpecError(f"cannot read the Keras model: {type(e).__name__}: {e}") from None
    except OSError as e:
        raise SpecError(f"cannot read {getattr(e, 'filename', None) or source}: {e.strerror or e}") from None
    if not isinstance(config, dict):
        raise SpecError(f"a Keras model config is a JSON object with class_name and config, got "
                        f"{type(config).__name__}")
    try:
        calls = calls_from_config(config)
        frozen = _frozen(config)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as e:
        if isinstance(e, SpecError):
            raise
        # a config of the wrong structure (a list where a layer belongs, a number for a name, ...)
        raise SpecError(f"the Keras config is malformed ({type(e).__name__}: {str(e)[:120]}): give the output of "
                        f"model.to_json() or a .keras archive") from None
    report = analyze_calls(calls, convention="keras", batch=batch, dtype=dtype)
    if frozen:                                            # trainable=False: every weight is non-trainable
        from ..report.model import Totals
        layers = tuple(replace(r, trainable_params=0, non_trainable_params=r.params)
                       if frozen is True or r.name in frozen else r for r in report.layers)
        report = replace(report, layers=layers, totals=Totals.of(layers))
    return replace(report, source="keras")


def _frozen(config: dict):
    """True when the whole model is frozen, else the names of the layers with trainable=False."""
    cfg = config.get("config", config)
    if cfg.get("trainable") is False:
        return True
    return {(l.get("config") or {}).get("name") or l.get("name") for l in cfg.get("layers") or []
            if (l.get("config") or {}).get("trainable") is False}
