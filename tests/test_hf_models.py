"""Hugging Face transformers models built from small configs (no download): BERT with an attention mask that has
zeros, BART, DETR (ResNet backbone from transformers, no timm, no pretrained weights) and a tiny Mixtral
(mixture of experts, top-2 routing).  Their forwards read tensor values (``.item()`` on the mask, ``nonzero`` /
offsets of the experts), so cnncalc runs them on real CPU tensors with the given input data.  Checked against
torch: parameters = ``sum(numel)``, buffers = ``sum(numel)``, MACs = ``FlopCounterMode`` / 2 on the same input,
every module's first-call shapes = the eager forward's.

On the CPU ``FlopCounterMode`` does not count the fused attention kernel
(``_scaled_dot_product_flash_attention_for_cpu``) nor ``_grouped_mm``: its runs use the math attention backend,
and the grouped expert GEMMs are added by hand arithmetic next to the expectation.
"""
import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torchvision_import import import_torchvision  # noqa: E402

import_torchvision()            # transformers imports torchvision when installed: it must import first
transformers = pytest.importorskip("transformers")
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from module_oracle import check, eager  # noqa: E402

IDS = torch.randint(0, 1000, (2, 16), generator=torch.Generator().manual_seed(0))
MASK = torch.ones(2, 16, dtype=torch.long)
MASK[0, 11:] = 0                                        # the first sequence is padded after 11 tokens
TEXT = {"input_ids": IDS, "attention_mask": MASK}


def math_oracle(model, kwargs):
    with sdpa_kernel([SDPBackend.MATH]):                # attention as matmuls FlopCounterMode counts
        return eager(model, (), kwargs)


def analysed(model, kwargs):
    report = cnncalc.analyze(model, input_data=kwargs, depth=99)
    assert any("reads tensor values" in w and "given input data" in w for w in report.warnings), report.warnings
    assert not report.uncounted_ops, report.uncounted_ops
    return report


def bert(attn):
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=128, max_position_embeddings=64, attn_implementation=attn)).eval()


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_bert_with_an_attention_mask(attn):
    model = bert(attn)
    report = analysed(model, TEXT)
    check(model, report, *math_oracle(model, TEXT))
    # by hand: 2 x 16 tokens; per layer Q, K, V, O (64x64), FFN 64x128x2; attention 2 x 4 heads x 16x16x16 x 2;
    # the pooler (64x64) on 2 first tokens
    per_layer = 32 * (4 * 64 * 64 + 2 * 64 * 128) + 2 * 4 * 16 * 16 * 16 * 2
    assert report.totals.macs == 2 * per_layer + 2 * 64 * 64


def test_bart():
    from transformers import BartConfig, BartModel
    torch.manual_seed(0)
    model = BartModel(BartConfig(vocab_size=1000, d_model=64, encoder_layers=2, decoder_layers=2,
                                 encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128,
                                 decoder_ffn_dim=128, max_position_embeddings=64)).eval()
    report = analysed(model, TEXT)
    check(model, report, *math_oracle(model, TEXT))


def test_detr():
    from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig
    torch.manual_seed(0)
    backbone = ResNetConfig(embedding_size=16, hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                            layer_type="basic", out_features=["stage4"])
    model = DetrForObjectDetection(DetrConfig(
        use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=backbone, d_model=64,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=128, decoder_ffn_dim=128, num_queries=10, num_labels=5)).eval()
    image = {"pixel_values": torch.rand(1, 3, 96, 128)}
    report = analysed(model, image)
    check(model, report, *math_oracle(model, image))


def mixtral(experts):
    from transformers import MixtralConfig, MixtralForCausalLM
    torch.manual_seed(0)
    return MixtralForCausalLM(MixtralConfig(
        vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2, max_position_embeddings=64,
        experts_implementation=experts)).eval()


def test_mixtral_experts_one_by_one():
    """transformers' eager experts: nonzero per expert, each expert's tokens through its own matmuls."""
    model = mixtral("eager")
    report = analysed(model, TEXT)
    check(model, report, *math_oracle(model, TEXT))


def test_mixtral_grouped_experts():
    """The default experts (one ``_grouped_mm`` for all experts): the same products as one by one.
    FlopCounterMode has no formula for _grouped_mm: its MACs by hand, 32 tokens x 2 experts each x
    (gate and up 64 -> 2x128, down 128 -> 64), in each of 2 layers."""
    model = mixtral("grouped_mm")
    report = analysed(model, TEXT)
    macs, shapes, out = math_oracle(model, TEXT)
    experts = 2 * 32 * 2 * (64 * 256 + 128 * 64)
    check(model, report, macs + experts, shapes, out)
    assert report.totals.macs == analysed(mixtral("eager"), TEXT).totals.macs


def test_the_cli_with_keyword_inputs(tmp_path):
    """``cnncalc summary mod:factory --input input_ids=2x16:int64 --input attention_mask=2x16:int64``."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    (tmp_path / "hf_factories.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_hf_models import bert\n\ndef tiny_bert():\n    return bert('sdpa')\n")
    p = subprocess.run([sys.executable, "-m", "cnncalc", "summary", "hf_factories:tiny_bert", "--input",
                        "input_ids=2x16:int64", "--input", "attention_mask=2x16:int64", "--format", "json"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    model = bert("sdpa")
    macs, _, _ = math_oracle(model, TEXT)               # MACs do not depend on the token values or the mask
    assert d["totals"]["params"] == sum(q.numel() for q in model.parameters())
    assert d["totals"]["macs"] == macs
