"""Per-cell-type defaults for ``neuron-ann train``: contact sites, data size, step, model size.

Each entry was chosen for the bundled cells; any other cell gets ``GENERIC``. Every value
can be overridden on the command line or from Python, and every value used is recorded in
the bundle's provenance.
"""

from __future__ import annotations

from ..dataset.inputs import InputRanges

__all__ = ["DEFAULTS", "GENERIC", "defaults_for"]

GENERIC = {
    "n_sites": 20,
    "exc_fraction": 0.8,
    "sim_seconds": 200.0,
    "sim_ms": 5000.0,
    "dt_ms": 1.0,
    "epochs": 40,
    "settle_ms": 300.0,
    "ranges": InputRanges(),
    "model": {"filters": 32, "kernel": 4, "lstm_units": 64},
    "train": {"steps_per_epoch": 150, "patience": 8, "batch_size": 32, "window": 500, "warmup_steps": 50},
}

DEFAULTS = {
    # one compartment: 4 excitatory + 2 inhibitory sites, all on the soma
    "BallHH": {**GENERIC, "n_sites": 6, "exc_fraction": 4 / 6, "sim_seconds": 150.0},
    "PVBasket": {**GENERIC, "n_sites": 20, "sim_seconds": 300.0},
    # the paper's L5PC: 200 sites over basal and apical dendrites, ~80% excitatory
    "L5PC": {**GENERIC, "n_sites": 200, "sim_seconds": 600.0, "model": {"filters": 64, "kernel": 5, "lstm_units": 128}},
}


def defaults_for(name: str) -> dict:
    return dict(DEFAULTS.get(name, GENERIC))
