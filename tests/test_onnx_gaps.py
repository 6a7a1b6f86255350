"""The ONNX front-end where shapes are hard to know: unknown is acceptable and said, wrong is not.

Exporter patterns whose shapes ONNX's inference loses (torchvision swin's shifted-window mask built by slice
assignment -> ScatterND; an HF-style padding mask looked up with index tensors -> GatherND), the shapes a file
declares (used in a gap, checked elsewhere), weights made by ConstantOfShape (ONNX's light model files), models
with no input or a 0-d one, and inputs that are not tensors.  Oracles: onnxruntime's actual shapes for every node
output, hand arithmetic for MACs, torchvision's parameter count.
"""
from __future__ import annotations

import io
import os
import warnings

import pytest

import cnncalc
from cnncalc import SpecError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from cnncalc.frontends.onnx import node_shapes  # noqa: E402
from test_onnx import ort_shapes  # noqa: E402 -- onnxruntime's shape of every node output

torch.set_num_threads(2)


def model_proto(nodes, inputs, outputs, inits=(), opset=17):
    m = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits)),
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def init(name, shape, dtype=np.float32, value=None):
    arr = np.asarray(value, dtype=dtype) if value is not None else \
        np.random.default_rng(len(name)).standard_normal(shape).astype(dtype)
    return numpy_helper.from_array(arr.reshape(shape), name)


def fvi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def check_all_shapes(mp, input_size, feeds, *, strip_value_info=False):
    """Every node output known and equal to onnxruntime's, with and without ONNX's own inference."""
    if strip_value_info:
        del mp.graph.value_info[:]
    truth = ort_shapes(mp, feeds)
    outs = [o for n in mp.graph.node for o in n.output if o]
    for inference in (True, False):
        mine = node_shapes(mp, input_size, _onnx_inference=inference)
        bad = {o: (mine.get(o), truth[o]) for o in outs if mine.get(o) != truth[o]}
        assert not bad, f"inference={inference}: {len(bad)} of {len(outs)} differ, e.g. {list(bad.items())[:4]}"


# --------------------------------------------------------------------------- exporter patterns

class ShiftedWindowAttention(nn.Module):
    """torchvision swin's shifted_window_attention, small: pad, roll, windows, the mask built by slice assignment
    (the legacy exporter writes ScatterND), attention, projection."""

    def __init__(self, dim=16, heads=2, ws=4, shift=2):
        super().__init__()
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.heads, self.ws, self.shift = heads, ws, shift

    def forward(self, x):
        B, H, W, C = x.shape
        ws, sh = self.ws, self.shift
        x = F.pad(x, (0, 0, 0, (ws - W % ws) % ws, 0, (ws - H % ws) % ws))
        _, pH, pW, _ = x.shape
        x = torch.roll(x, shifts=(-sh, -sh), dims=(1, 2))
        nw = (pH // ws) * (pW // ws)
        x = x.view(B, pH // ws, ws, pW // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B * nw, ws * ws, C)
        q, k, v = self.qkv(x).reshape(x.size(0), x.size(1), 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        attn = q.matmul(k.transpose(-2, -1))
        mask = x.new_zeros((pH, pW))
        cnt = 0
        for h in ((0, -ws), (-ws, -sh), (-sh, None)):
            for w in ((0, -ws), (-ws, -sh), (-sh, None)):
                mask[h[0]:h[1], w[0]:w[1]] = cnt
                cnt += 1
        mask = mask.view(pH // ws, ws, pW // ws, ws).permute(0, 2, 1, 3).reshape(nw, ws * ws)
        mask = mask.unsqueeze(1) - mask.unsqueeze(2)
        mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        attn = attn.view(x.size(0) // nw, nw, self.heads, x.size(1), x.size(1)) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, self.heads, x.size(1), x.size(1)).softmax(-1)
        return self.proj(attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), C))


def test_swin_mask_by_scatternd():
    m = ShiftedWindowAttention().eval()
    x = torch.randn(2, 10, 10, 16)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (x,), f, dynamo=False, opset_version=17, input_names=["x"],
                          dynamic_axes={"x": {0: "b", 1: "h", 2: "w"}})
    mp = onnx.load_from_string(f.getvalue())
    assert sum(n.op_type == "ScatterND" for n in mp.graph.node) == 9
    check_all_shapes(mp, (2, 10, 10, 16), {"x": x.numpy()})
    rep = cnncalc.analyze(mp, (2, 10, 10, 16))
    # padded to 12x12: 2 * 9 windows of 16 tokens; qkv and proj Linear, then scores and weighted sum
    tokens, heads, d = 2 * 9 * 16, 2, 16
    assert rep.totals.macs == tokens * 16 * 48 + tokens * 16 * 16 + 2 * 9 * heads * 16 * 16 * (d // heads) * 2
    assert not rep.uncounted_ops and not rep.warnings


class PaddingMaskAttention(nn.Module):
    """HF-style: the padding mask looked up per (batch, key) with index tensors (GatherND), causal, attention."""

    def __init__(self, d=16, h=2):
        super().__init__()
        self.qkv, self.out, self.h = nn.Linear(d, 3 * d), nn.Linear(d, d), h

    def forward(self, x, attention_mask):
        B, S, D = x.shape
        b, q_idx, kv = torch.arange(B)[:, None, None], torch.arange(S)[None, :, None], torch.arange(S)[None, None, :]
        mask = (attention_mask[b, kv].bool() & (kv <= q_idx))[:, None]
        q, k, v = self.qkv(x).view(B, S, 3, self.h, D // self.h).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.transpose(1, 2).reshape(B, S, D))


def test_attention_mask_by_gathernd_dynamo():
    pytest.importorskip("onnxscript")
    m = PaddingMaskAttention().eval()
    x, am = torch.randn(2, 7, 16), torch.ones(2, 7, dtype=torch.long)
    B, S = torch.export.Dim("batch"), torch.export.Dim("seq")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mp = torch.onnx.export(m, (x, am), dynamo=True, input_names=["x", "attention_mask"], verbose=False,
                               dynamic_shapes=({0: B, 1: S}, {0: B, 1: S})).model_proto
    assert any(n.op_type == "GatherND" for n in mp.graph.node)
    feeds = {"x": x.numpy(), "attention_mask": am.numpy()}
    check_all_shapes(mp, [(2, 7, 16), (2, 7)], feeds)                        # value_info bound by the inputs
    rep = cnncalc.analyze(mp, [(2, 7, 16), (2, 7)])
    check_all_shapes(mp, [(2, 7, 16), (2, 7)], feeds, strip_value_info=True)  # cnncalc's own rules alone
    stripped = cnncalc.analyze(mp, [(2, 7, 16), (2, 7)])
    # qkv and out Linear over 14 tokens, then scores and weighted sum: 2 heads of 8 over 7x7
    want = 14 * 16 * 48 + 14 * 16 * 16 + 2 * 2 * 7 * 7 * 8 * 2
    assert rep.totals.macs == stripped.totals.macs == want and not stripped.uncounted_ops


# --------------------------------------------------------------------------- what the file declares

def test_declared_shapes_fill_gaps_and_are_checked():
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]),
             helper.make_node("Foo", ["c"], ["f"], domain="com.example"),      # no rule knows its shape
             helper.make_node("Relu", ["f"], ["y"])]
    m = model_proto(nodes, [fvi("x", ["N", 3, 8, 8])], [fvi("y", None)], [init("W", (4, 3, 3, 3))])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    rep = cnncalc.analyze(m, (2, 3, 8, 8), depth=100)
    assert rep.layers[-1].output_shape == () and any("'f' is unknown" in w or "'y' is unknown" in w
                                                     for w in rep.warnings)
    m.graph.value_info.append(fvi("f", ["N", 4, 6, 6]))                        # 'N' is bound by the input size
    rep = cnncalc.analyze(m, (2, 3, 8, 8), depth=100)
    assert node_shapes(m, (2, 3, 8, 8))["y"] == (2, 4, 6, 6) and rep.layers[-1].output_shape == (2, 4, 6, 6)
    assert rep.layers[-1].flops == 2 * 4 * 6 * 6 and not any("differ" in w for w in rep.warnings)
    m.graph.value_info.append(fvi("c", [1, 4, 7, 7]))                          # stale: not what it computes
    m.graph.value_info.append(fvi("q", ["unbound", 4]))                        # not usable: never a guess
    rep = cnncalc.analyze(m, (2, 3, 8, 8), depth=100)
    assert node_shapes(m, (2, 3, 8, 8))["c"] == (2, 4, 6, 6)
    (w,) = [w for w in rep.warnings if "declared" in w]
    assert "'c' (1, 4, 7, 7) declared, (2, 4, 6, 6) computed" in w and "computed shapes are used" in w


def test_light_model_weights_from_constantofshape():
    """ONNX's light copy of the Caffe2 ResNet-50: every weight is a ConstantOfShape of its shape."""
    path = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_resnet50.onnx")
    if not os.path.exists(path):
        pytest.skip("this onnx wheel ships no light model files")
    rep = cnncalc.analyze(path)
    assert rep.totals.trainable_params == 25_557_032                          # torchvision's resnet50
    assert rep.totals.params - rep.totals.trainable_params == 2 * 26_560       # BatchNorm running mean and var
    assert rep.totals.macs == 4_089_184_256


def test_constantofshape_weight_and_mask():
    shape = init("wshape", (4,), np.int64, [4, 3, 3, 3])
    nodes = [helper.make_node("ConstantOfShape", ["wshape"], ["W"],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.1])),
             helper.make_node("Conv", ["x", "W"], ["y"])]
    m = model_proto(nodes, [fvi("x", [1, 3, 8, 8])], [fvi("y", None)], [shape])
    rep = cnncalc.analyze(m, depth=100)
    assert rep.totals.params == 4 * 3 * 3 * 3 and rep.totals.macs == 4 * 6 * 6 * 27


# --------------------------------------------------------------------------- inputs

def test_no_input_and_0d_inputs_through_the_cli(tmp_path, capsys):
    from cnncalc.cli import main
    none = model_proto([helper.make_node("Constant", [], ["y"], value=helper.make_tensor("v", 1, [2], [1, 2]))],
                       [], [fvi("y", None)])
    scalar = model_proto([helper.make_node("Range", ["a", "b", "c"], ["y"])],
                         [fvi("a", []), fvi("b", []), fvi("c", [])], [fvi("y", None)])
    scalar_first = model_proto([helper.make_node("Mul", ["s", "x"], ["y"])], [fvi("s", []), fvi("x", [2, 3])],
                               [fvi("y", None)])
    for name, m in (("none", none), ("scalar", scalar), ("scalar_first", scalar_first)):
        path = tmp_path / f"{name}.onnx"
        onnx.save(m, str(path))
        for fmt in ("table", "json", "csv", "markdown"):
            assert main(["summary", str(path), "--format", fmt]) == 0, (name, fmt, capsys.readouterr().err)
        capsys.readouterr()
        rep = cnncalc.analyze(str(path))
        assert rep.batch == 1 and rep.input_shape == ()
    assert cnncalc.analyze(scalar_first).layers[0].output_shape == (2, 3)
    assert node_shapes(scalar).get("y") is None                                 # its length is a run-time value


def test_input_messages():
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, [2])
    m = model_proto([helper.make_node("SequenceLength", ["s"], ["n"])], [seq],
                    [helper.make_tensor_value_info("n", TensorProto.INT64, [])])
    for size in (None, [(2,)]):
        with pytest.raises(SpecError, match="input 's' is a sequence, not a tensor"):
            cnncalc.analyze(m, size)
    opt = helper.make_value_info("o", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [2])))
    m = model_proto([helper.make_node("OptionalHasElement", ["o"], ["h"])], [opt],
                    [helper.make_tensor_value_info("h", TensorProto.BOOL, [])], opset=18)
    with pytest.raises(SpecError, match="input 'o' is an optional value, not a tensor"):
        cnncalc.analyze(m)
    # a 1-d input: the hint is a tuple in Python (1,), and a bare number is accepted as that size
    m = model_proto([helper.make_node("Relu", ["v"], ["y"])], [fvi("v", ["L"])], [fvi("y", None)])
    with pytest.raises(SpecError, match=r"pass --input 1 \(input_size=\(1,\) from Python\)"):
        cnncalc.analyze(m)
    assert cnncalc.analyze(m, 5).layers[0].output_shape == (5,)
    with pytest.raises(SpecError, match="sizes must be whole numbers >= 1"):
        cnncalc.analyze(m, (0,))                                                 # 0 only where the model says so
    z = model_proto([helper.make_node("Relu", ["v"], ["y"])], [fvi("v", [0, 3])], [fvi("y", None)])
    assert node_shapes(z, (0, 3))["y"] == (0, 3)
