"""Big reports: the terminal table is written directly above 1,000 rows (rich lays out about 1 ms a row), with
the same cells as the rich table; JSON and CSV stay linear."""
import time

import cnncalc
from cnncalc.report.table import FAST_ROWS, build_table, plain_lines, render_text


def test_plain_table_has_the_rich_tables_cells():
    r = cnncalc.analyze(open("examples/mnist.txt").read())
    plain = "\n".join(plain_lines(r))
    table = build_table(r)
    for col in table.columns:                               # every cell of every column, as rich would show it
        for cell in col._cells:
            assert str(cell) in plain
    assert plain.splitlines()[0] == table.title


def test_ten_thousand_rows_in_about_a_second():
    spec = "input(64)\n" + "dense(64) | relu\n" * 5000          # 10,000 layers
    r = cnncalc.analyze(spec)
    assert len(r.layers) == 10_000 > FAST_ROWS
    t0 = time.perf_counter()
    text = render_text(r)
    took = time.perf_counter() - t0
    rows = [line for line in text.splitlines() if line.strip().split(" ")[0].isdigit()]
    assert len(rows) == 10_001                                # the input row and every layer
    assert "41,280,000" in text                               # the FLOPs total: 5,000 x (8,192 + 64)
    t0 = time.perf_counter()
    r.to_json()
    r.to_csv()
    assert took < 3 and time.perf_counter() - t0 < 3          # generous: the machine is shared; ~0.3 s here
