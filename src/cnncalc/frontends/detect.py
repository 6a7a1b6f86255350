"""What kind of network a source is, told without importing its front-end (nor its framework): a text spec's
analysis then loads neither the Keras nor the ONNX front-end."""
from __future__ import annotations

import os


def is_keras_source(spec) -> bool:
    """A Keras model object, a .keras archive, or Keras JSON (a file or a string with class_name/config)."""
    if any(c.__module__.split(".")[0] in ("keras", "tf_keras") for c in type(spec).__mro__[:-1]):
        return True
    if isinstance(spec, dict):
        return "class_name" in spec and "config" in spec
    if not isinstance(spec, (str, os.PathLike)):
        return False
    s = os.fspath(spec)
    if s.lstrip().startswith("{"):
        head = s.lstrip()[:4000]
        return '"class_name"' in head and '"config"' in head and '"layers"' not in head[:20]
    if s.endswith(".keras"):
        return True
    if s.endswith(".json") and os.path.isfile(s):
        with open(s, encoding="utf-8") as f:
            head = f.read(4000)
        return '"class_name"' in head and '"config"' in head
    return False


def is_onnx_source(spec) -> bool:
    """An ``onnx.ModelProto`` or a path ending in ``.onnx`` (checked without importing onnx)."""
    t = type(spec)
    if t.__name__ == "ModelProto" and t.__module__.split(".")[0] == "onnx":
        return True
    if isinstance(spec, (str, os.PathLike)):
        s = os.fspath(spec)
        return isinstance(s, str) and s.lower().endswith(".onnx") and "\n" not in s and "|" not in s
    return False
