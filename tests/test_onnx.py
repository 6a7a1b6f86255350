"""The ONNX front-end against independent oracles.

* parameters: the sum of the file's float initializers (torch's exporter folds BatchNorm into the convolutions
  and deduplicates equal tensors, so torch's own count differs for BN nets; for the others the two agree),
* MACs: ``FlopCounterMode`` of the torch model that was exported (total FLOPs / 2; conv MACs are unchanged by
  the BN folding; LSTMs with oneDNN off, so that every time step's matmuls are seen),
* shapes: every node output against what onnxruntime actually produces (all intermediate tensors made graph
  outputs), once with ONNX shape inference and once with cnncalc's own rules and constant folding only,
* receptive fields and per-module MACs: the torch front-end on the same model (same module names).
"""
from __future__ import annotations

import contextlib
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
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import reference_nets as R  # noqa: E402
from cnncalc.frontends.onnx import node_shapes  # noqa: E402

torch.set_num_threads(2)


# --------------------------------------------------------------------------- helpers

def export(model, args, *, dynamic=None, names=("x",), opset=17, randomize=False):
    """torch.onnx.export with the classic (TorchScript) exporter: node names carry the module path."""
    model.eval()
    if randomize:          # distinct values: the exporter deduplicates equal initializers (zero biases, ones)
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for t in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]:
                t.copy_(torch.rand(t.shape, generator=g) * 0.2 + 0.9)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, f, dynamo=False, opset_version=opset, input_names=list(names),
                          dynamic_axes=dynamic)
    return onnx.load_from_string(f.getvalue())


def initializer_params(mp) -> int:
    floats = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}
    return sum(int(np.prod(t.dims)) for t in mp.graph.initializer if t.data_type in floats)


def torch_macs(model, *xs, onednn=True) -> int:
    flags = contextlib.nullcontext() if onednn else torch.backends.mkldnn.flags(enabled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad(), flags, FlopCounterMode(display=False) as fc:
            model(*xs)
    return fc.get_total_flops() // 2


def ort_shapes(mp, feeds: dict) -> dict:
    """{tensor: shape} of every node output, as onnxruntime computes it."""
    m = onnx.ModelProto()
    m.CopyFrom(mp)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return {k: tuple(np.asarray(v).shape) for k, v in zip(names, sess.run(names, feeds))}


def check_shapes(mp, input_size, feeds):
    """Every node output: cnncalc (with and without ONNX inference) == onnxruntime."""
    truth = ort_shapes(mp, feeds)
    outs = [o for n in mp.graph.node for o in n.output if o]
    for inference in (True, False):
        mine = node_shapes(mp, input_size, _onnx_inference=inference)
        wrong = {o: (mine.get(o), truth[o]) for o in outs if mine.get(o) != truth[o]}
        assert not wrong, f"onnx inference={inference}: {len(wrong)} shapes differ, e.g. {list(wrong.items())[:4]}"
    return truth


def rows(report) -> dict:
    return {l.name: l for l in report.layers}


def model_proto(nodes, inputs, outputs, inits=(), opset=17, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def init(name, shape, dtype=np.float32, value=None):
    arr = np.asarray(value, dtype=dtype) if value is not None else \
        np.random.default_rng(len(name)).standard_normal(shape).astype(dtype)
    return numpy_helper.from_array(arr.reshape(shape) if value is None else arr, name)


def fvi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# --------------------------------------------------------------------------- reference CNNs

CNNS = {"resnet18": R.resnet18, "mobilenet_v2": R.mobilenet_v2, "squeezenet1_0": R.squeezenet1_0,
        "googlenet": R.googlenet}


@pytest.mark.parametrize("name", list(CNNS))
def test_reference_cnn(name):
    torch.manual_seed(0)
    model = CNNS[name]().eval()
    mp = export(model, (torch.randn(1, 3, 64, 64),), dynamic={"x": {0: "batch_size"}})
    size = (2, 3, 64, 64)
    x = torch.randn(*size)
    rep = cnncalc.analyze(mp, input_size=size)
    assert rep.source == "onnx" and rep.convention == "onnx"
    assert rep.totals.params == initializer_params(mp)
    assert rep.totals.macs == torch_macs(model, x)
    assert rep.layers[-1].output_shape == (2, 1000)
    assert not rep.uncounted_ops
    check_shapes(mp, size, {"x": x.numpy()})
    # every depth: totals are sums of the rows
    flat = cnncalc.analyze(mp, input_size=size, depth=100)
    one = cnncalc.analyze(mp, input_size=size, depth=0)
    assert len(one.layers) == 1
    for key in ("params", "trainable_params", "macs", "flops", "mults", "adds", "param_bytes"):
        assert getattr(flat.totals, key) == getattr(rep.totals, key) == getattr(one.totals, key), key
    assert len(flat.layers) == sum(1 for n in mp.graph.node if n.op_type not in ("Constant", "Identity"))
    # the module tree agrees with the torch front-end: per-module MACs and receptive fields
    mine = rows(cnncalc.analyze(mp, input_size=size, depth=2))
    theirs = rows(cnncalc.analyze(model, input_size=size, depth=2))
    common = [k for k in mine if k in theirs]
    assert len(common) >= 3
    for k in common:
        assert mine[k].macs == theirs[k].macs, k
        assert mine[k].rf == theirs[k].rf, k
        assert mine[k].output_shape == theirs[k].output_shape, k


def test_resnet18_rows_and_receptive_field():
    model = R.resnet18().eval()
    mp = export(model, (torch.randn(1, 3, 64, 64),), randomize=True)
    rep = cnncalc.analyze(mp, depth=3)
    r = rows(rep)
    conv = r["layer1.0.conv1"]                      # module path rebuilt from /layer1/layer1.0/conv1/Conv
    assert conv.kind == "Conv" and conv.kernel_shape == (64, 64, 3, 3) and conv.params == 64 * 64 * 9 + 64
    assert conv.macs == 16 * 16 * 64 * 64 * 9
    assert r["/layer1/layer1.0/Add"].depth == 3
    assert rep["layer4.1.conv2"].rf.size == (435, 435) and rep["layer4.1.conv2"].rf.stride == (32, 32)
    assert rep["/avgpool/GlobalAveragePool"].rf.is_global     # a node above the cut: its own row
    assert rows(cnncalc.analyze(mp, depth=1))["avgpool"].rf.is_global
    flat = cnncalc.analyze(mp, depth=100)
    assert flat["/layer1/layer1.0/conv1/Conv"].macs == conv.macs
    assert "0/Add (Add)" not in rep.table() and "Add (Add)" in rep.table()


# --------------------------------------------------------------------------- dynamic dimensions

def test_dynamic_dims_bound_and_missing():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 4))
    mp = export(model, (torch.randn(1, 3, 16, 16),), dynamic={"x": {0: "batch_size", 2: "h", 3: "w"}})
    rep = cnncalc.analyze(mp, input_size=(4, 3, 20, 24))
    assert rep.input_shape == (4, 3, 20, 24)
    assert rep.layers[0].output_shape == (4, 8, 20, 24)
    assert rep.layers[-1].output_shape == (4, 4)
    assert rep.totals.macs == torch_macs(model, torch.randn(4, 3, 20, 24))
    with pytest.raises(SpecError, match=r"input 'x' dimension 0 \('batch_size'\) needs a value: "
                                        r"pass --input 1x3x1x1"):
        cnncalc.analyze(mp)
    with pytest.raises(SpecError, match="dimension 1 is fixed at 3"):
        cnncalc.analyze(mp, input_size=(1, 4, 16, 16))
    with pytest.raises(SpecError, match="4 dimensions"):
        cnncalc.analyze(mp, input_size=(1, 3, 16))
    by_name = cnncalc.analyze(mp, input_size={"x": (1, 3, 8, 8)})
    assert by_name.layers[0].output_shape == (1, 8, 8, 8)


def test_cli(tmp_path, capsys):
    from cnncalc.cli import main
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    path = tmp_path / "net.onnx"
    onnx.save(export(model, (torch.randn(1, 3, 8, 8),), dynamic={"x": {0: "batch_size"}}), str(path))
    assert main(["summary", str(path), "--input", "2x3x8x8"]) == 0
    out = capsys.readouterr().out
    assert "convention onnx" in out and "(2, 10)" in out and f"{3 * 8 * 9 + 8 + 288 * 10 + 10:,}" in out
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert "input 'x' dimension 0 ('batch_size') needs a value: pass --input 1x3x8x8" in err
    assert main(["summary", str(path), "--input", "2x3x8x8", "--format", "json", "--depth", "0"]) == 0
    import json
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "onnx" and len(data["layers"]) == 1
    assert main(["summary", str(tmp_path / "missing.onnx"), "--input", "1x3x8x8"]) == 2
    assert "no such ONNX file" in capsys.readouterr().err


# --------------------------------------------------------------------------- transformer, LSTM, upsampling

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, dropout=0.0)

    def forward(self, x):
        return self.layer(x)


def test_transformer_block():
    model = Encoder()
    mp = export(model, (torch.randn(2, 5, 32),), dynamic={"x": {0: "batch", 1: "seq"}}, randomize=True)
    size = (3, 5, 32)            # the classic exporter fixes the sequence length it traced (5) in a Reshape
    x = torch.randn(*size)
    rep = cnncalc.analyze(mp, input_size=size)
    with pytest.raises(SpecError, match=r"reshapes \(7, 3, 32\) \(672 elements\) to \(5, 12, 8\)"):
        cnncalc.analyze(mp, input_size=(3, 7, 32))
    n_torch = sum(p.numel() for p in model.parameters())
    assert rep.totals.params == initializer_params(mp) == n_torch
    # the math attention kernel (FlopCounterMode sees its bmm's), no fused fast path
    from torch.nn.attention import SDPBackend, sdpa_kernel
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            expected = torch_macs(model, x)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    B, S, E, F, h = 3, 5, 32, 64, 4
    assert expected == B * S * (E * 3 * E + E * E + E * F + F * E) + B * h * S * S * 2 * (E // h)
    assert rep.totals.macs == expected                 # the two attention MatMuls of activations count
    assert rep.layers[-1].output_shape == size
    assert not rep.uncounted_ops
    check_shapes(mp, size, {"x": x.numpy()})
    sm = [l for l in cnncalc.analyze(mp, input_size=size, depth=100).layers if l.kind == "Softmax"]
    assert len(sm) == 1 and sm[0].flops == B * h * S * (5 * S - 2)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(32, 12, batch_first=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.fc(y[:, -1])


def test_recurrent_every_time_step():
    model = Recurrent()
    mp = export(model, (torch.randn(1, 7, 8),), dynamic={"x": {0: "batch", 1: "steps"}}, randomize=True)
    size = (2, 9, 8)
    x = torch.randn(*size)
    rep = cnncalc.analyze(mp, input_size=size)
    assert rep.totals.params == initializer_params(mp) == sum(p.numel() for p in model.parameters())
    expected = torch_macs(model, x, onednn=False)
    N, T = 2, 9
    assert expected == N * T * (2 * (4 * 16 * 8 + 4 * 16 * 16) + 2 * (4 * 16 * 32 + 4 * 16 * 16)
                                + 3 * 12 * 32 + 3 * 12 * 12) + N * 12 * 3
    assert rep.totals.macs == expected
    assert not rep.uncounted_ops
    check_shapes(mp, size, {"x": x.numpy()})
    # layout=1 (batch-first) LSTM built by hand: time steps are dimension 1
    W, Rr, Bb = init("W", (1, 64, 5)), init("R", (1, 64, 16)), init("B", (1, 128))
    lstm = helper.make_node("LSTM", ["x", "W", "R", "B"], ["y", "yh"], hidden_size=16, layout=1)
    m = model_proto([lstm], [fvi("x", ["n", 11, 5])], [fvi("y", None)], [W, Rr, Bb], opset=14)
    r = cnncalc.analyze(m, input_size=(3, 11, 5))
    assert r.totals.macs == 3 * 11 * (64 * 5 + 64 * 16) and r.totals.params == 64 * 5 + 64 * 16 + 128
    # onnxruntime's CPU LSTM refuses layout=1: ONNX's inference and cnncalc's rules give the spec's shapes
    for inference in (True, False):
        sh = node_shapes(m, (3, 11, 5), _onnx_inference=inference)
        assert sh["y"] == (3, 11, 1, 16) and sh["yh"] == (3, 1, 16)


class UpNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=2, dilation=1)
        self.bilinear = nn.Upsample(scale_factor=2, mode="bilinear")
        self.nearest = nn.Upsample(scale_factor=2, mode="nearest")
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2)

    def forward(self, x):
        y = self.up2(self.up(self.down(x)))
        return self.avg(self.pool(self.nearest(self.bilinear(y))))


def test_conv_transpose_and_upsample():
    model = UpNet().eval()
    mp = export(model, (torch.randn(1, 3, 15, 15),), dynamic={"x": {0: "n"}})
    size = (2, 3, 15, 15)
    x = torch.randn(*size)
    rep = cnncalc.analyze(mp, input_size=size, depth=1)
    assert rep.totals.params == initializer_params(mp)
    assert rep.totals.macs == torch_macs(model, x)
    check_shapes(mp, size, {"x": x.numpy()})
    theirs = rows(cnncalc.analyze(model, input_size=size, depth=1))
    for k, l in rows(rep).items():
        if k in theirs:
            assert l.output_shape == theirs[k].output_shape, k
            assert l.rf == theirs[k].rf, k
            assert l.macs == theirs[k].macs and l.flops == theirs[k].flops, k


def test_spec_attributes_against_onnxruntime():
    """auto_pad SAME_UPPER/SAME_LOWER/VALID, ceil_mode, output_shape and output_padding, Resize sizes."""
    W = init("W", (4, 3, 3, 3))
    WT = init("WT", (4, 2, 3, 3))
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c1"], auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Conv", ["x", "W"], ["c2"], auto_pad="SAME_LOWER", strides=[2, 3]),
        helper.make_node("Conv", ["x", "W"], ["c3"], auto_pad="VALID", strides=[2, 2]),
        helper.make_node("MaxPool", ["c1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         ceil_mode=1),
        helper.make_node("MaxPool", ["c3"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("AveragePool", ["c2"], ["p3"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
        helper.make_node("ConvTranspose", ["c1", "WT"], ["t1"], strides=[2, 2], output_shape=[19, 20]),
        helper.make_node("ConvTranspose", ["c1", "WT"], ["t2"], strides=[3, 2], auto_pad="SAME_UPPER"),
        helper.make_node("ConvTranspose", ["c1", "WT"], ["t3"], strides=[2, 2], pads=[1, 0, 1, 1],
                         output_padding=[1, 0], group=1),
        helper.make_node("Constant", [], ["sz"], value=numpy_helper.from_array(np.array([2, 2, 7, 5], np.int64))),
        helper.make_node("Resize", ["t1", "", "", "sz"], ["r1"], mode="linear"),
        helper.make_node("GlobalAveragePool", ["r1"], ["g"]),
    ]
    m = model_proto(nodes, [fvi("x", [2, 3, 17, 18])], [fvi("g", None), fvi("p1", None), fvi("p2", None),
                                                        fvi("p3", None), fvi("t2", None), fvi("t3", None)],
                    [W, WT])
    check_shapes(m, None, {"x": np.random.rand(2, 3, 17, 18).astype(np.float32)})
    rep = cnncalc.analyze(m, depth=100)
    t1 = rep.layers[6]                              # the Constant node has no row
    assert t1.kind == "ConvTranspose" and t1.output_shape == (2, 2, 19, 20)
    assert t1.macs == 2 * 4 * 9 * 9 * 2 * 9      # input positions x C_in x C_out/groups x k


# --------------------------------------------------------------------------- parameters: what counts

def test_what_counts_as_a_parameter():
    C = 4
    inits = [init("W", (C, 3, 3, 3)), init("Bc", (C,)), init("gamma", (C,)), init("beta", (C,)),
             init("mean", (C,)), init("var", (C,), value=np.ones(C)), init("shape", (2,), np.int64, [2, -1]),
             init("scales", (4,), value=[1, 1, 2, 2]), init("bias", (1, C, 1, 1)), init("table", (10, 6)),
             init("proj", (6, 5)), init("axes", (1,), np.int64, [0])]
    nodes = [
        helper.make_node("Conv", ["x", "W", "Bc"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["x", "W", "Bc"], ["c2"], pads=[1, 1, 1, 1]),          # shared: once
        helper.make_node("Add", ["c1", "c2"], ["s"]),
        helper.make_node("BatchNormalization", ["s", "gamma", "beta", "mean", "var"], ["bn"]),
        helper.make_node("Add", ["bn", "bias"], ["b"]),                                  # constant bias: counts
        helper.make_node("Constant", [], ["half"], value_float=0.5),
        helper.make_node("Mul", ["b", "half"], ["h"]),                                   # scalar: no
        helper.make_node("Resize", ["h", "", "scales"], ["u"], mode="nearest"),          # scales: no
        helper.make_node("Reshape", ["u", "shape"], ["flat"]),                           # shape: no
        helper.make_node("Gather", ["table", "ids"], ["emb"]),                           # embedding table
        helper.make_node("MatMul", ["emb", "proj"], ["e2"]),                             # constant operand
        helper.make_node("Unsqueeze", ["e2", "axes"], ["e3"]),                           # axes: no
    ]
    m = model_proto(nodes, [fvi("x", [1, 3, 8, 8]), helper.make_tensor_value_info("ids", TensorProto.INT64, [7])],
                    [fvi("flat", None), fvi("e3", None)], inits)
    rep = cnncalc.analyze(m, depth=100)
    conv = C * 27 + C
    assert rep.totals.params == conv + 4 * C + C + 60 + 30
    assert rep.totals.non_trainable_params == 2 * C
    assert rep.layers[0].params == conv and rep.layers[1].params == 0
    assert rep.totals.macs == 2 * (C * 64 * 27) + 7 * 6 * 5
    check_shapes(m, None, {"x": np.random.rand(1, 3, 8, 8).astype(np.float32),
                           "ids": np.arange(7, dtype=np.int64)})
    bn = next(l for l in rep.layers if l.kind == "BatchNormalization")
    assert bn.flops == 2 * C * 64 and bn.non_trainable_params == 2 * C


def test_every_field_of_an_onnx_row():
    """The rows are built field by field in the declared order (analyze.py, by position): each field checked by
    hand on a named conv and an unnamed relu."""
    m = model_proto([helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv"),
                     helper.make_node("Relu", ["c"], ["y"])],
                    [fvi("x", [1, 3, 8, 8])], [fvi("y", None)], [init("W", (4, 3, 3, 3)), init("B", (4,))])
    conv, relu = cnncalc.analyze(m).layers
    outs = 4 * 8 * 8                                    # 256 output elements, 27 products each
    assert (conv.index, conv.name, conv.kind, conv.label, conv.text) == (1, "conv", "Conv", "conv", "conv")
    assert (conv.input_shape, conv.output_shape, conv.kernel_shape) == ((1, 3, 8, 8), (1, 4, 8, 8), (4, 3, 3, 3))
    assert (conv.params, conv.trainable_params, conv.non_trainable_params, conv.buffers) == (4 * 27 + 4, 112, 0, 0)
    assert (conv.macs, conv.mults, conv.adds, conv.flops) == (outs * 27, outs * 27, outs * 27, 2 * outs * 27)
    assert (conv.activation_bytes, conv.param_bytes, conv.buffer_bytes) == (outs * 4, 112 * 4, 0)
    assert conv.rf.size == (3, 3) and conv.rf_steps == () and conv.warnings == () and conv.line is None
    assert (conv.inputs, conv.input_shapes, conv.depth) == (("x",), ((1, 3, 8, 8),), 1)
    assert conv.live_bytes == 3 * 64 * 4 + outs * 4     # its input and its output
    assert [(st.quantity, st.value) for st in conv.steps] == [       # the constants feeding it, then the op's
        ("params", 112), ("H_out", 8), ("W_out", 8), ("params", 112), ("macs", outs * 27), ("mults", outs * 27),
        ("adds", outs * 27)]
    assert (relu.index, relu.name, relu.kind, relu.label, relu.text) == (2, "Relu_1", "Relu", None, "Relu")
    assert (relu.inputs, relu.input_shapes, relu.output_shape, relu.params, relu.flops) == (
        ("conv",), ((1, 4, 8, 8),), (1, 4, 8, 8), 0, outs)
    assert relu.live_bytes == 2 * outs * 4 and relu.kernel_shape is None and relu.rf.size == (3, 3)


# --------------------------------------------------------------------------- control flow, unsupported ops, memory

def test_if_node_is_reported():
    W = init("W", (4, 3, 3, 3))
    then_g = helper.make_graph([helper.make_node("Relu", ["c"], ["t_out"])], "then", [], [fvi("t_out", None)])
    else_g = helper.make_graph([helper.make_node("Sigmoid", ["c"], ["e_out"]),
                                helper.make_node("Neg", ["e_out"], ["e_out2"])], "else", [], [fvi("e_out2", None)])
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g, name="branch")]
    m = model_proto(nodes, [fvi("x", [1, 3, 8, 8]), helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
                    [fvi("y", None)], [W])
    rep = cnncalc.analyze(m)
    assert rep.uncounted_ops == {"If": 1}
    assert rep.totals.macs == 4 * 36 * 27 and rep.totals.params == 4 * 27
    msg = " ".join(rep.warnings)
    assert "control flow (If 'branch')" in msg and "3 node(s) inside their subgraphs" in msg
    assert "NOT counted" in msg
    assert "Uncounted:    If x1" in rep.table()


def test_unsupported_ops_are_listed():
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Hardmax", ["r"], ["h"], axis=-1),
             helper.make_node("Foo", ["h"], ["f"], domain="com.example"),
             helper.make_node("Relu", ["f"], ["y"])]
    m = model_proto(nodes, [fvi("x", [2, 5])], [fvi("y", None)])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    rep = cnncalc.analyze(m, depth=100)
    assert rep.uncounted_ops == {"Hardmax": 1, "Relu": 1, "com.example.Foo": 1}
    assert rep.totals.flops == 10                                  # the first Relu only
    assert any("com.example.Foo" in w for w in rep.warnings)
    assert any("no known shape" in w for w in rep.layers[3].warnings)


def test_peak_memory_follows_lifetimes():
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"])]
    m = model_proto(nodes, [fvi("x", [1, 1, 4, 4])], [fvi("y", None)])
    rep = cnncalc.analyze(m)
    assert rep.input_bytes == 64
    assert rep.peak_activation_bytes == 3 * 64       # a, b and y alive while Add runs (x freed after Relu 1)
    assert [l.live_bytes for l in rep.layers] == [128, 128, 192]


# --------------------------------------------------------------------------- the dynamo exporter

def test_dynamo_export_groups_by_metadata():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 8 * 8, 10)).eval()
    x = torch.randn(1, 3, 16, 16)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            prog = torch.onnx.export(model, (x,), dynamo=True, opset_version=18, verbose=False)
        mp = prog.model_proto
    except Exception as e:  # noqa: BLE001 -- the dynamo exporter depends on onnxscript
        pytest.skip(f"dynamo export unavailable: {type(e).__name__}: {e}")
    rep = cnncalc.analyze(mp, depth=1)
    assert rep.totals.macs == torch_macs(model, x)
    floats = sum(int(np.prod(t.dims)) for t in mp.graph.initializer
                 if t.data_type == TensorProto.FLOAT and int(np.prod(t.dims)) > 1)
    assert rep.totals.params == floats
    names = {l.name for l in rep.layers}
    assert {"1", "3", "5"} <= names               # module names from pkg.torch.onnx.name_scopes (the conv
    #                                               is fused into BatchNorm '1' and carries its name)
    check_shapes(mp, None, {mp.graph.input[0].name: x.numpy()})


def test_attention_ops_and_einsum():
    B, S, L, D, h = 2, 5, 7, 16, 4
    nodes = [helper.make_node("Attention", ["x", "Wqkv", "Bqkv"], ["y"], domain="com.microsoft", num_heads=h),
             helper.make_node("MultiHeadAttention", ["y", "k", "v"], ["z"], domain="com.microsoft", num_heads=h),
             helper.make_node("Einsum", ["z", "k"], ["e"], equation="bsd,btd->bst"),
             helper.make_node("Einsum", ["z", "k"], ["e2"], equation="...sd,...td->...st"),
             helper.make_node("Einsum", ["e"], ["e3"], equation="bst->bs")]
    m = model_proto(nodes, [fvi("x", [B, S, D]), fvi("k", [B, L, D]), fvi("v", [B, L, D])],
                    [fvi("e2", None), fvi("e3", None)], [init("Wqkv", (D, 3 * D)), init("Bqkv", (3 * D,))])
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    rep = cnncalc.analyze(m, depth=100)
    att, mha, e1, e2, e3 = rep.layers
    assert att.params == D * 3 * D + 3 * D
    assert att.macs == B * S * D * 3 * D + B * h * S * S * 2 * (D // h)      # projections + scores + weighted sum
    assert mha.macs == B * h * S * L * 2 * (D // h)
    assert e1.macs == e2.macs == B * S * L * D and e3.macs == 0 and e3.flops == B * S * L
    assert not rep.uncounted_ops
    rng = np.random.default_rng(0)
    check_shapes(m, None, {t: rng.random(s, dtype=np.float32) for t, s in
                           (("x", (B, S, D)), ("k", (B, L, D)), ("v", (B, L, D)))})
    # the default domain's Attention (opset 23), grouped-query: 4 query heads over 2 key/value heads
    m = model_proto([helper.make_node("Attention", ["q", "k", "v"], ["y"])],
                    [fvi("q", [2, 4, 5, 8]), fvi("k", [2, 2, 7, 8]), fvi("v", [2, 2, 7, 6])], [fvi("y", None)],
                    opset=23)
    m.ir_version = 11
    rep = cnncalc.analyze(m)
    assert rep.layers[0].output_shape == (2, 4, 5, 6) and rep.totals.macs == 2 * 4 * 5 * 7 * (8 + 6)
    try:
        check_shapes(m, None, {t: rng.random(s, dtype=np.float32) for t, s in
                               (("q", (2, 4, 5, 8)), ("k", (2, 2, 7, 8)), ("v", (2, 2, 7, 6)))})
    except (ort.capi.onnxruntime_pybind11_state.Fail, ort.capi.onnxruntime_pybind11_state.NotImplemented,
            ort.capi.onnxruntime_pybind11_state.InvalidGraph) as e:   # an onnxruntime without opset 23
        pytest.skip(f"onnxruntime cannot run Attention-23: {e}")


def test_onnx_model_zoo_resnet50():
    """ONNX's own test copy of the model-zoo ResNet-50 (Caffe2 export, opset 9): torchvision's 4.09 G MACs."""
    path = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_resnet50.onnx")
    if not os.path.exists(path):
        pytest.skip("this onnx wheel ships no backend test data")
    rep = cnncalc.analyze(path)
    assert rep.totals.macs == 4_089_184_256 == cnncalc.analyze("zoo:resnet50").totals.macs
    assert rep.layers[-1].output_shape == (1, 1000) and not rep.uncounted_ops
    m = onnx.load(path)
    check_shapes(m, None, {m.graph.input[0].name: np.random.rand(1, 3, 224, 224).astype(np.float32)})


def test_several_inputs_share_named_dimensions():
    nodes = [helper.make_node("MatMul", ["a", "W"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])]
    m = model_proto(nodes, [fvi("a", ["n", "k"]), fvi("b", ["n", 5])], [fvi("y", None)], [init("W", (4, 5))])
    rep = cnncalc.analyze(m, input_size=[(3, 4)])              # b's 'n' is bound by a's size
    assert rep.layers[-1].output_shape == (3, 5) and rep.totals.macs == 3 * 4 * 5
    assert cnncalc.analyze(m, input_size={"b": (2, 5), "a": (2, 4)}).totals.macs == 2 * 4 * 5
    with pytest.raises(SpecError, match=r"input 'a' dimension 0 \('n'\) needs a value.*inputs, in order: a, b"):
        cnncalc.analyze(m)
    with pytest.raises(SpecError, match="'n'\\) is 2 here but 3"):
        cnncalc.analyze(m, input_size=[(3, 4), (2, 5)])
    with pytest.raises(SpecError, match="3 input sizes given, but the model has 2"):
        cnncalc.analyze(m, input_size=[(3, 4), (3, 5), (1,)])


def test_a_constant_passed_through_identity_keeps_its_value():
    """A static Identity is aliased to its input's value (read only if a rule asks): a target shape passed
    through two Identity nodes still reshapes, as onnxruntime computes it (the oracle: its output's shape)."""
    target = numpy_helper.from_array(np.array([2, -1], dtype=np.int64), "target")
    nodes = [helper.make_node("Identity", ["target"], ["t1"]), helper.make_node("Identity", ["t1"], ["t2"]),
             helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Reshape", ["r", "t2"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [target])
    mp = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sess = ort.InferenceSession(mp.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": np.zeros((2, 3, 4), np.float32)})[0].shape           # (2, 12)
    from cnncalc.frontends.onnx import analyze_onnx
    for report in (cnncalc.analyze(mp), analyze_onnx(mp, _onnx_inference=False)):   # (the second: no ONNX help)
        assert report.layers[-1].output_shape == tuple(want) == (2, 12)
