"""Each analysis of the web API runs in a process of its own that is killed at its limits.

A thread cannot be stopped, so a time limit on a thread only stops the *waiting*: the work goes on, pinning a
core and holding its memory.  Here every analysis is a fresh ``python -m cnncalc.web.child`` process with

- an address-space cap (``RLIMIT_AS``: its size when the job arrives plus ``memory_bytes``) and a CPU-time cap,
- a wall-clock deadline after which the server kills it,

so a runaway request costs at most its limits, and its CPU and memory come back when it ends.  A process does
one job and exits.  A few are kept started and waiting (their imports done), so a job starts at once; at most
``slots`` run at a time, and a request that cannot get one before its deadline is answered "busy".  Processes
are new interpreters, not forks of the threaded server, and they talk JSON over pipes: nothing is unpickled.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from ..i18n import Msg
from .child import write_frame


class Refused(Exception):
    """The analysis was stopped at a limit, or failed inside its process: an HTTP status and a message."""

    def __init__(self, status: int, message: str, kind: str = "limit"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    time_s: float = 10.0               # wall clock, from the request's arrival
    memory_bytes: int = 1 << 30        # address space a job may add to its process
    slots: int = 4                     # analyses at once


_ENV_PINS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start() -> subprocess.Popen:
    env = dict(os.environ, **_ENV_PINS)
    return subprocess.Popen([sys.executable, "-m", "cnncalc.web.child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True)


class _Pool:
    """Started, waiting worker processes; each is used once.  Thread-safe."""

    def __init__(self, warm: int):
        self.warm = warm
        self.ready: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.starting = 0

    def take(self) -> subprocess.Popen:
        with self.lock:
            while self.ready:
                p = self.ready.pop()
                if p.poll() is None:
                    break
            else:
                p = None
        proc = p or _start()
        self._refill()
        return proc

    def _refill(self) -> None:
        with self.lock:
            need = self.warm - len(self.ready) - self.starting
            self.starting += max(0, need)
        for _ in range(max(0, need)):
            threading.Thread(target=self._add, daemon=True).start()

    def _add(self) -> None:
        try:
            p = _start()
        finally:
            with self.lock:
                self.starting -= 1
        with self.lock:
            self.ready.append(p)

    def close(self) -> None:
        with self.lock:
            procs, self.ready = self.ready, []
        for p in procs:
            p.kill()
            p.wait()


_pools: dict[int, tuple[_Pool, threading.BoundedSemaphore]] = {}
_pools_lock = threading.Lock()


def _pool(slots: int) -> tuple[_Pool, threading.BoundedSemaphore]:
    with _pools_lock:
        if slots not in _pools:
            _pools[slots] = (_Pool(slots), threading.BoundedSemaphore(slots))
        return _pools[slots]


def _read_frame_until(fd: int, deadline: float, limit: int) -> bytes | None:
    """One frame from fd, or None when the deadline passes first."""
    buf = bytearray()
    need = 8
    while len(buf) < need:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, min(need - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
        if need == 8 and len(buf) == 8:
            need = 8 + int.from_bytes(buf[:8], "big")
            if need - 8 > limit:
                raise EOFError
    return bytes(buf[8:])


def run_limited(fn: str, args: tuple, limits: Limits, started: float | None = None, blob: bytes = b"",
                lang: str = "en"):
    """``jobs.<fn>(*args)`` in a capped process: its ``(format, value)``, or SpecError / Refused.

    Blocking: call it from a thread.  ``blob`` is an upload's bytes, passed as the job's second argument.
    """
    from ..errors import SpecError
    deadline = (started or time.monotonic()) + limits.time_s
    pool, sem = _pool(limits.slots)
    if not sem.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise Refused(503, Msg("err.web.busy", s=limits.time_s))
    try:
        proc = pool.take()
        try:
            job = {"fn": fn, "args": list(args), "lang": lang, "memory_bytes": limits.memory_bytes,
                   "cpu_s": max(1, int(limits.time_s + 0.999))}
            try:
                write_frame(proc.stdin.fileno(), json.dumps(job).encode())
                write_frame(proc.stdin.fileno(), blob)
                proc.stdin.close()
                frame = _read_frame_until(proc.stdout.fileno(), deadline, 1 << 31)
            except (EOFError, OSError):                      # it died: killed by its CPU or memory cap
                proc.wait()
                frame = b'{"kind": "cpu"}' if proc.returncode == -signal.SIGXCPU else b'{"kind": "memory"}'
            if frame is None:
                raise Refused(503, Msg("err.web.took_longer", s=limits.time_s))
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            if not proc.stdin.closed:
                proc.stdin.close()
    finally:
        sem.release()
    result = json.loads(frame)
    kind = result.get("kind")
    if kind == "ok":
        return result["format"], result["value"]
    if kind == "spec":
        v = result["value"]
        err = SpecError(v["error"], line=v["line"], column=v["column"], layer=v["layer"], fragment=v["fragment"])
        err.rendered = v                     # as the child wrote it, in the request's language
        raise err
    if kind == "too_large":
        raise Refused(413, result["value"])
    if kind == "cpu":
        raise Refused(503, Msg("err.web.cpu_time", s=limits.time_s))
    if kind == "memory":
        raise Refused(503, Msg("err.web.memory", mib=limits.memory_bytes / 2**20))
    raise Refused(500, Msg("err.web.internal", value=result.get('value')), kind="internal")
