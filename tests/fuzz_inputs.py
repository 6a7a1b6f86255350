"""The inputs of the fuzz test (tests/test_fuzz.py): seed specs and the ways they are mangled.

Text: the zoo (whole small models, the first lines of any), the specs of README.md, docs/spec.md and
examples/, and random layer chains built from the registry; mutations delete, duplicate, swap and replace
characters and tokens, make numbers 0, negative, huge, fractional or infinite, add unicode, deep nesting,
recursive and deeply chained blocks.  Structured: YAML / JSON specs with empty, duplicate and odd names,
wrong types, deep nesting and cycles, written out as JSON or YAML text or passed as Python objects.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

from cnncalc import analyze
from cnncalc.ops import registry
from cnncalc.zoo import models as zoo_models

ROOT = Path(__file__).resolve().parents[1]


NUMBERS = ["0", "-1", "-3", "1", "2", "3", "5", "7", "64", "1000000000000000000", "1000000000000000001",
           "-1000000000000000000", "1000000000000000000000000000000", "18446744073709551617", "9" * 60,
           "9" * 5000, "1.5", "0.5", "2.0", "0.0", "-0.0", "1e18", "1e30", "1e300", "1e999", "-1e999", "1e-999",
           "1e-7", ".5", "5.", "3e2", "0.29", "1e-300"]
UNICODE = ["é", "中", "😀", "\u00a0", "\u2028", "\u200b", "３", "٣", "𝟘", "¹", "Ω", "ß", "\x00", "\t", "\r",
           "\ufeff", "\u0301", "Ⅻ", "İ", "ﬁ"]
WORDS = ["def", "end", "in", "true", "false", "none", "null", "input", "H", "W", "x", "a", "b", "stem", "max",
         "min", "same", "valid", "causal", "relu", "add", "concat", "crop", "slice", "layers", "block", "_", "e"]
SNIPPETS = ["(", ")", "[", "]", ",", "|", "\n", ":", "=", "*", "* 3", "* 1000", "* 99999999999", "//", "%",
            "-", "+", "#", "'", '"', "a = ", "x: ", "0: ", "add(x)", "add(a, b)", "max(1, ", "min(", "in",
            "((((", "))))", "----", "\n|", "|\n", "def a(x):\n", "end\n", "()", "[]", "(,)", "((1, 2), (3, 4))",
            "=(", ", ,", "::", "**", "1/0", "2//0", "3 % 0", "(-1,)", "' '", "\"\\\"", "#(", "\\"]
_TOKEN = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_.]*|'[^'\n]*'|\"[^\"\n]*\"|//|\s+|.", re.S)
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


# --------------------------------------------------------------------------- seeds

def _readme_specs() -> list[str]:
    specs = []
    for path in (ROOT / "README.md", ROOT / "docs" / "spec.md"):
        text = path.read_text(encoding="utf-8")
        specs += re.findall(r'"(input\([^"\n]*)"', text)
        for block in re.findall(r"\n((?:    [^\n]*\n)+)", text):      # indented code: text specs
            body = "\n".join(line[4:] for line in block.splitlines())
            if "input(" in body or "def " in body:
                specs.append(body if "input(" in body else "input(3, 32, 32)\n" + body)
    for path in sorted((ROOT / "examples").glob("*.txt")):
        specs.append(path.read_text(encoding="utf-8"))
    return specs


_SEEDS: dict = {}


def seeds() -> dict:
    if not _SEEDS:
        zoo = zoo_models()
        small = [m.text for m in zoo if len(analyze(m.text).layers) <= 70]
        _SEEDS.update(zoo=[m.text for m in zoo], small=small, readme=_readme_specs(),
                      prefixes=[p for p in (_prefixes(m.text) for m in zoo) if p],
                      kinds=sorted({s for op in registry.KINDS.values() for s in op.spellings}),
                      params=sorted({p.name for op in registry.KINDS.values() for p in op.params}
                                    | {a for op in registry.KINDS.values() for p in op.params for a in p.aliases}))
    return _SEEDS


def _value(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return rng.choice(["1", "2", "3", "4", "8", "16", "0", "-1"])
    if r < 0.6:
        return rng.choice(NUMBERS)
    if r < 0.75:
        return rng.choice(["(2, 2)", "(1, 2, 3)", "((1, 1), (0, 1))", "[3, 5]", "(0, 1, 2, 3)", "()", "(None, 4)",
                           "(1000000000000000000, 2)", "(2, 0)"])
    return rng.choice(["same", "valid", "causal", "same_lower", "true", "false", "none", "'x'", "relu", "bilinear",
                       "nearest", "linear", "bicubic", "w*2", "max(2, 3)", "4//2", "7/2", "1e999*0"])


_REQUIRED = {"kernel_size": ["1", "2", "3"], "output_size": ["1", "2", "3", "(2, 3)"], "shape": ["(-1,)", "(2, -1)"],
             "start": ["0", "1"], "stop": ["1", "2"], "activation": ["relu", "tanh"], "num_groups": ["1", "2"]}
_PLAUSIBLE = {"stride": ["1", "2", "(1, 2)"], "padding": ["0", "1", "same", "valid", "(1, 0)"], "dilation": ["1", "2"],
              "groups": ["1", "2"], "bias": ["true", "false"], "ceil_mode": ["true", "false"], "axis": ["1", "-1"],
              "output_padding": ["0", "1"], "num_layers": ["1", "2", "3"], "bidirectional": ["true", "false"],
              "scale_factor": ["2", "0.5", "1.5"], "mode": ["nearest", "bilinear"], "keepdims": ["true", "false"],
              "proj_size": ["0", "1"], "depth_multiplier": ["1", "2"], "return_sequences": ["true", "false"]}


def _plausible_call(rng: random.Random, op) -> str:
    args = []
    for p in op.params:
        if p.default is registry.REQUIRED:
            args.append(rng.choice(_REQUIRED.get(p.name, ["1", "2", "4", "8"])) if rng.random() < 0.9 else _value(rng))
    for p in rng.sample(op.params, min(len(op.params), rng.choice([0, 0, 1, 1, 2]))):
        if p.default is not registry.REQUIRED:
            v = rng.choice(_PLAUSIBLE[p.name]) if p.name in _PLAUSIBLE and rng.random() < 0.8 else _value(rng)
            args.append(f"{p.name}={v}")
    return f"{op.kind}({', '.join(args)})" if args or rng.random() < 0.5 else op.kind


def random_chain(rng: random.Random) -> str:
    """input(...) then 1-5 layers of the registry with plausible (sometimes odd) arguments; labels and merges."""
    s = seeds()
    rank = rng.choice([2, 3, 4, 4, 4, 5])                   # batch included
    dims = [rng.choice(["1", "2", "3", "4", "8"])] + [rng.choice(["4", "7", "8", "16", "32"]) for _ in range(rank - 2)]
    if rng.random() < 0.1:
        dims = [rng.choice(["1", "2", "3", "4", "7", "8", "16", "32"]) for _ in range(rng.randint(1, 5))]
    parts = [f"input({', '.join(dims)})"]
    labels = []
    ops = list(registry.KINDS.values())
    for i in range(rng.randint(1, 5)):
        fitting = [o for o in ops if o.extra.get("ndim") in (None, rank - 2)]
        op = rng.choice(fitting if rng.random() < 0.8 else ops)
        if op.extra.get("inputs", 1) != 1 and labels:
            call = f"{op.kind}({', '.join(rng.sample(labels, min(len(labels), rng.choice([1, 1, 2]))))})"
        elif rng.random() < 0.1:
            args = [_value(rng) for _ in range(rng.choice([0, 1, 2, 3]))]
            args += [f"{rng.choice(s['params'])}={_value(rng)}" for _ in range(rng.choice([0, 1, 2]))]
            call = f"{rng.choice(s['kinds'])}({', '.join(args)})"
        else:
            call = _plausible_call(rng, op)
        if rng.random() < 0.3:
            labels.append(f"l{i}")
            call = f"l{i}: {call}"
        parts.append(call)
    return " | ".join(parts) if rng.random() < 0.7 else "\n".join(parts)


def _prefixes(text: str) -> list[str]:
    """The spec cut after each of its first top-level lines (outside brackets and blocks): valid specs."""
    out, depth, in_def = [], 0, False
    lines = text.splitlines()
    for n, line in enumerate(lines):
        code = line.split("#")[0]
        depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
        if code.strip().startswith("def ") and code.rstrip().endswith(":"):
            in_def = True
        elif code.strip() == "end":
            in_def = False
        elif depth == 0 and not in_def and code.strip() and n > 0:
            out.append("\n".join(lines[:n + 1]))
    return out


def seed_text(rng: random.Random) -> str:
    s = seeds()
    r = rng.random()
    if r < 0.25:
        return rng.choice(s["small"])
    if r < 0.5:                                         # the first few lines of any zoo model
        cuts = s["prefixes"][rng.randrange(len(s["prefixes"]))]
        return cuts[rng.randrange(min(len(cuts), 8))]
    if r < 0.6:
        return rng.choice(s["readme"])
    return random_chain(rng)


# --------------------------------------------------------------------------- mutations

def _structural(rng: random.Random) -> str:
    k = rng.choice([3, 50, 99, 100, 101, 150, 2000])
    return rng.choice([
        "\ndef rec(n=1): rec(n)\nrec",
        "\ndef ra(): rb\ndef rb(): ra\nra",
        "\ndef rs(n=1):\n  relu\n  rs(n)\nend\nrs(2)",
        "\ndef b0(): relu\n" + "".join(f"def b{i}(): b{i - 1}\n" for i in range(1, k)) + f"b{k - 1}",
        "\n" + "".join(f"def d{i}():\n" for i in range(k)) + "relu\n" + "end\n" * k + "d0",
        "\n" + "a = " * k + "relu",
        "\nx = relu\ndef wide(): (x) * 99999\n(wide) * 99999",
        f"\ndef w(c=2): dense({'c' + '*2' * k})\nw",
        f"\ndef w(c=2): dense({'-' * k}c)\nw",
        "\n" + "(" * k + "relu" + ")" * k,
        "\n" + "(" * k,
        f"\ndense({'2' + '*2' * k})",
        f"\ndense({'1' + '+1' * k})",
        f"\ndense({'-' * k}5)",
        f"\ndense({'[' * k}1{']' * k})",
        "\nconvtranspose2d(4, 2, stride=100000000000)",
        "\nadaptiveavgpool2d(100000000)",
        "\nupsample(scale_factor=1e999)",
        "\nlstm(4, num_layers=1000000000000)",
        "\n" + "conv2d(1, 1, stride=1000000000000000000) | " * 40 + "relu",
        "\n" + "upsample(scale_factor=1000000) | " * 8 + "relu",
        "\nflatten | reshape((" + ", ".join(["1"] * k) + ", -1))",
    ])


_OPS = list(range(16))
_WEIGHTS = [3, 2, 3, 3, 2, 2, 1, 4, 4, 4, 2, 1, 1, 1, 2, 1]


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3, 4])):
        toks = _TOKEN.findall(text) or [""]
        op = rng.choices(_OPS, _WEIGHTS)[0]
        i = rng.randrange(len(toks))
        pos = rng.randrange(len(text) + 1)
        if op == 0 and text:                                     # delete a character
            text = text[:pos] + text[pos + 1:]
        elif op == 1 and text:                                   # duplicate a character
            text = text[:pos] + text[pos:pos + 1] * 2 + text[pos + 1:]
        elif op == 2:                                            # replace a character
            text = text[:pos] + rng.choice(SNIPPETS[:20] + UNICODE) + text[pos + 1:]
        elif op == 3:                                            # insert a snippet or a unicode character
            text = text[:pos] + rng.choice(SNIPPETS + UNICODE + WORDS) + text[pos:]
        elif op == 4:                                            # delete a token
            text = "".join(toks[:i] + toks[i + 1:])
        elif op == 5:                                            # duplicate a token
            text = "".join(toks[:i + 1] + toks[i:])
        elif op == 6:                                            # swap two tokens
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
            text = "".join(toks)
        elif op in (7, 8, 9):                                    # replace a number: odd, or harmless
            nums = [n for n, t in enumerate(toks) if _NUMBER.fullmatch(t)]
            if nums:
                toks[rng.choice(nums)] = rng.choice(NUMBERS if op == 7 else ["1", "2", "3", "4", "8", "16", "64"])
                text = "".join(toks)
        elif op == 10:                                           # replace a name
            names = [n for n, t in enumerate(toks) if _NAME.fullmatch(t)]
            if names:
                toks[rng.choice(names)] = rng.choice(WORDS + seeds()["kinds"] + seeds()["params"])
                text = "".join(toks)
        elif op == 11:                                           # wrap tokens in nested brackets
            k = rng.choice([1, 2, 3, 50, 100, 101, 10000])
            j = rng.randrange(i, len(toks) + 1)
            o, c = rng.choice([("(", ")"), ("[", "]")])
            text = "".join(toks[:i]) + o * k + "".join(toks[i:j]) + c * k + "".join(toks[j:])
        elif op == 12:                                           # minus signs before a token
            toks.insert(i, "-" * rng.choice([1, 2, 3, 1000, 10000]))
            text = "".join(toks)
        elif op == 13:                                           # truncate
            text = text[:pos]
        elif op == 14:                                           # a line of another spec
            other = seed_text(rng).splitlines() or [""]
            text = text[:pos] + "\n" + rng.choice(other) + "\n" + text[pos:]
        else:                                                    # a structural bomb at the end
            text = text + _structural(rng)
    return text


# --------------------------------------------------------------------------- structured specs

def _deep(k: int, leaf):
    for _ in range(k):
        leaf = [leaf]
    return leaf


WEIRD = [None, "", " ", [], {}, 0, -1, 10 ** 30, 10 ** 18, float("inf"), float("nan"), -float("inf"), True, 1.5,
         "x", "relu", "(((", "conv2d(8, 3)", "a", "in", "w*2", "1e999", {"name": ""}, {"type": None}, [[1, 2], 3],
         "input", {"def": "a", "layers": ["a"]}, {"repeat": 10 ** 9, "layers": ["relu"]}, "\u2028", "中"]
KEYS = ["type", "name", "label", "input", "inputs", "layers", "repeat", "def", "block", "params", "blocks", "args",
        "filters", "kernel_size", "stride", "units", "conv2d", "relu", "add", ""]


def structured_seed(rng: random.Random):
    import yaml
    r = rng.random()
    if r < 0.3:
        return yaml.safe_load((ROOT / "examples" / "mnist.yaml").read_text(encoding="utf-8"))
    if r < 0.5:
        return {"input": [3, 16, 16], "blocks": {"res": {"params": {"width": None}, "layers": [
            "conv2d(width, 3, padding=1)", "add(in)"]}},
            "layers": [{"conv2d": [8, 3], "name": "stem"}, {"res": {"width": 8}}, {"type": "relu", "name": "a"},
                       {"name": "b", "input": "stem", "layers": ["conv2d(8, 1)", "relu"]}, {"add": ["a", "b"]},
                       {"repeat": 2, "layers": ["conv2d(8, 3, padding=1)", "relu"]}]}
    chain = random_chain(rng).replace("\n", " | ").split(" | ")
    out = []
    for call in chain:
        m = re.fullmatch(r"(?:(\w+): )?(\w+)(?:\((.*)\))?", call)
        if not m or rng.random() < 0.3:
            out.append(call)
            continue
        label, kind, args = m.groups()
        item = {"type": kind} if label or rng.random() < 0.5 else {kind: None}
        if args:
            if "type" in item:
                item["args"] = [a.strip() for a in args.split(",")]
            else:
                item[kind] = [a.strip() for a in args.split(",")]
        if label:
            item["name"] = label
        out.append(item)
    return out


def _nodes(data):
    """(path, node) of the structure, without descending more than 20 levels (it may be 10,000 deep)."""
    stack = [((), data)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if len(path) < 20 and isinstance(node, (list, dict)):
            stack.extend((path + (k,), v) for k, v in (node.items() if isinstance(node, dict) else enumerate(node)))


def mutate_structure(rng: random.Random, data):
    """(mutated data, whether it now contains a cycle)."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        nodes = list(_nodes(data))
        path, node = rng.choice(nodes)
        op = rng.randrange(7)
        if op == 0 and path:                                     # replace a value
            parent = data
            for p in path[:-1]:
                parent = parent[p]
            parent[path[-1]] = rng.choice(WEIRD + [_deep(rng.choice([5, 60, 99, 150]), 1)])
        elif op == 1 and isinstance(node, list) and node:        # duplicate or delete an item
            j = rng.randrange(len(node))
            if rng.random() < 0.5:
                node.insert(j, node[j])                          # the same object twice: fine for a tree
            else:
                del node[j]
        elif op == 2 and isinstance(node, dict) and node:        # rename or delete a key
            k = rng.choice(list(node))
            v = node.pop(k)
            if rng.random() < 0.7:
                node[rng.choice(KEYS)] = v
        elif op == 3 and isinstance(node, dict):                 # names: empty, duplicated, odd
            node[rng.choice(["name", "label"])] = rng.choice(["", "a", "a", "stem", "relu", "in", 7, None, ["a"],
                                                              "a b", "input", "#1 relu"])
        elif op == 4 and isinstance(node, list):                 # a layer appended
            node.append(rng.choice(WEIRD + ["relu", {"type": "relu", "name": "a"}, {"add": ["a", "a"]},
                                            {"input": [3, 8, 8]}, {"def": "r", "layers": ["r"]}, "r"]))
        elif op == 5 and isinstance(node, list) and rng.random() < 0.05:
            node.append(node)                                    # a cycle (only a Python object can have one)
            return data, True
        elif op == 6 and path:
            parent = data
            for p in path[:-1]:
                parent = parent[p]
            parent[path[-1]] = {"__line__": "x", "type": "relu"} if rng.random() < 0.5 else _deep(10000, [])
            return data, False
    return data, False


def printable(data) -> str:
    try:
        return repr(data)[:3000]
    except RecursionError:
        return "(a Python object nested too deep to print)"


def texts(rng: random.Random, data):
    """JSON and YAML texts of the data (the data itself when it cannot be written), sometimes mangled."""
    import yaml
    try:
        js = json.dumps(data)
    except (ValueError, RecursionError, TypeError):
        js = "[" * 10000 + "]" * 10000
    try:
        ym = yaml.safe_dump(data, default_flow_style=rng.random() < 0.3)
    except (yaml.YAMLError, RecursionError, TypeError):
        ym = "- " + "[" * 10000 + "]" * 10000
    r = rng.random()
    if r < 0.1:
        js = js.replace('"type":', '"type": "relu", "type":', 1)                  # duplicate keys
        ym = ym.replace("type:", "type: relu\n  type:", 1)
    elif r < 0.2:
        k = rng.choice([100, 101, 1000, 10000])
        js = js[:-1] + ", " + "[" * k + "]" * k + "]" if js.endswith("]") else "{" * k
        ym = ym + "- " + "[" * k + "1" + "]" * k + "\n"
    elif r < 0.25:
        ym = "\n".join(f"{'  ' * i}- " for i in range(rng.choice([50, 400, 1000]))) + "relu\n"
    elif r < 0.5:
        js = mutate(rng, js)
        ym = mutate(rng, ym)
    return js, ym
