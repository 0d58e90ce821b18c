"""A ParallelContext gid network: each rank swaps the BallHH cells it owns.

    MPI_LIB_NRN_PATH=$VIRTUAL_ENV/lib/libmpi.so.12 mpiexec -n 2 python examples/mpi_gid_network.py

The raster printed by rank 0 is the same for any number of ranks.
"""

import sys

from neuron import h

h.nrnmpi_init()
pc = h.ParallelContext()

import neuron_ann  # noqa: E402
from neuron_ann.cells import BallHH  # noqa: E402

from _stand_in import bundle_for, celsius_of  # noqa: E402

N_CELLS, TSTOP = 8, 50.0


def main():
    h.load_file("stdrun.hoc")
    rank, nhost = int(pc.id()), int(pc.nhost())
    bundle = sys.argv[1] if len(sys.argv) > 1 else (bundle_for("BallHH") if rank == 0 else None)
    bundle = pc.py_broadcast(bundle, 0)
    h.celsius = celsius_of(bundle)  # the surrogate runs only at the temperature it was trained at
    cells, keep = {}, []
    for gid in range(rank, N_CELLS, nhost):
        cell = cells[gid] = BallHH(gid=gid)
        pc.set_gid2node(gid, rank)
        detector = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        detector.threshold = -20
        pc.cell(gid, detector)
        cell.syn = cell.add_synapse("exc", cell.soma)
        if gid == 0:
            stim = h.NetStim()
            stim.start, stim.interval, stim.number, stim.noise = 0.4, 5.0, 8, 0
            drive = h.NetCon(stim, cell.syn)
            drive.delay, drive.weight[0] = 1.0, 0.5
            keep += [stim, drive]
    for gid, cell in cells.items():
        nc = pc.gid_connect((gid - 1) % N_CELLS, cell.syn)
        nc.delay, nc.weight[0] = 1.5, 0.35
        keep.append(nc)
    handle = neuron_ann.swap_to_ann(bundles=[bundle])
    tvec, idvec = h.Vector(), h.Vector()
    pc.spike_record(-1, tvec, idvec)
    pc.set_maxstep(10)
    h.finitialize(-65)
    pc.psolve(TSTOP)
    parts = pc.py_gather(sorted(zip(tvec, map(int, idvec))), 0)
    if rank == 0:
        raster = sorted(x for part in parts for x in part)
        print(f"{nhost} rank(s), {len(handle.cells)} cells swapped on rank 0, {len(raster)} spikes")
        for t, gid in raster:
            print(f"{t:.4f} {gid}")
    pc.barrier()
    pc.done()


if __name__ == "__main__":
    main()
    h.quit()
