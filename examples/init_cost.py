"""Seconds of each ``h.finitialize`` of a swapped network: the bridge's check of every NetCon.

    python examples/init_cost.py N CONNECTIVITY [--direct] [--repeats K]

Builds ``neuron-ann bench``'s network of N shipped L5PC (200 NetStim-driven synapses each,
each pair linked with probability CONNECTIVITY), swaps it (``restorable=False``), and times K
(default 4) ``h.finitialize`` calls in a row: the first also warms up the step model; each
checks every NetCon (its target, delay, weight and threshold) for what changed since the last.
Prints one JSON line.
"""
import argparse
import json
import time

from neuron import h

import neuron_ann
from neuron_ann.bench import _default_bundle, prepare_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cells", type=int)
    ap.add_argument("connectivity", type=float)
    ap.add_argument("--direct", action="store_true", help="swap_to_ann(direct_delivery=True)")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    h.load_file("stdrun.hoc")
    bundle, cells, keep = prepare_network(_default_bundle(), args.cells, args.connectivity)
    netcons = int(h.List("NetCon").count())  # the network's (the swap keeps one NetCon of its own)
    neuron_ann.swap_to_ann(bundles=[bundle], restorable=False, direct_delivery=args.direct, threads=1)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        h.finitialize(-65)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"cells": args.cells, "connectivity": args.connectivity, "direct": args.direct,
                      "netcons": netcons, "finitialize_s": [round(t, 4) for t in times]}))


if __name__ == "__main__":
    main()
