"""Python source for ``to_pytorch``: values, identifiers that are safe as attributes and locals, the
activation forms, and ``_Step``, one layer of the generated module."""
from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass
from typing import Callable

#: attribute names a generated module must not take (nn.Module's own, plus the class attributes we write)
_MODULE_ATTRS = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile",
    "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer",
    "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia",
    "named_buffers", "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "smap", "state_dict", "to", "to_empty",
    "train", "training", "type", "xpu", "zero_grad", "input_shape", "input_dtype",
})
#: local names forward() uses itself
_RESERVED_VARS = frozenset({"self", "torch", "nn", "F", "x"}) | frozenset(dir(builtins))

#: activation kind -> (nn class, functional form for fused Keras-style ``activation=``)
_ACTIVATIONS = {
    "relu": ("ReLU", "F.relu({})"),
    "relu6": ("ReLU6", "F.relu6({})"),
    "leakyrelu": ("LeakyReLU", "F.leaky_relu({})"),
    "elu": ("ELU", "F.elu({})"),
    "selu": ("SELU", "F.selu({})"),
    "gelu": ("GELU", "F.gelu({})"),
    "sigmoid": ("Sigmoid", "torch.sigmoid({})"),
    "tanh": ("Tanh", "torch.tanh({})"),
    "silu": ("SiLU", "F.silu({})"),
    "hardswish": ("Hardswish", "F.hardswish({})"),
    "hardsigmoid": ("Hardsigmoid", "F.hardsigmoid({})"),
    "softplus": ("Softplus", "F.softplus({})"),
    "mish": ("Mish", "F.mish({})"),
    "softsign": ("Softsign", "F.softsign({})"),
}


@dataclass
class _Step:
    """One layer of the generated module."""
    name: str                              # report name
    ctor: str | None                       # nn.Module constructor source, or None (functional)
    fwd: Callable[[list, str], str]        # (input variables, module reference) -> expression
    exact: bool = True                     # the module's output is the layer's output (hooks may compare)
    attr: str | None = None


def _r(v) -> str:
    """Python source of a plain value."""
    if isinstance(v, list):
        v = tuple(v)
    return repr(v)


def _one(vals) -> object:
    """An int when every dim agrees, else the tuple (PyTorch style: kernel_size=3, or (1, 7))."""
    vals = tuple(vals)
    return vals[0] if len(set(vals)) == 1 else vals


def _kw(**kw) -> str:
    return "".join(f", {k}={_r(v)}" for k, v in kw.items())


def _identifier(text: str, taken: set, reserved: frozenset, digit_prefix: str) -> str:
    s = re.sub(r"\W", "_", text, flags=re.ASCII) or "_"
    if s[0].isdigit():
        s = digit_prefix + s
    if keyword.iskeyword(s) or keyword.issoftkeyword(s) or s in reserved:
        s += "_"
    base, k = s, 2
    while s in taken:
        s = f"{base}_{k}"
        k += 1
    taken.add(s)
    return s
