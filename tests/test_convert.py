"""``neuron-ann convert`` on a small ModelDB-style folder."""

import json

import pytest

from neuron_ann.convert import ConvertError, convert_folder, load_converted

LEAK = """
NEURON { SUFFIX nann_convert_leak  NONSPECIFIC_CURRENT i  RANGE g, e }
PARAMETER { g = 0.0001 (S/cm2)  e = -75 (mV) }
ASSIGNED { v (mV)  i (mA/cm2) }
BREAKPOINT { i = g * (v - e) }
"""

TEMPLATES = """
begintemplate TwoComp
public soma, dend
create soma, dend
proc init() {
  soma { L = 20 diam = 20 insert hh }
  dend { L = 200 diam = 2 nseg = 5 insert nann_convert_leak }
  connect dend(0), soma(1)
}
endtemplate TwoComp
begintemplate NoSoma
public axon
create axon
proc init() { axon { L = 100 } }
endtemplate NoSoma
"""


def make_folder(root, template="TwoComp"):
    (root / "mechanisms").mkdir(parents=True)
    (root / "mechanisms" / "leak.mod").write_text(LEAK)
    (root / "cells.hoc").write_text(TEMPLATES.replace("TwoComp", template).replace("NoSoma", "NoSoma" if template == "TwoComp" else template + "NoSoma"))
    (root / "mosinit.hoc").write_text('load_file("nrngui.hoc")\nxpanel("never run")\n')
    return root


def test_convert_describes_templates_and_builds_them(tmp_path, neuron_state):
    folder = make_folder(tmp_path / "model")
    description = convert_folder(folder)
    saved = json.loads((folder / "neuron_ann_cell.json").read_text())
    assert saved["default_template"] == "TwoComp"
    assert saved["cells"]["TwoComp"]["n_sections"] == 2
    assert saved["cells"]["TwoComp"]["n_segments"] == 6
    assert saved["cells"]["NoSoma"].startswith("error:") and "no soma" in saved["cells"]["NoSoma"]
    factory = load_converted(description["path"])
    cell = factory()
    assert cell.dend(0.5).nann_convert_leak.g == pytest.approx(1e-4)
    del cell


def test_convert_refuses_folder_without_templates(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.hoc").write_text("// nothing\n")
    with pytest.raises(ConvertError, match="no hoc cell template"):
        convert_folder(tmp_path / "empty")
    with pytest.raises(ConvertError, match="does not exist"):
        convert_folder(tmp_path / "missing")


def test_bundled_cells_still_build_after_a_converted_model(tmp_path):
    # a fresh process: the converted model overrides a package channel, then a bundled cell is built
    import subprocess
    import sys

    folder = make_folder(tmp_path / "model")
    (folder / "mechanisms" / "wbk_model.mod").write_text(
        "NEURON { SUFFIX wbk  USEION k READ ek WRITE ik  RANGE gbar, model_marker }\n"
        "PARAMETER { gbar = 0.0001 (S/cm2)  model_marker = 1 }\n"
        "ASSIGNED { v (mV)  ek (mV)  ik (mA/cm2) }\n"
        "BREAKPOINT { ik = gbar * (v - ek) }\n"
    )
    code = (
        "import sys; from neuron_ann.convert import convert_folder, load_converted\n"
        "d = convert_folder(sys.argv[1]); TwoComp = load_converted(d); c = TwoComp()\n"
        "from neuron_ann.cells import PVBasket; p = PVBasket()\n"
        "print('wbk from model:', p.soma(0.5).wbk.model_marker == 1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wbk from model: True" in proc.stdout


def test_converted_description_is_a_training_cell(tmp_path, neuron_state):
    from neuron_ann.dataset.cellspec import resolve_cell
    from neuron_ann.errors import DatasetError

    folder = make_folder(tmp_path / "model", template="TwoCompTrain")
    description = convert_folder(folder)
    source = resolve_cell(description["path"])
    cell = source.build()
    assert cell.hname().startswith("TwoCompTrain[")
    del cell
    with pytest.raises(DatasetError, match="run 'neuron-ann convert FOLDER' first"):
        resolve_cell(str(tmp_path / "missing.json"))
