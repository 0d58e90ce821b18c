"""Domain exceptions. Each subclasses the built-in a caller would naturally catch."""

__all__ = ["NeuronAnnError", "MechanismError", "BundleError", "SwapError", "DatasetError"]


class NeuronAnnError(Exception):
    """Base class of every error neuron_ann raises on purpose."""


class MechanismError(NeuronAnnError, RuntimeError):
    """NMODL compilation or loading failed."""


class BundleError(NeuronAnnError, ValueError):
    """A model bundle is missing, corrupted, or inconsistent with its metadata."""


class SwapError(NeuronAnnError, ValueError):
    """``swap_to_ann`` cannot honour the network as built; raised before any simulation time is spent."""


class DatasetError(NeuronAnnError, ValueError):
    """A dataset is missing, corrupted, or asks for something the cell does not have."""
