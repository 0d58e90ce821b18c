"""Training loop: streams windows from the dataset folder, checkpoints every epoch, stops early.

The kept ("best") weights are those with the lowest validation loss, or for a feedback
model (the default) the best closed-loop score (:mod:`.closed_loop`): teacher forcing makes
its validation loss small whatever the model does when it runs on its own output.
Epochs from ``TrainConfig.rollout_from_epoch`` on train closed-loop (:mod:`.rollout`).

With ``TrainConfig.average`` (a momentum, e.g. 0.995) the training keeps an exponential
moving average of the weights over its batches and scores, keeps and returns the averaged
weights instead of the last batch's: a teacher-forced step's small weight changes move a
closed-loop surrogate's spike times, and the average takes out the last batches' noise.

Resuming (``resume=True``) reloads the last epoch's checkpoint (and the average) and
continues from the next epoch; the optimizer restarts with the learning rate the run had reached.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..dataset.store import Dataset
from ..errors import DatasetError
from ..files import write_whole
from .closed_loop import closed_loop_score, raw_scores
from .model import ModelConfig, build_model, count_parameters, feedback_columns, make_loss
from .rollout import make_rollout_step

__all__ = ["TrainConfig", "WeightAverage", "train_model", "pack_targets", "configure_tensorflow"]


@dataclass
class TrainConfig:
    epochs: int = 30
    steps_per_epoch: int = 100
    batch_size: int = 32
    window: int = 500  # steps with loss per window
    warmup_steps: int = 50  # zero-input prefix / burn-in before each window
    learning_rate: float = 3e-3
    patience: int = 6  # epochs without val improvement before stopping
    val_windows: int = 32
    seed: int = 1
    schedule: str = "plateau"  # "plateau": halve the rate after 3 epochs without improvement; "cosine": cosine decay over the epochs
    min_learning_rate: float = 1e-4  # floor of the cosine schedule
    from_start_fraction: float = 0.25  # windows taken from a file's start (the rest start mid-file after a burn-in);
    # 1.0 with window = the file's length trains on whole simulations from rest, so that the
    # model always knows e.g. the phase of tonic firing since a current step began
    rollout_from_epoch: int | None = None  # a feedback model trains closed-loop (.rollout) from this epoch (0-based) on
    average: float = 0.0  # > 0: momentum of a moving average of the weights over the batches, scored and kept instead of them (0: off)

    def as_dict(self) -> dict:
        return asdict(self)


class WeightAverage:
    """Exponential moving average of a model's weights: ``a <- m a + (1 - m) w`` after each
    batch, starting from the weights it is made with. ``swapped_in(model)`` puts the average
    into the model for a ``with`` block and the model's own weights back after it."""

    def __init__(self, weights: list, momentum: float):
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"TrainConfig.average={momentum}: a momentum between 0 and 1 (e.g. 0.995), or 0 for no average.")
        self.momentum = float(momentum)
        self.value = [np.array(w, dtype=np.float64) for w in weights]

    def update(self, weights: list) -> None:
        m = self.momentum
        for a, w in zip(self.value, weights):
            a *= m
            a += (1.0 - m) * np.asarray(w, dtype=np.float64)

    def save(self, path) -> None:
        np.savez(path, *self.value)

    def load(self, path) -> None:
        with np.load(path) as saved:
            self.value = [saved[f"arr_{i}"].astype(np.float64) for i in range(len(saved.files))]

    class _Swap:
        def __init__(self, average, model):
            self.average, self.model = average, model

        def __enter__(self):
            self.own = self.model.get_weights()
            self.model.set_weights([a.astype(w.dtype) for a, w in zip(self.average.value, self.own)])
            return self.model

        def __exit__(self, *exc):
            self.model.set_weights(self.own)

    def swapped_in(self, model):
        return self._Swap(self, model)


def configure_tensorflow(threads: int | None = None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    threads = threads or int(os.environ.get("NEURON_ANN_TF_THREADS", "1"))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised in this process
    return tf


def normalisation(stats: dict) -> dict:
    # synaptic columns are sparse event weights: no centring, scaled so one typical event is ~1;
    # the current column (last) is centred and scaled by its standard deviation
    x_std = [s if s > 1e-12 else 1.0 for s in stats["x_nonzero_mean"][:-1]] + [stats["x_std"][-1] if stats["x_std"][-1] > 1e-12 else 1.0]
    x_mean = [0.0] * (len(x_std) - 1) + [stats["x_mean"][-1]]
    r_std = [s if s > 1e-12 else 1.0 for s in stats["readout_std"]]
    return {
        "x_mean": x_mean,
        "x_std": x_std,
        "v_mean": stats["v_mean"],
        "v_std": stats["v_std"] if stats["v_std"] > 1e-9 else 1.0,
        "readout_mean": stats["readout_mean"],
        "readout_std": r_std,
    }


def pack_targets(v, spike, readouts, mask, norm, frac=None):
    """``[v_norm, spike, readouts_norm..., (spike fraction,) mask]`` on the last axis."""
    v_n = (v - norm["v_mean"]) / norm["v_std"]
    r_n = (readouts - np.asarray(norm["readout_mean"], np.float32)) / np.asarray(norm["readout_std"], np.float32)
    extra = [frac[..., None]] if frac is not None else []
    return np.concatenate([v_n[..., None], spike[..., None], r_n, *extra, mask[..., None]], axis=-1).astype(np.float32)


def _batches(dataset: Dataset, part, cfg: TrainConfig, norm, rng, feedback_noise: float | None = None, spike_offset: bool = False):
    """Endless (x, y) batches; with ``feedback_noise`` not None, x is [x, feedback] (teacher forcing);
    with ``spike_offset``, y holds where in each step its spike fell."""
    x_mean = np.asarray(norm["x_mean"], np.float32)
    x_std = np.asarray(norm["x_std"], np.float32)
    per_file = 1 if cfg.from_start_fraction >= 1.0 else 8  # whole-file windows: each file once per pass
    stream = dataset.windows(part, cfg.window, cfg.warmup_steps, rng, per_file=per_file, from_start_fraction=cfg.from_start_fraction)
    buffer = []
    while True:
        while len(buffer) < 4 * cfg.batch_size:  # small shuffle buffer across files
            buffer.append(next(stream))
        picks = rng.choice(len(buffer), cfg.batch_size, replace=False)
        chosen = [buffer[i] for i in picks]
        for i in sorted(picks, reverse=True):
            buffer.pop(i)
        x = np.stack([(c[0] - x_mean) / x_std for c in chosen]).astype(np.float32)
        frac = np.stack([c[5] for c in chosen]) if spike_offset else None
        y = pack_targets(*(np.stack([c[j] for c in chosen]) for j in range(1, 5)), norm, frac)
        if feedback_noise is not None:
            x = [x, feedback_columns(y[..., 0], y[..., 1], feedback_noise, rng, frac)]
        yield x, y


def _inputs_only(batch):
    """A teacher-forced feedback batch ``([x, feedback], y)`` as ``(x, y)``."""
    (x, _), y = batch
    return x, y


def train_model(dataset: Dataset, checkpoint_dir, model_cfg: ModelConfig, cfg: TrainConfig, *, resume: bool = False, verbose: int = 2):
    """Train on ``dataset``; returns ``(keras_model, norm, history_info)``."""
    tf = configure_tensorflow()
    import keras

    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state_path = checkpoint_dir / "state.json"
    stats = dataset.statistics("train")
    norm = normalisation(stats)
    n_in = dataset.n_inputs
    n_readouts = len(dataset.config.readouts)
    keras.utils.set_random_seed(cfg.seed)
    model = build_model(n_in, n_readouts, model_cfg)
    clip_norm = (-55.0 - norm["v_mean"]) / norm["v_std"]
    initial_epoch, best, waited, lr, history = 0, float("inf"), 0, cfg.learning_rate, []
    if resume and state_path.is_file():
        state = json.loads(state_path.read_text())
        saved = {**ModelConfig().as_dict(), **state.get("model", {})}  # settings added since then: their defaults
        if saved != model_cfg.as_dict() or state.get("train", {}).get("window") != cfg.window:
            raise DatasetError(f"checkpoints in {checkpoint_dir} were made with other model settings; drop --resume or use another --work-dir.")
        model.load_weights(checkpoint_dir / "last.weights.h5")
        initial_epoch, best, waited, lr, history = state["epoch"], state["best"], state["waited"], state["lr"], state["history"]
        print(f"resuming training after epoch {initial_epoch} (best {'closed-loop score' if model_cfg.feedback else 'val loss'} {best:.4f})", flush=True)
    average = WeightAverage(model.get_weights(), cfg.average) if cfg.average else None
    if average is not None and resume and (checkpoint_dir / "average.npz").is_file():
        average.load(checkpoint_dir / "average.npz")
    optimizer = keras.optimizers.Adam(learning_rate=lr, clipnorm=1.0)
    loss_fn = make_loss(model_cfg, clip_norm, n_readouts)
    model.compile(optimizer=optimizer, loss=loss_fn)
    rng = np.random.default_rng([cfg.seed, 99])
    val_rng = np.random.default_rng([cfg.seed, 98])
    noise = model_cfg.feedback_noise if model_cfg.feedback else None
    offset = model_cfg.spike_offset
    val = [b for _, b in zip(range(max(1, cfg.val_windows // cfg.batch_size)), _batches(dataset, "val", cfg, norm, val_rng, noise, offset))]
    if model_cfg.feedback:
        x_val = [np.concatenate([b[0][j] for b in val]) for j in range(2)]
    else:
        x_val = np.concatenate([b[0] for b in val])
    y_val = np.concatenate([b[1] for b in val])
    train_stream = _batches(dataset, "train", cfg, norm, rng, noise, offset)
    rollout_step = None
    start = time.perf_counter()
    epoch = initial_epoch
    for epoch in range(initial_epoch, cfg.epochs):
        t0 = time.perf_counter()
        if cfg.schedule == "cosine":
            lr = cfg.min_learning_rate + 0.5 * (cfg.learning_rate - cfg.min_learning_rate) * (1.0 + np.cos(np.pi * epoch / max(1, cfg.epochs)))
            optimizer.learning_rate.assign(lr)
        rollout = model_cfg.feedback and cfg.rollout_from_epoch is not None and epoch >= cfg.rollout_from_epoch
        if rollout and rollout_step is None:
            rollout_step = make_rollout_step(model, loss_fn, optimizer, offset)
        losses = []
        for _ in range(cfg.steps_per_epoch):
            batch = next(train_stream)
            # closed loop: the model's own feedback replaces the recorded one
            losses.append(float(rollout_step(*_inputs_only(batch)) if rollout else model.train_on_batch(*batch)))
            if average is not None:
                average.update(model.get_weights())
        if rollout:
            skipped = int(np.sum(~np.isfinite(losses)))
            if skipped:
                print(f"epoch {epoch + 1}: {skipped} batches with non-finite gradients skipped", flush=True)
            losses = [x for x in losses if np.isfinite(x)] or [float("nan")]
        scored = average.swapped_in(model) if average is not None else contextlib.nullcontext(model)
        with scored:  # the weights the epoch is scored on, and kept as the best
            raw_val = model.predict(x_val, batch_size=cfg.batch_size, verbose=0)
            val_loss = float(loss_fn(y_val, raw_val))
            entry = {}
            if model_cfg.feedback:  # teacher-forced loss says little about the free-running model: select on its closed-loop score
                closed = closed_loop_score(model, x_val[0], y_val, norm, dataset.config.dt_ms, spike_offset=offset)
                entry = {"closed_loop_" + k: round(v, 5) for k, v in closed.items()}
                entry["teacher_forced_spike_f1"] = round(raw_scores(raw_val, y_val, norm, dataset.config.dt_ms, offset)[1], 5)
                criterion = closed["score"]
            else:
                criterion = val_loss
            improved = criterion < best - 1e-5
            if improved:
                write_whole(checkpoint_dir / "best.weights.h5", model.save_weights)
        if improved:
            best, waited = criterion, 0
        else:
            waited += 1
            if cfg.schedule == "plateau" and waited % 3 == 0:  # plateau: halve the learning rate
                lr = float(optimizer.learning_rate.numpy()) * 0.5
                optimizer.learning_rate.assign(lr)
        lr = float(optimizer.learning_rate.numpy())
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "rollout": bool(rollout), "val_loss": val_loss, **entry, "lr": lr, "wall_s": round(time.perf_counter() - t0, 2)})
        # each file whole (a crash mid-write leaves the previous one); the state goes last, so a
        # crash between them makes a resume train one more epoch than planned, never lose one
        write_whole(checkpoint_dir / "last.weights.h5", model.save_weights)
        if average is not None:
            write_whole(checkpoint_dir / "average.npz", average.save)
        state = {"epoch": epoch + 1, "best": best, "waited": waited, "lr": lr, "history": history, "model": model_cfg.as_dict(), "train": cfg.as_dict()}
        write_whole(state_path, lambda tmp: tmp.write_text(json.dumps(state, indent=1)))
        if verbose:
            print(
                f"epoch {epoch + 1}/{cfg.epochs}{' (closed loop)' if rollout else ''}: loss {np.mean(losses):.4f}  val {val_loss:.4f}"
                + (f"  closed-loop VE {entry['closed_loop_ve_clipped']:.3f} F1 {entry['closed_loop_spike_f1']:.3f}"
                   f" (teacher-forced F1 {entry['teacher_forced_spike_f1']:.3f})" if entry else "")
                + f"{' *' if improved else ''}  "
                f"lr {lr:.2g}  {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        if waited >= cfg.patience:
            print(f"early stop: no val improvement for {cfg.patience} epochs", flush=True)
            break
    if (checkpoint_dir / "best.weights.h5").is_file():
        model.load_weights(checkpoint_dir / "best.weights.h5")
    info = {
        "epochs_run": len(history),
        "best_val_loss" if not model_cfg.feedback else "best_closed_loop_score": best,
        "history": history,
        "parameters": count_parameters(model),
        "training_wall_s_this_run": round(time.perf_counter() - start, 2),
        "training_wall_s_total": round(sum(h["wall_s"] for h in history), 2),
        "statistics": stats,
    }
    return model, norm, info
