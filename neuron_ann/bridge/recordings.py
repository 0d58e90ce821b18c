"""Finding Vector recordings that a swap would silently stop, or that need a readout section.

NEURON 9 does not expose the source of a ``Vector.record``. The bridge therefore probes:
it saves every Vector's contents, runs ``h.finitialize`` with a type-1 handler that puts
a distinct sentinel value into each probed (segment, variable), and looks for Vectors
whose value recorded at t = 0 is a sentinel. Then it restores the Vectors' contents.
The swap probes the voltage of every segment it would delete or leave undriven, and the
readout variables of the readout segments; recordings of other variables of deleted
sections (``cai`` elsewhere, currents, gating states) cannot be found this way.
"""

from __future__ import annotations

import numpy as np
from neuron import h

__all__ = ["find_recordings"]

SENTINEL_BASE_MV = 9.87e6


def _save_vectors():
    from .plan import all_objects

    return [(vec, vec.as_numpy().copy()) for vec in all_objects("Vector")]


def _restore_vectors(saved) -> None:
    for vec, data in saved:
        vec.resize(len(data))
        if len(data):
            vec.as_numpy()[:] = data


def find_recordings(probes: list) -> list:
    """(Vector, index into ``probes``) for every Vector recording one of ``probes``, which
    are (segment, variable name) pairs.

    Side effect: the model is initialized as by ``h.finitialize(h.v_init)`` (twice, so no
    sentinel is left behind); Vector contents are restored afterwards.
    """
    if not probes or int(h.List("Vector").count()) == 0:
        return []
    saved = _save_vectors()
    sentinels = SENTINEL_BASE_MV + np.arange(len(probes), dtype=float)

    def probe():
        for (seg, variable), value in zip(probes, sentinels):
            setattr(seg, variable, value)

    handler = h.FInitializeHandler(1, probe)
    try:
        h.finitialize(h.v_init)
        found = []
        for vec, _ in saved:
            if vec.size() >= 1:
                value = vec.x[int(vec.size()) - 1]
                index = int(round(value - SENTINEL_BASE_MV))
                if 0 <= index < len(probes) and value == sentinels[index]:
                    found.append((vec, index))
    finally:
        del handler
        h.finitialize(h.v_init)
        _restore_vectors(saved)
    return found
