"""The NetCons onto swapped cells' synapses, kept in arrays by NetCon number.

A swap captures every NetCon onto a synapse of a swapped cell (about 200 per L5PC of the
bench network, a million for 5000 cells). Per NetCon the bridge keeps its target group and
cell, contact site, the delay the user gave it and the shortened one it runs with, and for
direct delivery its source; the user's synapse only where ``swap_back`` needs it. An object
per NetCon in a dict keyed by name took about 250 bytes each; these arrays take about 50.
The handle keeps no NetCon alive: a row is found by the NetCon's number (``NetCon[12]`` is
12). hoc gives each new object the next number of its template, and starts again at 0 only once
no object of the template is left, so this keeps one of each template whose numbers it uses (a
NetCon without source or target, an unlocated synapse of each kind) while it holds rows.
"""

from __future__ import annotations

import numpy as np
from neuron import h

from .plan import netcon_source

__all__ = ["CapturedInputs", "netcon_number", "onto_capture", "retarget", "stamp", "new_capture", "delay_alarm", "alarm_vector_name"]

_alarm = None  # (hoc Vector, its numpy view): the ANNInputs' alarm, kept for the process's life
_alarm_pointed = False  # whether the ANNInputs' alarm points at it (done with the first capture made)


def netcon_number(name: str) -> int:
    """12 for ``NetCon[12]``."""
    return int(name[name.index("[") + 1 : -1])


_SITE_DTYPES = (np.int16, np.int32, np.int32)  # a synapse's group index, cell index, site


def _grown(size: int, needed: int, added: int) -> int:
    """A new size for arrays of ``size`` that must hold ``needed`` after ``added`` more: exactly that
    for many at once (a swap's batch), else a quarter more, so that rows added one by one (NetCons
    made after the swap) cost amortised O(1)."""
    return needed if added > 1024 else max(needed, size + size // 4 + 1024)


def new_capture():
    """A new ``ANNInput``; the first one of the process also points every ANNInput's alarm at
    :func:`delay_alarm`'s array (mod/ann_input.mod)."""
    global _alarm_pointed
    cap = h.ANNInput()
    if not _alarm_pointed:
        cap.alarm_to(_alarm_vector()[0])
        _alarm_pointed = True
    return cap


def _alarm_vector():
    global _alarm
    if _alarm is None:
        vec = h.Vector(1)
        _alarm = (vec, vec.as_numpy())
    return _alarm


def delay_alarm() -> np.ndarray:
    """One element, set to 1 by an event through a captured NetCon whose delay is no longer the one
    the bridge set (stamped by :func:`stamp`): the user set it during a run. The bridge clears it."""
    return _alarm_vector()[1]


def alarm_vector_name() -> str:
    """hoc's name of the alarm's Vector: one of the bridge's own, which the recording probes leave out."""
    return _alarm_vector()[0].hname()


def onto_capture(nc, capture) -> None:
    """``nc.setpost(capture)`` (an ANNInput) keeping ``nc.weight[0]`` (see :func:`retarget`), and the
    capture's stamp: ``nc``'s address and delay (mod/ann_input.mod), so the delay must be set first."""
    weight = nc.weight[0]
    nc.setpost(capture)
    nc.weight[0] = weight
    capture.stamp(nc)


def stamp(nc) -> None:
    """Stamp ``nc`` (onto a capture) with the delay it has now, after the bridge set it (mod/ann_input.mod)."""
    nc.syn().stamp(nc)


def retarget(nc, target) -> None:
    """``nc.setpost(target)`` (None: no target) keeping ``nc.weight[0]``, the other elements 0: NEURON 9
    gives a NetCon a new weight vector, without copying, when the new target's NET_RECEIVE takes
    another number of arguments (an ANNInput takes 3, a synapse usually 1), and a capture's two are
    no synapse's."""
    weight = nc.weight[0]
    nc.setpost(target) if target is not None else nc.setpost()
    weights = nc.weight
    weights[0] = weight
    for i in range(1, len(weights)):
        weights[i] = 0.0


class CapturedInputs:
    """Rows of captured NetCons (see the module docstring); columns are numpy arrays:

    - ``group``: index into :attr:`groups` of the target cell's group; ``cell``, ``site``:
      the target cell's index in it and the contact site;
    - ``user_delay``, ``set_delay``: the user's delay and the shortened one the NetCon runs with (ms);
    - ``source_group``, ``source_cell``: direct delivery from a swapped cell (else -1);
    - ``relay``: direct delivery through the target group's :class:`~neuron_ann.bridge.routes.Relay`,
      its source id (else -1);
    - ``synapse``: index into a hoc List of the user's synapses (-1: not kept, the swap cannot be swapped back).

    It also knows the contact site of every synapse of the swapped cells, connected or not (by
    mechanism and number, ``AMPA_NMDA[12]``, in arrays: 10 bytes per synapse), for NetCons made
    onto them after the swap (:func:`~neuron_ann.bridge.swap.NetCon`).
    """

    _COLUMNS = {"group": np.int32, "cell": np.int64, "site": np.int32, "user_delay": np.float64, "set_delay": np.float64,
                "source_group": np.int32, "source_cell": np.int64, "relay": np.int64, "synapse": np.int64}

    def __init__(self):
        self.groups: list = []  # group index -> TypeGroup
        self._rows = np.full(0, -1, dtype=np.int64)  # NetCon number -> row
        self._synapses = h.List()
        self._synapse_sites = {}  # mechanism -> (group index int16, cell int32, site int32) arrays by synapse number
        self._numbering = {}  # template -> one object of it kept alive (see the module docstring)
        self.n = 0
        self._buffers = {name: np.zeros(0, dtype=dtype) for name, dtype in self._COLUMNS.items()}  # grown by a quarter
        for name, buffer in self._buffers.items():
            setattr(self, name, buffer[:0])  # each column: a view of the first n rows of its buffer

    def add(self, names, groups, cells, sites, user_delays, set_delays, sources, relays, synapses) -> None:
        """Append one row per NetCon name: ``groups`` are TypeGroups, ``sources`` (TypeGroup, cell index)
        or None, ``relays`` a source id or None, ``synapses`` the user's synapse or None."""
        if not names:
            return
        self._hold_numbering("NetCon")
        numbers = np.array([netcon_number(name) for name in names], dtype=np.int64)
        rows = np.arange(self.n, self.n + len(names))
        if numbers.max() >= len(self._rows):
            grown = np.full(max(int(numbers.max()) + 1, 2 * len(self._rows)), -1, dtype=np.int64)
            grown[: len(self._rows)] = self._rows
            self._rows = grown
        self._rows[numbers] = rows
        synapse_rows = []
        for syn in synapses:
            if syn is None:
                synapse_rows.append(-1)
            else:
                synapse_rows.append(int(self._synapses.count()))
                self._synapses.append(syn)
        new = {
            "group": [self._group_index(g) for g in groups],
            "cell": cells,
            "site": sites,
            "user_delay": user_delays,
            "set_delay": set_delays,
            "source_group": [-1 if s is None else self._group_index(s[0]) for s in sources],
            "source_cell": [-1 if s is None else s[1] for s in sources],
            "relay": [-1 if r is None else r for r in relays],
            "synapse": synapse_rows,
        }
        end = self.n + len(names)
        for name, dtype in self._COLUMNS.items():  # in place: NetCons made one by one after the swap add a row each
            buffer = self._buffers[name]
            if end > len(buffer):
                buffer = self._buffers[name] = np.concatenate([buffer[: self.n], np.zeros(_grown(len(buffer), end, len(names)) - self.n, dtype)])
            buffer[self.n : end] = np.asarray(new[name], dtype=dtype)
            setattr(self, name, buffer[:end])
        self.n = end

    def add_synapse_sites(self, group, entries) -> None:
        """Remember the contact site of each synapse of ``group``'s cells: ``entries`` are (synapse,
        cell index in the group, site or -1 where the bundle has no such synapse kind)."""
        by_mechanism = {}
        for syn, cell, site in entries:
            name = syn.hname()
            by_mechanism.setdefault(name[: name.index("[")], []).append((netcon_number(name), cell, site))
        index = self._group_index(group)
        for mechanism, rows in by_mechanism.items():
            self._hold_numbering(mechanism)
            numbers, cells, sites = (np.array(column, dtype=np.int64) for column in zip(*rows))
            columns = self._synapse_sites.get(mechanism) or tuple(np.zeros(0, dtype) for dtype in _SITE_DTYPES)
            if numbers.max() >= len(columns[0]):
                size = int(numbers.max()) + 1  # once per swap, for all its synapses
                columns = tuple(np.concatenate([a, np.full(size - len(a), -1, dtype)]) for a, dtype in zip(columns, _SITE_DTYPES))
            for column, values in zip(columns, (index, cells, sites)):
                column[numbers] = values
            self._synapse_sites[mechanism] = columns

    def _hold_numbering(self, template: str) -> None:
        """Keep one object of ``template`` alive, so that hoc does not number new ones from 0 again."""
        if template not in self._numbering:
            self._numbering[template] = h.NetCon(None, None) if template == "NetCon" else getattr(h, template)()

    def synapse_site(self, synapse):
        """(TypeGroup, cell index, site or -1) of a swapped cell's synapse, or None for any other object."""
        name = synapse.hname()
        if "[" not in name:
            return None
        arrays = self._synapse_sites.get(name[: name.index("[")])
        number = netcon_number(name)
        if arrays is None or number >= len(arrays[0]) or arrays[0][number] < 0:
            return None
        return self.groups[int(arrays[0][number])], int(arrays[1][number]), int(arrays[2][number])

    def _group_index(self, group) -> int:
        for i, g in enumerate(self.groups):
            if g is group:
                return i
        self.groups.append(group)
        return len(self.groups) - 1

    def row(self, name: str) -> int:
        """The row of the NetCon called ``name``, or -1."""
        number = netcon_number(name)
        return int(self._rows[number]) if number < len(self._rows) else -1

    def rows_of(self, numbers) -> np.ndarray:
        """The rows of the NetCons of these numbers (-1 for those not captured)."""
        numbers = np.frombuffer(numbers, dtype=np.int64) if len(numbers) else np.zeros(0, dtype=np.int64)
        rows = np.full(len(numbers), -1, dtype=np.int64)
        known = numbers < len(self._rows)
        rows[known] = self._rows[numbers[known]]
        return rows

    def group_of(self, row: int):
        return self.groups[int(self.group[row])]

    def is_direct(self, row: int) -> bool:
        return bool(self.source_group[row] >= 0 or self.relay[row] >= 0)

    def synapse_of(self, row: int):
        """The user's synapse of a row, or None where the swap kept none."""
        index = int(self.synapse[row])
        return None if index < 0 else self._synapses.o(index)

    def counts(self) -> tuple[int, int]:
        """(NetCons delivered directly in all, those through a relay)."""
        relayed = int(np.count_nonzero(self.relay >= 0))
        return int(np.count_nonzero(self.source_group >= 0)) + relayed, relayed

    def label(self, row: int, nc) -> str:
        """``NetCon[3] (NetStim[0] -> AMPA_NMDA[2] of the swapped BallHH[0])``-style text."""
        synapse = self.synapse_of(row)
        where = synapse.hname() if synapse is not None else f"contact site {int(self.site[row])}"
        return f"{nc.hname()} ({netcon_source(nc)} -> {where} of the swapped {self.group_of(row).cells[int(self.cell[row])]!r})"

    def slots(self, rows: np.ndarray) -> np.ndarray:
        """Input slots (``cell * sites + site`` in the target group's buffer) of ``rows``."""
        sites_per_group = np.array([g.n_sites for g in self.groups], dtype=np.int64)
        return self.cell[rows] * sites_per_group[self.group[rows]] + self.site[rows]

    def release(self) -> None:
        """Drop every row (and the synapses kept)."""
        self.__init__()
