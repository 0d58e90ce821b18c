"""Write a tiny exact stand-in bundle for the BallStick hoc template of examples/ballstick.hoc.

Usage: python examples/make_hoc_bundle.py OUT.onnx  (from a source checkout: it uses
tests/tiny_bundles.py). A cell spikes in each exchange interval in which the synaptic
input that arrives reaches 0.5 uS (step contract format 2). The bundle records
celsius = 6.3, NEURON's default h.celsius.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import neuron_ann  # noqa: E402
from neuron import h  # noqa: E402

import tiny_bundles  # noqa: E402

neuron_ann.load_mechanisms()
h.load_file(str(ROOT / "examples" / "ballstick.hoc"))
cell = h.BallStick()
tiny_bundles.make_bundle(sys.argv[1], cell, [("dend[0]", 0.5, "exc"), ("dend[1]", 0.5, "exc")], threshold=0.5, hoc_template="BallStick")
print(f"wrote {sys.argv[1]}")
