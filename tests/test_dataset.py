"""Dataset generation: exact binning, current means, resume, and clear errors."""

import json

import numpy as np
import pytest

from neuron_ann.dataset import GenerationConfig, InputRanges, bin_events, generate_dataset, read_sim, resolve_cell, simulate_one
from neuron_ann.dataset.cellspec import choose_sites, resolve_readouts
from neuron_ann.dataset.inputs import SimulationInput
from neuron_ann.errors import DatasetError

SITES = [{"section": "soma", "x": 0.5, "kind": "exc", "path_distance_um": 0.0}, {"section": "soma", "x": 0.5, "kind": "inh", "path_distance_um": 0.0}]


def _config(**kw):
    base = dict(cell="BallHH", sites=SITES, readouts=[], dt_ms=1.0, sim_ms=200.0, n_sims=3, base_seed=5, settle_ms=50.0)
    base.update(kw)
    return GenerationConfig(**base)


def test_bin_events_exact_edges():
    # format 2: ticks of 0.025 ms, 40 ticks per 1 ms step: tick 80 is t = 2.0 ms exactly -> interval [2, 3) -> row 2
    x = bin_events([np.array([0, 39, 40, 80, 119, 200])], [np.array([0, 1, 0, 1, 0, 1])], np.array([[0.5, 2.0]]), n_steps=5, ticks_per_step=40)
    assert x[:, 0].tolist() == [2.5, 0.5, 2.5, 0.0, 0.0]  # tick 200 = 5 ms lies past the last interval [4, 5)


def test_hand_placed_event_and_current_in_the_right_bins():
    cfg = _config(sim_ms=20.0, readouts=["ina"])
    n = cfg.n_steps
    current = np.zeros(n)
    current[5:8] = 0.3  # during [5, 8) ms
    drawn = SimulationInput(
        [np.array([7 * 40 + 13]), np.zeros(0, np.int64)], [np.array([0]), np.zeros(0, np.int64)],
        np.array([[0.004, 0, 0], [0.001, 0, 0]]), current, {"n_events": 1},
    )
    sim = simulate_one(resolve_cell("BallHH"), cfg, 0, drawn=drawn)
    x = sim["x"]
    # format 2: the event at t = 7.325 ms is delivered in [7, 8), the interval row 7 predicts
    assert np.nonzero(x[:, 0])[0].tolist() == [7]
    assert x[7, 0] == pytest.approx(0.004)
    assert x[:, 1].sum() == 0
    # i_soma[k] is the mean over [t_{k-1}, t_k): rows 6, 7, 8
    assert np.nonzero(x[:, 2])[0].tolist() == [6, 7, 8]
    assert x[6:9, 2] == pytest.approx([0.3, 0.3, 0.3])
    # targets are v(t_{k+1}): the cell sits at rest until the input arrives
    assert abs(sim["v"][0] - sim["v_rest_mv"]) < 0.05
    assert sim["v"][5] - sim["v"][4] > 0.5  # current from t=5 raises v(6) = v[5]
    assert sim["readouts"].shape == (n, 1)


def test_event_on_a_step_edge_belongs_to_the_interval_it_opens():
    cfg = _config(sim_ms=10.0)
    drawn = SimulationInput(
        [np.array([3 * 40]), np.array([3 * 40 - 1])], [np.array([0]), np.array([0])],
        np.array([[0.002, 0, 0], [0.001, 0, 0]]), np.zeros(10), {"n_events": 2},
    )
    sim = simulate_one(resolve_cell("BallHH"), cfg, 0, drawn=drawn)
    x, v = sim["x"], sim["v"]
    assert np.nonzero(x[:, 0])[0].tolist() == [3]  # t = 3.0 ms exactly: [3, 4)
    assert np.nonzero(x[:, 1])[0].tolist() == [2]  # t = 2.975 ms: [2, 3)
    # row 3 holds the EPSC that starts at 3.0 ms and predicts v(t_4) = v[3], which already rises
    assert v[3] - v[2] > 0.05


def test_dataset_format_is_recorded_and_old_formats_refused(tmp_path):
    from neuron_ann import bundle
    from neuron_ann.dataset import Dataset
    from neuron_ann.dataset.generate import DATASET_FORMAT

    assert DATASET_FORMAT == bundle.FORMAT_VERSION
    src = resolve_cell("BallHH")
    generate_dataset(src, _config(n_sims=3, sim_ms=20.0), tmp_path, processes=1, progress=False)
    recorded = json.loads((tmp_path / "dataset.json").read_text())
    assert recorded["format_version"] == DATASET_FORMAT
    Dataset(tmp_path, split=(1, 1, 1))
    del recorded["format_version"]  # what a format-1 folder looks like
    (tmp_path / "dataset.json").write_text(json.dumps(recorded))
    with pytest.raises(DatasetError, match="format-1 dataset.*delete the folder or pass a new --work-dir"):
        generate_dataset(src, _config(n_sims=3, sim_ms=20.0), tmp_path, processes=1, progress=False)
    with pytest.raises(DatasetError, match="format-1 dataset.*delete the folder or pass a new --work-dir"):
        Dataset(tmp_path, split=(1, 1, 1))


def test_spike_bins_follow_crossings():
    cfg = _config(sim_ms=100.0)
    drawn = SimulationInput([np.zeros(0, np.int64)] * 2, [np.zeros(0, np.int64)] * 2, np.zeros((2, 3)), np.full(100, 0.5), {"n_events": 0})
    sim = simulate_one(resolve_cell("BallHH"), cfg, 0, drawn=drawn)
    times = sim["spike_times_ms"]
    assert len(times) >= 2
    assert np.nonzero(sim["spike"])[0].tolist() == [int(t // 1.0) for t in times]


def test_generate_resume_and_identical_files(tmp_path):
    src = resolve_cell("BallHH")
    cfg = _config(n_sims=2)
    generate_dataset(src, cfg, tmp_path / "a", processes=1, progress=False)
    first = read_sim(tmp_path / "a" / "sims" / "sim_00000.npz")
    # "interrupt" after 2 sims: extend to 3, only the third is simulated
    mtime = (tmp_path / "a" / "sims" / "sim_00000.npz").stat().st_mtime_ns
    manifest = generate_dataset(src, _config(n_sims=3), tmp_path / "a", processes=1, progress=False)
    assert (tmp_path / "a" / "sims" / "sim_00000.npz").stat().st_mtime_ns == mtime
    assert manifest["n_sims"] == 3
    # a fresh run with the same seed gives the same files
    generate_dataset(src, _config(n_sims=1), tmp_path / "b", processes=1, progress=False)
    again = read_sim(tmp_path / "b" / "sims" / "sim_00000.npz")
    for key in ("x", "v", "spike"):
        np.testing.assert_array_equal(first[key], again[key])
    # and so does a run in two forked processes
    generate_dataset(src, cfg, tmp_path / "c", processes=2, progress=False)
    for i in range(2):
        forked, alone = read_sim(tmp_path / "c" / "sims" / f"sim_{i:05d}.npz"), read_sim(tmp_path / "a" / "sims" / f"sim_{i:05d}.npz")
        for key in ("x", "v", "spike"):
            np.testing.assert_array_equal(forked[key], alone[key])
    info = json.loads((tmp_path / "a" / "sims" / "sim_00001.json").read_text())
    assert info["seed"] == [5, 1] and "site_rates_hz" in info["input"]


def test_generate_refuses_other_settings(tmp_path):
    src = resolve_cell("BallHH")
    generate_dataset(src, _config(n_sims=1), tmp_path, processes=1, progress=False)
    with pytest.raises(DatasetError, match="other settings.*dt_ms"):
        generate_dataset(src, _config(n_sims=1, dt_ms=0.5), tmp_path, processes=1, progress=False)
    # a folder written before an input setting existed resumes when that setting is at its default
    cfg_path = tmp_path / "dataset.json"
    recorded = json.loads(cfg_path.read_text())
    del recorded["ranges"]["stationary_exc_scale"], recorded["ranges"]["stationary_inh_scale"]
    cfg_path.write_text(json.dumps(recorded))
    assert generate_dataset(src, _config(n_sims=1), tmp_path, processes=1, progress=False)["n_sims"] == 1
    with pytest.raises(DatasetError, match="other settings.*ranges"):
        generate_dataset(src, _config(n_sims=1, ranges=InputRanges(stationary_exc_scale=(0.5, 2.0))), tmp_path, processes=1, progress=False)
    recorded["ranges"]["from_a_later_version"] = 1
    cfg_path.write_text(json.dumps(recorded))
    with pytest.raises(DatasetError, match="dataset.json is unreadable.*from_a_later_version.*delete that folder"):
        generate_dataset(src, _config(n_sims=1), tmp_path, processes=1, progress=False)
    cfg_path.write_text("")  # what a write cut short leaves
    with pytest.raises(DatasetError, match="dataset.json is unreadable.*delete that folder"):
        generate_dataset(src, _config(n_sims=1), tmp_path, processes=1, progress=False)
    assert not list(tmp_path.glob(".*")) and not list(tmp_path.glob("sims/.*"))  # the whole-file writes' temporary files are gone


def test_corrupted_file_is_named(tmp_path):
    bad = tmp_path / "sim_00000.npz"
    bad.write_bytes(b"not a numpy file")
    with pytest.raises(DatasetError, match="sim_00000.npz is corrupted.*regenerate"):
        read_sim(bad)


def test_unknown_cell_lists_valid_names():
    with pytest.raises(DatasetError, match="BallHH"):
        resolve_cell("NoSuchCell")
    with pytest.raises(DatasetError, match="no callable"):
        resolve_cell("neuron_ann.cells:Nope")
    with pytest.raises(DatasetError, match="load its .hoc file"):
        resolve_cell("hoc:NoSuchTemplate").build()


def test_bad_readouts_listed_before_simulation():
    cell = resolve_cell("PVBasket").build()
    with pytest.raises(DatasetError, match="no section named 'apic\\[10\\]'.*dend\\[0\\]"):
        resolve_readouts(cell, ["v:apic[10](0.5)"])
    with pytest.raises(DatasetError, match="has no .cai.*available there: ik, ina, v"):
        resolve_readouts(cell, ["cai:dend[0](0.5)"])
    specs = resolve_readouts(cell, ["v:dend[1](0.5)"])
    assert specs[0].variable == "v"


def test_sites_default_choice():
    cell = resolve_cell("PVBasket").build()
    sites = choose_sites(cell, 20, seed=1)
    assert len(sites) == 20 and sum(s.kind == "exc" for s in sites) == 16
    assert not any(s.section.startswith("axon") for s in sites)
    assert sites == choose_sites(cell, 20, seed=1)


def test_bad_step_is_refused():
    with pytest.raises(DatasetError, match="multiple of NEURON's dt"):
        _config(dt_ms=0.03).check()


def test_input_regimes_and_concatenation():
    from neuron_ann.dataset.inputs import concatenate_inputs, draw_input

    kinds = ["exc", "exc", "inh"]
    steady = draw_input(np.random.default_rng(1), kinds, 3000, 1.0, 40, InputRanges(steady_current_probability=1.0))
    assert steady.summary["regime"] == "steady_current" and all(len(t) == 0 for t in steady.event_ticks)
    assert 0.0 - 0.02 <= steady.current_na.min() and steady.current_na.max() <= 0.5 + 0.02
    stat = draw_input(np.random.default_rng(2), kinds, 3000, 1.0, 40, InputRanges(stationary_probability=1.0))
    assert stat.summary["regime"] == "stationary" and np.all(stat.current_na == 0)
    assert all(5.0 <= r <= 40.0 for r in stat.summary["site_rates_hz"])
    # with both regime probabilities at 0 the draw is the one earlier versions made
    a = draw_input(np.random.default_rng(3), kinds, 500, 1.0, 40, InputRanges())
    assert a.summary["regime"] == "modulated"
    both = concatenate_inputs([a, stat], [500, 3000], 40)
    assert both.weights_us.shape == (3, 6) and len(both.current_na) == 3500
    np.testing.assert_array_equal(both.event_ticks[0][: len(a.event_ticks[0])], a.event_ticks[0])
    np.testing.assert_array_equal(both.event_ticks[0][len(a.event_ticks[0]) :], stat.event_ticks[0] + 500 * 40)
    assert both.event_netcon[0][len(a.event_ticks[0]) :].min(initial=3) >= 3  # the second part's own NetCons


def test_stationary_drive_scales_vary_the_total_drive_and_leave_other_inputs_alone():
    from neuron_ann.dataset.inputs import draw_input

    kinds = ["exc"] * 160 + ["inh"] * 40
    plain = InputRanges(stationary_probability=1.0, stationary_exc_rate_hz=(2.0, 20.0), stationary_inh_rate_hz=(2.0, 20.0))
    scaled = plain.replace(stationary_exc_scale=(0.5, 2.0), stationary_inh_scale=(0.25, 2.0))
    totals = {"plain": [], "scaled": []}
    for seed in range(12):
        for label, ranges in (("plain", plain), ("scaled", scaled)):
            d = draw_input(np.random.default_rng([1, seed]), kinds, 200, 1.0, 40, ranges)
            rates = np.asarray(d.summary["site_rates_hz"])
            totals[label].append((rates[:160].sum(), rates[160:].sum()))
            if label == "scaled":
                s = d.summary["stationary_scale"]
                assert 0.5 <= s["exc"] <= 2.0 and 0.25 <= s["inh"] <= 2.0
                assert 2.0 * s["exc"] - 1e-3 <= rates[:160].min() and rates[:160].max() <= 20.0 * s["exc"] + 1e-3
            else:
                assert "stationary_scale" not in d.summary
    plain_t, scaled_t = np.asarray(totals["plain"]), np.asarray(totals["scaled"])
    # 160 independent per-site draws: the plain total varies by a few % between simulations,
    # the scaled one by the drawn factor
    assert plain_t[:, 0].std() / plain_t[:, 0].mean() < 0.1
    assert scaled_t[:, 0].std() / scaled_t[:, 0].mean() > 0.25 and scaled_t[:, 1].std() / scaled_t[:, 1].mean() > 0.25
    # simulations of the other regimes draw exactly what they drew without the scales
    regimes = set()
    for seed in range(16):
        mix = {"stationary_probability": 0.3, "steady_current_probability": 0.2}
        a = draw_input(np.random.default_rng([2, seed]), kinds, 300, 1.0, 40, plain.replace(**mix))
        b = draw_input(np.random.default_rng([2, seed]), kinds, 300, 1.0, 40, scaled.replace(**mix))
        regimes.add(a.summary["regime"])
        if a.summary["regime"] == "stationary":
            assert b.summary["regime"] == "stationary" and a.summary["site_rates_hz"] != b.summary["site_rates_hz"]
            continue
        assert a.summary == b.summary and all(np.array_equal(x, y) for x, y in zip(a.event_ticks, b.event_ticks))
        np.testing.assert_array_equal(a.current_na, b.current_na)
    assert regimes == {"stationary", "modulated", "steady_current"}


def test_held_out_plan_repeats_the_first_window_at_the_end():
    from neuron_ann.validate import held_out_input

    gen = _config(sim_ms=5000.0).as_dict()
    config, drawn, plan = held_out_input(gen, 12345, 100.0)
    assert config.sim_ms == 100_000.0 and plan["parts"][-2:] == [0, 1] and plan["parts"][:18] == list(range(18))
    n = config.n_steps
    np.testing.assert_array_equal(drawn.current_na[:10_000], drawn.current_na[n - 10_000 :])
    _, _, short = held_out_input(gen, 12345, 10.0)
    assert short["drift_window_ms"] == 0.0 and short["parts"] == [0, 1]
