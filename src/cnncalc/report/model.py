"""The report: frozen per-layer rows and totals that are plain sums of them.

The convenience methods (``str(report)``, ``table()``, ``explain()``, ``to_csv()``, ``to_markdown()``) import
the renderers when called; the renderers take a Report but import this module for type hints only, so the
dependency goes one way: model -> table / explain / export.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter

from ..formulas import LazySteps, Step, steps_state
from ..frozen import fast_init
from ..rf import ReceptiveField

SUMMED = ("params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops", "mults", "adds",
          "activation_bytes", "param_bytes", "buffer_bytes")


@fast_init
@dataclass(frozen=True)
class LayerReport:
    index: int
    name: str
    kind: str
    label: str | None
    input_shape: tuple
    output_shape: tuple
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops: int
    mults: int
    adds: int
    activation_bytes: int
    param_bytes: int
    buffer_bytes: int
    rf: ReceptiveField | None
    kernel_shape: tuple | None = None
    steps: tuple[Step, ...] = ()
    rf_steps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    line: int | None = None
    text: str = ""
    inputs: tuple[str, ...] = ()         # names of the layers (or 'input') feeding this one
    input_shapes: tuple = ()
    live_bytes: int = 0                  # activation bytes alive while this layer runs (see peak memory)
    depth: int = 0                       # module-tree depth (model front-ends)
    input_indices: tuple[int, ...] = ()  # indexes of the layers feeding this one (0 = the network input)

    def to_dict(self) -> dict:
        return {
            "index": self.index, "name": self.name, "kind": self.kind, "label": self.label,
            "inputs": list(self.inputs), "input_shapes": [list(s) for s in self.input_shapes],
            "live_bytes": self.live_bytes, "depth": self.depth, "input_indices": list(self.input_indices),
            "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
            "kernel_shape": None if self.kernel_shape is None else list(self.kernel_shape),
            "params": self.params, "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params, "buffers": self.buffers,
            "macs": self.macs, "flops": self.flops, "mults": self.mults, "adds": self.adds,
            "activation_bytes": self.activation_bytes, "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "rf": None if self.rf is None else self.rf.to_dict(),
            "warnings": list(self.warnings), "line": self.line,
        }

    __getstate__ = steps_state


LayerReport.steps = LazySteps()          # a row's steps may be given as a function: made when first read


_new = object.__new__


def row(common: dict, index: int, name: str, label, input_shape: tuple, activation_bytes: int, rf, rf_steps,
        warnings: tuple, line, text: str, inputs: tuple, input_shapes: tuple, live_bytes: int,
        input_indices: tuple) -> LayerReport:
    """A LayerReport from the fields many rows share (``common``: kind, output_shape, params ... steps, depth,
    the ones a layer's op decides) and the row's own: the analysis of a long spec makes one per layer."""
    layer = _new(LayerReport)
    d = layer.__dict__
    d.update(common)
    d["index"] = index
    d["name"] = name
    d["label"] = label
    d["input_shape"] = input_shape
    d["activation_bytes"] = activation_bytes
    d["rf"] = rf
    d["rf_steps"] = rf_steps
    d["warnings"] = warnings
    d["line"] = line
    d["text"] = text
    d["inputs"] = inputs
    d["input_shapes"] = input_shapes
    d["live_bytes"] = live_bytes
    d["input_indices"] = input_indices
    return layer


@dataclass(frozen=True)
class Totals:
    params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    mults: int = 0
    adds: int = 0
    activation_bytes: int = 0
    param_bytes: int = 0
    buffer_bytes: int = 0

    @classmethod
    def of(cls, layers) -> "Totals":
        return cls(**{k: sum(map(attrgetter(k), layers)) for k in SUMMED})

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Report:
    convention: str
    input_shape: tuple
    dtype: str
    dtype_bytes: int
    layers: tuple[LayerReport, ...]
    totals: Totals
    input_bytes: int = 0
    warnings: tuple[str, ...] = field(default=())
    peak_activation_bytes: int = 0       # inference peak, following tensor lifetimes
    uncounted_ops: dict = field(default_factory=dict)   # op name -> calls that cnncalc could not count
    source: str = "spec"                 # "spec" or the front-end: "torch", "onnx", "keras"
    training: object = None              # a training.TrainingResult when a training step was asked for
    mode: str | None = None              # a model analysed by the CLI: "eval" or "training" mode
    input_name: str = "input"            # the network input's name (Keras: its InputLayer, e.g. input_layer_1)
    batch_size: int | None = None        # samples when the input is not batch-first: a list of images, their count

    @property
    def batch(self) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return self.input_shape[0] if self.input_shape else 1       # a 0-d input or none (ONNX): one sample

    def __getitem__(self, key) -> LayerReport:
        """A layer by position or by name/label."""
        if isinstance(key, int):
            return self.layers[key]
        for layer in self.layers:
            if layer.name == key or layer.label == key:
                return layer
        raise KeyError(key)

    def to_dict(self, explain: bool = False, layers: bool = True) -> dict:
        """Everything as plain data; ``explain=True`` adds each layer's worked formulas (``"explain"``: lines);
        ``layers=False`` leaves the rows out (an empty list: jsonreport.py writes them itself)."""
        layers = [layer.to_dict() for layer in self.layers] if layers else []
        if explain:
            from .explain import layer_lines
            for row, layer in zip(layers, self.layers):
                row["explain"] = layer_lines(self, layer)
        if self.training is not None:
            from .training_view import layer_values
            for row, layer in zip(layers, self.layers):
                row.update(layer_values(self, layer))
        training = None if self.training is None else self.training.to_dict()
        if training is not None and explain:
            from .training_view import summary_steps
            training["explain"] = [str(s) for s in summary_steps(self)]
        return {"training": training,"convention": self.convention, "source": self.source, "input_shape": list(self.input_shape),
                "input_name": self.input_name,
                "dtype": self.dtype,
                "batch": self.batch, "layers": layers,
                "totals": dict(self.totals.to_dict(), peak_activation_bytes=self.peak_activation_bytes),
                "input_bytes": self.input_bytes, "peak_activation_bytes": self.peak_activation_bytes,
                "uncounted_ops": dict(self.uncounted_ops),
                "warnings": list(self.warnings), "definitions": definitions()}

    def to_json(self, indent: int | None = 2, explain: bool = False) -> str:
        if indent is not None and not explain and self.training is None:
            from .jsonreport import report_json              # the same text, written from the rows
            return report_json(self, indent)
        data = self.to_dict(explain=explain)
        if indent is None:
            import json
            return json.dumps(data)
        from .jsontext import dumps                      # json.dumps(data, indent=indent)'s text, faster
        return dumps(data, indent)

    def to_csv(self) -> str:
        from .export import to_csv
        return to_csv(self)

    def to_markdown(self, lang: str = "en") -> str:
        from .export import to_markdown
        return to_markdown(self, lang)

    def explain(self, layer=None, lang: str = "en") -> str:
        """Every number's formula (or one layer's); ``lang='zh'`` in Chinese."""
        from .explain import explain
        return explain(self, layer, lang=lang)

    def table(self, **kw) -> str:
        from .table import render_text
        return render_text(self, **kw)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        """Jupyter shows a report as the web page's table (every string escaped)."""
        from .html import to_html
        return to_html(self)


DEFINITIONS = {
    "params": "parameters (learned weights; Keras and Caffe also count moving statistics, as non-trainable)",
    "macs": "multiply-accumulates of conv, dense and recurrent layers (bias excluded): torchvision's 'GFLOPS', "
            "torch.utils.flop_counter FLOPs / 2",
    "mults": "exact multiplications of the multiply-accumulate layers",
    "adds": "exact additions of the multiply-accumulate layers, bias additions included",
    "flops": "every floating-point operation: mults + adds, plus normalisation, activation, pooling and "
             "elementwise ops by the documented per-element table",
    "activation_bytes": "bytes of the layer's output tensor at the chosen dtype",
    "param_bytes": "bytes of the layer's parameters at the chosen dtype",
    "rf": "receptive field per spatial dim: size r, stride S, effective padding P, centre of the first output "
          "unit -P + (r-1)/2 (Araujo et al., Distill 2019); global = sees the whole input",
}


def definitions() -> dict:
    return dict(DEFINITIONS)
