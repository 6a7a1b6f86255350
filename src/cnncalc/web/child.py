"""One analysis in its own process: ``python -m cnncalc.web.child``.

The process imports what analyses need, then waits on stdin for one job (a frame of JSON naming a function of
``cnncalc.web.jobs`` and its arguments, and a frame of raw bytes for an upload).  When the job arrives it caps
its own address space and CPU time, runs the job, writes one JSON frame with the outcome to stdout and exits.
Frames are an 8-byte big-endian length and that many bytes.  Nothing here is pickled: the server only ever
reads JSON back.
"""
from __future__ import annotations

import json
import os
import struct
import sys

JOBS = {"analyze_text", "analyze_upload"}
PRELOAD = ("cnncalc.web.jobs", "cnncalc.analysis", "cnncalc.report.explain", "cnncalc.frontends.keras")


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(struct.pack(">Q", len(data)) + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_frame(fd: int, limit: int) -> bytes:
    head = _read_exact(fd, 8)
    (n,) = struct.unpack(">Q", head)
    if n > limit:
        raise ValueError(f"frame of {n} bytes over the limit {limit}")
    return _read_exact(fd, n)


def _read_exact(fd: int, n: int) -> bytes:
    parts, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _vm_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _cap(memory_bytes: int, cpu_s: int) -> None:
    try:
        import resource
    except ImportError:                                   # no rlimits on this platform: the deadline still holds
        return
    vm = _vm_bytes()
    if vm is not None:
        resource.setrlimit(resource.RLIMIT_AS, (vm + memory_bytes, vm + memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))


def run(job: dict, blob: bytes) -> dict:
    from ..errors import SpecError
    from ..i18n import Msg
    from . import jobs
    try:
        if job.get("fn") not in JOBS:
            raise SpecError(Msg("err.web.unknown_job", p=repr(job.get('fn'))))
        args = list(job.get("args") or [])
        if job["fn"] == "analyze_upload":
            args.insert(1, blob)
        fmt, value = getattr(jobs, job["fn"])(*args)
        if fmt == "json":                       # serialised once, here: the server passes the text on as it is
            return {"kind": "ok", "format": "json", "value": json.dumps(value, allow_nan=False)}
        return {"kind": "ok", "format": fmt, "value": value}
    except jobs.TooLarge as e:
        return {"kind": "too_large", "value": str(e)}
    except SpecError as e:
        value = e.to_dict()
        if job.get("lang") == "zh":
            value["message"] = e.render("zh")
        return {"kind": "spec", "value": value}
    except MemoryError:
        return {"kind": "memory"}
    except RecursionError:
        return {"kind": "spec", "value": SpecError(Msg("err.web.input_nests_too_deeply_analyse")).to_dict()}
    except Exception as e:  # noqa: BLE001 -- told to the server as a fault of its own, never silently
        return {"kind": "internal", "value": type(e).__name__}


def main() -> None:
    import importlib
    for name in PRELOAD:                                  # imported before the job comes: it then starts at once
        importlib.import_module(name)
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    try:
        job = json.loads(read_frame(stdin, 1 << 20))
        blob = read_frame(stdin, 1 << 30)
    except (EOFError, ValueError, OSError):
        return                                            # the server went away, or retired this worker
    _cap(int(job.get("memory_bytes", 1 << 30)), int(job.get("cpu_s", 10)))
    result = run(job, blob)
    try:
        out = json.dumps(result).encode()
    except MemoryError:
        out = b'{"kind": "memory"}'
    write_frame(stdout, out)


if __name__ == "__main__":
    main()
