"""The single formulas, as small pure functions.

Each ``*_step`` function returns a :class:`Step`: the value together with the
formula written out with the numbers put in, so the explanation can never
disagree with the number.  The plain public functions (``conv_output_length``,
``conv_params``, ...) return just the number, for people who want one.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .conventions import Convention, get_convention
from .i18n import Msg, quantity, render


@dataclass(frozen=True)
class Step:
    """One computed quantity: ``quantity = expr = value`` (note)."""

    quantity: str
    expr: str
    value: object
    note: str = ""

    def __str__(self) -> str:
        shown = f"{self.value:,}" if isinstance(self.value, int) and not isinstance(self.value, bool) else str(self.value)
        expr = f"{self.expr} = " if self.expr and self.expr != shown else ""
        note = f"   [{self.note}]" if self.note else ""
        return f"{self.quantity} = {expr}{shown}{note}"

    def render(self, lang: str = "en") -> str:
        """The step in ``lang`` ('en' is ``str(step)``): the quantity's name, formula and note translated."""
        if lang == "en":
            return str(self)
        shown = f"{self.value:,}" if isinstance(self.value, int) and not isinstance(self.value, bool) else render(self.value, lang)
        expr = f"{render(self.expr, lang)} = " if self.expr and self.expr != shown else ""
        note = f"   [{render(self.note, lang)}]" if self.note else ""
        return f"{quantity(self.quantity, lang)} = {expr}{shown}{note}"


class LazySteps:
    """The ``steps`` attribute of a frozen record (an op's LayerOut, a report row) that may be given as a thunk.

    The worked explanation is only read when someone asks for it (``--explain``, the page's popover, an export
    with explanations), while an analysis makes a record per layer: a record's ``steps`` may be stored as a
    function of no arguments, called on first access; its tuple of :class:`Step` then replaces it.  The record
    class sets ``steps = LazySteps()`` after ``@dataclass``; equality, ``repr``, ``dataclasses.replace`` and
    pickling (see :func:`steps_state`) read the tuple.
    """

    __slots__ = ()

    def __get__(self, obj, cls=None):
        if obj is None:
            return ()
        d = obj.__dict__
        s = d.get("steps", ())
        if callable(s):
            s = d["steps"] = tuple(s())
        return s

    def __set__(self, obj, value):
        from dataclasses import FrozenInstanceError
        raise FrozenInstanceError("cannot assign to field 'steps'")


def steps_state(obj) -> dict:
    """``obj.__dict__`` with its steps made (a thunk does not pickle): the record's ``__getstate__``."""
    d = dict(obj.__dict__)
    if callable(d.get("steps")):
        d["steps"] = obj.steps
    return d


def keff(k: int, d: int) -> int:
    """Effective (dilated) kernel extent d*(k-1)+1."""
    return d * (k - 1) + 1


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def floor_sum(n: int, m: int, a: int, b: int) -> int:
    """sum(floor((a*i + b) / m) for i in range(n)) in O(log m) steps (n >= 0, m >= 1, a >= 0, any b).

    The Euclid-like reduction of the AtCoder Library's floor_sum: lattice points under a line, no loop over n.
    """
    if n <= 0:
        return 0
    q, b = divmod(b, m)
    ans = q * n
    while True:
        if a >= m:
            ans += n * (n - 1) // 2 * (a // m)
            a %= m
        if b >= m:
            ans += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            return ans
        n, b = divmod(y_max, m)
        m, a = a, m


def _pads_text(pb: int, pa: int) -> str:
    return f"2*{pb}" if pb == pa else f"{pb} + {pa}"


def _k_text(k: int, d: int) -> str:
    return f"{d}*({k}-1)"


_NOTES: dict = {}


def _note(msg_id: str, conv_name: str) -> Msg:
    """A note that depends on the convention only ('pytorch: floor'): made once per convention."""
    m = _NOTES.get((msg_id, conv_name))
    if m is None:
        m = _NOTES[(msg_id, conv_name)] = Msg(msg_id, conv=conv_name)
    return m


@lru_cache(maxsize=4096)          # H and W, and the layers of a repeated block, ask for the same text
def _len_expr(msg_id: str, L: int, k: int, s: int, pb: int, pa: int, d: int) -> Msg:
    """floor((L + 2*p - d*(k-1) - 1)/s) + 1; in the seeds' form (zh) floor((I - K + 2P)/S) + 1."""
    return Msg(msg_id, L=L, pads=_pads_text(pb, pa), ktext=_k_text(k, d), s=s,
               K=str(k) if d == 1 else f"({d}*({k}-1)+1)")


# --------------------------------------------------------------------------- padding

def same_padding(length: int, kernel: int, stride: int = 1, dilation: int = 1,
                 lower: bool = False) -> tuple[int, int]:
    """(before, after) padding of 'same': out = ceil(L/s), total = max((out-1)*s + k_eff - L, 0).

    The odd pixel goes after (TensorFlow, ONNX SAME_UPPER, PyTorch) or before
    (ONNX SAME_LOWER, ``lower=True``).
    """
    out = _ceil_div(length, stride)
    total = max((out - 1) * stride + keff(kernel, dilation) - length, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def same_padding_step(dim: str, length: int, k: int, s: int, d: int, lower: bool = False) -> Step:
    pb, pa = same_padding(length, k, s, d, lower)
    out = _ceil_div(length, s)
    expr = f"max(({out}-1)*{s} + {keff(k, d)} - {length}, 0)"
    side = "before" if lower else "after"
    return Step(f"pad_{dim}", expr, pb + pa, Msg("note.same_pad", pb=pb, pa=pa, side=Msg(f"word.{side}")))


# --------------------------------------------------------------------------- conv

_LENGTHS: dict = {}                 # a length step by everything it depends on: layers repeat their sizes


def conv_length_step(dim: str, L: int, k: int, s: int, pb: int, pa: int, d: int,
                     conv: Convention, padding_word: str | None = None) -> Step:
    """Output length of a convolution along one dimension."""
    key = ("conv", dim, L, k, s, pb, pa, d, conv.name, conv.padding_style, padding_word)
    st = _LENGTHS.get(key)
    if st is None:
        if len(_LENGTHS) > 8192:
            _LENGTHS.clear()
        st = _LENGTHS[key] = _conv_length_step(dim, L, k, s, pb, pa, d, conv, padding_word)
    return st


def _conv_length_step(dim: str, L: int, k: int, s: int, pb: int, pa: int, d: int,
                      conv: Convention, padding_word: str | None) -> Step:
    ke = keff(k, d)
    if padding_word in ("same", "same_upper", "same_lower") and conv.name != "pytorch":
        out = _ceil_div(L, s)
        return Step(f"{dim}_out", Msg("expr.ceil_div", L=L, s=s), out, _note("note.same", conv.name))
    if padding_word == "valid" and conv.padding_style == "tf":
        out = _ceil_div(L - ke + 1, s)
        return Step(f"{dim}_out", Msg("expr.valid", L=L, ke=ke, s=s), out, _note("note.valid", conv.name))
    num = L + pb + pa - ke
    out = num // s + 1
    expr = _len_expr("expr.conv_len", L, k, s, pb, pa, d)
    return Step(f"{dim}_out", expr, out, _note("note.floor", conv.name))


def conv_output_length(length: int, kernel: int, stride: int = 1, padding=0, dilation: int = 1,
                       convention: str | Convention = "pytorch") -> int:
    """Output length of a convolution: floor((L + p_before + p_after - d*(k-1) - 1)/s) + 1.

    ``padding`` is an int, a (before, after) pair, 'valid' or 'same'.
    """
    conv = get_convention(convention)
    word = padding.lower() if isinstance(padding, str) else None
    if word == "valid":
        pb = pa = 0
    elif word is not None:
        pb, pa = same_padding(length, kernel, stride, dilation, lower=word == "same_lower")
    elif isinstance(padding, (tuple, list)):
        pb, pa = padding
    else:
        pb = pa = padding
    return conv_length_step("L", length, kernel, stride, pb, pa, dilation, conv, word).value


# --------------------------------------------------------------------------- pooling

def pool_length_step(dim: str, L: int, k: int, s: int, pb: int, pa: int, d: int, ceil_mode: bool,
                     conv: Convention, padding_word: str | None = None, any_pad: bool | None = None) -> Step:
    """Output length of a pooling window along one dimension, by the convention's rule."""
    key = ("pool", dim, L, k, s, pb, pa, d, bool(ceil_mode), conv.name, conv.pool_rule, padding_word, any_pad)
    st = _LENGTHS.get(key)
    if st is None:
        if len(_LENGTHS) > 8192:
            _LENGTHS.clear()
        st = _LENGTHS[key] = _pool_length_step(dim, L, k, s, pb, pa, d, ceil_mode, conv, padding_word, any_pad)
    return st


def _pool_length_step(dim: str, L: int, k: int, s: int, pb: int, pa: int, d: int, ceil_mode: bool,
                      conv: Convention, padding_word: str | None, any_pad: bool | None) -> Step:
    ke = keff(k, d)
    if conv.pool_rule == "tf" or padding_word in ("same", "same_upper", "same_lower", "valid"):
        if padding_word == "valid" or (padding_word is None and pb == pa == 0):
            out = _ceil_div(L - ke + 1, s)
            return Step(f"{dim}_out", Msg("expr.valid", L=L, ke=ke, s=s), out, _note("note.valid", conv.name))
        out = _ceil_div(L, s)
        return Step(f"{dim}_out", Msg("expr.ceil_div", L=L, s=s), out, _note("note.same", conv.name))
    if conv.pool_rule == "caffe":
        out = _ceil_div(L + pb + pa - k, s) + 1
        expr = Msg("expr.pool_caffe", L=L, pads=_pads_text(pb, pa), k=k, s=s)
        note = Msg("note.caffe_pool")
        padded = (pb or pa) if any_pad is None else any_pad
        if padded and (out - 1) * s >= L + pb:
            note = Msg("note.caffe_pool_drop", x=(out - 1) * s, L=L, pb=pb)
            out -= 1
        return Step(f"{dim}_out", expr, out, note)
    # PyTorch (and ONNX explicit pads): aten/src/ATen/native/Pool.h pooling_output_shape_pad_lr
    if ceil_mode:
        out = (L + pb + pa - ke + (s - 1)) // s + 1
        expr = _len_expr("expr.conv_len_ceil", L, k, s, pb, pa, d)
        note = _note("note.ceil_mode", conv.name)
        if (out - 1) * s >= L + pb:
            note = Msg("note.ceil_mode_drop", conv=conv.name, x=(out - 1) * s, L=L, pb=pb)
            out -= 1
        return Step(f"{dim}_out", expr, out, note)
    out = (L + pb + pa - ke) // s + 1
    expr = _len_expr("expr.conv_len", L, k, s, pb, pa, d)
    return Step(f"{dim}_out", expr, out, _note("note.floor", conv.name))


def pool_output_length(length: int, kernel: int, stride: int | None = None, padding=0, dilation: int = 1,
                       ceil_mode: bool = False, convention: str | Convention = "pytorch") -> int:
    """Output length of a max/avg pooling window along one dimension (stride defaults to the kernel)."""
    conv = get_convention(convention)
    stride = kernel if stride is None else stride
    word = padding.lower() if isinstance(padding, str) else None
    pb = pa = 0
    if word in ("same", "same_upper", "same_lower") and conv.pool_rule != "tf":
        pb, pa = same_padding(length, kernel, stride, dilation, lower=word == "same_lower")
    elif isinstance(padding, (tuple, list)):
        pb, pa = padding
    elif word is None:
        pb = pa = padding
    return pool_length_step("L", length, kernel, stride, pb, pa, dilation, ceil_mode, conv, word).value


# --------------------------------------------------------------------------- transposed conv

def transposed_length_step(dim: str, L: int, k: int, s: int, pb: int, pa: int, op: int | None, d: int,
                           conv: Convention, padding_word: str | None = None) -> Step:
    """Output length of a transposed convolution along one dimension."""
    ke = keff(k, d)
    rule = conv.transposed_rule
    if rule == "keras":
        # keras/src/backend/common/backend_utils.py compute_conv_transpose_output_length
        if op is None:
            if padding_word == "same":
                return Step(f"{dim}_out", f"{L}*{s}", L * s, Msg("op.keras_same_no_output_padding"))
            out = L * s + max(ke - s, 0)
            return Step(f"{dim}_out", f"{L}*{s} + max({ke} - {s}, 0)", out, Msg("op.keras_valid_no_output_padding"))
        pad = ke // 2 if padding_word == "same" else 0
        out = (L - 1) * s + ke - 2 * pad + op
        return Step(f"{dim}_out", f"({L}-1)*{s} + {ke} - 2*{pad} + {op}", out,
                    Msg("op.keras_output_padding", p=padding_word or 'valid'))
    op = op or 0
    if rule == "onnx" and padding_word in ("same", "same_upper", "same_lower"):
        return Step(f"{dim}_out", f"{L}*{s}", L * s, Msg("op.onnx_auto_pad_same"))
    if rule == "caffe":
        out = s * (L - 1) + ke - pb - pa
        return Step(f"{dim}_out", f"{s}*({L}-1) + {ke} - {_pads_text(pb, pa)}", out, Msg("op.caffe_deconvolution"))
    if rule == "onnx":
        out = s * (L - 1) + op + ke - pb - pa
        return Step(f"{dim}_out", f"{s}*({L}-1) + {op} + {ke} - {_pads_text(pb, pa)}", out, Msg("op.onnx_convtranspose"))
    out = (L - 1) * s - pb - pa + d * (k - 1) + op + 1
    return Step(f"{dim}_out", f"({L}-1)*{s} - {_pads_text(pb, pa)} + {_k_text(k, d)} + {op} + 1", out,
                Msg("op.pytorch_convtranspose"))


def transposed_output_length(length: int, kernel: int, stride: int = 1, padding=0, output_padding=None,
                             dilation: int = 1, convention: str | Convention = "pytorch") -> int:
    """Output length of a transposed convolution along one dimension."""
    conv = get_convention(convention)
    word = padding.lower() if isinstance(padding, str) else None
    pb = pa = 0 if word else padding
    if isinstance(padding, (tuple, list)):
        pb, pa = padding
    return transposed_length_step("L", length, kernel, stride, pb, pa, output_padding, dilation,
                                  conv, word).value


# --------------------------------------------------------------------------- parameters

def conv_params(in_channels: int, out_channels: int, kernel, groups: int = 1, bias: bool = True,
                ndim: int = 2) -> int:
    """(C_in/g * prod(k) + bias) * C_out; an int kernel is square (``ndim`` dims, 2 by default)."""
    ks = kernel if isinstance(kernel, (tuple, list)) else (kernel,) * ndim
    n = 1
    for k in ks:
        n *= k
    return (in_channels // groups * n + (1 if bias else 0)) * out_channels


def dense_params(in_features: int, units: int, bias: bool = True) -> int:
    """(in + bias) * units."""
    return (in_features + (1 if bias else 0)) * units


def recurrent_params(kind: str, input_size: int, hidden: int, *, num_layers: int = 1, bidirectional: bool = False,
                     bias: bool = True, convention: str | Convention = "pytorch", reset_after: bool | None = None,
                     proj_size: int = 0) -> int:
    """Parameters of an RNN / LSTM / GRU stack under a convention's bias rule."""
    conv = get_convention(convention)
    return recurrent_param_total(kind, input_size, hidden, num_layers, 2 if bidirectional else 1, bias, conv,
                                 reset_after, proj_size)


# --------------------------------------------------------------------------- recurrent stacks

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
#: elementwise FLOPs of one cell step per hidden unit (activation table of ops/activation.py)
CELL_FLOPS = {
    "rnn": 1,    # tanh (or relu)
    "lstm": 18,  # 3 sigmoids (4 each), tanh(g), c = f*c + i*g (3), tanh(c), h = o*tanh(c)
    "gru": 15,   # 2 sigmoids (4 each), r*h_n, add, tanh, h = (1-z)*n + z*h (4)
}


def bias_vectors(kind: str, conv: Convention, reset_after: bool | None) -> int:
    """How many bias vectors of size G a layer/direction has."""
    if conv.name == "keras" and kind == "gru":
        return 2 if (reset_after is None or reset_after) else 1
    return conv.rnn_biases


def recurrent_param_parts(kind: str, input_size: int, hidden: int, num_layers: int, dirs: int, bias: bool,
                          conv: Convention, reset_after: bool | None = None, proj_size: int = 0):
    """[(name, count)] for every weight of the stack, in PyTorch's order."""
    G = GATES[kind] * hidden
    hr = proj_size or hidden
    nb = bias_vectors(kind, conv, reset_after) if bias else 0
    parts = []
    for layer in range(num_layers):
        i_l = input_size if layer == 0 else hr * dirs
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            parts.append((f"w_ih{sfx}", G * i_l))
            parts.append((f"w_hh{sfx}", G * hr))
            if nb:
                parts.append((f"bias{sfx}", nb * G))
            if proj_size:
                parts.append((f"w_hr{sfx}", proj_size * hidden))
            if kind == "rnn" and conv.name == "caffe":
                # BVLC caffe RNNLayer: o_t = tanh(W_ho h_t + b_o) (include/caffe/layers/rnn_layer.hpp)
                parts.append((f"w_ho{sfx}", hidden * hidden))
                if bias:
                    parts.append((f"b_o{sfx}", hidden))
    return parts


def recurrent_param_total(kind: str, input_size: int, hidden: int, num_layers: int, dirs: int, bias: bool,
                          conv: Convention, reset_after: bool | None = None, proj_size: int = 0) -> int:
    """sum of recurrent_param_parts in closed form: layer 0 reads the input, layers 1.. all read dirs*H_r."""
    G = GATES[kind] * hidden
    hr = proj_size or hidden
    nb = bias_vectors(kind, conv, reset_after) if bias else 0
    caffe = hidden * hidden + (hidden if bias else 0) if kind == "rnn" and conv.name == "caffe" else 0

    def layer(i_l: int) -> int:
        return G * i_l + G * hr + nb * G + proj_size * hidden + caffe
    return dirs * (layer(input_size) + (num_layers - 1) * layer(hr * dirs))
