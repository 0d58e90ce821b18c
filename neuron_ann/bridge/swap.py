"""``swap_to_ann`` / ``swap_back`` and the handle that reports what was swapped."""

from __future__ import annotations

import gc
import logging

from neuron import h

from .. import celltools, mechanisms
from ..errors import SwapError
from . import bundles as bundle_registry
from .group import TypeGroup
from .morphology import point_process_params, restore_cell, save_cell
from .plan import CURRENT_SOURCES, all_objects, check_cvode, check_dt, describe_netcon, make_plan
from .recordings import find_voltage_recordings

__all__ = ["swap_to_ann", "swap_back", "SwapHandle", "active_swap"]

log = logging.getLogger("neuron_ann.bridge")

#: spike peak above the highest source-NetCon threshold, and the cap below the lowest one (mV)
PEAK_ABOVE_THRESHOLD_MV = 30.0
CAP_BELOW_THRESHOLD_MV = 1.0

_active: SwapHandle | None = None


class SwapHandle:
    """What :func:`swap_to_ann` swapped; a context manager that swaps back on exit.

    Attributes:
        groups: one :class:`~neuron_ann.bridge.group.TypeGroup` per bundle.
        cells: every swapped cell.
    """

    def __init__(self, groups, records, netcon_moves):
        self.groups = groups
        self._records = records  # per group, per cell: CellRecord
        self._netcon_moves = netcon_moves  # (netcon, original synapse)
        # checks at the very start of finitialize: NEURON crashes later in finitialize when a
        # NetCon targets a synapse whose section was deleted, so that must be refused first
        self._check_handler = h.FInitializeHandler(3, self._check_at_finitialize)
        self._fih = h.FInitializeHandler(1, self._on_finitialize)
        self.swapped = True

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

    def readout_ref(self, cell, name: str):
        """A pointer to a readout's value for ``h.Vector().record(...)`` (any readout, fluorescence included)."""
        for g in self.groups:
            for index, c in enumerate(g.cells):
                if c is cell:
                    if (index, name) not in g.readouts:
                        raise KeyError(f"{cell!r} has no readout {name!r}; its readouts: {', '.join(g.readout_names) or 'none'}")
                    return g.readouts[(index, name)][0]._ref_value
        raise KeyError(f"{cell!r} was not swapped by this handle.")

    def stats(self) -> dict:
        """Exchange steps, ONNX Runtime seconds and the bridge's own seconds, per cell type."""
        return {
            g.type_name: {
                "cells": g.n_cells,
                "steps": g.steps,
                "ort_seconds": g.model.ort_seconds,
                "bridge_seconds": g.bridge_seconds,
                "model_load_seconds": g.model.load_seconds,
                "providers": list(g.model.providers),
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
        for nc, synapse in self._netcon_moves:
            nc.setpost(synapse)
        for g in self.groups:
            g.release()
        self._netcon_moves = []
        self._fih = None
        self._check_handler = None
        self.swapped = False
        if _active is self:
            _active = None

    # --- run loop -----------------------------------------------------------------------
    def _check_at_finitialize(self) -> None:
        if not self.swapped:
            return
        check_cvode()
        for g in self.groups:
            check_dt(g.bundle)
            known = set(g.current_sources)
            for cell, soma in zip(g.cells, g.somas):
                for seg in soma:
                    for pp in seg.point_processes():
                        name = pp.hname().split("[")[0]
                        if not name.startswith("ANN") and pp not in known:
                            raise SwapError(
                                f"{pp.hname()} was placed on {soma.name()} of the swapped {cell!r} after swap_to_ann(), "
                                "so the surrogate does not see it; create it before swap_to_ann() (or swap_back() first)."
                            )
        somas = {}
        for g in self.groups:
            for soma in g.somas:
                somas[soma] = g
        captures = {}
        for g in self.groups:
            for cap in g.captures.values():
                captures[cap] = g
        lost = {pp for g_records in self._records for record in g_records for pp, *_ in record.point_processes}
        thresholds = []
        for nc in all_objects("NetCon"):
            seg = nc.preseg()
            if seg is not None and seg.sec in somas:
                thresholds.append(nc.threshold)
            target = nc.syn()
            if target is None:
                continue
            if target in captures:
                g = captures[target]
                if nc.delay < g.dt_ms - 1e-9:
                    raise SwapError(
                        f"{describe_netcon(nc)} onto a swapped {g.type_name} has delay {nc.delay:g} ms, shorter than the "
                        f"surrogate's exchange step of {g.dt_ms:g} ms; make its delay at least {g.dt_ms:g} ms."
                    )
            elif target in lost:
                raise SwapError(
                    f"{describe_netcon(nc)} targets {target.hname()}, a synapse on a section the swap removed; "
                    "make NetCons before swap_to_ann() (they are then captured), delete this NetCon, or swap_back() first."
                )
        self._thresholds = thresholds

    def _on_finitialize(self) -> None:
        if not self.swapped:
            return
        gc_was_enabled = gc.isenabled()
        gc.disable()  # see TypeGroup._on_exchange
        try:
            self._initialize_groups()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _initialize_groups(self) -> None:
        thresholds = self._thresholds
        vpeak = (max(thresholds) if thresholds else 10.0) + PEAK_ABOVE_THRESHOLD_MV
        vcap = (min(thresholds) if thresholds else 10.0) - CAP_BELOW_THRESHOLD_MV
        for g in self.groups:
            g.initialize(vpeak, vcap)


def _park_soma_synapses(soma, record, parking) -> None:
    """Move the soma's synapses (their NetCons now feed ANNInput captures) off the soma.

    They are located on a scratch section that is deleted afterwards, as the synapses of
    deleted sections are, so NEURON stops integrating them; swap_back puts them back.
    """
    for seg in soma:
        for pp in seg.point_processes():
            name = pp.hname().split("[")[0]
            if name in CURRENT_SOURCES or name.startswith("ANN"):
                continue
            record.point_processes.append((pp, celltools.relative_name(soma), seg.x, point_process_params(pp)))
            pp.loc(parking(0.5))


def active_swap() -> SwapHandle | None:
    """The handle of the swap in effect, or None."""
    return _active


def _refuse_lost_recordings(plan) -> None:
    """Refuse when a Vector records the voltage of a segment the swap deletes or leaves undriven."""
    allowed = set()
    segments = []
    for gp in plan.groups:
        outs = [o for o in gp.bundle.meta["outputs"] if o["kind"] == "readout" and o.get("variable") == "v"]
        for cp in gp.cells:
            for sec in cp.kept:
                for o in outs:
                    if o["section"] == celltools.relative_name(sec):
                        allowed.add((sec, sec(o["x"]).x))
            for sec in cp.kept + cp.doomed:
                segments += [seg for seg in sec if (sec, seg.x) not in allowed]
    lost = find_voltage_recordings(segments)
    if lost:
        vec, seg = lost[0]
        gp = next(g for g in plan.groups for cp in g.cells if seg.sec in cp.doomed or seg.sec in cp.kept)
        readouts = [f"{o['variable']} at {o['section']}({o['x']:g})" for o in gp.bundle.meta["outputs"] if o["kind"] == "readout"]
        raise SwapError(
            f"{vec.hname()} records the voltage of {seg.sec.name()}({seg.x:g}), which the swap removes: the "
            f"{gp.type_name} surrogate has no readout there (its readouts: {', '.join(readouts) or 'none'}), so the "
            f"recording would silently stop. Record the soma or a readout instead, or leave this cell detailed "
            f"(cells=[...]). {len(lost)} such recording(s) in all."
        )


def swap_to_ann(cells=None, bundles=None, providers=None, *, threads: int | None = None, check_recordings: bool = True) -> SwapHandle:
    """Replace detailed cells by their surrogates.

    Args:
        cells: cells to swap (default: every cell in the model whose type has a bundle).
        bundles: bundle paths or :class:`~neuron_ann.bundle.Bundle` objects; they win over
            registered and shipped bundles.
        providers: ONNX Runtime provider name(s) overriding the automatic choice (CUDA when
            a session starts on it, else CPU).
        threads: ONNX Runtime intra-op threads.
        check_recordings: look for Vector recordings of voltages the swap removes and refuse
            them. NEURON does not list recording sources, so this probe initializes the model
            (as ``h.finitialize`` does) and restores every Vector's contents; pass False to skip.

    Returns:
        A :class:`SwapHandle`; use it as a context manager to swap back on exit.

    Raises:
        SwapError: anything the surrogate cannot honour, before anything is changed.
    """
    global _active
    mechanisms.load()
    if _active is not None and _active.swapped:
        raise SwapError("a swap is already in effect; call neuron_ann.swap_back() before swapping again.")
    candidates = bundle_registry.resolve_bundles(bundles)
    if cells is None:
        cells = [c for c in celltools.cells_in_model() if bundle_registry.bundle_for(celltools.cell_type_name(c), candidates)]
    else:
        cells = list(cells)
    plan = make_plan(cells, candidates, celltools.cell_type_name, bundle_registry.bundle_for)
    for group in plan.groups:
        check_dt(group.bundle)
    if check_recordings:
        _refuse_lost_recordings(plan)

    # nothing has changed up to here; from now on the swap is applied
    groups, records, moves = [], [], []
    for gp in plan.groups:
        g = TypeGroup(gp, providers=providers, threads=threads)
        cell_records = []
        for cp in gp.cells:
            cell_records.append(save_cell(cp.cell, cp.kept + cp.doomed, cp.soma))
        for nc, index, site, synapse in gp.inputs:
            moves.append((nc, synapse))
            nc.setpost(g.capture(index, site))
        for index, source in gp.currents:
            g.add_current_probe(index, source)
        parking = h.Section(name="neuron_ann_parking")
        for index, cp in enumerate(gp.cells):
            _park_soma_synapses(cp.soma, cell_records[index], parking)
            for sec in cp.doomed:
                h.delete_section(sec=sec)
            for mech in cell_records[index].soma_mechanisms:
                cp.soma.uninsert(mech)
            for sec in cp.kept:
                h.disconnect(sec=sec)
                for mech in sec.psection()["density_mechs"]:
                    sec.uninsert(mech)
            g.add_clamps(index)
            g.add_readouts(index, {celltools.relative_name(sec): sec for sec in cp.kept})
            g.kept_sections.append(list(cp.kept))
        h.delete_section(sec=parking)  # parked synapses become unlocated: they cost nothing per step
        groups.append(g)
        records.append(cell_records)
    handle = SwapHandle(groups, records, moves)
    _active = handle
    log.info(handle.report())
    return handle


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
        _active._fih = None
        _active._check_handler = None
    _active = None
