"""The installed package: public API, no TensorFlow at import, the command line."""

import subprocess
import sys
from pathlib import Path

import pytest

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
    from neuron_ann.cells import get_cell_class

    with pytest.raises(ValueError, match="valid names: BallHH, L5PC, PVBasket"):
        get_cell_class("L23PC")


SHIPPED_BALLHH = str(Path(neuron_ann.__file__).parent / "models" / "BallHH.onnx")


def _refused(argv, tmp_path, monkeypatch, capsys):
    from neuron_ann.cli import main

    monkeypatch.chdir(tmp_path)  # anything a command wrongly started would write lands here
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "a refused command wrote files"
    return err


@pytest.mark.parametrize("argv, message", [
    (["train", "BallHH", "--out", "x.onnx", "--sites", "0"], "the number of contact sites (--sites) must be an integer of at least 1, got 0."),
    (["train", "BallHH", "--out", "x.onnx", "--sim-seconds", "-1"], "(--sim-seconds) must be a number above 0, got -1.0."),
    (["train", "BallHH", "--out", "x.onnx", "--epochs", "0"], "(--epochs) must be an integer of at least 1, got 0."),
    (["train", "BallHH", "--out", "x.onnx", "--dt", "0"], "(--dt) must be a number above 0, got 0.0."),
    (["train", "BallHH", "--out", "x.onnx", "--seed", "-2"], "the seed (--seed) must be an integer of at least 0, got -2."),
    (["train", "BallHH", "--out", "x.onnx", "--processes", "0"], "(--processes) must be an integer of at least 1, got 0."),
    (["validate", SHIPPED_BALLHH, "--sim-seconds", "0"], "(--sim-seconds) must be a number above 0, got 0.0."),
    (["validate", SHIPPED_BALLHH, "--seed", "-1"], "the seed (--seed) must be an integer of at least 0, got -1."),
    (["bench", "--cells", "10", "0"], "each network size (--cells) must be an integer of at least 1, got 0."),
    (["bench", "--tstop", "-5"], "(--tstop) must be a number above 0, got -5.0."),
    (["bench", "--connectivity", "1.5"], "(--connectivity, a fraction of cell pairs) must be a number of at least 0 and at most 1, got 1.5."),
    (["bench", "--repeats", "0"], "(--repeats) must be an integer of at least 1, got 0."),
    (["bench", "--neuron-cells", "0"], "(--neuron-cells) must be an integer of at least 1, got 0."),
    (["bench", "--threads", "0"], "(--threads) must be an integer of at least 1, got 0."),
    (["demo", "--cells", "0"], "(--cells) must be an integer of at least 1, got 0."),
    (["demo", "--tstop", "nan"], "(--tstop) must be a number above 0, got nan."),
])
def test_numeric_settings_out_of_range_are_refused_before_any_work(argv, message, tmp_path, monkeypatch, capsys):
    # 0 used to mean "the default" for --sites/--epochs/--sim-seconds and --cells of the demo,
    # --sim-seconds 0 of validate ran 5 s, bench --cells 0 ended in a traceback
    err = _refused(argv, tmp_path, monkeypatch, capsys)
    assert f"neuron-ann {argv[0]}: error: " in err and message in err, err


def test_check_setting_takes_numbers_in_range_only():
    from neuron_ann.errors import SettingError, check_setting

    assert check_setting("n", 3, integer=True, minimum=1) == 3
    assert check_setting("x", 0.5, minimum=0, maximum=1) == 0.5
    assert check_setting("x", 1, minimum=0, maximum=1) == 1  # an int is a number too
    for value, kwargs in [(0, {"integer": True, "minimum": 1}), (2.0, {"integer": True}), (True, {"integer": True}),
                          (0.0, {"above": 0}), (float("inf"), {"above": 0}), (float("nan"), {}), ("3", {}), (1.01, {"maximum": 1})]:
        with pytest.raises(SettingError, match=r"^n must be "):
            check_setting("n", value, **kwargs)
    with pytest.raises(ValueError):  # SettingError is a ValueError for callers that catch those
        check_setting("n", -1, minimum=0)
