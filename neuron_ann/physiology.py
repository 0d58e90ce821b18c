"""Standard somatic measurements of a NEURON cell: rest, input resistance, f-I curve.

Used by the physiology tests and by ``validate`` to compare a surrogate's f-I curve with
its cell's. Each function builds its own stimulus, runs NEURON with the fixed step and
removes what it added.
"""

from __future__ import annotations

import numpy as np
from neuron import h

from .celltools import soma_of

__all__ = ["resting_potential", "input_resistance", "spike_times", "fi_curve"]


def _run(tstop: float, dt: float, v_init: float):
    h.load_file("stdrun.hoc")
    h.CVode().active(0)
    h.dt = dt
    h.finitialize(v_init)
    h.continuerun(tstop)


def resting_potential(cell, settle_ms: float = 500.0, dt: float = 0.025, v_init: float = -70.0) -> float:
    """Somatic voltage (mV) after ``settle_ms`` without input."""
    soma = soma_of(cell)
    _run(settle_ms, dt, v_init)
    return float(soma(0.5).v)


def input_resistance(cell, amp_nA: float = -0.05, settle_ms: float = 500.0, dur_ms: float = 500.0,
                     dt: float = 0.025, v_init: float = -70.0) -> float:
    """Steady-state input resistance at the soma (MOhm) from a small current step."""
    soma = soma_of(cell)
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = settle_ms, dur_ms, amp_nA
    v = h.Vector().record(soma(0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    _run(settle_ms + dur_ms, dt, v_init)
    v, t = np.asarray(v), np.asarray(t)
    before = v[(t > settle_ms - 20) & (t <= settle_ms)].mean()
    after = v[(t > settle_ms + dur_ms - 20)].mean()
    del stim
    return float((after - before) / amp_nA)


def spike_times(t, v, threshold_mV: float = -20.0) -> np.ndarray:
    """Times (ms) of upward crossings of ``threshold_mV``, linearly interpolated."""
    t, v = np.asarray(t), np.asarray(v)
    up = np.flatnonzero((v[:-1] < threshold_mV) & (v[1:] >= threshold_mV))
    frac = (threshold_mV - v[up]) / (v[up + 1] - v[up])
    return t[up] + frac * (t[up + 1] - t[up])


def fi_curve(cell, amps_nA, delay_ms: float = 200.0, dur_ms: float = 1000.0, dt: float = 0.025,
             v_init: float = -70.0, return_spikes: bool = False):
    """Mean firing rate (Hz) during a somatic current step of each amplitude.

    With ``return_spikes`` also returns the spike times of each step (ms from step onset).
    """
    soma = soma_of(cell)
    rates, spikes = [], []
    for amp in amps_nA:
        stim = h.IClamp(soma(0.5))
        stim.delay, stim.dur, stim.amp = delay_ms, dur_ms, float(amp)
        v = h.Vector().record(soma(0.5)._ref_v)
        t = h.Vector().record(h._ref_t)
        _run(delay_ms + dur_ms, dt, v_init)
        st = spike_times(t, v)
        st = st[(st >= delay_ms) & (st < delay_ms + dur_ms)] - delay_ms
        rates.append(len(st) / (dur_ms / 1000.0))
        spikes.append(st)
        del stim
    rates = np.array(rates)
    return (rates, spikes) if return_spikes else rates
