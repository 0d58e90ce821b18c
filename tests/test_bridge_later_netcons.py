"""NetCons made after the swap onto synapses of swapped cells (neuron_ann.NetCon, neuron_ann.gid_connect).

Tiny exact bundles as in test_bridge.py: the BallHH bundle's step is 1 ms, it fires at t_k + 0.5 ms
when the input truly arriving in [t_k, t_k+1) sums to at least 0.3.
"""

import gc

import numpy as np
import pytest
from neuron import h

import neuron_ann
import neuron_ann.bridge
from neuron_ann.cells import BallHH
from neuron_ann.errors import SwapError

import tiny_bundles as tb

DT_MS = 1.0


def _backward_chain(ball_path, batches, direct=False):
    """BallHH cells 0..4, a NetStim into cell 4 and links i+1 -> i (each onto a cell built earlier),
    built and swapped in ``batches`` (cell counts; [5]: built whole, swapped once). Every link is made
    with neuron_ann.NetCon once both its cells exist: onto a swapped cell's synapse when its target's
    batch was swapped before. Returns the cells, each cell's spike times, the links and what to keep."""
    cells, syns, links, keep = [], [], [], []
    for size in batches:
        first = len(cells)
        for i in range(first, first + size):
            cells.append(BallHH(gid=i))
            syns.append(cells[i].add_synapse("exc", cells[i].soma, 0.5))
        for i in range(max(first - 1, 0), first + size - 1):  # links onto every cell that now has its successor
            src = cells[i + 1].soma
            links.append(neuron_ann.NetCon(src(0.5)._ref_v, syns[i], -20, 1.0 + 0.25 * i, 0.35, sec=src))
        neuron_ann.swap_to_ann(cells=cells[first:], bundles=[ball_path], direct_delivery=direct)
    stim = tb.netstim(0.3, interval=2.7, number=4)
    drive = neuron_ann.NetCon(stim, syns[4], 0, 1.0, 0.5)  # cell 4 is swapped by now
    detectors = []
    for cell in cells:
        det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        det.threshold = -20
        vec = h.Vector()
        det.record(vec)
        detectors.append((det, vec))
    h.finitialize(-65)
    h.continuerun(25)
    return cells, [np.array(vec) for _, vec in detectors], links, [stim, drive, syns, detectors]


@pytest.mark.parametrize("batches, direct", [([1, 2, 2], False), ([2, 3], False), ([1, 1, 1, 1, 1], False),
                                             ([1, 2, 2], True), ([1, 1, 1, 1, 1], True)])
def test_links_onto_cells_of_earlier_batches_run_as_one_swap(ball_path, batches, direct):
    """A network whose links go from later batches onto cells swapped before (a random network's case)
    gives the raster of the same network built whole and swapped once, spike for spike; with direct
    delivery those links and the NetStim's are delivered by the runtime, as at the swap."""
    built = _backward_chain(ball_path, [5])
    whole = built[1]
    neuron_ann.swap_back()
    del built
    gc.collect()  # the cells with their NetCons: NEURON crashes on a NetCon onto a deleted section's synapse
    # the drive reaches cell 4 at 1.3, 4.0, 6.7, 9.4 ms; each link carries each spike one cell down the chain
    expected = [[k + 0.5 for k in (1, 4, 6, 9)]]
    for i in (3, 2, 1, 0):
        expected.insert(0, [k + 0.5 for k in np.floor(np.array(expected[0]) + 1.0 + 0.25 * i + 1e-9)])
    for got, want in zip(whole, expected):
        assert np.allclose(got, want, atol=1e-9), (got, want)
    cells, times, links, keep = _backward_chain(ball_path, batches, direct)
    handle = neuron_ann.bridge.active_swap()
    assert [g.n_cells for g in handle.groups] == [5]
    if direct:  # 4 links and the drive; through relay collectors the drive and each batch's link onto the batch
        # before, made before its source cell was swapped (a source swapped at the time is delivered from its cell)
        assert handle.direct_count == 5 and handle.relay_count == len(batches)
        assert all(link.syn() is None for link in links)
    for got, want in zip(times, whole):
        assert np.allclose(got, want, atol=1e-9), (got, want)
    for i, link in enumerate(links):  # each runs one exchange step short, and reports the delay the user gave
        assert handle.user_delay(link) == 1.0 + 0.25 * i
        assert link.delay == pytest.approx(0.25 * i, abs=1e-6)
        assert direct or link.syn().hname().startswith("ANNInput")
    neuron_ann.swap_back()
    for i, link in enumerate(links):  # on the user's synapse again, with the user's delay and weight
        assert link.syn() == keep[2][i] and link.delay == 1.0 + 0.25 * i and link.weight[0] == 0.35


def test_weight_and_active_of_a_later_netcon_honoured(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    neuron_ann.swap_to_ann(bundles=[ball_path])
    stim = tb.netstim(0.3, interval=3.0, number=4)
    nc = neuron_ann.NetCon(stim, syn)  # NEURON's defaults: delay 1 ms, weight 0
    det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    det.threshold = -20
    vec = h.Vector()
    det.record(vec)
    h.finitialize(-65)
    h.continuerun(3)  # weight 0: the event at 1.3 ms is no input
    nc.weight[0] = 0.5
    h.continuerun(6)  # 4.3 ms: fires at 4.5
    nc.active(False)
    h.continuerun(9)  # 7.3 ms: dropped
    nc.active(True)
    h.continuerun(12)  # 10.3 ms: fires at 10.5
    assert np.allclose(np.array(vec), [4.5, 10.5], atol=1e-9)


def test_later_netcon_refusals(ball_path):
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    other = h.ExpSyn(cell.soma(0.5))  # unconnected at the swap: a kind the bundle has no input for
    captured = h.NetCon(None, syn)  # for nc.event
    neuron_ann.swap_to_ann(bundles=[ball_path])
    stim = tb.netstim(0.3)
    with pytest.raises(SwapError, match=r"NetCon\[\d+\] already feeds a swapped cell; make a new NetCon for AMPA_NMDA\[\d+\]"):
        neuron_ann.bridge.setpost(captured, syn)
    with pytest.raises(SwapError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> ANNInput\[\d+\]\) has delay 0.5 ms, shorter than the "
                                        r".*exchange step of 1 ms.*make its delay at least 1 ms"):
        neuron_ann.NetCon(stim, syn, 0, 0.5, 0.5)
    with pytest.raises(SwapError, match=r"synapse ExpSyn\[\d+\] of the swapped .*BallHH.* cannot take a NetCon: its mechanism ExpSyn "
                                        r"is not one the surrogate was trained on.*swap_back\(\) first"):
        neuron_ann.NetCon(stim, other)
    gc.collect()
    h.finitialize(-65)  # the refused NetCon was left without a target: nothing stops the run
    h.continuerun(2)
    late = neuron_ann.NetCon(stim, syn)  # NEURON's default delay, 1 ms: taken in
    late.delay = 0.5  # too short: refused at the next finitialize
    with pytest.raises(RuntimeError, match=r"NetCon\[\d+\] \(NetStim\[\d+\] -> AMPA_NMDA\[\d+\] of the swapped .*BallHH.*\) has "
                                           r"delay 0.5 ms, shorter than"):
        h.finitialize(-65)
    late.delay = 1.5
    h.finitialize(-65)
    assert neuron_ann.bridge.active_swap().user_delay(late) == 1.5 and late.delay == pytest.approx(0.5, abs=1e-6)
    neuron_ann.swap_back()
    plain = neuron_ann.NetCon(stim, other)  # no swap in effect: h.NetCon
    assert plain.syn() == other


def test_gid_connect_onto_a_swapped_cell(ball_path):
    """neuron_ann.gid_connect onto a swapped cell's synapse, its delay set afterwards, under pc.psolve:
    the raster of the same link made by pc.gid_connect before the swap."""
    pc = h.ParallelContext()
    rasters = []
    for later in (False, True):
        cells, kept = tb.driven_gid_pair()
        syn = cells[1].add_synapse("exc", cells[1].soma)
        link = None if later else neuron_ann.gid_connect(0, syn)  # no swap yet: pc.gid_connect
        handle = neuron_ann.swap_to_ann(bundles=[ball_path])
        if later:
            link = neuron_ann.gid_connect(0, syn)
            assert link.syn().hname().startswith("ANNInput")
        link.weight[0], link.delay = 0.5, 2.5
        tvec, idvec = h.Vector(), h.Vector()
        pc.spike_record(-1, tvec, idvec)
        pc.set_maxstep(10)
        h.finitialize(-65)
        pc.psolve(15)
        assert handle.user_delay(link) == 2.5
        rasters.append(sorted(zip(np.array(tvec), np.array(idvec).astype(int))))
        neuron_ann.swap_back()
        pc.gid_clear()
        del cells, kept, syn, link, handle
        gc.collect()
    # cell 0 fires at 1.5, 4.5, 7.5; the link (2.5 ms) brings each to cell 1 in the step 2 ms later
    assert rasters[0] == rasters[1]
    assert [g for _, g in rasters[0]] == [0, 0, 1, 0, 1, 1]
    assert np.allclose([t for t, _ in rasters[0]], [1.5, 4.5, 4.5, 7.5, 7.5, 10.5], atol=1e-9)


def test_later_netcons_delivered_directly(ball_path):
    """Under direct delivery, a NetCon made after the swap from a swapped cell is routed by the runtime
    and one from a NetStim relayed, as at the swap; spikes as through NEURON's queue."""
    rasters = []
    for direct in (False, True):
        cells = [BallHH(gid=i) for i in range(2)]
        syns = [cell.add_synapse("exc", cell.soma) for cell in cells]
        handle = neuron_ann.swap_to_ann(bundles=[ball_path], direct_delivery=direct)
        stim = tb.netstim(0.3, interval=3.0, number=3)
        drive = neuron_ann.NetCon(stim, syns[0], 0, 1.0, 0.5)
        link = neuron_ann.NetCon(cells[0].soma(0.5)._ref_v, syns[1], -20, 2.25, 0.5, sec=cells[0].soma)
        assert (drive.syn() is None, link.syn() is None) == (direct, direct)
        assert (handle.direct_count, handle.relay_count) == ((2, 1) if direct else (0, 0))
        h.finitialize(-65)
        h.continuerun(12)
        if direct:
            assert [s["direct_connections"] for s in handle.stats().values()] == [1]
        rasters.append([np.array(handle.spike_times(cell)) for cell in cells])
        neuron_ann.swap_back()
        assert (drive.syn(), link.syn()) == (syns[0], syns[1]) and drive.active() and link.active()
        del cells, syns, handle, stim, drive, link
        gc.collect()
    # cell 0 at 1.5, 4.5, 7.5; the link (2.25 ms) brings each into the step 2 ms later
    for queued, direct in zip(*rasters):
        assert np.allclose(queued, direct, atol=1e-9)
    assert np.allclose(rasters[0][0], [1.5, 4.5, 7.5], atol=1e-9) and np.allclose(rasters[0][1], [3.5, 6.5, 9.5], atol=1e-9)


@pytest.mark.parametrize("direct", [False, True])
def test_netcon_made_during_a_run_delivers_at_once(ball_path, direct):
    """A NetCon made between two continuerun calls delivers from then on, without an h.finitialize
    (under direct delivery through NEURON's queue: routes and relays are made at finitialize)."""
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    handle = neuron_ann.swap_to_ann(bundles=[ball_path], direct_delivery=direct)
    det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    det.threshold = -20
    vec = h.Vector()
    det.record(vec)
    stim = tb.netstim(4.3, interval=3.0, number=2)  # made before finitialize, which starts it
    h.finitialize(-65)
    h.continuerun(3)
    nc = neuron_ann.NetCon(stim, syn, 0, 1.0, 0.5)
    assert nc.syn().hname().startswith("ANNInput") and handle.direct_count == 0
    h.continuerun(10)
    assert np.allclose(np.array(vec), [5.5, 8.5], atol=1e-9)  # events at 5.3 and 8.3 (delay 1 ms)


def test_netcon_numbers_are_not_reused_while_swapped(ball_path):
    """hoc numbers a template's objects from 0 again once none is left: with every NetCon of the model
    freed during a swap, a new NetCon would take the number, and so the bridge's row, of a freed captured
    one (here a relayed NetStim input, which would then deliver with the new NetCon's weight). The swap
    keeps one NetCon of its own, so the new one gets a new number and is no input."""
    cell = BallHH()
    syn = cell.add_synapse("exc", cell.soma)
    stim = tb.netstim(0.3, interval=3.0, number=3)
    drive = h.NetCon(stim, syn)
    drive.weight[0], drive.delay = 0.5, 1.0
    first = drive.hname()
    handle = neuron_ann.swap_to_ann(bundles=[ball_path], direct_delivery=True)
    assert handle.relay_count == 1
    del drive
    other = h.NetCon(stim, None)  # no target: a spike counter, say
    other.weight[0] = 0.5
    assert other.hname() != first
    h.finitialize(-65)
    h.continuerun(10)
    assert len(handle.spike_times(cell)) == 0  # the freed NetCon's input is gone, and nothing took its place
