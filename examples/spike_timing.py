"""Where a surrogate's spikes fall against NEURON's on held-out input, and why.

    python examples/spike_timing.py [--seconds S] [--cache DIR] [--thresholds T,T,...] BUNDLE.onnx

On the held-out input of ``neuron-ann validate`` (seed 12345, S seconds, 100 by default;
NEURON's run cached like ``examples/compare_bundles.py`` does) it runs the bundle's step
model in each of these ways:

- ``closed loop``: as in NEURON (its own previous spike fed back);
- ``sampled``: each step spikes with the probability the spike output means once the
  cross-entropy's class weight is undone (``p / (p + w (1 - p))``, ``w`` the training's
  ``spike_pos_weight``; seed 1), instead of above the bundle's threshold: a rate error that
  comes only from the threshold goes away there;
- ``true spikes fed back``: NEURON's previous-step spike fed back instead, so that a wrong
  spike of its own cannot throw the next ones off (feedback models only);
- ``threshold T``, with ``--thresholds T,T,...``: spikes above ``T`` instead of the
  bundle's threshold, emitted and fed back alike (the step model feeds back ``p > 0.5``).

For each: spike counts, F1, the coincidence factor (``neuron_ann.metrics.coincidence_factor``)
overall and per input regime, and the count of predicted-minus-true spike time differences
per 1 ms lag within +/-10 ms (a peak at 0 is timing; a flat count is rate alone).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_bundles import CACHE, held_out  # noqa: E402  (the cached NEURON run of the held-out input)

from neuron_ann import metrics  # noqa: E402
from neuron_ann.bundle import load  # noqa: E402
from neuron_ann.validate import make_session, predict, regime_metrics  # noqa: E402


def run(bundle, x, mode: str, true_spikes: np.ndarray) -> tuple:
    """Soma v and spike steps of the step model over ``x`` [T, n_inputs] (after its warm-up)."""
    meta = bundle.meta
    columns = [o["kind"] for o in meta["outputs"]]
    if "spike_prob" not in columns:
        raise SystemExit(f"{meta['cell_type']['name']} bundle has no spike output; this script looks at spike outputs.")
    v_col, s_col = columns.index("soma_v"), columns.index("spike_prob")
    w = float(meta["provenance"]["training"]["model"].get("spike_pos_weight", 1.0))
    rng = np.random.default_rng(1)
    spiked = np.zeros(len(x), bool)

    def spike(p: float) -> bool:
        if mode == "sampled":
            return rng.random() < p / (p + w * (1.0 - p))
        if mode.startswith("threshold "):
            return p > float(mode.split()[1])
        return p > float(meta["spike_threshold"])

    def feedback(k, y):  # fed back at the next step instead of the step model's own p > 0.5
        spiked[k] = spike(float(y[0, s_col]))
        return true_spikes[k] if mode == "true spikes fed back" else spiked[k]

    has_feedback = any(s["input"] == "fb_in" for s in meta["state"])
    hook = feedback if has_feedback and mode != "closed loop" else None
    y = predict(make_session(bundle.model_bytes, 1), meta, x[None], spike_feedback=hook)[0]
    if hook is None:  # nothing fed back differs: the spikes follow from the outputs
        spiked[:] = [spike(float(p)) for p in y[:, s_col]]
    return y[:, v_col], spiked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle")
    ap.add_argument("--seconds", type=float, default=100.0)
    ap.add_argument("--cache", default=str(CACHE), help="where NEURON's runs are kept between calls")
    ap.add_argument("--thresholds", type=lambda text: [float(t) for t in text.split(",")], default=[], metavar="T,T,...")
    args = ap.parse_args()
    bundle = load(args.bundle)
    meta = bundle.meta
    dt = float(meta["dt_ms"])
    sim, plan = held_out(bundle, meta["provenance"]["generation"], args.seconds, Path(args.cache))
    t_true = np.asarray(sim["spike_times_ms"])
    true_spikes = np.zeros(len(sim["x"]))
    true_spikes[np.minimum((t_true // dt).astype(int), len(true_spikes) - 1)] = 1.0
    feedback = any(s["input"] == "fb_in" for s in meta["state"])
    modes = ["closed loop", "sampled"] + (["true spikes fed back"] if feedback else []) + [f"threshold {t:g}" for t in args.thresholds]
    print(f"{args.bundle}: {args.seconds:g} s of held-out input, NEURON {len(t_true)} spikes")
    for mode in modes:
        v, spiked = run(bundle, sim["x"].astype(np.float32), mode, true_spikes)
        t_pred = metrics.spike_times_from_prob(spiked, dt, 0.5)  # at the step's middle, as the bridge emits them
        m = metrics.spike_metrics(t_true, t_pred)
        gamma = metrics.coincidence_factor(t_true, t_pred, len(v) * dt, n_matched=m["n_matched"])
        print(f"== {mode}: {m['n_pred']} spikes, F1 {m['f1']:.3f}, coincidence factor {gamma:.3f}, "
              f"clipped VE {metrics.variance_explained(metrics.clip(sim['v']), metrics.clip(v)):.3f}")
        for regime, r in regime_metrics(sim["v"], v, t_true, t_pred, plan, dt).items():
            print(f"   {regime:<15} spikes NEURON {r['spike_n_true']:5d}, surrogate {r['spike_n_pred']:5d}; "
                  f"F1 {r['spike_f1']:.3f}, coincidence factor {r['spike_coincidence_factor']:.3f}")
        lo, hi = np.searchsorted(t_pred, t_true - 10.5), np.searchsorted(t_pred, t_true + 10.5)
        lags = np.concatenate([t_pred[a:b] - t for t, a, b in zip(t_true, lo, hi)]) if len(t_true) else np.array([])
        counts, _ = np.histogram(lags, bins=np.arange(-10.5, 11.0, 1.0))
        print("   pairs per lag (ms) -10..+10: " + " ".join(str(c) for c in counts))


if __name__ == "__main__":
    main()
