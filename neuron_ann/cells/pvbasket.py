"""PVBasket: a fast-spiking parvalbumin basket interneuron with Wang-Buzsaki kinetics."""

from __future__ import annotations

from .base import CellBase

__all__ = ["PVBasket"]


class PVBasket(CellBase):
    """Soma, four dendrites and an axon with the Wang & Buzsaki 1996 (J Neurosci 16:6402)
    sodium (``wbna``) and delayed-rectifier potassium (``wbk``) kinetics and a leak at -65 mV.

    The paper's single-compartment densities (35 and 9 mS/cm2) go into depolarisation
    block when a 20 um soma drives dendrites and an axon, so the densities here are scaled
    up to the range reported for basket-cell somata and axons (Na about 100-150 mS/cm2,
    fast K about 50 mS/cm2; Hu, Martina & Jonas 2010, Science 327:52), and the dendrites
    carry a tenth of the somatic density (weakly active dendrites, same source). With these,
    the cell rests near -64 mV, has an input resistance near 100 MOhm and fires without
    adaptation above 100 Hz (tests/test_cells.py).
    """

    soma_diameter_um = 20.0
    n_dendrites = 4
    dendrite_length_um = 200.0
    dendrite_diameter_um = 1.5
    axon_length_um = 300.0
    axon_diameter_um = 0.8
    g_leak = 2e-4  # S/cm2
    e_leak = -65.0  # mV
    #: (wbna gbar, wbk gbar) in S/cm2 per section group
    densities = {"somatic": (0.10, 0.05), "axonal": (0.15, 0.05), "basal": (0.01, 0.005)}

    def _build(self):
        self.soma = self._section("soma", "somatic")
        self.soma.L = self.soma.diam = self.soma_diameter_um
        self.soma.nseg = 1
        self.dend = []
        for i in range(self.n_dendrites):
            dend = self._section(f"dend[{i}]", "basal")
            dend.L = self.dendrite_length_um
            dend.diam = self.dendrite_diameter_um
            dend.nseg = 7
            dend.connect(self.soma(i % 2))  # two trees from each pole
            self.dend.append(dend)
        axon = self._section("axon[0]", "axonal")
        axon.L = self.axon_length_um
        axon.diam = self.axon_diameter_um
        axon.nseg = 9
        axon.connect(self.soma(0.5))
        self.axon = [axon]
        for group, (g_na, g_k) in self.densities.items():
            for sec in getattr(self, group):
                sec.Ra = 100
                sec.cm = 1
                sec.insert("pas")
                sec.insert("wbna")
                sec.insert("wbk")
                sec.ena = 55
                sec.ek = -90
                for seg in sec:
                    seg.pas.g = self.g_leak
                    seg.pas.e = self.e_leak
                    seg.wbna.gbar = g_na
                    seg.wbk.gbar = g_k
