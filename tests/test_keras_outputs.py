"""Keras layers whose further outputs are read (LSTM / GRU ``return_state=True``), ``keras.ops`` layers between
two KerasTensors, and TimeDistributed around a Sequential model -- against Keras on the torch backend.

Oracles: ``count_params()`` and the sizes of ``trainable_weights`` / ``non_trainable_weights``; every row's
output shape from Keras' graph (``node.output_tensors[j]`` of output ``j``; a TimeDistributed model's inner
layer: (batch, time) + the inner layer's output shape); MACs = ``FlopCounterMode`` FLOPs / 2 of a real forward
pass (LSTM and GRU without masks take Keras' fused path, one step per time step: exact, see
test_keras_frontend.py).  The model's JSON and ``.keras`` archive give the same rows in a process where Keras,
torch and numpy cannot be imported.
"""
from __future__ import annotations

import json
import os

os.environ["KERAS_BACKEND"] = "torch"

import pytest  # noqa: E402

import cnncalc  # noqa: E402

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

if keras.backend.backend() != "torch":
    pytest.skip("these tests need KERAS_BACKEND=torch", allow_module_level=True)

from test_keras_frontend import run_blocked  # noqa: E402

L = keras.layers
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]
BATCH = 2


def n_weights(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def shape(tensor) -> tuple:
    return tuple(BATCH if d is None else int(d) for d in tensor.shape)


def expected_rows(model) -> dict:
    """Row name -> output shape from Keras' graph: output 0 of every call, output j >= 1 as ``name[j]`` where a
    later layer reads it (as a tensor, not as an initial state), TimeDistributed models per inner layer."""
    read = set()
    for op in model.operations:
        for node in op._inbound_nodes:
            for t in node.arguments.keras_tensors:
                if t not in [s for key, v in node.arguments.kwargs.items() if key == "initial_state" for s in v]:
                    read.add(id(t))
    rows = {}
    for op in model.operations:
        if isinstance(op, L.InputLayer):
            continue
        node = op._inbound_nodes[0]
        if isinstance(op, L.TimeDistributed) and isinstance(op.layer, keras.Model):
            t = shape(node.output_tensors[0])[:2]
            for inner in op.layer.layers:
                rows[f"{op.name}/{inner.name}"] = t + shape(inner.output)[1:]
            continue
        rows[op.name] = shape(node.output_tensors[0])
        for j, out in enumerate(node.output_tensors[1:], start=1):
            if id(out) in read:
                rows[f"{op.name}[{j}]"] = shape(out)
                if getattr(op, "return_sequences", False):
                    # hand arithmetic: the last step of (batch, T, units) is (batch, 1, units)
                    rows[f"{op.name}[last step]"] = (BATCH, 1, shape(out)[-1])
    return rows


def torch_macs(model, xs) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(xs if len(xs) > 1 else xs[0], training=False)
    return counter.get_total_flops() // 2


def lstm_states():
    x = keras.Input((10, 8))
    seq, h, c = L.LSTM(16, return_sequences=True, return_state=True, name="enc")(x)
    out = L.Concatenate()([L.GlobalAveragePooling1D()(seq), h, c])
    return keras.Model(x, L.Dense(3)(out)), [(10, 8)]


def gru_state():
    x = keras.Input((10, 8))
    o, h = L.GRU(12, return_state=True)(x)
    return keras.Model(x, L.Dense(4)(L.Add()([o, h]))), [(10, 8)]


def encoder_decoder():
    src, tgt = keras.Input((9, 6)), keras.Input((7, 5))
    _, h, c = L.LSTM(16, return_state=True, name="encoder")(src)
    seq = L.LSTM(16, return_sequences=True, name="decoder")(tgt, initial_state=[h, c])
    return keras.Model([src, tgt], L.Dense(5)(seq)), [(9, 6), (7, 5)]


def ops_between_tensors():
    a, b = keras.Input((4, 8)), keras.Input((8, 5))
    x = keras.ops.add(a, a)
    y = keras.ops.matmul(x, b)
    z = keras.ops.concatenate([y, keras.ops.multiply(y, y)], axis=-1)
    return keras.Model([a, b], L.Dense(3)(z)), [(4, 8), (8, 5)]


def time_distributed_model():
    inner = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3), L.BatchNormalization(), L.Flatten(),
                              L.Dense(5, trainable=False)])
    x = keras.Input((6, 8, 8, 3))
    return keras.Model(x, L.LSTM(4)(L.TimeDistributed(inner)(x))), [(6, 8, 8, 3)]


def attention_scores():
    x = keras.Input((8, 16))
    o, scores = L.MultiHeadAttention(2, 4, name="mha")(x, x, return_attention_scores=True)
    return keras.Model(x, [o, L.Dense(3)(scores)]), [(8, 16)]


MODELS = {"lstm_states": lstm_states, "gru_state": gru_state, "encoder_decoder": encoder_decoder,
          "ops_between_tensors": ops_between_tensors, "time_distributed_model": time_distributed_model,
          "attention_scores": attention_scores}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    out = {}
    for name, make in MODELS.items():
        keras.utils.set_random_seed(0)
        model, inputs = make()
        js, archive = d / f"{name}.json", d / f"{name}.keras"
        js.write_text(model.to_json(), encoding="utf-8")
        model.save(archive)
        out[name] = (model, inputs, js, archive)
    return out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_against_keras(built, name):
    model, inputs, _, _ = built[name]
    report = cnncalc.analyze(model, batch=BATCH)
    t = report.totals
    assert (t.params, t.trainable_params, t.non_trainable_params) == (
        model.count_params(), n_weights(model.trainable_weights), n_weights(model.non_trainable_weights))
    assert {r.name: tuple(r.output_shape) for r in report.layers} == expected_rows(model)
    xs = [torch.rand(BATCH, *s) for s in inputs]
    assert report.totals.macs == torch_macs(model, xs)


def test_state_rows_cost_nothing(built):
    report = cnncalc.analyze(built["lstm_states"][0], batch=BATCH)
    for row in ("enc[last step]", "enc[1]", "enc[2]"):
        assert (report[row].params, report[row].macs, report[row].flops) == (0, 0, 0)


def test_json_and_archive_without_keras(built):
    paths = {n: [str(e[2]), str(e[3])] for n, e in built.items()}
    proc = run_blocked("""
        import cnncalc
        paths = json.loads(sys.argv[1])
        out = {n: [[dict(r, line=None) for r in cnncalc.analyze(f, batch=2).to_dict()["layers"]] for f in fs]
               for n, fs in paths.items()}
        print(json.dumps(out))
    """, json.dumps(paths))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    for name, (model, *_rest) in built.items():
        want = json.loads(json.dumps([dict(r, line=None) for r in
                                      cnncalc.analyze(model, batch=BATCH).to_dict()["layers"]]))
        for variant in out[name]:
            assert variant == want, name


def test_cross_attention_scores_have_the_keys_steps():
    """Cross-attention (8 query steps, 5 key steps): the scores are (batch, heads, 8, 5), as an eager call gives
    them (Keras' symbolic shape says 8 key steps: a Keras bug, so the oracle is the real call), and cost
    nothing of their own."""
    keras.utils.set_random_seed(0)
    q, kv = keras.Input((8, 16)), keras.Input((5, 16))
    mha = L.MultiHeadAttention(2, 4, name="mha")
    o, scores = mha(q, kv, return_attention_scores=True)
    model = keras.Model([q, kv], [o, L.Flatten()(scores)])
    _, real = mha(np.zeros((BATCH, 8, 16), "float32"), np.zeros((BATCH, 5, 16), "float32"),
                  return_attention_scores=True)
    report = cnncalc.analyze(model, batch=BATCH)
    assert tuple(report["mha[1]"].output_shape) == tuple(real.shape) == (BATCH, 2, 8, 5)
    assert (report["mha[1]"].params, report["mha[1]"].macs) == (0, 0)
    assert tuple(report.layers[-1].output_shape) == (BATCH, 2 * 8 * 5)
    assert report.totals.params == model.count_params()


def test_training_with_attention_scores_read_says_so(built):
    """The training step does not model a read of the attention weights (they are the attention layer's own
    saved tensor): a clear SpecError naming the row, not a step that counts them twice."""
    with pytest.raises(cnncalc.SpecError, match="return_attention_scores"):
        cnncalc.analyze(built["attention_scores"][0], batch=BATCH, train=True)
