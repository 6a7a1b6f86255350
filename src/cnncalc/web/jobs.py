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
from ..i18n import Msg

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
        return "markdown", report.to_markdown(lang)
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
            raise SpecError(Msg("err.web.input_must_whole_numbers_replacing", input_shape=list(input_shape)))
        keep = tuple(a for a in calls[0].args if a.name is not None and a.name.lower() == "batch")
        calls[0] = replace(calls[0], args=(Arg(None, tuple(input_shape)),) + keep)
    if len(calls) - 1 > max_layers:
        raise SpecError(Msg("err.web.network_has_layers_web_page", p=len(calls) - 1, max_layers=max_layers))
    if train:                                   # [optimizer, amp]: one training step on top
        from ..train_spec import analyze_training
        report = analyze_training(calls, convention=convention, batch=batch, dtype=dtype, optimizer=train[0],
                                  amp=train[1])
    else:
        report = analyze_calls(calls, convention=convention, batch=batch, dtype=dtype)
    return render(report, fmt, lang)


def _display(name: str) -> str:
    """The upload's name for a message: its last part, printable, short."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c if c.isprintable() else "?" for c in base)
    return base[:80] or "the upload"


def _json_config(raw: bytes, what: str) -> dict:
    if len(raw) > MAX_CONFIG_BYTES:
        raise TooLarge(Msg("err.web.bytes_keras_configs_up_bytes", what=what, raw=len(raw), MAX_CONFIG_BYTES=MAX_CONFIG_BYTES))
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpecError(Msg("err.web.not_valid_json", what=what, e=e)) from None
    except RecursionError:
        raise SpecError(Msg("err.web.nests_json_too_deeply", what=what)) from None
    if not isinstance(config, dict):
        raise SpecError(Msg("err.web.must_hold_keras_model_config", what=what, name=type(config).__name__))
    return config


def _keras_archive(data: bytes, what: str) -> dict:
    """config.json of a .keras zip, with every member's declared size checked before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise TooLarge(Msg("err.web.has_members_most_are_accepted", what=what, infos=len(infos), MAX_ZIP_MEMBERS=MAX_ZIP_MEMBERS))
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > MAX_MEMBER_BYTES:
                    raise TooLarge(Msg("err.web.member_inflates_bytes_limit", what=what, display=_display(info.filename), file_size=info.file_size, MAX_MEMBER_BYTES=MAX_MEMBER_BYTES))
            if total > MAX_ZIP_TOTAL_BYTES:
                raise TooLarge(Msg("err.web.inflates_bytes_all_limit", what=what, total=total, MAX_ZIP_TOTAL_BYTES=MAX_ZIP_TOTAL_BYTES))
            try:
                info = z.getinfo("config.json")
            except KeyError:
                raise SpecError(Msg("err.web.not_keras_archive_has_no", what=what)) from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise TooLarge(Msg("err.web.config_json_inflates_bytes_limit", what=what, file_size=info.file_size, MAX_CONFIG_BYTES=MAX_CONFIG_BYTES))
            with z.open(info) as f:                      # bounded read: a lying header cannot inflate more
                raw = f.read(MAX_CONFIG_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError) as e:
        raise SpecError(Msg("err.web.not_readable_keras_archive", what=what, name=type(e).__name__)) from None
    return _json_config(raw, f"{what} (config.json)")


def _onnx_model(data: bytes, what: str):
    try:
        import onnx
    except ImportError:
        raise SpecError(Msg("err.web.reading_onnx_files_needs_onnx")) from None
    try:
        model = onnx.load_from_string(data)
    except Exception as e:  # noqa: BLE001 -- any parse failure is the upload's fault
        raise SpecError(Msg("err.web.not_onnx_model", what=what, name=type(e).__name__)) from None
    _drop_external_references(onnx, model)
    return model


def _drop_external_references(onnx, model) -> None:
    """Tensors whose data lives in another file keep their shape; the file name they carry is erased."""
    from onnx.external_data_helper import _get_all_tensors
    for t in _get_all_tensors(model):
        if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
            del t.external_data[:]
            t.data_location = onnx.TensorProto.EXTERNAL     # shape only: cnncalc never reads its values


def analyze_upload(name: str, data: bytes, input_size: str | None, fmt: str, lang: str = "en"):
    from ..api import analyze
    from ..frontends.keras import analyze_keras
    what = f"'{_display(name)}'"
    lower = name.lower()
    sizes = None
    if input_size:
        from ..sizes import parse_size
        sizes = [parse_size(s.strip())[0] for s in input_size.split(";") if s.strip()]
    if lower.endswith(CHECKPOINTS):
        raise SpecError(Msg("err.web.only_onnx_files_keras_json", what=what))
    if lower.endswith(".keras") or data[:2] == b"PK":
        return render(analyze_keras(_keras_archive(data, what)), fmt, lang)
    if lower.endswith(".json") or data.lstrip()[:1] == b"{":
        return render(analyze_keras(_json_config(data, what)), fmt, lang)
    if lower.endswith(".onnx"):
        model = _onnx_model(data, what)
        return render(analyze(model, sizes[0] if sizes and len(sizes) == 1 else sizes), fmt, lang)
    raise SpecError(Msg("err.web.upload_onnx_file_keras_json", what=what))
