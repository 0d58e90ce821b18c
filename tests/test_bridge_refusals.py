"""Every refusal of DESIGN.md contract item 7: raised before anything changes, naming the object and the fix."""

import pytest
from neuron import h

import neuron_ann
from neuron_ann.cells import BallHH
from neuron_ann.errors import BundleError, SwapError

import tiny_bundles as tb


def _driven_ballhh():
    """A BallHH with one excitatory soma synapse driven by a NetStim (delay still to set)."""
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    stim = h.NetStim()
    return cell, syn, stim, h.NetCon(stim, syn)


def _unchanged(cell, n_sections=1):
    assert neuron_ann.bridge.active_swap() is None
    assert len(list(h.allsec())) == n_sections
    assert "hh" in cell.soma.psection()["density_mechs"]


def test_time_jump_during_a_run_is_refused_until_finitialize(ball_path):
    """SaveState.restore() (or h.t set by hand) moves NEURON's time under the swapped cells, whose state
    NEURON does not hold: the soma stand-ins stop NEURON at its next step (back in time, or forward over an
    exchange interval), and again at each try until h.finitialize."""
    cell, syn, stim, nc = _driven_ballhh()
    stim.start, stim.interval, stim.number, stim.noise = 0.5, 2.0, 1e9, 0
    nc.delay, nc.weight[0] = 1.0, 0.5
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.continuerun(20)
    clean = list(handle.spike_times()[cell])
    assert len(clean) >= 8
    h.finitialize(-65)
    h.continuerun(5)
    saved = h.SaveState()
    saved.save()
    h.continuerun(10)
    saved.restore()
    assert h.t == pytest.approx(5)
    jumped = r"NEURON's time is {} ms, but the swapped cells have run to 10 ms: NEURON's time jumped \(SaveState.restore\(\), or h.t set by hand.*Call h.finitialize\(\)"
    # back in time: seen at NEURON's next step (its BREAKPOINT runs at mid-step, 5.0125 ms), and again at each try
    for _ in range(2):
        with pytest.raises(RuntimeError, match=jumped.format(r"5\.0125")):
            h.continuerun(20)
    h.finitialize(-65)
    h.continuerun(20)
    assert list(handle.spike_times()[cell]) == clean
    h.finitialize(-65)
    h.continuerun(10)
    h.t = 15.0  # forward by hand, over four exchange intervals
    for _ in range(2):
        with pytest.raises(RuntimeError, match=jumped.format(r"15\.0125")):
            h.continuerun(20)
    h.finitialize(-65)
    h.continuerun(10)
    h.t = 2.0  # back by hand
    with pytest.raises(RuntimeError, match=jumped.format(r"2\.0125")):
        h.continuerun(20)
    # NEURON's steady-state initialization idiom (big steps at t = -1e10, then t = 0) is no jump
    h.finitialize(-65)
    h.t, h.dt = -1e10, 1e9
    while h.t < -1e9:
        h.fadvance()
    h.t, h.dt = 0.0, 0.025
    h.fcurrent()
    h.continuerun(20)
    assert list(handle.spike_times()[cell]) == clean
    h.finitialize(-65)
    h.continuerun(20)
    assert list(handle.spike_times()[cell]) == clean


def test_celsius_or_dt_changed_during_a_run_is_refused(ball_path):
    """h.celsius and h.dt are checked against the bundle at h.finitialize; changed between two
    continuerun calls, they stop NEURON at the next exchange interval, until set back."""
    cell, syn, stim, nc = _driven_ballhh()
    stim.start, stim.interval, stim.number, stim.noise = 0.5, 2.0, 1e9, 0
    nc.delay, nc.weight[0] = 1.0, 0.5
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(20)
    clean = list(handle.spike_times()[cell])
    h.finitialize(-65)
    h.continuerun(5)
    h.celsius = 20.0
    for _ in range(2):
        with pytest.raises(RuntimeError, match=r"h.celsius changed from 6.3 to 20 degC after h.finitialize while cells are swapped"):
            h.continuerun(20)
    h.celsius = 6.3
    h.continuerun(20)
    assert list(handle.spike_times()[cell]) == clean
    h.finitialize(-65)
    h.continuerun(5)
    h.dt = 0.05
    with pytest.raises(RuntimeError, match=r"h.dt changed from 0.025 to 0.05 ms after h.finitialize while cells are swapped"):
        h.continuerun(20)
    h.dt = 0.025
    h.continuerun(20)
    assert list(handle.spike_times()[cell]) == clean


def test_delay_too_short_for_threads(ball_path):
    """With pc.nthread(2) NEURON needs NetCon delays of at least 2 h.dt, and the bridge runs captured
    NetCons one exchange step short: a delay under the step plus 2 h.dt is refused at the swap, and
    at h.finitialize when the threads come after the swap; on one thread it runs."""
    cell, syn, stim, nc = _driven_ballhh()
    nc.delay = 1.04
    pc = h.ParallelContext()
    threads = r"NetCon\[\d+\] \(NetStim\[\d+\] -> AMPA_NMDA\[\d+\] .*BallHH\[\d+\].*\) has delay 1.04 ms onto a swapped BallHH\. NEURON runs on 2 threads \(pc.nthread\), where it needs NetCon delays of at least 2 h.dt = 0.05 ms.*at least 1.05 ms.*pc.nthread\(1\)"
    try:
        pc.nthread(2)
        with pytest.raises(SwapError, match=threads):
            neuron_ann.swap_to_ann(bundles=[ball_path])
        _unchanged(cell)
        pc.nthread(1)
        neuron_ann.swap_to_ann(bundles=[ball_path])
        h.finitialize(-65)
        pc.nthread(2)
        with pytest.raises(RuntimeError, match=threads):
            h.finitialize(-65)
        nc.delay = 1.05
        h.finitialize(-65)
        h.continuerun(5)
    finally:
        pc.nthread(1)


def test_synapse_kind_not_trained(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("inh", cell.soma)
    nc = h.NetCon(None, syn)
    nc.delay = 1
    with pytest.raises(SwapError, match=r"synapse GABA_A\[\d+\] on .*soma\(0.5\) of BallHH\[0\].*not one the surrogate was trained on.*'exc' \(AMPA_NMDA\)"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)


def test_synapse_parameters_differ(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    syn.tau_d_AMPA = 3.0
    nc = h.NetCon(None, syn)
    nc.delay = 1
    with pytest.raises(SwapError, match=r"AMPA_NMDA\[\d+\].*tau_d_AMPA = 3 \(trained with 1.7\)"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)


def test_delay_shorter_than_exchange_step(ball_path):
    cell, syn, stim, nc = _driven_ballhh()
    nc.delay = 0.5
    with pytest.raises(SwapError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> AMPA_NMDA\[\d+\] on .*soma\(0.5\)\) has delay 0.5 ms, shorter than .* exchange step of 1 ms.*at least 1 ms"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)


def test_delay_shortened_after_swap_refused_at_finitialize(ball_path):
    cell, syn, stim, nc = _driven_ballhh()
    nc.delay = 1.0
    neuron_ann.swap_to_ann(bundles=[ball_path])
    nc.delay = 0.2
    with pytest.raises(RuntimeError, match=r"NetCon\[\d+\].*delay 0.2 ms"):
        h.finitialize(-65)


def test_cvode_refused_at_swap_and_at_finitialize(ball_path):
    cell = BallHH()
    h.CVode().active(True)
    with pytest.raises(SwapError, match=r"CVode .* is active.*h.CVode\(\).active\(False\)"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    h.CVode().active(False)
    neuron_ann.swap_to_ann(bundles=[ball_path])
    h.CVode().active(True)
    with pytest.raises(RuntimeError, match="CVode"):
        h.finitialize(-65)
    h.CVode().active(False)


def test_coreneuron_refused_at_swap_and_at_finitialize(ball_path):
    from neuron import coreneuron

    cell = BallHH()
    refused = r"CoreNEURON is enabled \(neuron.coreneuron.enable = True\).*set coreneuron.enable = False while cells are swapped"
    try:
        coreneuron.enable = True
        with pytest.raises(SwapError, match=refused):
            neuron_ann.swap_to_ann(bundles=[ball_path])
        _unchanged(cell)
        coreneuron.enable = False
        neuron_ann.swap_to_ann(bundles=[ball_path])
        coreneuron.enable = True
        with pytest.raises(RuntimeError, match=refused):
            h.finitialize(-65)
    finally:
        coreneuron.enable = False
    h.finitialize(-65)


def test_fingerprint_mismatch(ball_path):
    cell = BallHH()
    cell.soma.L = 40  # another layout: membrane area differs
    with pytest.raises(SwapError, match=r"trained on a different .*BallHH layout than BallHH\[0\]: membrane area.*neuron-ann train"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)


def test_corrupted_bundle_file(ball_path, tmp_path):
    bad = tmp_path / "bad.onnx"
    data = ball_path.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    cell = BallHH()
    with pytest.raises(BundleError, match=r"bad.onnx.*corrupted"):
        neuron_ann.swap_to_ann(bundles=[bad])
    _unchanged(cell)


def test_dt_not_a_multiple(ball_path):
    cell = BallHH()
    h.dt = 0.03
    with pytest.raises(SwapError, match=r"every 1 ms, which is not a whole number of NEURON time steps \(h.dt = 0.03 ms\)"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)


def test_unmodelled_point_process_and_source(ball_path):
    cell = BallHH()
    clamp = h.SEClamp(cell.soma(0.5))
    with pytest.raises(SwapError, match=r"SEClamp\[\d+\] on .*soma\(0.5\) of BallHH\[0\] is not something .* remove it"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    del clamp


class Unbundled(BallHH):
    """A cell type no bundle is made for."""


def test_no_bundle_for_cell(ball_path):
    cell = Unbundled()
    with pytest.raises(SwapError, match=r"no surrogate bundle for Unbundled\[0\] \(type test_bridge_refusals.Unbundled\); bundles exist for: .*neuron_ann.cells.ballhh.BallHH"):
        neuron_ann.swap_to_ann(cells=[cell], bundles=[ball_path])
    _unchanged(cell)
    assert neuron_ann.swap_to_ann(bundles=[ball_path]).cells == []  # default: only cells with bundles


def test_one_cell_is_swapped_without_a_list(ball_path):
    cell, other = BallHH(), BallHH()
    handle = neuron_ann.swap_to_ann(cells=cell, bundles=[ball_path])  # was: TypeError 'BallHH' object is not iterable
    assert handle.cells == [cell]
    assert neuron_ann.swap_to_ann(cells=other, bundles=[ball_path]) is handle and handle.cells == [cell, other]


def test_swapping_a_swapped_cell_again_refused(ball_path):
    cell = BallHH()
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert handle.cells == [cell]
    with pytest.raises(SwapError, match=r"BallHH\[0\] is already swapped; call swap_back\(\) first"):
        neuron_ann.swap_to_ann(cells=[cell], bundles=[ball_path])
    assert neuron_ann.swap_to_ann(bundles=[ball_path]) is handle and handle.cells == [cell]  # nothing new to add


def test_netcon_with_freed_source_refused(ball_path):
    cell, syn, stim, nc = _driven_ballhh()
    del stim  # the NetCon's source is gone
    with pytest.raises(SwapError, match=r"NetCon\[\d+\] targets AMPA_NMDA\[\d+\] .* source object was freed.*del nc"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    del nc


def test_netcon_made_after_swap_onto_removed_synapse_refused(tmp_path):
    from neuron_ann.cells import PVBasket

    path = tb.pvbasket_bundle(tmp_path / "pv.onnx")
    cell = PVBasket()
    syn = cell.add_synapse("exc", cell.dend[0], 0.5)
    neuron_ann.swap_to_ann(bundles=[path])
    stim = h.NetStim()
    # NEURON itself refuses a NetCon onto a synapse whose section the swap deleted
    with pytest.raises(RuntimeError, match=r"AMPA_NMDA\[\d+\] point process not located in a section"):
        h.NetCon(stim, syn)


def test_current_source_added_after_swap_refused(ball_path):
    cell = BallHH()
    neuron_ann.swap_to_ann(bundles=[ball_path])
    ic = h.IClamp(cell.soma(0.5))
    with pytest.raises(RuntimeError, match=r"IClamp\[\d+\] was placed on BallHH\[0\].soma of the swapped BallHH\[0\] after swap_to_ann\(\)"):
        h.finitialize(-65)
    del ic


def test_celsius_differs_from_bundle_refused_at_swap_and_at_finitialize(ball_path):
    cell = BallHH()
    h.celsius = 34.0
    with pytest.raises(
        SwapError,
        match=r"BallHH surrogate in bundle '.*ball.onnx' was trained at celsius = 6.3 degC, but h.celsius is 34 degC.*"
        r"set h.celsius = 6.3 before running, or train a bundle at 34 degC",
    ):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    h.celsius = 6.3 + 1e-12  # within the tolerance
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.celsius = 37.0
    with pytest.raises(RuntimeError, match=r"trained at celsius = 6.3 degC, but h.celsius is 37 degC.*set h.celsius = 6.3"):
        h.finitialize(-65)
    h.celsius = 6.3
    h.finitialize(-65)
    h.continuerun(2)
    assert handle.swapped


def test_netcon_made_after_swap_onto_a_capture_refused(ball_path):
    cell, syn, stim, nc = _driven_ballhh()
    nc.delay = 1.0
    neuron_ann.swap_to_ann(bundles=[ball_path])
    assert nc.syn().hname().startswith("ANNInput")
    late = h.NetCon(stim, nc.syn())  # "connect to the same synapse": while swapped that is the capture
    late.delay = 2.0
    with pytest.raises(RuntimeError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> ANNInput\[\d+\]\) was made after swap_to_ann\(\) onto ANNInput.*swap_back\(\) first"):
        h.finitialize(-65)
    del late
    h.finitialize(-65)


def test_unusable_shipped_bundle_does_not_block_other_bundles(ball_path, tmp_path, monkeypatch):
    """A shipped file of an older format is refused only for the cells that need it."""
    import json

    import onnx

    from neuron_ann.bridge import bundles as registry

    old = tmp_path / "BallHH.onnx"
    model = onnx.load(str(ball_path))
    meta = json.loads(model.metadata_props[0].value)
    meta["format_version"] = 1
    model.metadata_props[0].value = json.dumps(meta)
    old.write_bytes(model.SerializeToString())
    monkeypatch.setattr(registry, "shipped_bundles", lambda: [old])
    cell = BallHH()
    with pytest.raises(BundleError, match=r"shipped surrogate for neuron_ann.cells.ballhh.BallHH cannot be used: .*bundle format 1 is not supported.*bundles=\[path\]"):
        neuron_ann.swap_to_ann()
    _unchanged(cell)
    assert neuron_ann.swap_to_ann(bundles=[ball_path]).cells == [cell]


def test_recording_of_a_removed_channel_refused_and_swapped_back(ball_path):
    """A gating variable of the soma's hh channel: the swap removes the channel, so NEURON
    would stop the recording without a word; the swap refuses and swaps back."""
    cell = BallHH()
    m = h.Vector().record(cell.soma(0.5).hh._ref_m)
    v = h.Vector().record(cell.soma(0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    data = h.Vector([1.0, 2.0])  # not a recording: left alone
    with pytest.raises(SwapError, match=r"Vector\[\d+\] recorded a variable the swap removes .*1 such recording\(s\) in all\. Swapped back; that Vector no longer records"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    assert list(data) == [1.0, 2.0]
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(1)
    assert len(v) == len(t) == 41 and len(m) == 0  # the others still record; m must be made again
    del m
    m = h.Vector().record(cell.soma(0.5).hh._ref_m)
    h.finitialize(-65)
    h.continuerun(1)
    assert len(m) == 41 and 0.0 < m[0] < 0.1


def test_recordings_of_soma_v_and_t_pass_the_check(ball_path):
    cell = BallHH()
    v = h.Vector().record(cell.soma(0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    assert handle.cells == [cell]
    (stats,) = handle.stats().values()
    assert stats["steps"] == 0  # the check's own initialization is not counted
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(1)
    assert len(v) == len(t) == 41
    (stats,) = handle.stats().values()
    assert stats["steps"] == 2  # step 0 at finitialize, then t = 1 ms


def test_recording_of_a_deleted_section_variable_refused(tmp_path):
    from neuron_ann.cells import PVBasket

    pv_path = tb.pvbasket_bundle(tmp_path / "pv.onnx", threshold=0.3)
    cell = PVBasket()
    ena = h.Vector().record(cell.dend[1](0.5)._ref_ena)
    with pytest.raises(SwapError, match=r"Vector\[\d+\] recorded a variable the swap removes"):
        neuron_ann.swap_to_ann(bundles=[pv_path])
    assert neuron_ann.bridge.active_swap() is None and len(list(h.allsec())) == 6
    del ena


@pytest.mark.parametrize("variable", ["ina", "ena", "ki"])
def test_recording_of_a_swapped_soma_ion_variable_refused_and_swapped_back(ball_path, variable):
    """The swap keeps the soma's ions (NEURON cannot remove one), but nothing computes them any
    more: ina would record 0, ena and ki a constant. The swap refuses, swaps back, and the
    Vector goes on recording the detailed cell."""
    cell = BallHH()
    rec = h.Vector().record(getattr(cell.soma(0.5), f"_ref_{variable}"))
    ena = cell.soma(0.5).ena
    with pytest.raises(SwapError, match=rf"Vector\[\d+\] records {variable} of BallHH\[\d+\]\.soma\(0\.5\), which the swap keeps but the "
                       r".*BallHH surrogate does not compute \(its readouts: none\), so it would record a constant or 0; 1 such "
                       r"recording\(s\) in all\. Swapped back \(that Vector records as before\)"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    assert cell.soma(0.5).ena == ena
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(1)
    assert len(rec) == 41
    if variable == "ina":
        assert max(rec) < -1e-4  # the detailed cell's sodium current (mA/cm2): inward at rest, never the swap's 0


@pytest.mark.parametrize("variable", ["ina", "ena", "ki"])
def test_recording_of_a_swapped_soma_ion_variable_made_after_the_swap_refused_at_finitialize(ball_path, variable):
    """Made after the swap, the same recording is refused at the next h.finitialize (after NEURON's t = 0
    sample, so that the check sees it), and at each one until it is gone; the values it probed with
    are put back: the other recordings' t = 0 samples and the soma's ions are as before."""
    cell, syn, stim, nc = _driven_ballhh()
    stim.start, stim.interval, stim.number, stim.noise = 0.5, 2.0, 1e9, 0
    nc.delay, nc.weight[0] = 1.0, 0.5
    v = h.Vector().record(cell.soma(0.5)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path])
    h.finitialize(-65)
    h.continuerun(5)
    before = {name: getattr(cell.soma(0.5), name) for name in ("ina", "ena", "ki")}
    rec = h.Vector().record(getattr(cell.soma(0.5), f"_ref_{variable}"))
    for _ in range(2):
        with pytest.raises(RuntimeError, match=rf"Vector\[\d+\] records {variable} of BallHH\[\d+\]\.soma\(0\.5\) of the swapped .*BallHH.*, "
                           r"a variable the swap keeps but the .*BallHH surrogate does not compute \(its readouts: none\); the "
                           r"recording was made after swap_to_ann\(\), so it would record a constant or 0; 1 such recording\(s\) in all\. "
                           r"Record the soma's v or a readout instead"):
            h.finitialize(-65)
        assert list(v) == [-65.0] and list(rec) == [before[variable]]
        assert {name: getattr(cell.soma(0.5), name) for name in before} == before
    del rec
    h.finitialize(-65)  # gone: no refusal
    h.continuerun(5)
    assert len(handle.spike_times()[cell]) >= 2


def test_recording_of_a_synapse_current_refused_and_swapped_back(ball_path):
    """The swap parks a swapped cell's synapses in a section it deletes, so NEURON frees their
    variables and would stop the recording without a word: refused, swapped back."""
    cell, syn, stim, nc = _driven_ballhh()
    nc.delay = 1.0
    i_syn = h.Vector().record(syn._ref_i)
    with pytest.raises(SwapError, match=r"Vector\[\d+\] recorded a variable the swap removes .*1 such recording\(s\) in all\. Swapped back"):
        neuron_ann.swap_to_ann(bundles=[ball_path])
    _unchanged(cell)
    assert syn.get_segment().sec == cell.soma
    del i_syn
