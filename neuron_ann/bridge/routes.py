"""Direct delivery: events onto synapses of swapped cells without NEURON's event queue.

:class:`Routes` carries the spikes of swapped cells; :class:`Relay` the events of every
other source on this rank (NetStims, detailed cells), one collector per source.

With ``swap_to_ann(direct_delivery=True)``, an active NetCon whose source is a swapped
cell's soma and whose target is a synapse of a swapped cell (of a bundle with the same
exchange step) loses its NEURON target; its source keeps detecting spikes (``nc.record``,
``pc.spike_record`` and the source's other NetCons are unchanged). The runtime adds its weight
to the target's contact site in the exchange row the event would have reached through the
NetCon's capture: the row of ``floor((t_spike + shortened delay + EXCHANGE_EPS_MS) / dt) + 1``
(see :data:`neuron_ann.bridge.group.EXCHANGE_EPS_MS`). A connected network then costs
NEURON no event per spike and target.

The weight and delay of these NetCons are read at each ``h.finitialize`` (NEURON reads a
weight when the event is delivered): changes made during a run take effect at the next
``h.finitialize``, as delay changes of every NetCon onto a swapped cell do. A NetCon without
a target is inactive for NEURON, which ignores ``active()`` on it: while swapped these
NetCons report ``active() == False`` and cannot be switched off that way (set the weight to
0), and ``nc.event(t)`` on them delivers nothing; ``swap_back`` makes them active again, as
they were at the swap. The same holds for the NetCons of :class:`Relay`.
"""

from __future__ import annotations

import numpy as np

from .plan import SHIFT_MARK_MS, thread_min_delay

__all__ = ["Routes", "Relay"]


class Routes:
    """The direct connections out of one group's cells, in arrays ordered by source cell.

    Args:
        n_cells: cells in the source group.
        dt_ms: the exchange step (equal in the source and every target group).
        targets: the target groups (:class:`~neuron_ann.bridge.group.TypeGroup`).
        source: source cell index per connection.
        target: index into ``targets`` per connection.
        slot: ``cell index * sites + site`` in the target group's input buffer.
        weight: the NetCon's weight (uS).
        delay: the delay the NetCon runs with while swapped (the user's, shortened by dt).
    """

    def __init__(self, n_cells, dt_ms, targets, source, target, slot, weight, delay, eps_ms):
        order = np.argsort(np.asarray(source, dtype=np.int64), kind="stable")
        counts = np.bincount(np.asarray(source, dtype=np.int64), minlength=n_cells)
        self.start = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(counts, out=self.start[1:])
        self.targets = list(targets)
        self.target = np.asarray(target, dtype=np.int64)[order]
        self.slot = np.asarray(slot, dtype=np.int64)[order]
        self.weight = np.asarray(weight, dtype=np.float64)[order]
        self.delay = np.asarray(delay, dtype=np.float64)[order]
        self.dt_ms = float(dt_ms)
        self.eps_ms = float(eps_ms)
        self.count = len(self.slot)

    def send(self, cells: np.ndarray, times: np.ndarray) -> None:
        """Schedule the connections of ``cells`` spiking at ``times`` in their targets' rows."""
        first = self.start[cells]
        n = self.start[cells + 1] - first
        total = int(n.sum())
        if total == 0:
            return
        # indices of every connection of the spiking cells: first[i] .. first[i] + n[i] - 1
        offsets = np.repeat(first - (np.cumsum(n) - n), n)
        index = offsets + np.arange(total)
        arrival = np.repeat(times, n) + self.delay[index]
        rows = np.floor((arrival + self.eps_ms) / self.dt_ms).astype(np.int64) + 1
        if len(self.targets) == 1:
            self.targets[0].schedule(rows, self.slot[index], self.weight[index])
            return
        target = self.target[index]
        for t, group in enumerate(self.targets):
            mine = target == t
            if mine.any():
                group.schedule(rows[mine], self.slot[index[mine]], self.weight[index[mine]])


#: a delay within this of a multiple of the exchange step counts as that multiple (ms)
_GRID_TOL_MS = 1e-12


class Relay:
    """Direct delivery onto one group's synapses from sources that are not swapped cells.

    A NetCon from a NetStim (or any artificial cell or point process), or from the membrane
    potential of a cell on this rank that is not swapped (or swapped with another exchange
    step), loses its NEURON target as the NetCons of :class:`Routes` do. Instead, one collector
    NetCon per source and per delay fraction (the NetCon's shortened delay ``d'``, as
    ``m * dt + delta`` with ``delta`` in ``[mark, dt + mark)``, see :meth:`split`) counts the source's events into one slot of
    a buffer (an ``ANNInput``), with delay ``delta``: NEURON then queues one event per source
    spike and delay fraction instead of one per NetCon. A count read at the exchange of row
    ``j`` is an event that reached the collector before ``t_j - EXCHANGE_EPS_MS``; the same
    event through the NetCon's capture (delay ``d'``) would have been read ``m`` exchanges
    later, so the runtime adds each of that collector's NetCons' weights to row ``j + m``:
    the rows of the capture, without the capture's event per NetCon.

    Collectors are made at ``h.finitialize`` for the (source, delay fraction) pairs in use
    and kept (switched off while unused); weights and delays are read there, as for
    :class:`Routes`. Collector NetCons are NEURON objects of their own (``NetCon`` list).
    """

    def __init__(self, dt_ms: float):
        self.dt_ms = float(dt_ms)
        self.sources = []  # source id -> source key: the source object, or (section, x) of a membrane potential
        self._source_ids = {}
        self.collectors = {}  # (source id, delta) -> (ANNInput, NetCon)
        self._vec = None  # the count buffer (hoc Vector: the collectors' POINTERs point into it)
        self.counts = np.zeros(0)
        self.start = np.zeros(1, dtype=np.int64)
        self.slot = np.zeros(0, dtype=np.int64)
        self.weight = np.zeros(0)
        self.offset = np.zeros(0, dtype=np.int64)
        self.later = False  # some connection lands m > 0 exchanges after its count is read
        self.count = 0

    def source_id(self, key) -> int:
        """The id of a source key (made at the swap; the NetCon's entry keeps it)."""
        if key not in self._source_ids:
            self._source_ids[key] = len(self.sources)
            self.sources.append(key)
        return self._source_ids[key]

    def split(self, delays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(m, delta)`` with ``delays = m * dt + delta`` for shortened delays (the user's less one step,
        plus SHIFT_MARK_MS): ``delta`` keeps that mark, so the collector receives each event at the
        same offset from the exchange grid as the capture would (a user delay on the grid gives
        ``delta`` = the mark, never 0: an event at exactly an exchange time goes to the same row
        as through the capture). On several threads ``delta`` is at least 2 h.dt as well (NEURON's
        shortest delay between threads; the swap refuses shorter shortened delays). ``delta`` is
        rounded to 1e-12 ms so that equal delays share one collector."""
        # on several threads NEURON needs each collector's delay to be at least 2 h.dt: delta >= that too
        floor = thread_min_delay() + SHIFT_MARK_MS
        m = np.maximum(np.floor((delays - floor) / self.dt_ms + _GRID_TOL_MS), 0).astype(np.int64)
        delta = np.round(delays - m * self.dt_ms, 12)
        return m, delta

    def build(self, ids, delays, slots, weights) -> None:
        """Collectors and connections for the NetCons read at this finitialize: per NetCon its source
        id, shortened delay (ms), input slot and weight."""
        from neuron import h

        ids = np.asarray(ids, dtype=np.int64)
        delays, slots, weights = np.asarray(delays, dtype=np.float64), np.asarray(slots, dtype=np.int64), np.asarray(weights, dtype=np.float64)
        if ids.size:
            # a source section deleted since the swap: its NetCons have no source, NEURON would deliver nothing
            alive = np.array([not isinstance(key, tuple) or _exists(key[0]) for key in self.sources])
            if not alive.all():
                keep = alive[ids]
                ids, delays, slots, weights = ids[keep], delays[keep], slots[keep], weights[keep]
        m, delta = self.split(delays)
        deltas, delta_index = np.unique(delta, return_inverse=True)
        codes, pair_of = np.unique(ids * max(len(deltas), 1) + delta_index, return_inverse=True)
        pairs = [(int(c) // len(deltas), float(deltas[int(c) % len(deltas)])) for c in codes]
        for pair in pairs:
            if pair not in self.collectors:
                self.collectors[pair] = self._collector(h, self.sources[pair[0]], pair[1])
        order_of = {pair: i for i, pair in enumerate(self.collectors)}
        collector = np.array([order_of[pair] for pair in pairs], dtype=np.int64)[pair_of] if pairs else np.zeros(0, np.int64)
        n = len(self.collectors)
        self._vec = h.Vector(max(n, 1))
        self.counts = self._vec.as_numpy()
        sizes = np.bincount(collector, minlength=n)
        for i, (cap, nc) in enumerate(self.collectors.values()):
            h.setpointer(self._vec._ref_x[i], "acc", cap)
            nc.active(bool(sizes[i]))
        order = np.argsort(collector, kind="stable")
        self.start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.start[1:])
        self.slot, self.weight, self.offset = slots[order], weights[order], m[order]
        self.later = bool(len(self.offset) and self.offset.max() > 0)
        self.count = len(self.slot)

    @staticmethod
    def _collector(h, key, delta):
        cap = h.ANNInput()
        if isinstance(key, tuple):
            sec, x = key
            nc = h.NetCon(sec(x)._ref_v, cap, sec=sec)  # NEURON's existing detector: its threshold stays
        else:
            nc = h.NetCon(key, cap)
        nc.delay = delta
        nc.weight[0] = 1.0
        return cap, nc

    def drain(self, group) -> None:
        """At ``group``'s exchange of row ``group.k``: add the counted events' weights to this row's
        inputs, or schedule them ``m`` rows later."""
        counts = self.counts
        hit = counts.nonzero()[0]
        if hit.size == 0:
            return
        n = counts[hit]
        counts[hit] = 0.0
        first = self.start[hit]
        size = self.start[hit + 1] - first
        if hit.size == 1:  # the usual case in small networks: one range, no index arithmetic
            index = slice(int(first[0]), int(first[0] + size[0]))
            weights = self.weight[index] * n[0]
        else:
            end = size.cumsum()
            index = (first - (end - size)).repeat(size) + np.arange(int(end[-1]))
            weights = self.weight[index] * n.repeat(size)
        slots = self.slot[index]
        if not self.later:
            np.add.at(group.inputs, slots, weights)
            return
        m = self.offset[index]
        now = m == 0
        np.add.at(group.inputs, slots[now], weights[now])
        if not now.all():
            later = ~now
            group.schedule(group.k + m[later], slots[later], weights[later])

    def reset(self) -> None:
        self.counts[:] = 0.0

    def release(self) -> None:
        self.collectors.clear()
        self.sources.clear()
        self._source_ids.clear()
        self._vec = None
        self.counts = np.zeros(0)


def _exists(sec) -> bool:
    try:
        sec.name()
    except ReferenceError:  # "can't access a deleted section"
        return False
    return True
