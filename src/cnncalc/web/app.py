"""The JSON API and the page.

Every asset is served by the package (no CDN).  Uploads are only ever parsed as data: ONNX protobuf,
Keras JSON, or the config.json inside a .keras zip -- never pickle, never ``torch.load``, never code.
"""
from __future__ import annotations

import asyncio
import io
import json
import zipfile
from importlib import resources
from typing import Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from .. import __version__
from ..errors import SpecError

MAX_BODY_BYTES = 1_000_000          # a JSON request
MAX_UPLOAD_BYTES = 64_000_000       # an ONNX / Keras upload
MAX_LAYERS = 10_000                 # layers in one analysis from the web
TIME_LIMIT_S = 10.0                 # one analysis


class AnalyzeRequest(BaseModel):
    spec: str = Field(..., description="the network as text (or YAML/JSON), or zoo:NAME")
    convention: str = Field("pytorch", description="pytorch, keras (tensorflow), caffe or onnx")
    batch: int | None = Field(None, ge=1, le=1_000_000)
    dtype: str = Field("float32")
    input: list[int] | None = Field(None, description="one sample's input shape, replacing the spec's input(...)")
    format: Literal["json", "csv", "markdown"] = "json"


def _error(status: int, err: SpecError | str, kind: str = "spec") -> JSONResponse:
    if isinstance(err, SpecError):
        body = dict(err.to_dict(), kind=kind)
    else:
        body = {"error": str(err), "message": str(err), "line": None, "column": None, "layer": None, "kind": kind}
    return JSONResponse(body, status_code=status)


def report_payload(report) -> dict:
    """The core report's JSON, plus each layer's worked formulas for the page."""
    from ..report.explain import layer_lines
    d = report.to_dict()
    for row, layer in zip(d["layers"], report.layers):
        row["explain"] = layer_lines(report, layer)
    return d


def _analyze_text(req: AnalyzeRequest):
    from ..analysis import analyze_calls
    from ..spec import load
    calls = load(req.spec)
    if req.input:
        from dataclasses import replace
        from ..spec.ast import Arg
        if not calls or calls[0].kind.lower() != "input" or not all(isinstance(v, int) and v >= 1 for v in req.input):
            raise SpecError(f"'input' {req.input} must be whole numbers >= 1 replacing the spec's input(...)")
        keep = tuple(a for a in calls[0].args if a.name is not None and a.name.lower() == "batch")
        calls[0] = replace(calls[0], args=(Arg(None, tuple(req.input)),) + keep)
    if len(calls) - 1 > MAX_LAYERS:
        raise SpecError(f"the network has {len(calls) - 1:,} layers; the web page analyses at most {MAX_LAYERS:,} "
                        f"(use the command line for more)")
    return analyze_calls(calls, convention=req.convention, batch=req.batch, dtype=req.dtype)


def _render(report, fmt: str):
    if fmt == "csv":
        return PlainTextResponse(report.to_csv(), media_type="text/csv")
    if fmt == "markdown":
        return PlainTextResponse(report.to_markdown(), media_type="text/markdown")
    return JSONResponse(report_payload(report))


async def _limited(fn, *args):
    return await asyncio.wait_for(run_in_threadpool(fn, *args), timeout=TIME_LIMIT_S)


def create_app() -> FastAPI:
    app = FastAPI(title="cnncalc", version=__version__,
                  description="Shapes, parameters, MACs/FLOPs, memory and receptive fields of a network, explained.")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        limit = MAX_UPLOAD_BYTES if request.url.path.endswith("/file") else MAX_BODY_BYTES
        if size is not None and size.isdigit() and int(size) > limit:
            return _error(413, f"request too large: {int(size):,} bytes (limit {limit:,})", "limit")
        return await call_next(request)

    @app.post("/api/analyze", summary="Analyse a spec", responses={400: {"description": "bad spec"}})
    async def analyze(req: AnalyzeRequest):
        if len(req.spec) > MAX_BODY_BYTES:
            return _error(413, f"spec too long: {len(req.spec):,} characters", "limit")
        try:
            report = await _limited(_analyze_text, req)
        except SpecError as e:
            return _error(400, e)
        except asyncio.TimeoutError:
            return _error(503, f"analysis took longer than {TIME_LIMIT_S:g} s", "limit")
        return _render(report, req.format)

    @app.get("/api/zoo", summary="The model zoo")
    async def zoo_list():
        from .. import zoo
        return [{"name": m.name, "description": m.description, "input": m.input} for m in zoo.models()]

    @app.get("/api/zoo/{name}", summary="One zoo model's spec")
    async def zoo_get(name: str):
        from .. import zoo
        try:
            m = zoo.get(name)
        except SpecError as e:
            return _error(404, e)
        return {"name": m.name, "description": m.description, "input": m.input, "spec": m.text}

    @app.post("/api/analyze/file", summary="Analyse an uploaded ONNX file or Keras JSON / .keras archive")
    async def analyze_file(file: UploadFile = File(...), input: str | None = Form(None),
                           format: str = Form("json")):
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, f"upload larger than {MAX_UPLOAD_BYTES:,} bytes", "limit")
        name = (file.filename or "").lower()
        try:
            report = await _limited(_analyze_upload, name, data, input)
        except SpecError as e:
            return _error(400, e)
        except asyncio.TimeoutError:
            return _error(503, f"analysis took longer than {TIME_LIMIT_S:g} s", "limit")
        return _render(report, format if format in ("json", "csv", "markdown") else "json")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(_asset("index.html"))

    @app.get("/static/{path}", include_in_schema=False)
    async def static(path: str):
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
        ext = path[path.rfind("."):]
        if "/" in path or ".." in path or ext not in types:
            return _error(404, "no such asset", "asset")
        try:
            return Response(_asset(path), media_type=types[ext])
        except FileNotFoundError:
            return _error(404, "no such asset", "asset")

    return app


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _analyze_upload(name: str, data: bytes, input_size: str | None):
    from ..frontends.keras import analyze_keras
    sizes = None
    if input_size:
        from ..cli import _parse_size
        sizes = [_parse_size(s.strip())[0] for s in input_size.split(";") if s.strip()]
    if name.endswith((".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".h5")):
        raise SpecError(f"'{name}': only ONNX files and Keras JSON / .keras archives are accepted; checkpoints "
                        f"are never loaded here (unpickling can run code)")
    if name.endswith(".keras") or data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                config = json.loads(z.read("config.json"))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
            raise SpecError(f"'{name}' is not a .keras archive with a config.json: {e}") from None
        return analyze_keras(config)
    if name.endswith(".json") or data.lstrip()[:1] == b"{":
        try:
            config = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SpecError(f"'{name}' is not valid JSON: {e}") from None
        return analyze_keras(config)
    if name.endswith(".onnx"):
        try:
            import onnx
        except ImportError:
            raise SpecError("reading ONNX files needs the onnx package on the server (pip install onnx)") from None
        try:
            model = onnx.load_from_string(data)
        except Exception as e:  # noqa: BLE001 -- any parse failure is the upload's fault
            raise SpecError(f"'{name}' is not an ONNX model: {type(e).__name__}") from None
        from ..analysis import analyze
        return analyze(model, sizes[0] if sizes and len(sizes) == 1 else sizes)
    raise SpecError(f"'{name}': upload an .onnx file, a Keras .json or a .keras archive")
