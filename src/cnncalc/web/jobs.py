"""What a web request computes, run inside a capped child process (see worker.py).

Everything here works on the bytes and text the request carried, never on a path: a spec is text or ``zoo:NAME``
(package data); an upload is parsed from its bytes as ONNX protobuf, Keras JSON, or the config.json of a .keras
zip -- never pickle, never ``torch.load``, never code, and no file named inside it (ONNX external data, a config
that is a string) is ever opened.
"""
from __future__ import annotations

import io
import json
import zipfile

from ..errors import SpecError

MAX_CONFIG_BYTES = 32 * 2**20        # a Keras JSON config (an uploaded .json, or config.json inside a .keras)
MAX_MEMBER_BYTES = 512 * 2**20       # any member of a .keras zip, as declared
MAX_ZIP_TOTAL_BYTES = 1 << 30        # all members of a .keras zip together, as declared
MAX_ZIP_MEMBERS = 10_000
CHECKPOINTS = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".h5", ".safetensors", ".npz", ".npy")


class TooLarge(SpecError):
    """An upload over a size limit (answered 413)."""


def report_payload(report) -> dict:
    """The core report's JSON, plus each layer's worked formulas for the page."""
    return report.to_dict(explain=True)


def render(report, fmt: str, lang: str = "en"):
    """("json", dict) or ("csv" / "markdown", text): small and picklable, sent back to the server.  ``lang``:
    the language of the JSON's explanations ("en" or "zh")."""
    if fmt == "csv":
        return "csv", report.to_csv()
    if fmt == "markdown":
        return "markdown", report.to_markdown()
    payload = report_payload(report)
    if lang == "zh":
        from ..report.explain import layer_lines
        for row, layer in zip(payload["layers"], report.layers):
            row["explain"] = layer_lines(report, layer, lang="zh")
        payload["lang"] = "zh"
    return "json", payload


def analyze_text(spec: str, convention: str, batch, dtype: str, input_shape, fmt: str, max_layers: int,
                 train=None, lang: str = "en"):
    """A spec sent as text: parsed as text, JSON or zoo:NAME -- a string is never taken for a file name."""
    from ..analysis import analyze_calls
    from ..spec import load_text
    calls = load_text(spec)
    if input_shape:
        from dataclasses import replace

        from ..spec.ast import Arg
        if not calls or calls[0].kind.lower() != "input" or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape):
            raise SpecError(f"'input' {list(input_shape)} must be whole numbers >= 1 replacing the spec's "
                            f"input(...)")
        keep = tuple(a for a in calls[0].args if a.name is not None and a.name.lower() == "batch")
        calls[0] = replace(calls[0], args=(Arg(None, tuple(input_shape)),) + keep)
    if len(calls) - 1 > max_layers:
        raise SpecError(f"the network has {len(calls) - 1:,} layers; the web page analyses at most {max_layers:,} "
                        f"(use the command line for more)")
    report = analyze_calls(calls, convention=convention, batch=batch, dtype=dtype)
    if train:                                   # [optimizer, amp]: one training step on top
        from dataclasses import replace

        from ..train_spec import train_report
        report = replace(report, training=train_report(calls, report, optimizer=train[0], amp=train[1]))
    return render(report, fmt, lang)


def _display(name: str) -> str:
    """The upload's name for a message: its last part, printable, short."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c if c.isprintable() else "?" for c in base)
    return base[:80] or "the upload"


def _json_config(raw: bytes, what: str) -> dict:
    if len(raw) > MAX_CONFIG_BYTES:
        raise TooLarge(f"{what} is {len(raw):,} bytes; Keras configs up to {MAX_CONFIG_BYTES:,} bytes are read")
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpecError(f"{what} is not valid JSON: {e}") from None
    except RecursionError:
        raise SpecError(f"{what} nests JSON too deeply") from None
    if not isinstance(config, dict):
        raise SpecError(f"{what} must hold a Keras model config (a JSON object with class_name and config), "
                        f"got a JSON {type(config).__name__}")
    return config


def _keras_archive(data: bytes, what: str) -> dict:
    """config.json of a .keras zip, with every member's declared size checked before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise TooLarge(f"{what} has {len(infos):,} members; at most {MAX_ZIP_MEMBERS:,} are accepted")
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > MAX_MEMBER_BYTES:
                    raise TooLarge(f"{what}: member '{_display(info.filename)}' inflates to {info.file_size:,} "
                                    f"bytes (limit {MAX_MEMBER_BYTES:,})")
            if total > MAX_ZIP_TOTAL_BYTES:
                raise TooLarge(f"{what} inflates to {total:,} bytes in all (limit {MAX_ZIP_TOTAL_BYTES:,})")
            try:
                info = z.getinfo("config.json")
            except KeyError:
                raise SpecError(f"{what} is not a .keras archive: it has no config.json") from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise TooLarge(f"{what}: config.json inflates to {info.file_size:,} bytes (limit "
                                f"{MAX_CONFIG_BYTES:,})")
            with z.open(info) as f:                      # bounded read: a lying header cannot inflate more
                raw = f.read(MAX_CONFIG_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError) as e:
        raise SpecError(f"{what} is not a readable .keras archive: {type(e).__name__}") from None
    return _json_config(raw, f"{what} (config.json)")


def _onnx_model(data: bytes, what: str):
    try:
        import onnx
    except ImportError:
        raise SpecError("reading ONNX files needs the onnx package on the server (pip install onnx)") from None
    try:
        model = onnx.load_from_string(data)
    except Exception as e:  # noqa: BLE001 -- any parse failure is the upload's fault
        raise SpecError(f"{what} is not an ONNX model: {type(e).__name__}") from None
    _drop_external_references(onnx, model)
    return model


def _drop_external_references(onnx, model) -> None:
    """Tensors whose data lives in another file keep their shape; the file name they carry is erased."""
    from onnx.external_data_helper import _get_all_tensors
    for t in _get_all_tensors(model):
        if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
            del t.external_data[:]
            t.data_location = onnx.TensorProto.EXTERNAL     # shape only: cnncalc never reads its values


def analyze_upload(name: str, data: bytes, input_size: str | None, fmt: str):
    from ..api import analyze
    from ..frontends.keras import analyze_keras
    what = f"'{_display(name)}'"
    lower = name.lower()
    sizes = None
    if input_size:
        from ..sizes import parse_size
        sizes = [parse_size(s.strip())[0] for s in input_size.split(";") if s.strip()]
    if lower.endswith(CHECKPOINTS):
        raise SpecError(f"{what}: only ONNX files and Keras JSON / .keras archives are accepted; checkpoints "
                        f"are never loaded here (unpickling can run code)")
    if lower.endswith(".keras") or data[:2] == b"PK":
        return render(analyze_keras(_keras_archive(data, what)), fmt)
    if lower.endswith(".json") or data.lstrip()[:1] == b"{":
        return render(analyze_keras(_json_config(data, what)), fmt)
    if lower.endswith(".onnx"):
        model = _onnx_model(data, what)
        return render(analyze(model, sizes[0] if sizes and len(sizes) == 1 else sizes), fmt)
    raise SpecError(f"{what}: upload an .onnx file, a Keras .json or a .keras archive")
