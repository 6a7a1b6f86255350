"""What the regression fixture records: every number and every row's output shape of a fixed set of models.

``python tests/regression/capture.py OUT.json`` writes it; tests/test_regression.py recomputes it and compares.
The fixture was written from the code *before* the op layer was unified (issue 10), so any difference is a
change of a number, not of its explanation.
"""
from __future__ import annotations

import io
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))              # tests/: reference_nets

KEYS = ("params", "buffers", "macs", "flops", "mults", "adds")


def summarize(report) -> dict:
    t = report.totals
    return {"totals": {k: getattr(t, k) for k in KEYS},
            "rows": [[r.name, list(r.output_shape)] + [getattr(r, k) for k in KEYS] for r in report.layers]}


def zoo_cases():
    import cnncalc
    from cnncalc import zoo
    out = {}
    for m in zoo.models():
        for conv in ("pytorch", "caffe") if m.name in ("alexnet", "googlenet", "vgg16") else ("pytorch",):
            try:
                out[f"zoo:{m.name}:{conv}"] = summarize(cnncalc.analyze(m.text, convention=conv))
            except cnncalc.SpecError as e:                 # a model that a convention cannot express
                out[f"zoo:{m.name}:{conv}"] = {"error": str(e)}
    return out


def torch_models():
    import torch
    from torch import nn

    import reference_nets as R
    torch.manual_seed(0)

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Linear(16, 32)
            self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
            self.norm = nn.LayerNorm(32)
            self.ff = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))

        def forward(self, x):
            h = self.emb(x)
            a, _ = self.mha(h, h, h, need_weights=False)
            h = self.norm(h + a)
            return h + self.ff(h)

    class Rnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(12, 20, num_layers=2, bidirectional=True, batch_first=True)
            self.gru = nn.GRU(40, 8, batch_first=True)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            y, _ = self.lstm(x)
            y, _ = self.gru(y)
            return self.fc(y[:, -1])

    models = {name: (getattr(R, name)(), (1, 3, 224, 224)) for name in
              ("resnet18", "mobilenet_v2", "densenet121", "vgg11", "efficientnet_b0", "squeezenet1_0", "alexnet")}
    models["inception_v3"] = (R.inception_v3(), (1, 3, 299, 299))
    models["googlenet"] = (R.googlenet(), (1, 3, 224, 224))
    models["lenet5"] = (R.LeNet5(), (1, 1, 32, 32))
    models["attention"] = (Attn(), (2, 10, 16))
    models["rnn"] = (Rnn(), (2, 7, 12))
    return {k: (m.eval(), s) for k, (m, s) in models.items()}


def torch_cases(models):
    import cnncalc
    return {f"torch:{k}": summarize(cnncalc.analyze(m, s)) for k, (m, s) in models.items()}


def onnx_cases(models):
    import onnx
    import torch

    import cnncalc
    out = {}
    for name in ("resnet18", "mobilenet_v2", "squeezenet1_0", "googlenet", "attention", "rnn", "lenet5"):
        m, s = models[name]
        size = (1, 3, 64, 64) if len(s) == 4 and s[1] == 3 else s
        f = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(m, (torch.randn(size),), f, dynamo=False, opset_version=17, input_names=["x"])
        out[f"onnx:{name}"] = summarize(cnncalc.analyze(onnx.load_from_string(f.getvalue())))
    return out


def keras_cases():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    import cnncalc
    out = {}
    keras.backend.clear_session()               # layer names count from 1 again, whatever ran before
    for name, kw in (("MobileNetV2", {"input_shape": (96, 96, 3)}), ("ResNet50", {"input_shape": (64, 64, 3)}),
                     ("EfficientNetB0", {"input_shape": (64, 64, 3)}), ("DenseNet121", {"input_shape": (64, 64, 3)})):
        keras.backend.clear_session()
        model = getattr(keras.applications, name)(weights=None, **kw)
        out[f"keras:{name}"] = summarize(cnncalc.analyze(model))
    L = keras.layers
    keras.backend.clear_session()
    inp = keras.Input((20, 6))
    x = L.Bidirectional(L.LSTM(8, return_sequences=True))(inp)
    x = L.GRU(5)(x)
    out["keras:rnn"] = summarize(cnncalc.analyze(keras.Model(inp, L.Dense(2)(x))))
    return out


def capture() -> dict:
    models = torch_models()
    return {**zoo_cases(), **torch_cases(models), **onnx_cases(models), **keras_cases()}


if __name__ == "__main__":
    data = capture()
    with open(sys.argv[1], "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
    print(f"{len(data)} cases written to {sys.argv[1]}")
