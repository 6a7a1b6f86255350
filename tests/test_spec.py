"""The text grammar, labels, groups, spellings, and the YAML/JSON forms."""
import json

import pytest

import cnncalc
from cnncalc.spec import load, parse_text

MNIST_TEXT = open("examples/mnist.txt").read()


def _summary(r):
    return [(l.kind, l.output_shape, l.params, l.macs) for l in r.layers]


def test_newlines_pipes_and_comments_are_equivalent():
    a = cnncalc.analyze("input(1, 28, 28) | conv2d(8, 3) | relu")
    b = cnncalc.analyze("# a comment\ninput(1, 28, 28)\n\nconv2d(8,\n   3)  # trailing\n| relu\n")
    assert _summary(a) == _summary(b)


def test_labels_name_layers():
    r = cnncalc.analyze("input(3, 32, 32) | conv1: conv2d(8, 3) | pool5: maxpool2d(3, stride=2)")
    assert [l.name for l in r.layers] == ["conv1", "pool5"]
    assert r["pool5"].output_shape == (1, 8, 14, 14)       # conv: 30; pool: floor((30 - 3)/2) + 1 = 14
    assert r.to_dict()["layers"][1]["name"] == "pool5"


def test_group_repetition_and_label_suffixes():
    r = cnncalc.analyze("input(3, 16, 16) | (c: conv2d(8, 3, padding=1) | relu) * 3 | flatten")
    assert [l.kind for l in r.layers] == ["conv2d", "relu"] * 3 + ["flatten"]
    assert [l.name for l in r.layers if l.kind == "conv2d"] == ["c.1", "c.2", "c.3"]
    # first conv: (9*3 + 1)*8 = 224; the others (9*8 + 1)*8 = 584
    assert [l.params for l in r.layers if l.kind == "conv2d"] == [224, 584, 584]


def test_nested_groups():
    calls = parse_text("input(1, 8, 8) | ((conv2d(2, 1) | relu) * 2 | identity) * 2")
    assert [c.kind for c in calls[1:]] == ["conv2d", "relu", "conv2d", "relu", "identity"] * 2


@pytest.mark.parametrize("spelling", ["Conv2D(8, 3, strides=2)", "conv2d(out_channels=8, kernel_size=3, stride=2)",
                                      "CONV_2D(filters=8, kernelSize=3, Strides=2)", "convolution2d(8, 3, stride=2)"])
def test_both_frameworks_spellings(spelling):
    r = cnncalc.analyze(f"input(3, 9, 9) | {spelling}")
    assert r.layers[0].output_shape == (1, 8, 4, 4)      # floor((9 - 3)/2) + 1 = 4
    assert r.layers[0].params == (9 * 3 + 1) * 8


def test_keras_spellings():
    r = cnncalc.analyze("input(10, 10, 3) | MaxPooling2D(pool_size=2) | BatchNormalization | Flatten | "
                        "Dense(units=4, use_bias=false)", convention="tensorflow")
    assert r.convention == "keras"
    assert [l.kind for l in r.layers] == ["maxpool2d", "batchnorm", "flatten", "dense"]
    assert r.layers[-1].params == 5 * 5 * 3 * 4           # no bias


def test_values_floats_strings_tuples():
    calls = parse_text("input(3, 8, 8) | leakyrelu(negative_slope=0.2) | conv2d(4, (3, 5), padding='same')"
                       " | zeropad2d(((1, 2), (0, 1)))")
    assert calls[1].args[0].value == 0.2
    assert calls[2].args[1].value == (3, 5) and calls[2].args[2].value == "same"
    assert calls[3].args[0].value == ((1, 2), (0, 1))
    r = cnncalc.analyze(
        "input(3, 8, 8) | conv2d(4, (3, 5), padding=same) | zeropad2d(((1, 2), (0, 1)))")
    assert r.layers[0].output_shape == (1, 4, 8, 8)
    assert r.layers[1].output_shape == (1, 4, 8 + 1 + 2, 8 + 0 + 1)


def test_input_keywords_and_batch():
    r = cnncalc.analyze("input(shape=(3, 8, 8), batch=4) | conv2d(2, 3)")
    assert r.input_shape == (4, 3, 8, 8) and r.layers[0].output_shape == (4, 2, 6, 6)
    assert cnncalc.analyze("input(3, 8, 8, batch=4) | conv2d(2, 3)", batch=2).layers[0].output_shape[0] == 2


def test_yaml_file_equals_text_file():
    assert _summary(cnncalc.analyze("examples/mnist.yaml")) == _summary(cnncalc.analyze("examples/mnist.txt"))
    assert cnncalc.analyze("examples/mnist.yaml")["pool2"].output_shape == (1, 32, 5, 5)


def test_json_string_and_python_list():
    layers = [{"input": [1, 28, 28]}, {"conv2d": {"filters": 32, "kernel_size": 5}}, "relu",
              {"maxpool2d": 2}, {"type": "conv2d", "filters": 32, "kernel_size": 3}, "relu", "maxpool2d(2)",
              "flatten", {"dense": 256}, "relu", {"dense": [10]}, "softmax"]
    from_list = cnncalc.analyze(layers)
    from_json = cnncalc.analyze(json.dumps(layers))
    assert _summary(from_list) == _summary(from_json) == _summary(cnncalc.analyze(MNIST_TEXT))
    assert cnncalc.analyze({"input": [1, 28, 28], "layers": layers[1:]}).totals.params == 217_706


def test_yaml_repeat_group(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text("- input: [3, 8, 8]\n- repeat: 2\n  layers:\n    - conv2d: {filters: 4, kernel_size: 3, padding: 1}\n"
                 "    - relu\n")
    r = cnncalc.analyze(str(p))
    assert [l.kind for l in r.layers] == ["conv2d", "relu", "conv2d", "relu"]


def test_yaml_error_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("- input: [3, 8, 8]\n- conv2d: {filters: 4, kernel_size: 3}\n- conv2d: {filters: 4, kernel: 30}\n")
    with pytest.raises(cnncalc.SpecError) as e:
        cnncalc.analyze(str(p))
    assert e.value.line == 3 and "30" in str(e.value)


def test_load_keeps_positions():
    calls = load("input(1, 4, 4)\n  relu | conv2d(2, 1)")
    assert (calls[1].line, calls[1].column) == (2, 3)
    assert (calls[2].line, calls[2].column) == (2, 10)
