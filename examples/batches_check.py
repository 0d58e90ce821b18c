"""Cells added to a swap in batches run as the same network built and swapped whole.

    python examples/batches_check.py BUNDLE_NAME N --batch B [--tstop MS] [--direct] [--connectivity P]
                                     [--providers NAME ...] [--compare-cpu] [--json FILE]

Builds ``neuron-ann bench``'s network of N cells of a shipped bundle's type (BallHH, PVBasket or
L5PC; disconnected, or with ``--connectivity P`` each pair linked with probability P) twice,
each in a fresh process: B cells at a time, each batch swapped with ``swap_to_ann(cells=batch)``
before the next is built (the links made after the last batch, onto swapped cells, with
``neuron_ann.NetCon``), and then all at once with one swap.
Each runs ``--tstop`` ms; the script prints the provider each ran on, the seconds each batch's
swap took (each batch makes the type's step model anew for the larger batch: on a GPU a new
session and CUDA graphs) and how the two rasters compare: spikes equal to the bit, and the
largest time difference among spikes matched within 1 ms. With ``--compare-cpu`` a third run
(whole, ``CPUExecutionProvider``) shows how far the automatic provider's raster is from the
CPU's. On the CPU the batched and whole rasters are equal spike for spike
(``tests/test_bench.py`` checks that for 7 BallHH); this script is for large N and for the
GPU, where the provider changes from the CPU to CUDA as a batched type passes
``neuron_ann.runtime.providers.CUDA_MIN_CELLS`` cells.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np


def run(path, n_cells: int, batch: int | None, tstop: float, direct: bool, providers=None, connectivity: float = 0.0) -> dict:
    """One configuration in this process (the script runs each in a fresh one, as ``neuron-ann bench`` does)."""
    import neuron_ann
    from neuron_ann.bench import prepare_network, timed_run

    options = {"restorable": False, "direct_delivery": direct, "providers": providers}
    swap_seconds = []
    batch_providers = []

    def swap(cells):
        t0 = time.perf_counter()
        handle = neuron_ann.swap_to_ann(cells=cells, bundles=[path], **options)
        swap_seconds.append(time.perf_counter() - t0)
        batch_providers.append(handle.groups[0].model.providers[0])

    t0 = time.perf_counter()
    bundle, cells, keep = prepare_network(path, n_cells, connectivity, batch=batch, on_batch=swap if batch else None)
    handle = neuron_ann.swap_to_ann(bundles=[path], **options)  # whole: swaps all; batched: nothing left to add
    build = time.perf_counter() - t0
    assert [g.n_cells for g in handle.groups] == [n_cells]
    timed = timed_run(tstop, handle)
    times = handle.spike_times()
    return {
        "batch": batch, "build_and_swap_seconds": build, "run_seconds": timed["wall_seconds"],
        "provider": handle.groups[0].model.providers[0], "cuda_graph": handle.groups[0].model.cuda_graph,
        "batch_swap_seconds": swap_seconds, "batch_providers": batch_providers,
        "raster": [np.asarray(times[c], dtype=float).tolist() for c in cells],
    }


def run_apart(args, batch: int | None, providers) -> dict:
    """:func:`run` in a fresh process: its result as JSON on the last line of its output."""
    cmd = [sys.executable, __file__, args.bundle, str(args.cells), "--batch", str(args.batch), "--tstop", str(args.tstop),
           "--one", str(batch or 0), "--connectivity", str(args.connectivity)] + (["--direct"] if args.direct else []) + (["--providers", *providers] if providers else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["raster"] = [np.asarray(r, dtype=float) for r in result["raster"]]
    return result


def compare(a: list, b: list) -> dict:
    """Cells whose spike trains are equal to the bit; spikes matched within 1 ms and the largest
    time difference among them; spikes left unmatched on either side."""
    equal = sum(np.array_equal(x, y) for x, y in zip(a, b))
    matched, worst = 0, 0.0
    for x, y in zip(a, b):
        if len(x) and len(y):
            nearest = np.abs(x[:, None] - y[None, :]).min(axis=1)
            close = nearest <= 1.0
            matched += int(close.sum())
            worst = max(worst, float(nearest[close].max()) if close.any() else 0.0)
    total_a, total_b = sum(len(x) for x in a), sum(len(y) for y in b)
    return {"cells_equal": int(equal), "cells": len(a), "spikes": [total_a, total_b], "matched_within_1ms": matched,
            "max_matched_difference_ms": worst, "unmatched": total_a + total_b - 2 * matched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="shipped bundle name: BallHH, PVBasket or L5PC")
    parser.add_argument("cells", type=int)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--tstop", type=float, default=200.0)
    parser.add_argument("--direct", action="store_true", help="swap with direct_delivery=True")
    parser.add_argument("--connectivity", type=float, default=0.0, metavar="P", help="random links, as neuron-ann bench")
    parser.add_argument("--providers", nargs="+", default=None, help="providers for both runs (default: automatic)")
    parser.add_argument("--compare-cpu", action="store_true", help="also run the whole network on the CPU provider")
    parser.add_argument("--json", default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # internal: one run, batch (0: whole)
    args = parser.parse_args()

    if args.one is not None:
        from neuron_ann.bundle import shipped_bundles

        (path,) = [p for p in shipped_bundles() if p.stem == args.bundle]
        print(json.dumps(run(path, args.cells, args.one or None, args.tstop, args.direct, args.providers, args.connectivity)))
        return
    runs = {"batched": run_apart(args, args.batch, args.providers), "whole": run_apart(args, None, args.providers)}
    if args.compare_cpu:
        runs["whole_cpu"] = run_apart(args, None, ["CPUExecutionProvider"])
    report = {"bundle": args.bundle, "cells": args.cells, "batch": args.batch, "tstop_ms": args.tstop, "direct": args.direct,
              "connectivity": args.connectivity}
    for name, r in runs.items():
        swaps = r["batch_swap_seconds"]
        print(f"{name}: provider {r['provider']} (CUDA graphs: {r['cuda_graph']}), build and swap {r['build_and_swap_seconds']:.2f} s, "
              f"run {r['run_seconds']:.2f} s, {sum(len(t) for t in r['raster'])} spikes")
        if swaps:
            print(f"  {len(swaps)} batch swaps: providers {' '.join(p.replace('ExecutionProvider', '') for p in r['batch_providers'])}; "
                  f"seconds first {swaps[0]:.3f}, median {np.median(swaps):.3f}, max {max(swaps):.3f}")
        report[name] = {k: v for k, v in r.items() if k != "raster"}
    report["batched_vs_whole"] = compare(runs["batched"]["raster"], runs["whole"]["raster"])
    print("batched vs whole:", report["batched_vs_whole"])
    if args.compare_cpu:
        report["whole_vs_cpu"] = compare(runs["whole"]["raster"], runs["whole_cpu"]["raster"])
        print("whole vs whole on the CPU:", report["whole_vs_cpu"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
