"""The step contract across rooms: a bundle made by the training pipeline, run by the bridge
inside NEURON, gives exactly what the dataset's binning and the offline step model give.

This is the check that dataset, export and bridge agree on docs/internals.md (format 2):
events delivered in [t_k, t_{k+1}) feed row k, the soma current of [t_{k-1}, t_k) feeds
row k, and row k's outputs are the soma v at t_{k+1} and the spikes inside [t_k, t_{k+1}).
"""

import numpy as np
import pytest

import neuron_ann
from neuron_ann import bundle as bundle_mod
from neuron_ann.dataset.cellspec import place_synapse
from neuron_ann.dataset.generate import bin_events
from neuron_ann.validate import make_session, predict

NEURON_DT = 0.025


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("tensorflow")
    from neuron_ann.training.command import train_surrogate

    out = tmp_path_factory.mktemp("contract") / "BallHH.onnx"
    train_surrogate(
        "BallHH", out, sim_seconds=4, sim_ms=2000, epochs=1, processes=1, seed=5,
        model={"filters": 8, "kernel": 3, "lstm_units": 12},
        train={"steps_per_epoch": 2, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4},
        progress=False,
    )
    return bundle_mod.load(out)


def test_bridge_in_neuron_equals_offline_step_model(trained, neuron_state):
    from neuron import h

    from neuron_ann.cells import BallHH

    meta = trained.meta
    dt = trained.dt_ms
    tstop = 40.0
    n_steps = int(round(tstop / dt))
    ticks_per_step = int(round(dt / NEURON_DT))
    h.celsius = meta["celsius"]
    h.dt = NEURON_DT
    cell = BallHH()
    rng = np.random.default_rng(0)
    stims, netcons, event_ticks, event_nc, weights = [], [], [], [], []
    for site in meta["sites"]:
        syn = place_synapse(cell, site)
        # three spikes per site at random NEURON ticks, one NetCon with delay 1.5 ms (>= dt)
        sends = np.sort(rng.choice(np.arange(4, int(tstop / NEURON_DT) - 200), size=3, replace=False))
        delay_ticks = 60
        ticks = []
        for send in sends:
            stim = h.NetStim()
            stim.start, stim.number, stim.noise = send * NEURON_DT, 1, 0
            nc = h.NetCon(stim, syn)
            nc.delay = delay_ticks * NEURON_DT
            nc.weight[0] = 0.004 if site["kind"] == "exc" else 0.002
            stims.append(stim)
            netcons.append(nc)
            ticks.append(send + delay_ticks)
        event_ticks.append(np.array(ticks))
        event_nc.append(np.arange(3))
        weights.append(np.full(3, 0.004 if site["kind"] == "exc" else 0.002))
    clamp = h.IClamp(cell.soma(0.5))
    clamp.delay, clamp.dur, clamp.amp = 7.25, 10.5, 0.3

    # offline: the dataset's binning and the exported step model
    x = np.zeros((n_steps, trained.n_inputs))
    site_x = bin_events(event_ticks, event_nc, weights, n_steps, ticks_per_step)
    for site, column in enumerate(trained.site_columns()):
        x[:, column] = site_x[:, site]
    edges = np.arange(n_steps + 1) * dt
    overlap = np.clip(np.minimum(edges[1:], 7.25 + 10.5) - np.maximum(edges[:-1], 7.25), 0, None) / dt
    x[1:, trained.current_input_index()] = 0.3 * overlap[:-1]  # mean current of the interval that has just ended
    y = predict(make_session(trained.model_bytes), meta, x[None])[0]

    # online: the same network run by NEURON with the cell swapped
    v_rec = h.Vector().record(cell.soma(0.5)._ref_v, dt)
    handle = neuron_ann.swap_to_ann(bundles=[trained.path])
    h.finitialize(-65)
    h.continuerun(tstop)
    v_online = np.array(v_rec)[1 : n_steps + 1]  # v at t_1 ... t_n
    v_column = trained.output_index("soma_v")
    assert np.abs(v_online - y[:, v_column]).max() < 1e-3
    spike_column = trained.output_index("spike_prob")
    expected = (np.nonzero(y[:, spike_column] > meta["spike_threshold"])[0] + 0.5) * dt
    np.testing.assert_allclose(handle.spike_times(cell), expected, atol=1e-9)
    neuron_ann.swap_back()
    del handle, netcons, stims, clamp, cell
