"""Rules over the graph: which node inputs are parameters, receptive fields, and module paths of nodes."""
from __future__ import annotations

import ast
from fractions import Fraction
from functools import lru_cache

from ... import rf as rfmod
from ...formulas import keff
from ...ops.base import DIM_NAMES
from ...ops.registry import RF
from . import ops as _ops
from .fold import _axes
from .shapes import SAME_SHAPE, reduce_axes

# ============================================================================ parameters

#: input slots that hold weights: slot -> trainable (any dtype, scalars included)
WEIGHT_SLOTS = {
    "Conv": {1: True, 2: True}, "ConvTranspose": {1: True, 2: True}, "ConvInteger": {1: True},
    "QLinearConv": {3: True, 8: True}, "Gemm": {1: True, 2: True}, "MatMulInteger": {1: True},
    "QLinearMatMul": {3: True},
    "BatchNormalization": {1: True, 2: True, 3: False, 4: False},
    "LayerNormalization": {1: True, 2: True}, "InstanceNormalization": {1: True, 2: True},
    "GroupNormalization": {1: True, 2: True}, "RMSNormalization": {1: True}, "PRelu": {1: True},
    "LSTM": {1: True, 2: True, 3: True, 7: True}, "GRU": {1: True, 2: True, 3: True},
    "RNN": {1: True, 2: True, 3: True},
    "com.microsoft.Attention": {1: True, 2: True}, "com.microsoft.MultiHeadAttention": {3: True},
    "com.microsoft.SkipLayerNormalization": {2: True, 3: True, 4: True},
}
#: input slots that are never parameters: shapes, axes, pads, scales, indices, exponents, masks, states
NOT_PARAMS = {
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3},
    "Upsample": {1}, "Unsqueeze": {1}, "Squeeze": {1}, "Split": {1}, "TopK": {1}, "ConstantOfShape": {0},
    "Range": {0, 1, 2}, "Clip": {1, 2}, "OneHot": {0, 1, 2}, "Where": {0}, "Gather": {1}, "GatherElements": {1},
    "GatherND": {1}, "ScatterND": {1}, "ScatterElements": {1}, "Scatter": {1}, "Dropout": {1, 2},
    "DequantizeLinear": {1, 2}, "QuantizeLinear": {1, 2}, "Pow": {1}, "LSTM": {4, 5, 6}, "GRU": {4, 5},
    "RNN": {4, 5}, "Trilu": {1}, "CumSum": {1}, "Shape": {0}, "Size": {0}, "CastLike": {1},
    "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "ReduceProd": {1}, "ReduceL1": {1},
    "ReduceL2": {1}, "ReduceLogSum": {1}, "ReduceLogSumExp": {1}, "ReduceSumSquare": {1},
    "QLinearConv": {1, 2, 4, 5, 6, 7}, "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "ConvInteger": {2, 3},
    "MatMulInteger": {2, 3}, "Einsum": set(), "com.microsoft.Attention": {3, 4, 5},
    "com.microsoft.MultiHeadAttention": {4, 5, 6, 7},
}
#: static nodes a parameter passes through unchanged in substance (input 0)
PASSTHROUGH = {"Identity", "Cast", "CastLike", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten",
               "DequantizeLinear", "Expand", "Tile"}


# ============================================================================ receptive fields

VIEW = {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "GatherElements", "GatherND",
        "Flatten", "Expand", "Tile", "Split", "DepthToSpace", "SpaceToDepth", "Identity", "Cast", "CastLike",
        "Dropout", "TopK", "ArgMax", "ArgMin"}
MERGE = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Where", "Concat", "Pow", "PRelu", "Equal",
         "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Mod"}
KEEP = SAME_SHAPE - {"Identity", "Cast", "CastLike", "Dropout"}
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}


def _rf_new(n, st, known, out_shape, warn, rf=None):
    """The receptive-field state of a node's first output (``rf``: the op layer's receptive-field effect of a
    conv or a pool node, if it answered)."""
    if n.domain:
        if n.key in ("com.microsoft.Attention", "com.microsoft.MultiHeadAttention"):
            return rfmod.GLOBAL_STATE if any(s is not None for s in known) else None
        return st if n.key.endswith("Gelu") and n.shape_or_none(0) == out_shape else None
    rule = _RF_RULES.get(n.op)
    return None if rule is None else rule(n, st, known, out_shape, warn, rf)


def _rf_window(n, st, known, out_shape, warn, rf):
    return None if rf is None else rfmod.apply(st, rf, max(len(out_shape) - 2, 0))   # the op layer's effect


def _rf_lp_pool(n, st, known, out_shape, warn, rf):
    spatial, k, s, d = _ops.window(n)
    pads = _ops.begin_end_pads(n, spatial, k, s, d)
    ke = tuple(keff(a, b) for a, b in zip(k, d))
    return rfmod.apply(st, RF("window", ke, tuple(s), tuple(p[0] for p in pads)), max(len(out_shape) - 2, 0))


def _rf_global(n, st, known, out_shape, warn, rf):
    return rfmod.GLOBAL_STATE if st is not None else None


def _rf_resize(n, st, known, out_shape, warn, rf):
    x = n.shape_or_none(0)
    if x is None or len(x) < 3 or tuple(x[:2]) != tuple(out_shape[:2]):
        return None
    mode = str(n.attr("mode", "nearest")).lower()
    taps = 1 if mode == "nearest" else (4 if mode == "cubic" else 2)
    f = tuple(Fraction(b, a) for a, b in zip(x[2:], out_shape[2:]))
    return rfmod.apply(st, RF("upsample", (taps,) * len(f), f, ()), max(len(out_shape) - 2, 0))


def _rf_product(n, st, known, out_shape, warn, rf):
    return rfmod.GLOBAL_STATE if any(s is not None for s in known) else None


def _rf_merge(n, st, known, out_shape, warn, rf):
    new, w = rfmod.merge(known, DIM_NAMES.get(len(known[0]), ()) if isinstance(known[0], tuple) else ())
    if w:
        warn(w)
    return new


def _rf_pad(n, st, known, out_shape, warn, rf):
    x = n.shape_or_none(0)
    if isinstance(st, tuple) and x is not None:
        pads = n.ints("pads") if "pads" in n.attrs else n.ints(1)
        axes = n.ints(3) if n.has(3) else list(range(len(x)))
        if pads is None or axes is None:
            return None
        axes = _axes(axes, len(x))
        begin = {a: pads[j] for j, a in enumerate(axes)}
        if any(begin.get(a, 0) or pads[j + len(axes)] for j, a in enumerate(axes) if a < 2):
            return None
        nd = len(st)
        left = tuple(begin.get(2 + i, 0) for i in range(nd))
        return rfmod.apply(st, RF("window", (1,) * nd, (1,) * nd, left), max(len(out_shape) - 2, 0))
    return st


def _rf_reduce(n, st, known, out_shape, warn, rf):
    x = n.shape_or_none(0)
    if x is None:
        return None
    axes = reduce_axes(n, len(x))
    if axes is None:                                     # axes computed at run time
        return None
    if not axes and n.attr("noop_with_empty_axes", 0):
        return st
    dims = set(range(len(x))) if not axes else set(_axes(axes, len(x)))
    spatial = set(range(2, len(x)))
    if spatial and spatial <= dims:
        return rfmod.GLOBAL_STATE if st is not None else None
    return st if not dims & spatial and len(out_shape) == len(x) else None


def _rf_view(n, st, known, out_shape, warn, rf):
    x = n.shape_or_none(0)
    if x is not None and tuple(out_shape) == tuple(x):
        return st
    if len(out_shape) == 2 and x is not None and len(x) > 2 and st is not None:
        return rfmod.GLOBAL_STATE
    return None


def _rf_keep(n, st, known, out_shape, warn, rf):
    x = n.shape_or_none(0)
    return st if x is not None and tuple(x) == tuple(out_shape) else None


#: op -> its receptive-field rule (an op in several of the sets takes the first: windows, LpPool, global
#: pools, resizing, products, MERGE, Pad, REDUCE, VIEW, KEEP); an op not here has none
_RF_RULES: dict = {}
for _ops_of, _rule in ((KEEP, _rf_keep), (VIEW, _rf_view), (REDUCE, _rf_reduce), (("Pad",), _rf_pad),
                       (MERGE, _rf_merge),
                       (("MatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "Einsum", "Attention"), _rf_product),
                       (("Resize", "Upsample"), _rf_resize),
                       (("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"), _rf_global),
                       (("LpPool",), _rf_lp_pool),
                       (("Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "ConvTranspose"),
                        _rf_window)):
    _RF_RULES.update(dict.fromkeys(_ops_of, _rule))     # later entries take precedence
del _ops_of, _rule


# ============================================================================ module paths

@lru_cache(maxsize=4096)                      # the nodes of one module share their scope and class texts
def _scope_path(scopes: str, hierarchy: str):
    """(modules, labels, classes) from the torch exporter's name scopes and class hierarchy, or None."""
    try:
        sc = ast.literal_eval(scopes)
        classes = ast.literal_eval(hierarchy)
    except (ValueError, SyntaxError):
        sc, classes = None, []
    if isinstance(sc, list) and len(sc) >= 2:
        mods = tuple(str(s) for s in sc[1:-1])
        cls = tuple(str(c).rsplit(".", 1)[-1] for c in classes[1:-1]) if len(classes) == len(sc) else ()
        return mods, mods, cls
    return None


def _module_path(proto, name: str):
    """(module components, display labels per prefix, classes per prefix) from a node's name (``proto.name``)
    or metadata."""
    if proto.metadata_props:
        meta = {p.key: p.value for p in proto.metadata_props}
        scopes = meta.get("pkg.torch.onnx.name_scopes")
        if scopes:
            found = _scope_path(scopes, meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
            if found is not None:
                return found
    if name.startswith("/") and name.count("/") >= 2:
        stripped = name.strip("/")
        cut = stripped.rfind("/")
        return _name_path(stripped[:cut] if cut >= 0 else "")   # the nodes of one module share their directory
    return (), (), ()


@lru_cache(maxsize=4096)
def _name_path(directory: str):
    """(modules, labels, ()) of a torch exporter's node name without its last part: 'layer1/layer1.0/conv1'."""
    parts = tuple(p for p in directory.split("/") if p)
    labels, cur = [], ""
    for p in parts:
        # torch's exporter writes a Sequential child as 'layer1.0' under 'layer1': rebuild 'layer1.0.conv1'
        cur = p if not cur or p.startswith(cur + ".") else f"{cur}.{p}"
        labels.append(cur)
    return parts, tuple(labels), ()
