"""``neuron-ann demo``: the main job on the shipped models.

For every bundled cell type that has a shipped bundle, the demo builds the same network
twice from the same seed: once run entirely in NEURON, once after ``swap_to_ann()``. It
reports wall times, firing rates, spike-train agreement and the somatic voltage agreement
of one recorded cell, and saves a raster figure. Types without a shipped bundle run
NEURON-only and are reported as such.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from neuron import h

from . import bundle as bundle_mod
from . import metrics
from .cells import get_cell_class
from .errors import check_setting
from .network import build_network

__all__ = ["demo_command", "run_demo"]

DEFAULT_CELLS = {"BallHH": 100, "PVBasket": 50, "L5PC": 10}


def _reset():
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def _simulate(populations, tstop, seed, swap_types=(), bundle_paths=()):
    """Build the network, optionally swap the cells of ``swap_types``, run, and collect results."""
    h.load_file("stdrun.hoc")
    h.CVode().active(0)
    h.dt = 0.025
    h.celsius = get_cell_class(next(iter(populations))).celsius
    h.tstop = tstop
    net = build_network(populations=populations, connectivity=0.1, seed=seed)
    v = h.Vector().record(net.cells[0].soma(0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    handle = None
    load_s = 0.0
    if swap_types:
        import neuron_ann

        start = time.perf_counter()
        chosen = [c for c in net.cells if type(c).__name__ in swap_types]
        handle = neuron_ann.swap_to_ann(cells=chosen, bundles=list(bundle_paths))
        load_s = time.perf_counter() - start
    start = time.perf_counter()
    h.finitialize(-65)
    h.continuerun(tstop)
    wall = time.perf_counter() - start
    result = {"wall_s": wall, "load_s": load_s, "spikes": net.raster(), "t": np.array(t), "v": np.array(v)}
    if handle is not None:
        import neuron_ann

        result["swapped"] = str(handle)
        neuron_ann.swap_back()
    del net, v, t, handle
    _reset()
    return result


def _compare(detailed, surrogate, n_cells, tstop):
    rates_d = np.bincount(detailed["spikes"][1], minlength=n_cells) / (tstop / 1000)
    rates_s = np.bincount(surrogate["spikes"][1], minlength=n_cells) / (tstop / 1000)
    f1 = []
    for gid in range(n_cells):
        a = detailed["spikes"][0][detailed["spikes"][1] == gid]
        b = surrogate["spikes"][0][surrogate["spikes"][1] == gid]
        f1.append(metrics.spike_metrics(a, b)["f1"])
    n = min(len(detailed["v"]), len(surrogate["v"]))
    ve = metrics.voltage_metrics(detailed["v"][:n], surrogate["v"][:n])["ve_clipped"]
    return {
        "rate_detailed_hz": float(rates_d.mean()),
        "rate_surrogate_hz": float(rates_s.mean()),
        "spike_f1_median": float(np.median(f1)),
        "cell0_clipped_ve": float(ve),
    }


def _figure(results, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = len(results)
    fig, axes = plt.subplots(rows, 2, figsize=(11, 3.2 * rows), squeeze=False)
    for row, (label, res) in enumerate(results.items()):
        ax = axes[row][0]
        for name, key, color in (("NEURON", "detailed", "k"), ("surrogate", "surrogate", "tab:red")):
            if key in res:
                t, g = res[key]["spikes"]
                ax.plot(t, g + (0.3 if key == "surrogate" else 0), "|", color=color, ms=3, label=name)
        ax.set_title(f"{label}: spike raster")
        ax.set_xlabel("t (ms)")
        ax.set_ylabel("cell")
        ax.legend(loc="upper right", fontsize=8)
        ax = axes[row][1]
        for name, key, color in (("NEURON", "detailed", "k"), ("surrogate", "surrogate", "tab:red")):
            if key in res:
                ax.plot(res[key]["t"], res[key]["v"], color=color, lw=0.7, label=name)
        ax.set_title(f"{label}: soma v of cell 0")
        ax.set_xlabel("t (ms)")
        ax.set_ylabel("mV")
    fig.tight_layout()
    path = Path(out) / "demo.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _report(label, populations, swap_types, shipped, tstop, seed, results, summary):
    n = sum(populations.values())
    print(f"\n== {label}: {', '.join(f'{k} x{v}' for k, v in populations.items())}, 10% connected, "
          f"{tstop:.0f} ms ==", flush=True)
    res = {"detailed": _simulate(populations, tstop, seed)}
    row = {"populations": populations, "neuron_wall_s": res["detailed"]["wall_s"]}
    print(f"NEURON (all detailed): {res['detailed']['wall_s']:.2f} s wall", flush=True)
    if swap_types:
        res["surrogate"] = _simulate(populations, tstop, seed, swap_types, [shipped[t] for t in swap_types])
        row.update(swapped=list(swap_types), surrogate_wall_s=res["surrogate"]["wall_s"],
                   model_load_s=res["surrogate"]["load_s"],
                   speedup=res["detailed"]["wall_s"] / res["surrogate"]["wall_s"],
                   **_compare(res["detailed"], res["surrogate"], n, tstop))
        print(f"with {', '.join(swap_types)} swapped: {row['surrogate_wall_s']:.2f} s wall "
              f"(+{row['model_load_s']:.2f} s loading and swapping) -> {row['speedup']:.1f}x", flush=True)
        print(f"mean rate: NEURON {row['rate_detailed_hz']:.1f} Hz, surrogate {row['rate_surrogate_hz']:.1f} Hz; "
              f"median per-cell spike F1 {row['spike_f1_median']:.2f}; cell 0 clipped VE {row['cell0_clipped_ve']:.2f}")
    else:
        row["surrogate"] = "not run: no shipped bundle for this type"
        print("surrogate: not run (no shipped bundle for this type); NEURON only.")
    results[label] = res
    summary[label] = row


def run_demo(cells=None, tstop=None, out="demo_output", seed=7):
    """Run the demo and return its summary dictionary (also written to ``out/summary.json``)."""
    tstop = float(check_setting("the simulated time in ms (--tstop)", 1000.0 if tstop is None else tstop, above=0))
    if cells is not None:
        check_setting("the number of cells per type (--cells)", cells, integer=True, minimum=1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shipped = {}
    for path in bundle_mod.shipped_bundles():
        try:
            b = bundle_mod.load(path)
        except bundle_mod.BundleError as exc:
            print(f"shipped bundle skipped: {exc}")
            continue
        shipped[b.name] = path
    print(f"shipped surrogates: {', '.join(sorted(shipped)) or 'none'}")
    results, summary = {}, {}
    for cell_type in ("BallHH", "PVBasket", "L5PC"):
        if cell_type not in shipped and cell_type != "BallHH":
            continue
        populations = {cell_type: cells or DEFAULT_CELLS[cell_type]}
        swap = (cell_type,) if cell_type in shipped else ()
        _report(cell_type, populations, swap, shipped, tstop, seed, results, summary)
    if "BallHH" in shipped:
        # hybrid: surrogate excitatory cells with detailed (unswapped) inhibitory interneurons
        n = cells or DEFAULT_CELLS["BallHH"]
        populations = {"BallHH": n, "PVBasket": max(1, n // 4)}
        _report("hybrid", populations, ("BallHH",), shipped, tstop, seed, results, summary)
    figure = _figure(results, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nsummary: {out / 'summary.json'}" + (f", figure: {figure}" if figure else ""))
    return summary


def demo_command(args) -> int:
    run_demo(cells=args.cells, tstop=args.tstop, out=args.out or "demo_output")
    return 0
