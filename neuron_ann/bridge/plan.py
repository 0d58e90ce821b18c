"""Inspecting the model before a swap: every refusal happens here, before anything changes.

:func:`make_plan` looks at the chosen cells, their point processes and every NetCon, and
returns a :class:`Plan` that says which NetCon goes to which (cell, contact site), which
current sources feed which soma, and which sections will be deleted. Anything the
surrogate cannot honour raises :class:`~neuron_ann.errors.SwapError` naming the object
and the fix.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from neuron import h

from .. import celltools
from ..bundle import Bundle
from ..errors import SwapError
from .bundles import unusable_note

__all__ = [
    "CURRENT_SOURCES",
    "Plan",
    "GroupPlan",
    "make_plan",
    "check_cvode",
    "check_dt",
    "check_celsius",
    "check_coreneuron",
    "check_cross_rank_delay",
    "check_input_delay",
    "check_thread_delay",
    "shifted_delay",
    "SHIFT_MARK_MS",
    "derived_readouts",
    "describe_netcon",
    "netcon_source",
    "all_objects",
    "scan_netcons",
    "NetConScan",
    "object_ids",
    "synapse_kind",
    "SOURCE_NONE",
    "SOURCE_SECTION",
    "gc_paused",
    "segment_index",
    "remote_source_gid",
    "mpi_ranks",
    "thread_min_delay",
    "threads",
    "CELSIUS_TOLERANCE",
]

#: point processes on a swapped soma that the bundle's current input stands for
CURRENT_SOURCES = ("IClamp",)

#: relative tolerance when comparing a synapse's parameters with the bundle's synapse kind
PARAM_RTOL = 1e-9

#: largest difference between h.celsius and the bundle's celsius that is accepted (degC)
CELSIUS_TOLERANCE = 1e-9

#: NEURON's fixed-step spike exchange needs every cross-rank NetCon delay to exceed h.dt by this much (netpar.cpp)
NEURON_MINDELAY_SLACK_MS = 1e-10


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: while NEURON initializes or steps, freeing a point
    process (a cell left in a reference cycle, say) aborts the process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def all_objects(template: str) -> list:
    """A snapshot of every live hoc object of ``template`` (e.g. "NetCon").

    The garbage collector is paused while the snapshot is taken: ``List(template)`` is a
    live view, and freeing a hoc object mid-iteration would shrink it under the iterator.
    """
    with gc_paused():
        return list(h.List(template))  # iterating the live list: about 9x faster than List.o(i) per item


# One pass over every NetCon in hoc: about a quarter of the time of the same reads made from Python
# (nrnpython's call overhead per read). A NetCon's delay, weight or threshold is read only where its
# source exists (valid(), or a point-process or membrane-potential source: a target-less NetCon is
# not valid()); NEURON aborts reading the delay of a NetCon whose source was freed.
_SCAN_HOC = """
proc neuron_ann_scan_netcons_() { local i, n, ok, kind  localobj nc, pre
    n = $o1.count()
    $o2.resize(n)  $o3.resize(n)  $o4.resize(n)  $o5.resize(n)  $o6.resize(n)  $o7.resize(n)
    for i = 0, n - 1 {
        nc = $o1.o(i)
        $o2.x[i] = object_id(nc, 1)
        $o3.x[i] = object_id(nc.syn())
        pre = nc.pre()
        if (object_id(pre) != 0) {
            kind = 1 + pre.has_loc()
        } else {
            kind = nc.preloc()
            if (kind != -1) {
                pop_section()
                kind = 3
            } else {
                kind = 0
            }
        }
        $o7.x[i] = kind
        if (kind != 0 || nc.valid()) {
            $o4.x[i] = nc.delay  $o5.x[i] = nc.weight  $o6.x[i] = nc.threshold
        } else {
            $o4.x[i] = -1  $o5.x[i] = 0  $o6.x[i] = 0
        }
    }
}
"""

#: NetConScan.sources: no source here (none, freed, or a gid of another rank), an artificial cell
#: (a point process without a location: NetStim, VecStim, IntFire), a located point process, a
#: membrane potential
SOURCE_NONE, SOURCE_ARTIFICIAL, SOURCE_POINT_PROCESS, SOURCE_SECTION = 0, 1, 2, 3


@dataclass
class NetConScan:
    """Every NetCon at one moment, in ``netcons`` (a hoc List, creation order), and per NetCon in
    that order: its number (``NetCon[12]``: 12), target's ``object_id`` (0: none), delay,
    ``weight[0]`` and threshold (delay -1 where its source was freed: nothing is read there), and
    the kind of its source (``SOURCE_*``)."""

    netcons: object
    numbers: np.ndarray
    targets: np.ndarray
    delays: np.ndarray
    weights: np.ndarray
    thresholds: np.ndarray
    sources: np.ndarray
    vectors: list  # the hoc Vectors the arrays are views of (a million NetCons: 8 MB each)

    def objects(self, positions) -> list:
        """The NetCons at these positions (iterating the List for many: List.o(i) costs more each)."""
        positions = [int(i) for i in positions]
        if len(positions) > 1000:
            every = list(self.netcons)
            return [every[i] for i in positions]
        return [self.netcons.o(i) for i in positions]


def scan_netcons() -> NetConScan:
    """Read every NetCon's number, target, delay, weight, threshold and source kind in one hoc loop."""
    if not hasattr(h, "neuron_ann_scan_netcons_"):
        h(_SCAN_HOC)
    vectors = [h.Vector() for _ in range(6)]
    with gc_paused():  # List(template) is a live view: nothing may be freed while it is read
        netcons = h.List("NetCon")
        h.neuron_ann_scan_netcons_(netcons, *vectors)
    numbers = vectors[0].as_numpy().astype(np.int64)
    return NetConScan(netcons, numbers, *(v.as_numpy() for v in vectors[1:5]), vectors[5].as_numpy().astype(np.int8),
                      vectors=vectors[1:])


def object_ids(objects) -> np.ndarray:
    """hoc's ``object_id`` of each object (what :func:`scan_netcons` gives as a NetCon's target)."""
    return np.array([h.object_id(o) for o in objects], dtype=np.float64)


def netcon_source(nc) -> str:
    """``NetStim[0]``, ``BallHH[0].soma(0.5).v``, ``gid 3`` or ``no source``."""
    pre = nc.pre()
    seg = nc.preseg()
    if pre is not None:
        return pre.hname()
    if seg is not None:
        return f"{seg.sec.name()}({seg.x:g}).v"
    if nc.srcgid() >= 0:
        return f"gid {int(nc.srcgid())}"
    return "no source"


def describe_netcon(nc) -> str:
    """``NetCon[3] (NetStim[0] -> AMPA_NMDA[2] on BallHH[0].soma(0.5))``-style text."""
    source = netcon_source(nc)
    target = nc.syn()
    if target is None:
        where = "no target"
    else:
        where = target.hname()
        if target.has_loc():
            seg_t = target.get_segment()
            where += f" on {seg_t.sec.name()}({seg_t.x:g})"
    return f"{nc.hname()} ({source} -> {where})"


def check_cvode() -> None:
    if h.CVode().active():
        raise SwapError(
            "CVode (variable time step) is active, but swapped cells advance in fixed exchange steps "
            "that must line up with NEURON's fixed time step; call h.CVode().active(False) before the run."
        )


def check_coreneuron() -> None:
    """Refuse CoreNEURON: it runs the model outside NEURON, where the exchange callbacks cannot run."""
    try:
        from neuron import coreneuron
    except ImportError:  # a NEURON built without CoreNEURON
        return
    if getattr(coreneuron, "enable", False):
        raise SwapError(
            "CoreNEURON is enabled (neuron.coreneuron.enable = True), but it runs the model outside NEURON, where "
            "swapped cells cannot be stepped (their exchange is a Python callback in NEURON's event queue); set "
            "coreneuron.enable = False while cells are swapped, or swap_back() first."
        )


def check_dt(bundle: Bundle) -> int:
    """Number of NEURON steps per exchange step; refuses when the bundle's dt is not a multiple of h.dt."""
    steps = bundle.dt_ms / h.dt
    if abs(steps - round(steps)) > 1e-6 or round(steps) < 1:
        raise SwapError(
            f"the {bundle.name} surrogate steps every {bundle.dt_ms:g} ms, which is not a whole number of "
            f"NEURON time steps (h.dt = {h.dt:g} ms); set h.dt to {bundle.dt_ms:g} divided by a whole number."
        )
    return int(round(steps))


def _label(nc, label) -> str:
    """``label`` (text, or a callable giving it), else :func:`describe_netcon`."""
    if label is None:
        return describe_netcon(nc)
    return label() if callable(label) else label


def check_celsius(bundle: Bundle) -> None:
    """Refuse to run a surrogate at another temperature than the one its cell was simulated at."""
    trained = float(bundle.meta["celsius"])
    now = float(h.celsius)
    if abs(now - trained) > CELSIUS_TOLERANCE:
        raise SwapError(
            f"the {bundle.name} surrogate in bundle '{bundle.path}' was trained at celsius = {trained:g} degC, but "
            f"h.celsius is {now:g} degC, so its rates would not be those of this model; set h.celsius = {trained:g} "
            f"before running, or train a bundle at {now:g} degC."
        )


def remote_source_gid(nc) -> int | None:
    """The source gid of a ``pc.gid_connect`` NetCon whose source cell is not on this rank, else None."""
    gid = int(nc.srcgid())
    if gid < 0 or nc.pre() is not None or nc.preseg() is not None:
        return None
    if int(_pc().gid_exists(gid)):
        return None
    return gid


_PC = []


def _pc():
    """One ParallelContext for the bridge's queries (creating one per query costs a hoc object each time)."""
    if not _PC:
        _PC.append(h.ParallelContext())
    return _PC[0]


def mpi_ranks() -> int:
    """Number of MPI ranks NEURON runs on."""
    return int(_pc().nhost())


def threads() -> int:
    """Number of threads NEURON runs on (``pc.nthread()``)."""
    return int(_pc().nthread())


def thread_min_delay() -> float:
    """The shortest NetCon delay NEURON accepts between threads (ms): with several threads and the
    fixed step, NEURON needs the minimum delay less h.dt to be at least h.dt (netpar.cpp, 'usable
    mindelay'); 0 on one thread."""
    return 2.0 * float(h.dt) if threads() > 1 else 0.0


def check_thread_delay(nc, user_delay: float, shifted_delay: float, dt_ms: float, type_name: str, label=None,
                       floor: float | None = None) -> None:
    """With ``pc.nthread(n > 1)``, refuse a NetCon onto a swapped cell whose shortened delay NEURON's threads cannot carry
    (``floor``: :func:`thread_min_delay`, passed by callers that check many NetCons; asking NEURON costs 3 us)."""
    floor = thread_min_delay() if floor is None else floor
    if floor and shifted_delay < floor - NEURON_MINDELAY_SLACK_MS:
        raise SwapError(
            f"{_label(nc, label)} has delay {user_delay:g} ms onto a swapped {type_name.split('.')[-1]}. NEURON runs on "
            f"{threads()} threads (pc.nthread), where it needs NetCon delays of at least 2 h.dt = {floor:g} ms, and "
            f"the bridge runs NetCons onto swapped cells one exchange step ({dt_ms:g} ms) short; make this delay at "
            f"least {dt_ms + floor:g} ms (the exchange step plus 2 h.dt), or run on one thread (pc.nthread(1))."
        )


def check_cross_rank_delay(nc, user_delay: float, shifted_delay: float, dt_ms: float, type_name: str, label=None,
                           ranks: int | None = None) -> None:
    """Under MPI, refuse a NetCon from another rank whose shortened delay NEURON's spike exchange cannot carry.

    NEURON exchanges spikes between ranks every minimum cross-rank delay and refuses to
    run (fixed step) unless that delay exceeds h.dt; the bridge shortens the delay of every
    NetCon onto a swapped cell by the exchange step, so such NetCons need a user delay
    longer than the exchange step plus h.dt. ``ranks``: :func:`mpi_ranks`, passed by callers
    that check many NetCons.
    """
    if (mpi_ranks() if ranks is None else ranks) <= 1:
        return
    gid = remote_source_gid(nc)
    if gid is None:
        return
    if shifted_delay - NEURON_MINDELAY_SLACK_MS < h.dt:
        raise SwapError(
            f"{_label(nc, label)} brings spikes of gid {gid} from another MPI rank onto a swapped {type_name.split('.')[-1]} "
            f"with delay {user_delay:g} ms. The bridge delivers events onto swapped cells one exchange step "
            f"({dt_ms:g} ms) early, which leaves {max(user_delay - dt_ms, 0.0):.6g} ms for the spike exchange between "
            f"ranks, and NEURON needs more than h.dt = {h.dt:g} ms there; make this delay longer than {dt_ms + h.dt:g} ms "
            "(the exchange step plus h.dt), or place both cells on the same rank."
        )


#: the bridge shortens the delay of each captured NetCon by the exchange step less this much
#: (ms): far below NEURON's time resolution and the exchange's 1e-6 ms guard, it makes the
#: delay the bridge sets a value no user would set by chance, so a delay the user changes
#: while swapped is always recognised at the next finitialize
SHIFT_MARK_MS = 1e-9


def shifted_delay(user_delay: float, dt_ms: float) -> float:
    """The delay the bridge gives a captured NetCon whose user delay is ``user_delay``."""
    return max(float(user_delay) - float(dt_ms) + SHIFT_MARK_MS, 0.0)


def check_input_delay(nc, user_delay: float, dt_ms: float, type_name: str, label=None,
                      floor: float | None = None, ranks: int | None = None) -> None:
    """Refuse a NetCon onto a swapped cell whose (user) delay is shorter than the exchange step, or unusable on
    NEURON's threads or under MPI (``floor`` and ``ranks`` as :func:`check_thread_delay` and
    :func:`check_cross_rank_delay` take them)."""
    if user_delay < dt_ms - 1e-9:
        raise SwapError(
            f"{_label(nc, label)} has delay {user_delay:g} ms, shorter than the {type_name} surrogate's exchange step "
            f"of {dt_ms:g} ms: the surrogate predicts each step from the events that arrive in it, so they must have "
            f"been sent before the step starts; make its delay at least {dt_ms:g} ms."
        )
    shifted = shifted_delay(user_delay, dt_ms)
    check_thread_delay(nc, user_delay, shifted, dt_ms, type_name, label, floor)
    check_cross_rank_delay(nc, user_delay, shifted, dt_ms, type_name, label, ranks)


def derived_readouts(bundle: Bundle) -> list[dict]:
    """The bundle's derived readouts, checked: each is a fluorescence computed from one of its cai readouts.

    Returns dicts with ``name``, ``source`` (the output column of the cai readout) and ``indicator``.
    """
    from ..readouts import INDICATORS

    out = []
    names = {o["name"] for o in bundle.meta["outputs"]}
    where = f"bundle '{bundle.path}'"
    for i, spec in enumerate(bundle.meta.get("derived_readouts") or []):
        name = spec.get("name")
        variable = spec.get("variable", "fluorescence")
        if not name or variable != "fluorescence":
            raise SwapError(
                f"{where}: derived readout {i} ({name or 'unnamed'}) is a {variable!r} readout, which this neuron_ann "
                "cannot compute (it computes 'fluorescence' from a cai readout); upgrade neuron_ann or re-export the bundle."
            )
        if name in names:
            raise SwapError(f"{where}: derived readout {name!r} has the name of another output; re-export the bundle.")
        source = next((j for j, o in enumerate(bundle.meta["outputs"]) if o["name"] == spec.get("from") and o["kind"] == "readout"), None)
        if source is None or bundle.meta["outputs"][source].get("variable") != "cai":
            cai = [o["name"] for o in bundle.meta["outputs"] if o.get("variable") == "cai"]
            raise SwapError(
                f"{where}: derived readout {name!r} is computed from {spec.get('from')!r}, which is not a cai readout "
                f"of the bundle (its cai readouts: {', '.join(cai) or 'none'}); re-export the bundle."
            )
        indicator = spec.get("indicator")
        if indicator not in INDICATORS:
            raise SwapError(
                f"{where}: derived readout {name!r} uses calcium indicator {indicator!r}, which this neuron_ann does not "
                f"model (it models {', '.join(INDICATORS)}); upgrade neuron_ann or re-export the bundle."
            )
        params = spec.get("params")
        if params is not None:
            ours = INDICATORS[indicator]
            differ = [
                f"{k} = {params.get(k)!r} (here {v!r})"
                for k, v in ours.items()
                if not isinstance(params.get(k), (int, float)) or abs(params[k] - v) > 1e-12 * max(abs(v), 1.0)
            ]
            if differ:
                raise SwapError(
                    f"{where}: derived readout {name!r} was made with other {indicator} parameters than this neuron_ann "
                    f"computes ({'; '.join(differ)}), so its fluorescence would differ from the one the bundle was "
                    "validated with; use the neuron_ann version named in the bundle's provenance or re-export the bundle."
                )
        names.add(name)
        out.append({"name": name, "source": source, "indicator": indicator})
    return out


#: readout variables written into a kept section's NEURON variable
SECTION_READOUTS = ("v", "cai", "ina", "ik")


@dataclass
class CellPlan:
    cell: object
    soma: object
    doomed: list  # sections to delete
    kept: list = field(default_factory=list)  # readout sections (disconnected, driven by the surrogate); the swap keeps the recorded ones


@dataclass
class GroupPlan:
    """The cells of one type and how their inputs reach the surrogate."""

    bundle: Bundle
    type_name: str
    cells: list = field(default_factory=list)  # CellPlan
    inputs: list = field(default_factory=list)  # (netcon, cell index, site index, synapse)
    # every synapse (NetCon target) on the cells, with NetCons or not: (synapse, cell index, site index or -1
    # where the bundle has no such synapse kind), for NetCons made after the swap (swap.NetCon)
    synapses: list = field(default_factory=list)
    currents: list = field(default_factory=list)  # (cell index, current source point process)


@dataclass
class Plan:
    groups: list  # GroupPlan
    section_owner: dict  # section -> (group, cell index)
    from_soma: dict  # NetCon name -> (group index, cell index) of the cell to swap whose soma is its source (only those)
    # every NetCon's number and whether its source is a soma swapped once this plan is applied (the
    # finitialize check's flags, so that its first pass need not ask each NetCon for its source again)
    sources: tuple = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))


def synapse_kind(pp, bundle: Bundle) -> tuple[str | None, str]:
    """The bundle's synapse kind that ``pp`` is, or (None, reason)."""
    mechanism = pp.hname().split("[")[0]
    kinds = bundle.meta["synapse_kinds"]
    reasons = []
    for kind, spec in kinds.items():
        if spec["mechanism"] != mechanism:
            continue
        bad = []
        for name, expected in spec.get("params", {}).items():
            try:
                actual = float(getattr(pp, name))
            except (AttributeError, TypeError):
                bad.append(f"{name} is missing")
                continue
            if abs(actual - expected) > PARAM_RTOL * max(abs(expected), 1e-12):
                bad.append(f"{name} = {actual:g} (trained with {expected:g})")
        if not bad:
            return kind, ""
        reasons.append(f"kind {kind!r} expects {spec.get('params', {})}, but {', '.join(bad)}")
    if not reasons:
        known = ", ".join(f"{k!r} ({v['mechanism']})" for k, v in kinds.items())
        return None, f"its mechanism {mechanism} is not one the surrogate was trained on (synapse kinds: {known})"
    return None, "; ".join(reasons)


def _creation_order(pp):
    """Sort key: mechanism name, then creation index (``AMPA_NMDA[12]`` -> 12)."""
    name, _, index = pp.hname().partition("[")
    return name, int(index.rstrip("]") or 0)


def segment_index(sec, x: float) -> int:
    """Index of the segment of ``sec`` that holds ``x`` (0 at the 0 end), as NEURON's ``sec(x)`` picks it."""
    return min(int(x * sec.nseg), sec.nseg - 1)


def _nearest_site(cell, sec, x, kind, bundle, cache, type_name, taken, sections) -> int:
    """The contact site of ``kind`` nearest (by path distance) to the segment holding ``sec(x)``.

    Cells of one type are identical, so the answer is cached per (type, section, segment,
    kind). Sites at the same distance (several sites on one compartment, as in a
    one-compartment cell) are handed out in turn, synapse by synapse of each cell (``taken``
    counts them), so that each synapse's events stay in one column, as each site's did in
    training.
    """
    segment = segment_index(sec, x)
    key = (type_name, celltools.relative_name(sec), segment, kind)
    if key not in cache:
        if (type_name, "sites") not in cache:
            by_name = {celltools.relative_name(s): s for s in sections}
            cache[(type_name, "sites")] = [(i, site["kind"], by_name[site["section"]](site["x"])) for i, site in enumerate(bundle.meta["sites"])]
        here = sec((segment + 0.5) / sec.nseg)
        distances = {i: h.distance(here, site_seg) for i, site_kind, site_seg in cache[(type_name, "sites")] if site_kind == kind}
        best = min(distances.values(), default=None)
        cache[key] = tuple(i for i, d in distances.items() if d <= best + 1e-9) if distances else (None,)
    tied = cache[key]
    turn = taken.get(tied, 0)
    taken[tied] = turn + 1
    return tied[turn % len(tied)]


def make_plan(cells, candidates, type_of, bundle_for, swapped_somas=()) -> Plan:
    """Check everything and decide the mapping; changes nothing.

    Args:
        cells: the cells to swap.
        candidates: bundles in order of precedence.
        type_of: cell -> type name.
        bundle_for: (type name, candidates) -> Bundle or None.
        swapped_somas: the somas of cells swapped before (a swap in effect), for ``Plan.sources``.
    """
    check_cvode()
    check_coreneuron()
    floor, ranks = thread_min_delay(), mpi_ranks()  # asked once: each costs NEURON 3 us, and every input is checked
    index_of_sections = celltools.sections_by_cell()
    groups: dict[int, GroupPlan] = {}
    section_owner = {}
    soma_of_cell = {}
    cell_sections_of = {}
    for cell in cells:
        type_name = type_of(cell)
        bundle = bundle_for(type_name, candidates)
        if bundle is None:
            known = sorted({b.meta["cell_type"].get("python_class") or b.meta["cell_type"].get("hoc_template") for b in candidates})
            raise SwapError(
                f"no surrogate bundle for {cell!r} (type {type_name}); bundles exist for: {', '.join(known) or 'none'}. "
                "Pass bundles=[path] or neuron_ann.bridge.register_bundle(path), or leave this cell out of cells=."
                + unusable_note(candidates)
            )
        sections = celltools.cell_sections(cell, index_of_sections)
        problems = celltools.fingerprints_match(bundle.meta["cell_type"].get("fingerprint", {}), celltools.fingerprint(cell, sections))
        if problems:
            raise SwapError(
                f"bundle '{bundle.path}' was trained on a different {type_name} layout than {cell!r}: "
                + "; ".join(problems)
                + ". Train a bundle for this cell layout ('neuron-ann train') or build the cell as the bundle expects."
            )
        check_dt(bundle)
        check_celsius(bundle)
        if id(bundle) not in groups:
            derived_readouts(bundle)
        group = groups.setdefault(id(bundle), GroupPlan(bundle=bundle, type_name=type_name))
        soma = celltools.soma_of(cell)
        readout_names = {
            o["section"] for o in bundle.meta["outputs"] if o["kind"] == "readout" and o.get("variable") in SECTION_READOUTS
        }
        kept = [sec for sec in sections if sec != soma and celltools.relative_name(sec) in readout_names]
        doomed = [sec for sec in sections if sec != soma and sec not in kept]
        index = len(group.cells)
        group.cells.append(CellPlan(cell=cell, soma=soma, doomed=doomed, kept=kept))
        soma_of_cell[(id(group), index)] = soma
        cell_sections_of[(id(group), index)] = sections
        for sec in sections:
            if sec in section_owner:
                raise SwapError(f"{cell!r} is listed twice in cells=; pass each cell once.")
            section_owner[sec] = (group, index)

    mt = h.MechanismType(1)
    # the point processes of the cells to swap, section by section, and by object_id
    located = []  # (section, group, cell index, segment, its point processes in creation order)
    by_id = {}
    for sec, (group, index) in section_owner.items():
        for seg in sec:
            pps = sorted(seg.point_processes(), key=_creation_order)
            if pps:
                located.append((sec, group, index, seg, pps))
                by_id.update((h.object_id(pp), pp) for pp in pps)
    # one pass over every NetCon in hoc (cells are added to a swap in batches, and each batch's
    # plan looks at every NetCon of the network again); then NEURON is asked only about the NetCons
    # onto these point processes and those whose source is a membrane potential or a located point process
    scan = scan_netcons()
    targeted = {}
    onto = np.flatnonzero(np.isin(scan.targets, np.fromiter(by_id, dtype=np.float64, count=len(by_id))))
    for i, nc in zip(onto.tolist(), scan.objects(onto)):
        target = by_id[float(scan.targets[i])]
        if not nc.valid():
            raise SwapError(
                f"{nc.hname()} targets {target.hname()} on a cell to be swapped, but its source object was freed: "
                "NEURON can neither retarget it nor run with it once the synapse's section is deleted. "
                f"Drop every reference to {nc.hname()} (e.g. 'del nc') before swap_to_ann()."
            )
        targeted.setdefault(target, []).append(nc)
    sourced = []  # (NetCon, its source segment, or None and its source point process) for sources on the cells to swap
    from_somas = np.zeros(len(scan.numbers), dtype=bool)  # Plan.sources
    sectioned = np.flatnonzero(scan.sources == SOURCE_SECTION)
    for i, nc in zip(sectioned.tolist(), scan.objects(sectioned)):
        seg = nc.preseg()
        if seg is not None and seg.sec in section_owner:
            sourced.append((nc, seg, None))
            from_somas[i] = True
        elif seg is not None and seg.sec in swapped_somas:
            from_somas[i] = True
    for nc in scan.objects(np.flatnonzero(scan.sources == SOURCE_POINT_PROCESS)):
        pre = nc.pre()
        if pre.get_segment().sec in section_owner:
            sourced.append((nc, None, pre))
    numbers = scan.numbers
    del scan
    site_cache = {}
    taken = {}  # (cell, tied sites) -> synapses mapped so far
    for sec, group, index, seg, pps in located:
        soma = group.cells[index].soma
        for pp in pps:
            mechanism = pp.hname().split("[")[0]
            if pp in targeted:
                kind, reason = synapse_kind(pp, group.bundle)
                if kind is None:
                    raise SwapError(
                        f"synapse {pp.hname()} on {sec.name()}({seg.x:g}) of {group.cells[index].cell!r} receives "
                        f"NetCons, but {reason}. Use the synapse kind the surrogate was trained on, or train a bundle "
                        "with this synapse kind."
                    )
                site = _nearest_site(group.cells[index].cell, sec, seg.x, kind, group.bundle, site_cache, group.type_name,
                                     taken.setdefault((id(group), index), {}), cell_sections_of[(id(group), index)])
                for nc in targeted[pp]:
                    check_input_delay(nc, nc.delay, group.bundle.dt_ms, group.type_name, floor=floor, ranks=ranks)
                    group.inputs.append((nc, index, site, pp))
                group.synapses.append((pp, index, site))
                continue
            mt.select(mechanism)
            if mechanism in CURRENT_SOURCES and sec == soma:
                if group.bundle.current_input_index() is None:
                    raise SwapError(
                        f"{pp.hname()} injects current into {sec.name()}, but the {group.type_name} surrogate has no "
                        "somatic current input; remove the current source or use a bundle trained with current input."
                    )
                group.currents.append((index, pp))
            elif mechanism.startswith("ANN"):
                raise SwapError(f"{group.cells[index].cell!r} is already swapped; call swap_back() first.")
            elif mt.is_netcon_target(int(mt.selected())):
                # an unconnected synapse does nothing; it is kept for swap_back, and given its site in
                # creation order with the others, for a NetCon made onto it after the swap (swap.NetCon)
                kind, _ = synapse_kind(pp, group.bundle)
                site = -1 if kind is None else _nearest_site(
                    group.cells[index].cell, sec, seg.x, kind, group.bundle, site_cache, group.type_name,
                    taken.setdefault((id(group), index), {}), cell_sections_of[(id(group), index)])
                group.synapses.append((pp, index, site))
            else:
                where = "the soma" if sec == soma else sec.name()
                raise SwapError(
                    f"{pp.hname()} on {sec.name()}({seg.x:g}) of {group.cells[index].cell!r} is not something the "
                    f"{group.type_name} surrogate models (it takes synaptic events and current from "
                    f"{', '.join(CURRENT_SOURCES)} on the soma, not a {mechanism} on {where}); remove it before swap_to_ann()."
                )
    group_index = {id(g): i for i, g in enumerate(groups.values())}
    from_soma = {}
    for nc, seg, pre in sourced:
        if seg is not None:  # the NetCon watches a membrane potential
            group, index = section_owner[seg.sec]
            from_soma[nc.hname()] = (group_index[id(group)], index)
            if seg.sec != group.cells[index].soma:
                raise SwapError(
                    f"{describe_netcon(nc)} detects spikes on {seg.sec.name()}, a section the swap deletes; "
                    f"the surrogate emits spikes at the soma: make the NetCon's source {celltools.relative_name(group.cells[index].soma)}(0.5)._ref_v."
                )
        else:
            raise SwapError(
                f"{describe_netcon(nc)} takes events from {pre.hname()} on {pre.get_segment().sec.name()} of a swapped "
                "cell, which the surrogate does not model; use the soma's voltage (soma(0.5)._ref_v) as the spike source."
            )
    return Plan(groups=list(groups.values()), section_owner=section_owner, from_soma=from_soma,
                sources=(numbers, from_somas))
