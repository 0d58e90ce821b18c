"""NEURON wall time per simulated second for one detailed L5PC with 200 synapses.

One ``neuron_ann.cells.L5PC`` (Hay et al. 2011 channels) receives 160 excitatory
(AMPA_NMDA) and 40 inhibitory (GABA_A) synapses made with ``cell.add_synapse``, each
driven by its own Poisson NetStim at 5-20 Hz (uniformly drawn per synapse), fixed-step
integration at dt = 0.025 ms. The script runs the same simulation ``--repeats`` times
and prints the median wall time per simulated second (model building excluded).

    python examples/time_l5pc_neuron.py            # 1 s simulated, median of 3
    python examples/time_l5pc_neuron.py --tstop 500
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from neuron import h

from neuron_ann.cells import L5PC


def build(seed: int = 1, n_exc: int = 160, n_inh: int = 40):
    h.load_file("stdrun.hoc")
    cell = L5PC()
    rng = np.random.default_rng(seed)
    # excitatory synapses on basal and apical dendrites, uniformly by length;
    # inhibitory ones on the soma and the proximal dendrites (within 150 um)
    dend_secs = list(cell.basal) + list(cell.apical)
    lengths = np.array([s.L for s in dend_secs])
    proximal = [s for s in dend_secs if cell.distance(s(0.5)) < 150] + [cell.soma]
    keep = []
    for kind, n, pool, weights, w_uS in (
        ("exc", n_exc, dend_secs, lengths / lengths.sum(), 0.0015),
        ("inh", n_inh, proximal, None, 0.001),
    ):
        for _ in range(n):
            sec = pool[rng.choice(len(pool), p=weights)]
            syn = cell.add_synapse(kind, sec, float(rng.uniform(0.05, 0.95)))
            stim = h.NetStim()
            stim.interval = 1000.0 / rng.uniform(5.0, 20.0)
            stim.number = 1e9
            stim.start = 0
            stim.noise = 1
            stim.noiseFromRandom123(seed, len(keep), 0)
            nc = h.NetCon(stim, syn)
            nc.weight[0] = w_uS
            nc.delay = 1.0
            keep.append((stim, nc))
    return cell, keep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tstop", type=float, default=1000.0, help="simulated ms per run (default 1000)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    cell, keep = build()
    build_s = time.perf_counter() - t0
    spikes = h.Vector()
    nc_out = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    nc_out.threshold = -20
    nc_out.record(spikes)

    h.dt = 0.025
    h.CVode().active(0)
    walls = []
    for _ in range(args.repeats):
        h.finitialize(-75)
        t0 = time.perf_counter()
        h.continuerun(args.tstop)
        walls.append(time.perf_counter() - t0)
    per_s = [w / (args.tstop / 1000.0) for w in walls]
    nseg = sum(s.nseg for s in cell.all)
    print(f"L5PC: {sum(1 for _ in cell.all)} sections, {nseg} segments, {len(cell.synapses)} synapses "
          f"(160 AMPA_NMDA + 40 GABA_A), NetStims 5-20 Hz, dt {h.dt} ms, build {build_s:.2f} s")
    print(f"somatic spikes in the last run: {len(spikes)} in {args.tstop:.0f} ms")
    print("wall s per simulated s, each run: " + ", ".join(f"{x:.2f}" for x in per_s))
    print(f"median NEURON wall time per simulated second: {statistics.median(per_s):.2f} s")


if __name__ == "__main__":
    main()
