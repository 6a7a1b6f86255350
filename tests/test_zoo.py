"""The model zoo (``src/cnncalc/zoo/*.txt``) against independent oracles.

1. Every zoo model that also exists in ``tests/reference_nets.MODELS`` (plain-torch re-implementations of
   torchvision's models, themselves validated in ``test_reference_nets.py``) must match the reference exactly:
   parameters, buffers, MACs (``FlopCounterMode`` total / 2, on the ``meta`` device) and the output shape.
   The list is computed from ``cnncalc.zoo.names()`` at import time, so models added later are covered.
2. The numbers torchvision *publishes* are pinned for each zoo model (skipped while a model is not in the zoo).
3. The zoo itself: header lines, ``cnncalc zoo`` listing, no warnings.

No expectation here is taken from cnncalc's own output.
"""
from __future__ import annotations

import re
import subprocess
import sys
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pytest

import cnncalc
from cnncalc import zoo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import reference_nets as R
    REFERENCE = R.MODELS
except ImportError:            # torch is a test extra; the zoo checks below still run without it
    torch = None
    REFERENCE = {}

ZOO = zoo.names()
WITH_REFERENCE = [name for name in ZOO if name in REFERENCE]

# the models of this zoo that must be checked against a reference (guards against an empty parametrization)
EXPECTED_WITH_REFERENCE = {
    "lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v1", "squeezenet1_0",
}


def _input_dims(model: zoo.ZooModel) -> tuple[int, ...]:
    """The '# input: CxHxW' header as a tuple of ints."""
    assert re.fullmatch(r"\d+(x\d+)*", model.input), f"{model.name}: bad input header {model.input!r}"
    return tuple(int(d) for d in model.input.split("x"))


@lru_cache(maxsize=None)
def _analyze(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a Python warning while analysing is a failure too
        return cnncalc.analyze(f"zoo:{name}")


@lru_cache(maxsize=None)
def _reference(name: str):
    """(params, buffers, MACs, output shape) of reference_nets.MODELS[name] at the zoo's input size."""
    factory, _ = REFERENCE[name]
    with torch.device("meta"):
        model = factory().eval()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    x = torch.empty((1, *_input_dims(zoo.get(name))), device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return params, buffers, flops // 2, tuple(y.shape)


# --------------------------------------------------------------------------- #
# 1. the zoo vs the plain-torch references                                    #
# --------------------------------------------------------------------------- #
@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_reference_coverage():
    assert EXPECTED_WITH_REFERENCE <= set(WITH_REFERENCE)


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_zoo_matches_reference(name):
    params, buffers, macs, shape = _reference(name)
    report = _analyze(name)
    t = report.totals
    assert report.input_shape == (1, *_input_dims(zoo.get(name)))     # header agrees with input(...)
    assert t.params == params
    assert t.buffers == buffers
    assert t.macs == macs
    assert tuple(report.layers[-1].output_shape) == shape
    # the reference's input size: the published numbers are at that size
    assert (1, *_input_dims(zoo.get(name))) == tuple(REFERENCE[name][1])


# cnncalc report name -> the torchvision module name it stands for (parameters must agree): report names
# follow torchvision's state_dict keys, so a reader can match the table with the torchvision model.
NAMED_LAYERS = {
    "alexnet": {n: n for n in ("features.0", "features.3", "features.10", "classifier.1", "classifier.6")},
    "vgg16": {n: n for n in ("features.0", "features.28", "classifier.0", "classifier.3", "classifier.6")},
    "vgg16_bn": {n: n for n in ("features.0", "features.1", "features.40", "features.41", "classifier.6")},
    "vgg19_bn": {n: n for n in ("features.49", "features.50")},
    "resnet18": {n: n for n in ("conv1", "bn1", "layer1.1.conv2", "layer2.0.downsample.0",
                                "layer2.0.downsample.1", "layer4.1.bn2", "fc")},
    "resnet34": {n: n for n in ("layer3.5.conv2", "layer4.0.downsample.0", "fc")},
    "resnet101": {n: n for n in ("layer3.22.conv3", "layer4.0.downsample.0", "fc")},
    "resnet152": {n: n for n in ("layer2.7.bn3", "layer3.35.conv2", "fc")},
    "squeezenet1_0": {n: n for n in ("features.0", "features.3.squeeze", "features.12.expand3x3",
                                     "classifier.1")},
    # torchvision-style Sequential indices inside a block cannot be labels: features.0.0 is conv2d_1 here
    "mobilenet_v1": {"features.0.conv2d_1": "features.0.0", "features.0.batchnorm2d_1": "features.0.1",
                     "features.1.dw.0": "features.1.dw.0", "features.13.pw.1": "features.13.pw.1", "fc": "fc"},
    "lenet5": {n: n for n in ("features.c1", "features.c3", "features.c5", "classifier.f6", "classifier.output")},
}


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", sorted(NAMED_LAYERS))
def test_report_names_follow_torchvision(name):
    if name not in ZOO:
        pytest.skip(f"{name} is not in the zoo")
    with torch.device("meta"):
        modules = dict(REFERENCE[name][0]().named_modules())
    report = _analyze(name)
    for ours, theirs in NAMED_LAYERS[name].items():
        assert report[ours].params == sum(p.numel() for p in modules[theirs].parameters()), ours


# --------------------------------------------------------------------------- #
# 2. published numbers                                                        #
# --------------------------------------------------------------------------- #
# torchvision's weights metadata (torchvision/models/*.py, Weights.meta) for the IMAGENET1K_V1 weights, as
# listed in https://pytorch.org/vision/stable/models.html ("Table of all available classification weights"):
# (num_params, _ops = GMACs to 3 decimals, the docs' "GFLOPS" column = GMACs to 2 decimals).
PUBLISHED = {
    "alexnet": (61_100_840, 0.714, 0.71),
    "vgg11": (132_863_336, 7.609, 7.61),
    "vgg11_bn": (132_868_840, 7.609, 7.61),
    "vgg13": (133_047_848, 11.308, 11.31),
    "vgg13_bn": (133_053_736, 11.308, 11.31),
    "vgg16": (138_357_544, 15.47, 15.47),
    "vgg16_bn": (138_365_992, 15.47, 15.47),
    "vgg19": (143_667_240, 19.632, 19.63),
    "vgg19_bn": (143_678_248, 19.632, 19.63),
    "resnet18": (11_689_512, 1.814, 1.81),
    "resnet34": (21_797_672, 3.664, 3.66),
    "resnet50": (25_557_032, 4.089, 4.09),
    "resnet101": (44_549_160, 7.801, 7.80),
    "resnet152": (60_192_808, 11.514, 11.51),
    "squeezenet1_0": (1_248_424, 0.819, 0.82),
    "googlenet": (6_624_904, 1.498, 1.50),           # without the two auxiliary heads
    # published 27,161,264 includes the AuxLogits head (3,326,696), which eval-mode inference never runs
    "inception_v3": (27_161_264 - 3_326_696, 5.713, 5.71),
    "densenet121": (7_978_856, 2.834, 2.83),
    "mobilenet_v2": (3_504_872, 0.301, 0.30),
    "efficientnet_b0": (5_288_548, 0.386, 0.39),
}

# exact MAC counts (FlopCounterMode / fvcore-style: conv and linear multiply-accumulates, bias excluded),
# consistent with the rounded values above; also pinned in test_reference_nets.EXACT_MACS
EXACT_MACS = {
    "resnet18": 1_814_073_344,
    "resnet50": 4_089_184_256,
}

# other models with a number stated in a paper or a seed
OTHER_PUBLISHED = {
    # seed 002 (the README's MNIST network): 832 + 9,248 + 205,056 + 2,570 parameters
    "mnist": dict(params=217_706),
    # LeCun et al. 1998 as commonly written (reference_nets docstring): closed form of each layer
    "lenet5": dict(params=156 + 2_416 + 48_120 + 10_164 + 850,
                   macs=28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 120 * 84 + 84 * 10),
    # Howard et al. 2017, Table 8: 4.2 million parameters, 569 million mult-adds; exact count = Keras
    # MobileNet(alpha=1.0) trainable parameters
    "mobilenet_v1": dict(params=4_231_976, mmacs=569, mparams=4.2),
    # Ronneberger et al. 2015 U-Net: Keras summary of the original network (tf_unet layers=5, features_root=64)
    "unet": dict(params=31_030_658),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_torchvision_published_numbers(name):
    if name not in ZOO:
        pytest.skip(f"{name} is not in the zoo yet")
    params, gmacs_3dp, gflops_2dp = PUBLISHED[name]
    t = _analyze(name).totals
    assert t.params == params
    assert round(t.macs / 1e9, 3) == pytest.approx(gmacs_3dp, abs=1e-9)
    assert round(t.macs / 1e9, 2) == pytest.approx(gflops_2dp, abs=1e-9)
    if name in EXACT_MACS:
        assert t.macs == EXACT_MACS[name]


@pytest.mark.parametrize("name", sorted(OTHER_PUBLISHED))
def test_other_published_numbers(name):
    if name not in ZOO:
        pytest.skip(f"{name} is not in the zoo yet")
    want = OTHER_PUBLISHED[name]
    t = _analyze(name).totals
    assert t.params == want["params"]
    if "macs" in want:
        assert t.macs == want["macs"]
    if "mmacs" in want:
        assert round(t.macs / 1e6) == want["mmacs"]
        assert round(t.params / 1e6, 1) == want["mparams"]


def test_mnist_is_the_seed_example():
    """zoo:mnist is examples/mnist.txt with the zoo header: same layers, same numbers."""
    ours = _analyze("mnist")
    seed = cnncalc.analyze(str(ROOT / "examples" / "mnist.txt"))
    assert ours.input_shape == seed.input_shape == (1, 1, 28, 28)
    assert [(l.kind, l.output_shape, l.params, l.macs) for l in ours.layers] == \
        [(l.kind, l.output_shape, l.params, l.macs) for l in seed.layers]


# --------------------------------------------------------------------------- #
# 3. the zoo files and `cnncalc zoo`                                          #
# --------------------------------------------------------------------------- #
def _zoo_files():
    return sorted((f for f in resources.files("cnncalc.zoo").iterdir() if f.name.endswith(".txt")),
                  key=lambda f: f.name)


def test_zoo_is_not_empty():
    assert ZOO == [f.name[:-4] for f in _zoo_files()]
    assert {"mnist", *EXPECTED_WITH_REFERENCE} <= set(ZOO)


@pytest.mark.parametrize("name", ZOO)
def test_header_lines(name):
    lines = zoo.get(name).text.splitlines()
    m = re.fullmatch(rf"# {re.escape(name)}: (\S.*)", lines[0])
    assert m, f"first line must be '# {name}: description', got {lines[0]!r}"
    assert re.fullmatch(r"# input: \d+(x\d+)*", lines[1]), f"second line must be '# input: CxHxW', got {lines[1]!r}"
    code = [ln.split("#", 1)[0].strip() for ln in lines[2:]]
    first = next(c for c in code if c)
    assert first.startswith("input("), f"the spec must start with input(...), got {first!r}"
    assert zoo.get(name).description == m.group(1).strip()


@pytest.mark.parametrize("name", ZOO)
def test_analyses_without_warnings(name):
    report = _analyze(name)
    assert report.warnings == ()
    assert all(not layer.warnings for layer in report.layers)
    assert report.input_shape == (1, *_input_dims(zoo.get(name)))
    assert report.totals.params > 0 and report.totals.macs > 0


def _zoo_table(stdout: str) -> dict[str, tuple[str, str]]:
    """Parse the rich table of `cnncalc zoo` into {name: (input, description)}, joining wrapped cells."""
    rows: dict[str, list[str]] = {}
    last = None
    for line in stdout.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        assert len(cells) == 3, line
        name, inp, desc = cells
        if name:
            last = name
            rows[name] = [inp, desc]
        else:                                   # a wrapped description continues on the next line
            assert last is not None and not inp
            rows[last][1] += " " + desc
    return {k: (v[0], v[1].strip()) for k, v in rows.items()}


def test_cli_lists_every_model():
    p = subprocess.run([sys.executable, "-m", "cnncalc", "zoo"], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    table = _zoo_table(p.stdout)
    assert sorted(table) == ZOO
    for m in zoo.models():
        inp, desc = table[m.name]
        assert inp == m.input and re.fullmatch(r"\d+(x\d+)*", inp)
        assert desc and " ".join(desc.split()) == " ".join(m.description.split())


def test_cli_prints_one_model():
    p = subprocess.run([sys.executable, "-m", "cnncalc", "zoo", "resnet18"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == zoo.get("resnet18").text
