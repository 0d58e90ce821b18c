"""``neuron-ann demo`` end to end on a tiny network."""

import json
import math

from neuron_ann import bundle
from neuron_ann.demo import run_demo


def test_demo_runs_and_reports(tmp_path, neuron_state):
    summary = run_demo(cells=3, tstop=60, out=tmp_path)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary))
    assert saved["BallHH"]["neuron_wall_s"] > 0
    shipped = {bundle.load(p).name for p in bundle.shipped_bundles() if _loads(p)}
    for label, row in saved.items():
        if "swapped" in row:
            assert set(row["swapped"]) <= shipped
            assert row["surrogate_wall_s"] > 0
            assert 0 <= row["spike_f1_median"] <= 1
            assert math.isfinite(row["cell0_clipped_ve"])
        else:
            assert row["surrogate"].startswith("not run")
    assert (tmp_path / "demo.png").stat().st_size > 1000


def _loads(path):
    try:
        bundle.load(path)
        return True
    except bundle.BundleError:
        return False
