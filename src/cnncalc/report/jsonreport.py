"""A report's JSON text -- ``json.dumps(report.to_dict(), indent=2)``, character for character -- written from the
rows themselves: the 10,000 rows of a long spec in about a tenth of the time of dumping their dicts.

Rows share their values: the shape tuples of a repeated layer, the receptive-field view of every layer that
keeps it.  Each shared tuple and view is written once and its text reused (keyed by the object, which the report
keeps alive); numbers and names are written directly; the keys are written once.  The row's fields are those of
:meth:`LayerReport.to_dict`, in its order (``ROW_FIELDS``; tests/test_report.py checks both against each other
and the text against ``json.dumps`` on many reports).  Reports with a training step or explanations take the
general writer (``jsontext.dumps`` of ``to_dict()``).
"""
from __future__ import annotations

from json.encoder import encode_basestring_ascii as _string

from .jsontext import _Other, _scalar, _write, dumps

#: LayerReport.to_dict's keys, in order, with how each value is written: "int" (a number, or None), "str",
#: "strs" (a tuple of names), "shape" (a tuple of numbers, or None), "shapes" (a tuple of shapes), "rf", "msgs"
ROW_FIELDS = (
    ("index", "int"), ("name", "str"), ("kind", "str"), ("label", "str"), ("inputs", "strs"),
    ("input_shapes", "shapes"), ("live_bytes", "int"), ("depth", "int"), ("input_indices", "shape"),
    ("input_shape", "shape"), ("output_shape", "shape"), ("kernel_shape", "shape"), ("params", "int"),
    ("trainable_params", "int"), ("non_trainable_params", "int"), ("buffers", "int"), ("macs", "int"),
    ("flops", "int"), ("mults", "int"), ("adds", "int"), ("activation_bytes", "int"), ("param_bytes", "int"),
    ("buffer_bytes", "int"), ("rf", "rf"), ("warnings", "strs"), ("line", "int"),
)


def report_json(report, indent: int = 2) -> str:
    """The report's JSON text (no training step, no explanations)."""
    data = report.to_dict(layers=False)
    data["layers"] = _LAYERS                    # a placeholder, replaced by the rows' text
    step = " " * indent
    try:
        head = dumps(data, indent)
        rows = _rows(report.layers, "\n" + step * 2, step)
    except _Other:                              # a value the fast writer does not know: the general one
        return dumps(report.to_dict(), indent)
    return head.replace(_PLACEHOLDER, rows, 1)


_LAYERS = "\x00layers\x00"                      # a string no report holds
_PLACEHOLDER = _string(_LAYERS)


def _rows(layers, nl: str, step: str) -> str:
    """The text of the "layers" list, its rows at the indentation ``nl``."""
    if not layers:
        return "[]"
    inner = nl + step
    write_row = _row_writer(inner, step)
    out = ["["]
    sep = nl
    for layer in layers:
        out.append(sep)
        sep = "," + nl
        write_row(layer.__dict__, layer, out)
        out.append(nl + "}")
    out.append(nl[:-len(step)] + "]")           # the list closes at its key's indentation
    return "".join(out)


def _row_writer(inner: str, step: str):
    """A function writing one row (its fields in ROW_FIELDS' order) at the indentation ``inner``: generated
    once per report -- the row's keys and separators are one format string, each value one expression."""
    deeper = inner + step
    # the texts of shared values, by indentation: a shape (by value) in a row and in its input_shapes, a
    # receptive-field view (by object)
    ns = {"_scalar": _scalar, "_string": _string, "_ints": _ints, "_shapes": _shapes, "_rf": _rf, "inner": inner,
          "deeper": deeper, "step": step, "str_sep": "," + deeper, "at_row": {}, "in_list": {}, "views": {},
          "rf_lists": {}}
    fmt, reads, values = [], [], []
    for i, (name, how) in enumerate(ROW_FIELDS):
        fmt.append(("{" if i == 0 else ",") + inner + _string(name).replace("%", "%%") + ": %s")
        reads.append(f"    v{i} = d[{name!r}] if {name!r} in d else layer.{name}")
        v = f"v{i}"
        if how == "int":
            values.append(f"{v} if type({v}) is int else _scalar({v})")
        elif how == "str":
            values.append(f"_string({v}) if type({v}) is str else _scalar({v})")
        elif how == "strs":
            values.append(f"('[' + deeper + str_sep.join(map(_string, {v})) + inner + ']' if {v} else '[]')")
        else:
            call = {"shape": f"_ints({v}, at_row, inner, step)", "shapes": f"_shapes({v}, in_list, inner, step)",
                    "rf": f"_rf({v}, views, rf_lists, inner, step)"}[how]
            values.append(f"'null' if {v} is None else {call}")
    ns["FMT"] = "".join(fmt)
    lines = ["def write_row(d, layer, out):", *reads,
             "    out.append(FMT % (" + ", ".join(f"({e})" for e in values) + ",))"]
    exec("\n".join(lines), ns)                  # noqa: S102 -- code built from ROW_FIELDS only
    return ns["write_row"]


def _ints(v, cache, nl, step) -> str:
    """A shape (a tuple of whole numbers) at the indentation ``nl``: one number a line."""
    if not v:
        return "[]"
    try:
        got = cache.get(v)
    except TypeError:                           # not hashable: a list inside
        got = None
    if got is None:
        deeper = nl + step
        if all(type(x) is int for x in v):
            got = "[" + deeper + ("," + deeper).join(map(int.__repr__, v)) + nl + "]"
            cache[v] = got
        else:
            got = _text(list(v), nl, step)
    return got


def _shapes(v, cache, nl, step) -> str:
    """A tuple of shapes at the indentation ``nl`` (``cache``: the shapes' texts one level deeper)."""
    if not v:
        return "[]"
    deeper = nl + step
    return "[" + deeper + ("," + deeper).join([_ints(s, cache, deeper, step) if s is not None else "null"
                                               for s in v]) + nl + "]"


_RF_LISTS = ("size", "stride", "padding", "center")


def _rf(v, cache, lists, nl, step) -> str:
    """A receptive-field view (ReceptiveField.to_dict's text) at the indentation ``nl``; ``lists``: the texts of
    its lists of whole numbers, by value (strides and paddings repeat from view to view)."""
    got = cache.get(id(v))                      # a view is shared by the rows that keep it
    if got is None:
        inner = nl + step
        parts = []
        d = None
        for k in _RF_LISTS:
            x = getattr(v, k)
            if type(x) is tuple and x and all(type(i) is int for i in x):
                text = _ints(x, lists, inner, step)
            else:                               # fractions, None: as to_dict writes them
                d = d or v.to_dict()
                text = _text(d[k], inner, step)
            parts.append(f'"{k}": {text}')
        parts.append('"global": ' + ("true" if v.is_global else "false"))
        parts.append('"approximate": ' + ("true" if v.approximate else "false"))
        got = cache[id(v)] = ("{" + inner + ("," + inner).join(parts) + nl + "}", v)
    return got[0]


def _text(v, nl: str, step: str) -> str:
    out: list = []
    _write(v, out, nl, step)
    return "".join(out)
