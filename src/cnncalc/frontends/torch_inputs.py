"""The inputs of the traced forward call: meta tensors of the given sizes, or, for a model that must run on real
tensors, the user's own input data (a copy) or random tensors of those sizes."""
from __future__ import annotations

from ..errors import SpecError
from ..i18n import Msg
from .torch_meta import _meta_like


def _is_size(s) -> bool:
    return isinstance(s, (tuple, list)) and all(isinstance(v, int) for v in s)


def _sized(s, dt):
    import torch
    if not all(isinstance(v, int) and v >= 1 for v in s):
        raise SpecError(Msg("err.torch.input_sizes_must_whole_numbers", s=tuple(s)))
    return torch.empty(tuple(s), dtype=dt, device="meta")


def meta_inputs(input_size, input_data, dtypes, kwargs=None):
    """(args, kwargs) of meta tensors for the forward call.  ``input_size`` is one size, a list of sizes (one
    positional input each), and an entry that is itself a list of sizes is one input holding a list of tensors
    (detection models take ``images: list[Tensor]``: ``input_size=[[(3, 224, 224), (3, 200, 300)]]``)."""
    import torch
    extra = _meta_like(dict(kwargs or {}))            # tensors in kwargs= become meta like the inputs
    if input_data is not None:
        if isinstance(input_data, dict):
            return (), dict(_meta_like(input_data), **extra)
        if isinstance(input_data, torch.Tensor):
            return (_meta_like(input_data),), extra
        return tuple(_meta_like(list(input_data))), extra
    if input_size is None:
        raise SpecError(Msg("err.torch.analysing_torch_model_needs_input"))
    sizes = [input_size] if all(isinstance(v, int) for v in input_size) else list(input_size)
    dtypes = dtypes or [torch.float32] * len(sizes)
    if len(dtypes) != len(sizes):
        raise SpecError(Msg("err.torch.dtypes_has_entries_inputs", dtypes=len(dtypes), sizes=len(sizes)))
    out = []
    for s, dt in zip(sizes, dtypes):
        if isinstance(s, list) and s and all(_is_size(v) for v in s):
            out.append([_sized(v, dt) for v in s])         # one input that is a list of tensors
        elif _is_size(s):
            out.append(_sized(s, dt))
        else:
            raise SpecError(Msg("err.torch.input_sizes_must_whole_numbers", s=repr(s)))
    return tuple(out), extra


def real_inputs(input_size, input_data, dtypes, kwargs=None):
    """(args, kwargs) of real CPU tensors: the user's input data and keyword tensors as given (copies, so the
    forward cannot change them), random floats (zeros for integers and booleans) where only sizes are known."""
    import torch
    from torch.utils._pytree import tree_map

    def given(t):
        if not isinstance(t, torch.Tensor):
            return t
        if t.device.type != "meta":
            return t.detach().clone()
        if t.is_floating_point():
            return torch.randn(t.shape, dtype=t.dtype)
        return torch.zeros(t.shape, dtype=t.dtype)
    if input_data is not None:
        if isinstance(input_data, dict):
            args, kw = (), dict(input_data)
        elif isinstance(input_data, torch.Tensor):
            args, kw = (input_data,), {}
        else:
            args, kw = tuple(input_data), {}
    else:
        args, kw = meta_inputs(input_size, None, dtypes)
    kw = dict(kw, **dict(kwargs or {}))
    return tree_map(given, (args, kw))
