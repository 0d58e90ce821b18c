"""Bundled ground-truth cell types: ordinary NEURON Python cells.

Each has an equivalent hoc template in the package's ``hoc/`` folder. The classes are
imported on first use, so ``import neuron_ann.cells`` stays cheap.
"""

import importlib

from .base import SYNAPSE_KINDS, CellBase

__all__ = ["CellBase", "SYNAPSE_KINDS", "BallHH", "L5PC", "PVBasket", "CELL_TYPES", "get_cell_class"]

_MODULES = {"BallHH": ".ballhh", "L5PC": ".l5pc", "PVBasket": ".pvbasket"}

#: names of the bundled cell types
CELL_TYPES = tuple(_MODULES)


def get_cell_class(name: str):
    """Return the bundled cell class called ``name``; raises ValueError listing the valid names."""
    if name not in _MODULES:
        raise ValueError(f"unknown bundled cell type {name!r}; valid names: {', '.join(_MODULES)}")
    return getattr(importlib.import_module(_MODULES[name], __name__), name)


def __getattr__(name):
    if name in _MODULES:
        return get_cell_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
