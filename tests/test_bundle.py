"""Bundle save/load round trip and the errors for damaged or inconsistent files."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from neuron_ann import bundle  # noqa: E402
from neuron_ann.errors import BundleError  # noqa: E402


def _meta(n_in=3, n_out=2, units=4):
    return {
        "format_version": 2,
        "celsius": 6.3,
        "cell_type": {"name": "BallHH", "python_class": "neuron_ann.cells.ballhh.BallHH", "hoc_template": None, "fingerprint": {}},
        "dt_ms": 1.0,
        "sites": [{"section": "soma", "x": 0.5, "kind": "exc", "path_distance_um": 0.0}, {"section": "soma", "x": 0.5, "kind": "inh", "path_distance_um": 0.0}],
        "synapse_kinds": {"exc": {"mechanism": "AMPA_NMDA", "params": {}}, "inh": {"mechanism": "GABA_A", "params": {}}},
        "inputs": [{"name": "syn0", "kind": "synapse", "site": 0, "units": "uS"}, {"name": "syn1", "kind": "synapse", "site": 1, "units": "uS"},
                   {"name": "i_soma", "kind": "current", "units": "nA"}][:n_in],
        "outputs": [{"name": "v", "kind": "soma_v", "units": "mV"}, {"name": "spike", "kind": "spike_prob", "units": "1"}][:n_out],
        "spike_threshold": 0.5,
        "state": [{"input": "h_in", "output": "h_out", "shape": [units]}],
        "warmup_steps": 10,
    }


def _model(n_in=3, n_out=2, units=4):
    """y = x @ W (n_in -> n_out), h_out = h_in + 1: a tiny graph with the bundle's tensor layout."""
    w = helper.make_tensor("W", TensorProto.FLOAT, [n_in, n_out], np.ones(n_in * n_out, np.float32))
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"]), helper.make_node("Add", ["h_in", "one"], ["h_out"])]
    graph = helper.make_graph(
        nodes, "step",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_in]), helper.make_tensor_value_info("h_in", TensorProto.FLOAT, ["batch", units])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", n_out]), helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["batch", units])],
        initializer=[w, one],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_round_trip(tmp_path):
    path = bundle.save(_model(), _meta(), tmp_path / "b.onnx")
    loaded = bundle.load(path)
    assert loaded.meta == _meta()
    assert loaded.n_inputs == 3 and loaded.output_index("spike_prob") == 1 and loaded.site_columns() == [0, 1]
    assert loaded.matches("neuron_ann.cells.ballhh.BallHH")


def test_missing_file(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        bundle.load(tmp_path / "nope.onnx")


def test_corrupted_file(tmp_path):
    path = bundle.save(_model(), _meta(), tmp_path / "b.onnx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="corrupted"):
        bundle.load(path)


def test_onnx_without_metadata(tmp_path):
    path = tmp_path / "plain.onnx"
    path.write_bytes(_model().SerializeToString())
    with pytest.raises(BundleError, match="without neuron_ann metadata"):
        bundle.load(path)


def test_metadata_not_json(tmp_path):
    model = _model()
    entry = model.metadata_props.add()
    entry.key, entry.value = "neuron_ann", "{broken"
    path = tmp_path / "b.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(BundleError, match="not valid JSON"):
        bundle.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.pop("dt_ms"), "lacks 'dt_ms'"),
        (lambda m: m.update(format_version=99), "format 99 is not supported"),
        (lambda m: m["outputs"].pop(0), "exactly one output must be of kind 'soma_v'"),
        (lambda m: m["sites"][0].update(kind="nmda"), "not one of synapse_kinds"),
        (lambda m: m["inputs"][0].update(site=7), "names site 7"),
    ],
)
def test_wrong_metadata(tmp_path, edit, message):
    meta = _meta()
    edit(meta)
    with pytest.raises(BundleError, match=message):
        bundle.save(_model(), meta, tmp_path / "b.onnx")


def test_metadata_disagreeing_with_graph(tmp_path):
    model = _model()
    meta = _meta()
    meta["state"] = [{"input": "h_in", "output": "h_out", "shape": [5]}]
    with pytest.raises(BundleError, match="state 'h_in' has shape"):
        bundle.save(model, meta, tmp_path / "b.onnx")
    meta = _meta()
    meta["state"][0]["input"] = "hidden_in"
    with pytest.raises(BundleError, match="graph's inputs"):
        bundle.save(model, meta, tmp_path / "b.onnx")
    # written by hand with a graph of 2 input columns but metadata of 3
    small = _model(n_in=2)
    entry = small.metadata_props.add()
    entry.key, entry.value = "neuron_ann", json.dumps(_meta())
    path = tmp_path / "hand.onnx"
    path.write_bytes(small.SerializeToString())
    with pytest.raises(BundleError, match="tensor 'x' has 2 columns"):
        bundle.load(path)
