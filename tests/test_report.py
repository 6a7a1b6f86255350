"""The report: schema, totals as sums, exports, and golden files for the table and the explanation.

Golden files are reviewed by hand (their numbers are the seed arithmetic of test_seeds.py); regenerate with
CNNCALC_UPDATE_GOLDEN=1 only after checking every changed number.
"""
import csv
import io
import json
import os
from pathlib import Path

import pytest

import cnncalc
from cnncalc.report.model import SUMMED

GOLDEN = Path(__file__).parent / "golden"
MNIST = open("examples/mnist.txt").read()
RESNET_STEM = ("input(3, 224, 224) | conv1: conv2d(64, 7, stride=2, padding=3, bias=false) | batchnorm2d | relu"
               " | maxpool2d(3, stride=2, padding=1) | adaptiveavgpool2d(1) | flatten | fc: dense(1000)")


def _golden(name, text):
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file"


def test_golden_table():
    _golden("mnist_table.txt", cnncalc.analyze(MNIST).table())


def test_golden_explanations():
    _golden("mnist_explain.txt", cnncalc.analyze(MNIST).explain())
    _golden("seed001_explain.txt", cnncalc.analyze("input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)").explain())
    _golden("keras_explain.txt", cnncalc.analyze(
        "input(15, 15, 3) | Conv2D(8, 3, strides=2, padding=same) | MaxPooling2D(2, padding=same) | "
        "BatchNormalization | GlobalAveragePooling2D | Dense(4)", convention="keras").explain())
    _golden("caffe_pool_explain.txt", cnncalc.analyze("input(3, 112, 112) | maxpool2d(3, stride=2, padding=1)",
                                                      convention="caffe").explain())


def test_explanation_carries_the_issue_example():
    text = cnncalc.analyze(MNIST).explain()
    assert "H_out = floor((28 + 2*0 - 1*(5-1) - 1)/1) + 1 = 24" in text
    assert "params = (5*5*1 + 1)*32 = 832" in text
    assert "rf_H: r = 1 + (5-1)*1 = 5" in text
    assert "pytorch" in text.splitlines()[0]


def test_schema_keys_and_meaning():
    d = cnncalc.analyze(RESNET_STEM).to_dict()
    assert {"convention", "input_shape", "layers", "totals"} <= set(d)
    layer_keys = {"name", "kind", "output_shape", "params", "trainable_params", "non_trainable_params", "macs",
                  "flops", "mults", "adds", "activation_bytes", "param_bytes", "rf"}
    for layer in d["layers"]:
        assert layer_keys <= set(layer)
    assert set(d["totals"]) >= {"params", "trainable_params", "non_trainable_params", "macs", "flops", "mults",
                                "adds", "activation_bytes", "param_bytes"}
    conv1 = d["layers"][0]
    assert conv1["name"] == "conv1" and conv1["kind"] == "conv2d"
    assert conv1["output_shape"] == [1, 64, 112, 112]          # floor((224 + 6 - 7)/2) + 1 = 112
    assert conv1["params"] == 64 * 3 * 7 * 7                   # 9,408, no bias
    assert conv1["macs"] == 64 * 112 * 112 * 3 * 7 * 7         # 118,013,952 (ResNet's conv1)
    assert conv1["rf"] == {"size": [7, 7], "stride": [2, 2], "padding": [3, 3], "center": [0, 0], "global": False,
                         "approximate": False}
    pool = d["layers"][3]
    # maxpool 3/2 p1 after conv 7/2 p3: r = 7 + 2*2 = 11, S = 4, P = 3 + 1*2 = 5, centre -5 + 5 = 0
    assert pool["rf"] == {"size": [11, 11], "stride": [4, 4], "padding": [5, 5], "center": [0, 0], "global": False,
                         "approximate": False}
    assert json.loads(json.dumps(d)) == d


def test_totals_are_sums():
    r = cnncalc.analyze(RESNET_STEM, batch=3, dtype="float16")
    for key in SUMMED:
        assert getattr(r.totals, key) == sum(getattr(l, key) for l in r.layers)


def test_batch_and_dtype_scale_memory_not_params():
    r1 = cnncalc.analyze(RESNET_STEM)
    r4 = cnncalc.analyze(RESNET_STEM, batch=4, dtype="float16")
    assert r4.layers[0].output_shape == (4, 64, 112, 112)
    assert r4.totals.params == r1.totals.params
    assert r4.totals.macs == 4 * r1.totals.macs
    assert r4.layers[0].activation_bytes == 4 * 64 * 112 * 112 * 2
    assert r4.layers[0].param_bytes == 9408 * 2
    # BatchNorm2d(64): 128 params; buffers running_mean + running_var = 128, + num_batches_tracked (int64)
    bn = r1.layers[1]
    assert (bn.params, bn.buffers, bn.buffer_bytes) == (128, 128 + 1, 128 * 4 + 8)
    assert cnncalc.analyze(RESNET_STEM, dtype="int8").layers[0].param_bytes == 9408


def test_csv_export_roundtrip():
    r = cnncalc.analyze(MNIST)
    rows = list(csv.DictReader(io.StringIO(r.to_csv())))
    assert len(rows) == len(r.layers) + 1
    assert rows[0]["output_shape"] == "1x32x24x24" and rows[0]["rf_size"] == "5x5"
    assert rows[-1]["name"] == "total" and int(rows[-1]["params"]) == 217_706


def test_markdown_export():
    md = cnncalc.analyze(MNIST).to_markdown()
    assert "| 1 | conv2d_1 | conv2d | (1, 32, 24, 24) | 832 |" in md
    assert "**217,706**" in md and "Convention **pytorch**" in md


def test_report_lookup_by_name():
    r = cnncalc.analyze(RESNET_STEM)
    assert r["fc"].params == 64 * 1000 + 1000
    with pytest.raises(KeyError):
        r["nope"]


def test_row_fields_are_the_rows_dict():
    """jsonreport.py writes the rows' fields in LayerReport.to_dict's order, each as to_dict makes it."""
    from cnncalc.report.jsonreport import ROW_FIELDS
    row = cnncalc.analyze(RESNET_STEM).layers[0]
    assert [k for k, _ in ROW_FIELDS] == list(row.to_dict())


def _json_reports():
    """Reports of every kind the fast JSON writer meets: the zoo, the examples, random specs (warnings, None
    fields, Fraction receptive fields, several inputs), Chinese warnings, a torch and an ONNX report."""
    import random

    from cnncalc import zoo
    from fuzz_inputs import random_chain
    for name in zoo.names():
        yield f"zoo:{name}", cnncalc.analyze(f"zoo:{name}")
    for path in ("examples/mnist.txt", "examples/pasted_pytorch.txt", "examples/seed003_keras1.txt"):
        yield path, cnncalc.analyze(open(path).read())
    yield "upsample", cnncalc.analyze("input(3, 32, 32) | conv2d(8, 3, stride=2) | upsample(scale_factor=2) "
                                      "| convtranspose2d(4, 3, stride=2) | flatten | dense(5)")
    yield "channels-last warning", cnncalc.analyze("input(224, 224, 3) | conv2d(8, 3)")
    rng = random.Random(7)
    n = 0
    while n < 150:
        text = random_chain(rng)
        try:
            r = cnncalc.analyze(text)
        except cnncalc.SpecError:
            continue
        n += 1
        yield text, r
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(8, 2))
    yield "torch", cnncalc.analyze(net, (2, 3, 16, 16))


def test_json_text_is_json_dumps_of_the_dict():
    """report.to_json() (written from the rows, jsonreport.py) is json.dumps(report.to_dict(), indent=...)'s
    text, character for character."""
    checked = 0
    for what, r in _json_reports():
        for indent in (2, 4):
            assert r.to_json(indent=indent) == json.dumps(r.to_dict(), indent=indent), (what, indent)
        checked += 1
    assert checked >= 170
