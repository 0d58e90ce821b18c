"""The Keras model run step by step in numpy, feeding back its own output: how the exported
step model behaves, cheap enough to score every epoch on the validation windows.

Teacher forcing (the training loss) tells how well a feedback model predicts one step
from the true past; what the surrogate does in NEURON is run on its own past. The score
here is that closed-loop behaviour, in the metrics of DESIGN.md: ``(1 - VE clipped) +
(1 - spike F1)`` over the masked steps.
"""

from __future__ import annotations

import numpy as np

from .. import metrics
from .export import has_feedback, hidden_weights, layer_weights, sigmoid as _sigmoid

__all__ = ["weights_of", "run_closed_loop", "closed_loop_score", "raw_scores"]


def weights_of(model) -> dict:
    w_conv, b_conv, w_x, w_h, b_l, w_d, b_d = (np.asarray(w, np.float64) for w in layer_weights(model))
    kernel, n_in, filters = w_conv.shape
    return {"w_conv": w_conv.reshape(kernel * n_in, filters), "b_conv": b_conv, "kernel": kernel, "w_x": w_x, "w_h": w_h, "b_l": b_l,
            "w_d": w_d, "b_d": b_d, "feedback": has_feedback(model),
            "hidden": [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in hidden_weights(model)]}


def run_closed_loop(weights: dict, x_norm) -> np.ndarray:
    """Raw (normalised) outputs [batch, T, n_out] of the model over ``x_norm`` [batch, T, n_in] from zero state."""
    w = weights
    batch, steps, n_in = x_norm.shape
    kernel = w["kernel"]
    padded = np.concatenate([np.zeros((batch, kernel - 1, n_in)), x_norm], axis=1)
    w_conv = w["w_conv"].reshape(kernel, n_in, -1)
    conv = np.maximum(sum(padded[:, j : j + steps] @ w_conv[j] for j in range(kernel)) + w["b_conv"], 0.0)  # inputs only
    for w_hid, b_hid in w.get("hidden", ()):
        conv = np.maximum(conv @ w_hid + b_hid, 0.0)
    width = conv.shape[2]
    conv = conv @ w["w_x"][:width] + w["b_l"]
    w_fb = w["w_x"][width:]
    units = w["w_h"].shape[0]
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    fb = np.zeros((batch, w_fb.shape[0]))  # 2 columns, 3 for a spike-offset model (its offset head is the last)
    out = np.empty((batch, steps, w["w_d"].shape[1]))
    for k in range(steps):
        z = conv[:, k] + h @ w["w_h"]
        if w["feedback"]:
            z += fb @ w_fb
        i, f, g, o = np.split(z, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        raw = h @ w["w_d"] + w["b_d"]
        out[:, k] = raw
        spiked = (raw[:, 1] > 0.0).astype(np.float64)
        columns = [raw[:, 0], spiked] + ([_sigmoid(raw[:, -1]) * spiked] if fb.shape[1] == 3 else [])
        fb = np.stack(columns, axis=1)
    return out


def closed_loop_score(model, x_norm, y, norm: dict, dt_ms: float, spike_offset: bool = False) -> dict:
    """Closed-loop VE (clipped), spike F1 (p > 0.5) and their combined score over the masked steps of ``y`` (packed
    targets; with ``spike_offset``, true and predicted spikes fall where in the step they do, not at its middle)."""
    raw = run_closed_loop(weights_of(model), np.asarray(x_norm, np.float64))
    ve, f1 = raw_scores(raw, y, norm, dt_ms, spike_offset)
    return {"ve_clipped": ve, "spike_f1": f1, "score": float((1.0 - ve) + (1.0 - f1))}


def raw_scores(raw, y, norm: dict, dt_ms: float, spike_offset: bool = False) -> tuple[float, float]:
    """VE (clipped) and spike F1 (p > 0.5) of raw outputs ``raw`` against packed targets ``y`` over
    its masked steps: of a closed-loop run, or of the teacher-forced model (whose spike F1 says
    how well spikes are predicted from the true past; a large gap to the closed-loop F1 means the
    model leans on fed-back values it cannot produce itself)."""
    mask = y[..., -1] > 0
    v_true = y[..., 0] * norm["v_std"] + norm["v_mean"]
    v_pred = raw[..., 0] * norm["v_std"] + norm["v_mean"]
    ve = metrics.voltage_metrics(v_true[mask], v_pred[mask])["ve_clipped"]
    t_true, t_pred, offset = [], [], 0.0
    for b in range(len(y)):
        idx = np.nonzero(mask[b])[0]
        frac_true = y[b, idx, -2] * dt_ms if spike_offset else None
        frac_pred = _sigmoid(raw[b, idx, -1]) * dt_ms if spike_offset else None
        t_true.append(metrics.spike_times_from_prob(y[b, idx, 1], dt_ms, 0.5, frac_true) + offset)
        t_pred.append(metrics.spike_times_from_prob(_sigmoid(raw[b, idx, 1]), dt_ms, 0.5, frac_pred) + offset)
        offset += (len(idx) + 100) * dt_ms
    f1 = metrics.spike_metrics(np.concatenate(t_true), np.concatenate(t_pred))["f1"]
    return float(ve), float(f1)
