"""Every keras.applications model, and the Keras layers issue 12 added, against Keras itself (torch backend).

Oracles, all from Keras or torch, never from cnncalc:

* parameters: ``count_params()`` and the sizes of ``trainable_weights`` / ``non_trainable_weights``, of the
  model and of every layer (a shared layer's weights on its first call, 0 on the others);
* shapes: the output of every call of every operation of the graph (``model.operations``: layers and the
  ``keras.ops`` calls a config records, e.g. MobileNetV3's ``x + 3.0``); a nested model's layers are rows
  ``outer/inner``, the second call of a shared layer ``name:1``;
* MACs: ``FlopCounterMode`` FLOPs / 2 of a real forward pass on the torch backend.

Applications: all 40 of ``keras.applications`` except NASNetMobile, which Keras refuses to build on the torch
backend ("not available with the torch backend at this time due to an outstanding bug"); each is built once
(weights=None, default input size; MobileNetV3, whose default size is (None, None), at 224), read, and freed.
None takes over 10 s to build here (the largest, EfficientNetB7 / V2L / ConvNeXtXLarge, about 5 s).
The JSON of every model, and a .keras archive (config.json only for the applications; ``model.save`` for the
small models), are read again in a process where keras, torch and numpy cannot be imported.
"""
from __future__ import annotations

import gc
import json
import os
import zipfile

os.environ["KERAS_BACKEND"] = "torch"      # before keras is imported anywhere in this process

import pytest  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import SpecError  # noqa: E402
from cnncalc.frontends.keras import analyze_keras  # noqa: E402

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

if keras.backend.backend() != "torch":
    pytest.skip("these tests need KERAS_BACKEND=torch", allow_module_level=True)

from test_keras_frontend import run_blocked  # noqa: E402

L = keras.layers
torch.set_num_threads(1)
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

APPLICATIONS = sorted(n for n in dir(keras.applications) if n[0].isupper() and n != "NASNetMobile")


# --------------------------------------------------------------------------- oracles

def n_weights(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def shape_of(tensor, batch: int) -> tuple:
    return tuple(batch if d is None else int(d) for d in tensor.shape)


def keras_rows(model, batch: int = 1, prefix: str = "", wprefix: str = "", owners=None) -> dict:
    """Row name -> (output shape, params, trainable, non-trainable), from Keras' graph: every call of every
    operation, nested models opened in place, weights counted on a layer's first call."""
    owners = set() if owners is None else owners
    rows = {}
    ops = model.layers if isinstance(model, keras.Sequential) else model.operations
    for op in ops:
        if isinstance(op, L.InputLayer):
            continue
        for k, node in enumerate(op._inbound_nodes):
            label = prefix + op.name + (f":{k}" if k else "")
            if isinstance(op, keras.Model):
                rows.update(keras_rows(op, batch, label + "/", wprefix + op.name + "/", owners))
                continue
            first = wprefix + op.name not in owners
            owners.add(wprefix + op.name)
            tw = n_weights(getattr(op, "trainable_weights", [])) if first else 0
            nw = n_weights(getattr(op, "non_trainable_weights", [])) if first else 0
            rows[label] = (shape_of(node.output_tensors[0], batch), tw + nw, tw, nw)
    return rows


def oracle(model, batch: int = 1) -> dict:
    first = next(op for op in (model._layers if isinstance(model, keras.Sequential) else model.operations)
                 if isinstance(op, L.InputLayer))
    return {"params": model.count_params(), "trainable": n_weights(model.trainable_weights),
            "non_trainable": n_weights(model.non_trainable_weights), "input": first.name,
            "rows": keras_rows(model, batch)}


def check(report, expected: dict) -> None:
    t = report.totals
    assert (t.params, t.trainable_params, t.non_trainable_params) == \
        (expected["params"], expected["trainable"], expected["non_trainable"])
    assert report.input_name == expected["input"]
    got = {r.name: (tuple(r.output_shape), r.params, r.trainable_params, r.non_trainable_params)
           for r in report.layers}
    assert len(got) == len(report.layers)                       # row names are unique
    assert set(got) == set(expected["rows"])
    for name, want in expected["rows"].items():
        assert got[name] == want, name


def torch_macs(model, *xs) -> int:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(list(xs) if len(xs) > 1 else xs[0], training=False)
    assert counter.get_total_flops() % 2 == 0
    return counter.get_total_flops() // 2


def rows_of(report) -> list:
    return [dict(r.to_dict(), line=None) for r in report.layers]


def config_only_archive(path, model_json: str) -> None:
    """A .keras archive holding only its config.json (the applications' weights are 10 MB - 1.4 GB)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", model_json)
        z.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))


# --------------------------------------------------------------------------- 1. keras.applications

@pytest.fixture(scope="module")
def applications(tmp_path_factory):
    """name -> (oracle, report rows, JSON path, config-only .keras path) or the build's exception; each model
    built once and freed before the next."""
    d = tmp_path_factory.mktemp("applications")
    out = {}
    for name in APPLICATIONS:
        keras.backend.clear_session()
        try:
            kw = {"input_shape": (224, 224, 3)} if name.startswith("MobileNetV3") else {}
            model = getattr(keras.applications, name)(weights=None, **kw)
        except Exception as e:                    # noqa: BLE001 -- reported by the test of that model
            out[name] = e
            continue
        text = model.to_json()
        js, archive = d / f"{name}.json", d / f"{name}.keras"
        js.write_text(text, encoding="utf-8")
        config_only_archive(archive, text)
        try:
            report = rows_of(analyze_keras(model))
        except SpecError as e:
            report = e
        out[name] = (oracle(model), report, js, archive)
        del model
        gc.collect()
    return out


@pytest.mark.parametrize("name", APPLICATIONS)
def test_application_params_and_every_shape(applications, name):
    entry = applications[name]
    if isinstance(entry, Exception):
        raise entry
    expected, rows, js, _ = entry
    assert not isinstance(rows, Exception), rows
    report = analyze_keras(str(js))
    check(report, expected)
    assert rows_of(report) == rows                                   # the JSON reads as the model object does


def test_nasnet_mobile_does_not_build_on_torch():
    """The one application left out: if Keras ever builds it, it belongs in APPLICATIONS."""
    with pytest.raises(ValueError, match="torch backend"):
        keras.applications.NASNetMobile(weights=None)


def test_applications_without_keras_or_torch(applications):
    """JSON and .keras of every application, in a process where keras, torch and numpy cannot be imported."""
    paths = {n: [str(e[2]), str(e[3])] for n, e in applications.items() if not isinstance(e, Exception)}
    proc = run_blocked("""
        import cnncalc
        paths = json.loads(sys.argv[1])
        out = {n: [[dict(r, line=None) for r in cnncalc.analyze(f).to_dict()["layers"]] for f in fs]
               for n, fs in paths.items()}
        print(json.dumps({"out": out, "leaked": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)}))
    """, json.dumps(paths))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["leaked"] == []
    for name in paths:
        expected = json.loads(json.dumps(applications[name][1]))
        for variant in result["out"][name]:
            assert variant == expected, name


MACS = {"MobileNetV3Small": (224, 224, 3), "ConvNeXtTiny": (64, 64, 3), "InceptionResNetV2": (75, 75, 3),
        "EfficientNetV2B0": (64, 64, 3), "NASNetLarge": (64, 64, 3)}


@pytest.mark.parametrize("name", sorted(MACS))
def test_application_macs(name):
    """Hard-sigmoid / hard-swish and x + 3 (MobileNetV3), nested stems and LayerScale (ConvNeXt), the scaled
    residual sum (InceptionResNetV2), constant Normalization (EfficientNetV2), Cropping2D (NASNet)."""
    keras.backend.clear_session()
    model = getattr(keras.applications, name)(weights=None, input_shape=MACS[name])
    report = analyze_keras(model)
    check(report, oracle(model))
    assert torch_macs(model, torch.rand(1, *MACS[name])) == report.totals.macs


# --------------------------------------------------------------------------- 2. the layers of issue 12

def cropping():
    return keras.Sequential([
        keras.Input((12, 10, 9, 3)),
        L.Cropping3D(((1, 0), (2, 1), (0, 3)), name="crop3d"),
        L.Reshape((11, 126), name="to_seq"),
        L.Cropping1D((1, 2), name="crop1d"),
        L.Cropping1D(name="crop1d_default"),                      # (1, 1)
        L.Reshape((6, 6, 21), name="to_img"),
        L.Cropping2D(((1, 2), (3, 0)), name="crop2d"),
        L.Cropping2D(1, name="crop2d_int"),
        L.Conv2D(4, 1, name="conv"),
    ], name="cropping")


def attention_model(layer, cross: bool, key: bool):
    q = keras.Input((5, 6), name="query")
    v = keras.Input((7, 4 if key else 6), name="value") if cross else q
    k = keras.Input((7, 6), name="key") if key else None
    out = layer([q, v, k] if key else [q, v])
    ins = [q] + ([v] if cross else []) + ([k] if key else [])
    return keras.Model(ins if len(ins) > 1 else q, L.Dense(3, name="head")(out)), ins


ATTENTION = {
    "dot": lambda: L.Attention(name="att"),
    "dot_scale": lambda: L.Attention(use_scale=True, name="att"),
    "concat": lambda: L.Attention(score_mode="concat", name="att"),
    "concat_scale": lambda: L.Attention(use_scale=True, score_mode="concat", name="att"),
    "additive": lambda: L.AdditiveAttention(name="att"),
    "additive_noscale": lambda: L.AdditiveAttention(use_scale=False, name="att"),
}


@pytest.mark.parametrize("cross,key", [(False, False), (True, False), (True, True)], ids=["self", "cross", "key"])
@pytest.mark.parametrize("kind", sorted(ATTENTION))
def test_attention_layers_against_keras(kind, cross, key):
    """Attention (dot / concat scores, scale) and AdditiveAttention: weights, shape, the matmul MACs."""
    keras.backend.clear_session()
    model, ins = attention_model(ATTENTION[kind](), cross, key)
    report = analyze_keras(model, batch=2)
    check(report, oracle(model, 2))
    assert report["att"].kind == ("additiveattention" if kind.startswith("additive") else "attention")
    xs = [torch.rand(2, *tuple(int(d) for d in i.shape[1:])) for i in ins]
    assert torch_macs(model, *xs) == report.totals.macs
    Tv, dv = 7 if cross else 5, 4 if key else 6            # by hand: A V, plus Q K^T for dot scores
    assert report["att"].macs == (2 * 5 * Tv * 6 if kind.startswith("dot") else 0) + 2 * 5 * Tv * dv
    assert report["att"].params == {"dot": 0, "dot_scale": 1, "concat": 1, "concat_scale": 2, "additive": 6,
                                    "additive_noscale": 0}[kind]


def test_attention_is_not_multi_head_attention():
    """`attention` is Keras' dot-product Attention now; multi-head attention is `multiheadattention` / `mha`."""
    r = cnncalc.analyze("input(5, 6) | q: identity | attention(q, q)", convention="keras")
    assert r.layers[-1].kind == "attention" and r.layers[-1].params == 0
    assert r.layers[-1].macs == 5 * 5 * 6 * 2
    r = cnncalc.analyze("input(5, 6) | mha(2, 3)", convention="keras")
    assert r.layers[-1].kind == "multiheadattention"


def time_distributed():
    inp = keras.Input((4, 10, 9, 3), name="frames")
    x = L.TimeDistributed(L.Conv2D(6, 3, strides=2, activation="relu"), name="td_conv")(inp)
    x = L.TimeDistributed(L.MaxPooling2D(2), name="td_pool")(x)
    x = L.TimeDistributed(L.Flatten(), name="td_flat")(x)
    x = L.TimeDistributed(L.Dense(5, activation="relu"), name="td_dense")(x)
    x = L.LSTM(3, name="lstm")(x)
    return keras.Model(inp, x)


def shared_layers():
    a = keras.Input((6, 6, 2), name="left")
    b = keras.Input((6, 6, 2), name="right")
    conv = L.Conv2D(4, 3, padding="same", name="shared_conv")
    x, y = conv(a), conv(b)
    dense = L.Dense(4, name="shared_dense")
    h = L.Concatenate(name="cat")([x, y])
    h = L.Dense(4, name="mid")(h)
    h = dense(h)
    h = dense(h)                                   # called on its own output: a later call waits for its input
    return keras.Model([a, b], L.GlobalAveragePooling2D(name="gap")(h))


def shared_dense_chain():
    inp = keras.Input((8,))
    shared = L.Dense(8, name="shared_dense")
    return keras.Model(inp, shared(L.Dense(8, name="between")(shared(inp))))


def permute():
    return keras.Sequential([keras.Input((3, 5, 7)), L.Permute((3, 1, 2), name="p312"), L.Permute((2, 1, 3)),
                             L.Reshape((35, 3)), L.Permute((2, 1), name="p21"), L.Dense(4, name="dense")],
                            name="permute")


def nested_sequential():
    inner = keras.Sequential([L.Dense(4, name="d"), L.ReLU(name="r")], name="inner_block")
    inp = keras.Input((8,))
    return keras.Model(inp, L.Dense(2, name="out")(inner(inp)))


def nested_in_sequential():
    inner = keras.Sequential([L.Dense(4, name="d"), L.ReLU(name="r")], name="inner_seq")
    return keras.Sequential([keras.Input((8,)), inner, L.Dense(2, name="out")], name="outer_seq")


def nested_functional_twice():
    """A functional encoder used on two inputs (its weights once), with a nested Sequential inside and two
    outputs; a frozen nested model."""
    ei = keras.Input((8,), name="enc_in")
    h = L.Dense(6, name="enc_dense")(ei)
    h = keras.Sequential([L.Dense(6, name="deep_dense"), L.BatchNormalization(name="deep_bn")], name="deep")(h)
    enc = keras.Model(ei, [L.ReLU(name="enc_relu")(h), L.Dense(2, name="enc_side")(h)], name="enc")
    frozen = keras.Sequential([L.Dense(5, name="fz_dense"), L.BatchNormalization(name="fz_bn")], name="frozen")
    frozen.trainable = False
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    (x, xs), (y, ys) = enc(a), enc(b)
    z = L.Concatenate(name="cat")([x, y, xs, ys])
    return keras.Model([a, b], frozen(z))


def odds():
    """Normalization with constants (no weights), a Normalization that adapts (2C + 1), hard sigmoid / silu,
    keras.ops arithmetic with a number."""
    inp = keras.Input((6, 4))
    x = L.Normalization(mean=[0.1, 0.2, 0.3, 0.4], variance=[1.0, 2.0, 3.0, 4.0], name="norm_const")(inp)
    x = L.Normalization(name="norm_adapt")(x)
    x = L.Activation("hard_sigmoid", name="hsig")(x)
    x = L.Activation("hard_silu", name="hsilu")(x)
    x = keras.ops.multiply(keras.ops.add(x, 3.0), 1.0 / 6.0)
    return keras.Model(inp, L.Dense(2, name="out")(x))


def attentions():
    q, v = keras.Input((5, 6), name="q"), keras.Input((7, 6), name="v")
    a = L.Attention(use_scale=True, score_mode="concat", name="att")([q, v])
    return keras.Model([q, v], L.Concatenate(name="cat")([a, L.AdditiveAttention(name="add_att")([q, v, v])]))


UNITS = {"attentions": (attentions, [(5, 6), (7, 6)]), "cropping": (cropping, [(12, 10, 9, 3)]),
         "time_distributed": (time_distributed, [(4, 10, 9, 3)]),
         "shared_layers": (shared_layers, [(6, 6, 2), (6, 6, 2)]), "shared_dense_chain": (shared_dense_chain, [(8,)]),
         "permute": (permute, [(3, 5, 7)]), "nested_sequential": (nested_sequential, [(8,)]),
         "nested_in_sequential": (nested_in_sequential, [(8,)]),
         "nested_functional_twice": (nested_functional_twice, [(8,), (8,)]), "odds": (odds, [(6, 4)])}


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    d = tmp_path_factory.mktemp("units")
    out = {}
    for name, (make, _) in UNITS.items():
        keras.backend.clear_session()
        model = make()
        js, archive = d / f"{name}.json", d / f"{name}.keras"
        js.write_text(model.to_json(), encoding="utf-8")
        model.save(archive)
        out[name] = (model, js, archive)
    return out


@pytest.mark.parametrize("name", sorted(UNITS))
def test_layers_against_keras(units, name):
    model, _, _ = units[name]
    report = analyze_keras(model, batch=2)
    check(report, oracle(model, 2))
    xs = [torch.rand(2, *s) for s in UNITS[name][1]]
    assert torch_macs(model, *xs) == report.totals.macs


def test_cropping_explained(units):
    report = analyze_keras(units["cropping"][0])
    steps = {s.quantity: s for s in report["crop2d"].steps}
    assert (steps["H_out"].expr, steps["H_out"].value) == ("6 - 1 - 2", 3)
    assert (steps["W_out"].expr, steps["W_out"].value) == ("6 - 3 - 0", 3)
    assert report["crop3d"].rf is not None and report["crop1d_default"].output_shape == (1, 6, 126)
    assert "D_out = 12 - 1 - 0 = 11" in report.explain("crop3d")
    with pytest.raises(SpecError, match="cropping"):
        cnncalc.analyze("input(4, 4, 3) | cropping2d(((2, 2), (0, 0)))", convention="keras")


def test_shared_rows(units):
    """Parameters once, on the first call; every call's costs; the later call's explanation names the owner."""
    report = analyze_keras(units["shared_layers"][0])
    first, second = report["shared_conv"], report["shared_conv:1"]
    assert first.params == (3 * 3 * 2 + 1) * 4 and second.params == 0
    assert first.macs == second.macs == 6 * 6 * 4 * 3 * 3 * 2
    assert "the weights of 'shared_conv'" in report.explain("shared_conv:1")
    assert report["shared_dense:1"].inputs == ("shared_dense",)
    assert [r.name for r in report.layers].index("shared_dense:1") > [r.name for r in report.layers].index("mid")


def test_nested_rows(units):
    report = analyze_keras(units["nested_functional_twice"][0])
    names = [r.name for r in report.layers]
    assert names[:4] == ["enc/enc_dense", "enc/deep/deep_dense", "enc/deep/deep_bn", "enc/enc_relu"]
    assert "enc:1/deep/deep_dense" in names and report["enc:1/deep/deep_dense"].params == 0
    assert report["enc/enc_dense"].inputs == ("a",) and report["enc:1/enc_dense"].inputs == ("b",)
    assert report["cat"].inputs == ("enc/enc_relu", "enc:1/enc_relu", "enc/enc_side", "enc:1/enc_side")
    fz = report["frozen/fz_dense"]
    assert fz.trainable_params == 0 and fz.non_trainable_params == 16 * 5 + 5
    assert report["enc/deep/deep_bn"].depth == 2
    assert "deep_dense (dense)" in report.table()                   # a nested row shows its own name, indented


def test_time_distributed_explained(units):
    report = analyze_keras(units["time_distributed"][0])
    row = report["td_conv"]
    assert row.steps[0].quantity == "batch" and row.steps[0].value == 4
    assert row.kind == "timedistributed" and row.output_shape == (1, 4, 4, 4, 6)
    assert row.macs == 4 * 4 * 4 * 6 * 3 * 3 * 3
    assert any(s.quantity.startswith("relu_") for s in row.steps)   # the inner layer's activation='relu'
    assert report.training is None and cnncalc.analyze(units["time_distributed"][0], train=True).training


def test_input_row_carries_the_keras_name(units):
    model = units["shared_layers"][0]
    report = analyze_keras(model)
    assert report.input_name == "left"
    assert "left (input)" in report.table() and report.to_dict()["input_name"] == "left"
    assert "| 0 | left | input |" in report.to_markdown()
    seq = units["permute"][0]
    assert analyze_keras(seq).input_name == seq._layers[0].name             # e.g. input_layer_3
    assert cnncalc.analyze("input(3, 8, 8) | conv2d(4, 3)").input_name == "input"


def test_training_step_of_shared_and_nested(units):
    """The training step reads the same rows: one gradient per weight of a shared layer, computed on every call."""
    model = units["shared_dense_chain"][0]
    report = cnncalc.analyze(model, train=True, batch=2)
    per = report.training.per_layer
    assert per["shared_dense:1"]["weight_macs"] == per["shared_dense"]["weight_macs"] == 2 * 8 * 8
    assert report.training.gradient_bytes == 4 * model.count_params()
    assert cnncalc.analyze(units["nested_functional_twice"][0], train=True).training.backward_macs > 0


def test_units_without_keras_or_torch(units):
    paths = {n: [str(js), str(archive)] for n, (_, js, archive) in units.items()}
    proc = run_blocked("""
        import cnncalc
        paths = json.loads(sys.argv[1])
        out = {n: [[dict(r, line=None) for r in cnncalc.analyze(f).to_dict()["layers"]] for f in fs]
               for n, fs in paths.items()}
        print(json.dumps(out))
    """, json.dumps(paths))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    for name, (model, _, _) in units.items():
        expected = json.loads(json.dumps(rows_of(analyze_keras(model))))
        assert out[name] == [expected, expected], name


# --------------------------------------------------------------------------- 3. subclassed models

class Subclassed(keras.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.conv = L.Conv2D(4, 3)
        self.pool = L.GlobalAveragePooling2D()
        self.out = L.Dense(2)

    def call(self, x):
        return self.out(self.pool(self.conv(x)))


class FunctionalSubclass(keras.Model):
    def __init__(self):
        inp = keras.Input((8, 8, 3), name="pixels")
        x = L.Conv2D(4, 3, name="conv")(inp)
        super().__init__(inp, L.Dense(2, name="out")(L.GlobalAveragePooling2D(name="gap")(x)), name="fsub")


def test_subclassed_model_with_a_graph_is_read_through_it():
    model = FunctionalSubclass()
    assert json.loads(model.to_json())["config"].get("layers") is None          # Keras does not serialise it
    report = cnncalc.analyze(model)
    check(report, oracle(model))
    assert torch_macs(model, torch.rand(1, 8, 8, 3)) == report.totals.macs


def test_subclassed_model_without_a_graph(tmp_path):
    model = Subclassed()
    model(keras.ops.zeros((1, 8, 8, 3)))
    path = tmp_path / "sub.json"
    path.write_text(model.to_json(), encoding="utf-8")
    for source in (model, str(path)):
        with pytest.raises(SpecError) as err:
            cnncalc.analyze(source)
        message = str(err.value)
        assert "subclassed" in message and "functional API" in message and "input_size" in message, message
    # on the torch backend the model is a torch module: traced with input_size
    report = cnncalc.analyze(model, input_size=(1, 8, 8, 3))
    assert report.source == "torch" and report.totals.params == model.count_params()
