"""Training pipeline: a tiny end-to-end BallHH run, the CLI around it, and the shipped bundles' targets."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuron_ann import bundle
from neuron_ann.cli import main

MODELS = Path(__file__).resolve().parents[1] / "neuron_ann" / "models"


def test_no_tensorflow_at_import():
    code = "import sys, neuron_ann, neuron_ann.bundle, neuron_ann.cli, neuron_ann.metrics, neuron_ann.validate, neuron_ann.info, neuron_ann.dataset, neuron_ann.training; print('tensorflow' in sys.modules, 'tf2onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-2:] == ["False", "False"]


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    pytest.importorskip("tensorflow")
    from neuron_ann.training.command import train_surrogate

    out = tmp_path_factory.mktemp("train") / "BallHH.onnx"
    meta = train_surrogate(
        "BallHH", out, sim_seconds=4, sim_ms=2000, epochs=2, processes=1, seed=3,
        model={"filters": 8, "kernel": 3, "lstm_units": 12},
        train={"steps_per_epoch": 3, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4},
        readouts=["ina", "ik"], progress=False,
    )
    yield out, meta
    from neuron import h

    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def test_tiny_end_to_end(tiny_bundle):
    out, meta = tiny_bundle
    loaded = bundle.load(out)
    assert loaded.meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    assert [o["name"] for o in loaded.meta["outputs"]] == ["v", "spike", "ina", "ik"]
    assert loaded.meta["state"][0]["shape"] == [2, 7]
    prov = loaded.meta["provenance"]
    assert prov["seed"] == 3 and prov["dataset"]["n_sims"] == 4 and prov["versions"]["tensorflow"]
    assert "ve_clipped" in loaded.meta["validation"] and "rest_check" in loaded.meta["validation"]


def test_resume_training_continues(tiny_bundle, tmp_path, capsys):
    from neuron_ann.training.command import train_surrogate

    out, meta = tiny_bundle
    work = out.with_name(out.stem + "_work")
    meta2 = train_surrogate(
        "BallHH", out.with_name("again.onnx"), work_dir=work, sim_seconds=4, sim_ms=2000, epochs=3, processes=1, seed=3, resume=True,
        model={"filters": 8, "kernel": 3, "lstm_units": 12},
        train={"steps_per_epoch": 3, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4},
        readouts=["ina", "ik"], progress=False,
    )
    assert "resuming training after epoch 2" in capsys.readouterr().out
    assert meta2["provenance"]["training"]["epochs_run"] == 3


def test_info_and_validate_commands(tiny_bundle, tmp_path, capsys):
    out, _ = tiny_bundle
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "contact sites    6" in text and "parity" in text and "conv_state_in" in text
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dt_ms"] == 1.0
    report = tmp_path / "v.json"
    assert main(["validate", str(out), "--sim-seconds", "1", "--seed", "77", "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["seed"] == 77 and "spike_f1" in result and "fi" in result
    assert main(["validate", str(out), "--seed", "3"]) == 1  # the training seed is not held-out
    assert "training seed" in capsys.readouterr().err


def test_cli_errors_before_simulation(tmp_path, capsys):
    assert main(["train", "NoSuchCell", "--out", str(tmp_path / "x.onnx")]) == 1
    assert "unknown cell 'NoSuchCell'" in capsys.readouterr().err
    assert main(["train", "PVBasket", "--out", str(tmp_path / "x.onnx"), "--readouts", "v:apic[10](0.5)"]) == 1
    assert "no section named 'apic[10]'" in capsys.readouterr().err
    assert not (tmp_path / "x_work").exists()


# ---- shipped bundles: the target table (held-out input) ----

TARGETS = {
    "BallHH": {"ve": 0.95, "rmse": 1.0, "f1": 0.95, "timing": 0.5, "fi": 0.10},
    "PVBasket": {"ve": 0.90, "rmse": 1.5, "f1": 0.90, "timing": 1.0, "fi": None},
    "L5PC": {"ve": 0.90, "rmse": 1.5, "f1": 0.90, "timing": 1.0, "fi": None},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TARGETS))
def test_shipped_bundle_meets_targets(name, tmp_path):
    path = MODELS / f"{name}.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is not there; train it with examples/train_shipped_models.sh")
    report = tmp_path / "v.json"
    assert main(["validate", str(path), "--sim-seconds", "100", "--seed", "12345", "--json", str(report)]) == 0
    m = json.loads(report.read_text())
    t = TARGETS[name]
    # no drift over 100 s of one continuous run: the last 10 s window (same input as the first) within 0.02 VE
    assert m["drift"]["last_repeats_first_input"] and len(m["drift"]["windows"]) == 10
    assert abs(m["drift"]["ve_last_minus_first"]) <= 0.02
    assert m["ve_clipped"] >= t["ve"]
    assert m["rmse_clipped_mv"] <= t["rmse"]
    assert m["spike_f1"] >= t["f1"]
    assert m["spike_timing_error_ms"] <= t["timing"]
    if t["fi"] is not None:
        assert m["fi"]["max_relative_error"] <= t["fi"]
    assert bundle.load(path).meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    assert path.stat().st_size < 20e6
