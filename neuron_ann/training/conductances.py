"""Synaptic conductances as the surrogate's inputs (``ModelConfig.conductances``).

A surrogate is told, per step and contact site, the summed weight of the events that arrived
in that step. Each synapse turns an event into a conductance waveform whose rise and decay
constants are known: the bundle's synapse kinds (mod/AMPA_NMDA.mod: an AMPA and an NMDA
difference of exponentials; mod/GABA_A.mod: one), each scaled so that an event of weight w
peaks at w (the NMDA part at ``NMDA_ratio`` times w, before its Mg block). With this option
the model also sees those conductances, computed exactly from the step's event weights,
beside the raw weights (which tell when each event came), so its convolution and LSTM need
not learn the synapses' linear kinetics. Sites at the same place with the same kind (BallHH's
four excitatory sites on its soma) share one conductance per component. The model's input
rows are: the raw event weights per site, the conductances, the somatic current (last).

Each component is ``g = B - A`` with ``A`` and ``B`` decaying with the rise and decay
constants; an event of weight w adds ``w * peak_factor`` to both, as the mod files' NET_RECEIVE
blocks do. Events are taken to arrive in the middle of their step (all a step's sum tells),
and ``g`` is the value at the step's end. The same recurrence runs over whole simulations for
training (:meth:`ConductanceInputs.apply`) and inside the exported step model, whose state
then holds ``A`` and ``B`` of every component (``export.SYNAPSE_STATE``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import DatasetError

__all__ = ["ConductanceInputs", "KINETICS", "peak_factor"]


def _ampa_nmda(p: dict) -> list:
    return [("AMPA", p["tau_r_AMPA"], p["tau_d_AMPA"], 1.0), ("NMDA", p["tau_r_NMDA"], p["tau_d_NMDA"], p["NMDA_ratio"])]


def _one(p: dict) -> list:
    return [("g", p["tau_r"], p["tau_d"], 1.0)]


#: per synapse mechanism: (name, rise ms, decay ms, peak per unit weight) of each conductance, from its parameters
KINETICS = {"AMPA_NMDA": _ampa_nmda, "GABA_A": _one}


def peak_factor(tau_r: float, tau_d: float) -> float:
    """The factor that makes ``exp(-t/tau_d) - exp(-t/tau_r)`` peak at 1 (as in the mod files)."""
    t_peak = tau_r * tau_d / (tau_d - tau_r) * math.log(tau_d / tau_r)
    return 1.0 / (math.exp(-t_peak / tau_d) - math.exp(-t_peak / tau_r))


@dataclass
class ConductanceInputs:
    """The conductance columns of a cell's surrogate: ``columns[j]`` sums the event weights of
    ``sites`` (input column indices) into one conductance with ``tau_rise_ms`` / ``tau_decay_ms``,
    peaking at ``peak`` per unit weight."""

    dt_ms: float
    n_sites: int
    columns: list

    @classmethod
    def for_sites(cls, sites: list, synapse_kinds: dict, dt_ms: float) -> "ConductanceInputs":
        """From the bundle's ``sites`` (dicts with kind, section, x) and ``synapse_kinds`` (kind ->
        mechanism and parameters, as ``dataset.cellspec.synapse_kinds_metadata`` gives them)."""
        groups: dict = {}
        for i, site in enumerate(sites):
            groups.setdefault((site["kind"], site["section"], float(site["x"])), []).append(i)
        columns = []
        for (kind, section, x), members in groups.items():
            mech = synapse_kinds[kind]["mechanism"]
            if mech not in KINETICS:
                raise DatasetError(f"conductance inputs need the kinetics of synapse kind '{kind}' ({mech}); known: {sorted(KINETICS)}. "
                                   "Train without them (model={'conductances': False}).")
            for name, tau_r, tau_d, ratio in KINETICS[mech](synapse_kinds[kind]["params"]):
                if not 0.0 < tau_r < tau_d:
                    raise DatasetError(f"synapse kind '{kind}' ({mech}) has {name} rise {tau_r} ms and decay {tau_d} ms; "
                                       "conductance inputs need 0 < rise < decay.")
                columns.append({"name": f"{name}:{section}({x:g})", "kind": kind, "sites": members, "tau_rise_ms": float(tau_r),
                                "tau_decay_ms": float(tau_d), "peak": float(ratio)})
        return cls(float(dt_ms), len(sites), columns)

    @classmethod
    def from_dict(cls, d: dict) -> "ConductanceInputs":
        return cls(float(d["dt_ms"]), int(d["n_sites"]), list(d["columns"]))

    def as_dict(self) -> dict:
        return {"dt_ms": self.dt_ms, "n_sites": self.n_sites, "columns": self.columns}

    @property
    def width(self) -> int:
        """Input columns of the model: the event weights per site, one per conductance, the somatic current."""
        return self.n_sites + len(self.columns) + 1

    def coefficients(self) -> tuple:
        """``(sum_map, decay_a, decay_b, gain_a, gain_b)``: the site-to-column sum [n_sites, J] and,
        per column, the one-step decay of A and B and what a unit weight adds to each at the step's end."""
        sum_map = np.zeros((self.n_sites, len(self.columns)))
        decay_a, decay_b, gain_a, gain_b = (np.zeros(len(self.columns)) for _ in range(4))
        for j, col in enumerate(self.columns):
            sum_map[col["sites"], j] = 1.0
            tau_r, tau_d, dt = col["tau_rise_ms"], col["tau_decay_ms"], self.dt_ms
            scale = col["peak"] * peak_factor(tau_r, tau_d)
            decay_a[j], decay_b[j] = math.exp(-dt / tau_r), math.exp(-dt / tau_d)
            gain_a[j], gain_b[j] = scale * math.exp(-0.5 * dt / tau_r), scale * math.exp(-0.5 * dt / tau_d)
        return sum_map, decay_a, decay_b, gain_a, gain_b

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Raw input rows ``x`` [T, n_sites + 1] of one simulation from its start (zero state) ->
        the model's inputs [T, width] (float32)."""
        x = np.asarray(x, np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_sites + 1:
            raise ValueError(f"conductance inputs take rows of {self.n_sites + 1} columns, got shape {x.shape}.")
        sum_map, decay_a, decay_b, gain_a, gain_b = self.coefficients()
        u = x[:, : self.n_sites] @ sum_map
        g = np.empty_like(u)
        a = np.zeros(u.shape[1])
        b = np.zeros(u.shape[1])
        for k in range(len(u)):  # about 10 ms per 10,000 steps; the Dataset computes it once per simulation
            a = a * decay_a + u[k] * gain_a
            b = b * decay_b + u[k] * gain_b
            g[k] = b - a
        return np.concatenate([x[:, : self.n_sites], g, x[:, self.n_sites :]], axis=1).astype(np.float32)
