"""swap_to_ann with tiny exact bundles: inputs, spikes, run loop, hybrid networks, swap_back.

Step contract format 2 (docs/internals.md): the step at t_k sees the events whose true
delivery time lies in [t_k, t_k+1) and predicts a spike inside that same interval; the
tiny bundles spike at t_k + dt/2 (or their spike_offset output) when that input reaches
their threshold. Every expected time below is exact to 1e-9 ms.
"""

import gc
import re

import numpy as np
import pytest
from neuron import h

import neuron_ann
from neuron_ann.cells import BallHH, PVBasket
from neuron_ann.bridge.plan import SHIFT_MARK_MS
from neuron_ann.errors import SwapError

import tiny_bundles as tb


DT_MS = 1.0


@pytest.fixture(scope="module")
def pv_path(tmp_path_factory):
    return tb.pvbasket_bundle(tmp_path_factory.mktemp("p") / "pv.onnx", threshold=0.3)


def _detector(cell, threshold=-20.0):
    nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    nc.threshold = threshold
    vec = h.Vector()
    nc.record(vec)
    return nc, vec


def _expected_spikes(arrivals, weights, threshold, tstop, dt=DT_MS, offset=None):
    """Spike times of a decay-0 tiny bundle: input truly arriving in [t_k, t_k+1) sums to >= threshold -> spike at t_k + offset.

    ``offset`` defaults to dt/2 (no spike_offset output); otherwise it is rounded to NEURON's step
    and kept within (0, dt], as the bridge does.
    """
    if offset is None:
        offset = dt / 2
    else:
        offset = min(max(round(offset / h.dt), 1), round(dt / h.dt)) * h.dt
    bins = {}
    for t, w in zip(arrivals, weights):
        k = int(np.floor(t / dt + 1e-9))
        bins[k] = bins.get(k, 0.0) + w
    return sorted(k * dt + offset for k, total in bins.items() if total >= threshold - 1e-6 and k * dt + offset <= tstop)


def test_spikes_reach_targets_at_spike_time_plus_delay(ball_path):
    cells = [BallHH(gid=i) for i in range(2)]
    stim = tb.netstim(0.3)
    syn = cells[0].add_synapse("exc", cells[0].soma)
    nc_in = h.NetCon(stim, syn)
    nc_in.weight[0], nc_in.delay = 0.5, 1.0
    _, spikes0 = _detector(cells[0])
    # targets: an artificial cell (IntFire1 fires on arrival) and the other, swapped cell
    art = h.IntFire1()
    art.tau = 1e9
    art.refrac = 0
    to_art = h.NetCon(cells[0].soma(0.5)._ref_v, art, sec=cells[0].soma)
    to_art.threshold, to_art.weight[0], to_art.delay = -20, 2.0, 3.7
    art_out = h.Vector()
    rec_art = h.NetCon(art, None)
    rec_art.record(art_out)
    syn1 = cells[1].add_synapse("exc", cells[1].soma)
    to_cell = h.NetCon(cells[0].soma(0.5)._ref_v, syn1, sec=cells[0].soma)
    to_cell.threshold, to_cell.weight[0], to_cell.delay = -20, 0.4, 2.25
    _, spikes1 = _detector(cells[1])
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert len(handle.cells) == 2
    # captured NetCons run one exchange step early; the user's delays are kept by the handle
    assert nc_in.delay == pytest.approx(SHIFT_MARK_MS, abs=1e-15) and handle.user_delay(nc_in) == 1.0
    assert to_cell.delay == pytest.approx(1.25 + SHIFT_MARK_MS, abs=1e-12) and handle.user_delay(to_cell) == 2.25
    assert to_art.delay == 3.7 and handle.user_delay(to_art) == 3.7  # not onto a swapped cell: untouched
    h.finitialize(-65)
    h.continuerun(14)
    emitted0 = handle.spike_times(cells[0])
    expected0 = _expected_spikes([0.3 + 2 * i + 1.0 for i in range(5)], [0.5] * 5, 0.3, 14)
    assert expected0 == pytest.approx([1.5, 3.5, 5.5, 7.5, 9.5])  # input at 1.3 -> interval [1, 2) -> spike at 1.5
    assert np.allclose(emitted0, expected0, atol=1e-9)
    assert np.allclose(np.array(spikes0), emitted0, atol=1e-9)
    arrivals = emitted0 + 3.7
    assert np.allclose(np.array(art_out), arrivals[arrivals <= 14], atol=1e-9)
    expected1 = _expected_spikes(list(emitted0 + 2.25), [0.4] * len(emitted0), 0.3, 14)
    assert np.allclose(np.array(spikes1), expected1, atol=1e-9)
    assert np.allclose(handle.spike_times(cells[1]), expected1, atol=1e-9)


def test_weights_delays_and_active_after_swap(ball_path):
    cell = BallHH()
    syn_a = cell.add_synapse("exc", cell.soma)
    syn_b = cell.add_synapse("exc", cell.soma, 0.2)  # many synapses per site
    stim = tb.netstim(0.5, interval=3.0, number=3)
    nc_a = h.NetCon(stim, syn_a)
    nc_b = h.NetCon(stim, syn_b)
    nc_a.delay = nc_b.delay = 1.0
    nc_a.weight[0], nc_b.weight[0] = 0.1, 0.2
    vrec = h.Vector().record(cell.soma(0.5)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    nc_a.weight[0] = 0.05  # changed after the swap
    nc_b.delay = 2.0
    assert handle.user_delay(nc_b) == 2.0  # reported at once, taken up at finitialize
    h.dt = 0.025
    h.finitialize(-65)
    assert nc_b.delay == pytest.approx(1.0 + SHIFT_MARK_MS, abs=1e-12) and handle.user_delay(nc_b) == 2.0
    h.continuerun(6)
    v = np.array(vrec)
    # tiny bundle: v(t_{k+1}) = -65 + 10 * (input truly arriving in [t_k, t_{k+1}))
    at = lambda t: v[int(round(t / h.dt))]  # noqa: E731
    assert at(1.0) == pytest.approx(-65, abs=1e-6)
    assert at(2.0) == pytest.approx(-65 + 10 * 0.05, abs=1e-6)  # a arrives at 1.5
    assert at(3.0) == pytest.approx(-65 + 10 * 0.2, abs=1e-6)  # b arrives at 2.5
    assert at(4.0) == pytest.approx(-65, abs=1e-6)
    assert at(5.0) == pytest.approx(-65 + 10 * 0.05, abs=1e-6)  # a at 4.5
    assert at(6.0) == pytest.approx(-65 + 10 * 0.2, abs=1e-6)  # b at 5.5
    nc_b.active(False)
    nc_a.weight[0] = 0.0625  # exact in float32
    h.finitialize(-65)
    h.continuerun(6)
    v = np.array(vrec)
    assert at(2.0) == pytest.approx(-65 + 10 * 0.0625, abs=1e-6)
    assert at(3.0) == pytest.approx(-65, abs=1e-6)
    assert at(6.0) == pytest.approx(-65, abs=1e-6)
    neuron_ann.swap_back()
    assert (nc_a.delay, nc_b.delay) == (1.0, 2.0)


def test_soma_voltage_follows_surrogate_linearly(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    stim = tb.netstim(0.2, number=1)
    nc = h.NetCon(stim, syn)
    nc.weight[0], nc.delay = 0.1, 1.0
    vrec = h.Vector().record(cell.soma(0.5)._ref_v)
    neuron_ann.swap_to_ann(bundles=[ball_path])
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(4)
    v = np.array(vrec)
    # input at 1.2, in [1, 2) -> v(2) = -64; linear from v(1) = -65 to v(2) = -64, back to -65 at t = 3
    assert np.allclose(v[:41], -65, atol=1e-6)
    assert np.allclose(v[40:81], np.linspace(-65, -64, 41), atol=1e-6)
    assert np.allclose(v[80:121], np.linspace(-64, -65, 41), atol=1e-6)


def test_iclamp_drives_current_input(ball_path):
    cell = BallHH()
    ic = h.IClamp(cell.soma(0.5))
    ic.delay, ic.dur, ic.amp = 1.0, 1.5, 0.3
    vrec = h.Vector().record(cell.soma(0.5)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert len(handle.groups[0].current_probes) == 1
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(5)
    v = np.array(vrec)
    at = lambda t: v[int(round(t / h.dt))]  # noqa: E731
    assert at(3.0) == pytest.approx(-65 + 10 * 0.3, abs=1e-5)  # mean over [1, 2)
    assert at(4.0) == pytest.approx(-65 + 10 * 0.15, abs=1e-5)  # half of [2, 3)
    assert at(5.0) == pytest.approx(-65, abs=1e-5)


def test_nearest_site_mapping_and_kinds(pv_path, tmp_path):
    # PVBasket bundle: site 0 exc dend[0](0.5), site 1 exc dend[1](0.9), site 2 inh soma
    cell = PVBasket()
    syn_a = cell.add_synapse("exc", cell.dend[0], 0.1)
    syn_b = cell.add_synapse("exc", cell.dend[1], 0.6)
    syn_c = cell.add_synapse("inh", cell.dend[3], 0.9)
    stim = tb.netstim(0.5, number=1)
    ncs = [h.NetCon(stim, s) for s in (syn_a, syn_b, syn_c)]
    for nc, w in zip(ncs, (0.01, 0.02, 0.04)):
        nc.weight[0], nc.delay = w, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[pv_path])
    g = handle.groups[0]
    assert sorted(g.captures) == [(0, 0), (0, 1), (0, 2)]
    assert len(list(h.allsec())) == 1  # only the soma is left
    h.finitialize(-65)
    h.continuerun(1.5)  # the step at t = 1 saw the inputs that arrive in [1, 2), at 1.5
    x = g.model.x
    assert x[0, g.site_columns].tolist() == pytest.approx([0.01, 0.02, 0.04])


def test_cells_argument_and_hybrid(ball_path):
    class Interneuron(PVBasket):  # a cell type with no bundle, shipped or given
        pass

    swapped, detailed = BallHH(gid=0), BallHH(gid=1)
    other = Interneuron(gid=2)  # a type without a bundle stays detailed
    ic = h.IClamp(detailed.soma(0.5))
    ic.delay, ic.dur, ic.amp = 1, 5, 0.5
    _, spikes = _detector(detailed)
    syn = other.add_synapse("exc", other.dend[0], 0.5)
    link = h.NetCon(detailed.soma(0.5)._ref_v, syn, sec=detailed.soma)
    link.delay, link.weight[0] = 1.0, 0.01
    handle = neuron_ann.swap_to_ann(cells=[swapped], bundles=[ball_path])
    assert handle.cells == [swapped]
    assert len(list(h.allsec())) == 1 + 1 + 6
    h.finitialize(-65)
    h.continuerun(10)
    assert len(spikes) >= 1  # the detailed BallHH still spikes in NEURON
    with pytest.raises(SwapError, match="no surrogate bundle for Interneuron"):
        neuron_ann.swap_back()
        neuron_ann.swap_to_ann(cells=[other], bundles=[ball_path])


def _small_network(ball_path):
    cells = [BallHH(gid=i) for i in range(3)]
    stim = tb.netstim(0.3, interval=1.7, number=6)
    first = cells[0].add_synapse("exc", cells[0].soma)
    nc = h.NetCon(stim, first)
    nc.weight[0], nc.delay = 0.5, 1.0
    keep = [stim, nc]
    for i in range(2):
        syn = cells[i + 1].add_synapse("exc", cells[i + 1].soma)
        link = h.NetCon(cells[i].soma(0.5)._ref_v, syn, sec=cells[i].soma)
        link.threshold, link.weight[0], link.delay = 0, 0.35, 1.5 + i
        keep.append(link)
    recs = [_detector(c) for c in cells]
    return cells, keep, recs


@pytest.mark.parametrize("driver", ["run", "stdinit_continuerun", "psolve", "fadvance"])
def test_run_loop_drivers(ball_path, driver):
    cells, keep, recs = _small_network(ball_path)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.tstop = 15
    if driver == "run":
        h.run()
    elif driver == "stdinit_continuerun":
        h.stdinit()
        h.continuerun(15)
    elif driver == "psolve":
        pc = h.ParallelContext()
        pc.set_maxstep(10)
        h.finitialize(-65)
        pc.psolve(15)
    else:  # the user's own loop
        h.finitialize(-65)
        while h.t < 15 - 1e-9:
            h.fadvance()
    times = [np.array(v) for _, v in recs]
    emitted = handle.spike_times()
    for cell, t in zip(cells, times):
        assert np.allclose(t, emitted[cell], atol=1e-9)
    assert len(times[2]) > 0
    # chain: each spike of cell i reaches cell i+1 after its delay
    assert np.allclose(times[1], [t + 0.0 for t in _expected_spikes(times[0] + 1.5, [0.35] * len(times[0]), 0.3, 15)], atol=1e-9)


def test_context_manager_and_swap_back(pv_path):
    cell = PVBasket()
    syn = cell.add_synapse("exc", cell.dend[0], 0.5)
    stim = tb.netstim(1.0, interval=5, number=4)
    nc = h.NetCon(stim, syn)
    nc.weight[0], nc.delay = 0.02, 1.0
    ic = h.IClamp(cell.soma(0.5))
    ic.delay, ic.dur, ic.amp = 2, 15, 0.1
    _, spikes = _detector(cell)
    cell.dend[2].insert("hh")  # an edit swap_back must keep
    for mech in ("Ca_HVA", "CaDynamics_E2"):  # calcium whose reversal potential NEURON updates every step
        cell.soma.insert(mech)
    before = {s.name(): s.psection() for s in cell.all}
    styles = lambda: {(s.name(), ion): int(h.ion_style(ion + "_ion", sec=s)) for s in cell.all for ion in s.psection()["ions"]}  # noqa: E731
    styles_before = styles()
    assert styles_before[(cell.soma.name(), "ca")] & 64  # eadvance: Nernst every step
    fp = neuron_ann.celltools.fingerprint(cell)
    h.finitialize(-65)
    h.continuerun(25)
    detailed = np.array(spikes)
    assert len(detailed) > 0
    with neuron_ann.swap_to_ann(bundles=[pv_path]) as handle:
        assert len(list(h.allsec())) == 1
        assert not int(h.ion_style("ca_ion", sec=cell.soma)) & (32 | 64)  # the swapped soma's ions stay still
        h.finitialize(-65)
        h.continuerun(25)
        assert np.allclose(np.array(spikes), handle.spike_times(cell), atol=1e-9)
    assert neuron_ann.celltools.fingerprint(cell) == fp
    assert nc.syn() == syn
    after = {s.name(): s.psection() for s in cell.all}
    assert sorted(before) == sorted(after)
    for name in before:
        for key in ("nseg", "Ra", "cm", "morphology"):
            a, b = before[name][key], after[name][key]
            if key == "morphology":
                a, b = a["L"] if "L" in a else a["diam"], b["L"] if "L" in b else b["diam"]
            assert a == b, (name, key)
        assert sorted(before[name]["density_mechs"]) == sorted(after[name]["density_mechs"])
    assert syn.NMDA_ratio == 0.7
    assert styles() == styles_before
    h.finitialize(-65)
    h.continuerun(25)
    assert np.array_equal(np.array(spikes), detailed)


def test_unrestorable_swap_runs_the_same_and_refuses_swap_back(pv_path):
    """restorable=False: the same surrogate run, nothing saved for swap_back, which refuses and changes nothing."""
    runs = []
    for restorable in (True, False):
        cell = PVBasket()
        syn = cell.add_synapse("exc", cell.dend[0], 0.5)
        stim = tb.netstim(1.0, interval=5, number=4)
        nc = h.NetCon(stim, syn)
        nc.weight[0], nc.delay = 0.5, 1.0  # each event reaches the tiny bundle's threshold
        ic = h.IClamp(cell.soma(0.5))
        ic.delay, ic.dur, ic.amp = 2, 15, 0.1
        handle = neuron_ann.swap_to_ann([cell], bundles=[pv_path], restorable=restorable)
        record = handle._records[0][0]
        assert (len(record.sections) > 0) == restorable and record.soma_mechanisms
        h.finitialize(-65)
        h.continuerun(25)
        runs.append(handle.spike_times(cell))
        if restorable:
            neuron_ann.swap_back()
        else:
            with pytest.raises(SwapError, match=r"restorable=False.*rebuild the detailed cells.*Nothing was changed"):
                neuron_ann.swap_back()
            assert handle.swapped and nc.syn() != syn and [s for s in h.allsec() if s.cell() is cell] == [cell.soma]
            h.continuerun(30)  # still running as surrogates
        # the next swap's finitialize must not free this cell (NEURON aborts freeing a point process
        # there): the bridge's queued exchange event held its group, and so the cell, alive
        del cell, syn, stim, nc, ic, handle, record
    assert len(runs[0]) > 0 and np.array_equal(runs[0], runs[1])


def _section_state(cell) -> dict:
    """Every section of ``cell`` as psection() reports it, with objects replaced by their names."""
    out = {}
    for sec in cell.all:
        ps = sec.psection()
        morphology = dict(ps["morphology"])
        for key in ("parent", "trueparent"):
            morphology[key] = str(morphology[key])
        out[sec.name()] = {
            "nseg": ps["nseg"], "Ra": ps["Ra"], "cm": ps["cm"], "morphology": morphology,
            "density_mechs": ps["density_mechs"], "ions": ps["ions"],
            "point_processes": {k: sorted(pp.hname() for pp in v) for k, v in ps["point_processes"].items()},
        }
    return out


def test_swap_back_restores_every_value_of_an_l5pc():
    """An L5PC (3-d morphology, channel densities that vary along its dendrites, calcium ions) swapped and
    swapped back is, after h.finitialize, the same in every section, segment and value as before."""
    from neuron_ann.cells import L5PC

    cell = L5PC()
    cell.add_synapse("exc", cell.apic[10], 0.3)
    cell.dend[3].insert("hh")  # an edit swap_back must keep
    cell.apic[20](0.5).gIhbar_Ih = 1e-3  # one segment unlike its neighbours
    celsius, h.celsius = h.celsius, 34.0  # the shipped L5PC bundle's temperature
    try:
        h.finitialize(-70)
        before = _section_state(cell)
        assert any(len(s["morphology"]["pts3d"]) for s in before.values())
        with neuron_ann.swap_to_ann([cell]) as handle:
            assert [s for s in h.allsec() if s.cell() is cell] == [cell.soma]
            # the design's memory aim: at most 16 KB of numbers kept per swapped cell
            (stats,) = handle.stats().values()
            assert stats["state_bytes_per_cell"] <= 16 * 1024, stats
        h.finitialize(-70)
        after = _section_state(cell)
    finally:
        h.celsius = celsius
    assert sorted(after) == sorted(before)
    for name in before:
        assert after[name] == before[name], name


def _batched_chain(ball_path, pv_path, batches, direct=False):
    """A chain BallHH 0 -> 1 -> ... -> 4 -> PVBasket, a NetStim into cell 0 and an IClamp on cell 3,
    built and swapped in ``batches`` (cell counts; None: built whole, swapped once). Each cell's
    incoming NetCon is made before its batch is swapped, from the soma of an earlier cell
    (swapped or not). Returns the spike times of every cell and of each swap's report."""
    cells, keep, recs, handles = [], [], [], []
    sizes = batches or [6]
    for size in sizes:
        for _ in range(size):
            i = len(cells)
            cell = BallHH(gid=i) if i < 5 else PVBasket(gid=i)
            syn = cell.add_synapse("exc", cell.soma if i < 5 else cell.dend[0], 0.5)
            if i == 0:
                stim = tb.netstim(0.3, interval=1.7, number=6)
                nc = h.NetCon(stim, syn)
                nc.weight[0], nc.delay = 0.5, 1.0
                keep.append(stim)
            else:
                nc = h.NetCon(cells[-1].soma(0.5)._ref_v, syn, sec=cells[-1].soma)
                nc.threshold, nc.weight[0], nc.delay = 0, 0.35, 1.0 + 0.5 * i
            if i == 3:
                ic = h.IClamp(cell.soma(0.5))
                ic.delay, ic.dur, ic.amp = 12.0, 1.0, 400.0  # the tiny bundle's current input reaches threshold
                keep.append(ic)
            keep += [syn, nc]
            cells.append(cell)
            recs.append(_detector(cell))
        handles.append(neuron_ann.swap_to_ann(cells=cells[len(cells) - size :], bundles=[ball_path, pv_path], direct_delivery=direct))
    h.finitialize(-65)
    h.continuerun(30)
    return cells, [np.array(v) for _, v in recs], handles, keep


@pytest.mark.parametrize("batches, direct", [([1, 2, 3], False), ([2, 1, 1, 2], False), ([1, 2, 3], True)])
def test_cells_added_to_a_swap_in_batches_run_as_one_swap(ball_path, pv_path, batches, direct):
    """swap_to_ann with a swap in effect adds the cells to it: one handle, one group per type (its
    buffers grown past their capacity), the same spikes as one swap of the whole network, and with
    direct delivery the same connections delivered directly."""
    built = _batched_chain(ball_path, pv_path, None, direct)
    whole = built[1]
    neuron_ann.swap_back()
    del built
    gc.collect()  # the cells (in reference cycles) before their NetCons: NEURON crashes on a NetCon onto a deleted section's synapse
    assert all(len(t) > 0 for t in whole)
    cells, times, handles, keep = _batched_chain(ball_path, pv_path, batches, direct)
    handle = handles[0]
    if direct:  # 5 links between swapped cells delivered by the runtime, the NetStim's through a relay collector
        assert (handle.direct_count, handle.relay_count) == (6, 1)
        assert [s["direct_connections"] for s in handle.stats().values()] == [5, 0]  # routes out of each group
    assert all(other is handle for other in handles)
    assert [(g.type_name.split(".")[-1], g.n_cells) for g in handle.groups] == [("BallHH", 5), ("PVBasket", 1)]
    ball = handle.groups[0]
    assert ball._capacity >= ball.n_cells and ball.inputs.size == 5 * ball.n_sites
    assert [c for c, _ in ball.current_probes] == [3]
    for a, b in zip(whole, times):
        assert np.allclose(a, b, atol=1e-9)
    emitted = handle.spike_times()
    for cell, t in zip(cells, times):
        assert np.allclose(t, emitted[cell], atol=1e-9)
    neuron_ann.swap_back()
    assert all(len(list(c.all)) == len([s for s in h.allsec() if s.cell() is c]) for c in cells)
    assert all(len([s for s in h.allsec() if s.cell() is c]) > 1 for c in cells[5:])


def test_cells_are_added_to_a_swap_with_its_direct_delivery_setting(ball_path):
    first, second = BallHH(gid=0), BallHH(gid=1)
    neuron_ann.swap_to_ann(cells=[first], bundles=[ball_path], direct_delivery=True)
    with pytest.raises(SwapError, match=r"a swap made with direct_delivery=True is in effect, and this call adds cells to it "
                                        r"with direct_delivery=False; add cells with the setting of the swap in effect"):
        neuron_ann.swap_to_ann(cells=[second], bundles=[ball_path])
    neuron_ann.swap_back()
    neuron_ann.swap_to_ann(cells=[first], bundles=[ball_path])
    with pytest.raises(SwapError, match="direct_delivery=False is in effect"):
        neuron_ann.swap_to_ann(cells=[second], bundles=[ball_path], direct_delivery=True)
    assert neuron_ann.swap_to_ann(bundles=[ball_path]).cells == [first, second]  # cells=None: the cells not yet swapped


def test_swap_twice_and_swap_back_without_swap():
    with pytest.raises(SwapError, match="no swap is in effect"):
        neuron_ann.swap_back()


@pytest.mark.parametrize("offset_ms", [0.25, 1.0, 0.001])
def test_spike_offset_output_places_spikes_on_the_neuron_grid(tmp_path, offset_ms):
    path = tb.ballhh_bundle(tmp_path / "off.onnx", threshold=0.3, spike_offset_ms=offset_ms)
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    stim = tb.netstim(0.3, interval=1.0, number=4)
    nc = h.NetCon(stim, syn)
    nc.weight[0], nc.delay = 0.5, 1.0
    _, spikes = _detector(cell)
    handle = neuron_ann.swap_to_ann(bundles=[path])
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(8)
    steps = min(max(round(offset_ms / h.dt), 1), 40)
    expected = [k + steps * h.dt for k in (1, 2, 3, 4)]  # inputs at 1.3 ... 4.3: intervals [1, 2) ... [4, 5)
    assert np.allclose(handle.spike_times(cell), expected, atol=1e-9)
    assert np.allclose(np.array(spikes), expected, atol=1e-9)


def test_dt_changed_after_swap_refused_at_finitialize(ball_path):
    cell = BallHH()
    assert neuron_ann.swap_to_ann(bundles=[ball_path]).cells == [cell]
    h.dt = 0.3
    with pytest.raises(RuntimeError, match="not a whole number of NEURON time steps"):
        h.finitialize(-65)
    h.dt = 0.025


def test_spike_record_and_gid_under_psolve(ball_path):
    pc = h.ParallelContext()
    cell = BallHH(gid=7)
    pc.set_gid2node(7, int(pc.id()))
    det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    det.threshold = -20
    pc.cell(7, det)
    stim = tb.netstim(0.3)
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    tvec, idvec = h.Vector(), h.Vector()
    pc.spike_record(7, tvec, idvec)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    pc.set_maxstep(10)
    h.finitialize(-65)
    pc.psolve(12)
    assert np.allclose(np.array(tvec), handle.spike_times(cell), atol=1e-9)
    assert set(idvec) == {7}
    pc.gid_clear()


def test_soma_synapses_are_parked_and_restored(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    idle = cell.add_synapse("inh", cell.soma)  # unconnected: kept for swap_back
    idle.tau_d = 12.0
    stim = tb.netstim(0.3)
    nc = h.NetCon(stim, syn)
    nc.delay = 1.0
    neuron_ann.swap_to_ann(bundles=[ball_path])
    assert not syn.has_loc() and not idle.has_loc()  # no per-step cost while swapped
    assert [pp.hname().split("[")[0] for pp in cell.soma(0.5).point_processes()] == ["ANNSoma"]
    neuron_ann.swap_back()
    assert syn.get_segment().sec == cell.soma and idle.get_segment().sec == cell.soma
    assert idle.tau_d == 12.0 and nc.syn() == syn
    assert "hh" in cell.soma.psection()["density_mechs"]
    assert cell.soma(0.5).point_processes() and len(cell.soma(0.5).point_processes()) == 2


# --- format 2 edge cases: delays of exactly one exchange step, boundaries, chains -----------


def test_netstim_with_delay_exactly_one_step_and_boundary_events(ball_path):
    """User delay == dt_ms (shortened to ~0): events sent on and just before exchange boundaries land in the right row."""
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    sends = {"a": (1.0, 0.2), "b": (0.999, 0.2), "c": (1.5, 0.2), "d": (0.0, 0.4), "e": (3.0, 0.1), "f": (3.999999, 0.25)}
    keep = []
    for start, weight in sends.values():
        stim = tb.netstim(start, number=1)
        nc = h.NetCon(stim, syn)
        nc.delay, nc.weight[0] = DT_MS, weight
        keep += [stim, nc]
    _, spikes = _detector(cell)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert all(handle.user_delay(nc) == DT_MS and nc.delay == SHIFT_MARK_MS for nc in keep[1::2])
    h.finitialize(-65)
    h.continuerun(8)
    arrivals = [start + DT_MS for start, _ in sends.values()]  # 2.0, 1.999, 2.5, 1.0, 4.0, 4.999999
    expected = _expected_spikes(arrivals, [w for _, w in sends.values()], 0.3, 8)
    # [1, 2): d 0.4 and b 0.2 -> spike 1.5; [2, 3): a + c = 0.4 -> 2.5; [4, 5): e + f = 0.35 -> 4.5
    assert expected == pytest.approx([1.5, 2.5, 4.5])
    assert np.allclose(handle.spike_times(cell), expected, atol=1e-9)
    assert np.allclose(np.array(spikes), expected, atol=1e-9)


@pytest.mark.parametrize("direct", [False, True])
@pytest.mark.parametrize("offset_ms", [None, 1.0, 0.025])
def test_swapped_to_swapped_chain_with_delay_exactly_one_step(tmp_path, offset_ms, direct):
    """A spike predicted for [t_k, t_k+1) goes out at its true time; with delay dt_ms it reaches the next cell's row
    exactly, through NEURON's queue or delivered directly."""
    options = {} if offset_ms is None else {"spike_offset_ms": offset_ms}
    path = tb.ballhh_bundle(tmp_path / "chain.onnx", threshold=0.3, **options)
    cells = [BallHH(gid=i) for i in range(3)]
    stim = tb.netstim(0.3, interval=2.6, number=4)
    nc_in = h.NetCon(stim, cells[0].add_synapse("exc", cells[0].soma))
    nc_in.weight[0], nc_in.delay = 0.5, 1.0
    links = []
    for pre, post, delay in ((0, 1, DT_MS), (1, 2, DT_MS + 0.4)):
        link = h.NetCon(cells[pre].soma(0.5)._ref_v, cells[post].add_synapse("exc", cells[post].soma), sec=cells[pre].soma)
        link.threshold, link.weight[0], link.delay = -20, 0.5, delay
        links.append(link)
    recs = [_detector(c) for c in cells]
    handle = neuron_ann.swap_to_ann(bundles=[path], direct_delivery=direct)
    assert [link.syn() is None for link in links] == [direct, direct]
    h.finitialize(-65)
    assert [s["direct_connections"] for s in handle.stats().values()] == [2 if direct else 0]
    h.continuerun(16)
    times = [np.array(v) for _, v in recs]
    expected0 = _expected_spikes([0.3 + 2.6 * i + 1.0 for i in range(4)], [0.5] * 4, 0.3, 16, offset=offset_ms)
    expected1 = _expected_spikes([t + DT_MS for t in expected0], [0.5] * len(expected0), 0.3, 16, offset=offset_ms)
    expected2 = _expected_spikes([t + DT_MS + 0.4 for t in expected1], [0.5] * len(expected1), 0.3, 16, offset=offset_ms)
    assert len(expected2) >= 2
    for got, want, cell in zip(times, (expected0, expected1, expected2), cells):
        assert np.allclose(got, want, atol=1e-9), (got, want)
        assert np.allclose(handle.spike_times(cell), want, atol=1e-9)


@pytest.mark.parametrize("direct", [False, True])
def test_gid_connect_with_delay_exactly_one_step_under_psolve(ball_path, direct):
    """One rank: pc.gid_connect NetCons onto swapped cells may have delay dt_ms (shortened to ~0) under pc.psolve."""
    pc = h.ParallelContext()
    cells, kept = tb.driven_gid_pair()
    link = pc.gid_connect(0, cells[1].add_synapse("exc", cells[1].soma))
    link.weight[0], link.delay = 0.5, DT_MS
    tvec, idvec = h.Vector(), h.Vector()
    pc.spike_record(-1, tvec, idvec)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path], direct_delivery=direct)
    assert handle.user_delay(link) == DT_MS
    assert (link.syn() is None) == direct
    pc.set_maxstep(10)
    h.finitialize(-65)
    pc.psolve(12)
    raster = sorted(zip(np.array(tvec), np.array(idvec).astype(int)))
    expected0 = _expected_spikes([1.3, 4.3, 7.3], [0.5] * 3, 0.3, 12)
    expected1 = _expected_spikes([t + DT_MS for t in expected0], [0.5] * 3, 0.3, 12)
    want = sorted([(t, 0) for t in expected0] + [(t, 1) for t in expected1])
    assert [g for _, g in raster] == [g for _, g in want]
    assert np.allclose([t for t, _ in raster], [t for t, _ in want], atol=1e-9)
    pc.gid_clear()


def test_delay_set_while_swapped_is_taken_up_at_finitialize_and_kept_by_swap_back(ball_path):
    cell = BallHH()
    stim = tb.netstim(0.3, number=1)
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.continuerun(5)
    assert np.allclose(handle.spike_times(cell), [1.5], atol=1e-9)  # arrives at 1.3
    nc.delay = 2.5
    assert handle.user_delay(nc) == 2.5
    h.finitialize(-65)
    assert nc.delay == pytest.approx(1.5 + SHIFT_MARK_MS, abs=1e-12)
    h.continuerun(5)
    assert np.allclose(handle.spike_times(cell), [2.5], atol=1e-9)  # arrives at 2.8
    nc.delay = 1.0  # the value the bridge set is never a round number, so this is seen as a change
    h.finitialize(-65)
    h.continuerun(5)
    assert np.allclose(handle.spike_times(cell), [1.5], atol=1e-9)
    nc.delay = 3.0  # set while swapped, no finitialize before swap_back: the user's value stays
    neuron_ann.swap_back()
    assert nc.delay == 3.0
    assert handle.user_delay(nc) == 3.0


def test_a_swap_without_vectors_of_the_users_runs_no_probing_initialization(ball_path):
    """The recording probes initialize the model (twice per swap_to_ann), which costs a batch of detailed
    cells much time and memory; with no Vector of the user's there is nothing to probe, and the bridge's
    own Vectors (its buffers, the delay alarm) do not count."""
    gc.collect()
    assert h.List("Vector").count() == 0 or all(v.size() == 1 for v in h.List("Vector"))  # at most a past alarm
    cells = [BallHH() for _ in range(2)]
    stim = tb.netstim(0.3)
    ncs = [h.NetCon(stim, cell.add_synapse("exc", cell.soma)) for cell in cells]
    for nc in ncs:
        nc.delay = 1.0
    calls = []
    counter = h.FInitializeHandler(lambda: calls.append(1))
    neuron_ann.swap_to_ann(cells=cells[:1], bundles=[ball_path])
    handle = neuron_ann.swap_to_ann(cells=cells[1:], bundles=[ball_path])  # a second batch: the alarm's Vector exists now
    assert calls == []
    h.finitialize(-65)  # nor does the check of ion recordings made since the swap look for any
    assert calls == [1] and handle._ion_probes is None
    del counter


@pytest.mark.delay_set_during_run
def test_delay_set_during_a_run_is_taken_up_at_its_next_event(ball_path, caplog):
    """nc.delay = d on a captured NetCon during a run: NEURON tells nobody, so the NetCon's next event
    arrives at its unshortened delay, one step late; its ANNInput sees that the delay is not the one
    the bridge set (mod/ann_input.mod), and the bridge takes it up at the next exchange, with a warning.
    A delay too short is refused there, at every exchange until it is mended."""
    cell = BallHH()
    stim = tb.netstim(0.3, interval=3.0, number=8)  # 0.3, 3.3, ..., 21.3
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert len(nc.weight) == 3 and nc.weight[0] == 0.5  # the capture's own two: the NetCon's address and set delay
    h.finitialize(-65)
    h.continuerun(2)  # 0.3 + 1 = 1.3: spike at 1.5
    nc.delay = 2.5
    with caplog.at_level("WARNING", logger="neuron_ann.bridge"):
        h.continuerun(12)
    # 3.3 + 2.5 = 5.8 reaches the capture unshortened, taken for 6.8 (spike 6.5, a step late) and seen; from
    # then on 6.3 + 2.5 = 8.8 and 9.3 + 2.5 = 11.8 exactly (without the take-up: spikes 9.5, 12.5)
    assert np.allclose(handle.spike_times(cell), [1.5, 6.5, 8.5, 11.5], atol=1e-9)
    assert handle.user_delay(nc) == 2.5 and nc.delay == pytest.approx(1.5 + SHIFT_MARK_MS, abs=1e-12)
    warned = [r.getMessage() for r in caplog.records if "during the run" in r.getMessage()]
    assert len(warned) == 1
    assert re.search(r"NetCon\[\d+\] \(NetStim\[\d+\] -> AMPA_NMDA\[\d+\] of the swapped .*BallHH.*\) to 2.5 ms\), seen at "
                     r"t = 6 ms .* one exchange step \(1 ms\) late\. neuron_ann.bridge.set_delay", warned[0])
    nc.delay = 0.5  # 12.3 + 0.5 = 12.8 seen at the exchange at 13: refused there and at the next try, at 14
    for stop, refused_at in ((20, 13), (25, 14)):
        with pytest.raises(RuntimeError, match=r"NetCon\[\d+\] .* has delay 0.5 ms, shorter than .* exchange step of 1 ms"):
            h.continuerun(stop)
        assert h.t == pytest.approx(refused_at, abs=1e-6)
    neuron_ann.bridge.set_delay(nc, 2.0)
    h.continuerun(25)
    # 12.8 taken for 13.8 (spike 13.5); then 15.3, 18.3 and 21.3 + 2.0
    assert np.allclose(handle.spike_times(cell), [1.5, 6.5, 8.5, 11.5, 13.5, 17.5, 20.5, 23.5], atol=1e-9)
    neuron_ann.swap_back()
    assert nc.delay == 2.0 and len(nc.weight) == 1 and nc.weight[0] == 0.5


@pytest.mark.delay_set_during_run
def test_delay_set_during_a_run_on_two_threads(ball_path, caplog):
    """The same on pc.nthread(2), two cells (one per thread), both NetCons changed between two
    continuerun calls: each capture raises the alarm from its own thread, one exchange takes both up."""
    pc = h.ParallelContext()
    try:
        pc.nthread(2)
        cells = [BallHH(), BallHH()]
        stims = [tb.netstim(0.3, interval=3.0, number=4), tb.netstim(0.6, interval=3.0, number=4)]
        ncs = [h.NetCon(stim, cell.add_synapse("exc", cell.soma)) for stim, cell in zip(stims, cells)]
        for nc in ncs:
            nc.weight[0], nc.delay = 0.5, 1.5  # two threads: at least a step plus 2 h.dt
        handle = neuron_ann.swap_to_ann(bundles=[ball_path])
        h.finitialize(-65)
        h.continuerun(2)
        ncs[0].delay, ncs[1].delay = 3.0, 2.5
        with caplog.at_level("WARNING", logger="neuron_ann.bridge"):
            h.continuerun(14)
        assert pc.nthread() == 2
        # 3.3 + 3.0 = 6.3 and 3.6 + 2.5 = 6.1 taken for 7.3 and 7.1 (a step late), seen, taken up at the
        # exchange at 7; the events sent at 6.3 and 6.6, before it, a step late too (9.3 and 9.1 taken for
        # 10.3 and 10.1); those sent at 9.3 and 9.6 exact (12.3, 12.1)
        assert np.allclose(handle.spike_times(cells[0]), [1.5, 7.5, 10.5, 12.5], atol=1e-9)
        assert np.allclose(handle.spike_times(cells[1]), [2.5, 7.5, 10.5, 12.5], atol=1e-9)
        warned = [r.getMessage() for r in caplog.records if "during the run" in r.getMessage()]
        assert len(warned) == 1 and "to 3 ms; " in warned[0] and "to 2.5 ms)" in warned[0]
        assert [handle.user_delay(nc) for nc in ncs] == [3.0, 2.5]
        neuron_ann.swap_back()
    finally:
        pc.nthread(1)


def test_a_number_written_over_a_captured_netcons_stamp_is_not_taken_for_an_address(ball_path):
    """weight[1] of a captured NetCon holds its address for its capture (mod/ann_input.mod); a number
    a script writes there is never dereferenced (without the check this crashes NEURON)."""
    cell = BallHH()
    stim = tb.netstim(0.3, interval=3.0, number=3)  # 0.3, 3.3, 6.3
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    nc.weight[1], nc.weight[2] = 0.5, 7.0
    h.finitialize(-65)
    h.continuerun(10)
    assert np.allclose(handle.spike_times(cell), [1.5, 4.5, 7.5], atol=1e-9)


def test_bridge_set_delay_takes_effect_at_once(ball_path):
    """During a run, nc.delay = d on a captured NetCon is seen only at that NetCon's next event, which
    arrives a step late (test above); neuron_ann.bridge.set_delay(nc, d) takes effect at once."""
    cell = BallHH()
    stim = tb.netstim(0.3, interval=3.0, number=4)  # 0.3, 3.3, 6.3, 9.3
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.continuerun(2)  # 1.3: spike at 1.5
    nc.delay = 2.5  # NEURON's own setter: 3.3 + 2.5 = 5.8 taken for an arrival a step later
    h.continuerun(5)
    with pytest.raises(SwapError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> AMPA_NMDA\[\d+\] of the swapped .*BallHH.*\) has "
                                        r"delay 0.5 ms, shorter than"):
        neuron_ann.bridge.set_delay(nc, 0.5)
    neuron_ann.bridge.set_delay(nc, 1.5)  # 6.3 + 1.5 = 7.8 and 9.3 + 1.5 = 10.8, at once
    assert handle.user_delay(nc) == 1.5 and nc.delay == pytest.approx(0.5 + SHIFT_MARK_MS, abs=1e-12)
    h.continuerun(12)
    assert np.allclose(handle.spike_times(cell), [1.5, 6.5, 7.5, 10.5], atol=1e-9)
    neuron_ann.swap_back()
    assert nc.delay == 1.5


def test_netcon_event_onto_a_swapped_cell_arrives_one_step_late(ball_path, caplog):
    """The README's known gap, measured: nc.event(t) on a captured NetCon bypasses its (shortened) delay, so
    the capture takes the event for one arriving a step later; on an exchange time it lands right. A
    captured NetCon without a source (only nc.event drives it) gets a warning at the first h.finitialize."""
    cell = BallHH()
    nc = h.NetCon(None, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    with caplog.at_level("WARNING", logger="neuron_ann.bridge"):
        h.finitialize(-65)
        h.finitialize(-65)  # once per swap
    warned = [r.getMessage() for r in caplog.records if "have no source" in r.getMessage()]
    assert len(warned) == 1
    assert re.search(r"1 NetCon\(s\) onto swapped cells have no source \(NetCon\[\d+\] \(.*-> AMPA_NMDA\[\d+\] of the swapped "
                     r".*BallHH.*\)\), so only nc.event drives them: NEURON's nc.event\(t\) on one counts one exchange step "
                     r"\(1 ms\) late, unless t is an exchange time; neuron_ann.bridge.event\(nc, t\)", warned[0])
    for t in (5.0, 8.3, 10.999):
        nc.event(t)
    h.continuerun(14)
    # true arrivals 5.0, 8.3 and 10.999 ms would spike in [5, 6), [8, 9) and [10, 11)
    assert np.allclose(handle.spike_times(cell), [5.5, 9.5, 11.5], atol=1e-9)


@pytest.mark.parametrize("direct", [False, True])
def test_bridge_event_delivers_at_its_time(ball_path, direct):
    """neuron_ann.bridge.event(nc, t): the event is sent one exchange step early, as the shortened delay
    sends spikes, so it counts where an event arriving at t counts; t too soon, and under direct
    delivery a NetCon the runtime delivers, are refused; any other NetCon gets nc.event(t)."""
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    nc = h.NetCon(None, syn)  # no source: NEURON keeps it even under direct delivery
    nc.weight[0], nc.delay = 0.5, 1.0
    stim = tb.netstim(50.0, number=1)
    routed = h.NetCon(stim, syn)
    routed.weight[0], routed.delay = 0.5, 1.0
    art = h.IntFire1()
    art.tau, art.refrac = 1e9, 0
    plain = h.NetCon(None, art)
    plain.weight[0] = 2.0
    fired = h.Vector()
    out = h.NetCon(art, None)
    out.record(fired)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path], direct_delivery=direct)
    h.finitialize(-65)
    for t in (5.0, 8.3, 10.999):
        neuron_ann.bridge.event(nc, t)
    neuron_ann.bridge.event(plain, 2.25)
    with pytest.raises(SwapError, match=r"an event at t = 0.5 ms through NetCon\[\d+\] \(no source -> AMPA_NMDA\[\d+\] of the "
                                        r"swapped .*BallHH.*\) must be sent one exchange step \(1 ms\) before it, and h.t is 0 ms; "
                                        r"give a t of at least 1 ms"):
        neuron_ann.bridge.event(nc, 0.5)
    if direct:
        with pytest.raises(SwapError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> .*\) is delivered by the runtime"):
            neuron_ann.bridge.event(routed, 20.0)
        with pytest.raises(SwapError, match=r"is delivered by the runtime .*which reads its delay at h.finitialize"):
            neuron_ann.bridge.set_delay(routed, 2.0)
    h.continuerun(14)
    assert np.allclose(handle.spike_times(cell), [5.5, 8.5, 10.5], atol=1e-9)
    assert np.allclose(np.array(fired), [2.25], atol=1e-9)


def test_freed_captured_netcon_stops_delivering(ball_path):
    """The handle does not keep a captured NetCon alive: deleting it while swapped removes the connection."""
    cell = BallHH()
    stim = tb.netstim(0.3, number=1)
    syn = cell.add_synapse("exc", cell.soma)
    nc = h.NetCon(stim, syn)
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    del nc
    h.finitialize(-65)
    h.continuerun(4)
    assert len(handle.spike_times(cell)) == 0
    neuron_ann.swap_back()


def test_captured_netcon_whose_source_is_freed_stops_delivering(ball_path):
    """Freeing a captured NetCon's NetStim while swapped: as in NEURON, the NetCon delivers nothing
    (NEURON raises "source is missing" when its delay is read, so the bridge must not read it)."""
    cell = BallHH()
    stims = [tb.netstim(0.3, interval=2.0, number=3), tb.netstim(0.3, interval=2.0, number=3)]
    syns = [cell.add_synapse("exc", cell.soma) for _ in stims]
    ncs = [h.NetCon(stim, syn) for stim, syn in zip(stims, syns)]
    for nc in ncs:
        nc.weight[0], nc.delay = 0.2, 1.0  # both are needed to reach the tiny bundle's threshold (0.3)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.continuerun(8)
    assert len(handle.spike_times(cell)) == 3
    del stims[0]
    assert not ncs[0].valid()
    h.finitialize(-65)
    h.continuerun(8)
    assert len(handle.spike_times(cell)) == 0
    neuron_ann.swap_back()
    assert ncs[0].syn() == syns[0] and ncs[1].syn() == syns[1] and ncs[1].delay == 1.0


def test_detector_made_after_swap_and_threshold_raised_later_see_every_spike(ball_path):
    """Thresholds of NetCons from swapped somas are read at every h.finitialize, for NetCons made
    after the swap and for ones whose threshold changed since the last finitialize."""
    cell = BallHH()
    stim = tb.netstim(0.3)
    nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    det.threshold = 45.0  # above the peak rendered when no threshold is known (10 + 30 mV)
    times = h.Vector()
    det.record(times)
    h.finitialize(-65)
    h.continuerun(12)
    first = handle.spike_times(cell)
    assert len(first) >= 3 and np.allclose(np.array(times), first, atol=1e-9)
    det.threshold = 80.0  # above the peak rendered for 45 mV (75 mV)
    h.finitialize(-65)
    h.continuerun(12)
    assert np.allclose(np.array(times), handle.spike_times(cell), atol=1e-9) and len(times) == len(first)
