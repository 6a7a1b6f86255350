"""The page as an app, in a real Chromium under its real CSP: every width from a phone to a wide screen, the
formula next to the number, the editor's gutter and error mark, errors told apart, speed on big networks, a graph
whose edges never cross a box, and no request to any other origin (the page and /docs work offline).

Waits use locators (``expect``) and ``page.evaluate`` (run by the test driver, not by the page's eval), never
``wait_for_function``, so the CSP is not bypassed.  Screenshots go to test-artifacts/.
"""
import json
import re
import statistics
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cnncalc.web.app import create_app  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
STATIC = Path(__file__).resolve().parents[1] / "src" / "cnncalc" / "web" / "static"
WIDTHS = (390, 768, 1440, 1920)
OWN_SCRIPTS = ("app.js", "dom.js", "editor.js", "table.js", "popover.js", "charts.js", "graph.js", "docs.js",
               "training.js", "practice.js")


# ----------------------------------------------------------------------------- without a browser

@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def test_docs_are_served_from_the_package(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert "/static/swagger-ui-bundle.js" in html and "/static/docs.js" in html and "/openapi.json" not in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))          # no inline script
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css"), ("docs.js", "javascript")):
        a = client.get("/static/" + asset)
        assert a.status_code == 200 and kind in a.headers["content-type"], asset
    assert "sourceMappingURL" not in client.get("/static/swagger-ui-bundle.js").text     # no request for a .map
    assert "/api/analyze" in client.get("/openapi.json").json()["paths"]
    assert client.get("/redoc").status_code == 404                       # FastAPI's CDN pages are off
    assert (STATIC / "swagger-ui.LICENSE.txt").read_text().strip().startswith("Apache License")


def test_the_markup_has_no_inline_code_and_no_html_sinks():
    for page in ("index.html", "docs.html"):
        html = (STATIC / page).read_text()
        assert not re.search(r"\sstyle\s*=", html), page                           # styles come from style.css
        assert not re.search(r"\son[a-z]+\s*=", html), page                        # no inline handlers
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), page
        assert "<style" not in html, page
    for name in OWN_SCRIPTS:
        js = (STATIC / name).read_text().replace('"http://www.w3.org/2000/svg"', "SVG_NS")  # a name, not a request
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     "setAttribute(\"style\"", "http://", "https://"):
            assert sink not in js, (name, sink)


# ----------------------------------------------------------------------------- in Chromium

@pytest.fixture(scope="module")
def browser(server):
    from test_web import CHROMIUM
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def _open(browser, server, width, height=900, path="/", scheme="light"):
    """A fresh page under the real CSP; every request it makes and every page error is recorded."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = ctx.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.goto(server + path)
    if path == "/":
        page.locator("#totals b").first.wait_for(timeout=60_000)
    return page


def _rendered(page, action, timeout=30_000):
    """Do action; wait for the next report to be drawn; its render time (performance marks in the page)."""
    from playwright.sync_api import expect
    before = page.evaluate("document.documentElement.dataset.renders")
    action()
    expect(page.locator("html")).not_to_have_attribute("data-renders", before, timeout=timeout)
    return float(page.evaluate("document.documentElement.dataset.renderMs"))


def _set_spec(page, text):
    page.locator("#spec").evaluate("(t, s) => { t.value = s; t.dispatchEvent(new Event('input')); }", text)


def _inside(box, width, height, slack=0.5):
    return (box["x"] >= -slack and box["y"] >= -slack and box["x"] + box["width"] <= width + slack
            and box["y"] + box["height"] <= height + slack)


def _api(server, spec):
    import httpx
    return httpx.post(server + "/api/analyze", json={"spec": spec}, timeout=60).json()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_width_fits_and_the_formula_opens_next_to_the_number(browser, server, width):
    from playwright.sync_api import expect
    height = 844 if width < 500 else 900
    page = _open(browser, server, width, height)
    _rendered(page, lambda: page.select_option("#zoo", "resnet50"))
    vw = page.evaluate("document.documentElement.clientWidth")
    # no horizontal page scroll; the controls are on screen; the table scrolls inside its own panel
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for sel in ("#zoo", "#convention", "#batch", "#dtype", "#spec", "#share"):
        box = page.locator(sel).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= vw + 0.5, (sel, box)
    wrap = page.locator("#tablewrap")
    assert wrap.evaluate("w => w.scrollHeight > w.clientHeight")                   # 177 rows: scrolls inside
    if width < 1000:
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")                # 12 columns: scroll inside too
    # sticky header and first columns; long names ellipsised with the full name on hover
    wrap.evaluate("w => { w.scrollTop = 600; w.scrollLeft = 400; }")
    page.wait_for_timeout(100)
    top = wrap.evaluate("w => w.getBoundingClientRect().top")
    left = wrap.evaluate("w => w.getBoundingClientRect().left")
    assert abs(page.locator("#layers thead th.c-macs").bounding_box()["y"] - top) <= 1
    name = page.locator("#layers tbody tr:nth-child(20) td.c-name")
    assert name.bounding_box()["x"] - left < 80                                   # still at the left edge
    assert name.get_attribute("title") == name.evaluate("td => td.firstChild.textContent")
    wrap.evaluate("w => { w.scrollTop = 0; w.scrollLeft = 0; }")
    # the receptive-field chart: labelled axes, no text outside the picture
    texts = page.evaluate("""() => { const s = document.querySelector('#rfchart').getBoundingClientRect();
        return [...document.querySelectorAll('#rfchart text')].map(t => { const r = t.getBoundingClientRect();
          return [t.textContent, r.left - s.left, r.right - s.right, r.top - s.top, r.bottom - s.bottom]; }); }""")
    assert {"layer", "RF size (input px)", "stride (input px)"} <= {t[0] for t in texts}
    assert all(t[1] >= -1 and t[2] <= 1 and t[3] >= -1 and t[4] <= 1 for t in texts), texts
    # click the MACs of conv1: its formula, numbers put in, in a popover inside the viewport
    want = next(line.strip().split("   [")[0] for line in _api(server, "zoo:resnet50")["layers"][0]["explain"]
                if line.strip().startswith("macs ="))
    page.locator("#layers tbody tr:nth-child(1) td[data-col='macs']").click()
    pop = page.locator("#explain")
    expect(pop).to_be_visible()
    expect(page.locator("#explain-body")).to_contain_text(want)
    assert _inside(pop.bounding_box(), vw, height), (pop.bounding_box(), vw, height)
    assert pop.bounding_box()["width"] >= min(320, vw - 16)                       # a readable width
    assert page.locator("#explain-body .fline.hl code").first.evaluate(
        "c => getComputedStyle(c).fontFamily").lower().find("mono") >= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-popover-{width}.png"))
    page.keyboard.press("Escape")
    expect(pop).to_be_hidden()
    # a total and a bar open their formula too, also inside the viewport
    page.locator("#totals .tile[data-total='params']").click()
    expect(page.locator("#explain-body")).to_contain_text("params = sum over the")
    assert _inside(pop.bounding_box(), vw, height)
    page.keyboard.press("Escape")
    page.locator("#bars .bar").nth(1).click()
    expect(page.locator("#explain-title")).to_contain_text("Params")
    assert _inside(pop.bounding_box(), vw, height)
    page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / f"web-page-{width}.png"), full_page=True)
    assert page.errors == []


def test_keyboard_moves_opens_and_closes(browser, server):
    from playwright.sync_api import expect
    page = _open(browser, server, 1440)
    page.locator("#layers tbody tr:nth-child(1) td.c-name").click()
    page.keyboard.press("ArrowRight")           # kind
    page.keyboard.press("ArrowRight")           # output shape
    page.keyboard.press("ArrowRight")           # params
    page.keyboard.press("ArrowDown")            # maxpool? row 2
    page.keyboard.press("ArrowUp")
    focused = page.evaluate("[document.activeElement.dataset.row, document.activeElement.dataset.col]")
    assert focused == ["0", "params"]
    page.keyboard.press("Enter")
    expect(page.locator("#explain")).to_be_visible()
    expect(page.locator("#explain-body")).to_contain_text("params = (5*5*1 + 1)*32 = 832")
    page.keyboard.press("ArrowRight")           # the popover follows the cursor
    expect(page.locator("#explain-title")).to_contain_text("MACs")
    page.keyboard.press("Escape")
    expect(page.locator("#explain")).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.col") == "macs"          # focus comes back
    assert page.locator("#layers td[tabindex='0']").count() == 1                  # one tab stop in the grid
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#layers tbody')") is None


def test_gutter_follows_the_text_and_marks_the_error_line(browser, server):
    from playwright.sync_api import expect
    page = _open(browser, server, 1440)
    lines = ["input(3, 32, 32)"] + ["conv2d(8, 3, padding=1)" if i % 2 else "relu" for i in range(2, 50)]
    lines += ["conv2d(8, 3, strid=1)"] + ["relu"] * 10
    spec = "\n".join(lines)
    assert len(lines) == 60
    err = _api(server, spec)
    assert err["line"] == 50
    _set_spec(page, spec)
    expect(page.locator("#status.error")).to_contain_text("did you mean 'stride'")
    expect(page.locator("#status")).to_contain_text("line 50")
    # results of the last good network stay, dimmed, under the error
    assert "stale" in page.locator("#resultbody").get_attribute("class")
    assert page.locator("#status").bounding_box()["y"] < page.locator("#resultbody").bounding_box()["y"]
    assert page.input_value("#spec") == spec                                       # nothing typed is lost
    page.locator("#spec").evaluate("t => { t.scrollTop = t.scrollHeight; }")
    expect(page.locator("#gutter .gl.err")).to_have_text("▶50")
    page.wait_for_timeout(100)
    geo = page.evaluate("""() => { const t = document.querySelector('#spec'), cs = getComputedStyle(t);
        const r = t.getBoundingClientRect(), lh = parseFloat(cs.lineHeight);
        return { expected: r.top + parseFloat(cs.paddingTop) + 49 * lh - t.scrollTop, lh, scrolled: t.scrollTop,
                 top: r.top, bottom: r.top + t.clientHeight }; }""")
    assert geo["scrolled"] > 200                                                  # really scrolled down
    mark = page.locator("#gutter .gl.err").bounding_box()
    line = page.locator("#mirror .errline").bounding_box()
    assert abs(mark["y"] - geo["expected"]) <= 1 and abs(line["y"] - geo["expected"]) <= 1, (mark, line, geo)
    assert geo["top"] <= mark["y"] <= geo["bottom"]                               # in view, beside its line
    nxt = page.locator("#gutter .gl", has_text=re.compile(r"^51$")).bounding_box()
    assert abs(nxt["y"] - mark["y"] - geo["lh"]) <= 1
    assert page.inner_text("#mirror .errmark") == lines[49][err["column"] - 1]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-error-line-50.png"))
    # fixed: the dimming goes, the mark goes
    _rendered(page, lambda: _set_spec(page, spec.replace("strid=", "stride=")))
    assert "stale" not in (page.locator("#resultbody").get_attribute("class") or "")
    assert page.locator("#gutter .gl.err").count() == 0 and page.locator("#mirror .errline").count() == 0


def test_server_and_network_errors_are_told_apart(browser, server):
    from playwright.sync_api import expect
    page = _open(browser, server, 1440)
    status = page.locator("#status")
    page.route("**/api/analyze", lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(
        {"message": "the analysis ran past its time limit (10 s) and was stopped", "kind": "limit", "line": None})))
    _set_spec(page, "input(3, 8, 8) | relu")
    expect(status).to_contain_text("Server error (HTTP 503)")
    expect(status).to_contain_text("ran past its time limit")
    page.unroute("**/api/analyze")
    page.route("**/api/analyze", lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>bad gateway</h1>"))
    _set_spec(page, "input(3, 8, 8) | relu | relu")
    expect(status).to_contain_text("Server error (HTTP 502)")
    assert page.locator("#status h1").count() == 0                                # an HTML body is not HTML here
    page.unroute("**/api/analyze")
    page.route("**/api/analyze", lambda route: route.abort("connectionrefused"))
    _set_spec(page, "input(3, 8, 8) | relu | relu | relu")
    expect(status).to_contain_text("Network error")
    expect(status).to_contain_text("cannot reach the cnncalc server")
    page.unroute("**/api/analyze")
    _set_spec(page, "input(3, 8, 8) | conv2d(4, 3, strid=1)")
    expect(status).to_contain_text("Spec error")
    assert "Network" not in status.inner_text() and "Server" not in status.inner_text()
    _rendered(page, lambda: _set_spec(page, "input(3, 8, 8) | conv2d(4, 3)"))
    expect(status).not_to_have_class("error")


def test_resnet152_re_renders_in_under_100ms(browser, server):
    page = _open(browser, server, 1440)
    first = _rendered(page, lambda: page.select_option("#zoo", "resnet152"))
    assert page.evaluate("document.documentElement.dataset.rows") == "515"
    times = [_rendered(page, lambda d=d: page.select_option("#dtype", d))
             for d in ("float16", "float32", "bfloat16", "float32", "float16", "float32")]
    measures = page.evaluate("performance.getEntriesByName('cnncalc:render').map(m => m.duration)")
    assert [round(m, 1) for m in measures[-6:]] == [round(t, 1) for t in times]
    print(f"\nResNet-152: first render {first:.1f} ms; re-renders {', '.join(f'{t:.1f}' for t in times)} ms")
    # every number changed (bytes at a new dtype) and the page was redrawn: the median stays under 100 ms
    assert statistics.median(times) < 100, times


def test_ten_thousand_layers(browser, server):
    from playwright.sync_api import expect
    page = _open(browser, server, 1440, 1000)
    spec = "input(3, 32, 32)\n" + "conv2d(8, 3, padding=1) | relu\n" * 5000
    t0 = time.perf_counter()
    ms = _rendered(page, lambda: _set_spec(page, spec), timeout=60_000)
    total = time.perf_counter() - t0
    dom = page.evaluate("""() => ({ rows: document.querySelectorAll('#layers tbody tr').length,
        bars: document.querySelectorAll('#bars .bar').length, boxes: document.querySelectorAll('#graph .node').length,
        gutter: document.querySelectorAll('#gutter .gl').length, all: document.getElementsByTagName('*').length,
        paint: +document.documentElement.dataset.paintMs })""")
    print(f"\n10,000 layers: render {ms:.0f} ms (painted {dom['paint']:.0f} ms) after the response; {total:.1f} s from "
          f"typing to drawn (server analysis included); DOM: {dom}")
    assert page.evaluate("document.documentElement.dataset.rows") == "10000"
    assert ms < 2000
    assert dom["rows"] <= 200 and dom["bars"] <= 100 and dom["boxes"] <= 100 and dom["gutter"] <= 200
    assert dom["all"] < 5000
    # usable: the last row is reachable, the header stays, the row count in the DOM stays small
    wrap = page.locator("#tablewrap")
    wrap.evaluate("w => { w.scrollTop = w.scrollHeight; }")
    expect(page.locator("#layers tbody tr[data-row='9999']")).to_be_attached()
    assert page.locator("#layers tbody tr").count() <= 200
    assert abs(page.locator("#layers thead th").first.bounding_box()["y"] - wrap.bounding_box()["y"]) <= 1
    page.locator("#layers tbody tr[data-row='9990'] td[data-col='macs']").click()
    expect(page.locator("#explain-title")).to_contain_text("conv2d_4996")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-10000-layers.png"))
    assert page.errors == []


def test_no_request_leaves_the_origin(browser, server, tmp_path):
    from playwright.sync_api import expect
    page = _open(browser, server, 1440)
    _rendered(page, lambda: page.select_option("#zoo", "googlenet"))
    page.locator("#layers tbody tr:nth-child(1) td[data-col='params']").click()
    keras = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                                            "padding": "valid", "use_bias": True, "activation": "relu"}}]}}
    (tmp_path / "m.json").write_text(json.dumps(keras))
    _rendered(page, lambda: page.set_input_files("#upload", str(tmp_path / "m.json")))
    expect(page.locator("#totals")).to_contain_text("112")
    page.goto(server + "/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator(".info .title")).to_contain_text("cnncalc")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-docs.png"))
    foreign = [u for u in page.requests if not (u.startswith(server + "/") or u.startswith(("data:", "blob:")))]
    assert foreign == [], foreign
    assert any(u.endswith("/static/swagger-ui-bundle.js") for u in page.requests)
    assert page.errors == [], page.errors                                          # no CSP violation either


@pytest.mark.parametrize("model", ["resnet50", "googlenet", "inception_v3", "unet"])
def test_graph_edges_never_cross_a_box(browser, server, model):
    """The layout as drawn (boxes and each edge's curves, sampled): no edge passes through a box, no two boxes
    overlap, and every label fits its box."""
    page = _open(browser, server, 1440)
    found = page.evaluate("""async (spec) => {
      const g = await import('/static/graph.js');
      const rep = await (await fetch('/api/analyze', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ spec }) })).json();
      const { boxes, edges } = g.geometry(rep);
      const hits = [], overlaps = [];
      const inside = (x, y) => boxes.findIndex(b => x > b.x + 0.5 && x < b.x + b.w - 0.5 && y > b.y + 0.5 && y < b.y + b.h - 0.5);
      edges.forEach((p, e) => {
        for (let k = 1; k < p.length; k++) {
          const [x0, y0] = p[k - 1], [x1, y1] = p[k], ym = (y0 + y1) / 2;
          for (let s = 0; s <= 32; s++) {
            const t = s / 32, u = 1 - t;   // the cubic the page draws: (x0,y0) (x0,ym) (x1,ym) (x1,y1)
            const x = x0 === x1 ? x0 : u*u*u*x0 + 3*u*u*t*x0 + 3*u*t*t*x1 + t*t*t*x1;
            const y = x0 === x1 ? y0 + (y1 - y0) * t : u*u*u*y0 + 3*u*u*t*ym + 3*u*t*t*ym + t*t*t*y1;
            const b = inside(x, y);
            if (b >= 0) { hits.push([e, b, x, y]); break; }
          }
        }
      });
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push([i, j]);
      }
      return { n: boxes.length, edges: edges.length, hits: hits.slice(0, 5), overlaps: overlaps.slice(0, 5),
               nhits: hits.length, branching: rep.layers.some(l => (l.input_indices || []).length > 1) };
    }""", "zoo:" + model)
    assert found["branching"] and found["edges"] >= found["n"]
    assert found["nhits"] == 0, found
    assert found["overlaps"] == [], found
    _rendered(page, lambda: page.select_option("#zoo", model))
    labels = page.evaluate("""() => [...document.querySelectorAll('#graph .node')].map(g => {
        const r = g.querySelector('rect').getBoundingClientRect();
        return [...g.querySelectorAll('text')].every(t => { const b = t.getBoundingClientRect();
          return b.left >= r.left - 0.5 && b.right <= r.right + 0.5; }); })""")
    assert labels and all(labels)
    page.locator("#graphwrap").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#graphwrap").screenshot(path=str(ARTIFACTS / f"web-graph-{model}.png"))


def test_dark_theme_follows_the_system(browser, server):
    light = _open(browser, server, 1440)
    dark = _open(browser, server, 1440, scheme="dark")
    bg = "getComputedStyle(document.body).backgroundColor"
    lum = lambda c: sum(int(v) for v in re.findall(r"\d+", c)[:3])                 # noqa: E731
    assert lum(dark.evaluate(bg)) < 150 < lum(light.evaluate(bg))
    ARTIFACTS.mkdir(exist_ok=True)
    dark.locator("#layers tbody tr:nth-child(2) td[data-col='flops']").click()
    dark.screenshot(path=str(ARTIFACTS / "web-dark-1440.png"))
    fonts = light.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in fonts and "PingFang SC" in fonts and "Microsoft YaHei" in fonts


def test_training_panel(browser, server):
    """The training switch: the panel shows the API's own numbers for the step, and its timeline is drawn."""
    import base64

    import httpx
    from playwright.sync_api import expect
    spec = "zoo:resnet18"
    api = httpx.post(server + "/api/analyze", json={"spec": spec, "batch": 16, "train": True, "optimizer": "adam"},
                     timeout=60).json()["training"]
    s = base64.urlsafe_b64encode(spec.encode()).decode().rstrip("=")
    page = _open(browser, server, 1440, path=f"/#s={s}&c=pytorch&b=16&d=float32&t=1&o=adam")
    panel = page.locator("#training-panel")
    expect(panel).to_contain_text(f"{api['peak_bytes']:,} B", timeout=60_000)
    expect(panel).to_contain_text("adam")
    assert page.locator("#training-panel .train-timeline path").count() == 1
    assert page.locator("#train").is_checked() and page.locator("#optimizer").input_value() == "adam"
    panel.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "web-training-panel.png"))
    page.locator("#train").uncheck()                         # off again: the panel goes away
    expect(panel).to_be_hidden(timeout=30_000)
    assert page.errors == []


def test_language_switch_and_practice(browser, server):
    """中文: the table's headers and the explanations in Chinese; practice: a problem, the server's answer typed
    in, judged right, the worked solution shown."""
    import httpx
    from playwright.sync_api import expect
    page = _open(browser, server, 1440)
    page.select_option("#lang", "zh")
    expect(page.locator("#layers thead")).to_contain_text("参数量", timeout=30_000)
    expect(page.locator("#totals")).to_contain_text("乘加次数")
    page.click("#layers tbody tr:nth-child(1) td.c-params")
    expect(page.locator("#explain")).to_contain_text("参数量", timeout=10_000)
    assert "l=zh" in page.url                                     # the language is part of a shared link
    page.keyboard.press("Escape")
    page.click("#practice-open")
    expect(page.locator("#practice-question")).to_contain_text("#", timeout=30_000)
    seed = page.inner_text("#practice-question").split("·")[0].strip().lstrip("#")
    topic = page.input_value("#practice-topic")
    want = httpx.get(server + "/api/practice", params={"topic": topic, "seed": seed, "lang": "zh"}).json()
    page.fill("#practice-answer", want["answer_text"])
    page.click("#practice-check")
    expect(page.locator("#practice-verdict")).to_contain_text("答对了", timeout=10_000)
    last = want["answer"][-1] if isinstance(want["answer"], list) else want["answer"]
    expect(page.locator("#practice-solution")).to_contain_text(f"{last:,}")   # the worked solution ends on it
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-zh-practice.png"))
    assert page.errors == []
