"""The graph-shaped zoo models, checked inside: GoogLeNet, Inception v3, DenseNet-121, MobileNetV2,
EfficientNet-B0 and U-Net.

``test_zoo.py`` compares each zoo model's totals with ``tests/reference_nets.py``.  This file checks what is
particular to these graphs: sizes at named layers, channel counts after concatenations, where the residual
adds are, the squeeze-excitation broadcast, U-Net's crops.  Every expected number is worked out by hand in
the comment next to it (PyTorch floor rule: out = floor((L + 2p - k)/s) + 1; ceil_mode rounds up), never
taken from cnncalc.  The last test (torch only) checks that report names point at the matching module of the
reference network.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import pytest

import cnncalc

MODELS = ("googlenet", "inception_v3", "densenet121", "mobilenet_v2", "efficientnet_b0", "unet")


@lru_cache(maxsize=None)
def _report(name: str):
    return cnncalc.analyze(f"zoo:{name}")


def _out(name: str, module: str) -> tuple:
    """Output shape of a module: the last layer named `module` or `module.<...>`."""
    layers = [l for l in _report(name).layers if l.name == module or l.name.startswith(module + ".")]
    assert layers, f"{name}: no layer named {module}"
    return tuple(layers[-1].output_shape)


def _layers(name: str, kind: str) -> list:
    return [l for l in _report(name).layers if l.kind == kind]


@pytest.mark.parametrize("name", MODELS)
def test_no_warnings(name):
    # every merge of these graphs is aligned: Inception's branches are centred ("same"-style padding, or
    # all branches valid with the same stride), residual adds and SE products are trivially aligned, and
    # U-Net's crops are exactly centred (see test_unet_crops_are_centred)
    r = _report(name)
    assert r.warnings == ()
    assert all(not l.warnings for l in r.layers)


# --------------------------------------------------------------------------- #
# GoogLeNet                                                                   #
# --------------------------------------------------------------------------- #
def test_googlenet_ceil_mode_pools_and_inception_widths():
    g = "googlenet"
    assert _out(g, "conv1") == (1, 64, 112, 112)          # floor((224 + 6 - 7)/2) + 1 = 112
    # ceil_mode: ceil((112 - 3)/2) + 1 = ceil(54.5) + 1 = 56 (floor mode would give 55)
    assert _out(g, "maxpool1") == (1, 64, 56, 56)
    assert _out(g, "conv3") == (1, 192, 56, 56)
    assert _out(g, "maxpool2") == (1, 192, 28, 28)         # ceil((56 - 3)/2) + 1 = ceil(26.5) + 1 = 28
    assert _out(g, "inception3a") == (1, 256, 28, 28)      # 64 + 128 + 32 + 32
    assert _out(g, "inception3b") == (1, 480, 28, 28)      # 128 + 192 + 96 + 64
    assert _out(g, "maxpool3") == (1, 480, 14, 14)         # ceil((28 - 3)/2) + 1 = 14 (floor: 13)
    assert _out(g, "inception4a") == (1, 512, 14, 14)      # 192 + 208 + 48 + 64
    assert _out(g, "inception4d") == (1, 528, 14, 14)      # 112 + 288 + 64 + 64
    assert _out(g, "inception4e") == (1, 832, 14, 14)      # 256 + 320 + 128 + 128
    assert _out(g, "maxpool4") == (1, 832, 7, 7)           # ceil((14 - 2)/2) + 1 = 7
    assert _out(g, "inception5b") == (1, 1024, 7, 7)       # 384 + 384 + 128 + 128
    # the pool branch: 3x3 max pool, stride 1, padding 1 keeps 28x28 and the 192 input channels
    assert _out(g, "inception3a.branch4.0") == (1, 192, 28, 28)
    # torchvision's "5x5" branch is a 3x3 conv (pytorch/vision#906): 3*3*16*32 weights, no bias
    assert _report(g)["inception3a.branch3.1.conv"].params == 3 * 3 * 16 * 32
    # 9 inception modules of 4 branches; 3 + 9*6 convs in all (+1 fc)
    assert len(_layers(g, "concat")) == 9
    assert len(_layers(g, "conv2d")) == 3 + 9 * 6


# --------------------------------------------------------------------------- #
# Inception v3                                                                #
# --------------------------------------------------------------------------- #
def test_inception_v3_sizes_at_named_layers():
    i = "inception_v3"
    assert _out(i, "Conv2d_1a_3x3") == (1, 32, 149, 149)   # floor((299 - 3)/2) + 1 = 149
    assert _out(i, "Conv2d_2a_3x3") == (1, 32, 147, 147)   # 149 - 3 + 1 = 147
    assert _out(i, "Conv2d_2b_3x3") == (1, 64, 147, 147)   # padding 1 keeps 147
    assert _out(i, "maxpool1") == (1, 64, 73, 73)          # floor((147 - 3)/2) + 1 = 73
    assert _out(i, "Conv2d_3b_1x1") == (1, 80, 73, 73)
    assert _out(i, "Conv2d_4a_3x3") == (1, 192, 71, 71)    # 73 - 3 + 1 = 71
    assert _out(i, "maxpool2") == (1, 192, 35, 35)         # floor((71 - 3)/2) + 1 = 35
    assert _out(i, "Mixed_5b") == (1, 256, 35, 35)         # 64 + 64 + 96 + 32
    assert _out(i, "Mixed_5c") == (1, 288, 35, 35)         # 64 + 64 + 96 + 64
    assert _out(i, "Mixed_5d") == (1, 288, 35, 35)
    assert _out(i, "Mixed_6a") == (1, 768, 17, 17)         # 384 + 96 + 288 (pool); floor((35 - 3)/2) + 1 = 17
    for m in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        assert _out(i, m) == (1, 768, 17, 17)              # 4 * 192
    assert _out(i, "Mixed_7a") == (1, 1280, 8, 8)          # 320 + 192 + 768 (pool); floor((17 - 3)/2) + 1 = 8
    assert _out(i, "Mixed_7b") == (1, 2048, 8, 8)          # 320 + (384 + 384) + (384 + 384) + 192
    assert _out(i, "Mixed_7c") == (1, 2048, 8, 8)
    assert _out(i, "avgpool") == (1, 2048, 1, 1)
    assert _out(i, "fc") == (1, 1000)


def test_inception_v3_factorised_convolutions():
    r = _report("inception_v3")
    # 1x7 with padding (0, 3) and 7x1 with padding (3, 0) keep 17x17: 17 + 2*3 - 7 + 1 = 17
    assert r["Mixed_6b.branch7x7_2.conv"].output_shape == (1, 128, 17, 17)
    assert r["Mixed_6b.branch7x7_3.conv"].output_shape == (1, 192, 17, 17)
    # weights of a 1x7 conv 128 -> 128: 1*7*128*128 (no bias); of a 7x1 conv 128 -> 192: 7*1*128*192
    assert r["Mixed_6b.branch7x7_2.conv"].params == 7 * 128 * 128
    assert r["Mixed_6b.branch7x7_3.conv"].params == 7 * 128 * 192
    assert r["Mixed_6b.branch7x7_2.conv"].macs == 17 * 17 * 128 * 7 * 128
    # Mixed_7b: the 1x3 and 3x1 convs side by side, concatenated: 384 + 384 = 768 at 8x8
    cat = [l for l in r.layers if l.name.startswith("Mixed_7b.concat")]
    assert [l.output_shape for l in cat] == [(1, 768, 8, 8), (1, 768, 8, 8), (1, 2048, 8, 8)]
    # the max pool branch of Mixed_6a keeps the 288 input channels
    assert r["Mixed_6a.pool"].output_shape == (1, 288, 17, 17)
    # the stride-2 valid conv and the stride-2 valid pool line up: both see their first window at 0..2
    assert r["Mixed_6a.branch3x3.conv"].output_shape[2:] == r["Mixed_6a.pool"].output_shape[2:]


# --------------------------------------------------------------------------- #
# DenseNet-121                                                                #
# --------------------------------------------------------------------------- #
def test_densenet121_channels_after_each_block():
    d = "densenet121"
    assert _out(d, "features.pool0") == (1, 64, 56, 56)                # 224 -> 112 (conv) -> 56 (pool)
    assert _out(d, "features.denseblock1") == (1, 256, 56, 56)         # 64 + 6*32
    assert _out(d, "features.transition1") == (1, 128, 28, 28)         # 256 // 2; avgpool 2: 56 / 2
    assert _out(d, "features.denseblock2") == (1, 512, 28, 28)         # 128 + 12*32
    assert _out(d, "features.transition2") == (1, 256, 14, 14)
    assert _out(d, "features.denseblock3") == (1, 1024, 14, 14)        # 256 + 24*32
    assert _out(d, "features.transition3") == (1, 512, 7, 7)
    assert _out(d, "features.denseblock4") == (1, 1024, 7, 7)          # 512 + 16*32
    assert _out(d, "features.norm5") == (1, 1024, 7, 7)
    assert _out(d, "classifier") == (1, 1000)


def test_densenet121_dense_layers():
    r = _report("densenet121")
    # the 3rd layer of block 2 sees 128 + 2*32 = 192 channels; bottleneck 1x1 to 4*32 = 128, then 3x3 to 32
    assert r["features.denseblock2.denselayer.3.norm1"].output_shape == (1, 192, 28, 28)
    assert r["features.denseblock2.denselayer.3.conv1"].params == 192 * 128
    assert r["features.denseblock2.denselayer.3.conv2"].params == 3 * 3 * 128 * 32
    assert r["features.denseblock2.denselayer.3.concat_1"].output_shape == (1, 224, 28, 28)   # 192 + 32
    # "121": conv0 + 2 convs in each of 6 + 12 + 24 + 16 = 58 dense layers + 3 transition convs + classifier
    assert len(_layers("densenet121", "conv2d")) + len(_layers("densenet121", "dense")) == 1 + 2 * 58 + 3 + 1 == 121


# --------------------------------------------------------------------------- #
# MobileNetV2                                                                 #
# --------------------------------------------------------------------------- #
def test_mobilenet_v2_residuals_only_where_shapes_agree():
    r = _report("mobilenet_v2")
    adds = [l.name for l in _layers("mobilenet_v2", "add")]
    # n - 1 shortcut blocks in each stage with n > 1: (24: 1) + (32: 2) + (64: 3) + (96: 2) + (160: 2) = 10;
    # the first block of every stage changes the channels (and mostly the size): no shortcut
    assert len(adds) == 10
    assert adds == [f"features.{i}.add_1" for i in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16)]
    for name in adds:
        a, b = r[name].input_shapes
        assert a == b
    # features.11 (0 stem, 1 t=1, 2-3 c=24, 4-6 c=32, 7-10 c=64, 11-13 c=96) is 64 -> 96 at stride 1:
    # same size, different channels, so no add
    assert r["features.11.conv.0.conv2d_1"].input_shape == (1, 64, 14, 14)
    assert _out("mobilenet_v2", "features.11") == (1, 96, 14, 14)
    assert "features.11.add_1" not in adds


def test_mobilenet_v2_block_shapes():
    m = "mobilenet_v2"
    r = _report(m)
    assert _out(m, "features.0") == (1, 32, 112, 112)       # floor((224 + 2 - 3)/2) + 1 = 112
    assert _out(m, "features.1") == (1, 16, 112, 112)       # t = 1: depthwise 3x3 + 1x1 projection
    assert _out(m, "features.2") == (1, 24, 56, 56)
    assert _out(m, "features.4") == (1, 32, 28, 28)
    assert _out(m, "features.7") == (1, 64, 14, 14)
    assert _out(m, "features.11") == (1, 96, 14, 14)       # stride 1
    assert _out(m, "features.14") == (1, 160, 7, 7)
    assert _out(m, "features.17") == (1, 320, 7, 7)
    assert _out(m, "features.18") == (1, 1280, 7, 7)
    # expansion 6: 24 -> 144 channels; the depthwise conv has one 3x3 filter per channel: 144*9 weights
    assert r["features.3.conv.0.conv2d_1"].output_shape == (1, 144, 56, 56)
    assert r["features.3.conv.1.conv2d_1"].params == 144 * 3 * 3
    assert r["features.3.conv.1.conv2d_1"].macs == 56 * 56 * 144 * 9
    # the t = 1 block has no expansion conv: conv.0 is the depthwise conv on the 32 stem channels
    assert r["features.1.conv.0.conv2d_1"].params == 32 * 3 * 3


# --------------------------------------------------------------------------- #
# EfficientNet-B0                                                             #
# --------------------------------------------------------------------------- #
def test_efficientnet_b0_se_gate_broadcasts():
    r = _report("efficientnet_b0")
    se = "features.2.0.block.2"           # stage 2, first block: 16 -> 16*6 = 96 channels, stride 2
    # depthwise 3x3 stride 2 padding 1: floor((112 + 2 - 3)/2) + 1 = 56
    assert r["features.2.0.block.1.conv2d_1"].output_shape == (1, 96, 56, 56)
    assert r[f"{se}.avgpool"].output_shape == (1, 96, 1, 1)
    assert r[f"{se}.fc1"].output_shape == (1, 4, 1, 1)             # squeeze to the block input 16 // 4 = 4
    assert r[f"{se}.fc1"].params == 96 * 4 + 4                      # 1x1 conv with bias
    assert r[f"{se}.fc2"].params == 4 * 96 + 96
    assert r[f"{se}.scale_activation"].output_shape == (1, 96, 1, 1)   # the gate
    mul = r[f"{se}.multiply_1"]
    # (1, 96, 56, 56) * (1, 96, 1, 1) broadcasts to (1, 96, 56, 56)
    assert mul.input_shapes == ((1, 96, 56, 56), (1, 96, 1, 1))
    assert mul.output_shape == (1, 96, 56, 56)
    assert mul.macs == 0 and mul.params == 0
    # 16 MBConv blocks, each with one SE
    assert len(_layers("efficientnet_b0", "multiply")) == 16
    # the last block: 192 -> 1152 channels, squeezed to 192 // 4 = 48
    assert r["features.7.0.block.2.fc1"].output_shape == (1, 48, 1, 1)


def test_efficientnet_b0_stages_and_residuals():
    e = "efficientnet_b0"
    assert _out(e, "features.0") == (1, 32, 112, 112)
    assert _out(e, "features.1") == (1, 16, 112, 112)
    assert _out(e, "features.2") == (1, 24, 56, 56)
    assert _out(e, "features.3") == (1, 40, 28, 28)      # k=5, padding 2, stride 2: floor((56 + 4 - 5)/2) + 1 = 28
    assert _out(e, "features.4") == (1, 80, 14, 14)
    assert _out(e, "features.5") == (1, 112, 14, 14)
    assert _out(e, "features.6") == (1, 192, 7, 7)
    assert _out(e, "features.7") == (1, 320, 7, 7)
    assert _out(e, "features.8") == (1, 1280, 7, 7)      # 4 * 320
    # shortcuts: every block but the first of its stage; stages of 1, 2, 2, 3, 3, 4, 1 blocks -> 0+1+1+2+2+3+0 = 9
    adds = [l.name for l in _layers(e, "add")]
    assert adds == ["features.2.1.add_1", "features.3.1.add_1", "features.4.1.add_1", "features.4.2.add_1",
                    "features.5.1.add_1", "features.5.2.add_1", "features.6.1.add_1", "features.6.2.add_1",
                    "features.6.3.add_1"]


# --------------------------------------------------------------------------- #
# U-Net                                                                       #
# --------------------------------------------------------------------------- #
def test_unet_contracting_path():
    u = "unet"
    # each double valid conv takes 4 off, each 2x2 pool halves
    assert _out(u, "down.0") == (1, 64, 568, 568)        # 572 - 4
    assert _out(u, "down.1") == (1, 128, 280, 280)       # 568/2 = 284 - 4
    assert _out(u, "down.2") == (1, 256, 136, 136)       # 280/2 = 140 - 4
    assert _out(u, "down.3") == (1, 512, 64, 64)         # 136/2 = 68 - 4
    assert _out(u, "down.4") == (1, 1024, 28, 28)        # 64/2 = 32 - 4


def test_unet_crops_and_output():
    r = _report("unet")
    crops = _layers("unet", "crop")
    # (skip, up-conv output) sizes: up-conv k=2 s=2 doubles: 28*2 = 56, (56-4)*2 = 104, (104-4)*2 = 200,
    # (200-4)*2 = 392
    assert [(l.input_shapes[0][1:], l.output_shape[1:]) for l in crops] == [
        ((512, 64, 64), (512, 56, 56)),
        ((256, 136, 136), (256, 104, 104)),
        ((128, 280, 280), (128, 200, 200)),
        ((64, 568, 568), (64, 392, 392)),
    ]
    # centre offsets: (64-56)/2 = 4, (136-104)/2 = 16, (280-200)/2 = 40, (568-392)/2 = 88 pixels per side
    offsets = [[s.value for s in l.steps if s.quantity.startswith("offset")] for l in crops]
    assert offsets == [[4, 4], [16, 16], [40, 40], [88, 88]]
    # [skip, up] along the channels: 512 + 512 = 1024 ... 64 + 64 = 128
    cats = _layers("unet", "concat")
    assert [l.output_shape[1] for l in cats] == [1024, 512, 256, 128]
    assert [l.inputs[1] for l in cats] == ["up.0", "up.1", "up.2", "up.3"]
    assert r["up.0"].params == 1024 * 512 * 2 * 2 + 512      # ConvTranspose2d weight (in, out, 2, 2) + bias
    assert _out("unet", "dec.3") == (1, 64, 388, 388)        # 392 - 4
    assert r.layers[-1].name == "head"
    assert r.layers[-1].output_shape == (1, 2, 388, 388)     # 1x1 conv to 2 classes


def test_unet_crops_are_centred():
    """The original U-Net's sizes make every crop exactly centred: no misalignment warning is right.

    Hand check of the last crop: down.0's unit 0 sees input pixels 0..4 (two valid 3x3 convs), centre 2;
    cropping 88 pixels per side moves the centre of unit 0 to 2 + 88 = 90.  The up-conv path: up.3's
    receptive field (zero-insertion model) is centred at 90 too, so the concat lines up.
    """
    r = _report("unet")
    assert r["crop_4"].rf.center == (90, 90)
    for k, crop in enumerate(_layers("unet", "crop")):
        up = r[f"up.{k}"]
        assert crop.rf.center == up.rf.center
        assert crop.rf.stride == up.rf.stride                    # 8, 4, 2, 1 input pixels
    assert [_layers("unet", "crop")[k].rf.stride[0] for k in range(4)] == [8, 4, 2, 1]


# --------------------------------------------------------------------------- #
# report names vs the reference modules (torch only)                          #
# --------------------------------------------------------------------------- #
# cnncalc name -> module name in tests/reference_nets.py (torchvision's state_dict names); Sequential
# indices inside a block cannot be labels, so e.g. torchvision's features.0.0 reads features.0.conv2d_1 and
# DenseNet's denselayer3 reads denselayer.3
NAMES = {
    "googlenet": {n: n for n in ("conv1.conv", "conv3.bn", "inception3a.branch1.conv", "inception4e.branch2.1.conv",
                                 "inception4e.branch4.1.conv", "inception5b.branch3.1.bn", "fc")},
    "inception_v3": {n: n for n in ("Conv2d_1a_3x3.conv", "Conv2d_4a_3x3.bn", "Mixed_5b.branch_pool.conv",
                                    "Mixed_6a.branch3x3dbl_3.conv", "Mixed_6e.branch7x7dbl_5.conv",
                                    "Mixed_7a.branch7x7x3_4.conv", "Mixed_7c.branch3x3dbl_3b.bn", "fc")},
    "densenet121": {"features.conv0": "features.conv0",
                    "features.denseblock1.denselayer.1.conv1": "features.denseblock1.denselayer1.conv1",
                    "features.denseblock3.denselayer.24.conv2": "features.denseblock3.denselayer24.conv2",
                    "features.denseblock4.denselayer.16.norm1": "features.denseblock4.denselayer16.norm1",
                    "features.transition2.conv": "features.transition2.conv",
                    "features.norm5": "features.norm5", "classifier": "classifier"},
    "mobilenet_v2": {"features.0.conv2d_1": "features.0.0", "features.1.conv.1": "features.1.conv.1",
                     "features.2.conv.1.conv2d_1": "features.2.conv.1.0", "features.17.conv.2": "features.17.conv.2",
                     "features.17.conv.3": "features.17.conv.3", "features.18.conv2d_1": "features.18.0",
                     "classifier.1": "classifier.1"},
    "efficientnet_b0": {"features.0.conv2d_1": "features.0.0", "features.1.0.block.1.fc1": "features.1.0.block.1.fc1",
                        "features.4.0.block.1.conv2d_1": "features.4.0.block.1.0",
                        "features.6.3.block.2.fc2": "features.6.3.block.2.fc2",
                        "features.7.0.block.3.batchnorm2d_1": "features.7.0.block.3.1",
                        "features.8.conv2d_1": "features.8.0", "classifier.1": "classifier.1"},
    "unet": {"down.0.conv2d_1": "down.0.0", "down.4.conv2d_2": "down.4.2", "up.0": "up.0", "up.3": "up.3",
             "dec.0.conv2d_1": "dec.0.0", "dec.3.conv2d_2": "dec.3.2", "head": "head"},
}


@pytest.mark.parametrize("name", MODELS)
def test_report_names_point_at_the_reference_modules(name):
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import reference_nets

    with torch.device("meta"):
        modules = dict(reference_nets.MODELS[name][0]().named_modules())
    r = _report(name)
    for ours, theirs in NAMES[name].items():
        assert r[ours].params == sum(p.numel() for p in modules[theirs].parameters()), (ours, theirs)
