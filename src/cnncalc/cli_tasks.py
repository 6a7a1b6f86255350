"""The command line's ``solve`` and ``practice`` (cli.py registers them), and ``--lang``."""
from __future__ import annotations

import argparse
import sys

from .errors import SpecError
from .i18n import Msg

SOLVE_EPILOG = """\
examples:
  cnncalc solve "input(3, 224, 224) | conv1: conv2d(64, 7, stride=2, padding=?)" --target "conv1: 112x112"
  cnncalc solve "input(3, 32, 32) | c: conv2d(16, ?k, padding=?p)" --target "c: same" --range k=1..9
  cnncalc solve "input(3, 32, 32) | conv2d(?f, 3, padding=1) | relu | flatten | dense(10)" --max-params 1M
  cnncalc solve zoo:resnet18 --batch ? --fit 8GiB
"""


def add_lang(parser) -> None:
    parser.add_argument("--lang", default=None, metavar="en|zh",
                        help="language of the output and of errors: en or zh (default: from LANG, else en)")


def lang_of(args) -> str:
    from .errors import check_lang
    from .i18n import lang_from_env
    value = getattr(args, "lang", None)
    return lang_from_env() if value is None else check_lang(value)


def add_parsers(sub) -> None:
    s = sub.add_parser("solve", help="inverse problems: which padding / kernel / stride / batch gives a target",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SOLVE_EPILOG,
                       description="Solve SPEC's unknowns, marked '?' (or '?name': the same name is one unknown), "
                                   "for the targets: every solution in the search range, or the largest one when "
                                   "there is one unknown and only upper bounds.")
    s.add_argument("spec", metavar="SPEC", help="the network with ? unknowns: inline text, a .txt file or zoo:NAME")
    s.add_argument("-t", "--target", action="append", default=[], metavar="[LAYER:] HxW",
                   help="a shape that must come out: 'conv1: 112x112', '112x112' (the last layer), 'conv1: same'")
    s.add_argument("--max-params", default=None, metavar="N", help="at most N parameters (5M, 250K, 1000000)")
    s.add_argument("--max-macs", default=None, metavar="N", help="at most N multiply-accumulates (1G, 600M)")
    s.add_argument("--fit", default=None, metavar="SIZE", help="memory must fit in SIZE (8GiB): inference "
                                                               "activations (their peak) + parameters")
    s.add_argument("--memory", default="inference", help="what --fit measures: inference (default) or training")
    s.add_argument("-b", "--batch", default=None, metavar="N|?", help="batch size, or ? to solve for it")
    s.add_argument("-r", "--range", action="append", default=[], metavar="[NAME=]LO..HI",
                   help="search range of the unknowns (all, or one by its name or argument): padding=0..10")
    s.add_argument("--all", action="store_true", help="list every solution, even for a largest-value question")
    s.add_argument("-c", "--convention", default="pytorch", help="pytorch (default), keras, caffe or onnx")
    s.add_argument("--dtype", default="float32", help="float32 (default), float16, bfloat16, int8, float64")
    add_lang(s)
    p = sub.add_parser("practice", help="practise: seed-style problems on small random networks, with solutions",
                       description="Pose problems (output size, parameters, MACs, receptive field, memory), read "
                                   "each answer from standard input, say right or wrong and show the worked "
                                   "solution.  The same --seed poses the same problem.")
    p.add_argument("--topic", default=None, choices=("size", "params", "macs", "rf", "memory"),
                   help="the kind of problem (default: all kinds in turn)")
    p.add_argument("--seed", type=int, default=None, help="the problem's number (default: a random one)")
    p.add_argument("-n", "--count", type=int, default=1, help="how many problems (1)")
    p.add_argument("--answer", default=None, help="the answer (instead of reading standard input)")
    p.add_argument("--json", action="store_true", help="print the problem, answer and solution as JSON")
    add_lang(p)


def cmd_solve(args, print_error) -> int:
    from .solver import solve
    lang = lang_of(args)
    batch = args.batch
    if batch is not None and batch.strip() != "?":
        try:
            batch = int(batch)
        except ValueError:
            raise SpecError(Msg("err.cli.batch_whole_number", batch=repr(batch))) from None
    text = args.spec
    try:
        result = solve(args.spec, args.target, max_params=args.max_params, max_macs=args.max_macs, fit=args.fit,
                       memory=args.memory, convention=args.convention, dtype=args.dtype, batch=batch,
                       ranges=args.range, mode="all" if args.all else None)
    except SpecError as err:
        print_error(err, text, lang)
        return 2
    sys.stdout.write(result.text(lang))
    return 0 if result.solutions else 1


def cmd_practice(args) -> int:
    import json
    import random

    from .practice import make_problem, session
    lang = lang_of(args)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 100_000)
    if seed < 0 or args.count < 1:
        raise SpecError(Msg("err.cli.seed_must_count"))
    if args.json:
        problems = [make_problem(args.topic or "size", seed + i, lang).to_dict() for i in range(args.count)]
        sys.stdout.write(json.dumps(problems if args.count > 1 else problems[0], ensure_ascii=False, indent=2) + "\n")
        return 0
    answers = [args.answer] if args.answer is not None else None

    def read():
        if answers is not None:
            return answers.pop(0) if answers else None
        sys.stdout.flush()
        line = sys.stdin.readline()
        return line if line else None

    def write(s):
        sys.stdout.write(s)

    session(args.topic, seed, args.count, lang, read, write, echo=answers is not None or not sys.stdin.isatty())
    return 0
