"""More of cnncalc's own shape rules (see shapes.py): the ops real exporters emit beyond convolutions and views:
gather / scatter with index tensors, quantization, losses, attention with a key/value cache, sampling grids.

Each rule answers from the input shapes and attributes (and constant inputs) alone, by the ONNX operator's
specification; an output it cannot know is None (unknown), never a guess.
"""
from __future__ import annotations

from math import prod

from ...i18n import Msg
from . import ops as _ops
from .common import _NoShape
from .fold import _axes


def _extra_out(n, j):
    """Output j >= 1 of an op whose first output has its input's shape (None when unknown)."""
    x, op = n.ish(0), n.op
    if op == "Dropout":                                     # the mask
        return x
    if op == "LayerNormalization" and x:                    # Mean, InvStdDev: the normalized axes kept as 1
        a = n.attr("axis", -1)
        a = a + len(x) if a < 0 else a
        return tuple(x[:a]) + (1,) * (len(x) - a)
    if op == "BatchNormalization" and len(x) >= 2 and (n.opset >= 9 or n.opset >= 7 and n.attr("spatial", 1)):
        return (x[1],)                                      # running / saved mean and variance, per channel
    return None


#: ops whose first output has the shape of their first input (any further output unknown)
LIKE_INPUT = {"QuantizeLinear", "DequantizeLinear", "EyeLike", "Bernoulli", "RandomNormalLike",
              "RandomUniformLike", "ReverseSequence", "CumProd", "RotaryEmbedding", "ScatterND", "ScatterElements",
              "Scatter", "TensorScatter", "SwiGLU"}


def _gather_nd(n):
    data, idx = n.ish(0), n.ish(1)
    b = n.attr("batch_dims", 0)
    if not idx or b + idx[-1] > len(data):
        raise _NoShape(Msg("fe.onnx.gathernd_indices"))
    return [tuple(idx[:-1]) + tuple(data[b + idx[-1]:])]


def _one_hot(n):
    idx, depth = n.ish(0), n.val(1)
    if depth is None:
        raise _NoShape(Msg("fe.onnx.onehot_depth"))
    r = len(idx) + 1
    a = n.attr("axis", -1)
    a = a + r if a < 0 else a
    out = list(idx)
    out.insert(a, int(depth.reshape(-1)[0]))
    return [tuple(out)]


def _random(n):
    s = n.attr("shape")
    if s is None:
        raise _NoShape("shape")
    return [tuple(int(v) for v in s)]


def _dyn_quant(n):
    return [n.ish(0), (), ()][:len(n.outputs)]


def _det(n):
    return [tuple(n.ish(0)[:-2])]


def _grid_sample(n):
    x, grid = n.ish(0), n.ish(1)
    return [tuple(x[:2]) + tuple(grid[1:-1])]


def _col2im(n):
    x, img, blk = n.ish(0), n.ints(1), n.ints(2)
    if img is None or blk is None:
        raise _NoShape("image_shape / block_shape")
    return [(x[0], x[1] // prod(blk)) + tuple(img)]


def _roi_align(n):
    x, rois = n.ish(0), n.ish(1)
    return [(rois[0], x[1], n.attr("output_height", 1), n.attr("output_width", 1))]


def _max_roi_pool(n):
    x, rois = n.ish(0), n.ish(1)
    return [(rois[0], x[1]) + tuple(n.attr("pooled_shape"))]


def _max_unpool(n):
    x = n.ish(0)
    if n.has(2):
        t = n.ints(2)
        if t is None:
            raise _NoShape("output_shape")
        return [tuple(t)]
    k = n.attr("kernel_shape")
    nd = len(k)
    s = n.attr("strides") or [1] * nd
    p = n.attr("pads") or [0] * (2 * nd)
    return [tuple(x[:2]) + tuple((L - 1) * s_ - p[i] - p[i + nd] + k_ for i, (L, s_, k_) in enumerate(zip(x[2:], s, k)))]


def _loss(n):
    """NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss: the loss (per target element when not reduced), and
    the log-probabilities (the scores' shape)."""
    loss = tuple(n.ish(1)) if n.attr("reduction", "mean") == "none" else ()
    return [loss, n.ish(0)][:len(n.outputs)]


def _affine_grid(n):
    size = n.ints(1)
    if size is None:
        raise _NoShape("size")
    return [(size[0],) + tuple(size[2:]) + (len(size) - 2,)]


def _center_crop_pad(n):
    x, shape = n.ish(0), n.ints(1)
    if shape is None:
        raise _NoShape("shape")
    axes = _axes(n.attr("axes") or list(range(len(x))), len(x))
    out = list(x)
    for a, v in zip(axes, shape):
        out[a] = v
    return [tuple(out)]


def _window(n):
    size = n.val(0)
    if size is None:
        raise _NoShape(Msg("fe.onnx.window_size"))
    return [(int(size.reshape(-1)[0]),)]


def _attention(n):
    """Y, present_key, present_value, qk_matmul_output of the default domain's Attention (opset 23)."""
    q, k, v = _ops._attention_sizes(n)
    past = 0
    if n.has(4):
        past = n.ish(4)[-2]
    total = k[-2] + past
    if len(n.ish(0)) == 4:
        y = (q[0], q[1], q[2], v[3])
    else:
        y = (q[0], q[2], q[1] * v[3])
    outs = [y, tuple(k[:2]) + (total, k[3]), tuple(v[:2]) + (total, v[3]), (q[0], q[1], q[2], total)]
    return outs[:len(n.outputs)]


def _deform_conv(n):
    return [_ops.conv(n).output_shape]


MORE = {
    "GatherND": _gather_nd, "OneHot": _one_hot, "RandomNormal": _random, "RandomUniform": _random,
    "DynamicQuantizeLinear": _dyn_quant, "Det": _det, "GridSample": _grid_sample, "Col2Im": _col2im,
    "RoiAlign": _roi_align, "MaxRoiPool": _max_roi_pool, "MaxUnpool": _max_unpool,
    "NegativeLogLikelihoodLoss": _loss, "SoftmaxCrossEntropyLoss": _loss, "AffineGrid": _affine_grid,
    "CenterCropPad": _center_crop_pad, "BlackmanWindow": _window, "HannWindow": _window,
    "HammingWindow": _window, "Attention": _attention, "DeformConv": _deform_conv,
}
