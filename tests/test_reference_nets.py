"""Validate the oracle in ``tests/reference_nets.py`` against published numbers.

``reference_nets`` re-implements torchvision's classification models in plain
``torch.nn`` (torchvision itself cannot be used here).  Before cnncalc's model
zoo is compared with them, the references themselves are checked against the
numbers torchvision publishes in its weights metadata
(``Weights.meta["num_params"]`` and ``Weights.meta["_ops"]``, the latter being
GMACs, shown as "GFLOPS" in torchvision's docs tables), taken from
``torchvision/models/{alexnet,vgg,resnet,googlenet,inception,densenet,
squeezenet,mobilenetv2,efficientnet}.py``.

MACs are measured as ``FlopCounterMode`` total / 2 on a ``meta``-device model
and input (no memory, no real compute), in eval mode (auxiliary heads are not
run, exactly as when torchvision measured ``_ops``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_nets as R  # noqa: E402

torch.set_num_threads(1)


# torchvision Weights.meta["num_params"] (IMAGENET1K_V1 entries)
PUBLISHED_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg13": 133_047_848,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840,
    "vgg13_bn": 133_053_736,
    "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "googlenet": 6_624_904,          # without the two aux heads
    "densenet121": 7_978_856,
    "squeezenet1_0": 1_248_424,
    "mobilenet_v2": 3_504_872,
    "efficientnet_b0": 5_288_548,
    # inception_v3: 27_161_264 *with* the aux head -> see test_inception_v3_aux_head
}

# torchvision Weights.meta["_ops"] in GMACs (3 decimals)
PUBLISHED_GMACS = {
    "alexnet": 0.714,
    "vgg11": 7.609,
    "vgg11_bn": 7.609,
    "vgg13": 11.308,
    "vgg13_bn": 11.308,
    "vgg16": 15.47,
    "vgg16_bn": 15.47,
    "vgg19": 19.632,
    "vgg19_bn": 19.632,
    "resnet18": 1.814,
    "resnet34": 3.664,
    "resnet50": 4.089,
    "resnet101": 7.801,
    "resnet152": 11.514,
    "googlenet": 1.498,
    "inception_v3": 5.713,
    "densenet121": 2.834,
    "squeezenet1_0": 0.819,
    "mobilenet_v2": 0.301,
    "efficientnet_b0": 0.386,
}

# the "GFLOPS" column of torchvision's docs tables (2 decimals)
PUBLISHED_GFLOPS_2DP = {
    "alexnet": 0.71,
    "vgg16": 15.47,
    "resnet18": 1.81,
    "resnet50": 4.09,
    "mobilenet_v2": 0.30,
    "efficientnet_b0": 0.39,
    "densenet121": 2.83,
    "inception_v3": 5.71,
    "squeezenet1_0": 0.82,
    "googlenet": 1.50,
}

EXACT_MACS = {
    "resnet18": 1_814_073_344,
    "resnet50": 4_089_184_256,
    "lenet5": 416_520,
}

TORCHVISION = sorted(PUBLISHED_GMACS)


# --------------------------------------------------------------------------- #
# helpers                                                                     #
# --------------------------------------------------------------------------- #
def _build(factory, **kwargs) -> nn.Module:
    with torch.device("meta"):
        model = factory(**kwargs)
    return model.eval()


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _run(model: nn.Module, input_size):
    x = torch.empty(input_size, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    total = counter.get_total_flops()
    assert total % 2 == 0
    return tuple(y.shape), total // 2


_CACHE: dict = {}


def _measured(name: str):
    """(params, output shape, MACs) of MODELS[name], built and run once on meta."""
    if name not in _CACHE:
        factory, size = R.MODELS[name]
        model = _build(factory)
        shape, macs = _run(model, size)
        _CACHE[name] = (_params(model), shape, macs)
    return _CACHE[name]


# --------------------------------------------------------------------------- #
# torchvision models vs published metadata                                    #
# --------------------------------------------------------------------------- #
def test_registry_covers_everything():
    expected = set(PUBLISHED_PARAMS) | {"inception_v3", "mobilenet_v1", "lenet5", "unet"}
    assert set(R.MODELS) == expected
    for name, (factory, size) in R.MODELS.items():
        assert callable(factory) and len(size) == 4 and size[0] == 1, name


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_published_param_count(name):
    params, _, _ = _measured(name)
    assert params == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", TORCHVISION)
def test_published_macs(name):
    _, _, macs = _measured(name)
    assert round(macs / 1e9, 3) == pytest.approx(PUBLISHED_GMACS[name], abs=1e-9)
    if name in PUBLISHED_GFLOPS_2DP:
        assert round(macs / 1e9, 2) == pytest.approx(PUBLISHED_GFLOPS_2DP[name], abs=1e-9)


@pytest.mark.parametrize("name", sorted(EXACT_MACS))
def test_exact_macs(name):
    _, _, macs = _measured(name)
    assert macs == EXACT_MACS[name]


@pytest.mark.parametrize("name", sorted(R.MODELS))
def test_output_shape(name):
    _, shape, _ = _measured(name)
    expected = {"unet": (1, 2, 388, 388), "lenet5": (1, 10)}.get(name, (1, 1000))
    assert shape == expected


def test_inception_v3_aux_head():
    """Published 27,161,264 includes the auxiliary classifier (InceptionAux on Mixed_6e)."""
    no_aux = _params(_build(R.inception_v3))
    aux_head = _params(_build(R.InceptionAux, in_channels=768, num_classes=1000))
    assert aux_head == 3_326_696
    assert no_aux == 23_834_568
    assert no_aux + aux_head == 27_161_264
    with_aux = _build(R.inception_v3, aux_logits=True)
    assert _params(with_aux) == 27_161_264
    assert with_aux.AuxLogits is not None and "AuxLogits.conv1.conv.weight" in with_aux.state_dict()
    # eval-mode forward does not run the aux head: same MACs as without it (published 5.713)
    _, macs_with_aux_module = _run(with_aux, (1, 3, 299, 299))
    assert macs_with_aux_module == _measured("inception_v3")[2] == 5_713_216_096


def test_googlenet_aux_heads():
    # torchvision.models.googlenet() without weights keeps aux_logits=True: 13,004,888 params
    assert _params(_build(R.googlenet, aux_logits=True)) == 13_004_888
    assert _params(_build(R.googlenet)) == 6_624_904


# --------------------------------------------------------------------------- #
# structure: BatchNorm settings and state_dict naming as in torchvision        #
# --------------------------------------------------------------------------- #
BN_EPS = {"googlenet": 1e-3, "inception_v3": 1e-3}  # everything else: PyTorch default 1e-5


@pytest.mark.parametrize("name", sorted(R.MODELS))
def test_batchnorm_settings(name):
    model = _build(R.MODELS[name][0])
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        assert bn.eps == BN_EPS.get(name, 1e-5), name
        assert bn.momentum == 0.1 and bn.affine and bn.track_running_stats
    buffers = sum(b.numel() for b in model.buffers())
    assert buffers == sum(2 * bn.num_features + 1 for bn in bns)


STATE_DICT_KEYS = {
    "alexnet": {"features.0.weight": (64, 3, 11, 11), "features.10.bias": (256,),
                "classifier.1.weight": (4096, 9216), "classifier.6.weight": (1000, 4096)},
    "vgg16": {"features.0.weight": (64, 3, 3, 3), "features.28.weight": (512, 512, 3, 3),
              "classifier.0.weight": (4096, 25088), "classifier.6.bias": (1000,)},
    "vgg16_bn": {"features.1.running_mean": (64,), "features.40.weight": (512, 512, 3, 3),
                 "features.41.num_batches_tracked": (), "classifier.3.weight": (4096, 4096)},
    "resnet18": {"conv1.weight": (64, 3, 7, 7), "layer2.0.downsample.0.weight": (128, 64, 1, 1),
                 "layer4.1.bn2.running_var": (512,), "fc.weight": (1000, 512)},
    "resnet50": {"layer1.0.downsample.0.weight": (256, 64, 1, 1), "layer2.0.conv2.weight": (128, 128, 3, 3),
                 "layer4.2.bn3.weight": (2048,), "fc.weight": (1000, 2048)},
    "googlenet": {"conv1.conv.weight": (64, 3, 7, 7), "conv1.bn.running_mean": (64,),
                  "inception3a.branch2.1.conv.weight": (128, 96, 3, 3),
                  "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),
                  "inception3a.branch4.1.bn.weight": (32,), "fc.weight": (1000, 1024)},
    "inception_v3": {"Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
                     "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
                     "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
                     "Mixed_7c.branch3x3dbl_3b.bn.running_var": (384,), "fc.weight": (1000, 2048)},
    "densenet121": {"features.conv0.weight": (64, 3, 7, 7),
                    "features.denseblock1.denselayer1.norm1.weight": (64,),
                    "features.denseblock1.denselayer1.conv2.weight": (32, 128, 3, 3),
                    "features.transition3.conv.weight": (512, 1024, 1, 1),
                    "features.denseblock4.denselayer16.conv1.weight": (128, 992, 1, 1),
                    "features.norm5.weight": (1024,), "classifier.weight": (1000, 1024)},
    "squeezenet1_0": {"features.0.weight": (96, 3, 7, 7), "features.3.squeeze.weight": (16, 96, 1, 1),
                      "features.12.expand3x3.weight": (256, 64, 3, 3), "classifier.1.weight": (1000, 512, 1, 1)},
    "mobilenet_v2": {"features.0.0.weight": (32, 3, 3, 3), "features.0.1.running_mean": (32,),
                     "features.1.conv.0.0.weight": (32, 1, 3, 3), "features.1.conv.1.weight": (16, 32, 1, 1),
                     "features.1.conv.2.weight": (16,), "features.2.conv.0.0.weight": (96, 16, 1, 1),
                     "features.2.conv.3.running_var": (24,), "features.18.0.weight": (1280, 320, 1, 1),
                     "classifier.1.weight": (1000, 1280)},
    "efficientnet_b0": {"features.0.0.weight": (32, 3, 3, 3), "features.1.0.block.0.0.weight": (32, 1, 3, 3),
                        "features.1.0.block.1.fc1.weight": (8, 32, 1, 1),
                        "features.1.0.block.2.0.weight": (16, 32, 1, 1),
                        "features.2.0.block.0.0.weight": (96, 16, 1, 1),
                        "features.2.0.block.2.fc1.weight": (4, 96, 1, 1),
                        "features.3.0.block.1.0.weight": (144, 1, 5, 5),
                        "features.7.0.block.3.1.running_var": (320,),
                        "features.8.0.weight": (1280, 320, 1, 1), "classifier.1.weight": (1000, 1280)},
}


@pytest.mark.parametrize("name", sorted(STATE_DICT_KEYS))
def test_state_dict_naming(name):
    sd = _build(R.MODELS[name][0]).state_dict()
    for key, shape in STATE_DICT_KEYS[name].items():
        assert key in sd, key
        assert tuple(sd[key].shape) == shape, key


def test_no_aux_modules_by_default():
    g = _build(R.googlenet)
    assert g.aux1 is None and g.aux2 is None
    assert not any(k.startswith("aux") for k in g.state_dict())
    i = _build(R.inception_v3)
    assert i.AuxLogits is None
    assert not any(k.startswith("AuxLogits") for k in i.state_dict())


def test_torchvision_specific_details():
    # ResNet v1.5: the stride-2 sits on the bottleneck's 3x3 conv, downsample is conv1x1(bias=False)+BN
    r50 = _build(R.resnet50)
    blk = r50.layer2[0]
    assert blk.conv1.stride == (1, 1) and blk.conv2.stride == (2, 2)
    assert blk.downsample[0].bias is None and isinstance(blk.downsample[1], nn.BatchNorm2d)
    # GoogLeNet: every max-pool uses ceil_mode=True
    g = _build(R.googlenet)
    pools = [m for m in g.modules() if isinstance(m, nn.MaxPool2d)]
    assert pools and all(p.ceil_mode for p in pools)
    assert g.dropout.p == 0.2
    # MobileNetV2: residual exactly when stride == 1 and inp == oup
    mb = _build(R.mobilenet_v2)
    flags = [b.use_res_connect for b in mb.features if isinstance(b, R.InvertedResidual)]
    assert sum(flags) == 10 and len(flags) == 17
    assert all(isinstance(m, nn.ReLU6) for m in mb.modules() if isinstance(m, (nn.ReLU, nn.ReLU6)))
    # EfficientNet-B0: SE with SiLU + Sigmoid, squeeze = max(1, input_channels // 4), stochastic depth 0 -> 0.2
    eb0 = _build(R.efficientnet_b0)
    ses = [m for m in eb0.modules() if isinstance(m, R.SqueezeExcitation)]
    assert len(ses) == 16
    assert all(isinstance(s.activation, nn.SiLU) and isinstance(s.scale_activation, nn.Sigmoid) for s in ses)
    sds = [m.p for m in eb0.modules() if isinstance(m, R.StochasticDepth)]
    assert sds[0] == 0.0 and sds[-1] == pytest.approx(0.2 * 15 / 16)
    assert eb0.classifier[0].p == 0.2 and eb0.classifier[1].in_features == 1280


# --------------------------------------------------------------------------- #
# the non-torchvision models: paper numbers and closed forms                  #
# --------------------------------------------------------------------------- #
def test_mobilenet_v1():
    params, shape, macs = _measured("mobilenet_v1")
    # 4,231,976 = Keras MobileNet(alpha=1) trainable params / osmr imgclsmob mobilenet_w1 (paper: "4.2M")
    assert params == 4_231_976
    assert round(params / 1e6, 1) == 4.2
    # paper Table 8: 569 million mult-adds
    assert round(macs / 1e6) == 569
    assert macs == 568_740_352
    # 27 convolutions + 1 FC: conv3x3 then 13 x (depthwise, pointwise)
    m = _build(R.mobilenet_v1)
    convs = [c for c in m.modules() if isinstance(c, nn.Conv2d)]
    assert len(convs) == 27 and all(c.bias is None for c in convs)
    assert sum(c.groups > 1 for c in convs) == 13
    assert m.fc.bias is not None


def test_lenet5():
    params, shape, macs = _measured("lenet5")
    # C1 156 + C3 2,416 + C5 48,120 + F6 10,164 + output 850
    assert params == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    # C1 28*28*6*25 + C3 10*10*16*150 + C5 120*400 + F6 120*84 + output 84*10
    assert macs == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 120 * 84 + 84 * 10
    m = _build(R.lenet5)
    assert sum(isinstance(a, nn.Tanh) for a in m.modules()) == 4
    assert sum(isinstance(a, nn.AvgPool2d) for a in m.modules()) == 2


def _unet_closed_form(in_ch=1, classes=2, size=572, widths=(64, 128, 256, 512, 1024)):
    params = macs = 0
    c, s, skips = in_ch, size, []
    for i, w in enumerate(widths):
        if i:
            s //= 2                                    # 2x2 max pool
        params += (9 * c + 1) * w + (9 * w + 1) * w
        macs += (s - 2) ** 2 * 9 * c * w + (s - 4) ** 2 * 9 * w * w
        s -= 4
        c = w
        skips.append(s)
    for w in reversed(widths[:-1]):
        params += (4 * c + 1) * w                      # ConvTranspose2d(c, w, 2, 2)
        macs += s * s * c * w * 4
        s *= 2
        params += (9 * 2 * w + 1) * w + (9 * w + 1) * w
        macs += (s - 2) ** 2 * 9 * 2 * w * w + (s - 4) ** 2 * 9 * w * w
        s -= 4
        c = w
    params += (c + 1) * classes
    macs += s * s * c * classes
    return params, macs, s, skips


def test_unet():
    params, shape, macs = _measured("unet")
    cf_params, cf_macs, out, skips = _unet_closed_form()
    assert skips == [568, 280, 136, 64, 28] and out == 388
    # 31,030,658: Keras summary of the original U-Net / tf_unet (layers=5, features_root=64)
    assert params == cf_params == 31_030_658
    assert macs == cf_macs
    assert shape == (1, 2, 388, 388)
    m = _build(R.unet)
    convs = [c for c in m.modules() if type(c) is nn.Conv2d]
    ups = [c for c in m.modules() if isinstance(c, nn.ConvTranspose2d)]
    assert len(convs) == 19 and len(ups) == 4
    assert all(c.padding == (0, 0) and c.bias is not None for c in convs)
    assert all(u.kernel_size == (2, 2) and u.stride == (2, 2) and u.out_channels * 2 == u.in_channels for u in ups)


def test_real_tensor_forward_small():
    """The modules also run on real CPU tensors (sanity, small models only)."""
    with torch.no_grad():
        y = R.lenet5().eval()(torch.zeros(2, 1, 32, 32))
        assert y.shape == (2, 10)
        y = R.squeezenet1_0().eval()(torch.zeros(1, 3, 64, 64))
        assert y.shape == (1, 1000)
