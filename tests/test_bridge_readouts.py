"""Readouts and recordings: what a bundle reads out can be recorded; recordings it cannot honour are refused."""

import numpy as np
import pytest
from neuron import h

import neuron_ann
from neuron_ann.cells import BallHH, PVBasket
from neuron_ann.errors import SwapError

import tiny_bundles as tb


@pytest.fixture(scope="module")
def pv_readout_path(tmp_path_factory):
    readouts = [("v", "dend[0]", 0.5, 3.0), ("cai", "dend[1]", 0.5, 65.001), ("fluorescence", "dend[1]", 0.5, 66.0)]
    return tb.pvbasket_bundle(tmp_path_factory.mktemp("ro") / "pv_ro.onnx", threshold=0.3, readouts=readouts)


def _driven_cell():
    cell = PVBasket()
    syn = cell.add_synapse("exc", cell.dend[0], 0.5)
    stim = h.NetStim()
    stim.start, stim.number = 0.5, 1
    nc = h.NetCon(stim, syn)
    nc.delay, nc.weight[0] = 1.0, 0.1
    return cell, [syn, stim, nc]


def _run_4ms():
    """Run 4 ms at dt 0.025; returns ``at(vec, t)``, a recorded value at time t."""
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(4)
    return lambda vec, t: np.array(vec)[int(round(t / h.dt))]


def test_readouts_are_recordable(pv_readout_path):
    cell, keep = _driven_cell()
    v_dend = h.Vector().record(cell.dend[0](0.5)._ref_v)
    v_soma = h.Vector().record(cell.soma(0.5)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    # soma plus the recorded readout section stay, disconnected and without mechanisms; dend[1]
    # (its cai readout not recorded: PVBasket has no calcium before the swap) is deleted
    assert sorted(s.name() for s in h.allsec()) == ["PVBasket[0].dend[0]", "PVBasket[0].soma"]
    assert not keep[0].has_loc()  # the synapse on the kept dend[0] is parked: its NetCon feeds the surrogate
    cai = h.Vector().record(handle.readout_ref(cell, "cai_dend[1]"))
    fluo = h.Vector().record(handle.readout_ref(cell, "fluorescence_dend[1]"))
    at = _run_4ms()
    # input 0.1 uS arriving at 1.5, in [1, 2) -> at t = 2: soma -64, v readout = soma + 3, cai = soma + 65.001,
    # fluorescence (an output of this bundle, not derived) = soma + 66
    assert at(v_soma, 2.0) == pytest.approx(-64.0, abs=1e-6)
    assert at(v_dend, 2.0) == pytest.approx(-61.0, abs=1e-5)
    assert at(v_dend, 0.0) == pytest.approx(-62.0, abs=1e-5)
    assert at(v_dend, 1.5) == pytest.approx(-61.5, abs=1e-5)
    assert at(v_dend, 3.0) == pytest.approx(-62.0, abs=1e-5)
    assert at(cai, 2.0) == pytest.approx(1.001, abs=1e-5)
    assert at(fluo, 2.0) == pytest.approx(2.0, abs=1e-5)
    with pytest.raises(KeyError, match="no readout 'ik'"):
        handle.readout_ref(cell, "ik")
    neuron_ann.swap_back()
    assert len(list(h.allsec())) == 6
    assert keep[0].get_segment().sec == cell.dend[0] and keep[0].get_loc() == pytest.approx(0.5)
    h.pop_section()


def test_readouts_are_computed_only_while_something_reads_them(pv_readout_path, caplog):
    """Unread readouts cost no work per exchange step: with no readout bound the buffers stay as
    h.finitialize left them; a readout_ref asked for mid-run says when its values start (a Vector
    recording made then starts at the next h.finitialize anyway), and from there they are exact."""
    cell, keep = _driven_cell()
    handle = neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    group = handle.groups[0]
    h.finitialize(-65)
    at_init = group.ro_to2.copy()
    h.continuerun(4)  # the input arrives at 1.5 ms: computed readouts would have moved
    assert not group._readouts_on and np.array_equal(group.ro_to2, at_init)
    with caplog.at_level("WARNING", logger="neuron_ann.bridge"):
        cai = h.Vector().record(handle.readout_ref(cell, "cai_dend[1]"))
    assert "PVBasket readouts are computed from the next h.finitialize" in caplog.text
    at = _run_4ms()
    assert group._readouts_on and at(cai, 2.0) == pytest.approx(1.001, abs=1e-5)


def test_unrecorded_readout_sections_are_deleted_and_read_through_readout_ref(pv_readout_path):
    """A readout section nobody records costs NEURON work every step, so it goes too; its
    readouts (v included) stay readable with readout_ref, and swap_back rebuilds it."""
    cell, keep = _driven_cell()
    handle = neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    assert [s.name() for s in h.allsec()] == ["PVBasket[0].soma"]
    v_dend = h.Vector().record(handle.readout_ref(cell, "v_dend[0]"))
    cai = h.Vector().record(handle.readout_ref(cell, "cai_dend[1]"))
    at = _run_4ms()
    assert at(v_dend, 2.0) == pytest.approx(-61.0, abs=1e-5)
    assert at(v_dend, 1.5) == pytest.approx(-61.5, abs=1e-5)
    assert at(cai, 2.0) == pytest.approx(1.001, abs=1e-5)
    neuron_ann.swap_back()
    assert len(list(h.allsec())) == 6
    assert cell.dend[0].nseg >= 1 and h.ismembrane("pas", sec=cell.dend[0])


def test_recording_without_readout_is_refused(pv_readout_path):
    cell, keep = _driven_cell()
    lost = h.Vector().record(cell.dend[2](0.5)._ref_v)
    other = h.Vector([1.0, 2.0, 3.0])
    with pytest.raises(SwapError, match=r"Vector\[\d+\] records the voltage of PVBasket\[0\].dend\[2\]\(0.5\), which the swap removes.*its readouts: v at dend\[0\]\(0.5\)"):
        neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    assert len(list(h.allsec())) == 6
    assert list(other) == [1.0, 2.0, 3.0]  # contents restored after the probe
    h.finitialize(-65)
    h.continuerun(1)
    assert len(lost) == 41 and abs(lost[0] + 65) < 1e-9  # still recording, no sentinel left


def test_recording_of_readout_section_elsewhere_is_refused(pv_readout_path):
    cell, keep = _driven_cell()
    h.Vector().record(cell.dend[0](0.1)._ref_v)
    rec = h.Vector().record(cell.dend[0](0.1)._ref_v)
    with pytest.raises(SwapError, match=r"dend\[0\]\(0.0714286\)"):
        neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    del rec


FLUO = "fluorescence:dend[1](0.5)"


def _fluo_bundle(path, derived=None, readouts=None):
    # cai = v + 65.0001 mM: 1e-4 mM at rest; decay 0.9 gives calcium transients that outlast the input
    readouts = readouts or [("cai", "dend[1]", 0.5, 65.0001), ("v", "dend[0]", 0.5, 0.0)]
    derived = derived or [(FLUO, "cai_dend[1]", "GCaMP6f")]
    return tb.pvbasket_bundle(path, threshold=1e9, decay=0.9, readouts=readouts, derived=derived)


def test_derived_fluorescence_readout_is_recordable_and_exact(tmp_path, monkeypatch):
    """A bundle's derived fluorescence readout: GCaMP6f computed from its cai readout, all cells at once, per step."""
    from neuron_ann import readouts

    calls = []
    real_step = readouts.IndicatorState.step

    def counting_step(self, cai):
        calls.append(np.shape(cai))
        return real_step(self, cai)

    monkeypatch.setattr(readouts.IndicatorState, "step", counting_step)
    path = _fluo_bundle(tmp_path / "fluo.onnx")
    cells, keep = [], []
    for i, weight in enumerate((0.0, 0.0001, 0.0003)):
        cell = PVBasket()
        syn = cell.add_synapse("exc", cell.dend[0], 0.5)
        stim = h.NetStim()
        stim.start, stim.number, stim.interval, stim.noise = 0.5 + i, 3, 4.0, 0
        nc = h.NetCon(stim, syn)
        nc.delay, nc.weight[0] = 1.0, weight
        cells.append(cell)
        keep += [syn, stim, nc]
    # without the recording probe every readout section is kept, its cai written by the bridge
    handle = neuron_ann.swap_to_ann(bundles=[path], check_recordings=False)
    fluo = [h.Vector().record(handle.readout_ref(c, FLUO)) for c in cells]
    cai = [h.Vector().record(handle.readout_ref(c, "cai_dend[1]")) for c in cells]
    cai_sec = h.Vector().record(cells[2].dend[1](0.5)._ref_cai)
    with pytest.raises(KeyError, match=r"no readout 'ik'; its readouts: cai_dend\[1\], v_dend\[0\], fluorescence:dend\[1\]\(0.5\)"):
        handle.readout_ref(cells[0], "ik")
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(40)
    group = handle.groups[0]
    assert len(calls) == group.steps == 41 and set(calls) == {(3,)}  # one vectorised call per exchange step
    per_step = int(round(1.0 / h.dt))
    for f_vec, c_vec in zip(fluo, cai):
        f, c = np.array(f_vec), np.array(c_vec)
        c_k = c[::per_step]  # cai at the exchange times t_k = k ms
        expected = readouts.fluorescence(c_k, 1.0, "GCaMP6f")  # resting state from cai at t = 0
        assert np.allclose(f[::per_step], expected, rtol=0, atol=1e-9)
        # linear between exchange times, like every readout
        assert np.allclose(f[per_step // 2 :: per_step][: len(expected) - 1], (expected[:-1] + expected[1:]) / 2, atol=1e-9)
    assert np.allclose(np.array(cai_sec), np.array(cai[2]), atol=1e-12)
    assert np.array(fluo[0]).max() == pytest.approx(0.0, abs=1e-12)  # no input: stays at rest
    assert np.array(fluo[1]).max() > 0.05 and np.array(fluo[2]).max() > np.array(fluo[1]).max()
    assert np.array(cai[2])[0] == pytest.approx(1e-4, abs=1e-5)
    # a second run starts from rest again
    h.finitialize(-65)
    h.continuerun(5)
    assert np.allclose(np.array(fluo[2])[::per_step], readouts.fluorescence(np.array(cai[2])[::per_step], 1.0, "GCaMP6f"), atol=1e-9)


@pytest.mark.parametrize(
    "derived, match",
    [
        ([(FLUO, "v_dend[0]", "GCaMP6f")], r"derived readout 'fluorescence:dend\[1\]\(0.5\)' is computed from 'v_dend\[0\]', which is not a cai readout of the bundle \(its cai readouts: cai_dend\[1\]\)"),
        ([(FLUO, "cai_dend[1]", "GCaMP9")], r"uses calcium indicator 'GCaMP9', which this neuron_ann does not model \(it models GCaMP6f, GCaMP6m, GCaMP6s\)"),
        ([{"name": FLUO, "variable": "fluorescence", "from": "cai_dend[1]", "indicator": "GCaMP6f",
           "params": {"kd_mM": 1e-3, "hill": 2.27, "dynamic_range": 51.8, "rise_ms": 45.0, "half_decay_ms": 142.0}}],
         r"made with other GCaMP6f parameters than this neuron_ann computes \(kd_mM = 0.001 \(here 0.000375\)\)"),
        ([{"name": "dff", "variable": "dff_ratio", "from": "cai_dend[1]", "indicator": "GCaMP6f"}], r"derived readout 0 \(dff\) is a 'dff_ratio' readout"),
    ],
)
def test_derived_readouts_the_bridge_cannot_compute_are_refused(tmp_path, derived, match):
    path = _fluo_bundle(tmp_path / "bad.onnx", derived=derived)
    cell = PVBasket()
    with pytest.raises(SwapError, match=r"bundle '.*bad.onnx': .*" + match):
        neuron_ann.swap_to_ann(bundles=[path])
    assert len(list(h.allsec())) == 6 and neuron_ann.bridge.active_swap() is None
    del cell


def test_readout_at_any_x_of_a_segment_allows_recording_that_segment(tmp_path):
    # dend[0] has 7 segments; a readout at x = 0.9 lives in the segment centred at 13/14
    path = tb.pvbasket_bundle(tmp_path / "pv_x.onnx", threshold=0.3, readouts=[("v", "dend[0]", 0.9, 3.0)])
    cell, keep = _driven_cell()
    v_same = h.Vector().record(cell.dend[0](0.9)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[path])
    h.finitialize(-65)
    h.continuerun(3)
    assert len(v_same) > 0
    neuron_ann.swap_back()
    del handle, keep, cell
    cell, keep = _driven_cell()
    v_other = h.Vector().record(cell.dend[0](0.7)._ref_v)  # another segment of the same section
    with pytest.raises(SwapError, match=r"records the voltage of PVBasket\[\d+\]\.dend\[0\]\(0\.642857\)"):
        neuron_ann.swap_to_ann(bundles=[path])
    del v_other, keep, cell


def test_point_process_placed_on_a_kept_readout_section_after_the_swap_is_refused(pv_readout_path):
    cell, keep = _driven_cell()
    v_dend = h.Vector().record(cell.dend[0](0.5)._ref_v)  # keeps dend[0]
    neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    late = h.IClamp(cell.dend[0](0.5))
    with pytest.raises(RuntimeError, match=r"IClamp\[\d+\] was placed on PVBasket\[\d+\].dend\[0\] of the swapped PVBasket\[\d+\] after swap_to_ann\(\)"):
        h.finitialize(-65)
    del late, v_dend


def test_recording_of_a_soma_readout_variable_records_the_readout(tmp_path):
    """soma(0.5)._ref_ina with an ina readout at the soma: the swap keeps the soma's na ion, and
    the readout writes the surrogate's ina into it after every step, as readout_ref gives it."""
    path = tb.ballhh_bundle(tmp_path / "ball_ina.onnx", threshold=1e9, readouts=[("ina", "soma", 0.5, 64.5)])
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    stim = h.NetStim()
    stim.start, stim.number = 0.5, 1
    nc = h.NetCon(stim, syn)
    nc.delay, nc.weight[0] = 1.0, 0.1
    ina = h.Vector().record(cell.soma(0.5)._ref_ina)
    nai = cell.soma(0.5).nai
    handle = neuron_ann.swap_to_ann(bundles=[path])
    assert cell.soma(0.5).nai == nai  # the probe's sentinels are gone
    via_ref = h.Vector().record(handle.readout_ref(cell, "ina_soma"))
    at = _run_4ms()
    # input 0.1 uS arriving at 1.5, in [1, 2) -> at t = 2: soma v -64, ina readout = v + 64.5
    assert at(ina, 2.0) == pytest.approx(0.5, abs=1e-5)
    assert at(ina, 1.5) == pytest.approx(0.0, abs=1e-5)  # halfway from -0.5 at t = 1
    assert np.array_equal(np.array(ina), np.array(via_ref))
    neuron_ann.swap_back()
    del handle, nc, stim, syn


def test_recording_of_a_kept_section_ion_current_readout_keeps_the_section(tmp_path):
    """A readout of ina on a dendrite: the probe before the swap finds a recording of that ion
    current (an initialization handler's sentinel could not: NEURON zeroes ion currents after it)."""
    path = tb.pvbasket_bundle(tmp_path / "pv_ina.onnx", threshold=0.3, readouts=[("ina", "dend[0]", 0.5, 65.25)])
    cell, keep = _driven_cell()
    ina = h.Vector().record(cell.dend[0](0.5)._ref_ina)
    neuron_ann.swap_to_ann(bundles=[path])
    assert sorted(s.name() for s in h.allsec()) == ["PVBasket[0].dend[0]", "PVBasket[0].soma"]
    at = _run_4ms()
    assert at(ina, 0.0) == pytest.approx(0.25, abs=1e-5)  # at rest, -65 mV + 65.25 (not the 0 NEURON's zeroing leaves)
    assert at(ina, 2.0) == pytest.approx(1.25, abs=1e-5)
    neuron_ann.swap_back()
    del keep


def test_recording_of_a_soma_ion_variable_in_another_segment_than_the_readout_is_refused(tmp_path):
    """With three soma segments and an ina readout at x = 0.5, ina of the middle segment records
    the readout; ina of the first segment is nothing the surrogate computes."""

    def cell3():
        cell = BallHH()
        cell.soma.nseg = 3
        return cell

    template = cell3()
    path = tb.make_bundle(tmp_path / "ball3.onnx", template, [("soma", 0.5, "exc")], threshold=1e9,
                          readouts=[("ina", "soma", 0.5, 64.5)])
    del template
    cell = cell3()
    middle = h.Vector().record(cell.soma(0.5)._ref_ina)
    handle = neuron_ann.swap_to_ann(bundles=[path])
    at = _run_4ms()
    assert at(middle, 1.0) == pytest.approx(-0.5, abs=1e-5)  # at rest: -65 mV + 64.5
    neuron_ann.swap_back()
    del handle
    first = h.Vector().record(cell.soma(0.1)._ref_ina)
    with pytest.raises(SwapError, match=r"Vector\[\d+\] records ina of BallHH\[\d+\]\.soma\(0\.166667\), which the swap keeps but "
                       r"the .*BallHH surrogate does not compute \(its readouts: ina at soma\(0\.5\)\)"):
        neuron_ann.swap_to_ann(bundles=[path])
    assert neuron_ann.bridge.active_swap() is None
    del first, middle
