"""Which cell to simulate, where its contact sites are, and which readouts to record.

A cell is named by a bundled cell name (``BallHH``), ``module:callable`` (a Python
callable returning a cell), ``hoc:Template`` (a hoc template loaded by the caller), or
given directly as a Python callable. Everything here is checked before any simulation.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np
from neuron import h

from .. import celltools, mechanisms
from ..cells import CELL_TYPES, CellBase, SYNAPSE_KINDS, get_cell_class
from ..errors import DatasetError
from ..readouts import ReadoutSpec, parse_readout

__all__ = ["CellSource", "resolve_cell", "Site", "choose_sites", "place_synapse", "resolve_readouts", "readout_reference", "synapse_kinds_metadata"]


@dataclass
class CellSource:
    """A way to build one cell of the type to train on."""

    label: str  # what the user typed, or the callable's name
    factory: object  # zero-argument callable returning the cell

    def build(self):
        mechanisms.load()
        try:
            cell = self.factory()
        except DatasetError:
            raise
        except Exception as exc:
            raise DatasetError(f"building cell {self.label!r} failed: {exc}") from exc
        if cell is None:
            raise DatasetError(f"cell {self.label!r}: the callable returned None instead of a NEURON cell.")
        return cell


def _hoc_factory(template: str):
    def build():
        if not hasattr(h, template):
            raise DatasetError(
                f"hoc template {template!r} is not defined; load its .hoc file first "
                f"(h.load_file('{template}.hoc')) and load its mechanisms."
            )
        return getattr(h, template)()

    build.__name__ = f"hoc:{template}"
    return build


class _ConvertedCell:
    """Builds a cell of a model folder described by ``neuron-ann convert`` (picklable for worker processes)."""

    def __init__(self, path: str):
        self.path = path
        self.__name__ = path

    def __call__(self):
        from ..convert import load_converted

        return load_converted(self.path)()


def resolve_cell(cell) -> CellSource:
    """Turn a cell name, ``module:callable``, ``hoc:Template``, a ``neuron_ann_cell.json`` written by
    ``neuron-ann convert``, or a callable into a :class:`CellSource`.

    Raises:
        DatasetError: the name is unknown; the message lists the bundled names and forms.
    """
    if callable(cell) and not isinstance(cell, str):
        return CellSource(label=getattr(cell, "__qualname__", repr(cell)), factory=cell)
    if not isinstance(cell, str) or not cell:
        raise DatasetError(f"cell {cell!r} is neither a name nor a callable.")
    forms = (f"bundled names: {', '.join(CELL_TYPES)}; or 'module:callable' returning a cell; or 'hoc:Template'; "
             "or a neuron_ann_cell.json from 'neuron-ann convert'")
    if cell.endswith(".json"):
        from pathlib import Path

        if not Path(cell).is_file():
            raise DatasetError(f"cell description {cell!r} does not exist; run 'neuron-ann convert FOLDER' first.")
        return CellSource(label=cell, factory=_ConvertedCell(str(Path(cell).resolve())))
    if cell.startswith("hoc:"):
        return CellSource(label=cell, factory=_hoc_factory(cell[4:]))
    if cell in CELL_TYPES:
        try:
            cls = get_cell_class(cell)
        except ImportError as exc:
            raise DatasetError(f"bundled cell {cell!r} cannot be imported ({exc}).") from exc
        return CellSource(label=cell, factory=cls)
    if ":" in cell:
        module_name, _, attr = cell.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise DatasetError(f"cell {cell!r}: cannot import module {module_name!r} ({exc}); {forms}.") from exc
        factory = getattr(module, attr, None)
        if not callable(factory):
            raise DatasetError(f"cell {cell!r}: module {module_name!r} has no callable {attr!r}; {forms}.")
        return CellSource(label=cell, factory=factory)
    raise DatasetError(f"unknown cell {cell!r}; {forms}.")


@dataclass(frozen=True)
class Site:
    section: str
    x: float
    kind: str  # "exc" or "inh"
    path_distance_um: float

    def as_dict(self) -> dict:
        return {"section": self.section, "x": self.x, "kind": self.kind, "path_distance_um": round(self.path_distance_um, 3)}


def _segments(sections):
    out = []
    for sec in sections:
        for seg in sec:
            out.append((sec, seg.x, seg.area()))
    return out


def choose_sites(cell, n_sites: int, seed: int, exc_fraction: float = 0.8) -> list[Site]:
    """Pick ``n_sites`` contact sites, area-weighted over the cell's non-axonal segments.

    A single-compartment cell gets every site at ``soma(0.5)``. Cells with basal and apical
    groups get half their sites on each (like Olah et al. 2022's L5PC inputs). About
    ``exc_fraction`` of the sites are excitatory.
    """
    if n_sites < 1:
        raise DatasetError(f"the number of contact sites must be at least 1, got {n_sites}.")
    rng = np.random.default_rng([seed, 7])
    soma = celltools.soma_of(cell)
    sections = celltools.cell_sections(cell)
    axonal = set()
    if isinstance(cell, CellBase):
        axonal = {s.name() for s in cell.axonal}
    else:
        axonal = {s.name() for s in sections if "axon" in celltools.relative_name(s) or "myelin" in celltools.relative_name(s)}
    candidates = [s for s in sections if s.name() not in axonal] or [soma]
    n_exc = int(round(exc_fraction * n_sites)) if n_sites > 1 else 1
    kinds = ["exc"] * n_exc + ["inh"] * (n_sites - n_exc)
    groups = [candidates]
    if isinstance(cell, CellBase) and len(cell.basal) and len(cell.apical):
        groups = [list(cell.basal), list(cell.apical)]
    picks = []
    for i, kind in enumerate(kinds):
        group = groups[i % len(groups)]
        segs = _segments(group)
        area = np.array([a for _, _, a in segs])
        sec, x, _ = segs[rng.choice(len(segs), p=area / area.sum())]
        picks.append((sec, x, kind))
    sites = [
        Site(celltools.relative_name(sec), float(round(x, 6)), kind, celltools.path_distance_um(cell, sec, x))
        for sec, x, kind in picks
    ]
    return sorted(sites, key=lambda s: (s.kind, s.path_distance_um, s.section, s.x))


def place_synapse(cell, site: dict):
    """Create the synapse of ``site`` (a dict with section, x, kind) on ``cell``."""
    try:
        sec = celltools.section_by_name(cell, site["section"])
    except KeyError as exc:
        raise DatasetError(str(exc).strip('"')) from None
    if isinstance(cell, CellBase):
        return cell.add_synapse(site["kind"], sec, site["x"])
    return getattr(h, SYNAPSE_KINDS[site["kind"]])(sec(site["x"]))


def synapse_kinds_metadata() -> dict:
    """The ``synapse_kinds`` entry of the bundle: mechanism and its default parameters."""
    mechanisms.load()
    out = {}
    for kind, mech in SYNAPSE_KINDS.items():
        sec = h.Section(name="_probe")
        pp = getattr(h, mech)(sec(0.5))
        names = ("tau_r_AMPA", "tau_d_AMPA", "tau_r_NMDA", "tau_d_NMDA", "NMDA_ratio", "e", "mg") if mech == "AMPA_NMDA" else ("tau_r", "tau_d", "e")
        out[kind] = {"mechanism": mech, "params": {n: float(getattr(pp, n)) for n in names}, "weight_units": "uS"}
        del pp
        h.delete_section(sec=sec)
    return out


def resolve_readouts(cell, names) -> list[ReadoutSpec]:
    """Parse and check readout names against ``cell``; DatasetError lists valid sections/variables."""
    specs = []
    for name in names or []:
        spec = parse_readout(name)
        readout_reference(cell, spec)  # raises when it does not exist
        specs.append(spec)
    if len({s.name for s in specs}) != len(specs):
        raise DatasetError(f"readouts {list(names)} name the same readout twice.")
    return specs


def readout_reference(cell, spec: ReadoutSpec):
    """The NEURON pointer recorded for ``spec`` (fluorescence records its cai)."""
    if spec.section is None:
        seg = celltools.soma_of(cell)(0.5)
    else:
        try:
            sec = celltools.section_by_name(cell, spec.section)
        except KeyError as exc:
            raise DatasetError(f"readout {spec.name!r}: {str(exc).strip(chr(34))}") from None
        seg = sec(spec.x)
    variable = "cai" if spec.variable == "fluorescence" else spec.variable
    try:
        return getattr(seg, f"_ref_{variable}")
    except (NameError, AttributeError, LookupError) as exc:
        present = sorted(
            {"v"}
            | ({"cai"} if _has(seg, "cai") else set())
            | ({"ina"} if _has(seg, "ina") else set())
            | ({"ik"} if _has(seg, "ik") else set())
        )
        raise DatasetError(
            f"readout {spec.name!r}: {seg} has no {variable!r} (no mechanism there writes it); "
            f"variables available there: {', '.join(present)}."
        ) from exc


def _has(seg, name) -> bool:
    try:
        getattr(seg, f"_ref_{name}")
        return True
    except Exception:
        return False
