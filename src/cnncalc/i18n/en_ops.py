"""English message templates: the op layer: impossible layers, notes and warnings of rarer ops (same keys in zh_ops.py)."""

MESSAGES = {
    "err.op.args_must_name_value_pairs": "args must be (name, value) pairs of the inner layer's arguments, got {args}",
    "err.op.attention_over_axes_other_than": "attention over axes other than the sequence axis is not supported",
    "err.op.average_pooling_has_no_dilation": "average pooling has no dilation",
    "err.op.axis_must_axes_input": "axis must be axes of the input {x} ({p}..{p2}), got {axis}",
    "err.op.axis_must_axis_input": "axis must be an axis of the input {x} ({p}..{p2}), got {axis}",
    "err.op.axis_not_axis": "axis {axis} is not an axis of {x}",
    "err.op.axis_not_non_batch_axis": "axis {axis} is not a non-batch axis of the input {x}",
    "err.op.axis_not_non_batch_axis_2": "axis {axis} is not a non-batch axis of {fmt_shape}",
    "err.op.axis_not_non_batch_axis_3": "axis {axis} is not a non-batch axis of {x}",
    "err.op.batch_dims_do_not_broadcast": "{what}: batch dims of {a} and {b} do not broadcast",
    "err.op.batchnorm_needs_batch_channels": "batchnorm needs (batch, channels, ...), got {x}",
    "err.op.caffe_bvlc_has_no_gru": "Caffe (BVLC) has no GRU layer; its recurrent layers are RNN and LSTM",
    "err.op.caffe_bvlc_recurrent_layers_are": "Caffe (BVLC) recurrent layers are unidirectional",
    "err.op.caffe_deconvolution_has_no_output": "Caffe Deconvolution has no output_padding",
    "err.op.caffe_requires_pad_kernel_padding": "Caffe requires pad < kernel: padding {pb} >= kernel {k}",
    "err.op.cannot_reshape_values_into_not": "cannot reshape {fmt_shape} ({total} values) into {shape}: {total} "
                                             "is not divisible by {known}",
    "err.op.cannot_reshape_values_into_values": "cannot reshape {fmt_shape} ({total} values) into {shape} "
                                                "({known} values)",
    "err.op.channels_must_divide_by_num": "channels ({C}) must divide by num_groups ({G})",
    "err.op.concat_along_axis_differ_outside": "concat along axis {axis}: {ctx} {fmt_shape} and {ctx2} {s} differ "
                                               "outside that axis",
    "err.op.concat_needs_least_two_inputs": "concat needs at least two inputs, got {shapes}",
    "err.op.crop_cannot_crop_size": "crop: cannot crop {ctx} {x} to the size of {ctx2} {like}",
    "err.op.crop_takes_tensor_crop_tensor": "crop takes the tensor to crop and the tensor whose size to match, "
                                            "got {shapes} inputs",
    "err.op.cropping_removes_all_least_one": "cropping ({cb}, {ca}) removes all of {dim} = {L} in {x}: at least "
                                             "one element must remain",
    "err.op.dims_must_permutation_non_batch": "dims must be a permutation of the non-batch axes 1..{p} of {x} "
                                              "(Keras), or of 0..{p} starting with 0, got {dims}",
    "err.op.expects_d_input_per_sample": "{kind} expects a {p}-d input per sample, got {x} (batch first)",
    "err.op.fold_input_has_blocks_but": "fold: the input has {L} blocks but output_size {sizes} with kernel {k} "
                                        "has {p} = {counts}",
    "err.op.fold_input_s_channels_are": "fold: the input's {CK} channels are not a multiple of the kernel's {K} "
                                        "positions (kernel_size {k})",
    "err.op.fold_needs_batch_channels_prod": "fold needs (batch, channels * prod(kernel_size), blocks), got {x}",
    "err.op.groupnorm_needs_batch_channels": "groupnorm needs (batch, channels, ...), got {x}",
    "err.op.has_no_same_padding_give": "{framework} has no 'same' padding; give the pad explicitly (e.g. "
                                       "padding={tuple})",
    "err.op.interpolation_not_counted_yet_use": "interpolation '{mode}' is not counted yet; use nearest or bilinear",
    "err.op.keras_conv_dtranspose_takes_padding": "Keras Conv{n}DTranspose takes padding='valid' or 'same', got "
                                                  "{padding}",
    "err.op.keras_does_not_allow_strides": "Keras does not allow strides > 1 together with dilation_rate > 1 "
                                           "(strides={s}, dilation_rate={d})",
    "err.op.kernel_dilation_larger_than_padded": "kernel {k} (dilation {d}) is larger than the padded size {L} + "
                                                 "{pb} + {pa} along {dim}",
    "err.op.key_value_must_have_same": "key {k} and value {v} must have the same number of steps",
    "err.op.key_value_must_have_same_2": "{what}: key {k} and value {v} must have the same batch and steps as "
                                         "each other, and the query {q} the same batch",
    "err.op.layer_must_name_layer_kind": "layer must name a layer kind with one input, got {kind}",
    "err.op.matmul_inner_sizes_differ": "matmul: inner sizes differ: {x} @ {y} ({k} != {k2})",
    "err.op.matmul_needs_tensors_rank": "matmul needs tensors of rank >= 1, got {x} and {y}",
    "err.op.matmul_takes_two_inputs": "matmul takes two inputs, got {shapes}",
    "err.op.mode_interpolates_spatial_dim_s": "mode '{mode}' interpolates {need} spatial dim(s); the input {x} "
                                              "has {n}",
    "err.op.multiheadattention_needs_batch_steps_features": "multiheadattention needs (batch, steps, features) "
                                                            "inputs; {name} is {s}",
    "err.op.multiheadattention_takes_query_value_optional": "multiheadattention takes query, value and an "
                                                            "optional key, got {shapes} inputs",
    "err.op.must_number": "{name} must be a number, got {v}",
    "err.op.must_number_tuple_valid_same": "{name} must be a number, a tuple, 'valid' or 'same', got {a}",
    "err.op.must_one": "{name} must be one of {p}, got {v}{did_you_mean}",
    "err.op.must_whole_number_axis_input": "{name} must be a whole number (an axis of the input {x}), got {v}",
    "err.op.needs_batch_steps_features_inputs": "{what} needs (batch, steps, features) inputs; {name} is {s}",
    "err.op.needs_least_two_inputs": "{kind} needs at least two inputs, got {shapes}",
    "err.op.normalized_shape_does_not_match": "normalized_shape {ns} does not match the trailing dims of the "
                                              "input {x}",
    "err.op.num_channels_but_input_has": "num_channels={num_channels} but the input has {C} channels",
    "err.op.num_features_but_input_has": "num_features={num_features} but the input has {C} channels",
    "err.op.num_parameters_must_number_channels": "num_parameters must be 1 or the number of channels ({c}), got {k}",
    "err.op.output_length_along_would_padding": "output length along {dim} would be {value}: padding {pb} + {pa} "
                                                "is too large for input {L}, kernel {k}, stride {s}",
    "err.op.output_padding_must_smaller_than": "output_padding must be smaller than either stride or dilation "
                                               "(output_padding={op}, stride={s}, dilation={d})",
    "err.op.output_shape_must_whole_number": "output_shape must be a whole number >= 1 (the output features) or a "
                                             "tuple ending with one, got {shape}",
    "err.op.output_size_must_whole_number": "output_size must be a whole number >= 1 or a tuple of {n} (None "
                                            "keeps a dim), got {size}",
    "err.op.padding_causal_only_d_convolutions": "padding='causal' is only for 1-d convolutions",
    "err.op.padding_same_lower_onnx_same": "padding='same_lower' (ONNX SAME_LOWER) exists only under the onnx "
                                           "convention",
    "err.op.pooling_has_no_dilation": "{framework} pooling has no dilation",
    "err.op.pooling_takes_padding_valid_same": "{framework} pooling takes padding='valid' or 'same', got "
                                               "{padding}; for explicit padding put zeropadding{n}d({padding}) "
                                               "before this layer",
    "err.op.pooling_takes_whole_number_padding": "{framework} pooling takes a whole-number padding, got {padding}",
    "err.op.proj_size_exists_only_lstm": "proj_size exists only for LSTM",
    "err.op.proj_size_must_smaller_than": "proj_size ({P}) must be smaller than hidden_size ({H})",
    "err.op.projection_dim_not_last_axis": "projection_dim={projection_dim} is not the last axis of the input {x} "
                                           "({C})",
    "err.op.pytorch_avgpool_d_needs_unpadded": "PyTorch AvgPool3d needs the unpadded input to be at least the "
                                               "kernel in every dim: input {spatial} smaller than kernel {k}",
    "err.op.query_key_value_do_not": "query {q}, key {k} and value {v} do not fit: need (..., L, E), (..., S, E), "
                                     "(..., S, Ev)",
    "err.op.query_s_features_key_s": "{what}: the query's features ({q}) and the key's ({k}) must be equal",
    "err.op.reset_after_exists_only_gru": "reset_after exists only for GRU",
    "err.op.reset_after_false_keras_gru": "reset_after=false is a Keras GRU option (PyTorch/ONNX GRUs have two "
                                          "bias vectors)",
    "err.op.scale_factor_makes_output_along": "scale_factor {f} makes the output along {dim} floor({L}*{f}) = "
                                              "{o}: sizes must be >= 1",
    "err.op.scale_factor_makes_output_along_2": "scale_factor {f} makes the output along {dim} {o}: sizes are at "
                                                "most 10^18",
    "err.op.scale_factor_must_positive_number": "scale_factor must be a positive number or a tuple of {n}, got {sf}",
    "err.op.scaleadd_takes_shortcut_branch_scale": "scaleadd takes the shortcut and the branch to scale, got "
                                                   "{shapes} inputs",
    "err.op.scaled_dot_product_attention_takes": "scaled_dot_product_attention takes query, key and value, got "
                                                 "{shapes} inputs",
    "err.op.shape_must_whole_numbers_most": "shape must be whole numbers >= 1 with at most one -1, got {shape}",
    "err.op.shared_axes_must_name_axes": "shared_axes must name axes 1..{shape} of the input {x}, got {ax}",
    "err.op.slice_does_not_fit_axis": "slice {start}:{stop} does not fit axis {axis} of size {x} in {x2}",
    "err.op.start_dim_end_dim_out": "start_dim={start_dim}, end_dim={end_dim} out of range for input {x}",
    "err.op.takes_query_value_optional_key": "{what} takes query, value and an optional key, got {shapes} input(s)",
    "err.op.timedistributed_needs_batch_time_inputs": "timedistributed needs (batch, time, ...) inputs, got {x}",
    "err.op.transposed_convolutions_take_whole_number": "{framework} transposed convolutions take a whole-number "
                                                        "padding, got {padding}",
    "err.op.unknown_activation": "unknown activation '{name}'{name2}",
    "err.op.unknown_activation_2": "unknown activation '{name}'",
    "err.op.upsample_needs_exactly_one_scale": "upsample needs exactly one of scale_factor or size",
    "err.op.upsampling_needs_channels_spatial_dims": "upsampling needs channels and spatial dims, got {x}",
    "err.op.value_must_number": "value must be a number, got {value}",
    "op.adaptive_bins_unequal_size_no": "adaptive bins of unequal size: no single receptive-field stride",
    "op.alpha_shape_keras_one_per": "alpha of shape {shape} (Keras: one per element, shared along shared_axes)",
    "op.attention_weights": "attention weights",
    "op.batch_x_head_blocks_queries": "{bh:,} batch x head blocks, {L} queries x {S} keys",
    "op.both_operands_need_gradient": "both operands need a gradient",
    "op.caffe_deconvolution": "caffe: deconvolution",
    "op.caffe_innerproduct_flattens_all_axes": "caffe InnerProduct flattens all axes after the batch axis",
    "op.caffe_pooling_always_rounds_up": "Caffe pooling always rounds up; ceil_mode=false ignored",
    "op.channels_bin_elements": "{p:,} channels * {window_elems:,} bin elements",
    "op.compare_multiply": "compare, multiply",
    "op.constant": "{note}, with the constant {value}",
    "op.constant_operand": "constant operand",
    "op.copy_input_op_overwrites": "a copy of the input (the op overwrites it)",
    "op.depthwise_kernels_pointwise_x_kernels": "depthwise kernels + pointwise 1x1 kernels (+ bias)",
    "op.depthwise_output": "depthwise output",
    "op.each_added_into_output_position": "each added into its output position",
    "op.each_output_dot_product_length": "each output: a dot product of length k",
    "op.every_input_value_meets_every": "every input value meets every weight of its group once",
    "op.every_time_step": "every time step",
    "op.gamma_one_scale_per_channel": "gamma: one scale per channel",
    "op.gamma_shape": "gamma{p} of shape {ns}",
    "op.gates_states_every_step": "gates and states of every step",
    "op.heads_query_steps_x_key": "{H} heads, {Tq} query steps x {Tk} key steps",
    "op.input_axis": "input axis {p}",
    "op.input_channels_kernel_positions": "input channels / kernel positions",
    "op.input_elements": "{elements:,} input elements * 1",
    "op.input_positions": "{nin:,} input positions * {C} * {fg} * {ktxt}",
    "op.input_values": "{N} * {CK} * {L} input values",
    "op.keras_output_padding": "keras: '{p}' with output_padding",
    "op.keras_same_no_output_padding": "keras: 'same', no output_padding",
    "op.keras_valid_no_output_padding": "keras: 'valid', no output_padding",
    "op.key_input": "key input",
    "op.mask_activation_dtype_cpu": "mask in the activation dtype (CPU)",
    "op.mean_inverse_std": "mean and inverse std",
    "op.mean_variance_count_non_trainable": "mean, variance and count (non-trainable)",
    "op.mean_variance_given_as_constants": "mean and variance given as constants: Keras keeps no weights",
    "op.misaligned_merge": "misaligned merge: its inputs' receptive fields do not line up ({problems}); the "
                           "largest path's receptive field is shown",
    "op.multiply_add": "multiply, add",
    "op.must_whole_number_tuple_before": "{name} must be a whole number >= 0, a tuple of {n}, or {n} (before, "
                                         "after) pairs, got {v}",
    "op.needs_input_channels_spatial_dims": "{what} needs an input with channels and spatial dims, got {x}",
    "op.no_matrix_product": ": no matrix product",
    "op.no_weights": "no weights",
    "op.one_add_compare_per_element": "{name}: one add or compare per element",
    "op.one_kernel_per_input_channel": "one {ktxt} kernel per input channel and multiplier",
    "op.one_multiply": "one multiply",
    "op.one_slope_per_channel": "one slope per channel ({c})",
    "op.one_slope_pytorch_default_num": "one slope (PyTorch default num_parameters=1)",
    "op.one_slope_shared_by_all": "one slope shared by all channels",
    "op.onnx_auto_pad_same": "onnx: auto_pad SAME",
    "op.onnx_convtranspose": "onnx: ConvTranspose",
    "op.output_place": "output (in place)",
    "op.output_size_bin_i_covers": "output_size; bin i covers [floor(i*{L}/{o}), ceil((i+1)*{L}/{o}))",
    "op.per_row_n_compares_max": "per row: n-1 compares (max), n subtracts, n exps, n-1 adds, 1 log, n subtracts",
    "op.plus_gamma_beta": ", plus gamma/beta",
    "op.products_matrix_products_elementwise_work": "the products of the matrix products; elementwise work counts "
                                                    "in FLOPs only",
    "op.products_sums_started": "{macs:,} products - {p:,} sums started",
    "op.projected_key": "projected key",
    "op.projected_query": "projected query",
    "op.projected_value": "projected value",
    "op.pytorch_convtranspose": "pytorch: ConvTranspose",
    "op.pytorch_default_affine_false": "PyTorch default affine=False",
    "op.query_input": "query input",
    "op.query_key_value_output_projections": "query, key, value and output projections",
    "op.receptive_field_not_tracked_from": "receptive field not tracked from here: its numbers exceed "
                                           "10^{MAX_RF_DIGITS}",
    "op.rf_global_this_layer_sees": "rf: global (this layer sees its whole input)",
    "op.rf_problem": "{dim}: strides {strides}; centres {centres}",
    "op.rf_r_stride_padding_centre": "rf_{dim}: r = {r1}; stride = {j0}/{s} = {j1}; padding = {P1}; centre = {c}  "
                                     "({kind}: the stride divides)",
    "op.runs_on_each_time_step": "{kind} runs on each time step: the {x} steps of {x2} sample(s) as one batch",
    "op.scale_one_per_feature": "scale: one per feature ({d})",
    "op.semicolon_join": "{a}; {b}",
    "op.size_cropped_before_cropped_after": "size - cropped before - cropped after",
    "op.size_given": "size given",
    "op.statistics_computed_inference": "statistics computed at inference",
    "op.subtract_multiply_by_std": "subtract, multiply by 1/std",
    "op.sum_above": "sum of the above",
    "op.summed_over_features": ", summed over the features",
    "op.then_times_scalar_scale_flop": ", then times the scalar scale (1 FLOP per score)",
    "op.times_concat_score_weight": ", times concat_score_weight",
    "op.times_scale": ", times scale",
    "op.token_ids": "token ids",
    "op.use_scale_false_no_weights": "use_scale=False: no weights",
    "op.value_input": "value input",
    "op.weighted_taps_per_output": "{mode}: {p} weighted taps per output",
    "op.x_x_one_multiply_one": "x[0] + x[1] * {scale:g}: one multiply, one add",
}
