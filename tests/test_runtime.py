"""The runtime room: provider registry and the batched streaming step."""

import logging
import subprocess
import sys

import numpy as np
import pytest

from neuron_ann import bundle as bundle_module
from neuron_ann.runtime import StepModel, available_providers, choose_providers, cuda_works, providers, step

import tiny_bundles as tb


@pytest.fixture(scope="module")
def ball(tmp_path_factory):
    return bundle_module.load(tb.ballhh_bundle(tmp_path_factory.mktemp("r") / "ball.onnx", threshold=0.3, decay=0.5))


def test_cpu_fallback_is_detected_and_logged_once(ball, caplog):
    providers._reset_for_tests()
    with caplog.at_level(logging.INFO, logger="neuron_ann.runtime"):
        first = choose_providers(ball.model_bytes)
        second = choose_providers(ball.model_bytes)
    assert first == second
    if cuda_works(ball.model_bytes):
        assert first[0] == "CUDAExecutionProvider"
    else:
        assert first == ["CPUExecutionProvider"]
    messages = [r.getMessage() for r in caplog.records if "neuron_ann" in r.getMessage()]
    assert len(messages) == 1, messages


def test_providers_override_and_threads(ball):
    model = StepModel(ball, 4, providers="CPUExecutionProvider", threads=1)
    assert model.session.get_providers() == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="not offered by this onnxruntime; valid names"):
        choose_providers(ball.model_bytes, ["NoSuchExecutionProvider"])
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        StepModel(ball, 1, threads=0)
    assert "CPUExecutionProvider" in available_providers()


def test_batched_step_matches_per_cell_arithmetic(ball):
    model = StepModel(ball, 1000, providers="CPUExecutionProvider")
    model.reset()
    rng = np.random.default_rng(0)
    s = np.zeros(1000)
    for _ in range(5):
        model.x[...] = rng.uniform(0, 0.3, size=model.x.shape).astype(np.float32)
        s = 0.5 * s + model.x.astype(np.float64).sum(axis=1)
        y = model.step()
        assert np.allclose(y[:, 0], -65 + 10 * s, atol=1e-4)
        assert np.array_equal(y[:, 1], (s >= 0.3).astype(np.float32))
    assert model.calls == 5  # one session.run per step for all 1000 cells
    assert model.state[0].flags["C_CONTIGUOUS"]


def test_warmup_runs_once_per_model(ball):
    step._reset_for_tests()
    a = StepModel(ball, 2, providers="CPUExecutionProvider")
    a.reset()
    assert a.warmup_calls == ball.meta["warmup_steps"] and a.calls == 0
    b = StepModel(ball, 3, providers="CPUExecutionProvider")
    b.reset()
    assert b.warmup_calls == 0


def test_no_tensorflow_import():
    code = (
        "import sys, neuron_ann, neuron_ann.runtime, neuron_ann.bridge, neuron_ann.bench;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
