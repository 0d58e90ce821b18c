"""swap_to_ann(direct_delivery=True): events onto swapped cells delivered by the runtime (Routes from swapped cells, Relay from other sources).

The same network, run through NEURON's event queue and delivered directly, must give the
same spike raster to 1e-9 ms (tiny exact bundles, whose spikes depend on which exchange row
each input lands in); weight and delay changes are taken up at the next finitialize;
swap_back gives the NetCons back their synapse, delay and active state.
"""

import numpy as np
import pytest
from neuron import h

import neuron_ann
from neuron_ann.cells import BallHH, PVBasket

import tiny_bundles as tb


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("direct")
    return (tb.ballhh_bundle(folder / "ball.onnx", threshold=0.3, spike_offset_ms=0.3),
            tb.pvbasket_bundle(folder / "pv.onnx", threshold=0.3))


def _random_network(seed, n_ball=12, n_pv=6):
    """BallHH and PVBasket cells, Poisson-free regular inputs and random links of varied delays and weights."""
    rng = np.random.default_rng(seed)
    cells = [BallHH(gid=i) for i in range(n_ball)] + [PVBasket(gid=n_ball + i) for i in range(n_pv)]
    keep, links = [], []
    for i, cell in enumerate(cells):
        stim = h.NetStim()
        stim.start, stim.interval, stim.number, stim.noise = 0.2 + 0.37 * i, 2.3 + 0.11 * i, 20, 0
        nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
        nc.weight[0], nc.delay = 0.2 + 0.015 * i, 1.0
        keep += [stim, nc]
    for pre, post in zip(*np.nonzero(rng.random((len(cells), len(cells))) < 0.3)):
        if pre == post:
            continue
        target = cells[post]
        section = target.soma if rng.random() < 0.5 or not hasattr(target, "dend") else target.dend[0]
        syn = target.add_synapse("exc", section)
        link = h.NetCon(cells[pre].soma(0.5)._ref_v, syn, sec=cells[pre].soma)
        # delays: exactly one exchange step, multiples of h.dt, and values off the grid
        link.threshold, link.weight[0] = -20, float(rng.choice([0.05, 0.1, 0.15, 0.25]))
        link.delay = float(rng.choice([1.0, 1.5, 2.0, 1.2345, 3.0 + 1e-7]))
        links.append(link)
        keep.append(syn)
    times, gids, recorders = _record_spikes(cells)
    return cells, links, keep + recorders, times, gids


def _record_spikes(cells):
    """(times, gids, detectors): every cell's soma spikes recorded with its index as gid."""
    times, gids, detectors = h.Vector(), h.Vector(), []
    for gid, cell in enumerate(cells):
        det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        det.threshold = -20
        det.record(times, gids, gid)
        detectors.append(det)
    return times, gids, detectors


def _raster(times, gids):
    return sorted(zip(np.array(gids).astype(int).tolist(), np.array(times).tolist()))


def _swap_and_run(bundles, direct, times, gids, tstop):
    """Swap, run ``tstop`` ms, swap back: the raster recorded in (times, gids) and the swap's stats."""
    handle = neuron_ann.swap_to_ann(bundles=list(bundles), direct_delivery=direct)
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(tstop)
    raster, stats = _raster(times, gids), handle.stats()
    neuron_ann.swap_back()
    return raster, stats


def _run(paths, direct, seed=3, tstop=60.0):
    cells, links, keep, times, gids = _random_network(seed)
    raster, stats = _swap_and_run(paths, direct, times, gids, tstop)
    return raster, stats, (cells, links, keep)


def test_direct_delivery_gives_the_raster_of_neurons_queue(paths):
    queued, stats_q, network = _run(paths, False)
    del network  # else the next run swaps these cells too
    direct, stats_d, (cells, links, keep) = _run(paths, True)
    assert len(queued) > 100
    # cells driven by links only: the links matter for the raster
    assert [gid for gid, _ in direct] == [gid for gid, _ in queued]
    assert np.allclose([t for _, t in direct], [t for _, t in queued], atol=1e-9)
    assert sum(s["direct_connections"] for s in stats_q.values()) == 0
    assert sum(s["direct_connections"] for s in stats_d.values()) == len(links)
    # swap_back gave the links back their synapse, their delay and their active state
    assert all(link.syn() is not None and link.active() for link in links)
    assert {link.delay for link in links} <= {1.0, 1.5, 2.0, 1.2345, 3.0 + 1e-7}


@pytest.mark.parametrize("direct", [False, True])
def test_two_threads_give_the_raster_of_one(paths, direct):
    """``pc.nthread(2)``: NEURON spreads the cells over two threads (the bridge's mechanisms are
    THREADSAFE; NEURON runs the exchange callbacks between its threads' steps), and the raster is that
    of one thread. Only BallHH is swapped, so the PVBasket cells run detailed beside them."""
    pc = h.ParallelContext()
    rasters, counts = [], []
    try:
        for threads in (1, 2):
            pc.nthread(threads)
            cells, links, keep, times, gids = _random_network(3)
            # two threads need delays of at least one exchange step plus 2 h.dt (a Python list: freeing the
            # last run's NetCons while iterating NEURON's live List would skip one)
            for nc in list(h.List("NetCon")):
                if nc.syn() is not None and nc.delay < 1.05:
                    nc.delay = 1.05
            del nc
            raster, stats = _swap_and_run(paths[:1], direct, times, gids, 60.0)
            assert pc.nthread() == threads
            counts.append(sum(s["direct_connections"] for s in stats.values()))
            rasters.append(raster)
            del cells, links, keep
    finally:
        pc.nthread(1)
    assert len(rasters[0]) > 100
    assert counts[0] == counts[1] and (counts[0] > 20 if direct else counts[0] == 0)  # BallHH-to-BallHH links
    assert [gid for gid, _ in rasters[1]] == [gid for gid, _ in rasters[0]]
    assert np.allclose([t for _, t in rasters[1]], [t for _, t in rasters[0]], atol=1e-9)


def test_links_matter_in_the_raster(paths):
    """Guard against a test that cannot fail: cutting the links changes the raster."""
    cells, links, keep, times, gids = _random_network(3)
    for link in links:
        link.weight[0] = 0.0
    neuron_ann.swap_to_ann(bundles=list(paths), direct_delivery=True)
    h.finitialize(-65)
    h.continuerun(60.0)
    unlinked = _raster(times, gids)
    neuron_ann.swap_back()
    del cells, links, keep
    queued, _, _ = _run(paths, False)
    assert unlinked != queued


def _driven_pair(stimuli):
    """Two BallHH cells: a NetStim (``stimuli`` events, 5 ms apart from 0.3 ms) drives cell 0, which drives cell 1 (delay 1 ms)."""
    cells = [BallHH(gid=i) for i in range(2)]
    stim = h.NetStim()
    stim.start, stim.interval, stim.number, stim.noise = 0.3, 5.0, stimuli, 0
    drive = h.NetCon(stim, cells[0].add_synapse("exc", cells[0].soma))
    drive.weight[0], drive.delay = 0.5, 1.0
    link = h.NetCon(cells[0].soma(0.5)._ref_v, cells[1].add_synapse("exc", cells[1].soma), sec=cells[0].soma)
    link.threshold, link.weight[0], link.delay = -20, 0.5, 1.0
    return cells, [stim, drive], link


def test_weight_and_delay_changes_take_effect_at_finitialize(paths):
    ball, _ = paths
    cells, keep, link = _driven_pair(3)
    handle = neuron_ann.swap_to_ann(bundles=[ball], direct_delivery=True)
    assert link.syn() is None and not link.active()  # no NEURON target while swapped
    h.finitialize(-65)
    h.continuerun(16)
    first = handle.spike_times(cells[0])
    assert len(first) == 3
    # spike_offset 0.3 ms: cell 0 spikes at t_k + 0.3; +1 ms delay lands in the next row
    assert np.allclose(handle.spike_times(cells[1]), first + 1.0, atol=1e-9)
    link.delay = 2.0
    h.finitialize(-65)
    h.continuerun(16)
    assert np.allclose(handle.spike_times(cells[1]), first + 2.0, atol=1e-9)
    h.finitialize(-65)
    h.continuerun(8)
    link.weight[0] = 0.0  # during a run: taken up at the next finitialize, as documented
    h.continuerun(16)
    assert len(handle.spike_times(cells[1])) == 3
    h.finitialize(-65)
    h.continuerun(16)
    assert len(handle.spike_times(cells[1])) == 0
    neuron_ann.swap_back()
    assert link.active() and link.delay == 2.0 and link.syn() is not None


def test_inactive_netcon_stays_with_neuron(paths):
    ball, _ = paths
    cells = [BallHH(gid=i) for i in range(2)]
    link = h.NetCon(cells[0].soma(0.5)._ref_v, cells[1].add_synapse("exc", cells[1].soma), sec=cells[0].soma)
    link.delay = 1.0
    link.active(False)
    handle = neuron_ann.swap_to_ann(bundles=[ball], direct_delivery=True)
    assert link.syn() is not None  # captured as without direct delivery, so active() still works
    assert "delivered directly" not in handle.report()
    h.finitialize(-65)
    assert [s["direct_connections"] for s in handle.stats().values()] == [0]
    neuron_ann.swap_back()
    assert not link.active()


def test_freed_direct_netcon_stops_delivering_at_finitialize(paths):
    """The handle keeps no direct NetCon alive: deleting one while swapped removes the connection at the next finitialize."""
    ball, _ = paths
    cells, keep, link = _driven_pair(2)
    handle = neuron_ann.swap_to_ann(bundles=[ball], direct_delivery=True)
    h.finitialize(-65)
    h.continuerun(10)
    assert len(handle.spike_times(cells[0])) == 2 and len(handle.spike_times(cells[1])) == 2
    del link
    h.finitialize(-65)
    assert [s["direct_connections"] for s in handle.stats().values()] == [0]
    h.continuerun(10)
    assert len(handle.spike_times(cells[0])) == 2 and len(handle.spike_times(cells[1])) == 0
    neuron_ann.swap_back()


def _mixed_sources(seed=5, n_ball=10, n_detailed=3):
    """Swapped BallHH cells driven by shared NetStims and by detailed (unswapped) HH sections, with
    delays on and off the exchange grid and one source reaching a cell at two delays."""
    rng = np.random.default_rng(seed)
    cells = [BallHH(gid=i) for i in range(n_ball)]
    keep, relayed, from_detailed = [], [], []
    stims = []
    for j in range(4):
        stim = h.NetStim()
        stim.start, stim.interval, stim.number, stim.noise = 0.13 + 0.7 * j, 3.1 + 0.4 * j, 15, 0
        stims.append(stim)
    detailed = []
    for j in range(n_detailed):
        sec = h.Section(name=f"detailed_{j}")
        sec.L = sec.diam = 20
        sec.insert("hh")
        clamp = h.IClamp(sec(0.5))
        clamp.delay, clamp.dur, clamp.amp = 0.5 + 1.3 * j, 100, 0.1 + 0.05 * j
        detailed.append(sec)
        keep.append(clamp)
    delays = [1.0, 1.5, 2.0, 1.2345, 3.0 + 1e-7]
    for i, cell in enumerate(cells):
        for stim in rng.choice(stims, size=2, replace=False):
            for _ in range(int(rng.integers(1, 3))):  # sometimes the same source twice, at other delays
                nc = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
                nc.weight[0], nc.delay = float(rng.choice([0.1, 0.2, 0.3])), float(rng.choice(delays))
                relayed.append(nc)
        sec = detailed[i % n_detailed]
        nc = h.NetCon(sec(0.5)._ref_v, cell.add_synapse("exc", cell.soma), sec=sec)
        nc.threshold, nc.weight[0], nc.delay = -20, 0.4, float(rng.choice(delays))
        relayed.append(nc)
        from_detailed.append(nc)
    times, gids, detectors = _record_spikes(cells)
    keep += detectors
    stim_times = h.Vector()
    relayed[0].record(stim_times)  # the user's record of a relayed source goes on
    return cells, stims + detailed + keep, relayed, from_detailed, times, gids, stim_times


def _run_mixed(paths, direct, cut_detailed=False, tstop=50.0):
    cells, keep, relayed, from_detailed, times, gids, stim_times = _mixed_sources()
    if cut_detailed:
        for nc in from_detailed:
            nc.weight[0] = 0.0
    raster, stats = _swap_and_run(paths[:1], direct, times, gids, tstop)
    assert all(nc.syn() is not None and nc.active() for nc in relayed)
    return raster, stats, len(relayed), stim_times.size()


def test_direct_delivery_from_netstims_and_detailed_cells_gives_the_raster_of_neurons_queue(paths):
    queued, stats_q, n_relayed, recorded_q = _run_mixed(paths, False)
    direct, stats_d, _, recorded_d = _run_mixed(paths, True)
    cut, _, _, _ = _run_mixed(paths, True, cut_detailed=True)
    assert len(queued) > 50
    assert [gid for gid, _ in direct] == [gid for gid, _ in queued]
    assert np.allclose([t for _, t in direct], [t for _, t in queued], atol=1e-9)
    assert cut != direct  # the detailed cells' events matter in the raster
    (s_q,), (s_d,) = stats_q.values(), stats_d.values()
    assert s_q["relayed_connections"] == 0 and s_d["relayed_connections"] == n_relayed
    # one collector per source and delay fraction: 4 NetStims and 3 detailed cells, at most 4 fractions (delays 1 and 2, 1.5, 1.2345, 3 + 1e-7)
    assert s_d["relay_collectors"] <= 7 * 4 < n_relayed
    assert recorded_d == recorded_q >= 10  # 10-15 events of that NetStim within 50 ms


def test_relayed_weight_and_delay_changes_take_effect_at_finitialize(paths):
    ball, _ = paths
    cell = BallHH(gid=0)
    stim = h.NetStim()
    stim.start, stim.interval, stim.number, stim.noise = 0.3, 5.0, 3, 0
    drive = h.NetCon(stim, cell.add_synapse("exc", cell.soma))
    drive.weight[0], drive.delay = 0.5, 1.0
    handle = neuron_ann.swap_to_ann(bundles=[ball], direct_delivery=True)
    assert drive.syn() is None and not drive.active()
    h.finitialize(-65)
    h.continuerun(16)
    first = handle.spike_times(cell)
    assert len(first) == 3
    drive.delay = 2.7  # a new delay fraction: a new collector
    h.finitialize(-65)
    h.continuerun(16)
    # the events reach the row of t + 2.7 instead of t + 1: two exchange steps later (0.3 -> 3.0 falls in row 3, 1.3 in row 1)
    assert np.allclose(handle.spike_times(cell), first + 2.0, atol=1e-9)
    (stats,) = handle.stats().values()
    assert stats["relayed_connections"] == 1 and stats["relay_collectors"] == 1
    drive.weight[0] = 0.0
    h.finitialize(-65)
    h.continuerun(16)
    assert len(handle.spike_times(cell)) == 0
    neuron_ann.swap_back()
    assert drive.active() and drive.delay == 2.7 and drive.syn() is not None


def test_links_between_types_of_different_steps_are_relayed(tmp_path):
    """BallHH at a 0.5 ms step, PVBasket at 1 ms: links between the two types cannot go through
    Routes (one exchange step per connection), so they are relayed from the swapped soma; the
    raster is NEURON's queue's."""
    mixed = (tb.ballhh_bundle(tmp_path / "ball05.onnx", threshold=0.3, spike_offset_ms=0.3, dt_ms=0.5),
             tb.pvbasket_bundle(tmp_path / "pv.onnx", threshold=0.3))
    queued, _, network = _run(mixed, False)
    del network
    direct, stats, (cells, links, keep) = _run(mixed, True)
    assert len(queued) > 100
    assert [gid for gid, _ in direct] == [gid for gid, _ in queued]
    assert np.allclose([t for _, t in direct], [t for _, t in queued], atol=1e-9)
    between = sum(1 for link in links if type(link.preseg().sec.cell()) is not type(link.syn().get_segment().sec.cell()))
    n_stims = 18  # one NetStim per cell
    assert between > 0
    assert sum(s["relayed_connections"] for s in stats.values()) == n_stims + between
    assert sum(s["direct_connections"] for s in stats.values()) == len(links) - between
