"""Every layer kind cnncalc knows, one module per family; importing this package fills the registry."""
from . import (activation, attention, conv, fold, linear, matmul, merge, norm, pool, preprocess,  # noqa: F401
               recurrent, shape, wrapper)
from .registry import KINDS, OPS, LayerOut, OpDef, Param, lookup, register  # noqa: F401
