"""Every model of ``torchvision.models.list_models()`` analysed by cnncalc and checked against torch itself:
parameters = ``sum(p.numel())``, buffers = ``sum(b.numel())``, MACs = ``FlopCounterMode`` FLOPs / 2 on the same
forward, and every module's input and output shapes (its first call) = those of the eager forward, read by
forward hooks.

- Classification, segmentation, video and optical-flow models are built on the **meta device** (no weights
  allocated: regnet_y_128gf, vit_h_14 in a moment) and the oracle is torch's own eager forward on meta tensors,
  under ``FlopCounterMode``, which counts from shapes exactly as on the CPU (a few small models are also run on
  real CPU tensors below, to show that both oracles agree).  Their native input sizes cost nothing there.
- The 12 detection models (Faster / Mask / Keypoint R-CNN, RetinaNet, FCOS, SSD, SSDlite) read tensor values
  (``nonzero``, NMS): cnncalc runs them on real CPU tensors, and the oracle is the same eager run, on the same
  image.  They are built on the CPU with ``weights=None, weights_backbone=None``, small images (224 px; SSD's
  300 / 320 are fixed), score threshold 0 and 10 detections per image, so that the mask and keypoint heads run
  on 10 boxes (with random weights no class would pass the default 0.05).
- Quantized models: analysed as torchvision builds them by default (``quantize=False``: the float model with
  quant stubs).  ``quantize=True`` is not checked: its int8 modules keep packed weights, not parameters, and
  ``FlopCounterMode`` has no formulas for quantized kernels, so there is no oracle.

torchvision comes from ``tests/torchvision_import.py`` (its compiled ops do not load beside the test set-up's CPU
torch: NMS is defined there in pure torch, as an op of its own, like the C++ one).
"""
import time

import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torchvision_import import import_torchvision  # noqa: E402

tv = import_torchvision()
if tv is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)
from torchvision.models import get_model, list_models  # noqa: E402
from module_oracle import check, eager  # noqa: E402

DETECTION = list_models(module=tv.models.detection)
SEGMENTATION = list_models(module=tv.models.segmentation)
VIDEO = list_models(module=tv.models.video)
FLOW = list_models(module=tv.models.optical_flow)
QUANTIZED = list_models(module=tv.models.quantization)
ON_META = [n for n in list_models() if n not in DETECTION]
TIMES: dict = {}


@pytest.fixture(scope="module")
def regnet_on_meta():
    """RegNet computes its stage widths with torch ops and reads them back (.tolist()): on the CPU."""
    from torchvision.models.regnet import BlockParams
    original = BlockParams.__dict__["from_init_params"]
    bound = BlockParams.from_init_params

    def on_cpu(*a, **k):
        with torch.device("cpu"):
            return bound(*a, **k)
    BlockParams.from_init_params = staticmethod(on_cpu)
    yield
    BlockParams.from_init_params = original


def meta_input_sizes(name):
    if name in VIDEO:
        return [(1, 3, 16, 224, 224)] if name.startswith(("mvit", "s3d", "swin3d")) else [(1, 3, 16, 112, 112)]
    if name in FLOW:
        return [(1, 3, 256, 256), (1, 3, 256, 256)]
    if "inception" in name:
        return [(1, 3, 299, 299)]
    if name in SEGMENTATION:
        return [(1, 3, 320, 320)]
    return [(1, 3, 224, 224)]


@pytest.mark.parametrize("name", ON_META)
def test_model_on_the_meta_device(name, regnet_on_meta):
    t0 = time.perf_counter()
    kwargs = {"weights_backbone": None} if name in SEGMENTATION else {}
    with torch.device("meta"):
        model = get_model(name, weights=None, **kwargs).eval()
    sizes = meta_input_sizes(name)
    report = cnncalc.analyze(model, sizes if len(sizes) > 1 else sizes[0], depth=99)
    assert not report.uncounted_ops, report.uncounted_ops
    macs, shapes, out = eager(model, [torch.empty(s, device="meta") for s in sizes])
    check(model, report, macs, shapes, out)
    TIMES[name] = time.perf_counter() - t0


@pytest.mark.parametrize("name, size", [("resnet18", 64), ("mobilenet_v3_small", 64), ("efficientnet_b0", 96),
                                        ("convnext_tiny", 64), ("swin_t", 64), ("densenet121", 64),
                                        ("lraspp_mobilenet_v3_large", 96)])
def test_small_models_on_real_cpu_tensors(name, size):
    """The meta oracle above equals a real CPU run: cnncalc's numbers for a CPU model against FlopCounterMode
    and shapes of the model run eagerly on a real image."""
    kwargs = {"weights_backbone": None} if name in SEGMENTATION else {}
    torch.manual_seed(0)
    model = get_model(name, weights=None, **kwargs).eval()
    report = cnncalc.analyze(model, (1, 3, size, size), depth=99)
    macs, shapes, out = eager(model, [torch.randn(1, 3, size, size)])
    check(model, report, macs, shapes, out)


def detection_model(name):
    kwargs = {"weights": None, "weights_backbone": None}
    if not name.startswith("ssd"):
        kwargs.update(min_size=128, max_size=128)
    if "rcnn" in name:
        kwargs.update(box_score_thresh=0.0, box_detections_per_img=3, rpn_pre_nms_top_n_test=50,
                      rpn_post_nms_top_n_test=10)
    else:
        kwargs.update(score_thresh=0.0, detections_per_img=3, topk_candidates=20)
    torch.manual_seed(0)
    return get_model(name, **kwargs).eval()


@pytest.mark.parametrize("name", DETECTION)
def test_detection_model_on_real_tensors(name):
    t0 = time.perf_counter()
    model = detection_model(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attrs = {n: dict(m.__dict__) for n, m in model.named_modules()}
    torch.manual_seed(1)
    image = torch.rand(3, 128, 112)                     # one image of a list, as detection models take them
    report = cnncalc.analyze(model, input_data=([image],), depth=99)
    # the user's model is untouched: weights, batch-norm statistics and every attribute (the anchor
    # generator's cached cell anchors, set by its forward, were meta tensors during the meta attempt)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for n, m in model.named_modules():
        assert all(m.__dict__.get(k) is v for k, v in attrs[n].items()) and set(m.__dict__) == set(attrs[n]), n
    assert any("reads tensor values" in w and "given input data" in w for w in report.warnings)
    # the only op without a formula: non-maximum suppression (no multiply-accumulates; FlopCounterMode: none)
    assert set(report.uncounted_ops) <= {"nms"}, report.uncounted_ops
    if "rcnn" in name:                                  # RoIAlign counted: 8 FLOPs a sample, 2 x 2 samples a bin
        assert report.totals.flops > 0 and "roi_align" not in report.uncounted_ops
    macs, shapes, out = eager(model, [[image]])
    check(model, report, macs, shapes, out)
    assert out[0]["boxes"].shape == (3, 4)               # the heads ran on 3 detections
    TIMES[name] = time.perf_counter() - t0


def test_roi_align_flops_by_hand():
    """RoIAlign on 4 channels, 2 x 2 bins, two boxes [x1, y1, x2, y2] = [0, 0, 8, 8] and [2, 2, 14, 10]."""
    from cnncalc.frontends.aten import counted
    x = torch.rand(1, 4, 16, 16)
    rois = torch.tensor([[0.0, 0, 0, 8, 8], [0, 2, 2, 14, 10]])
    for ratio, samples in ((2, 2 * 2 * 2),                  # 2 x 2 samples a bin, 2 boxes
                           (-1, 4 * 4 + 6 * 4)):            # adaptive: ceil(8/2) x ceil(8/2); ceil(12/2) x ceil(8/2)
        out = torch.ops.torchvision.roi_align(x, rois, 1.0, 2, 2, ratio, False)
        r = counted("roi_align", (x, rois, 1.0, 2, 2, ratio, False), {}, out)
        assert r.flops == 8 * samples * 4 * 2 * 2 + out.numel() and r.macs == 0
    assert counted("roi_align", (x.to("meta"), rois.to("meta"), 1.0, 2, 2, -1, False), {},
                   out.to("meta")) is None              # adaptive sampling on meta boxes: unknown, not guessed


def test_a_list_of_images_given_by_sizes():
    """input_size=[[(3, H, W), ...]]: one argument that is a list of tensors (random images)."""
    model = detection_model("ssdlite320_mobilenet_v3_large")
    torch.manual_seed(2)
    report = cnncalc.analyze(model, [[(3, 240, 320), (3, 200, 200)]], depth=99)
    torch.manual_seed(2)
    images = [torch.randn(3, 240, 320), torch.randn(3, 200, 200)]
    macs, shapes, out = eager(model, [images])
    check(model, report, macs, shapes, out)
    assert len(out) == 2 and report.input_shape == (3, 240, 320)
    # the batch is the number of images the model took (one output each), not the first image's channels
    assert report.batch == len(images) == len(out) == 2 and report.to_dict()["batch"] == 2


def test_times():
    """The slowest models (run with -s to see them; the whole file takes about a minute on two cores)."""
    slow = sorted(TIMES.items(), key=lambda kv: -kv[1])[:5]
    print("\nslowest:", ", ".join(f"{n} {t:.1f}s" for n, t in slow), f"(total {sum(TIMES.values()):.0f}s)")
    assert all(t < 60 for _, t in slow)
