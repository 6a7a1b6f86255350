"""A Keras model's training step as Keras 3 runs it on its torch backend (``KERAS_BACKEND=torch``).

Keras' torch backend does not call PyTorch's modules: it writes each layer with its own torch calls
(``keras/src/backend/torch/nn.py``, ``numpy.py``), and they keep other tensors for the backward pass than
PyTorch's ``nn`` layers do.  Measured with ``torch.autograd.graph.saved_tensors_hooks`` (Keras 3, torch 2.13):

- **convolutions** read channels-last inputs: the input is transposed to channels-first and made contiguous (a
  copy), then converted to torch's channels-last memory format (a second copy, the one the convolution keeps;
  an input that is already a transposed channels-first tensor needs only this one); the kernel is transposed
  and copied too (kept).  ``padding='same'`` that torch cannot express (unequal sides) pads the copy (the padded
  tensor is kept instead).  The bias is a separate add, the activation a separate op (ReLU keeps its output);
- **batch normalization** (training) computes the variance as mean(x^2) - mean(x)^2 (``square`` keeps x) and
  normalizes with ``x.subtract(mean).mul_(...)``: the in-place multiply keeps a copy of x - mean; with frozen
  weights only per-channel factors are kept;
- **pooling** transposes a channels-last input to a contiguous channels-first copy (kept by the pool, with the
  argmax indices for max pooling; average pooling keeps its input too); its output stays a transposed view,
  which a later ``Flatten`` / ``Reshape`` copies and a later convolution copies once;
- **Dense** is a matrix product (keeps its input) plus a bias add; **Dropout** keeps a float mask.

Keras' ``train_step`` calls ``zero_grad()`` after the forward pass, so the previous step's gradients are
alive during the forward; its optimizers keep an int32 iteration counter and a float32 learning rate besides
their slots (momentum 1x, Adam / AdamW 2x), and Adam updates every variable at once with ``torch._foreach_*``
ops, whose temporaries are three times the trainable parameters at their most.
"""
from __future__ import annotations

from dataclasses import replace
from math import ceil, prod

from .i18n import Msg
from .ops.training import NOTHING, SHARES, Backward, Saved, activation_saved
from .training import TNode

#: optimizer: (slots per parameter, temporaries of the update in units of all trainable parameters)
OPTIMIZER = {"sgd": (0, 0), "momentum": (1, 0), "adam": (2, 3), "adamw": (2, 3)}
#: the optimizer's own variables: iteration (int32) and learning_rate (float32)
OPTIMIZER_SCALARS = 8
PASS = Backward()


def state_bytes(optimizer: str, trainable: int, each: int) -> int:
    return OPTIMIZER[optimizer][0] * trainable * each + OPTIMIZER_SCALARS


def update_temps(optimizer: str, trainable: int, each: int) -> int:
    return OPTIMIZER[optimizer][1] * trainable * each


def _costs(b: Backward) -> tuple:
    return b.input_macs, b.weight_macs, b.input_flops, b.weight_flops


def _ints(v, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        v = tuple(int(i) for i in v)
        return v if len(v) == n else (v + (v[-1],) * n)[:n]
    return (int(v),) * n if isinstance(v, (int, float)) else (1,) * n


def _same_pads(spatial, k, s, d) -> tuple:
    """Keras' 'same' padding per spatial dim (before, after), as the torch backend computes it."""
    out = []
    for L, k_, s_, d_ in zip(spatial, k, s, d):
        ke = (k_ - 1) * d_ + 1
        total = ke - 1 if s_ == 1 else max(0, (ceil(L / s_) - 1) * s_ + ke - L)
        out.append((total // 2, total - total // 2))
    return tuple(out)


class Expander:
    """Turns each Keras layer into the torch ops its backend runs (TNodes), following which tensors are
    transposed channels-first views (``cf``) and which are plain channels-last tensors."""

    def __init__(self, nb: int):
        self.nb = nb
        self.cf: set[str] = set()          # tensor ids whose memory is channels-first (a transposed view)
        self.layer_outputs: list[str] = []  # each layer's output: Keras' graph runner holds it until the end
        self.time_major: set[str] = set()   # a recurrent layer's sequence: a batch-first view of (T, B, H) memory

    def expand(self, kind: str, family: str, args: dict, row, node: TNode) -> list[TNode]:
        self.out = []
        self.row, self.node = row, node
        self.layer_outputs.append(node.output)
        x = tuple(row.input_shapes[0]) if row.input_shapes else ()
        y = tuple(row.output_shape)
        ins = node.inputs
        if family == "conv" and not kind.startswith("convtranspose") and 3 <= len(x) <= 5:
            t = self._conv(kind, args, x, y)
        elif kind == "dense" and ins:
            bias = args.get("bias", True) not in (False, "false", 0)
            t = self._op("", ins, y, Backward((Saved("input", "in0", prod(x)),) if node.trainable else (),
                                              *_costs(node.backward)), main=True,
                         last=not self._has_tail(args, bias))
            t = self._tail(t, y, args, bias)
        elif family == "norm" and kind.startswith("batchnorm") and len(x) >= 2:
            t = self._batchnorm(x, ins[0])
        elif family == "pool" and "adaptive" not in kind and len(x) >= 3:
            t = self._pool(kind, args, x, y, ins[0])
        elif kind in ("flatten", "reshape") and ins:
            src = ins[0]
            if src in self.cf and len(x) > 2:          # a transposed view: reshape copies it
                t = self._op("", ins, y, NOTHING, main=True)
            else:
                t = self._op("", ins, y, SHARES, main=True)
        elif kind in ("lstm", "gru") and ins and len(x) == 3 and not args.get("bidirectional"):
            t = self._op("", ins, y, self._recurrent(kind, x, args, node.backward, node.trainable,
                                                     ins[0] in self.time_major), main=True)
            if args.get("return_sequences") in (True, "true"):
                self.time_major.add(t)
        elif kind == "dropout" and ins:
            rate = args.get("p", args.get("rate", 0.5))
            # rate 0: Keras returns its input (no new tensor)
            b = SHARES if isinstance(rate, (int, float)) and rate == 0 else Backward(
                (Saved("mask", "own", prod(y)),), 0, 0, prod(y), 0)
            t = self._op("", ins, y, b, main=True)
            self._keep_layout(ins[0], t)
        elif kind == "multiheadattention" and ins and len(x) == 3 and not args.get("dropout") \
                and args.get("attention_axes") in (None, (1,), [1], 1):       # over the time axis (4-d q, k, v)
            t = self._op("", ins, y, self._fused_attention(args, node.backward), main=True)
        else:
            t = self._op("", ins, y, node.backward, main=True)
            if family in ("activation", "norm", "merge") and ins and all(i in self.cf for i in ins):
                self.cf.add(t)
        return self.out

    # ---------------------------------------------------------------- building blocks
    def _op(self, part: str, ins, shape, backward: Backward, *, main: bool = False, last: bool | None = None,
            numel: int | None = None) -> str:
        """One torch op of the layer; ``main``: the one with the layer's weights and products; ``last``: the one
        that makes the layer's output (default: the main one)."""
        n = self.node
        last = main if last is None else last
        name = n.name if main else f"{n.name}#{part}"
        out = n.output if last else f"{n.output}#{part or 'main'}"
        shapes = {f"in{i}": s for i, s in enumerate(n.shapes.get(f"in{i}") for i in range(len(ins)))
                  if s is not None} if main else {}
        shapes["out"] = tuple(shape)
        count = prod(shape) if numel is None else numel
        self.out.append(TNode(name, tuple(ins), out, count * self.nb, backward,
                              trainable=n.trainable if main else 0, frozen=n.frozen if main else 0,
                              param_tensors=n.param_tensors if main else (), shapes=shapes,
                              weight_grad=n.weight_grad if main else False))
        return out

    def _keep_layout(self, src: str, dst: str):
        if src in self.cf:
            self.cf.add(dst)

    def _to_channels_first(self, src: str, x: tuple, tag: str, fmt_copy: bool) -> str:
        """Keras' transpose to channels-first: a copy unless ``src`` is a transposed view already; convolutions
        (2-d and 3-d) then convert to torch's channels-last format (a copy unless it already is)."""
        n = prod(x)
        if src not in self.cf:
            src = self._op(f"{tag}transpose", (src,), x, NOTHING, numel=n)
            if fmt_copy:                                   # channels-first contiguous -> channels-last format
                src = self._op(f"{tag}channels_last", (src,), x, NOTHING, numel=n)
        elif fmt_copy:
            src = self._op(f"{tag}channels_last", (src,), x, NOTHING, numel=n)
        return src

    def _pad(self, src: str, x: tuple, pads, tag: str) -> str:
        if all(a == b for a, b in pads):
            return src
        padded = (x[0],) + tuple(L + a + b for L, (a, b) in zip(x[1:-1], pads)) + (x[-1],)
        return self._op(f"{tag}pad", (src,), padded, NOTHING)

    def _conv(self, kind: str, args: dict, x: tuple, y: tuple) -> str:
        nd = len(x) - 2
        k = _ints(args.get("kernel_size", 1), nd)
        s = _ints(args.get("stride", 1), nd)
        d = _ints(args.get("dilation", 1), nd)
        same = str(args.get("padding", "valid")).lower() == "same"
        src = self.node.inputs[0]
        kernel = prod(self.row.kernel_shape) if self.row.kernel_shape else 0
        separable = kind.startswith("separable")
        if separable:                                       # depthwise conv, then a 1x1 conv on its output
            mult = int(args.get("depth_multiplier", 1) or 1)
            mid = tuple(y[:-1]) + (x[-1] * mult,)
            dw_kernel = prod(k) * x[-1] * mult
            c = self._to_channels_first(src, x, "depthwise ", nd >= 2)
            if same:
                c = self._pad(c, x, _same_pads(x[1:-1], k, s, d), "depthwise ")
            mid_t = self._op("depthwise", (c,), mid, Backward(
                (Saved("input (channels-first copy)", "in0", prod(self._shape_of(c, x))),)
                + ((Saved("kernel (transposed copy)", "own", dw_kernel),) if nd >= 2 else ())))
            c = self._to_channels_first(mid_t, mid, "pointwise ", nd >= 2)
            kernel = max(kernel - dw_kernel, 0) if kernel else mid[-1] * y[-1]
            k, s = (1,) * nd, (1,) * nd
            x_conv = mid
        else:
            c = self._to_channels_first(src, x, "", nd >= 2)
            x_conv = x
            if same:
                c = self._pad(c, x, _same_pads(x[1:-1], k, s, d), "")
        saved = (Saved("input (channels-first copy)", "in0", prod(self._shape_of(c, x_conv))),)
        if nd >= 2:                                         # conv1d reads the transposed kernel as a view
            saved += (Saved("kernel (transposed copy)", "own", kernel),)
        b = self.node.backward
        bias = args.get("bias", True) not in (False, "false", 0)
        t = self._op("", (c,), y, Backward(saved, *_costs(b)), main=True, last=not self._has_tail(args, bias))
        if nd < 2:
            self.cf.add(t)                                  # conv1d's result is a transposed view
        return self._tail(t, y, args, bias=bias)

    def _shape_of(self, tid: str, default: tuple) -> tuple:
        for n in reversed(self.out):
            if n.output == tid:
                return n.shapes.get("out", default)
        return default

    def _has_tail(self, args: dict, bias: bool) -> bool:
        return bias or args.get("activation") not in (None, "linear", "None")

    def _tail(self, t: str, y: tuple, args: dict, bias: bool) -> str:
        """The bias add and the fused activation of a Conv / Dense layer (ops of their own in Keras)."""
        act = args.get("activation")
        act = None if act in (None, "linear", "None") else act
        if bias:
            t2 = self._op("bias", (t,), y, PASS, last=act is None)
            self._keep_layout(t, t2)
            t = t2
        if act is not None:
            from .ops import registry
            op = registry.OPS.get(registry.norm(str(act)))
            kind = op.kind if op is not None else str(act)
            n = prod(y)
            t2 = self._op("activation", (t,), y, Backward(activation_saved(kind, n, n, False)), last=True)
            self._keep_layout(t, t2)
            t = t2
        return t

    @staticmethod
    def _recurrent(kind: str, x: tuple, args: dict, b: Backward, trainable: int, time_major: bool) -> Backward:
        """Keras' fused LSTM / GRU path on torch (``_fallback_lstm`` / ``_fallback_gru``: no mask, no recurrent
        dropout): the input projections of all T steps in one product (x_proj, (T, B, G), G = 4 H or 3 H), then
        a loop over the steps.

        Forward: time-major copies of the input (T*B, I) for the one input projection, then per step 11 (LSTM)
        or 10 (GRU) tensors of (B, H) -- gate slices, activations, states -- and a GRU's split bias (6 H): alive
        after the forward besides the output.  An input that is a recurrent layer's sequence is time-major memory
        already: one copy fewer.

        Backward: the loop's gradient of x_proj is summed one step at a time -- each step's slice gradient is a
        full-size (T, B, G) tensor (``select_backward``) added out of place to the running sum, so three of
        them are alive at once beside the recurrent kernel's running gradient (H G); or, when H G is the
        larger, three of that one beside one of x_proj's.  The kernel's, the bias' and the input's gradients
        are made after the loop, and two steps' saved tensors are freed by then.  The layer's peak, weight and
        input gradients not yet made: 3 T B G + H G - T B I - (21 LSTM, 16 GRU) B H (+ B H for a sequence
        output), or T B G + 3 H G - T B I - (17, 19) B H (+ 2 B H, B H), whichever is larger.  Both fitted on
        (T, B, I, H) grids against MemTracker, exact on each to 16 bytes for one recurrent layer, within 3 %
        for stacked ones (tests/test_training_keras.py checks sizes they were not fitted on)."""
        n, steps, i = x
        h = int(args.get("hidden_size") or 0)
        g = (4 if kind == "lstm" else 3) * h
        if kind == "lstm":
            own = steps * n * (11 * h + 2 * i)
        else:
            own = steps * n * (10 * h + 2 * i) - n * h + 6 * h
        if time_major:
            own -= steps * n * i
        seq = args.get("return_sequences") in (True, "true")
        proj, rec, nh = steps * n * g, h * g, n * h       # x_proj's gradient; the recurrent kernel's
        lstm = kind == "lstm"
        proj_sums = 3 * proj + (rec if trainable else 0) - ((21 if lstm else 16) - seq) * nh
        rec_sums = proj + 3 * rec - ((17 - 2 * seq) if lstm else (19 - seq)) * nh
        temp = (max(proj_sums, rec_sums) if trainable else proj_sums) - steps * n * i
        return Backward((Saved("gates and states of every step", "own", own),), *_costs(b),
                        temp=temp, pending_grads=trainable, late_input_grad=True)

    def _fused_attention(self, args: dict, b: Backward) -> Backward:
        """Keras' MultiHeadAttention without dropout (and without returning its scores) calls
        ``ops.dot_product_attention``: torch's fused CPU kernel keeps contiguous copies of the projected query,
        key and value, its output and a float32 log-sum-exp per query and head -- not the (Tq, Tk) weights."""
        q = tuple(self.row.input_shapes[0])
        n, tq = q[0], q[1]
        heads = int(args.get("num_heads"))
        vd = int(args.get("value_dim") or args.get("key_dim"))
        weights = Msg("op.attention_weights")
        saved = tuple(s for s in b.saved if s.what != weights)
        saved += (Saved(Msg("op.fused_attention_output"), "own", n * heads * tq * vd),
                  Saved(Msg("op.logsumexp"), "own", n * heads * tq, "float32"))
        return replace(b, saved=saved)

    def _batchnorm(self, x: tuple, src: str) -> str:
        n, c = prod(x), x[-1]
        trainable = self.node.trainable > 0
        if trainable:                                       # Keras' moments: mean(square(x)) keeps x
            self._op("square", (src,), x, Backward((Saved("input (for x^2)", "in0", n),)))
            saved = (Saved("a copy of x - mean (multiplied in place)", "own", n),
                     Saved("mean and scale factors", "own", 3 * c, "float32"))
        else:
            saved = (Saved("scale factors", "own", c, "float32"),)
        b = self.node.backward
        t = self._op("", (src,), x, Backward(saved, 0, 0, b.input_flops, b.weight_flops), main=True)
        self._keep_layout(src, t)
        return t

    def _pool(self, kind: str, args: dict, x: tuple, y: tuple, src: str) -> str:
        nd = len(x) - 2
        if kind.startswith("global"):
            if "max" in kind:
                b = Backward((Saved("input", "in0", prod(x)), Saved("output", "out", prod(y))))
            else:
                b = NOTHING
            return self._op("", (src,), y, b, main=True)
        k = _ints(args.get("kernel_size", 2), nd)
        s = _ints(args.get("stride") or k, nd)
        c = self._to_channels_first(src, x, "", False)
        if str(args.get("padding", "valid")).lower() == "same":
            c = self._pad(c, x, _same_pads(x[1:-1], k, s, (1,) * nd), "")
        saved = (Saved("input (channels-first copy)", "in0", prod(self._shape_of(c, x))),)
        if "max" in kind:
            saved += (Saved("indices", "own", prod(y), "int64"),)
        t = self._op("", (c,), y, Backward(saved, 0, 0, self.node.backward.input_flops, 0), main=True)
        self.cf.add(t)                                      # the result stays a transposed view
        return t
