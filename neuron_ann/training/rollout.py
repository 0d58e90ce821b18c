"""Closed-loop ("rollout") training of a feedback model: the loss is taken on the model run on
its own output, as the exported step model runs in NEURON.

Teacher forcing (:func:`.model.feedback_columns`) trains each step on the recorded past,
so small errors that the free-running model feeds back to itself are never seen in
training; a phase that slips in tonic firing stays slipped. Here each window is unrolled
with the model's own feedback: the previous step's normalised v and spike, 1 where the
spike logit is positive exactly as in the step model. No gradient flows back through the
fed-back values (through 1000 steps of its own output it explodes: the first try gave NaN
weights after one epoch); gradients run through the LSTM state as in teacher-forced
training, but along the trajectory the model itself produces. A batch whose gradients are
not finite is skipped. The weights are the teacher-forced model's own (conv, LSTM, heads),
so closed-loop epochs can follow teacher-forced ones.
"""

from __future__ import annotations

from .export import has_input_map, hidden_layers, lstm_update, step_feedback

__all__ = ["rollout_outputs", "make_rollout_step"]


def rollout_outputs(model, x, spike_offset: bool = False):
    """Raw (normalised) outputs [batch, T, n_out] of ``model`` run closed-loop over ``x`` (normalised
    inputs [batch, T, n_in]) from zero state, as a differentiable TensorFlow graph."""
    import tensorflow as tf

    conv = model.get_layer("conv")
    cell = model.get_layer("lstm").cell
    heads = model.get_layer("heads")
    if has_input_map(model):
        x = model.get_layer("sites")(x)
    a = conv(x)  # [B, T, F]: the convolution sees the inputs only
    for layer in hidden_layers(model):
        a = layer(a)
    n_a = a.shape[-1]  # the LSTM's kernel rows: these inputs first, then the feedback columns
    w_x = cell.kernel
    pre = tf.einsum("btf,fg->tbg", a, w_x[:n_a]) + cell.bias  # [T, B, 4U]
    w_fb = w_x[n_a:]
    batch = tf.shape(x)[0]
    units = cell.units

    def step(carry, pre_k):
        h, c, fb = carry
        h, c = lstm_update(pre_k + tf.matmul(h, cell.recurrent_kernel) + tf.matmul(fb, w_fb), c)
        return h, c, tf.stop_gradient(step_feedback(heads(h), spike_offset))

    zeros = tf.zeros([batch, units])
    states = tf.scan(step, pre, initializer=(zeros, zeros, tf.zeros([batch, w_fb.shape[0]])))
    return tf.transpose(heads(states[0]), [1, 0, 2])  # heads of every step's h: [B, T, n_out]


def make_rollout_step(model, loss_fn, optimizer, spike_offset: bool = False):
    """A compiled ``step(x_norm, y) -> loss`` that runs ``model`` closed-loop over ``x_norm``
    [batch, T, n_in] (:func:`rollout_outputs`), scores it with ``loss_fn(y, raw)`` and applies
    one optimizer update."""
    import tensorflow as tf

    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, rollout_outputs(model, x, spike_offset))
        grads = tape.gradient(loss, variables)
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        if finite:
            optimizer.apply_gradients(zip(grads, variables))
        return tf.where(finite, loss, float("nan"))

    return train_step
