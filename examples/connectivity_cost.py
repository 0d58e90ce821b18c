"""Where a connected network's extra time goes: the bench network with its cell-to-cell weights scaled.

    python examples/connectivity_cost.py N CONNECTIVITY WEIGHT_SCALE

Builds ``neuron-ann bench``'s network of N shipped-L5PC cells (CONNECTIVITY: fraction of
pairs connected), multiplies the cell-to-cell NetCon weights by WEIGHT_SCALE, swaps every
cell and runs 1 s. With WEIGHT_SCALE 0 the cells fire as if unconnected while NEURON still
delivers every event, which separates the cost of event delivery from that of the higher
firing rate of a connected network. Prints wall, ONNX Runtime, bridge and remaining
("rest": NEURON) seconds and the spike count.
"""
import sys
import time

from neuron import h

from neuron_ann import bundle as bm
from neuron_ann.bench import _default_bundle, build_network
from neuron_ann.bridge import swap_to_ann


def main(n: int, connectivity: float, weight_scale: float) -> None:
    h.load_file("stdrun.hoc")
    b = bm.load(_default_bundle())
    h.dt = 0.025
    h.celsius = float(b.meta["celsius"])
    cells, keep = build_network(b, n, connectivity, 1)
    netcons = [k for k in keep if k.hname().startswith("NetCon")]
    links = [nc for nc in netcons if nc.preseg() is not None and nc.syn() is not None]  # cell to cell
    for nc in links:
        nc.weight[0] = nc.weight[0] * weight_scale
    spikes = h.Vector()
    for nc in netcons:
        if nc.syn() is None:  # the spike detectors
            nc.record(spikes)
    handle = swap_to_ann(bundles=[b], threads=1)
    h.finitialize(-65)
    t0 = time.perf_counter()
    h.continuerun(1000)
    wall = time.perf_counter() - t0
    st = next(iter(handle.stats().values()))
    rest = wall - st["ort_seconds"] - st["bridge_seconds"]
    print(f"{n} cells, connectivity {connectivity:g}, cell-to-cell weights x{weight_scale:g}: {len(links)} links, "
          f"wall {wall:.2f} s, ONNX Runtime {st['ort_seconds']:.2f} s, bridge {st['bridge_seconds']:.2f} s, "
          f"rest {rest:.2f} s, {int(spikes.size())} spikes")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
