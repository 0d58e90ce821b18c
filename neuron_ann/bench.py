"""``neuron-ann bench``: NEURON against the surrogate for the same network, inputs and duration.

Each configuration (network size, NEURON or surrogate, repeat) runs in a fresh Python
process so that peak resident memory and NEURON's global state belong to that run alone.
The network: ``N`` cells of the bundle's type, one synapse of the bundle's kind at each
contact site, each driven by a Poisson NetStim from a shared pool (for bundled cell types
the rates and weights of ``neuron_ann.network``, else 5 Hz),
plus cell-to-cell NetCons (soma spike -> random excitatory synapse) with probability
``--connectivity`` (with ``--direct``, these and the NetStim inputs are delivered by the runtime:
``swap_to_ann(direct_delivery=True)``). NEURON may be timed on a subset (``--neuron-cells``) and scaled
linearly; such rows are labelled. The surrogate's wall time is split into ONNX Runtime
time, the bridge's own time (gathering inputs, writing voltages and spikes) and the rest
(NEURON's fixed steps and event delivery); model loading and the swap are timed apart.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time

from .errors import check_setting

__all__ = ["bench_command", "run_one", "build_network", "prepare_network", "timed_run"]

INPUT_RATE_HZ = 5.0
STIM_POOL = 200
WEIGHT_EXC_US = 0.0005
WEIGHT_INH_US = 0.001


def _cell_class(meta):
    qualname = meta["cell_type"].get("python_class")
    if not qualname:
        from .errors import NeuronAnnError

        raise NeuronAnnError(
            f"bench builds cells from a Python class, but this bundle's cell type ({meta['cell_type']['name']}) is a hoc "
            "template only; benchmark it from your own script with swap_to_ann()."
        )
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def build_network(bundle, n_cells: int, connectivity: float, seed: int = 1, link_weight_scale: float = 1.0,
                  batch: int | None = None, on_batch=None):
    """Cells with one synapse per contact site, Poisson inputs and random recurrent NetCons.

    With ``batch``, the cells are built ``batch`` at a time, each batch with its inputs and spike
    detectors, and ``on_batch(cells)`` is called after each (``swap_to_ann(cells=cells)``, say: then
    only one batch of detailed cells is ever built at once); the same network as without it. The
    recurrent connections are made after the last batch, with :func:`neuron_ann.NetCon`, which
    takes in NetCons onto synapses of cells already swapped.
    """
    import numpy as np
    from neuron import h

    from . import celltools, mechanisms
    from .bridge import NetCon
    from .network import INPUT_DEFAULTS

    check_setting("build_network(n_cells=...)", n_cells, integer=True, minimum=1)
    check_setting("build_network(connectivity=...)", connectivity, minimum=0, maximum=1)
    if batch is not None:
        check_setting("build_network(batch=...)", batch, integer=True, minimum=1)
    mechanisms.load()
    cls = _cell_class(bundle.meta)
    rng = np.random.default_rng(seed)
    keep = []
    # bundled types get the inputs of neuron_ann.network (e.g. L5PC: 1.5 nS at 5-20 Hz, about
    # 10 Hz output); other cells INPUT_RATE_HZ and the WEIGHT_* constants
    _, _, w_exc, w_inh, exc_rates, inh_rate = INPUT_DEFAULTS.get(
        cls.__name__, (0, 0, WEIGHT_EXC_US, WEIGHT_INH_US, (INPUT_RATE_HZ, INPUT_RATE_HZ), INPUT_RATE_HZ))
    pools = {}
    for kind, rates in (("exc", np.linspace(*exc_rates, STIM_POOL)), ("inh", np.full(STIM_POOL, inh_rate))):
        pools[kind] = []
        for i, rate in enumerate(rates):
            stim = h.NetStim()
            stim.interval = 1000.0 / rate
            stim.number = 1e9
            stim.start = 0
            stim.noise = 1
            stim.noiseFromRandom123(seed, i, 0 if kind == "exc" else 1)
            pools[kind].append(stim)
    stims = pools["exc"] + pools["inh"]
    kinds = bundle.meta["synapse_kinds"]
    cells, exc_synapses, detectors = [], [], []
    delay = max(1.0, bundle.dt_ms)
    size = batch or max(n_cells, 1)
    for first in range(0, n_cells, size):
        new = [cls(gid=i) for i in range(first, min(first + size, n_cells))]
        index = celltools.sections_by_cell()  # one pass over all sections, not one per site
        for cell in new:
            mine = []
            by_name = {celltools.relative_name(sec): sec for sec in celltools.cell_sections(cell, index)}
            for site in bundle.meta["sites"]:
                spec = kinds[site["kind"]]
                sec = by_name[site["section"]]
                syn = getattr(h, spec["mechanism"])(sec(site["x"]))
                for key, value in spec.get("params", {}).items():
                    setattr(syn, key, value)
                inhibitory = spec["mechanism"].upper().startswith("GABA")
                nc = h.NetCon(pools["inh" if inhibitory else "exc"][int(rng.integers(STIM_POOL))], syn)
                nc.delay = delay
                nc.weight[0] = w_inh if inhibitory else w_exc
                keep += [syn, nc]
                if not inhibitory:
                    mine.append(syn)
            exc_synapses.append(mine)
        for cell in new:
            soma = celltools.soma_of(cell)
            nc = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
            nc.threshold = -20
            detectors.append(nc)
        cells += new
        if on_batch is not None:
            on_batch(new)
    if connectivity > 0:
        pairs = rng.random((n_cells, n_cells)) < connectivity
        np.fill_diagonal(pairs, False)
        for pre, post in zip(*np.nonzero(pairs)):
            if not exc_synapses[post]:
                continue
            soma = celltools.soma_of(cells[pre])
            syn = exc_synapses[post][int(rng.integers(len(exc_synapses[post])))]
            nc = NetCon(soma(0.5)._ref_v, syn, -20, max(1.5, bundle.dt_ms), w_exc * link_weight_scale, sec=soma)
            keep.append(nc)
    return cells, stims + keep + detectors


def timed_run(tstop: float, handle=None) -> dict:
    """``h.finitialize`` then ``h.continuerun(tstop)``, timed: init_seconds (finitialize),
    wall_seconds (both); with a swap ``handle``, the run's own ONNX Runtime and bridge seconds
    (step 0, in finitialize, excluded), steps, providers, direct (from swapped cells) and relayed (from other sources) connections
    and the bytes of numbers the surrogate keeps per cell, of its first type."""
    from neuron import h

    t0 = time.perf_counter()
    h.finitialize(-65)
    result = {"init_seconds": time.perf_counter() - t0}  # surrogate: the bridge's checks of every NetCon included
    at_init = next(iter(handle.stats().values())) if handle is not None else None
    h.continuerun(tstop)
    result["wall_seconds"] = time.perf_counter() - t0
    if handle is not None:
        stats = next(iter(handle.stats().values()))
        result["ort_seconds"] = stats["ort_seconds"] - at_init["ort_seconds"]
        result["bridge_seconds"] = stats["bridge_seconds"] - at_init["bridge_seconds"]
        for key in ("steps", "providers", "direct_connections", "relayed_connections", "state_bytes_per_cell"):
            result[key] = stats[key]
    return result


def prepare_network(bundle_path: str, n_cells: int, connectivity: float, seed: int = 1, link_weight_scale: float = 1.0,
                    **batches):
    """(bundle, cells, keep): the bundle loaded, NEURON's dt and temperature set as the bench runs
    them, and :func:`build_network`'s network built (``batches``: its ``batch`` and ``on_batch``)."""
    from neuron import h

    from . import bundle as bundle_module

    h.load_file("stdrun.hoc")
    bundle = bundle_module.load(bundle_path)
    h.dt = 0.025
    h.celsius = float(bundle.meta["celsius"])  # both modes at the temperature the surrogate was trained at
    return (bundle, *build_network(bundle, n_cells, connectivity, seed, link_weight_scale, **batches))


def run_one(bundle_path: str, n_cells: int, mode: str, tstop: float, connectivity: float, threads=None, seed: int = 1,
            providers=None, link_weight_scale: float = 1.0, direct: bool = False) -> dict:
    """One timed run in this process: ``mode`` is 'neuron' or 'ann'; ``providers`` None chooses automatically;
    ``link_weight_scale`` scales the cell-to-cell weights (0: every event delivered, none felt); ``direct``:
    swap with ``direct_delivery=True``."""
    import resource

    from neuron import h

    t0 = time.perf_counter()
    bundle, cells, keep = prepare_network(bundle_path, n_cells, connectivity, seed, link_weight_scale)
    result = {"mode": mode, "cells": n_cells, "build_seconds": time.perf_counter() - t0}
    result["rss_built_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # the detailed network, before any swap
    h.tstop = tstop
    spikes = h.Vector()
    gids = h.Vector()
    for gid, nc in enumerate(k for k in keep if k.hname().startswith("NetCon") and k.syn() is None):
        nc.record(spikes, gids, gid)
    handle = None
    if mode == "ann":
        from .bridge import swap_to_ann

        t0 = time.perf_counter()
        handle = swap_to_ann(bundles=[bundle], threads=threads, providers=providers, direct_delivery=direct)
        result["swap_seconds"] = time.perf_counter() - t0
        result["model_load_seconds"] = sum(g.model.load_seconds for g in handle.groups)
    result.update(timed_run(tstop, handle))
    result["spikes"] = int(spikes.size())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return result


def _spawn(bundle_path, n, mode, args) -> dict:
    cmd = [
        sys.executable, "-m", "neuron_ann.bench", "--worker", str(bundle_path), str(n), mode,
        str(args.tstop), str(args.connectivity), str(args.threads or 0), ",".join(args.providers or []) or "auto",
        str(int(args.direct)),
    ]
    env = dict(os.environ)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError(f"bench worker failed ({' '.join(cmd)}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def _default_bundle():
    from .bundle import load, shipped_bundles
    from .errors import NeuronAnnError

    for path in shipped_bundles():
        if load(path).meta["cell_type"]["name"] == "L5PC":
            return path
    raise NeuronAnnError("no shipped L5PC bundle is installed; pass a bundle file: neuron-ann bench BUNDLE.onnx")


def bench_command(args) -> int:
    """Entry point of ``neuron-ann bench``; prints a table and optionally writes JSON."""
    for n in args.cells:
        check_setting("each network size (--cells)", n, integer=True, minimum=1)
    check_setting("the simulated time in ms (--tstop)", args.tstop, above=0)
    check_setting("the connectivity (--connectivity, a fraction of cell pairs)", args.connectivity, minimum=0, maximum=1)
    check_setting("the number of repeats (--repeats)", args.repeats, integer=True, minimum=1)
    for name, what in (("neuron_cells", "the cells NEURON is timed on (--neuron-cells)"), ("threads", "the ONNX Runtime threads (--threads)")):
        if getattr(args, name, None) is not None:
            check_setting(what, getattr(args, name), integer=True, minimum=1)
    bundle_path = args.bundle or _default_bundle()
    rows = []
    print(f"neuron-ann bench: {bundle_path}, {args.tstop:g} ms simulated, connectivity {args.connectivity:g}, "
          f"medians of {args.repeats} runs, each in a fresh process" + (", direct delivery" if args.direct else ""))
    header = (f"{'cells':>6} {'NEURON s':>10} {'ANN s':>8} {'speedup':>8} {'init s':>7} {'ORT s':>8} {'bridge s':>9} {'rest s':>8} "
              f"{'load s':>7} {'RSS NEURON MB':>14} {'RSS built MB':>13} {'RSS ANN MB':>11} {'state KB':>9}  note")
    print(header)
    neuron_cache = {}  # NEURON subset size -> its runs, shared by the rows that scale the same subset
    for n in args.cells:
        n_neuron = min(n, args.neuron_cells) if args.neuron_cells else n
        if n_neuron not in neuron_cache:
            neuron_cache[n_neuron] = [_spawn(bundle_path, n_neuron, "neuron", args) for _ in range(args.repeats)]
        neuron_runs = neuron_cache[n_neuron]
        ann_runs = [_spawn(bundle_path, n, "ann", args) for _ in range(args.repeats)]
        med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
        neuron_wall = med(neuron_runs, "wall_seconds") * n / n_neuron
        ann_wall = med(ann_runs, "wall_seconds")
        init = med(ann_runs, "init_seconds")
        ort = med(ann_runs, "ort_seconds")
        bridge = med(ann_runs, "bridge_seconds")
        note = f"NEURON timed on {n_neuron} cells, scaled x{n / n_neuron:g}" if n_neuron != n else ""
        row = {
            "cells": n,
            "neuron_cells_timed": n_neuron,
            "neuron_seconds": neuron_wall,
            "neuron_scaled": n_neuron != n,
            "ann_seconds": ann_wall,
            "speedup": neuron_wall / ann_wall if ann_wall > 0 else float("inf"),
            "init_seconds": init,
            "ort_seconds": ort,
            "bridge_seconds": bridge,
            "rest_seconds": ann_wall - init - ort - bridge,
            "model_load_seconds": med(ann_runs, "model_load_seconds"),
            "swap_seconds": med(ann_runs, "swap_seconds"),
            "ort_us_per_cell_step": 1e6 * ort / (n * max(ann_runs[0]["steps"], 1)),
            "bridge_us_per_step": 1e6 * bridge / max(ann_runs[0]["steps"], 1),
            "peak_rss_mb_neuron": max(r["peak_rss_mb"] for r in neuron_runs),
            "peak_rss_mb_ann": max(r["peak_rss_mb"] for r in ann_runs),
            "peak_rss_mb_built": max(r["rss_built_mb"] for r in ann_runs),
            "state_kb_per_cell": ann_runs[0]["state_bytes_per_cell"] / 1024.0,
            "providers": ann_runs[0]["providers"],
            "direct_connections": ann_runs[0]["direct_connections"],
            "relayed_connections": ann_runs[0]["relayed_connections"],
            "runs": {"neuron": neuron_runs, "ann": ann_runs},
        }
        rows.append(row)
        print(f"{n:>6} {neuron_wall:>10.3f} {ann_wall:>8.3f} {row['speedup']:>8.1f} {init:>7.3f} {ort:>8.3f} {bridge:>9.3f} "
              f"{row['rest_seconds']:>8.3f} {row['model_load_seconds']:>7.3f} {row['peak_rss_mb_neuron']:>14.0f} "
              f"{row['peak_rss_mb_built']:>13.0f} {row['peak_rss_mb_ann']:>11.0f} {row['state_kb_per_cell']:>9.1f}  {note}", flush=True)
    if rows:
        print(f"providers: {rows[0]['providers']}")
    print("ANN s: h.finitialize and the run; init s: h.finitialize (the bridge's checks of every NetCon, the surrogates' "
          "step 0); ORT s: ONNX Runtime time in the run; bridge s: the bridge's own Python time per exchange step; rest: "
          "NEURON (remaining somas' steps, event delivery). load s: model load, not in ANN s. RSS: peak resident memory of the "
          "NEURON run, of the surrogate run once its detailed network was built (before the swap) and at its end; state KB: "
          "the numbers the surrogate keeps per cell (step model state and input rows, the bridge's buffers).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bundle": str(bundle_path), "tstop_ms": args.tstop, "connectivity": args.connectivity,
                       "direct_delivery": args.direct, "rows": rows}, f, indent=1)
    return 0


def _worker(argv) -> None:
    bundle_path, n, mode, tstop, connectivity, threads, providers, direct = argv
    result = run_one(bundle_path, int(n), mode, float(tstop), float(connectivity), threads=int(threads) or None,
                     providers=None if providers == "auto" else providers.split(","), direct=direct == "1")
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2:])
    else:
        from .cli import main

        sys.exit(main(["bench", *sys.argv[1:]]))
