"""The command line: ``cnncalc summary SPEC`` and friends.

Bad input never shows a traceback: one message naming the layer, line and
column (with the line and a caret), exit code 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from .errors import SpecError

EPILOG = """\
columns (per layer, and summed in the totals):
  params        parameters; trainable / non-trainable split as the convention counts them
                (PyTorch BatchNorm: 2C params, running stats are buffers; Keras: 4C, 2C non-trainable)
  macs          multiply-accumulates of conv, dense and recurrent layers (bias excluded): the number
                torchvision publishes as "GFLOPS" and torch.utils.flop_counter reports divided by 2
  mults, adds   exact multiplications and additions of those layers, bias additions included
  flops         every floating-point operation: mults + adds, plus normalisation, activation,
                pooling and elementwise ops by the per-element table in docs/definitions.md
  activations   bytes of each layer's output at --dtype;  param mem: bytes of its parameters
  rf            receptive field per spatial dim: size r, stride S, effective padding P, centre of the
                first output unit -P + (r-1)/2 (Araujo et al., Distill 2019); 'global' = whole input

examples:
  cnncalc summary "input(1, 28, 28) | conv2d(32, 5) | relu | maxpool2d(2) | flatten | dense(10)"
  cnncalc summary "input(3, 100, 100) | conv2d(10, 3, stride=2, padding=1)" --explain
  cnncalc summary net.yaml --convention keras --batch 8 --dtype float16 --format json
"""


def _spec_arg(value: str):
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    p = argparse.ArgumentParser(prog="cnncalc", description="Exact shapes, parameters, MACs/FLOPs, memory and "
                                "receptive fields of a neural network -- with every formula explained.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"cnncalc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("summary", help="analyse a network: table, JSON, CSV or Markdown",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
                       description="Analyse SPEC: inline text (layers separated by '|' or new lines) or a "
                                   ".txt/.yaml/.json file.")
    s.add_argument("spec", metavar="SPEC", help="the network: inline text or a file path ('-' reads stdin)")
    s.add_argument("-c", "--convention", default="pytorch",
                   help="pytorch (default), keras (alias tensorflow), caffe or onnx")
    s.add_argument("-b", "--batch", type=int, default=None, help="batch size (default: 1)")
    s.add_argument("--dtype", default="float32", help="float32 (default), float16, bfloat16, int8, float64")
    s.add_argument("-f", "--format", default="table", choices=("table", "json", "csv", "markdown"))
    s.add_argument("-e", "--explain", nargs="?", const=True, default=False, metavar="LAYER",
                   help="write every number's formula with the values put in (optionally for one layer)")
    s.add_argument("--wide", action="store_true", help="table: show every column")
    s.add_argument("-o", "--output", help="write to this file instead of standard output")
    sub.add_parser("layers", help="list every layer kind with its spellings and arguments")
    z = sub.add_parser("zoo", help="list the classic networks shipped as specs (use them as zoo:NAME)")
    z.add_argument("name", nargs="?", help="print this model's spec")
    return p


def _read_spec(spec: str) -> tuple[object, str | None]:
    """(what to analyse, the text for caret display)."""
    if spec == "-":
        text = sys.stdin.read()
        return text, text
    if os.path.isfile(spec):
        try:
            with open(spec, encoding="utf-8") as f:
                return spec, f.read()
        except OSError:
            return spec, None
    return spec, spec


def _print_error(err: SpecError, text: str | None) -> None:
    print(f"cnncalc: error: {err}", file=sys.stderr)
    if text and err.line:
        lines = text.splitlines() or [""]
        if 1 <= err.line <= len(lines):
            src = lines[err.line - 1]
            print(f"  {err.line} | {src}", file=sys.stderr)
            if err.column:
                print(f"  {' ' * len(str(err.line))} | {' ' * (err.column - 1)}^", file=sys.stderr)


def cmd_summary(args) -> int:
    from .analysis import analyze
    from .report.table import ALL_COLUMNS, DEFAULT_COLUMNS, print_report
    spec, text = _read_spec(args.spec)
    if args.batch is not None and args.batch < 1:
        raise SpecError(f"--batch must be >= 1, got {args.batch}")
    try:
        report = analyze(spec, convention=args.convention, batch=args.batch, dtype=args.dtype)
    except SpecError as err:
        _print_error(err, text)
        return 2
    if args.explain:
        out = report.explain(None if args.explain is True else _layer_key(args.explain))
    elif args.format == "json":
        out = report.to_json()
    elif args.format == "csv":
        out = report.to_csv()
    elif args.format == "markdown":
        out = report.to_markdown()
    else:
        columns = ALL_COLUMNS if args.wide else DEFAULT_COLUMNS
        if args.output:
            out = report.table(columns=columns)
        else:
            print_report(report, columns=columns)
            return 0
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(out if out.endswith("\n") else out + "\n")
    else:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def cmd_zoo(args) -> int:
    from . import zoo
    if args.name:
        sys.stdout.write(zoo.get(args.name).text)
        return 0
    from rich.console import Console
    from rich.table import Table
    t = Table(title="cnncalc zoo: cnncalc summary zoo:NAME", title_justify="left")
    t.add_column("name", no_wrap=True)
    t.add_column("input", no_wrap=True)
    t.add_column("description")
    for m in zoo.models():
        t.add_row(m.name, m.input, m.description)
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(t)
    return 0


def _layer_key(v: str):
    return int(v) - 1 if v.isdigit() else v


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "summary":
            return cmd_summary(args)
        if args.command == "zoo":
            return cmd_zoo(args)
        if args.command == "layers":
            from .report.reference import layers_markdown
            sys.stdout.write(layers_markdown())
            return 0
    except SpecError as err:
        _print_error(err, None)
        return 2
    except KeyError as err:
        print(f"cnncalc: error: no layer {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
