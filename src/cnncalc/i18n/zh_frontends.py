"""Chinese message templates: model front-ends: ONNX, Keras, PyTorch (same keys in en_frontends.py)."""

MESSAGES = {
    "err.onnx.average_pooling_dilations_has_no": "带空洞（dilations）的平均池化在算子层没有公式",
    "err.onnx.cannot_read_onnx_model": "无法读取 ONNX 模型 {path}：{e}",
    "err.onnx.input_dimension_fixed_model_size": "输入 '{name}' 的第 {i} 维在模型里固定为 {v}；给出的尺寸是 {g}（{p}）",
    "err.onnx.input_dimension_here_but_another": "输入 '{name}' 的第 {i} 维（'{p}'）这里是 {g}，另一个输入里却是 {symbols}：同名的维必须一致",
    "err.onnx.input_dimension_needs_value_pass": "输入 '{name}' 的第 {i} 维（{what}）需要一个值：请传 --input {ex}（在 Python 里 "
                                                 "input_size={ex2}）{p}",
    "err.onnx.input_has_dimensions_size_given": "输入 '{name}' 有 {dims} 维（{p}）；给出的尺寸有 {given} 维：{p2}",
    "err.onnx.input_has_no_shape_model": "输入 '{name}' 在模型里没有形状：请给出尺寸，例如 --input 1x3x224x224（在 Python 里 "
                                         "input_size=(1, 3, 224, 224)）",
    "err.onnx.input_not_tensor_cnncalc_analyses": "输入 '{name}' 是{what}，不是张量：cnncalc 只分析输入为张量的模型（尺寸无法描述它）",
    "err.onnx.input_size_names_which_not": "input_size 中的 {unknown} 不是模型的输入；模型的输入有：{p}",
    "err.onnx.input_sizes_given_but_model": "给了 {seq} 个输入尺寸，但模型有 {names} 个输入：{p}",
    "err.onnx.input_sizes_must_whole_numbers": "输入 '{n}'：尺寸必须是 >= 1 的整数，却是 {s}",
    "err.onnx.input_sizes_must_whole_numbers_2": "输入 '{name}'：尺寸必须是 >= 1 的整数，却是 {given}",
    "err.onnx.no_such_onnx_file": "没有这个 ONNX 文件：{path}",
    "err.onnx.node_reshapes_elements_model_does": "节点 '{p}' 把 {x}（{x2:,} 个元素）改形为 {o}（{o2:,} "
                                                  "个）：模型在这些输入尺寸下无法运行（导出工具可能把输入声明为动态的一维固定了；请试试导出时用的尺寸）",
    "err.onnx.reading_onnx_models_needs_onnx": "读取 ONNX 模型需要 onnx 包：pip install 'cnncalc[onnx]'（或 pip install onnx）",
    "fe.onnx_inputs_in_order": "；模型的输入依次为：{names}",
    "fe.onnx_map": "映射（map）",
    "fe.onnx_optional": "可选值（optional）",
    "fe.onnx_sequence": "序列（sequence）",
    "fe.onnx_sparse": "稀疏张量",
    "fe.unnamed": "未命名",
}
