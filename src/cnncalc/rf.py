"""Receptive fields (Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019).

Forward recurrence per spatial dimension, with k_eff = d*(k-1)+1 and the left padding p:
    r_out = r_in + (k_eff - 1) * j_in      (size, in input pixels)
    P_out = P_in + p * j_in                (effective padding)
    j_out = j_in * s                       (effective stride)
    centre of output unit 0 = -P + (r - 1)/2
Transposed convolution / upsampling by s divide the stride (j_out = j_in / s); a
transposed conv is a zero-insertion by s followed by a stride-1 conv with left
padding k_eff - 1 - p; upsampled output o sits at input position (o + 1/2)/f - 1/2,
so P grows by (1 - 1/f)/2 * j_in.  Fractions keep these exact.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

from .frozen import fast_init
from .i18n import Msg
from .limits import MAX_RF_DIGITS
from .ops.registry import RF

GLOBAL_STATE = "global"
_RF_LIMIT = 10 ** MAX_RF_DIGITS


class Approx(tuple):
    """A state after a fractional stride (upsampling, strided transposed conv): output positions read
    differently many inputs, so the affine receptive field is an average description, not exact per unit."""


@fast_init
@dataclass(frozen=True)
class ReceptiveField:
    size: tuple
    stride: tuple
    padding: tuple
    center: tuple
    is_global: bool = False
    approximate: bool = False

    def __getattr__(self, name):
        """The fields of a view that :func:`describe` made without them: computed when first read."""
        source = self.__dict__.pop("_source", None) if not name.startswith("__") else None
        if source is None:
            raise AttributeError(name)
        self.__dict__.update(_view(*source).__dict__)
        return self.__dict__[name]

    def to_dict(self) -> dict:
        return {"size": [_num(v) for v in self.size], "stride": [_num(v) for v in self.stride],
                "padding": [_num(v) for v in self.padding], "center": [_num(v) for v in self.center],
                "global": self.is_global, "approximate": self.approximate}


def _num(v):
    if v is None or type(v) is int:
        return v
    v = Fraction(v)
    return int(v) if v.denominator == 1 else float(v)


def initial_state(spatial: tuple):
    """(r, j, P) per spatial dim of the network input, or None when it has none."""
    if not spatial:
        return None
    return tuple((1, 1, 0) for _ in spatial)     # ints until a division makes Fractions


def apply(state, step: RF, out_spatial_rank: int):
    """The state after a layer; None = no receptive field, GLOBAL_STATE = sees the whole input."""
    kind = step.kind
    if state is None or kind == "none":
        return None
    if kind == "global":
        return GLOBAL_STATE
    if state == GLOBAL_STATE or kind == "keep":
        if isinstance(state, tuple) and len(state) != out_spatial_rank:
            return None
        return state
    if len(step.kernel) != len(state):
        return None
    new = []
    dil = step.dilation or (1,) * len(state)
    for (r, j, P), k, s, p, d in zip(state, step.kernel, step.stride, step.padding or (0,) * len(state), dil):
        if kind == "window":
            new.append((r + (k - 1) * j, j * s, P + p * j))
        elif kind == "transposed":
            # zero insertion by s, then a stride-1 conv with left padding k_eff - 1 - p: that fixes the
            # stride and the centre; the size is the widest span of inputs that one output really reads
            jz = j / Fraction(s)
            rz, Pz = r + (k - 1) * jz, P + (k - 1 - p) * jz
            r2 = r + transposed_span(k, s, d) * j
            new.append((r2, jz, Pz + (r2 - rz) / 2))
        elif kind == "upsample":
            # a float factor is read as the nearest fraction with a denominator up to 10^6 (0.5 -> 1/2);
            # an exact ratio (size given: out/in) or a factor that small is taken as it is
            f = Fraction(s) if isinstance(s, (int, Fraction)) else Fraction(s).limit_denominator(10**6)
            if f == 0:
                f = Fraction(s)
            # output o sits at input position (o + 1/2)/f - 1/2 (align_corners=False grid)
            new.append((r + (k - 1) * j, j / f, P + (1 - 1 / f) / 2 * j))
        else:
            raise ValueError(kind)
    if isinstance(state, Approx) or (kind in ("transposed", "upsample") and any(s != 1 for s in step.stride)):
        return Approx(new)
    return tuple(new)


def window(state: tuple, step: RF):
    """:func:`apply` and :func:`too_large` at once for a window (conv, pool) on an exact state (a plain tuple):
    (new state, False), (None, True) when its numbers leave the tracked range, (None, False) when the window
    has another rank than the state."""
    kernel = step.kernel
    if len(kernel) != len(state):
        return None, False
    lim = _RF_LIMIT
    stride, pad = step.stride, step.padding or (0, 0)
    if len(kernel) == 2 and len(stride) == 2 and len(pad) == 2:    # images: the loop below, unrolled
        (r0, j0, P0), (r1, j1, P1) = state
        (k0, k1), (s0, s1), (p0, p1) = kernel, stride, pad
        r0, j0, P0, r1, j1, P1 = r0 + (k0 - 1) * j0, j0 * s0, P0 + p0 * j0, r1 + (k1 - 1) * j1, j1 * s1, P1 + p1 * j1
        if type(r0) is int and type(j0) is int and type(P0) is int and type(r1) is int and type(j1) is int \
                and type(P1) is int and -lim <= r0 <= lim and -lim <= j0 <= lim and -lim <= P0 <= lim \
                and -lim <= r1 <= lim and -lim <= j1 <= lim and -lim <= P1 <= lim:
            return ((r0, j0, P0), (r1, j1, P1)), False
    new = []
    for (r, j, P), k, s, p in zip(state, step.kernel, step.stride, step.padding or (0,) * len(state)):
        r, j, P = r + (k - 1) * j, j * s, P + p * j
        new.append((r, j, P))
        if type(r) is not int or type(j) is not int or type(P) is not int or not (
                -lim <= r <= lim and -lim <= j <= lim and -lim <= P <= lim):
            break                                      # fractions, or numbers that may be out of range
    else:
        return tuple(new), False
    new = apply(state, step, len(state))               # (the same recurrence, for every dim)
    return (None, True) if too_large(new) else (new, False)


def transposed_span(k_eff: int, s: int, d: int = 1) -> Fraction:
    """Largest distance (in input units) between two inputs read by one output of a transposed conv with
    effective kernel k_eff, stride s and dilation d: output o reads input i when o + p - t*d = i*s.

    The taps are t = m*d, m < M = ceil(k_eff/d); two taps meet the same output residue when their m differ
    by a multiple of P = s/gcd(d, s), so the widest class is the one of m = 0: taps 0, P, 2P, ... < M, and
    its span (M-1)//P * P*d is (M-1)//P * d/gcd(d, s) input units.  Closed form: no loop over s or k.
    """
    M = (k_eff - 1) // d + 1 if k_eff > 0 else 0
    if M <= 0:
        return Fraction(0)
    g = gcd(d, s)
    return Fraction((d // g) * ((M - 1) // (s // g)))


def too_large(state) -> bool:
    """Whether a state's numbers left the tracked range (see limits.MAX_RF_DIGITS)."""
    if not isinstance(state, tuple):
        return False
    for dim in state:
        for v in dim:
            if type(v) is int:
                if not -_RF_LIMIT <= v <= _RF_LIMIT:
                    return True
            elif abs(v.numerator) > _RF_LIMIT or v.denominator > _RF_LIMIT:
                return True
    return False


def describe(state, input_spatial: tuple):
    """The report's view of a state (its numbers are worked out when first read: a long analysis makes one
    per layer that changes the receptive field, and most are never looked at)."""
    if state is None:
        return None
    view = _NEW(ReceptiveField)
    d = view.__dict__
    d["_source"] = (state, input_spatial)
    d["is_global"] = state == GLOBAL_STATE             # the fields with class defaults are set now
    d["approximate"] = isinstance(state, Approx)
    return view


_NEW = object.__new__


def _view(state, input_spatial: tuple) -> ReceptiveField:
    if state == GLOBAL_STATE:
        n = len(input_spatial)
        return ReceptiveField(tuple(input_spatial), (None,) * n, (None,) * n, (None,) * n, True)
    return ReceptiveField(tuple(r for r, _, _ in state), tuple(j for _, j, _ in state),
                          tuple(P for _, _, P in state), tuple(_centre(r, P) for r, _, P in state),
                          approximate=isinstance(state, Approx))


def _centre(r, P):
    if type(r) is int and type(P) is int:
        return (r - 1) // 2 - P if (r - 1) % 2 == 0 else Fraction(r - 1 - 2 * P, 2)
    c = -P + (r - 1) / Fraction(2)
    return int(c) if c.denominator == 1 else c


def step_text(prev, new, step: RF, dims) -> list[str]:
    """'r = 1 + (5-1)*1 = 5' lines for the explanation."""
    if not isinstance(new, tuple) or not isinstance(prev, tuple):
        if new == GLOBAL_STATE and prev != GLOBAL_STATE:
            return [Msg("op.rf_global_this_layer_sees")]
        return []
    lines = []
    for dim, (r0, j0, P0), (r1, j1, P1), k, s, p in zip(dims, prev, new, step.kernel, step.stride,
                                                       step.padding or (0,) * len(new)):
        r0, j0, P0, r1, j1, P1, c = (_num(v) for v in (r0, j0, P0, r1, j1, P1, _centre(r1, P1)))
        if step.kind == "window":
            # plain text (the hot path); other languages read it by pattern (i18n/zh.py PATTERNS)
            lines.append(f"rf_{dim}: r = {r0} + ({k}-1)*{j0} = {r1}; stride = {j0}*{s} = {j1}; "
                         f"padding = {P0} + {p}*{j0} = {P1}; centre = -{P1} + ({r1}-1)/2 = {c}")
        else:
            lines.append(Msg("op.rf_r_stride_padding_centre", dim=dim, r1=r1, j0=j0, s=_num(s), j1=j1, P1=P1, c=c, kind=step.kind))
    return lines


class StepLines(Sequence):
    """A layer's receptive-field lines (:func:`step_text`), written when first read: the states are kept, the
    text is made only for an explanation.  Reads, compares and hashes like the tuple of its lines."""

    __slots__ = ("_source", "_lines")

    def __init__(self, prev, new, step: RF, dims):
        self._source = (prev, new, step, dims)
        self._lines = None

    def _get(self) -> tuple:
        if self._lines is None:
            self._lines = tuple(step_text(*self._source))
            self._source = None
        return self._lines

    def __len__(self):
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]

    def __iter__(self):
        return iter(self._get())

    def __eq__(self, other):
        if isinstance(other, StepLines):
            other = other._get()
        return self._get() == other if isinstance(other, tuple) else NotImplemented

    def __hash__(self):
        return hash(self._get())

    def __repr__(self):
        return repr(self._get())


def _aligned_pair(a, b):
    """The state that merge() gives two exact, aligned states when one of them is the larger in every dim
    (a residual add), or None: then merge() works it out."""
    if type(a) is not tuple or type(b) is not tuple:
        return None
    picked = None
    for (ra, ja, pa), (rb, jb, pb) in zip(a, b):
        if not (type(ra) is int and type(rb) is int and type(pa) is int and type(pb) is int and ra % 2 and rb % 2
                and ja == jb and (ra - 1) // 2 - pa == (rb - 1) // 2 - pb):
            return None                                # even sizes (half-pixel centres), fractions, misaligned
        this = a if ra >= rb else b                    # the first of the largest, as max() picks
        if picked is None:
            picked = this
        elif picked is not this:
            return None
    return picked


def merge(states: list, dims=()):
    """Receptive field where paths meet: the largest r per dim (with that path's S and P).

    Returns (state, warning or None).  Paths are aligned when they share the
    stride and the centre -P + (r-1)/2; otherwise the merge is flagged.
    """
    if len(states) == 2:                               # a residual add: two exact states, aligned
        a, b = states
        if type(a) is tuple and type(b) is tuple and len(a) == len(b):
            picked = a if a is b else _aligned_pair(a, b)
            if picked is not None:
                return picked, None
    rank = None
    for s in states:                                   # one pass: a missing, a global, a different rank
        if s is None:
            return None, None
    for s in states:
        if s == GLOBAL_STATE:
            return GLOBAL_STATE, None
        if rank is None:
            rank = len(s)
        elif len(s) != rank:
            rank = -1
    if rank == -1:
        return None, None
    first = states[0]
    if all(s is first for s in states):                # one tensor merged with itself: x + x
        return first, None
    out, problems = [], []
    for d in range(rank):
        best = stride = centre = None
        aligned = True
        for s in states:
            t = s[d]
            r, j, P = t
            if best is None:
                best, stride, centre = t, j, _centre(r, P)
                continue
            if r > best[0]:                            # the first of the largest, as max() picks
                best = t
            if aligned and (j != stride or _centre(r, P) != centre):
                aligned = False
        out.append(best)
        if not aligned:
            per = [s[d] for s in states]
            dim = dims[d] if d < len(dims) else f"dim {d}"
            problems.append(Msg("op.rf_problem", dim=dim, strides=', '.join(str(_num(j)) for _, j, _ in per),
                                centres=', '.join(str(_num(_centre(r, P))) for r, _, P in per)))
    kind = Approx if any(isinstance(s, Approx) for s in states) else tuple
    same = next((s for s in states if type(s) is kind and all(a is b for a, b in zip(out, s))), None)
    out = kind(out) if same is None else same          # one input's own state (its view is made once)
    warning = None
    if problems:
        joined = problems[0]
        for p in problems[1:]:
            joined = Msg("op.semicolon_join", a=joined, b=p)
        warning = Msg("op.misaligned_merge", problems=joined)
    return out, warning
