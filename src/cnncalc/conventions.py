"""Framework conventions: layout, rounding, padding and what counts as a parameter.

Each convention reproduces its framework exactly; the sources are listed in
docs/conventions.md and cited in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError, did_you_mean
from .i18n import Msg


@dataclass(frozen=True)
class Convention:
    name: str
    framework: str
    channels_last: bool
    #: how pooling rounds: "pytorch" (floor, or ceil dropping a window that
    #: starts in the right padding), "caffe" (ceil, clipped only when pad > 0),
    #: "tf" (VALID/SAME only).
    pool_rule: str
    #: conv / pool padding accepted: "explicit" (integers), "tf" ('same'/'valid' only)
    padding_style: str
    #: 'same' allowed with stride > 1 (PyTorch refuses it)
    same_with_stride: bool
    #: 'same' string supported at all (Caffe has none)
    has_same: bool
    #: transposed conv output length rule: "pytorch", "keras", "caffe", "onnx"
    transposed_rule: str
    #: BatchNorm parameters: "pytorch" (2C params + 2C+1 buffers), "keras" (4C, 2C
    #: non-trainable), "caffe" (BatchNorm 2C+1 blobs non-trainable + Scale 2C), "onnx" (4C, 2C non-trainable)
    batchnorm: str
    #: bias vectors per recurrent gate set: 2 (PyTorch, ONNX) or 1 (Keras, Caffe)
    rnn_biases: int
    #: default of return_sequences for recurrent layers
    return_sequences: bool
    #: global pooling keeps the spatial dims as 1s by default
    global_keepdims: bool
    #: PReLU default: "one" parameter (torch) or "full" (Keras: one per element)
    prelu_default: str

    @property
    def layout(self) -> str:
        return "channels_last" if self.channels_last else "channels_first"


CONVENTIONS = {
    "pytorch": Convention("pytorch", "PyTorch", False, "pytorch", "explicit", False, True, "pytorch",
                          "pytorch", 2, True, False, "one"),
    "keras": Convention("keras", "Keras / TensorFlow", True, "tf", "tf", True, True, "keras",
                        "keras", 1, False, False, "full"),
    "caffe": Convention("caffe", "Caffe (BVLC)", False, "caffe", "explicit", True, False, "caffe",
                        "caffe", 1, True, True, "one"),
    "onnx": Convention("onnx", "ONNX", False, "pytorch", "explicit", True, True, "onnx",
                       "onnx", 2, True, True, "one"),
}
ALIASES = {"torch": "pytorch", "tensorflow": "keras", "tf": "keras"}


def get_convention(name: str | Convention) -> Convention:
    if isinstance(name, Convention):
        return name
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in CONVENTIONS:
        raise SpecError(Msg("err.unknown_convention", name=name, choices=", ".join(CONVENTIONS),
                            near=did_you_mean(str(name), list(CONVENTIONS) + list(ALIASES))))
    return CONVENTIONS[key]
