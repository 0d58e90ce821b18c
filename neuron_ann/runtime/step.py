"""The batched streaming step: one ``session.run`` per call for every cell of one type."""

from __future__ import annotations

import time

import numpy as np

from ..bundle import INPUT_NAME, OUTPUT_NAME, Bundle
from .providers import choose_providers, session_options

__all__ = ["StepModel"]

# warm-up results per (model hash, providers): (state arrays for one cell, last output row)
_warmup_cache: dict = {}


class StepModel:
    """An ONNX Runtime session for one bundle plus the state of ``n_cells`` cells.

    State tensors live in contiguous float32 arrays ``[n_cells, *shape]``; :meth:`step`
    feeds them with the input rows and replaces them with the outputs.

    Args:
        bundle: the loaded bundle.
        n_cells: batch size (cells of this type).
        providers: provider name(s) overriding the automatic choice.
        threads: ONNX Runtime intra-op threads (None: its default).
    """

    def __init__(self, bundle: Bundle, n_cells: int, providers=None, threads: int | None = None):
        import onnxruntime as ort

        self.bundle = bundle
        self.n_cells = int(n_cells)
        t0 = time.perf_counter()
        self.providers = choose_providers(bundle.model_bytes, providers)
        self.session = ort.InferenceSession(bundle.model_bytes, session_options(threads), providers=self.providers)
        self.load_seconds = time.perf_counter() - t0
        self._state_specs = bundle.meta["state"]
        self._output_names = [OUTPUT_NAME] + [s["output"] for s in self._state_specs]
        self.x = np.zeros((self.n_cells, bundle.n_inputs), dtype=np.float32)
        self.state = [np.zeros((self.n_cells, *s["shape"]), dtype=np.float32) for s in self._state_specs]
        self._feed = {INPUT_NAME: self.x}
        self.ort_seconds = 0.0
        self.calls = 0
        self.warmup_calls = 0
        self._cache_key = (hash(bundle.model_bytes), tuple(self.providers))

    def _run(self, x: np.ndarray, state: list, count: bool = True) -> tuple:
        feed = {INPUT_NAME: x}
        for spec, array in zip(self._state_specs, state):
            feed[spec["input"]] = array
        t0 = time.perf_counter()
        outputs = self.session.run(self._output_names, feed)
        if count:
            self.ort_seconds += time.perf_counter() - t0
            self.calls += 1
        else:
            self.warmup_calls += 1
        return outputs[0], outputs[1:]

    def warm_state(self) -> tuple[list, np.ndarray | None]:
        """State after ``warmup_steps`` zero-input steps from zero state, and the last output row.

        Computed once per model and cached; the output row is None when ``warmup_steps`` is 0.
        """
        if self._cache_key not in _warmup_cache:
            steps = int(self.bundle.meta["warmup_steps"])
            state = [np.zeros((1, *s["shape"]), dtype=np.float32) for s in self._state_specs]
            x = np.zeros((1, self.bundle.n_inputs), dtype=np.float32)
            y = None
            for _ in range(steps):
                y, state = self._run(x, state, count=False)
            _warmup_cache[self._cache_key] = ([s.copy() for s in state], None if y is None else y[0].copy())
        state, y = _warmup_cache[self._cache_key]
        return state, y

    def reset(self) -> np.ndarray | None:
        """Put every cell into the warmed-up state; returns the last warm-up output row (or None)."""
        state, y = self.warm_state()
        for array, one in zip(self.state, state):
            array[...] = one
        return y

    def step(self) -> np.ndarray:
        """Advance all cells one exchange step on the input rows in ``self.x``; returns ``y`` [n_cells, n_outputs]."""
        y, new_state = self._run(self.x, self.state)
        self.state = list(new_state)  # fresh arrays from ONNX Runtime: no copy needed
        return y


def _reset_for_tests() -> None:
    _warmup_cache.clear()
