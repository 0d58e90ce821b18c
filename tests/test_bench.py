"""``neuron-ann bench`` end to end on a tiny bundle: every number of the table is produced."""

import json
import math
import subprocess
import sys

import pytest

import tiny_bundles as tb
from neuron_ann.bundle import load as load_bundle


@pytest.mark.parametrize("direct", [False, True])
def test_bench_reports_neuron_and_surrogate_times(tmp_path, neuron_state, direct):
    bundle_path = tb.ballhh_bundle(tmp_path / "ball.onnx", threshold=0.002)
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "neuron_ann.cli", "bench", str(bundle_path), "--cells", "2", "4", "--tstop", "50",
         "--repeats", "1", "--neuron-cells", "2", "--connectivity", "0.5", "--threads", "1", "--json", str(out)] + (["--direct"] if direct else []),
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["cells"] for r in rows] == [2, 4]
    for row in rows:
        for key in ("neuron_seconds", "ann_seconds", "ort_seconds", "bridge_seconds", "model_load_seconds", "peak_rss_mb_ann"):
            assert math.isfinite(row[key]) and row[key] >= 0, (key, row)
        assert row["speedup"] == row["neuron_seconds"] / row["ann_seconds"]
        assert row["runs"]["ann"][0]["steps"] == 51  # step 0 at finitialize plus one per ms
    assert rows[1]["neuron_scaled"] and rows[1]["neuron_cells_timed"] == 2
    # 4 cells at connectivity 0.5 (seed 1): 6 NetCons between swapped cells
    assert [r["direct_connections"] for r in rows] == ([1, 6] if direct else [0, 0])
    # and the NetStim inputs, one per contact site of each cell, relayed
    n_sites = len(load_bundle(bundle_path).meta["sites"])
    assert [r["relayed_connections"] for r in rows] == ([2 * n_sites, 4 * n_sites] if direct else [0, 0])
    assert "scaled x2" in proc.stdout
    # memory: the detailed network's peak before the swap, and the numbers kept per cell: float32 state and
    # input row of the step model, float64 input per contact site, current, v (two), spike time, and the two
    # (empty, one-element) readout buffers of the whole group
    meta = load_bundle(bundle_path).meta
    n_state = sum(math.prod(s["shape"]) for s in meta["state"])
    for row in rows:
        assert 0 < row["peak_rss_mb_built"] <= row["peak_rss_mb_ann"]
        n = row["cells"]
        expected = 4 * (n_state + load_bundle(bundle_path).n_inputs) + 8 * (n_sites + 4) + 8 * 2 / n
        assert row["state_kb_per_cell"] * 1024 == pytest.approx(expected, rel=1e-12), row["state_kb_per_cell"]


def test_batches_example_compares_batched_and_whole_rasters(tmp_path):
    """examples/batches_check.py on 8 shipped-BallHH cells in batches of 3: three batch swaps, each on the
    provider it reports, and the batched raster equal to the whole one and to the CPU provider's."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "batches.json"
    proc = subprocess.run([sys.executable, str(root / "examples" / "batches_check.py"), "BallHH", "8", "--batch", "3",
                           "--tstop", "200", "--compare-cpu", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["batched"]["batch_providers"] == ["CPUExecutionProvider"] * 3  # under 64 cells: the CPU, GPU or not
    assert len(report["batched"]["batch_swap_seconds"]) == 3 and min(report["batched"]["batch_swap_seconds"]) > 0
    assert report["whole"]["batch_swap_seconds"] == []
    for key in ("batched_vs_whole", "whole_vs_cpu"):
        c = report[key]
        assert c["cells"] == c["cells_equal"] == 8 and c["unmatched"] == 0, c
        assert c["spikes"][0] == c["spikes"][1] == c["matched_within_1ms"] > 8, c
    assert "batched vs whole:" in proc.stdout


def test_memory_example_reports_each_stage(tmp_path):
    """examples/memory.py on 3 L5PC cells: resident and peak memory per stage, and the numbers kept per cell
    (more than the step model's float32 state and inputs and a float64 per contact site; at most the design's 16 KB)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "examples" / "memory.py"), "3", "--tstop", "5"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("built", "swapped", "ran"):
            rows[parts[0]] = [float(p) for p in parts[-3:]]
    assert list(rows) == ["built", "swapped", "ran"]
    for current, peak, _ in rows.values():
        assert 0 < current <= peak
    assert rows["built"][1] <= rows["swapped"][1] <= rows["ran"][1]  # the peak never falls
    kb = float(proc.stdout.split("keeps per cell: ")[1].split()[0])
    from neuron_ann.bench import _default_bundle

    bundle = load_bundle(_default_bundle())
    n_state = sum(math.prod(s["shape"]) for s in bundle.meta["state"])
    assert (4 * (n_state + bundle.n_inputs) + 8 * len(bundle.meta["sites"])) / 1024 < kb <= 16


@pytest.mark.parametrize("direct, connectivity", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 0.5)])
def test_bench_network_built_and_swapped_in_batches_runs_as_built_whole(neuron_state, direct, connectivity):
    """bench.build_network(batch=, on_batch=swap) gives the network of one build and one swap:
    the shipped BallHH bundle's raster over 200 ms is the same, spike for spike; connected, its
    links onto cells of earlier batches made after their swap (neuron_ann.NetCon)."""
    import gc

    import numpy as np

    import neuron_ann
    from neuron_ann.bench import prepare_network
    from neuron_ann.bundle import shipped_bundles

    h = neuron_state
    (path,) = [p for p in shipped_bundles() if p.name == "BallHH.onnx"]
    rasters, links = [], []
    for batch in (None, 3):
        options = {"restorable": False, "direct_delivery": direct, "threads": 1}
        swap = (lambda cells: neuron_ann.swap_to_ann(cells=cells, bundles=[path], **options)) if batch else None
        bundle, cells, keep = prepare_network(path, 7, connectivity, batch=batch, on_batch=swap)
        handle = neuron_ann.swap_to_ann(bundles=[path], **options)  # whole: swaps all; batched: nothing left to add
        assert handle.cells == cells and [g.n_cells for g in handle.groups] == [7]
        # the links: NetCons from a soma taken in as inputs of the surrogates (captured, or delivered directly)
        links.append([k.hname() for k in keep if k.hname().startswith("NetCon") and k.preseg() is not None
                      and handle._inputs.row(k.hname()) >= 0])
        h.finitialize(-65)
        h.continuerun(200)
        times = handle.spike_times()
        rasters.append([np.asarray(times[c]) for c in cells])
        neuron_ann.bridge._reset_for_tests()
        del bundle, cells, keep, handle, times
        gc.collect()
        for sec in list(h.allsec()):
            h.delete_section(sec=sec)
    assert len(links[0]) == len(links[1]) == (16 if connectivity else 0)  # the seed's 16 links, in both networks
    assert sum(len(t) for t in rasters[0]) > 7  # every cell fires
    for whole, batched in zip(*rasters):
        assert np.array_equal(whole, batched)
    with pytest.raises(ValueError, match=r"build_network\(batch=\.\.\.\) must be an integer of at least 1, got 0\."):
        prepare_network(path, 4, 0.0, batch=0)


def test_init_cost_example_times_each_finitialize(tmp_path):
    """examples/init_cost.py on 2 shipped L5PC, fully connected: one JSON line with every NetCon counted
    (200 inputs and a spike detector per cell, 2 links) and the seconds of each h.finitialize."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "examples" / "init_cost.py"), "2", "1.0", "--repeats", "3"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["netcons"] == 2 * 201 + 2
    assert len(report["finitialize_s"]) == 3 and all(0 < t < 60 for t in report["finitialize_s"])
