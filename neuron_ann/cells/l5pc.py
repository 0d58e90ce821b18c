"""L5PC: a detailed thick-tufted layer-5 pyramidal cell with the Hay et al. 2011 channels.

Channels and their distribution follow Hay E, Hill S, Schuermann F, Markram H & Segev I
(2011) Models of neocortical layer 5b pyramidal cells capturing a wide range of dendritic
and perisomatic active properties. PLoS Comput Biol 7:e1002107 (the model fitted to both
BAC firing and current-step firing, with AP initiation in the axon). The NMODL files in
``mod/`` (NaTa_t, NaTs2_t, Nap_Et2, K_Pst, K_Tst, SKv3_1, SK_E2, Im, Ih, Ca_HVA,
Ca_LVAst, CaDynamics_E2) were written from the published kinetic equations.

The morphology is not a reconstruction: it is generated procedurally from a seeded
random number generator (``numpy.random.default_rng([seed, part])``, one stream for each
of the basal trees, trunk, obliques, tuft and axon) with the lengths and
diameters of a thick-tufted L5 pyramid: a 20 um soma, axon hillock and initial segment
(where the spike starts) plus a myelinated axon stub, eight branching basal trees, an
apical trunk of about 700 um with oblique branches, a main bifurcation at the nexus and
a branching tuft reaching ~1250 um from the soma. The same seed always gives the same
cell. Densities are the published ones except two documented scale factors (``TUNING``)
needed on this morphology.

The hoc template ``hoc/L5PC.hoc`` is *generated* from this class by
``python -m neuron_ann.cells.l5pc --write-hoc hoc/L5PC.hoc``: it holds the topology, the
3-D points, nseg and every mechanism parameter of every segment of the default cell
written out literally, so the two are identical by construction (a test regenerates the
file and compares).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np
from neuron import h

from .base import CellBase

__all__ = [
    "L5PC",
    "DEFAULT_SEED",
    "generate_morphology",
    "write_hoc_template",
    "hoc_template_text",
    "measure_passive",
    "measure_step_firing",
    "measure_bap",
    "measure_dendritic_response",
    "physiology_report",
]

#: seed of the default morphology (the one the hoc template and the shipped bundles use)
DEFAULT_SEED = 20110721


# --------------------------------------------------------------------------------------
# morphology
# --------------------------------------------------------------------------------------


@dataclass
class SectionSpec:
    """One unbranched section of the generated morphology."""

    name: str  # relative name, e.g. "apic[12]"
    group: str  # somatic, basal, apical, axonal
    parent: str | None  # relative name of the parent section
    parent_x: float  # where on the parent it attaches
    points: np.ndarray  # (n, 4): x, y, z, diam in um
    role: str = ""  # trunk, oblique, tuft, basal, hillock, ais, myelin, soma


def _unit(v):
    return v / np.linalg.norm(v)


def _tilt(rng, direction, angle_deg):
    """A unit vector at ``angle_deg`` from ``direction`` around a random azimuth."""
    r = rng.normal(size=3)
    perp = _unit(r - r.dot(direction) * direction)
    a = math.radians(angle_deg)
    return _unit(math.cos(a) * direction + math.sin(a) * perp)


def _path(rng, start, heading, length, d0, d1, step=12.0, wiggle=0.15):
    """3-D points of a gently tortuous path of arc length ``length`` tapering d0 -> d1."""
    n = max(2, int(math.ceil(length / step)) + 1)
    ds = length / (n - 1)
    p = np.asarray(start, float)
    direction = heading
    pts = [(*p, d0)]
    for i in range(1, n):
        direction = _unit(0.6 * direction + 0.4 * heading + wiggle * rng.normal(size=3))
        p = p + ds * direction
        pts.append((*p, d0 + (d1 - d0) * i / (n - 1)))
    return np.array(pts), direction


class _MorphologyGenerator:
    # Lengths in um. Values chosen within the ranges reported for rat thick-tufted L5
    # pyramids (Markram et al. 1997 J Physiol 500:409; Ramaswamy & Markram 2015 Front
    # Cell Neurosci 9:233): soma ~20 um, 7-8 basal trees ~150-250 um in radius, apical
    # trunk 600-700 um to the main bifurcation, tuft up to ~1200 um from the soma.
    n_basal_trees = 8
    basal_branch_prob = (1.0, 0.8, 0.5, 0.2)  # by branch order
    tuft_branch_prob = (1.0, 0.9, 0.75, 0.5, 0.2)
    oblique_at = (20, 55, 90, 125, 165, 205, 250, 295, 345, 395, 450, 510)  # um along the trunk

    def __init__(self, seed):
        # one stream per part, so that a change to one part leaves the others as they were
        self.r = {part: np.random.default_rng([seed, k]) for k, part in enumerate(("basal", "trunk", "oblique", "tuft", "axon"))}
        self.specs = {"somatic": [], "basal": [], "apical": [], "axonal": []}

    def _add(self, group, prefix, parent, parent_x, points, role):
        lst = self.specs[group]
        name = "soma" if prefix == "soma" else f"{prefix}[{len(lst)}]"
        lst.append(SectionSpec(name, group, parent, parent_x, points, role))
        return name

    def build(self):
        # soma: a 22 um x 20 um cylinder along y (apical side at +y)
        soma_pts = np.array([[0, -11, 0, 20.0], [0, 0, 0, 20.0], [0, 11, 0, 20.0]])
        self._add("somatic", "soma", None, 0.0, soma_pts, "soma")

        # basal trees from around the soma's equator and lower half
        rng = self.r["basal"]
        azimuths = np.linspace(0, 2 * np.pi, self.n_basal_trees, endpoint=False)
        azimuths = azimuths + rng.uniform(-0.3, 0.3, size=azimuths.size)
        for az in azimuths:
            el = math.radians(rng.uniform(-60, 5))
            heading = np.array([math.cos(az) * math.cos(el), math.sin(el), math.sin(az) * math.cos(el)])
            start = np.array([10 * math.cos(az), rng.uniform(-6, 4), 10 * math.sin(az)])
            self._basal(start, _unit(heading), rng.uniform(1.4, 2.0), 0, "soma", 0.5)

        # apical trunk with obliques
        rng = self.r["trunk"]
        trunk_len = rng.uniform(675, 700)
        cuts = [c + rng.uniform(-8, 8) for c in self.oblique_at] + [trunk_len]
        p = np.array([0.0, 11.0, 0.0])
        up = np.array([0.0, 1.0, 0.0])
        parent, s0 = "soma", 0.0
        side = rng.uniform(0, 2 * np.pi)

        def trunk_diam(s):
            return 3.3 + 2.0 * (1 - s / trunk_len) ** 1.3

        heading = up
        for k, s1 in enumerate(cuts):
            pts, _ = _path(rng, p, _unit(up + 0.05 * rng.normal(size=3)), s1 - s0, trunk_diam(s0), trunk_diam(s1), wiggle=0.05)
            parent = self._add("apical", "apic", parent, 1.0, pts, "trunk")
            p = pts[-1, :3]
            s0 = s1
            if k < len(self.oblique_at):
                side += rng.uniform(2.0, 2.6)  # roughly alternating sides
                lateral = np.array([math.cos(side), 0.0, math.sin(side)])
                heading = _unit(lateral + rng.uniform(0.3, 0.9) * up)
                d_root = max(0.9, 1.7 - 0.9 * s1 / 500)
                self._oblique(p, heading, d_root, parent)

        # main bifurcation (nexus) and tuft
        for d_root, sign in ((2.0, 1.0), (1.7, -1.0)):
            lateral = np.array([math.cos(side) * sign, 0.0, math.sin(side) * sign])
            heading = _unit(up + rng.uniform(0.4, 0.7) * lateral)
            self._tuft(p, heading, d_root, 0, parent)

        rng = self.r["axon"]
        # axon: hillock, initial segment (spike initiation, Hay et al. 2011's 60 um axon)
        # and a myelinated stub
        down = np.array([0.0, -1.0, 0.0])
        pts, _ = _path(rng, [0, -11, 0], down, 20.0, 2.6, 1.6, wiggle=0.0)
        name = self._add("axonal", "axon", "soma", 0.0, pts, "hillock")
        pts, _ = _path(rng, pts[-1, :3], down, 40.0, 1.4, 1.2, wiggle=0.0)
        name = self._add("axonal", "axon", name, 1.0, pts, "ais")
        pts, _ = _path(rng, pts[-1, :3], down, 200.0, 1.2, 1.2, wiggle=0.05)
        self._add("axonal", "axon", name, 1.0, pts, "myelin")
        return self.specs["somatic"] + self.specs["basal"] + self.specs["apical"] + self.specs["axonal"]

    def _basal(self, start, heading, diam, order, parent, parent_x):
        rng = self.r["basal"]
        p_branch = self.basal_branch_prob[order] if order < len(self.basal_branch_prob) else 0.0
        branches = rng.uniform() < p_branch
        if order == 0:
            length = rng.uniform(10, 30)
        elif branches:
            length = rng.uniform(20, 50)
        else:
            length = rng.uniform(40, 100)
        d_end = max(0.5, diam * 0.9) if branches else 0.5
        pts, end_dir = _path(rng, start, heading, length, diam, d_end)
        name = self._add("basal", "dend", parent, parent_x, pts, "basal")
        if branches:
            d_child = max(0.55, d_end * rng.uniform(0.7, 0.8))
            for _ in range(2):
                self._basal(pts[-1, :3], _tilt(rng, end_dir, rng.uniform(20, 40)), d_child, order + 1, name, 1.0)

    def _oblique(self, start, heading, diam, parent, order=0):
        rng = self.r["oblique"]
        branches = rng.uniform() < (0.7, 0.3, 0.0)[order]
        length = rng.uniform(30, 80) if branches else rng.uniform(100, 200)
        d_end = max(0.55, diam * 0.85) if branches else 0.45
        pts, end_dir = _path(rng, start, heading, length, diam, d_end)
        name = self._add("apical", "apic", parent, 1.0, pts, "oblique")
        if branches:
            d_child = max(0.55, d_end * rng.uniform(0.7, 0.8))
            for _ in range(2):
                self._oblique(pts[-1, :3], _tilt(rng, end_dir, rng.uniform(20, 40)), d_child, name, order + 1)

    def _tuft(self, start, heading, diam, order, parent):
        rng = self.r["tuft"]
        p_branch = self.tuft_branch_prob[order] if order < len(self.tuft_branch_prob) else 0.0
        branches = rng.uniform() < p_branch
        if order == 0:
            length = rng.uniform(60, 110)
        elif branches:
            length = rng.uniform(40, 100)
        else:
            length = rng.uniform(100, 220)
        d_end = max(0.55, diam * 0.9) if branches else 0.5
        pts, end_dir = _path(rng, start, heading, length, diam, d_end)
        name = self._add("apical", "apic", parent, 1.0, pts, "tuft")
        if branches:
            d_child = max(0.6, d_end * rng.uniform(0.68, 0.78))
            for _ in range(2):
                child = _unit(_tilt(rng, end_dir, rng.uniform(20, 35)) + 0.3 * np.array([0, 1.0, 0]))
                self._tuft(pts[-1, :3], child, d_child, order + 1, name)


def generate_morphology(seed: int = DEFAULT_SEED) -> list[SectionSpec]:
    """The section list of the L5PC generated with ``seed``, in creation order
    (soma, dend[...], apic[...], axon[...])."""
    return _MorphologyGenerator(seed).build()


# --------------------------------------------------------------------------------------
# biophysics
# --------------------------------------------------------------------------------------

#: Passive properties (Hay et al. 2011): Ra 100 ohm cm, e_pas -90 mV, cm 1 uF/cm2 at the
#: soma and axon and 2 uF/cm2 in the dendrites (spine area), g_pas per region (S/cm2).
PASSIVE = {
    "Ra": 100.0,
    "e_pas": -90.0,
    "cm": {"somatic": 1.0, "axonal": 1.0, "basal": 2.0, "apical": 2.0, "myelin": 0.02},
    "g_pas": {"somatic": 0.0000338, "axonal": 0.0000325, "basal": 0.0000467, "apical": 0.0000589, "myelin": 1e-6},
}

#: Reversal potentials (mV).
ENA, EK, EHCN = 50.0, -85.0, -45.0

#: Uniform densities (S/cm2) and Ca2+ dynamics per region, Hay et al. 2011. Somatic and
#: axonal values: their model fitted to BAC firing and step firing with AP initiation in
#: the axon. Apical values (NaTs2_t 0.0213, SKv3_1 0.000261, Im 0.0000675, SK_E2 0.0012,
#: CaDynamics gamma 0.000509 / decay 122 ms, g_pas 5.89e-5) and the Ih and Ca2+
#: distributions: the apical set of their BAC-fitted model (which used NaTa_t in the
#: apical tree; NaTs2_t here, as in the axon-initiation variant). "axonal" applies to the
#: hillock and initial segment; the myelinated stub is passive.
CHANNELS = {
    "somatic": {
        "NaTs2_t": {"gNaTs2_tbar": 0.983955},
        "SKv3_1": {"gSKv3_1bar": 0.303472},
        "SK_E2": {"gSK_E2bar": 0.008407},
        "Ca_HVA": {"gCa_HVAbar": 0.000994},
        "Ca_LVAst": {"gCa_LVAstbar": 0.000333},
        "CaDynamics_E2": {"gamma": 0.000609, "decay": 210.485284},
        "Ih": {"gIhbar": 0.0002},
    },
    "axonal": {
        "NaTa_t": {"gNaTa_tbar": 3.137968},
        "Nap_Et2": {"gNap_Et2bar": 0.006827},
        "K_Pst": {"gK_Pstbar": 0.973538},
        "K_Tst": {"gK_Tstbar": 0.089259},
        "SKv3_1": {"gSKv3_1bar": 1.021945},
        "SK_E2": {"gSK_E2bar": 0.007104},
        "Ca_HVA": {"gCa_HVAbar": 0.000990},
        "Ca_LVAst": {"gCa_LVAstbar": 0.008752},
        "CaDynamics_E2": {"gamma": 0.002910, "decay": 287.198731},
    },
    "basal": {
        "Ih": {"gIhbar": 0.0002},
    },
    "apical": {
        "NaTs2_t": {"gNaTs2_tbar": 0.0213},
        "SKv3_1": {"gSKv3_1bar": 0.000261},
        "Im": {"gImbar": 0.0000675},
        "SK_E2": {"gSK_E2bar": 0.0012},
        "CaDynamics_E2": {"gamma": 0.000509, "decay": 122.0},
        # distance-dependent (set per segment below): Ih, Ca_HVA, Ca_LVAst
        "Ih": {"gIhbar": 0.0002},
        "Ca_HVA": {"gCa_HVAbar": 0.000555},
        "Ca_LVAst": {"gCa_LVAstbar": 0.0187},
    },
}

#: Apical Ih rises exponentially with path distance d (um) from the soma (Kole et al.
#: 2006; Hay et al. 2011): gIh(d) = gIh0 * (-0.8696 + 2.087 * exp(d / 323)).
IH_GRADIENT = (-0.8696, 2.087, 323.0)

#: Ca2+ "hot zone" around the main bifurcation (Hay et al. 2011): full density between
#: 685 and 885 um from the soma; elsewhere in the apical tree Ca_HVA is at 10% and
#: Ca_LVAst at 1% of it.
HOT_ZONE_UM = (685.0, 885.0)
HOT_ZONE_OUTSIDE = {"Ca_HVA": 0.1, "Ca_LVAst": 0.01}

#: Tuning on this generated morphology: multiplicative factors on the published
#: densities, keyed by (region, mechanism). Only conductance scale factors are used:
#: - apical NaTs2_t x0.75: with the published 0.0213 S/cm2 the back-propagating AP
#:   regenerates fully along this trunk (about 65-75 mV at 400-700 um) and a single bAP
#:   sets off a Ca2+ spike and a somatic doublet, against 45 +/- 10 mV measured (Hay et
#:   al. 2011, Table 1) and no Ca2+ spike from a bAP alone (Larkum et al. 1999); x0.75
#:   gives about 44 mV at 400 um and 31 mV at 600 um. (The bAP switches from graded to
#:   fully regenerative between x0.85 and x0.9 on this morphology.)
#: - apical Ca_HVA x4 (hot zone and the 10% elsewhere): with x1 (and NaTs2_t x0.75) this
#:   morphology makes no sustained dendritic Ca2+ spike (a 2 nA distal EPSP-shaped current
#:   gives 9 ms above -40 mV) and BAC firing gives a single somatic AP; x4 gives a Ca2+
#:   plateau and the BAC burst of 3 APs at ~12 ms intervals (Hay et al. 2011 Table 1:
#:   3 APs, ISI 9.9 ms).
TUNING = {("apical", "NaTs2_t"): 0.75, ("apical", "Ca_HVA"): 4.0}

#: Discretisation as in the published model (Hay et al. 2011): nseg = 1 + 2 int(L / 40 um),
#: segments of 20-40 um (669 segments for the default cell). Checked against 15 um
#: segments (1803 segments): bAP amplitudes within 1 mV, the same BAC burst and Ca2+
#: spike (3 somatic APs, spike times within ~1 ms).
SEGMENT_UM = 40.0


def _nseg(sec):
    return 1 + 2 * int(sec.L / SEGMENT_UM)


class L5PC(CellBase):
    """Thick-tufted layer-5 pyramidal cell, Hay et al. 2011 channels, generated morphology.

    Attributes: ``soma`` (section), ``dend`` (basal sections), ``apic`` (apical: trunk,
    obliques, tuft), ``axon`` (hillock, initial segment, myelinated stub), the SectionLists
    ``all``, ``somatic``, ``basal``, ``apical``, ``axonal``, ``trunk`` (list of the apical
    trunk sections, soma to nexus; a SectionList in the hoc template), and ``roles``
    (relative section name -> trunk, oblique, tuft, basal, hillock, ais, myelin or soma).

    The rates of all channels are fixed at 34 degC (as published); ``h.celsius`` does not
    change them.

    Args:
        gid: identifier kept on the cell (``cell.gid``).
        seed: seed of the generated morphology; the default gives the cell that the hoc
            template ``L5PC`` and the shipped bundles use.
    """

    celsius = 34.0  # the temperature the published kinetics are written for

    def __init__(self, gid: int = 0, seed: int = DEFAULT_SEED):
        self.seed = int(seed)
        super().__init__(gid)

    # ---- construction ------------------------------------------------------------
    def _build(self):
        specs = generate_morphology(self.seed)
        self.dend, self.apic, self.axon = [], [], []
        self.roles = {}
        by_name = {}
        for spec in specs:
            sec = self._section(spec.name, spec.group)
            by_name[spec.name] = sec
            self.roles[spec.name] = spec.role
            if spec.name == "soma":
                self.soma = sec
            else:
                {"basal": self.dend, "apical": self.apic, "axonal": self.axon}[spec.group].append(sec)
            for x, y, z, d in spec.points:
                h.pt3dadd(float(x), float(y), float(z), float(d), sec=sec)
        for spec in specs:
            if spec.parent is not None:
                by_name[spec.name].connect(by_name[spec.parent](spec.parent_x), 0)
        self.trunk = [by_name[s.name] for s in specs if s.role == "trunk"]
        self._biophys()

    def _region(self, sec):
        role = self.roles[sec.name().rsplit(".", 1)[-1]]
        if role == "myelin":
            return "myelin"
        for group in ("somatic", "axonal", "basal", "apical"):
            if getattr(self, group).contains(sec):
                return group
        raise AssertionError(sec)

    def _path_distances(self) -> dict:
        """Path distance (um) from the soma's middle to each section's 0 end, computed along
        the parent chain (h.distance would re-sort the whole model's tree once per cell,
        which makes building many cells quadratic)."""
        start = {}
        for sec in self.all:  # parents come before their children
            parent = sec.parentseg()
            if parent is None:
                continue
            psec, px = parent.sec, parent.x
            if psec == self.soma:
                start[sec] = abs(px - 0.5) * psec.L
            else:
                start[sec] = start[psec] + px * psec.L
        return start

    def _biophys(self):
        start = None
        for sec in self.all:
            region = self._region(sec)
            sec.Ra = PASSIVE["Ra"]
            sec.cm = PASSIVE["cm"][region]
            sec.nseg = _nseg(sec)
            sec.insert("pas")
            for seg in sec:
                seg.pas.g = PASSIVE["g_pas"][region]
                seg.pas.e = PASSIVE["e_pas"]
            for mech, params in CHANNELS.get(region, {}).items():
                sec.insert(mech)
                for pname, value in params.items():
                    if pname.startswith("g"):  # conductances only
                        value *= TUNING.get((region, mech), 1.0)
                    for seg in sec:
                        setattr(seg, f"{pname}_{mech}", value)
            if region == "apical":
                if start is None:
                    start = self._path_distances()
                for seg in sec:
                    d = start[sec] + seg.x * sec.L
                    a, b, lam = IH_GRADIENT
                    seg.gIhbar_Ih = seg.gIhbar_Ih * (a + b * math.exp(d / lam))
                    if not (HOT_ZONE_UM[0] < d < HOT_ZONE_UM[1]):
                        seg.gCa_HVAbar_Ca_HVA *= HOT_ZONE_OUTSIDE["Ca_HVA"]
                        seg.gCa_LVAstbar_Ca_LVAst *= HOT_ZONE_OUTSIDE["Ca_LVAst"]
            if h.ismembrane("na_ion", sec=sec):
                sec.ena = ENA
            if h.ismembrane("k_ion", sec=sec):
                sec.ek = EK
            if h.ismembrane("Ih", sec=sec):
                for seg in sec:
                    seg.ehcn_Ih = EHCN

    # ---- conveniences used by tests and the dataset -------------------------------
    def distance(self, seg) -> float:
        """Path distance (um) from the middle of the soma to ``seg``."""
        return h.distance(self.soma(0.5), seg)

    def trunk_segment_at(self, distance_um: float):
        """The apical trunk segment whose path distance from the soma is nearest ``distance_um``."""
        best = min((abs(self.distance(seg) - distance_um), i, seg) for i, sec in enumerate(self.trunk) for seg in sec)
        return best[2]

    @property
    def n_segments(self) -> int:
        return sum(sec.nseg for sec in self.all)


# --------------------------------------------------------------------------------------
# hoc template
# --------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def _mechanism_parameters(name):
    ms = h.MechanismStandard(name, 1)  # PARAMETERs only
    out = []
    ref = h.ref("")
    for i in range(int(ms.count())):
        ms.name(ref, i)
        out.append(ref[0])
    return out


def _density_mechanisms(sec):
    names = []
    mt = h.MechanismType(0)
    ref = h.ref("")
    for i in range(int(mt.count())):
        mt.select(i)
        mt.selected(ref)
        name = ref[0]
        if name.endswith("_ion") or name in ("morphology", "capacitance"):
            continue
        if h.ismembrane(name, sec=sec):
            names.append(name)
    return names


def hoc_template_text(cell: L5PC | None = None) -> str:
    """The text of the hoc template ``L5PC`` equivalent to ``cell`` (default: a new default cell)."""
    own = cell is None
    if own:
        cell = L5PC()
    try:
        return _template_text(cell)
    finally:
        if own:
            del cell


def _template_text(cell) -> str:
    rel = lambda sec: sec.name().rsplit(".", 1)[-1]  # noqa: E731
    secs = list(cell.all)
    n = {"dend": len(cell.dend), "apic": len(cell.apic), "axon": len(cell.axon)}
    L = []
    w = L.append
    w("// L5PC: thick-tufted layer-5 pyramidal cell, Hay et al. 2011 (PLoS Comput Biol 7:e1002107)")
    w("// channels on a procedurally generated morphology (seed %d)." % cell.seed)
    w("// GENERATED by `python -m neuron_ann.cells.l5pc --write-hoc hoc/L5PC.hoc` from the Python")
    w("// class neuron_ann.cells.l5pc.L5PC; do not edit by hand. Needs the neuron_ann mechanisms")
    w("// (python -c 'import neuron_ann.mechanisms as m; print(m.library_path())'; nrniv -dll <lib>).")
    w("// Usage: load_file(\"L5PC.hoc\")  objref c  c = new L5PC()   (or new L5PC(gid))")
    w("")
    w("begintemplate L5PC")
    w("public soma, dend, apic, axon, trunk, all, somatic, basal, apical, axonal, gid, seed")
    w(f"create soma, dend[{n['dend']}], apic[{n['apic']}], axon[{n['axon']}]")
    w("objref all, somatic, basal, apical, axonal, trunk")
    w("")
    w("proc topol() {")
    for sec in secs:
        parent_seg = sec.parentseg()
        if parent_seg is None:
            continue
        w(f"    connect {rel(sec)}(0), {rel(parent_seg.sec)}({_fmt(parent_seg.x)})")
    w("}")
    w("")
    w("proc geom() {")
    for sec in secs:
        w(f"    {rel(sec)} {{ pt3dclear()")
        for i in range(int(sec.n3d())):
            w(f"        pt3dadd({_fmt(sec.x3d(i))}, {_fmt(sec.y3d(i))}, {_fmt(sec.z3d(i))}, {_fmt(sec.diam3d(i))})")
        w("    }")
    w("}")
    w("")
    w("proc lists() {")
    w("    all = new SectionList()  somatic = new SectionList()  basal = new SectionList()")
    w("    apical = new SectionList()  axonal = new SectionList()  trunk = new SectionList()")
    for lst in ("all", "somatic", "basal", "apical", "axonal"):
        for sec in getattr(cell, lst):
            w(f"    {rel(sec)} {lst}.append()")
    for sec in cell.trunk:
        w(f"    {rel(sec)} trunk.append()")
    w("}")
    w("")
    # biophysics: one proc per section keeps each proc small (defined before use)
    for i, sec in enumerate(secs):
        w("")
        w(f"proc bp{i}() {{ {rel(sec)} {{")
        w(f"    nseg = {sec.nseg}  Ra = {_fmt(sec.Ra)}  cm = {_fmt(sec.cm)}")
        segs = list(sec)
        for mech in _density_mechanisms(sec):
            w(f"    insert {mech}")
            for p in _mechanism_parameters(mech):
                name = p  # full hoc name, e.g. gIhbar_Ih, g_pas
                vals = [getattr(seg, name) for seg in segs]
                if all(v == vals[0] for v in vals):
                    w(f"    {name} = {_fmt(vals[0])}")
                else:
                    for seg, v in zip(segs, vals):
                        w(f"    {name}({_fmt(seg.x)}) = {_fmt(v)}")
        for ion, var in (("na_ion", "ena"), ("k_ion", "ek")):
            if h.ismembrane(ion, sec=sec):
                vals = {getattr(seg, var) for seg in segs}
                assert len(vals) == 1
                w(f"    {var} = {_fmt(vals.pop())}")
        w("} }")
    w("")
    w("proc biophys() {")
    for i in range(len(secs)):
        w(f"    bp{i}()")
    w("}")
    w("")
    w("proc init() {")
    w("    gid = 0")
    w("    if (numarg() > 0) { gid = $1 }")
    w(f"    seed = {cell.seed}")
    w("    topol()")
    w("    geom()")
    w("    lists()")
    w("    biophys()")
    w("}")
    w("")
    w("endtemplate L5PC")
    return "\n".join(L) + "\n"


def write_hoc_template(path) -> None:
    """Write the hoc template of the default L5PC to ``path``."""
    from pathlib import Path

    Path(path).write_text(hoc_template_text())


# --------------------------------------------------------------------------------------
# physiology protocols (used by tests/test_l5pc.py and `--physiology`)
# --------------------------------------------------------------------------------------

#: settling time before any stimulus, ms; every protocol starts from v_init = -75 mV at
#: dt = 0.025 ms
SETTLE_MS = 200.0
#: EPSP-shaped current of Hay et al. 2011's BAC protocol: double exponential, rise 0.5 ms,
#: decay 5 ms; the distal site is the trunk segment nearest this path distance (inside the
#: Ca2+ hot zone, just below the main bifurcation)
EPSP_TAU_MS = (0.5, 5.0)
DISTAL_SITE_UM = 695.0


def _record(ref):
    vec = h.Vector()
    vec.record(ref)
    return vec


def _run(tstop_ms):
    h.load_file("stdrun.hoc")
    h.CVode().active(0)
    h.dt = 0.025
    h.finitialize(-75.0)
    h.continuerun(tstop_ms)


def spike_times(v, t, threshold=-20.0) -> np.ndarray:
    """Times of upward crossings of ``threshold`` (mV)."""
    v, t = np.asarray(v), np.asarray(t)
    up = np.where((v[1:] >= threshold) & (v[:-1] < threshold))[0]
    return t[up + 1]


def _soma_step(cell, amp, delay, dur):
    st = h.IClamp(cell.soma(0.5))
    st.amp, st.delay, st.dur = amp, delay, dur
    return st


def measure_passive(seed: int = DEFAULT_SEED) -> dict:
    """Resting potential (mV), input resistance (MOhm, steady state of a -0.1 nA, 300 ms
    step) and sag ratio ((v_ss - v_min) / (v_rest - v_min)) at the soma."""
    cell = L5PC(seed=seed)
    t, v = _record(h._ref_t), _record(cell.soma(0.5)._ref_v)
    stim = _soma_step(cell, -0.1, SETTLE_MS, 300.0)  # noqa: F841 (kept alive)
    _run(SETTLE_MS + 300.0)
    t, v = np.asarray(t), np.asarray(v)
    v_rest = v[t < SETTLE_MS - 1][-1]
    v_ss = v[t < SETTLE_MS + 299][-1]
    v_min = v[t > SETTLE_MS].min()
    drift = abs(v_rest - v[t < SETTLE_MS - 50][-1])
    return {"rest_mV": float(v_rest), "rin_MOhm": float((v_rest - v_ss) / 0.1),
            "sag": float((v_ss - v_min) / (v_rest - v_min)), "rest_drift_mV": float(drift)}


def measure_step_firing(amp_nA: float, dur_ms: float = 1000.0, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Somatic spike times (ms after the step onset) during a somatic current step."""
    cell = L5PC(seed=seed)
    t, v = _record(h._ref_t), _record(cell.soma(0.5)._ref_v)
    stim = _soma_step(cell, amp_nA, SETTLE_MS, dur_ms)  # noqa: F841
    _run(SETTLE_MS + dur_ms)
    sp = spike_times(v, t)
    return sp[sp > SETTLE_MS] - SETTLE_MS


def measure_bap(distances_um=(200.0, 400.0, 600.0), seed: int = DEFAULT_SEED) -> dict:
    """Back-propagating AP after a 1.9 nA, 5 ms somatic pulse (Hay et al. 2011): number of
    somatic spikes, somatic AP amplitude and the amplitude (peak minus baseline, mV) at
    the apical-trunk segments nearest ``distances_um``."""
    cell = L5PC(seed=seed)
    t, vs = _record(h._ref_t), _record(cell.soma(0.5)._ref_v)
    segs = {d: cell.trunk_segment_at(d) for d in distances_um}
    recs = {d: _record(seg._ref_v) for d, seg in segs.items()}
    stim = _soma_step(cell, 1.9, SETTLE_MS, 5.0)  # noqa: F841
    _run(SETTLE_MS + 40.0)
    i0 = int(np.searchsorted(np.asarray(t), SETTLE_MS - 1))
    amp = lambda vec: float(np.asarray(vec).max() - np.asarray(vec)[i0])  # noqa: E731
    return {"n_spikes": len(spike_times(vs, t)), "soma_mV": amp(vs),
            "trunk_mV": {d: amp(r) for d, r in recs.items()},
            "trunk_um": {d: cell.distance(seg) for d, seg in segs.items()}}


def measure_dendritic_response(epsp_nA: float, soma_nA: float, epsp_delay_ms: float = 5.0,
                               seed: int = DEFAULT_SEED) -> dict:
    """Ca2+ spike / BAC protocol: an EPSP-shaped current (peak ``epsp_nA``) at the distal
    trunk site starting ``epsp_delay_ms`` after the onset of a 5 ms somatic pulse of
    ``soma_nA`` (either may be 0). Returns the somatic spike times (ms after the pulse
    onset), the distal plateau duration (time between the first and last sample above
    -40 mV), the distal peak voltage and the site's path distance."""
    cell = L5PC(seed=seed)
    tstop = SETTLE_MS + 130.0
    t, vs = _record(h._ref_t), _record(cell.soma(0.5)._ref_v)
    site = cell.trunk_segment_at(DISTAL_SITE_UM)
    vd = _record(site._ref_v)
    keep = []
    if epsp_nA:
        clamp = h.IClamp(site)
        clamp.delay, clamp.dur = 0.0, 1e9
        tt = np.arange(0.0, tstop + 1.0, 0.025)
        onset = SETTLE_MS + epsp_delay_ms
        rise, decay = EPSP_TAU_MS
        shape = np.where(tt >= onset, np.exp(-(tt - onset) / decay) - np.exp(-(tt - onset) / rise), 0.0)
        tvec, ivec = h.Vector(tt), h.Vector(epsp_nA * shape / shape.max())
        ivec.play(clamp._ref_amp, tvec, 1)
        keep += [clamp, tvec, ivec]
    if soma_nA:
        keep.append(_soma_step(cell, soma_nA, SETTLE_MS, 5.0))
    _run(tstop)
    t, vd = np.asarray(t), np.asarray(vd)
    above = t[vd > -40.0]
    return {"spikes_ms": spike_times(vs, t) - SETTLE_MS,
            "plateau_ms": float(above[-1] - above[0]) if len(above) else 0.0,
            "dend_peak_mV": float(vd.max()), "site_um": cell.distance(site)}


def physiology_report(seed: int = DEFAULT_SEED) -> str:
    """Run every protocol and return a text summary (about 20 s of simulation)."""
    out = []
    p = measure_passive(seed)
    out.append("rest %.1f mV, input resistance %.1f MOhm, sag ratio %.2f" % (p["rest_mV"], p["rin_MOhm"], p["sag"]))
    for amp in (0.4, 0.5, 0.6, 0.8, 1.0, 1.5):
        sp = measure_step_firing(amp, seed=seed)
        isi = np.diff(sp)
        out.append("step %.1f nA, 1 s: %d spikes (%.0f Hz), first at %s ms, ISIs %s" % (
            amp, len(sp), len(sp), "%.1f" % sp[0] if len(sp) else "-", np.round(isi[:5], 1).tolist()))
    b = measure_bap(seed=seed)
    out.append("bAP (1.9 nA, 5 ms): %d somatic spike, soma %.1f mV; trunk " % (b["n_spikes"], b["soma_mV"]) + ", ".join(
        "%.0f um %.1f mV" % (b["trunk_um"][d], b["trunk_mV"][d]) for d in b["trunk_mV"]))
    for label, e, s in (("Ca spike, distal 2.0 nA EPSP alone", 2.0, 0.0), ("distal 0.5 nA EPSP alone", 0.5, 0.0),
                        ("somatic 1.9 nA/5 ms pulse alone", 0.0, 1.9), ("BAC: pulse + 0.5 nA EPSP 5 ms later", 0.5, 1.9)):
        r = measure_dendritic_response(e, s, seed=seed)
        out.append("%s: %d somatic spikes at %s ms; distal site %.0f um: peak %.1f mV, > -40 mV for %.1f ms" % (
            label, len(r["spikes_ms"]), np.round(r["spikes_ms"], 1).tolist(), r["site_um"], r["dend_peak_mV"], r["plateau_ms"]))
    return "\n".join(out)


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-hoc", metavar="PATH", help="write the hoc template L5PC to PATH")
    ap.add_argument("--physiology", action="store_true", help="run the physiology protocols and print the results")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="morphology seed for --physiology")
    args = ap.parse_args(argv)
    if args.write_hoc:
        write_hoc_template(args.write_hoc)
        print(f"wrote {args.write_hoc}")
    elif args.physiology:
        print(physiology_report(args.seed))
    else:
        c = L5PC()
        n = {k: len(list(getattr(c, k))) for k in ("all", "somatic", "basal", "apical", "axonal")}
        print(f"L5PC seed {c.seed}: {n} sections, {c.n_segments} segments")


if __name__ == "__main__":
    _main()
