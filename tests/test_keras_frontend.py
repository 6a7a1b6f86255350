"""The Keras front-end (src/cnncalc/frontends/keras.py) against Keras itself, on the torch backend.

Every expectation comes from an independent oracle, never from cnncalc:

* parameters: ``model.count_params()``, ``layer.count_params()`` and the sizes of ``trainable_weights`` /
  ``non_trainable_weights``;
* shapes: ``layer.output.shape`` of every layer (batch ``None`` -> the report's batch), rows matched by the
  Keras layer name;
* MACs: ``torch.utils.flop_counter.FlopCounterMode`` around a real forward pass of the Keras model on the torch
  backend, total FLOPs // 2 (cnncalc's documented definition of ``macs``).

The JSON and ``.keras`` paths are also run in a subprocess in which importing keras, torch, tensorflow, jax,
numpy or h5py fails, to prove the config alone is enough.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

os.environ["KERAS_BACKEND"] = "torch"      # before keras is imported anywhere in this process

import pytest  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import SpecError  # noqa: E402
from cnncalc.frontends.keras import analyze_keras  # noqa: E402

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

if keras.backend.backend() != "torch":      # keras was imported earlier in this process with another backend
    pytest.skip("these tests need KERAS_BACKEND=torch", allow_module_level=True)

L = keras.layers
torch.set_num_threads(1)

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),           # keras: input_shape not in the weights' sizes
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

APPLICATIONS = ["ResNet50", "MobileNetV2", "EfficientNetB0", "DenseNet121", "InceptionV3", "VGG16", "Xception",
                "MobileNet", "ResNet50V2"]


# --------------------------------------------------------------------------- oracles

def n_weights(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def keras_shape(tensor, batch: int = 1) -> tuple:
    return tuple(batch if d is None else int(d) for d in tensor.shape)


def check_against_keras(model, report, batch: int = 1):
    """Totals, and every layer's output shape, params and trainable split, against keras."""
    assert report.convention == "keras"
    assert report.totals.params == model.count_params()
    assert report.totals.trainable_params == n_weights(model.trainable_weights)
    assert report.totals.non_trainable_params == n_weights(model.non_trainable_weights)
    assert report.input_shape == keras_shape(model.inputs[0], batch)
    layers = [la for la in model.layers if not isinstance(la, L.InputLayer)]
    assert [row.name for row in report.layers] == [la.name for la in layers]      # one row per layer, in order
    for layer in layers:
        row = report[layer.name]
        assert row.output_shape == keras_shape(layer.output, batch), layer.name
        assert row.params == layer.count_params(), layer.name
        assert row.trainable_params == n_weights(layer.trainable_weights), layer.name
        assert row.non_trainable_params == n_weights(layer.non_trainable_weights), layer.name


def torch_macs(model, x) -> int:
    """FlopCounterMode's FLOPs / 2 for one real inference pass of the keras model."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x, training=False)
    total = counter.get_total_flops()
    assert total % 2 == 0
    return total // 2


def rows(report) -> list[dict]:
    return [dict(r.to_dict(), line=None) for r in report.layers]


# --------------------------------------------------------------------------- 1. keras.applications

@pytest.fixture(scope="module")
def apps():
    """Each application built once (weights=None: nothing is downloaded)."""
    return {name: getattr(keras.applications, name)(weights=None) for name in APPLICATIONS}


@pytest.mark.parametrize("name", APPLICATIONS)
def test_application_params_and_shapes(apps, name):
    model = apps[name]
    check_against_keras(model, analyze_keras(model))


def test_application_variant_without_top():
    """alpha, include_top=False, pooling and a non-default input size all reach the config."""
    model = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3), alpha=0.5,
                                           pooling="avg")
    check_against_keras(model, analyze_keras(model, batch=3), batch=3)


def test_analyze_routes_a_keras_model_object(apps):
    """cnncalc.analyze(model) must reach the keras front-end."""
    model = apps["MobileNet"]
    report = cnncalc.analyze(model)
    assert report.source == "keras"
    assert report.totals.params == model.count_params()


# --------------------------------------------------------------------------- 2. MACs against FlopCounterMode

def test_macs_resnet50_small_input():
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    x = torch.rand(1, 64, 64, 3)
    assert torch_macs(model, x) == analyze_keras(model).totals.macs


@pytest.mark.parametrize("name", ["MobileNetV2", "EfficientNetB0"])
def test_macs_applications(apps, name):
    model = apps[name]
    x = torch.rand(1, 224, 224, 3)
    assert torch_macs(model, x) == analyze_keras(model).totals.macs


def cnn2d():
    inp = keras.Input((23, 21, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_same")(inp)
    x = L.Conv2D(8, (5, 3), strides=(2, 3), padding="same", name="conv_strided_same")(x)
    x = L.Conv2D(6, 3, dilation_rate=2, use_bias=False, name="conv_dilated")(x)
    x = L.Conv2D(8, 3, groups=2, name="conv_grouped")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, name="depthwise")(x)
    x = L.SeparableConv2D(12, 3, padding="same", depth_multiplier=2, activation="relu", name="separable")(x)
    x = L.Conv2DTranspose(8, 3, strides=2, padding="same", name="convt_same")(x)
    x = L.Conv2DTranspose(4, 4, strides=3, padding="valid", use_bias=False, name="convt_valid")(x)
    x = L.Conv2DTranspose(4, 2, strides=2, name="convt_k2s2")(x)
    x = L.MaxPooling2D(3, strides=2, name="maxpool")(x)
    x = L.AveragePooling2D(2, padding="same", name="avgpool")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(10, activation="softmax", name="dense")(x)
    return keras.Model(inp, x, name="cnn2d")


def cnn1d():
    return keras.Sequential([
        keras.Input((50, 6)),
        L.Conv1D(16, 5, strides=2, padding="same", activation="relu", name="c1"),
        L.Conv1D(8, 3, dilation_rate=3, name="c2"),
        L.Conv1D(8, 4, padding="causal", name="causal"),
        L.SeparableConv1D(10, 3, name="sep1d"),
        L.DepthwiseConv1D(3, depth_multiplier=2, name="dw1d"),
        L.Conv1DTranspose(6, 3, strides=2, name="convt1d"),
        L.MaxPooling1D(2, name="pool1d"),
        L.Dense(7, name="dense_on_steps"),         # a dense on (batch, steps, features)
        L.GlobalMaxPooling1D(name="gmp"),
        L.Dense(3, name="out"),
    ], name="cnn1d")


@pytest.mark.parametrize("make, shape", [(cnn2d, (2, 23, 21, 3)), (cnn1d, (2, 50, 6))], ids=["2d", "1d"])
def test_custom_cnn_macs_params_shapes(make, shape):
    model = make()
    report = analyze_keras(model, batch=2)
    check_against_keras(model, report, batch=2)
    assert torch_macs(model, torch.rand(*shape)) == report.totals.macs


def text_model(unroll: bool = False):
    inp = keras.Input((12,), dtype="int32")
    x = L.Embedding(100, 16, name="embed")(inp)
    x = L.LSTM(20, return_sequences=True, name="lstm")(x)
    x = L.Bidirectional(L.GRU(8, return_sequences=True, name="gru_inner"), name="bigru")(x)
    x = L.GRU(6, reset_after=False, return_sequences=True, unroll=unroll, name="gru_v1")(x)
    x = L.SimpleRNN(5, return_sequences=True, unroll=unroll, name="rnn")(x)
    x = L.Bidirectional(L.LSTM(4, name="lstm_inner"), name="bilstm")(x)
    x = L.Dense(3, name="head")(x)
    return keras.Model(inp, x, name="text")


def one_step_macs(layer, batch: int) -> int:
    """Multiply-adds of ONE time step of a keras recurrent layer, read from its weights' shapes:
    batch * (kernel (I, G) + recurrent_kernel (H, G)), both directions of a Bidirectional."""
    cells = [layer.forward_layer, layer.backward_layer] if isinstance(layer, L.Bidirectional) else [layer]
    return batch * sum(int(np.prod(c.cell.kernel.shape)) + int(np.prod(c.cell.recurrent_kernel.shape))
                       for c in cells)


# Keras on torch, CPU, runs recurrent layers by one of two paths (keras/src/backend/torch/rnn.py):
# * LSTM and GRU(reset_after=True) without a mask: a "fallback" that computes the input projection of all
#   steps in ONE matmul (T*B, I) @ (I, G), then one (B, H) @ (H, G) matmul per step -- the same
#   T*B*(I*G + H*G) multiply-adds as step by step, so FlopCounterMode / 2 == cnncalc exactly;
# * everything else (SimpleRNN, GRU(reset_after=False), masks) goes through the generic rnn() loop, which with
#   unroll=False first calls the cell once on step 0 only to learn the output's structure
#   ("output_time_zero is used to determine the cell output shape") and throws the result away: FlopCounterMode
#   sees T + 1 steps.  With unroll=True that probe does not exist.  cnncalc counts the T steps the layer
#   computes, so the oracle is FlopCounterMode with unroll=True, and with unroll=False minus exactly one step.
def runs_generic_loop(layer) -> bool:
    inner = layer.forward_layer if isinstance(layer, L.Bidirectional) else layer
    return isinstance(inner, L.SimpleRNN) or (isinstance(inner, L.GRU) and not inner.cell.reset_after)


def test_recurrent_macs_params_shapes():
    """The Embedding + LSTM/GRU/SimpleRNN/Bidirectional stack, batch 2, with unroll=True: exact."""
    model = text_model(unroll=True)
    report = analyze_keras(model, batch=2)
    check_against_keras(model, report, batch=2)
    x = torch.randint(0, 100, (2, 12), dtype=torch.int32)
    assert torch_macs(model, x) == report.totals.macs
    assert report["embed"].macs == 0


def test_recurrent_macs_default_unroll_differ_by_the_probe_step():
    """The same stack with unroll=False: FlopCounterMode counts one extra (discarded) step of exactly the
    layers on keras' generic loop, and nothing else."""
    model = text_model(unroll=False)
    report = analyze_keras(model, batch=2)
    probe = sum(one_step_macs(la, 2) for la in model.layers if isinstance(la, (L.RNN, L.Bidirectional))
                and runs_generic_loop(la))
    assert probe > 0
    x = torch.randint(0, 100, (2, 12), dtype=torch.int32)
    assert torch_macs(model, x) - probe == report.totals.macs


RECURRENT = [lambda u: L.LSTM(7, unroll=u), lambda u: L.GRU(7, unroll=u),
             lambda u: L.GRU(7, reset_after=False, unroll=u), lambda u: L.SimpleRNN(7, unroll=u),
             lambda u: L.LSTM(7, use_bias=False, unroll=u), lambda u: L.GRU(5, use_bias=False, unroll=u),
             lambda u: L.Bidirectional(L.SimpleRNN(3, return_sequences=True, unroll=u)),
             lambda u: L.Bidirectional(L.GRU(5, unroll=u)),
             lambda u: L.Bidirectional(L.LSTM(4, return_sequences=True, unroll=u))]


@pytest.mark.parametrize("unroll", [True, False])
def test_recurrent_macs_per_layer(unroll):
    """Each recurrent layer alone, so a miscount cannot hide in a sum."""
    for make in RECURRENT:
        model = keras.Sequential([keras.Input((9, 4)), make(unroll)])
        layer = model.layers[-1]
        report = analyze_keras(model)
        check_against_keras(model, report)
        probe = one_step_macs(layer, 1) if not unroll and runs_generic_loop(layer) else 0
        assert torch_macs(model, torch.rand(1, 9, 4)) - probe == report.totals.macs, layer.name


def branchy():
    inp = keras.Input((16, 16, 3), name="image")
    x = L.ZeroPadding2D(1, name="pad")(inp)
    x = L.Conv2D(16, 3, use_bias=False, name="stem")(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(max_value=6, name="relu6")(x)
    a = L.Conv2D(16, 1, name="branch_a")(x)
    b = L.MaxPooling2D(3, strides=1, padding="same", name="branch_b_pool")(x)
    b = L.Conv2D(16, 1, name="branch_b")(b)
    s = L.Add(name="add")([a, b])
    se = L.GlobalAveragePooling2D(keepdims=True, name="se_pool")(s)
    se = L.Dense(4, activation="relu", name="se_reduce")(se)
    se = L.Dense(16, activation="sigmoid", name="se_expand")(se)
    s = L.Multiply(name="se_scale")([s, se])                      # (1, 16, 16, 16) * (1, 1, 1, 16)
    x = L.Concatenate(name="concat")([s, x])
    x = L.ZeroPadding2D(((1, 0), (2, 1)), name="pad_asym")(x)
    x = L.UpSampling2D(2, name="up")(x)
    x = L.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    x = L.PReLU(shared_axes=[1, 2], name="prelu")(x)
    x = L.Conv2D(8, 3, strides=2, padding="same", name="down")(x)
    x = L.LayerNormalization(name="ln")(x)
    x = L.Activation("swish", name="act")(x)
    x = L.Reshape((-1, 8), name="reshape")(x)
    x = L.Dropout(0.3, name="drop")(x)
    x = L.GlobalAveragePooling1D(name="gap1d")(x)
    x = L.Dense(5, name="logits")(x)
    x = L.Softmax(name="softmax")(x)
    return keras.Model(inp, x, name="branchy")


def sequential_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 5, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(32, 3, padding="same"),
        L.BatchNormalization(center=False),
        L.Activation("relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.5),
        L.Dense(256, activation="relu"),
        L.Dense(10),
        L.Activation("softmax"),
    ], name="mnist")


def sequential_built_late():
    """No keras.Input: the input shape comes from model.build()."""
    model = keras.Sequential([L.Dense(32, activation="relu"), L.ReLU(), L.Dense(10)], name="late")
    model.build((None, 20))
    return model


def frozen_model():
    """trainable=False on a layer moves its weights to the non-trainable count (a BatchNorm's too)."""
    inp = keras.Input((8, 8, 3))
    frozen = L.Conv2D(4, 3, name="frozen_conv")
    frozen.trainable = False
    x = frozen(inp)
    bn = L.BatchNormalization(name="frozen_bn")
    bn.trainable = False
    x = bn(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, L.Dense(2, name="out")(x))


def frozen_whole_model():
    """model.trainable = False: every weight is non-trainable."""
    model = keras.Sequential([keras.Input((6,)), L.Dense(4), L.BatchNormalization(), L.Dense(2)], name="ice")
    model.trainable = False
    return model


def text_classifier():
    return keras.Sequential([
        keras.Input((30,), dtype="int32"),
        L.Embedding(1000, 32),
        L.LSTM(24),
        L.Dense(1, activation="sigmoid"),
    ], name="sentiment")


def odds_and_ends():
    """Layers the other models miss, with their less common options."""
    return keras.Sequential([
        keras.Input((6, 7, 8, 2)),
        L.Conv3D(4, 3, strides=2, padding="same", name="c3d"),
        L.Conv3DTranspose(3, 2, strides=2, name="c3dt"),
        L.MaxPooling3D(2, name="p3d"),
        L.Reshape((12, 12), name="to_seq"),
        L.Activation("linear", name="linear"),                 # an identity
        L.LayerNormalization(rms_scaling=True, name="rms"),    # gamma only
        L.LayerNormalization(center=False, name="ln_nocenter"),
        L.UpSampling1D(2, name="up1d"),
        L.ZeroPadding1D((1, 2), name="pad1d"),
        L.AveragePooling1D(3, strides=2, padding="same", name="avg1d"),
        L.Reshape((2, 7, 12), name="to_img"),
        L.Normalization(name="norm"),
        L.Rescaling(1 / 255, name="rescale"),
        L.UpSampling2D((2, 3), interpolation="bilinear", name="bilinear"),
        L.SpatialDropout2D(0.1, name="sdrop"),
        L.ELU(name="elu"),
        L.LeakyReLU(name="leaky_default"),
        L.ReLU(negative_slope=0.1, name="relu_slope"),
        L.GroupNormalization(groups=4, name="gn"),
        L.GlobalMaxPooling2D(keepdims=True, name="gmp"),
        L.Flatten(name="flat"),
        L.Dense(6, activation="gelu", name="dense_gelu"),
        L.Softmax(axis=1, name="softmax"),
    ], name="odds")


def masked_text():
    """Embedding(mask_zero=True): keras 3 serialises the mask as a NotEqual op layer feeding `mask=`, which is
    not one of model.layers and changes no count."""
    inp = keras.Input((10,), dtype="int32")
    x = L.Embedding(50, 8, mask_zero=True, name="embed")(inp)
    x = L.Bidirectional(L.GRU(6, return_sequences=True), name="bigru")(x)
    x = L.LSTM(5, name="lstm")(x)
    return keras.Model(inp, L.Dense(2, name="head")(x), name="masked")


CUSTOM = {"branchy": branchy, "sequential_cnn": sequential_cnn, "sequential_built_late": sequential_built_late,
          "frozen": frozen_model, "frozen_whole": frozen_whole_model, "text_classifier": text_classifier,
          "cnn2d": cnn2d, "cnn1d": cnn1d, "text": text_model, "odds": odds_and_ends, "masked_text": masked_text}


@pytest.fixture(scope="module")
def custom():
    return {name: make() for name, make in CUSTOM.items()}


@pytest.mark.parametrize("name", list(CUSTOM))
def test_custom_params_and_shapes(custom, name):
    model = custom[name]
    check_against_keras(model, analyze_keras(model))


def test_branchy_macs(custom):
    model = custom["branchy"]
    assert torch_macs(model, torch.rand(1, 16, 16, 3)) == analyze_keras(model).totals.macs


def test_masked_text_macs(custom):
    """With a mask every recurrent layer takes keras' generic loop, so FlopCounterMode also counts the
    discarded probe step of each (see above)."""
    model = custom["masked_text"]
    report = analyze_keras(model)
    assert [r.name for r in report.layers] == ["embed", "bigru", "lstm", "head"]
    probe = one_step_macs(model.get_layer("bigru"), 1) + one_step_macs(model.get_layer("lstm"), 1)
    x = torch.randint(1, 50, (1, 10), dtype=torch.int32)
    assert torch_macs(model, x) - probe == report.totals.macs


def test_odds_macs(custom):
    model = custom["odds"]
    assert torch_macs(model, torch.rand(1, 6, 7, 8, 2)) == analyze_keras(model).totals.macs


def test_branchy_graph(custom):
    report = analyze_keras(custom["branchy"])
    assert report["add"].inputs == ("branch_a", "branch_b")
    assert report["se_scale"].input_shapes == ((1, 16, 16, 16), (1, 1, 1, 16))
    assert report["concat"].inputs == ("se_scale", "relu6")


# --------------------------------------------------------------------------- 4. JSON and .keras paths

@pytest.fixture(scope="module")
def saved(tmp_path_factory, custom, apps):
    """Model name -> (report of the model object, JSON path, .keras path or None), written once."""
    d = tmp_path_factory.mktemp("keras_models")
    out = {}
    for name, model in list(custom.items()) + [(n, apps[n]) for n in ("ResNet50", "InceptionV3", "DenseNet121")]:
        js = d / f"{name}.json"
        js.write_text(model.to_json(), encoding="utf-8")
        archive = None
        if name in custom:                        # applications' archives are 10-500 MB of weights: skip
            archive = d / f"{name}.keras"
            model.save(archive)
        out[name] = (analyze_keras(model), js, archive)
    return out


def test_json_and_archive_match_model_object(saved):
    for name, (ref, js, archive) in saved.items():
        expected = rows(ref)
        assert rows(cnncalc.analyze(str(js))) == expected, name
        assert rows(cnncalc.analyze(js.read_text(encoding="utf-8"))) == expected, name
        assert rows(cnncalc.analyze(json.loads(js.read_text(encoding="utf-8")))) == expected, name
        if archive is not None:
            assert rows(cnncalc.analyze(str(archive))) == expected, name
            assert rows(cnncalc.analyze(archive)) == expected, name          # a pathlib.Path
        assert cnncalc.analyze(str(js)).totals == ref.totals


BLOCKER = textwrap.dedent("""
    import importlib.abc, json, sys
    BLOCKED = ("keras", "tf_keras", "tensorflow", "torch", "jax", "numpy", "h5py")
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
    for m in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
        del sys.modules[m]
    sys.meta_path.insert(0, Block())
    try:
        import keras
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker does not work")
""")


def run_blocked(code: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("KERAS_BACKEND", None)
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_json_and_archive_without_keras_or_torch(saved):
    paths = {name: [str(js)] + ([str(archive)] if archive else []) for name, (_, js, archive) in saved.items()}
    proc = run_blocked("""
        import cnncalc, io, contextlib
        from cnncalc.cli import main
        paths = json.loads(sys.argv[1])
        out = {}
        for name, files in paths.items():
            out[name] = [[dict(r, line=None) for r in cnncalc.analyze(f).to_dict()["layers"]] for f in files]
            with open(files[0], encoding="utf-8") as fh:
                out[name].append([dict(r, line=None) for r in cnncalc.analyze(fh.read()).to_dict()["layers"]])
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = main(["summary", files[-1], "--format", "json"])
            assert rc == 0, rc
            out[name].append([dict(r, line=None) for r in json.loads(buf.getvalue())["layers"]])
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print(json.dumps({"out": out, "leaked": leaked}))
    """, json.dumps(paths))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["leaked"] == []
    for name, (ref, _, _) in saved.items():
        expected = json.loads(json.dumps(rows(ref)))              # tuples -> lists, as JSON gives them
        got = result["out"][name]
        assert len(got) == len(paths[name]) + 2
        for variant in got:
            assert variant == expected, name


def test_cli_summary_of_archive_and_json(saved, capsys):
    from cnncalc.cli import main
    ref, js, archive = saved["branchy"]
    for path in (archive, js):
        assert main(["summary", str(path), "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["totals"]["params"] == ref.totals.params
        assert data["totals"]["macs"] == ref.totals.macs
        assert data["convention"] == "keras"
    assert main(["summary", str(archive)]) == 0                   # the table
    assert "se_scale" in capsys.readouterr().out


# --------------------------------------------------------------------------- 5. errors

def lambda_model():
    inp = keras.Input((8,))
    x = L.Dense(4, name="d")(inp)
    x = L.Lambda(lambda t: t * 2, name="double_it")(x)
    return keras.Model(inp, x)


def channels_first():
    inp = keras.Input((3, 16, 16))
    x = L.Conv2D(4, 3, data_format="channels_first", name="cf_conv")(inp)
    return keras.Model(inp, L.Flatten()(x))


def two_inputs():
    a = keras.Input((8,), name="left_in")
    b = keras.Input((8,), name="right_in")
    return keras.Model([a, b], L.Dense(2)(L.Concatenate()([a, b])))


def unlike_backward_layer():
    inp = keras.Input((5, 3))
    x = L.Bidirectional(L.LSTM(3), backward_layer=L.GRU(3, go_backwards=True), name="lstm_fwd_gru_bwd")(inp)
    return keras.Model(inp, x)


def lambda_in_nested_model():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(4), L.Lambda(lambda t: t * 2, name="inner_lambda")],
                             name="inner_with_lambda")
    inp = keras.Input((8,))
    return keras.Model(inp, L.Dense(2)(inner(inp)))


# nested models (nested_sequential, nested_in_sequential) and shared layers (shared_layer) are read since issue
# 12: tests/test_keras_applications.py checks them against Keras; an LSTM's return_state states and
# MultiHeadAttention's attention scores read downstream are rows: tests/test_keras_outputs.py
ERRORS = {"lambda": (lambda_model, "double_it"), "lambda_in_nested": (lambda_in_nested_model, "inner_lambda"),
          "channels_first": (channels_first, "cf_conv"),
          "backward_layer": (unlike_backward_layer, "lstm_fwd_gru_bwd")}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_keras")
    out = {}
    for name, (make, _) in ERRORS.items():
        model = make()
        path = d / f"{name}.json"
        path.write_text(model.to_json(), encoding="utf-8")
        out[name] = (model, path)
    return out


@pytest.mark.parametrize("name", list(ERRORS))
def test_unsupported_models_are_clean_errors(bad_files, name, capsys):
    from cnncalc.cli import main
    model, path = bad_files[name]
    layer = ERRORS[name][1]
    for source in (model, path, str(path)):
        with pytest.raises(SpecError) as err:
            analyze_keras(source)
        message = str(err.value)
        assert "\n" not in message and layer in message, message
    with pytest.raises(SpecError):
        cnncalc.analyze(str(path))
    assert main(["summary", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnncalc: error:") and layer in lines[0], captured.err
    assert "Traceback" not in captured.err


def test_cli_error_exit_code_in_a_real_process(bad_files):
    """The installed entry point, in a process without keras or torch: exit 2, one line, no traceback."""
    _, path = bad_files["lambda"]
    proc = run_blocked("""
        from cnncalc.cli import main
        sys.exit(main(["summary", sys.argv[1]]))
    """, path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "double_it" in proc.stderr



def test_several_inputs():
    model = two_inputs()
    report = analyze_keras(model)
    assert report.totals.params == model.count_params() == (16 + 1) * 2
    assert report.layers[-1].output_shape == (1, 2)
    assert report["concatenate"].input_shapes == ((1, 8), (1, 8)) if "concatenate" in [l.name for l in
                                                                                      report.layers] else True


@pytest.mark.parametrize("heads,key_dim,value_dim,bias,cross", [
    (4, 8, None, True, False), (2, 16, 5, False, True), (3, 6, 6, True, True)])
def test_multi_head_attention_against_keras_and_flopcounter(heads, key_dim, value_dim, bias, cross):
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    q = keras.Input((7, 12), name="q")
    v = keras.Input((9, 10), name="v") if cross else q
    mha = L.MultiHeadAttention(heads, key_dim, value_dim=value_dim, use_bias=bias, name="mha")
    out = mha(q, v)
    model = keras.Model([q, v] if cross else q, out)
    report = analyze_keras(model, batch=2)
    row = report["mha"]
    assert row.params == mha.count_params()
    assert row.output_shape == (2,) + tuple(mha.output.shape[1:])
    xs = [torch.randn(2, 7, 12)] + ([torch.randn(2, 9, 10)] if cross else [])
    # torch's fused CPU attention kernel is invisible to FlopCounterMode: count the math path
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as f, torch.no_grad():
        model(xs if cross else xs[0])
    assert row.macs == f.get_total_flops() // 2
