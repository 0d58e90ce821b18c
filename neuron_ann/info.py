"""``neuron-ann info``: print everything a bundle records (``--json`` for the raw metadata)."""

from __future__ import annotations

import json

from .bundle import load

__all__ = ["info_command", "format_info"]


def _fmt(value, width: int = 0) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) > 8 and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value[:6]) + f", ... ({len(value)} values)]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _tree(d, indent: int = 2, skip=()) -> list[str]:
    lines = []
    for key, value in d.items():
        if key in skip:
            continue
        if isinstance(value, dict) and value and any(isinstance(v, (dict, list)) for v in value.values()):
            lines.append(" " * indent + f"{key}:")
            lines += _tree(value, indent + 2)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and len(value) <= 50:
            lines.append(" " * indent + f"{key}: ({len(value)})")
            lines += [" " * (indent + 2) + _fmt(v) for v in value]
        else:
            lines.append(" " * indent + f"{key}: {_fmt(value)}")
    return lines


def format_info(meta: dict, path) -> str:
    ct = meta["cell_type"]
    lines = [
        f"bundle {path}",
        f"  format version   {meta['format_version']}",
        f"  cell type        {ct['name']} (python class: {ct.get('python_class')}, hoc template: {ct.get('hoc_template')})",
        f"  fingerprint      {_fmt(ct.get('fingerprint', {}))}",
        f"  step dt          {meta['dt_ms']} ms, warm-up {meta['warmup_steps']} steps, spike threshold {meta['spike_threshold']}",
        f"  contact sites    {len(meta['sites'])}:",
    ]
    for i, s in enumerate(meta["sites"]):
        lines.append(f"    {i:3d} {s['kind']:4s} {s['section']}({s['x']:g})  {s.get('path_distance_um', float('nan')):.1f} um")
    lines.append("  synapse kinds:")
    for kind, spec in meta["synapse_kinds"].items():
        lines.append(f"    {kind}: {spec['mechanism']} {_fmt(spec.get('params', {}))}")
    if "conductance_inputs" in meta:  # what the step model computes from the inputs below (training/conductances.py)
        cols = meta["conductance_inputs"]["columns"]
        lines.append(f"  model inputs     the inputs below and {len(cols)} synaptic conductances, computed by the step model from the event weights:")
        lines += [f"    {c['name']}  sites {_fmt(c['sites'])}, rise {c['tau_rise_ms']:g} ms, decay {c['tau_decay_ms']:g} ms, peak {c['peak']:g} x weight"
                  for c in cols[:8]] + ([f"    ... ({len(cols) - 8} more)"] if len(cols) > 8 else [])
    lines.append(f"  inputs           {len(meta['inputs'])}: " + ", ".join(f"{i['name']} [{i['units']}]" for i in meta["inputs"][:8]) + (" ..." if len(meta["inputs"]) > 8 else ""))
    lines.append("  outputs:")
    for o in meta["outputs"]:
        where = f" at {o['section']}({o['x']:g})" if o.get("section") else ""
        lines.append(f"    {o['name']} ({o['kind']}, {o['units']}){where}")
    for d in meta.get("derived_readouts", []):
        lines.append(f"    {d['name']} (derived at run time from {d['from']} with {d['indicator']}, {d['units']})")
    lines.append("  state tensors:")
    for s in meta["state"]:
        lines.append(f"    {s['input']} -> {s['output']}  [batch, {', '.join(map(str, s['shape']))}]")
    for section in ("validation", "normalization", "provenance"):
        if section in meta:
            lines.append(f"  {section}:")
            skip = ("history",) if section == "provenance" else ()
            lines += _tree(meta[section], 4, skip=skip)
    rest = {k: v for k, v in meta.items() if k not in {"format_version", "cell_type", "dt_ms", "warmup_steps", "spike_threshold", "sites",
                                                        "synapse_kinds", "inputs", "outputs", "derived_readouts", "state", "validation",
                                                        "normalization", "provenance", "conductance_inputs"}}
    if rest:
        lines.append("  other:")
        lines += _tree(rest, 4)
    return "\n".join(lines)


def info_command(args) -> int:
    bundle = load(args.bundle)
    if args.json:
        print(json.dumps(bundle.meta, indent=1, sort_keys=True))
    else:
        print(format_info(bundle.meta, bundle.path))
    return 0
