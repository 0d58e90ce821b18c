"""GPU check of the runtime: provider choice, CUDA/CPU parity and step cost per batch size.

Runs the shipped bundles' step models without NEURON, on random inputs of the training
data's scale (each synapse column |N(0, s.d.)| on 10 % of the steps, no current), from
the warmed-up state:

1. which providers ``neuron_ann`` chooses by itself (expect CUDA where onnxruntime-gpu
   starts on a GPU) and the one log line it writes;
2. parity: the same 300 steps for 1000 cells on the chosen providers and on the CPU,
   max |difference| of soma v (mV) and of the spike probability;
3. cost: median wall time of one step (one batched call) over 200 steps per batch size:
   the runtime's default on the chosen providers (on CUDA: device-resident state replayed
   as CUDA graphs), bound state without graphs, plain ``session.run``, and the CPU with
   1 thread.

    python examples/gpu_check.py [--json results.json] [--batches 1 10 100 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time

import numpy as np

from neuron_ann import bundle as bundle_module
from neuron_ann.bundle import shipped_bundles
from neuron_ann.runtime import StepModel, available_providers, choose_providers

CPU = ["CPUExecutionProvider"]


def inputs(b, n_cells: int, rng) -> np.ndarray:
    std = np.asarray(b.meta["normalization"]["x_std"], dtype=np.float64)
    x = np.abs(rng.normal(0.0, std, size=(n_cells, b.n_inputs))) * (rng.random((n_cells, b.n_inputs)) < 0.1)
    column = b.current_input_index()
    if column is not None:
        x[:, column] = 0.0
    return x.astype(np.float32)


def parity(b, providers, n_cells=1000, steps=300) -> dict:
    """One-step parity (both models start every step from the CPU model's state) and a
    free-running comparison (both from the same state, then each on its own outputs)."""
    fast = StepModel(b, n_cells, providers=providers)
    ref = StepModel(b, n_cells, providers=CPU, threads=1, io_binding=False)
    ref.reset()
    fast.set_state(ref.state_arrays())
    v, s = b.output_index("soma_v"), b.output_index("spike_prob")
    rng = np.random.default_rng(0)
    xs = [inputs(b, n_cells, rng) for _ in range(steps)]
    one_dv = one_dp = 0.0
    for x in xs:
        fast.set_state([a.copy() for a in ref.state_arrays()])
        fast.x[...] = ref.x[...] = x
        a, c = fast.step(), ref.step()
        one_dv = max(one_dv, float(np.abs(a[:, v] - c[:, v]).max()))
        if s is not None:
            one_dp = max(one_dp, float(np.abs(a[:, s] - c[:, s]).max()))
    # free running from one state
    ref.reset()
    fast.set_state(ref.state_arrays())
    first_off, free_dv, spikes = None, [], [0, 0]
    threshold = b.meta["spike_threshold"]
    for k, x in enumerate(xs):
        fast.x[...] = ref.x[...] = x
        a, c = fast.step(), ref.step()
        dv = np.abs(a[:, v] - c[:, v])
        free_dv.append(float(np.median(dv)))
        if first_off is None and dv.max() > 1.0:
            first_off = k
        if s is not None:
            spikes[0] += int((a[:, s] > threshold).sum())
            spikes[1] += int((c[:, s] > threshold).sum())
    return {"one_step_max_abs_dv_mV": one_dv, "one_step_max_abs_dspike_prob": one_dp,
            "free_first_step_dv_over_1mV": first_off, "free_median_abs_dv_last_step_mV": free_dv[-1],
            "free_spikes_fast_cpu": spikes, "io_binding": fast.io_binding, "cuda_graph": fast.cuda_graph}


def step_cost(b, n_cells: int, providers, threads=None, io_binding=None, cuda_graph=None, steps=200) -> float:
    model = StepModel(b, n_cells, providers=providers, threads=threads, io_binding=io_binding, cuda_graph=cuda_graph)
    model.reset()
    model.x[...] = inputs(b, n_cells, np.random.default_rng(1))
    for _ in range(20):
        model.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 10, 100, 1000, 10000])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    import onnxruntime as ort

    print(f"onnxruntime {ort.__version__}, device {ort.get_device()}, offers {available_providers()}")
    results = {"onnxruntime": ort.__version__, "offered": available_providers(), "bundles": {}}
    for path in shipped_bundles():
        b = bundle_module.load(path)
        name = b.meta["cell_type"]["name"]
        chosen = choose_providers(b.model_bytes)
        results["chosen"] = chosen
        print(f"{name}: chosen {chosen}", flush=True)
        p = parity(b, chosen)
        print(f"  parity vs CPU, 300 steps x 1000 cells: {p}", flush=True)
        rows = []
        for n in args.batches:
            row = {"cells": n, "default_s": step_cost(b, n, chosen)}
            if chosen[0] != CPU[0]:
                row["bound_no_graph_s"] = step_cost(b, n, chosen, cuda_graph=False)
                row["plain_s"] = step_cost(b, n, chosen, io_binding=False)
            row["cpu_1thread_s"] = step_cost(b, n, CPU, threads=1, steps=50 if n >= 10000 else 200)
            rows.append(row)
            cells = "  ".join(f"{k[:-2]} {1e6 * v:9.1f} us/step ({1e6 * v / n:7.3f} us/cell-step)"
                              for k, v in row.items() if k.endswith("_s"))
            print(f"  {n:>6} cells: {cells}", flush=True)
        results["bundles"][name] = {"parity": p, "step_cost": rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
