"""Under mpiexec -n 2 each rank swaps its own cells and the spike raster equals the one-rank run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tiny_bundles as tb

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "mpi_ring.py"


def _mpi_setup():
    mpiexec = Path(sys.executable).parent / "mpiexec"
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    lib = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if not mpiexec:
        pytest.skip("mpiexec not found: pip install mpich mpi4py into this environment")
    if not lib.exists():
        pytest.skip(f"{lib} not found: pip install mpich into this environment (NEURON needs libmpi for nrnmpi_init)")
    env = dict(os.environ, MPI_LIB_NRN_PATH=str(lib))
    return mpiexec, env


def _run(cmd, env, out):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.mpi
def test_two_ranks_equal_one_rank(tmp_path):
    mpiexec, env = _mpi_setup()
    bundle = tb.ballhh_bundle(tmp_path / "ball.onnx", threshold=0.3)
    one = _run([sys.executable, str(SCRIPT), str(bundle), str(tmp_path / "one.json")], env, tmp_path / "one.json")
    two = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(bundle), str(tmp_path / "two.json")], env, tmp_path / "two.json")
    assert one["nhost"] == 1 and two["nhost"] == 2
    assert len(one["raster"]) > 10
    assert {g for _, g in one["raster"]} == set(range(6))
    assert two["raster"] == one["raster"]
