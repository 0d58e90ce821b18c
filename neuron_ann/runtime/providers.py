"""Execution-provider registry: CUDA when it really works, else CPU, logged once."""

from __future__ import annotations

import logging

__all__ = ["CUDA_MIN_CELLS", "available_providers", "choose_providers", "cuda_works", "session_options"]

log = logging.getLogger("neuron_ann.runtime")

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

#: the automatic choice runs a cell type on the GPU only from this many cells up: a CUDA
#: step (graph replay) costs 70-100 us from 1 to 1000 cells on an H200 with onnxruntime-gpu
#: 1.31, one CPU thread 27-50 us for 1 cell and 60-380 us for 10-100 cells
#: (examples/gpu_check.py on the shipped bundles)
CUDA_MIN_CELLS = 64

_cuda_status: bool | None = None  # None: not probed yet
_logged: set[str] = set()


def available_providers() -> list[str]:
    """Providers this onnxruntime build offers (not all of them may start)."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def session_options(threads: int | None = None):
    """Quiet session options; ``threads`` sets the intra-op thread count (None: ORT's default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        if int(threads) < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}.")
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return options


def cpu_session(model_bytes: bytes, threads: int | None = 1):
    """A quiet ONNX Runtime session on the CPU (offline evaluation, parity checks, metadata)."""
    import onnxruntime as ort

    return ort.InferenceSession(model_bytes, session_options(threads), providers=["CPUExecutionProvider"])


def _log_once(level: int, message: str) -> None:
    if message not in _logged:
        _logged.add(message)
        log.log(level, message)


def cuda_works(model_bytes: bytes) -> bool:
    """True when a session on ``model_bytes`` actually starts with the CUDA provider (probed once)."""
    global _cuda_status
    if _cuda_status is not None:
        return _cuda_status
    if CUDA not in available_providers():
        _cuda_status = False
        return False
    import onnxruntime as ort

    ort.set_default_logger_severity(4)  # a failing CUDA start logs errors that are expected here
    try:
        session = ort.InferenceSession(model_bytes, session_options(), providers=[CUDA, CPU])
        _cuda_status = session.get_providers()[0] == CUDA
    except Exception as exc:  # onnxruntime raises several unrelated types when CUDA cannot start
        log.debug("CUDA provider failed to start: %s", exc)
        _cuda_status = False
    finally:
        ort.set_default_logger_severity(2)
    return _cuda_status


def choose_providers(model_bytes: bytes, requested=None, n_cells: int | None = None) -> list[str]:
    """The provider list to start sessions with.

    Args:
        model_bytes: a model to probe CUDA with (the first bundle loaded).
        requested: None for automatic choice, or a provider name / list of names, which
            overrides the choice (each must be one this onnxruntime offers).
        n_cells: batch size; the automatic choice keeps batches under ``CUDA_MIN_CELLS``
            on the CPU (None: any size).
    """
    if requested is not None:
        names = [requested] if isinstance(requested, str) else list(requested)
        offered = available_providers()
        for name in names:
            if name not in offered:
                raise ValueError(f"provider {name!r} is not offered by this onnxruntime; valid names: {', '.join(offered)}.")
        _log_once(logging.INFO, f"neuron_ann: ONNX Runtime providers {names} (requested)")
        return names
    if cuda_works(model_bytes):
        if n_cells is not None and n_cells < CUDA_MIN_CELLS:
            _log_once(logging.INFO, f"neuron_ann: cell types with fewer than {CUDA_MIN_CELLS} swapped cells run on the CPU, "
                                    "where their step is cheaper; pass providers=['CUDAExecutionProvider'] to force the GPU")
            return [CPU]
        _log_once(logging.INFO, "neuron_ann: running surrogates on the GPU (CUDAExecutionProvider)")
        return [CUDA, CPU]
    if CUDA in available_providers():
        _log_once(logging.WARNING, "neuron_ann: onnxruntime offers CUDA but no session starts on it here; running surrogates on the CPU")
    else:
        _log_once(logging.INFO, "neuron_ann: running surrogates on the CPU (CPUExecutionProvider)")
    return [CPU]


def _reset_for_tests() -> None:
    global _cuda_status
    _cuda_status = None
    _logged.clear()
