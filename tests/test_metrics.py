"""Metric definitions on synthetic traces with known answers."""

import numpy as np
import pytest

from neuron_ann import metrics
from neuron_ann.readouts import fluorescence, parse_readout
from neuron_ann.errors import DatasetError


def test_clip_and_variance_explained():
    v = np.array([-70.0, -60.0, 0.0, -65.0])
    assert metrics.clip(v).tolist() == [-70.0, -60.0, -55.0, -65.0]
    assert metrics.variance_explained(v, v) == 1.0
    assert metrics.variance_explained(v, np.full(4, v.mean())) == pytest.approx(0.0)
    # an offset does not change VE (variance of the error), but RMSE sees it
    assert metrics.variance_explained(v, v + 3.0) == pytest.approx(1.0)
    assert metrics.rmse(v, v + 3.0) == pytest.approx(3.0)


def test_voltage_metrics_clip_spikes():
    rng = np.random.default_rng(0)
    v = -65 + rng.normal(0, 2, 1000)
    v[::100] = 30.0  # spikes
    pred = v.copy()
    pred[::100] = -50.0  # spike heights wrong but above the clip: no clipped error
    m = metrics.voltage_metrics(v, pred)
    assert m["ve_clipped"] == pytest.approx(1.0)
    assert m["rmse_clipped_mv"] == pytest.approx(0.0)
    assert m["ve_unclipped"] < 0.9


def test_spike_times_interpolated():
    v = np.array([-65.0, -40.0, 0.0, 20.0, -30.0, -10.0])
    t = metrics.spike_times(v, dt_ms=0.5)
    # -40 -> 0 crosses -20 halfway between samples 1 and 2; -30 -> -10 halfway between 4 and 5
    assert t == pytest.approx([0.75, 2.25])


def test_matching_is_one_to_one_within_window():
    true = np.array([10.0, 20.0, 30.0, 50.0])
    pred = np.array([10.5, 11.0, 21.9, 35.0])  # 11.0 is a duplicate, 35 too far from 30
    pairs = metrics.match_spikes(true, pred)
    assert pairs == [(0, 0), (1, 2)]
    m = metrics.spike_metrics(true, pred)
    assert m["precision"] == pytest.approx(2 / 4)
    assert m["recall"] == pytest.approx(2 / 4)
    assert m["f1"] == pytest.approx(0.5)
    assert m["timing_error_ms"] == pytest.approx((0.5 + 1.9) / 2)


def test_matching_prefers_closest_pairs():
    pairs = metrics.match_spikes([10.0, 12.0], [11.9])
    assert pairs == [(1, 0)]


def test_no_spikes_anywhere_is_perfect():
    m = metrics.spike_metrics([], [])
    assert m["f1"] == 1.0 and np.isnan(m["timing_error_ms"])
    assert metrics.spike_metrics([1.0], [])["f1"] == 0.0


def test_coincidence_factor_by_hand():
    # 4 true and 4 predicted spikes in 1000 ms, 2 matched within 2 ms: a train at 4 spikes/s
    # would match 2 * 0.004 * 2 * 4 = 0.064 by chance; (2 - 0.064) / 4 / (1 - 0.016)
    true, pred = [10.0, 20.0, 30.0, 50.0], [10.5, 11.0, 21.9, 35.0]
    assert metrics.coincidence_factor(true, pred, 1000.0) == pytest.approx((2 - 0.064) / 4 / 0.984)
    assert metrics.coincidence_factor(true, true, 1000.0) == pytest.approx(1.0)
    assert metrics.coincidence_factor([], [], 1000.0) == 1.0
    assert metrics.coincidence_factor(true, [], 1000.0) == pytest.approx(0.0)
    assert np.isnan(metrics.coincidence_factor(true, np.arange(300.0), 1000.0))  # 2 nu window = 1.2


def test_coincidence_factor_separates_timing_from_rate():
    """A train at the right rate but independent of the true one scores about 0 even where its F1
    is far from 0; the true train jittered within the window scores about 1."""
    rng = np.random.default_rng(3)
    duration = 200_000.0
    true = np.sort(rng.uniform(0, duration, 4000))  # 20 Hz
    rate_only = np.sort(rng.uniform(0, duration, 4000))
    jittered = np.sort(true + rng.uniform(-1.0, 1.0, true.size))
    f1_rate_only = metrics.spike_metrics(true, rate_only)["f1"]
    assert 0.05 < f1_rate_only < 0.12  # chance matches within +/-2 ms at 20 Hz: about 8 %
    assert abs(metrics.coincidence_factor(true, rate_only, duration)) < 0.02
    assert metrics.coincidence_factor(true, jittered, duration) > 0.98
    half = np.sort(np.concatenate([true[::2], rate_only[1::2]]))  # every other spike timed
    assert metrics.coincidence_factor(true, half, duration) == pytest.approx(0.5, abs=0.03)


def test_spike_times_from_prob_midpoints():
    p = np.array([0.0, 0.9, 0.1, 0.6])
    assert metrics.spike_times_from_prob(p, 1.0, 0.5).tolist() == [1.5, 3.5]


def test_drift_windows():
    v = np.tile(np.sin(np.linspace(0, 20, 100)) - 65, 3)
    pred = v.copy()
    pred[200:] += np.random.default_rng(1).normal(0, 1, 100)
    rows = metrics.drift_windows(v, pred, [5.0, 150.0], [5.5, 150.0], dt_ms=1.0, window_ms=100.0)
    assert len(rows) == 3
    assert rows[0]["ve_clipped"] == pytest.approx(1.0) and rows[2]["ve_clipped"] < 0.9
    assert [r["f1"] for r in rows] == [1.0, 1.0, 1.0]


def test_compare_fi():
    out = metrics.compare_fi([0.1, 0.2], [0.0, 50.0], [0.5, 45.0])
    assert out["points"][0]["relative_error"] == pytest.approx(0.5)  # floor of 1 Hz
    assert out["max_relative_error"] == pytest.approx(0.5)


def test_readout_names():
    assert parse_readout("v:apic[10](0.5)").section == "apic[10]"
    assert parse_readout("ina").section is None
    spec = parse_readout("fluorescence:dend[0](0.25)")
    assert spec.source_name == "cai:dend[0](0.25)"
    with pytest.raises(DatasetError, match="valid readouts"):
        parse_readout("foo:soma(0.5)")
    with pytest.raises(DatasetError, match="valid readouts"):
        parse_readout("soma")


def test_fluorescence_rises_and_decays():
    dt = 1.0
    cai = np.full(3000, 5e-5)
    cai[100:110] = 1e-3  # a calcium transient
    f = fluorescence(cai, dt)
    assert f[:100] == pytest.approx(0.0)
    peak = int(np.argmax(f))
    assert 105 <= peak <= 115 and f[peak] > 0.1
    # decays with GCaMP6f's half-decay time (142 ms) once calcium is back at rest
    half = peak + int(np.argmax(f[peak:] < f[peak] / 2))
    assert 100 < half - peak < 250
