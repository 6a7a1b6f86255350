"""torchvision for the tests, whether or not its compiled ops load.

PyPI's torchvision 0.28.0 beside the CPU torch 2.13.0 of the test set-up cannot load its C++ ops
(``torchvision/_C.so``), and its import then fails while registering fake kernels for ops that do not exist
(``operator torchvision::nms does not exist``).  Here the fake-kernel module is skipped and the two ops the
detection models need are defined: ``torchvision::nms`` in pure torch (greedy non-maximum suppression, the
algorithm of torchvision's C++ kernel) and ``torchvision::roi_align`` computed by torchvision's own pure-Python
fallback; both are single ops, as with the compiled library.  Where the compiled ops load, torchvision is
imported as it is.
"""

import sys
import types


def _define_nms():
    import torch

    @torch.library.custom_op("torchvision::nms", mutates_args=())
    def nms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        """Indices of the boxes kept, by decreasing score: a box is dropped when its IoU with a kept one is above
        the threshold (as torchvision's CPU kernel, ``nms_kernel_impl``)."""
        if dets.numel() == 0:
            return torch.empty(0, dtype=torch.int64)
        order = torch.argsort(scores, descending=True, stable=True)
        b = dets[order].double()
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        lt = torch.maximum(b[:, None, :2], b[None, :, :2])
        rb = torch.minimum(b[:, None, 2:], b[None, :, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[..., 0] * wh[..., 1]
        over = (inter / (area[:, None] + area[None, :] - inter) > iou_threshold).numpy()
        n = len(over)
        removed = [False] * n
        keep = []
        for i in range(n):
            if removed[i]:
                continue
            keep.append(i)
            row = over[i]
            for j in row[i + 1:].nonzero()[0]:
                removed[i + 1 + j] = True
        return order[torch.tensor(keep, dtype=torch.int64)]

    @nms.register_fake
    def _(dets, scores, iou_threshold):
        n = torch.library.get_ctx().new_dynamic_size()
        return dets.new_empty((n,), dtype=torch.int64)


def _define_roi_align(python_roi_align):
    """``torchvision::roi_align`` as one op, as the compiled library has it, computed by torchvision's own
    pure-Python fallback (without the ``torch.compile`` torchvision wraps it in: a minute of compiling)."""
    import torch
    torch.library.define("torchvision::roi_align", "(Tensor input, Tensor rois, float spatial_scale, "
                         "SymInt pooled_height, SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor")

    @torch.library.impl("torchvision::roi_align", "CPU")
    def _(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
        return python_roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)

    @torch.library.register_fake("torchvision::roi_align")
    def _(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
        return input.new_empty((rois.size(0), input.size(1), pooled_height, pooled_width))


def import_torchvision():
    """The torchvision module, or None when it is not installed."""
    import importlib.util

    import torch
    if importlib.util.find_spec("torchvision") is None:
        return None
    if "torchvision" in sys.modules and hasattr(sys.modules["torchvision"], "models"):
        return sys.modules["torchvision"]
    try:
        import torchvision
        return torchvision
    except RuntimeError as e:
        if "does not exist" not in str(e):
            raise
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    _define_nms()
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torchvision
    import torchvision.ops.boxes as boxes
    roi_align = sys.modules["torchvision.ops.roi_align"]     # the module (torchvision.ops.roi_align is a function)
    boxes._assert_has_ops = lambda: None          # nms is defined above; the other ops are not used by the models
    _define_roi_align(roi_align._roi_align.__wrapped__)
    roi_align._roi_align = torch.ops.torchvision.roi_align
    return torchvision
