"""Readouts and recordings: what a bundle reads out can be recorded; recordings it cannot honour are refused."""

import numpy as np
import pytest
from neuron import h

import neuron_ann
from neuron_ann.cells import PVBasket
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


def test_readouts_are_recordable(pv_readout_path):
    cell, keep = _driven_cell()
    v_dend = h.Vector().record(cell.dend[0](0.5)._ref_v)
    v_soma = h.Vector().record(cell.soma(0.5)._ref_v)
    handle = neuron_ann.swap_to_ann(bundles=[pv_readout_path])
    # soma plus the two readout sections stay, disconnected and without mechanisms
    assert sorted(s.name() for s in h.allsec()) == ["PVBasket[0].dend[0]", "PVBasket[0].dend[1]", "PVBasket[0].soma"]
    cai = h.Vector().record(cell.dend[1](0.5)._ref_cai)
    fluo = h.Vector().record(handle.readout_ref(cell, "fluorescence_dend[1]"))
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(4)
    at = lambda vec, t: np.array(vec)[int(round(t / h.dt))]  # noqa: E731
    # input 0.1 uS in [1, 2) -> at t = 3: soma -64, v readout = soma + 3, cai = soma + 65.001, fluorescence = soma + 66
    assert at(v_soma, 3.0) == pytest.approx(-64.0, abs=1e-6)
    assert at(v_dend, 3.0) == pytest.approx(-61.0, abs=1e-5)
    assert at(v_dend, 0.0) == pytest.approx(-62.0, abs=1e-5)
    assert at(v_dend, 2.5) == pytest.approx(-61.5, abs=1e-5)
    assert at(cai, 3.0) == pytest.approx(1.001, abs=1e-5)
    assert at(fluo, 3.0) == pytest.approx(2.0, abs=1e-5)
    with pytest.raises(KeyError, match="no readout 'ik'"):
        handle.readout_ref(cell, "ik")
    neuron_ann.swap_back()
    assert len(list(h.allsec())) == 6


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
