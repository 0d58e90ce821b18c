"""Physiology and structure of the bundled BallHH and PVBasket cells.

Each test asserts a measured number against a published range, so a wrong channel,
density or geometry fails.
"""

import numpy as np
import pytest

from neuron_ann import celltools, physiology
from neuron_ann.cells import BallHH, PVBasket, get_cell_class
from neuron_ann.mechanisms import hoc_dir


def soma_area_cm2(cell):
    return cell.soma(0.5).area() * 1e-8


# ---- BallHH: Hodgkin & Huxley 1952 squid membrane at 6.3 degC --------------------------

def test_ballhh_rest_is_hodgkin_huxley_rest(neuron_state):
    cell = BallHH()
    # HH's resting potential in NEURON's convention is -65 mV; the extra pas leak reverses there too.
    assert physiology.resting_potential(cell) == pytest.approx(-65.0, abs=0.3)


def test_ballhh_input_resistance(neuron_state):
    cell = BallHH()
    # Specific resting conductance of the HH membrane (leak 0.3 + resting gK and gNa) is about
    # 0.68 mS/cm2 (Hodgkin & Huxley 1952, Table 3 and Fig. 23 values at rest); with the 0.01 mS/cm2
    # pas leak and the 1963 um2 soma that is about 1 / (0.69e-3 S/cm2 * area) = 74 MOhm for an
    # infinitesimal step; a -10 pA step engages the slower K deactivation, giving 35-60 MOhm.
    r_in = physiology.input_resistance(cell, amp_nA=-0.01)
    assert 35 < r_in < 60, r_in


def test_ballhh_fi_curve_is_type_ii(neuron_state):
    cell = BallHH()
    area = soma_area_cm2(cell)
    # Repetitive firing of the HH membrane starts at about 6.2-6.5 uA/cm2 with a discontinuous jump
    # to about 50-70 Hz (Hodgkin class II; Rinzel 1978, Fed Proc 37:2793).
    amps = [5.5, 7.5, 10.0, 25.0]
    rates = physiology.fi_curve(cell, [a * area * 1e3 for a in amps], dur_ms=500)
    assert rates[0] <= 2, rates  # at most the onset spike below threshold
    assert 50 <= rates[1] <= 80, rates
    assert np.all(np.diff(rates[1:]) > 0), rates
    assert rates[-1] < 130, rates


# ---- PVBasket: fast-spiking basket interneuron ------------------------------------------

def test_pvbasket_structure(neuron_state):
    cell = PVBasket()
    names = [celltools.relative_name(s) for s in cell.all]
    assert names == ["soma", "dend[0]", "dend[1]", "dend[2]", "dend[3]", "axon[0]"]
    assert len(list(cell.basal)) == 4 and len(list(cell.axonal)) == 1 and len(list(cell.somatic)) == 1


def test_pvbasket_rest_and_input_resistance(neuron_state):
    cell = PVBasket()
    # Fast-spiking PV basket cells: rest -60 to -70 mV, input resistance 50-200 MOhm
    # (Povysheva et al. 2008 J Neurophysiol 100:2348; Hu et al. 2010 Science 327:52).
    assert -70 < physiology.resting_potential(cell) < -60
    assert 50 < physiology.input_resistance(cell, amp_nA=-0.02) < 200


def test_pvbasket_fires_fast_without_adaptation(neuron_state):
    cell = PVBasket()
    rates, spikes = physiology.fi_curve(cell, [0.1, 0.4, 0.8], dur_ms=500, return_spikes=True)
    # FS cells: sustained rates above 100 Hz at strong current, rising with current, with an
    # adaptation ratio (last ISI / first ISI) near 1 (Kawaguchi 1995, J Neurosci 15:2638).
    assert np.all(np.diff(rates) > 0), rates
    assert rates[1] > 150 and rates[2] > 250, rates
    for st in spikes[1:]:
        isi = np.diff(st)
        assert 0.8 < isi[-1] / isi[0] < 1.25, isi


# ---- shared ------------------------------------------------------------------------------

def test_add_synapse_kinds(neuron_state):
    from neuron import h

    cell = PVBasket()
    exc = cell.add_synapse("exc", cell.dend[0], 0.5)
    inh = cell.add_synapse("inh", cell.soma, 0.5)
    assert exc.hname().startswith("AMPA_NMDA") and inh.hname().startswith("GABA_A")
    assert cell.synapses == [exc, inh]
    with pytest.raises(ValueError, match=r"unknown synapse kind 'ampa'.*'exc'.*'inh'"):
        cell.add_synapse("ampa", cell.soma, 0.5)
    other = BallHH()
    with pytest.raises(ValueError, match="does not belong"):
        cell.add_synapse("exc", other.soma, 0.5)
    del exc, inh, h


def test_excitatory_synapse_peak_and_nmda_block(neuron_state):
    from neuron import h

    soma = h.Section(name="clamp")
    soma.L = soma.diam = 20
    syn = h.AMPA_NMDA(soma(0.5))
    clamp = h.SEClamp(soma(0.5))
    clamp.dur1, clamp.rs = 100, 1e-4
    nc = h.NetCon(None, syn)
    nc.weight[0] = 0.001  # uS
    g = h.Vector().record(syn._ref_g_AMPA)
    results = {}
    for hold in (-80.0, 0.0):
        clamp.amp1 = hold
        h.finitialize(hold)
        nc.event(5.0)
        h.continuerun(60)
        results[hold] = (max(g), syn.g_NMDA)
    # the AMPA peak equals the NetCon weight (peak-normalised double exponential)
    assert results[-80.0][0] == pytest.approx(0.001, rel=1e-3)
    # Jahr & Stevens 1990: B(v) = 1 / (1 + exp(-0.062 v) Mg / 3.57); at 1 mM Mg, B(-80)/B(0) = 0.0455 / 0.781
    ratio = results[-80.0][1] / results[0.0][1]
    expected = (1 / (1 + np.exp(0.062 * 80) / 3.57)) / (1 / (1 + 1 / 3.57))
    assert ratio == pytest.approx(expected, rel=1e-3)
    del syn, clamp, nc, soma


@pytest.mark.parametrize("name", ["BallHH", "PVBasket"])
def test_hoc_template_matches_python_cell(neuron_state, name):
    from neuron import h

    py_cell = get_cell_class(name)()
    assert h.load_file(str(hoc_dir() / f"{name}.hoc"))
    hoc_cell = getattr(h, name)()
    assert celltools.fingerprint(hoc_cell) == celltools.fingerprint(py_cell)
    assert celltools.cell_type_name(hoc_cell) == name
    rest_py = physiology.resting_potential(py_cell)
    rest_hoc = physiology.resting_potential(hoc_cell)
    assert rest_hoc == pytest.approx(rest_py, abs=1e-6)
    del hoc_cell
