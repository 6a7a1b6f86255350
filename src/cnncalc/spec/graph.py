"""Elaboration: the AST of a spec becomes a flat graph of layer calls.

Each emitted :class:`LayerCall` gets explicit ``inputs`` (tensor ids) and an
``output`` tensor id.  By default a layer takes the previous layer's output; a
bare name that names a tensor switches to it (a branch); merges (``add``,
``concat``, ...) take tensors by name; a block call expands its body with the
caller's current tensor as ``in``.  Labels become tensor names and (prefixed by
the block instance and repeat) the layers' report names.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

from ..errors import SpecError, did_you_mean
from ..i18n import Msg
from ..limits import MAX_NESTING, NUMBER_LIMIT_TEXT, shown, too_big
from .ast import (REQUIRED, Arg, Assign, BinOp, BlockDef, Func, Group, LayerCall, Name, Neg, PlainLine, Unknown,
                  template_call)
from .lines import reline
from .stamps import Record, Stamp, record

MAX_LAYERS = 100_000    # expansion is eager: a typo like '* 99999999999' must not exhaust memory
MAX_WORK = 3 * MAX_LAYERS    # layers, references and repeats expanded: '(x) * 99999' inside a repeat makes none
_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod}


_NORMS: dict = {}
_PLAIN = frozenset((int, str, float, bool, type(None)))     # argument values that evaluate to themselves


def _norm(s: str) -> str:
    n = _NORMS.get(s)
    if n is None:
        n = s.lower().replace("_", "")
        if len(_NORMS) < 10_000:
            _NORMS[s] = n
    return n


_REGISTRY = []


def _registry():
    """ops.registry, imported on first use (the ops import the spec's AST)."""
    if not _REGISTRY:
        from ..ops import registry
        _REGISTRY.append(registry)
    return _REGISTRY[0]


@dataclass
class Scope:
    names: dict                      # tensor name -> tensor id
    env: dict                        # block parameter -> value
    prefix: str | None               # for report names of the layers inside
    blocks: dict                     # normalized block name -> BlockDef
    counts: dict = field(default_factory=dict)   # kind -> count, for names inside a block instance
    sequential: bool = False         # a labelled group: unlabelled items are named 0, 1, 2 ... (nn.Sequential)

    def next_index(self) -> str:
        i = self.counts.get("\0seq", 0)
        self.counts["\0seq"] = i + 1
        return str(i)

    def child(self, names, env, prefix):
        return Scope(names, env, prefix, dict(self.blocks))


class Elaborator:
    def __init__(self, src: str | None = None, unknowns: dict | None = None, compact: bool = False):
        self.src = src
        self.compact = compact               # repeated blocks as Stamps (spec/stamps.py), not their calls
        self.stamped = 0                     # layers inside those stamps, less one each (see count())
        self.unknowns = unknowns             # values of the '?' unknowns (cnncalc solve), by key_of(Unknown)
        self.nodes: list[LayerCall] = []
        self.current: str | None = None
        self.n_tensors = 0
        self.instances: dict[str, int] = {}
        self.aliases: dict[str, str] = {}      # tensor id -> the name the user gave it
        self.active: list[str] = []            # the blocks being expanded, outermost first
        self.depth = 0                         # groups, assignments and block calls inside each other
        self.work = 0                          # items expanded so far
        self.stamps: dict = {}                 # a block's expansion, by block and arguments (see _stamp)

    # ------------------------------------------------------------------ helpers
    def fail(self, msg, line=None, column=None, layer=None, fragment=None):
        raise SpecError(msg, line=line, column=column, layer=layer, fragment=fragment)

    def count(self) -> int:
        """Layers so far."""
        return len(self.nodes) + self.stamped

    def new_tensor(self) -> str:
        self.n_tensors += 1
        return f"t{self.n_tensors}"

    def layer_id(self, call: LayerCall, label: str | None) -> str:
        return label or f"#{self.count()} {call.kind}"

    def evaluate(self, v, scope: Scope, call: LayerCall | None = None, label=None):
        if isinstance(v, Unknown):
            key = unknown_key(v)
            if self.unknowns is None or key not in self.unknowns:
                self._expr_fail(Msg("err.unknown_unbound", name="?" + (v.name or "")), v, call, label)
            return self.unknowns[key]
        if isinstance(v, Name):
            if v.text in scope.env:
                return scope.env[v.text]
            return v.text
        if isinstance(v, tuple):
            return tuple(self.evaluate(i, scope, call, label) for i in v)
        if isinstance(v, Func):
            vals = [self.evaluate(i, scope, call, label) for i in v.args]
            if not vals or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in vals):
                self._expr_fail(Msg("err.graph.needs_numbers", name=v.name, vals=repr(tuple(vals))), v, call, label)
            return max(vals) if v.name == "max" else min(vals)
        if isinstance(v, Neg):
            x = self.evaluate(v.value, scope, call, label)
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                self._expr_fail(Msg("err.graph.cannot_negate", x=repr(x)), v, call, label)
            return -x
        if isinstance(v, BinOp):
            spine = []
            while isinstance(v, BinOp):          # 'a + b + c + ...' nests to the left: a loop, not recursion
                spine.append(v)
                v = v.left
            acc = self.evaluate(v, scope, call, label)
            for node in reversed(spine):
                acc = self._binop(node, acc, self.evaluate(node.right, scope, call, label), scope, call, label)
            return acc
        return v

    def _binop(self, v: BinOp, a, b, scope: Scope, call, label):
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in (a, b)):
            unknown = [x for x in (a, b) if isinstance(x, str)]
            hint = ""
            if unknown:
                hint = Msg("err.graph.not_block_parameter", name=unknown[0], hint=did_you_mean(unknown[0], scope.env))
            self._expr_fail(Msg("err.graph.cannot_compute", p=shown(a) if type(a) is int else repr(a), op=v.op, p2=shown(b) if type(b) is int else repr(b), hint=hint), v, call, label)
        if v.op in ("/", "//", "%") and b == 0:
            self._expr_fail(Msg("err.graph.division_by_zero", a=repr(a), op=v.op, b=repr(b)), v, call, label)
        if v.op == "/":
            q = a / b
            r = int(q) if float(q).is_integer() else q
        else:
            r = _OPS[v.op](a, b)
        if too_big(r):
            self._expr_fail(Msg("err.graph.too_large", a=shown(a), op=v.op, b=shown(b), r=shown(r), NUMBER_LIMIT_TEXT=NUMBER_LIMIT_TEXT),
                            v, call, label)
        if isinstance(r, float) and (r != r or r in (float("inf"), float("-inf"))):
            self._expr_fail(Msg("err.graph.overflows_float_floats_must_finite", a=repr(a), op=v.op, b=repr(b)), v, call, label)
        return r

    def _expr_fail(self, msg, node, call, label):
        self.fail(msg, getattr(node, "line", None) or (call.line if call else None),
                  getattr(node, "column", None) or (call.column if call else None),
                  self.layer_id(call, label) if call else None, call.text if call else None)

    # ------------------------------------------------------------------ items
    def run(self, items, scope: Scope):
        for it in items:
            self.item(it, scope)

    def tick(self, line, column):
        self.work += 1
        if self.work > MAX_WORK:
            self.fail(Msg("err.graph.spec_expands_more_than_layers", MAX_WORK=MAX_WORK, MAX_LAYERS=MAX_LAYERS), line, column)

    def enter(self, line, column, what):
        """One level deeper; ``what`` (a function: the message is written only for the error) names it."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(Msg("err.graph.nesting_deeper_than_levels_groups", MAX_NESTING=MAX_NESTING, what=what()), line, column)

    def item(self, it, scope: Scope):
        if type(it) is PlainLine:
            self.plain_line(it, scope)
        elif isinstance(it, BlockDef):
            self.tick(it.line, it.column)
            scope.blocks[_norm(it.name)] = it
        elif isinstance(it, Assign):
            self.enter(it.line, it.column, lambda: Msg("err.graph.what_assignment", name=it.name))
            self.run(it.items, scope)
            self.depth -= 1
            scope.names[it.name] = self.current
            self.aliases.setdefault(self.current, it.name if not scope.prefix else f"{scope.prefix}.{it.name}")
        elif isinstance(it, Group):
            self.enter(it.line, it.column, lambda: Msg("err.graph.what_group"))
            self.group(it, scope)
            self.depth -= 1
        else:
            self.call(it, scope, it.label)

    def group(self, g: Group, scope: Scope):
        if isinstance(g.repeat, Name):
            times = scope.env.get(g.repeat.text)
            if isinstance(times, bool) or not isinstance(times, int) or times < 1:
                what = Msg("err.graph.is_not_parameter") if g.repeat.text not in scope.env else Msg("err.graph.is_value", v=repr(times))
                self.fail(Msg("err.graph.repeat_count_n_needs_whole", text=g.repeat.text, what=what, did_you_mean=did_you_mean(g.repeat.text, scope.env)), g.repeat.line, g.repeat.column)
            g = Group(g.items, times, g.line, g.column, g.label, g.count_at)
        if not g.items:
            self.fail(Msg("err.graph.empty_group_group_needs_least"), g.line, g.column)
        if g.repeat > 1 and self.count() + g.repeat * len(g.items) > MAX_LAYERS:
            line, col = g.count_at or (g.line, g.column)
            self.fail(Msg("err.graph.would_make_more_than_layers", repeat=g.repeat, MAX_LAYERS=MAX_LAYERS), line, col)
        for r in range(1, g.repeat + 1):
            if g.label:
                prefix = f"{g.label}.{r}" if g.repeat > 1 else g.label
                full = f"{scope.prefix}.{prefix}" if scope.prefix else prefix
                inner = Scope(scope.names, scope.env, full, scope.blocks, sequential=True)
                for it in g.items:
                    self.item(it, inner) if not isinstance(it, LayerCall) else self.call(it, inner, it.label)
                scope.names[prefix] = self.current
            else:
                for it in g.items:
                    if isinstance(it, LayerCall) and it.label and g.repeat > 1:
                        self.call(it, scope, f"{it.label}.{r}")
                    else:
                        self.item(it, scope)

    def call(self, c: LayerCall, scope: Scope, label: str | None):
        registry = _REGISTRY[0] if _REGISTRY else _registry()
        self.work += 1
        if self.work > MAX_WORK:
            self.tick(c.line, c.column)                # reports the limit
        key = _NORMS.get(c.kind) or _norm(c.kind)
        # a bare name that names a tensor: switch to it
        if not c.args and c.kind in scope.names and c.inputs is None and not c.extra.get("parens"):
            op = registry.OPS.get(key)
            complete = op is not None and op.extra.get("inputs", 1) == 1 and \
                all(p.default is not registry.REQUIRED for p in op.params)   # the bare kind is a whole layer too
            if complete or key in scope.blocks:
                self.fail(Msg("err.graph.both_tensor_name_label_layer", kind=c.kind), c.line, c.column, self.layer_id(c, label), c.text)
            if label:
                self.fail(Msg("err.graph.names_tensor_label_cannot_name", kind=c.kind), c.line, c.column)
            self.current = scope.names[c.kind]
            return
        if key in scope.blocks:
            b = scope.blocks[key]
            cycle = [n for n in self.active if _norm(n) == key] if self.active else None
            if cycle:
                chain = self.active[self.active.index(cycle[0]):] + [b.name]
                self.fail(Msg("err.graph.block_calls_itself_block_cannot", name=b.name, p=' → '.join(chain)), c.line, c.column,
                          self.layer_id(c, label), c.text)
            if self.depth >= MAX_NESTING:              # (enter() reports the limit)
                self.enter(c.line, c.column, lambda: Msg("err.graph.what_blocks", chain=" → ".join(self.active[-3:] + [b.name])))
            self.depth += 1
            self.active.append(b.name)
            self.block_call(b, c, scope, label)
            self.active.pop()
            self.depth -= 1
            return
        if "." in c.kind:                              # nn.Conv2d, layers.Dense: the class, and its framework
            from ..ops.signatures import split_class
            framework, cls = split_class(c.kind)
            if registry.OPS.get(_norm(cls)) is not None or _norm(cls) in ("input", "inputlayer"):
                extra = dict(c.extra, framework=framework) if framework else dict(c.extra)
                c = LayerCall(cls, c.args, c.label, c.line, c.column, c.text, extra, c.inputs, c.output)
                key = _norm(cls)
        if self.current is None and key not in ("input", "inputlayer") and \
                any(a.name is not None and _norm(a.name) == "inputshape" for a in c.args):
            self._input_from_shape(c, scope)             # Keras: Conv2D(..., input_shape=(28, 28, 1)) first
            c = LayerCall(c.kind, tuple(a for a in c.args if a.name is None or _norm(a.name) != "inputshape"),
                          c.label, c.line, c.column, c.text, {k: v for k, v in c.extra.items() if k != "literal"},
                          c.inputs, c.output)                # the arguments are no longer the text's
        if self.count() >= MAX_LAYERS:
            self.fail(Msg("err.graph.spec_expands_more_than_layers_2", MAX_LAYERS=MAX_LAYERS), c.line, c.column,
                      self.layer_id(c, label), c.text)
        if c.extra.get("error"):
            msg, line, col = c.extra["error"]
            self.fail(msg, line, col, self.layer_id(c, self._full(label, scope)), c.text)
        op = registry.OPS.get(key)
        full = label if scope.prefix is None else self._full(label, scope, c.kind if op is None else op.kind)
        if op is None and key not in ("input", "inputlayer"):
            known = sorted({s for o in registry.KINDS.values() for s in o.spellings} | set(scope.blocks)
                           | set(scope.names))
            self.fail(Msg("err.unknown_layer", name=c.kind, near=did_you_mean(c.kind, known)), c.line, c.column,
                      self.layer_id(c, full), c.text)
        n_in = 0 if key in ("input", "inputlayer") else (op.extra.get("inputs", 1))
        args = []
        refs: list[str] = []
        same = True                                    # every argument a plain value: the call's own tuple
        for a in c.args:
            v = a.value
            if type(v) in _PLAIN:
                args.append(a)
                continue
            same = False
            if n_in not in (0, 1) and a.name is None and isinstance(v, Name) and v.text not in scope.env:
                if v.text not in scope.names:
                    self.fail(Msg("err.not_a_tensor", kind=op.kind, name=v.text, near=did_you_mean(v.text, scope.names),
                              defined=Msg("err.defined", names=", ".join(list(scope.names)[:12]))
                              if scope.names else ""), a.line, a.column, self.layer_id(c, full), c.text)
                refs.append(scope.names[v.text])
                continue
            args.append(Arg(a.name, self.evaluate(v, scope, c, full), a.line, a.column))
        if c.inputs is not None:                       # YAML/JSON 'input:' / 'inputs:'
            for name in c.inputs:
                if name not in scope.names:
                    self.fail(Msg("err.graph.not_tensor_defined_so_far", name=name, name2=did_you_mean(name, scope.names)),
                              c.line, c.column, self.layer_id(c, full), c.text)
            refs = [scope.names[n] for n in c.inputs] + refs
        if n_in == 0:
            inputs: tuple = ()
        elif n_in == 1:
            if refs:
                inputs = tuple(refs)
            elif self.current is None:
                inputs = ()                            # analysis reports the missing input
            else:
                inputs = (self.current,)
        else:
            lo = op.extra.get("min_inputs", 2)
            if len(refs) < lo and self.current is not None:
                refs.insert(0, self.current)           # 'x | add(y)': the current tensor comes first
            inputs = tuple(refs)
        self.n_tensors += 1
        out = f"t{self.n_tensors}"
        self.nodes.append(LayerCall(c.kind, c.args if same else tuple(args), full, c.line, c.column, c.text,
                                    dict(c.extra), inputs, out))
        self.current = out
        if label:
            scope.names[label] = out

    def plain_line(self, pl: PlainLine, scope: Scope):
        """The calls of a plain line (spec/lines.py).  A layer that takes the current tensor, with arguments
        written out in the text, outside blocks, becomes its node at once; any other goes through call()."""
        ops = (_REGISTRY[0] if _REGISTRY else _registry()).OPS
        line = pl.line
        for kind, args, column, text, extra in pl.template:
            key = _NORMS.get(kind) or _norm(kind)
            op = ops.get(key)
            if op is None or "literal" not in extra or self.current is None or scope.prefix is not None \
                    or kind in scope.names or key in scope.blocks or "." in kind or op.extra.get("inputs", 1) != 1 \
                    or len(self.nodes) + self.stamped >= MAX_LAYERS or self.work >= MAX_WORK:
                self.call(LayerCall(kind, tuple([Arg(n, v if plain else reline(v, line), line, col)
                                                 for n, v, col, plain in args]), None, line, column, text, extra),
                          scope, None)
                continue
            self.work += 1
            self.n_tensors += 1
            out = f"t{self.n_tensors}"
            self.nodes.append(template_call(kind, args, line, column, text, extra, (self.current,), out))
            self.current = out

    def _input_from_shape(self, c: LayerCall, scope: Scope):
        shape = next(a for a in c.args if a.name is not None and _norm(a.name) == "inputshape")
        out = self.new_tensor()
        self.nodes.append(LayerCall("input", (Arg("shape", self.evaluate(shape.value, scope, c)),), None,
                                    shape.line, shape.column, c.text, {}, (), out))
        self.current = out

    def _full(self, label, scope: Scope, kind: str | None = None):
        if scope.prefix is None:
            return label
        if scope.sequential:
            index = scope.next_index()
            label = label or index
        elif label is None:
            k = _norm(kind or "layer")
            scope.counts[k] = scope.counts.get(k, 0) + 1
            label = f"{k}_{scope.counts[k]}"
        return f"{scope.prefix}.{label}"

    def block_call(self, b: BlockDef, c: LayerCall, scope: Scope, label):
        layer = label or c.kind
        env: dict = {}
        names = b.__dict__.get("_names")               # the parameters' names (a cache on the frozen definition)
        if names is None:
            names = [p for p, _ in b.params]
            object.__setattr__(b, "_names", names)
        pos = [a for a in c.args if a.name is None]
        if len(pos) > len(names):
            a = pos[len(names)]
            self.fail(Msg("err.graph.block_takes_argument_s", name=b.name, names=len(names), p=', '.join(names) or Msg("word.none"), pos=len(pos)), a.line, a.column, layer, c.text)
        given = {}
        for p, a in zip(names, pos):
            given[p] = a
        for a in c.args:
            if a.name is None:
                continue
            match = [p for p in names if _norm(p) == _norm(a.name)]
            if not match:
                self.fail(Msg("err.graph.block_has_no_argument_arguments", name=b.name, name2=a.name, did_you_mean=did_you_mean(a.name, names), p=', '.join(names) or Msg("word.none")), a.line, a.column, layer, c.text)
            if match[0] in given:
                self.fail(Msg("err.graph.argument_block_given_twice", match=match[0], name=b.name), a.line, a.column, layer, c.text)
            given[match[0]] = a
        tensors = {}
        for p, default in b.params:
            v = given[p].value if p in given else None
            if isinstance(v, Name) and v.text not in scope.env and v.text in scope.names:
                tensors[p] = scope.names[v.text]       # a tensor passed to the block (a skip connection)
            elif p in given:
                env[p] = v if type(v) in _PLAIN else self.evaluate(v, scope, c, layer)
            elif default is REQUIRED:
                self.fail(Msg("err.graph.block_needs_argument", name=b.name, p=p), c.line, c.column, layer, c.text)
            else:
                env[p] = self.evaluate(default, Scope({}, env, None, {}), c, layer)
        if scope.sequential:                     # inside a labelled group: 0, 1, 2 ... like nn.Sequential
            index = scope.next_index()
            inst = label or index
        elif label:
            inst = label
        else:
            n = self.instances[b.name] = self.instances.get(b.name, 0) + 1
            inst = f"{b.name}_{n}"
        prefix = f"{scope.prefix}.{inst}" if scope.prefix else inst
        if self.current is None:
            self.fail(Msg("err.graph.block_needs_input_put_input", name=b.name), c.line, c.column, layer, c.text)
        key = _stamp_key(b, env, scope) if not tensors else None
        done = self.stamps.get(key) if key is not None else None
        if not done or not self._stamp(done, prefix):
            inner = scope.child(dict(tensors, **{"in": self.current}), env, prefix)
            start, work, first, entry = len(self.nodes), self.work, self.n_tensors, self.current
            self.run(b.items, inner)
            if key is not None and key not in self.stamps:
                self.stamps[key] = record(self.nodes[start:], prefix, entry, first, self.current,
                                          self.work - work) or False
        if label:
            scope.names[label] = self.current

    def _stamp(self, rec: Record, prefix: str) -> bool:
        """Repeat a block's recorded expansion under a new instance name (False: the limits say expand it)."""
        n = len(rec.nodes)
        if self.count() + n > MAX_LAYERS or self.work + rec.work > MAX_WORK:
            return False                               # expanding reports the limit where it is reached
        self.work += rec.work
        stamp = Stamp(rec, prefix, self.current, self.n_tensors)
        if self.compact:
            self.nodes.append(stamp)
            self.stamped += n - 1
        else:
            self.nodes.extend(stamp.calls())
        self.n_tensors += rec.nodes[-1][3]
        self.current = stamp.output
        return True


def _stamp_key(b: BlockDef, env: dict, scope: Scope):
    """A block call whose expansion can be repeated: a body of layer calls only (no block calls, groups,
    assignments or definitions inside), arguments that are plain values.  Its key: the block and them."""
    kinds = b.__dict__.get("_kinds")                   # the body's layer kinds; None: not only layer calls
    if kinds is None and "_kinds" not in b.__dict__:
        kinds = {_norm(it.kind) for it in b.items} if all(type(it) is LayerCall for it in b.items) else None
        object.__setattr__(b, "_kinds", kinds)          # a cache on the frozen definition
    if kinds is None or not kinds.isdisjoint(scope.blocks):
        return None
    key = (id(b), tuple([(k, type(v), v) if type(v) is not tuple else (k, tuple, _typed(v)) for k, v in env.items()]))
    try:
        hash(key)
    except TypeError:                                  # a list or dict argument
        return None
    return key


def _typed(v):
    """A value with its type, inside tuples too: 1, 1.0 and True are equal in Python, not as arguments."""
    return (tuple, tuple([_typed(i) for i in v])) if type(v) is tuple else (type(v), v)


def unknown_key(u: Unknown):
    """The key of an unknown: its name (``?s``), else its position (each ``?`` its own)."""
    return u.name if u.name else (u.line, u.column)


def elaborate(items, src: str | None = None, unknowns: dict | None = None, compact: bool = False) -> list:
    """The flat graph of layer calls.  ``compact``: repeated block calls stay :class:`Stamp` s (for the
    analysis only; ``stamps.expand`` gives the calls)."""
    e = Elaborator(src, unknowns, compact)
    e.run(items, Scope({}, {}, None, {}))
    nodes = e.nodes
    if e.aliases:
        if e.stamped:                                  # a named block output: that call's layers written out
            nodes = [m for n in nodes for m in (n.calls() if type(n) is Stamp and n.output in e.aliases else (n,))]
        for node in nodes:
            if type(node) is not Stamp and node.output in e.aliases:   # (a new dict: stamps share extras)
                node.__dict__["extra"] = dict(node.extra, tensor=e.aliases[node.output])
    return nodes
