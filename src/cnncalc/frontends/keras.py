"""Keras models as cnncalc graphs -- from the model object, its JSON (``model.to_json()``) or a ``.keras``
archive.  The JSON and the archive are read WITHOUT Keras: the config inside is enough.

Keras class names are spellings cnncalc already knows (Conv2D, MaxPooling2D, Dense, ...), config keys are its
argument names (filters, kernel_size, strides, padding, ...), and ``inbound_nodes`` give the graph; so a model
becomes the same flat list of layer calls a text spec elaborates to, analysed under the keras convention.
A nested model's layers are flattened into the graph (rows ``outer/inner``); a layer called several times is a
row per call (``name``, ``name:1``, ...) whose weights are counted once, on the first (keras_layers.py: one
layer's config -> op kind and arguments).
"""
from __future__ import annotations

import json
import os
import zipfile

from ..errors import SpecError
from ..i18n import Msg
from ..ops import registry
from ..spec.ast import Arg, LayerCall
from .keras_layers import _kind_and_args, is_model
from .detect import is_keras_source  # noqa: F401 -- part of this module's interface
from .keras_outputs import state_calls


def _history(t) -> str:
    cfg = t.get("config", {}) if isinstance(t, dict) else {}
    h = cfg.get("keras_history")
    if not h:
        raise SpecError(Msg("err.keras.cannot_follow_inbound_tensor", p=str(t)[:80]))
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
        # a mask, or the initial state of a recurrent layer, changes no shape or count of the layer reading it
        walk({k: v for k, v in (node.get("kwargs") or {}).items() if k not in ("mask", "initial_state")})
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
        raise SpecError(Msg("err.keras.input_layer_has_unknown_dimension", label=label, shape=shape))
    args = [Arg(None, tuple(shape[1:]))]
    if shape[0]:
        args.append(Arg("batch", shape[0]))
    return LayerCall("input", tuple(args), label, None, None, f"InputLayer{tuple(shape)}", {}, (), f"{label}:0:0")


def calls_from_config(config: dict) -> list[LayerCall]:
    """Layer calls of a Keras model config (the ``config`` of ``model.to_json()``)."""
    return flatten(config).calls


def flatten(config: dict) -> "_Flat":
    """The model's layer calls -- a nested model's layers in its place, named ``outer/inner``; every call of a
    shared layer (the second one ``name:1``) -- with the rows that share weights and the frozen ones."""
    flat = _Flat()
    top = config.get("config", config)
    if not isinstance(top.get("layers"), list):
        raise SpecError(Msg("err.keras.keras_model_has_no_layer", p=config.get('class_name') or ''))
    flat.model(config, "", None, "", False)
    flat.calls.sort(key=lambda c: 0 if registry.norm(c.kind) == "input" else 1)     # the inputs come first
    return flat


#: keras.ops layers of a config (``x + 3.0`` on a KerasTensor) -> the op layer's arithmetic with a constant
ARITH = {"Add": "add", "Subtract": "sub", "Multiply": "mul", "Divide": "div", "TrueDivide": "div",
         "Maximum": "maximum", "Minimum": "minimum", "Power": "pow", "Mod": "mod"}


def _constant(layer: dict, node, n_tensors: int):
    """The number of ``x + 3.0``: a keras.ops arithmetic layer called on one tensor and one number."""
    if layer.get("class_name") not in ARITH or not str(layer.get("module", "")).startswith("keras.src.ops") \
            or n_tensors != 1 or not isinstance(node, dict):
        return None
    numbers = [a for a in node.get("args") or () if isinstance(a, (int, float)) and not isinstance(a, bool)]
    return numbers[0] if len(numbers) == 1 else None


def _name(layer: dict, i: int = 0) -> str:
    return layer.get("name") or (layer.get("config") or {}).get("name") or f"layer_{i}"


def _td_model(layer: dict) -> bool:
    """TimeDistributed around a Sequential model (its layers are wrapped one by one)."""
    inner = (layer.get("config") or {}).get("layer")
    return layer.get("class_name") == "TimeDistributed" and isinstance(inner, dict) and \
        inner.get("class_name") == "Sequential" and isinstance((inner.get("config") or {}).get("layers"), list)


def _has_graph(layer: dict) -> bool:
    return is_model(layer) and isinstance((layer.get("config") or {}).get("layers"), list)


class _Flat:
    def __init__(self):
        self.calls: list[LayerCall] = []
        self.owner: dict[str, str] = {}       # a layer's weights (path of names) -> the row that counts them
        self.shared: dict[str, str] = {}      # row -> the row whose weights it uses
        self.frozen: set[str] = set()         # rows with trainable=False (or inside a frozen model)

    def emit(self, layer: dict, label: str, wkey: str, ins, frozen: bool, node=None) -> str:
        constant = _constant(layer, node, len(ins))
        if constant is not None:                  # x + 3.0 (a keras.ops layer of the config, one operand a number)
            kind, args = "scalar", {"op": ARITH[layer.get("class_name")], "value": constant}
        else:
            kind, args = _kind_and_args(layer, f"layer '{label}' ({layer.get('class_name')})")
        extra = {}
        if wkey in self.owner:
            self.shared[label] = extra["shares"] = self.owner[wkey]
        else:
            self.owner[wkey] = label
        if frozen or (layer.get("config") or {}).get("trainable") is False:
            self.frozen.add(label)
        out = f"{label}:0:0"
        self.calls.append(LayerCall(kind, tuple(Arg(k, v) for k, v in args.items()), label, None, None,
                                    f"{layer.get('class_name')} '{label}'", extra, tuple(ins), out))
        return out

    def model(self, model: dict, prefix: str, bound, wkey: str, frozen: bool) -> list[str]:
        """Emit a model's calls; ``bound``: the outer tensors its inputs read (None: the model analysed)."""
        cfg = model.get("config", model)
        frozen = frozen or cfg.get("trainable") is False
        layers = cfg["layers"]
        if model.get("class_name") == "Sequential" or not any("inbound_nodes" in la for la in layers):
            return self.sequential(model, cfg, prefix, bound, wkey, frozen)
        return self.functional(cfg, prefix, bound, wkey, frozen)

    def sequential(self, model, cfg, prefix, bound, wkey, frozen) -> list[str]:
        layers = cfg["layers"]
        first = layers[0] if layers else None
        if bound is not None:
            if len(bound) != 1:
                raise SpecError(Msg("err.keras.sequential_model_called_on_tensors", prefix=prefix[:-1], bound=len(bound)))
            prev = bound[0]
        elif first is None or first.get("class_name") != "InputLayer":
            shape = (cfg.get("build_input_shape") or model.get("build_config", {}).get("input_shape")
                     or (first or {}).get("build_config", {}).get("input_shape"))
            if not shape:
                raise SpecError(Msg("err.keras.sequential_model_has_no_input"))
            self.calls.append(_input_call({"config": {"batch_shape": shape}}, "input"))
            prev = "input:0:0"
        for i, layer in enumerate(layers):
            name = _name(layer, i)
            if layer.get("class_name") == "InputLayer":
                if bound is None:
                    self.calls.append(_input_call(layer, prefix + name))
                    prev = f"{prefix}{name}:0:0"
                continue
            if _has_graph(layer):
                outs = self.model(layer, f"{prefix}{name}/", [prev], f"{wkey}{name}/", frozen)
                if len(outs) != 1:
                    raise SpecError(Msg("err.keras.model_inside_sequential_model_has", prefix=prefix, name=name, outs=len(outs)))
                prev = outs[0]
                continue
            if _td_model(layer):
                prev = self.time_distributed(layer, prefix + name, wkey + name, [prev], frozen)
                continue
            prev = self.emit(layer, prefix + name, wkey + name, [prev], frozen)
        return [prev]

    def time_distributed(self, layer: dict, label: str, wkey: str, ins, frozen: bool) -> str:
        """TimeDistributed around a Sequential model: each of its layers applied to every time step, a row
        ``label/inner`` (the inner layers' weights counted once, as Keras does)."""
        inner = (layer.get("config") or {}).get("layer") or {}
        cfg = inner.get("config") or {}
        frozen = frozen or (layer.get("config") or {}).get("trainable") is False or cfg.get("trainable") is False
        prev = ins[0]                             # Keras calls TimeDistributed on one tensor
        for i, la in enumerate(cfg.get("layers") or []):
            if la.get("class_name") == "InputLayer":
                continue
            name = _name(la, i)
            wrapped = {"class_name": "TimeDistributed",
                       "config": {"layer": la, "trainable": (la.get("config") or {}).get("trainable")}}
            prev = self.emit(wrapped, f"{label}/{name}", f"{wkey}/{name}", [prev], frozen)
        return prev

    def functional(self, cfg, prefix, bound, wkey, frozen) -> list[str]:
        layers = cfg["layers"]
        names = {_name(la) for la in layers}
        outputs = [f"{h[0]}:{h[1]}:{h[2]}" for h in _as_list(cfg.get("output_layers"))]
        inputs = [h[0] for h in _as_list(cfg.get("input_layers"))]
        # a mask= keyword (Embedding(mask_zero=True) serialises its mask as a NotEqual op layer) changes no shape
        # or count: the layers that only compute masks are left out
        read, masks = set(outputs), set()
        for layer in layers:
            for node in layer.get("inbound_nodes") or []:
                read.update(_inbound_tensors(node))
                if isinstance(node, dict) and (node.get("kwargs") or {}).get("mask") is not None:
                    masks.update(_inbound_tensors({"args": [node["kwargs"]["mask"]]}))
        used: dict[str, set] = {}                 # layer -> the call numbers its outputs are read under
        for t in read:
            src, node_index, _ = t.rsplit(":", 2)
            used.setdefault(src, set()).add(node_index)
        alias: dict[str, str] = {}                # this model's tensor "layer:call:output" -> the flat tensor id
        entries = []
        for layer in layers:
            name = _name(layer)
            if layer.get("class_name") == "InputLayer":
                if bound is None:
                    self.calls.append(_input_call(layer, prefix + name))
                    alias[f"{name}:0:0"] = f"{prefix}{name}:0:0"
                elif name in inputs and len(bound) == len(inputs):
                    alias[f"{name}:0:0"] = bound[inputs.index(name)]
                else:
                    raise SpecError(Msg("err.keras.model_called_on_tensor_s", prefix=prefix[:-1], bound=len(bound), inputs=len(inputs)))
                continue
            if f"{name}:0:0" in masks and f"{name}:0:0" not in read:
                continue
            nodes = layer.get("inbound_nodes") or []
            numbers = sorted(used.get(name, ()), key=lambda v: int(v) if str(v).isdigit() else 0)
            if len(numbers) != len(nodes):
                numbers = [str(k) for k in range(len(nodes))]
            entries += [(k, numbers[k], layer, name, _inbound_tensors(node), node) for k, node in enumerate(nodes)]
        done = [False] * len(entries)
        first = 0
        while first < len(entries):               # config order, but a later call of a shared layer waits for its
            for i in range(first, len(entries)):  # inputs
                if not done[i] and all(t in alias for t in entries[i][4]):
                    break
            else:
                raise self._unresolved(entries, done, alias, names, prefix)
            k, number, layer, name, ins, node = entries[i]
            label = prefix + name + (f":{k}" if k else "")
            if _has_graph(layer):
                for j, out in enumerate(self.model(layer, label + "/", [alias[t] for t in ins], f"{wkey}{name}/",
                                                   frozen)):
                    alias[f"{name}:{number}:{j}"] = out
            elif _td_model(layer):
                alias[f"{name}:{number}:0"] = self.time_distributed(layer, label, wkey + name,
                                                                    [alias[t] for t in ins], frozen)
            else:
                alias[f"{name}:{number}:0"] = self.emit(layer, label, wkey + name, [alias[t] for t in ins], frozen,
                                                        node)
                wanted = sorted(int(t.rsplit(":", 2)[2]) for t in read if t.rsplit(":", 2)[:2] == [name, number]
                                and t.rsplit(":", 2)[2] not in ("0", ""))
                if wanted:                        # further outputs read downstream (return_state=True,
                    #                               return_attention_scores=True)
                    states, calls = state_calls(layer, label, alias[f"{name}:{number}:0"], wanted, node,
                                                [alias[t] for t in ins])
                    self.calls += calls
                    alias.update({f"{name}:{number}:{j}": t for j, t in states.items()})
            done[i] = True
            while first < len(entries) and done[first]:
                first += 1
        missing = [t for t in outputs if t not in alias]
        if missing and bound is not None:
            raise SpecError(Msg("err.keras.model_has_output_that_cnncalc", prefix=prefix[:-1], missing=missing[0]))
        return [alias[t] for t in outputs if t in alias]

    @staticmethod
    def _unresolved(entries, done, alias, names, prefix) -> SpecError:
        k, _, layer, name, ins, _ = next(e for e, d in zip(entries, done) if not d)
        where = f"layer '{prefix}{name}{f':{k}' if k else ''}' ({layer.get('class_name')})"
        t = next(t for t in ins if t not in alias)
        src, node_index, index = t.rsplit(":", 2)
        if src not in names:
            return SpecError(Msg("err.keras.reads_tensor_unknown_layer", where=where, src=src))
        if index != "0":
            return SpecError(Msg("err.keras.reads_output_layer_layer_several", where=where, index=index, src=src))
        return SpecError(Msg("err.keras.reads_call_layer_which_cnncalc", where=where, node_index=node_index, src=src))


def _as_list(v):
    if not v:
        return []
    if isinstance(v[0], (list, tuple)):
        return list(v)
    return [v]


def read_config(source) -> dict:
    """A Keras model's config from a model object, a JSON string, a .json file or a .keras archive."""
    if hasattr(source, "to_json") and hasattr(source, "layers"):
        config = json.loads(source.to_json())
        if not isinstance((config.get("config") or {}).get("layers"), list):
            return _build_graph(source) or config
        return config
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
    raise SpecError(Msg("err.keras.not_keras_model_json_keras", name=type(source).__name__))


def _build_graph(model):
    """A subclass of keras.Model built with inputs and outputs (a functional graph whose get_config is the base
    Model's): the config of a plain functional model over the same layers."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except AttributeError:                                # a subclassed model: its graph is Python code
        return None
    if not inputs or not outputs:
        return None
    import keras
    config = json.loads(keras.Model(inputs, outputs, name=model.name).to_json())
    config["config"]["trainable"] = bool(model.trainable)
    return config


def is_subclassed(model) -> bool:
    """A Keras model object with no layer graph (its graph is Python code in ``call``)."""
    if not (hasattr(model, "to_json") and hasattr(model, "layers")):
        return False
    try:
        config = read_config(model)
    except Exception:                                     # noqa: BLE001 -- a model that cannot serialize itself
        return True
    return not isinstance((config.get("config") or {}).get("layers"), list)


def analyze_keras(source, *, batch: int | None = None, dtype: str = "float32"):
    from ..analysis import analyze_calls
    from dataclasses import replace
    try:
        config = read_config(source)
    except (json.JSONDecodeError, KeyError, zipfile.BadZipFile) as e:
        raise SpecError(Msg("err.keras.cannot_read_keras_model", name=type(e).__name__, e=e)) from None
    except OSError as e:
        raise SpecError(Msg("err.keras.cannot_read", p=getattr(e, 'filename', None) or source, p2=e.strerror or e)) from None
    if not isinstance(config, dict):
        raise SpecError(Msg("err.keras.keras_model_config_json_object", name=type(config).__name__))
    try:
        flat = flatten(config)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as e:
        if isinstance(e, SpecError):
            raise
        # a config of the wrong structure (a list where a layer belongs, a number for a name, ...)
        raise SpecError(Msg("err.keras.keras_config_malformed_give_output", name=type(e).__name__, p=str(e)[:120])) from None
    report = analyze_calls(flat.calls, convention="keras", batch=batch, dtype=dtype)
    return replace(_keras_rows(report, flat), source="keras", input_name=flat.calls[0].label or "input")


def _keras_rows(report, flat: "_Flat"):
    """Keras' ownership of weights on the rows: trainable=False makes a layer's weights non-trainable; a shared
    layer's weights are counted once, on its first call; a nested model's layers sit one level deeper."""
    from dataclasses import replace

    from ..formulas import Step
    from ..report.model import Totals
    if not (flat.frozen or flat.shared or any("/" in r.name for r in report.layers)):
        return report
    layers = []
    for r in report.layers:
        if r.name in flat.frozen:
            r = replace(r, trainable_params=0, non_trainable_params=r.params)
        owner = flat.shared.get(r.name)
        if owner is not None:
            note = Msg("fe.keras.weights_shared_layer_counted_once", owner=owner)
            r = replace(r, params=0, trainable_params=0, non_trainable_params=0, buffers=0, param_bytes=0,
                        buffer_bytes=0, steps=tuple(st for st in r.steps if st.quantity != "params")
                        + (Step("params", "", 0, note),))
        layers.append(replace(r, depth=r.name.count("/")))
    layers = tuple(layers)
    return replace(report, layers=layers, totals=Totals.of(layers))
