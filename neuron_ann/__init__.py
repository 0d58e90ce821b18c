"""neuron-ann: swap detailed NEURON cells for batched CNN-LSTM surrogates.

Build cells and NetCons in ordinary NEURON code, then call :func:`swap_to_ann`. Importing
this package does not import TensorFlow; only training does.
"""

__version__ = "0.1.0"

__all__ = ["swap_to_ann", "swap_back", "NetCon", "gid_connect", "load_mechanisms", "load_bundle", "__version__"]

from .bundle import load as load_bundle
from .mechanisms import load as load_mechanisms


def swap_to_ann(cells=None, bundles=None, providers=None, **options):
    """Replace every cell whose type has a surrogate bundle; see :mod:`neuron_ann.bridge`."""
    from .bridge import swap_to_ann as _swap

    return _swap(cells=cells, bundles=bundles, providers=providers, **options)


def swap_back():
    """Restore the detailed cells swapped by the last :func:`swap_to_ann`."""
    from .bridge import swap_back as _swap_back

    return _swap_back()


def NetCon(source, target, *args, **kwargs):
    """``h.NetCon`` that also connects onto a synapse of an already swapped cell; see :func:`neuron_ann.bridge.NetCon`."""
    from .bridge import NetCon as _netcon

    return _netcon(source, target, *args, **kwargs)


def gid_connect(gid, target):
    """``ParallelContext().gid_connect`` that also connects onto a swapped cell's synapse; see :func:`neuron_ann.bridge.gid_connect`."""
    from .bridge import gid_connect as _gid_connect

    return _gid_connect(gid, target)
