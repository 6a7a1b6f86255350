"""The JSON API and the page.

Safe by construction:

- a request is analysed from what it sends, never from a path it names (``jobs.py``);
- every analysis runs in a child process killed at its time and memory limits (``worker.py``);
- the Host header is checked, bodies are limited while they are read, and every response carries a
  Content-Security-Policy (``guard.py``); the page puts every user string into the DOM as text (``static/app.js``).

Every asset is served by the package (no CDN), the API documentation too: ``/docs`` is Swagger UI from the copy
in ``static/`` (see ``static/VENDORED.txt``), started by a script file, not an inline one.
"""
from __future__ import annotations

import time
from importlib import resources
from typing import Literal

from fastapi import FastAPI, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import SpecError
from ..i18n import Msg, render
from .guard import Guard, allowed_hosts
from .worker import Limits, Refused, run_limited

MAX_BODY_BYTES = 1_000_000          # a JSON request
MAX_UPLOAD_BYTES = 64_000_000       # an ONNX / Keras upload
MAX_LAYERS = 10_000                 # layers in one analysis from the web
TIME_LIMIT_S = 10.0                 # one analysis, killed past it
MEMORY_LIMIT_BYTES = 1 << 30        # one analysis's extra address space, killed past it


class AnalyzeRequest(BaseModel):
    spec: str = Field(..., description="the network as text (or JSON text), or zoo:NAME; never a file name")
    convention: str = Field("pytorch", description="pytorch, keras (tensorflow), caffe or onnx")
    batch: int | None = Field(None, ge=1, le=1_000_000)
    dtype: str = Field("float32")
    input: list[int] | None = Field(None, description="one sample's input shape, replacing the spec's input(...)")
    format: Literal["json", "csv", "markdown"] = "json"
    train: bool = Field(False, description="add one training step: saved activations, gradients, optimizer "
                                           "state, backward MACs, the step's peak memory")
    optimizer: Literal["sgd", "momentum", "adam", "adamw"] = "sgd"
    amp: Literal["fp16", "bf16"] | None = None
    lang: Literal["en", "zh"] = Field("en", description="language of the explanations and error messages")


def _error(status: int, err: SpecError | str, kind: str = "spec", lang: str = "en") -> JSONResponse:
    if isinstance(err, SpecError):
        body = dict(getattr(err, "rendered", None) or err.to_dict(), kind=kind)
    else:
        text = render(err, lang if lang in ("en", "zh") else "en")        # a Msg in the request's language
        body = {"error": text, "message": text, "line": None, "column": None, "layer": None, "kind": kind}
    return JSONResponse(body, status_code=status)


def _response(result):
    fmt, value = result
    if fmt == "csv":
        return PlainTextResponse(value, media_type="text/csv")
    if fmt == "markdown":
        return PlainTextResponse(value, media_type="text/markdown")
    if isinstance(value, str):                 # the child process's JSON text, passed on unparsed
        return Response(value, media_type="application/json")
    return JSONResponse(value)


def create_app(*, host: str = "127.0.0.1", allow_hosts=(), limits: Limits | None = None) -> FastAPI:
    """The app.  ``host`` is the address it is served on (its Host header is accepted, with loopback names);
    ``allow_hosts`` more names to accept; ``limits`` the time / memory / concurrency caps of one analysis."""
    limits = limits or Limits(time_s=TIME_LIMIT_S, memory_bytes=MEMORY_LIMIT_BYTES)
    app = FastAPI(title="cnncalc", version=__version__, docs_url=None, redoc_url=None,
                  description="Shapes, parameters, MACs/FLOPs, memory and receptive fields of a network, explained.")
    names, any_ip = allowed_hosts(host, allow_hosts)
    app.add_middleware(Guard, hosts=names, any_ip=any_ip,
                       body_limit=lambda path: MAX_UPLOAD_BYTES if path.endswith("/file") else MAX_BODY_BYTES)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), "limit" if exc.status_code == 413 else "request")

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return _error(422, "invalid request: " + "; ".join(parts), "request")

    async def limited(fn: str, *args, blob: bytes = b"", lang: str = "en"):
        started = time.monotonic()
        try:
            return _response(await run_in_threadpool(run_limited, fn, args, limits, started, blob, lang))
        except SpecError as e:
            return _error(400, e)
        except Refused as e:
            return _error(e.status, e.message, e.kind, lang)

    @app.post("/api/analyze", summary="Analyse a spec", responses={400: {"description": "bad spec"}})
    async def analyze(req: AnalyzeRequest):
        if len(req.spec) > MAX_BODY_BYTES:
            return _error(413, Msg("err.web.spec_too_long", n=len(req.spec)), "limit", req.lang)
        return await limited("analyze_text", req.spec, req.convention, req.batch, req.dtype,
                             tuple(req.input) if req.input else None, req.format, MAX_LAYERS,
                             [req.optimizer, req.amp] if req.train else None, req.lang, lang=req.lang)

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

    @app.get("/api/practice", summary="A practice problem: the network, question, answer and worked solution")
    async def practice(topic: str = "size", seed: int = 0, lang: str = "en"):
        from ..practice import make_problem
        if not 0 <= seed < 2 ** 31:
            return _error(422, Msg("err.web.seed"), "request", lang)
        try:
            return JSONResponse(make_problem(topic, seed, lang).to_dict())
        except SpecError as e:
            return _error(400, e)

    @app.get("/api/practice/check", summary="Check an answer to a practice problem")
    async def practice_check(topic: str = "size", seed: int = 0, lang: str = "en",
                             answer: str = Query("", max_length=200)):
        from ..practice import make_problem
        if not 0 <= seed < 2 ** 31:
            return _error(422, Msg("err.web.seed"), "request", lang)
        try:
            p = make_problem(topic, seed, lang)
        except SpecError as e:
            return _error(400, e)
        return {"right": p.check(answer), "answer_text": p.answer_text, "solution": list(p.solution)}

    @app.post("/api/analyze/file", summary="Analyse an uploaded ONNX file or Keras JSON / .keras archive")
    async def analyze_file(file: UploadFile = File(...), input: str | None = Form(None),
                           format: str = Form("json"), lang: str = Form("en")):
        lang = lang if lang in ("en", "zh") else "en"
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, Msg("err.web.upload_too_large", n=f"{MAX_UPLOAD_BYTES:,}"), "limit", lang)
        fmt = format if format in ("json", "csv", "markdown") else "json"
        return await limited("analyze_upload", file.filename or "", input, fmt, lang, blob=data, lang=lang)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(_asset("index.html"))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs():
        return HTMLResponse(_asset("docs.html"))

    @app.get("/static/{path}", include_in_schema=False)
    async def static(path: str):
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
        if path not in _asset_names():                    # only the package's own files, by exact name
            return _error(404, "no such asset", "asset")
        return Response(_asset(path), media_type=types.get(path[path.rfind("."):], "application/octet-stream"))

    return app


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _asset_names() -> set[str]:
    types = (".js", ".css", ".svg", ".html")
    return {f.name for f in resources.files(__package__).joinpath("static").iterdir() if f.name.endswith(types)}
