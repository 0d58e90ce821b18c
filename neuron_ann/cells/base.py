"""Shared base of the bundled ground-truth cells: ordinary NEURON Python cells."""

from __future__ import annotations

from neuron import h

from .. import mechanisms

__all__ = ["CellBase", "SYNAPSE_KINDS"]

#: add_synapse kind -> NMODL point process it creates
SYNAPSE_KINDS = {"exc": "AMPA_NMDA", "inh": "GABA_A"}


class CellBase:
    """A NEURON cell built from Python sections named ``<cell>.<name>``.

    Subclasses build their sections in ``_build()`` with ``self._section(name, group)``.
    After construction the cell has the SectionLists ``all``, ``somatic``, ``basal``,
    ``apical`` and ``axonal``, and ``synapses``, the point processes made by
    :meth:`add_synapse`.
    """

    #: temperature (degC) the cell's kinetics are meant to run at; training and the demo use it
    celsius = 6.3

    #: groups a section may belong to, each mirrored by a SectionList of the same name
    _GROUPS = ("somatic", "basal", "apical", "axonal")

    def __init__(self, gid: int = 0):
        mechanisms.load()
        self.gid = gid
        self.all = h.SectionList()
        for group in self._GROUPS:
            setattr(self, group, h.SectionList())
        self.synapses = []
        self._build()

    def _build(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _section(self, name: str, group: str):
        """Create a section called ``name`` that belongs to ``group`` (somatic, basal, apical, axonal)."""
        if group not in self._GROUPS:
            raise ValueError(f"unknown section group '{group}'; valid groups: {', '.join(self._GROUPS)}")
        sec = h.Section(name=name, cell=self)
        self.all.append(sec)
        getattr(self, group).append(sec)
        return sec

    def __repr__(self):
        return f"{type(self).__name__}[{self.gid}]"

    def add_synapse(self, kind: str, section, x: float = 0.5):
        """Place a synapse and return the point process for NetCons to target.

        Args:
            kind: ``"exc"`` (AMPA_NMDA, weight = peak AMPA conductance in uS) or
                ``"inh"`` (GABA_A, weight = peak conductance in uS).
            section: a section of this cell.
            x: position along the section, 0..1.
        """
        if kind not in SYNAPSE_KINDS:
            raise ValueError(
                f"unknown synapse kind {kind!r} for {self!r}; valid kinds: "
                + ", ".join(f"{k!r} ({v})" for k, v in SYNAPSE_KINDS.items())
            )
        if section.cell() is not self:
            raise ValueError(f"section {section.name()} does not belong to {self!r}; pass one of its own sections.")
        if not 0 <= x <= 1:
            raise ValueError(f"synapse position x={x} on {section.name()} is outside 0..1.")
        syn = getattr(h, SYNAPSE_KINDS[kind])(section(x))
        self.synapses.append(syn)
        return syn
