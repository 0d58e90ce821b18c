"""``validate --references``: NEURON scored against NEURON on the surrogate's held-out input."""

import copy
import json

import numpy as np
import pytest

from neuron_ann import bundle
from neuron_ann.cli import main
from neuron_ann.dataset import GenerationConfig, resolve_cell, simulate_one
from neuron_ann.validate import binned_input, held_out_input, reference_metrics

from tiny_bundles import ballhh_bundle

SITES = [{"section": "soma", "x": 0.5, "kind": "exc", "path_distance_um": 0.0}, {"section": "soma", "x": 0.5, "kind": "inh", "path_distance_um": 0.0}]
KEYS = {"description", "ve_clipped", "rmse_clipped_mv", "ve_unclipped", "spike_f1", "spike_precision", "spike_recall", "spike_timing_error_ms", "spike_n_true", "spike_n_pred",
        "spike_coincidence_factor"}


def _held_out(dt_ms, sites=SITES, seed=3):
    """1 s of held-out BallHH input (two 500 ms parts) drawn like a bundle's generation settings."""
    gen = GenerationConfig(cell="BallHH", sites=sites, readouts=[], dt_ms=dt_ms, sim_ms=500.0, n_sims=1, base_seed=1, settle_ms=50.0).as_dict()
    config, drawn, _ = held_out_input(gen, seed, 1.0)
    return gen, config, drawn


def test_binned_reference_is_exact_when_the_step_is_neurons_step():
    _, config, drawn = _held_out(0.025)
    assert config.ticks_per_step == 1
    assert all(np.array_equal(a, b) for a, b in zip(binned_input(drawn, 1).event_ticks, drawn.event_ticks))
    source = resolve_cell("BallHH")
    reference = simulate_one(source, config, 0, drawn=drawn)
    refs = reference_metrics(source, config, drawn, reference)
    binned = refs["binned_input"]
    assert binned["spike_n_true"] > 10 and sum(len(t) for t in drawn.event_ticks) > 10  # a test with spikes and events
    assert binned["ve_clipped"] == 1.0 and binned["ve_unclipped"] == 1.0 and binned["rmse_clipped_mv"] == 0.0
    assert binned["spike_f1"] == 1.0 and binned["spike_timing_error_ms"] == 0.0 and binned["spike_coincidence_factor"] == 1.0
    assert refs["neuron_half_dt"]["ve_clipped"] < 1.0  # another dt is another trace


def test_references_at_a_coarser_step_leave_the_input_alone():
    _, config, drawn = _held_out(0.5)
    S = config.ticks_per_step
    assert S == 20
    before = copy.deepcopy(drawn)
    binned = binned_input(drawn, S)
    ticks, moved = np.concatenate(drawn.event_ticks), np.concatenate(binned.event_ticks)
    assert len(ticks) > 10 and np.all(moved % S == S // 2) and np.all(moved // S == ticks // S) and np.any(moved != ticks)
    source = resolve_cell("BallHH")
    reference = simulate_one(source, config, 0, drawn=drawn)
    refs = reference_metrics(source, config, drawn, reference, window_ms=250.0)
    assert set(refs) == {"binned_input", "neuron_half_dt"}
    for r in refs.values():
        assert KEYS <= set(r) and r["description"]
        assert r["ve_clipped"] <= 1.0 and r["ve_unclipped"] <= 1.0 and 0.0 <= r["spike_f1"] <= 1.0
        assert len(r["drift"]["windows"]) == 4 and all(w["ve_clipped"] <= 1.0 for w in r["drift"]["windows"])
        assert r["spike_n_true"] == len(reference["spike_times_ms"]) > 0
    assert refs["binned_input"]["rmse_clipped_mv"] > 0.0  # moved events: another trace
    for a, b in zip(before.event_ticks + before.event_netcon, drawn.event_ticks + drawn.event_netcon):
        np.testing.assert_array_equal(a, b)  # drawn is not changed


def test_validate_command_prints_and_writes_references(tmp_path, capsys):
    import onnx

    path = ballhh_bundle(tmp_path / "tiny.onnx", dt_ms=0.5)
    gen, _, _ = _held_out(0.5, sites=[SITES[0]])
    meta = bundle.load(path).meta
    meta["provenance"]["generation"] = gen
    bundle.save(onnx.load(str(path)), meta, path)
    report = tmp_path / "v.json"
    assert main(["validate", str(path), "--sim-seconds", "1", "--seed", "3", "--references", "--json", str(report)]) == 0
    text = capsys.readouterr().out
    assert "against NEURON references" in text and "binned input" in text and "NEURON dt/2" in text
    refs = json.loads(report.read_text())["references"]
    assert set(refs) == {"binned_input", "neuron_half_dt"} and all(KEYS <= set(r) for r in refs.values())
    assert main(["validate", str(path), "--sim-seconds", "1", "--seed", "3", "--json", str(report)]) == 0
    assert "references" not in json.loads(report.read_text())  # only when asked for
    # the three NEURON runs in one process or in parallel forked ones: the same figures (f-I curve included)
    runs = []
    for processes in ("1", "3"):
        assert main(["validate", str(path), "--sim-seconds", "1", "--seed", "3", "--references", "--processes", processes,
                     "--json", str(report)]) == 0
        assert f"simulating 3 NEURON run(s) of 1 s in {processes} process(es)" in capsys.readouterr().out
        runs.append(_without_wall_times(json.loads(report.read_text())))
    assert runs[0] == runs[1] and runs[0]["references"]["neuron_half_dt"]["spike_n_pred"] > 0
    assert len(runs[0]["fi"]["points"]) == 5  # the f-I curve's five NEURON runs, also in parallel


def _without_wall_times(value):
    if isinstance(value, dict):
        return {k: _without_wall_times(v) for k, v in value.items() if not k.endswith("wall_s")}
    if isinstance(value, list):
        return [_without_wall_times(v) for v in value]
    return value


def test_metrics_by_input_regime():
    """Each regime is scored on its own parts only: a perfect regime scores 1 beside a poor one."""
    from neuron_ann.validate import regime_metrics

    plan = {"part_ms": 100.0, "regimes": ["stationary", "steady_current", "stationary"]}
    rng = np.random.default_rng(0)
    v_true = rng.normal(-65.0, 3.0, 300)
    v_pred = v_true.copy()
    v_pred[100:200] = -65.0  # the steady-current part predicted flat
    t_true = np.array([10.0, 50.0, 120.0, 150.0, 250.0])
    t_pred = np.array([10.5, 50.0, 180.0, 250.2])  # both steady-current spikes missed, one false
    by = regime_metrics(v_true, v_pred, t_true, t_pred, plan, 1.0)
    assert set(by) == {"stationary", "steady_current"}
    assert by["stationary"]["parts"] == 2 and by["stationary"]["ve_clipped"] == 1.0 and by["stationary"]["spike_f1"] == 1.0
    assert by["stationary"]["spike_n_true"] == 3 and abs(by["stationary"]["spike_timing_error_ms"] - 0.7 / 3) < 1e-12
    assert by["steady_current"]["parts"] == 1 and by["steady_current"]["ve_clipped"] < 0.01 and by["steady_current"]["spike_f1"] == 0.0
    # coincidence factor over each regime's own duration: 3 of 3 matched in 200 ms; 0 of 2 in 100 ms,
    # where one predicted spike in 100 ms would match 2 * 0.01 * 2 ms * 2 = 0.08 true spikes by chance
    assert abs(by["stationary"]["spike_coincidence_factor"] - 1.0) < 1e-12
    assert abs(by["steady_current"]["spike_coincidence_factor"] - (-0.08 / 1.5 / 0.96)) < 1e-12
    flat = by["steady_current"]  # level and fluctuation of each clipped trace over that regime's parts
    assert abs(flat["clipped_mean_pred_mv"] + 65.0) < 1e-9 and flat["clipped_sd_pred_mv"] == 0.0
    assert abs(flat["clipped_sd_true_mv"] - np.minimum(v_true[100:200], -55.0).std()) < 1e-9
    assert abs(by["stationary"]["clipped_mean_true_mv"] - np.minimum(np.r_[v_true[:100], v_true[200:]], -55.0).mean()) < 1e-9


def test_held_out_plan_names_each_parts_regime():
    from neuron_ann.dataset.inputs import InputRanges

    ranges = InputRanges(steady_current_probability=0.4, stationary_probability=0.3).as_dict()
    gen = GenerationConfig(cell="BallHH", sites=SITES, readouts=[], dt_ms=0.5, sim_ms=500.0, n_sims=1, base_seed=1, settle_ms=50.0).as_dict()
    _, drawn, plan = held_out_input({**gen, "ranges": ranges}, 3, 10.0)
    assert len(plan["regimes"]) == len(plan["parts"]) == 20
    assert set(plan["regimes"]) == {"modulated", "stationary", "steady_current"}  # 20 draws: all three regimes
    n = int(500.0 / 0.025)  # NEURON ticks per part
    events = [sum(int(np.sum((t >= j * n) & (t < (j + 1) * n))) for t in drawn.event_ticks) for j in range(20)]
    assert all(e == 0 for e, r in zip(events, plan["regimes"]) if r == "steady_current")  # current only
    assert all(e > 0 for e, r in zip(events, plan["regimes"]) if r == "stationary")  # constant-rate Poisson input


def test_compare_bundles_reports_what_validate_reports_from_one_cached_neuron_run(tmp_path, capsys):
    """examples/compare_bundles.py: validate's figures for each bundle on one NEURON run of the held-out input, cached."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shipped = str(root / "neuron_ann" / "models" / "BallHH.onnx")
    assert main(["validate", shipped, "--sim-seconds", "5", "--seed", "12345", "--json", str(tmp_path / "v.json")]) == 0
    expected = json.loads((tmp_path / "v.json").read_text())
    cmd = [sys.executable, str(root / "examples" / "compare_bundles.py"), "--seconds", "5", "--cache", str(tmp_path / "cache"), shipped, shipped]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cached = list((tmp_path / "cache").glob("heldout_BallHH_5s_*.pkl"))
    assert len(cached) == 1
    ve = [float(line.split()[-1]) for line in out.splitlines() if line.strip().startswith("VE (clipped")]
    f1 = [float(line.split()[-1]) for line in out.splitlines() if line.strip().startswith("spike F1")]
    assert len(ve) == 2 and all(abs(v - expected["ve_clipped"]) < 5e-5 for v in ve)
    assert len(f1) == 2 and all(abs(f - expected["spike_f1"]) < 5e-5 for f in f1)
    mtime = cached[0].stat().st_mtime_ns
    again = subprocess.run(cmd[:-1], capture_output=True, text=True, check=True).stdout  # reuses the cached run
    assert cached[0].stat().st_mtime_ns == mtime and again.count("=====") == 1
    # examples/spike_timing.py on the same cached run: its closed loop is validate's
    timing = [sys.executable, str(root / "examples" / "spike_timing.py"), "--seconds", "5", "--cache", str(tmp_path / "cache"),
              "--thresholds", "0.5", shipped]
    out = subprocess.run(timing, capture_output=True, text=True, check=True).stdout
    assert cached[0].stat().st_mtime_ns == mtime
    rows = {line.split(":")[0][3:]: line for line in out.splitlines() if line.startswith("== ")}
    assert set(rows) == {"closed loop", "sampled", "true spikes fed back", "threshold 0.5"}

    def number(row, label):
        return float(row.split(label)[1].split(",")[0].split()[0])

    assert f"{expected['spike_n_pred']} spikes" in rows["closed loop"]
    assert abs(number(rows["closed loop"], " F1 ") - expected["spike_f1"]) < 5e-4
    assert abs(number(rows["closed loop"], "coincidence factor ") - expected["spike_coincidence_factor"]) < 5e-4
    assert rows["threshold 0.5"].split(":")[1] == rows["closed loop"].split(":")[1]  # the step model feeds back p > 0.5 too
