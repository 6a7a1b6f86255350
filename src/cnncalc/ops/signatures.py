"""Framework class spellings: ``Conv2d(3, 64, 3)`` is PyTorch's ``nn.Conv2d(in_channels, out_channels, kernel_size)``.

cnncalc's own spellings (lowercase: ``conv2d(64, 3)``) take its own argument order, output channels first.  A
layer written with a framework's class name -- case-sensitive, with or without ``nn.`` / ``torch.nn.`` /
``layers.`` / ``keras.layers.`` -- takes that class's signature instead, so code pasted from PyTorch or Keras
means what it means there.  A signature lists the framework's positional arguments in order; each name is an
argument of the op (or an alias of one), or one the framework has and cnncalc does not need (``inplace``,
``device``, ``name``, initializers: accepted and ignored).  ``declared`` names the argument that states the
input's channels or features (checked against the real input).
"""
from __future__ import annotations

from dataclasses import dataclass, field

PYTORCH = "pytorch"
KERAS = "keras"
PREFIXES = {"nn": PYTORCH, "torch.nn": PYTORCH, "torch.nn.modules": PYTORCH,
            "layers": KERAS, "keras.layers": KERAS, "tf.keras.layers": KERAS, "tensorflow.keras.layers": KERAS,
            "keras": KERAS, "tf.keras": KERAS, "tensorflow.keras": KERAS}
#: names of a whole sequential model, as pasted (the last part of a dotted name)
SEQUENTIAL = "Sequential"

_TORCH_IGNORED = ("inplace", "device", "dtype", "padding_mode")
_KERAS_IGNORED = ("name", "trainable", "dtype", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                  "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
                  "depthwise_initializer", "pointwise_initializer", "recurrent_initializer",
                  "embeddings_initializer", "beta_initializer", "gamma_initializer", "moving_mean_initializer",
                  "moving_variance_initializer", "seed", "noise_shape", "input_shape", "unit_forget_bias",
                  "recurrent_dropout", "mask_zero", "interpolation", "data_format", "init", "dim_ordering",
                  "W_regularizer", "b_regularizer", "weights")


@dataclass(frozen=True)
class Signature:
    framework: str
    cls: str                                 # the class name as the framework spells it
    kind: str                                # cnncalc's op kind
    positional: tuple[str, ...]              # the framework's positional arguments, in order
    defaults: tuple = ()                     # (framework argument, value): defaults unlike cnncalc's
    ignored: tuple[str, ...] = ()
    declared: str | None = None              # the argument declaring the input's channels / features
    extra: dict = field(default_factory=dict, compare=False)

    def order(self, n: int = 3) -> str:
        return ", ".join(self.positional[:n])


SIGNATURES: dict[tuple[str, str], Signature] = {}


def _add(framework, classes, kind, positional, *, defaults=(), declared=None, ignored=()):
    base = _TORCH_IGNORED if framework == PYTORCH else _KERAS_IGNORED
    for i, cls in enumerate(classes):
        k = kind(i) if callable(kind) else kind
        SIGNATURES[(framework, cls)] = Signature(framework, cls, k, tuple(positional), tuple(defaults),
                                                 tuple(base) + tuple(ignored), declared)


# ----------------------------------------------------------------------------------------------- PyTorch
_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias")
_add(PYTORCH, ("Conv1d", "Conv2d", "Conv3d"), lambda i: f"conv{i + 1}d", _CONV, declared="in_channels")
_add(PYTORCH, ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"), lambda i: f"convtranspose{i + 1}d",
     ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias",
      "dilation"), declared="in_channels")
_add(PYTORCH, ("Linear",), "dense", ("in_features", "out_features", "bias"), declared="in_features")
_add(PYTORCH, ("MaxPool1d", "MaxPool2d", "MaxPool3d"), lambda i: f"maxpool{i + 1}d",
     ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"))
_add(PYTORCH, ("AvgPool1d", "AvgPool2d", "AvgPool3d"), lambda i: f"avgpool{i + 1}d",
     ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"))
_add(PYTORCH, ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"), lambda i: f"adaptiveavgpool{i + 1}d",
     ("output_size",))
_add(PYTORCH, ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"), lambda i: f"adaptivemaxpool{i + 1}d",
     ("output_size", "return_indices"))
_add(PYTORCH, ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"), lambda i: f"batchnorm{i + 1}d",
     ("num_features", "eps", "momentum", "affine", "track_running_stats"), declared="num_features")
_add(PYTORCH, ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"), lambda i: f"instancenorm{i + 1}d",
     ("num_features", "eps", "momentum", "affine", "track_running_stats"), declared="num_features")
_add(PYTORCH, ("LayerNorm",), "layernorm", ("normalized_shape", "eps", "elementwise_affine", "bias"))
_add(PYTORCH, ("GroupNorm",), "groupnorm", ("num_groups", "num_channels", "eps", "affine"))
_add(PYTORCH, ("Embedding",), "embedding", ("num_embeddings", "embedding_dim", "padding_idx", "max_norm"),
     ignored=("norm_type", "scale_grad_by_freq", "sparse"))
_add(PYTORCH, ("LSTM",), "lstm", ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                  "bidirectional", "proj_size"), declared="input_size")
_add(PYTORCH, ("GRU",), "gru", ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                "bidirectional"), declared="input_size")
_add(PYTORCH, ("RNN",), "rnn", ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
                                "dropout", "bidirectional"), declared="input_size")
_add(PYTORCH, ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"), "dropout", ("p",))
for _cls, _kind in (("ReLU", "relu"), ("ReLU6", "relu6"), ("SiLU", "silu"), ("Hardswish", "hardswish"),
                    ("Hardsigmoid", "hardsigmoid"), ("Mish", "mish"), ("SELU", "selu")):
    _add(PYTORCH, (_cls,), _kind, ("inplace",))
_add(PYTORCH, ("Sigmoid",), "sigmoid", ())
_add(PYTORCH, ("Tanh",), "tanh", ())
_add(PYTORCH, ("GELU",), "gelu", ("approximate",))
_add(PYTORCH, ("LeakyReLU",), "leakyrelu", ("negative_slope", "inplace"))
_add(PYTORCH, ("ELU",), "elu", ("alpha", "inplace"))
_add(PYTORCH, ("PReLU",), "prelu", ("num_parameters", "init"))
_add(PYTORCH, ("Softmax",), "softmax", ("dim",))
_add(PYTORCH, ("LogSoftmax",), "logsoftmax", ("dim",))
_add(PYTORCH, ("Flatten",), "flatten", ("start_dim", "end_dim"))
_add(PYTORCH, ("Identity",), "identity", ())
_add(PYTORCH, ("Upsample",), "upsample", ("size", "scale_factor", "mode", "align_corners"))
_add(PYTORCH, ("ZeroPad1d", "ZeroPad2d", "ZeroPad3d"), lambda i: f"zeropad{i + 1}d", ("padding",))

# ----------------------------------------------------------------------------------------------- Keras
_KCONV = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
          "use_bias")
_add(KERAS, ("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D"),
     lambda i: f"conv{i % 3 + 1}d", _KCONV)
#: Keras 1 (seed 003): Convolution2D(nb_filter, nb_row, nb_col, ...) -- three whole numbers: a 5x5 kernel is '5, 5'
KERAS1_CONV2D = Signature(KERAS, "Convolution2D", "conv2d", ("nb_filter", "nb_row", "nb_col"), (),
                          _KERAS_IGNORED, None, {"keras1": True})
_add(KERAS, ("Conv1DTranspose", "Conv2DTranspose"), lambda i: f"convtranspose{i + 1}d",
     ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate",
      "activation", "use_bias"))
_add(KERAS, ("Conv3DTranspose",), "convtranspose3d",
     ("filters", "kernel_size", "strides", "padding", "data_format", "output_padding", "dilation_rate",
      "activation", "use_bias"))
_add(KERAS, ("DepthwiseConv1D", "DepthwiseConv2D"), lambda i: f"depthwiseconv{i + 1}d",
     ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation",
      "use_bias"))
_add(KERAS, ("SeparableConv1D", "SeparableConv2D"), lambda i: f"separableconv{i + 1}d",
     ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
      "activation", "use_bias"))
_add(KERAS, ("Dense",), "dense", ("units", "activation", "use_bias"))
_add(KERAS, ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D"),
     lambda i: f"maxpool{i % 3 + 1}d", ("pool_size", "strides", "padding", "data_format"),
     defaults=(("pool_size", 2),))
_add(KERAS, ("AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D"),
     lambda i: f"avgpool{i % 3 + 1}d", ("pool_size", "strides", "padding", "data_format"),
     defaults=(("pool_size", 2),))
_add(KERAS, ("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"),
     lambda i: f"globalavgpool{i + 1}d", ("data_format", "keepdims"))
_add(KERAS, ("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"),
     lambda i: f"globalmaxpool{i + 1}d", ("data_format", "keepdims"))
_add(KERAS, ("BatchNormalization",), "batchnorm", ("axis", "momentum", "epsilon", "center", "scale"))
_add(KERAS, ("LayerNormalization",), "layernorm", ("axis", "epsilon", "center", "scale"))
_add(KERAS, ("Embedding",), "embedding", ("input_dim", "output_dim"))
_add(KERAS, ("LSTM",), "lstm", ("units", "activation", "recurrent_activation", "use_bias"))
_add(KERAS, ("GRU",), "gru", ("units", "activation", "recurrent_activation", "use_bias"))
_add(KERAS, ("SimpleRNN",), "rnn", ("units", "activation", "use_bias"))
_add(KERAS, ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"), "dropout", ("rate",))
_add(KERAS, ("Flatten",), "flatten", ("data_format",))
_add(KERAS, ("Activation",), "activation", ("activation",))
_add(KERAS, ("Softmax",), "softmax", ("axis",))
_add(KERAS, ("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"), lambda i: f"zeropad{i + 1}d", ("padding",),
     defaults=(("padding", 1),))
_add(KERAS, ("UpSampling1D", "UpSampling2D", "UpSampling3D"), lambda i: f"upsampling{i + 1}d", ("size",))
_add(KERAS, ("Reshape",), "reshape", ("target_shape",))

#: class names that PyTorch and Keras share: the prefix decides, else the rule in find()
SHARED = {cls for fw, cls in SIGNATURES if (PYTORCH if fw == KERAS else KERAS, cls) in SIGNATURES}


def split_class(name: str) -> tuple[str | None, str]:
    """('pytorch' / 'keras' / None, class) of a dotted spelling: 'nn.Conv2d' -> ('pytorch', 'Conv2d')."""
    prefix, dot, last = name.rpartition(".")
    if not dot:
        return None, name
    return PREFIXES.get(prefix), last


def find(cls: str, framework: str | None = None, n_positional: int = 0) -> Signature | None:
    """The signature a layer written ``cls`` takes (None: cnncalc's own order).

    A class both frameworks have (LSTM, GRU, Embedding, Dropout, ...) follows the prefix that came with it
    (``nn.`` or ``layers.``); written bare, LSTM / GRU with one positional argument are Keras' (units), with
    two or more PyTorch's (input_size, hidden_size); the others read alike in both.
    """
    if cls == "Convolution2D" and n_positional >= 3 and framework in (None, KERAS):
        return KERAS1_CONV2D
    if framework is not None:
        return SIGNATURES.get((framework, cls))
    if cls in SHARED:
        if cls in ("LSTM", "GRU") and n_positional <= 1:
            return SIGNATURES[(KERAS, cls)]
        return SIGNATURES[(PYTORCH, cls)]
    return SIGNATURES.get((PYTORCH, cls)) or SIGNATURES.get((KERAS, cls))


def for_call(call) -> Signature | None:
    """The signature of a layer call (its kind as written, its framework from a stripped prefix)."""
    kind = call.kind
    if not kind[:1].isupper():                       # cnncalc's own spellings: no framework signature
        return None
    extra = getattr(call, "extra", None) or {}
    return find(kind, extra.get("framework"), len(call.positional()))
