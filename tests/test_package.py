"""The installed package: public API, no TensorFlow at import, the command line."""

import subprocess
import sys

import neuron_ann


def test_public_api_is_explicit():
    assert set(neuron_ann.__all__) >= {"swap_to_ann", "swap_back"}
    for name in neuron_ann.__all__:
        assert hasattr(neuron_ann, name), name


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, neuron_ann, neuron_ann.cells, neuron_ann.bundle, neuron_ann.cli, neuron_ann.celltools; "
        "from neuron_ann.cells import BallHH; "
        "bad = [m for m in ('tensorflow', 'tf2onnx', 'keras') if m in sys.modules]; "
        "assert not bad, bad; print('clean')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "clean" in out.stdout, out.stderr[-2000:]


def test_command_line_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "neuron_ann.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for command in ("demo", "train", "convert", "validate", "bench", "info"):
        assert command in out.stdout


def test_unknown_cell_type_lists_valid_names():
    import pytest

    from neuron_ann.cells import get_cell_class

    with pytest.raises(ValueError, match="valid names: BallHH, L5PC, PVBasket"):
        get_cell_class("L23PC")
