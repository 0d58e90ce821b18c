"""The CNN-LSTM surrogate in Keras: causal convolution over the input columns, an LSTM, dense heads.

The Keras model works on normalised inputs and predicts, per step, the normalised soma
voltage, a spike logit and the normalised readouts, concatenated on the last axis.
TensorFlow is imported only by the functions here, never at import of ``neuron_ann``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["ModelConfig", "build_model", "make_loss", "count_parameters"]


@dataclass
class ModelConfig:
    filters: int = 32
    kernel: int = 4  # taps of the causal convolution (>= 2)
    lstm_units: int = 64
    subthreshold_weight: float = 1.0  # loss weight of v where the cell is below -55 mV
    suprathreshold_weight: float = 0.1  # ... and above (spike shapes matter less than spike times)
    clip_floor_weight: float = 0.0  # where the cell is above -55 mV: weight of (pred below -55 mV)^2, the clipped metric's error
    spike_loss_weight: float = 1.0
    spike_pos_weight: float = 10.0  # class weight of spike steps in the cross-entropy
    readout_loss_weight: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def build_model(n_inputs: int, n_readouts: int, config: ModelConfig):
    import keras

    if config.kernel < 2:
        raise ValueError(f"the convolution needs at least 2 taps, got kernel={config.kernel}.")
    inp = keras.Input(shape=(None, n_inputs), name="x_norm")
    h = keras.layers.Conv1D(config.filters, config.kernel, padding="causal", activation="relu", name="conv")(inp)
    h = keras.layers.LSTM(config.lstm_units, return_sequences=True, name="lstm")(h)
    out = keras.layers.Dense(2 + n_readouts, name="heads")(h)
    return keras.Model(inp, out, name="cnn_lstm")


def make_loss(config: ModelConfig, clip_norm: float, n_readouts: int):
    """Loss on targets packed as ``[v_norm, spike, readouts_norm..., mask]``.

    ``clip_norm`` is -55 mV in normalised units: v above it is weighted by
    ``suprathreshold_weight``; there, a prediction below -55 mV also costs
    ``clip_floor_weight * (clip_norm - pred)^2``, the error the spike-clipped metric sees.
    """
    import tensorflow as tf

    def loss(y_true, y_pred):
        v, spike = y_true[..., 0], y_true[..., 1]
        readouts = y_true[..., 2 : 2 + n_readouts]
        mask = y_true[..., 2 + n_readouts]
        v_weight = tf.where(v > clip_norm, config.suprathreshold_weight, config.subthreshold_weight)
        err_v = v_weight * tf.square(y_pred[..., 0] - v)
        if config.clip_floor_weight:
            below = tf.nn.relu(clip_norm - y_pred[..., 0])
            err_v += tf.where(v > clip_norm, config.clip_floor_weight, 0.0) * tf.square(below)
        bce = tf.nn.weighted_cross_entropy_with_logits(labels=spike, logits=y_pred[..., 1], pos_weight=config.spike_pos_weight)
        total = err_v + config.spike_loss_weight * bce
        if n_readouts:
            total += config.readout_loss_weight * tf.reduce_mean(tf.square(y_pred[..., 2:] - readouts), axis=-1)
        return tf.reduce_sum(total * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

    return loss


def count_parameters(model) -> int:
    return int(sum(int(w.shape.num_elements() if hasattr(w.shape, "num_elements") else __import__("numpy").prod(w.shape)) for w in model.weights))
