"""Fixtures shared by the tests: the locale, and a served instance for the web tests."""
import os
import socket
import threading
import time

import pytest

# English output whatever the developer's locale says (the CLI takes its language from LANG; tests of Chinese
# ask for it explicitly)
for _var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C.UTF-8"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A real uvicorn server on a free loopback port, for the load and browser tests."""
    pytest.importorskip("fastapi")
    import uvicorn

    from cnncalc.web.app import create_app
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(host="127.0.0.1"), host="127.0.0.1", port=port,
                                        log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(5)
