"""A ``torch.nn.Module`` written out as a cnncalc text spec, through ``torch.fx.symbolic_trace``.

``to_spec(model, input_size)`` traces the model symbolically, runs the traced graph once on meta tensors
(``torch.func.functional_call`` with meta copies of the parameters: the model is not modified, no real
arithmetic) to learn every intermediate shape and every Python number computed from shapes (``x.size(0)``,
U-Net crop offsets), and writes one spec line per layer:

* ``call_module`` nodes become layers labelled with the module's qualified name (``layer1.0.conv1``; a module
  called twice gets ``_1``, ``_2``, ... on its later calls);
* functions and tensor methods (``torch.flatten``, ``F.relu``, ``x.view``, ``x.mean((2, 3))``, ``+``,
  ``torch.cat``, slicing, ...) become layers labelled with the fx node's name (``add_1``, ``cat``);
* a tensor read by a layer other than the line before it is referred to by its label: a line starting with
  a bare name switches to that tensor (``maxpool | layer1.0.conv1: conv2d(...)``), merges name their inputs
  (``add_1: add(layer1.0.bn2, maxpool)``).

The spec starts with ``x: input(C, H, W)`` (``batch=N`` when ``input_size[0]`` is not 1).  The result is
checked: cnncalc analyses it and every layer's shape must equal the shape torch computed.  Anything the spec
cannot express raises :class:`~cnncalc.SpecError` naming the module or op and saying why.

The package: ``spec_text`` writes values and layer arguments as spec source; ``converter`` traces the
model, labels tensors, emits the lines and checks the result; ``modules`` (``nn.Module`` calls),
``functions`` (functions and tensor methods) and ``indexing`` (``x[...]``, splits, recurrent outputs)
are the rules that turn one fx node into spec lines.
"""
from __future__ import annotations

from ...errors import SpecError
from ...i18n import Msg
from .converter import _Converter

__all__ = ["to_spec"]


def to_spec(model, input_size, *, dtype=None) -> str:
    """A cnncalc text spec for ``model`` (a ``torch.nn.Module``) taking a tensor of ``input_size``.

    ``input_size`` is batch first, e.g. ``(1, 3, 224, 224)``; ``dtype`` is the input's dtype (default: int64
    when the input feeds an ``nn.Embedding``, else float32).  The model is traced with
    ``torch.fx.symbolic_trace`` in eval mode (its mode is restored) and run once on meta tensors; it is not
    modified.  The spec is analysed before it is returned and every layer's shape must match torch's.
    Raises :class:`~cnncalc.SpecError` naming the module or op that the spec cannot express, and why.
    """
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover
        raise SpecError(Msg("err.tospec.spec_needs_torch_installed")) from None
    import torch
    if not isinstance(model, torch.nn.Module):
        raise SpecError(Msg("err.tospec.spec_takes_torch_nn_module", name=type(model).__name__))
    if isinstance(input_size, int) or not all(isinstance(s, int) for s in tuple(input_size)):
        raise SpecError(Msg("err.tospec.input_size_must_tuple_whole", input_size=repr(input_size)))
    c = _Converter(model, input_size, dtype)
    text = c.convert()
    c.check(text)
    return text
