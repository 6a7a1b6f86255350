"""A Report in Jupyter: ``_repr_html_`` is the web page's table, every string escaped."""
import json
import re
from html.parser import HTMLParser

import cnncalc
from cnncalc.report.html import COLUMNS, share, to_html

EVIL = "<script>alert(1)</script>"
EVIL2 = 'x" onmouseover="alert(2)" \'><img src=x onerror=alert(3)>'


class _Table(HTMLParser):
    """Cells of the HTML as text, and every tag and attribute seen."""

    def __init__(self):
        super().__init__()
        self.rows, self.tags, self.attrs, self._row, self._cell = [], [], [], None, None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(html):
    p = _Table()
    p.feed(html)
    return p


def test_repr_html_escapes_every_name():
    spec = json.dumps([{"input": [1, 8, 8]}, {"type": "conv2d", "filters": 4, "kernel_size": 3, "name": EVIL},
                       {"type": "relu", "name": EVIL2}])
    report = cnncalc.analyze(spec)
    html = report._repr_html_()
    assert "<script>" not in html and "<img" not in html and 'onmouseover="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = _parse(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert set(parsed.attrs) <= {"class", "title", "colspan"}                        # no injected attribute
    names = [row[1] for row in parsed.rows[1:-1]]
    assert names == [EVIL, EVIL2]                                                   # shown as those characters


def test_repr_html_has_the_numbers_of_the_table():
    report = cnncalc.analyze(open("examples/mnist.txt").read())
    rows = _parse(report._repr_html_()).rows
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head == [label for _, label, _ in COLUMNS]
    assert len(body) == len(report.layers)
    col = {key: i for i, (key, _, _) in enumerate(COLUMNS)}
    t = report.totals
    for row, layer in zip(body, report.layers):
        assert row[col["index"]] == str(layer.index) and row[col["name"]] == layer.name
        assert row[col["output_shape"]] == "(" + ", ".join(map(str, layer.output_shape)) + ")"
        for key in ("params", "macs", "flops", "mults", "adds", "activation_bytes", "param_bytes"):
            value = getattr(layer, key)
            part = share(value, getattr(t, key)) if key in ("params", "macs", "flops", "activation_bytes") else ""
            assert row[col[key]] == (f"{value:,} {part}" if part else f"{value:,}"), (layer.name, key, row)
    assert total[col["name"]] == "Total" and total[col["params"]] == "217,706"
    assert total[col["macs"]] == f"{t.macs:,}" and total[col["flops"]] == f"{t.flops:,}"
    assert body[0][col["rf"]] == "5x5 /1x1" and body[-1][col["rf"]] == "global"


def test_share_is_the_pages_share():
    assert share(0, 10) == "" and share(5, 0) == "" and share(1, 3) == "33.3%" and share(1, 10_000) == "<0.1%"


def test_big_reports_are_cut_with_a_note_and_full_totals():
    report = cnncalc.analyze("input(8) | relu * 30")
    html = to_html(report, max_rows=10)
    rows = _parse(html).rows
    assert len(rows) == 1 + 10 + 1 + 1                                              # head, 10 rows, note, total
    assert re.search(r"20 more layers", html)
