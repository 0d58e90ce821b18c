"""Queued vs direct delivery vs cell-to-cell links inactive, in turn, on one network in one process.

    python examples/delivery_in_turn.py N CONNECTIVITY

Builds ``neuron-ann bench``'s network of N shipped-L5PC cells once, then swaps the same
cells six times (queued, direct delivery, links inactive, twice over), each run for 1 s,
and prints the swap, h.finitialize and run seconds, the run's ONNX Runtime and bridge
seconds, the spike count and how many NetCons were delivered directly (from swapped cells)
or relayed (the NetStim inputs; direct delivery only). Running the
configurations in turn in one process is the fairest comparison on a noisy machine.
"""
import sys
import time

from neuron import h

from neuron_ann.bench import _default_bundle, prepare_network, timed_run
from neuron_ann.bridge import swap_to_ann
n, conn = int(sys.argv[1]), float(sys.argv[2])
b, cells, keep = prepare_network(_default_bundle(), n, conn)
links = [k for k in keep if k.hname().startswith("NetCon") and k.syn() is not None and k.preseg() is not None]
spikes = h.Vector()
for k in keep:
    if k.hname().startswith("NetCon") and k.syn() is None:
        k.record(spikes)
print(f"{n} cells, {len(links)} links", flush=True)
for label in ["queued", "direct", "links inactive", "direct", "queued", "links inactive"]:
    for link in links:
        link.active(label != "links inactive")
    t = time.perf_counter()
    hd = swap_to_ann(bundles=[b], threads=1, direct_delivery=label == "direct")
    swap = time.perf_counter() - t
    r = timed_run(1000.0, hd)
    run, ort, br = r["wall_seconds"] - r["init_seconds"], r["ort_seconds"], r["bridge_seconds"]
    print(f"RES {label:15s} swap {swap:6.1f} s  finitialize {r['init_seconds']:6.3f} s  run {run:7.3f} s  (ONNX Runtime {ort:.3f}, "
          f"bridge {br:.3f}, rest {run - ort - br:.3f})  spikes {int(spikes.size())}  direct {r['direct_connections']}  relayed {r['relayed_connections']}", flush=True)
    t = time.perf_counter(); hd.swap_back(); print(f"   swap_back {time.perf_counter() - t:.1f} s", flush=True)
