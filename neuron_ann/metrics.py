"""The metric definitions of DESIGN.md, used by the tests, ``validate`` and ``bench`` alike.

- spike-clipped voltage ``vc = min(v, -55 mV)``; ``VE = 1 - var(vc_true - vc_pred) / var(vc_true)``;
  ``RMSE(vc)`` in mV; VE of the unclipped trace;
- spikes: upward crossings of -20 mV, matched one-to-one within +/-2 ms; precision,
  recall, F1 and mean absolute timing error of matched spikes; the coincidence factor
  (matches beyond those a train at the predicted rate would get by chance, see
  :func:`coincidence_factor`);
- drift: VE and F1 in consecutive windows (10 s by default);
- f-I: firing rates per injected current, compared point by point.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CLIP_MV",
    "SPIKE_THRESHOLD_MV",
    "MATCH_WINDOW_MS",
    "clip",
    "variance_explained",
    "rmse",
    "spike_times",
    "spike_times_from_prob",
    "match_spikes",
    "spike_metrics",
    "coincidence_factor",
    "voltage_metrics",
    "drift_windows",
    "compare_fi",
]

CLIP_MV = -55.0
SPIKE_THRESHOLD_MV = -20.0
MATCH_WINDOW_MS = 2.0


def clip(v, clip_mv: float = CLIP_MV) -> np.ndarray:
    """Spike-clipped voltage ``min(v, clip_mv)``."""
    return np.minimum(np.asarray(v, dtype=np.float64), clip_mv)


def variance_explained(v_true, v_pred) -> float:
    """``1 - var(true - pred) / var(true)``; nan when the true trace is constant."""
    v_true = np.asarray(v_true, dtype=np.float64)
    v_pred = np.asarray(v_pred, dtype=np.float64)
    var = np.var(v_true)
    if var == 0:
        return float("nan")
    return float(1.0 - np.var(v_true - v_pred) / var)


def rmse(v_true, v_pred) -> float:
    v_true = np.asarray(v_true, dtype=np.float64)
    v_pred = np.asarray(v_pred, dtype=np.float64)
    return float(np.sqrt(np.mean((v_true - v_pred) ** 2)))


def voltage_metrics(v_true, v_pred) -> dict:
    """``ve_clipped``, ``rmse_clipped_mv`` and ``ve_unclipped`` of two traces on the same time grid."""
    return {
        "ve_clipped": variance_explained(clip(v_true), clip(v_pred)),
        "rmse_clipped_mv": rmse(clip(v_true), clip(v_pred)),
        "ve_unclipped": variance_explained(v_true, v_pred),
    }


def spike_times(v, dt_ms: float, t0_ms: float = 0.0, threshold_mv: float = SPIKE_THRESHOLD_MV) -> np.ndarray:
    """Times of upward crossings of ``threshold_mv`` in a trace sampled every ``dt_ms``, linearly interpolated."""
    v = np.asarray(v, dtype=np.float64)
    idx = np.nonzero((v[:-1] < threshold_mv) & (v[1:] >= threshold_mv))[0]
    frac = (threshold_mv - v[idx]) / (v[idx + 1] - v[idx])
    return t0_ms + (idx + frac) * dt_ms


def spike_times_from_prob(prob, dt_ms: float, threshold: float = 0.5, offset_ms=None) -> np.ndarray:
    """Spike times from a surrogate's spike probability: step ``k`` predicts the interval
    ``[k*dt, (k+1)*dt)``; every step above ``threshold`` is one spike, at ``offset_ms[k]``
    into the interval where the surrogate predicts that (a ``spike_offset`` output), else at
    the interval's middle."""
    k = np.nonzero(np.asarray(prob) > threshold)[0]
    if offset_ms is None:
        return (k + 0.5) * dt_ms
    return k * dt_ms + np.clip(np.asarray(offset_ms, dtype=np.float64)[k], 0.0, dt_ms)


def match_spikes(t_true, t_pred, window_ms: float = MATCH_WINDOW_MS) -> list[tuple[int, int]]:
    """One-to-one matching of spikes within ``window_ms``, closest pairs first.

    Returns the (true index, predicted index) pairs.
    """
    t_true = np.asarray(t_true, dtype=np.float64)
    t_pred = np.asarray(t_pred, dtype=np.float64)
    if len(t_true) == 0 or len(t_pred) == 0:
        return []
    candidates = []
    j0 = 0
    for i, t in enumerate(t_true):
        while j0 < len(t_pred) and t_pred[j0] < t - window_ms:
            j0 += 1
        j = j0
        while j < len(t_pred) and t_pred[j] <= t + window_ms:
            candidates.append((abs(t_pred[j] - t), i, j))
            j += 1
    candidates.sort()
    used_true, used_pred, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_true and j not in used_pred:
            used_true.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def spike_metrics(t_true, t_pred, window_ms: float = MATCH_WINDOW_MS) -> dict:
    """Precision, recall, F1 and mean absolute timing error (ms) of matched spikes.

    With no spikes on either side precision, recall and F1 are 1; the timing error is
    nan when nothing matched.
    """
    t_true = np.asarray(t_true, dtype=np.float64)
    t_pred = np.asarray(t_pred, dtype=np.float64)
    pairs = match_spikes(t_true, t_pred, window_ms)
    n_match = len(pairs)
    precision = n_match / len(t_pred) if len(t_pred) else (1.0 if len(t_true) == 0 else 0.0)
    recall = n_match / len(t_true) if len(t_true) else (1.0 if len(t_pred) == 0 else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    timing = float(np.mean([abs(t_pred[j] - t_true[i]) for i, j in pairs])) if pairs else float("nan")
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "timing_error_ms": timing,
        "n_true": int(len(t_true)),
        "n_pred": int(len(t_pred)),
        "n_matched": n_match,
    }


def coincidence_factor(t_true, t_pred, duration_ms: float, window_ms: float = MATCH_WINDOW_MS, n_matched: int | None = None) -> float:
    """Coincidence factor Gamma of Kistler, Gerstner & van Hemmen (1997, Neural Comput 9:1015),
    in the form of Jolivet et al. (2008, J Neurosci Methods 169:417): the matched spikes beyond
    the ``2 nu window N_true`` that a Poisson train at the predicted rate ``nu`` would match by
    chance, over the mean spike count, normalised by ``1 - 2 nu window`` so that a perfect
    prediction scores 1 and one that knows only the rate scores about 0.

    Matches are :func:`match_spikes`' one-to-one pairs within ``window_ms`` (the F1 window;
    Jolivet et al. used 4 ms), or ``n_matched`` when given. Chance is reckoned for a train of
    constant rate, so a predicted rate that rises and falls with the true one (bursts, input
    that changes within the run) raises Gamma too. With no spikes on either side
    Gamma is 1; it is nan where ``2 nu window >= 1`` (a rate at which chance matches all).
    """
    n_true, n_pred = len(t_true), len(t_pred)
    if n_true + n_pred == 0:
        return 1.0
    if duration_ms <= 0:
        raise ValueError(f"duration_ms must be positive, got {duration_ms}")
    if n_matched is None:
        n_matched = len(match_spikes(t_true, t_pred, window_ms))
    chance = 2.0 * (n_pred / duration_ms) * window_ms
    if chance >= 1.0:
        return float("nan")
    return float((n_matched - chance * n_true) / (0.5 * (n_true + n_pred)) / (1.0 - chance))


def drift_windows(v_true, v_pred, t_true_spikes, t_pred_spikes, dt_ms: float, window_ms: float = 10_000.0) -> list[dict]:
    """VE (clipped) and spike F1 in consecutive windows of ``window_ms`` (the last partial one dropped)."""
    v_true = np.asarray(v_true)
    v_pred = np.asarray(v_pred)
    t_true_spikes = np.asarray(t_true_spikes)
    t_pred_spikes = np.asarray(t_pred_spikes)
    per_window = int(round(window_ms / dt_ms))
    rows = []
    for w in range(len(v_true) // per_window):
        sl = slice(w * per_window, (w + 1) * per_window)
        t0, t1 = w * window_ms, (w + 1) * window_ms
        st = t_true_spikes[(t_true_spikes >= t0) & (t_true_spikes < t1)]
        sp = t_pred_spikes[(t_pred_spikes >= t0) & (t_pred_spikes < t1)]
        rows.append(
            {
                "t_start_ms": t0,
                "ve_clipped": variance_explained(clip(v_true[sl]), clip(v_pred[sl])),
                "f1": spike_metrics(st, sp)["f1"],
            }
        )
    return rows


def compare_fi(currents_na, rates_true_hz, rates_pred_hz, floor_hz: float = 1.0) -> dict:
    """Compare two f-I curves point by point.

    The relative error of each point is ``|pred - true| / max(true, floor_hz)``, so that
    silent points compare in absolute terms. Returns the per-point table and the maximum
    relative error.
    """
    currents = np.asarray(currents_na, dtype=np.float64)
    true = np.asarray(rates_true_hz, dtype=np.float64)
    pred = np.asarray(rates_pred_hz, dtype=np.float64)
    rel = np.abs(pred - true) / np.maximum(true, floor_hz)
    return {
        "points": [
            {"current_na": float(c), "rate_true_hz": float(a), "rate_pred_hz": float(b), "relative_error": float(r)}
            for c, a, b, r in zip(currents, true, pred, rel)
        ],
        "max_relative_error": float(rel.max()) if len(rel) else float("nan"),
    }
