"""Score several bundles of one cell on the same held-out input, and in the demo's network.

    python examples/compare_bundles.py [--gen DATASET.json] [--seconds S] [--network SEED,SEED,...] B1.onnx B2.onnx ...

``neuron-ann validate`` draws held-out input from each bundle's own generation settings
and simulates it in NEURON each time. Here NEURON runs once: the held-out input (seed
12345, S seconds, 100 by default) is drawn with the first bundle's settings, or with those
of a dataset folder's ``dataset.json`` (``--gen``), its NEURON run cached in ``--cache``
(default ``~/.cache/neuron_ann/compare``), and every bundle gets validate's report
on it (metrics, readouts, drift, input regimes, f-I). The bundles must take the same
inputs (same cell, sites and step).

``--network SEED,SEED,...``: also the demo's network of 10 cells (10 % connected, 1 s) per
seed, run in NEURON once (cached likewise) and with each bundle swapped in: mean firing
rates, median per-cell spike F1, clipped VE of cell 0 (the cached NEURON runs are keyed by
cell and seed only: delete them after changing ``neuron_ann.network``).
"""
import argparse
import hashlib
import json
import pickle
from pathlib import Path

from neuron_ann import validate as V
from neuron_ann.bundle import load
from neuron_ann.dataset.generate import GenerationConfig, simulate_one

SEED = 12345
CACHE = Path.home() / ".cache" / "neuron_ann" / "compare"


def cached(path: Path, make):
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def held_out(first, gen: dict, seconds: float, cache: Path) -> tuple:
    key = GenerationConfig.from_dict(gen).as_dict()  # settings added since, at their defaults, make no difference
    key.pop("n_sims", None)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]

    def simulate():
        config, drawn, plan = V.held_out_input(gen, SEED, seconds)
        return simulate_one(V.source_for(first.meta), config, 0, drawn=drawn), plan

    return cached(cache / f"heldout_{first.meta['cell_type']['name']}_{int(seconds)}s_{digest}.pkl", simulate)


def report(bundle, sim, plan) -> str:
    """validate's report of ``bundle`` on the cached run; its f-I curve over its own training currents."""
    config = V.held_out_input(bundle.meta["provenance"]["generation"], SEED, 1.0)[0]
    result = V.score_held_out(bundle, sim, plan, V.source_for(bundle.meta), config)
    result["seed"] = SEED
    return V.format_metrics(result)


def network(paths: list, seed: int, cell: str, cache: Path) -> None:
    from neuron_ann.demo import _compare, _simulate

    pops = {cell: 10}
    detailed = cached(cache / f"network_{cell}_10_{seed}.pkl", lambda: _simulate(pops, 1000.0, seed))
    for path in paths:
        m = _compare(detailed, _simulate(pops, 1000.0, seed, (cell,), (path,)), 10, 1000.0)
        print(f"network seed {seed}, {path}: rate NEURON {m['rate_detailed_hz']:.1f} Hz, surrogate {m['rate_surrogate_hz']:.1f} Hz; "
              f"median per-cell F1 {m['spike_f1_median']:.2f}; cell 0 clipped VE {m['cell0_clipped_ve']:.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundles", nargs="+")
    ap.add_argument("--gen", help="a dataset folder's dataset.json: draw the held-out input with its settings")
    ap.add_argument("--seconds", type=float, default=100.0)
    ap.add_argument("--network", type=lambda text: [int(x) for x in text.split(",")], default=[], metavar="SEED,SEED,...")
    ap.add_argument("--cache", default=str(CACHE), help="where NEURON's runs are kept between calls")
    args = ap.parse_args()
    cache = Path(args.cache)
    bundles = [load(p) for p in args.bundles]
    first = bundles[0].meta
    for path, bundle in zip(args.bundles[1:], bundles[1:]):
        m = bundle.meta
        if (m["cell_type"]["name"], m["dt_ms"], len(m["inputs"])) != (first["cell_type"]["name"], first["dt_ms"], len(first["inputs"])):
            raise SystemExit(f"{path} is a {m['cell_type']['name']} bundle with {len(m['inputs'])} inputs at {m['dt_ms']} ms; "
                             f"{args.bundles[0]} is a {first['cell_type']['name']} bundle with {len(first['inputs'])} at {first['dt_ms']} ms: "
                             "compare bundles of one cell with the same inputs and step.")
    gen = json.loads(Path(args.gen).read_text()) if args.gen else bundles[0].meta["provenance"]["generation"]
    sim, plan = held_out(bundles[0], gen, args.seconds, cache)
    for path, bundle in zip(args.bundles, bundles):
        print(f"===== {path}")
        print(report(bundle, sim, plan), flush=True)
    for seed in args.network:
        network(args.bundles, seed, bundles[0].meta["cell_type"]["name"], cache)


if __name__ == "__main__":
    main()
