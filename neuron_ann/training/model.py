"""The CNN-LSTM surrogate in Keras: causal convolution over the input columns, optional per-step dense
layers, an LSTM, dense heads.

The Keras model works on normalised inputs and predicts, per step, the normalised soma
voltage, a spike logit, the normalised readouts and, with ``spike_offset``, the logit of
where in the step the spike falls (fraction of the step), concatenated on the last axis.
TensorFlow is imported only by the functions here, never at import of ``neuron_ann``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["ModelConfig", "build_model", "make_loss", "count_parameters", "feedback_columns", "FEEDBACK_WIDTH"]

#: feedback columns: previous soma v (normalised) and previous spike (0/1); a spike_offset
#: model feeds back a third, where in the previous step its spike fell (fraction, 0 without)
FEEDBACK_WIDTH = 2


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
    # feedback: the LSTM also sees the previous step's soma v (normalised) and spike (0/1).
    # Trained with the recorded values plus Gaussian noise of ``feedback_noise`` (normalised v
    # units); the exported step model feeds back its own prediction, so the surrogate runs as
    # a dynamical system that keeps its own firing phase instead of predicting a mean.
    feedback: bool = True
    feedback_noise: float = 0.05
    # feedback_v False: the fed-back v is ignored (its input masked, its LSTM weights zero), only
    # the previous spike is seen; the state layout is unchanged. Teacher-forced, the recorded v
    # of the step before a spike already shows the upstroke, a cue the free-running model must
    # first produce itself
    feedback_v: bool = True
    # spike_offset: a head for where in the step the spike falls (fraction of the step, trained
    # on spike steps only, weight spike_offset_loss_weight); the bundle emits each spike at
    # that time instead of the step's middle, and a feedback model also sees it next step
    spike_offset: bool = False
    spike_offset_loss_weight: float = 1.0
    # dropout: fraction of the convolution's outputs zeroed in training (the LSTM's input; no
    # recurrent dropout, so the exported step model is unchanged); 0 turns it off. Applied in
    # teacher-forced epochs only (closed-loop epochs unroll the layers without it)
    dropout: float = 0.0
    # input_rank: > 0 routes the inputs through a linear map to that many channels (layer
    # "sites", no bias) before the convolution, so the convolution's kernel over all inputs has
    # at most that rank: far fewer weights on the input side for cells with many sites. The
    # map folds into the convolution's kernel at export (export.layer_weights): the step model
    # and its cost are those of the full-rank model. 0: no map
    input_rank: int = 0
    # hidden: sizes of per-step dense layers (ReLU) between the convolution and the LSTM
    # (layers "hidden_1", ...): a deeper nonlinear map of each step's convolved inputs, as the
    # deep networks of Beniaguev et al. 2021 (Neuron 109:2727) and the per-step MLP of the ELM
    # neuron (Spieler et al., ICLR 2024) suggest for a cell whose dendrites integrate
    # nonlinearly. Empty: none. On the L5PC it overfitted sooner (docs/measurements.md)
    hidden: tuple = ()
    # conductances: the model also sees the synaptic conductances its inputs cause (the synapse
    # kinds' known kinetics, computed exactly from each step's event weights; sites at one place
    # with one kind share them) beside the raw weights (training/conductances.py); the exported
    # step model computes them itself, so the bundle's inputs stay the raw weights
    conductances: bool = False

    def check(self, n_inputs: int) -> None:
        """Refuse settings no model can be built with, for a cell with ``n_inputs`` input columns
        (``train_surrogate`` calls it before generating any data)."""
        from ..errors import DatasetError

        if self.kernel < 2:
            raise DatasetError(f"the convolution needs at least 2 taps, got kernel={self.kernel}.")
        if self.input_rank and not 0 < self.input_rank < n_inputs:
            raise DatasetError(f"input_rank must lie between 1 and {n_inputs - 1} (fewer than the {n_inputs} inputs), got {self.input_rank}; "
                               "0 turns it off.")
        if self.dropout and not 0.0 < self.dropout < 1.0:
            raise DatasetError(f"dropout must lie in [0, 1), got {self.dropout}.")
        if any(int(n) != n or n < 1 for n in self.hidden):
            raise DatasetError(f"hidden must list layer sizes of at least 1 unit, got {list(self.hidden)}; () for none.")

    @property
    def lstm_input_width(self) -> int:
        """Width of what the LSTM sees before the feedback columns: the last hidden layer's, else the convolution's."""
        return int(self.hidden[-1]) if self.hidden else self.filters

    @property
    def feedback_width(self) -> int:
        return FEEDBACK_WIDTH + (1 if self.spike_offset else 0)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = [int(n) for n in self.hidden]
        return d


def build_model(n_inputs: int, n_readouts: int, config: ModelConfig):
    import keras

    config.check(n_inputs)
    inp = keras.Input(shape=(None, n_inputs), name="x_norm")
    h = inp
    if config.input_rank:
        h = keras.layers.Dense(config.input_rank, use_bias=False, name="sites")(h)
    h = keras.layers.Conv1D(config.filters, config.kernel, padding="causal", activation="relu", name="conv")(h)
    if config.dropout:
        h = keras.layers.Dropout(config.dropout, name="dropout")(h)
    for i, units in enumerate(config.hidden):
        h = keras.layers.Dense(int(units), activation="relu", name=f"hidden_{i + 1}")(h)
    inputs = inp
    if config.feedback:
        fb = keras.Input(shape=(None, config.feedback_width), name="feedback")
        inputs = [inp, fb]
        if not config.feedback_v:
            mask = [0.0] + [1.0] * (config.feedback_width - 1)
            fb = keras.layers.Lambda(lambda t: t * mask, name="without_v")(fb)
        h = keras.layers.Concatenate(name="with_feedback")([h, fb])
    lstm = keras.layers.LSTM(config.lstm_units, return_sequences=True, name="lstm")
    h = lstm(h)
    out = keras.layers.Dense(2 + n_readouts + (1 if config.spike_offset else 0), name="heads")(h)
    model = keras.Model(inputs, out, name="cnn_lstm")
    if config.feedback and not config.feedback_v:  # the step model multiplies its own v by these: zero, and they get no gradient
        kernel, recurrent, bias = lstm.get_weights()
        kernel[config.lstm_input_width] = 0.0
        lstm.set_weights([kernel, recurrent, bias])
    return model


def feedback_columns(v_norm, spike, noise: float = 0.0, rng=None, frac=None):
    """The feedback input of a teacher-forced window: step k sees v_norm[k-1] (+ noise) and spike[k-1]
    (and, given ``frac``, where in step k-1 its spike fell).

    ``v_norm``, ``spike`` and ``frac`` are [batch, T]; step 0 sees step 0's own values (it
    lies in the burn-in, where no loss applies). Returns [batch, T, 2 or 3] float32.
    """
    import numpy as np

    columns = [v_norm, spike] + ([frac * spike] if frac is not None else [])
    fb = np.empty((*v_norm.shape, len(columns)), np.float32)
    for j, col in enumerate(columns):
        fb[:, 1:, j] = col[:, :-1]
        fb[:, 0, j] = col[:, 0]
    if noise:
        fb[..., 0] += rng.normal(0.0, noise, size=v_norm.shape).astype(np.float32)
    return fb


def make_loss(config: ModelConfig, clip_norm: float, n_readouts: int):
    """Loss on targets packed as ``[v_norm, spike, readouts_norm..., (spike fraction,) mask]``.

    ``clip_norm`` is -55 mV in normalised units: v above it is weighted by
    ``suprathreshold_weight``; there, a prediction below -55 mV also costs
    ``clip_floor_weight * (clip_norm - pred)^2``, the error the spike-clipped metric sees.
    """
    import tensorflow as tf

    def loss(y_true, y_pred):
        v, spike = y_true[..., 0], y_true[..., 1]
        readouts = y_true[..., 2 : 2 + n_readouts]
        mask = y_true[..., -1]
        v_weight = tf.where(v > clip_norm, config.suprathreshold_weight, config.subthreshold_weight)
        err_v = v_weight * tf.square(y_pred[..., 0] - v)
        if config.clip_floor_weight:
            below = tf.nn.relu(clip_norm - y_pred[..., 0])
            err_v += tf.where(v > clip_norm, config.clip_floor_weight, 0.0) * tf.square(below)
        bce = tf.nn.weighted_cross_entropy_with_logits(labels=spike, logits=y_pred[..., 1], pos_weight=config.spike_pos_weight)
        total = err_v + config.spike_loss_weight * bce
        if n_readouts:
            total += config.readout_loss_weight * tf.reduce_mean(tf.square(y_pred[..., 2 : 2 + n_readouts] - readouts), axis=-1)
        if config.spike_offset:  # where in the step: on spike steps only
            frac = y_true[..., 2 + n_readouts]
            total += config.spike_offset_loss_weight * spike * tf.square(tf.sigmoid(y_pred[..., 2 + n_readouts]) - frac)
        return tf.reduce_sum(total * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

    return loss


def count_parameters(model) -> int:
    return int(sum(int(w.shape.num_elements() if hasattr(w.shape, "num_elements") else __import__("numpy").prod(w.shape)) for w in model.weights))
