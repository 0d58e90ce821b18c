"""What the bridge's check costs at each h.finitialize: the bench network, swapped, checked three times.

    python examples/finitialize_cost.py N CONNECTIVITY [direct]

Builds ``neuron-ann bench``'s network of N shipped-L5PC cells (CONNECTIVITY: fraction of
pairs connected), swaps every cell (``direct``: with ``direct_delivery=True``), then times
the bridge's finitialize check (it visits every NetCon: new NetCons onto swapped cells,
changed delays, thresholds of the swapped somas' NetCons, direct connections' weights)
three times on its own and ``h.finitialize`` twice.
"""
import sys
import time

from neuron import h

from neuron_ann.bench import _default_bundle, prepare_network
from neuron_ann.bridge import swap_to_ann


def main(n: int, connectivity: float, direct: bool = False) -> None:
    bundle, cells, keep = prepare_network(_default_bundle(), n, connectivity)
    t = time.perf_counter()
    handle = swap_to_ann(bundles=[bundle], threads=1, direct_delivery=direct)
    print(f"{n} cells, connectivity {connectivity:g}{', direct delivery' if direct else ''}: "
          f"{int(h.List('NetCon').count())} NetCons; swap {time.perf_counter() - t:.2f} s")
    checks = []
    for _ in range(3):
        t = time.perf_counter()
        handle._check_at_finitialize()
        checks.append(time.perf_counter() - t)
    inits = []
    for _ in range(2):
        t = time.perf_counter()
        h.finitialize(-65)
        inits.append(time.perf_counter() - t)
    print("check " + ", ".join(f"{c:.3f}" for c in checks) + " s; h.finitialize " + ", ".join(f"{c:.3f}" for c in inits) + " s")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), len(sys.argv) > 3 and sys.argv[3] == "direct")
