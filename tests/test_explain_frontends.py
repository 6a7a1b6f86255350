"""Explanations for torch, ONNX and Keras reports: every counted op shows the op layer's formulas with the layer's
own numbers, and the explained value equals the reported one.  Expectations are hand arithmetic, written next
to them."""
import os

import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402


def lines(report, name) -> list[str]:
    from cnncalc.report.explain import layer_lines
    return layer_lines(report, report[name])


def explained(row, quantity: str) -> int:
    """The row's total of a quantity as its explanation states it: per op section, the 'N calls' line when there
    is one, else the op's own line; a row standing for folded modules states the sum in one line."""
    folded = [s for s in row.steps if s.quantity == quantity and "includes the modules below" in s.note]
    if folded:
        return folded[0].value
    total, section = 0, []
    for s in list(row.steps) + [None]:
        if s is None or s.quantity == "op":
            calls = [x for x in section if x.quantity == quantity and "calls *" in str(x.expr)]
            own = [x for x in section if x.quantity == quantity]
            total += calls[0].value if calls else (own[0].value if own else 0)
            section = []
        else:
            section.append(s)
    return total


def step(row, quantity: str):
    found = [s for s in row.steps if s.quantity == quantity]
    assert found, (quantity, [str(s) for s in row.steps])
    return found[0]


# ----------------------------------------------------------------------------- torch

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.norm = nn.LayerNorm(256)
        self.attn = nn.MultiheadAttention(256, 4, batch_first=True)
        self.lstm = nn.LSTM(256, 32, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(self.bn(self.conv(x)))               # (1, 16, 16, 16)
        x = self.norm(x.flatten(2))                        # (1, 16, 256): 16 tokens of 256
        x, _ = self.attn(x, x, x, need_weights=False)
        x, _ = self.lstm(x)                                # (1, 16, 32)
        return self.fc(x[:, -1])


class SDPA(nn.Module):
    def forward(self, q):
        return torch.nn.functional.scaled_dot_product_attention(q, q, q)


@pytest.fixture(scope="module")
def torch_report():
    return cnncalc.analyze(Net().eval(), input_size=(1, 3, 32, 32))


def test_torch_conv_is_explained_with_its_own_numbers(torch_report):
    row = torch_report["conv"]
    text = "\n".join(lines(torch_report, "conv"))
    assert "H_out = floor((32 + 2*1 - 1*(3-1) - 1)/1) + 1 = 32" in text
    assert "params = (3*3*3 + 1)*16 = 448" in text
    # MACs: 16*32*32 outputs, each a 3*3*3 window
    assert step(row, "macs").value == row.macs == 16 * 32 * 32 * 27
    assert "16,384 outputs * (3*3*3)" in step(row, "macs").expr


def test_torch_linear_norms_pool(torch_report):
    fc = torch_report["fc"]
    assert explained(fc, "macs") == fc.macs == 32 * 10                  # one row of 32 inputs, 10 outputs
    assert step(fc, "params").value == fc.params == 32 * 10 + 10
    bn = torch_report["bn"]
    assert explained(bn, "flops") == bn.flops == 2 * 16 * 32 * 32      # scale and shift per element
    assert "running_mean, running_var" in step(bn, "params").note
    pool = torch_report["pool"]
    assert explained(pool, "flops") == pool.flops == 16 * 16 * 16 * 3   # outputs x (4 - 1) comparisons
    assert step(pool, "H_out").value == 16
    ln = torch_report["norm"]
    # 16*256 elements * (5 + 2 affine) + 16 groups * 5
    assert explained(ln, "flops") == ln.flops == 16 * 256 * 7 + 16 * 5


def test_torch_attention_and_recurrent(torch_report):
    attn = torch_report["attn"]
    assert explained(attn, "macs") == attn.macs
    # in-projection 16 tokens x 256 -> 768, scores and context 4 heads x 16 x 16 x 64 each, out-projection 256
    assert attn.macs == 16 * 256 * 768 + 2 * (4 * 16 * 16 * 64) + 16 * 256 * 256
    assert any(s.quantity == "op" and s.value.startswith("bmm") for s in attn.steps)    # scores and context
    sdpa = cnncalc.analyze(SDPA(), input_size=(2, 4, 10, 8))
    row = sdpa.layers[0]
    assert row.macs == explained(row, "macs") == 2 * 4 * 10 * 10 * (8 + 8)        # QK^T and AV, L = S = 10
    lstm = torch_report["lstm"]
    assert explained(lstm, "macs") == lstm.macs
    # 16 steps x (4*32 gates x 256 inputs + 4*32 x 32 hidden)
    assert lstm.macs == 16 * (128 * 256 + 128 * 32)
    assert any("calls" in str(s.value) for s in lstm.steps if s.quantity == "op")


def test_torch_every_row_explains_its_totals(torch_report):
    for row in torch_report.layers:
        for q in ("macs", "flops"):
            if getattr(row, q):
                assert explained(row, q) == getattr(row, q), (row.name, q, [str(s) for s in row.steps])


def test_torch_folded_rows_name_their_children():
    from collections import OrderedDict
    m = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), head=nn.Flatten()))
    r = cnncalc.analyze(m, input_size=(1, 3, 10, 10), depth=1)
    row = r["block"]
    s = [x for x in row.steps if x.quantity == "macs"][0]
    assert "block.0" in s.expr and s.value == row.macs == 8 * 8 * 8 * 27


def test_torch_uncounted_op_is_named():
    class Cum(nn.Module):
        def forward(self, x):
            return torch.cumprod(x, 1)
    r = cnncalc.analyze(Cum(), input_size=(1, 4))
    assert any(s.quantity == "uncounted" and "cumprod" in s.value for s in r.layers[0].steps)


def test_fold_through_torch_and_spec():
    m = nn.Sequential(nn.Unfold(3, padding=1), nn.Fold((8, 8), 3, padding=1))
    r = cnncalc.analyze(m, input_size=(2, 4, 8, 8))
    assert not r.uncounted_ops and r.layers[-1].output_shape == tuple(m(torch.randn(2, 4, 8, 8)).shape)
    assert r.totals.flops == 2 * 36 * 64                # every column value added once into the image
    spec = cnncalc.analyze("input(4, 8, 8) | unfold(3, padding=1) | fold((8, 8), 3, padding=1)", batch=2)
    assert spec.layers[-1].output_shape == (2, 4, 8, 8) and spec.totals.flops == r.totals.flops
    with pytest.raises(cnncalc.SpecError, match="blocks"):
        cnncalc.analyze("input(36, 63) | fold((8, 8), 3, padding=1)")


# ----------------------------------------------------------------------------- ONNX

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def _init(name, shape):
    import numpy as np
    return helper.make_tensor(name, TensorProto.FLOAT, shape, np.full(shape, 0.5, np.float32).reshape(-1).tolist())


@pytest.fixture(scope="module")
def onnx_report():
    vi = helper.make_tensor_value_info
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"], name="bn"),
        helper.make_node("MaxPool", ["bn"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        helper.make_node("Gemm", ["y", "Wg", "Cg"], ["gemm"], name="gemm"),
        helper.make_node("MatMul", ["a", "Wm"], ["mm"], name="matmul"),
        helper.make_node("LayerNormalization", ["a", "gl", "bl"], ["ln"], axis=-1, name="ln"),
        helper.make_node("LSTM", ["s", "Wl", "Rl", "Bl"], ["h"], hidden_size=4, name="lstm"),
        helper.make_node("Attention", ["q", "k", "v2"], ["att"], name="attention"),
    ]
    inits = [_init("W", [4, 3, 3, 3]), _init("B", [4]), _init("g", [4]), _init("b", [4]), _init("m", [4]),
             _init("v", [4]), _init("Wg", [16, 5]), _init("Cg", [5]), _init("Wm", [4, 6]), _init("gl", [4]),
             _init("bl", [4]), _init("Wl", [1, 16, 3]), _init("Rl", [1, 16, 4]), _init("Bl", [1, 32])]
    ins = [vi("x", TensorProto.FLOAT, [1, 3, 8, 8]), vi("y", TensorProto.FLOAT, [2, 16]),
           vi("a", TensorProto.FLOAT, [2, 3, 4]), vi("s", TensorProto.FLOAT, [5, 2, 3]),
           vi("q", TensorProto.FLOAT, [2, 4, 5, 8]), vi("k", TensorProto.FLOAT, [2, 4, 7, 8]),
           vi("v2", TensorProto.FLOAT, [2, 4, 7, 8])]
    outs = [vi(n, TensorProto.FLOAT, None) for n in ("p", "gemm", "mm", "ln", "h", "att")]
    model = helper.make_model(helper.make_graph(nodes, "g", ins, outs, inits),
                              opset_imports=[helper.make_opsetid("", 23)])
    model.ir_version = 10
    return cnncalc.analyze(model, depth=100)


@pytest.mark.parametrize("name,quantity,hand", [
    ("conv", "macs", 4 * 8 * 8 * 27),                   # 256 outputs x 3*3*3 window
    ("bn", "flops", 2 * 4 * 8 * 8),
    ("pool", "flops", 4 * 4 * 4 * 3),                   # 64 outputs x (4 - 1) comparisons
    ("gemm", "macs", 2 * 5 * 16),
    ("matmul", "macs", 2 * 3 * 6 * 4),
    ("ln", "flops", 24 * 7 + 6 * 5),                    # 24 elements x (5 + 2), 6 groups x 5
    ("lstm", "macs", 2 * 5 * (16 * 3 + 16 * 4)),        # batch 2 x 5 steps x (G*I + G*H)
    ("attention", "macs", 2 * 4 * 5 * 7 * (8 + 8)),     # QK^T and AV
])
def test_onnx_nodes_are_explained(onnx_report, name, quantity, hand):
    row = onnx_report[name]
    assert getattr(row, quantity) == hand
    assert explained(row, quantity) == hand, [str(s) for s in row.steps]


def test_onnx_conv_output_size_formula(onnx_report):
    text = "\n".join(lines(onnx_report, "conv"))
    assert "H_out = floor((8 + 2*1 - 1*(3-1) - 1)/1) + 1 = 8" in text
    # parameters come from the file's initializers, explained as such
    assert "params = " in text and onnx_report["conv"].params == 4 * 27 + 4


def test_onnx_col2im():
    import numpy as np
    from onnx import numpy_helper
    nodes = [helper.make_node("Col2Im", ["x", "img", "blk"], ["y"], pads=[1, 1, 1, 1], name="fold")]
    inits = [numpy_helper.from_array(np.array([8, 8], np.int64), "img"),
             numpy_helper.from_array(np.array([3, 3], np.int64), "blk")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 36, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    r = cnncalc.analyze(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), depth=100)
    row = r["fold"]
    assert row.output_shape == (2, 4, 8, 8) and row.flops == 2 * 36 * 64 and not r.uncounted_ops
    assert explained(row, "flops") == row.flops


# ----------------------------------------------------------------------------- Keras

keras = pytest.importorskip("keras") if os.environ.get("KERAS_BACKEND") == "torch" else None


@pytest.mark.skipif(keras is None, reason="Keras runs on the torch backend here (KERAS_BACKEND=torch)")
def test_keras_layers_are_explained():
    L = keras.layers
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3, padding="same", name="conv")(inp)
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.Reshape((16, 4), name="seq")(x)
    x = L.MultiHeadAttention(2, 4, name="mha")(x, x)
    x = L.LSTM(6, name="lstm")(x)
    out = L.Dense(3, name="dense")(x)
    r = cnncalc.analyze(keras.Model(inp, out))
    assert r["conv"].macs == explained(r["conv"], "macs") == 8 * 8 * 4 * 27
    assert "params = (3*3*3 + 1)*4 = 112" in "\n".join(lines(r, "conv"))
    assert r["dense"].macs == explained(r["dense"], "macs") == 6 * 3
    assert r["pool"].flops == explained(r["pool"], "flops") == 4 * 4 * 4 * 3
    assert r["bn"].flops == explained(r["bn"], "flops") == 2 * 8 * 8 * 4
    assert r["lstm"].macs == explained(r["lstm"], "macs") == 16 * (24 * 4 + 24 * 6)
    assert r["mha"].macs == explained(r["mha"], "macs")


def test_json_carries_the_explanation_on_request(torch_report):
    import json
    plain = torch_report.to_dict()
    assert "explain" not in plain["layers"][0]
    d = json.loads(torch_report.to_json(explain=True))
    conv = next(row for row in d["layers"] if row["name"] == "conv")
    assert any("params = (3*3*3 + 1)*16 = 448" in line for line in conv["explain"])


def test_cli_json_explain(tmp_path):
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-m", "cnncalc", "summary", "input(3, 8, 8) | conv2d(4, 3)", "--format",
                        "json", "--explain"], capture_output=True, text=True, timeout=60)
    import json
    row = json.loads(p.stdout)["layers"][0]
    assert any("macs = 144 outputs * (3*3*3)" in line for line in row["explain"])     # 4*6*6 outputs, 27 each


@pytest.mark.skipif(pytest.importorskip("fastapi") is None, reason="web extra")
def test_uploaded_onnx_explains_on_the_page_api(onnx_report):
    from fastapi.testclient import TestClient

    from cnncalc.web.app import create_app
    vi = helper.make_tensor_value_info
    g = helper.make_graph([helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv")], "g",
                          [vi("x", TensorProto.FLOAT, [1, 3, 8, 8])], [vi("c", TensorProto.FLOAT, None)],
                          [_init("W", [4, 3, 3, 3]), _init("B", [4])])
    data = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    c = TestClient(create_app(), base_url="http://127.0.0.1")
    d = c.post("/api/analyze/file", files={"file": ("m.onnx", data, "application/octet-stream")}).json()
    lines_ = d["layers"][0]["explain"]
    assert any("H_out = floor((8 + 2*1 - 1*(3-1) - 1)/1) + 1 = 8" in line for line in lines_)
    assert any(line.strip().startswith("macs = 256 outputs") for line in lines_)      # 4*8*8 outputs
