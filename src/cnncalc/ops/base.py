"""The context an op function gets: convention, layout helpers and validators.

Validators raise :class:`~cnncalc.SpecError` pointing at the argument's line
and column, naming the layer and the sizes involved.
"""
from __future__ import annotations

from math import prod

from ..conventions import Convention
from ..errors import SpecError
from ..formulas import same_padding
from ..i18n import Msg

DIM_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
SAME_WORDS = ("same", "same_upper", "same_lower", "sameupper", "samelower")


def fmt_shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


class Ctx:
    def __init__(self, conv: Convention, call, layer_id: str, op):
        self.conv = conv
        self.call = call
        self.layer_id = layer_id
        self.op = op
        self.args = None

    # ------------------------------------------------------------------ errors
    def fail(self, msg: str, arg: str | tuple | None = None):
        line, col = self.call.line, self.call.column
        if isinstance(arg, tuple):
            line, col = arg
        elif isinstance(arg, str) and self.args is not None and self.args.position(arg):
            line, col = self.args.position(arg)
        raise SpecError(msg, line=line, column=col, layer=self.layer_id, fragment=self.call.text or None)

    # ------------------------------------------------------------------ layout
    def split(self, x: tuple, nspatial: int | None, what: str | None = None):
        """(N, C, spatial) of an input; nspatial=None accepts any rank >= 3."""
        want = None if nspatial is None else nspatial + 2
        if (want is not None and len(x) != want) or (want is None and len(x) < 3):
            self.fail(self._rank_msg(x, nspatial, what))
        if self.conv.channels_last:
            return x[0], x[-1], tuple(x[1:-1])
        return x[0], x[1], tuple(x[2:])

    def _rank_msg(self, x, nspatial, what):
        what = what or self.op.kind
        if nspatial is None:
            return Msg("op.needs_input_channels_spatial_dims", what=what, x=fmt_shape(x))
        dims = DIM_NAMES[nspatial]
        per = ("(" + ", ".join(dims) + ", C)") if self.conv.channels_last else ("(C, " + ", ".join(dims) + ")")
        return Msg("err.rank", what=what, d=nspatial + 1, per=per, conv=self.conv.name, shape=fmt_shape(x))

    def join(self, n: int, c: int, spatial) -> tuple:
        spatial = tuple(spatial)
        return (n,) + spatial + (c,) if self.conv.channels_last else (n, c) + spatial

    def channel_axis(self, rank: int) -> int:
        return rank - 1 if self.conv.channels_last else 1

    # ------------------------------------------------------------------ validators
    def check_declared(self, a, name: str, actual: int, plain, features: bool = False) -> None:
        """A declared input size (in_channels, in_features, num_features, input_size) must be the real one.

        Written with a framework's class (``Conv2d(3, 64, 3)``) the message names the class, both numbers, the
        layer the input comes from and the class's argument order."""
        given = getattr(a, name)
        if given is None or given == actual:
            return
        plain = plain()                              # the message without a framework class: built when needed
        from .signatures import for_call
        sig = for_call(self.call)
        if sig is not None and sig.declared is not None:
            source = (getattr(self, "input_names", None) or ["input"])[0]
            self.fail(Msg("err.declared_features" if features else "err.declared_channels", cls=sig.cls,
                          arg=sig.declared, given=given, c=actual, source=source, order=sig.order(3)), name)
        self.fail(plain, name)

    def int_(self, a, name: str, lo: int = 1) -> int:
        v = getattr(a, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            self.fail(Msg("err.whole_number", name=name, lo=lo, v=repr(v)), name)
        return v

    def opt_int(self, a, name: str, lo: int = 1):
        return None if getattr(a, name) is None else self.int_(a, name, lo)

    def ints(self, a, name: str, n: int, lo: int = 1, value=None) -> tuple:
        v = getattr(a, name) if value is None else value
        if type(v) is tuple and len(v) == n:            # the usual case, (3, 3): checked in one pass
            for i in v:
                if type(i) is not int or i < lo:
                    break
            else:
                return v
        vals = v if isinstance(v, (tuple, list)) else (v,) * n
        if len(vals) == 1:
            vals = tuple(vals) * n
        ok = len(vals) == n and all(type(i) is int and i >= lo or isinstance(i, int) and not isinstance(i, bool)
                                    and i >= lo for i in vals)
        if not ok:
            self.fail(Msg("err.whole_or_tuple", name=name, lo=lo, n=n, v=repr(v)), name)
        return tuple(vals)

    def bool_(self, a, name: str) -> bool:
        v = getattr(a, name)
        if isinstance(v, bool):
            return v
        if isinstance(v, int) and v in (0, 1):
            return bool(v)
        if isinstance(v, str) and v.lower() in ("true", "false", "yes", "no"):
            return v.lower() in ("true", "yes")
        self.fail(Msg("err.bool", name=name, v=repr(v)), name)

    def float_(self, a, name: str) -> float:
        v = getattr(a, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(Msg("err.op.must_number", name=name, v=repr(v)), name)
        return float(v)

    def choice(self, a, name: str, options) -> str:
        from ..errors import did_you_mean
        v = getattr(a, name)
        key = str(v).lower().replace("-", "_")
        if key not in options:
            self.fail(Msg("err.op.must_one", name=name, p=', '.join(options), v=repr(v), did_you_mean=did_you_mean(str(v), options)), name)
        return key

    # ------------------------------------------------------------------ padding
    def padding_word(self, a, name: str = "padding"):
        v = getattr(a, name)
        if self.conv.padding_style == "tf" and not a.given(name) and v == 0:
            return "valid"      # Keras layers default to padding='valid'
        if isinstance(v, str):
            w = v.lower().replace("-", "_")
            if w in ("sameupper", "samelower"):
                w = w[:4] + "_" + w[4:]
            return w
        return None

    def explicit_pads(self, a, name: str, n: int, value=None) -> list[tuple[int, int]]:
        """int, per-dim tuple of ints, or per-dim (before, after) pairs."""
        v = getattr(a, name) if value is None else value
        if type(v) is tuple and len(v) == n:            # the usual case from a model, ((1, 1), (1, 1))
            vals = []
            for pair in v:
                if type(pair) is not tuple or len(pair) != 2:
                    break
                pb, pa = pair
                if type(pb) is not int or type(pa) is not int or pb < 0 or pa < 0:
                    break
                vals.append(pair)
            else:
                return vals

        def bad():
            self.fail(Msg("op.must_whole_number_tuple_before", name=name, n=n, v=repr(v)), name)
        if isinstance(v, bool):
            bad()
        if isinstance(v, int):
            vals = [(v, v)] * n
        elif isinstance(v, (tuple, list)) and len(v) == n and all(isinstance(i, (tuple, list)) for i in v):
            vals = [tuple(i) for i in v]
            if any(len(i) != 2 for i in vals):
                bad()
        elif isinstance(v, (tuple, list)) and len(v) in (1, n):
            vals = [(i, i) for i in (tuple(v) * n if len(v) == 1 else v)]
        else:
            bad()
        for pb, pa in vals:
            if type(pb) is not int or type(pa) is not int:
                if isinstance(pb, bool) or isinstance(pa, bool) or not isinstance(pb, int) or not isinstance(pa, int):
                    bad()
            if pb < 0 or pa < 0:
                bad()
        return vals

    def conv_pads(self, a, spatial, k, s, d, *, name="padding", causal_ok=False):
        """Resolve a conv's padding under the convention: (word or None, [(before, after)] per dim)."""
        n = len(spatial)
        word = self.padding_word(a, name)
        conv = self.conv
        if word is None:
            if conv.padding_style == "tf":
                self.fail(Msg("err.tf_padding", framework=conv.framework, v=repr(getattr(a, name)), n=n), name)
            return None, self.explicit_pads(a, name, n)
        if word == "valid":
            return word, [(0, 0)] * n
        if word == "causal":
            if not (causal_ok and n == 1):
                self.fail(Msg("err.op.padding_causal_only_d_convolutions"), name)
            return word, [(d[0] * (k[0] - 1), 0)]
        if word in ("same", "same_upper", "same_lower"):
            if not conv.has_same:
                self.fail(Msg("err.op.has_no_same_padding_give", framework=conv.framework, tuple=tuple((d_ * (k_ - 1)) // 2 for k_, d_ in zip(k, d))), name)
            if word == "same_lower" and conv.name != "onnx":
                self.fail(Msg("err.op.padding_same_lower_onnx_same"), name)
            if conv.name == "pytorch":
                if any(si != 1 for si in s):
                    self.fail(Msg("err.same_stride", stride=fmt_shape(s),
                                  pad=tuple((d_ * (k_ - 1)) // 2 for k_, d_ in zip(k, d))), name)
                pads = []
                for k_, d_ in zip(k, d):
                    total = d_ * (k_ - 1)
                    pads.append((total // 2, total - total // 2))
                return word, pads
            return word, [same_padding(L, k_, s_, d_, lower=word == "same_lower")
                          for L, k_, s_, d_ in zip(spatial, k, s, d)]
        self.fail(Msg("err.op.must_number_tuple_valid_same", name=name, a=repr(getattr(a, name))), name)


def numel(shape) -> int:
    return prod(shape)
