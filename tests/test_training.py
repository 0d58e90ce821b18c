"""Training pipeline: a tiny end-to-end BallHH run, the CLI around it, and the shipped bundles' targets."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuron_ann import bundle
from neuron_ann.cli import main
from neuron_ann.errors import DatasetError

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
        model={"filters": 8, "kernel": 3, "lstm_units": 12, "conductances": True},
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
    # the 6 sites' weights, their 3 conductances at the soma, the current
    assert loaded.meta["state"][0]["shape"] == [2, 10] and loaded.meta["state"][-1]["shape"] == [6]
    prov = loaded.meta["provenance"]
    assert prov["seed"] == 3 and prov["dataset"]["n_sims"] == 4 and prov["versions"]["tensorflow"]
    assert "ve_clipped" in loaded.meta["validation"] and "rest_check" in loaded.meta["validation"]


def test_feedback_state_is_the_step_models_own_output(tiny_bundle):
    """Feedback (the default): fb_out is the step's own normalised v and spike (p > 0.5), and fb_in reaches the output."""
    from neuron_ann.validate import make_session

    out, meta = tiny_bundle
    # the model also sees its inputs' conductances (syn_state, last)
    assert [s["input"] for s in meta["state"]] == ["conv_state_in", "h_in", "c_in", "fb_in", "syn_state_in"] and meta["state"][3]["shape"] == [2]
    session = make_session(bundle.load(out).model_bytes)
    rng = np.random.default_rng(0)
    feed = {"x": np.abs(rng.normal(size=(5, 7))).astype(np.float32) * 0.01}
    for s in meta["state"]:
        feed[s["input"]] = rng.normal(size=(5, *s["shape"])).astype(np.float32)
    y, *state = session.run(["y"] + [s["output"] for s in meta["state"]], feed)
    norm = meta["normalization"]
    np.testing.assert_allclose(state[3][:, 0], (y[:, 0] - norm["v_mean"]) / norm["v_std"], atol=1e-4)
    np.testing.assert_array_equal(state[3][:, 1], (y[:, 1] > 0.5).astype(np.float32))
    feed["fb_in"] = feed["fb_in"] + np.float32(3.0)
    assert np.abs(session.run(["y"], feed)[0][:, 0] - y[:, 0]).max() > 1e-4
    history = meta["provenance"]["training"]["history"]
    assert all(0.0 <= h["closed_loop_spike_f1"] <= 1.0 and h["closed_loop_score"] >= 0.0 for h in history)
    assert all(0.0 <= h["teacher_forced_spike_f1"] <= 1.0 and np.isfinite(h["val_loss"]) for h in history)


def test_numpy_closed_loop_matches_the_exported_step_model(tiny_bundle):
    """The per-epoch closed-loop score runs the model in numpy (on the conductances computed in numpy); it must be
    the step model NEURON runs (which computes them itself)."""
    from neuron_ann.training.closed_loop import run_closed_loop, weights_of
    from neuron_ann.training.conductances import ConductanceInputs
    from neuron_ann.training.model import ModelConfig, build_model
    from neuron_ann.validate import make_session, predict

    out, meta = tiny_bundle
    cfg = meta["provenance"]["training"]["model"]
    conductances = ConductanceInputs.from_dict(meta["conductance_inputs"])
    model = build_model(conductances.width, 2, ModelConfig(**cfg))
    model.load_weights(out.with_name(out.stem + "_work") / "checkpoints" / "best.weights.h5")
    rng = np.random.default_rng(1)
    x = np.zeros((3, 300, 7), np.float32)
    x[:, :, :6] = (rng.uniform(size=(3, 300, 6)) < 0.05) * 0.003
    x[:, 100:, 6] = np.array([0.1, 0.3, 0.5])[:, None]
    y_onnx = predict(make_session(bundle.load(out).model_bytes), meta, x)
    norm = meta["normalization"]
    warm = int(meta["warmup_steps"])
    x_all = np.stack([conductances.apply(seq) for seq in np.concatenate([np.zeros((3, warm, 7), np.float32), x], axis=1)])
    raw = run_closed_loop(weights_of(model), (x_all - np.asarray(norm["x_mean"])) / np.asarray(norm["x_std"]))[:, warm:]
    np.testing.assert_allclose(raw[..., 0] * norm["v_std"] + norm["v_mean"], y_onnx[..., 0], atol=1e-3)
    np.testing.assert_allclose(1 / (1 + np.exp(-raw[..., 1])), y_onnx[..., 1], atol=1e-4)


def test_tiny_model_without_feedback(tmp_path):
    pytest.importorskip("tensorflow")
    from neuron_ann.training.command import train_surrogate

    meta = train_surrogate(
        "BallHH", tmp_path / "plain.onnx", sim_seconds=4, sim_ms=2000, epochs=1, processes=1, seed=4,
        model={"filters": 8, "kernel": 3, "lstm_units": 12, "feedback": False, "conductances": False},
        train={"steps_per_epoch": 3, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4, "seed": 9}, progress=False,
    )
    assert meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    # seed=4 seeds the data; train={"seed": 9} the training alone
    assert meta["provenance"]["dataset"]["seeds"][:2] == [[4, 0], [4, 1]] and meta["provenance"]["training"]["train"]["seed"] == 9
    assert [s["input"] for s in meta["state"]] == ["conv_state_in", "h_in", "c_in"]
    assert "closed_loop_score" not in meta["provenance"]["training"]["history"][0]
    from neuron import h

    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def test_dropout_acts_in_training_only():
    """ModelConfig.dropout zeroes conv outputs in training; inference (what is exported) is the same network without it."""
    pytest.importorskip("tensorflow")
    from neuron_ann.training.model import ModelConfig, build_model

    plain = build_model(5, 0, ModelConfig(filters=6, kernel=3, lstm_units=8))
    dropped = build_model(5, 0, ModelConfig(filters=6, kernel=3, lstm_units=8, dropout=0.5))
    dropped.set_weights(plain.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 40, 5)).astype(np.float32), rng.normal(size=(2, 40, 2)).astype(np.float32)]
    np.testing.assert_allclose(dropped(x, training=False).numpy(), plain(x, training=False).numpy(), atol=1e-6)
    assert np.abs(dropped(x, training=True).numpy() - plain(x, training=False).numpy()).max() > 1e-3
    with pytest.raises(ValueError, match="dropout must lie in"):
        build_model(5, 0, ModelConfig(dropout=1.5))


def test_spike_only_feedback_ignores_the_fed_back_v():
    """feedback_v=False: the fed-back v column changes nothing, and its LSTM weights stay zero through training,
    so the exported step model (which multiplies its own v by them) ignores it too."""
    pytest.importorskip("tensorflow")
    from neuron_ann.training.model import ModelConfig, build_model, make_loss

    cfg = ModelConfig(filters=6, kernel=3, lstm_units=8, feedback_v=False)
    model = build_model(5, 0, cfg)
    model.compile(optimizer="adam", loss=make_loss(cfg, 1.0, 0))
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(4, 40, 5)).astype(np.float32), rng.normal(size=(4, 40, 2)).astype(np.float32)]
    y = np.stack([rng.normal(size=(4, 40)), rng.uniform(size=(4, 40)) < 0.1, np.ones((4, 40))], axis=-1).astype(np.float32)
    for _ in range(3):
        model.train_on_batch(x, y)
    kernel = model.get_layer("lstm").get_weights()[0]
    assert np.all(kernel[6] == 0.0) and np.abs(kernel[7]).min() > 0.0  # v row zero, spike row trained
    moved = [x[0], x[1] + np.array([5.0, 0.0], np.float32)]
    np.testing.assert_array_equal(model(moved).numpy(), model(x).numpy())
    assert np.abs(model([x[0], x[1] + np.array([0.0, 1.0], np.float32)]).numpy() - model(x).numpy()).max() > 1e-4


def test_raw_scores_teacher_forced_and_closed_loop():
    """VE and spike F1 of raw outputs against packed targets, over masked steps only."""
    from neuron_ann.training.closed_loop import raw_scores

    norm = {"v_mean": -65.0, "v_std": 10.0}
    y = np.zeros((2, 100, 3), np.float32)  # v_norm, spike, mask
    y[..., 0] = np.sin(np.arange(100) / 7.0)
    y[:, 20::25, 1] = 1.0
    y[:, 10:, 2] = 1.0
    raw = np.zeros((2, 100, 2))
    raw[..., 0] = y[..., 0]
    raw[..., 1] = np.where(y[..., 1] > 0, 8.0, -8.0)
    assert raw_scores(raw, y, norm, 1.0) == pytest.approx((1.0, 1.0))
    late = raw.copy()
    late[..., 1] = np.roll(raw[..., 1], 3, axis=1)  # every spike 3 ms late: outside +/-2 ms
    late[:, :10, 0] = 50.0  # unmasked steps do not count
    assert raw_scores(late, y, norm, 1.0) == pytest.approx((1.0, 0.0))
    assert raw_scores(np.roll(raw, 2, axis=1), y, norm, 1.0)[1] == pytest.approx(1.0)  # 2 ms: still matched


def test_tiny_spike_offset_model(tmp_path):
    """spike_offset: one more output (ms into the step), fed back as a third column; numpy closed loop = ONNX."""
    pytest.importorskip("tensorflow")
    from neuron_ann.training.closed_loop import run_closed_loop, weights_of
    from neuron_ann.training.command import train_surrogate
    from neuron_ann.training.model import ModelConfig, build_model
    from neuron_ann.validate import make_session, predict

    out = tmp_path / "offset.onnx"
    meta = train_surrogate(
        "BallHH", out, sim_seconds=4, sim_ms=2000, epochs=1, processes=1, seed=5,
        model={"filters": 8, "kernel": 3, "lstm_units": 12, "spike_offset": True, "conductances": False},  # raw weights only
        train={"steps_per_epoch": 3, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4}, progress=False,
    )
    assert meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    assert meta["validation"]["parity"]["max_abs_diff_readouts"] < 1e-4  # the offset column, in ms
    assert [o["name"] for o in meta["outputs"]] == ["v", "spike", "spike_offset"] and meta["state"][3]["shape"] == [3]
    dt = meta["dt_ms"]
    session = make_session(bundle.load(out).model_bytes)
    rng = np.random.default_rng(0)
    feed = {"x": np.abs(rng.normal(size=(6, 7))).astype(np.float32) * 0.01}
    for st in meta["state"]:
        feed[st["input"]] = rng.normal(size=(6, *st["shape"])).astype(np.float32) * 2
    y, *state = session.run(["y"] + [st["output"] for st in meta["state"]], feed)
    assert np.all((y[:, 2] >= 0) & (y[:, 2] <= dt))
    np.testing.assert_allclose(state[3][:, 2], y[:, 2] / dt * (y[:, 1] > 0.5), atol=1e-5)
    model = build_model(7, 0, ModelConfig(**meta["provenance"]["training"]["model"]))
    model.load_weights(tmp_path / "offset_work" / "checkpoints" / "best.weights.h5")
    x = np.zeros((2, 200, 7), np.float32)
    x[:, :, :6] = (rng.uniform(size=(2, 200, 6)) < 0.05) * 0.003
    x[:, 50:, 6] = np.array([0.2, 0.4])[:, None]
    y_onnx = predict(session, meta, x)
    norm, warm = meta["normalization"], int(meta["warmup_steps"])
    x_all = np.concatenate([np.zeros((2, warm, 7), np.float32), x], axis=1)
    raw = run_closed_loop(weights_of(model), (x_all - np.asarray(norm["x_mean"])) / np.asarray(norm["x_std"]))[:, warm:]
    np.testing.assert_allclose(raw[..., 0] * norm["v_std"] + norm["v_mean"], y_onnx[..., 0], atol=1e-3)
    np.testing.assert_allclose(dt / (1 + np.exp(-raw[..., -1])), y_onnx[..., 2], atol=1e-4)
    from neuron import h

    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def test_spike_fractions_and_offset_spike_times():
    from neuron_ann import metrics
    from neuron_ann.dataset.store import spike_fractions

    d = {"v": np.zeros(10), "spike_times_ms": np.array([0.25, 3.0, 3.75, 9.5, 12.0])}
    frac = spike_fractions(d, 1.0)  # two spikes in step 3: the first counts; 12.0 lies beyond the 10 steps
    np.testing.assert_allclose(frac, [0.25, 0, 0, 0.0, 0, 0, 0, 0, 0, 0.5])
    prob = np.array([0.9, 0.1, 0.7, 0.2])
    assert metrics.spike_times_from_prob(prob, 0.5, 0.5).tolist() == [0.25, 1.25]
    assert metrics.spike_times_from_prob(prob, 0.5, 0.5, offset_ms=np.array([0.1, 0.0, 0.6, 0.0])).tolist() == [0.1, 1.5]


def test_resume_training_continues(tiny_bundle, tmp_path, capsys):
    from neuron_ann.training.command import train_surrogate

    out, meta = tiny_bundle
    work = out.with_name(out.stem + "_work")
    meta2 = train_surrogate(
        "BallHH", out.with_name("again.onnx"), work_dir=work, sim_seconds=4, sim_ms=2000, epochs=3, processes=1, seed=3, resume=True,
        model={"filters": 8, "kernel": 3, "lstm_units": 12, "conductances": True},
        train={"steps_per_epoch": 3, "batch_size": 4, "window": 100, "warmup_steps": 10, "val_windows": 4},
        readouts=["ina", "ik"], progress=False, closed_loop_epochs=1,
    )
    printed = capsys.readouterr().out
    assert "resuming training after epoch 2" in printed and "epoch 3/3 (closed loop)" in printed
    training = meta2["provenance"]["training"]
    assert training["epochs_run"] == 3 and training["train"]["rollout_from_epoch"] == 2
    assert [e["rollout"] for e in training["history"]] == [False, False, True] and np.isfinite(training["history"][-1]["loss"])
    assert meta2["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3


def test_weight_average(tiny_bundle, tmp_path):
    """TrainConfig.average: a moving average of the weights over the batches is what each epoch
    is scored on and what the training keeps; the model's own weights go on training."""
    import keras

    from neuron_ann.dataset.store import Dataset
    from neuron_ann.training.model import ModelConfig
    from neuron_ann.training.train import TrainConfig, WeightAverage, train_model

    avg = WeightAverage([np.zeros(3)], 0.5)
    avg.update([np.ones(3)])
    avg.update([np.full(3, 3.0)])
    np.testing.assert_allclose(avg.value[0], 0.5 * 0.5 + 0.5 * 3.0)  # 0 -> 0.5 -> 1.75
    avg.save(tmp_path / "a.npz")
    again = WeightAverage([np.zeros(3)], 0.5)
    again.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(again.value[0], avg.value[0])
    with pytest.raises(ValueError, match=r"TrainConfig.average=1.0: a momentum between 0 and 1"):
        WeightAverage([np.zeros(3)], 1.0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    own = [w.copy() for w in model.get_weights()]
    avg = WeightAverage([np.zeros_like(w) for w in own], 0.9)
    with avg.swapped_in(model):
        assert all(not w.any() for w in model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), own))

    out, meta = tiny_bundle
    from neuron_ann.training.conductances import ConductanceInputs

    conductances = ConductanceInputs.from_dict(meta["conductance_inputs"])
    dataset = Dataset(out.with_name(out.stem + "_work") / "dataset", split=(2, 1, 1), transform=conductances)
    model_cfg = ModelConfig(**meta["provenance"]["training"]["model"])
    cfg = TrainConfig(epochs=1, steps_per_epoch=4, batch_size=4, window=100, warmup_steps=10, val_windows=4, seed=3, average=0.6)
    trained, _, info = train_model(dataset, tmp_path / "ck", model_cfg, cfg, verbose=0)
    with np.load(tmp_path / "ck" / "average.npz") as saved:
        average = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    kept = trained.get_weights()  # the best epoch's (the only one): the average, not the last batch's weights
    assert all(np.allclose(k, a, atol=1e-7) for k, a in zip(kept, average))
    trained.load_weights(tmp_path / "ck" / "last.weights.h5")
    assert max(float(np.abs(w - a).max()) for w, a in zip(trained.get_weights(), average)) > 1e-4
    assert info["history"][0]["closed_loop_score"] == pytest.approx(info["best_closed_loop_score"], abs=1e-5)
    from neuron_ann.errors import DatasetError
    from neuron_ann.training.command import train_surrogate

    with pytest.raises(DatasetError, match=r"average=1.5: the weight average's momentum is between 0 and 1"):
        train_surrogate("BallHH", tmp_path / "x.onnx", train={"average": 1.5}, progress=False)
    assert not (tmp_path / "x_work").exists()  # refused before any simulation


def test_rollout_is_the_closed_loop_and_trains():
    """Closed-loop training unrolls the same arithmetic as the numpy closed loop (and so the step
    model); one update changes the weights and lowers the loss on that batch."""
    pytest.importorskip("tensorflow")
    import keras

    from neuron_ann.training.closed_loop import run_closed_loop, weights_of
    from neuron_ann.training.model import ModelConfig, build_model, make_loss
    from neuron_ann.training.rollout import make_rollout_step, rollout_outputs
    from neuron_ann.training.train import configure_tensorflow

    tf = configure_tensorflow()
    keras.utils.set_random_seed(2)
    cfg = ModelConfig(filters=8, kernel=3, lstm_units=16)
    model = build_model(5, 1, cfg)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 150, 5)).astype(np.float32)
    raw = run_closed_loop(weights_of(model), x.astype(np.float64))
    assert 0 < np.mean(raw[..., 1] > 0) < 1  # some steps spike: the fed-back spike column matters
    np.testing.assert_allclose(np.asarray(rollout_outputs(model, tf.constant(x))), raw, atol=1e-5)
    y = np.zeros((4, 150, 4), np.float32)  # v, spike, readout, mask
    y[..., 0] = np.sin(np.arange(150) / 10.0)
    y[..., -1] = 1.0
    step = make_rollout_step(model, make_loss(cfg, 1.0, 1), keras.optimizers.Adam(1e-2), False)
    losses = [float(step(tf.constant(x), tf.constant(y))) for _ in range(5)]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.9 * losses[0]


def test_low_rank_input_map_folds_into_the_convolution():
    """ModelConfig.input_rank: a linear map of the inputs to a few channels before the convolution; it has far
    fewer weights, and folded into the convolution's kernel (the numpy closed loop, the exported step model) it
    computes what the Keras model does."""
    pytest.importorskip("tensorflow")
    import keras

    from neuron_ann.training.closed_loop import run_closed_loop, weights_of
    from neuron_ann.training.export import export_step_model, layer_weights, parity_check
    from neuron_ann.training.model import ModelConfig, build_model, count_parameters
    from neuron_ann.training.rollout import rollout_outputs
    from neuron_ann.training.train import configure_tensorflow

    tf = configure_tensorflow()
    keras.utils.set_random_seed(3)
    n_in = 40
    full = build_model(n_in, 1, ModelConfig(filters=8, kernel=3, lstm_units=16))
    low = build_model(n_in, 1, ModelConfig(filters=8, kernel=3, lstm_units=16, input_rank=4))
    assert count_parameters(full) - count_parameters(low) == 3 * n_in * 8 - (n_in * 4 + 3 * 4 * 8)
    assert layer_weights(low)[0].shape == (3, n_in, 8)  # folded: the full kernel's shape
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 120, n_in)).astype(np.float32)
    raw = run_closed_loop(weights_of(low), x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(rollout_outputs(low, tf.constant(x))), raw, atol=1e-5)
    norm = {"x_mean": np.zeros(n_in), "x_std": np.ones(n_in), "v_mean": -65.0, "v_std": 10.0,
            "readout_mean": np.zeros(1), "readout_std": np.ones(1)}
    parity = parity_check(low, export_step_model(low, norm, 1.0), norm, x, 10, 1.0)
    assert parity["max_abs_diff_v_mv"] < 1e-3 and parity["max_abs_diff_readouts"] < 1e-4
    with pytest.raises(ValueError, match=r"input_rank must lie between 1 and 39 \(fewer than the 40 inputs\)"):
        build_model(n_in, 1, ModelConfig(input_rank=n_in))


def test_hidden_layers_in_the_closed_loop_the_rollout_and_the_step_model():
    """ModelConfig.hidden: per-step dense layers between the convolution and the LSTM; the numpy closed loop, the
    TensorFlow rollout and the exported step model compute what the Keras model does, and spike-only feedback
    zeroes the LSTM's weights of the fed-back v behind the last hidden layer."""
    pytest.importorskip("tensorflow")
    import keras

    from neuron_ann.training.closed_loop import run_closed_loop, weights_of
    from neuron_ann.training.export import export_step_model, parity_check
    from neuron_ann.training.model import ModelConfig, build_model, count_parameters
    from neuron_ann.training.rollout import rollout_outputs
    from neuron_ann.training.train import configure_tensorflow

    tf = configure_tensorflow()
    keras.utils.set_random_seed(4)
    n_in = 12
    plain = build_model(n_in, 1, ModelConfig(filters=8, kernel=3, lstm_units=16, feedback_v=False))
    deep = build_model(n_in, 1, ModelConfig(filters=8, kernel=3, lstm_units=16, feedback_v=False, hidden=(24, 10)))
    # two dense layers 8 -> 24 -> 10; the LSTM's input is 10 + 2 feedback columns wide instead of 8 + 2
    assert count_parameters(deep) - count_parameters(plain) == (8 * 24 + 24) + (24 * 10 + 10) + 4 * 16 * (10 - 8)
    kernel = deep.get_layer("lstm").get_weights()[0]
    assert kernel.shape[0] == 12 and np.all(kernel[10] == 0.0) and np.any(kernel[11] != 0.0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 120, n_in)).astype(np.float32)
    raw = run_closed_loop(weights_of(deep), x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(rollout_outputs(deep, tf.constant(x))), raw, atol=1e-5)
    assert np.abs(raw - run_closed_loop(weights_of(plain), x.astype(np.float64))).max() > 1e-3  # the layers do something
    norm = {"x_mean": np.zeros(n_in), "x_std": np.ones(n_in), "v_mean": -65.0, "v_std": 10.0,
            "readout_mean": np.zeros(1), "readout_std": np.ones(1)}
    parity = parity_check(deep, export_step_model(deep, norm, 1.0), norm, x, 10, 1.0)
    assert parity["max_abs_diff_v_mv"] < 1e-3 and parity["max_abs_diff_readouts"] < 1e-4
    with pytest.raises(ValueError, match=r"hidden must list layer sizes of at least 1 unit, got \[16, 0\]"):
        build_model(n_in, 1, ModelConfig(hidden=(16, 0)))


def test_conductance_inputs_are_neurons_synaptic_conductances():
    """ConductanceInputs computes, from per-step event weights, the conductances NEURON's AMPA_NMDA and GABA_A
    synapses produce (events in the step's middle, values at the step's end); sites at one place share them."""
    from neuron import h

    from neuron_ann.dataset.cellspec import synapse_kinds_metadata
    from neuron_ann.training.conductances import ConductanceInputs

    kinds = synapse_kinds_metadata()
    soma = {"section": "soma", "x": 0.5}
    sites = [{"kind": "exc", **soma}] * 4 + [{"kind": "inh", **soma}] * 2 + [{"kind": "exc", "section": "dend", "x": 0.5}]
    filt = ConductanceInputs.for_sites(sites, kinds, 0.5)
    assert [c["name"] for c in filt.columns] == ["AMPA:soma(0.5)", "NMDA:soma(0.5)", "g:soma(0.5)", "AMPA:dend(0.5)", "NMDA:dend(0.5)"]
    assert filt.columns[0]["sites"] == [0, 1, 2, 3] and filt.columns[2]["sites"] == [4, 5] and filt.width == 7 + 5 + 1

    sec = h.Section(name="cond_test")
    exc, inh = h.AMPA_NMDA(sec(0.5)), h.GABA_A(sec(0.5))
    events = [(exc, 10.25, 0.001, 0), (exc, 12.75, 0.002, 2), (exc, 40.25, 0.0015, 1), (inh, 11.25, 0.003, 4), (inh, 30.75, 0.001, 5)]
    stims, ncs = [], []
    for syn, t, w, _ in events:
        stim = h.NetStim()
        stim.number, stim.start = 1, t
        nc = h.NetCon(stim, syn)
        nc.weight[0], nc.delay = w, 0.0
        stims.append(stim)
        ncs.append(nc)
    recs = [h.Vector().record(ref) for ref in (exc._ref_A_AMPA, exc._ref_B_AMPA, exc._ref_A_NMDA, exc._ref_B_NMDA, inh._ref_A, inh._ref_B)]
    h.dt = 0.025
    h.finitialize(-65.0)
    h.continuerun(100.0)
    a_ampa, b_ampa, a_nmda, b_nmda, a_gaba, b_gaba = (np.asarray(r) for r in recs)
    ends = np.round(np.arange(1, 200) * 0.5 / 0.025).astype(int)  # the recorded sample at each step's end
    x = np.zeros((199, 8))
    for _, t, w, column in events:
        x[int(t // 0.5), column] += w
    g = filt.apply(x)
    np.testing.assert_allclose(g[:, :7], x[:, :7], rtol=1e-6)  # the event weights pass through, then the conductances
    for column, want in ((7, b_ampa - a_ampa), (8, b_nmda - a_nmda), (9, b_gaba - a_gaba)):
        np.testing.assert_allclose(g[:, column], want[ends], atol=1e-7 * 0.003)
    assert g[80:90, 7].max() == pytest.approx(0.0015, rel=0.1)  # AMPA peaks at the weight (sampled at step ends)
    assert np.all(g[:, 10:] == 0.0)  # nothing at the other place; the current column
    del stims, ncs, exc, inh
    h.delete_section(sec=sec)

    with pytest.raises(DatasetError, match=r"conductance inputs need the kinetics of synapse kind 'exc' \(ExpSyn\)"):
        ConductanceInputs.for_sites(sites, {"exc": {"mechanism": "ExpSyn", "params": {}}, "inh": kinds["inh"]}, 0.5)


def test_conductance_inputs_in_the_step_model(tiny_bundle):
    """A model trained on conductances: its step model takes the raw event weights and computes them (state
    syn_state_in), equal to the Keras model on the numpy conductances; the train command makes such a bundle
    (the tiny BallHH one) and `info` lists them."""
    pytest.importorskip("tensorflow")
    import keras

    from neuron_ann.dataset.cellspec import synapse_kinds_metadata
    from neuron_ann.info import format_info
    from neuron_ann.training.conductances import ConductanceInputs
    from neuron_ann.training.export import export_step_model, parity_check
    from neuron_ann.training.model import ModelConfig, build_model

    sites = [{"kind": "exc", "section": "soma", "x": 0.5}] * 3 + [{"kind": "inh", "section": "soma", "x": 0.5}]
    filt = ConductanceInputs.for_sites(sites, synapse_kinds_metadata(), 1.0)
    keras.utils.set_random_seed(5)
    model = build_model(filt.width, 0, ModelConfig(filters=8, kernel=3, lstm_units=16, conductances=True))
    rng = np.random.default_rng(2)
    x = (rng.uniform(size=(2, 150, 5)) < 0.05) * rng.uniform(0.001, 0.004, size=(2, 150, 5))
    x[..., 4] = rng.normal(0.1, 0.05, size=(2, 150))
    g = np.stack([filt.apply(seq) for seq in x])
    norm = {"x_mean": [0] * 7 + [0.1], "x_std": [0.002] * 4 + [float(s) for s in g[..., 4:7].mean((0, 1))] + [0.05], "v_mean": -65.0, "v_std": 10.0,
            "readout_mean": [], "readout_std": []}
    onnx_model = export_step_model(model, norm, 1.0, filt)
    assert [i.name for i in onnx_model.graph.input][-1] == "syn_state_in"
    parity = parity_check(model, onnx_model, norm, x.astype(np.float32), 10, 1.0, filt)
    assert parity["max_abs_diff_v_mv"] < 1e-3 and parity["max_abs_diff_spike_prob"] < 1e-4

    out, meta = tiny_bundle
    assert meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    assert meta["state"][-1] == {"input": "syn_state_in", "output": "syn_state_out", "shape": [6]}
    assert len(meta["inputs"]) == 7 and len(meta["normalization"]["x_std"]) == 10  # 6 sites, AMPA, NMDA, GABA_A at the soma, current
    assert [c["name"] for c in meta["conductance_inputs"]["columns"]] == ["AMPA:soma(0.5)", "NMDA:soma(0.5)", "g:soma(0.5)"]
    text = format_info(bundle.load(out).meta, out)
    assert "model inputs     the inputs below and 3 synaptic conductances" in text and "NMDA:soma(0.5)  sites [0, 1, 2, 3], rise 2 ms, decay 43 ms, peak 0.7" in text


def test_info_and_validate_commands(tiny_bundle, tmp_path, capsys):
    out, _ = tiny_bundle
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "contact sites    6" in text and "parity" in text and "conv_state_in" in text
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dt_ms"] == 0.5  # the BallHH default step
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
    assert main(["train", "BallHH", "--out", str(tmp_path / "x.onnx"), "--epochs", "2", "--closed-loop-epochs", "3"]) == 1
    assert "--closed-loop-epochs 3 must be between 1 and the 2 training epochs" in capsys.readouterr().err
    assert not (tmp_path / "x_work").exists()
    from neuron_ann.training.command import train_surrogate  # model settings, too, before any data is generated

    # BallHH's model inputs: 6 sites' weights, their 3 conductances, the current
    with pytest.raises(DatasetError, match=r"input_rank must lie between 1 and 9 \(fewer than the 10 inputs\), got 10"):
        train_surrogate("BallHH", tmp_path / "x.onnx", model={"input_rank": 10}, progress=False)
    assert not (tmp_path / "x_work" / "dataset").exists()


# ---- shipped bundles: the target table (held-out input) ----

TARGETS = {
    "BallHH": {"ve": 0.95, "rmse": 1.0, "f1": 0.95, "timing": 0.5, "fi": 0.10},
    "PVBasket": {"ve": 0.90, "rmse": 1.5, "f1": 0.90, "timing": 1.0, "fi": 0.10},
    "L5PC": {"ve": 0.90, "rmse": 1.5, "f1": 0.90, "timing": 1.0, "fi": 0.10, "readout_ve": 0.85},
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
    assert m["fi"]["max_relative_error"] <= t["fi"]
    if "readout_ve" in t:
        assert m["readouts"] and min(r["ve"] for r in m["readouts"].values()) >= t["readout_ve"]
    assert bundle.load(path).meta["validation"]["parity"]["max_abs_diff_v_mv"] < 1e-3
    assert path.stat().st_size < 20e6
