"""cnncalc.analyze(torch.nn.Module) against independent oracles.

Every expectation here comes from torch itself or from a closed form written out in the test, never from
cnncalc's own output:

* parameters / buffers: ``model.parameters()`` / ``model.buffers()`` (unique tensors, like torch counts them);
* output shapes: an EAGER forward on a small real input, recorded with forward hooks;
* MACs: ``torch.utils.flop_counter.FlopCounterMode`` total // 2 (on meta tensors, or on real CPU tensors with
  oneDNN disabled for the LSTM) and, for attention / recurrent / transformer models, the textbook closed forms;
* receptive fields: the text-spec front-end (``zoo:resnet50``, a hand-written spec) and the Araujo recurrence
  worked out by hand;
* "the model is not modified": identity, values, ``_version`` counters, devices, dtypes, modes and hooks of the
  user's module before and after.

Models are built on the meta device wherever their values do not matter, so the file stays fast.
"""
from __future__ import annotations

import gc
import math
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import SpecError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_nets import MODELS  # noqa: E402

torch.set_num_threads(1)

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*TF32.*:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*enable_nested_tensor.*:UserWarning"),
]


# --------------------------------------------------------------------------- helpers

def on_meta(name: str, mode: str = "eval") -> nn.Module:
    factory, _ = MODELS[name]
    with torch.device("meta"):
        model = factory()
    return getattr(model, mode)()


def real(name: str) -> nn.Module:
    torch.manual_seed(0)
    factory, _ = MODELS[name]
    return factory().eval()


def fc_macs(model, *args, **kwargs) -> int:
    """FlopCounterMode's total FLOPs // 2 for one forward call (no grad)."""
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(*args, **kwargs)
    return fc.get_total_flops() // 2


def first_tensor(obj):
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for o in obj:
            t = first_tensor(o)
            if t is not None:
                return t
    if isinstance(obj, dict):
        return first_tensor(list(obj.values()))
    return None


def eager_shapes(model, *args, **kwargs) -> dict:
    """{module name: shape of its first output tensor, first call} from a real eager forward."""
    shapes = {}

    def hook(name):
        def record(module, inputs, output):
            t = first_tensor(output)
            if t is not None:
                shapes.setdefault(name, tuple(t.shape))
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
    try:
        model(*args, **kwargs)        # grad enabled on purpose: no fused inference fast paths that skip submodules
    finally:
        for h in handles:
            h.remove()
    return shapes


def rows_by_module(report) -> dict:
    return {(row.label or ""): row for row in report.layers}


def level(name: str) -> int:
    return 0 if name == "" else name.count(".") + 1


def unique_numel(tensors) -> int:
    return sum(t.numel() for t in {id(t): t for t in tensors}.values())


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux clear_refs 5) so that the next reading is the peak from now on."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_growth(fn):
    """(result, bytes by which the resident set grew at its peak while fn ran)."""
    gc.collect()
    exact = reset_peak_rss()
    before = _status("VmRSS")
    result = fn()
    after = _status("VmHWM") if exact else _status("VmRSS")
    return result, after - before


# --------------------------------------------------------------------------- small models

class ViT(nn.Module):
    """A small vision transformer in plain torch: patch conv, class token, positional embedding,
    nn.TransformerEncoder (batch_first), final norm and a classification head."""

    def __init__(self, img=64, patch=4, dim=64, depth=2, heads=4, mlp=128, classes=10):
        super().__init__()
        self.cfg = dict(img=img, patch=patch, dim=dim, depth=depth, heads=heads, mlp=mlp, classes=classes)
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (img // patch) ** 2 + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.encoder(x)
        return self.head(self.norm(x[:, 0]))


class Attention(nn.Module):
    """Calls F.scaled_dot_product_attention, torch.matmul and @ directly (no nn.MultiheadAttention)."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Parameter(torch.randn(dim, dim))

    def forward(self, x):
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)                       # B h L dh
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D // self.heads)
        b = scores.softmax(-1) @ v
        y = (a + b).transpose(1, 2).reshape(B, L, D)
        return y @ self.proj


class LSTMNet(nn.Module):
    def __init__(self, inp=16, hidden=32, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(inp, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


class ResidualBlock(nn.Module):
    """forward: relu(x + conv(x)) -- the add and the relu are functional, not modules."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv(x))


class TwoBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block1 = ResidualBlock(8)
        self.block2 = ResidualBlock(8)

    def forward(self, x):
        return self.block2(self.block1(self.stem(x)))


class TwoInputs(nn.Module):
    """Token ids to an nn.Embedding plus an image to a conv."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 32)
        self.conv = nn.Conv2d(3, 32, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, tokens, image, bias=None):
        t = self.emb(tokens).mean(1)
        i = self.pool(self.conv(image)).flatten(1)
        y = self.fc(torch.cat([t, i], 1))
        return y if bias is None else y + bias


class Tied(nn.Module):
    """Language-model style: the output projection shares the embedding matrix."""

    def __init__(self, vocab=100, dim=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.mid = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, vocab, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, x):
        return self.out(torch.tanh(self.mid(self.emb(x))))


class SharedModule(nn.Module):
    """One nn.Linear reached under several names and called four times."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = self.a
        self.seq = nn.Sequential(self.a, nn.ReLU(), self.a)

    def forward(self, x):
        return self.seq(self.b(self.a(x)))


class WithConstant(nn.Module):
    """Keeps a real tensor as a plain attribute (neither parameter nor buffer)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.scale = torch.linspace(0.5, 1.5, 8)

    def forward(self, x):
        return self.fc(x) * self.scale


class BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(self.drop(x.mean((2, 3))))


# --------------------------------------------------------------------------- 1. parameters and buffers

@pytest.mark.parametrize("name", ["resnet18", "densenet121", "efficientnet_b0", "inception_v3"])
def test_params_and_buffers_match_torch(name):
    model = on_meta(name)
    size = MODELS[name][1]
    modules = dict(model.named_modules())
    for depth in (0, 1, 2, 3):
        rep = cnncalc.analyze(model, input_size=size, depth=depth)
        assert rep.totals.params == sum(p.numel() for p in model.parameters())
        assert rep.totals.buffers == sum(b.numel() for b in model.buffers())
        assert rep.totals.trainable_params == rep.totals.params and rep.totals.non_trainable_params == 0
        rows = rows_by_module(rep)
        assert set(rows) <= set(modules)
        assert all(level(n) <= depth for n in rows)
        for n, row in rows.items():
            m = modules[n]
            if level(n) == depth:          # the cut: the whole subtree
                assert row.params == unique_numel(m.parameters()), n
                assert row.buffers == unique_numel(m.buffers()), n
            else:                          # above the cut: its own tensors only, the children have rows
                assert row.params == unique_numel(m.parameters(recurse=False)), n
                assert row.buffers == unique_numel(m.buffers(recurse=False)), n
        # every module down to the cut that holds parameters has its row
        for n, m in modules.items():
            if level(n) <= depth and any(True for _ in m.parameters()):
                assert n in rows, n


def test_params_of_named_subtrees_resnet18():
    model = on_meta("resnet18")
    rep = cnncalc.analyze(model, input_size=(1, 3, 224, 224), depth=1)
    modules = dict(model.named_modules())
    for n in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"):
        assert rep[n].params == sum(p.numel() for p in modules[n].parameters()), n
    assert rep["fc"].params == 512 * 1000 + 1000
    assert rep["layer1"].buffers == sum(b.numel() for b in modules["layer1"].buffers())


def test_tied_weight_counted_once():
    model = Tied()
    named = list(model.named_parameters(remove_duplicate=False))
    assert [n for n, _ in named] == ["emb.weight", "mid.weight", "mid.bias", "out.weight"]
    assert named[0][1] is named[3][1]                                          # one tensor, two names
    rep = cnncalc.analyze(model, input_size=(2, 5), dtypes=[torch.long])
    assert rep.totals.params == sum(p.numel() for p in model.parameters()) == 100 * 16 + 16 * 16 + 16
    assert sum(row.params for row in rep.layers) == rep.totals.params
    x = torch.randint(0, 100, (2, 5))
    assert model.out.weight is model.emb.weight and model.emb.weight.device.type == "cpu"
    assert rep.totals.macs == fc_macs(model, x) == 2 * 5 * 16 * 16 + 2 * 5 * 16 * 100
    assert rep["out"].macs == 2 * 5 * 16 * 100          # the tied weight is still used by its second owner


def test_shared_module_counted_once_called_four_times():
    model = SharedModule()
    before = [(n, p, p.detach().clone()) for n, p in model.named_parameters(remove_duplicate=False)]
    rep = cnncalc.analyze(model, input_size=(2, 8), depth=5)
    for n, p, v in before:        # the shared module's tensors are the user's again (not meta copies)
        q = model.get_parameter(n)
        assert q is p and q.device.type == "cpu" and torch.equal(q, v), n
    assert rep.totals.params == sum(p.numel() for p in model.parameters()) == 72
    assert rep.totals.macs == fc_macs(model, torch.randn(2, 8)) == 4 * 2 * 8 * 8


def test_frozen_parameters_split():
    model = on_meta("resnet18")
    model.layer1.requires_grad_(False)
    model.fc.bias.requires_grad_(False)
    rep = cnncalc.analyze(model, input_size=(1, 3, 224, 224), depth=1)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert rep.totals.non_trainable_params == frozen
    assert rep.totals.trainable_params == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert rep["layer1"].non_trainable_params == rep["layer1"].params
    assert rep["fc"].non_trainable_params == 1000 and rep["fc"].trainable_params == 512 * 1000


# --------------------------------------------------------------------------- 2. output shapes vs eager

@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "densenet121", "efficientnet_b0", "squeezenet1_0"])
def test_output_shapes_match_eager_forward(name):
    model = real(name)
    x = torch.randn(1, 3, 64, 64)
    expected = eager_shapes(model, x)
    rep = cnncalc.analyze(model, input_size=(1, 3, 64, 64), depth=100)
    _check_shapes(model, rep, expected)
    assert rep.layers[0].input_shape == (1, 3, 64, 64)


def _check_shapes(model, rep, expected):
    rows = rows_by_module(rep)
    for n, m in model.named_modules():
        if n in expected:
            assert n in rows, f"{n} ran but has no row"
            assert rows[n].output_shape == expected[n], n
        elif n in rows:                                  # listed for its parameters, never called as a module
            assert rows[n].output_shape == (), n
    assert set(rows) <= {n for n, _ in model.named_modules()}


def test_output_shapes_transformer_lstm_multi_input():
    vit = ViT(img=32, patch=8).eval()
    _check_shapes(vit, cnncalc.analyze(vit, input_size=(2, 3, 32, 32), depth=100),
                  eager_shapes(vit, torch.randn(2, 3, 32, 32)))
    lstm = LSTMNet().eval()
    rep = cnncalc.analyze(lstm, input_size=(3, 7, 16), depth=100)
    _check_shapes(lstm, rep, eager_shapes(lstm, torch.randn(3, 7, 16)))
    assert rep["lstm"].output_shape == (3, 7, 64)
    two = TwoInputs().eval()
    rep = cnncalc.analyze(two, input_size=[(2, 12), (2, 3, 16, 16)], dtypes=[torch.long, torch.float32], depth=100)
    _check_shapes(two, rep, eager_shapes(two, torch.randint(0, 1000, (2, 12)), torch.randn(2, 3, 16, 16)))
    assert rep["emb"].output_shape == (2, 12, 32)


# --------------------------------------------------------------------------- 3. MACs vs FlopCounterMode

@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "inception_v3", "densenet121", "vgg11",
                                  "efficientnet_b0"])
def test_macs_match_flop_counter(name):
    model = on_meta(name)
    size = MODELS[name][1]
    rep = cnncalc.analyze(model, input_size=size, depth=1)
    assert rep.totals.macs == fc_macs(model, torch.empty(size, device="meta"))
    assert rep.uncounted_ops == {}
    assert rep.totals.mults == rep.totals.macs and rep.totals.flops >= 2 * rep.totals.macs
    assert rep.totals.macs == sum(row.macs for row in rep.layers)


def test_inception_v3_uncalled_aux_head_train_mode():
    # the reference Inception3 builds AuxLogits with aux_logits=True but never calls it
    factory, size = MODELS["inception_v3"]
    with torch.device("meta"):
        model = factory(aux_logits=True).train()
    rep = cnncalc.analyze(model, input_size=(2, 3, 299, 299), depth=1)
    assert rep.totals.macs == fc_macs(model, torch.empty(2, 3, 299, 299, device="meta"))
    assert rep.totals.params == sum(p.numel() for p in model.parameters())
    aux = rep["AuxLogits"]
    assert aux.params == sum(p.numel() for p in model.AuxLogits.parameters()) > 0
    assert aux.macs == 0 and aux.output_shape == ()


def _vit_closed_form(cfg, batch):
    d, h, mlp, depth = cfg["dim"], cfg["heads"], cfg["mlp"], cfg["depth"]
    n = (cfg["img"] // cfg["patch"]) ** 2
    L = n + 1
    patch = batch * n * d * 3 * cfg["patch"] ** 2
    proj = batch * L * (3 * d * d + d * d)               # in_proj (q, k, v) + out_proj
    attention = batch * h * L * L * (d // h) * 2          # q k^T and attn v
    ffn = batch * L * 2 * d * mlp
    head = batch * d * cfg["classes"]
    return dict(patch=patch, proj=proj, attention=attention, ffn=ffn, head=head,
                total=patch + depth * (proj + attention + ffn) + head)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_vit_attention_counted(mode):
    model = getattr(ViT(), mode)()
    cfg, B = model.cfg, 2
    rep = cnncalc.analyze(model, input_size=(B, 3, 64, 64), depth=4)
    with torch.device("meta"):
        meta_model = getattr(ViT(), mode)()
    assert rep.totals.macs == fc_macs(meta_model, torch.empty(B, 3, 64, 64, device="meta"))
    cf = _vit_closed_form(cfg, B)
    assert rep.totals.macs == cf["total"]
    assert rep["encoder.layers.0.self_attn"].macs == cf["proj"] + cf["attention"]
    assert rep["encoder.layers.1.linear1"].macs == cf["ffn"] // 2
    assert rep.totals.params == sum(p.numel() for p in model.parameters())
    assert rep.uncounted_ops == {}
    # what a per-module hook counter (torchinfo-like) sees: only nn.Conv2d / nn.Linear modules that are called
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o))) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.enable_grad():
        model(torch.randn(B, 3, 64, 64))
    for h in hooks:
        h.remove()
    module_only = sum(o.numel() * (m.weight[0].numel()) for m, o in seen)
    assert module_only == cf["patch"] + cf["head"] + cfg["depth"] * cf["ffn"]
    assert rep.totals.macs > 3 * module_only


def test_sdpa_matmul_and_at_operator():
    model = Attention()
    B, L, D, h = 2, 10, 32, 4
    rep = cnncalc.analyze(model, input_size=(B, L, D))
    with torch.device("meta"):
        meta_model = Attention()
    # note: on real CPU tensors FlopCounterMode misses the fused CPU SDPA kernel; meta takes the math path
    assert rep.totals.macs == fc_macs(meta_model, torch.empty(B, L, D, device="meta"))
    qkv = B * L * D * 3 * D
    sdpa = B * h * L * L * (D // h) * 2
    matmul = B * h * L * L * (D // h)
    at_v = B * h * L * L * (D // h)
    proj = B * L * D * D
    assert rep.totals.macs == qkv + sdpa + matmul + at_v + proj
    assert rep["qkv"].macs == qkv
    assert rep.layers[0].macs == sdpa + matmul + at_v + proj      # the root's own functional matmuls


def test_lstm_every_step_counted():
    model = LSTMNet().eval()
    B, T, I, H = 3, 7, 16, 32
    x = torch.randn(B, T, I)
    with torch.no_grad():
        y_before = model(x)
    rep = cnncalc.analyze(model, input_size=(B, T, I))
    with torch.no_grad():                  # LSTM keeps extra references (_flat_weights): still the real ones
        assert torch.equal(model(x), y_before)
    with torch.backends.mkldnn.flags(enabled=False):           # oneDNN's fused LSTM is invisible to the counter
        oracle = fc_macs(model, x)
    with torch.device("meta"):
        meta_model = LSTMNet()
    assert oracle == fc_macs(meta_model.eval(), torch.empty(B, T, I, device="meta"))
    layer1 = 2 * T * B * (4 * H * I + 4 * H * H)               # two directions, every step
    layer2 = 2 * T * B * (4 * H * 2 * H + 4 * H * H)
    fc = B * 2 * H * 5
    assert rep.totals.macs == oracle == layer1 + layer2 + fc
    assert rep["lstm"].macs == layer1 + layer2
    assert rep["lstm"].params == sum(p.numel() for p in model.lstm.parameters())


# --------------------------------------------------------------------------- 4. functional ops, uncounted ops

def test_functional_ops_attributed_to_calling_module():
    model = TwoBlocks()
    N, C, S = 2, 8, 16
    elems = N * C * S * S
    conv_macs = elems * C * 9
    conv_flops = 2 * conv_macs                     # K mults, K-1 adds + 1 bias add per output
    rep = cnncalc.analyze(model, input_size=(N, 3, S, S), depth=2)
    for b in ("block1", "block2"):
        assert rep[b].macs == 0                                   # its conv has its own row
        assert rep[b].flops == 2 * elems                          # the add and the relu: 1 FLOP per element each
        assert rep[f"{b}.conv"].macs == conv_macs and rep[f"{b}.conv"].flops == conv_flops
    rep1 = cnncalc.analyze(model, input_size=(N, 3, S, S), depth=1)
    for b in ("block1", "block2"):
        assert rep1[b].macs == conv_macs
        assert rep1[b].flops == conv_flops + 2 * elems
    rep0 = cnncalc.analyze(model, input_size=(N, 3, S, S), depth=0)
    assert len(rep0.layers) == 1 and rep0.layers[0].flops == rep.totals.flops == rep1.totals.flops
    assert rep.totals.macs == fc_macs(model, torch.randn(N, 3, S, S))


def test_resnet_residual_add_in_block_row():
    model = on_meta("resnet18")
    rep = cnncalc.analyze(model, input_size=(1, 3, 224, 224), depth=3)
    # BasicBlock: `out += identity` is functional; relu is the block's own nn.ReLU (a row of its own)
    assert rep["layer1.0"].flops == 64 * 56 * 56
    assert rep["layer1.0"].macs == 0
    assert rep["layer1.0.relu"].flops == 2 * 64 * 56 * 56      # called twice
    assert rep["layer1.0.conv1"].macs == 64 * 56 * 56 * 64 * 9


class Spectral(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return torch.cumprod(y, -1) + torch.fft.rfft(y, dim=-1).real.sum()


class WithSpectral(nn.Module):
    def __init__(self):
        super().__init__()
        self.spec = Spectral()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.spec(x))


def test_uncounted_ops_listed_never_silently_zero():
    from cnncalc.frontends.aten import FORMULAS, ZERO
    assert "cumprod" not in FORMULAS and "cumprod" not in ZERO        # premise: cnncalc has no formula for it
    model = WithSpectral()
    rep = cnncalc.analyze(model, input_size=(1, 3, 8, 8), depth=1)
    unc = rep.uncounted_ops
    assert unc.get("cumprod") == 1
    fft = [k for k in unc if "fft" in k]
    assert fft and all(k not in FORMULAS and k not in ZERO for k in fft)
    assert rep.to_dict()["uncounted_ops"] == unc
    assert '"cumprod"' in rep.to_json()
    row = rep["spec"]
    assert any("cumprod" in w for w in row.warnings)
    assert any("cumprod" in w for w in rep.warnings)
    assert not any("cumprod" in w for w in rep["fc"].warnings)
    # the ops it does know are still counted
    assert row.macs == 1 * 4 * 8 * 8 * 3 * 9
    assert rep["fc"].macs == 1 * 4 * 8 * 8 * 2


def test_plain_tensor_attribute():
    model = WithConstant()
    scale = model.scale
    rep = cnncalc.analyze(model, input_size=(2, 8))
    assert rep.totals.macs == 2 * 8 * 8
    assert rep.layers[0].flops == 2 * 8                              # the multiply by the constant
    assert model.scale is scale and scale.device.type == "cpu"


# --------------------------------------------------------------------------- 5. inputs

def test_multiple_inputs_with_dtypes():
    model = TwoInputs().eval()
    tokens, image = torch.randint(0, 1000, (2, 12)), torch.randn(2, 3, 16, 16)
    oracle = fc_macs(model, tokens, image)
    rep = cnncalc.analyze(model, input_size=[(2, 12), (2, 3, 16, 16)], dtypes=[torch.long, torch.float32])
    assert rep.totals.macs == oracle == 2 * 32 * 16 * 16 * 27 + 2 * 64 * 10
    assert rep.totals.params == sum(p.numel() for p in model.parameters())
    assert rep.layers[-1].output_shape == (2, 10)
    with pytest.raises(SpecError):                     # float token ids: the embedding refuses them
        cnncalc.analyze(model, input_size=[(2, 12), (2, 3, 16, 16)])
    with pytest.raises(SpecError):
        cnncalc.analyze(model, input_size=[(2, 12), (2, 3, 16, 16)], dtypes=[torch.long])
    # the same as real tensors: positional tuple, and dict passed as keyword arguments
    by_tuple = cnncalc.analyze(model, input_data=(tokens, image))
    by_dict = cnncalc.analyze(model, input_data={"image": image, "tokens": tokens})
    for r in (by_tuple, by_dict):
        assert r.totals == rep.totals
        assert [row.output_shape for row in r.layers] == [row.output_shape for row in rep.layers]
    assert by_dict.layers[0].input_shape != ()
    # extra keyword arguments, a real tensor among them
    bias = torch.zeros(10)
    with_bias = cnncalc.analyze(model, input_data=(tokens, image), kwargs={"bias": bias})
    assert with_bias.totals.flops - rep.totals.flops == 2 * 10        # one add per output element
    assert with_bias.totals.macs == rep.totals.macs


class InplaceOnInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        x.mul_(2.0)
        return self.conv(x)


def test_real_input_values_never_used():
    model = InplaceOnInput()
    x = torch.randn(1, 3, 32, 32)
    before = x.clone()
    rep = cnncalc.analyze(model, input_data=x)
    assert torch.equal(x, before) and x._version == before._version
    assert rep.layers[-1].output_shape == (1, 8, 16, 16)


def test_huge_real_input_is_fast_and_allocates_nothing():
    model = real("resnet18")
    cnncalc.analyze(model, input_size=(1, 3, 64, 64))              # warm up lazy imports and caches
    x = torch.randn(1, 3, 1024, 1024)
    t0 = time.perf_counter()
    rep, grew = peak_rss_growth(lambda: cnncalc.analyze(model, input_data=x))
    elapsed = time.perf_counter() - t0
    assert rep["conv1"].output_shape == (1, 64, 512, 512)
    assert rep.layers[-1].output_shape == (1, 1000)
    assert elapsed < 5
    # one real activation of conv1 alone would be 64 MiB; an eager forward needs several hundred
    assert grew < 48 * 2 ** 20, grew
    # ... but the analysis still knows how much an inference would need
    assert rep.peak_activation_bytes >= x.numel() * 4 + 64 * 512 * 512 * 4


# --------------------------------------------------------------------------- 6. the user's model is untouched

def _snapshot(model):
    return {
        "params": [(n, p, p.detach().clone(), p._version, p.device, p.dtype, p.requires_grad, p.grad)
                   for n, p in model.named_parameters()],
        "buffers": [(n, b, b.clone(), b._version, b.device, b.dtype) for n, b in model.named_buffers()],
        "training": [(n, m.training) for n, m in model.named_modules()],
        "hooks": [(n, dict(m._forward_hooks), dict(m._forward_pre_hooks)) for n, m in model.named_modules()],
        "keys": list(model.state_dict()),
    }


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_model_is_not_modified(mode, dtype):
    torch.manual_seed(0)
    model = getattr(BNNet().to(dtype), mode)()
    model.drop.train()                                     # a mixed-mode tree stays mixed
    seen = []
    handle = model.bn.register_forward_hook(lambda m, i, o: seen.append(o.device.type))
    mod = torch.nn.modules.module
    global_hooks = (len(mod._global_forward_hooks), len(mod._global_forward_pre_hooks))
    before = _snapshot(model)
    rep = cnncalc.analyze(model, input_size=(4, 3, 8, 8), dtypes=[dtype])
    assert rep.totals.params == sum(p.numel() for p in model.parameters())
    after = _snapshot(model)
    for (n, p, v, ver, dev, dt, rg, g), (n2, p2, v2, ver2, dev2, dt2, rg2, g2) in zip(before["params"],
                                                                                     after["params"]):
        assert n == n2 and p is p2 and torch.equal(v, p2.detach()) and ver == ver2
        assert dev == dev2 and dt == dt2 == dtype and rg == rg2 and g is None and g2 is None
    for (n, b, v, ver, dev, dt), (n2, b2, v2, ver2, dev2, dt2) in zip(before["buffers"], after["buffers"]):
        assert n == n2 and b is b2 and torch.equal(v, b2) and ver == ver2 and dev == dev2 and dt == dt2, n
    assert int(model.bn.num_batches_tracked) == 0           # BatchNorm statistics untouched even in train()
    assert before["training"] == after["training"] and model.drop.training
    assert before["hooks"] == after["hooks"]
    assert before["keys"] == after["keys"]
    assert (len(mod._global_forward_hooks), len(mod._global_forward_pre_hooks)) == global_hooks
    assert all(d == "meta" for d in seen)                   # if the user's hook ran, it saw no real data
    # still a working model: the hook fires on real tensors
    seen.clear()
    out = model(torch.randn(4, 3, 8, 8, dtype=dtype))
    assert out.shape == (4, 4) and out.dtype == dtype and seen == ["cpu"]
    if mode == "train":
        assert int(model.bn.num_batches_tracked) == 1       # and only that real forward updates the stats
    handle.remove()


# --------------------------------------------------------------------------- 7. a 58-billion-parameter model on meta

def test_huge_meta_transformer():
    d, heads, ff, depth, L = 8192, 64, 32768, 72, 256
    t0 = time.perf_counter()

    def build_and_analyse():
        with torch.device("meta"):
            layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, batch_first=True)
            model = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        return model, cnncalc.analyze(model, input_size=(1, L, d), depth=1)

    (model, rep), grew = peak_rss_growth(build_and_analyse)
    elapsed = time.perf_counter() - t0
    per_layer = (3 * d * d + 3 * d) + (d * d + d) + (d * ff + ff) + (ff * d + d) + 2 * (2 * d)
    assert rep.totals.params == depth * per_layer == sum(p.numel() for p in model.parameters())
    assert rep.totals.params > 57_000_000_000
    assert rep.totals.macs == depth * (L * (4 * d * d + 2 * d * ff) + 2 * L * L * d)
    assert rep.layers[0].output_shape == (1, L, d)
    assert rep["layers"].output_shape == ()                  # an nn.ModuleList is never called itself
    assert elapsed < 10
    assert grew < 512 * 2 ** 20, grew                      # real weights would be 232 GB


# --------------------------------------------------------------------------- 8. receptive fields

def test_resnet50_layer4_rf_matches_text_spec():
    zoo = cnncalc.analyze("zoo:resnet50")
    names = [row.name for row in zoo.layers]
    assert "layer4.2.relu_3" in names and names.index("layer4.2.relu_3") == max(
        i for i, n in enumerate(names) if n.startswith("layer4."))
    model = on_meta("resnet50")
    rep = cnncalc.analyze(model, input_size=(1, 3, 224, 224), depth=1)
    assert rep["layer4"].rf == zoo["layer4.2.relu_3"].rf
    assert rep["layer4"].rf.size == (427, 427) and rep["layer4"].rf.stride == (32, 32)
    for stage, last in (("layer1", "layer1.2.relu_3"), ("layer2", "layer2.3.relu_3"), ("layer3", "layer3.5.relu_3")):
        assert rep[stage].rf == zoo[last].rf, stage
    assert rep["fc"].rf.is_global


class SmallGraph(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.a = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.b = nn.Conv2d(16, 16, 1, stride=2)
        self.c1 = nn.Conv2d(16, 8, 5, padding=2)
        self.c2 = nn.Conv2d(16, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.last = nn.Conv2d(16, 4, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.stem(x))
        y = F.relu(self.a(s) + self.b(s))
        z = torch.cat([self.c1(y), self.c2(y)], 1)
        return self.last(self.pool(z))


SMALL_GRAPH_SPEC = """
input(3, 32, 32)
s = conv2d(16, 3, padding=1) | relu
a = s | conv2d(16, 3, stride=2, padding=1)
b = s | conv2d(16, 1, stride=2)
y = add(a, b) | relu
c1 = y | conv2d(8, 5, padding=2)
c2 = y | conv2d(8, 3, padding=1)
concat(c1, c2) | maxpool2d(3, stride=2, padding=1)
last: conv2d(4, 3, padding=1)
"""


def test_residual_concat_rf_matches_text_spec():
    model = SmallGraph()
    rep = cnncalc.analyze(model, input_size=(1, 3, 32, 32))
    spec = cnncalc.analyze(SMALL_GRAPH_SPEC)
    assert rep["last"].rf == spec["last"].rf
    assert rep["last"].output_shape == spec["last"].output_shape == (1, 4, 8, 8)
    # by hand (Araujo): stem r3 j1; a r5 j2 | b r3 j2 -> add r5; c1 r13 | c2 r9 -> cat r13;
    # pool k3 s2 -> r17 j4 P8; last k3 -> r25 j4 P12
    assert rep["last"].rf.size == (25, 25) and rep["last"].rf.stride == (4, 4)
    assert rep["last"].rf.padding == (12, 12)
    assert rep["c2"].rf.size == (9, 9) and rep["a"].rf.size == (5, 5) and rep["b"].rf.size == (3, 3)
    assert rep.totals.macs == spec.totals.macs == fc_macs(model, torch.randn(1, 3, 32, 32))
    assert rep.totals.params == spec.totals.params


# --------------------------------------------------------------------------- 9. speed is flat in input size

def test_time_flat_in_input_size():
    model = on_meta("resnet50")
    cnncalc.analyze(model, input_size=(1, 3, 64, 64))          # warm up

    def best(size):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rep = cnncalc.analyze(model, input_size=size, depth=1)
            times.append(time.perf_counter() - t0)
        return min(times), rep

    t224, r224 = best((1, 3, 224, 224))
    t1024, r1024 = best((1, 3, 1024, 1024))
    assert t1024 < 10
    assert t1024 < 3 * t224 + 0.05, (t224, t1024)             # + 50 ms against scheduler noise on tiny runs
    assert r1024.totals.macs > 20 * r224.totals.macs            # (1024/224)^2 = 20.9: the big shape was used
    assert r1024.peak_activation_bytes > 15 * r224.peak_activation_bytes


def test_lazy_modules_get_a_clear_message():
    import cnncalc
    with pytest.raises(cnncalc.SpecError, match="uninitialized lazy parameters"):
        cnncalc.analyze(torch.nn.Sequential(torch.nn.LazyLinear(4)), (1, 8))
