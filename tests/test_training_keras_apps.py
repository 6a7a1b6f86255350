"""keras.applications' ResNet50, VGG16, DenseNet121 and InceptionV3 (the issue's zoo networks, in Keras): one
training step against PyTorch's MemTracker around a real Keras step on the torch backend (the measurement and
the tolerances of test_training_keras.py: peak and each category within 5 %; the model's JSON read without Keras
gives the same step).  Small inputs keep the run short (random weights, 10 classes, batch 4): the rules are the
same at 224x224."""
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("torch")
pytest.importorskip("torch.distributed._tools.mem_tracker")
if keras.backend.backend() != "torch":
    pytest.skip("needs Keras on its torch backend (KERAS_BACKEND=torch)", allow_module_level=True)

from test_training_keras import check  # noqa: E402

CASES = [("VGG16", 32, "sgd"), ("ResNet50", 32, "sgd"), ("ResNet50", 32, "adam"), ("DenseNet121", 32, "sgd"),
         ("InceptionV3", 75, "momentum")]


@pytest.mark.parametrize("name, size, optimizer", CASES)
def test_keras_application_against_memtracker(name, size, optimizer):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(input_shape=(size, size, 3), weights=None, classes=10)
    report, meas = check(model, (4, size, size, 3), optimizer)
    assert report.training.optimizer == optimizer
    assert report.totals.params == model.count_params()
