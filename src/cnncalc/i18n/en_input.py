"""English message templates: specs, files, options, limits, the web API: messages about what was given (same keys in zh_input.py)."""

MESSAGES = {
    "argparse.ambiguous": "ambiguous option: {option} could match {matches}",
    "argparse.argument": "argument {arg}: {rest}",
    "argparse.expected_at_least_one": "expected at least one argument",
    "argparse.expected_at_most_one": "expected at most one argument",
    "argparse.expected_one": "expected one argument",
    "argparse.invalid_choice": "invalid choice: {value} (choose from {choices})",
    "argparse.invalid_value": "invalid {type} value: {value}",
    "argparse.not_allowed_with": "not allowed with argument {arg}",
    "argparse.one_of_required": "one of the arguments {args} is required",
    "argparse.required": "the following arguments are required: {args}",
    "argparse.unrecognized": "unrecognized arguments: {args}",
    "argparse.usage": "usage: ",
    "err.analysis.input_has_dims_tensor_may": "input has {dims} dims; a tensor may have at most {MAX_RANK} (batch "
                                              "included)",
    "err.analysis.input_has_no_argument_write": "input has no argument '{name}'{did_you_mean}; write input(C, H, W) "
                                                "or input(shape=(...), batch=N)",
    "err.analysis.input_sizes_must_numbers_name": "input sizes must be numbers, got the name '{v}'; write the sizes, "
                                                  "e.g. {example}",
    "err.analysis.not_a_size": "not a size >= 1",
    "err.analysis.output_size_axis": "output size {v} (axis {i} of {shape}) is {what}",
    "err.analysis.output_would_have_dims_tensor": "the output would have {shape} dims; a tensor may have at most "
                                                  "{MAX_RANK} (batch included)",
    "err.analysis.size_too_large": "too large: sizes are at most 10^18",
    "err.analysis.too_large_sizes_are_most": "{what} {v} is too large: sizes are at most 10^18",
    "err.cli.applies_training_step_add_train": "{flag} applies to a training step: add --train",
    "err.cli.batch_must": "--batch must be >= 1, got {batch}",
    "err.cli.batch_whole_number": "--batch {batch}: a whole number or ?",
    "err.cli.cannot_import": "cannot import '{mod_name}': {name}: {e}",
    "err.cli.cnncalc_serve_needs_web_extra": "cnncalc serve needs the web extra: pip install 'cnncalc[web]' ({name} "
                                             "is missing)",
    "err.cli.convention_text_specs_pytorch_model": "--convention {convention} is for text specs: a PyTorch model "
                                                   "follows PyTorch's own rules (leave --convention out)",
    "err.cli.dtype_pytorch_model_s_parameters": "--dtype {dtype}: a PyTorch model's parameters are float32, float16, "
                                                "bfloat16 or float64",
    "err.cli.failed": "{ref}(**{kwargs}) failed: {name}: {e}",
    "err.cli.fit_needs_input_size_input": "--fit for {spec} needs its input size: --input 1x3x224x224 (the first "
                                          "dimension is the batch that --fit varies)",
    "err.cli.fit_varies_batch_but_fixes": "--fit varies the batch, but {spec} fixes its inputs' first dimension "
                                          "({message}): export it with a dynamic batch axis",
    "err.cli.has_no": "'{mod_name}' has no '{attr}'{hint}",
    "err.cli.input_keyword_input_name_size": "--input {text}: a keyword input is NAME=SIZE, e.g. "
                                             "input_ids=1x128:int64",
    "err.cli.input_unknown_dtype_e_g": "--input {text}: unknown dtype '{dt}' (e.g. float32, float16, int64)",
    "err.cli.kwargs_must_json_object_e": "--kwargs must be a JSON object, e.g. '{{\"num_classes\": 10}}'",
    "err.cli.kwargs_not_json_column": "--kwargs is not JSON: {msg} at column {colno}",
    "err.cli.model_give_input_size_input": "{spec} is a model: give its input size with --input, e.g. --input "
                                           "1x3x224x224",
    "err.cli.no_layer": "no layer {err}",
    "err.cli.port_port_number_from_default": "--port {port}: a port is a number from 0 to 65535 (8000 is the default)",
    "err.cli.seed_must_count": "--seed must be >= 0 and --count >= 1",
    "err.cli.text_spec_takes_one_input": "a text spec takes one --input (batch first, e.g. 1x1x28x28)",
    "err.cli.time_limit_give_seconds_between": "--time-limit {time_limit:g}: give seconds between 0 and 3600",
    "err.export.activation_has_no_functional_form": "activation {act} has no functional form",
    "err.export.asymmetric_padding_ceil_mode_true": "asymmetric padding {pads} with ceil_mode=true has no PyTorch "
                                                    "equivalent",
    "err.export.asymmetric_padding_count_include_pad": "asymmetric padding {pads} with count_include_pad=false has "
                                                       "no PyTorch equivalent",
    "err.export.bicubic_upsampling_d_only_pytorch": "bicubic upsampling is 2-d only in PyTorch",
    "err.export.cannot_exported_pytorch": "{kind} cannot be exported to PyTorch: {msg}",
    "err.export.expects_d_input_per_sample": "expects a {p}-d input per sample, got {x}",
    "err.export.interpolation_has_no_pytorch_equivalent": "interpolation {mode} has no PyTorch equivalent",
    "err.export.keras_normalization_keeps_mean_variance": "Keras Normalization keeps its mean and variance as "
                                                          "(non-trainable) weights; PyTorch has no such layer -- its "
                                                          "statistics would be buffers, not parameters",
    "err.export.mode_d_inputs_per_sample": "mode {mode} is for {MODE_RANK}-d inputs (per sample: channels + "
                                           "{MODE_RANK} spatial dims), this input {x} has {n}",
    "err.export.no_pytorch_batchnorm_takes_d": "no PyTorch BatchNorm takes a {r}-d input {x}",
    "err.export.no_pytorch_equivalent_known_this": "no PyTorch equivalent is known for this layer kind",
    "err.export.no_pytorch_instancenorm_takes_d": "no PyTorch InstanceNorm takes a {x}-d input {x2}",
    "err.export.pytorch_batchnorm_has_both_gamma": "PyTorch BatchNorm has both gamma and beta (affine) or neither",
    "err.export.pytorch_batchnorm_normalises_axis_axis": "PyTorch BatchNorm normalises axis 1; axis={axis} on {x}",
    "err.export.pytorch_layernorm_cannot_drop_gamma": "PyTorch LayerNorm cannot drop gamma (scale=false) and keep "
                                                      "affine",
    "err.export.pytorch_layernorm_normalises_trailing_dims": "PyTorch LayerNorm normalises trailing dims; "
                                                             "axis={axis} of {x} is not",
    "err.export.pytorch_rnn_s_nonlinearity_tanh": "PyTorch RNN's nonlinearity is tanh or relu, got {nl}",
    "err.export.slopes_pytorch_prelu_has_one": "{num} slopes: PyTorch PReLU has one or one per channel ({c})",
    "err.export.slopes_shared_over_axes_pytorch": "slopes shared over axes {shared_axes}: PyTorch PReLU shares over "
                                                  "all but axis 1",
    "err.export.unknown_activation": "unknown activation {act}",
    "err.export.unknown_activation_2": "unknown activation {activation}",
    "err.export.unknown_mode": "unknown mode {mode}",
    "err.fit.memory_budget_whole_number_bytes": "a memory budget is a whole number of bytes >= 1, got {budget}",
    "err.graph.argument_block_given_twice": "argument '{match}' of block {name} given twice",
    "err.graph.block_calls_itself_block_cannot": "block '{name}' calls itself: {p}; a block cannot call itself, "
                                                 "directly or through other blocks (to repeat one, write {name}(...) "
                                                 "* N)",
    "err.graph.block_has_no_argument_arguments": "block {name} has no argument '{name2}'{did_you_mean}; its "
                                                 "arguments: {p}",
    "err.graph.block_needs_argument": "block {name} needs the argument '{p}'",
    "err.graph.block_needs_input_put_input": "block {name} needs an input: put input(...) first",
    "err.graph.block_takes_argument_s": "block {name} takes {names} argument(s) ({p}), got {pos}",
    "err.graph.both_tensor_name_label_layer": "'{kind}' is both a tensor name (a label) and a layer kind: write "
                                              "{kind}() for the layer, or rename the label",
    "err.graph.cannot_compute": "cannot compute {p} {op} {p2}{hint}",
    "err.graph.cannot_negate": "cannot negate {x}",
    "err.graph.division_by_zero": "division by zero in {a} {op} {b}",
    "err.graph.empty_group_group_needs_least": "an empty group: a group needs at least one layer",
    "err.graph.is_not_parameter": "is not a block parameter",
    "err.graph.is_value": "is {v}",
    "err.graph.names_tensor_label_cannot_name": "'{kind}' names a tensor; a label cannot name a reference",
    "err.graph.needs_numbers": "{name}() needs numbers, got {vals}",
    "err.graph.nesting_deeper_than_levels_groups": "nesting deeper than {MAX_NESTING} levels: {what}; groups, "
                                                   "assignments and block calls may nest at most {MAX_NESTING} levels",
    "err.graph.not_block_parameter": "; '{name}' is not a block parameter{hint}",
    "err.graph.not_tensor_defined_so_far": "'{name}' is not a tensor defined so far{name2}",
    "err.graph.overflows_float_floats_must_finite": "{a} {op} {b} overflows a float; floats must be finite",
    "err.graph.repeat_count_n_needs_whole": "repeat count '{text}' {what}; '* N' needs a whole number >= "
                                            "1{did_you_mean}",
    "err.graph.spec_expands_more_than_layers": "the spec expands to more than {MAX_WORK:,} layers, tensor references "
                                               "and repeats; a spec may have at most {MAX_LAYERS:,} layers",
    "err.graph.spec_expands_more_than_layers_2": "the spec expands to more than {MAX_LAYERS:,} layers",
    "err.graph.too_large": "{a} {op} {b} = {r} is too large: {NUMBER_LIMIT_TEXT}",
    "err.graph.what_assignment": "the assignment '{name} = ...'",
    "err.graph.what_blocks": "blocks calling blocks {chain}",
    "err.graph.what_group": "a group '(...)'",
    "err.graph.would_make_more_than_layers": "'* {repeat}' would make more than {MAX_LAYERS:,} layers; a spec may "
                                             "have at most {MAX_LAYERS:,}",
    "err.sizes.give_size_such_as_mib": "{option} {text}: give a size such as 512MiB, 1GiB or 2GB",
    "err.sizes.input_expected_sizes_like_x": "--input {text}: expected sizes like 1x3x224x224 (optionally :int64)",
    "err.sizes.input_sizes_must_whole_numbers": "--input {text}: sizes must be whole numbers >= 1",
    "err.sizes.least_bytes": "{option} {text}: at least {minimum:,} bytes",
    "err.spec.cannot_read": "cannot read {path}: {strerror}",
    "err.spec.no_such_spec_file": "no such spec file: {p}",
    "err.spec.spec_text": "a spec is text, got {name}",
    "err.spec.spec_text_file_path_list": "a spec is text, a file path or a list of layers, got {name}",
    "err.st.argument_names_must_names_like": "{where}: {kind}: argument names must be names like kernel_size, got "
                                             "{bad}",
    "err.st.block_block_must_mapping_layers": "{where} block {name}: a block must be a mapping with 'layers' (and "
                                              "'params'), got {b}",
    "err.st.block_parameter_must_name_like": "{where}: block {name}: a parameter must be a name like width, got "
                                             "{wrong}",
    "err.st.block_params_must_mapping_names": "{where}: block {name}: params must be a mapping of names to defaults "
                                              "(null = required) or a list of names, got {params}",
    "err.st.block_params_must_names": "{where}: block {name}: params must be names, got {params}",
    "err.st.blocks_must_map_block_names": "{where}: 'blocks' must map block names to blocks, got {blocks}",
    "err.st.expected_list_layers": "{where}: expected a list of layers, got {name}",
    "err.st.group_needs_least_one_layer": "{where}: a group needs at least one layer in 'layers'",
    "err.st.json": "JSON: {msg}",
    "err.st.json_key_appears_twice_one": "JSON: the key '{k}' appears twice in one object; each key may appear once",
    "err.st.json_not_number_spec_can": "JSON: {name} is not a number a spec can use; numbers must be finite",
    "err.st.json_number_too_large": "JSON: the number {digits} is too large: {NUMBER_LIMIT_TEXT}",
    "err.st.keys_must_names_type_name": "{where}: keys must be names (type, name, input, or a layer kind and its "
                                        "arguments), got {bad}",
    "err.st.layer_mapping_needs_type_key": "{where}: a layer mapping needs a 'type' key or exactly one 'kind: "
                                           "arguments' entry, got keys {body}",
    "err.st.layer_must_string_mapping": "{where}: a layer must be a string or a mapping, got {node}",
    "err.st.mapping_spec_needs_layers_list": "{where}: a mapping spec needs a 'layers' list",
    "err.st.more_than_values_yaml_aliases": "{where}: more than {MAX_STRUCTURED_VALUES:,} values (YAML aliases "
                                            "included); a spec this large is refused",
    "err.st.msg": "{where}: {message}",
    "err.st.must_non_empty_name": "{where}: {what} must be a non-empty name, got {v}{p}",
    "err.st.nesting_deeper_than_levels_spec": "{where}: nesting deeper than {MAX_NESTING} levels; a spec may nest at "
                                              "most {MAX_NESTING} levels of lists and mappings",
    "err.st.nesting_deeper_than_levels_spec_2": "{fmt}: nesting deeper than {MAX_NESTING} levels; a spec may nest at "
                                                "most {MAX_NESTING} levels of {containers}",
    "err.st.not_number_spec_can_use": "{where}: {node} is not a number a spec can use; floats must be finite",
    "err.st.number_too_large": "{where}: the number {node} is too large: {NUMBER_LIMIT_TEXT}",
    "err.st.repeat_must_whole_number": "{where}: repeat must be a whole number >= 1, got {times}",
    "err.st.takes_tensor_names": "{where}: '{key}' takes tensor names, got {v}{hint}",
    "err.st.yaml": "YAML: {p}",
    "err.st.yaml_key_appears_twice_one": "YAML: the key '{key}' appears twice in one mapping (first at line {p}); "
                                         "each key may appear once",
    "err.st.yaml_nesting_deeper_than_levels": "YAML: nesting deeper than {MAX_NESTING} levels; a spec may nest at "
                                              "most {MAX_NESTING} levels of lists and mappings",
    "err.st.yaml_number_too_large": "YAML: the number {shown} is too large: {NUMBER_LIMIT_TEXT}",
    "err.st.yaml_value_cannot_read": "YAML: a value cannot be read: {e}",
    "err.text.block_has_empty_body": "block '{text}' has an empty body",
    "err.text.empty_group": "empty group '()'",
    "err.text.expected": "expected '{closing}'{p}",
    "err.text.expected_found": "expected ',' or ')' in {low}(...), found {p}",
    "err.text.expected_parameter_name_def_found": "expected a parameter name in 'def {text}(...)', found {p}",
    "err.text.expected_parameters_found": "expected ',' or ')' in the parameters of {text}, found {p}",
    "err.text.expected_tuple_found": "expected ',' or '{closing}' in a tuple, found {text}",
    "err.text.must_followed_by_positive_whole": "'*' must be followed by a positive whole number of repeats, found "
                                                "{text}",
    "err.text.nesting_deeper_than_levels_groups": "nesting deeper than {MAX_NESTING} levels: groups, block "
                                                  "definitions and assignments inside each other; a spec may nest at "
                                                  "most {MAX_NESTING} levels",
    "err.text.nesting_deeper_than_levels_more": "nesting deeper than {MAX_NESTING} levels: more than {MAX_NESTING} "
                                                "'(' / '[' open at once; a spec may nest at most {MAX_NESTING} "
                                                "levels (use a block, def NAME(): ... end, for deep structure)",
    "err.text.number_too_large": "the number {text} is too large: {NUMBER_LIMIT_TEXT}",
    "err.text.number_too_large_float_overflows": "the number {text} is too large for a float (it overflows to "
                                                 "infinity); floats must be finite",
    "err.text.number_too_small_float_underflows": "the number {text} is too small for a float (it underflows to 0)",
    "err.text.parameter_without_default_follows_one": "parameter '{text}' without a default follows one with a "
                                                      "default",
    "err.text.to_close_block": " to close the block",
    "err.train.attention_scores": "layer '{name}' reads the attention weights of a MultiHeadAttention (return_attention_scores=True): the training step does not model that tensor yet (it is the attention layer's own, kept for its backward); analyse without --train, or read only the attention output",
    "err.train.unknown_amp_choose_fp_bf": "unknown --amp '{amp}'; choose fp16 or bf16{did_you_mean}",
    "err.train.unknown_optimizer_choose_one": "unknown optimizer '{optimizer}'; choose one of {p}{did_you_mean}",
    "err.web.upload_too_large": "upload larger than {n} bytes",
    "err.web.busy": "the server is busy: no analysis slot came free within {s:g} s; try again",
    "err.web.bytes_keras_configs_up_bytes": "{what} is {raw:,} bytes; Keras configs up to {MAX_CONFIG_BYTES:,} bytes "
                                            "are read",
    "err.web.cannot_serve_on": "cannot serve on {host}:{port}: {p}",
    "err.web.cannot_serve_on_port_already": "cannot serve on {host}:{port}: the port is already in use (stop the "
                                            "other server or choose another, e.g. --port {p})",
    "err.web.cannot_serve_on_port_permission": "cannot serve on port {port}: permission denied (ports below 1024 "
                                               "need privileges; try --port 8000)",
    "err.web.config_json_inflates_bytes_limit": "{what}: config.json inflates to {file_size:,} bytes (limit "
                                                "{MAX_CONFIG_BYTES:,})",
    "err.web.cpu_time": "the analysis used more than {s:g} s of CPU time and was stopped",
    "err.web.has_members_most_are_accepted": "{what} has {infos:,} members; at most {MAX_ZIP_MEMBERS:,} are accepted",
    "err.web.host_not_address_this_machine": "--host {host}: not an address of this machine ({e})",
    "err.web.inflates_bytes_all_limit": "{what} inflates to {total:,} bytes in all (limit {MAX_ZIP_TOTAL_BYTES:,})",
    "err.web.input_must_whole_numbers_replacing": "'input' {input_shape} must be whole numbers >= 1 replacing the "
                                                  "spec's input(...)",
    "err.web.input_nests_too_deeply_analyse": "the input nests too deeply to analyse",
    "err.web.internal": "the analysis failed inside the server ({value}); please report this input",
    "err.web.member_inflates_bytes_limit": "{what}: member '{display}' inflates to {file_size:,} bytes (limit "
                                           "{MAX_MEMBER_BYTES:,})",
    "err.web.memory": "the analysis needed more than {mib:,.0f} MiB of memory and was stopped",
    "err.web.must_hold_keras_model_config": "{what} must hold a Keras model config (a JSON object with class_name "
                                            "and config), got a JSON {name}",
    "err.web.nests_json_too_deeply": "{what} nests JSON too deeply",
    "err.web.network_has_layers_web_page": "the network has {p:,} layers; the web page analyses at most "
                                           "{max_layers:,} (use the command line for more)",
    "err.web.not_keras_archive_has_no": "{what} is not a .keras archive: it has no config.json",
    "err.web.not_onnx_model": "{what} is not an ONNX model: {name}",
    "err.web.not_readable_keras_archive": "{what} is not a readable .keras archive: {name}",
    "err.web.not_valid_json": "{what} is not valid JSON: {e}",
    "err.web.only_onnx_files_keras_json": "{what}: only ONNX files and Keras JSON / .keras archives are accepted; "
                                          "checkpoints are never loaded here (unpickling can run code)",
    "err.web.reading_onnx_files_needs_onnx": "reading ONNX files needs the onnx package on the server (pip install "
                                             "onnx)",
    "err.web.seed": "seed must be a whole number from 0 to 2^31 - 1",
    "err.web.spec_too_long": "spec too long: {n:,} characters",
    "err.web.took_longer": "the analysis took longer than {s:g} s and was stopped",
    "err.web.unknown_job": "unknown job {p}",
    "err.web.upload_onnx_file_keras_json": "{what}: upload an .onnx file, a Keras .json or a .keras archive",
    "err.zoo.no_model_zoo_cnncalc_zoo": "no model '{name}' in the zoo{name2}; `cnncalc zoo` lists them",
    "fit.activations": "activations",
    "fit.amp": ", amp {amp}",
    "fit.budget": "Budget {size} ({budget:,} B), training with {optimizer}{amp}:",
    "fit.dominate": "  {dominant} dominate: {fixed:,} B do not grow with the batch; each more sample adds about "
                    "{per:,} B",
    "fit.fixed": "parameters, gradients and optimizer state",
    "fit.infer": "  inference: largest batch {batch:,} (peak {size}, {peak:,} B); batch {more:,} needs {needs:,} B",
    "fit.infer_none": "  inference: not even batch 1 fits ({peak:,} B)",
    "fit.train": "  training: largest batch {batch:,} (peak {size}, {peak:,} B); batch {more:,} needs {needs:,} B",
    "fit.train_none": "  training: not even batch 1 fits: its step peaks at {size} ({peak:,} B)",
    "foreign.either": "{a} or {b}",
    "foreign.json_colon": "Expecting ':' delimiter",
    "foreign.json_comma": "Expecting ',' delimiter",
    "foreign.json_control": "Invalid control character at",
    "foreign.json_escape": "Invalid \\escape",
    "foreign.json_extra": "Extra data",
    "foreign.json_property": "Expecting property name enclosed in double quotes",
    "foreign.json_trailing_array": "Illegal trailing comma before end of array",
    "foreign.json_trailing_object": "Illegal trailing comma before end of object",
    "foreign.json_uescape": "Invalid \\uXXXX escape",
    "foreign.json_unterminated": "Unterminated string starting at",
    "foreign.json_value": "Expecting value",
    "foreign.os_is_dir": "Is a directory",
    "foreign.os_no_such_file": "No such file or directory",
    "foreign.os_not_dir": "Not a directory",
    "foreign.os_permission": "Permission denied",
    "foreign.yaml_alias": "found undefined alias {name}",
    "foreign.yaml_bad_char": "found character {char} that cannot start any token",
    "foreign.yaml_colon": "could not find expected ':'",
    "foreign.yaml_eos": "found unexpected end of stream",
    "foreign.yaml_expected_but": "expected {want}, but {verb} {found}",
    "foreign.yaml_flow_map": "did not find expected ',' or '}}'",
    "foreign.yaml_flow_seq": "did not find expected ',' or ']'",
    "foreign.yaml_key": "did not find expected key",
    "foreign.yaml_mapping_values": "mapping values are not allowed here",
    "foreign.yaml_node": "did not find expected node content",
    "lim.abbrev": "{head}...{tail} ({n} digits)",
    "lim.many_digits": "a number of more than 1,200 digits",
    "lim.number_limit": "whole numbers in a spec (and tensor sizes) are at most 10^18 = 1,000,000,000,000,000,000",
    "md.col.activations": "Activations (B)",
    "md.col.flops": "FLOPs",
    "md.col.kind": "Kind",
    "md.col.layer": "Layer",
    "md.col.macs": "MACs",
    "md.col.output_shape": "Output shape",
    "md.col.params": "Params",
    "md.col.rf": "RF size / stride",
    "md.convention": "Convention **{name}** ({framework}, {layout}), batch {batch}, dtype {dtype}.",
    "md.legend": "MACs: multiply-accumulates of conv/dense/recurrent layers, bias excluded. FLOPs: every "
                 "floating-point operation (mults + adds + normalisation, activation, pooling).",
    "md.total": "**total**",
    "md.totals": "Trainable params {trainable:,}, non-trainable {non_trainable:,}; mults {mults:,}, adds {adds:,}; "
                 "parameter memory {param_bytes:,} B.",
    "st.eg_name": "; e.g. name: conv1",
    "st.eg_type": "; e.g. type: conv2d",
    "st.hint_named_input": "; a named input layer is {{type: input, args: [3, 224, 224], name: x}}",
    "st.lists_and_mappings": "lists and mappings",
    "st.lists_and_objects": "lists and objects",
    "st.what_block_name": "a block's name",
    "st.what_block_name_key": "a block's name ('{key}')",
    "st.where_block": "{where} block {name}",
    "st.where_input": "{where} input",
    "st.where_item": "{where} item {i}",
    "st.where_spec": "spec",
    "word.batch": "batch",
    "word.input_size": "input size",
    "word.none": "none",
}
