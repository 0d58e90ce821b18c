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


@pytest.mark.parametrize("name", ["BallHH", "L5PC"])
def test_io_binding_matches_plain_steps(name):
    """The device-buffer path (the GPU's default; run here on the CPU) gives the plain path's outputs."""
    from neuron_ann.bundle import shipped_bundles

    path = next(p for p in shipped_bundles() if bundle_module.load(p).meta["cell_type"]["name"] == name)
    b = bundle_module.load(path)
    plain = StepModel(b, 7, providers="CPUExecutionProvider", threads=1, io_binding=False)
    bound = StepModel(b, 7, providers="CPUExecutionProvider", threads=1, io_binding=True)
    assert bound.io_binding and not plain.io_binding
    # host memory: float32 state and input rows; bound, also two sets of state buffers and the output rows
    n_state = sum(int(np.prod(s["shape"])) for s in b.meta["state"])
    assert plain.host_bytes() == 4 * 7 * (n_state + b.n_inputs)
    assert bound.host_bytes() == 4 * 7 * (3 * n_state + b.n_inputs + b.n_outputs)
    rng = np.random.default_rng(3)
    for model in (plain, bound):
        model.reset()
    for k in range(40):
        x = (rng.random(plain.x.shape) < 0.05).astype(np.float32) * 2.0
        plain.x[...] = x
        bound.x[...] = x
        y_plain = plain.step().copy()
        y_bound = bound.step().copy()
        assert np.abs(y_plain - y_bound).max() < 1e-5, k
    for a, c in zip(plain.state_arrays(), bound.state_arrays()):
        assert np.abs(a - c).max() < 1e-5
    bound.reset()  # back to the warmed-up state: the next step equals a fresh model's
    fresh = StepModel(b, 7, providers="CPUExecutionProvider", threads=1)
    fresh.reset()
    bound.x[...] = fresh.x[...] = 0.0
    assert np.abs(bound.step() - fresh.step()).max() < 1e-5


def test_small_batches_stay_on_the_cpu_when_cuda_works(ball, monkeypatch):
    """The automatic choice sends a cell type to the GPU only from CUDA_MIN_CELLS cells up."""
    providers._reset_for_tests()
    monkeypatch.setattr(providers, "_cuda_status", True)  # as on a machine where a CUDA session starts
    small = choose_providers(ball.model_bytes, n_cells=providers.CUDA_MIN_CELLS - 1)
    large = choose_providers(ball.model_bytes, n_cells=providers.CUDA_MIN_CELLS)
    assert small == ["CPUExecutionProvider"]
    assert large == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(ball.model_bytes, "CPUExecutionProvider", n_cells=10**6) == ["CPUExecutionProvider"]
    providers._reset_for_tests()
