"""Starting the server: a socket bound before anything says "serving"."""
from __future__ import annotations

import socket

from ..errors import SpecError


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a one-line SpecError saying why not."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, OverflowError) as e:
        raise SpecError(f"--host {host!r}: not an address of this machine ({e})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except PermissionError:
        sock.close()
        raise SpecError(f"cannot serve on port {port}: permission denied (ports below 1024 need privileges; "
                        f"try --port 8000)") from None
    except OSError as e:
        sock.close()
        if e.errno in (98, 48, 10048):                    # EADDRINUSE on Linux, macOS, Windows
            raise SpecError(f"cannot serve on {host}:{port}: the port is already in use (stop the other server "
                            f"or choose another, e.g. --port {port + 1 if port < 65535 else 8000})") from None
        raise SpecError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
    return sock
