"""A gid ring of BallHH cells, swapped to a tiny bundle, run with ParallelContext.

Usage: [mpiexec -n N] python tests/mpi_ring.py BUNDLE OUT.json [--detailed] [--maxstep-first] [--ring-delay MS] [--direct]
                                                [--connect-after] [--ring-delay-later MS]
Each rank builds and swaps only the cells it owns (gid % nhost == rank).

--maxstep-first calls pc.set_maxstep before swap_to_ann (NEURON then recomputes the
minimum cross-rank delay at finitialize, after the bridge has shortened the delays);
--ring-delay sets the delay of the gid-1 -> gid connections (default 1.5 ms); --direct swaps
with direct_delivery=True (on 2 ranks the gid-2 -> gid connections are local, so delivered
directly, and the gid-1 -> gid ones cross ranks through NEURON; the NetStim onto gid 0 is
relayed on the rank of gid 0); --connect-after swaps the cells first and then makes the ring's
connections and the drive with neuron_ann.gid_connect and neuron_ann.NetCon; --ring-delay-later
runs to half of the time, sets the gid-1 -> gid delays to MS with neuron_ann.bridge.set_delay, and
runs on.
"""

import json
import sys

from neuron import h

h.nrnmpi_init()
pc = h.ParallelContext()

import neuron_ann  # noqa: E402
from neuron_ann.cells import BallHH  # noqa: E402

N_CELLS = 6
TSTOP = 30.0


def main(bundle_path, out_path, detailed=False, maxstep_first=False, ring_delay=1.5, direct=False, connect_after=False,
         ring_delay_later=None):
    h.load_file("stdrun.hoc")
    rank, nhost = int(pc.id()), int(pc.nhost())
    keep, ring = [], []
    cells = {}
    for gid in range(N_CELLS):
        if gid % nhost != rank:
            continue
        cell = BallHH(gid=gid)
        cells[gid] = cell
        pc.set_gid2node(gid, rank)
        nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        nc.threshold = -20
        pc.cell(gid, nc)
        cell.syn = cell.add_synapse("exc", cell.soma)
        keep.append(cell.syn)
    if connect_after:
        handle = neuron_ann.swap_to_ann(bundles=[bundle_path], direct_delivery=direct)
    if 0 in cells:
        stim = h.NetStim()
        stim.start, stim.interval, stim.number, stim.noise = 0.4, 4.0, 6, 0
        drive = neuron_ann.NetCon(stim, cells[0].syn)
        drive.delay, drive.weight[0] = 1.0, 0.5
        keep += [stim, drive]
    for gid in range(N_CELLS):  # ring: gid-1 -> gid, plus gid-2 -> gid
        if gid in cells:
            for pre, w, d in (((gid - 1) % N_CELLS, 0.35, ring_delay), ((gid - 2) % N_CELLS, 0.1, 2.25)):
                nc = neuron_ann.gid_connect(pre, cells[gid].syn)  # pc.gid_connect, or onto a swapped cell
                nc.weight[0], nc.delay = w, d
                keep.append(nc)
                if pre == (gid - 1) % N_CELLS:
                    ring.append(nc)
    if maxstep_first:
        pc.set_maxstep(10)
    if not detailed and not connect_after:
        handle = neuron_ann.swap_to_ann(bundles=[bundle_path], direct_delivery=direct)
    if not detailed:
        assert len(handle.cells) == len(cells)
    tvec, idvec = h.Vector(), h.Vector()
    pc.spike_record(-1, tvec, idvec)
    if not maxstep_first:
        pc.set_maxstep(10)
    h.finitialize(-65)
    if ring_delay_later is not None:
        pc.psolve(TSTOP / 2)
        for nc in ring:
            neuron_ann.bridge.set_delay(nc, ring_delay_later)
    pc.psolve(TSTOP)
    mine = [(float(t), int(g)) for t, g in zip(tvec, idvec)]
    everything = pc.py_gather(mine, 0)
    n_direct = 0 if detailed else sum(s["direct_connections"] for s in handle.stats().values())
    directs = pc.py_gather(n_direct, 0)
    relays = pc.py_gather(0 if detailed else sum(s["relayed_connections"] for s in handle.stats().values()), 0)
    if rank == 0:
        raster = sorted(x for part in everything for x in part)
        with open(out_path, "w") as f:
            json.dump({"nhost": nhost, "raster": raster, "direct_connections": directs, "relayed_connections": relays}, f)
    pc.barrier()
    pc.done()


if __name__ == "__main__":
    args = sys.argv[1:]
    delay = float(args[args.index("--ring-delay") + 1]) if "--ring-delay" in args else 1.5
    later = float(args[args.index("--ring-delay-later") + 1]) if "--ring-delay-later" in args else None
    main(args[0], args[1], "--detailed" in args, "--maxstep-first" in args, delay, "--direct" in args, "--connect-after" in args,
         later)
    h.quit()
