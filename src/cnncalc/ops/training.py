"""What one training step needs from each op kind: the tensors autograd saves, and the backward's MACs / FLOPs.

One rule per op kind, used by every front-end (the text spec, torch, ONNX and Keras reach it through the op
kind their layer or op translates to).  The saved tensors are those PyTorch's autograd keeps for the kind
(``tools/autograd/derivatives.yaml``): a convolution keeps its input, ReLU its output, max pooling its input and
the argmax indices (int64), batch norm its input and per-channel mean / inverse std (float32), dropout its mask
(bool), softmax its output, a matrix product of two activations both operands.  Views, reshapes, adds and
concats keep nothing.

Backward cost, per layer:

- gradient with respect to the input (``input_macs``): skipped when nothing upstream needs a gradient (the
  first layers of a network, layers after frozen ones) -- the training simulator decides that;
- gradient with respect to the weights (``weight_macs``): skipped for frozen layers.

For products (convolutions, dense, matmul, attention) each gradient costs as many MACs as the forward pass (a
transposed product with the same operands), as ``torch.utils.flop_counter`` counts them; a bias gradient is a sum
of the output gradient (adds only).  For elementwise ops, norms and pools the backward FLOPs are taken equal to
the forward FLOPs (docs/definitions.md: a convention, not a measurement).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..formulas import Step
from ..i18n import Msg
from ..i18n.en import MESSAGES


@dataclass(frozen=True)
class Saved:
    """One tensor autograd keeps for the backward pass."""

    what: str            # "input", "output", "indices", "mask", "statistics", ...
    ref: str             # "in0", "in1", "in2": an input tensor; "out": the output tensor; "own": made by the op
    numel: int
    dtype: str = "act"   # "act": the activation dtype; "int64", "bool", "float32": fixed


@dataclass(frozen=True)
class Backward:
    saved: tuple[Saved, ...] = ()
    input_macs: int = 0            # gradient of the input(s), MAC ops
    weight_macs: int = 0           # gradient of the weights
    input_flops: int = 0           # FLOPs of the input gradient (2 per MAC, plus elementwise work)
    weight_flops: int = 0          # FLOPs of the weight and bias gradients
    inplace: bool = False          # the output is input 0's storage (an in-place op or a view)
    note: str = ""
    # the moment of the layer's backward where its memory peaks (a front-end's loop of many small ops):
    temp: int = 0                  # elements (activation dtype) alive then besides the gradients and saved tensors
    pending_grads: int = 0         # elements of its parameters' gradients not made yet then (made at the end)
    late_input_grad: bool = False  # its input gradients are made at the end, after that moment


NOTHING = Backward()
SHARES = Backward(inplace=True)
#: kinds whose output is a view of their input (no new memory)
VIEWS = {"flatten", "reshape", "identity"}
DTYPE_BYTES = {"int64": 8, "bool": 1, "float32": 4}


def _inplace(args) -> bool:
    v = args.get("inplace", False)
    return v is True or str(v).lower() == "true"


def _products(macs: int, weight: bool, bias_adds: int = 0) -> tuple:
    """(input_macs, weight_macs, input_flops, weight_flops) of a product op with ``macs`` forward MACs."""
    return macs, (macs if weight else 0), 2 * macs, (2 * macs + bias_adds if weight else 0)


def _out_numel(out_shape) -> int:
    return prod(out_shape) if out_shape else 0


#: activations whose derivative reads their result (PyTorch), the others read their input
KEEP_OUTPUT = {"relu", "sigmoid", "tanh", "softmax", "logsoftmax", "exp", "sqrt", "rsqrt", "reciprocal"}
#: in place, these still read the result (which is the input's storage); the other in-place activations make
#: autograd keep a copy of their input before overwriting it (measured with saved_tensors_hooks, torch 2.13)
INPLACE_RESULT = {"relu", "sigmoid", "tanh", "leakyrelu", "elu"}


def _activation_saved(kind: str, nx: int, ny: int, inplace: bool) -> tuple:
    if inplace:
        if kind in INPLACE_RESULT:
            return (Saved(Msg("op.output_place"), "out", ny),)
        return (Saved(Msg("op.copy_input_op_overwrites"), "own", nx),)
    if kind in KEEP_OUTPUT:
        return (Saved("output", "out", ny),)
    return (Saved("input", "in0", nx),)


#: public name: front-ends that build their own nodes (Keras on torch) reuse the activations' rule
activation_saved = _activation_saved


def backward(kind: str, family: str, in_shapes: list, out_shape, args: dict, out) -> Backward:
    """The rule of op ``kind`` (of ``family``) for inputs ``in_shapes`` -> ``out_shape``; ``out`` is the op's
    forward LayerOut (its MACs / FLOPs), ``args`` its arguments."""
    x = in_shapes[0] if in_shapes else ()
    nx, ny = prod(x) if x else 0, _out_numel(out_shape)
    trainable = out.params - out.non_trainable > 0
    inp = Saved("input", "in0", nx)
    if family == "conv":
        bias = args.get("bias", True) not in (False, "false", 0)
        filters = out_shape[1] if len(out_shape) > 1 else 0
        bias_adds = ny if bias and trainable else 0
        saved = (inp,)
        if kind.startswith("separable"):
            mid = prod(out_shape) // max(filters, 1) * x[1] * int(args.get("depth_multiplier", 1) or 1)
            saved += (Saved(Msg("op.depthwise_output"), "own", mid),)
        return Backward(saved, *_products(out.macs, trainable, bias_adds))
    if kind == "dense":
        bias = args.get("bias", True) not in (False, "false", 0)
        return Backward((inp,) if trainable else (), *_products(out.macs, trainable, ny if bias else 0))
    if kind == "matmul":
        b = Saved("input 2", "in1", prod(in_shapes[1]))
        return Backward((inp, b), 2 * out.macs, 0, 4 * out.macs, 0, note=Msg("op.both_operands_need_gradient"))
    if kind == "scaled_dot_product_attention":
        q, k, v = in_shapes
        attn = prod(q[:-1]) * k[-2]
        saved = (Saved("query", "in0", prod(q)), Saved("key", "in1", prod(k)), Saved("value", "in2", prod(v)),
                 Saved(Msg("op.attention_weights"), "own", attn))
        return Backward(saved, 2 * out.macs, 0, 4 * out.macs + out.flops - out.mults - out.adds, 0)
    if kind == "multiheadattention":
        return _mha(in_shapes, out_shape, args, out, trainable)
    if kind in ("attention", "additiveattention"):           # Keras: QK^T (or q + k, tanh) and A V
        q = in_shapes[0]
        saved = tuple(Saved(w, f"in{i}", prod(s)) for i, (w, s) in enumerate(zip(("query", "value", "key"),
                                                                                  in_shapes)))
        attn = prod(q[:-1]) * in_shapes[1][-2]
        saved += (Saved(Msg("op.attention_weights"), "own", attn),) + _attention_dropout(args, attn)
        return Backward(saved, 2 * out.macs, 0, 2 * out.flops + (attn if _dropout_rate(args) else 0), 0)
    if kind == "timedistributed":                            # the inner layer's rule, time folded into the batch
        from .registry import OPS, norm
        op = OPS.get(norm(str(args.get("layer"))))
        fold = (lambda s: (s[0] * s[1],) + tuple(s[2:]) if len(s) > 1 else tuple(s))
        if op is not None:
            return backward(op.kind, op.family, [fold(s) for s in in_shapes], fold(tuple(out_shape)),
                            dict(args.get("args") or ()), out)
    if kind == "layerscale":                                 # x * gamma: gamma's gradient reads the input
        return Backward((inp,), 0, 0, out.flops, nx if trainable else 0)
    if kind == "embedding":
        return Backward((Saved(Msg("op.token_ids"), "in0", nx, "int64"),), 0, 0, 0, ny if trainable else 0)
    if family == "recurrent":
        return _recurrent(kind, x, out_shape, args, out, trainable)
    if kind == "scalar":                                     # x (+ - * / ...) a constant number
        return _pointwise(str(args.get("op")), in_shapes, out_shape, out, {})
    if family == "pointwise":
        return _pointwise(kind, in_shapes, out_shape, out, args)
    if family == "reduction":
        if args.get("keeps_input"):                  # max / min / var / std read the input again
            return Backward((inp,), 0, 0, out.flops, 0)
        return Backward((), 0, 0, out.flops, 0)
    if family == "activation":
        if kind == "prelu":
            return Backward((inp,), 0, 0, out.flops, nx if trainable else 0)
        return Backward(_activation_saved(kind, nx, ny, _inplace(args)), 0, 0, out.flops, 0, inplace=_inplace(args))
    if family == "norm":
        return _norm(kind, x, out, trainable)
    if family == "pool":
        return _pool(kind, x, out_shape, out)
    if kind == "dropout":
        p = args.get("rate", args.get("p", 0.5))
        if isinstance(p, (int, float)) and p == 0:
            return NOTHING
        # PyTorch on the CPU keeps the scaled mask as a float tensor (input * mask); CUDA's fused kernel a bool one
        return Backward((Saved("mask", "own", ny),), 0, 0, ny, 0, note=Msg("op.mask_activation_dtype_cpu"))
    if family == "merge" and kind in ("multiply", "maximum", "minimum"):
        saved = tuple(Saved(f"input {i + 1}" if i else "input", f"in{i}", prod(s)) for i, s in enumerate(in_shapes))
        return Backward(saved, 0, 0, out.flops, 0)
    if family == "merge":
        return Backward((), 0, 0, ny * max(len(in_shapes) - 1, 0) if kind in ("average", "scaleadd") else 0, 0)
    if kind in VIEWS:
        return SHARES                                # a view: the output is the input's storage
    return NOTHING                                   # padding, upsampling, concat, fold: new tensors, nothing kept


#: pointwise ops whose derivative reads their result; ops with no gradient keep nothing
POINTWISE_OUTPUT = {"relu", "sigmoid", "tanh", "exp", "sqrt", "rsqrt", "reciprocal"}
POINTWISE_NOTHING = {"add", "sub", "neg", "compare", "sign", "floor", "ceil", "round", "where"}
#: how the names of interpolations start (aten's upsample_nearest2d, upsample_bilinear2d, ...; ONNX's Resize):
#: a fixed linear map of the input, whose gradient needs the sizes only -- nothing kept, like POINTWISE_NOTHING
INTERPOLATION = ("upsample", "resize")
POINTWISE_PRODUCTS = {"mul", "div", "maximum", "minimum", "pow", "addcmul", "addcdiv"}


def _pointwise(name: str, in_shapes, out_shape, out, args) -> Backward:
    """``args``: ``partner_grad`` -- a parameter operand needs a gradient (a product then keeps the activation);
    ``inplace`` -- the op wrote into its input."""
    ny = _out_numel(out_shape)
    inplace = bool(args.get("inplace"))
    if name in POINTWISE_NOTHING or name.lstrip("_").startswith(INTERPOLATION):
        return Backward((), 0, 0, out.flops, 0, inplace=inplace)
    if name in POINTWISE_PRODUCTS:
        if len(in_shapes) >= 2:
            saved = tuple(Saved(f"operand {i + 1}", f"in{i}", prod(s)) for i, s in enumerate(in_shapes))
        elif args.get("partner_grad"):
            saved = (Saved("input", "in0", prod(in_shapes[0])),)
        else:
            saved = ()
        # a constant tensor operand (a dropout mask, a fixed scale) is kept for the input's gradient
        saved += tuple(Saved(Msg("op.constant_operand"), "own", n) for n in args.get("constants", ()) if n > 1)
        return Backward(saved, 0, 0, out.flops, 0, inplace=inplace)
    nx = prod(in_shapes[0]) if in_shapes else 0
    return Backward(_activation_saved(name, nx, ny, inplace) if in_shapes else (), 0, 0, out.flops, 0,
                    inplace=inplace)


def _norm(kind: str, x, out, trainable: bool) -> Backward:
    n = prod(x)
    if kind.startswith("batchnorm"):
        stats = 2 * (x[1] if len(x) > 1 else 1)
    elif kind.startswith("layernorm"):
        stats = 2 * max(n // max(x[-1], 1), 1)
    else:
        stats = 2 * x[0] * (x[1] if len(x) > 1 else 1)
    saved = (Saved("input", "in0", n), Saved(Msg("op.mean_inverse_std"), "own", stats, "float32"))
    return Backward(saved, 0, 0, out.flops, 2 * n if trainable else 0)


def _pool(kind: str, x, out_shape, out) -> Backward:
    ny = _out_numel(out_shape)
    spatial_out = out_shape[2:] if len(out_shape) > 2 else ()
    if kind.startswith("global") or (kind.startswith("adaptive") and all(o == 1 for o in spatial_out)):
        # a mean over the spatial dims needs only the sizes; a max keeps its input and result
        if "max" in kind:
            return Backward((Saved("input", "in0", prod(x)), Saved("output", "out", ny)), 0, 0, out.flops, 0)
        return Backward((), 0, 0, out.flops, 0)
    saved = (Saved("input", "in0", prod(x)),)
    if "max" in kind:
        saved += (Saved("indices", "own", ny, "int64"),)
    return Backward(saved, 0, 0, out.flops, 0)


def _dropout_rate(args) -> float:
    p = args.get("dropout", 0) or 0
    return float(p) if isinstance(p, (int, float)) else 0.0


def _attention_dropout(args, attn: int) -> tuple:
    """Dropout on the attention weights (training): its mask (the activation dtype, as PyTorch's and Keras'
    CPU dropout keep it) and the dropped weights, which A V reads; the softmax keeps its own output."""
    if not _dropout_rate(args):
        return ()
    return (Saved(Msg("op.attention_dropout_mask"), "own", attn),
            Saved(Msg("op.attention_weights_dropped"), "own", attn))


def _mha(in_shapes, out_shape, args, out, trainable: bool) -> Backward:
    q = in_shapes[0]
    v = in_shapes[1] if len(in_shapes) > 1 else q
    k = in_shapes[2] if len(in_shapes) > 2 else v
    N, Tq, _ = q
    Tk = k[1]
    H = int(args.get("num_heads"))
    kd = int(args.get("key_dim"))
    vd = int(args.get("value_dim") or kd)
    proj_q, proj_k, proj_v = N * Tq * H * kd, N * Tk * H * kd, N * Tk * H * vd
    attn, context = N * H * Tq * Tk, N * Tq * H * vd
    scores = N * H * Tq * Tk * kd
    ctx_macs = N * H * Tq * Tk * vd
    weights = out.macs - scores - ctx_macs
    saved = [Saved(Msg("op.query_input"), "in0", prod(q))]
    if len(in_shapes) > 1:
        saved.append(Saved(Msg("op.value_input"), "in1", prod(v)))
    if len(in_shapes) > 2:
        saved.append(Saved(Msg("op.key_input"), "in2", prod(k)))
    saved += [Saved(Msg("op.projected_query"), "own", proj_q), Saved(Msg("op.projected_key"), "own", proj_k),
              Saved(Msg("op.projected_value"), "own", proj_v), Saved(Msg("op.attention_weights"), "own", attn),
              *_attention_dropout(args, attn), Saved("context", "own", context)]
    input_macs = weights + 2 * (scores + ctx_macs)
    dropped = attn if _dropout_rate(args) else 0          # the mask's multiply
    return Backward(tuple(saved), input_macs, weights if trainable else 0, 2 * input_macs + 5 * attn + dropped,
                    2 * weights if trainable else 0)


def _recurrent(kind: str, x, out_shape, args, out, trainable: bool) -> Backward:
    """A recurrent stack keeps, per time step, layer and direction, its step input, the previous hidden state
    and the gate activations (and, for LSTM, the cell state and tanh of it)."""
    N, T, I = x
    H = int(args.get("hidden_size"))
    L = int(args.get("num_layers", 1) or 1)
    dirs = 2 if args.get("bidirectional") in (True, "true") else 1
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind] * H
    per_step = gates + H + (2 * H if kind == "lstm" else 0)
    own = N * T * L * dirs * per_step
    saved = (Saved("input", "in0", prod(x)), Saved(Msg("op.gates_states_every_step"), "own", own))
    return Backward(saved, out.macs, out.macs if trainable else 0, 2 * out.macs + (out.flops - out.mults - out.adds),
                    2 * out.macs if trainable else 0, note=Msg("op.every_time_step"))


def saved_steps(layer: str, saved: tuple, shapes: dict, act_bytes: int, same: dict | None = None) -> list[Step]:
    """'saved for backward: input of conv1 (16, 3, 224, 224) x 4 B = 9,633,792' lines.  ``same``: position of
    a saved input -> position of the earlier one it is the same tensor as (self-attention's query and value):
    shown, counted once."""
    out = []
    for i, s in enumerate(saved):
        b = DTYPE_BYTES.get(s.dtype, act_bytes)
        shape = shapes.get(s.ref)
        shown = "(" + ", ".join(map(str, shape)) + ")" if shape and prod(shape) == s.numel else f"{s.numel:,}"
        what = _what(s)
        if same and i in same:
            out.append(Step("saved", "", 0, Msg("op.same_tensor_counted_once", what=what, layer=layer,
                                                first=_what(saved[same[i]]))))
            continue
        out.append(Step("saved", Msg("expr.saved", what=what, layer=layer, shape=shown, b=b), s.numel * b,
                        "" if s.dtype == "act" else s.dtype))
    return out


def _what(s: Saved):
    return Msg(f"saved.{s.what}") if f"saved.{s.what}" in MESSAGES else s.what


def same_inputs(saved: tuple, inputs: tuple) -> dict:
    """{position: earlier position} of the saved inputs ('in0', 'in1', ...) that read a tensor an earlier saved
    entry already keeps (a layer given the same tensor twice: self-attention's query and value)."""
    seen: dict = {}
    same: dict = {}
    for i, s in enumerate(saved):
        if s.ref.startswith("in") and s.ref[2:].isdigit():
            k = int(s.ref[2:])
            if k < len(inputs):
                t = inputs[k]
                if t in seen:
                    same[i] = seen[t]
                else:
                    seen[t] = i
    return same
