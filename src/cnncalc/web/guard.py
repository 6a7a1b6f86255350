"""The server's outer wall, as plain ASGI middleware in front of every route.

- **Host check.** A request whose ``Host`` is not an address this server answers to gets 400: a web page on
  another origin that rebinds its DNS name to 127.0.0.1 cannot reach the API.
- **Headers.** A Content-Security-Policy that forbids inline script and every other origin, ``nosniff``, no
  framing, no referrer.
- **Body limits while reading.** ``Content-Length`` over the limit is refused at once; a chunked body is
  counted as it arrives and refused the moment it passes the limit, so it never sits in memory.
"""
from __future__ import annotations

import ipaddress
import json

from starlette.exceptions import HTTPException

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARDS = {"0.0.0.0", "::", ""}


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, seen: int | None = None):
        what = f"{seen:,} bytes" if seen is not None else "more than that"
        super().__init__(413, f"request too large: {what} (limit {limit:,} bytes)")


def host_of(header: str) -> str:
    """'example.com:8000' -> 'example.com', '[::1]:8000' -> '::1' (lowercase)."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def allowed_hosts(bind: str, extra=()) -> tuple[set[str], bool]:
    """(names accepted in Host, whether any IP literal is accepted).

    Loopback names always; the bound address itself; with a wildcard bind (0.0.0.0 / ::) any IP literal too,
    since the machine's addresses are not known in advance -- a rebound DNS name is still refused.
    """
    names = set(LOOPBACK_NAMES) | {host_of(bind)} | {host_of(e) for e in extra}
    return names - WILDCARDS, bind in WILDCARDS


def _is_ip(h: str) -> bool:
    try:
        ipaddress.ip_address(h)
        return True
    except ValueError:
        return False


def _json(status: int, message: str, kind: str) -> bytes:
    return json.dumps({"error": message, "message": message, "line": None, "column": None, "layer": None,
                       "kind": kind}).encode()


class Guard:
    def __init__(self, app, *, hosts: set[str], any_ip: bool, body_limit, ):
        self.app = app
        self.hosts = hosts
        self.any_ip = any_ip
        self.body_limit = body_limit          # path -> bytes

    async def _reply(self, send, status: int, message: str, kind: str) -> None:
        body = _json(status, message, kind)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = host_of(headers.get(b"host", b"").decode("latin-1"))
        if not (host in self.hosts or (self.any_ip and _is_ip(host))):
            return await self._reply(send, 400, "this server answers only to the address it was started on "
                                                "(Host header refused)", "host")
        limit = self.body_limit(scope["path"])
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length.isdigit() and int(length) > limit:
            return await self._reply(send, 413, f"request too large: {int(length):,} bytes (limit {limit:,})",
                                     "limit")
        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers") or []) + SECURITY_HEADERS)
            await send(message)

        return await self.app(scope, counted_receive, secured_send)
