"""The ``neuron-ann`` command: demo, train, convert, validate, bench, info.

Each subcommand's work lives in the room of the data flow it belongs to; this module only
parses arguments and imports that room lazily, so ``neuron-ann info`` never loads
TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

# subcommand -> "module:function" taking the parsed argparse.Namespace, returning an exit code
_COMMANDS = {
    "demo": "neuron_ann.demo:demo_command",
    "train": "neuron_ann.training.command:train_command",
    "convert": "neuron_ann.convert:convert_command",
    "validate": "neuron_ann.validate:validate_command",
    "bench": "neuron_ann.bench:bench_command",
    "info": "neuron_ann.info:info_command",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuron-ann", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the main job on the shipped models")
    p.add_argument("--cells", type=int, default=None, help="cells per type in the demo network")
    p.add_argument("--tstop", type=float, default=None, help="simulated time in ms")
    p.add_argument("--out", default=None, help="folder for the demo's figures and summary")

    p = sub.add_parser("train", help="generate data from a NEURON cell, train a surrogate, export a bundle")
    p.add_argument("cell", help="bundled cell name (BallHH, L5PC, PVBasket), 'module:callable', or 'hoc:Template'")
    p.add_argument("--out", required=True, help="bundle file to write (.onnx)")
    p.add_argument("--sites", type=int, default=None, help="number of contact sites (default per cell type)")
    p.add_argument("--sim-seconds", type=float, default=None, help="seconds of simulated training data")
    p.add_argument("--readouts", nargs="*", default=[], help="readouts, e.g. v:apic[10](0.5) cai:apic[10](0.5) ina ik fluorescence:apic[10](0.5)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted data generation or training")
    p.add_argument("--work-dir", default=None, help="folder for the dataset and checkpoints (default: next to --out)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default per cell type)")
    p.add_argument("--seed", type=int, default=1, help="seed for data generation and training")
    p.add_argument("--processes", type=int, default=None, help="parallel NEURON processes for data generation")
    p.add_argument("--dt", type=float, default=None, help="surrogate step in ms (default per cell type)")
    p.add_argument("--spike-offset", action="store_true", default=None,
                   help="also predict where in the step each spike falls (emitted then, not at the step's middle)")
    p.add_argument("--conductance-inputs", action=argparse.BooleanOptionalAction, default=None,
                   help="also feed the model the synaptic conductances its inputs cause (the synapses' known kinetics), "
                        "beside the raw event weights (default per cell type)")
    p.add_argument("--closed-loop-epochs", type=int, default=None,
                   help="train the last N epochs closed-loop: the model runs on its own fed-back output, as in NEURON")

    p = sub.add_parser("convert", help="convert a ModelDB-style model folder into a trainable cell description")
    p.add_argument("folder", help="model folder with .hoc/.py and .mod files")
    p.add_argument("--out", default=None, help="where to write the converted description")

    p = sub.add_parser("validate", help="compare a bundle with its NEURON cell on held-out input")
    p.add_argument("bundle", help="bundle file (.onnx)")
    p.add_argument("--sim-seconds", type=float, default=20.0, help="seconds of held-out simulation")
    p.add_argument("--seed", type=int, default=12345, help="seed of the held-out input (not used in training)")
    p.add_argument("--references", action="store_true",
                   help="also score NEURON against itself on the same input (events binned to the step; dt/2): the best attainable metrics")
    p.add_argument("--processes", type=int, default=None,
                   help="parallel NEURON processes for the held-out run, the references and the f-I curve (default: CPU count)")
    p.add_argument("--json", default=None, help="also write the metrics as JSON here")

    p = sub.add_parser("bench", help="time NEURON against the surrogate for the same network")
    p.add_argument("bundle", nargs="?", default=None, help="bundle file (default: the shipped L5PC bundle)")
    p.add_argument("--cells", type=int, nargs="+", default=[1, 10, 100, 1000], help="network sizes")
    p.add_argument("--tstop", type=float, default=1000.0, help="simulated time in ms")
    p.add_argument("--connectivity", type=float, default=0.0, help="fraction of cell pairs connected")
    p.add_argument("--repeats", type=int, default=3, help="repeated runs; medians are reported")
    p.add_argument("--neuron-cells", type=int, default=None, help="time NEURON on this many cells and scale linearly")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    p.add_argument("--providers", nargs="+", default=None,
                   help="ONNX Runtime providers, e.g. CPUExecutionProvider (default: CUDA when it starts, else CPU)")
    p.add_argument("--direct", action="store_true",
                   help="swap_to_ann(direct_delivery=True): the runtime, not NEURON's event queue, delivers the events onto swapped "
                        "cells (spikes between swapped cells, and the NetStim inputs through one collector per NetStim)")
    p.add_argument("--json", default=None, help="also write the results as JSON here")

    p = sub.add_parser("info", help="print everything a bundle records")
    p.add_argument("bundle", help="bundle file (.onnx)")
    p.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    module_name, function_name = _COMMANDS[args.command].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            print(f"neuron-ann {args.command}: not available in this version.", file=sys.stderr)
            return 2
        raise
    from .errors import NeuronAnnError

    try:
        return int(getattr(module, function_name)(args) or 0)
    except NeuronAnnError as exc:
        print(f"neuron-ann {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"neuron-ann {args.command}: interrupted; finished work is kept on disk.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
