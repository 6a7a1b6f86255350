"""The command line: ``cnncalc summary SPEC`` and friends.

Bad input never shows a traceback: one message naming the layer, line and
column (with the line and a caret), exit code 2.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from .errors import SpecError
from .i18n import Msg
from .sizes import parse_size as _parse_size

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


class _Parser(argparse.ArgumentParser):
    """argparse in the user's language (--lang, else LANG): its option errors through the message catalog; in
    English exactly argparse's own words."""

    argv = None                                     # main()'s arguments, to find --lang before parsing

    def error(self, message):
        lang = _argv_lang(_Parser.argv)
        if lang == "en":
            super().error(message)
        from .i18n import argparse_message, render, tr
        usage = self.format_usage().replace("usage: ", tr("argparse.usage", lang), 1)
        where = tr("err.prefix", lang).removeprefix("cnncalc")
        self.exit(2, f"{usage}{self.prog}{where}{render(argparse_message(message), lang)}\n")


def _argv_lang(argv) -> str:
    from .i18n import lang_from_env, norm_lang
    argv = sys.argv[1:] if argv is None else list(argv)
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return norm_lang(argv[i + 1]) or "en"
        if a.startswith("--lang="):
            return norm_lang(a[len("--lang="):]) or "en"
    return lang_from_env()


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    p = _Parser(prog="cnncalc", description="Exact shapes, parameters, MACs/FLOPs, memory and "
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
    s.add_argument("--input", action="append", metavar="SIZE",
                   help="for a model (SPEC = package.module:factory or a .onnx file): an input size such as "
                        "1x3x224x224, optionally with a dtype: 1x16:int64; repeat for several inputs")
    s.add_argument("--kwargs", default=None, metavar="JSON", help="for a model: keyword arguments of the factory")
    s.add_argument("--depth", type=int, default=3, help="for a model: how deep the module tree is shown (3)")
    s.add_argument("--train", action="store_true",
                   help="add one training step: saved activations, gradients, optimizer state, backward MACs, "
                        "the step's peak memory")
    s.add_argument("--optimizer", default="sgd", help="with --train: sgd (default), momentum, adam, adamw")
    s.add_argument("--amp", default=None, metavar="fp16|bf16", help="with --train: mixed precision")
    s.add_argument("--fit", default=None, metavar="SIZE",
                   help="the largest batch whose training step (and inference) fits in SIZE, e.g. 24GiB")
    s.add_argument("-o", "--output", help="write to this file instead of standard output")
    sub.add_parser("layers", help="list every layer kind with its spellings and arguments")
    e = sub.add_parser("export", help="write a spec as code: --to pytorch gives an nn.Module")
    e.add_argument("spec", metavar="SPEC", help="the network: inline text, a file, or zoo:NAME")
    e.add_argument("--to", default="pytorch", choices=("pytorch",), help="the target (pytorch)")
    e.add_argument("--class-name", default="Net", help="name of the generated class (Net)")
    e.add_argument("-o", "--output", help="write to this file instead of standard output")
    w = sub.add_parser("serve", help="the local web page: type a network, see every number, click one to see why")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only; 0.0.0.0 exposes "
                                                       "the API to the network)")
    w.add_argument("--port", type=int, default=8000)
    w.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another name the page may be reached by (its Host header); repeatable")
    w.add_argument("--time-limit", type=float, default=10.0, metavar="S", help="seconds one analysis may take")
    w.add_argument("--memory-limit", default="1GiB", metavar="SIZE", help="memory one analysis may add (1GiB)")
    w.add_argument("--open", action="store_true", help="open the page in a browser")
    z = sub.add_parser("zoo", help="list the classic networks shipped as specs (use them as zoo:NAME)")
    z.add_argument("name", nargs="?", help="print this model's spec")
    from .cli_tasks import add_lang, add_parsers
    add_lang(s)
    add_parsers(sub)
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
        except (OSError, UnicodeDecodeError):       # unreadable or binary (.keras, .onnx): no caret display
            return spec, None
    return spec, spec


def _print_error(err: SpecError, text: str | None, lang: str = "en") -> None:
    from .i18n import tr
    print(f"{tr('err.prefix', lang)}{err.render(lang)}", file=sys.stderr)
    if text and err.line:
        lines = text.splitlines() or [""]
        if 1 <= err.line <= len(lines):
            src = lines[err.line - 1]
            print(f"  {err.line} | {src}", file=sys.stderr)
            if err.column:
                print(f"  {' ' * len(str(err.line))} | {' ' * (err.column - 1)}^", file=sys.stderr)


MODEL_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def load_model(ref: str, kwargs_json: str | None, meta: bool = True):
    """Import package.module, call factory(**kwargs): the model to analyse (on the meta device where it can)."""
    import importlib
    import json
    mod_name, _, attr = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(mod_name)
    except Exception as e:  # noqa: BLE001 -- the user's module failed to import
        raise SpecError(Msg("err.cli.cannot_import", mod_name=mod_name, name=type(e).__name__, e=e)) from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            from .errors import did_you_mean
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise SpecError(Msg("err.cli.has_no", mod_name=mod_name, attr=attr, hint=did_you_mean(part, names)))
        obj = getattr(obj, part)
    try:
        kwargs = json.loads(kwargs_json) if kwargs_json else {}
    except json.JSONDecodeError as e:
        raise SpecError(Msg("err.cli.kwargs_not_json_column", msg=e.msg, colno=e.colno)) from None
    if not isinstance(kwargs, dict):
        raise SpecError(Msg("err.cli.kwargs_must_json_object_e"))
    if not callable(obj) or hasattr(obj, "named_modules"):
        return obj
    try:
        import torch
        if meta:
            with torch.device("meta"):    # no memory for the weights: a 7 B model's factory runs in a moment
                return obj(**kwargs)
    except Exception:  # noqa: BLE001 -- a factory that needs real tensors (loads weights, reads values): on the CPU
        pass
    try:
        return obj(**kwargs)
    except Exception as e:  # noqa: BLE001 -- the user's factory failed
        raise SpecError(Msg("err.cli.failed", ref=ref, kwargs=kwargs, name=type(e).__name__, e=e)) from None


def _analyze_model(args):
    """A model from a factory: in eval mode (training mode with --train), --batch rebinding every input's first
    dimension, --dtype the parameters' (and float inputs') dtype; --input NAME=SIZE passes a keyword input."""
    from dataclasses import replace

    from .api import analyze
    if not args.input:
        raise SpecError(Msg("err.cli.model_give_input_size_input", spec=args.spec))
    if args.convention != "pytorch":
        raise SpecError(Msg("err.cli.convention_text_specs_pytorch_model", convention=args.convention))
    import torch
    from .analysis import dtype_bytes
    dname, _ = dtype_bytes(args.dtype)
    float_dt = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                "float64": torch.float64}.get(dname)
    if float_dt is None:
        raise SpecError(Msg("err.cli.dtype_pytorch_model_s_parameters", dtype=args.dtype))
    sizes, dtypes, keyword = [], [], {}
    for text in args.input:
        name, eq, size_text = text.partition("=")
        if not eq:
            name, size_text = None, text
        dims, dt = _parse_size(size_text)
        if args.batch is not None:
            dims = (args.batch,) + tuple(dims[1:])
        if dt is not None and not isinstance(getattr(torch, dt, None), torch.dtype):
            raise SpecError(Msg("err.cli.input_unknown_dtype_e_g", text=repr(text), dt=dt))
        t = getattr(torch, dt) if dt else float_dt
        if name is None:
            sizes.append(dims)
            dtypes.append(t)
        elif not name.isidentifier():
            raise SpecError(Msg("err.cli.input_keyword_input_name_size", text=repr(text)))
        else:
            keyword[name] = torch.empty(dims, dtype=t, device="meta")
    mode = "training" if args.train else "eval"

    def run(model):
        model.train(args.train)               # the CLI built this model: eval mode unless training is asked for
        if float_dt is not torch.float32:
            model.to(float_dt)
        if sizes:
            return analyze(model, sizes if len(sizes) > 1 else sizes[0], dtypes=dtypes, depth=args.depth,
                           kwargs=keyword or None, **_train_kw(args))
        return analyze(model, input_data=keyword, depth=args.depth, **_train_kw(args))   # keyword inputs only
    from .frontends.torch import NeedsRealTensors
    try:
        report = run(load_model(args.spec, args.kwargs))
    except NeedsRealTensors:                  # its forward reads tensor values: built again, on the CPU
        report = run(load_model(args.spec, args.kwargs, meta=False))
    return replace(report, mode=mode)


def _spec_input(args) -> dict:
    """--input for a text spec without input(...): the input tensor, batch first, as for a model."""
    if not args.input:
        return {}
    if len(args.input) > 1:
        raise SpecError(Msg("err.cli.text_spec_takes_one_input"))
    return {"input_size": _parse_size(args.input[0])[0]}


def _is_onnx_path(spec: str) -> bool:
    return spec.lower().endswith(".onnx")


def _analyze_onnx(args):
    """An ONNX file: --input binds its dynamic dimensions (the model carries its own input dtypes)."""
    from .api import analyze
    sizes = [_parse_size(text)[0] for text in (args.input or [])]
    if args.batch is not None:                 # --batch rebinds the first dimension of every input
        sizes = [(args.batch,) + tuple(s[1:]) for s in sizes]
    size = None if not sizes else sizes[0] if len(sizes) == 1 else sizes
    return analyze(args.spec, size, depth=args.depth, **_train_kw(args))


def _train_kw(args) -> dict:
    if not args.train:
        for flag, value, default in (("--optimizer", args.optimizer, "sgd"), ("--amp", args.amp, None)):
            if value != default:
                raise SpecError(Msg("err.cli.applies_training_step_add_train", flag=flag))
        return {}
    return {"train": True, "optimizer": args.optimizer, "amp": args.amp}


def cmd_summary(args) -> int:
    from .api import analyze
    from .report.table import ALL_COLUMNS, print_report
    if args.batch is not None and args.batch < 1:
        raise SpecError(Msg("err.cli.batch_must", batch=args.batch))
    if args.fit:
        return _cmd_fit(args)
    is_model = bool(MODEL_REF.match(args.spec)) and not os.path.exists(args.spec) \
        and not args.spec.lower().startswith("zoo:")
    spec, text = (args.spec, None) if is_model else _read_spec(args.spec)
    from .cli_tasks import lang_of
    lang = lang_of(args)
    try:
        report = _analyze_model(args) if is_model else _analyze_onnx(args) if _is_onnx_path(args.spec) else \
            analyze(spec, convention=args.convention, batch=args.batch, dtype=args.dtype, **_train_kw(args),
                    **_spec_input(args))
    except SpecError as err:
        _print_error(err, text, lang)
        return 2
    if args.format == "json":
        out = report.to_json(explain=bool(args.explain))          # --explain adds each layer's "explain" lines
    elif args.explain:
        out = report.explain(None if args.explain is True else _layer_key(args.explain), lang=lang)
    elif args.format == "csv":
        out = report.to_csv()
    elif args.format == "markdown":
        out = report.to_markdown(lang=lang)
    else:
        columns = ALL_COLUMNS if args.wide else None
        if args.output:
            out = report.table(columns=columns, lang=lang)
        else:
            print_report(report, columns=columns, lang=lang)
            return 0
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(out if out.endswith("\n") else out + "\n")
    else:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def cmd_export(args) -> int:
    from .export.pytorch import to_pytorch
    spec, text = _read_spec(args.spec)
    try:
        src = to_pytorch(spec, class_name=args.class_name)
    except SpecError as err:
        _print_error(err, text)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(src)
    else:
        sys.stdout.write(src)
    return 0


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from .web.app import create_app
        from .web.worker import Limits
    except ImportError as e:
        raise SpecError(Msg("err.cli.cnncalc_serve_needs_web_extra", name=e.name)) from None
    from .sizes import parse_bytes
    from .web.serving import bind_socket
    if not 0 <= args.port <= 65535:
        raise SpecError(Msg("err.cli.port_port_number_from_default", port=args.port))
    if not 0 < args.time_limit <= 3600:
        raise SpecError(Msg("err.cli.time_limit_give_seconds_between", time_limit=args.time_limit))
    limits = Limits(time_s=args.time_limit, memory_bytes=parse_bytes(args.memory_limit, "--memory-limit"))
    sock = bind_socket(args.host, args.port)               # fails here, before anything claims to serve
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/"
    if args.host in ("0.0.0.0", "::", ""):
        print(f"cnncalc: warning: --host {args.host or '(all)'} makes the API reachable from the network: anyone "
              f"who can reach this machine can use it (analyses are sandboxed and limited, but consider "
              f"--host 127.0.0.1)", file=sys.stderr, flush=True)
    print(f"cnncalc serving on {url}  (API docs: {url}docs; Ctrl+C stops)", flush=True)
    if args.open:
        import threading
        import webbrowser
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    app = create_app(host=args.host, allow_hosts=args.allow_host, limits=limits)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
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
    _Parser.argv = argv
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "summary":
            return cmd_summary(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "zoo":
            return cmd_zoo(args)
        if args.command == "solve":
            from .cli_tasks import cmd_solve
            return cmd_solve(args, _print_error)
        if args.command == "practice":
            from .cli_tasks import cmd_practice
            return cmd_practice(args)
        if args.command == "layers":
            from .report.reference import layers_markdown
            sys.stdout.write(layers_markdown())
            return 0
    except SpecError as err:
        from .cli_tasks import lang_of
        try:
            lang = lang_of(args)
        except SpecError:
            lang = "en"
        _print_error(err, None, lang)
        return 2
    except KeyError as err:
        from .cli_tasks import lang_of
        from .i18n import tr
        lang = lang_of(args)
        print(f"{tr('err.prefix', lang)}{tr('err.cli.no_layer', lang, err=err)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 -- a bug of ours: one line, never a traceback, unless asked for
        if os.environ.get("CNNCALC_DEBUG"):
            raise
        print(f"cnncalc: internal error: {type(e).__name__}: {e} (please report it; CNNCALC_DEBUG=1 shows the "
              f"traceback)", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())


def _cmd_fit(args) -> int:
    """--fit SIZE: the largest batch for training (and for inference) within a memory budget."""
    from .cli_tasks import lang_of
    from .fit import fit_spec, fit_text
    from .sizes import parse_bytes
    budget = parse_bytes(args.fit, "--fit", minimum=1)
    is_model = bool(MODEL_REF.match(args.spec)) and not os.path.exists(args.spec) \
        and not args.spec.lower().startswith("zoo:")
    text = None
    try:
        if is_model or _is_onnx_path(args.spec):
            from .fit import fit_reports
            if not args.input:
                raise SpecError(Msg("err.cli.fit_needs_input_size_input", spec=args.spec))
            opts = dict(args.__dict__)
            opts.pop("fit", None)

            def report_at(b):
                a = _Opts({**opts, "batch": b, "train": True})
                try:
                    return _analyze_model(a) if is_model else _analyze_onnx(a)
                except SpecError as e:
                    if b > 1 and "is fixed at" in str(e):
                        raise SpecError(Msg("err.cli.fit_varies_batch_but_fixes", spec=args.spec, message=e.message)) from None
                    raise
            result = fit_reports(report_at, budget, optimizer=args.optimizer, amp=args.amp)
        else:
            spec, text = _read_spec(args.spec)
            result = fit_spec(spec, budget, convention=args.convention, dtype=args.dtype, optimizer=args.optimizer,
                              amp=args.amp)
    except SpecError as err:
        _print_error(err, text, lang_of(args))
        return 2
    sys.stdout.write(fit_text(result, lang_of(args)))
    return 0


class _Opts:
    """The parsed options as a replaceable record (--fit analyses a model at one batch after another)."""

    def __init__(self, d: dict):
        self.__dict__.update(d)
