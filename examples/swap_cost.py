"""How long swap_to_ann() takes on the bench network, restorable or not.

    python examples/swap_cost.py N [--unrestorable]

Builds ``neuron-ann bench``'s network of N shipped-L5PC cells (10 % connected) and times
``swap_to_ann()``; with ``--unrestorable`` it swaps with ``restorable=False``, which skips
recording the deleted sections for ``swap_back()``.
"""
import sys
import time


from neuron_ann.bench import _default_bundle, prepare_network
from neuron_ann.bridge import swap_to_ann


def main(n: int, restorable: bool) -> None:
    t0 = time.perf_counter()
    bundle, cells, keep = prepare_network(_default_bundle(), n, 0.1)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    swap_to_ann(bundles=[bundle], threads=1, restorable=restorable)
    swapped = time.perf_counter() - t0
    print(f"{n} L5PC, restorable={restorable}: build {built:.2f} s, swap {swapped:.2f} s ({swapped / n * 1000:.1f} ms per cell)")


if __name__ == "__main__":
    main(int(sys.argv[1]), "--unrestorable" not in sys.argv[2:])
