"""The seed documents' worked examples (../shared/seeds), with the hand arithmetic next to each expectation."""
import cnncalc

MNIST = ("input(1, 28, 28) | conv2d(32, 5) | relu | maxpool2d(2) | conv2d(32, 3) | relu | maxpool2d(2) | flatten"
         " | dense(256) | relu | dense(10) | softmax")


def test_seed002_mnist_shapes_and_parameters():
    r = cnncalc.analyze(MNIST)
    shapes = {l.name: l.output_shape for l in r.layers}
    assert shapes["conv2d_1"] == (1, 32, 24, 24)     # 28 - (5 - 1) = 24
    assert shapes["maxpool2d_1"] == (1, 32, 12, 12)  # 24 / 2
    assert shapes["conv2d_2"] == (1, 32, 10, 10)     # 12 - (3 - 1) = 10
    assert shapes["maxpool2d_2"] == (1, 32, 5, 5)    # 10 / 2
    assert shapes["dense_1"] == (1, 256)
    assert shapes["dense_2"] == (1, 10)
    params = {l.name: l.params for l in r.layers if l.params}
    assert params == {
        "conv2d_1": (5 * 5 * 1 + 1) * 32,      # 832
        "conv2d_2": (3 * 3 * 32 + 1) * 32,     # 9,248
        "dense_1": (32 * 5 * 5 + 1) * 256,     # 205,056
        "dense_2": (256 + 1) * 10,             # 2,570
    }
    assert r.totals.params == 832 + 9_248 + 205_056 + 2_570 == 217_706
    assert r.totals.trainable_params == 217_706 and r.totals.non_trainable_params == 0


def test_seed001_multiply_adds_of_a_strided_conv():
    # 100x100x3, 3x3 conv, 10 filters, stride 2, pad 1 -> 50x50x10 = 25,000 outputs;
    # each output: 3*3*3 = 27 multiplications and 26 + 1 (bias) = 27 additions.
    layer = cnncalc.analyze("input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)").layers[0]
    assert layer.output_shape == (1, 10, 50, 50)
    assert layer.mults == 25_000 * 27 == 675_000
    assert layer.adds == 25_000 * (26 + 1) == 675_000
    assert layer.macs == 675_000
    assert layer.params == (3 * 3 * 3 + 1) * 10


def test_seed001_same_and_valid_tensorflow():
    # TF: SAME -> ceil(L/s); VALID -> ceil((L - k + 1)/s)
    same = cnncalc.analyze("input(32, 32, 3) | conv2d(8, 5, strides=2, padding=same)", convention="keras")
    valid = cnncalc.analyze("input(32, 32, 3) | conv2d(8, 5, strides=2, padding=valid)", convention="keras")
    assert same.layers[0].output_shape == (1, 16, 16, 8)    # ceil(32/2) = 16
    assert valid.layers[0].output_shape == (1, 14, 14, 8)   # ceil((32 - 5 + 1)/2) = 14


def test_seed001_parameter_counts_keras():
    # Embedding: input_dim * output_dim; Dense: in*units + units; Conv2D: k*k*C*filters + filters;
    # LSTM: (input_depth + units) * 4*units + 4*units
    r = cnncalc.analyze("input(20) | embedding(1000, 64) | lstm(32) | dense(10)", convention="keras")
    emb, lstm, dense = r.layers
    assert emb.params == 1000 * 64
    assert lstm.params == (64 + 32) * 4 * 32 + 4 * 32
    assert lstm.output_shape == (1, 32)                    # Keras return_sequences=False
    assert dense.params == 32 * 10 + 10
    conv = cnncalc.analyze("input(28, 28, 3) | conv2d(16, 3)", convention="keras").layers[0]
    assert conv.params == 3 * 3 * 3 * 16 + 16


def test_seed003_keras_sizes():
    # seed 003: (28-5+1) = 24, (24-3+1)/2 = 11, (11-3+1)/2 = 4
    r = cnncalc.analyze("input(28, 28, 1) | conv2d(4, 5) | conv2d(8, 3) | maxpooling2d(2) | conv2d(16, 3)"
                        " | maxpooling2d(2) | flatten | dense(128) | dense(10)", convention="keras")
    shapes = [l.output_shape for l in r.layers]
    assert shapes[:5] == [(1, 24, 24, 4), (1, 22, 22, 8), (1, 11, 11, 8), (1, 9, 9, 16), (1, 4, 4, 16)]
    assert shapes[5] == (1, 4 * 4 * 16)


def test_seed004_keep_size_with_k_equal_2p_plus_1():
    # O = floor((I - K + 2P)/S) + 1; with S = 1 and K = 2P + 1 the size is kept
    for k, p in ((3, 1), (5, 2), (7, 3)):
        r = cnncalc.analyze(f"input(3, 37, 37) | conv2d(8, {k}, padding={p})")
        assert r.layers[0].output_shape == (1, 8, 37, 37)


def test_seed000_receptive_field_recurrence():
    # seed 000/001: two 3x3 stride-1 convs see 5x5; a 2x2/2 pool then a 3x3 conv: 5 + 1 = 6, 6 + 2*2 = 10
    r = cnncalc.analyze("input(1, 32, 32) | conv2d(4, 3) | conv2d(4, 3) | maxpool2d(2) | conv2d(4, 3)")
    assert [l.rf.size for l in r.layers] == [(3, 3), (5, 5), (6, 6), (10, 10)]
    assert r.layers[-1].rf.stride == (2, 2)
