"""Exporters: a spec written out as code for a framework (``to_pytorch``)."""
from __future__ import annotations

from .pytorch import module_names, to_pytorch

__all__ = ["to_pytorch", "module_names"]
