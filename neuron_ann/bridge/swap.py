"""``swap_to_ann`` / ``swap_back`` and the handle that reports what was swapped."""

from __future__ import annotations

import ctypes
import logging

import numpy as np
from neuron import h

from .. import celltools, mechanisms
from ..errors import SwapError
from . import bundles as bundle_registry
from .group import EXCHANGE_EPS_MS, TypeGroup, weak_call
from .inputs import CapturedInputs, delay_alarm, onto_capture, retarget, stamp
from .morphology import inserted_mechanisms, point_process_params, quiet_ions, restore_cell, save_cell
from .plan import (
    CURRENT_SOURCES,
    SHIFT_MARK_MS,
    SOURCE_NONE,
    SOURCE_SECTION,
    NEURON_MINDELAY_SLACK_MS,
    SECTION_READOUTS,
    all_objects,
    check_celsius,
    check_coreneuron,
    check_cross_rank_delay,
    check_cvode,
    check_dt,
    check_input_delay,
    check_thread_delay,
    describe_netcon,
    gc_paused,
    make_plan,
    mpi_ranks,
    netcon_source,
    object_ids,
    scan_netcons,
    segment_index,
    shifted_delay,
    synapse_kind,
    thread_min_delay,
)
from .recordings import after_swap, find_recordings, probing, recorded_now, user_vectors
from .routes import Relay, Routes

__all__ = ["swap_to_ann", "swap_back", "SwapHandle", "active_swap", "NetCon", "gid_connect", "setpost", "event", "set_delay"]

log = logging.getLogger("neuron_ann.bridge")

#: spike peak above the highest source-NetCon threshold, and the cap below the lowest one (mV)
PEAK_ABOVE_THRESHOLD_MV = 30.0
CAP_BELOW_THRESHOLD_MV = 1.0

_active: SwapHandle | None = None


class _SomaSources:
    """Whether each NetCon's source is a swapped cell's soma, known or not yet, in one byte per NetCon
    number (``NetCon[12]`` is number 12; hoc never reuses one): a dict keyed by name would hold
    about 100 bytes per NetCon, 20 KB per L5PC of the bench network."""

    UNKNOWN, NO, YES = 0, 1, 2

    def __init__(self):
        self.flags = bytearray()  # NetCon number -> UNKNOWN, NO or YES

    def set(self, number: int, yes: bool) -> None:
        if number >= len(self.flags):
            self.flags.extend(bytes(max(number + 1, 2 * len(self.flags)) - len(self.flags)))
        self.flags[number] = self.YES if yes else self.NO

    def mark_all(self, numbers: np.ndarray, yes: np.ndarray) -> None:
        """Mark the NetCons of these numbers: from a swapped soma where ``yes``, else not."""
        if not len(numbers):
            return
        if numbers.max() >= len(self.flags):
            self.flags.extend(bytes(max(int(numbers.max()) + 1, 2 * len(self.flags)) - len(self.flags)))
        np.frombuffer(self.flags, dtype=np.uint8)[numbers] = np.where(yes, self.YES, self.NO)


class SwapHandle:
    """What :func:`swap_to_ann` swapped; a context manager that swaps back on exit.

    Attributes:
        groups: one :class:`~neuron_ann.bridge.group.TypeGroup` per bundle.
        cells: every swapped cell.
    """

    def __init__(self, groups, records, inputs):
        self.groups = groups
        self._routes = {}  # source group -> its direct connections as read at the last finitialize
        self._records = records  # per group, per cell: CellRecord
        # the captured NetCons (CapturedInputs), found by NetCon number: the handle must not keep
        # a NetCon alive that the user deletes
        self._inputs = inputs
        self.direct_count, self.relay_count = inputs.counts()
        self._from_soma = _SomaSources()  # whether a NetCon's source is a swapped soma (see _check)
        # what the finitialize check looks NetCons up in; it changes only when cells are added
        self._somas = {}  # soma section -> (TypeGroup, cell index) of every swapped cell
        self._captures = {}  # ANNInput -> TypeGroup
        self._id_parts = ([], [])  # object_ids of the captures and of the lost point processes, in parts
        self._ids = None  # ... joined (see _target_ids)
        # no h.finitialize since the last swap_to_ann: a NetCon taken in now (_add_input) may be
        # delivered directly, its route or relay made at the next finitialize
        self._before_run = True
        self._index(groups, records)
        # checks at the very start of finitialize: NEURON crashes later in finitialize when a
        # NetCon targets a synapse whose section was deleted, so that must be refused first
        self._check_handler = h.FInitializeHandler(3, self._check_at_finitialize)
        self._fih = h.FInitializeHandler(1, self._on_finitialize)
        # after NEURON's t = 0 sample: recordings of the swapped somas' ion variables made since the swap
        self._ion_probes = None  # (group, cell index, segment, variable), made at the first check after cells are added
        self._recording_handler = h.FInitializeHandler(2, self._check_ion_recordings)
        self.swapped = True
        self.direct_delivery = False  # whether swap_to_ann(direct_delivery=True) made it

    def _index(self, groups, records) -> None:
        """Add the somas, captures and removed point processes of the cells of ``groups`` whose ``records``
        are given (the last ones of each group) to what the finitialize check looks NetCons up in."""
        for g, cell_records in zip(groups, records):
            g.on_alarm = weak_call(self._take_up_delays)
            first = g.n_cells - len(cell_records)
            self._somas.update((soma, (g, first + k)) for k, soma in enumerate(g.somas[first:]))
            captures = [cap for (cell_index, _), cap in g.captures.items() if cell_index >= first]
            self._captures.update((cap, g) for cap in captures)
            self._id_parts[0].append(object_ids(captures))  # here, not at the first finitialize: 1.5 us each
            # the point processes of removed sections (kept alive by the records, so their ids stay theirs)
            self._id_parts[1].append(object_ids(pp for record in cell_records for pp, *_ in record.point_processes))
        self._ids = None
        self._ion_probes = None
        self._sourceless_checked = False  # the next finitialize check warns of captured NetCons without a source

    def _target_ids(self) -> tuple:
        """hoc object_ids of the input captures and of the point processes of removed sections (what
        the finitialize check compares NetCon targets with)."""
        if self._ids is None:
            self._ids = tuple(np.concatenate(parts) if parts else np.zeros(0) for parts in self._id_parts)
            self._id_parts = tuple([ids] for ids in self._ids)
        return self._ids

    def _add(self, groups, records) -> None:
        """Take in the cells of a later ``swap_to_ann`` call: ``groups`` are this handle's groups that
        got cells (by :meth:`TypeGroup.add_cells`) and new ones, ``records`` their new cells' records
        (their captured NetCons are already in ``self._inputs``)."""
        for g, cell_records in zip(groups, records):
            if g in self.groups:
                self._records[self.groups.index(g)].extend(cell_records)
            else:
                self.groups.append(g)
                self._records.append(cell_records)
        self.direct_count, self.relay_count = self._inputs.counts()
        self._index(groups, records)

    # --- reporting --------------------------------------------------------------------
    @property
    def cells(self) -> list:
        return [c for g in self.groups for c in g.cells]

    def by_type(self) -> dict:
        """Cell type name -> swapped cells of that type."""
        return {g.type_name: list(g.cells) for g in self.groups}

    def spike_times(self, cell=None):
        """Spike times the surrogates emitted in the last run: a dict cell -> array, or one cell's array."""
        out = {}
        for g in self.groups:
            for c, times in zip(g.cells, g.spike_times()):
                out[c] = times
        if cell is None:
            return out
        for c, times in out.items():
            if c is cell:
                return times
        raise KeyError(f"{cell!r} was not swapped by this handle.")

    def user_delay(self, nc) -> float:
        """The delay (ms) the user gave ``nc``.

        While swapped, every NetCon onto a swapped cell's synapse runs with a delay one
        exchange step shorter than the user's (so that the surrogate sees its events at the
        start of the interval they arrive in), and ``nc.delay`` reads that shortened value.
        A delay the user sets while swapped is reported here at once and takes effect at
        the next ``h.finitialize`` (at once with :func:`set_delay`). For any other NetCon this
        is ``nc.delay``.
        """
        row = self._inputs.row(nc.hname()) if self.swapped else -1
        now = float(nc.delay)
        if row < 0 or now != self._inputs.set_delay[row]:
            return now
        return float(self._inputs.user_delay[row])

    def readout_ref(self, cell, name: str):
        """A pointer to a readout's value for ``h.Vector().record(...)`` (any readout, fluorescence included)."""
        for g in self.groups:
            for index, c in enumerate(g.cells):
                if c is cell:
                    if (index, name) not in g.readouts:
                        raise KeyError(f"{cell!r} has no readout {name!r}; its readouts: {', '.join(g.readout_names) or 'none'}")
                    return g.readout_ref(index, name)
        raise KeyError(f"{cell!r} was not swapped by this handle.")

    def stats(self) -> dict:
        """Exchange steps, ONNX Runtime seconds, the bridge's own seconds and the bytes of numbers kept
        per cell (``TypeGroup.state_bytes``), per cell type."""
        return {
            g.type_name: {
                "cells": g.n_cells,
                "steps": g.steps,
                "ort_seconds": g.model.ort_seconds,
                "bridge_seconds": g.bridge_seconds,
                "model_load_seconds": g.model.load_seconds,
                "providers": list(g.model.providers),
                "direct_connections": g.routes.count if g.routes is not None else 0,
                "relayed_connections": g.relay.count if g.relay is not None else 0,
                "relay_collectors": sum(1 for _, nc in g.relay.collectors.values() if nc.active()) if g.relay is not None else 0,
                "state_bytes_per_cell": g.state_bytes() / g.n_cells,
            }
            for g in self.groups
        }

    def report(self) -> str:
        lines = [f"neuron_ann swapped {len(self.cells)} cells:"]
        for g in self.groups:
            lines.append(
                f"  {g.type_name}: {g.n_cells} cells, bundle '{g.bundle.path}', dt {g.dt_ms:g} ms, "
                f"{len(g.captures)} input captures, {len(g.current_probes)} current sources, providers {g.model.providers}"
            )
        if self.direct_count:
            lines.append(f"  {self.direct_count - self.relay_count} NetCons between swapped cells and {self.relay_count} from other "
                         "sources delivered directly (read at each h.finitialize)")
        return "\n".join(lines)

    def __repr__(self):
        state = "active" if self.swapped else "swapped back"
        counts = ", ".join(f"{g.type_name} x{g.n_cells}" for g in self.groups)
        return f"<SwapHandle {state}: {counts}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.swapped:
            self.swap_back()
        return False

    def swap_back(self) -> None:
        """Restore the detailed cells (see :func:`swap_back`)."""
        if not self.swapped:
            return
        global _active
        if not all(record.restorable for records in self._records for record in records):
            raise SwapError("cannot swap back: this swap was made with swap_to_ann(restorable=False), which did not record the "
                            "deleted sections; rebuild the detailed cells instead, or swap with restorable=True. Nothing was changed.")
        for g in self.groups:
            for cell in g.cells:
                if celltools.is_hoc_cell(cell):
                    raise SwapError(
                        f"cannot swap {cell.hname()} back: its sections belong to a hoc template and were deleted; "
                        "rebuild the cell (create a new instance) instead. Nothing was changed."
                    )
        for g, records in zip(self.groups, self._records):
            g.stop()
            g.readouts.clear()
            for cell, soma, record, kept in zip(g.cells, g.somas, records, g.kept_sections):
                for sec in kept:
                    h.delete_section(sec=sec)
                restore_cell(cell, record, soma)
            g.clamps.clear()
            g.current_probes.clear()
        inputs = self._inputs
        for nc in all_objects("NetCon"):
            row = inputs.row(nc.hname())
            if row < 0:
                continue
            retarget(nc, inputs.synapse_of(row))
            if not nc.valid():
                continue  # its source was freed: it delivers nothing, and NEURON refuses to read its delay
            if inputs.is_direct(row):
                nc.active(True)  # direct: it was active at the swap; having no target made it inactive
            if float(nc.delay) == inputs.set_delay[row]:
                nc.delay = float(inputs.user_delay[row])  # else the user set a delay while swapped: it stays
        self._captures = {}  # before release: the handle must not keep an ANNInput alive
        for g in self.groups:
            g.release()
        inputs.release()
        self._fih = None
        self._check_handler = None
        self._recording_handler = None
        self.swapped = False
        if _active is self:
            _active = None

    # --- run loop -----------------------------------------------------------------------
    def _check_at_finitialize(self) -> None:
        if not self.swapped:
            return
        with gc_paused():
            self._check()

    def _check(self) -> None:
        check_cvode()
        check_coreneuron()
        for g in self.groups:
            check_dt(g.bundle)
            check_celsius(g.bundle)
            known = set(g.current_sources)
            for cell, soma, kept in zip(g.cells, g.somas, g.kept_sections):
                for seg in (seg for sec in (soma, *kept) for seg in sec):
                    for pp in seg.point_processes():
                        name = pp.hname().split("[")[0]
                        if not name.startswith("ANN") and pp not in known:
                            raise SwapError(
                                f"{pp.hname()} was placed on {seg.sec.name()} of the swapped {cell!r} after swap_to_ann(), "
                                "so the surrogate does not see it; create it before swap_to_ann() (or swap_back() first)."
                            )
        somas, captures = self._somas, self._captures
        mpi = mpi_ranks() > 1
        inputs = self._inputs
        # one pass over every NetCon in hoc (plan.scan_netcons); what the captured NetCons need is
        # then looked up for all at once
        scan = scan_netcons()
        numbers, targets, safe = scan.numbers, scan.targets, scan.delays >= 0
        # whether a NetCon's source is a swapped soma: a NetCon's source never changes, so only
        # NetCons new since the last check need preseg() (the swap marks those of the cells it adds)
        from_soma = self._from_soma
        flag = np.full(len(numbers), _SomaSources.UNKNOWN, dtype=np.uint8)
        known = numbers < len(from_soma.flags)
        flag[known] = np.frombuffer(from_soma.flags, dtype=np.uint8)[numbers[known]]
        unknown = np.flatnonzero(flag == _SomaSources.UNKNOWN)
        from_soma.mark_all(numbers[unknown], np.zeros(len(unknown), dtype=bool))
        flag[unknown] = _SomaSources.NO
        sectioned = unknown[scan.sources[unknown] == SOURCE_SECTION]  # only these can come from a soma
        for i, nc in zip(sectioned.tolist(), scan.objects(sectioned)):
            seg = nc.preseg()
            if seg is not None and seg.sec in somas:
                from_soma.set(int(numbers[i]), True)
                flag[i] = _SomaSources.YES
        thresholds = scan.thresholds[(flag == _SomaSources.YES) & safe].tolist()
        capture_ids, lost_ids = self._target_ids()
        lost = np.flatnonzero(np.isin(targets, lost_ids))
        if len(lost):
            nc = scan.netcons.o(int(lost[0]))
            raise SwapError(
                f"{describe_netcon(nc)} targets {nc.syn().hname()}, a synapse on a section the swap removed; "
                "make NetCons before swap_to_ann() (they are then captured), delete this NetCon, or swap_back() first."
            )
        captured = np.isin(targets, capture_ids)
        if not self._sourceless_checked:
            self._sourceless_checked = True
            self._tell_sourceless(scan, np.flatnonzero(captured & (scan.sources == SOURCE_NONE)), safe)
        # captured NetCons whose source still exists (a freed source delivers nothing)
        positions, rows, delays = self._rows_in(scan, captured & safe)
        missing = np.flatnonzero(rows < 0).tolist()  # made after the swap onto a capture
        floor = thread_min_delay()  # 0 on one thread
        for j in missing[:1]:
            nc = scan.netcons.o(int(positions[j]))
            raise SwapError(
                f"{describe_netcon(nc)} was made after swap_to_ann() onto {nc.syn().hname()}, the bridge's input capture "
                f"for a swapped {captures[nc.syn()].type_name} (while swapped, nc.syn() of a captured NetCon returns the "
                "capture); make it onto the synapse itself with neuron_ann.NetCon (or neuron_ann.gid_connect), "
                "or swap_back() first."
            )
        self._sync_delays(scan, positions, rows, delays, mpi, floor)
        # direct delivery: the NetCons without a target that are captured rows, their delays and weights as read now
        direct_rows, direct_weights = np.zeros(0, dtype=np.int64), np.zeros(0)
        if self.direct_count:
            positions, rows, delays = self._rows_in(scan, (targets == 0) & safe)
            direct = rows >= 0
            direct[direct] = (inputs.source_group[rows[direct]] >= 0) | (inputs.relay[rows[direct]] >= 0)
            positions, rows, delays = positions[direct], rows[direct], delays[direct]
            self._sync_delays(scan, positions, rows, delays, mpi, floor)
            direct_rows, direct_weights = rows, scan.weights[positions]
        self._thresholds = thresholds
        del scan, targets, numbers, safe, flag  # before the relays' arrays
        rows, weights = direct_rows, direct_weights
        from_cells = inputs.source_group[rows] >= 0
        self._routes = self._make_routes(rows[from_cells], weights[from_cells])
        relayed, relayed_weights = rows[~from_cells], weights[~from_cells]
        for g in self.groups:  # after the loop over NetCons: this makes collector NetCons
            if g.relay is not None:
                mine = inputs.group[relayed] == inputs.groups.index(g) if g in inputs.groups else np.zeros(len(relayed), bool)
                sel = relayed[mine]
                g.relay.build(inputs.relay[sel], inputs.set_delay[sel], inputs.slots(sel), relayed_weights[mine])

    def _own_vector_names(self) -> set:
        """hoc names of the groups' buffer Vectors, which the recording probes leave out."""
        return {vec.hname() for g in self.groups for vec in g.vectors()}

    def _rows_in(self, scan, mask: np.ndarray) -> tuple:
        """(positions in ``scan``, rows of the captured NetCons (-1: not captured), delays as read) of the
        NetCons where ``mask``."""
        positions = np.flatnonzero(mask)
        return positions, self._inputs.rows_of(scan.numbers[positions]), scan.delays[positions]

    def _sync_delays(self, scan, positions, rows, delays, mpi: bool, floor: float) -> None:
        """The finitialize check's :meth:`_sync_delay` of the NetCons at ``positions`` (captured ``rows``,
        ``delays`` as read): those whose delay changed; on several threads also those the thread floor
        (h.dt may have changed since the swap) refuses; under MPI all (their ranks may have changed)."""
        changed = delays != self._inputs.set_delay[rows]
        if floor:  # several threads: NEURON needs every delay at least 2 h.dt
            changed |= self._inputs.set_delay[rows] < floor - NEURON_MINDELAY_SLACK_MS
        for j in (range(len(rows)) if mpi else np.flatnonzero(changed).tolist()):
            self._sync_delay(scan.netcons.o(int(positions[j])), int(rows[j]), mpi, float(delays[j]), floor)

    def _tell_sourceless(self, scan, positions: np.ndarray, safe: np.ndarray) -> None:
        """Warn about the captured NetCons at ``positions`` of ``scan`` (no source on this rank) that
        have no source at all (made with None, or theirs freed; not a gid of another rank): only
        ``nc.event`` drives them, and NEURON's lands a step late through a capture."""
        rows = self._inputs.rows_of(scan.numbers[positions])
        keep = rows >= 0
        keep[keep] = [not safe[i] or scan.netcons.o(int(i)).srcgid() < 0 for i in positions[keep].tolist()]
        positions, rows = positions[keep], rows[keep]
        if not len(rows):
            return
        nc, row = scan.netcons.o(int(positions[0])), int(rows[0])
        g = self._inputs.group_of(row)
        log.warning(
            "neuron_ann: %d NetCon(s) onto swapped cells have no source (%s), so only nc.event drives them: NEURON's "
            "nc.event(t) on one counts one exchange step (%g ms) late, unless t is an exchange time; "
            "neuron_ann.bridge.event(nc, t) (hoc: ann_event) counts it at t.",
            len(rows), self._inputs.label(row, nc), g.dt_ms,
        )

    # --- NetCons made after the swap ------------------------------------------------------
    def _input_target(self, target):
        """(TypeGroup, cell index, site) where ``target`` is a synapse of a cell this swap holds, else None."""
        try:
            if target is None or target.has_loc():
                return None  # not a synapse the swap moved off its cell
        except (AttributeError, TypeError):
            return None  # not a point process: NEURON's NetCon will say what is wrong with it
        found = self._inputs.synapse_site(target)
        if found is None:
            return None
        g, cell, site = found
        if site < 0:
            _, reason = synapse_kind(target, g.bundle)
            raise SwapError(
                f"synapse {target.hname()} of the swapped {g.cells[cell]!r} cannot take a NetCon: {reason}. Use a synapse "
                "of a kind the surrogate was trained on, or swap_back() first."
            )
        return g, cell, site

    def _add_input(self, nc, synapse, g, cell: int, site: int, delay_given: bool = True) -> None:
        """Take in ``nc`` (made onto the input capture of ``site`` of cell ``cell`` of ``g``) for ``synapse``
        as a NetCon made before the swap would have been taken in: delay checked and shortened,
        swap_back retargeting it to ``synapse``. A refused NetCon is left without a target. A delay
        not given (``delay_given`` False: NEURON's default, which the user may set next) that the
        check refuses is left to the next h.finitialize's check instead."""
        user = float(nc.delay)
        try:
            check_input_delay(nc, user, g.dt_ms, g.type_name)
            nc.delay = set_delay = shifted_delay(user, g.dt_ms)
        except SwapError:
            if delay_given:
                retarget(nc, None)  # a NetCon onto a capture without a row would be refused again at h.finitialize
                raise
            set_delay = float("nan")  # no delay the bridge set: h.finitialize's check takes up (or refuses) the delay then
        capture = nc.syn()
        source = relay = None
        # as the swap takes in a NetCon (see swap_to_ann); after an h.finitialize, through its capture:
        # routes and relays are made only at finitialize, and a run may go on without one
        if self.direct_delivery and self._before_run and nc.active():
            seg = nc.preseg()
            source = self._somas.get(seg.sec) if seg is not None else None
            if source is not None and source[0].dt_ms != g.dt_ms:
                source = None
            key = _relay_source(nc) if source is None else None
            if key is not None:
                if g.relay is None:
                    g.relay = Relay(g.dt_ms)
                relay = g.relay.source_id(key)
            if source is not None or relay is not None:
                retarget(nc, None)  # delivered by the runtime, its route or relay made at the next h.finitialize
        if source is None and relay is None and not np.isnan(set_delay):  # through NEURON's queue, its delay set
            stamp(nc)
        restorable = self._records[self.groups.index(g)][cell].restorable
        self._inputs.add([nc.hname()], [g], [cell], [site], [user], [set_delay], [source], [relay],
                         [synapse if restorable else None])
        if capture not in self._captures:
            self._captures[capture] = g
            self._id_parts[0].append(object_ids([capture]))
            self._ids = None
        self.direct_count += source is not None or relay is not None  # as inputs.counts() would say, without its pass over every row
        self.relay_count += relay is not None

    def _make_routes(self, rows: np.ndarray, weights: np.ndarray) -> dict:
        """Source group -> :class:`Routes` of the active direct connections between swapped cells
        (``rows`` of ``self._inputs`` and their weights, in NetCon order)."""
        inputs = self._inputs
        routes = {}
        source_groups = inputs.source_group[rows]
        for source_index in np.unique(source_groups).tolist():
            mine = source_groups == source_index
            sel = rows[mine]
            targets, target = np.unique(inputs.group[sel], return_inverse=True)
            source_group = inputs.groups[source_index]
            routes[source_group] = Routes(
                source_group.n_cells, source_group.dt_ms, [inputs.groups[t] for t in targets.tolist()],
                source=inputs.source_cell[sel], target=target.astype(np.int64),
                slot=inputs.slots(sel), weight=weights[mine], delay=inputs.set_delay[sel], eps_ms=EXCHANGE_EPS_MS,
            )
        return routes

    def _sync_delay(self, nc, row: int, mpi: bool, now: float, floor: float) -> None:
        """Take up a delay the user set while swapped (``now``, read by the caller) on the NetCon of
        ``row``: shorten it by the exchange step (refusing one too short); an unchanged delay is
        checked again against NEURON's threads (``floor``: plan.thread_min_delay) and under MPI
        its spike exchange."""
        inputs = self._inputs
        g = inputs.group_of(row)
        if now != inputs.set_delay[row]:
            check_input_delay(nc, now, g.dt_ms, g.type_name, label=lambda: inputs.label(row, nc), floor=floor)
            nc.delay = shifted_delay(now, g.dt_ms)
            inputs.user_delay[row], inputs.set_delay[row] = now, float(nc.delay)
            if nc.syn() is not None:  # through NEURON's queue (direct delivery: no target)
                stamp(nc)
            return
        # unchanged, but h.dt, the ranks or the threads may have changed since the swap
        user, shifted = float(inputs.user_delay[row]), float(inputs.set_delay[row])
        check_thread_delay(nc, user, shifted, g.dt_ms, g.type_name, label=lambda: inputs.label(row, nc), floor=floor)
        if mpi:
            check_cross_rank_delay(nc, user, shifted, g.dt_ms, g.type_name, label=lambda: inputs.label(row, nc))

    def _take_up_delays(self) -> None:
        """At an exchange after mod/ann_input.mod's alarm: an event came through a captured NetCon whose
        delay is no longer the one the bridge set, so the user set it during the run (plain ``nc.delay =
        d``; NEURON tells nobody). Take up every such delay now, as ``h.finitialize``'s check would (a
        delay too short is refused, and refused again at each exchange until it is mended), and warn:
        that NetCon's events sent between the change and now arrived one exchange step late."""
        inputs = self._inputs
        scan = scan_netcons()
        capture_ids, _ = self._target_ids()
        positions, rows, delays = self._rows_in(scan, np.isin(scan.targets, capture_ids) & (scan.delays >= 0))
        known = rows >= 0
        positions, rows, delays = positions[known], rows[known], delays[known]
        mpi, floor = mpi_ranks() > 1, thread_min_delay()
        taken = []
        for j in np.flatnonzero(delays != inputs.set_delay[rows]).tolist():
            nc, row = scan.netcons.o(int(positions[j])), int(rows[j])
            self._sync_delay(nc, row, mpi, float(delays[j]), floor)
            taken.append((inputs.label(row, nc), float(delays[j]), inputs.group_of(row).dt_ms))
        delay_alarm()[0] = 0.0
        if taken:
            listed = "; ".join(f"{label} to {delay:g} ms" for label, delay, _ in taken[:3])
            more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
            log.warning(
                "neuron_ann: a delay was set during the run on a NetCon onto a swapped cell (%s%s), seen at t = %g ms "
                "and taken up now; its events sent between the change and now arrived one exchange step (%g ms) late. "
                "neuron_ann.bridge.set_delay(nc, d) (hoc: ann_set_delay) takes a delay up at once.",
                listed, more, float(h.t), taken[0][2],
            )

    def _check_ion_recordings(self) -> None:
        """At each ``h.finitialize``, after NEURON's t = 0 sample: refuse a Vector recording of a
        swapped soma's (or kept readout section's) ion variable that no readout writes. The swap
        refuses or serves those made before it (``_check_recordings_after_swap``); one made since
        would record a constant or 0. Every-step recordings only (``Vector.record(ref)``): one with
        a ``Dt`` or a time Vector takes its t = 0 sample again only at the first step after
        ``h.frecord_init()``, not at once."""
        if not self.swapped or probing():
            return
        vectors = user_vectors(self._own_vector_names())
        if not vectors:
            return  # nothing records anything (the bench network, say): nothing to look for
        if self._ion_probes is None:
            self._ion_probes = [(g, i, seg, variable) for g in self.groups for i in range(g.n_cells)
                                for seg, variable in _ion_variables(g, i, [g.somas[i], *g.kept_sections[i]])]
        if not self._ion_probes:
            return
        with gc_paused():
            found = recorded_now([(seg, variable) for _, _, seg, variable in self._ion_probes], vectors)
        if not found:
            return
        vec, i = found[0]
        g, cell_index, seg, variable = self._ion_probes[i]
        readouts = _readout_places(g.bundle)
        raise SwapError(
            f"{vec.hname()} records {variable} of {seg.sec.name()}({seg.x:g}) of the swapped {g.cells[cell_index]!r}, a variable "
            f"the swap keeps but the {g.type_name} surrogate does not compute (its readouts: {', '.join(readouts) or 'none'}); "
            f"the recording was made after swap_to_ann(), so it would record a constant or 0; {len(found)} such recording(s) "
            "in all. Record the soma's v or a readout instead (h.Vector().record(handle.readout_ref(cell, name))), or make "
            "the recording before swap_to_ann() (a soma readout of that variable is then written into it), or swap_back() first."
        )

    def _on_finitialize(self) -> None:
        self._before_run = False
        delay_alarm()[0] = 0.0  # the check has just taken up every delay
        if not self.swapped:
            return
        with gc_paused():
            self._initialize_groups()
        # the check's transients for every NetCon: 5000 bench L5PC kept about 100 MB more without it
        _return_freed_memory()

    def _initialize_groups(self) -> None:
        thresholds = self._thresholds
        vpeak = (max(thresholds) if thresholds else 10.0) + PEAK_ABOVE_THRESHOLD_MV
        vcap = (min(thresholds) if thresholds else 10.0) - CAP_BELOW_THRESHOLD_MV
        for g in self.groups:  # all first: a group's step 0 may schedule direct deliveries into another
            g.pending.clear()
            g.routes = self._routes.get(g)
        for g in self.groups:
            g.initialize(vpeak, vcap)


def _park_synapses(soma, kept, record, parking) -> None:
    """Move the synapses of the soma and of kept readout sections off them.

    Their NetCons now feed ANNInput captures. They are located on a scratch section that is
    deleted afterwards, as the synapses of deleted sections are, so NEURON stops integrating
    them; swap_back puts them back (kept sections' point processes are already in
    ``record``, saved with the section).
    """
    for sec, save in [(soma, True)] + [(k, False) for k in kept]:
        for seg in sec:
            for pp in seg.point_processes():
                name = pp.hname().split("[")[0]
                if name in CURRENT_SOURCES or name.startswith("ANN"):
                    continue
                if save:
                    record.point_processes.append((pp, celltools.relative_name(sec), seg.x, point_process_params(pp)))
                pp.loc(parking(0.5))


def active_swap() -> SwapHandle | None:
    """The handle of the swap in effect, or None."""
    return _active if _active is not None and _active.swapped else None


def _probe_recordings(plan, handle=None) -> list:
    """Refuse when a Vector records the voltage of a segment the swap deletes or leaves
    undriven, and delete every readout section whose readout variables nobody records
    (its values stay available through ``SwapHandle.readout_ref``): a kept section costs
    NEURON work every step. Returns the recording Vectors, for :func:`_check_recordings_after_swap`."""
    allowed = {}  # section -> indices of the segments a readout drives
    probes, wanted = [], []  # wanted: (segment, variable) of the readouts of kept sections
    for gp in plan.groups:
        outs = [o for o in gp.bundle.meta["outputs"] if o["kind"] == "readout" and o.get("variable") in SECTION_READOUTS]
        for cp in gp.cells:
            for sec in cp.kept:
                for o in outs:
                    if o["section"] == celltools.relative_name(sec):
                        seg = sec(o["x"])
                        wanted.append((seg, o["variable"]))
                        if o["variable"] == "v":
                            # the index of the segment holding x
                            allowed.setdefault(sec, set()).add(segment_index(sec, o["x"]))
            for sec in cp.kept + cp.doomed:
                driven = allowed.get(sec, ())
                probes += [(seg, "v") for i, seg in enumerate(sec) if i not in driven]
    everything = probes + [(seg, var) for seg, var in wanted if hasattr(seg, f"_ref_{var}")]
    own = handle._own_vector_names() if handle is not None else frozenset()
    found, recorders = find_recordings(everything, exclude=own)
    lost = [(vec, everything[i][0]) for vec, i in found if i < len(probes)]
    if lost:
        vec, seg = lost[0]
        gp = next(g for g in plan.groups for cp in g.cells if seg.sec in cp.doomed or seg.sec in cp.kept)
        readouts = _readout_places(gp.bundle)
        raise SwapError(
            f"{vec.hname()} records the voltage of {seg.sec.name()}({seg.x:g}), which the swap removes: the "
            f"{gp.type_name} surrogate has no readout there (its readouts: {', '.join(readouts) or 'none'}), so the "
            f"recording would silently stop. Record the soma or a readout instead, or leave this cell detailed "
            f"(cells=[...]). {len(lost)} such recording(s) in all."
        )
    recorded = {everything[i][0].sec for _, i in found if i >= len(probes)}
    for gp in plan.groups:
        for cp in gp.cells:
            if any(sec not in recorded for sec in cp.kept):
                cp.doomed = [sec for sec in cp.kept if sec not in recorded] + cp.doomed
                cp.kept = [sec for sec in cp.kept if sec in recorded]
    return recorders


def _readout_places(bundle) -> list:
    """``cai at apic[46](0.9)``-style text for each readout of ``bundle``, for error messages."""
    return [f"{o['variable']} at {o['section']}({o['x']:g})" for o in bundle.meta["outputs"] if o["kind"] == "readout"]


def _ion_variables(g, cell_index: int, sections) -> list:
    """(segment, variable) of every ion variable (``ina``, ``nai``, ``nao``, ``ena``, and so for
    each ion) of a swapped cell's soma and kept readout sections that no readout writes: the
    swap keeps them (NEURON cannot remove an ion from a section), but nothing computes them
    any more."""
    served = set()
    for name in g.readout_names:
        pp, seg, variable = g.readouts[(cell_index, name)]
        if pp is not None and variable not in (None, "v"):
            served.add((seg.sec, segment_index(seg.sec, seg.x), variable))
    found = []
    for sec in sections:
        for ion in (name[: -len("_ion")] for name in inserted_mechanisms(sec)[1]):
            for variable in (f"i{ion}", f"{ion}i", f"{ion}o", f"e{ion}"):
                found += [(seg, variable) for i, seg in enumerate(sec)
                          if (sec, i, variable) not in served and hasattr(seg, f"_ref_{variable}")]
    return found


def _check_recordings_after_swap(handle, recorders, ion_probes) -> None:
    """After the swap: refuse (swapping back where possible) when a Vector that recorded before
    the swap no longer does, because the variable it recorded was removed, or records an ion
    variable that the swap kept but nothing computes; a recording of a soma readout's variable
    (``soma(0.5)._ref_ina`` with an ``ina`` readout) gets the readout's values."""
    stopped, found = after_swap(recorders, [(seg, variable) for _, _, seg, variable in ion_probes])
    unserved = []
    for vec, i in found:
        g, cell_index, seg, variable = ion_probes[i]
        if seg.sec != g.somas[cell_index] or not g.bind_soma_readout(cell_index, seg, variable):
            unserved.append((vec, g, seg, variable))
    if stopped:
        message = (
            f"{stopped[0].hname()} recorded a variable the swap removes (a channel, ion or current of a deleted section, "
            f"a channel of a swapped soma, or a synapse of a swapped cell), so NEURON would silently stop it; "
            f"{len(stopped)} such recording(s) in all. "
        )
        after = "Swapped back; that Vector no longer records (its variable was rebuilt), so make the recording again"
    elif unserved:
        vec, g, seg, variable = unserved[0]
        readouts = _readout_places(g.bundle)
        message = (
            f"{vec.hname()} records {variable} of {seg.sec.name()}({seg.x:g}), which the swap keeps but the {g.type_name} "
            f"surrogate does not compute (its readouts: {', '.join(readouts) or 'none'}), so it would record a constant "
            f"or 0; {len(unserved)} such recording(s) in all. "
        )
        after = "Swapped back (that Vector records as before); record instead"
    else:
        return
    if any(celltools.is_hoc_cell(cell) for g in handle.groups for cell in g.cells):
        raise SwapError(message + "The swap stays in effect (hoc template cells cannot be swapped back): rebuild the "
                        "cells, then record the soma's v or a readout (handle.readout_ref), or leave those cells detailed.")
    handle.swap_back()
    raise SwapError(message + after + ": the soma's v or a readout of the bundle (handle.readout_ref after the swap; "
                    "`neuron-ann train --readouts` trains one), or leave this cell detailed (cells=[...]).")


def swap_to_ann(cells=None, bundles=None, providers=None, *, threads: int | None = None, check_recordings: bool = True,
                restorable: bool = True, direct_delivery: bool = False) -> SwapHandle:
    """Replace detailed cells by their surrogates.

    Called while a swap is in effect, it adds the cells to that swap and returns its handle:
    one handle and, per cell type, one batched step over all its cells, as if they had been
    swapped together. So a network too large to build in full can be built and swapped in
    batches (NEURON reuses the memory of a batch's deleted sections for the next). NEURON
    refuses an ``h.NetCon`` made onto a swapped cell's synapse ("point process not located in
    a section"): make NetCons that may target cells of earlier batches with :func:`NetCon`
    (or :func:`gid_connect`), which take them in. NetCons from a swapped cell's soma can be
    made at any time. Call ``h.finitialize`` after the last batch. Each call uses the
    ``direct_delivery`` setting of the first. Under MPI every rank makes the same number of calls (each initializes the
    model, collectively).

    Args:
        cells: a cell or a list of cells to swap (default: every cell in the model whose type
            has a bundle and that is not swapped yet).
        bundles: bundle paths or :class:`~neuron_ann.bundle.Bundle` objects; they win over
            registered and shipped bundles.
        providers: ONNX Runtime provider name(s) overriding the automatic choice (CUDA when
            a session starts on it, else CPU).
        threads: ONNX Runtime intra-op threads.
        check_recordings: look for Vector recordings of voltages the swap removes and refuse
            them, and keep a readout section (its v or cai driven by the surrogate) only where
            a Vector already records that readout variable; the others are deleted too and
            their readouts read with :meth:`SwapHandle.readout_ref`. After the swap, refuse
            (swapping back) recordings of variables it removed, and of the swapped somas'
            ion variables, which it keeps but nothing computes, unless the bundle has that
            readout at the soma (then written into the variable). NEURON does not list
            recording sources, so these probes initialize the model (as ``h.finitialize``
            does) and restore every Vector's contents. False skips them and keeps every
            readout section. (Every ``h.finitialize`` while swapped refuses every-step
            recordings of those ion variables made since the swap, whatever this says.)
        restorable: False skips recording the sections the swap deletes (their geometry and
            every mechanism value), which is about half of a swap's time for an L5PC; then
            :func:`swap_back` refuses, and the detailed cells come back only by rebuilding them.
        direct_delivery: deliver the events of NetCons onto swapped cells' synapses in the
            runtime, not through NEURON's event queue: those from a swapped cell (bundles with
            the same exchange step) cost NEURON nothing; those from any other source on this
            rank (NetStims, detailed cells) cost one queued event per source spike (a collector
            per source, see :class:`~neuron_ann.bridge.routes.Relay`) instead of one per
            NetCon. Spike times and inputs are the same as without it; the differences: the
            weight and delay of those NetCons are read at each ``h.finitialize``, so a change
            made between two ``continuerun`` calls takes effect only at the next
            ``h.finitialize``; and while swapped they have no NEURON target, so NEURON reports
            them inactive and ignores ``active()`` on them (set the weight to 0 to cut one;
            NetCons inactive at the swap stay with NEURON), and ``nc.event(t)`` on them
            delivers nothing (NetCons without a source, made for ``nc.event``, stay with
            NEURON). See :mod:`neuron_ann.bridge.routes`.

    Returns:
        A :class:`SwapHandle`; use it as a context manager to swap back on exit.

    Raises:
        SwapError: anything the surrogate cannot honour, before anything is changed.
    """
    global _active
    mechanisms.load()
    handle = active_swap()
    if handle is not None and direct_delivery != handle.direct_delivery:
        raise SwapError(
            f"a swap made with direct_delivery={handle.direct_delivery} is in effect, and this call adds cells to it "
            f"with direct_delivery={direct_delivery}; add cells with the setting of the swap in effect."
        )
    candidates = bundle_registry.resolve_bundles(bundles)
    if cells is None:
        swapped = {celltools.cell_key(c) for c in handle.cells} if handle is not None else set()
        cells = [c for c in celltools.cells_in_model()
                 if celltools.cell_key(c) not in swapped and bundle_registry.bundle_for(celltools.cell_type_name(c), candidates)]
    else:
        try:
            cells = list(cells)
        except TypeError:  # one cell, not a list of them
            cells = [cells]
    plan = make_plan(cells, candidates, celltools.cell_type_name, bundle_registry.bundle_for,
                     swapped_somas=handle._somas if handle is not None else ())
    for group in plan.groups:
        check_dt(group.bundle)
    recorders = _probe_recordings(plan, handle) if check_recordings else []

    # nothing has changed up to here; from now on the swap is applied
    groups, records = [], []
    # per captured NetCon: name, target group, cell, site, user delay, set delay, source, relay id, synapse
    captured = ([], [], [], [], [], [], [], [], [])
    plan_sources = []  # (position in captured, source group index, source cell index) in the plan: completed once every group exists
    firsts = []  # per plan group: the index its first cell gets in its TypeGroup
    ion_probes = []  # (group, cell index, segment, variable): the ion variables the swap keeps but nothing computes
    for gp in plan.groups:
        g = next((old for old in handle.groups if _same_bundle(old.bundle, gp.bundle)), None) if handle is not None else None
        if g is None:
            g, first = TypeGroup(gp, providers=providers, threads=threads), 0
        else:
            first = g.add_cells(gp.cells)  # the plan's cell i is the group's cell first + i
        firsts.append(first)
        cell_records = []
        for cp in gp.cells:
            cell_records.append(save_cell(cp.cell, cp.kept + cp.doomed, cp.soma, sections=restorable))
        for nc, index, site, synapse in gp.inputs:
            # format 2: the surrogate sees at t_k the events that arrive in [t_k, t_k+1), so
            # they must reach the capture one exchange step early
            user = float(nc.delay)
            name = nc.hname()
            source = relay = None
            swapped_source = None
            if direct_delivery and nc.active():
                source = _direct_source(plan.from_soma.get(name), plan, gp)
                if source is None and handle is not None:  # from a cell of an earlier batch?
                    seg = nc.preseg()
                    swapped_source = handle._somas.get(seg.sec) if seg is not None else None
                    if swapped_source is not None and swapped_source[0].dt_ms != g.dt_ms:
                        swapped_source = None
                key = _relay_source(nc) if source is None and swapped_source is None else None
                if key is not None:
                    if g.relay is None:
                        g.relay = Relay(g.dt_ms)
                    relay = g.relay.source_id(key)
            nc.delay = shifted_delay(user, g.dt_ms)
            if source is None and swapped_source is None and relay is None:
                onto_capture(nc, g.capture(first + index, site))
            else:
                retarget(nc, None)
            if source is not None:
                plan_sources.append((len(captured[0]), *source))
            row = (name, g, first + index, site, user, float(nc.delay), swapped_source, relay, synapse if restorable else None)
            for column, value in zip(captured, row):
                column.append(value)
        for index, source in gp.currents:
            g.add_current_probe(first + index, source)
        parking = h.Section(name="neuron_ann_parking")
        for index, cp in enumerate(gp.cells):
            _park_synapses(cp.soma, cp.kept, cell_records[index], parking)
            for sec in cp.doomed:
                h.delete_section(sec=sec)
            for mech in cell_records[index].soma_mechanisms:
                cp.soma.uninsert(mech)
            for sec in cp.kept:
                h.disconnect(sec=sec)
                for mech in inserted_mechanisms(sec)[0]:
                    sec.uninsert(mech)
            g.add_clamps(first + index)
            g.add_readouts(first + index, {celltools.relative_name(sec): sec for sec in cp.kept})
            for sec in [cp.soma, *cp.kept]:
                name = celltools.relative_name(sec)
                cell_records[index].ion_styles += [(name, ion, code) for ion, code in quiet_ions(sec)]
            g.kept_sections.append(list(cp.kept))
            if check_recordings:
                ion_probes += [(g, first + index, seg, variable) for seg, variable in _ion_variables(g, first + index, [cp.soma, *cp.kept])]
        h.delete_section(sec=parking)  # parked synapses become unlocated: they cost nothing per step
        groups.append(g)
        records.append(cell_records)
    for position, group_index, cell_index in plan_sources:
        captured[6][position] = (groups[group_index], firsts[group_index] + cell_index)
    inputs = handle._inputs if handle is not None else CapturedInputs()
    inputs.add(*captured)
    for g, gp, first in zip(groups, plan.groups, firsts):  # for NetCons made onto them later (NetCon, gid_connect)
        inputs.add_synapse_sites(g, [(syn, first + index, site) for syn, index, site in gp.synapses])
    if handle is None:
        handle = SwapHandle(groups, records, inputs)
        handle.direct_delivery = direct_delivery
        _active = handle
    else:
        handle._add(groups, records)
    handle._from_soma.mark_all(*plan.sources)  # every NetCon the plan saw: the first check need not ask for sources
    _check_recordings_after_swap(handle, recorders, ion_probes)  # runs an initialization: set _before_run again after it
    handle._before_run = True
    for g in handle.groups:
        g.reset_stats()  # stats count the user's runs only
    _return_freed_memory()
    log.info(handle.report())
    return handle


def _same_bundle(a, b) -> bool:
    """Whether two loaded bundles are one (the same file loaded twice is)."""
    return a is b or (a.path == b.path and a.meta == b.meta and a.model_bytes == b.model_bytes)


def _return_freed_memory() -> None:
    """Hand the heap memory the deleted sections freed back to the system (glibc's ``malloc_trim``;
    elsewhere nothing): 300 swapped L5PC kept about 0.9 MB of resident memory per cell without it."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


def _direct_source(source, plan, target_plan):
    """``source`` ((group index, cell index) of the swapped cell whose soma a NetCon comes from,
    or None; ``plan.from_soma``) when its bundle has the target's exchange step; else None
    (NEURON delivers the NetCon as usual)."""
    if source is None or plan.groups[source[0]].bundle.dt_ms != target_plan.bundle.dt_ms:
        return None
    return source


def _relay_source(nc):
    """What a :class:`~neuron_ann.bridge.routes.Relay` collector watches for ``nc``: its source object
    (a NetStim or other artificial cell or point process), or (section, x) of the membrane
    potential it watches on this rank; None for a NetCon without a source here (a gid of
    another rank, or none: ``nc.event``), which NEURON keeps delivering."""
    pre = nc.pre()
    if pre is not None:
        return pre
    seg = nc.preseg()
    return None if seg is None else (seg.sec, seg.x)


def NetCon(source, target, *args, **kwargs):
    """``h.NetCon(source, target, ...)`` that also connects onto a synapse of an already swapped cell.

    A swap moves the synapses off the cells it swaps, and NEURON refuses a NetCon onto them
    ("point process not located in a section"). Made with this function, such a NetCon is
    taken in as one made before the swap: it feeds the contact site the synapse feeds, its delay
    must be at least the bundle's step (refused here otherwise, with the NetCon named) and is
    run one step short, and :func:`swap_back` puts it onto the synapse with the delay the user
    set. Under ``direct_delivery`` it is delivered by the runtime as a NetCon captured at the swap
    is (weight and delay read at ``h.finitialize``) if made before the first ``h.finitialize``
    after the last ``swap_to_ann``; after that, through NEURON's queue (weight and ``active()``
    changes at once), since a run may go on without another ``h.finitialize``. With any other
    target, or with no swap in effect, it is ``h.NetCon``. So a network can be built and swapped in batches with
    connections onto cells of earlier batches (a random network, say): make every NetCon with
    this function (and ``pc.gid_connect`` with :func:`gid_connect`).

    Args are those of ``h.NetCon``: ``(source, target[, threshold, delay, weight], sec=...)``. A
    delay given here is checked at once; without one, NEURON's default (1 ms) is checked where it
    passes and otherwise left to the next ``h.finitialize``, as a delay set afterwards is.

    Raises:
        SwapError: the synapse is of a kind the surrogate has no input for, or the delay is shorter
            than its step.
    """
    handle = active_swap()
    where = handle._input_target(target) if handle is not None else None
    if where is None:
        return h.NetCon(source, target, *args, **kwargs)
    g, cell, site = where
    nc = h.NetCon(source, g.capture(cell, site), *args, **kwargs)
    handle._add_input(nc, target, g, cell, site, delay_given=len(args) >= 2)
    return nc


def gid_connect(gid: int, target):
    """``ParallelContext().gid_connect(gid, target)`` that also connects onto a synapse of an already
    swapped cell, as :func:`NetCon` does. Its delay is NEURON's default (1 ms) until the caller
    sets it: checked and shortened here where it passes, else (shorter than the step, or too
    short for the spike exchange between ranks) left to the next ``h.finitialize``, which takes
    up the delay set by then or refuses it."""
    pc = h.ParallelContext()
    handle = active_swap()
    where = handle._input_target(target) if handle is not None else None
    if where is None:
        return pc.gid_connect(gid, target)
    g, cell, site = where
    nc = pc.gid_connect(gid, g.capture(cell, site))
    handle._add_input(nc, target, g, cell, site, delay_given=False)
    return nc


def event(nc, t: float) -> None:
    """``nc.event(t)`` that delivers at ``t`` also through a NetCon onto a swapped cell.

    Such a NetCon feeds its surrogate one exchange step early (the step at ``t_k`` sees the
    events that arrive in ``[t_k, t_k+1)``), so NEURON's ``nc.event(t)`` would land a step late;
    this sends it one step early instead, as the shortened delay does for spikes. ``t`` must be
    at least one exchange step after ``h.t``. Any other NetCon: ``nc.event(t)``.

    Raises:
        SwapError: ``t`` too soon, or ``nc`` is delivered by the runtime (``direct_delivery=True``).
    """
    found = _queued_input(nc, "takes events only from its source; drive the synapse from a NetStim or VecStim "
                               "through a NetCon, or swap without direct delivery")
    if found is None:
        nc.event(t)
        return
    inputs, row = found
    dt_ms = inputs.group_of(row).dt_ms
    early = float(t) - dt_ms + SHIFT_MARK_MS
    if early < float(h.t):
        raise SwapError(
            f"an event at t = {t:g} ms through {inputs.label(row, nc)} must be sent one exchange step ({dt_ms:g} ms) "
            f"before it, and h.t is {float(h.t):g} ms; give a t of at least {float(h.t) + dt_ms:g} ms."
        )
    nc.event(early)


def set_delay(nc, delay: float) -> None:
    """``nc.delay = delay`` that takes effect at once also on a NetCon onto a swapped cell.

    Such a NetCon runs one exchange step short, and NEURON tells the bridge nothing of a delay
    set on it, so ``nc.delay = d`` during a run is seen only at the NetCon's next event (its input
    capture compares the delay with the one the bridge set), and the events it sends until then
    arrive a step late (:meth:`SwapHandle._take_up_delays`). This checks ``delay`` against the step and sets
    the shortened one at once, as ``h.finitialize``'s check would; events sent from then on
    arrive at the new delay, as in NEURON. Any other NetCon: ``nc.delay = delay``.

    Raises:
        SwapError: ``delay`` shorter than the step, or, during a run under ``direct_delivery=True``,
            a NetCon the runtime delivers (it reads delays at ``h.finitialize``).
    """
    handle = active_swap()
    if handle is not None and handle._before_run and nc.syn() is None:
        nc.delay = delay  # delivered directly, before any run: read at the next h.finitialize
        return
    found = _queued_input(nc, "reads its delay at h.finitialize; set nc.delay and call h.finitialize, or swap without "
                               "direct delivery")
    if found is None:
        nc.delay = delay
        return
    handle._sync_delay(nc, found[1], mpi_ranks() > 1, float(delay), thread_min_delay())


def _queued_input(nc, direct_reason: str):
    """(CapturedInputs, row) of ``nc`` when it is an input of a swapped cell through NEURON's queue,
    None when it is no input of a swapped cell; refused (SwapError, ``direct_reason`` after "the
    runtime") when the runtime delivers it (direct delivery)."""
    handle = active_swap()
    row = handle._inputs.row(nc.hname()) if handle is not None else -1
    if row < 0:
        return None
    if nc.syn() is None:
        raise SwapError(f"{handle._inputs.label(row, nc)} is delivered by the runtime (swap_to_ann(direct_delivery=True)), "
                        f"which {direct_reason}.")
    return handle._inputs, row


def setpost(nc, target) -> None:
    """``nc.setpost(target)`` that also retargets ``nc`` onto a synapse of an already swapped cell, taking
    it in as :func:`NetCon` does (hoc: ``ann_setpost(nc, syn)``, for NetCons made in hoc, e.g. by a
    template's ``connect2target(nil, nc)``)."""
    handle = active_swap()
    where = handle._input_target(target) if handle is not None else None
    if where is None:
        nc.setpost(target) if target is not None else nc.setpost()
        return
    if handle._inputs.row(nc.hname()) >= 0:
        raise SwapError(f"{nc.hname()} already feeds a swapped cell; make a new NetCon for {target.hname()}, or swap_back() first.")
    g, cell, site = where
    retarget(nc, g.capture(cell, site))  # stamped by _add_input
    handle._add_input(nc, target, g, cell, site, delay_given=False)


def swap_back() -> None:
    """Restore the detailed cells of the swap in effect.

    Raises:
        SwapError: a cell cannot be restored (hoc template cells); nothing is changed then.
    """
    if _active is None:
        raise SwapError("no swap is in effect; call neuron_ann.swap_to_ann() first.")
    _active.swap_back()


def _reset_for_tests() -> None:
    global _active
    if _active is not None:
        for g in _active.groups:
            g.release()
        _active._captures = {}
        _active._inputs.release()  # now, not by the cyclic garbage collector: it holds point processes
        _active._fih = None
        _active._check_handler = None
        _active._recording_handler = None
    _active = None
