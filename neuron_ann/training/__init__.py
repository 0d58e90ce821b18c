"""Training surrogates: Keras CNN-LSTM, training loop, streaming ONNX export, bundle writing.

TensorFlow and tf2onnx are imported inside the functions that need them.
"""

__all__ = ["train_surrogate"]


def train_surrogate(*args, **kwargs):
    """See :func:`neuron_ann.training.command.train_surrogate`."""
    from .command import train_surrogate as _train

    return _train(*args, **kwargs)
