"""Each convention against its framework.

* Keras: every expectation comes from keras itself (KERAS_BACKEND=torch), layer by
  layer: output shape (batch dropped), count_params(), trainable / non-trainable.
* Caffe and ONNX: hand arithmetic from the frameworks' own formulas, each with its
  source next to it (neither framework is installed here).
* PyTorch: torch itself where the rule is PyTorch's (ceil_mode, 'same', BatchNorm, RNNs).

Runtime is dominated by building keras models (~20-50 ms each).
"""
from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"   # before keras is imported anywhere in this process

import math
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import SpecError


# --------------------------------------------------------------------------- helpers

class Row(NamedTuple):
    shape: tuple          # output shape of one sample (batch dropped)
    params: int
    trainable: int
    non_trainable: int


def _keras():
    keras = pytest.importorskip("keras")
    return keras, keras.layers


def keras_rows(input_shape, make_layers) -> list[Row]:
    """Build keras.Sequential([Input(shape), *make_layers(layers)]) and read every layer."""
    keras, layers = _keras()
    model = keras.Sequential([keras.Input(shape=tuple(input_shape))] + list(make_layers(layers)))
    rows = []
    for layer in model.layers:
        out = tuple(layer.output.shape)
        assert out[0] is None
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)        # = w.numpy().size
        non_trainable = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
        assert layer.count_params() == trainable + non_trainable
        rows.append(Row(tuple(int(d) for d in out[1:]), layer.count_params(), trainable, non_trainable))
    return rows


def spec_of(input_shape, layers_spec: str) -> str:
    return f"input({', '.join(str(d) for d in input_shape)}) | {layers_spec}"


def cnn_rows(input_shape, layers_spec: str, convention: str = "keras") -> list[Row]:
    report = cnncalc.analyze(spec_of(input_shape, layers_spec), convention=convention)
    rows = []
    for layer in report.layers:
        assert layer.output_shape[0] == 1
        assert layer.params == layer.trainable_params + layer.non_trainable_params
        rows.append(Row(tuple(layer.output_shape[1:]), layer.params, layer.trainable_params,
                        layer.non_trainable_params))
    return rows


def check_keras(input_shape, layers_spec: str, make_layers):
    """cnncalc == keras layer by layer; where keras refuses the model, cnncalc must raise SpecError."""
    try:
        expected = keras_rows(input_shape, make_layers)
    except ValueError as keras_error:         # e.g. "Computed output size would be zero or negative"
        with pytest.raises(SpecError):
            cnn_rows(input_shape, layers_spec)
        return keras_error
    got = cnn_rows(input_shape, layers_spec)
    assert got == expected, f"{spec_of(input_shape, layers_spec)}\n keras:   {expected}\n cnncalc: {got}"


def one(spec_text: str, convention: str, index: int = -1):
    """One layer's report."""
    return cnncalc.analyze(spec_text, convention=convention).layers[index]


def out_hw(spec_text: str, convention: str) -> tuple:
    """Spatial output dims of the last layer of a channels-first spec."""
    return tuple(one(spec_text, convention).output_shape[2:])


# =========================================================================== 1. Keras vs keras

# ---- convolutions: valid/same, strides, odd sizes, dilation, groups -----------------------

def _conv_cases():
    cases = []
    # (nd, input shape) -- odd/even mixes so SAME has an odd total pad somewhere
    inputs = {1: (11, 4), 2: (9, 10, 4), 3: (7, 6, 5, 2)}
    for nd, shape in inputs.items():
        for padding in ("valid", "same"):
            for k in (1, 2, 3, 4):
                for s in (1, 2, 3):
                    if nd == 3 and k == 4 and s == 1:
                        continue                                   # keep the 3-d grid small
                    cases.append((nd, shape, padding, k, s, 1, 1))
            for d in (2, 3):                                        # dilation (keras: only with stride 1)
                cases.append((nd, shape, padding, 3, 1, d, 1))
            cases.append((nd, shape, padding, 3, 2, 1, 2))          # groups
            cases.append((nd, shape, padding, 2, 1, 2, 4 if nd < 3 else 2))
    return cases


@pytest.mark.parametrize("nd,shape,padding,k,s,d,g", _conv_cases(),
                         ids=lambda v: str(v) if not isinstance(v, tuple) else "x".join(map(str, v)))
def test_keras_conv(nd, shape, padding, k, s, d, g):
    check_keras(shape, f"conv{nd}d(8, {k}, strides={s}, padding={padding}, dilation_rate={d}, groups={g})",
                lambda L: [getattr(L, f"Conv{nd}D")(8, k, strides=s, padding=padding, dilation_rate=d, groups=g)])


def test_keras_conv_rectangular_and_no_bias():
    check_keras((13, 8, 3), "conv2d(filters=5, kernel_size=(3, 2), strides=(2, 3), padding=same, use_bias=false)",
                lambda L: [L.Conv2D(5, (3, 2), strides=(2, 3), padding="same", use_bias=False)])
    check_keras((13, 3), "conv1d(4, 3, padding=causal, dilation_rate=2)",
                lambda L: [L.Conv1D(4, 3, padding="causal", dilation_rate=2)])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")      # keras' numpy conversion under numpy 2
@pytest.mark.parametrize("L,k,s", [(6, 2, 1), (6, 4, 1), (6, 3, 2), (6, 4, 2), (7, 4, 3), (6, 5, 3), (6, 6, 4)])
def test_keras_same_puts_the_odd_pixel_bottom_right(L, k, s):
    """Which side gets SAME's extra pixel, read from keras' numbers, not its shapes.

    A one-hot kernel (tap 0 = 1) on x = 1..L makes output j equal x[j*s - pad_before]
    (0 inside the padding), so pad_before = j*s + 1 - y[j] for any y[j] > 0.
    tensorflow/core/framework/kernel_shape_util.cc: pad_before = total // 2, the rest after.
    """
    keras, layers = _keras()
    import numpy as np

    conv = layers.Conv1D(1, k, strides=s, padding="same", use_bias=False)
    model = keras.Sequential([keras.Input(shape=(L, 1)), conv])
    w = np.zeros((k, 1, 1), "float32")
    w[0, 0, 0] = 1
    conv.set_weights([w])
    x = np.arange(1, L + 1, dtype="float32").reshape(1, L, 1)
    y = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0))).ravel()
    j = len(y) - 1
    assert y[j] > 0
    keras_before = int(j * s + 1 - y[j])
    out = -(-L // s)
    total = max((out - 1) * s + k - L, 0)
    assert cnncalc.same_padding(L, k, s) == (keras_before, total - keras_before)
    assert keras_before == total // 2                       # the extra pixel goes after
    layer = one(f"input({L}, 1) | conv1d(1, {k}, strides={s}, padding=same)", "keras", 0)
    assert layer.rf.padding == (keras_before,)              # the analysis uses the same side


# ---- pooling --------------------------------------------------------------------------------

def _pool_cases():
    cases = []
    for kind in ("MaxPooling2D", "AveragePooling2D"):
        for padding in ("valid", "same"):
            for k in (2, 3, 4):
                for s in (None, 1, 2, 3, 5):
                    if s == k:
                        continue
                    cases.append((kind, padding, k, s))
    return cases


@pytest.mark.parametrize("kind,padding,k,s", _pool_cases())
def test_keras_pool(kind, padding, k, s):
    strides = "" if s is None else f", strides={s}"
    check_keras((7, 9, 2), f"{kind.lower()}({k}{strides}, padding={padding})",
                lambda L: [getattr(L, kind)(k, strides=s, padding=padding)])


@pytest.mark.parametrize("nd,shape", [(1, (9, 2)), (3, (5, 6, 7, 2))])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_keras_pool_1d_3d(nd, shape, padding):
    check_keras(shape, f"maxpooling{nd}d(2, strides=3, padding={padding}) | averagepooling{nd}d(2, strides=1, "
                       f"padding={padding})",
                lambda L: [getattr(L, f"MaxPooling{nd}D")(2, strides=3, padding=padding),
                           getattr(L, f"AveragePooling{nd}D")(2, strides=1, padding=padding)])


def test_keras_pool_rectangular():
    check_keras((7, 8, 2), "maxpooling2d(pool_size=(3, 2), strides=(2, 3), padding=same)",
                lambda L: [L.MaxPooling2D((3, 2), strides=(2, 3), padding="same")])


# ---- Conv2DTranspose ------------------------------------------------------------------------

def _transposed_cases():
    cases = []
    for padding in ("valid", "same"):
        for s in (1, 2, 3):
            for k in (1, 2, 3, 4, 5):
                for op in [None] + list(range(s)):       # keras: output_padding < stride
                    cases.append((padding, k, s, op))
    return cases


@pytest.mark.parametrize("padding,k,s,op", _transposed_cases())
def test_keras_conv2d_transpose(padding, k, s, op):
    opt = "" if op is None else f", output_padding={op}"
    check_keras((5, 6, 3), f"conv2dtranspose(4, {k}, strides={s}, padding={padding}{opt})",
                lambda L: [L.Conv2DTranspose(4, k, strides=s, padding=padding, output_padding=op)])


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_keras_conv_transpose_1d_3d_dilated(padding):
    check_keras((5, 3), f"conv1dtranspose(4, 3, strides=1, padding={padding}, dilation_rate=2)",
                lambda L: [L.Conv1DTranspose(4, 3, strides=1, padding=padding, dilation_rate=2)])
    check_keras((3, 4, 5, 2), f"conv3dtranspose(2, (2, 3, 4), strides=(2, 1, 3), padding={padding})",
                lambda L: [L.Conv3DTranspose(2, (2, 3, 4), strides=(2, 1, 3), padding=padding)])


# ---- depthwise / separable ------------------------------------------------------------------

@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("k,s,m", [(3, 1, 1), (3, 2, 2), (4, 2, 3), (1, 1, 2), (5, 3, 1)])
def test_keras_depthwise_separable(padding, k, s, m):
    check_keras((9, 8, 3), f"depthwiseconv2d({k}, depth_multiplier={m}, strides={s}, padding={padding})",
                lambda L: [L.DepthwiseConv2D(k, depth_multiplier=m, strides=s, padding=padding)])
    check_keras((9, 8, 3), f"separableconv2d(5, {k}, depth_multiplier={m}, strides={s}, padding={padding})",
                lambda L: [L.SeparableConv2D(5, k, depth_multiplier=m, strides=s, padding=padding)])


def test_keras_depthwise_separable_1d_no_bias_dilated():
    check_keras((9, 3), "depthwiseconv1d(3, depth_multiplier=2, use_bias=false, dilation_rate=2)",
                lambda L: [L.DepthwiseConv1D(3, depth_multiplier=2, use_bias=False, dilation_rate=2)])
    check_keras((9, 3), "separableconv1d(4, 3, strides=2, padding=same, use_bias=false)",
                lambda L: [L.SeparableConv1D(4, 3, strides=2, padding="same", use_bias=False)])


# ---- dense, norms, embedding ----------------------------------------------------------------

@pytest.mark.parametrize("shape,bias", [((10,), True), ((5, 10), True), ((4, 5, 10), False), ((3, 10), False)])
def test_keras_dense_any_rank(shape, bias):
    check_keras(shape, f"dense(7, use_bias={bias})", lambda L: [L.Dense(7, use_bias=bias)])


@pytest.mark.parametrize("shape,args,kwargs", [
    ((8, 8, 6), "", {}),
    ((8, 6), "", {}),
    ((6,), "", {}),
    ((8, 5, 6), "(axis=1)", {"axis": 1}),
    ((8, 8, 6), "(center=false)", {"center": False}),
    ((8, 8, 6), "(scale=false, center=false)", {"scale": False, "center": False}),
])
def test_keras_batchnorm(shape, args, kwargs):
    # keras: gamma, beta trainable; moving_mean, moving_variance non-trainable -> 4C, 2C non-trainable
    check_keras(shape, f"batchnormalization{args}", lambda L: [L.BatchNormalization(**kwargs)])


@pytest.mark.parametrize("shape,args,kwargs", [
    ((8, 8, 6), "", {}),
    ((8, 8, 6), "(axis=(1, 2, 3))", {"axis": [1, 2, 3]}),
    ((8, 8, 6), "(center=false)", {"center": False}),
    ((8, 8, 6), "(scale=false)", {"scale": False}),
    ((7, 6), "(axis=1)", {"axis": 1}),
])
def test_keras_layernorm(shape, args, kwargs):
    check_keras(shape, f"layernormalization{args}", lambda L: [L.LayerNormalization(**kwargs)])


@pytest.mark.parametrize("shape", [(10,), (3, 10)])
def test_keras_embedding(shape):
    check_keras(shape, "embedding(1000, 16)", lambda L: [L.Embedding(1000, 16)])
    check_keras(shape, "embedding(input_dim=50, output_dim=8, mask_zero=true)",
                lambda L: [L.Embedding(input_dim=50, output_dim=8, mask_zero=True)])


# ---- recurrent ------------------------------------------------------------------------------

def _rnn_cases():
    cases = []
    for kind in ("SimpleRNN", "LSTM", "GRU"):
        for rs in (False, True):
            for bidir in (False, True):
                for extra in ([{}] if kind != "GRU" else [{}, {"reset_after": True}, {"reset_after": False}]):
                    cases.append((kind, rs, bidir, True, extra))
        cases.append((kind, False, False, False, {}))           # use_bias=False
    cases.append(("GRU", True, True, False, {"reset_after": False}))
    return cases


@pytest.mark.parametrize("kind,rs,bidir,bias,extra", _rnn_cases())
def test_keras_recurrent(kind, rs, bidir, bias, extra):
    kw = "".join(f", {k}={v}" for k, v in extra.items())
    spec = f"{kind.lower()}(6, return_sequences={rs}, use_bias={bias}{kw}{', bidirectional=true' if bidir else ''})"

    def make(L):
        cell = getattr(L, kind)(6, return_sequences=rs, use_bias=bias, **extra)
        return [L.Bidirectional(cell) if bidir else cell]     # Bidirectional: merge_mode='concat'

    check_keras((7, 5), spec, make)


def test_keras_stacked_recurrent():
    check_keras((7, 5), "lstm(6, return_sequences=true, bidirectional=true) | gru(3, bidirectional=true) | dense(2)",
                lambda L: [L.Bidirectional(L.LSTM(6, return_sequences=True)), L.Bidirectional(L.GRU(3)),
                           L.Dense(2)])
    check_keras((12,), "embedding(100, 8) | simplernn(4, return_sequences=true) | lstm(5)",
                lambda L: [L.Embedding(100, 8), L.SimpleRNN(4, return_sequences=True), L.LSTM(5)])


def test_keras_lstm_seed_formula():
    """Seed example: Keras LSTM params = 4*(u*(I+u) + u)  (one bias vector per gate)."""
    u, I = 6, 5
    expected = 4 * (u * (I + u) + u)                         # 4*(6*11 + 6) = 288
    assert expected == 288
    assert keras_rows((7, I), lambda L: [L.LSTM(u)])[0].params == expected
    assert one(f"input(7, {I}) | lstm({u})", "keras").params == expected
    assert cnncalc.recurrent_params("lstm", I, u, convention="keras") == expected


# ---- global pooling, upsampling, zero padding, PReLU -----------------------------------------

@pytest.mark.parametrize("shape,spec,make", [
    ((8, 6, 3), "globalaveragepooling2d", lambda L: [L.GlobalAveragePooling2D()]),
    ((8, 6, 3), "globalmaxpooling2d", lambda L: [L.GlobalMaxPooling2D()]),
    ((8, 6, 3), "globalaveragepooling2d(keepdims=true)", lambda L: [L.GlobalAveragePooling2D(keepdims=True)]),
    ((8, 3), "globalaveragepooling1d", lambda L: [L.GlobalAveragePooling1D()]),
    ((4, 8, 6, 3), "globalaveragepooling3d", lambda L: [L.GlobalAveragePooling3D()]),
    ((8, 6, 3), "upsampling2d", lambda L: [L.UpSampling2D()]),
    ((8, 6, 3), "upsampling2d((2, 3))", lambda L: [L.UpSampling2D((2, 3))]),
    ((8, 6, 3), "upsampling2d(size=3, interpolation=bilinear)", lambda L: [L.UpSampling2D(3, interpolation="bilinear")]),
    ((8, 3), "upsampling1d(3)", lambda L: [L.UpSampling1D(3)]),
    ((2, 3, 4, 3), "upsampling3d((1, 2, 3))", lambda L: [L.UpSampling3D((1, 2, 3))]),
    ((8, 6, 3), "zeropadding2d", lambda L: [L.ZeroPadding2D()]),
    ((8, 6, 3), "zeropadding2d(2)", lambda L: [L.ZeroPadding2D(2)]),
    ((8, 6, 3), "zeropadding2d((1, 2))", lambda L: [L.ZeroPadding2D((1, 2))]),
    ((8, 6, 3), "zeropadding2d(((1, 2), (3, 4)))", lambda L: [L.ZeroPadding2D(((1, 2), (3, 4)))]),
    ((8, 3), "zeropadding1d(2)", lambda L: [L.ZeroPadding1D(2)]),
    ((8, 3), "zeropadding1d((1, 2))", lambda L: [L.ZeroPadding1D((1, 2))]),       # (left, right)
    ((2, 3, 4, 3), "zeropadding3d((1, 2, 3))", lambda L: [L.ZeroPadding3D((1, 2, 3))]),
    ((2, 3, 4, 3), "zeropadding3d(((1, 0), (2, 0), (0, 3)))",
     lambda L: [L.ZeroPadding3D(((1, 0), (2, 0), (0, 3)))]),
    ((8, 6, 3), "prelu", lambda L: [L.PReLU()]),                                   # one alpha per element
    ((8, 6, 3), "prelu(shared_axes=[1, 2])", lambda L: [L.PReLU(shared_axes=[1, 2])]),   # -> C
    ((8, 6, 3), "prelu(shared_axes=(1, 2, 3))", lambda L: [L.PReLU(shared_axes=[1, 2, 3])]),
    ((8, 3), "prelu", lambda L: [L.PReLU()]),
])
def test_keras_misc(shape, spec, make):
    check_keras(shape, spec, make)


def test_prelu_shared_axes_gives_channels():
    assert one("input(8, 6, 3) | prelu(shared_axes=[1, 2])", "keras").params == 3
    assert one("input(8, 6, 3) | prelu", "keras").params == 8 * 6 * 3


def test_keras_whole_model_from_the_readme():
    check_keras((28, 28, 1),
                "conv2d(32, 5, padding=same, strides=2) | maxpooling2d(2) | batchnormalization | flatten | dense(10)",
                lambda L: [L.Conv2D(32, 5, padding="same", strides=2), L.MaxPooling2D(2), L.BatchNormalization(),
                           L.Flatten(), L.Dense(10)])
    check_keras((32, 32, 3),
                "conv2d(16, 3, activation=relu) | zeropadding2d(1) | depthwiseconv2d(3, strides=2) | "
                "separableconv2d(24, 3, padding=same) | conv2dtranspose(8, 3, strides=2, padding=same) | "
                "globalaveragepooling2d | dense(10, activation=softmax)",
                lambda L: [L.Conv2D(16, 3, activation="relu"), L.ZeroPadding2D(1), L.DepthwiseConv2D(3, strides=2),
                           L.SeparableConv2D(24, 3, padding="same"),
                           L.Conv2DTranspose(8, 3, strides=2, padding="same"), L.GlobalAveragePooling2D(),
                           L.Dense(10, activation="softmax")])


def test_tensorflow_is_an_alias_of_keras():
    a = cnncalc.analyze("input(28, 28, 1) | conv2d(8, 3, strides=2, padding=same)", convention="tensorflow")
    assert a.convention == "keras" and a.layers[0].output_shape == (1, 14, 14, 8)


# ---- property test: random conv/pool chains ------------------------------------------------

_layer = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same"])),
    st.tuples(st.just("maxpool"), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same"])),
    st.tuples(st.just("avgpool"), st.integers(1, 3), st.integers(1, 4), st.sampled_from(["valid", "same"])),
    st.tuples(st.just("tconv"), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same"])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 12), w=st.integers(1, 12), chain=st.lists(_layer, min_size=1, max_size=3))
def test_keras_random_chains(h, w, chain):
    _keras()
    specs, makers = [], []
    for kind, k, s, pad in chain:
        if kind == "conv":
            specs.append(f"conv2d(3, {k}, strides={s}, padding={pad})")
            makers.append(lambda L, k=k, s=s, pad=pad: L.Conv2D(3, k, strides=s, padding=pad))
        elif kind == "tconv":
            specs.append(f"conv2dtranspose(3, {k}, strides={s}, padding={pad})")
            makers.append(lambda L, k=k, s=s, pad=pad: L.Conv2DTranspose(3, k, strides=s, padding=pad))
        else:
            name = "MaxPooling2D" if kind == "maxpool" else "AveragePooling2D"
            specs.append(f"{name.lower()}({k}, strides={s}, padding={pad})")
            makers.append(lambda L, k=k, s=s, pad=pad, name=name: getattr(L, name)(k, strides=s, padding=pad))
    spec = " | ".join(specs)
    try:
        expected = keras_rows((h, w, 2), lambda L: [m(L) for m in makers])
    except ValueError:                       # keras: "Computed output size would be zero or negative"
        expected = None
    if expected is not None and any(d <= 0 for row in expected for d in row.shape):
        expected = None
    if expected is None:
        with pytest.raises(SpecError):
            cnn_rows((h, w, 2), spec)
    else:
        assert cnn_rows((h, w, 2), spec) == expected, spec


# =========================================================================== 2. Caffe and ONNX by hand

def test_classic_pool_56_vs_57():
    spec = "input(64, 112, 112) | maxpool2d(3, stride=2, padding=1)"
    # PyTorch (aten/src/ATen/native/Pool.h): floor((112 + 2*1 - 3)/2) + 1 = floor(111/2) + 1 = 55 + 1 = 56
    assert out_hw(spec, "pytorch") == (56, 56)
    # Caffe (BVLC src/caffe/layers/pooling_layer.cpp): ceil((112 + 2*1 - 3)/2) + 1 = ceil(55.5) + 1 = 57;
    # pad > 0, so check (57-1)*2 = 112 >= 112 + 1 = 113? no -> stays 57
    assert out_hw(spec, "caffe") == (57, 57)
    # ONNX MaxPool explicit pads (Operators.md): floor((112 + 1 + 1 - 3)/2 + 1) = floor(56.5) = 56
    assert out_hw(spec, "onnx") == (56, 56)


def test_classic_pool_torch_oracle():
    torch = pytest.importorskip("torch")
    y = torch.nn.MaxPool2d(3, stride=2, padding=1)(torch.zeros(1, 64, 112, 112))
    assert tuple(y.shape[2:]) == (56, 56)


@pytest.mark.parametrize("spec,expected,why", [
    # BVLC caffe pooling_layer.cpp: pooled = ceil((H + 2p - k)/s) + 1; if (pad_h || pad_w) and
    # (pooled-1)*s >= H + p: pooled -= 1
    ("input(96, 55, 55) | maxpool2d(3, stride=2)", (27, 27), "ceil((55 - 3)/2) + 1 = 26 + 1 = 27 (AlexNet pool1)"),
    ("input(64, 112, 112) | maxpool2d(3, stride=2)", (56, 56), "ceil((112 - 3)/2) + 1 = ceil(54.5) + 1 = 56 (torch: 55)"),
    ("input(1, 13, 13) | maxpool2d(3, stride=2)", (6, 6), "ceil((13 - 3)/2) + 1 = 5 + 1 = 6"),
    ("input(1, 4, 4) | maxpool2d(1, stride=2)", (3, 3),
     "ceil((4 - 1)/2) + 1 = 2 + 1 = 3; pad = 0 so no clipping although window 3 starts at 4 = H"),
    ("input(1, 5, 5) | avgpool2d(2, stride=2, padding=1)", (3, 3),
     "ceil((5 + 2 - 2)/2) + 1 = 3 + 1 = 4; (4-1)*2 = 6 >= 5 + 1 -> 3"),
    ("input(1, 5, 4) | maxpool2d((2, 1), stride=2, padding=(1, 0))", (3, 2),
     "H: ceil((5 + 2 - 2)/2) + 1 = 4, (4-1)*2 = 6 >= 5 + 1 -> 3; W: ceil((4 - 1)/2) + 1 = 3 and, because "
     "pad_h > 0 the W clip runs too, (3-1)*2 = 4 >= 4 + 0 -> 2"),
    ("input(1, 7, 7) | maxpool2d(3, stride=3, padding=1)", (3, 3),
     "ceil((7 + 2 - 3)/3) + 1 = 2 + 1 = 3; (3-1)*3 = 6 >= 7 + 1? no -> 3"),
])
def test_caffe_pooling(spec, expected, why):
    assert out_hw(spec, "caffe") == expected, why


def test_caffe_pooling_rejects_pad_not_below_kernel():
    # pooling_layer.cpp: CHECK_LT(pad_h_, kernel_h_)
    with pytest.raises(SpecError, match="pad"):
        cnncalc.analyze("input(1, 8, 8) | maxpool2d(2, stride=2, padding=2)", convention="caffe")


@pytest.mark.parametrize("spec,expected,why", [
    # BVLC caffe conv_layer.cpp compute_output_shape: (H + 2p - kernel_extent)/s + 1, integer (floor) division,
    # kernel_extent = d*(k-1) + 1
    ("input(3, 227, 227) | conv2d(96, 11, stride=4)", (55, 55), "(227 - 11)/4 + 1 = 54 + 1 = 55"),
    ("input(3, 224, 224) | conv2d(64, 7, stride=2, padding=3)", (112, 112), "(224 + 6 - 7)/2 + 1 = 111 + 1 = 112"),
    ("input(3, 10, 10) | conv2d(4, 3, stride=2, dilation=2)", (3, 3), "(10 - 5)/2 + 1 = 2 + 1 = 3"),
    ("input(3, 10, 9) | conv2d(4, (3, 2), stride=(3, 2), padding=(1, 0))", (4, 4),
     "H: (10 + 2 - 3)/3 + 1 = 3 + 1 = 4; W: (9 - 2)/2 + 1 = 3 + 1 = 4"),
    # BVLC caffe deconv_layer.cpp compute_output_shape: s*(H-1) + kernel_extent - 2p
    ("input(3, 10, 10) | deconv2d(4, 4, stride=2, padding=1)", (20, 20), "2*(10-1) + 4 - 2 = 20"),
    ("input(3, 10, 10) | deconv2d(4, 3, stride=2, padding=1, dilation=2)", (21, 21), "2*9 + (2*2+1) - 2 = 21"),
    ("input(3, 7, 7) | deconv2d(4, 3, stride=3)", (21, 21), "3*6 + 3 - 0 = 21"),
])
def test_caffe_conv_and_deconv(spec, expected, why):
    assert out_hw(spec, "caffe") == expected, why


def test_caffe_has_no_same_padding():
    with pytest.raises(SpecError, match="same"):
        cnncalc.analyze("input(3, 8, 8) | conv2d(4, 3, padding=same)", convention="caffe")


def test_caffe_inner_product_flattens():
    # caffe inner_product_layer.cpp: K_ = bottom[0]->count(axis) with axis = 1 -> 3*10 = 30 inputs
    layer = one("input(3, 10) | dense(4)", "caffe")
    assert layer.output_shape == (1, 4)
    assert layer.params == (30 + 1) * 4                    # 124


def test_onnx_explicit_pads_floor_and_ceil():
    # onnx/onnx docs/Operators.md MaxPool, explicit pads: floor((L + pad_shape - dilation*(k-1) - 1)/s + 1),
    # pad_shape = pad_begin + pad_end; "Sliding windows that would start in the right padded region are ignored."
    # H: floor((10 + 1 - 2 - 1)/2 + 1) = floor(8/2 + 1) = 5 ; W: floor((11 + 2 - 2 - 1)/2 + 1) = floor(6) = 6
    assert out_hw("input(3, 10, 11) | maxpool2d(3, stride=2, padding=((0, 1), (1, 1)))", "onnx") == (5, 6)
    # with ceil_mode: H: ceil(8/2 + 1) = 5 ; last window starts at (5-1)*2 = 8 < 10 + 0, kept
    #                 W: ceil(10/2 + 1) = 6 ; last window starts at (6-1)*2 = 10 < 11 + 1, kept
    assert out_hw("input(3, 10, 11) | maxpool2d(3, stride=2, padding=((0, 1), (1, 1)), ceil_mode=true)",
                  "onnx") == (5, 6)
    # ceil_mode where it matters: k=2 s=2 on 5: ceil((5 - 2)/2 + 1) = ceil(2.5) = 3 (floor gives 2)
    assert out_hw("input(1, 5, 5) | maxpool2d(2, stride=2, ceil_mode=true)", "onnx") == (3, 3)
    assert out_hw("input(1, 5, 5) | maxpool2d(2, stride=2)", "onnx") == (2, 2)
    # a window that would start in the right padding is ignored: k=2 s=2 pad 1 on 5:
    # ceil((5 + 2 - 2)/2 + 1) = ceil(3.5) = 4, but window 3 starts at 3*2 - 1 = 5 = L (right padding) -> 3
    assert out_hw("input(1, 5, 5) | maxpool2d(2, stride=2, padding=1, ceil_mode=true)", "onnx") == (3, 3)


@pytest.mark.parametrize("word", ["same", "same_upper", "same_lower"])
def test_onnx_auto_pad_same(word):
    # Operators.md: SAME_UPPER / SAME_LOWER: output = ceil(L / s)
    # H: ceil(10/3) = 4 ; W: ceil(11/3) = 4
    assert out_hw(f"input(3, 10, 11) | conv2d(4, 4, stride=3, padding={word})", "onnx") == (4, 4)
    if word != "same":
        assert out_hw(f"input(3, 10, 11) | maxpool2d(4, stride=3, padding={word})", "onnx") == (4, 4)


def test_onnx_same_upper_vs_lower_side():
    # Operators.md: pad_shape = (out-1)*s + k_eff - L; SAME_UPPER puts the odd pixel at the end, SAME_LOWER at
    # the beginning.  L=10, k=4, s=3: out = 4, pad = 3*3 + 4 - 10 = 3 -> UPPER (1, 2), LOWER (2, 1)
    assert cnncalc.same_padding(10, 4, 3) == (1, 2)
    assert cnncalc.same_padding(10, 4, 3, lower=True) == (2, 1)
    upper = one("input(3, 10, 10) | conv2d(4, 4, stride=3, padding=same_upper)", "onnx")
    lower = one("input(3, 10, 10) | conv2d(4, 4, stride=3, padding=same_lower)", "onnx")
    assert upper.rf.padding == (1, 1) and lower.rf.padding == (2, 2)


def test_onnx_auto_pad_valid():
    # Operators.md VALID: floor((L - k_eff)/s) + 1 ( = ceil((L - k_eff + 1)/s) )
    # H: floor((10 - 4)/3) + 1 = 3 ; W: floor((11 - 4)/3) + 1 = 3
    assert out_hw("input(3, 10, 11) | conv2d(4, 4, stride=3, padding=valid)", "onnx") == (3, 3)
    assert out_hw("input(3, 10, 11) | maxpool2d(4, stride=3, padding=valid)", "onnx") == (3, 3)
    # dilated: k_eff = 2*(3-1) + 1 = 5 -> floor((10 - 5)/1) + 1 = 6 ; floor((11 - 5)/1) + 1 = 7
    assert out_hw("input(3, 10, 11) | conv2d(4, 3, dilation=2, padding=valid)", "onnx") == (6, 7)


def test_onnx_conv_transpose():
    # Operators.md ConvTranspose: out = s*(L-1) + output_padding + ((k-1)*d + 1) - pad_begin - pad_end
    # H: 3*(10-1) + 0 + 4 - 1 - 2 = 28 ; W: 3*(11-1) + 0 + 4 - 0 - 3 = 31
    assert out_hw("input(3, 10, 11) | convtranspose2d(4, 4, stride=3, padding=((1, 2), (0, 3)))", "onnx") == (28, 31)
    # output_padding 1, dilation 2: 2*(10-1) + 1 + (2*2 + 1) - 1 - 1 = 22
    assert out_hw("input(3, 10, 10) | convtranspose2d(4, 3, stride=2, padding=1, output_padding=1, dilation=2)",
                  "onnx") == (22, 22)
    # auto_pad SAME_UPPER / SAME_LOWER: "pad the input so that output_shape[i] = input_shape[i] * strides[i]"
    # 10*3 = 30, 11*3 = 33
    assert out_hw("input(3, 10, 11) | convtranspose2d(4, 4, stride=3, padding=same)", "onnx") == (30, 33)
    # weight (C, M/group, k, k): 3*4*4*4 + 4 bias = 196
    assert one("input(3, 10, 11) | convtranspose2d(4, 4, stride=3, padding=same)", "onnx").params == 196


# ---- PyTorch ceil_mode, checked against torch ---------------------------------------------

@pytest.mark.parametrize("L,k,s,p,expected,why", [
    (5, 2, 2, 0, 3, "ceil((5 - 2)/2) + 1 = 2 + 1 = 3 (floor gives 2)"),
    (5, 2, 2, 1, 3, "ceil((5 + 2 - 2)/2) + 1 = 4, but window 3 starts at 3*2 = 6 >= 5 + 1 (right padding): 3"),
    (4, 1, 2, 0, 2, "ceil((4 - 1)/2) + 1 = 3, but (3-1)*2 = 4 >= 4 + 0: dropped even with p = 0 -> 2 "
                    "(Caffe keeps 3)"),
    (112, 3, 2, 1, 57, "ceil((112 + 2 - 3)/2) + 1 = 57; 56*2 = 112 < 113, kept"),
    (6, 3, 3, 1, 3, "ceil((6 + 2 - 3)/3) + 1 = 2 + 1 = 3; 2*3 = 6 < 7, kept"),
])
def test_pytorch_ceil_mode(L, k, s, p, expected, why):
    # aten/src/ATen/native/Pool.h pooling_output_shape_pad_lr
    got = one(f"input(1, {L}) | maxpool1d({k}, stride={s}, padding={p}, ceil_mode=true)", "pytorch")
    assert got.output_shape[-1] == expected, why
    assert cnncalc.pool_output_length(L, k, s, p, ceil_mode=True) == expected
    torch = pytest.importorskip("torch")
    y = torch.nn.MaxPool1d(k, stride=s, padding=p, ceil_mode=True)(torch.zeros(1, 1, L))
    assert y.shape[-1] == expected


def test_ceil_mode_drop_differs_from_caffe_without_padding():
    # same window, three conventions: k=1 s=2 on 4
    assert out_hw("input(1, 4, 4) | maxpool2d(1, stride=2, ceil_mode=true)", "pytorch") == (2, 2)
    assert out_hw("input(1, 4, 4) | maxpool2d(1, stride=2)", "caffe") == (3, 3)   # clip only when pad > 0


# =========================================================================== 3. parameter rules

@pytest.mark.parametrize("C", [1, 16, 64])
def test_batchnorm_rules_per_convention(C):
    spec_cf = f"input({C}, 8, 8) | batchnorm"
    # PyTorch: weight + bias = 2C parameters; running_mean, running_var (C each, float) and num_batches_tracked
    # (one int64) are buffers, not parameters: 2C + 1 buffer elements.
    pt = one(spec_cf, "pytorch")
    assert (pt.params, pt.trainable_params, pt.non_trainable_params) == (2 * C, 2 * C, 0)
    assert pt.buffers == 2 * C + 1                     # running_mean, running_var, num_batches_tracked
    assert pt.buffer_bytes == 2 * C * 4 + 8            # + num_batches_tracked, one int64
    # Keras / ONNX: gamma, beta, moving_mean, moving_variance: 4C, of which 2C non-trainable
    for conv, spec in (("keras", f"input(8, 8, {C}) | batchnormalization"), ("onnx", spec_cf)):
        r = one(spec, conv)
        assert (r.params, r.trainable_params, r.non_trainable_params) == (4 * C, 2 * C, 2 * C), conv
    # Caffe: BatchNorm blobs mean, variance, moving-average factor (2C + 1, not learned) + Scale gamma, beta (2C)
    cf = one(spec_cf, "caffe")
    assert (cf.params, cf.trainable_params, cf.non_trainable_params) == (4 * C + 1, 2 * C, 2 * C + 1)


def test_batchnorm_pytorch_against_torch():
    torch = pytest.importorskip("torch")
    C = 16
    bn = torch.nn.BatchNorm2d(C)
    r = one(f"input({C}, 8, 8) | batchnorm2d", "pytorch")
    assert r.params == sum(p.numel() for p in bn.parameters()) == 2 * C
    bufs = dict(bn.named_buffers())
    assert sum(b.numel() for b in bufs.values()) == 2 * C + 1
    assert r.buffers == sum(b.numel() for b in bufs.values())
    assert r.buffer_bytes == sum(b.numel() * b.element_size() for b in bufs.values())


def test_batchnorm_keras_against_keras():
    row = keras_rows((8, 8, 16), lambda L: [L.BatchNormalization()])[0]
    assert (row.params, row.trainable, row.non_trainable) == (64, 32, 32)
    r = one("input(8, 8, 16) | batchnormalization", "keras")
    assert (r.params, r.trainable_params, r.non_trainable_params) == (64, 32, 32)


@pytest.mark.parametrize("kind,gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_recurrent_bias_rules(kind, gates):
    I, H = 5, 6
    G = gates * H
    spec = f"input(7, {I}) | {kind}({H})"
    # PyTorch (torch/nn/modules/rnn.py) and ONNX (W, R, B with B = [Wb, Rb]): two bias vectors per gate set
    two = G * (I + H) + 2 * G
    assert one(spec, "pytorch").params == two
    assert one(spec, "onnx").params == two
    # Keras: one bias vector, except GRU with reset_after=True (the default): two
    keras_expected = G * (I + H) + (2 if kind == "gru" else 1) * G
    assert one(spec, "keras").params == keras_expected
    if kind == "gru":
        assert one(f"input(7, {I}) | gru({H}, reset_after=false)", "keras").params == G * (I + H) + G


def test_recurrent_rules_against_torch():
    torch = pytest.importorskip("torch")
    I, H = 5, 6
    cases = [
        ("lstm(6)", torch.nn.LSTM(I, H)),
        ("gru(6)", torch.nn.GRU(I, H)),
        ("rnn(6)", torch.nn.RNN(I, H)),
        ("lstm(6, num_layers=2, bidirectional=true)", torch.nn.LSTM(I, H, num_layers=2, bidirectional=True)),
        ("gru(6, num_layers=3, bias=false)", torch.nn.GRU(I, H, num_layers=3, bias=False)),
        ("lstm(6, proj_size=4, num_layers=2)", torch.nn.LSTM(I, H, proj_size=4, num_layers=2)),
    ]
    for spec, module in cases:
        expected = sum(p.numel() for p in module.parameters())
        assert one(f"input(7, {I}) | {spec}", "pytorch").params == expected, spec
    # 4*(6*(5+6) + 2*6) = 312 for the plain LSTM
    assert one(f"input(7, {I}) | lstm(6)", "pytorch").params == 312


def test_recurrent_rules_against_keras():
    I, u = 5, 6
    for spec, make, formula in [
        ("lstm(6)", lambda L: [L.LSTM(u)], 4 * (u * (I + u) + u)),
        ("gru(6)", lambda L: [L.GRU(u)], 3 * (u * (I + u) + 2 * u)),                     # reset_after=True
        ("gru(6, reset_after=false)", lambda L: [L.GRU(u, reset_after=False)], 3 * (u * (I + u) + u)),
        ("simplernn(6)", lambda L: [L.SimpleRNN(u)], u * (I + u) + u),
    ]:
        assert keras_rows((7, I), make)[0].params == formula, spec
        assert one(f"input(7, {I}) | {spec}", "keras").params == formula, spec


def test_caffe_lstm_one_bias():
    # BVLC caffe lstm_layer.cpp: W_xc (4H x I) + b_c (4H) + W_hc (4H x H): one bias vector
    I, H = 5, 6
    assert one(f"input(7, {I}) | lstm({H})", "caffe").params == 4 * H * I + 4 * H + 4 * H * H   # 288


def test_reset_after_false_is_keras_only():
    with pytest.raises(SpecError, match="reset_after"):
        cnncalc.analyze("input(7, 5) | gru(6, reset_after=false)", convention="pytorch")


# =========================================================================== 4. 'same' + stride under PyTorch

def test_pytorch_same_with_stride_is_an_error():
    with pytest.raises(SpecError) as info:
        cnncalc.analyze("input(3, 32, 32) | conv2d(8, 3, padding=same, stride=2)")
    msg = str(info.value)
    assert "same" in msg and "stride" in msg and "\n" not in msg
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.nn.Conv2d(3, 8, 3, padding="same", stride=2)


def test_same_with_stride_is_fine_elsewhere():
    # keras / onnx: ceil(32/2) = 16
    assert one("input(32, 32, 3) | conv2d(8, 3, padding=same, strides=2)", "keras").output_shape == (1, 16, 16, 8)
    assert out_hw("input(3, 32, 32) | conv2d(8, 3, padding=same, stride=2)", "onnx") == (16, 16)


def test_pytorch_same_stride_one_even_kernel_against_torch():
    # torch/nn/modules/conv.py: total = d*(k-1) = 3, left 1, right 2: size kept
    assert out_hw("input(1, 7, 7) | conv2d(1, 4, padding=same)", "pytorch") == (7, 7)
    torch = pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = torch.nn.Conv2d(1, 1, 4, padding="same")(torch.zeros(1, 1, 7, 7))
    assert tuple(y.shape[2:]) == (7, 7)


def test_zeropad1d_pair_is_left_right_in_torch_too():
    torch = pytest.importorskip("torch")
    y = torch.nn.ZeroPad1d((1, 2))(torch.zeros(1, 2, 5))
    assert one("input(2, 5) | zeropad1d((1, 2))", "pytorch").output_shape == tuple(y.shape) == (1, 2, 8)
    y = torch.nn.ZeroPad2d((1, 2, 3, 4))(torch.zeros(1, 2, 5, 6))   # (left, right, top, bottom)
    assert one("input(2, 5, 6) | zeropad2d((1, 2, 3, 4))", "pytorch").output_shape == tuple(y.shape)


def test_caffe_recurrent_rules():
    # BVLC caffe RNNLayer (include/caffe/layers/rnn_layer.hpp): h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h),
    # o_t = tanh(W_ho h_t + b_o): W_xh (H x I) + b_h (H) + W_hh (H x H) + W_ho (H x H) + b_o (H)
    I, H, T = 5, 7, 4
    r = one(f"input({T}, {I}) | rnn({H})", "caffe")
    assert r.params == H * I + H + H * H + H * H + H
    assert r.macs == T * (H * I + H * H + H * H)          # per step: input, recurrent and output matmuls
    # LSTMLayer: W_xc (4H x I), b_c (4H), W_hc (4H x H): one bias vector
    assert one(f"input({T}, {I}) | lstm({H})", "caffe").params == 4 * H * I + 4 * H + 4 * H * H
    for bad in (f"input({T}, {I}) | gru({H})", f"input({T}, {I}) | lstm({H}, bidirectional=true)",
                "input(3, 8, 8) | convtranspose2d(4, 3, stride=2, output_padding=1)"):
        with pytest.raises(cnncalc.SpecError):
            cnncalc.analyze(bad, convention="caffe")
