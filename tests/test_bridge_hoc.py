"""hoc sessions: neuron_ann.hoc's swap_to_ann()/swap_back(), hoc template cells, an nrniv run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from neuron import h

import neuron_ann
from neuron_ann.errors import SwapError
from neuron_ann.mechanisms import hoc_dir

import tiny_bundles as tb

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ballstick_bundle(tmp_path):
    h.load_file(str(ROOT / "examples" / "ballstick.hoc"))
    cell = h.BallStick()
    path = tb.make_bundle(tmp_path / "bs.onnx", cell, [("dend[0]", 0.5, "exc"), ("dend[1]", 0.5, "exc")], threshold=0.5, hoc_template="BallStick")
    del cell
    return path


def _spike_recorder(cell):
    """A NetCon detecting the soma's spikes (threshold -20 mV) and the Vector it records them in."""
    nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    nc.threshold = -20
    spikes = h.Vector()
    nc.record(spikes)
    return nc, spikes


def test_hoc_functions_swap_template_cells_and_refuse_swap_back(ballstick_bundle):
    h.load_file(str(hoc_dir() / "neuron_ann.hoc"))
    cells = [h.BallStick() for _ in range(2)]
    stim = h.NetStim()
    stim.start, stim.number = 0.5, 1
    nc = h.NetCon(stim, cells[0].syn)
    nc.delay, nc.weight[0] = 1.0, 0.6
    out, spikes = _spike_recorder(cells[0])
    assert h.swap_to_ann(str(ballstick_bundle)) == 2
    assert len(list(h.allsec())) == 2
    # swap_to_ann() again swaps the cells built since, adding them to the swap in effect
    cells.append(h.BallStick())
    link = h.NetCon(cells[0].soma(0.5)._ref_v, cells[2].syn, sec=cells[0].soma)
    link.threshold, link.delay, link.weight[0] = -20, 1.0, 0.6
    late, late_spikes = _spike_recorder(cells[2])
    assert h.swap_to_ann(str(ballstick_bundle)) == 3
    assert len(list(h.allsec())) == 3
    # a link back onto cell 0, swapped in the first batch: NEURON refuses NetCon(..., syn); ann_setpost takes it in
    back = h.NetCon(cells[2].soma(0.5)._ref_v, None, sec=cells[2].soma)
    back.threshold, back.delay, back.weight[0] = -20, 1.0, 0.6
    h.ann_setpost(back, cells[0].syn)
    back.active(True)  # as after nc.setpost: NEURON leaves a NetCon made without a target inactive
    assert back.syn().hname().startswith("ANNInput") and back.delay == pytest.approx(0.0, abs=1e-6)
    h.finitialize(-65)
    h.continuerun(5)
    # input arrives at 1.5 -> interval [1, 2) -> spike at 1.5; cell 2's spike at 2.5 comes back at 3.5
    assert list(spikes) == pytest.approx([1.5, 3.5], abs=1e-9)
    assert list(late_spikes) == pytest.approx([2.5, 4.5], abs=1e-9)  # cell 0's spikes arrive at 2.5 and 4.5
    # cell 2's spike at 4.5 comes back at 5.5; the link, its delay set to 2 ms during the run (at once),
    # takes that spike to cell 2 at 7.5; an event through the NetStim's NetCon counted at 6.2 fires cell 0
    h.ann_set_delay(link, 2.0)
    h.ann_event(nc, 6.2)
    h.continuerun(8)
    assert list(spikes) == pytest.approx([1.5, 3.5, 5.5, 6.5], abs=1e-9)
    assert list(late_spikes) == pytest.approx([2.5, 4.5, 7.5], abs=1e-9)
    with pytest.raises(SwapError, match=r"cannot swap BallStick\[\d+\] back: its sections belong to a hoc template.*Nothing was changed"):
        neuron_ann.swap_back()
    assert len(list(h.allsec())) == 3


def test_nrniv_runs_the_hoc_example():
    nrniv = Path(sys.executable).parent / "nrniv"
    nrniv = str(nrniv) if nrniv.exists() else shutil.which("nrniv")
    if nrniv is None:
        pytest.skip("nrniv not found next to the interpreter or on PATH")
    proc = subprocess.run([nrniv, "examples/hoc_network.hoc"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "swapped 4 cells" in proc.stdout
    spikes = [line for line in proc.stdout.splitlines() if line.startswith("spike ")]
    assert len(spikes) > 5
    assert all(abs(float(s.split()[1]) % 1.0 - 0.5) < 1e-6 for s in spikes)


def test_plain_load_file_finds_neuron_ann_hoc(tmp_path):
    from neuron_ann.mechanisms import install_hoc_library

    install_hoc_library()
    nrniv = Path(sys.executable).parent / "nrniv"
    nrniv = str(nrniv) if nrniv.exists() else shutil.which("nrniv")
    if nrniv is None:
        pytest.skip("nrniv not found next to the interpreter or on PATH")
    script = tmp_path / "plain.hoc"
    script.write_text(
        'if (!load_file("neuron_ann.hoc")) { quit(1) }\n'
        'if (!load_file("BallHH.hoc")) { quit(1) }\n'
        'objref c\nc = new BallHH()\nc.soma { insert pas }\nprint "ok ", c\nquit()\n'
    )
    proc = subprocess.run([nrniv, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ok " in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
