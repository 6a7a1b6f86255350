"""Graphs: branches, merges, blocks, receptive fields across paths, peak memory.

Receptive-field oracle: with positive weights and inputs (max pools replaced by average pools of the same
geometry), the input pixels that influence an output unit are those with a non-zero gradient.
"""
import pytest

import cnncalc

torch = pytest.importorskip("torch")
nn = torch.nn

from gradient_oracle import extent as _extent  # noqa: E402
from gradient_oracle import positive as _positive  # noqa: E402


# ----------------------------------------------------------------------------- receptive fields through graphs

class Residual(nn.Module):
    """stem conv 3/1 -> [conv 3/2 p1 -> conv 3/1 p1] + [conv 1/2] -> avgpool 3/2 p1 (ResNet-like)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3)
        self.a1 = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.a2 = nn.Conv2d(2, 2, 3, padding=1)
        self.down = nn.Conv2d(2, 2, 1, stride=2)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)

    def forward(self, x):
        s = self.stem(x)
        return self.pool(torch.relu(self.a2(torch.relu(self.a1(s))) + self.down(s)))


RESIDUAL_SPEC = """input(1, 41, 41)
stem: conv2d(2, 3)
a = conv2d(2, 3, stride=2, padding=1) | relu | conv2d(2, 3, padding=1)
b = stem | conv2d(2, 1, stride=2)
add(a, b) | relu
avgpool2d(3, stride=2, padding=1)
"""


class Concat(nn.Module):
    """Inception-like: 1x1, 3x3 p1, 5x5 p2 (dilated 3x3 p2) and pool 3/1 p1 branches, concatenated, then conv 3/2."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(1, 1, 1)
        self.b2 = nn.Conv2d(1, 1, 3, padding=1)
        self.b3 = nn.Conv2d(1, 1, 3, padding=2, dilation=2)
        self.b4 = nn.AvgPool2d(3, stride=1, padding=1)
        self.head = nn.Conv2d(4, 1, 3, stride=2)

    def forward(self, x):
        return self.head(torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1))


CONCAT_SPEC = """input(1, 31, 31)
x: identity
b1 = x | conv2d(1, 1)
b2 = x | conv2d(1, 3, padding=1)
b3 = x | conv2d(1, 3, padding=2, dilation=2)
b4 = x | avgpool2d(3, stride=1, padding=1)
concat(b1, b2, b3, b4)
conv2d(1, 3, stride=2)
"""


@pytest.mark.parametrize("spec,module,size", [(RESIDUAL_SPEC, Residual, 41), (CONCAT_SPEC, Concat, 31)])
def test_graph_rf_against_gradients(spec, module, size):
    r = cnncalc.analyze(spec)
    assert r.warnings == ()                                   # these graphs are aligned
    rf = r.layers[-1].rf
    net = _positive(module())
    out = r.layers[-1].output_shape[2:]
    for u in (out[0] // 2, 1, 0):
        got = _extent(net, (1, size, size), (u, u))
        start = -rf.padding[0] + u * rf.stride[0]
        assert got[0] == (max(0, start), min(size - 1, start + rf.size[0] - 1)), (u, rf)


def test_residual_rf_by_hand():
    r = cnncalc.analyze(RESIDUAL_SPEC)
    # stem: r 3. path a: 3 + 2*1 = 5, S 2, P 1; then 5 + 2*2 = 9, P 1 + 1*2 = 3: centre -3 + 4 = 1.
    # path b: 1x1 s2: r 3, S 2, P 0: centre -0 + 1 = 1 -> aligned; the add takes r = 9 (path a).
    add = r["add_1"]
    assert (add.rf.size, add.rf.stride, add.rf.padding, add.rf.center) == ((9, 9), (2, 2), (3, 3), (1, 1))
    # avgpool 3/2 p1: 9 + 2*2 = 13, S 4, P 3 + 1*2 = 5
    assert (r.layers[-1].rf.size, r.layers[-1].rf.stride, r.layers[-1].rf.padding) == ((13, 13), (4, 4), (5, 5))


def test_concat_rf_takes_the_largest_path():
    r = cnncalc.analyze(CONCAT_SPEC)
    # b3: dilated 3x3 (k_eff 5) p2 -> r 5, centre -2 + 2 = 0; all branches centre 0, stride 1
    assert r["concat_1"].rf.size == (5, 5) and r["concat_1"].rf.center == (0, 0)
    assert r["concat_1"].output_shape == (1, 4, 31, 31)


def test_misaligned_merge_is_a_warning_not_a_crash():
    # two stride-2 paths with different padding: centres 0 and 1 -> misaligned (no silent wrong number)
    r = cnncalc.analyze("input(3, 32, 32) | x: identity | a = x | conv2d(8, 3, stride=2, padding=1)\n"
                        "b = x | conv2d(8, 2, stride=2)\nadd(a, b)")
    add = r["add_1"]
    assert add.output_shape == (1, 8, 16, 16)
    assert any("misaligned" in w for w in add.warnings)
    assert any(w.startswith("add_1: misaligned") for w in r.warnings)
    # path a: r 3, S 2, P 1, centre 0; path b: r 2, S 2, P 0, centre 0.5 -> largest (a) shown
    assert add.rf.size == (3, 3) and add.rf.center == (0, 0)
    assert "0.5" in add.warnings[0]
    # different strides: upsampled vs not
    r2 = cnncalc.analyze("input(3, 16, 16) | x: conv2d(4, 3, stride=2, padding=1)\n"
                         "u = x | upsample(2)\nv = x | conv2d(4, 3, padding=1) | upsample(2)\n"
                         "w = x | convtranspose2d(4, 2, stride=2)\nadd(u, w)")
    assert r2.layers[-1].output_shape == (1, 4, 16, 16)


def test_global_layers_end_the_spatial_rf_and_upsampling_divides_the_stride():
    r = cnncalc.analyze("input(3, 32, 32) | conv2d(4, 3, stride=2, padding=1) | upsample(2)"
                        " | convtranspose2d(4, 2, stride=2) | globalavgpool2d")
    conv, up, tconv, gp = r.layers
    assert conv.rf.stride == (2, 2)
    assert up.rf.stride == (1, 1)                 # 2 / 2
    from fractions import Fraction
    assert tconv.rf.stride == (Fraction(1, 2),) * 2
    assert gp.rf.is_global


def test_upsample_nearest_rf_against_gradients():
    # nearest upsampling reads input floor(o/f); cnncalc centres output o at (o + 1/2)/f - 1/2 (size 1):
    # the integer nearest to the predicted centre is the pixel read.
    r = cnncalc.analyze("input(1, 12, 12) | conv2d(1, 3, padding=1) | upsample(2) | conv2d(1, 3, padding=1)")
    net = _positive(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=2),
                                  nn.Conv2d(1, 1, 3, padding=1)))
    rf = r.layers[-1].rf
    for u in (5, 10, 13):
        got = _extent(net, (1, 12, 12), (u, u))
        start = -rf.padding[0] + u * rf.stride[0]
        end = start + rf.size[0] - 1
        assert got[0] == (round(start), round(end)), (u, start, end)


# ----------------------------------------------------------------------------- merges

def test_merge_shape_mismatch_names_both_inputs():
    spec = "input(3, 32, 32)\nx: conv2d(8, 3)\ny = x | conv2d(16, 3)\nadd(x, y)"
    with pytest.raises(cnncalc.SpecError) as e:
        cnncalc.analyze(spec)
    msg = str(e.value)
    assert e.value.line == 4
    assert "'x' (1, 8, 30, 30)" in msg and "'y' (1, 16, 28, 28)" in msg


def test_concat_mismatch_and_unknown_tensor():
    with pytest.raises(cnncalc.SpecError, match=r"differ outside that axis"):
        cnncalc.analyze("input(3, 8, 8) | a: conv2d(2, 3) | b = a | conv2d(2, 3)\nconcat(a, b)")
    with pytest.raises(cnncalc.SpecError, match=r"'stme' is not a tensor defined so far \(did you mean 'stem'\?\)"):
        cnncalc.analyze("input(3, 8, 8) | stem: conv2d(2, 3) | relu | add(stme)")


def test_concat_axis_per_convention():
    k = cnncalc.analyze("input(8, 8, 3) | a: conv2d(4, 1) | b = a | conv2d(6, 1)\nconcat(a, b)", convention="keras")
    assert k.layers[-1].output_shape == (1, 8, 8, 10)
    p = cnncalc.analyze("input(3, 8, 8) | a: conv2d(4, 1) | b = a | conv2d(6, 1)\nconcat(a, b)")
    assert p.layers[-1].output_shape == (1, 10, 8, 8)
    w = cnncalc.analyze("input(3, 8, 8) | a: conv2d(4, 1) | b = a | conv2d(4, 1)\nconcat(a, b, axis=3)")
    assert w.layers[-1].output_shape == (1, 4, 8, 16)


def test_broadcast_multiply_squeeze_excitation():
    r = cnncalc.analyze("input(16, 8, 8) | x: identity | g = globalavgpool2d(keepdims=true) | conv2d(4, 1) | relu"
                        " | conv2d(16, 1) | sigmoid\nmultiply(x, g)")
    assert r.layers[-1].output_shape == (1, 16, 8, 8)
    assert r.layers[-1].flops == 16 * 8 * 8                  # one multiply per element
    assert r.layers[-1].rf.is_global                          # the gate saw the whole input


def test_slice_and_crop():
    r = cnncalc.analyze("input(8, 10, 10) | big: identity | small = conv2d(4, 5)\ncrop(big, small) | slice(2, 6)")
    crop, sl = r.layers[-2:]
    assert crop.output_shape == (1, 8, 6, 6) and sl.output_shape == (1, 4, 6, 6)
    # cropping (10 - 6)//2 = 2 from the top-left is padding -2: centre of unit 0 is pixel 2
    assert crop.rf.center == (2, 2) and crop.rf.size == (1, 1)


# ----------------------------------------------------------------------------- blocks

BLOCKS = """input(3, 32, 32)
def unit(c, k=3, s=1, out=c*2):
    conv: conv2d(out, k, stride=s, padding=(k - 1)//2) | relu
end
def pair(c):
    unit(c) | unit(c*2, k=1)
end
stage: (pair(4) * 2)
unit(8, s=2)
"""


def test_blocks_parameters_defaults_and_names():
    r = cnncalc.analyze(BLOCKS)
    names = [l.name for l in r.layers]
    assert names[:4] == ["stage.0.unit_1.conv", "stage.0.unit_1.relu_1", "stage.0.unit_2.conv",
                         "stage.0.unit_2.relu_1"]
    assert names[-2] == "unit_5.conv"
    convs = [l for l in r.layers if l.kind == "conv2d"]
    # pair(4): unit(4) -> out 8, k3; unit(8, k=1) -> out 16. Repeated: the second pair sees 16 channels.
    assert [l.output_shape[1] for l in convs] == [8, 16, 8, 16, 16]
    assert convs[0].params == (3 * 3 * 3 + 1) * 8
    assert convs[1].params == (1 * 1 * 8 + 1) * 16
    assert convs[-1].output_shape == (1, 16, 16, 16)         # stride 2, padding (3-1)//2 = 1


@pytest.mark.parametrize("spec,needle", [
    ("input(3, 8, 8)\ndef b(c):\n  conv2d(c, 3)\nend\nb(4, 5)", "takes 1 argument"),
    ("input(3, 8, 8)\ndef b(width):\n  conv2d(width, 3)\nend\nb(widht=4)", "did you mean 'width'"),
    ("input(3, 8, 8)\ndef b(c):\n  conv2d(c, 3)\nend\nb()", "needs the argument 'c'"),
    ("input(3, 8, 8)\ndef b(c):\n  conv2d(c*k, 3)\nend\nb(2)", "'k' is not a block parameter"),
    ("input(3, 8, 8)\ndef b(c):\n  conv2d(c, 3)\n", "expected 'end'"),
    ("input(3, 8, 8)\ndef b(c):\n  conv2d(c // 0, 3)\nend\nb(2)", "division by zero"),
])
def test_block_errors(spec, needle):
    with pytest.raises(cnncalc.SpecError) as e:
        cnncalc.analyze(spec)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_blocks_cannot_see_outer_tensors():
    with pytest.raises(cnncalc.SpecError, match="not a tensor defined so far"):
        cnncalc.analyze("input(3, 8, 8)\nstem: conv2d(3, 1)\ndef b():\n  add(stem)\nend\nb()")


def test_yaml_graph_and_blocks_equal_text(tmp_path):
    p = tmp_path / "res.yaml"
    p.write_text("""
- input: [1, 41, 41]
- {conv2d: [2, 3], name: stem}
- name: a
  layers: ["conv2d(2, 3, stride=2, padding=1)", relu, "conv2d(2, 3, padding=1)"]
- {name: b, input: stem, layers: [{conv2d: {filters: 2, kernel_size: 1, stride: 2}}]}
- {add: [a, b]}
- relu
- {avgpool2d: {kernel_size: 3, stride: 2, padding: 1}}
""")
    y, t = cnncalc.analyze(str(p)), cnncalc.analyze(RESIDUAL_SPEC)
    assert [(l.kind, l.output_shape, l.params, l.macs, l.rf) for l in y.layers] == \
           [(l.kind, l.output_shape, l.params, l.macs, l.rf) for l in t.layers]
    b = tmp_path / "block.yaml"
    b.write_text("""
blocks:
  unit: {params: {c: null, k: 3}, layers: [{conv2d: {filters: c*2, kernel_size: k, padding: (k-1)//2}}, relu]}
input: [3, 16, 16]
layers:
  - {repeat: 2, layers: ["unit(4)"]}
""")
    r = cnncalc.analyze(str(b))
    assert [l.output_shape for l in r.layers if l.kind == "conv2d"] == [(1, 8, 16, 16), (1, 8, 16, 16)]


# ----------------------------------------------------------------------------- peak memory

def test_peak_memory_against_a_hand_simulation():
    # float32, batch 1. Tensors (elements): input 3*8*8 = 192; a = conv 4@8x8 = 256; b = a|conv 4@8x8 = 256;
    # c = a|conv 2@8x8 = 128; d = concat(b, c) = 384; e = globalavgpool = 6.
    spec = "input(3, 8, 8)\na: conv2d(4, 3, padding=1)\nb: conv2d(4, 3, padding=1)\nc = a | conv2d(2, 1)\n" \
           "concat(b, c) | globalavgpool2d"
    r = cnncalc.analyze(spec)
    B = 4
    # running a:      input + a                 = 192 + 256            (input's last use: a -> freed after)
    # running b:      a + b                     = 256 + 256            (a still needed by c)
    # running c:      a + b + c                 = 256 + 256 + 128      (a freed after c)
    # running concat: b + c + d                 = 256 + 128 + 384      (b, c freed after)
    # running pool:   d + e                     = 384 + 6
    want = [448 * B, 512 * B, 640 * B, 768 * B, 390 * B]
    assert [l.live_bytes for l in r.layers] == want
    assert r.peak_activation_bytes == max(want) == 3072
    assert r.totals.activation_bytes == (256 + 256 + 128 + 384 + 6) * B      # the plain sum
    assert r.to_dict()["totals"]["peak_activation_bytes"] == 3072


def test_peak_memory_of_a_chain_is_two_neighbours():
    r = cnncalc.analyze("input(1, 28, 28) | conv2d(32, 5) | relu | maxpool2d(2)")
    # conv: input 784 + 18,432; relu: 18,432 * 2; pool: 18,432 + 4,608 (elements, x4 bytes)
    assert r.peak_activation_bytes == 2 * 18_432 * 4


def test_repeat_count_from_a_block_parameter():
    spec = "input(3, 8, 8)\ndef stage(c, n):\n  (conv2d(c, 3, padding=1) | relu) * n\nend\nstage(4, 3) | stage(8, 2)"
    r = cnncalc.analyze(spec)
    assert [l.output_shape[1] for l in r.layers if l.kind == "conv2d"] == [4, 4, 4, 8, 8]
    with pytest.raises(cnncalc.SpecError, match="'m' is not a block parameter"):
        cnncalc.analyze("input(3, 8, 8)\ndef s(n):\n  relu * m\nend\ns(2)")


def test_fractional_strides_mark_the_rf_approximate():
    # after an up-convolution, neighbouring outputs read differently placed inputs: the affine receptive
    # field describes them on average and is flagged, never presented as exact
    r = cnncalc.analyze("input(1, 32, 32) | conv2d(4, 3) | convtranspose2d(4, 2, stride=2) | conv2d(4, 3)"
                        " | maxpool2d(2)")
    conv, up, conv2, pool = r.layers
    assert not conv.rf.approximate and up.rf.approximate and conv2.rf.approximate and pool.rf.approximate
    assert up.rf.size == (3, 3)                  # k=2, s=2 reads one input per output: nothing added
    assert r.to_dict()["layers"][1]["rf"]["approximate"] is True
    assert "≈" in r.table()
    unet = cnncalc.analyze("zoo:unet").layers[-1].rf
    # measured with gradients on the reference U-Net: each output sees 180 to 204 input pixels per axis
    assert unet.approximate and 180 <= unet.size[0] <= 204
    assert cnncalc.analyze("zoo:resnet18").layers[-1].rf.is_global     # global after the classifier
    assert not cnncalc.analyze("zoo:resnet18")["layer4.1.bn2"].rf.approximate


def test_tensor_arguments_numeric_labels_and_max():
    spec = """input(4, 20, 20)
def up(skip, c):
    0: conv2d(c, 3)
    out: relu
    crop(skip, out) | concat(out)
end
skip: conv2d(4, 1)
conv2d(8, 3) | up(skip, max(2, 8 // 4))
"""
    r = cnncalc.analyze(spec)
    names = [l.name for l in r.layers]
    assert names[-4:] == ["up_1.0", "up_1.out", "up_1.crop_1", "up_1.concat_1"]
    # skip 4@20x20 cropped to the block's 2@16x16 (20 -> 18 -> 16), concatenated: 4 + 2 = 6 channels
    assert r.layers[-1].output_shape == (1, 6, 16, 16)
    assert r["up_1.0"].output_shape[1] == max(2, 8 // 4) == 2
    with pytest.raises(cnncalc.SpecError, match=r"max\(\) needs numbers"):
        cnncalc.analyze("input(3, 8, 8) | conv2d(max(same, 2), 3)")


def test_top_level_names_do_not_count_block_layers():
    r = cnncalc.analyze("input(3, 8, 8)\ndef b():\n  relu | relu\nend\nb() | relu")
    assert [l.name for l in r.layers] == ["b_1.relu_1", "b_1.relu_2", "relu_1"]


def test_a_label_that_is_also_a_layer_kind_is_never_silently_a_reference():
    with pytest.raises(cnncalc.SpecError, match=r"both a tensor name .* write relu\(\) for the layer"):
        cnncalc.analyze("input(3, 8, 8) | relu: relu | conv2d(4, 3) | relu")
    r = cnncalc.analyze("input(3, 8, 8) | relu: relu | conv2d(4, 3) | relu()")
    assert [l.kind for l in r.layers] == ["relu", "conv2d", "relu"]


def test_logsoftmax_and_upsample_modes():
    r = cnncalc.analyze("input(10) | logsoftmax")
    assert r.layers[0].kind == "logsoftmax" and r.layers[0].flops == 5 * 10 - 1
    with pytest.raises(cnncalc.SpecError, match="'bilinear' interpolates 2 spatial dim"):
        cnncalc.analyze("input(4, 8) | upsample(scale_factor=2, mode=bilinear)")
    assert cnncalc.analyze("input(4, 8) | upsample(scale_factor=2, mode=linear)").layers[0].output_shape == (1, 4, 16)
