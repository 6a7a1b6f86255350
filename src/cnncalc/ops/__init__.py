"""Every layer kind cnncalc knows, one module per family; importing this package fills the registry."""
from . import activation, attention, conv, linear, merge, norm, pool, preprocess, recurrent, shape  # noqa: F401
from .registry import KINDS, OPS, LayerOut, OpDef, Param, lookup, register  # noqa: F401
