"""Training data from any NEURON cell: random synaptic and current input, binned on the surrogate's step grid.

See :mod:`neuron_ann.dataset.generate` for the file layout and the binning contract.
"""

from .cellspec import CellSource, Site, choose_sites, resolve_cell, resolve_readouts
from .generate import GenerationConfig, bin_events, generate_dataset, simulate_one
from .inputs import InputRanges
from .store import Dataset, read_sim

__all__ = [
    "CellSource",
    "Site",
    "choose_sites",
    "resolve_cell",
    "resolve_readouts",
    "GenerationConfig",
    "InputRanges",
    "generate_dataset",
    "simulate_one",
    "bin_events",
    "Dataset",
    "read_sim",
]
