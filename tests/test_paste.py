"""Pasting framework code: a layer written with PyTorch's or Keras' class name takes that class's signature,
a whole nn.Sequential / keras.Sequential is a spec, and the usual slips get hints.  Checked against torch itself
and against Keras on the torch backend."""
import os

import pytest

import cnncalc
from cnncalc import SpecError
from cnncalc.ops import registry, signatures

os.environ.setdefault("KERAS_BACKEND", "torch")


def err(spec, **kw) -> SpecError:
    return pytest.raises(SpecError, cnncalc.analyze, spec, **kw).value


# --------------------------------------------------------------------------------------------- signatures

def test_conv2d_pytorch_signature():
    layer = cnncalc.analyze("input(3, 32, 32) | Conv2d(3, 64, 3)").layers[0]
    assert layer.output_shape == (1, 64, 30, 30)
    assert layer.params == (3 * 3 * 3 + 1) * 64 == 1_792
    # all eight positional arguments: in, out, kernel, stride, padding, dilation, groups, bias
    layer = cnncalc.analyze("input(3, 32, 32) | nn.Conv2d(3, 16, 3, 1, 1)").layers[0]
    assert layer.output_shape == (1, 16, 32, 32) and layer.params == 448
    layer = cnncalc.analyze("input(4, 32, 32) | nn.Conv2d(4, 8, 3, 2, 2, 2, 2, False)").layers[0]
    assert layer.output_shape == (1, 8, 16, 16) and layer.params == 8 * 2 * 9   # floor((32 + 4 - 2*2 - 1)/2) + 1


def test_linear_and_friends():
    assert cnncalc.analyze("input(512) | Linear(512, 10)").layers[0].params == 5_130
    assert cnncalc.analyze("input(512) | nn.Linear(512, 10, False)").layers[0].params == 5_120
    r = cnncalc.analyze("input(8, 16, 16) | nn.BatchNorm2d(8) | nn.ReLU(inplace=True) | nn.ReLU(True) | "
                        "nn.MaxPool2d(2) | nn.AvgPool2d(3, 1, 1) | nn.Dropout(0.2) | nn.Flatten() | "
                        "nn.Linear(512, 4) | nn.Softmax(dim=1)")
    assert [l.output_shape for l in r.layers][-1] == (1, 4)
    assert r.layers[0].params == 16 and r.layers[3].output_shape == (1, 8, 8, 8)
    r = cnncalc.analyze("input(5, 10) | nn.LSTM(10, 20, 2) | nn.LayerNorm(20)")
    assert r.layers[0].params == 4 * 20 * (10 + 20 + 2) + 4 * 20 * (20 + 20 + 2)
    assert cnncalc.analyze("input(7) | nn.Embedding(1000, 64)").layers[0].output_shape == (1, 7, 64)
    assert cnncalc.analyze("input(16, 8, 8) | nn.ConvTranspose2d(16, 8, 2, 2)").layers[0].output_shape == (1, 8, 16, 16)


def test_lowercase_spellings_keep_their_order():
    # cnncalc's own order: output channels first, then the kernel (and Conv2D is Keras': the same order)
    assert cnncalc.analyze("input(3, 32, 32) | conv2d(64, 3)").layers[0].kernel_shape == (64, 3, 3, 3)
    with pytest.raises(SpecError, match="kernel 64 is larger"):
        cnncalc.analyze("input(3, 32, 32) | conv2d(3, 64)")
    assert cnncalc.analyze("input(28, 28, 1) | Conv2D(32, 5, 2)", convention="keras").layers[0].output_shape == \
        (1, 12, 12, 32)


def test_every_signature_maps_onto_its_op():
    for (fw, cls), sig in signatures.SIGNATURES.items():
        op = registry.KINDS[sig.kind]
        names = registry._by_name(op)
        ignored = {registry.norm(n) for n in sig.ignored}
        for name in sig.positional + tuple(n for n, _ in sig.defaults):
            assert registry.norm(name) in names or registry.norm(name) in ignored, (fw, cls, name)
        assert registry.OPS[registry.norm(cls)].kind == sig.kind or cls.startswith("Convolution") \
            or cls in ("Dropout1d", "AlphaDropout"), (cls, sig.kind)


def test_shared_class_names_follow_prefix_or_arguments():
    assert cnncalc.analyze("input(5, 10) | layers.LSTM(16)", convention="keras").layers[0].params == \
        4 * (16 * (10 + 16) + 16)
    assert cnncalc.analyze("input(5, 10) | LSTM(16)", convention="keras").layers[0].params == 4 * (16 * (10 + 16) + 16)
    assert cnncalc.analyze("input(5, 10) | LSTM(10, 16)").layers[0].params == 4 * 16 * (10 + 16 + 2)
    assert cnncalc.analyze("input(5, 10) | nn.GRU(10, 16, 1)").layers[0].params == 3 * 16 * (10 + 16 + 2)


# --------------------------------------------------------------------------------------------- against torch

def test_pasted_sequential_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    code = ("nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), "
            "nn.Linear(32*12*12, 10))")
    model = eval(code, {"nn": nn})
    report = cnncalc.analyze("input(1, 28, 28)\n" + code)
    assert report.totals.params == sum(p.numel() for p in model.parameters()) == 46_922
    x = torch.zeros(1, 1, 28, 28)
    shapes = []
    for m in model:
        x = m(x)
        shapes.append(tuple(x.shape))
    assert [l.output_shape for l in report.layers] == shapes


PASTES = [
    "nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2), "
    "nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(), "
    "nn.Dropout(p=0.5), nn.Linear(32, 10))",
    "nn.Sequential(nn.Conv1d(3, 8, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(8, 4, 3, dilation=2))",
    "nn.Sequential(nn.Conv2d(3, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Sigmoid(), "
    "nn.ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1), nn.GroupNorm(2, 4), nn.Flatten(), "
    "nn.Linear(4*20*20, 7))",
]
INPUTS = [(3, 32, 32), (3, 40), (3, 32, 32)]


@pytest.mark.parametrize("code,shape", list(zip(PASTES, INPUTS)))
def test_more_pastes_match_torch(code, shape):
    torch = pytest.importorskip("torch")
    model = eval(code, {"nn": torch.nn})
    report = cnncalc.analyze(f"input{shape}\n" + code.replace("), ", "),\n    "))
    x = torch.zeros((1,) + shape)
    shapes = []
    for m in model:
        x = m(x)
        shapes.append(tuple(x.shape))
    assert [l.output_shape for l in report.layers] == shapes
    assert report.totals.params == sum(p.numel() for p in model.parameters())


def test_ordered_dict_names_the_layers():
    spec = """input(1, 28, 28)
model = nn.Sequential(OrderedDict([
    ('conv1', nn.Conv2d(1, 20, 5)),
    ('relu1', nn.ReLU()),
    ('conv2', nn.Conv2d(20, 64, 5)),
]))"""
    r = cnncalc.analyze(spec)
    assert [l.name for l in r.layers] == ["conv1", "relu1", "conv2"]
    assert r["conv2"].params == 20 * 25 * 64 + 64


# --------------------------------------------------------------------------------------------- against Keras

def _keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    return keras


def test_pasted_keras_sequential_matches_keras():
    keras = _keras()
    layers = keras.layers
    code = """keras.Sequential([
    layers.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Conv2D(64, 3, strides=1, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
], name="mnist")"""
    model = eval(code, {"keras": keras, "layers": layers})
    report = cnncalc.analyze(code, convention="keras")
    assert report.totals.params == model.count_params()
    assert [l.output_shape[1:] for l in report.layers if l.kind != "activation"] == \
        [tuple(layer.output.shape[1:]) for layer in model.layers]


def test_keras_1_model_add_with_input_shape():
    # seed 003 (Keras 1, Theano's channels-first): (28-5+1) = 24, (24-3+1)/2 = 11, (11-3+1)/2 = 4
    spec = """model = Sequential()
model.add(Convolution2D(4, 5, 5, border_mode='valid', input_shape=(1,28,28)))
model.add(Activation('tanh'))
model.add(Convolution2D(8, 3, 3, border_mode='valid'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Convolution2D(16, 3, 3, border_mode='valid'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(128, init='normal'))
model.compile(loss='categorical_crossentropy', optimizer=sgd)"""
    r = cnncalc.analyze(spec)
    shapes = [l.output_shape for l in r.layers if l.kind in ("conv2d", "maxpool2d", "dense")]
    assert shapes == [(1, 4, 24, 24), (1, 8, 22, 22), (1, 8, 11, 11), (1, 16, 9, 9), (1, 16, 4, 4), (1, 128)]


def test_keras_sequential_with_input_shape_on_first_layer():
    keras = _keras()
    layers = keras.layers
    model = keras.Sequential([layers.Input((32, 32, 3)), layers.Conv2D(8, 3), layers.GlobalAveragePooling2D(),
                              layers.Dense(4)])
    r = cnncalc.analyze("keras.Sequential([layers.Conv2D(8, 3, input_shape=(32, 32, 3)), "
                        "layers.GlobalAveragePooling2D(), layers.Dense(4)])", convention="keras")
    assert r.totals.params == model.count_params()


# --------------------------------------------------------------------------------------------- hints

def test_wrong_declared_channels_names_both():
    e = err("input(3, 32, 32) | nn.Conv2d(3, 16, 3) | nn.Conv2d(3, 64, 3)")
    assert e.layer == "#2 Conv2d" and e.column == 52
    assert "Conv2d declares in_channels=3 but the input has 16 channels (from conv2d_1)" in str(e)
    assert "Conv2d(in_channels, out_channels, kernel_size)" in str(e)
    e = err("input(3, 32, 32) | flatten | nn.Linear(1024, 10)")
    assert "Linear declares in_features=1024 but the input has 3072 features (from flatten_1)" in str(e)
    e = err("input(3, 8, 8) | nn.BatchNorm2d(4)")
    assert "declares num_features=4 but the input has 3 channels" in str(e)
    assert "声明 num_features=4，但输入有 3 个通道" in e.render("zh")


def test_an_error_in_the_second_layer_names_it():
    e = err("input(1, 28, 28)\nnn.Sequential(\n    nn.Conv2d(1, 32, 5),\n    nn.Conv2d(1, 64, 3),\n)")
    assert e.layer == "#2 Conv2d" and e.line == 4


def test_channels_last_under_pytorch_suggests_keras():
    e = err("input(28, 28, 1) | Conv2D(32, 5)")
    assert "looks channels-last (H, W, C)" in str(e) and "--convention keras" in str(e)
    assert "input(1, 28, 28)" in str(e)
    r = cnncalc.analyze("input(32, 32, 3) | conv2d(8, 3)")          # silently odd numbers: a warning says so
    assert any("looks channels-last" in w for w in r.warnings)
    assert not cnncalc.analyze("input(3, 32, 32) | conv2d(8, 3)").warnings
    e = err("input(3, 32, 32) | Conv2D(8, 3, strides=2, padding='same')")
    assert "Conv2D is a Keras layer" in str(e) and "--convention keras" in str(e)


def test_full_width_punctuation_is_its_ascii_twin():
    r = cnncalc.analyze("input（1， 28， 28）｜ Conv2d（1， 32， 5）｜ nn.MaxPool2d（kernel_size＝2）")
    assert [l.output_shape for l in r.layers] == [(1, 32, 24, 24), (1, 32, 12, 12)]
    assert cnncalc.analyze("input(512) | nn.Linear(512， 10)").layers[0].params == 5_130
    e = err("input(3, 8, 8) | conv2d(8；3)")
    assert "unexpected character" in str(e) and "full-width" in str(e) and e.column == 26


def test_input_given_apart_from_the_spec():
    r = cnncalc.analyze("nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU())", input_size=(2, 1, 28, 28))
    assert r.layers[0].output_shape == (2, 32, 24, 24)
    with pytest.raises(SpecError, match="has its own input"):
        cnncalc.analyze("input(1, 28, 28) | conv2d(4, 3)", input_size=(1, 1, 28, 28))


def test_cli_input_for_a_pasted_model(tmp_path):
    import subprocess
    import sys
    f = tmp_path / "net.py"
    f.write_text("import torch.nn as nn\nnet = nn.Sequential(\n    nn.Conv2d(1, 32, 5),  # conv\n    nn.ReLU(),\n)\n")
    out = subprocess.run([sys.executable, "-m", "cnncalc", "summary", str(f), "--input", "1x1x28x28",
                          "--format", "csv"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "1x32x24x24" in out.stdout
