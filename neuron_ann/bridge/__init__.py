"""The NEURON side of the surrogates: the swap, input capture, spike emission, the run-loop hook.

:func:`swap_to_ann` keeps each swapped cell's soma section (so the user's spike detectors,
``pc.cell`` gids and soma recordings survive), deletes its other sections and drives the
soma with the surrogate's voltage (NMODL ``ANNSoma``); NetCons onto its synapses are
retargeted to ``ANNInput`` captures that sum weights per contact site, with their delays
shortened by one exchange step so that the step at ``t_k`` sees the events that truly
arrive in ``[t_k, t_k+1)`` (step contract format 2, ``docs/internals.md``;
``SwapHandle.user_delay(nc)`` reports the user's delay, swap_back restores it); IClamps on
the soma are integrated by ``ANNCurrent``. An ``FInitializeHandler`` starts a chain of
exchange events that runs one ONNX Runtime call per cell type per exchange step.
"""

from . import bundles as _bundles
from .bundles import register_bundle
from .swap import NetCon, SwapHandle, active_swap, event, gid_connect, set_delay, setpost, swap_back, swap_to_ann

__all__ = ["swap_to_ann", "swap_back", "NetCon", "gid_connect", "setpost", "event", "set_delay", "SwapHandle", "active_swap", "register_bundle", "hoc_swap_to_ann",
           "hoc_swap_back"]


def hoc_swap_to_ann(bundle_paths: str = "") -> int:
    """hoc's ``swap_to_ann()``: bundle paths separated by spaces or semicolons; returns the number of cells swapped."""
    paths = [p for p in bundle_paths.replace(";", " ").split() if p]
    return len(swap_to_ann(bundles=paths or None).cells)


def hoc_swap_back() -> int:
    """hoc's ``swap_back()``; returns 0."""
    swap_back()
    return 0


def _reset_for_tests() -> None:
    """Drop all bridge state and handlers (used by the test suite between tests)."""
    from ..runtime import step
    from . import swap

    swap._reset_for_tests()
    _bundles._reset_for_tests()
    step._reset_for_tests()
