"""Saving what :func:`swap_back` needs before the swap deletes a cell's sections, and rebuilding it.

Per deleted section: name, parent and connection points, nseg, L/diam or 3-d points, Ra,
cm, density mechanisms with per-segment values, ion values; per point process on it: its
mechanism, location and PARAMETER values (NEURON resets them when an unlocated point
process is located again); and which attributes of the cell held the section.
A deleted section's numbers are kept in float64 arrays (its mechanism and ion values in
one, laid out by a tuple that sections with the same mechanisms share; its 3-d points in
another), not in lists of Python floats: 0.45 MB per L5PC instead of 1.5 MB.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
from neuron import h, nrn

from ..celltools import relative_name

__all__ = ["SectionRecord", "CellRecord", "save_cell", "restore_cell", "point_process_params", "soma_mechanisms", "quiet_ions", "mechanism_values", "inserted_mechanisms"]


def point_process_params(pp) -> dict:
    """PARAMETER values of a located point process, by name."""
    params = {}
    for var in _parameters(pp.hname().split("[")[0]):
        try:
            params[var] = float(getattr(pp, var))
        except (TypeError, AttributeError):  # array parameters
            pass
    return params


def per_segment(values: list):
    """A per-segment record of ``values`` (floats): one float if every segment has the same value, else a float64 array."""
    if values and values.count(values[0]) == len(values):
        return values[0]
    return np.array(values, dtype=np.float64)


def segment_values(record, nseg: int):
    """The ``nseg`` values of a :func:`per_segment` record."""
    if isinstance(record, float):
        return [record] * nseg
    return [float(v) for v in record]


@dataclass
class SectionRecord:
    name: str
    parent: str | None
    parent_x: float
    child_x: float
    nseg: int
    L: float
    diam: float | np.ndarray  # per_segment
    pt3d: np.ndarray  # (n, 4): x, y, z, diam; n may be 0
    Ra: float
    cm: float | np.ndarray  # per_segment
    inserted: tuple  # density mechanisms to insert, in order
    layout: tuple  # (mechanism, variable) per block of nseg values; mechanism "" for an ion's variable (on the segment)
    values: np.ndarray  # float64, len(layout) * nseg


_SHARED: dict = {}  # one object per distinct ``inserted`` or ``layout`` tuple


def _shared(value: tuple) -> tuple:
    return _SHARED.setdefault(value, value)


def _flat_values(sec) -> tuple[tuple, tuple, np.ndarray]:
    """(inserted, layout, values) of ``sec`` for a :class:`SectionRecord`."""
    mechs, ions = mechanism_values(sec, compact=False)
    layout, flat = [], []
    for owner, table in ((True, mechs), (False, ions)):
        for name, variables in table.items():
            for var, values in variables.items():
                layout.append((name if owner else "", var))
                flat += values
    return _shared(tuple(mechs)), _shared(tuple(layout)), np.array(flat, dtype=np.float64)


@dataclass
class CellRecord:
    """Everything needed to rebuild one cell's deleted sections."""

    sections: list = field(default_factory=list)  # SectionRecord, in creation order
    point_processes: list = field(default_factory=list)  # (pp, relative section name, x, params)
    attributes: list = field(default_factory=list)  # (attribute, index or None, section name)
    section_lists: list = field(default_factory=list)  # (attribute, [section names in order])
    soma_mechanisms: dict = field(default_factory=dict)
    ion_styles: list = field(default_factory=list)  # (section name, ion, h.ion_style code) of the soma and kept sections
    restorable: bool = True  # False: the deleted sections were not recorded (swap_to_ann(restorable=False))


def quiet_ions(sec) -> list:
    """Stop the per-step Nernst updates of ``sec``'s ions (a swapped soma or kept readout
    section has no channels left to use them); returns (ion, old style code) pairs for
    :func:`restore_cell`."""
    saved = []
    for name in inserted_mechanisms(sec)[1]:
        code = int(h.ion_style(name, sec=sec))
        saved.append((name, code))
        # code = c_style + 4*cinit + 8*e_style + 32*einit + 64*eadvance (NEURON's ion_style)
        h.ion_style(name, code & 3, (code >> 3) & 3, 0, 0, 0, sec=sec)
    return saved


def _set_ion_style(sec, name: str, code: int) -> None:
    h.ion_style(name, code & 3, (code >> 3) & 3, (code >> 5) & 1, (code >> 6) & 1, (code >> 2) & 1, sec=sec)


def inserted_mechanisms(sec) -> tuple[list, list]:
    """(density mechanism names, ion names such as ``na_ion``) inserted in ``sec``."""
    names = [mech.name() for mech in sec(0.5)]
    return [n for n in names if not n.endswith("_ion")], [n for n in names if n.endswith("_ion")]


_PARAMETERS: dict = {}  # mechanism name -> its PARAMETER names without the suffix


def _parameters(mech: str) -> list:
    if mech not in _PARAMETERS:
        ms = h.MechanismStandard(mech, 1)  # PARAMETERs only: the rest is recomputed at finitialize
        ref = h.ref("")
        names = []
        for i in range(int(ms.count())):
            ms.name(ref, i)
            names.append(ref[0][: -len(mech) - 1] if ref[0].endswith("_" + mech) else ref[0])
        _PARAMETERS[mech] = names
    return _PARAMETERS[mech]


def mechanism_values(sec, compact: bool = True) -> tuple[dict, dict]:
    """(density mechanisms, ions) of ``sec`` with per-segment values (:func:`per_segment`, or
    lists of floats with ``compact=False``) of what swap_back must put back: each mechanism's
    PARAMETERs and each ion's reversal potential and concentrations. (A hand-rolled, narrower
    ``sec.psection()``, which is about 10x slower.)"""
    keep = per_segment if compact else list
    segs = list(sec)
    mechs, ions = {}, {}
    for mech in segs[0]:
        name = sys.intern(mech.name())  # one string per name, however many sections are recorded
        if name.endswith("_ion"):
            ion = sys.intern(name[: -len("_ion")])
            names, owner = tuple(sys.intern(v) for v in (f"e{ion}", f"{ion}i", f"{ion}o")), None
        else:
            names, owner = _parameters(name), name
        values = {}
        for var in names:
            try:
                if owner is None:
                    values[var] = keep([float(getattr(seg, var)) for seg in segs])
                else:
                    values[var] = keep([float(getattr(getattr(seg, owner), var)) for seg in segs])
            except (AttributeError, TypeError, ValueError):  # GLOBALs, arrays
                pass
        (ions if owner is None else mechs)[ion if owner is None else name] = values
    return mechs, ions


def soma_mechanisms(soma) -> dict:
    """Density mechanisms of the soma with per-segment PARAMETER values."""
    return mechanism_values(soma)[0]


def _is_section_list(value) -> bool:
    if type(value).__name__ == "SectionList":
        return True
    return type(value).__name__ == "HocObject" and value.hname().startswith("SectionList[")


def _pt3d(sec) -> np.ndarray:
    points = [(sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i)) for i in range(int(sec.n3d()))]
    return np.array(points, dtype=np.float64) if points else np.empty((0, 4))


def _record_section(sec) -> SectionRecord:
    inserted, layout, values = _flat_values(sec)
    parent_seg = sec.parentseg()
    return SectionRecord(
        name=relative_name(sec),
        parent=relative_name(parent_seg.sec) if parent_seg is not None else None,
        parent_x=parent_seg.x if parent_seg is not None else 0.0,
        child_x=h.section_orientation(sec=sec),
        nseg=sec.nseg,
        L=sec.L,
        diam=per_segment([float(seg.diam) for seg in sec]),
        pt3d=_pt3d(sec),
        Ra=sec.Ra,
        cm=per_segment([float(seg.cm) for seg in sec]),
        inserted=inserted,
        layout=layout,
        values=values,
    )


def save_cell(cell, doomed: list, soma, sections: bool = True) -> CellRecord:
    """Record ``doomed`` sections of ``cell`` (all but the soma), their point processes and references.

    With ``sections=False`` only what the swap itself needs (the soma's mechanisms) is recorded:
    about half of a swap's time for an L5PC, and the cell cannot be restored."""
    record = CellRecord()
    record.soma_mechanisms = soma_mechanisms(soma)
    if not sections:
        record.restorable = False
        return record
    doomed_set = set(doomed)
    for sec in doomed:
        record.sections.append(_record_section(sec))
        for seg in sec:
            for pp in seg.point_processes():
                record.point_processes.append((pp, relative_name(sec), seg.x, point_process_params(pp)))
    if type(cell).__name__ == "HocObject":
        return record  # template-owned sections cannot be recreated; swap_back refuses hoc cells
    for attr, value in list(vars(cell).items()):
        if isinstance(value, nrn.Section) and value in doomed_set:
            record.attributes.append((attr, None, relative_name(value)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, nrn.Section) and item in doomed_set:
                    record.attributes.append((attr, i, relative_name(item)))
        elif _is_section_list(value):
            names = [relative_name(s) for s in value]
            if any(s in doomed_set for s in value):
                record.section_lists.append((attr, names))
    return record


def restore_cell(cell, record: CellRecord, soma) -> None:
    """Rebuild the deleted sections of ``cell`` from ``record`` and put everything back."""
    by_name = {relative_name(soma): soma}
    for rec in record.sections:
        by_name[rec.name] = h.Section(name=rec.name, cell=cell)
    for rec in record.sections:
        sec = by_name[rec.name]
        if rec.parent is not None and rec.parent in by_name:
            sec.connect(by_name[rec.parent](rec.parent_x), rec.child_x)
    for rec in record.sections:
        sec = by_name[rec.name]
        if len(rec.pt3d):
            for x, y, z, d in rec.pt3d.tolist():
                sec.pt3dadd(x, y, z, d)
        else:
            sec.L = rec.L
        sec.nseg = rec.nseg
        if not len(rec.pt3d):
            for seg, d in zip(sec, segment_values(rec.diam, rec.nseg)):
                seg.diam = d
        sec.Ra = rec.Ra
        for seg, c in zip(sec, segment_values(rec.cm, rec.nseg)):
            seg.cm = c
        for mech in rec.inserted:
            sec.insert(mech)
        values = rec.values.reshape(len(rec.layout), rec.nseg).tolist() if rec.layout else []
        for (mech, var), block in zip(rec.layout, values):
            for seg, value in zip(sec, block):
                try:
                    setattr(getattr(seg, mech) if mech else seg, var, value)
                except (AttributeError, TypeError, ValueError):
                    pass  # read-only or array variables are recomputed at finitialize
    for pp, name, x, params in record.point_processes:
        pp.loc(by_name[name](x))
        for key, value in params.items():
            setattr(pp, key, value)
    _restore_mechanisms(soma, record.soma_mechanisms)
    for name, ion, code in record.ion_styles:  # only ions the restored mechanisms use again
        if name in by_name and ion in inserted_mechanisms(by_name[name])[1]:
            _set_ion_style(by_name[name], ion, code)
    for attr, index, name in record.attributes:
        if index is None:
            setattr(cell, attr, by_name[name])
        else:
            getattr(cell, attr)[index] = by_name[name]
    for attr, names in record.section_lists:
        section_list = getattr(cell, attr)
        for sec in list(section_list):
            section_list.remove(sec=sec)
        for name in names:
            section_list.append(by_name[name])


def _restore_mechanisms(sec, mechanisms: dict) -> None:
    for mech, vars_ in mechanisms.items():
        sec.insert(mech)
        for var, values in vars_.items():
            for seg, value in zip(sec, segment_values(values, sec.nseg)):
                try:
                    setattr(getattr(seg, mech), var, value)
                except (AttributeError, TypeError, ValueError):
                    pass  # read-only or array variables are recomputed at finitialize
