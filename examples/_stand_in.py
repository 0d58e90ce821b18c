"""Shared by the examples: a bundle for a cell type, shipped if there is one, else a tiny stand-in.

The stand-in (tests/tiny_bundles.py, needs a source checkout and the onnx package) spikes
in the exchange interval after one whose synaptic input reaches a threshold; it shows the
plumbing, not a trained surrogate.
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bundle_for(class_name: str, threshold: float = 0.3) -> str:
    from neuron_ann.bundle import load, shipped_bundles

    for path in shipped_bundles():
        if load(path).meta["cell_type"]["name"] == class_name:
            return str(path)
    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_bundles

    out = Path(tempfile.mkdtemp(prefix="neuron_ann_example_")) / f"{class_name}_stand_in.onnx"
    maker = {"BallHH": tiny_bundles.ballhh_bundle, "PVBasket": tiny_bundles.pvbasket_bundle}[class_name]
    return str(maker(out, threshold=threshold))
