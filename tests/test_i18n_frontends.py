"""No English prose in Chinese output from the model front-ends: a PyTorch module's and an ONNX file's table and
explanation (inference and training), `to_spec`'s refusals and the Keras front-end's errors.  The checker is
``prose`` of tests/test_i18n_coverage.py (its docstring says what it allows)."""
import re

import pytest

import cnncalc
from test_i18n_coverage import prose

torch = pytest.importorskip("torch")
nn = torch.nn
from cnncalc.frontends.aten import FORMULAS  # noqa: E402

ATEN_OPS = set(FORMULAS) | {"sort", "cumsum"}            # the aten ops an explanation names (identifiers)


class Mixed(nn.Module):
    """Conv, norm, attention, LSTM, dense, sort and cumsum: module rows, op rows, repeated calls, uncounted ops."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.BatchNorm2d(8)
        self.a = nn.MultiheadAttention(8, 2, batch_first=True)
        self.lstm = nn.LSTM(8, 4, batch_first=True)
        self.f = nn.Linear(4, 2)

    def forward(self, x):
        y = torch.relu(self.b(self.c(x))).mean((2, 3))[:, None, :]
        y, _ = self.a(y, y, y)
        y = self.lstm(y)[0]
        return nn.functional.gelu(self.f(y)).sort(-1)[0].cumsum(-1)


def _names(report) -> set:
    return ({part for layer in report.layers for part in re.split(r"[.\s/:()]", layer.name)}
            | {layer.kind for layer in report.layers} | {"model", "sgd"} | ATEN_OPS)


def _check_report(report):
    names = _names(report)
    for text in (report.table(lang="zh"), report.explain(lang="zh")):
        for line in text.splitlines():
            assert not prose(line, names), (line, prose(line, names))


@pytest.mark.parametrize("train", [False, True])
def test_torch_module_in_chinese(train):
    _check_report(cnncalc.analyze(Mixed(), input_size=(2, 3, 8, 8), train=train))


def test_onnx_model_in_chinese(tmp_path):
    pytest.importorskip("onnx")
    path = tmp_path / "mixed.onnx"
    torch.onnx.export(Mixed(), torch.randn(2, 3, 8, 8), str(path), dynamo=False)
    _check_report(cnncalc.analyze(str(path)))


def _to_spec_cases():
    import test_export_roundtrip as t
    return [(t.Permute(), (1, 3, 4, 4)), (t.DataDependent(), (1, 3, 4, 4)), (t.TwoOutputs(), (1, 3, 4, 4)),
            (t.Scaled(), (1, 3, 4, 4)), (t.Reflect(), (1, 3, 4, 4)), (t.Divide(), (1, 3, 4, 4)),
            (nn.Sequential(nn.Flatten(0)), (1, 3, 4, 4)), (t.HiddenState(), (1, 5, 4)),
            (nn.Sequential(nn.MultiheadAttention(4, 2)), (1, 5, 4)), (nn.Sequential(nn.Hardtanh(-2, 2)), (1, 4)),
            (nn.Sequential(nn.Softmax(0)), (1, 4)), (nn.Sequential(nn.ReLU()), (0, 4)), ("not a module", (1, 4))]


@pytest.mark.parametrize("case", range(13))
def test_to_spec_refusals_in_chinese(case):
    model, size = _to_spec_cases()[case]
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.to_spec(model, size)
    err = info.value
    zh = err.render("zh")
    names = set(re.findall(r"\w+", str(err.fragment or ""))) | {type(model).__name__}
    assert re.search(r"[\u4e00-\u9fff]", zh) and not prose(zh, names, err.message), (zh, prose(zh, names, err.message))


def test_keras_errors_in_chinese(tmp_path):
    pytest.importorskip("keras")
    from test_keras_frontend import ERRORS
    from cnncalc.frontends.keras import analyze_keras
    refused = 0
    for name, (make, layer) in ERRORS.items():
        try:
            analyze_keras(make())
            continue                                     # supported by now
        except cnncalc.SpecError as err:
            info, refused = pytest.ExceptionInfo.from_exception(err), refused + 1
        zh = info.value.render("zh")
        assert not prose(zh, {layer}, info.value.message), (name, zh, prose(zh, {layer}, info.value.message))
    assert refused >= 3
