"""Readouts a surrogate can report besides the soma voltage, and the calcium-indicator model.

A readout is named ``variable:section(x)`` for local variables (``v:apic[10](0.5)``,
``cai:apic[10](0.5)``) and by the bare variable for somatic ionic currents (``ina``,
``ik``, both at ``soma(0.5)``, in mA/cm2). ``fluorescence:section(x)`` is a GCaMP6
fluorescence transient (dF/F0) computed at run time from the ``cai`` readout at that site
with a fixed kinetic model, so it needs no retraining: the surrogate only predicts ``cai``.

This module needs only numpy; the dataset, the bridge and ``neuron-ann validate`` share it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LOCAL_VARIABLES",
    "SOMATIC_VARIABLES",
    "DERIVED_VARIABLES",
    "READOUT_UNITS",
    "INDICATORS",
    "ReadoutSpec",
    "parse_readout",
    "fluorescence",
    "IndicatorState",
    "resting_bound_fraction",
]

#: variables recorded at a named site ``variable:section(x)``
LOCAL_VARIABLES = ("v", "cai")
#: somatic currents named by the bare variable
SOMATIC_VARIABLES = ("ina", "ik")
#: computed at run time from another readout
DERIVED_VARIABLES = ("fluorescence",)
READOUT_UNITS = {"v": "mV", "cai": "mM", "ina": "mA/cm2", "ik": "mA/cm2", "fluorescence": "dF/F0"}

#: GCaMP6 variants, Chen et al. 2013 (Nature 499:295): Kd (in mM, the unit of NEURON's
#: cai), Hill coefficient and dynamic range (Fmax/Fmin) from the in-vitro titrations;
#: rise and half-decay times of single-action-potential transients.
INDICATORS = {
    "GCaMP6f": {"kd_mM": 375e-6, "hill": 2.27, "dynamic_range": 51.8, "rise_ms": 45.0, "half_decay_ms": 142.0},
    "GCaMP6m": {"kd_mM": 167e-6, "hill": 2.96, "dynamic_range": 38.1, "rise_ms": 80.0, "half_decay_ms": 250.0},
    "GCaMP6s": {"kd_mM": 144e-6, "hill": 2.90, "dynamic_range": 63.2, "rise_ms": 179.0, "half_decay_ms": 550.0},
}

_LOCAL = re.compile(r"^(?P<var>[A-Za-z_]\w*):(?P<sec>[^()]+)\((?P<x>[0-9.eE+-]+)\)$")


@dataclass(frozen=True)
class ReadoutSpec:
    """One parsed readout: ``variable`` at ``section(x)`` (section None for somatic currents)."""

    name: str
    variable: str
    section: str | None
    x: float | None

    @property
    def units(self) -> str:
        return READOUT_UNITS[self.variable]

    @property
    def source_name(self) -> str:
        """The readout the network predicts: ``cai:...`` for fluorescence, itself otherwise."""
        if self.variable == "fluorescence":
            return f"cai:{self.section}({self.x:g})"
        return self.name


def parse_readout(text: str) -> ReadoutSpec:
    """Parse ``"v:apic[10](0.5)"``, ``"cai:dend[0](0.3)"``, ``"ina"``, ``"ik"``, ``"fluorescence:apic[3](0.5)"``.

    Raises:
        ValueError: the text is not a readout name; the message lists the valid forms.
    """
    from .errors import DatasetError

    text = text.strip()
    if text in SOMATIC_VARIABLES:
        return ReadoutSpec(name=text, variable=text, section=None, x=None)
    match = _LOCAL.match(text)
    valid = (
        f"valid readouts: {', '.join(f'{v}:SECTION(X)' for v in LOCAL_VARIABLES + DERIVED_VARIABLES)}, "
        f"{', '.join(SOMATIC_VARIABLES)} (e.g. v:apic[10](0.5))"
    )
    if not match:
        raise DatasetError(f"readout {text!r} is not understood; {valid}.")
    variable, section, x = match["var"], match["sec"].strip(), float(match["x"])
    if variable not in LOCAL_VARIABLES + DERIVED_VARIABLES:
        raise DatasetError(f"readout {text!r} asks for variable {variable!r}; {valid}.")
    if not 0 <= x <= 1:
        raise DatasetError(f"readout {text!r}: position {x} is outside 0..1.")
    return ReadoutSpec(name=f"{variable}:{section}({x:g})", variable=variable, section=section, x=x)


def _params(indicator: str) -> dict:
    if indicator not in INDICATORS:
        raise ValueError(f"unknown calcium indicator {indicator!r}; valid: {', '.join(INDICATORS)}")
    return INDICATORS[indicator]


def _bound_at_equilibrium(cai_mM, params):
    c = np.maximum(np.asarray(cai_mM, dtype=np.float64), 0.0) ** params["hill"]
    return c / (c + params["kd_mM"] ** params["hill"])


def resting_bound_fraction(cai_rest_mM, indicator: str = "GCaMP6f"):
    """Fraction of indicator bound at equilibrium with ``cai_rest_mM``: the resting state of :class:`IndicatorState`."""
    return _bound_at_equilibrium(cai_rest_mM, _params(indicator))


class IndicatorState:
    """A GCaMP6 indicator at many sites, advanced one step of ``dt_ms`` at a time.

    The bound fraction relaxes towards its Hill equilibrium with ``cai`` with the rise time
    constant when it increases and the decay time constant (half-decay / ln 2) when it
    falls, integrated exactly for a constant ``cai`` over the step. Fluorescence is
    ``1 + (dynamic_range - 1) * bound`` (apo state = 1); dF/F0 is relative to the resting
    state, at equilibrium with ``cai_rest_mM``. Works elementwise on arrays of cells/sites;
    the step's constants are computed once (the bridge calls :meth:`step` every exchange).
    """

    def __init__(self, cai_rest_mM, dt_ms: float, indicator: str = "GCaMP6f"):
        p = _params(indicator)
        self.bound_rest = resting_bound_fraction(cai_rest_mM, indicator)
        self.bound = np.array(self.bound_rest, dtype=np.float64)
        self._hill = p["hill"]
        self._kd_hill = p["kd_mM"] ** p["hill"]
        self._keep_rising = math.exp(-dt_ms / p["rise_ms"])
        self._keep_falling = math.exp(-dt_ms * math.log(2.0) / p["half_decay_ms"])
        self._dff_per_bound = (p["dynamic_range"] - 1.0) / (1.0 + (p["dynamic_range"] - 1.0) * self.bound_rest)

    def step(self, cai_mM) -> np.ndarray:
        """Advance by one step at ``cai_mM``; returns dF/F0 after it."""
        c = np.maximum(cai_mM, 0.0) ** self._hill
        target = c / (c + self._kd_hill)
        keep = np.where(target > self.bound, self._keep_rising, self._keep_falling)
        self.bound = target + (self.bound - target) * keep
        return (self.bound - self.bound_rest) * self._dff_per_bound


def fluorescence(cai_mM, dt_ms: float, indicator: str = "GCaMP6f", cai_rest_mM=None) -> np.ndarray:
    """dF/F0 of a GCaMP6 indicator for a ``cai`` trace sampled every ``dt_ms`` (time on axis 0).

    Starts at equilibrium with ``cai_rest_mM`` (default: the first sample).
    """
    cai = np.asarray(cai_mM, dtype=np.float64)
    rest = cai[0] if cai_rest_mM is None else np.asarray(cai_rest_mM, dtype=np.float64)
    state = IndicatorState(np.broadcast_to(rest, cai.shape[1:]), dt_ms, indicator)
    out = np.empty_like(cai)
    for k in range(cai.shape[0]):
        out[k] = state.step(cai[k])
    return out
