"""Reading a dataset folder: one simulation at a time, statistics, and training windows.

Nothing here holds more than one simulation file (plus a small shuffle buffer) in memory,
except, with an input transform, each simulation's transformed inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .generate import GenerationConfig, check_format, sim_path

__all__ = ["Dataset", "read_sim", "spike_fractions"]

_KEYS = ("x", "v", "spike", "readouts", "spike_times_ms")


def read_sim(path) -> dict:
    """Load one simulation file; DatasetError names the file and the fix when it is damaged."""
    path = Path(path)
    try:
        with np.load(path) as data:
            out = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise DatasetError(f"dataset file {path} is missing; rerun the same command to generate it.") from None
    except Exception as exc:
        raise DatasetError(f"dataset file {path} is corrupted ({exc}); delete it and rerun the same command to regenerate it.") from exc
    missing = [k for k in _KEYS if k not in out]
    if missing:
        raise DatasetError(f"dataset file {path} lacks {missing}; delete it and rerun the same command to regenerate it.")
    n = len(out["v"])
    if out["x"].shape[0] != n or out["spike"].shape[0] != n or out["readouts"].shape[0] != n:
        raise DatasetError(f"dataset file {path} has arrays of different lengths; delete it and rerun to regenerate it.")
    return out


def spike_fractions(d: dict, dt_ms: float) -> np.ndarray:
    """Per step, where in the step its (first) spike crossed -20 mV, as a fraction of the step; 0 without a spike."""
    n = len(d["v"])
    t = np.asarray(d["spike_times_ms"], dtype=np.float64)
    k = np.floor(t / dt_ms + 1e-9).astype(int)
    keep = k < n
    frac = np.zeros(n, np.float32)
    # reversed, so that the first spike of a step wins where a step holds two
    frac[k[keep][::-1]] = np.clip(t[keep][::-1] / dt_ms - k[keep][::-1], 0.0, 1.0)
    return frac


class Dataset:
    """A generated dataset folder, split by simulation index into train / val / test."""

    def __init__(self, folder, split: tuple[int, int, int] | None = None, transform=None):
        """``transform``: what the model's inputs are made of the recorded rows, an object with
        ``apply(x) -> x'`` over one whole simulation and ``width`` (the columns of x'), such as
        ``training.conductances.ConductanceInputs``; each simulation's x' is computed once and kept."""
        self.folder = Path(folder)
        self.transform = transform
        self._transformed: dict = {}
        cfg = self.folder / "dataset.json"
        if not cfg.is_file():
            raise DatasetError(f"{self.folder} is not a dataset folder (no dataset.json); generate it with 'neuron-ann train'.")
        try:
            recorded = json.loads(cfg.read_text())
        except Exception as exc:
            raise DatasetError(f"{cfg} is unreadable ({exc}); delete the folder and regenerate.") from exc
        check_format(recorded, self.folder)
        try:
            self.config = GenerationConfig.from_dict(recorded)
        except Exception as exc:
            raise DatasetError(f"{cfg} is unreadable ({exc}); delete the folder and regenerate.") from exc
        n = self.config.n_sims
        if split is None:
            n_val = max(1, n // 10)
            split = (n - 2 * n_val, n_val, n_val)
        if sum(split) > n or min(split) < 0:
            raise DatasetError(f"split {split} needs more than the {n} simulations in {self.folder}.")
        a, b, c = split
        self.indices = {"train": list(range(a)), "val": list(range(a, a + b)), "test": list(range(a + b, a + b + c))}

    def paths(self, part: str) -> list[Path]:
        return [sim_path(self.folder, i) for i in self.indices[part]]

    @property
    def n_inputs(self) -> int:
        """Input columns the model sees: the recorded ones, or the transform's."""
        return self.config.n_inputs if self.transform is None else self.transform.width

    def read(self, path) -> dict:
        """:func:`read_sim`, with ``x`` made by the transform where there is one."""
        d = read_sim(path)
        if self.transform is not None:
            key = str(path)
            if key not in self._transformed:
                self._transformed[key] = self.transform.apply(d["x"])
            d["x"] = self._transformed[key]
        return d

    def statistics(self, part: str = "train") -> dict:
        """Per-column mean and standard deviation of inputs, v and readouts, plus the spike fraction (streamed)."""
        count = 0
        sums = sq = None
        nz_sum = nz_count = None
        n_spike = 0
        v_rest = []
        for path in self.paths(part):
            d = self.read(path)
            cols = np.concatenate([d["x"], d["v"][:, None], d["readouts"]], axis=1).astype(np.float64)
            sums = cols.sum(0) if sums is None else sums + cols.sum(0)
            sq = (cols**2).sum(0) if sq is None else sq + (cols**2).sum(0)
            count += len(cols)
            nz = d["x"] != 0
            nz_sum = np.abs(d["x"]).sum(0) if nz_sum is None else nz_sum + np.abs(d["x"]).sum(0)
            nz_count = nz.sum(0) if nz_count is None else nz_count + nz.sum(0)
            n_spike += int(d["spike"].sum())
            v_rest.append(float(d["v_rest_mv"]) if "v_rest_mv" in d else float(d["v"][0]))
        if count == 0:
            raise DatasetError(f"the {part} part of {self.folder} is empty; generate more simulations.")
        mean = sums / count
        std = np.sqrt(np.maximum(sq / count - mean**2, 0.0))
        n_in = self.n_inputs
        return {
            "n_steps": count,
            "x_mean": mean[:n_in].tolist(),
            "x_std": std[:n_in].tolist(),
            # mean size of a nonzero input: the scale of one synaptic event
            "x_nonzero_mean": (nz_sum / np.maximum(nz_count, 1)).tolist(),
            "v_mean": float(mean[n_in]),
            "v_std": float(std[n_in]),
            "readout_mean": mean[n_in + 1 :].tolist(),
            "readout_std": std[n_in + 1 :].tolist(),
            "spike_fraction": n_spike / count,
            "n_spikes": n_spike,
            "v_rest_mv": float(np.median(v_rest)),
        }

    def windows(self, part: str, length: int, warmup: int, rng, per_file: int = 8, from_start_fraction: float = 0.25):
        """Endless stream of training windows ``(x, v, spike, readouts, mask, frac)``, each ``warmup + length`` long
        (``frac``: :func:`spike_fractions`).

        A window taken from a file's start is prefixed with ``warmup`` zero-input steps at
        rest (the cell was settled before t = 0), which teaches the model to settle from zero
        state; other windows start mid-file and use their first ``warmup`` steps as burn-in.
        The mask is 0 where no loss applies (burn-in).
        """
        paths = self.paths(part)
        if not paths:
            raise DatasetError(f"the {part} part of {self.folder} is empty; generate more simulations.")
        total = warmup + length
        while True:
            for fi in rng.permutation(len(paths)):
                d = self.read(paths[fi])
                d["frac"] = spike_fractions(d, self.config.dt_ms)
                n = len(d["v"])
                v_rest = float(d["v_rest_mv"]) if "v_rest_mv" in d else float(d["v"][0])
                rest_readouts = d["readouts"][0]
                for _ in range(per_file):
                    mask = np.ones(total, dtype=np.float32)
                    if rng.uniform() < from_start_fraction or n <= total:
                        m = min(length, n)
                        x = np.zeros((total, d["x"].shape[1]), np.float32)
                        x[warmup : warmup + m] = d["x"][:m]
                        v = np.full(total, v_rest, np.float32)
                        v[warmup : warmup + m] = d["v"][:m]
                        s = np.zeros(total, np.float32)
                        s[warmup : warmup + m] = d["spike"][:m]
                        frac = np.zeros(total, np.float32)
                        frac[warmup : warmup + m] = d["frac"][:m]
                        r = np.tile(rest_readouts, (total, 1)).astype(np.float32)
                        r[warmup : warmup + m] = d["readouts"][:m]
                        mask[: warmup // 2] = 0.0  # let the state settle before the rest target counts
                        mask[warmup + m :] = 0.0
                    else:
                        a = int(rng.integers(0, n - total + 1))
                        sl = slice(a, a + total)
                        x, v, s, r = d["x"][sl], d["v"][sl], d["spike"][sl].astype(np.float32), d["readouts"][sl]
                        frac = d["frac"][sl]
                        mask[:warmup] = 0.0
                    yield x, v, s, r, mask, frac
