"""Where a connected network's extra time goes: the bench network with its cell-to-cell weights scaled.

    python examples/connectivity_cost.py N CONNECTIVITY WEIGHT_SCALE [direct]

Runs ``neuron-ann bench``'s network of N shipped-L5PC cells (CONNECTIVITY: fraction of
pairs connected) for 1 s with every cell swapped, its cell-to-cell NetCon weights
multiplied by WEIGHT_SCALE (``neuron_ann.bench.run_one``). With WEIGHT_SCALE 0 the cells
fire as if unconnected while NEURON still delivers every event, which separates the cost
of event delivery from that of the higher firing rate of a connected network; ``direct``
swaps with ``direct_delivery=True`` (the runtime delivers the cell-to-cell spikes). Prints
h.finitialize's seconds (the bridge checks every NetCon there), then the run's wall, ONNX
Runtime, bridge and remaining ("rest": NEURON) seconds and the spike count.
"""
import sys

from neuron_ann.bench import _default_bundle, run_one


def main(n: int, connectivity: float, weight_scale: float, direct: bool = False) -> None:
    r = run_one(_default_bundle(), n, "ann", 1000.0, connectivity, threads=1, link_weight_scale=weight_scale, direct=direct)
    run = r["wall_seconds"] - r["init_seconds"]
    rest = run - r["ort_seconds"] - r["bridge_seconds"]
    print(f"{n} cells, connectivity {connectivity:g}, cell-to-cell weights x{weight_scale:g}"
          f"{', direct delivery' if direct else ''}: finitialize {r['init_seconds']:.2f} s; run {run:.2f} s: "
          f"ONNX Runtime {r['ort_seconds']:.2f} s, bridge {r['bridge_seconds']:.2f} s, rest {rest:.2f} s; {r['spikes']} spikes")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "direct")
