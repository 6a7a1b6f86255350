"""`cnncalc summary pkg.mod:factory`: the CLI builds the model, so it decides its mode, device and dtype."""
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("torch")

FACTORIES = textwrap.dedent('''
    import torch
    from torch import nn

    class Aux(nn.Module):
        """An auxiliary head that runs in training mode only (as GoogLeNet's)."""
        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(3, 8, 3)
            self.aux = nn.Conv2d(8, 8, 3)
            self.bn = nn.BatchNorm2d(8)
        def forward(self, x):
            y = self.bn(self.body(x))
            return y + self.aux(y).mean() if self.training else y

    class Tok(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(1000, 64)
            self.fc = nn.Linear(64, 2)
        def forward(self, input_ids, attention_mask=None):
            h = self.emb(input_ids)
            if attention_mask is not None:
                h = h * attention_mask[..., None]
            return self.fc(h.mean(1))

    def aux():
        return Aux()

    def tok():
        return Tok()

    def seven_billion():
        """26 x (16384 x 16384 + 16384) = 6,979,747,840 parameters: 28 GB as float32 on the CPU."""
        return nn.Sequential(*[nn.Linear(16384, 16384) for _ in range(26)])
''')


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    d = tmp_path_factory.mktemp("factories")
    (d / "facs.py").write_text(FACTORIES)
    return d


def cli(where, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cnncalc", "summary", *args], cwd=where, capture_output=True,
                          text=True, timeout=timeout)


def test_eval_mode_unless_training_is_asked(where):
    ev = cli(where, "facs:aux", "--input", "1x3x10x10", "--format", "json")
    import json
    d = json.loads(ev.stdout)
    # eval: body conv 8 outputs of 8x8 x 27 each; the aux conv does not run
    assert d["totals"]["macs"] == 8 * 8 * 8 * 27
    tr = json.loads(cli(where, "facs:aux", "--input", "1x3x10x10", "--format", "json", "--train").stdout)
    assert tr["totals"]["macs"] == 8 * 8 * 8 * 27 + 8 * 6 * 6 * 72      # + aux: 8x6x6 outputs x (8*3*3)
    table = cli(where, "facs:aux", "--input", "1x3x10x10").stdout
    assert "eval mode" in table.splitlines()[0]


def test_batch_and_dtype_are_honoured_and_convention_refused(where):
    import json
    d = json.loads(cli(where, "facs:aux", "--input", "2x3x10x10", "--batch", "5", "--dtype", "float16",
                       "--format", "json").stdout)
    assert d["input_shape"] == [5, 3, 10, 10] and d["layers"][-1]["output_shape"][0] == 5
    params = 8 * 27 + 8 + 8 * 72 + 8 + 16                           # body, aux, bn weight and bias
    assert d["totals"]["params"] == params and d["totals"]["param_bytes"] == 2 * params
    bad = cli(where, "facs:aux", "--input", "1x3x10x10", "--convention", "keras")
    assert bad.returncode == 2 and "text specs" in bad.stderr and "Traceback" not in bad.stderr


def test_keyword_inputs_and_the_int64_hint(where):
    import json
    d = json.loads(cli(where, "facs:tok", "--input", "input_ids=1x16:int64", "--input", "attention_mask=1x16",
                       "--format", "json").stdout)
    assert d["totals"]["params"] == 1000 * 64 + 64 * 2 + 2 and d["totals"]["macs"] == 64 * 2
    bad = cli(where, "facs:tok", "--input", "1x16")
    assert bad.returncode == 2 and "int64" in bad.stderr and "Traceback" not in bad.stderr


def test_a_seven_billion_parameter_factory_runs_on_the_meta_device(where):
    t0 = time.perf_counter()
    r = cli(where, "facs:seven_billion", "--input", "1x16384", "--format", "json", timeout=300)
    import json
    d = json.loads(r.stdout)
    assert d["totals"]["params"] == 26 * (16384 * 16384 + 16384)
    assert time.perf_counter() - t0 < 60                               # no 28 GB allocated
