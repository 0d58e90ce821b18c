"""Tiny exact surrogate bundles for bridge tests, built with onnx.helper.

The step model has one state value ``s`` per cell:

    total  = x @ column_weights            (weighted sum of the input row)
    s_out  = decay * s + total
    v      = v_rest + gain * s_out          (soma v at t_{k+1}, mV)
    p      = 1 if s_out >= threshold else 0 (spike probability in [t_k, t_{k+1}))
    y      = [v, p, readouts...]

Format 2 (docs/internals.md): row ``x[k]`` holds the synaptic events whose true delivery
time lies in ``[t_k, t_{k+1})`` and the mean soma current over ``[t_{k-1}, t_k)``. With
``decay = 0`` a cell spikes in exactly the intervals whose own synaptic input reaches
``threshold`` (at ``t_k + spike offset``, default half a step), so every spike time is
computable by hand.
"""

from __future__ import annotations

import numpy as np

from neuron_ann import bundle as bundle_module
from neuron_ann import celltools

__all__ = ["synapse_kind_params", "make_bundle", "ballhh_bundle", "pvbasket_bundle", "netstim"]


def synapse_kind_params(mechanism: str) -> dict:
    """Default PARAMETER values of a point-process mechanism."""
    from neuron import h

    from neuron_ann import mechanisms

    mechanisms.load()
    ms = h.MechanismStandard(mechanism, 1)
    name = h.ref("")
    params = {}
    for i in range(int(ms.count())):
        ms.name(name, i)
        params[name[0]] = float(ms.get(name[0]))
    return params


def make_bundle(
    path,
    cell,
    sites,
    *,
    synapse_kinds=None,
    dt_ms=1.0,
    threshold=1.0,
    v_rest=-65.0,
    gain=10.0,
    decay=0.0,
    current_weight=1.0,
    site_weights=None,
    spike_offset_ms=None,
    readouts=(),
    warmup_steps=3,
    fingerprint=None,
    with_spikes=True,
    hoc_template=None,
    celsius=6.3,
    derived=(),
):
    """Write a tiny bundle for ``cell``'s type and return its path.

    Args:
        sites: list of (section name, x, kind).
        readouts: list of (variable, section, x, offset_mV): readout = v + offset.
        spike_offset_ms: if given, an output ``spike_offset`` with this constant (ms from t_k).
        hoc_template: for a hoc template cell, its name (python_class is then null).
        celsius: the temperature recorded in the bundle (the test suite runs at h.celsius = 6.3).
        derived: derived readouts, each (name, source readout name, indicator) or a full dict.
    """
    import onnx
    from onnx import TensorProto, helper

    if synapse_kinds is None:
        synapse_kinds = {"exc": {"mechanism": "AMPA_NMDA", "params": synapse_kind_params("AMPA_NMDA")}}
    n_sites = len(sites)
    n_in = n_sites + 1
    weights = np.ones(n_in, dtype=np.float32)
    if site_weights is not None:
        weights[:n_sites] = site_weights
    weights[n_sites] = current_weight
    sites_meta = []
    for name, x, kind in sites:
        sec = celltools.section_by_name(cell, name)
        sites_meta.append({"section": name, "x": x, "kind": kind, "path_distance_um": celltools.path_distance_um(cell, sec, x)})
    inputs = [{"name": f"syn{i}", "kind": "synapse", "site": i, "units": "uS"} for i in range(n_sites)]
    inputs.append({"name": "i_soma", "kind": "current", "units": "nA"})
    outputs = [{"name": "v_soma", "kind": "soma_v", "units": "mV"}]
    if with_spikes:
        outputs.append({"name": "spike", "kind": "spike_prob", "units": "1"})
    for variable, section, x, _ in readouts:
        outputs.append({"name": f"{variable}_{section}", "kind": "readout", "variable": variable, "section": section, "x": x, "units": "mV"})
    if spike_offset_ms is not None:
        outputs.append({"name": "spike_offset", "kind": "readout", "variable": "spike_offset", "section": "soma", "x": 0.5, "units": "ms"})

    f = TensorProto.FLOAT
    init = [
        helper.make_tensor("w", f, [n_in, 1], weights.tolist()),
        helper.make_tensor("decay", f, [], [decay]),
        helper.make_tensor("v_rest", f, [], [v_rest]),
        helper.make_tensor("gain", f, [], [gain]),
        helper.make_tensor("thr", f, [], [threshold]),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["total"]),
        helper.make_node("Mul", ["s", "decay"], ["s_decayed"]),
        helper.make_node("Add", ["s_decayed", "total"], ["s_out"]),
        helper.make_node("Mul", ["s_out", "gain"], ["gs"]),
        helper.make_node("Add", ["gs", "v_rest"], ["v"]),
    ]
    columns = ["v"]
    if with_spikes:
        nodes += [helper.make_node("GreaterOrEqual", ["s_out", "thr"], ["ge"]), helper.make_node("Cast", ["ge"], ["p"], to=f)]
        columns.append("p")
    for i, (_, _, _, offset) in enumerate(readouts):
        init.append(helper.make_tensor(f"ro{i}", f, [], [offset]))
        nodes.append(helper.make_node("Add", ["v", f"ro{i}"], [f"r{i}"]))
        columns.append(f"r{i}")
    if spike_offset_ms is not None:
        init.append(helper.make_tensor("off", f, [], [spike_offset_ms]))
        nodes.append(helper.make_node("Sub", ["v", "v"], ["zero"]))
        nodes.append(helper.make_node("Add", ["zero", "off"], ["so"]))
        columns.append("so")
    nodes.append(helper.make_node("Concat", columns, ["y"], axis=1))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", f, ["batch", n_in]), helper.make_tensor_value_info("s", f, ["batch", 1])],
        [helper.make_tensor_value_info("y", f, ["batch", len(outputs)]), helper.make_tensor_value_info("s_out", f, ["batch", 1])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    cls = type(cell)
    meta = {
        "format_version": 2,
        "celsius": celsius,
        "cell_type": {
            "name": hoc_template or cls.__name__,
            "python_class": None if hoc_template else f"{cls.__module__}.{cls.__qualname__}",
            "hoc_template": hoc_template,
            "fingerprint": fingerprint or celltools.fingerprint(cell),
        },
        "dt_ms": dt_ms,
        "sites": sites_meta,
        "synapse_kinds": synapse_kinds,
        "inputs": inputs,
        "outputs": outputs,
        "spike_threshold": 0.5,
        "state": [{"input": "s", "output": "s_out", "shape": [1]}],
        "warmup_steps": warmup_steps,
        "normalization": {},
        "provenance": {"made_by": "tests/tiny_bundles.py"},
        "validation": {},
    }
    if derived:
        from neuron_ann.readouts import INDICATORS

        meta["derived_readouts"] = [
            d if isinstance(d, dict) else {
                "name": d[0], "variable": "fluorescence", "from": d[1], "indicator": d[2],
                "params": INDICATORS.get(d[2], {}), "units": "dF/F0",
            }
            for d in derived
        ]
    return bundle_module.save(model, meta, path)


def ballhh_bundle(path, **options):
    """A tiny bundle for BallHH: one excitatory contact site on the soma."""
    from neuron_ann.cells import BallHH

    cell = BallHH()
    try:
        return make_bundle(path, cell, [("soma", 0.5, "exc")], **options)
    finally:
        del cell


def pvbasket_bundle(path, **options):
    """A tiny bundle for PVBasket: excitatory sites on dend[0](0.5) and dend[1](0.9), inhibitory on the soma."""
    from neuron_ann.cells import PVBasket

    kinds = {
        "exc": {"mechanism": "AMPA_NMDA", "params": synapse_kind_params("AMPA_NMDA")},
        "inh": {"mechanism": "GABA_A", "params": synapse_kind_params("GABA_A")},
    }
    cell = PVBasket()
    try:
        sites = [("dend[0]", 0.5, "exc"), ("dend[1]", 0.9, "exc"), ("soma", 0.5, "inh")]
        return make_bundle(path, cell, sites, synapse_kinds=options.pop("synapse_kinds", kinds), **options)
    finally:
        del cell


def netstim(start: float, interval: float = 2.0, number: int = 5):
    """A regular NetStim (no noise): ``number`` events from ``start`` every ``interval`` ms."""
    from neuron import h

    stim = h.NetStim()
    stim.start, stim.interval, stim.number, stim.noise = start, interval, number, 0
    return stim


def driven_gid_pair():
    """Two BallHH on this rank with gids 0 and 1 (a -20 mV soma detector each), cell 0 driven by a
    regular NetStim (0.3, 3.3, 6.3 ms) through a NetCon of weight 0.5 and delay 1 ms: (cells, kept),
    ``kept`` the detectors, the NetStim and its NetCon."""
    from neuron import h

    from neuron_ann.cells import BallHH

    pc = h.ParallelContext()
    cells = [BallHH(gid=i) for i in range(2)]
    kept = []
    for gid, cell in enumerate(cells):
        pc.set_gid2node(gid, int(pc.id()))
        det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        det.threshold = -20
        pc.cell(gid, det)
        kept.append(det)
    stim = netstim(0.3, interval=3.0, number=3)
    nc = h.NetCon(stim, cells[0].add_synapse("exc", cells[0].soma))
    nc.weight[0], nc.delay = 0.5, 1.0
    return cells, kept + [stim, nc]
