"""ONNX Runtime side of the surrogates: provider choice and the batched streaming step.

:class:`StepModel` holds one ONNX Runtime session per bundle and the state of every cell
of that type in contiguous arrays; :meth:`StepModel.step` advances all of them with one
``session.run``. Providers come from a small registry (:func:`choose_providers`): CUDA
when onnxruntime offers it and a session really starts on it, else CPU, logged once.
Nothing here imports TensorFlow.
"""

from .providers import available_providers, choose_providers, cuda_works
from .step import StepModel

__all__ = ["StepModel", "available_providers", "choose_providers", "cuda_works"]
