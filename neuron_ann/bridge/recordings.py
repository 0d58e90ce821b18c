"""Finding Vector recordings that a swap would silently stop, or that need a readout section.

NEURON 9 does not expose the source of a ``Vector.record``. The bridge therefore probes:
it saves every Vector's contents, runs ``h.finitialize`` with a type-1 handler that puts
a distinct sentinel value into each probed (segment, variable), and looks for Vectors
whose value recorded at t = 0 is a sentinel. Then it restores the Vectors' contents.
The swap probes the voltage of every segment it would delete or leave undriven, and the
readout variables of the readout segments.

Recordings of any other variable the swap removes (a channel's gating state or
conductance, an ion or a current in a deleted section, a channel of a swapped soma) can
only be found afterwards: the same probe notes which Vectors take a sample at t = 0 (the
recording Vectors), and after the swap one more initialization shows which of them
stopped (NEURON 9 silently stops a recording whose variable is gone). A sentinel cannot
find them beforehand: NEURON recomputes currents and conductances after every
initialization handler. Not found at all: recordings of variables that still exist but
no longer mean anything (an ion current of a swapped soma, a parked synapse's current).
"""

from __future__ import annotations

import numpy as np
from neuron import h

from .plan import gc_paused

__all__ = ["find_recordings", "stopped_recordings"]

SENTINEL_BASE_MV = 9.87e6
#: written into every one-element Vector before a probing initialization: a recording
#: Vector is reset to its t = 0 sample, any other Vector keeps it
_UNSAMPLED = -9.87e-300


def _save_vectors(exclude=frozenset()):
    """Every Vector but those named in ``exclude`` (the buffers of a swap in effect), with a copy of its contents."""
    from .plan import all_objects

    return [(vec, vec.as_numpy().copy()) for vec in all_objects("Vector") if vec.hname() not in exclude]


def _restore_vectors(saved) -> None:
    for vec, data in saved:
        vec.resize(len(data))
        if len(data):
            vec.as_numpy()[:] = data


def _mark(saved) -> None:
    for vec, data in saved:
        if len(data) == 1:
            vec.x[0] = _UNSAMPLED


def _sampled(saved) -> list:
    """The Vectors that took a sample at t = 0 in the initialization just run (after _mark)."""
    return [vec for vec, data in saved if vec.size() == 1 and (len(data) != 1 or vec.x[0] != _UNSAMPLED)]


def stopped_recordings(recorders: list) -> list:
    """Those of ``recorders`` (recording Vectors found by :func:`find_recordings`) that no
    longer take samples. Side effect: one ``h.finitialize(h.v_init)``; Vector contents are
    restored afterwards."""
    from .plan import mpi_ranks

    if not recorders and mpi_ranks() == 1:  # under MPI every rank initializes (it is collective)
        return []
    saved = _save_vectors()
    _mark(saved)
    try:
        with gc_paused():
            h.finitialize(h.v_init)
        sampling = {vec.hname() for vec in _sampled(saved)}  # one hoc Vector has many Python wrappers
    finally:
        _restore_vectors(saved)
    return [vec for vec in recorders if vec.hname() not in sampling]


def find_recordings(probes: list, exclude=frozenset()) -> tuple[list, list]:
    """(Vector, index into ``probes``) for every Vector recording one of ``probes``, which
    are (segment, variable name) pairs; and every recording Vector but those named in
    ``exclude`` (a swap's own buffers, which its initialization writes).

    Side effect: the model is initialized as by ``h.finitialize(h.v_init)`` (twice, so no
    sentinel is left behind); Vector contents are restored afterwards.
    """
    from .plan import mpi_ranks

    saved = _save_vectors(exclude)
    if not saved and mpi_ranks() == 1:  # under MPI every rank initializes
        return [], []
    _mark(saved)
    sentinels = SENTINEL_BASE_MV + np.arange(len(probes), dtype=float)

    def probe():
        for (seg, variable), value in zip(probes, sentinels):
            setattr(seg, variable, value)

    handler = h.FInitializeHandler(1, probe)
    try:
        with gc_paused():
            h.finitialize(h.v_init)
        recorders = _sampled(saved)
        found = []
        for vec in recorders:  # each holds its one sample at t = 0
            value = vec.x[0]
            index = int(round(value - SENTINEL_BASE_MV))
            if 0 <= index < len(probes) and value == sentinels[index]:
                found.append((vec, index))
    finally:
        del handler
        with gc_paused():
            h.finitialize(h.v_init)
        _restore_vectors(saved)
    return found, recorders
