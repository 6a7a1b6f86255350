"""English message templates: model front-ends: ONNX, Keras, PyTorch (same keys in zh_frontends.py)."""

MESSAGES = {
    "err.onnx.average_pooling_dilations_has_no": "average pooling with dilations has no formula in the op layer",
    "err.onnx.cannot_read_onnx_model": "cannot read the ONNX model {path}: {e}",
    "err.onnx.input_dimension_fixed_model_size": "input '{name}' dimension {i} is fixed at {v} in the model; the "
                                                 "size given has {g} ({p})",
    "err.onnx.input_dimension_here_but_another": "input '{name}' dimension {i} ('{p}') is {g} here but {symbols} "
                                                 "in another input: dimensions with the same name must agree",
    "err.onnx.input_dimension_needs_value_pass": "input '{name}' dimension {i} ({what}) needs a value: pass "
                                                 "--input {ex} (input_size={ex2} from Python){p}",
    "err.onnx.input_has_dimensions_size_given": "input '{name}' has {dims} dimensions ({p}); the size given has "
                                                "{given}: {p2}",
    "err.onnx.input_has_no_shape_model": "input '{name}' has no shape in the model: give its size, e.g. --input "
                                         "1x3x224x224 (input_size=(1, 3, 224, 224) from Python)",
    "err.onnx.input_not_tensor_cnncalc_analyses": "input '{name}' is {what}, not a tensor: cnncalc analyses "
                                                  "models whose inputs are tensors (a size cannot describe it)",
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
    "fe.onnx_inputs_in_order": "; the model's inputs, in order: {names}",
    "fe.onnx_map": "a map",
    "fe.onnx_optional": "an optional value",
    "fe.onnx_sequence": "a sequence",
    "fe.onnx_sparse": "a sparse tensor",
    "fe.unnamed": "unnamed",
}
