"""A hybrid Python network: BallHH cells swapped to surrogates, PVBasket cells left detailed.

    python examples/python_network.py [--bundle BALLHH.onnx] [--cells 20] [--tstop 200]

Nothing in the run loop changes: build, swap_to_ann(), h.finitialize, h.continuerun.
"""

import argparse

import numpy as np
from neuron import h

import neuron_ann
from neuron_ann.cells import BallHH, PVBasket

from _stand_in import bundle_for, celsius_of


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--tstop", type=float, default=200.0)
    args = parser.parse_args()
    h.load_file("stdrun.hoc")
    bundle = args.bundle or bundle_for("BallHH")
    h.celsius = celsius_of(bundle)  # the surrogate runs only at the temperature it was trained at
    rng = np.random.default_rng(1)
    balls = [BallHH(gid=i) for i in range(args.cells)]
    baskets = [PVBasket(gid=args.cells + i) for i in range(max(1, args.cells // 5))]
    keep = []
    for cell in balls:
        stim = h.NetStim()
        stim.interval, stim.number, stim.start, stim.noise = 10, 1e9, 0, 1
        stim.noiseFromRandom123(1, cell.gid, 0)
        nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
        nc.delay, nc.weight[0] = 1.0, 0.05
        keep += [stim, nc]
    for pre in balls:  # BallHH -> PVBasket (detailed targets of surrogate spikes)
        post = baskets[int(rng.integers(len(baskets)))]
        nc = h.NetCon(pre.soma(0.5)._ref_v, post.add_synapse("exc", post.dend[0], 0.5), sec=pre.soma)
        nc.threshold, nc.delay, nc.weight[0] = -20, 1.5, 0.002
        keep.append(nc)
    for post in balls:  # PVBasket -> BallHH (detailed sources onto swapped cells)
        pre = baskets[int(rng.integers(len(baskets)))]
        nc = h.NetCon(pre.soma(0.5)._ref_v, post.add_synapse("exc", post.soma), sec=pre.soma)
        nc.threshold, nc.delay, nc.weight[0] = -20, 2.0, 0.05
        keep.append(nc)
    tvec, idvec = h.Vector(), h.Vector()
    for cell in balls + baskets:
        nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        nc.threshold = -20
        nc.record(tvec, idvec, cell.gid)
        keep.append(nc)
    with neuron_ann.swap_to_ann(bundles=[bundle]) as handle:
        print(handle.report())
        h.finitialize(-65)
        h.continuerun(args.tstop)
        ids = np.array(idvec)
        print(f"{int((ids < args.cells).sum())} surrogate spikes, {int((ids >= args.cells).sum())} detailed PVBasket spikes "
              f"in {args.tstop:g} ms; bridge stats: {handle.stats()}")


if __name__ == "__main__":
    main()
