"""The model bundle: one ``.onnx`` file whose ``metadata_props`` carry the surrogate's contract.

See ``docs/internals.md`` for the step contract and the metadata keys. Reading needs only
onnxruntime; writing needs the ``onnx`` package (installed with the training extras).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BundleError

__all__ = ["FORMAT_VERSION", "METADATA_KEY", "Bundle", "BundleError", "load", "save", "validate_metadata", "shipped_bundles", "SPIKE_OFFSET_OUTPUT"]

FORMAT_VERSION = 2
METADATA_KEY = "neuron_ann"
INPUT_NAME = "x"
OUTPUT_NAME = "y"
#: name of the readout output that says where in the step a predicted spike falls (ms from the step's start)
SPIKE_OFFSET_OUTPUT = "spike_offset"

_REQUIRED = {
    "format_version": int,
    "cell_type": dict,
    "dt_ms": (int, float),
    "sites": list,
    "synapse_kinds": dict,
    "inputs": list,
    "outputs": list,
    "spike_threshold": (int, float),
    "state": list,
    "warmup_steps": int,
    "celsius": (int, float),
}
_OUTPUT_KINDS = ("soma_v", "spike_prob", "readout")
_INPUT_KINDS = ("synapse", "current")


@dataclass
class Bundle:
    """A loaded surrogate: its metadata and the serialized ONNX step model."""

    path: Path
    meta: dict
    model_bytes: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return self.meta["cell_type"]["name"]

    @property
    def dt_ms(self) -> float:
        return float(self.meta["dt_ms"])

    @property
    def n_inputs(self) -> int:
        return len(self.meta["inputs"])

    @property
    def n_outputs(self) -> int:
        return len(self.meta["outputs"])

    def output_index(self, kind: str, name: str | None = None) -> int | None:
        """Column of the first output of ``kind`` (and ``name``, if given), or None."""
        for i, out in enumerate(self.meta["outputs"]):
            if out["kind"] == kind and (name is None or out["name"] == name):
                return i
        return None

    def current_input_index(self) -> int | None:
        for i, inp in enumerate(self.meta["inputs"]):
            if inp["kind"] == "current":
                return i
        return None

    def site_columns(self):
        """For each contact site, the input column that carries it."""
        columns = [None] * len(self.meta["sites"])
        for i, inp in enumerate(self.meta["inputs"]):
            if inp["kind"] == "synapse":
                columns[inp["site"]] = i
        return columns

    def matches(self, type_name: str) -> bool:
        """True when this bundle is for cells of ``type_name`` (Python qualified name or hoc template)."""
        cell_type = self.meta["cell_type"]
        return type_name in (cell_type.get("python_class"), cell_type.get("hoc_template"))


def validate_metadata(meta: dict, where: str = "bundle") -> None:
    """Raise BundleError unless ``meta`` has every key of the contract with consistent values."""
    if not isinstance(meta, dict):
        raise BundleError(f"{where}: metadata is not a JSON object; re-export the bundle with 'neuron-ann train'.")
    for key, kind in _REQUIRED.items():
        if key not in meta:
            raise BundleError(f"{where}: metadata lacks '{key}'; re-export the bundle with 'neuron-ann train'.")
        if not isinstance(meta[key], kind):
            raise BundleError(f"{where}: metadata '{key}' has the wrong type ({type(meta[key]).__name__}).")
    if meta["format_version"] != FORMAT_VERSION:
        raise BundleError(
            f"{where}: bundle format {meta['format_version']} is not supported by this neuron_ann "
            f"(which reads format {FORMAT_VERSION}); upgrade neuron_ann or re-export the bundle."
        )
    if meta["dt_ms"] <= 0:
        raise BundleError(f"{where}: dt_ms must be positive, got {meta['dt_ms']}.")
    for key in ("name",):
        if key not in meta["cell_type"]:
            raise BundleError(f"{where}: cell_type lacks '{key}'.")
    if not (meta["cell_type"].get("python_class") or meta["cell_type"].get("hoc_template")):
        raise BundleError(f"{where}: cell_type names neither a python_class nor a hoc_template.")
    for i, site in enumerate(meta["sites"]):
        for key in ("section", "x", "kind"):
            if key not in site:
                raise BundleError(f"{where}: site {i} lacks '{key}'.")
        if site["kind"] not in meta["synapse_kinds"]:
            raise BundleError(f"{where}: site {i} has kind {site['kind']!r}, not one of synapse_kinds {list(meta['synapse_kinds'])}.")
    for kind, spec in meta["synapse_kinds"].items():
        if "mechanism" not in spec:
            raise BundleError(f"{where}: synapse kind {kind!r} lacks 'mechanism'.")
    sites_seen = set()
    for i, inp in enumerate(meta["inputs"]):
        if inp.get("kind") not in _INPUT_KINDS:
            raise BundleError(f"{where}: input {i} has kind {inp.get('kind')!r}; valid kinds: {_INPUT_KINDS}.")
        if inp["kind"] == "synapse":
            site = inp.get("site")
            if not isinstance(site, int) or not 0 <= site < len(meta["sites"]):
                raise BundleError(f"{where}: input {i} names site {site!r}, which does not exist.")
            sites_seen.add(site)
    if len(sites_seen) != len(meta["sites"]):
        raise BundleError(f"{where}: {len(meta['sites']) - len(sites_seen)} contact sites have no input column.")
    kinds = [out.get("kind") for out in meta["outputs"]]
    for i, kind in enumerate(kinds):
        if kind not in _OUTPUT_KINDS:
            raise BundleError(f"{where}: output {i} has kind {kind!r}; valid kinds: {_OUTPUT_KINDS}.")
    if kinds.count("soma_v") != 1:
        raise BundleError(f"{where}: exactly one output must be of kind 'soma_v', found {kinds.count('soma_v')}.")
    if kinds.count("spike_prob") > 1:
        raise BundleError(f"{where}: at most one output may be of kind 'spike_prob'.")
    for i, st in enumerate(meta["state"]):
        for key in ("input", "output", "shape"):
            if key not in st:
                raise BundleError(f"{where}: state {i} lacks '{key}'.")


def _check_graph(meta: dict, model_bytes: bytes, where: str) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types
        raise BundleError(f"{where}: ONNX Runtime cannot read the model ({exc}); the file is corrupted, re-export it.") from exc
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    expected_in = {INPUT_NAME: meta["inputs"], **{s["input"]: s["shape"] for s in meta["state"]}}
    expected_out = {OUTPUT_NAME: meta["outputs"], **{s["output"]: s["shape"] for s in meta["state"]}}
    for names, actual, label in ((expected_in, inputs, "input"), (expected_out, outputs, "output")):
        if set(names) != set(actual):
            raise BundleError(
                f"{where}: the ONNX graph's {label}s are {sorted(actual)} but the metadata declares {sorted(names)}; "
                "the file was edited or built inconsistently, re-export it."
            )
    for name, cols in ((INPUT_NAME, len(meta["inputs"])), (OUTPUT_NAME, len(meta["outputs"]))):
        shape = inputs.get(name) or outputs.get(name)
        if isinstance(shape[-1], int) and shape[-1] != cols:
            raise BundleError(f"{where}: tensor '{name}' has {shape[-1]} columns but the metadata lists {cols}.")
    for st in meta["state"]:
        shape = inputs[st["input"]]
        if [d for d in shape[1:]] != list(st["shape"]) and all(isinstance(d, int) for d in shape[1:]):
            raise BundleError(f"{where}: state '{st['input']}' has shape {shape[1:]} but the metadata says {st['shape']}.")


def load(path) -> Bundle:
    """Read and check a bundle file.

    Raises:
        BundleError: the file is missing, not ONNX, lacks or has inconsistent metadata.
    """
    path = Path(path)
    where = f"bundle '{path}'"
    if not path.is_file():
        raise BundleError(f"{where} does not exist; pass the path of a .onnx bundle made by 'neuron-ann train'.")
    model_bytes = path.read_bytes()
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BundleError(f"{where}: ONNX Runtime cannot read the model ({exc}); the file is corrupted, re-export it.") from exc
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise BundleError(f"{where} is an ONNX model without neuron_ann metadata; make bundles with 'neuron-ann train'.")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{where}: its metadata is not valid JSON ({exc}); the file is corrupted, re-export it.") from exc
    validate_metadata(meta, where)
    _check_graph(meta, model_bytes, where)
    return Bundle(path=path, meta=meta, model_bytes=model_bytes)


def save(model, meta: dict, path) -> Path:
    """Write ``model`` (an ``onnx.ModelProto``) with ``meta`` as a bundle file, atomically."""
    import onnx

    validate_metadata(meta, f"bundle '{path}'")
    path = Path(path)
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(meta, sort_keys=True)
    data = model.SerializeToString()
    _check_graph(meta, data, f"bundle '{path}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    onnx.checker.check_model(str(path))
    return path


def shipped_bundles() -> list[Path]:
    """The bundles shipped in ``neuron_ann/models/``."""
    return sorted((Path(__file__).resolve().parent / "models").glob("*.onnx"))
