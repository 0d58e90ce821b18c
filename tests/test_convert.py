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


def make_folder(root):
    (root / "mechanisms").mkdir(parents=True)
    (root / "mechanisms" / "leak.mod").write_text(LEAK)
    (root / "cells.hoc").write_text(TEMPLATES)
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
