"""Export the Keras sequence model as a streaming ONNX step model and check their parity.

The step model takes ``x`` [batch, n_inputs] in physical units and the state tensors
(convolution history of normalised inputs [batch, kernel-1, n_inputs], LSTM ``h`` and
``c`` [batch, units]); it returns ``y`` [batch, n_outputs] in physical units (soma v in mV,
spike probability, readouts) and the new state. Built from the Keras weights with plain
TensorFlow ops and converted with tf2onnx at opset 17.

A model trained with feedback (see ``ModelConfig.feedback``) has one more state tensor,
``fb_in``/``fb_out`` [batch, 2]: the previous step's normalised soma v and spike (1 where
the spike probability exceeded 0.5), which the step model computes from its own output.
A ``spike_offset`` model has one more output, last: where in the step the spike falls
(ms from the step's start), and, with feedback, a third feedback column: that time as a
fraction of the step where the step spiked, else 0.

A model trained on synaptic conductances (``ModelConfig.conductances``) still takes the raw
event weights per site: its step model computes the conductances first
(:mod:`.conductances`), with their A and B in one more state tensor, last,
``syn_state_in``/``syn_state_out`` [batch, 2 * conductance columns].
"""

from __future__ import annotations

import numpy as np

__all__ = ["STATE", "FEEDBACK_STATE", "state_names", "export_step_model", "run_step_model", "parity_check", "keras_predict",
           "has_spike_offset", "lstm_update", "step_feedback",
           "hidden_layers", "hidden_weights", "SYNAPSE_STATE", "state_shapes"]

OPSET = 17
#: (input name, output name) of each state tensor, in graph order
STATE = (("conv_state_in", "conv_state_out"), ("h_in", "h_out"), ("c_in", "c_out"))
FEEDBACK_STATE = ("fb_in", "fb_out")
SYNAPSE_STATE = ("syn_state_in", "syn_state_out")


def sigmoid(z):
    """Logistic function in numpy, written with tanh so that large |z| does not overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_update(z, c):
    """One LSTM cell update in TensorFlow from the gate pre-activations ``z`` (Keras order i, f, g, o):
    the new ``(h, c)``. Shared by the exported step model and closed-loop training."""
    import tensorflow as tf

    i, f, g, o = tf.split(z, 4, axis=1)
    c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c_new), c_new


def step_feedback(raw, spike_offset: bool):
    """What a feedback model's step hands the next, from its raw heads: normalised v, spike (1 where
    the spike logit is positive, i.e. its probability exceeds 0.5) and, for a spike-offset model,
    where in the step that spike fell (fraction, 0 without a spike)."""
    import tensorflow as tf

    spiked = tf.cast(raw[:, 1:2] > 0.0, raw.dtype)
    columns = [raw[:, 0:1], spiked] + ([tf.sigmoid(raw[:, -1:]) * spiked] if spike_offset else [])
    return tf.concat(columns, axis=1)


def has_feedback(model) -> bool:
    return len(model.inputs) > 1


def state_names(model, conductances=None) -> tuple:
    """(input, output) name of each state tensor; ``conductances``: the model's
    :class:`~.conductances.ConductanceInputs`, if it was trained on them."""
    return STATE + ((FEEDBACK_STATE,) if has_feedback(model) else ()) + ((SYNAPSE_STATE,) if conductances is not None else ())


def layer_weights(model):
    """Numpy weights of the conv, LSTM and head layers: w_conv [K, n_in, F], b_conv, w_x, w_h, b_l, w_d, b_d.
    A low-rank input map (layer "sites", ``ModelConfig.input_rank``) is folded into ``w_conv``."""
    conv = model.get_layer("conv")
    lstm = model.get_layer("lstm")
    heads = model.get_layer("heads")
    w_conv, b_conv = [np.asarray(w) for w in conv.get_weights()]  # [K, n_in or rank, F], [F]
    if has_input_map(model):
        w_sites = np.asarray(model.get_layer("sites").get_weights()[0])  # [n_in, rank]
        w_conv = np.einsum("ir,krf->kif", w_sites.astype(np.float64), w_conv.astype(np.float64)).astype(w_conv.dtype)
    w_x, w_h, b_l = [np.asarray(w) for w in lstm.get_weights()]
    w_d, b_d = [np.asarray(w) for w in heads.get_weights()]
    return w_conv, b_conv, w_x, w_h, b_l, w_d, b_d


def hidden_layers(model) -> list:
    """The per-step hidden layers ("hidden_1", ...; ``ModelConfig.hidden``) in order."""
    return sorted((layer for layer in model.layers if layer.name.startswith("hidden_")), key=lambda layer: int(layer.name[7:]))


def hidden_weights(model) -> list:
    """Numpy ``(w, b)`` of each per-step hidden layer, in order."""
    return [tuple(np.asarray(w) for w in layer.get_weights()) for layer in hidden_layers(model)]


def has_input_map(model) -> bool:
    return any(layer.name == "sites" for layer in model.layers)


def has_spike_offset(model, n_readouts: int) -> bool:
    """True when the heads have the spike-offset column after v, spike and the ``n_readouts`` readouts."""
    return model.get_layer("heads").units == 2 + n_readouts + 1


def state_shapes(model, conductances=None) -> list[list[int]]:
    """Per-cell shape of each state tensor, in :func:`state_names` order."""
    kernel = model.get_layer("conv").kernel_size[0]
    units = model.get_layer("lstm").units
    n_inputs = int(model.inputs[0].shape[-1])
    return ([[kernel - 1, n_inputs], [units], [units]] + ([[int(model.inputs[1].shape[-1])]] if has_feedback(model) else [])
            + ([[2 * len(conductances.columns)]] if conductances is not None else []))


def _output_transform(norm: dict, offset_ms: float | None):
    """(scale, shift, is_sigmoid) per output: y = sigmoid(raw) * scale where is_sigmoid, else raw * scale + shift."""
    extra = [] if offset_ms is None else [offset_ms]
    scale = np.concatenate([[norm["v_std"], 1.0], norm["readout_std"], extra]).astype(np.float32)
    shift = np.concatenate([[norm["v_mean"], 0.0], norm["readout_mean"], [0.0] * len(extra)]).astype(np.float32)
    is_sigmoid = np.zeros(len(scale), np.float32)
    is_sigmoid[1] = 1.0
    if offset_ms is not None:
        is_sigmoid[-1] = 1.0
    return scale, shift, is_sigmoid


def export_step_model(model, norm: dict, dt_ms: float | None = None, conductances=None):
    """Return the ONNX ``ModelProto`` of the streaming step model.

    ``norm`` holds ``x_mean``, ``x_std``, ``v_mean``, ``v_std``, ``readout_mean``, ``readout_std``;
    ``dt_ms`` (the step) is needed by a spike-offset model, whose offset output is in ms;
    ``conductances`` (a :class:`~.conductances.ConductanceInputs`) by a model trained on them.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx

    w_conv, b_conv, w_x, w_h, b_l, w_d, b_d = layer_weights(model)
    hidden = [(w.astype(np.float32), b.astype(np.float32)) for w, b in hidden_weights(model)]
    kernel, n_in, filters = w_conv.shape
    x_mean = np.asarray(norm["x_mean"], np.float32)
    x_scale = (1.0 / np.asarray(norm["x_std"], np.float32)).astype(np.float32)
    offset = has_spike_offset(model, len(norm["readout_std"]))
    if offset and dt_ms is None:
        raise ValueError("a spike-offset model needs dt_ms to export its offset output in ms.")
    out_scale, out_shift, is_sigmoid = _output_transform(norm, float(dt_ms) if offset else None)
    w_conv_flat = w_conv.reshape(kernel * n_in, filters).astype(np.float32)
    feedback = has_feedback(model)
    names = state_names(model, conductances)
    shapes = state_shapes(model, conductances)
    n_raw = n_in if conductances is None else conductances.n_sites + 1
    if conductances is not None:
        sum_map, decay_a, decay_b, gain_a, gain_b = (np.asarray(c, np.float32) for c in conductances.coefficients())
        n_g = len(conductances.columns)

    spec = (tf.TensorSpec([None, n_raw], tf.float32, name="x"),) + tuple(
        tf.TensorSpec([None, *shape], tf.float32, name=i) for (i, _), shape in zip(names, shapes)
    )

    def step(x, conv_state, h, c, *rest):
        fb = rest[:1] if feedback else ()
        if conductances is not None:  # the synapses' A and B from this step's event weights (conductances.py)
            syn = rest[-1]
            u = tf.matmul(x[:, : conductances.n_sites], sum_map)
            a_new = syn[:, :n_g] * decay_a + u * gain_a
            b_new = syn[:, n_g:] * decay_b + u * gain_b
            x = tf.concat([x[:, : conductances.n_sites], b_new - a_new, x[:, conductances.n_sites :]], axis=1)
        xn = (x - x_mean) * x_scale
        window = tf.concat([conv_state, xn[:, None, :]], axis=1)
        flat = tf.reshape(window, [-1, kernel * n_in])
        a = tf.nn.relu(tf.matmul(flat, w_conv_flat) + b_conv.astype(np.float32))
        for w_hid, b_hid in hidden:
            a = tf.nn.relu(tf.matmul(a, w_hid) + b_hid)
        if feedback:
            a = tf.concat([a, fb[0]], axis=1)
        z = tf.matmul(a, w_x.astype(np.float32)) + tf.matmul(h, w_h.astype(np.float32)) + b_l.astype(np.float32)
        h_new, c_new = lstm_update(z, c)
        raw = tf.matmul(h_new, w_d.astype(np.float32)) + b_d.astype(np.float32)
        y = is_sigmoid * tf.sigmoid(raw) * out_scale + (1.0 - is_sigmoid) * (raw * out_scale + out_shift)
        out = (y, window[:, 1:, :], h_new, c_new)
        if feedback:
            out += (step_feedback(raw, offset),)
        if conductances is not None:
            out += (tf.concat([a_new, b_new], axis=1),)
        return out

    fn = tf.function(step, input_signature=spec)
    onnx_model, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=OPSET)
    graph = onnx_model.graph
    renames = {o.name: new for o, new in zip(graph.output, ["y"] + [o for _, o in names])}
    renames.update({i.name: new for i, new in zip(graph.input, ["x"] + [i for i, _ in names])})
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for value in list(graph.input) + list(graph.output):
        value.name = renames.get(value.name, value.name)
    onnx.checker.check_model(onnx_model)
    return onnx_model




def run_step_model(session, x, state_shapes, warmup_steps: int = 0, names=STATE, return_feedback: bool = False):
    """Run the step model over ``x`` [batch, T, n_inputs] (physical units) from zero state.

    ``warmup_steps`` zero-input steps run first and are not returned. Returns ``y``
    [batch, T, n_outputs]; with ``return_feedback`` also the feedback input each step saw
    (warm-up included), [batch, warmup + T, width].
    """
    x = np.asarray(x, np.float32)
    batch, steps, n_in = x.shape
    state = {name: np.zeros([batch, *shape], np.float32) for (name, _), shape in zip(names, state_shapes)}
    zero = np.zeros((batch, n_in), np.float32)
    out_names = ["y"] + [o for _, o in names]
    ys, fbs = [], []
    for k in range(-warmup_steps, steps):
        if return_feedback:
            fbs.append(state[FEEDBACK_STATE[0]])
        feed = {"x": zero if k < 0 else x[:, k], **state}
        y, *new = session.run(out_names, feed)
        state = {name: value for (name, _), value in zip(names, new)}
        if k >= 0:
            ys.append(y)
    y = np.stack(ys, axis=1)
    return (y, np.stack(fbs, axis=1)) if return_feedback else y


def keras_predict(model, x, norm: dict, warmup_steps: int = 0, feedback=None, dt_ms: float | None = None) -> np.ndarray:
    """The Keras sequence model in physical units, same layout as :func:`run_step_model`.

    A feedback model needs ``feedback`` [batch, warmup + T, width], the feedback input of each
    step; a spike-offset model ``dt_ms``.
    """
    x = np.asarray(x, np.float32)
    if warmup_steps:
        x = np.concatenate([np.zeros((x.shape[0], warmup_steps, x.shape[2]), np.float32), x], axis=1)
    xn = (x - np.asarray(norm["x_mean"], np.float32)) / np.asarray(norm["x_std"], np.float32)
    inputs = [xn, np.asarray(feedback, np.float32)] if has_feedback(model) else xn
    raw = np.asarray(model(inputs, training=False))[:, warmup_steps:]
    offset = has_spike_offset(model, len(norm["readout_std"]))
    scale, shift, is_sigmoid = _output_transform(norm, float(dt_ms) if offset else None)
    return np.where(is_sigmoid > 0, sigmoid(raw) * scale, raw * scale + shift)


def parity_check(model, onnx_model, norm: dict, x, warmup_steps: int, dt_ms: float | None = None, conductances=None) -> dict:
    """Max |difference| between the Keras sequence model and the ONNX step model, per output kind.

    ``x`` [batch, T, n_inputs]: raw input rows from a simulation's start. A feedback model's
    step model runs closed-loop; the Keras model gets the feedback the step model fed itself,
    so both see the same inputs at every step. With ``conductances`` the Keras model gets
    them computed in numpy, the step model computes them itself.
    """
    from ..validate import make_session

    session = make_session(onnx_model.SerializeToString())
    names, shapes = state_names(model, conductances), state_shapes(model, conductances)
    x_model = x if conductances is None else np.stack([conductances.apply(seq) for seq in x])
    if has_feedback(model):
        y_onnx, fb = run_step_model(session, x, shapes, warmup_steps, names, return_feedback=True)
        y_keras = keras_predict(model, x_model, norm, warmup_steps, feedback=fb, dt_ms=dt_ms)
    else:
        y_onnx = run_step_model(session, x, shapes, warmup_steps, names)
        y_keras = keras_predict(model, x_model, norm, warmup_steps, dt_ms=dt_ms)
    diff = np.abs(y_onnx - y_keras)
    return {
        "max_abs_diff_v_mv": float(diff[..., 0].max()),
        "max_abs_diff_spike_prob": float(diff[..., 1].max()),
        "max_abs_diff_readouts": float(diff[..., 2:].max()) if diff.shape[-1] > 2 else 0.0,
        "sequences": int(x.shape[0]),
        "steps": int(x.shape[1]),
    }
