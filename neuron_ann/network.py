"""Reproducible test networks of the bundled cells, written as ordinary NEURON code.

The demo, the benchmark and the examples use the same builder, so "the same script,
network, inputs and duration" for NEURON and for the surrogate is literally the same
function call: build, (optionally) ``swap_to_ann()``, run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from neuron import h

from .cells import get_cell_class

__all__ = ["Network", "build_network", "INPUT_DEFAULTS", "INHIBITORY_TYPES"]

#: per cell type: (excitatory synapses, inhibitory synapses, exc weight uS, inh weight uS,
#: exc rate range Hz, inh rate Hz); chosen so that each type fires at a few to tens of Hz.
INPUT_DEFAULTS = {
    "BallHH": (8, 2, 0.001, 0.002, (5.0, 20.0), 10.0),
    "PVBasket": (16, 4, 0.0008, 0.001, (5.0, 20.0), 10.0),
    "L5PC": (160, 40, 0.0015, 0.001, (5.0, 20.0), 10.0),
}


@dataclass
class Network:
    """A built network; keep it alive while simulating (NEURON objects die with it)."""

    cell_type: str  # "BallHH", or "BallHH+PVBasket" for a mixed network
    cells: list
    spike_times: object  # h.Vector of spike times (ms)
    spike_gids: object  # h.Vector of the spiking cell's index
    stims: list = field(default_factory=list, repr=False)
    netcons: list = field(default_factory=list, repr=False)
    recurrent: list = field(default_factory=list, repr=False)

    def raster(self) -> tuple[np.ndarray, np.ndarray]:
        """Spike times and cell indices, sorted by time then index."""
        t, g = np.asarray(self.spike_times), np.asarray(self.spike_gids).astype(int)
        order = np.lexsort((g, t))
        return t[order], g[order]


def _synapse_sections(cell, kind: str, rng) -> list:
    basal = list(getattr(cell, "basal", [])) + list(getattr(cell, "apical", []))
    if not basal:
        return [cell.soma]
    if kind == "inh":  # perisomatic inhibition, as from basket cells
        return [cell.soma] + basal[: max(1, len(basal) // 10)]
    return basal


#: cell types whose outgoing connections are inhibitory
INHIBITORY_TYPES = ("PVBasket",)


def build_network(cell_type: str = "BallHH", n_cells: int = 10, connectivity: float = 0.0, seed: int = 1,
                  delay_ms: float = 2.0, recurrent_weight_uS: float | None = None, rate_scale: float = 1.0,
                  populations: dict | None = None) -> Network:
    """Build cells of bundled types, each driven by its own Poisson inputs, randomly connected.

    Args:
        cell_type: ``"BallHH"``, ``"PVBasket"`` or ``"L5PC"`` (ignored when ``populations`` is given).
        n_cells: number of cells (ignored when ``populations`` is given).
        connectivity: probability that a cell contacts another: one excitatory synapse on the
            target (or a perisomatic inhibitory one from a PVBasket), NetCon from the
            presynaptic soma's voltage, threshold -20 mV.
        seed: seeds synapse placement, rates and the NetStims' Random123 streams.
        delay_ms: delay of the recurrent connections.
        recurrent_weight_uS: weight of recurrent connections (default: the target type's
            input weight of that kind).
        rate_scale: multiplies every input rate.
        populations: ``{cell type: count}`` for a mixed network, built in that order;
            cells are numbered consecutively (``cell.gid``).
    """
    populations = populations or {cell_type: n_cells}
    rng = np.random.default_rng(seed)
    net = Network(cell_type="+".join(populations), cells=[], spike_times=h.Vector(), spike_gids=h.Vector())
    for type_name, count in populations.items():
        cls = get_cell_class(type_name)
        n_exc, n_inh, w_exc, w_inh, exc_rates, inh_rate = INPUT_DEFAULTS[type_name]
        for _ in range(count):
            gid = len(net.cells)
            cell = cls(gid=gid)
            net.cells.append(cell)
            for kind, number, weight in (("exc", n_exc, w_exc), ("inh", n_inh, w_inh)):
                sections = _synapse_sections(cell, kind, rng)
                for _ in range(number):
                    sec = sections[rng.integers(len(sections))]
                    syn = cell.add_synapse(kind, sec, float(rng.uniform(0.05, 0.95)))
                    rate = rng.uniform(*exc_rates) if kind == "exc" else inh_rate
                    stim = h.NetStim()
                    stim.interval = 1000.0 / (rate * rate_scale)
                    stim.number = 1e9
                    stim.start = 0
                    stim.noise = 1
                    stim.noiseFromRandom123(seed, gid, len(net.stims))
                    nc = h.NetCon(stim, syn)
                    nc.weight[0] = weight
                    nc.delay = 1.0
                    net.stims.append(stim)
                    net.netcons.append(nc)
            out = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
            out.threshold = -20
            out.record(net.spike_times, net.spike_gids, gid)
            net.netcons.append(out)
    if connectivity > 0:
        for pre in net.cells:
            kind = "inh" if type(pre).__name__ in INHIBITORY_TYPES else "exc"
            for post in net.cells:
                if pre is post or rng.random() >= connectivity:
                    continue
                _, _, w_exc, w_inh, _, _ = INPUT_DEFAULTS[type(post).__name__]
                weight = recurrent_weight_uS if recurrent_weight_uS is not None else (w_exc if kind == "exc" else w_inh)
                sections = _synapse_sections(post, kind, rng)
                syn = post.add_synapse(kind, sections[rng.integers(len(sections))], 0.5)
                nc = h.NetCon(pre.soma(0.5)._ref_v, syn, sec=pre.soma)
                nc.threshold = -20
                nc.delay = delay_ms
                nc.weight[0] = weight
                net.recurrent.append(nc)
    return net
