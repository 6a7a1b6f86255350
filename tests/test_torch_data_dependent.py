"""PyTorch models whose forward reads data (nonzero, .item()): analysed on real CPU tensors, not refused; ops
that were uncounted (grouped GEMMs of mixture-of-experts, grid sampling, weight norm) or wrongly uncounted."""
import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


class Detector(nn.Module):
    """Keeps the positions whose score passes 0.5 (nonzero) and reads a value (.item()), as detection heads do."""
    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.score = nn.Conv2d(8, 1, 1)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        f = self.bn(self.backbone(x))
        s = self.score(f).sigmoid().flatten()
        keep = torch.nonzero(s > 0.5).flatten()
        feats = f.permute(0, 2, 3, 1).reshape(-1, 8)[keep]
        scale = 1.0 + 0.0 * float(s.max().item())
        return self.head(feats) * scale


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_data_dependent_model_is_analysed_on_real_tensors(mode):
    model = Detector().train(mode == "train")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(0)
    r = cnncalc.analyze(model, (1, 3, 16, 16))
    # the user's model is untouched (batch norm statistics included, in training mode)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # the oracle: the same model on the same random input (the same seed), FlopCounterMode
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        y = model.train(mode == "train")(x)
    assert r.totals.macs == fc.get_total_flops() // 2
    assert r.totals.params == sum(p.numel() for p in model.parameters())
    assert r.layers[-1].output_shape == tuple(y.shape)
    assert any("reads tensor values" in w and "random input" in w for w in r.warnings)


def test_a_data_dependent_model_on_the_meta_device_is_a_clear_error():
    with torch.device("meta"):
        model = Detector()
    with pytest.raises(cnncalc.SpecError, match="build it on the CPU"):
        cnncalc.analyze(model, (1, 3, 16, 16))


def test_grouped_gemm_of_experts_counted_exactly():
    class MoE(nn.Module):
        def forward(self, tokens, experts):            # 32 tokens, 2 experts of 16 -> 16, 16 tokens each
            return torch._grouped_mm(tokens, experts.transpose(-2, -1), offs=torch.tensor([16, 32], dtype=torch.int32))
    r = cnncalc.analyze(MoE(), [(32, 16), (2, 16, 16)], dtypes=[torch.bfloat16, torch.bfloat16])
    assert r.totals.macs == 32 * 16 * 16 and not r.uncounted_ops     # each token meets one expert


def test_grid_sampling_weight_norm_and_free_ops():
    class Sample(nn.Module):
        def forward(self, x, grid):
            idx = torch.remainder(torch.arange(4), 3) + torch.floor_divide(torch.arange(4), 2)
            return nn.functional.grid_sample(x, grid, align_corners=False) + idx.sum() * 0 + torch.eye(5)[0, 0]
    r = cnncalc.analyze(Sample(), [(1, 3, 8, 8), (1, 5, 5, 2)])
    assert not r.uncounted_ops
    assert r.totals.flops >= 3 * 25 * 7                 # bilinear: 4 taps, 7 FLOPs, per output value
    wn = torch.nn.utils.parametrizations.weight_norm(nn.Linear(4, 3))
    r = cnncalc.analyze(wn, (2, 4))
    assert not r.uncounted_ops and r.totals.macs == 2 * 4 * 3


def test_buffers_of_a_module_used_through_a_method_are_counted():
    """A parameter-free module whose buffer is read through a method, not forward() (RoPE tables of eva02)."""
    class Rope(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("freqs", torch.randn(16, 8))

        def rotate(self, x):
            return x * self.freqs[: x.shape[1]]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rope = Rope()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.fc(self.rope.rotate(x))
    m = Net()
    r = cnncalc.analyze(m, (2, 16, 8))
    assert r.totals.buffers == sum(b.numel() for b in m.buffers()) == 128


def test_a_module_called_several_times_shows_each_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Linear(8, 8)

        def forward(self, x):
            return self.block(self.block(x).relu())
    r = cnncalc.analyze(Twice(), (2, 8))
    row = r["block"]
    calls = [s for s in row.steps if s.quantity == "calls"]
    assert calls and calls[0].value == 2 and calls[0].expr.count("(2, 8) -> (2, 8)") == 2
    assert row.macs == 2 * 2 * 8 * 8                            # both calls counted: 2 x (2 rows x 8 x 8)
