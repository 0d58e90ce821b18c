"""``neuron-ann train``: dataset -> Keras training -> streaming ONNX export -> parity -> bundle."""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

import numpy as np

from .. import __version__, celltools
from .. import bundle as bundle_mod
from ..errors import DatasetError, check_setting
from ..readouts import INDICATORS, READOUT_UNITS

__all__ = ["train_command", "train_surrogate", "step_cost_us"]

PARITY_TOLERANCE_MV = 1e-3
#: the same check on the spike probability and the readouts (each in its own units: mM, mA/cm2, ms)
PARITY_TOLERANCE_OTHER = 1e-3
FLUORESCENCE_INDICATOR = "GCaMP6f"


def _probe(source, n_sites, exc_fraction, seed, readout_names):
    """Build one cell to choose sites, check readouts and fingerprint it; nothing is simulated."""
    from neuron import h

    from ..dataset.cellspec import choose_sites, resolve_readouts

    cell = source.build()
    try:
        celltools.soma_of(cell)
    except Exception as exc:
        raise DatasetError(str(exc)) from None
    specs = resolve_readouts(cell, readout_names)
    sites = [s.as_dict() for s in choose_sites(cell, n_sites, seed, exc_fraction)]
    info = {
        "type_name": celltools.cell_type_name(cell),
        "is_hoc": celltools.is_hoc_cell(cell),
        "fingerprint": celltools.fingerprint(cell),
        "soma": celltools.relative_name(celltools.soma_of(cell)),
        "v_init": float(getattr(cell, "v_init", -65.0)),
    }
    del cell
    return sites, specs, info


def step_cost_us(model_bytes, meta, batch: int = 1000, steps: int = 50, threads: int = 1) -> float:
    """Median ONNX Runtime wall time per cell-step (us) of the step model at ``batch`` cells."""
    from ..validate import make_session

    session = make_session(model_bytes, threads=threads)
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(batch, len(meta["inputs"])))).astype(np.float32) * 1e-3
    state = {s["input"]: np.zeros([batch, *s["shape"]], np.float32) for s in meta["state"]}
    names = ["y"] + [s["output"] for s in meta["state"]]
    times = []
    for k in range(steps + 5):
        t0 = time.perf_counter()
        y, *new = session.run(names, {"x": x, **state})
        times.append(time.perf_counter() - t0)
        state = {s["input"]: v for s, v in zip(meta["state"], new)}
    return float(np.median(times[5:]) / batch * 1e6)


def train_surrogate(
    cell,
    out,
    *,
    n_sites: int | None = None,
    sim_seconds: float | None = None,
    readouts=(),
    resume: bool = False,
    work_dir=None,
    epochs: int | None = None,
    seed: int = 1,
    processes: int | None = None,
    dt_ms: float | None = None,
    model: dict | None = None,
    train: dict | None = None,
    sim_ms: float | None = None,
    ranges=None,
    progress: bool = True,
    closed_loop_epochs: int | None = None,
) -> dict:
    """Generate data from ``cell``, train, export and write the bundle ``out``; returns its metadata.

    ``closed_loop_epochs``: the last N epochs train a feedback model closed-loop (:mod:`.rollout`)."""
    from ..bundle import save
    from ..dataset.cellspec import resolve_cell, synapse_kinds_metadata
    from ..dataset.generate import GenerationConfig, generate_dataset
    from ..dataset.store import Dataset, read_sim
    from ..validate import choose_spike_threshold, evaluate_predictions, make_session, predict
    from .defaults import defaults_for
    from .model import ModelConfig
    from .train import TrainConfig

    t_start = time.perf_counter()
    out = Path(out)
    source = resolve_cell(cell)
    defaults = defaults_for(source.label)

    def pick(value, key):  # None takes the cell type's default; 0 is refused below, not taken for None
        return defaults[key] if value is None else value

    n_sites = check_setting("the number of contact sites (--sites)", pick(n_sites, "n_sites"), integer=True, minimum=1)
    sim_seconds = check_setting("the simulated seconds of training data (--sim-seconds)", pick(sim_seconds, "sim_seconds"), above=0)
    dt_ms = check_setting("the surrogate step in ms (--dt)", pick(dt_ms, "dt_ms"), above=0)
    sim_ms = check_setting("the length of one simulation in ms (sim_ms)", pick(sim_ms, "sim_ms"), above=0)
    epochs = check_setting("the number of training epochs (--epochs)", pick(epochs, "epochs"), integer=True, minimum=1)
    check_setting("the seed (--seed)", seed, integer=True, minimum=0)
    if processes is not None:
        check_setting("the number of processes (--processes)", processes, integer=True, minimum=1)
    model_cfg = ModelConfig(**{**defaults["model"], **(model or {})})
    # ``seed`` seeds the data and the training; ``train={"seed": N}`` gives the training its own
    # (same data, another initialisation and window order: the run-to-run spread of a recipe)
    train_cfg = TrainConfig(**{**defaults["train"], "seed": seed, **(train or {}), "epochs": epochs})
    if train_cfg.average and not 0.0 < train_cfg.average < 1.0:
        raise DatasetError(f"train average={train_cfg.average}: the weight average's momentum is between 0 and 1 (e.g. 0.995), or 0 for none.")
    if closed_loop_epochs is not None:
        if not model_cfg.feedback:
            raise DatasetError("closed-loop epochs need a feedback model (ModelConfig.feedback); drop --closed-loop-epochs.")
        if not 0 < closed_loop_epochs <= epochs:
            raise DatasetError(f"--closed-loop-epochs {closed_loop_epochs} must be between 1 and the {epochs} training epochs.")
        train_cfg.rollout_from_epoch = epochs - closed_loop_epochs
    work_dir = Path(work_dir) if work_dir else out.with_name(out.stem + "_work")

    sites, specs, info = _probe(source, n_sites, defaults["exc_fraction"], seed, list(readouts))
    recorded = []  # readout names recorded by the dataset, in output order
    derived = []
    for spec in specs:
        if spec.source_name not in recorded:
            recorded.append(spec.source_name)
        if spec.variable == "fluorescence":
            derived.append(
                {"name": spec.name, "variable": "fluorescence", "from": spec.source_name, "indicator": FLUORESCENCE_INDICATOR,
                 "params": INDICATORS[FLUORESCENCE_INDICATOR], "units": READOUT_UNITS["fluorescence"], "section": spec.section, "x": spec.x}
            )
    n_train = max(1, math.ceil(sim_seconds * 1000.0 / sim_ms))
    n_val = max(1, n_train // 10)
    from neuron import h

    config = GenerationConfig(
        cell=source.label, sites=sites, readouts=recorded, dt_ms=dt_ms, sim_ms=sim_ms, n_sims=n_train + 2 * n_val,
        base_seed=seed, settle_ms=defaults["settle_ms"], v_init_mv=info["v_init"],
        celsius=float(getattr(source.factory, "celsius", h.celsius)),  # a bundled cell declares its temperature
        ranges=ranges or defaults["ranges"],
    )
    synapse_kinds = synapse_kinds_metadata()
    conductances = None
    if model_cfg.conductances:
        from .conductances import ConductanceInputs

        conductances = ConductanceInputs.for_sites(sites, synapse_kinds, dt_ms)
    model_cfg.check(config.n_inputs if conductances is None else conductances.width)
    print(f"[1/4] data: {config.n_sims} simulations of {sim_ms / 1000:g} s ({n_train} train, {n_val} val, {n_val} test) -> {work_dir / 'dataset'}", flush=True)
    t0 = time.perf_counter()
    manifest = generate_dataset(source, config, work_dir / "dataset", processes=processes, progress=progress)
    data_wall = time.perf_counter() - t0
    dataset = Dataset(work_dir / "dataset", split=(n_train, n_val, n_val), transform=conductances)

    print(f"[2/4] training (checkpoints in {work_dir / 'checkpoints'})", flush=True)
    from .export import export_step_model, parity_check, state_names, state_shapes
    from .train import train_model

    keras_model, norm, train_info = train_model(dataset, work_dir / "checkpoints", model_cfg, train_cfg, resume=resume)

    print("[3/4] export to ONNX and parity check", flush=True)
    onnx_model = export_step_model(keras_model, norm, dt_ms, conductances)
    test_sims = [read_sim(p) for p in dataset.paths("test")]
    parity_x = np.stack([s["x"][: min(2000, len(s["x"]))] for s in test_sims[:2]])
    parity = parity_check(keras_model, onnx_model, norm, parity_x, train_cfg.warmup_steps, dt_ms, conductances)
    print(f"parity Keras vs ONNX step model: max |dv| = {parity['max_abs_diff_v_mv']:.2e} mV", flush=True)
    if not parity["max_abs_diff_v_mv"] < PARITY_TOLERANCE_MV:
        raise RuntimeError(f"exported step model differs from the Keras model by {parity['max_abs_diff_v_mv']:.3g} mV (> {PARITY_TOLERANCE_MV} mV); not writing {out}.")
    for key in ("max_abs_diff_spike_prob", "max_abs_diff_readouts"):  # the other outputs, in their own units
        if not parity[key] < PARITY_TOLERANCE_OTHER:
            raise RuntimeError(f"exported step model differs from the Keras model: {key} = {parity[key]:.3g} (> {PARITY_TOLERANCE_OTHER}); "
                               f"not writing {out}.")
    parity["tolerance_mv"] = PARITY_TOLERANCE_MV

    shapes = state_shapes(keras_model, conductances)
    type_name = info["type_name"]
    hoc_template = type_name if info["is_hoc"] else None
    if not info["is_hoc"]:
        try:
            from ..mechanisms import hoc_dir

            if (hoc_dir() / f"{source.label}.hoc").is_file():
                hoc_template = source.label
        except Exception:
            pass
    outputs = [
        {"name": "v", "kind": "soma_v", "units": "mV", "section": info["soma"], "x": 0.5},
        {"name": "spike", "kind": "spike_prob", "units": "1", "threshold_mv": -20.0},
    ]
    for j, name in enumerate(recorded):
        from ..readouts import parse_readout

        spec = parse_readout(name)
        outputs.append({"name": spec.name, "kind": "readout", "variable": spec.variable, "units": spec.units,
                        "section": spec.section or info["soma"], "x": spec.x if spec.x is not None else 0.5, "recorded_column": j})
    if model_cfg.spike_offset:  # where in the step the spike falls: the bridge emits it then
        outputs.append({"name": bundle_mod.SPIKE_OFFSET_OUTPUT, "kind": "readout", "variable": "spike_offset", "units": "ms"})
    import importlib.metadata as md

    def version(p):
        try:
            return md.version(p)
        except md.PackageNotFoundError:
            return None

    meta = {
        "format_version": bundle_mod.FORMAT_VERSION,
        "cell_type": {"name": source.label if ":" not in source.label else type_name.split(".")[-1],
                      "python_class": None if info["is_hoc"] else type_name, "hoc_template": hoc_template, "fingerprint": info["fingerprint"]},
        "dt_ms": dt_ms,
        "sites": sites,
        "synapse_kinds": synapse_kinds,
        "inputs": [{"name": f"syn{i}", "kind": "synapse", "site": i, "units": "uS"} for i in range(len(sites))]
        + [{"name": "i_soma", "kind": "current", "units": "nA"}],
        "outputs": outputs,
        "derived_readouts": derived,
        "spike_threshold": 0.5,
        "state": [{"input": i, "output": o, "shape": s} for (i, o), s in zip(state_names(keras_model, conductances), shapes)],
        "warmup_steps": train_cfg.warmup_steps,
        "normalization": norm,
        "celsius": config.celsius,
        "neuron_dt_ms": config.neuron_dt_ms,
    }
    if conductances is not None:  # what the step model computes from its inputs before the convolution
        meta["conductance_inputs"] = conductances.as_dict()

    print("[4/4] held-out evaluation of the ONNX step model", flush=True)
    session = make_session(onnx_model.SerializeToString())
    val_sims = [read_sim(p) for p in dataset.paths("val")]
    y_val = predict(session, meta, np.stack([s["x"] for s in val_sims]))
    meta["spike_threshold"] = choose_spike_threshold(meta, val_sims, y_val)
    y_test = predict(session, meta, np.stack([s["x"] for s in test_sims]))
    validation = evaluate_predictions(meta, test_sims, y_test)
    validation["held_out"] = f"test split: simulations {dataset.indices['test'][0]}..{dataset.indices['test'][-1]} (seeds [{seed}, index]), not used for training or early stopping"
    # settling check: from zero state, zero input, the model should sit at rest
    rest = predict(session, meta, np.zeros((1, 500, config.n_inputs), np.float32))[0, :, 0]
    validation["rest_check"] = {"v_rest_true_mv": train_info["statistics"]["v_rest_mv"], "v_pred_first_mv": float(rest[0]),
                                "v_pred_max_dev_mv": float(np.max(np.abs(rest - train_info["statistics"]["v_rest_mv"]))), "steps": 500}
    model_bytes = onnx_model.SerializeToString()
    cost = step_cost_us(model_bytes, meta, batch=1000, threads=1)
    stats = train_info.pop("statistics")
    meta["validation"] = {**validation, "parity": parity, "onnx_us_per_cell_step_batch1000_1thread": round(cost, 3)}
    meta["provenance"] = {
        "generation": config.as_dict(),
        "dataset": {**manifest, "split": {"train": n_train, "val": n_val, "test": n_val}, "statistics": stats},
        "data_generation_wall_s": round(data_wall, 2),
        "training": {**train_info, "model": model_cfg.as_dict(), "train": train_cfg.as_dict()},
        "parameters": train_info["parameters"],
        "seed": seed,
        "versions": {p: version(p) for p in ("neuron", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime-gpu", "onnxruntime", "numpy")} | {"neuron_ann": __version__},
        "hardware": {"machine": platform.machine(), "processor": platform.processor() or platform.machine(), "cpus": __import__("os").cpu_count(),
                     "system": platform.platform(), "tf_threads": int(__import__("os").environ.get("NEURON_ANN_TF_THREADS", "1"))},
        "command_wall_s": round(time.perf_counter() - t_start, 2),
    }
    save(onnx_model, meta, out)
    v = meta["validation"]
    print(
        f"wrote {out}: {train_info['parameters']} parameters, {out.stat().st_size / 1024:.0f} KiB; held-out VE {v['ve_clipped']:.4f}, "
        f"RMSE {v['rmse_clipped_mv']:.3f} mV, spike F1 {v['spike_f1']:.4f}, timing {v['spike_timing_error_ms']:.3f} ms, "
        f"{cost:.2f} us/cell-step at batch 1000",
        flush=True,
    )
    return meta


def train_command(args) -> int:
    model = {"spike_offset": True} if args.spike_offset else {}
    if getattr(args, "conductance_inputs", None) is not None:  # None: the cell type's default
        model["conductances"] = args.conductance_inputs
    train_surrogate(
        args.cell, args.out, n_sites=args.sites, sim_seconds=args.sim_seconds, readouts=args.readouts, resume=args.resume,
        work_dir=args.work_dir, epochs=args.epochs, seed=args.seed, processes=args.processes, dt_ms=args.dt,
        model=model or None, closed_loop_epochs=args.closed_loop_epochs,
    )
    return 0
