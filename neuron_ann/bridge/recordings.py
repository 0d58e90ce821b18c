"""Finding Vector recordings that a swap would silently stop or empty, or that need a readout section.

NEURON 9 does not expose the source of a ``Vector.record``. The bridge therefore probes:
it saves every Vector's contents, runs ``h.finitialize`` with a distinct sentinel value in
each probed (segment, variable), and looks for Vectors whose value recorded at t = 0 is a
sentinel. Then it restores the Vectors' contents and the probed variables. An ion current
gets its sentinel from an ``ANNProbe`` point process (mod/ann_probe.mod) that writes it when
NEURON computes currents, which is after NEURON has zeroed the ion currents (channels that
NEURON runs after the probe add their currents to its sentinel, so a sample near a sentinel
counts); any other variable from a type-1 initialization handler. Before the swap the
bridge probes the voltage of every segment it would delete or leave undriven, and the
readout variables of the readout segments; after it, every ion variable of the swapped
somas and kept sections that no readout writes (NEURON cannot remove an ion from a
section, so ``soma(0.5)._ref_ina`` would go on recording, a constant 0): a recording of one
is refused, unless the bundle has that readout at the soma, which is then written into the
variable. A recording of one made after the swap is refused at the next ``h.finitialize``
(:func:`recorded_now`, from an initialization handler that runs after NEURON's t = 0 sample:
a sentinel in each such variable, ``h.frecord_init()`` to take the t = 0 samples again, then
the values and samples put back).

Recordings of any other variable the swap removes (a channel's gating state or
conductance, an ion or a current in a deleted section, a channel of a swapped soma, a
parked synapse) are found afterwards: the probe before the swap notes which Vectors take
a sample at t = 0 (the recording Vectors), and the one after it shows which of them stopped
(NEURON 9 silently stops a recording whose variable is gone). They cannot be found
beforehand: a sentinel set by a handler is overwritten when NEURON computes currents and
conductances, and an ``ANNProbe`` cannot be sure to write after the mechanism that
computes them.
"""

from __future__ import annotations

import numpy as np
from neuron import h

from .plan import gc_paused

__all__ = ["find_recordings", "after_swap", "recorded_now", "probing", "user_vectors", "is_ion_current", "make_probe"]

SENTINEL_BASE_MV = 9.87e6
#: between two probes' sentinels: other mechanisms add their ion currents to an ANNProbe's
#: sentinel when NEURON runs them after it, so a sample within half of this counts as a hit
SENTINEL_SPACING = 1000.0
#: written into every one-element Vector before a probing initialization: a recording
#: Vector is reset to its t = 0 sample, any other Vector keeps it
_UNSAMPLED = -9.87e-300


def is_ion_current(variable: str) -> bool:
    """Whether an ion variable (``ina``, ``nai``, ``nao``, ``ena``, ...) or readout variable (v, cai,
    ina, ik) is an ion current, which NEURON zeroes before computing currents."""
    return variable.startswith("i")


def user_vectors(exclude=frozenset()) -> list:
    """Every Vector but those named in ``exclude`` (the buffers of a swap in effect) and the bridge's
    alarm (:func:`~neuron_ann.bridge.inputs.delay_alarm`). Without the alarm's, a network with no
    Vector of the user's would be probed all the same (two initializations per batch swapped)."""
    from .inputs import alarm_vector_name
    from .plan import all_objects

    exclude = set(exclude) | {alarm_vector_name()}
    return [vec for vec in all_objects("Vector") if vec.hname() not in exclude]


def _save_vectors(exclude=frozenset()):
    """:func:`user_vectors`, each with a copy of its contents."""
    return [(vec, vec.as_numpy().copy()) for vec in user_vectors(exclude)]


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


def after_swap(recorders: list, probes: list) -> tuple[list, list]:
    """What the swap just made of the recordings found before it: those of ``recorders``
    (recording Vectors found by :func:`find_recordings`) that no longer take samples, and
    (Vector, index into ``probes``) for every Vector that records one of ``probes``, which are
    (segment, variable name) pairs of variables the swap kept (the ions of a swapped soma).

    Side effect: one ``h.finitialize(h.v_init)``; the probed variables and Vector contents are
    restored afterwards.
    """
    from .plan import mpi_ranks

    if not recorders and mpi_ranks() == 1:  # under MPI every rank initializes (it is collective)
        return [], []
    saved = _save_vectors()
    _mark(saved)
    try:
        found = _probing_initialization(saved, probes)
        sampling = {vec.hname() for vec in _sampled(saved)}  # one hoc Vector has many Python wrappers
    finally:
        _restore_vectors(saved)
    return [vec for vec in recorders if vec.hname() not in sampling], found


def find_recordings(probes: list, exclude=frozenset()) -> tuple[list, list]:
    """(Vector, index into ``probes``) for every Vector recording one of ``probes``, which
    are (segment, variable name) pairs; and every recording Vector but those named in
    ``exclude`` (a swap's own buffers, which its initialization writes).

    Side effect: the model is initialized as by ``h.finitialize(h.v_init)`` (twice, so no
    sentinel is left behind); the probed variables and Vector contents are restored afterwards.
    """
    from .plan import mpi_ranks

    saved = _save_vectors(exclude)
    if not saved and mpi_ranks() == 1:  # under MPI every rank initializes
        return [], []
    _mark(saved)
    try:
        found = _probing_initialization(saved, probes)
        recorders = _sampled(saved)
    finally:
        with gc_paused():
            _own_initialization()
        _restore_vectors(saved)
    return found, recorders


_probing = [False]  # inside one of this module's own initializations


def _own_initialization() -> None:
    """``h.finitialize(h.v_init)`` for a probe: :func:`probing` is True meanwhile."""
    _probing[0] = True
    try:
        h.finitialize(h.v_init)
    finally:
        _probing[0] = False


def probing() -> bool:
    """Whether the ``h.finitialize`` running now is one of these probes' own (not the user's)."""
    return _probing[0]


def recorded_now(probes: list, vectors: list) -> list:
    """(Vector, index into ``probes``) for every Vector of ``vectors`` (:func:`user_vectors`) that records
    one of ``probes`` ((segment, variable) pairs) at every step. For an initialization handler of
    type 2 (after NEURON's t = 0 sample): it writes a distinct sentinel into each probed variable,
    has NEURON take every recording's t = 0 sample again (``h.frecord_init()``), then puts the
    values back and takes the samples again. Ion currents too: nothing computes currents between."""
    if not vectors:
        return []
    sentinels = SENTINEL_BASE_MV + SENTINEL_SPACING * np.arange(len(probes), dtype=float)
    before = [getattr(seg, variable) for seg, variable in probes]
    try:
        for (seg, variable), value in zip(probes, sentinels.tolist()):
            setattr(seg, variable, value)
        h.frecord_init()
        return _sentinel_hits([vec for vec in vectors if vec.size() == 1], sentinels)
    finally:
        for (seg, variable), value in zip(probes, before):
            setattr(seg, variable, value)
        h.frecord_init()


def _probing_initialization(saved, probes: list) -> list:
    """Run ``h.finitialize(h.v_init)`` with a distinct sentinel in each of ``probes`` ((segment,
    variable) pairs) and return (Vector, probe index) for each Vector of ``saved`` (marked by
    :func:`_mark`) whose sample at t = 0 is a sentinel. An ion current (``ina``, ``ik``: a name
    starting with ``i``) gets its sentinel from an ``ANNProbe`` point process, which writes it
    when NEURON computes currents, after NEURON has zeroed the ion currents; any other variable
    from an initialization handler (a point process changes the model's structure, which costs
    the next two initializations of detailed cells their setup again). The probed variables
    other than voltages are set back to their values before (with a swapped cell's quieted
    ions, no later initialization would reset a concentration)."""
    sentinels = SENTINEL_BASE_MV + SENTINEL_SPACING * np.arange(len(probes), dtype=float)
    by_handler, by_probe = [], []
    for (seg, variable), value in zip(probes, sentinels.tolist()):
        (by_probe if is_ion_current(variable) else by_handler).append((seg, variable, value))
    before = [(seg, variable, getattr(seg, variable)) for seg, variable, _ in by_handler + by_probe if variable != "v"]

    def probe():
        for seg, variable, value in by_handler:
            setattr(seg, variable, value)

    handler = h.FInitializeHandler(1, probe)
    made = []
    try:
        made += (make_probe(seg, variable, value) for seg, variable, value in by_probe)
        with gc_paused():
            _own_initialization()
        return _sentinel_hits(_sampled(saved), sentinels)
    finally:
        del handler, made
        for seg, variable, value in before:
            setattr(seg, variable, value)


def make_probe(seg, variable: str, value: float = 0.0, source=None):
    """An ``ANNProbe`` that writes ``value``, or the variable ``source`` points at, into ``variable``
    of ``seg`` each time NEURON computes currents (mod/ann_probe.mod)."""
    pp = h.ANNProbe(seg)
    h.setpointer(getattr(seg, f"_ref_{variable}"), "target", pp)
    if source is not None:
        h.setpointer(source, "source", pp)
    pp.value = value
    return pp


def _sentinel_hits(recorders: list, sentinels: np.ndarray) -> list:
    """(Vector, probe index) for each of ``recorders`` whose one sample is one of ``sentinels``,
    give or take less than half of :data:`SENTINEL_SPACING`."""
    found = []
    for vec in recorders:  # each holds its one sample at t = 0
        value = vec.x[0]
        index = int(round((value - SENTINEL_BASE_MV) / SENTINEL_SPACING))
        if 0 <= index < len(sentinels) and abs(value - sentinels[index]) < SENTINEL_SPACING / 2:
            found.append((vec, index))
    return found
