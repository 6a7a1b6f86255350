"""ONNX models: a ``.onnx`` file or an ``onnx.ModelProto``, analysed without running it.

Needs only the ``onnx`` package (imported here, lazily: ``pip install 'cnncalc[onnx]'``).

1. Inputs: dynamic dimensions (``batch_size``, ``?``) are bound from ``input_size`` (``--input``); a dimension
   without a value stops with a SpecError naming it, and so does an input that is not a tensor (a sequence, an
   optional value: no size describes it).  A model may have no input, or 0-d ones.
2. Shapes: ``onnx.shape_inference.infer_shapes(data_prop=True)`` on the bound model; where it leaves a gap,
   cnncalc's own rules (conv / transposed conv / pool lengths of ``formulas.py`` under the onnx convention,
   broadcasting, Gemm/MatMul, Flatten, Reshape, Concat, Resize, ...; ``shapes_ops.py``: gather / scatter with
   index tensors, quantization, losses, attention caches, ...) and a small constant folder for the
   shape-computing subgraphs (Shape -> Gather -> Concat -> Reshape) fill it; then the shapes the file declares
   (outputs, value_info; named dimensions bound by the inputs' sizes).  Where a declared shape and a computed
   one differ, the computed one is used and a warning says so.  A shape no rule knows (axes, split sizes or a
   target shape computed at run time) stays unknown, and is said to be: never a guess.
3. Parameters: constant tensors (initializers, Constant nodes, a ConstantOfShape of a stored shape), traced back
   through Identity / Cast / Transpose / Reshape, that feed a weight or data input of a node: Conv W/B, Gemm
   B/C, MatMul's constant operand, BatchNormalization scale/B (and mean/var, non-trainable), LSTM W/R/B, Add/Mul
   constant operands, a Gather table, ...; each once, at its first consumer.  Constants feeding shapes, axes,
   pads, scales, indices or exponents, and constant scalars, are not parameters.
4. Costs: from the op layer (``ops/``), to which ``onnx/ops.py`` translates each node: MACs of
   Conv/ConvTranspose/Gemm/MatMul/Einsum/recurrent nodes and attention, FLOPs of everything elementwise; data
   movement is free; any other op is listed in ``report.uncounted_ops``.  Nodes computed from constants only
   (shape arithmetic) cost nothing: a runtime folds them once.
5. Rows: one per node, grouped into the modules named by the node names (``/layer1/layer1.0/conv1/Conv``, or
   the torch dynamo exporter's ``pkg.torch.onnx.name_scopes`` metadata) down to ``depth``.

The modules, in the order a model goes through them: ``load`` (reading, binding the input sizes, ONNX shape
inference, declared shapes), ``fold`` (the constant folder), ``shapes`` and ``shapes_ops`` (cnncalc's own shape
rules), ``graph_rules`` (which inputs are parameters, receptive fields, module paths), ``ops`` (nodes translated
into the op layer) and ``analyze`` (the pass over the nodes and the rows); ``common`` holds what they share.
"""
from __future__ import annotations

from .analyze import analyze_onnx, node_shapes
from .load import is_onnx_source

__all__ = ["analyze_onnx", "is_onnx_source", "node_shapes"]
