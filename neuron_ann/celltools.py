"""Finding and describing the cells of a NEURON model, shared by the dataset and the bridge.

A *cell* is the object that owns its sections: the Python object passed as
``h.Section(..., cell=obj)``, or the hoc template instance. Sections are named relative to
their cell (``dend[3]``), which is how bundles refer to contact sites and readouts.
"""

from __future__ import annotations

import hashlib

from neuron import h

from .errors import SwapError

__all__ = [
    "cells_in_model",
    "cell_key",
    "sections_by_cell",
    "cell_sections",
    "cell_type_name",
    "is_hoc_cell",
    "relative_name",
    "section_by_name",
    "soma_of",
    "fingerprint",
    "fingerprints_match",
    "path_distance_um",
]


def is_hoc_cell(cell) -> bool:
    """True for a hoc template instance, False for a Python object."""
    return type(cell).__name__ == "HocObject"


def cell_key(cell):
    """A hashable identity of a cell (hoc objects are compared by name, Python objects by id)."""
    return ("hoc", cell.hname()) if is_hoc_cell(cell) else ("py", id(cell))


def sections_by_cell() -> dict:
    """``{cell_key(cell): [sections]}`` for every cell, in one pass over all sections."""
    index = {}
    for sec in h.allsec():
        cell = sec.cell()
        if cell is not None:
            index.setdefault(cell_key(cell), []).append(sec)
    return index


def cells_in_model() -> list:
    """Every cell that owns sections, in section creation order. Sections without a cell are skipped."""
    seen = {}
    for sec in h.allsec():
        cell = sec.cell()
        if cell is not None:
            seen.setdefault(cell_key(cell), cell)
    return list(seen.values())


def cell_sections(cell, index: dict | None = None) -> list:
    """All sections of ``cell`` (``index`` from :func:`sections_by_cell` avoids a pass over every section)."""
    if index is not None:
        return list(index.get(cell_key(cell), []))
    key = cell_key(cell)
    return [sec for sec in h.allsec() if sec.cell() is not None and cell_key(sec.cell()) == key]


def cell_type_name(cell) -> str:
    """``module.QualifiedName`` for a Python cell, the template name for a hoc cell."""
    if is_hoc_cell(cell):
        return cell.hname().split("[")[0]
    return f"{type(cell).__module__}.{type(cell).__qualname__}"


def relative_name(sec) -> str:
    """Section name without its cell's prefix: ``"L5PC[0].apic[12]"`` -> ``"apic[12]"``."""
    return sec.name().rsplit(".", 1)[-1]


def section_by_name(cell, name: str, sections: list | None = None):
    """The section of ``cell`` whose relative name is ``name``; KeyError lists the valid names."""
    sections = {relative_name(sec): sec for sec in (sections if sections is not None else cell_sections(cell))}
    if name not in sections:
        shown = ", ".join(list(sections)[:12]) + (" ..." if len(sections) > 12 else "")
        raise KeyError(f"{cell!r} has no section named {name!r}; its sections are: {shown}")
    return sections[name]


def soma_of(cell):
    """The soma section of ``cell`` (attribute ``soma``, or a section named ``soma``/``soma[0]``)."""
    soma = getattr(cell, "soma", None)
    if soma is not None and hasattr(soma, "nseg") and hasattr(soma, "name"):
        return soma
    for sec in cell_sections(cell):
        if relative_name(sec) in ("soma", "soma[0]"):
            return sec
    raise SwapError(
        f"cell {cell!r} has no soma: give it a section attribute 'soma' or a section named 'soma', "
        "which neuron_ann uses for the somatic voltage, spikes and current input."
    )


def fingerprint(cell, sections: list | None = None) -> dict:
    """A structural fingerprint: section and segment counts, membrane area and a hash of names and nseg."""
    sections = sections if sections is not None else cell_sections(cell)
    names = sorted(f"{relative_name(sec)}:{sec.nseg}" for sec in sections)
    area = sum(seg.area() for sec in sections for seg in sec)
    return {
        "n_sections": len(sections),
        "n_segments": sum(sec.nseg for sec in sections),
        "area_um2": round(area, 3),
        "names_sha1": hashlib.sha1("\n".join(names).encode()).hexdigest()[:16],
    }


def fingerprints_match(expected: dict, actual: dict, area_rtol: float = 0.01) -> list[str]:
    """Differences between two fingerprints as readable strings (empty when they match)."""
    problems = []
    for key in ("n_sections", "n_segments", "names_sha1"):
        if expected.get(key) != actual.get(key):
            problems.append(f"{key}: bundle has {expected.get(key)}, cell has {actual.get(key)}")
    a, b = expected.get("area_um2", 0.0), actual.get("area_um2", 0.0)
    if abs(a - b) > area_rtol * max(abs(a), 1e-9):
        problems.append(f"membrane area: bundle has {a:.1f} um2, cell has {b:.1f} um2")
    return problems


def path_distance_um(cell, sec, x: float) -> float:
    """Path distance from the middle of the soma to ``sec(x)`` in um."""
    soma = soma_of(cell)
    return float(h.distance(soma(0.5), sec(x)))
