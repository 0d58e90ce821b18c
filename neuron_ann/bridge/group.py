"""One cell type's swapped cells: their NMODL stand-ins, buffers and the exchange step.

Buffers are hoc Vectors (NMODL POINTERs point into them, so they are never resized: cells
added beyond their capacity move to new ones, see :meth:`TypeGroup.add_cells`), laid out
cell by cell, with numpy views of the cells' slots for the step:

- ``inputs`` [cells * sites]: summed NetCon weights per contact site (``ANNInput``), plus
  the rows that direct delivery scheduled (``pending``) or counted (``relay``), see
  :mod:`neuron_ann.bridge.routes`;
- ``current`` [cells]: integral of the soma current sources over the interval (``ANNCurrent``);
- ``v_from``, ``v_to``, ``t_spike`` [cells]: read by ``ANNSoma`` (which derives the last
  exchange time from t itself);
- ``ro_from``, ``ro_to`` [cells * readouts]: read by ``ANNReadout`` (and by the ``ANNSoma``
  clamps of v readouts); the bundle's readout
  outputs come first, then its derived readouts (fluorescence computed from a ``cai``
  readout with :class:`neuron_ann.readouts.IndicatorState`, for all cells at once).
"""

from __future__ import annotations

import gc
import logging
import time
import weakref

import numpy as np
from neuron import h

from ..bundle import SPIKE_OFFSET_OUTPUT
from ..readouts import IndicatorState
from ..runtime import StepModel
from .inputs import delay_alarm, new_capture
from .plan import GroupPlan, check_dt, derived_readouts, segment_index
from .recordings import is_ion_current, make_probe

__all__ = ["TypeGroup", "EXCHANGE_EPS_MS", "weak_call"]

log = logging.getLogger("neuron_ann.bridge")

#: the exchange callback for t_k runs at t_k - EXCHANGE_EPS_MS. Captured NetCons run with
#: their delay shortened by the exchange step, so the capture has by then received exactly
#: the events whose true delivery time lies in [t_k, t_{k+1}) (format 2): one delivered at
#: exactly t_{k+1} reaches the capture at t_k, after the callback, and goes to the next row,
#: as in the dataset's [t_k, t_{k+1}) bins
EXCHANGE_EPS_MS = 1e-6


def _vector(n: int):
    vec = h.Vector(max(int(n), 1))
    return vec, vec.as_numpy()


class TypeGroup:
    """The swapped cells of one bundle and their batched step."""

    def __init__(self, plan: GroupPlan, providers=None, threads=None):
        self.bundle = plan.bundle
        self.type_name = plan.type_name
        self.cells, self.somas = [], []
        self.n_cells = 0
        self._providers, self._threads = providers, threads
        # the exchange event NEURON keeps queued must not keep this group (and its cells) alive:
        # the queue is cleared inside the next finitialize, where freeing a cell's point process aborts
        self._exchange_event = weak_call(self._on_exchange)
        meta = self.bundle.meta
        self.dt_ms = self.bundle.dt_ms
        self.n_sites = len(meta["sites"])
        self.site_columns = np.array(self.bundle.site_columns(), dtype=np.intp)
        # usual layout: the site columns are one contiguous block, copied with a slice (much faster than fancy indexing)
        first = int(self.site_columns[0]) if self.n_sites else 0
        contiguous = self.n_sites > 0 and np.array_equal(self.site_columns, np.arange(first, first + self.n_sites))
        self._site_target = np.s_[:, first : first + self.n_sites] if contiguous else np.s_[:, self.site_columns]
        self.current_column = self.bundle.current_input_index()
        self.v_column = self.bundle.output_index("soma_v")
        self.spike_column = self.bundle.output_index("spike_prob")
        self.offset_column = self.bundle.output_index("readout", SPIKE_OFFSET_OUTPUT)
        self.spike_threshold = float(meta["spike_threshold"])
        self._no_spike_vec, _no_spike = _vector(1)
        _no_spike[0] = -1.0  # t_spike of the clamps that drive v readouts
        self.readout_columns = [i for i, o in enumerate(meta["outputs"]) if o["kind"] == "readout" and o["name"] != SPIKE_OFFSET_OUTPUT]
        cols = self.readout_columns
        # usual layout: one block of columns, read with a slice (fancy indexing costs a copy per step)
        self._readout_cols = slice(cols[0], cols[-1] + 1) if cols and cols == list(range(cols[0], cols[-1] + 1)) else cols
        # derived readouts: (row of the readout they are computed from, indicator)
        derived = derived_readouts(self.bundle)
        self.derived = [(self.readout_columns.index(d["source"]), d["indicator"]) for d in derived]
        self.readout_names = [meta["outputs"][i]["name"] for i in self.readout_columns] + [d["name"] for d in derived]
        self._indicators = [None] * len(self.derived)  # per derived readout: IndicatorState of all cells
        self.readouts = {}  # (cell index, readout name) -> (ANNReadout, or ANNSoma for v, segment, variable or None)
        self._readouts_on = False  # whether the run computes readouts (set at each finitialize)
        self._current_writers = []  # ANNProbe per ion current readout written into NEURON (see _readout_pp)
        self.captures = {}  # (cell index, site) -> ANNInput
        self.kept_sections = []  # per cell: readout sections kept alive
        self.clamps = []  # (cell index, ANNSoma)
        self.current_probes = []  # (cell index, ANNCurrent)
        self.current_sources = []  # the user's IClamps read by current_probes
        self.k = 0
        self.emitted_cells: list = []  # per step with spikes: cell indices
        self.emitted_times: list = []  # per step with spikes: spike times (ms)
        self.steps = 0
        self.bridge_seconds = 0.0
        self.running = False
        self.routes = None  # Routes out of these cells (direct delivery), set at each finitialize
        self.pending = {}  # exchange row -> [(slots, weights)] scheduled by direct delivery
        self.relay = None  # Relay onto these cells from other sources (direct delivery), made at the swap
        self._alarm = delay_alarm()  # set by an event of a NetCon whose delay the user changed during a run
        self.on_alarm = None  # called when it is set (SwapHandle._take_up_delays)
        self._cvode = h.CVode()  # looked up once: h.CVode() costs about 6 us per exchange step
        self._capacity = 0
        self.add_cells(plan.cells)

    def add_cells(self, cell_plans) -> int:
        """Append cells (:class:`~neuron_ann.bridge.plan.CellPlan`) to this group; returns the index of
        the first. A batch beyond the buffers' capacity moves them into new ones twice as large
        (pointing every stand-in there), so that adding cells in batches costs little in all; the
        step model is made anew for the new batch size. The group runs again from the next
        ``h.finitialize``."""
        first = self.n_cells
        self.cells += [c.cell for c in cell_plans]
        self.somas += [c.soma for c in cell_plans]
        self.n_cells = len(self.cells)
        if self.n_cells > self._capacity:
            self._allocate(self.n_cells if not self._capacity else max(self.n_cells, 2 * self._capacity))
        self._make_views()
        self.model = StepModel(self.bundle, self.n_cells, providers=self._providers, threads=self._threads)
        self._x_current = self.model.x[:, self.current_column] if self.current_column is not None else None  # a view
        self.running = False
        return first

    def _allocate(self, capacity: int) -> None:
        """Buffers for ``capacity`` cells, cell by cell (a cell's slots do not move when cells are
        added); the stand-ins made so far are pointed into them."""
        n_ro = len(self.readout_names)
        self._capacity = capacity
        self._inputs_vec = _vector(capacity * self.n_sites)[0]
        self._current_vec = _vector(capacity)[0]
        self._v_from_vec = _vector(capacity)[0]
        self._v_to_vec = _vector(capacity)[0]
        self._t_spike_vec = _vector(capacity)[0]
        self._ro_from_vec = _vector(capacity * n_ro)[0]
        self._ro_to_vec = _vector(capacity * n_ro)[0]
        for (cell_index, site), cap in self.captures.items():
            h.setpointer(self._inputs_vec._ref_x[cell_index * self.n_sites + site], "acc", cap)
        for cell_index, probe in self.current_probes:
            h.setpointer(self._current_vec._ref_x[cell_index], "acc", probe)
        for cell_index, clamp in self.clamps:
            self._point_clamp(clamp, self._v_from_vec._ref_x[cell_index], self._v_to_vec._ref_x[cell_index],
                              self._t_spike_vec._ref_x[cell_index])
        for (cell_index, name), (pp, _, _) in self.readouts.items():
            if pp is not None:
                slot = cell_index * n_ro + self.readout_names.index(name)
                h.setpointer(self._ro_from_vec._ref_x[slot], "v_from", pp)
                h.setpointer(self._ro_to_vec._ref_x[slot], "v_to", pp)

    def _make_views(self) -> None:
        """numpy views of the first ``n_cells`` cells' slots of each buffer."""
        n, n_ro = self.n_cells, len(self.readout_names)
        self.inputs = self._inputs_vec.as_numpy()[: n * self.n_sites]
        self._inputs2 = self.inputs.reshape(n, self.n_sites)
        self.current = self._current_vec.as_numpy()[:n]
        self.v_from = self._v_from_vec.as_numpy()[:n]
        self.v_to = self._v_to_vec.as_numpy()[:n]
        self.t_spike = self._t_spike_vec.as_numpy()[:n]
        self.ro_from = self._ro_from_vec.as_numpy()[: n * n_ro]
        self.ro_to = self._ro_to_vec.as_numpy()[: n * n_ro]
        self.ro_from2 = self.ro_from.reshape(n, n_ro) if n_ro else None  # [cell, readout]
        self.ro_to2 = self.ro_to.reshape(n, n_ro) if n_ro else None

    def vectors(self) -> list:
        """The hoc Vectors this group keeps its buffers in."""
        return [self._inputs_vec, self._current_vec, self._v_from_vec, self._v_to_vec, self._t_spike_vec,
                self._ro_from_vec, self._ro_to_vec, self._no_spike_vec]

    def state_bytes(self) -> int:
        """Bytes of the per-cell numbers this group keeps for its cells: the step model's arrays
        (:meth:`~neuron_ann.runtime.step.StepModel.host_bytes`) and the bridge's buffers (inputs
        per contact site, injected current, soma v, spike times, readouts)."""
        return self.model.host_bytes() + 8 * int(sum(v.size() for v in self.vectors()[:-1]))

    # --- building -------------------------------------------------------------------
    def capture(self, cell_index: int, site: int):
        """The ANNInput that sums events for (cell, site), created on first use."""
        key = (cell_index, site)
        if key not in self.captures:
            cap = new_capture()
            h.setpointer(self._inputs_vec._ref_x[cell_index * self.n_sites + site], "acc", cap)
            self.captures[key] = cap
        return self.captures[key]

    def add_current_probe(self, cell_index: int, source):
        self.current_sources.append(source)
        probe = h.ANNCurrent(self.somas[cell_index](0.5))
        h.setpointer(source._ref_i, "src", probe)
        h.setpointer(self._current_vec._ref_x[cell_index], "acc", probe)
        self.current_probes.append((cell_index, probe))

    def _clamp(self, seg, v_from_ref, v_to_ref, t_spike_ref):
        """An ANNSoma on ``seg`` reading the given buffer slots."""
        clamp = h.ANNSoma(seg)
        self._point_clamp(clamp, v_from_ref, v_to_ref, t_spike_ref)
        clamp.dt_ann = self.dt_ms
        return clamp

    @staticmethod
    def _point_clamp(clamp, v_from_ref, v_to_ref, t_spike_ref) -> None:
        h.setpointer(v_from_ref, "v_from", clamp)
        h.setpointer(v_to_ref, "v_to", clamp)
        h.setpointer(t_spike_ref, "t_spike", clamp)

    def add_clamps(self, cell_index: int):
        for seg in self.somas[cell_index]:
            clamp = self._clamp(seg, self._v_from_vec._ref_x[cell_index], self._v_to_vec._ref_x[cell_index],
                                self._t_spike_vec._ref_x[cell_index])
            self.clamps.append((cell_index, clamp))

    def add_readouts(self, cell_index: int, kept: dict) -> None:
        """One stand-in per readout (outputs, then derived).

        A ``v`` readout of a kept section is an ``ANNSoma`` clamp on that segment (never
        spiking), so the segment's own v is the value (a POINTER into a node's v costs about
        0.5 us per NEURON step; the clamp about 0.05 us). A cai/ina/ik readout of a kept
        section is an ``ANNReadout`` that writes that NEURON variable. Any other readout gets
        its ``ANNReadout`` only when :meth:`readout_ref` asks for it, so unread readouts cost
        nothing per NEURON step.
        """
        outputs = [self.bundle.meta["outputs"][column] for column in self.readout_columns]
        outputs += [{"name": name} for name in self.readout_names[len(self.readout_columns) :]]
        for r, out in enumerate(outputs):
            variable = out.get("variable")
            sec = kept.get(out.get("section"))
            slot = cell_index * len(outputs) + r
            if sec is not None and variable == "v":
                seg = sec(out.get("x", 0.5))
                clamp = self._clamp(seg, self._ro_from_vec._ref_x[slot], self._ro_to_vec._ref_x[slot], self._no_spike_vec._ref_x[0])
                self.readouts[(cell_index, out["name"])] = (clamp, seg, variable)
                continue
            if sec is not None and variable in ("cai", "ina", "ik"):
                seg = sec(out.get("x", 0.5))
                if not hasattr(seg, f"_ref_{variable}"):
                    sec.insert({"cai": "ca_ion", "ina": "na_ion", "ik": "k_ion"}[variable])
                self.readouts[(cell_index, out["name"])] = (self._readout_pp(seg, slot, variable), seg, variable)
            else:
                # bound to no NEURON variable: its ANNReadout is made when readout_ref asks for it
                self.readouts[(cell_index, out["name"])] = (None, self.somas[cell_index](0.5), None)

    def bind_soma_readout(self, cell_index: int, seg, variable: str) -> bool:
        """Make the bundle's readout of ``variable`` (``cai``, ``ina``, ``ik``) at the soma write
        that variable of the swapped soma's segment ``seg`` after every step, as a kept
        section's readout does, so that a Vector recording it records the surrogate's values.
        False when the bundle has no such readout in that segment."""
        sec = seg.sec
        node = segment_index(sec, seg.x)
        for r, column in enumerate(self.readout_columns):
            out = self.bundle.meta["outputs"][column]
            x = out.get("x", 0.5)
            if out.get("section") == "soma" and out.get("variable") == variable and segment_index(sec, x) == node:
                slot = cell_index * len(self.readout_names) + r
                self.readouts[(cell_index, out["name"])] = (self._readout_pp(sec(x), slot, variable), sec(x), variable)
                return True
        return False

    def _readout_pp(self, seg, slot: int, variable):
        pp = h.ANNReadout(seg)
        h.setpointer(self._ro_from_vec._ref_x[slot], "v_from", pp)
        h.setpointer(self._ro_to_vec._ref_x[slot], "v_to", pp)
        if variable is not None:
            h.setpointer(getattr(seg, f"_ref_{variable}"), "target", pp)
        if variable is not None and is_ion_current(variable):
            # NEURON zeroes ion currents after INITIAL: this writes the readout's t = 0 value after that
            self._current_writers.append(make_probe(seg, variable, source=pp._ref_value))
        pp.dt_ann = self.dt_ms
        pp.value = self.ro_to[slot]
        return pp

    def readout_ref(self, cell_index: int, name: str):
        """A pointer to a readout's value for ``h.Vector().record(...)``."""
        key = (cell_index, name)
        pp, seg, variable = self.readouts[key]
        if variable == "v":
            return seg._ref_v
        if pp is None:
            pp = self._readout_pp(seg, cell_index * len(self.readout_names) + self.readout_names.index(name), None)
            self.readouts[key] = (pp, seg, None)
            if self.running and not self._readouts_on:
                log.warning("neuron_ann: %s readouts are computed from the next h.finitialize (a Vector recording made "
                            "now records from then too); until then %s holds a stale value", self.bundle.name, name)
            self._readouts_on = True
        return pp._ref_value

    # --- running --------------------------------------------------------------------
    def initialize(self, vpeak: float, vcap: float) -> None:
        """At finitialize: warmed-up state, zero buffers, run step 0, schedule t_1.

        Row 0 is all zero: no event can truly arrive in [0, t_1) (every delay onto a swapped
        cell is at least one exchange step and nothing is sent before t = 0), and no current
        was injected before t = 0.
        """
        self.steps_per_exchange = check_dt(self.bundle)
        for _, clamp in self.clamps:
            clamp.vpeak = vpeak
            clamp.vcap = vcap
        last = self.model.reset()
        v0 = float(last[self.v_column]) if last is not None else float(h.v_init)
        self.v_to[:] = v0
        # readouts are computed in a run only if something reads them: a kept section's stand-in, or readout_ref
        self._readouts_on = any(pp is not None for pp, _, _ in self.readouts.values())
        if self.readout_names:
            n_out = len(self.readout_columns)
            self.ro_to2[:, :n_out] = last[self.readout_columns][None, :] if last is not None else 0.0
            for j, (row, indicator) in enumerate(self.derived):
                # the warmed-up (resting) cai sets the indicator's resting state: dF/F0 = 0 at t = 0
                self._indicators[j] = IndicatorState(self.ro_to2[:, row].copy(), self.dt_ms, indicator)
                self.ro_to2[:, n_out + j] = 0.0
            for (cell_index, name), (pp, seg, variable) in self.readouts.items():
                value = float(self.ro_to2[cell_index, self.readout_names.index(name)])
                if pp is not None and variable != "v":
                    pp.value = value
                if variable is not None:
                    setattr(seg, variable, value)
        for soma in self.somas:
            for seg in soma:
                seg.v = v0
        self.inputs[:] = 0.0
        self.current[:] = 0.0
        if self.relay is not None:
            self.relay.reset()
        self.emitted_cells.clear()
        self.emitted_times.clear()
        self.k = 0
        self.model.x[...] = 0.0
        self._advance(0.0)
        self.running = True
        self._cvode.event(self.dt_ms - EXCHANGE_EPS_MS, self._exchange_event)

    def _on_exchange(self) -> None:
        if not self.running:
            return
        # no cyclic garbage collection inside a NEURON step: freeing a point process while
        # NEURON's mechanism storage is frozen aborts the process
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._exchange()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _exchange(self) -> None:
        t0 = time.perf_counter()
        ort0 = self.model.ort_seconds
        self.k += 1
        t_k = self.k * self.dt_ms
        x = self.model.x
        if self.relay is not None:  # direct delivery from other sources: counted up to now, due now or later
            self.relay.drain(self)
        due = self.pending.pop(self.k, None)
        if due is not None:  # direct delivery: events truly arriving in [t_k, t_k+1)
            for slots, weights in due:
                np.add.at(self.inputs, slots, weights)
        # synapse columns: events that truly arrive in [t_k, t_k+1); current: mean over [t_k-1, t_k)
        x[self._site_target] = self._inputs2
        if self.current_column is not None:
            np.multiply(self.current, 1.0 / self.dt_ms, out=self._x_current)
        self.inputs.fill(0.0)
        self.current.fill(0.0)
        self._advance(t_k)
        self._cvode.event(t_k + self.dt_ms - EXCHANGE_EPS_MS, self._exchange_event)
        if self._alarm[0] and self.on_alarm is not None:  # after scheduling the next exchange: it may refuse the delay
            self.on_alarm()
        self.bridge_seconds += (time.perf_counter() - t0) - (self.model.ort_seconds - ort0)

    def _advance(self, t_k: float) -> None:
        y = self.model.step()
        self.steps += 1
        self.v_from[:] = self.v_to
        self.v_to[:] = y[:, self.v_column]
        if self._readouts_on:
            self.ro_from2[...] = self.ro_to2
            n_out = len(self.readout_columns)
            if n_out:
                self.ro_to2[:, :n_out] = y[:, self._readout_cols]
            for j, (row, _) in enumerate(self.derived):
                self.ro_to2[:, n_out + j] = self._indicators[j].step(self.ro_to2[:, row])
        if self.spike_column is None or y[:, self.spike_column].max() <= self.spike_threshold:
            self.t_spike.fill(-1.0)
            return
        spiking = y[:, self.spike_column] > self.spike_threshold
        dt = h.dt
        if self.offset_column is not None:
            offset = y[:, self.offset_column].astype(np.float64)
        else:
            offset = np.full(self.n_cells, self.dt_ms / 2)
        steps = np.clip(np.rint(offset / dt), 1, self.steps_per_exchange)
        times = t_k + steps * dt
        self.t_spike[:] = np.where(spiking, times, -1.0)
        cells = np.nonzero(spiking)[0]
        self.emitted_cells.append(cells)
        self.emitted_times.append(times[cells])
        if self.routes is not None:
            self.routes.send(cells, times[cells])

    def schedule(self, rows: np.ndarray, slots: np.ndarray, weights: np.ndarray) -> None:
        """Direct delivery: add ``weights`` to input ``slots`` in exchange ``rows`` (each > self.k)."""
        if len(rows) and rows.min() == rows.max():
            self.pending.setdefault(int(rows[0]), []).append((slots, weights))
            return
        order = np.argsort(rows, kind="stable")
        rows, slots, weights = rows[order], slots[order], weights[order]
        bounds = np.flatnonzero(np.diff(rows)) + 1
        for part_rows, part_slots, part_weights in zip(np.split(rows, bounds), np.split(slots, bounds), np.split(weights, bounds)):
            self.pending.setdefault(int(part_rows[0]), []).append((part_slots, part_weights))

    def reset_stats(self) -> None:
        """Zero the step count and timings (the swap's own recording check runs one step)."""
        self.steps = 0
        self.bridge_seconds = 0.0
        self.model.ort_seconds = 0.0

    def stop(self) -> None:
        self.running = False

    def release(self) -> None:
        """Drop every NMODL object now (never leave them to the cyclic garbage collector)."""
        self.running = False
        self.routes = None
        self.on_alarm = None
        if self.relay is not None:
            self.relay.release()
            self.relay = None
        self.pending.clear()
        self.readouts.clear()
        self._current_writers.clear()
        self.clamps.clear()
        self.current_probes.clear()
        self.current_sources.clear()
        self.captures.clear()

    def spike_times(self) -> list:
        """Emitted spike times per cell (ms), in the order of ``self.cells``; spikes predicted
        for after the current time (the run stopped inside their interval) are not yet emitted."""
        out = [[] for _ in range(self.n_cells)]
        now = h.t + 1e-9
        for cells, times in zip(self.emitted_cells, self.emitted_times):
            for c, t in zip(cells.tolist(), times.tolist()):
                if t <= now:
                    out[c].append(t)
        return [np.array(v) for v in out]


def weak_call(method):
    """A callable that runs ``method`` while its object lives, holding the object only weakly."""
    ref = weakref.WeakMethod(method)

    def call():
        bound = ref()
        if bound is not None:
            bound()

    return call
