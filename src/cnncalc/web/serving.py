"""Starting the server: a socket bound before anything says "serving"."""
from __future__ import annotations

import socket

from ..errors import SpecError
from ..i18n import Msg


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a one-line SpecError saying why not."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, OverflowError) as e:
        raise SpecError(Msg("err.web.host_not_address_this_machine", host=repr(host), e=e)) from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except PermissionError:
        sock.close()
        raise SpecError(Msg("err.web.cannot_serve_on_port_permission", port=port)) from None
    except OSError as e:
        sock.close()
        if e.errno in (98, 48, 10048):                    # EADDRINUSE on Linux, macOS, Windows
            raise SpecError(Msg("err.web.cannot_serve_on_port_already", host=host, port=port, p=port + 1 if port < 65535 else 8000)) from None
        raise SpecError(Msg("err.web.cannot_serve_on", host=host, port=port, p=e.strerror or e)) from None
    return sock
