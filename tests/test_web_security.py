"""The web server tried as an attacker would: file reads, injected HTML, Host rebinding, runaway work, bombs.

Every check here is against what the server must never do, with a canary that would show if it did: a secret
file whose content is a *valid* spec (so reading it would succeed and show its numbers), or an ONNX weight kept
in an outside file whose values would change a shape if they were read.
"""
import base64
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cnncalc.web.app import create_app  # noqa: E402
from cnncalc.web.worker import Limits  # noqa: E402

EVIL = '<img src=x onerror="alert(1)">'
EVIL2 = "x\" onmouseover=\"alert(2)\" '><script>alert(3)</script>"


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(host="127.0.0.1"), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    """A file a request might name. Its content is a valid spec whose dense layer has 23 filters: if the
    server ever opened it, the answer would be a report with 'SECRETLABEL' and 23 in it."""
    d = tmp_path_factory.mktemp("secret")
    p = d / "secret_spec.txt"
    p.write_text("input(1, 8, 8) | SECRETLABEL: conv2d(23, 3)\n")
    (d / "secret.json").write_text(json.dumps([{"input": [1, 8, 8]}, {"conv2d": [23, 3], "name": "SECRETLABEL"}]))
    return d


def _no_leak(r, *needles):
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    for n in ("SECRETLABEL", "root:", "PATH=") + needles:
        assert n not in r.text, (n, r.text[:300])


# ----------------------------------------------------------------------------- 1. only what is sent is read

@pytest.mark.parametrize("spec", ["/etc/shadow", "/etc/passwd", "/proc/self/environ", "/dev/zero", "/dev/urandom",
                                  "../../../../etc/passwd", "file:///etc/passwd"])
def test_a_spec_naming_a_server_path_is_text_not_a_file(client, spec):
    t0 = time.perf_counter()
    r = client.post("/api/analyze", json={"spec": spec})
    _no_leak(r)
    assert time.perf_counter() - t0 < 2


def test_a_spec_naming_a_readable_spec_file_is_not_opened(client, secret):
    for name in ("secret_spec.txt", "secret.json"):
        path = str(secret / name)
        assert os.path.isfile(path)
        _no_leak(client.post("/api/analyze", json={"spec": path}))


def _keras_json_with_name(name: str) -> dict:
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}},
        {"class_name": "Conv2D", "config": {"name": name, "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                                            "padding": "valid", "use_bias": True, "activation": "linear"}}]}}


def test_uploads_whose_config_names_a_path_open_nothing(client, secret):
    path = str(secret / "secret.json")
    # an uploaded .json that is a JSON string naming a file
    r = client.post("/api/analyze/file", files={"file": ("m.json", json.dumps(path), "application/json")})
    _no_leak(r)
    # a .keras archive whose config.json is a string naming a file
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(path))
    _no_leak(client.post("/api/analyze/file", files={"file": ("m.keras", buf.getvalue(), "application/zip")}))
    # ... or naming /dev/zero: answered at once
    t0 = time.perf_counter()
    _no_leak(client.post("/api/analyze/file", files={"file": ("m.json", b'"/dev/zero"', "application/json")}))
    assert time.perf_counter() - t0 < 2


def test_onnx_external_data_is_never_read(client, secret):
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper
    # the outside file holds int64 [7, 330]: read, it would make Reshape's output (7, 330)
    (secret / "shape.bin").write_bytes(np.array([7, 330], dtype=np.int64).tobytes())
    shape = TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2])
    shape.data_location = TensorProto.EXTERNAL
    for k, v in (("location", str(secret / "shape.bin")), ("offset", "0"), ("length", "16")):
        e = shape.external_data.add()
        e.key, e.value = k, v
    # and a Constant node whose value lives in the same outside file
    const = TensorProto()
    const.CopyFrom(shape)
    const.name = "c"
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape"),
         helper.make_node("Constant", [], ["k"], value=const, name="const"),
         helper.make_node("Reshape", ["x", "k"], ["z"], name="reshape2")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 1155])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    r = client.post("/api/analyze/file", files={"file": ("m.onnx", model.SerializeToString(), "application/octet-stream")})
    assert r.status_code < 500, r.text
    assert "330" not in r.text and str(secret) not in r.text


# ----------------------------------------------------------------------------- 2. headers and Host

def test_every_response_carries_the_security_headers(client):
    for r in (client.get("/"), client.get("/static/app.js"), client.post("/api/analyze", json={"spec": "x("}),
              client.get("/api/zoo"), client.get("/nope")):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["evil.example", "attacker.com:8000", "127.0.0.1.nip.io", "localhost.evil.com",
                                  "", "192.168.1.5"])
def test_a_foreign_host_header_is_refused(host):
    c = TestClient(create_app(host="127.0.0.1"))
    r = c.post("/api/analyze", json={"spec": "input(3, 8, 8) | conv2d(4, 3)"}, headers={"host": host})
    assert r.status_code == 400 and r.json()["kind"] == "host"
    assert c.get("/", headers={"host": host}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "localhost:1234", "[::1]:8000"])
def test_loopback_hosts_are_served(host):
    c = TestClient(create_app(host="127.0.0.1"))
    assert c.get("/", headers={"host": host}).status_code == 200


def test_hosts_of_a_wildcard_bind_and_allowed_names():
    wild = TestClient(create_app(host="0.0.0.0"))
    assert wild.get("/", headers={"host": "10.1.2.3:8000"}).status_code == 200       # an address of the machine
    assert wild.get("/", headers={"host": "rebind.attacker.com"}).status_code == 400  # never a foreign name
    named = TestClient(create_app(host="127.0.0.1", allow_hosts=["calc.lab"]))
    assert named.get("/", headers={"host": "calc.lab:8000"}).status_code == 200
    assert named.get("/", headers={"host": "calc.lab.evil"}).status_code == 400


# ----------------------------------------------------------------------------- 3. limits that stop work

def test_bombs_answer_fast(client):
    for spec in ["input(3,8,8) | convtranspose2d(4, 2, stride=100000000000)",
                 "input(3,8,8) | adaptiveavgpool2d(100000000)",
                 "input(3, 1000000000000000000, 8) | conv2d(4, 3)",
                 "input(3,8,8) | upsample(scale_factor=1e999)"]:
        t0 = time.perf_counter()
        r = client.post("/api/analyze", json={"spec": spec})
        assert r.status_code in (200, 400), (spec, r.text[:200])
        assert time.perf_counter() - t0 < 1.0, spec


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] not in "ZX":
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_runaway_analyses_are_killed_and_their_memory_comes_back():
    """A real `cnncalc serve` process with limits small enough that ordinary large specs run over them
    (0.4 s, 48 MiB): ten runaways at once, then a small request, then the server's own memory and children."""
    import httpx
    p = subprocess.Popen([sys.executable, "-m", "cnncalc", "serve", "--port", "0", "--time-limit", "0.4",
                          "--memory-limit", "48MiB"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        url = line.split("serving on ")[1].split()[0].rstrip("/")
        slow = "input(8)\n" + "dense(8) | relu\n" * 4_900                  # ~10,000 layers: over 0.4 s here
        results = []

        def one(spec):
            with httpx.Client(timeout=30) as c:
                r = c.post(url + "/api/analyze", json={"spec": spec})
                results.append((r.status_code, r.json().get("kind")))

        threads = [threading.Thread(target=one, args=(slow,)) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 10
        # each runaway was stopped (503) -- or finished within its limits (200) -- never left running
        assert all(code in (200, 503) for code, _ in results), results
        assert sum(code == 503 for code, _ in results) >= 5, results
        # a small request right after is answered at once
        t0 = time.perf_counter()
        r = httpx.post(url + "/api/analyze", json={"spec": "input(3, 8, 8) | conv2d(4, 3)"}, timeout=10)
        assert r.status_code == 200 and r.json()["totals"]["params"] == 3 * 3 * 3 * 4 + 4
        assert time.perf_counter() - t0 < 1.0
        # nothing is left computing: only the waiting pool (at most 4 idle processes) remains, and the
        # server's memory is back
        time.sleep(0.5)
        kids = _children(p.pid)
        assert len(kids) <= 4, kids
        assert _rss_bytes(p.pid) < 500 * 2**20
        assert sum(_rss_bytes(k) for k in kids) < 4 * 100 * 2**20
    finally:
        p.kill()
        p.communicate(timeout=10)


def test_the_memory_cap_stops_a_greedy_analysis():
    c = TestClient(create_app(host="127.0.0.1", limits=Limits(time_s=5, memory_bytes=32 * 2**20)),
                   base_url="http://127.0.0.1")
    r = c.post("/api/analyze", json={"spec": "input(8)\n" + "dense(8) | relu\n" * 4_900})
    assert r.status_code == 503 and "memory" in r.json()["message"]


def test_a_zip_bomb_is_refused_without_inflating(client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("config.json", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(200):                                      # 200 MB of spaces, ~200 KB compressed
                f.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2_000_000
    t0 = time.perf_counter()
    r = client.post("/api/analyze/file", files={"file": ("m.keras", data, "application/zip")})
    assert r.status_code == 413 and "config.json" in r.json()["message"]
    assert time.perf_counter() - t0 < 2


def test_deeply_nested_json_is_a_clear_4xx(client):
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/analyze/file", files={"file": ("m.json", deep, "application/json")})
    assert 400 <= r.status_code < 500
    r = client.post("/api/analyze", content=b'{"spec": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
                    headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500


# ----------------------------------------------------------------------------- a served instance

# the served instance: the `server` fixture of conftest.py


@pytest.mark.parametrize("path,limit", [("/api/analyze", 1_000_000), ("/api/analyze/file", 64_000_000)])
def test_a_chunked_200mb_body_is_cut_off_while_reading(server, path, limit):
    import httpx
    before = _rss_bytes(os.getpid())
    sent = 0

    if path.endswith("/file"):                 # an upload: multipart, one file part of 200 MB
        head = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n'
                b"Content-Type: application/octet-stream\r\n\r\n")
        ctype = "multipart/form-data; boundary=b0undary"
    else:
        head, ctype = b'{"spec": "', "application/json"

    def body():
        nonlocal sent
        yield head
        chunk = b"x" * (1 << 20)
        for _ in range(200):
            sent += len(chunk)
            yield chunk

    try:
        with httpx.Client(timeout=60) as c:
            r = c.post(server + path, content=body(), headers={"Content-Type": ctype})
        assert r.status_code == 413 and "too large" in r.json()["message"]
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass                                   # the server answered 413 and closed while we were still sending
    assert sent < 200 * (1 << 20) or _rss_bytes(os.getpid()) - before < 100 * 2**20
    assert _rss_bytes(os.getpid()) - before < limit + 100 * 2**20


# ----------------------------------------------------------------------------- 5. the CLI's serve

def _cli(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, timeout=timeout)


def test_serve_bad_port_and_port_in_use_are_one_line_errors():
    r = _cli("serve", "--port", "99999")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "serving on" not in r.stdout
    assert r.stderr.strip().count("\n") == 0 and "65535" in r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        r = _cli("serve", "--port", str(s.getsockname()[1]))
    assert r.returncode == 2 and "already in use" in r.stderr and "serving on" not in r.stdout
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0


def test_serve_on_all_interfaces_warns():
    p = subprocess.Popen([sys.executable, "-m", "cnncalc", "serve", "--host", "0.0.0.0", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert "serving on" in line
    finally:
        p.kill()
        _, err = p.communicate(timeout=10)
    assert "reachable from the network" in err


# ----------------------------------------------------------------------------- 2. no HTML injection, in Chromium

@pytest.fixture(scope="module")
def strict_page(server):
    """A page with its real CSP (no bypass): waits use locators, never evaluated strings."""
    from test_web import CHROMIUM
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.dialogs = []
        pg.errors = []

        def on_dialog(d):
            pg.dialogs.append(d.message)
            d.dismiss()
        pg.on("dialog", on_dialog)
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.goto(server + "/")
        pg.locator("#totals b").first.wait_for()
        yield pg
        browser.close()


def _no_injection(page, expected_text):
    from playwright.sync_api import expect
    expect(page.locator("#layers tbody")).to_contain_text(expected_text, timeout=10_000)
    for where in ("#layers", "#totals", "#bars", "#explain", "#status", "#graph"):
        assert page.locator(f"{where} img, {where} script").count() == 0, where
    page.mouse.move(10, 10)
    page.hover("#layers tbody tr:first-child td:nth-child(2)")
    time.sleep(0.2)
    assert page.dialogs == [], page.dialogs


def test_a_typed_label_is_shown_as_text(strict_page):
    spec = json.dumps([{"input": [1, 8, 8]}, {"type": "conv2d", "filters": 4, "kernel_size": 3, "name": EVIL},
                       {"type": "relu", "name": EVIL2}])
    strict_page.fill("#spec", spec)
    strict_page.dispatch_event("#spec", "input")
    _no_injection(strict_page, EVIL)
    # click its number: the explanation (titled with the name) is text too
    strict_page.click("#layers tbody tr:nth-child(1) td[data-col='params']")
    from playwright.sync_api import expect
    expect(strict_page.locator("#explain-title")).to_contain_text(EVIL)
    assert strict_page.locator("#explain img").count() == 0 and strict_page.dialogs == []


def test_a_shared_link_is_shown_as_text(strict_page, server):
    spec = json.dumps([{"input": [1, 8, 8]}, {"type": "conv2d", "filters": 4, "kernel_size": 3, "name": EVIL}])
    s = base64.urlsafe_b64encode(spec.encode()).decode().rstrip("=")
    strict_page.goto("about:blank")
    strict_page.goto(f"{server}/#s={s}&c=pytorch&b=1&d=float32")
    _no_injection(strict_page, EVIL)


def test_an_uploaded_keras_layer_name_is_shown_as_text(strict_page, tmp_path):
    path = tmp_path / f"m{EVIL2[:3]}.json"
    path.write_text(json.dumps(_keras_json_with_name(EVIL)))
    strict_page.set_input_files("#upload", str(path))
    _no_injection(strict_page, EVIL)


def test_an_uploaded_onnx_node_name_is_shown_as_text(strict_page, tmp_path):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name=EVIL), helper.make_node("Sigmoid", ["y"], ["z"], name=EVIL2)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3, 8, 8])])
    path = tmp_path / "evil.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    strict_page.set_input_files("#upload", str(path))
    _no_injection(strict_page, EVIL)
    assert strict_page.errors == []
