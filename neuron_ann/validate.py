"""``neuron-ann validate``: compare a bundle with its NEURON cell on held-out input, offline.

Held-out simulations are generated with the bundle's recorded input distribution and
contact sites but a seed that training did not use; the bundle's step model then runs over
the same input rows with ONNX Runtime (warm-up first) and the metrics of DESIGN.md are
computed with :mod:`neuron_ann.metrics`. With ``--references`` NEURON is also scored against
itself on the same input (events binned to the step; half NEURON's dt) with the same metrics,
to show what is attainable. Needs no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from . import metrics
from .bundle import SPIKE_OFFSET_OUTPUT
from .errors import BundleError, DatasetError, check_setting
from .readouts import fluorescence

__all__ = [
    "validate_command",
    "evaluate_predictions",
    "trace_metrics",
    "window_drift",
    "reference_metrics",
    "reference_runs",
    "simulate_runs",
    "regime_metrics",
    "binned_input",
    "REFERENCE_VARIANTS",
    "predict",
    "choose_spike_threshold",
    "fi_curves",
    "steady_current_input",
    "make_session",
    "state_shapes_of",
]


def make_session(model_bytes, threads: int = 1):
    """A CPU session for offline evaluation."""
    from .runtime.providers import cpu_session

    return cpu_session(model_bytes, threads)


def state_shapes_of(meta: dict):
    return [(s["input"], s["output"], list(s["shape"])) for s in meta["state"]]


def predict(session, meta: dict, x, spike_feedback=None) -> np.ndarray:
    """Run the bundle's step model over ``x`` [batch, T, n_inputs] from zero state after its warm-up.

    ``spike_feedback(k, y)``, for a feedback model: called after each step ``k >= 0`` with its
    output rows ``y`` [batch, n_outputs]; what it returns ([batch], 0 or 1) replaces the spike
    the step model feeds back to itself at the next step (column 1 of its ``fb`` state, where
    it puts ``p > 0.5``; see :mod:`neuron_ann.training.export`)."""
    from .training.export import FEEDBACK_STATE

    x = np.asarray(x, np.float32)
    batch, steps, n_in = x.shape
    states = state_shapes_of(meta)
    state = {i: np.zeros([batch, *shape], np.float32) for i, _, shape in states}
    out_names = ["y"] + [o for _, o, _ in states]
    zero = np.zeros((batch, n_in), np.float32)
    ys = np.empty((batch, steps, len(meta["outputs"])), np.float32)
    for k in range(-int(meta["warmup_steps"]), steps):
        y, *new = session.run(out_names, {"x": zero if k < 0 else x[:, k], **state})
        state = {i: value for (i, _, _), value in zip(states, new)}
        if k >= 0:
            ys[:, k] = y
            if spike_feedback is not None:
                state[FEEDBACK_STATE[0]][:, 1] = spike_feedback(k, y)
    return ys


def _column(meta, kind):
    for i, out in enumerate(meta["outputs"]):
        if out["kind"] == kind:
            return i
    return None


def predicted_spike_times(meta: dict, y_one: np.ndarray, threshold: float) -> np.ndarray:
    """Spike times (ms) of one prediction ``y_one`` [T, n_outputs]: steps above ``threshold``, at the
    bundle's ``spike_offset`` output where it has one, else at the step's middle."""
    s_col = _column(meta, "spike_prob")
    o_col = next((i for i, o in enumerate(meta["outputs"]) if o["name"] == SPIKE_OFFSET_OUTPUT), None)
    return metrics.spike_times_from_prob(y_one[:, s_col], float(meta["dt_ms"]), threshold,
                                         None if o_col is None else y_one[:, o_col])


def evaluate_predictions(meta: dict, sims: list[dict], y: np.ndarray, threshold: float | None = None) -> dict:
    """Metrics of predictions ``y`` [batch, T, n_outputs] against simulations (dicts from the dataset)."""
    dt = float(meta["dt_ms"])
    threshold = float(meta["spike_threshold"]) if threshold is None else threshold
    v_col, s_col = _column(meta, "soma_v"), _column(meta, "spike_prob")
    v_true = np.concatenate([s["v"] for s in sims])
    v_pred = np.concatenate([y[b, :, v_col] for b in range(len(sims))])
    t_true, t_pred = [], []
    offset = 0.0
    for b, s in enumerate(sims):
        n = len(s["v"])
        tt = np.asarray(s["spike_times_ms"])
        t_true.append(tt[tt < n * dt] + offset)
        if s_col is not None:
            t_pred.append(predicted_spike_times(meta, y[b], threshold) + offset)
        else:
            t_pred.append(metrics.spike_times(y[b, :, v_col], dt, offset + dt))
        offset += n * dt + 10 * metrics.MATCH_WINDOW_MS  # keep simulations apart for matching
    t_true, t_pred = np.concatenate(t_true), np.concatenate(t_pred)
    out = trace_metrics(v_true, v_pred, t_true, t_pred, duration_ms=len(v_true) * dt)
    out["spike_threshold"] = threshold
    out["simulated_s"] = len(v_true) * dt * 1e-3
    out["rate_true_hz"] = len(t_true) / max(out["simulated_s"], 1e-9)
    out["rate_pred_hz"] = len(t_pred) / max(out["simulated_s"], 1e-9)
    readouts = {}
    for i, spec in enumerate(meta["outputs"]):
        if spec["kind"] != "readout" or spec["name"] == SPIKE_OFFSET_OUTPUT:
            continue
        r_true = np.concatenate([s["readouts"][:, spec["recorded_column"]] for s in sims])
        r_pred = np.concatenate([y[b, :, i] for b in range(len(sims))])
        readouts[spec["name"]] = {"ve": metrics.variance_explained(r_true, r_pred), "rmse": metrics.rmse(r_true, r_pred), "units": spec["units"]}
    for spec in meta.get("derived_readouts", []):
        src = next(i for i, o in enumerate(meta["outputs"]) if o["name"] == spec["from"])
        col = meta["outputs"][src]["recorded_column"]
        f_true = np.concatenate([fluorescence(s["readouts"][:, col], dt, spec["indicator"]) for s in sims])
        f_pred = np.concatenate([fluorescence(y[b, :, src], dt, spec["indicator"]) for b in range(len(sims))])
        readouts[spec["name"]] = {"ve": metrics.variance_explained(f_true, f_pred), "rmse": metrics.rmse(f_true, f_pred), "units": "dF/F0"}
    if readouts:
        out["readouts"] = readouts
    total_ms = len(v_true) * dt
    if total_ms >= 20_000:
        drift = []
        start = 0
        offset = 0.0
        for b, s in enumerate(sims):
            n = len(s["v"])
            tt = np.asarray(s["spike_times_ms"])
            tp = predicted_spike_times(meta, y[b], threshold) if s_col is not None else np.array([])
            drift += metrics.drift_windows(s["v"], y[b, :, v_col], tt, tp, dt, window_ms=min(10_000.0, n * dt))
        out["drift_windows"] = len(drift)
        out["drift_ve_min"] = float(min(d["ve_clipped"] for d in drift)) if drift else float("nan")
        out["drift_f1_min"] = float(min(d["f1"] for d in drift)) if drift else float("nan")
    return out


def trace_metrics(v_true, v_pred, t_true, t_pred, duration_ms: float) -> dict:
    """Voltage metrics of two traces on the surrogate's step grid and ``spike_*`` metrics of two
    spike-time lists (ms) over ``duration_ms``, the coincidence factor among them."""
    out = metrics.voltage_metrics(v_true, v_pred)
    spikes = metrics.spike_metrics(t_true, t_pred)
    spikes["coincidence_factor"] = metrics.coincidence_factor(t_true, t_pred, duration_ms, n_matched=spikes["n_matched"])
    out.update({f"spike_{k}": v for k, v in spikes.items()})
    return out


def regime_metrics(v_true, v_pred, t_true, t_pred, plan: dict, dt_ms: float) -> dict:
    """:func:`trace_metrics` over the parts of each input regime of one continuous held-out run
    (``plan`` from :func:`held_out_input`: synaptic input modulated or stationary, or steady
    somatic current only), with the number of parts of each and the mean and s.d. (mV) of
    both spike-clipped traces there: a surrogate that smooths a regime's fluctuations or
    shifts its level shows it here."""
    part_ms = plan["part_ms"]
    n = int(round(part_ms / dt_ms))
    t_true, t_pred = np.asarray(t_true), np.asarray(t_pred)
    out = {}
    for regime in sorted(set(plan["regimes"])):
        parts = [j for j, r in enumerate(plan["regimes"]) if r == regime]
        steps = np.concatenate([np.arange(j * n, (j + 1) * n) for j in parts])

        def inside(t):
            return np.concatenate([t[(t >= j * part_ms) & (t < (j + 1) * part_ms)] for j in parts])

        vt, vp = np.asarray(v_true)[steps], np.asarray(v_pred)[steps]
        ct, cp = metrics.clip(vt), metrics.clip(vp)
        out[regime] = {"parts": len(parts), **trace_metrics(vt, vp, inside(t_true), inside(t_pred), len(steps) * dt_ms),
                       "clipped_mean_true_mv": float(ct.mean()), "clipped_mean_pred_mv": float(cp.mean()),
                       "clipped_sd_true_mv": float(ct.std()), "clipped_sd_pred_mv": float(cp.std())}
    return out


def choose_spike_threshold(meta, sims, y) -> float:
    """The spike-probability threshold with the best F1 on these (validation) simulations."""
    best = (-1.0, 0.5)
    for thr in np.round(np.arange(0.1, 0.95, 0.05), 2):
        f1 = evaluate_predictions(meta, sims, y, float(thr))["spike_f1"]
        if f1 > best[0] + 1e-9:
            best = (f1, float(thr))
    return best[1]


def fi_curves(source, config, session, meta, currents_na, duration_ms: float = 1000.0, processes: int = 1) -> dict:
    """Firing rate vs constant somatic current for NEURON and the surrogate, compared point by point
    (NEURON's runs in ``processes`` processes, :func:`simulate_runs`)."""
    from .dataset.generate import GenerationConfig

    cfg = GenerationConfig.from_dict({**config.as_dict(), "sim_ms": duration_ms, "n_sims": len(currents_na)})
    sims = [sim for sim, _ in simulate_runs([(source, cfg, steady_current_input(cfg, amp)) for amp in currents_na], processes)]
    y = predict(session, meta, np.stack([sim["x"] for sim in sims]))
    rate_true = [len(s["spike_times_ms"]) / (duration_ms * 1e-3) for s in sims]
    rate_pred = [len(predicted_spike_times(meta, y[b], meta["spike_threshold"])) / (duration_ms * 1e-3) for b in range(len(sims))]
    return metrics.compare_fi(currents_na, rate_true, rate_pred)


def steady_current_input(cfg, amp_na: float):
    """The input of one simulation of ``cfg``: a constant somatic current, no synaptic events."""
    from .dataset.inputs import SimulationInput

    n_sites = len(cfg.sites)
    no_events = [np.zeros(0, np.int64)] * n_sites
    return SimulationInput(no_events, no_events, np.zeros((n_sites, cfg.ranges.netcons_per_site)), np.full(cfg.n_steps, float(amp_na)), {"n_events": 0})


def default_fi_currents(config) -> list[float]:
    hi = max(config.ranges.current_na)
    return [round(float(c), 4) for c in np.linspace(hi / 5, hi, 5)]


def source_for(meta: dict):
    """The cell source recorded in a bundle (bundled name, module:callable, or hoc template)."""
    from .dataset.cellspec import resolve_cell

    label = meta.get("provenance", {}).get("generation", {}).get("cell")
    candidates = [label] if label else []
    ct = meta["cell_type"]
    if ct.get("python_class"):
        module, _, qual = ct["python_class"].rpartition(".")
        candidates.append(f"{module}:{qual}")
    if ct.get("hoc_template"):
        candidates.append(f"hoc:{ct['hoc_template']}")
    last = None
    for c in candidates:
        try:
            return resolve_cell(c)
        except DatasetError as exc:
            last = exc
    raise DatasetError(f"cannot rebuild the cell of this bundle ({last}); validate it from Python with neuron_ann.validate.")


DRIFT_WINDOW_MS = 10_000.0


def held_out_input(gen: dict, seed: int, sim_seconds: float):
    """One continuous held-out simulation of ``sim_seconds``, made of parts of the training files'
    length, part ``i`` drawn like training file ``i`` but with seed ``(seed, i)``.

    When the run holds at least two 10 s drift windows (and a window is a whole number of
    parts), the parts of the last window repeat those of the first, so that the first and last
    window see the same input and their difference measures drift, not content.
    Returns ``(config, drawn input, plan)``.
    """
    from .dataset.generate import GenerationConfig
    from .dataset.inputs import concatenate_inputs, draw_input

    part_cfg = GenerationConfig.from_dict({**gen, "base_seed": seed, "n_sims": 1})
    part_ms = part_cfg.sim_ms
    n_parts = max(1, math.ceil(sim_seconds * 1000.0 / part_ms))
    total_ms = n_parts * part_ms
    order = list(range(n_parts))
    per_window = DRIFT_WINDOW_MS / part_ms
    window_ms = DRIFT_WINDOW_MS if total_ms >= 2 * DRIFT_WINDOW_MS else 0.0
    repeated = 0
    if window_ms and abs(per_window - round(per_window)) < 1e-9:
        w = int(round(per_window))
        n_windows = n_parts // w
        first_of_last = (n_windows - 1) * w
        order[first_of_last : first_of_last + w] = range(w)
        repeated = w
    kinds = [s["kind"] for s in part_cfg.sites]
    cache, parts = {}, []
    for i in order:
        if i not in cache:
            rng = np.random.default_rng([seed, i])
            cache[i] = draw_input(rng, kinds, part_cfg.n_steps, part_cfg.dt_ms, part_cfg.ticks_per_step, part_cfg.ranges)
        parts.append(cache[i])
    drawn = concatenate_inputs(parts, [part_cfg.n_steps] * len(parts), part_cfg.ticks_per_step)
    config = GenerationConfig.from_dict({**gen, "base_seed": seed, "n_sims": 1, "sim_ms": total_ms})
    plan = {"part_ms": part_ms, "parts": order, "regimes": [cache[i].summary.get("regime", "modulated") for i in order],
            "continuous_ms": total_ms, "drift_window_ms": window_ms, "repeated_parts": repeated}
    return config, drawn, plan


def _continuous_spike_times(meta: dict, y: np.ndarray) -> np.ndarray:
    """Spike times (ms) of one continuous prediction ``y`` [T, n_outputs]: from the spike output, else from v."""
    dt = float(meta["dt_ms"])
    if _column(meta, "spike_prob") is not None:
        return predicted_spike_times(meta, y, float(meta["spike_threshold"]))
    return metrics.spike_times(y[:, _column(meta, "soma_v")], dt, dt)


def window_drift(v_true, v_pred, t_true, t_pred, dt_ms: float, window_ms: float, repeated: int) -> dict:
    """Per-window VE (clipped) and spike F1 of a continuous run (:func:`metrics.drift_windows`); first vs last window."""
    rows = metrics.drift_windows(v_true, v_pred, t_true, t_pred, dt_ms, window_ms)
    return {
        "window_ms": window_ms,
        "windows": rows,
        "last_repeats_first_input": bool(repeated),
        "ve_first": rows[0]["ve_clipped"],
        "ve_last": rows[-1]["ve_clipped"],
        "ve_last_minus_first": rows[-1]["ve_clipped"] - rows[0]["ve_clipped"],
        "f1_first": rows[0]["f1"],
        "f1_last": rows[-1]["f1"],
    }


def binned_input(drawn, ticks_per_step: int):
    """A copy of ``drawn`` with every synaptic event moved to the middle of its surrogate step
    (tick ``(t // S) * S + S // 2``): all that step-binned input tells of event timing.
    With ``S == 1`` the events stay where they are."""
    S = int(ticks_per_step)
    return dataclasses.replace(drawn, event_ticks=[(np.asarray(t, np.int64) // S) * S + S // 2 for t in drawn.event_ticks])


def _binned_variant(config, drawn):
    description = (f"NEURON with every synaptic event moved to the middle of its {config.dt_ms:g} ms step: "
                   "the best a surrogate fed step-binned input can know of event timing")
    return config, binned_input(drawn, config.ticks_per_step), description


def _half_dt_variant(config, drawn):
    from .dataset.generate import GenerationConfig

    cfg = GenerationConfig.from_dict({**config.as_dict(), "neuron_dt_ms": config.neuron_dt_ms / 2})
    halved = dataclasses.replace(drawn, event_ticks=[np.asarray(t, np.int64) * 2 for t in drawn.event_ticks])
    description = (f"NEURON at dt {cfg.neuron_dt_ms:g} ms instead of {config.neuron_dt_ms:g} ms on the same input: "
                   "the cell's own numerical sensitivity (phase drift in tonic firing)")
    return cfg, halved, description


#: reference runs of ``validate --references``: name -> (config, drawn) -> (config, input, description)
REFERENCE_VARIANTS = {"binned_input": _binned_variant, "neuron_half_dt": _half_dt_variant}


_RUNS: list = []  # (source, config, drawn) of simulate_runs, inherited by its forked workers


def _timed_run(index: int) -> tuple:
    from .dataset.generate import simulate_one

    source, config, drawn = _RUNS[index]
    start = time.perf_counter()
    sim = simulate_one(source, config, 0, drawn=drawn)
    return sim, time.perf_counter() - start


def _indexed_run(index: int) -> tuple:
    return index, _timed_run(index)


def simulate_runs(runs: list, processes: int = 1, progress: bool = False) -> list:
    """``(sim, wall seconds)`` of each NEURON run ``(source, config, drawn)``, in order; with
    ``processes`` > 1 in that many forked processes, the runs with the most NEURON steps first
    (the runs are independent and deterministic, so the results do not depend on it); with
    ``progress`` a bar counts finished runs. Ctrl-C stops them all."""
    from tqdm import tqdm

    global _RUNS
    _RUNS = list(runs)
    out = [None] * len(_RUNS)
    bar = tqdm(total=len(_RUNS), desc="NEURON runs", unit="run", disable=not progress)
    try:
        processes = max(1, min(int(processes), len(_RUNS)))
        if processes == 1:
            for i in range(len(_RUNS)):
                out[i] = _timed_run(i)
                bar.update()
            return out
        from .dataset.generate import forked_imap

        order = sorted(range(len(_RUNS)), key=lambda i: -_RUNS[i][1].n_steps * _RUNS[i][1].ticks_per_step)
        for i, result in forked_imap(_indexed_run, order, processes):
            out[i] = result
            bar.update()
        return out
    finally:
        bar.close()
        _RUNS = []


def reference_runs(source, config, drawn) -> dict:
    """Name -> ((source, config, input) of the NEURON run, description) for each of :data:`REFERENCE_VARIANTS`."""
    out = {}
    for name, variant in REFERENCE_VARIANTS.items():
        cfg, varied, description = variant(config, drawn)
        out[name] = ((source, cfg, varied), description)
    return out


def reference_metrics(source, config, drawn, reference: dict, window_ms: float = 0.0, repeated: int = 0, plan: dict | None = None,
                      sims: dict | None = None) -> dict:
    """NEURON against NEURON on the same held-out input: each of :data:`REFERENCE_VARIANTS` is
    simulated and scored against ``reference`` (the NEURON run of ``config`` and ``drawn`` that the
    surrogate is scored against) with the surrogate's metrics, per-window drift included when
    ``window_ms`` is given and per input regime when ``plan`` is. ``drawn`` is not changed.
    ``sims`` (name -> (sim, wall seconds), from :func:`simulate_runs` of :func:`reference_runs`)
    gives runs already made."""
    runs = reference_runs(source, config, drawn)
    if sims is None:
        sims = dict(zip(runs, simulate_runs([run for run, _ in runs.values()])))
    out = {}
    for name, (_, description) in runs.items():
        sim, wall_s = sims[name]
        pair = (reference["v"], sim["v"], reference["spike_times_ms"], sim["spike_times_ms"])
        m = {"description": description, **trace_metrics(*pair, len(reference["v"]) * config.dt_ms), "neuron_wall_s": round(wall_s, 3)}
        if window_ms:
            m["drift"] = window_drift(*pair, config.dt_ms, window_ms, repeated)
        if plan is not None:
            m["by_regime"] = regime_metrics(*pair, plan, config.dt_ms)
        out[name] = m
    return out


def score_held_out(bundle, sim: dict, plan: dict, source, config, processes: int = 1) -> dict:
    """Everything ``validate`` reports of ``bundle`` on one continuous held-out NEURON run ``sim``
    (input drawn by :func:`held_out_input`, which gave ``plan`` and ``config``): metrics,
    readouts, drift, input regimes and, with the cell ``source``, the f-I curve (its NEURON
    runs in ``processes`` processes)."""
    meta = bundle.meta
    session = make_session(bundle.model_bytes, threads=1)
    t0 = time.perf_counter()
    y = predict(session, meta, sim["x"][None])
    result = evaluate_predictions(meta, [sim], y)
    result["surrogate_wall_s"] = round(time.perf_counter() - t0, 3)
    result["held_out_plan"] = plan
    # the one continuous run: NEURON and surrogate v on the step grid, and their spike times
    pair = (sim["v"], y[0, :, _column(meta, "soma_v")], sim["spike_times_ms"], _continuous_spike_times(meta, y[0]))
    if plan["drift_window_ms"]:
        result["drift"] = window_drift(*pair, float(meta["dt_ms"]), plan["drift_window_ms"], plan["repeated_parts"])
    result["by_regime"] = regime_metrics(*pair, plan, float(meta["dt_ms"]))
    if meta.get("spike_threshold") is not None and _column(meta, "spike_prob") is not None:
        try:
            result["fi"] = fi_curves(source, config, session, meta, default_fi_currents(config), processes=processes)
        except Exception as exc:  # f-I is a supplement; report why it is missing
            result["fi_error"] = str(exc)
    return result


def validate_command(args) -> int:
    from .bundle import load

    check_setting("the held-out simulated seconds (--sim-seconds)", args.sim_seconds, above=0)
    check_setting("the seed (--seed)", args.seed, integer=True, minimum=0)
    if getattr(args, "processes", None) is not None:
        check_setting("the number of processes (--processes)", args.processes, integer=True, minimum=1)
    bundle = load(args.bundle)
    meta = bundle.meta
    gen = meta.get("provenance", {}).get("generation")
    if not gen:
        raise BundleError(f"bundle '{args.bundle}' records no data-generation settings, so held-out input cannot be made like its training input.")
    if int(args.seed) == int(gen["base_seed"]):
        raise DatasetError(f"seed {args.seed} is the training seed of this bundle; pass another --seed for held-out input.")
    source = source_for(meta)
    config, drawn, plan = held_out_input(gen, int(args.seed), float(args.sim_seconds))
    references = reference_runs(source, config, drawn) if getattr(args, "references", False) else {}
    runs = [(source, config, drawn)] + [run for run, _ in references.values()]
    processes = getattr(args, "processes", None) or os.cpu_count() or 1
    print(f"simulating {len(runs)} NEURON run(s) of {float(args.sim_seconds):g} s in {min(processes, len(runs))} process(es)", flush=True)
    (sim, gen_s), *reference_sims = simulate_runs(runs, processes, progress=True)
    result = score_held_out(bundle, sim, plan, source, config, processes)
    result["neuron_wall_s"] = round(gen_s, 3)
    result["seed"] = int(args.seed)
    result["bundle"] = str(args.bundle)
    if references:
        result["references"] = reference_metrics(source, config, drawn, sim, plan["drift_window_ms"], plan["repeated_parts"], plan,
                                                  sims=dict(zip(references, reference_sims)))
    print(format_metrics(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
        print(f"metrics written to {args.json}")
    return 0


def format_metrics(m: dict) -> str:
    lines = [
        f"held-out input: seed {m.get('seed')}, {m['simulated_s']:.1f} s simulated (one continuous run)",
        f"  VE (clipped at -55 mV)   {m['ve_clipped']:.4f}",
        f"  RMSE (clipped)           {m['rmse_clipped_mv']:.3f} mV",
        f"  VE (unclipped)           {m['ve_unclipped']:.4f}",
        f"  spikes true / predicted  {m['spike_n_true']} / {m['spike_n_pred']}  ({m['rate_true_hz']:.1f} / {m['rate_pred_hz']:.1f} Hz)",
        f"  spike precision/recall   {m['spike_precision']:.4f} / {m['spike_recall']:.4f}",
        f"  spike F1 (+/-2 ms)       {m['spike_f1']:.4f}",
        f"  timing error (matched)   {m['spike_timing_error_ms']:.3f} ms",
        f"  coincidence factor       {m['spike_coincidence_factor']:.4f}  (1: every spike timed; 0: no better than "
        "a train at the predicted rate)",
    ]
    if "drift_windows" in m:
        lines.append(f"  drift: {m['drift_windows']} windows, min VE {m['drift_ve_min']:.4f}, min F1 {m['drift_f1_min']:.4f}")
    if "drift" in m:
        d = m["drift"]
        same = " (same input)" if d["last_repeats_first_input"] else ""
        lines.append(
            f"  drift: first vs last {d['window_ms'] / 1000:g} s window{same}: VE {d['ve_first']:.4f} -> {d['ve_last']:.4f} "
            f"({d['ve_last_minus_first']:+.4f}), F1 {d['f1_first']:.4f} -> {d['f1_last']:.4f}"
        )
    lines += _regime_lines(m)
    for name, r in m.get("readouts", {}).items():
        lines.append(f"  readout {name}: VE {r['ve']:.4f}, RMSE {r['rmse']:.4g} {r['units']}")
    if "fi" in m:
        lines.append(f"  f-I max relative error    {m['fi']['max_relative_error']:.3f}")
        for p in m["fi"]["points"]:
            lines.append(f"    {p['current_na']:.3f} nA: NEURON {p['rate_true_hz']:.1f} Hz, surrogate {p['rate_pred_hz']:.1f} Hz")
    if "references" in m:
        lines += _reference_lines(m)
    if "neuron_wall_s" in m:
        lines.append(f"  wall time: NEURON data {m['neuron_wall_s']:.1f} s, surrogate (batch, 1 thread) {m['surrogate_wall_s']:.2f} s")
    return "\n".join(lines)


def _regime_lines(m: dict) -> list[str]:
    """VE (clipped) and spike F1 per input regime, the references' next to the surrogate's."""
    if not m.get("by_regime"):
        return []
    refs = {name: r["by_regime"] for name, r in m.get("references", {}).items() if "by_regime" in r}
    part_s = m["held_out_plan"]["part_ms"] / 1000.0
    lines = [f"  by input regime (parts of {part_s:g} s): VE clipped / spike F1 / coincidence factor"
             + "".join(f";  {_REFERENCE_LABELS.get(name, name)}" for name in refs)]
    for regime, r in m["by_regime"].items():
        row = f"    {regime:<15}{r['parts']:>3} parts  {_regime_cell(r)}"
        row += "".join(f";  {_regime_cell(by[regime])}" for by in refs.values())
        lines.append(row)
        if "clipped_sd_true_mv" in r:
            lines.append(f"{'':22}clipped v mean / s.d. NEURON {r['clipped_mean_true_mv']:.1f} / {r['clipped_sd_true_mv']:.1f} mV, "
                         f"surrogate {r['clipped_mean_pred_mv']:.1f} / {r['clipped_sd_pred_mv']:.1f} mV; "
                         f"spikes {r['spike_n_true']} / {r['spike_n_pred']}")
    return lines


def _regime_cell(r: dict) -> str:
    return f"{r['ve_clipped']:7.4f} / {r['spike_f1']:.4f} / {r['spike_coincidence_factor']:.3f}"


_REFERENCE_LABELS = {"binned_input": "binned input", "neuron_half_dt": "NEURON dt/2"}


def _comparison_row(label: str, m: dict) -> str:
    d = m.get("drift")
    window = f"{d['ve_first']:.4f} -> {d['ve_last']:.4f}" if d else "-"
    return (f"    {label:<14}{m['ve_clipped']:>9.4f}{m['rmse_clipped_mv']:>9.3f}{m['spike_f1']:>9.4f}"
            f"{m['spike_timing_error_ms']:>11.3f}   {window}")


def _reference_lines(m: dict) -> list[str]:
    """The surrogate's numbers next to NEURON-vs-NEURON references on the same input."""
    refs = m["references"]
    lines = [
        "  against NEURON references (same input, each scored against the same NEURON run):",
        f"    {'':<14}{'VE clip':>9}{'RMSE mV':>9}{'F1':>9}{'timing ms':>11}   window VE first -> last",
        _comparison_row("surrogate", m),
    ]
    lines += [_comparison_row(_REFERENCE_LABELS.get(name, name), r) for name, r in refs.items()]
    lines += [f"    {_REFERENCE_LABELS.get(name, name)}: {r['description']}" for name, r in refs.items()]
    return lines
