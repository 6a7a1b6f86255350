"""English message templates: model front-ends: ONNX, Keras, PyTorch (same keys in zh_frontends.py)."""

MESSAGES = {
    "err.onnx.average_pooling_dilations_has_no": "average pooling with dilations has no formula in the op layer",
    "err.onnx.cannot_read_onnx_model": "cannot read the ONNX model {path}: {e}",
    "err.onnx.input_dimension_fixed_model_size": "input '{name}' dimension {i} is fixed at {v} in the model; the "
                                                 "size given has {g} ({p})",
    "err.onnx.input_dimension_here_but_another": "input '{name}' dimension {i} ('{p}') is {g} here but {symbols} in "
                                                 "another input: dimensions with the same name must agree",
    "err.onnx.input_dimension_needs_value_pass": "input '{name}' dimension {i} ({what}) needs a value: pass --input "
                                                 "{ex} (input_size={ex2} from Python){p}",
    "err.onnx.input_has_dimensions_size_given": "input '{name}' has {dims} dimensions ({p}); the size given has "
                                                "{given}: {p2}",
    "err.onnx.input_has_no_shape_model": "input '{name}' has no shape in the model: give its size, e.g. --input "
                                         "1x3x224x224 (input_size=(1, 3, 224, 224) from Python)",
    "err.onnx.input_not_tensor_cnncalc_analyses": "input '{name}' is {what}, not a tensor: cnncalc analyses models "
                                                  "whose inputs are tensors (a size cannot describe it)",
    "err.onnx.input_size_names_which_not": "input_size names {unknown}, which is not an input of the model; its "
                                           "inputs: {p}",
    "err.onnx.input_sizes_given_but_model": "{seq} input sizes given, but the model has {names} input(s): {p}",
    "err.onnx.input_sizes_must_whole_numbers": "input '{n}': sizes must be whole numbers >= 1, got {s}",
    "err.onnx.input_sizes_must_whole_numbers_2": "input '{name}': sizes must be whole numbers >= 1, got {given}",
    "err.onnx.no_such_onnx_file": "no such ONNX file: {path}",
    "err.onnx.node_reshapes_elements_model_does": "node '{p}' reshapes {x} ({x2:,} elements) to {o} ({o2:,}): the "
                                                  "model does not run at these input sizes (an exporter may have "
                                                  "fixed a dimension the input declares dynamic; try the size the "
                                                  "model was exported with)",
    "err.onnx.reading_onnx_models_needs_onnx": "reading ONNX models needs the onnx package: pip install "
                                               "'cnncalc[onnx]' (or pip install onnx)",
    "fe.onnx.constant_tensors_feeding_this_node": "constant tensors feeding this node's weight/data inputs",
    "fe.onnx.expand_shape": "expand shape",
    "fe.onnx.formula": "{name} in its formula",
    "fe.onnx.gathernd_indices": "gathernd indices",
    "fe.onnx.image_shape_block_shape_not": "image_shape / block_shape (not constant)",
    "fe.onnx.incompatible_broadcast": "incompatible broadcast",
    "fe.onnx.model_has_control_flow_cnncalc": "the model has control flow ({names}): cnncalc counted the main graph "
                                              "only; the {subgraph_nodes} node(s) inside their subgraphs (their "
                                              "MACs, FLOPs, parameters and shapes) are NOT counted, and the "
                                              "control-flow nodes are listed as uncounted",
    "fe.onnx.not_counted": "{key} not counted: {why}",
    "fe.onnx.not_counted_op_layer_s": "{key} not counted: the op layer's output shape {tuple} differs from the "
                                      "model's {known_out}",
    "fe.onnx.onehot_depth": "onehot depth",
    "fe.onnx.onnx_shape_inference_failed_cnncalc": "ONNX shape inference failed ({e}); cnncalc's own shape rules "
                                                   "were used",
    "fe.onnx.outputs_each_sum_products": "{outputs:,} outputs, each a sum of {k} products",
    "fe.onnx.packed_query_key_value": "packed query/key/value",
    "fe.onnx.range_bounds": "range bounds",
    "fe.onnx.reduce_axes_computed_run_time": "reduce axes (computed at run time)",
    "fe.onnx.reshape_target": "reshape target",
    "fe.onnx.resize_scales": "resize scales",
    "fe.onnx.shape_unknown": "the shape of '{out_t}' is unknown",
    "fe.onnx.slice_bounds": "slice bounds",
    "fe.onnx.split_sizes_computed_run_time": "split sizes (computed at run time)",
    "fe.onnx.squeeze_axes": "squeeze axes",
    "fe.onnx.tensor_has_no_known_shape": "tensor '{p}' has no known shape",
    "fe.onnx.tensor_shape_s_declared_model": "{disagree} tensor shape(s) declared in the model differ from what "
                                             "cnncalc computes at these input sizes ({ex}{p}): the computed shapes "
                                             "are used; the declared ones may be from the size the model was "
                                             "exported at",
    "fe.onnx.tile_repeats": "tile repeats",
    "fe.onnx.uncounted_ops": "uncounted ops: {p}",
    "fe.onnx.unsqueeze_axes": "unsqueeze axes",
    "fe.onnx.window_size": "window size",
    "fe.onnx_inputs_in_order": "; the model's inputs, in order: {names}",
    "fe.onnx_map": "a map",
    "fe.onnx_optional": "an optional value",
    "fe.onnx_sequence": "a sequence",
    "fe.onnx_sparse": "a sparse tensor",
    "fe.unnamed": "unnamed",
}
