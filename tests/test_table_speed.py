"""Big reports: the terminal table is written directly above FAST_ROWS (200) rows (rich lays out 1-2 ms a row), with
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


def test_natural_width_is_richs_own_measure():
    """The piped table's width is taken from the directly written lines, not from rich's measuring pass (which
    lays out every cell once more): both must agree, for every column set, language and kind of report."""
    import io

    from rich.console import Console

    from cnncalc.report.table import ALL_COLUMNS, DEFAULT_COLUMNS, MODEL_COLUMNS, natural_width

    def richs_measure(table) -> int:                        # the oracle: rich's own measuring pass
        return Console(width=1000, file=io.StringIO()).measure(table).maximum + 1
    reports = [cnncalc.analyze(open("examples/mnist.txt").read()),
               cnncalc.analyze(open("examples/mnist.txt").read(), train=True, optimizer="adam"),
               cnncalc.analyze('input(3, 8, 8)\nfirst_convolution_layer: conv2d(4, 3)\nrelu')]
    for r in reports:
        for lang in ("en", "zh"):
            for columns in (DEFAULT_COLUMNS, ALL_COLUMNS, MODEL_COLUMNS):
                assert natural_width(r, columns, lang) == richs_measure(build_table(r, columns, lang))


def test_plain_table_is_richs_text():
    """Above FAST_ROWS the table is written directly: the text must be rich's own (piped, no colours), line for
    line, whatever the columns, the language or the kind of report."""
    import io

    from rich.console import Console

    from cnncalc.report.table import ALL_COLUMNS, DEFAULT_COLUMNS, natural_width
    reports = [cnncalc.analyze(open("examples/mnist.txt").read()), cnncalc.analyze("zoo:densenet121"),
               cnncalc.analyze(open("examples/mnist.txt").read(), train=True, optimizer="adam")]
    assert len(reports[1].layers) > FAST_ROWS
    for r in reports:
        for lang in ("en", "zh"):
            for columns in (DEFAULT_COLUMNS, ALL_COLUMNS):
                buf = io.StringIO()
                console = Console(file=buf, width=max(100, natural_width(r, columns, lang)), color_system=None,
                                  force_terminal=False, legacy_windows=False)
                console.print(build_table(r, columns, lang))
                rich_lines = [line.rstrip() for line in buf.getvalue().splitlines()]
                assert rich_lines == [line.rstrip() for line in plain_lines(r, columns, lang)][:len(rich_lines)]
