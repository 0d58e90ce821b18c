"""How a bundle's spike output reads out, on held-out input and under a steady current.

1. Held-out input (as ``neuron-ann validate``: seed 12345): spike F1 with the bundle's own
   rule (every step whose spike probability exceeds the bundle's threshold is a spike) and
   with a run-sum rule (sum the probability over a run of steps above ``--floor``; one spike
   at the step where the sum first reaches ``--mass``). The run-sum rule catches spikes
   whose probability is split over two steps.
2. A steady somatic current (``--current`` nA, no synaptic input): NEURON's and the
   surrogate's spike counts and the first steps of both voltage traces.

    python examples/spike_output_check.py neuron_ann/models/BallHH.onnx --seconds 50 --current 0.3
"""

from __future__ import annotations

import argparse

import numpy as np

from neuron_ann import bundle as bundle_module
from neuron_ann import metrics
from neuron_ann import validate as V
from neuron_ann.dataset.generate import GenerationConfig, simulate_one


def run_sum_spikes(prob, dt_ms: float, mass: float, floor: float) -> np.ndarray:
    out, acc, fired = [], 0.0, False
    for k, p in enumerate(prob):
        if p < floor:
            acc, fired = 0.0, False
            continue
        acc += p
        if acc >= mass and not fired:
            out.append((k + 0.5) * dt_ms)
            fired = True
    return np.array(out)


def scores(t_true, t_pred) -> str:
    m = metrics.spike_metrics(t_true, t_pred)
    return f"F1 {m['f1']:.3f} (P {m['precision']:.3f}, R {m['recall']:.3f}), timing {m['timing_error_ms']:.3f} ms, {len(t_pred)} spikes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--seconds", type=float, default=50.0, help="held-out simulated seconds")
    ap.add_argument("--current", type=float, default=0.3, help="steady somatic current, nA")
    ap.add_argument("--mass", type=float, default=0.8)
    ap.add_argument("--floor", type=float, default=0.3)
    args = ap.parse_args()

    b = bundle_module.load(args.bundle)
    meta = b.meta
    gen = meta["provenance"]["generation"]
    source = V.source_for(meta)
    session = V.make_session(b.model_bytes)
    s_col, v_col, dt = V._column(meta, "spike_prob"), V._column(meta, "soma_v"), float(meta["dt_ms"])

    config, drawn, _ = V.held_out_input(gen, 12345, args.seconds)
    sim = simulate_one(source, config, 0, drawn=drawn)
    prob = V.predict(session, meta, sim["x"][None])[0, :, s_col]
    t_true = np.asarray(sim["spike_times_ms"])
    print(f"held-out input, {args.seconds:g} s, {len(t_true)} NEURON spikes")
    print(f"  threshold rule (p > {meta['spike_threshold']:g}): {scores(t_true, metrics.spike_times_from_prob(prob, dt, meta['spike_threshold']))}")
    print(f"  run-sum rule (mass {args.mass:g}, floor {args.floor:g}): {scores(t_true, run_sum_spikes(prob, dt, args.mass, args.floor))}")

    cfg = GenerationConfig.from_dict({**config.as_dict(), "sim_ms": 500.0, "n_sims": 1})
    sim = simulate_one(source, cfg, 0, drawn=V.steady_current_input(cfg, args.current))
    y = V.predict(session, meta, sim["x"][None])[0]
    print(f"steady {args.current:g} nA for 500 ms: NEURON {len(sim['spike_times_ms'])} spikes; surrogate "
          f"{len(metrics.spike_times_from_prob(y[:, s_col], dt, meta['spike_threshold']))} by its threshold rule, "
          f"{len(run_sum_spikes(y[:, s_col], dt, args.mass, args.floor))} by the run-sum rule")
    print("  last 30 steps, NEURON v:   ", np.round(np.asarray(sim["v"])[-30:]).astype(int).tolist())
    print("  last 30 steps, surrogate v:", np.round(y[-30:, v_col]).astype(int).tolist())
    print("  last 30 steps, spike prob: ", np.round(y[-30:, s_col].astype(float), 1).tolist())


if __name__ == "__main__":
    main()
