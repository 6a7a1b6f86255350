"""English message templates: model front-ends: ONNX, Keras, PyTorch (same keys in zh_frontends.py)."""

MESSAGES = {
    "err.keras.bidirectional_backward_layer_unlike_forward": "{where}: Bidirectional with a backward_layer unlike "
                                                             "the forward layer is not supported (cnncalc counts two "
                                                             "copies of the forward layer)",
    "err.keras.bidirectional_merge_mode_not_supported": "{where}: Bidirectional merge_mode={p} is not supported "
                                                        "(only 'concat')",
    "err.keras.cannot_follow_inbound_tensor": "cannot follow an inbound tensor: {p}",
    "err.keras.cannot_read": "cannot read {p}: {p2}",
    "err.keras.cannot_read_keras_model": "cannot read the Keras model: {name}: {e}",
    "err.keras.data_format_channels_first_not": "{where}: {cls_} with data_format='channels_first' is not supported "
                                                "(cnncalc's keras convention is channels-last)",
    "err.keras.input_layer_has_unknown_dimension": "input layer '{label}' has an unknown dimension {shape}: give a "
                                                   "model built with a complete input shape",
    "err.keras.keras_config_malformed_give_output": "the Keras config is malformed ({name}: {p}): give the output of "
                                                    "model.to_json() or a .keras archive",
    "err.keras.keras_layer_not_supported": "{where}: Keras layer {cls_} is not supported{did_you_mean}",
    "err.keras.keras_model_config_json_object": "a Keras model config is a JSON object with class_name and config, "
                                                "got {name}",
    "err.keras.keras_model_has_no_layer": "the Keras model {p} has no layer graph in its config (a subclassed model: "
                                          "its graph is the Python code of call()): on the torch backend pass the "
                                          "model object to cnncalc.analyze with input_size=(batch, ...) to trace it "
                                          "as a torch module, or build it with the functional API "
                                          "(keras.Model(inputs, outputs)) or keras.Sequential",
    "err.keras.lambda_layer_python_code_config": "{where}: a Lambda layer is Python code the config does not hold: "
                                                 "cnncalc cannot count it (write it with Keras layers)",
    "err.keras.model_called_on_tensor_s": "the model '{prefix}' is called on {bound} tensor(s) but has {inputs} "
                                          "input(s)",
    "err.keras.model_has_output_that_cnncalc": "the model '{prefix}' has an output {missing} that cnncalc cannot "
                                               "follow",
    "err.keras.model_inside_sequential_model_has": "the model '{prefix}{name}' inside a Sequential model has {outs} "
                                                   "outputs: a Sequential model passes one tensor on",
    "err.keras.not_keras_model_json_keras": "not a Keras model, JSON or .keras archive: {name}",
    "err.keras.reads_call_layer_which_cnncalc": "{where} reads call {node_index} of layer '{src}', which cnncalc "
                                                "cannot place in the graph",
    "err.keras.reads_output_layer_layer_several": "{where} reads output {index} of layer '{src}' (a layer with "
                                                  "several outputs, e.g. return_state=True): not supported yet",
    "err.keras.reads_tensor_unknown_layer": "{where} reads a tensor of an unknown layer '{src}'",
    "err.keras.relu_max_value_negative_slope": "{where}: ReLU(max_value={mv}, negative_slope={ns}) is not supported "
                                               "(max_value 6 without a slope, or no max_value)",
    "err.keras.relu_threshold_not_supported": "{where}: ReLU(threshold={th}) is not supported",
    "err.keras.sequential_model_called_on_tensors": "the Sequential model '{prefix}' is called on {bound} tensors: "
                                                    "it takes one",
    "err.keras.sequential_model_has_no_input": "the Sequential model has no input shape: build it with "
                                               "keras.Input(...) first",
    "err.keras.subclassed_keras_model_has_no": "{where}: a subclassed Keras model ({cls_}) has no layer graph in its "
                                               "config: build it with the functional API (keras.Model(inputs, "
                                               "outputs)) or keras.Sequential",
    "err.keras.timedistributed_layer_several_inputs_not": "{where}: TimeDistributed of {p}, a layer with several "
                                                          "inputs, is not supported",
    "err.keras.timedistributed_whole_model_not_supported": "{where}: TimeDistributed of a whole model ({p}) is not "
                                                           "supported (wrap a single layer)",
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
    "err.torch.analysing_torch_model_needs_input": "analysing a torch model needs input_size=(N, C, H, W) (or a list "
                                                   "of sizes), or input_data=",
    "err.torch.dtypes_has_entries_inputs": "dtypes has {dtypes} entries for {sizes} inputs",
    "err.torch.input_sizes_must_whole_numbers": "input sizes must be whole numbers >= 1, got {s}",
    "err.torch.model_has_uninitialized_lazy_parameters": "the model has uninitialized lazy parameters ({p}{p2}): run "
                                                         "one real forward first so their shapes are known",
    "err.torch.model_s_forward_failed_on": "the model's forward failed on inputs {p}: {name}: {msg}{hint}",
    "err.torch.model_s_forward_reads_tensor": "the model's forward reads tensor values ({why}) and its parameters "
                                              "are on the meta device: build it on the CPU so that it can run on "
                                              "real tensors",
    "err.torch.model_s_forward_reads_tensor_2": "the model's forward reads tensor values ({why}); running it on real "
                                                "CPU tensors would need its {n:,} parameters in memory: too large "
                                                "(limit {MAX_REAL_PARAMS:,})",
    "err.tospec.forward_takes_inputs_spec_has": "{name}.forward takes {inputs} inputs ({p}); a spec has exactly one "
                                                "input",
    "err.tospec.input_size_must_batch_whole": "input_size must be (batch, ...) with whole sizes >= 1, got "
                                              "{input_size}",
    "err.tospec.input_size_must_tuple_whole": "input_size must be a tuple of whole numbers, batch first, got "
                                              "{input_size}",
    "err.tospec.layer_torch_computes_but_spec": "layer {lab}: torch computes {shape} but the spec gives {got}; the "
                                                "spec cannot express this layer exactly",
    "err.tospec.not_expressible_cnncalc_spec": "{p} is not expressible in a cnncalc spec: {why}",
    "err.tospec.parameter_buffer_used_directly_forward": "the parameter or buffer '{target}' is used directly in "
                                                         "forward() (fx node '{name}'); a spec computes only from "
                                                         "the input through layers",
    "err.tospec.returns_values_spec_has_one": "{name} returns {flat} values ({p}); a spec has one output",
    "err.tospec.running_on_meta_input_size": "running {name} on a meta input of size {input_size} failed: {name2}: "
                                             "{e}",
    "err.tospec.spec_needs_torch_installed": "to_spec needs torch installed",
    "err.tospec.spec_takes_torch_nn_module": "to_spec takes a torch.nn.Module, got {name}",
    "err.tospec.spec_written_does_not_analyse": "the spec written for {name} does not analyse (a to_spec bug or a "
                                                "cnncalc limit): {e}",
    "err.tospec.torch_fx_cannot_trace_only": "torch.fx cannot trace {name}: {name2}: {e}; only models torch.fx can "
                                             "trace symbolically (no data-dependent control flow) can be written as "
                                             "a spec",
    "fe.keras.inner_layer": "{where} inner layer",
    "fe.keras.weights_shared_layer_counted_once": "the weights of '{owner}' (a shared layer: counted once, on that "
                                                  "row)",
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
    "fe.torch.forward_reads_tensor_values_ran": "the forward reads tensor values ({why}): it ran on real CPU tensors "
                                                "with {what}; counts that depend on the data (e.g. detections kept "
                                                "after NMS) are those of that input",
    "fe.torch.given_input_data": "the given input data",
    "fe.torch.grid_sampling": "grid sampling ({p})",
    "fe.torch.no_formula_not_totals": "no formula: not in the totals",
    "fe.torch.op_head": "{name}{calls}: {ins} -> {out}",
    "fe.torch.random_input_given_size": "a random input of the given size",
    "fe.torch.roi_align_bilinear_taps_multiplies": "roi_align: 4 bilinear taps (4 multiplies, 4 adds) per sample, "
                                                   "one divide per output",
    "fe.torch.samples_all_boxes_channels_bins": "8 * {samples:,} samples (all boxes) * {channels} channels * "
                                                "{ph}*{pw} bins + {outputs:,} divides",
    "fe.torch.tensors_this_module_holds": "the tensors this module holds",
    "fe.torch.this_module_ran_this_many": "this module ran this many times: the row's counts are of every call; its "
                                          "shapes are the first call's",
    "fe.torch.this_row_includes_modules_below": "this row includes the modules below it",
    "fe.torch.token_ids_are_integers_give": "; token ids are integers: give an int64 input, e.g. --input 1x128:int64 "
                                            "(API: dtypes=[torch.int64])",
    "fe.torch.training_attention_math_backend": "training memory: {module}: scaled_dot_product_attention (x{calls}) is "
                                                "counted as its math backend runs it, keeping the softmax's "
                                                "attention weights ({nbytes:,} B); without dropout PyTorch on the "
                                                "CPU (and CUDA, for most inputs) runs a fused kernel that keeps "
                                                "only a log-sum-exp instead (plus a workspace), so the peak here is "
                                                "an upper bound; torch.nn.attention.sdpa_kernel(SDPBackend.MATH) "
                                                "trains as counted",
    "fe.torch.training_recurrent_estimate": "training memory: {p}: an estimate, low; traced as aten's "
                                            "step-by-step loop, while the CPU runs an LSTM in oneDNN's fused "
                                            "kernel, which keeps a workspace (measured about 0.6 of the real "
                                            "peak; 0.93 with oneDNN off; a packed GRU / RNN sequence about 0.9)",
    "fe.torch.training_memory_no_rule_what": "training memory: no rule for what {k} keeps for the backward (x{v}); "
                                             "counted as keeping nothing",
    "fe.torch.warning_op_layer_s_output": "warning: {name}: the op layer's output shape {output_shape} differs from "
                                          "torch's {o_shape}: not counted",
    "fe.torch.weight_norm": "weight norm",
    "fe.torch.x_calls": " x{n} calls",
    "fe.tospec.alpha_scales_operand": "alpha={p} scales an operand",
    "fe.tospec.argument_value_cannot_written_spec": "argument value {e} cannot be written in a spec",
    "fe.tospec.batch_first_false_spec_sequence": "batch_first=False: a spec sequence is (batch, steps, features)",
    "fe.tospec.called_more_than_input_tensor": "it is called with more than the input tensor",
    "fe.tospec.changes_shape": "changes the shape",
    "fe.tospec.concatenation_along_batch_axis": "concatenation along the batch axis",
    "fe.tospec.creates_tensor_that_does_not": "it creates a tensor that does not come from the input",
    "fe.tospec.division_powers_negation_are_not": "division, powers and negation are not spec layers",
    "fe.tospec.empty_slice_along_axis": "an empty slice along axis {axis}",
    "fe.tospec.fx_node": "{name} (fx node '{name2}')",
    "fe.tospec.fx_op": "fx op {op}",
    "fe.tospec.given_initial_state_spec_layer": "it is given an initial state; a spec layer starts from zeros",
    "fe.tospec.hardtanh_only_hardtanh_relu_exists": "Hardtanh({min_val}, {max_val}): only Hardtanh(0, 6) = relu6 "
                                                    "exists",
    "fe.tospec.indexing_none_adds_axis": "indexing with None adds an axis",
    "fe.tospec.indexing_value_that_not_tensor": "indexing a value that is not a tensor",
    "fe.tospec.input_not_tensor": "its input is not a tensor",
    "fe.tospec.interpolation_mode_spec_has_nearest": "interpolation mode {mode} (the spec has nearest, "
                                                     "nearest_exact, linear, bilinear, bicubic, trilinear)",
    "fe.tospec.item_s_output_final_hidden": "item {idx} of {name}'s output is its final hidden state; a spec layer "
                                            "gives the output sequence only",
    "fe.tospec.method_fx_node": "method .{target}() (fx node '{name}')",
    "fe.tospec.mode_spec_pads_constant_only": "mode={p}: the spec pads with a constant only",
    "fe.tospec.module": "module '{target}' ({cls})",
    "fe.tospec.narrowing_batch_axis": "narrowing the batch axis",
    "fe.tospec.negative_padding_crop": "negative padding {pad} (a crop)",
    "fe.tospec.no_spec_layer_does_this": "no spec layer does this",
    "fe.tospec.only_hardtanh_relu_exists_spec": "only hardtanh(0, 6) = relu6 exists in the spec",
    "fe.tospec.operand_constant_merges_take_tensors": "an operand is the constant {shown} (merges take tensors "
                                                      "computed from the input; the spec has no scaling or offset "
                                                      "layer)",
    "fe.tospec.operand_tensor_that_does_not": "an operand is a tensor that does not come from the input",
    "fe.tospec.padding_d_tensor_spec_pads": "padding {pad} of a {rank}-d tensor (the spec pads 1 to 3 spatial dims)",
    "fe.tospec.padding_inf_expressible_only_right": "padding with -inf is expressible only right before a max pool "
                                                    "without padding (as the pool's own asymmetric padding)",
    "fe.tospec.padding_spec_pads_finite_constant": "padding with {value}: the spec pads with a finite constant",
    "fe.tospec.reduction_over_axes_d_tensor": "a reduction over axes {dims} of a {r}-d tensor: only one over all the "
                                              "spatial axes (2..{p}) is a global pooling layer",
    "fe.tospec.reduction_over_every_axis_batch": "a reduction over every axis, the batch axis included",
    "fe.tospec.reshapes_batch_axis_must_stay": "reshapes {xs} to {ys}: the batch axis must stay first and unchanged",
    "fe.tospec.reshapes_spec_layer_s_output": "reshapes {xs} to {ys}: a spec layer's output keeps a non-batch axis",
    "fe.tospec.result_keeps_only_batch_axis": "the result {ys} keeps only the batch axis",
    "fe.tospec.result_not_single_tensor": "its result is not a single tensor",
    "fe.tospec.result_not_tensor_derived_from": "its result is not a tensor derived from the input",
    "fe.tospec.return_indices_true_returns_tuple": "return_indices=True returns a tuple",
    "fe.tospec.slicing_batch_axis": "slicing the batch axis",
    "fe.tospec.softmax_over_axis_batch_axis": "softmax over axis {dim} (the batch axis)",
    "fe.tospec.spec_has_no_layer_this": "the spec has no layer for this module type",
    "fe.tospec.spec_pads_constant_only_zeropad": "the spec pads with a constant only (zeropad); reflection / "
                                                 "replication / circular padding is a conv's padding_mode there",
    "fe.tospec.spec_s_layers_take_one": "the spec's layers take one tensor computed from the input (or merge several)",
    "fe.tospec.splitting_batch_axis": "splitting the batch axis",
    "fe.tospec.start_dim_flattens_batch_axis": "start_dim=0 flattens the batch axis",
    "fe.tospec.step_along_axis": "a step of {step} along axis {axis}",
    "fe.tospec.takes_item_tuple_tensors_spec": "it takes an item of a tuple of tensors the spec cannot produce",
    "fe.tospec.takes_s_final_hidden_state": "it takes {name} '{target}''s final hidden state; a spec layer gives the "
                                            "output sequence only",
    "fe.tospec.uses_parameter_buffer_directly_merges": "it uses the parameter or buffer '{target}' directly (merges "
                                                       "take tensors computed from the input through layers)",
    "fe.unnamed": "unnamed",
}
