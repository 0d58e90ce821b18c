"""Compiling and loading NMODL folders: cache, locking, errors, user folders."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from neuron_ann import mechanisms
from neuron_ann.errors import MechanismError

LEAK_MOD = textwrap.dedent(
    """
    NEURON { SUFFIX {name}  NONSPECIFIC_CURRENT i  RANGE g, e }
    PARAMETER { g = 0.001 (S/cm2)  e = -70 (mV) }
    ASSIGNED { v (mV)  i (mA/cm2) }
    BREAKPOINT { i = g * (v - e) }
    """
)


def write_mod(folder, name, text=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.mod").write_text(text if text is not None else LEAK_MOD.replace("{name}", name))
    return folder


def test_package_mechanisms_load_once(neuron_state):
    from neuron import h

    first = mechanisms.load()
    start = time.perf_counter()
    again = mechanisms.load()
    assert again == first
    assert time.perf_counter() - start < 0.05
    for name in ("AMPA_NMDA", "GABA_A"):
        assert hasattr(h, name)
    assert str(mechanisms.cache_dir()) in str(first)


def test_compile_error_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURON_ANN_CACHE", str(tmp_path / "cache"))
    bad = write_mod(tmp_path / "bad", "broken_leak", "NEURON { SUFFIX broken_leak }\nBREAKPOINT { i = g * (v - \n")
    with pytest.raises(MechanismError) as err:
        mechanisms.library_path([bad], include_package=False)
    text = str(err.value)
    assert "broken_leak.mod" in text
    assert "Fix the NMODL file" in text
    assert "compiler output" in text


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MechanismError, match="does not exist"):
        mechanisms.library_path([tmp_path / "nope"], include_package=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MechanismError, match="holds no .mod files"):
        mechanisms.library_path([tmp_path / "empty"], include_package=False)


def test_user_folder_compiles_into_cache_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURON_ANN_CACHE", str(tmp_path / "cache"))
    folder = write_mod(tmp_path / "user", "nann_test_leak_a")
    lib = mechanisms.library_path([folder], include_package=False)
    assert lib.exists() and str(tmp_path / "cache") in str(lib)
    start = time.perf_counter()
    assert mechanisms.library_path([folder], include_package=False) == lib
    assert time.perf_counter() - start < 1.0
    # an edit changes the hash and therefore the build
    write_mod(folder, "nann_test_leak_a", LEAK_MOD.replace("{name}", "nann_test_leak_a").replace("-70", "-71"))
    assert mechanisms.library_path([folder], include_package=False) != lib


def test_two_processes_compile_the_same_folder_at_once(tmp_path):
    folder = write_mod(tmp_path / "user", "nann_test_leak_b")
    code = (
        "import sys; from neuron_ann import mechanisms; "
        "print(mechanisms.library_path([sys.argv[1]], include_package=False))"
    )
    env = dict(os.environ, NEURON_ANN_CACHE=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(folder)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths = {out.strip().splitlines()[-1] for out, _ in outs}
    assert len(paths) == 1
    assert len(list((tmp_path / "cache" / "mech").glob("*/ok"))) == 1


def test_user_mechanisms_load_beside_package_ones(tmp_path, monkeypatch, neuron_state):
    from neuron import h

    folder = write_mod(tmp_path / "user", "nann_test_leak_c")
    # a fresh process: loading the user's folder with the package's, then again, must not clash
    code = textwrap.dedent(
        f"""
        from neuron import h
        from neuron_ann import mechanisms
        lib = mechanisms.load([{str(folder)!r}])
        assert mechanisms.load([{str(folder)!r}]) == lib
        s = h.Section(name="s"); s.insert("nann_test_leak_c"); s.insert("wbna")
        print("ok")
        """
    )
    env = dict(os.environ, NEURON_ANN_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_clash_with_other_library_is_explained(tmp_path, monkeypatch):
    # the user's folder redefines a package mechanism name: a clear error, not NEURON's abort
    folder = write_mod(tmp_path / "user", "wbna_copy", LEAK_MOD.replace("{name}", "wbna"))
    with pytest.raises(MechanismError, match=r"mechanism .wbna. is declared in both .*wb_na.mod.*wbna_copy.mod"):
        mechanisms.load([folder])


def test_user_versions_of_package_mechanisms_can_take_precedence(tmp_path):
    folder = write_mod(tmp_path / "model", "my_wbna", LEAK_MOD.replace("{name}", "wbna"))
    files = mechanisms.select_files([folder], include_package=True, override_package=True)
    names = [f.name for f in files]
    assert "my_wbna.mod" in names and "wb_na.mod" not in names
    assert "wb_k.mod" in names and "AMPA_NMDA.mod" in names
