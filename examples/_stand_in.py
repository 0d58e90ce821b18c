"""Shared by the examples: a bundle for a cell type, shipped if there is one, else a tiny stand-in.

The stand-in (tests/tiny_bundles.py, needs a source checkout and the onnx package) spikes
in each exchange interval in which the synaptic input that arrives reaches a threshold
(step contract format 2), and was "trained" at 6.3 degC; it shows the plumbing, not a
trained surrogate. ``celsius_of(path)`` is the temperature a bundle must run at.
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bundle_for(class_name: str, threshold: float = 0.3) -> str:
    from neuron_ann.bundle import load, shipped_bundles
    from neuron_ann.errors import BundleError

    for path in shipped_bundles():
        try:
            meta = load(path).meta
        except BundleError as exc:  # e.g. a bundle of an older format: use the stand-in
            print(f"skipping {path}: {exc}", file=sys.stderr)
            continue
        if meta["cell_type"]["name"] == class_name:
            return str(path)
    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_bundles

    out = Path(tempfile.mkdtemp(prefix="neuron_ann_example_")) / f"{class_name}_stand_in.onnx"
    maker = {"BallHH": tiny_bundles.ballhh_bundle, "PVBasket": tiny_bundles.pvbasket_bundle}[class_name]
    return str(maker(out, threshold=threshold))


def celsius_of(path: str) -> float:
    """The temperature (h.celsius) the bundle at ``path`` was trained at; the bridge refuses any other."""
    from neuron_ann.bundle import load

    return float(load(path).meta["celsius"])
