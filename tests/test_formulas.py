"""The public single formulas, against hand arithmetic and the frameworks' formulas."""
import pytest

import cnncalc


@pytest.mark.parametrize("L,k,s,p,d,conv,want", [
    (28, 5, 1, 0, 1, "pytorch", 24),            # floor((28 - 4 - 1)/1) + 1
    (100, 3, 2, 1, 1, "pytorch", 50),           # floor((100 + 2 - 2 - 1)/2) + 1
    (32, 3, 1, 0, 2, "pytorch", 28),            # k_eff = 5: floor((32 - 5)/1) + 1
    (15, 3, 2, "same", 1, "keras", 8),          # ceil(15/2)
    (15, 3, 2, "valid", 1, "keras", 7),         # ceil((15 - 3 + 1)/2)
    (10, 4, 1, (1, 2), 1, "pytorch", 10),       # floor((10 + 3 - 4)/1) + 1
    (7, 3, 2, "same_lower", 1, "onnx", 4),      # ceil(7/2)
])
def test_conv_output_length(L, k, s, p, d, conv, want):
    assert cnncalc.conv_output_length(L, k, s, p, d, convention=conv) == want


@pytest.mark.parametrize("L,k,s,p,ceil_mode,conv,want", [
    (112, 3, 2, 1, False, "pytorch", 56),       # floor((112 + 2 - 3)/2) + 1
    (112, 3, 2, 1, False, "caffe", 57),         # ceil((112 + 2 - 3)/2) + 1
    (5, 2, 2, 0, True, "pytorch", 3),           # ceil((5 - 2)/2) + 1 = 3; (3-1)*2 = 4 < 5 keeps it
    (6, 2, 2, 1, True, "pytorch", 4),           # ceil((6 + 2 - 2)/2) + 1 = 4; (4-1)*2 = 6 < 6 + 1 keeps it
    (5, 3, 2, 1, True, "pytorch", 3),           # ceil((5+2-3)/2)+1 = 3; (3-1)*2 = 4 < 6 keeps it
    (4, 2, 3, 1, True, "pytorch", 2),           # ceil((4+2-2)/3)+1 = 3; (3-1)*3 = 6 >= 4 + 1: drop -> 2
    (6, 3, 2, 0, False, "caffe", 3),            # ceil((6 - 3)/2) + 1 = 3, pad 0: no clipping
    (9, 3, 3, 1, False, "caffe", 4),            # ceil((9+2-3)/3)+1 = 4; (4-1)*3 = 9 < 10 keeps 4
    (10, 3, 3, 1, False, "caffe", 4),           # ceil((10+2-3)/3)+1 = 4; (4-1)*3 = 9 < 11 keeps 4
    (7, 2, 2, "same", False, "keras", 4),       # ceil(7/2)
    (7, 2, 2, "valid", False, "keras", 3),      # ceil((7 - 2 + 1)/2)
])
def test_pool_output_length(L, k, s, p, ceil_mode, conv, want):
    assert cnncalc.pool_output_length(L, k, s, p, ceil_mode=ceil_mode, convention=conv) == want


def test_pool_stride_defaults_to_kernel():
    assert cnncalc.pool_output_length(24, 2) == 12


@pytest.mark.parametrize("L,k,s,p,op,d,conv,want", [
    (5, 3, 2, 0, 0, 1, "pytorch", 11),          # (5-1)*2 - 0 + 2 + 0 + 1
    (5, 4, 2, 1, 0, 1, "pytorch", 10),          # (5-1)*2 - 2 + 3 + 0 + 1
    (5, 3, 2, 1, 1, 1, "pytorch", 10),          # (5-1)*2 - 2 + 2 + 1 + 1
    (5, 3, 2, "valid", None, 1, "keras", 11),   # 5*2 + max(3 - 2, 0)
    (5, 3, 2, "same", None, 1, "keras", 10),    # 5*2
    (5, 3, 2, 1, None, 1, "caffe", 9),          # 2*(5-1) + 3 - 2
    (5, 3, 2, (0, 1), 1, 1, "onnx", 11),        # 2*(5-1) + 1 + 3 - 0 - 1
])
def test_transposed_output_length(L, k, s, p, op, d, conv, want):
    assert cnncalc.transposed_output_length(L, k, s, p, op, d, convention=conv) == want


def test_same_padding_split():
    assert cnncalc.same_padding(15, 3, 2) == (1, 1)         # total = (8-1)*2 + 3 - 15 = 2
    assert cnncalc.same_padding(16, 3, 2) == (0, 1)         # total = (8-1)*2 + 3 - 16 = 1: extra after
    assert cnncalc.same_padding(16, 3, 2, lower=True) == (1, 0)
    assert cnncalc.same_padding(10, 4, 1) == (1, 2)         # total 3


def test_params_formulas():
    assert cnncalc.conv_params(1, 32, 5) == (5 * 5 * 1 + 1) * 32
    assert cnncalc.conv_params(32, 64, (3, 3), groups=4) == (3 * 3 * 8 + 1) * 64
    assert cnncalc.dense_params(800, 256) == 205_056
    # PyTorch LSTM: 4H*(I + H) + 2*4H ; Keras: 4*(u*(I+u) + u)
    assert cnncalc.recurrent_params("lstm", 10, 20) == 80 * (10 + 20) + 2 * 80
    assert cnncalc.recurrent_params("lstm", 10, 20, convention="keras") == 4 * (20 * (10 + 20) + 20)
    # Keras GRU: reset_after=True 3*(u*(I+u) + 2u); False 3*(u*(I+u) + u)
    assert cnncalc.recurrent_params("gru", 10, 20, convention="keras") == 3 * (20 * 30 + 40)
    assert cnncalc.recurrent_params("gru", 10, 20, convention="keras", reset_after=False) == 3 * (20 * 30 + 20)
    # bidirectional 2-layer PyTorch GRU: layer 1 input is 2H
    h, i = 8, 5
    want = 2 * (3 * h * (i + h) + 2 * 3 * h) + 2 * (3 * h * (2 * h + h) + 2 * 3 * h)
    assert cnncalc.recurrent_params("gru", i, h, num_layers=2, bidirectional=True) == want


def test_unknown_convention_is_a_spec_error():
    with pytest.raises(cnncalc.SpecError, match="did you mean 'keras'"):
        cnncalc.conv_output_length(10, 3, convention="kears")
