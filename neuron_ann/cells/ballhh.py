"""BallHH: the single-compartment case of Olah et al. 2022, a 25 um soma with hh and pas."""

from __future__ import annotations

from .base import CellBase

__all__ = ["BallHH"]


class BallHH(CellBase):
    """Hodgkin-Huxley soma (Hodgkin & Huxley 1952 squid kinetics at 6.3 degC, NEURON's
    built-in ``hh``) plus a small extra leak (``pas``), 25 um long and wide.

    Args:
        gid: identifier kept on the cell (``cell.gid``); networks use it with
            ``ParallelContext``.
    """

    diameter_um = 25.0
    g_pas = 1e-5  # S/cm2, on top of hh's own leak
    e_pas = -65.0  # mV

    def _build(self):
        self.soma = self._section("soma", "somatic")
        self.soma.L = self.soma.diam = self.diameter_um
        self.soma.nseg = 1
        self.soma.Ra = 100
        self.soma.cm = 1
        self.soma.insert("hh")
        self.soma.insert("pas")
        for seg in self.soma:
            seg.pas.g = self.g_pas
            seg.pas.e = self.e_pas
