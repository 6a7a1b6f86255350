"""A text spec written out as the Python source of an equivalent ``torch.nn.Module``.

``to_pytorch(spec)`` analyses the spec under the PyTorch convention (channels-first) and writes a class whose
``__init__`` creates one module per layer -- in_channels / in_features taken from the analysed input shapes --
and whose ``forward`` follows the graph: merges become ``+``, ``-``, ``*``, ``torch.cat``, ``torch.maximum``,
a centre crop becomes slicing, ``slice`` becomes ``narrow``, global pooling a ``mean`` / ``amax`` over the
spatial dims.  Module attributes are the report's layer names with anything that is not a letter, digit or
``_`` replaced by ``_`` (``layer1.0.conv1`` -> ``self.layer1_0_conv1``); :func:`module_names` gives the map.

Nothing here imports torch: the result is source text.  The generated class carries ``input_shape`` (batch
first, as analysed) and ``input_dtype``, so ``Net()(torch.zeros(Net.input_shape, dtype=Net.input_dtype))``
runs it.  A layer PyTorch has no equivalent for raises :class:`~cnncalc.SpecError` naming the layer.

The package: ``exporter`` analyses the spec, gives each layer its module attribute and writes the class;
the rules that turn one layer into a constructor and a ``forward`` expression are ``conv_pool``
(convolutions, pooling), ``dense_norm_activation`` (dense, embedding, normalisation, activations,
recurrent) and ``shape_merge`` (reshapes, padding, upsampling, dropout, merges); ``python_source``
writes values and identifiers as Python source.
"""
from __future__ import annotations

from .exporter import _Exporter

__all__ = ["to_pytorch", "module_names"]


def to_pytorch(spec, *, class_name: str = "Net") -> str:
    """The Python source of an ``nn.Module`` equivalent to ``spec`` under the PyTorch convention.

    ``spec`` is anything :func:`cnncalc.analyze` takes (text, ``zoo:NAME``, a file path, a list of layers).
    The class has one module per layer with parameters or a PyTorch module of its own (attribute = the
    report's layer name, non-identifier characters replaced by ``_``; see :func:`module_names`), class
    attributes ``input_shape`` and ``input_dtype``, and a ``forward`` that follows the spec's graph.
    Raises :class:`~cnncalc.SpecError` for a spec that does not analyse, or a layer PyTorch cannot express.
    """
    return _Exporter(spec, class_name).source()


def module_names(spec) -> dict:
    """Report layer name -> attribute of the module ``to_pytorch`` generates for it.

    Only layers computed by exactly one module whose output is the layer's output are listed (not merges,
    crops, slices, reshapes or global pools, which are tensor expressions in ``forward``; not recurrent
    layers, whose modules return (output, state); not transposed convs with asymmetric padding, cropped after).
    A Keras-style fused ``activation=`` is applied after the module; the shape is the same.
    """
    e = _Exporter(spec)
    return {s.name: s.attr for s in e.steps if s.attr and s.exact}
