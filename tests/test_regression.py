"""Every number and every row's shape of a fixed set of models -- the zoo, the torch reference networks, ONNX
exports of them, keras.applications -- equals the fixture written before the op layer was unified (issue 10):
a refactoring may change how a number is explained, never the number.  (tests/regression/capture.py)"""
import json
import os

import pytest

from regression.capture import capture

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("keras")

FIXTURE = os.path.join(os.path.dirname(__file__), "regression", "fixture.json")


@pytest.fixture(scope="module")
def now():
    return json.loads(json.dumps(capture()))              # tuples -> lists, as in the fixture


def test_the_same_cases(now):
    with open(FIXTURE) as f:
        before = json.load(f)
    assert sorted(now) == sorted(before)


@pytest.mark.parametrize("case", sorted(json.load(open(FIXTURE))))
def test_numbers_and_shapes_unchanged(now, case):
    with open(FIXTURE) as f:
        before = json.load(f)[case]
    got = now[case]
    if "error" in before:
        assert got == before
        return
    assert got["totals"] == before["totals"], case
    assert len(got["rows"]) == len(before["rows"]), case
    for a, b in zip(got["rows"], before["rows"]):
        assert a == b, (case, a, b)
