"""Run the detailed cell on random input and write one file per simulation.

Layout of a dataset folder::

    dataset.json            what was asked for (cell, sites, readouts, steps, input ranges, seeds)
    sims/sim_00042.npz      x [n, n_inputs], v [n], spike [n], readouts [n, n_readouts], spike_times_ms
    sims/sim_00042.json     the simulation's seed and drawn input parameters, wall time
    manifest.json           summary written when every simulation is done

Binning follows the format-2 step contract of docs/internals.md: the synaptic columns of
``x[k]`` hold the summed weights per site of the events delivered in ``[t_k, t_{k+1})``
(the interval being predicted); the current column ``x[k, -1]`` is the mean somatic
current over ``[t_{k-1}, t_k)`` (the interval that has just ended). Targets are
``v(t_{k+1})``, ``spike[k]`` marks an upward -20 mV crossing inside ``[t_k, t_{k+1})``,
readouts are taken at ``t_{k+1}``. ``dataset.json`` records ``format_version``; a folder
of another format is refused (its rows mean something else).
Simulation ``i`` uses the seed ``(base_seed, i)``; finished files are skipped, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..files import write_whole
from .inputs import InputRanges, draw_input

__all__ = ["GenerationConfig", "generate_dataset", "forked_imap", "simulate_one", "bin_events", "sim_path", "DATASET_FORMAT", "check_format"]

NEURON_DT_MS = 0.025
#: the step-contract format of the rows (= neuron_ann.bundle.FORMAT_VERSION); folders without the key are format 1
DATASET_FORMAT = 2


def check_format(have: dict, folder) -> None:
    """Refuse a dataset folder whose ``dataset.json`` records another step-contract format."""
    found = have.get("format_version", 1)
    if found != DATASET_FORMAT:
        raise DatasetError(
            f"{folder} holds a format-{found} dataset (its input rows are binned differently from the "
            f"format-{DATASET_FORMAT} step contract this neuron_ann trains); delete the folder or pass a new --work-dir."
        )


@dataclass
class GenerationConfig:
    """Everything that determines a dataset's contents."""

    cell: str  # label of the cell source
    sites: list  # dicts: section, x, kind, path_distance_um
    readouts: list  # readout names as recorded (fluorescence is recorded as its cai)
    dt_ms: float = 1.0
    sim_ms: float = 5000.0  # per simulation file
    n_sims: int = 10
    base_seed: int = 1
    settle_ms: float = 300.0  # zero-input run before t = 0 so the cell starts at rest
    v_init_mv: float = -65.0
    celsius: float = 6.3
    neuron_dt_ms: float = NEURON_DT_MS
    ranges: InputRanges = field(default_factory=InputRanges)

    @property
    def ticks_per_step(self) -> int:
        return int(round(self.dt_ms / self.neuron_dt_ms))

    @property
    def n_steps(self) -> int:
        return int(round(self.sim_ms / self.dt_ms))

    def check(self):
        tps = self.dt_ms / self.neuron_dt_ms
        if abs(tps - round(tps)) > 1e-9 or round(tps) < 1:
            raise DatasetError(f"the surrogate step dt={self.dt_ms} ms must be a multiple of NEURON's dt={self.neuron_dt_ms} ms.")
        if abs(self.settle_ms / self.dt_ms - round(self.settle_ms / self.dt_ms)) > 1e-9:
            raise DatasetError(f"settle_ms={self.settle_ms} must be a multiple of dt={self.dt_ms} ms.")
        if self.n_steps < 2:
            raise DatasetError(f"sim_ms={self.sim_ms} gives fewer than 2 steps of {self.dt_ms} ms.")

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["ranges"] = self.ranges.as_dict()
        d["format_version"] = DATASET_FORMAT
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "GenerationConfig":
        d = dict(d)
        d.pop("format_version", None)  # checked by check_format where it matters
        d["ranges"] = InputRanges.from_dict(d["ranges"])
        return cls(**d)

    @property
    def n_inputs(self) -> int:
        return len(self.sites) + 1


def sim_path(folder, index: int) -> Path:
    return Path(folder) / "sims" / f"sim_{index:05d}.npz"


def bin_events(event_ticks, event_netcon, weights_us, n_steps: int, ticks_per_step: int) -> np.ndarray:
    """Synaptic input rows (format 2): ``x[k, site]`` = summed weight of events with tick in ``[k*S, (k+1)*S)``,
    i.e. delivered inside the interval ``[t_k, t_{k+1})`` that row ``k`` predicts.

    Ticks are integers (multiples of NEURON's dt), so the binning is exact.
    """
    x = np.zeros((n_steps, len(event_ticks)), dtype=np.float64)
    for site, (ticks, which) in enumerate(zip(event_ticks, event_netcon)):
        k = np.asarray(ticks, dtype=np.int64) // ticks_per_step
        keep = k < n_steps
        np.add.at(x[:, site], k[keep], np.asarray(weights_us)[site][np.asarray(which)[keep]])
    return x


def simulate_one(source, config: GenerationConfig, index: int, folder=None, drawn=None) -> dict:
    """Simulate input ``index`` on a fresh cell; returns the arrays (and writes them when ``folder`` is given).

    ``drawn`` replaces the random input (a :class:`~neuron_ann.dataset.inputs.SimulationInput`), e.g. for f-I curves.
    """
    from neuron import h

    from .. import celltools
    from ..readouts import parse_readout
    from .cellspec import place_synapse, readout_reference

    h.load_file("stdrun.hoc")
    start = time.perf_counter()
    rng = np.random.default_rng([config.base_seed, index])
    S = config.ticks_per_step
    n = config.n_steps
    settle_ticks = int(round(config.settle_ms / config.neuron_dt_ms))
    if drawn is None:
        drawn = draw_input(rng, [s["kind"] for s in config.sites], n, config.dt_ms, S, config.ranges)

    cell = source.build()
    soma = celltools.soma_of(cell)
    synapses, netcons = [], []
    for site_index, site in enumerate(config.sites):
        syn = place_synapse(cell, site)
        synapses.append(syn)
        row = []
        for w in drawn.weights_us[site_index]:
            nc = h.NetCon(None, syn)
            nc.weight[0] = float(w)
            nc.delay = 0
            row.append(nc)
        netcons.append(row)
    stim = h.IClamp(soma(0.5))
    stim.delay = 0
    stim.dur = 1e9
    # amp[j] applies during NEURON step [j*dt, (j+1)*dt): zero while settling, then one value per surrogate step
    amp = np.concatenate([np.zeros(settle_ticks), np.repeat(drawn.current_na, S), [0.0]])
    amp_vec = h.Vector(amp)
    amp_vec.play(stim._ref_amp, config.neuron_dt_ms)
    v_rec = h.Vector().record(soma(0.5)._ref_v)
    readout_specs = [parse_readout(r) for r in config.readouts]
    readout_recs = [h.Vector().record(readout_reference(cell, spec)) for spec in readout_specs]

    def schedule():
        for site_index, (ticks, which) in enumerate(zip(drawn.event_ticks, drawn.event_netcon)):
            row = netcons[site_index]
            for tick, j in zip(ticks.tolist(), which.tolist()):
                row[j].event((settle_ticks + tick) * config.neuron_dt_ms)

    handler = h.FInitializeHandler(schedule)
    h.cvode_active(0)
    h.dt = config.neuron_dt_ms
    h.steps_per_ms = 1.0 / config.neuron_dt_ms
    h.celsius = config.celsius
    h.finitialize(config.v_init_mv)
    h.continuerun((settle_ticks + n * S) * config.neuron_dt_ms)

    v = np.array(v_rec)[settle_ticks:]
    if len(v) < n * S + 1:
        raise DatasetError(f"simulation {index} recorded {len(v)} samples, expected {n * S + 1}.")
    take = (np.arange(n) + 1) * S
    crossings = np.nonzero((v[:-1] < -20.0) & (v[1:] >= -20.0))[0]
    spike_times = (crossings + (-20.0 - v[crossings]) / (v[crossings + 1] - v[crossings])) * config.neuron_dt_ms
    spike = np.zeros(n, dtype=np.uint8)
    k = np.floor(spike_times / config.dt_ms + 1e-9).astype(int)
    spike[k[k < n]] = 1
    x = np.zeros((n, config.n_inputs), dtype=np.float64)
    x[:, :-1] = bin_events(drawn.event_ticks, drawn.event_netcon, drawn.weights_us, n, S)  # [t_k, t_{k+1})
    x[1:, -1] = drawn.current_na[:-1]  # mean over [t_{k-1}, t_k)
    readouts = np.stack([np.array(r)[settle_ticks:][take] for r in readout_recs], axis=1) if readout_recs else np.zeros((n, 0))
    result = {
        "x": x.astype(np.float32),
        "v": v[take].astype(np.float32),
        "spike": spike,
        "readouts": readouts.astype(np.float32),
        "spike_times_ms": spike_times.astype(np.float64),
        "v_rest_mv": np.float32(v[0]),
    }
    info = {
        "index": index,
        "seed": [config.base_seed, index],
        "input": drawn.summary,
        "n_spikes": int(len(spike_times)),
        "rate_hz": float(len(spike_times) / (config.sim_ms * 1e-3)),
        "v_rest_mv": float(v[0]),
        "wall_s": round(time.perf_counter() - start, 3),
    }
    # free the cell before the next simulation in this process
    del handler, netcons, synapses, stim, v_rec, readout_recs
    amp_vec.play_remove()
    del cell
    if folder is not None:
        _write(folder, index, result, info)
    result["info"] = info
    return result


def _write(folder, index, result, info):
    path = sim_path(folder, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path.with_suffix(".json"), info)
    write_whole(path, lambda tmp: np.savez(tmp, **result))  # the .npz appears only when complete


def _is_finished(folder, index) -> bool:
    path = sim_path(folder, index)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        return False
    try:
        with np.load(path) as data:
            return "x" in data.files
    except Exception:
        return False


_WORKER = {}


def _init_worker(source, config, folder):
    _WORKER.update(source=source, config=config, folder=folder)


def _init_forked(initializer, initargs) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    if initializer is not None:
        initializer(*initargs)


def forked_imap(function, items, processes: int, initializer=None, initargs=()):
    """``function(item)`` for each of ``items`` in ``processes`` forked processes (which inherit
    the caller's state, run ``initializer(*initargs)`` first and ignore Ctrl-C), yielded as
    they finish; Ctrl-C in the caller, or any error, stops them all. ``function`` must be a
    module-level function."""
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_init_forked, initargs=(initializer, initargs))
    try:
        yield from pool.imap_unordered(function, items)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _work(index):
    simulate_one(_WORKER["source"], _WORKER["config"], index, _WORKER["folder"])
    return index


def generate_dataset(source, config: GenerationConfig, folder, *, processes: int | None = None, progress: bool = True) -> dict:
    """Generate every missing simulation of ``config`` into ``folder``; returns the manifest.

    ``source`` is a :class:`~neuron_ann.dataset.cellspec.CellSource`. Simulations run in
    ``processes`` forked processes (default: CPU count), each building its own cells.
    Ctrl-C stops the pool; finished files stay and a rerun continues.

    Raises:
        DatasetError: ``folder`` holds a dataset generated with a different configuration.
    """
    from tqdm import tqdm

    config.check()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg_path = folder / "dataset.json"
    wanted = json.loads(json.dumps(config.as_dict()))
    if cfg_path.is_file():
        try:
            have = json.loads(cfg_path.read_text())
        except ValueError as exc:
            raise DatasetError(f"{cfg_path} is unreadable ({exc}); use another --work-dir or delete that folder.") from exc
        check_format(have, folder)
        # through the config class, so that a setting added since (at its default) is no difference
        try:
            have = json.loads(json.dumps(GenerationConfig.from_dict(have).as_dict()))
        except Exception as exc:
            raise DatasetError(f"{cfg_path} is unreadable ({exc}); use another --work-dir or delete that folder.") from exc
        have_cmp = {k: v for k, v in have.items() if k != "n_sims"}
        want_cmp = {k: v for k, v in wanted.items() if k != "n_sims"}
        if have_cmp != want_cmp:
            diff = sorted(k for k in set(have_cmp) | set(want_cmp) if have_cmp.get(k) != want_cmp.get(k))
            raise DatasetError(
                f"{folder} holds a dataset made with other settings (differs in: {', '.join(diff)}); "
                "use another --work-dir or delete that folder."
            )
    _write_json(cfg_path, wanted)
    todo = [i for i in range(config.n_sims) if not _is_finished(folder, i)]
    start = time.perf_counter()
    bar = tqdm(total=config.n_sims, initial=config.n_sims - len(todo), desc=f"simulating {config.cell}", unit="sim", disable=not progress)
    processes = max(1, min(processes or os.cpu_count() or 1, len(todo) or 1))
    try:
        if processes == 1:
            for i in todo:
                simulate_one(source, config, i, folder)
                bar.update()
        else:
            for _ in forked_imap(_work, todo, processes, _init_worker, (source, config, folder)):
                bar.update()
    finally:
        bar.close()
    manifest = summarize(folder, config)
    manifest["generation_wall_s_this_run"] = round(time.perf_counter() - start, 2)
    _write_json(folder / "manifest.json", manifest)
    return manifest


def _write_json(path: Path, obj) -> None:
    write_whole(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1)))


def summarize(folder, config: GenerationConfig) -> dict:
    infos = []
    for i in range(config.n_sims):
        p = sim_path(folder, i).with_suffix(".json")
        if p.is_file():
            infos.append(json.loads(p.read_text()))
    rates = [i["rate_hz"] for i in infos]
    return {
        "n_sims": len(infos),
        "sim_ms_each": config.sim_ms,
        "simulated_s": len(infos) * config.sim_ms * 1e-3,
        "seeds": [i["seed"] for i in infos],
        "n_spikes": int(sum(i["n_spikes"] for i in infos)),
        "rate_hz_mean": float(np.mean(rates)) if rates else 0.0,
        "rate_hz_range": [float(np.min(rates)), float(np.max(rates))] if rates else [0.0, 0.0],
        "silent_sims": int(sum(r == 0 for r in rates)),
        "n_events": int(sum(i["input"]["n_events"] for i in infos)),
        "simulation_wall_s_total": round(sum(i["wall_s"] for i in infos), 2),
    }
