"""Direct delivery: spikes from swapped cells to synapses of swapped cells without NEURON's event queue.

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
0); ``swap_back`` makes them active again, as they were at the swap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Routes"]


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
