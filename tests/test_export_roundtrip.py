"""Round trips between text specs and PyTorch.

(a) ``cnncalc.export.to_pytorch``: the generated ``nn.Module`` source is executed and instantiated; its
    parameter count must equal cnncalc's ``totals.params``, its output shape the report's final shape, and the
    output of every module that computes one layer (``module_names``) that layer's shape (forward hooks).
    Large networks run on the ``meta`` device (shapes only), small ones eagerly on CPU.
(b) ``cnncalc.frontends.torch_spec.to_spec``: plain-torch models are written as specs; cnncalc's analysis of
    the spec must give the model's parameter count, ``FlopCounterMode`` total / 2 as MACs, and its output shape.
    What the spec cannot express must raise a clean ``SpecError`` naming the module / op.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import SpecError  # noqa: E402
from cnncalc.export import module_names, to_pytorch  # noqa: E402
from cnncalc.frontends.torch_spec import to_spec  # noqa: E402
from cnncalc.ops import registry  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_nets as R  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
              pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")]
torch.set_num_threads(1)


# --------------------------------------------------------------------------- helpers
def build(source: str, class_name: str = "Net"):
    ns: dict = {}
    exec(compile(source, f"<generated {class_name}>", "exec"), ns)
    return ns[class_name]


def check_export(spec, *, meta: bool):
    """Export, exec, instantiate, run; compare params, final and per-module shapes with the report."""
    report = cnncalc.analyze(spec)
    src = to_pytorch(spec)
    Net = build(src)
    assert Net.input_shape == report.input_shape
    device = "meta" if meta else "cpu"
    with torch.device(device):
        net = Net().eval()
    assert sum(p.numel() for p in net.parameters()) == report.totals.params
    names = module_names(spec)
    layers = {layer.name: layer for layer in report.layers}
    seen: dict = {}
    hooks = []
    for layer_name, attr in names.items():
        def hook(mod, inp, out, layer_name=layer_name):
            seen[layer_name] = tuple(out.shape)
        hooks.append(net.get_submodule(attr).register_forward_hook(hook))
    if Net.input_dtype == torch.long:
        x = torch.zeros(Net.input_shape, dtype=torch.long, device=device)
    else:
        x = (torch.empty if meta else torch.randn)(Net.input_shape, device=device)
    with torch.no_grad():
        y = net(x)
    for h in hooks:
        h.remove()
    assert tuple(y.shape) == report.layers[-1].output_shape
    assert set(seen) == set(names)          # every mapped module ran
    for layer_name, shape in seen.items():
        assert shape == layers[layer_name].output_shape, layer_name
    return report, src, net


def torch_numbers(model, size, *, dtype=torch.float32):
    """(params, MACs = FlopCounterMode total // 2, output shape) on the model's device."""
    device = next(model.parameters()).device
    x = torch.zeros(size, dtype=dtype, device=device)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        y = model(x)
    return sum(p.numel() for p in model.parameters()), fc.get_total_flops() // 2, tuple(y.shape)


def check_to_spec(model, size, *, macs=True, dtype=torch.float32):
    model.eval()
    spec = to_spec(model, size)
    report = cnncalc.analyze(spec)
    params, flops_macs, out = torch_numbers(model, size, dtype=dtype)
    assert report.totals.params == params
    if macs:
        assert report.totals.macs == flops_macs
    assert report.layers[-1].output_shape == out
    assert report.input_shape == tuple(size)
    return spec, report


# --------------------------------------------------------------------------- (a) spec -> PyTorch
SMALL_SPECS = {
    "lstm_embedding": """
        input(12)
        embedding(100, 16, padding_idx=0)
        lstm(32, num_layers=2, bidirectional=true)
        layernorm
        gru(8, return_sequences=false)
        dense(5) | logsoftmax(axis=1)
    """,
    "rnn_proj": "input(7, 10) | rnn(6, nonlinearity=relu, bias=false) | lstm(12, proj_size=4) | flatten | dense(3)",
    "asymmetric_padding": """
        input(3, 17, 19)
        conv2d(8, 3, padding=((0, 1), (1, 2)))
        zeropad2d((1, 2, 0, 1))
        maxpool2d(3, stride=2, padding=((1, 0), (0, 1)))
        convtranspose2d(4, 3, stride=2, padding=((1, 0), (0, 2)), output_padding=1)
        conv2d(6, 4, padding=same, dilation=1)
        avgpool2d(2, padding=((1, 0), (0, 1)))
    """,
    "causal_1d": "input(4, 30) | conv1d(8, 3, padding=causal, dilation=2) | zeropad1d((2, 1)) | "
                 "convtranspose1d(5, 4, stride=3, output_padding=2) | globalavgpool1d",
    "upsample_groupnorm_prelu_softmax": """
        input(8, 10, 12)
        conv2d(16, 3, padding=1, bias=false)
        groupnorm(4) | prelu(num_parameters=16)
        upsample(scale_factor=2, mode=bilinear, align_corners=false)
        conv2d(8, 1) | prelu
        upsample(size=(15, 17))
        upsampling2d(2, interpolation=bilinear)
        instancenorm2d(affine=true) | leakyrelu(0.2) | elu | gelu(approximate=tanh)
        softmax
    """,
    "graph_merges": """
        input(6, 16, 16)
        stem: conv2d(12, 3, padding=1) | relu6
        a = conv2d(12, 3, padding=1) | silu
        b = stem | conv2d(12, 1) | hardswish
        s = add(a, b)
        d = subtract(a, b) | mish
        m = multiply(s, d)
        avg = average(a, b, m)
        mx = maximum(a, b) | minimum(avg)
        cat = concat(s, mx, avg)
        half: slice(0, 18)
        cat | slice(18, 36) | tanh
        concat(half, axis=1)
        gate = globalavgpool2d(keepdims=true) | conv2d(36, 1) | hardsigmoid
        cat | multiply(gate)
        reshape((36, 8, 32)) | sigmoid | softsign | softplus
        globalmaxpool2d
        dense(4)
    """,
    "conv_zoo": """
        input(4, 20, 20)
        depthwiseconv2d(3, depth_multiplier=2, padding=1, bias=false)
        separableconv2d(10, 3, stride=2, padding=1)
        conv2d(12, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1), groups=2, padding_mode=reflect)
        batchnorm2d(eps=0.001, momentum=0.01)
        avgpool2d(3, stride=2, padding=1, ceil_mode=true, count_include_pad=false)
        adaptivemaxpool2d((3, none))
        flatten(start_dim=2) | batchnorm1d | dropout2d(0.1) | dropout
        reshape((3, 4, 3, 3)) | conv3d(2, (2, 1, 1), bias=false) | selu
        maxpool3d((1, 1, 2), stride=1, dilation=(1, 1, 2))
        identity | flatten | dense(7, bias=false, activation=relu) | dense(3, activation=softmax)
    """,
    "one_d": """
        input(4, 24)
        depthwiseconv1d(3, depth_multiplier=2, padding=1) | separableconv1d(6, 3, bias=false)
        maxpool1d(2) | avgpool1d(3, stride=1, padding=1) | instancenorm1d
        adaptivemaxpool1d(5) | adaptiveavgpool1d(3) | upsampling1d(2) | activation(relu)
        rescaling(scale=0.5, offset=1) | globalmaxpool1d
    """,
    "three_d": """
        input(2, 6, 8, 8)
        zeropad3d(1) | convtranspose3d(3, 2, stride=2) | batchnorm3d | instancenorm3d(affine=true)
        avgpool3d(2) | adaptivemaxpool3d(4) | adaptiveavgpool3d((2, 2, none)) | upsampling3d(2)
        batchnorm | instancenorm(track_running_stats=true) | globalavgpool3d(keepdims=true) | globalmaxpool3d
    """,
}
BIG_SPECS = ["zoo:resnet18", "zoo:mobilenet_v2", "zoo:densenet121", "zoo:unet"]
#: the layer kinds registered when these tests were written (kinds added later are not required here)
KINDS_AT_WRITING = frozenset({
    "activation", "adaptiveavgpool1d", "adaptiveavgpool2d", "adaptiveavgpool3d", "adaptivemaxpool1d",
    "adaptivemaxpool2d", "adaptivemaxpool3d", "add", "average", "avgpool1d", "avgpool2d", "avgpool3d", "batchnorm",
    "batchnorm1d", "batchnorm2d", "batchnorm3d", "concat", "conv1d", "conv2d", "conv3d", "convtranspose1d",
    "convtranspose2d", "convtranspose3d", "crop", "dense", "depthwiseconv1d", "depthwiseconv2d", "dropout", "elu",
    "embedding", "flatten", "gelu", "globalavgpool1d", "globalavgpool2d", "globalavgpool3d", "globalmaxpool1d",
    "globalmaxpool2d", "globalmaxpool3d", "groupnorm", "gru", "hardsigmoid", "hardswish", "identity",
    "instancenorm", "instancenorm1d", "instancenorm2d", "instancenorm3d", "layernorm", "leakyrelu", "lstm",
    "maximum", "maxpool1d", "maxpool2d", "maxpool3d", "minimum", "mish", "multiply", "normalization", "prelu",
    "relu", "relu6", "rescaling", "reshape", "rnn", "selu", "separableconv1d", "separableconv2d", "sigmoid",
    "silu", "slice", "softmax", "softplus", "softsign", "subtract", "tanh", "upsample", "upsampling1d",
    "upsampling2d", "upsampling3d", "zeropad1d", "zeropad2d", "zeropad3d",
})
#: registered layer kinds with no PyTorch equivalent: to_pytorch raises SpecError naming the layer
NOT_EXPORTABLE = {"normalization": "input(4, 8) | norm: normalization"}


def test_mnist_example_eager():
    report, src, _ = check_export(str(ROOT / "examples" / "mnist.txt"), meta=False)
    assert report.totals.params == 217_706
    assert "nn.Conv2d(1, 32, 5)" in src and "nn.Linear(800, 256)" in src
    assert src.count("\n        self.") == len(report.layers)     # one line per module


@pytest.mark.parametrize("name", sorted(SMALL_SPECS))
def test_to_pytorch_small_eager(name):
    check_export(SMALL_SPECS[name], meta=False)


@pytest.mark.parametrize("spec", BIG_SPECS)
def test_to_pytorch_zoo_meta(spec):
    report, src, _ = check_export(spec, meta=True)
    if spec == "zoo:unet":
        assert "[..., 4:60, 4:60]" in src          # copy and crop by slicing
        assert report.layers[-1].output_shape == (1, 2, 388, 388)


def test_to_pytorch_source_is_readable():
    src = to_pytorch("input(3, 32, 32) | stem: conv2d(16, 3, padding=1) | conv2d(16, 3, padding=1) | relu "
                     "| add(stem) | relu", class_name="Tiny")
    assert "class Tiny(nn.Module):" in src
    assert "self.stem = nn.Conv2d(3, 16, 3, padding=1)" in src
    assert "x = x + stem" in src
    for line in src.splitlines():
        assert len(line) <= 140
    Tiny = build(src, "Tiny")
    assert tuple(Tiny()(torch.randn(Tiny.input_shape)).shape) == (1, 16, 32, 32)


def test_to_pytorch_names_sanitised():
    spec = """
        input(3, 8, 8)
        0: conv2d(4, 3)
        features.1: relu
        forward: conv2d(4, 1)
        train: relu
    """
    names = module_names(spec)
    assert names == {"0": "layer_0", "features.1": "features_1", "forward": "forward_", "train": "train_"}
    check_export(spec, meta=False)


def test_to_pytorch_batch_kept():
    report, _, _ = check_export("input(3, 8, 8, batch=4) | conv2d(2, 3) | flatten | dense(2)", meta=False)
    assert report.input_shape == (4, 3, 8, 8)


@pytest.mark.parametrize("spec, layer", [
    ("input(4, 8, 8) | bn: batchnorm2d(center=false)", "bn"),
    ("input(4, 8, 8) | ln: layernorm(axis=1)", "ln"),
    ("input(4, 8) | up: upsampling1d(2, interpolation=bicubic)", "up"),
])
def test_to_pytorch_unsupported_names_layer(spec, layer):
    with pytest.raises(SpecError) as e:
        to_pytorch(spec)
    assert e.value.layer == layer
    assert "cannot be exported to PyTorch" in str(e.value)


def test_every_layer_kind_is_covered():
    """Every kind registered when this test was written is exported by a spec above, or refused cleanly."""
    covered = set()
    for spec in list(SMALL_SPECS.values()) + BIG_SPECS:
        covered |= {layer.kind for layer in cnncalc.analyze(spec).layers}
    known = set(registry.KINDS) & KINDS_AT_WRITING
    assert known - covered - set(NOT_EXPORTABLE) == set()


@pytest.mark.parametrize("kind", sorted(NOT_EXPORTABLE))
def test_not_exportable_kinds(kind):
    with pytest.raises(SpecError) as e:
        to_pytorch(NOT_EXPORTABLE[kind])
    assert e.value.layer == "norm" and "cannot be exported to PyTorch" in str(e.value)


def test_to_pytorch_bad_spec_is_spec_error():
    with pytest.raises(SpecError):
        to_pytorch("input(3, 8, 8) | conv2d(4, 9)")


@pytest.mark.parametrize("spec", BIG_SPECS + ["zoo:googlenet", "zoo:efficientnet_b0"] + sorted(SMALL_SPECS))
def test_roundtrip_spec_torch_spec(spec):
    """spec -> to_pytorch -> to_spec gives the same totals and shapes (meta device)."""
    spec = SMALL_SPECS.get(spec, spec)
    report = cnncalc.analyze(spec)
    Net = build(to_pytorch(spec))
    with torch.device("meta"):
        net = Net()
    again = cnncalc.analyze(to_spec(net, Net.input_shape))
    assert again.totals.params == report.totals.params
    assert again.totals.macs == report.totals.macs
    assert again.totals.buffers == report.totals.buffers
    assert again.layers[-1].output_shape == report.layers[-1].output_shape


# --------------------------------------------------------------------------- (b) PyTorch -> spec
@pytest.mark.parametrize("name", ["resnet18", "vgg11_bn", "mobilenet_v2", "squeezenet1_0", "googlenet"])
def test_to_spec_reference_nets(name):
    fn, size = R.MODELS[name]
    with torch.device("meta"):
        model = fn()
    spec, _ = check_to_spec(model, size)
    assert spec.startswith("x: input(3, 224, 224)\n")


def test_to_spec_resnet18_labels_are_module_names():
    fn, size = R.MODELS["resnet18"]
    with torch.device("meta"):
        model = fn()
    spec = to_spec(model, size)
    assert "layer1.0.conv1: conv2d(64, 3, padding=1, bias=false)" in spec
    assert "layer1.1.relu_1 | layer2.0.downsample.0: conv2d(128, 1, stride=2, bias=false)" in spec
    assert "add(layer2.0.bn2, layer2.0.downsample.1)" in spec
    names = {layer.name for layer in cnncalc.analyze(spec).layers}
    modules = {n for n, m in model.named_modules() if not list(m.children())}
    assert modules - {"relu"} <= names     # every leaf module is a layer (the top 'relu' is relabelled)


class Residual(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c * 8 * 8, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        y = self.conv2(x)
        x = F.relu(x + y)
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 6, 1)
        self.b = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.GELU(), nn.Upsample(scale_factor=2),
                               nn.AvgPool2d(2))
        self.norm = nn.GroupNorm(3, 18)
        self.head = nn.Linear(9, 5)

    def forward(self, x):
        a = self.a(x)
        b = self.b(x)
        y = torch.cat([a, b, a * torch.sigmoid(b)], dim=1)
        y = self.norm(y)
        lo, hi = torch.chunk(y, 2, dim=1)
        z = torch.maximum(lo, hi)[:, :, 1:-1, 2:]
        z = F.interpolate(z, size=(6, 6), mode="bilinear", align_corners=False)
        z = F.pad(z, (1, 0, 2, 1))
        z = z.mean((2, 3), keepdim=True)
        return self.head(z.flatten(1))


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.norm = nn.LayerNorm(32)
        self.out = nn.Linear(32, 4)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.out(self.norm(h)[:, -1])


class LastStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 7, batch_first=True)
        self.out = nn.Linear(7, 2)

    def forward(self, x):
        return self.out(self.gru(x)[0][:, -1])


def test_to_spec_custom_residual():
    spec, _ = check_to_spec(Residual(), (2, 3, 16, 16))
    assert spec.splitlines() == [
        "x: input(3, 16, 16, batch=2)", "conv1: conv2d(8, 3, padding=1, bias=false)", "bn1: batchnorm2d",
        "relu_0: relu", "conv2: conv2d(8, 3, padding=1)", "add_0: add(relu_0, conv2)", "relu_1: relu",
        "pool: maxpool2d(2)", "view: flatten", "fc: dense(10)"]


def test_to_spec_custom_concat():
    spec, _ = check_to_spec(Concat(), (1, 4, 8, 8))
    assert "concat(a, b.3, mul" in spec
    assert "globalavgpool2d(keepdims=true)" in spec


def test_to_spec_sequences():
    spec, _ = check_to_spec(Sequence(), (3, 11), macs=False, dtype=torch.long)
    assert "lstm(16, num_layers=2, bidirectional=true)" in spec
    spec, _ = check_to_spec(LastStep(), (1, 9, 5), macs=False)
    assert "gru(7, return_sequences=false)" in spec


def test_to_spec_sequential_labels():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.1), nn.Linear(8, 3),
                          nn.Softmax(dim=1))
    spec, _ = check_to_spec(model, (1, 1, 4, 4))
    assert spec.splitlines()[1] == "_0: conv2d(2, 3)"


class Permute(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        if x.sum() > 0:
            return self.conv(x)
        return x


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        y = self.conv(x)
        return y, F.relu(y)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.conv(x) * self.scale


class Reflect(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x):
        return self.pad(x)


class Divide(nn.Module):
    def forward(self, x):
        return x / F.relu(x)


class Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x * 0.5 + 1)
        return 2 - y / 4


class HiddenState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 4, batch_first=True)

    def forward(self, x):
        _, (h, c) = self.lstm(x)
        return h


def test_to_spec_rescaling():
    spec, _ = check_to_spec(Affine(), (1, 3, 4, 4))
    assert "rescaling(scale=0.5, offset=1.0)" in spec
    assert "rescaling(scale=0.25)" in spec and "rescaling(scale=-1.0, offset=2.0)" in spec


@pytest.mark.parametrize("model, size, words", [
    (Permute(), (1, 3, 4, 4), ["permute", "not expressible"]),
    (DataDependent(), (1, 3, 4, 4), ["torch.fx cannot trace DataDependent"]),
    (TwoOutputs(), (1, 3, 4, 4), ["returns 2 values"]),
    (Scaled(), (1, 3, 4, 4), ["'scale'"]),
    (Reflect(), (1, 3, 4, 4), ["module 'pad' (ReflectionPad2d)", "padding_mode"]),
    (Divide(), (1, 3, 4, 4), ["truediv", "division"]),
    (nn.Sequential(nn.Flatten(0)), (1, 3, 4, 4), ["batch axis"]),
    (HiddenState(), (1, 5, 4), ["hidden state"]),
    (nn.Sequential(nn.MultiheadAttention(4, 2)), (1, 5, 4), ["MultiheadAttention"]),
])
def test_to_spec_not_expressible(model, size, words):
    with pytest.raises(SpecError) as e:
        to_spec(model, size)
    for w in words:
        assert w in str(e.value)


def test_to_spec_keeps_the_model():
    model = Residual().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    to_spec(model, (1, 3, 16, 16))
    assert model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
