"""The batched streaming step: one ``session.run`` per call for every cell of one type."""

from __future__ import annotations

import time

import numpy as np

from ..bundle import INPUT_NAME, OUTPUT_NAME, Bundle
from .providers import CUDA, cpu_session, choose_providers, log, session_options

__all__ = ["StepModel"]

# warm-up results per (model hash, providers): (state arrays for one cell, last output row)
_warmup_cache: dict = {}


class StepModel:
    """An ONNX Runtime session for one bundle plus the state of ``n_cells`` cells.

    On the CPU, state tensors live in contiguous float32 arrays ``[n_cells, *shape]``
    (``self.state``); :meth:`step` feeds them with the input rows and replaces them with the
    outputs. With
    ``io_binding`` (the default on the GPU) the state stays in two sets of ONNX Runtime
    buffers on the device, read and written in turn by two fixed bindings, so a step copies
    only the input rows in and the output rows out; on the GPU the two bound steps are also
    captured as CUDA graphs and replayed (``cuda_graph``), which cuts the per-step launch
    cost about threefold. CUDA runs in full float32 (TF32 off), like the CPU. Read the state
    with :meth:`state_arrays` and replace it with :meth:`set_state` (``self.state`` is then
    only the host copy last set).

    Args:
        bundle: the loaded bundle.
        n_cells: batch size (cells of this type).
        providers: provider name(s) overriding the automatic choice.
        threads: ONNX Runtime intra-op threads (None: its default).
        io_binding: keep the state in device buffers (None: when the first provider is CUDA).
        cuda_graph: replay the bound step as CUDA graphs (None: whenever io_binding runs on CUDA;
            falls back to plain bound steps, logged, where a graph cannot be captured).
    """

    def __init__(self, bundle: Bundle, n_cells: int, providers=None, threads: int | None = None,
                 io_binding: bool | None = None, cuda_graph: bool | None = None):
        import onnxruntime as ort

        self.bundle = bundle
        self.n_cells = int(n_cells)
        t0 = time.perf_counter()
        self.providers = choose_providers(bundle.model_bytes, providers, n_cells=self.n_cells)
        on_cuda = self.providers[0] == CUDA
        io_binding = on_cuda if io_binding is None else bool(io_binding)
        self.cuda_graph = bool(on_cuda and io_binding and (cuda_graph is None or cuda_graph))
        self._state_specs = bundle.meta["state"]
        self._output_names = [OUTPUT_NAME] + [s["output"] for s in self._state_specs]
        self.x = np.zeros((self.n_cells, bundle.n_inputs), dtype=np.float32)
        self.state = [np.zeros((self.n_cells, *s["shape"]), dtype=np.float32) for s in self._state_specs]
        self.ort_seconds = 0.0
        self.calls = 0
        self.warmup_calls = 0
        self._bindings = None
        try:
            self.session = self._session(ort, threads)
            if io_binding:
                self._bind(ort)
        except Exception as exc:  # onnxruntime raises several types when a graph cannot be made or captured
            if not self.cuda_graph:
                raise
            log.warning("neuron_ann: CUDA graph capture failed for %s (%s); running bound steps without graphs",
                        bundle.meta["cell_type"]["name"], exc)
            self.cuda_graph = False
            self.session = self._session(ort, threads)
            self._bind(ort)
        # the warm-up runs plain session.run calls: never on a session that replays graphs
        self._warm_session = cpu_session(bundle.model_bytes) if self.cuda_graph else self.session
        self._cache_key = (hash(bundle.model_bytes), tuple(self.providers), self.cuda_graph)
        self.load_seconds = time.perf_counter() - t0

    def _session(self, ort, threads):
        cuda_options = {"use_tf32": "0"}
        if self.cuda_graph:
            cuda_options["enable_cuda_graph"] = "1"
        options = [cuda_options if name == CUDA else {} for name in self.providers]
        return ort.InferenceSession(self.bundle.model_bytes, session_options(threads), providers=self.providers,
                                    provider_options=options)

    def _bind(self, ort) -> None:
        """Two sets of state buffers on the device and one binding per direction (set 0 -> 1, 1 -> 0)."""
        device = "cuda" if self.providers[0] == CUDA else "cpu"
        self._device = device
        # on the CPU an OrtValue wraps its numpy array: keep private arrays alive for both sets
        self._host_buffers = [[a.copy() for a in self.state] for _ in range(2)]
        self._sets = [[ort.OrtValue.ortvalue_from_numpy(a, device, 0) for a in arrays] for arrays in self._host_buffers]
        self._x_value = ort.OrtValue.ortvalue_from_numpy(self.x, device, 0)  # on the CPU it aliases self.x
        if self.cuda_graph:  # a graph reads and writes device memory only
            self._y_value = ort.OrtValue.ortvalue_from_shape_and_type([self.n_cells, self.bundle.n_outputs], np.float32, device, 0)
        else:
            self._y = np.zeros((self.n_cells, self.bundle.n_outputs), dtype=np.float32)
            self._y_value = ort.OrtValue.ortvalue_from_numpy(self._y, "cpu", 0)
        self._bindings, self._run_options = [], []
        for phase in range(2):
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(INPUT_NAME, self._x_value)
            binding.bind_ortvalue_output(OUTPUT_NAME, self._y_value)
            for spec, value_in, value_out in zip(self._state_specs, self._sets[phase], self._sets[1 - phase]):
                binding.bind_ortvalue_input(spec["input"], value_in)
                binding.bind_ortvalue_output(spec["output"], value_out)
            options = ort.RunOptions()
            if self.cuda_graph:
                options.add_run_config_entry("gpu_graph_id", str(phase + 1))
            self._bindings.append(binding)
            self._run_options.append(options)
        self._phase = 0
        if self.cuda_graph:  # capture both graphs now, so that a failure shows here; then zero state
            for phase in range(2):
                self.session.run_with_iobinding(self._bindings[phase], self._run_options[phase])
            self.set_state([np.zeros_like(a) for a in self.state])

    @property
    def io_binding(self) -> bool:
        return self._bindings is not None

    def _run(self, x: np.ndarray, state: list, count: bool = True) -> tuple:
        feed = {INPUT_NAME: x}
        for spec, array in zip(self._state_specs, state):
            feed[spec["input"]] = array
        session = self.session if count else self._warm_session
        t0 = time.perf_counter()
        outputs = session.run(self._output_names, feed)
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
        self.set_state(state)
        return y

    def step(self) -> np.ndarray:
        """Advance all cells one exchange step on the input rows in ``self.x``; returns ``y`` [n_cells, n_outputs]
        (with io_binding, a buffer the next step overwrites)."""
        if self._bindings is not None:
            return self._step_bound()
        y, new_state = self._run(self.x, self.state)
        self.state = list(new_state)  # fresh arrays from ONNX Runtime: no copy needed
        return y

    def _step_bound(self) -> np.ndarray:
        t0 = time.perf_counter()
        if self._device != "cpu":
            self._x_value.update_inplace(self.x)
        self.session.run_with_iobinding(self._bindings[self._phase], self._run_options[self._phase])
        self._phase = 1 - self._phase
        y = self._y_value.numpy() if self.cuda_graph else self._y
        self.ort_seconds += time.perf_counter() - t0
        self.calls += 1
        return y

    def set_state(self, arrays) -> None:
        """Replace every cell's state (host arrays [n_cells, *shape] or [1, *shape], in the bundle's state order)."""
        for array, new in zip(self.state, arrays):
            array[...] = new
        if self._bindings is not None:
            for value, array in zip(self._sets[self._phase], self.state):
                value.update_inplace(array)

    def host_bytes(self) -> int:
        """Bytes of this model's per-cell arrays in host memory: the state, the input rows and, when
        bound, both sets of host state buffers and the output rows (device memory not counted)."""
        arrays = list(self.state) + [self.x]
        if self._bindings is not None:
            arrays += [a for buffers in self._host_buffers for a in buffers]
            if not self.cuda_graph:
                arrays.append(self._y)
        return int(sum(a.nbytes for a in arrays))

    def state_arrays(self) -> list:
        """The current state as host arrays [n_cells, *shape] (copied back from the device when bound)."""
        if self._bindings is None:
            return self.state
        return [value.numpy() for value in self._sets[self._phase]]


def _reset_for_tests() -> None:
    _warmup_cache.clear()
