"""Under mpiexec -n 2 each rank swaps its own cells and the spike raster equals the one-rank run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


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


def _expected_ring_raster(ring_delay=1.5, tstop=30.0, n=6, dt=1.0, later=None):
    """The ring's raster by hand under format 2: input truly arriving in [k, k+1) -> spike at k + 0.5 (threshold 0.3);
    ``later``: the gid-1 links' delay for spikes from tstop / 2 on."""
    import numpy as np

    arrivals = {g: [] for g in range(n)}  # gid -> [(true arrival time, weight)]
    arrivals[0] += [(0.4 + 4.0 * i + 1.0, 0.5) for i in range(6)]
    spikes = []
    for k in range(int(tstop / dt)):  # intervals in order; spikes only reach later intervals (delays >= dt)
        for g in range(n):
            total = sum(w for t, w in arrivals[g] if int(np.floor(t / dt + 1e-9)) == k)
            if total >= 0.3 - 1e-6:
                t_spike = k * dt + dt / 2
                spikes.append((t_spike, g))
                delay = later if later is not None and t_spike >= tstop / 2 else ring_delay
                arrivals[(g + 1) % n].append((t_spike + delay, 0.35))
                arrivals[(g + 2) % n].append((t_spike + 2.25, 0.1))
    return sorted(s for s in spikes if s[0] <= tstop)


@pytest.mark.mpi
def test_two_ranks_equal_one_rank(tmp_path, ball_path):
    mpiexec, env = _mpi_setup()
    one = _run([sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "one.json")], env, tmp_path / "one.json")
    two = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "two.json")], env, tmp_path / "two.json")
    # pc.set_maxstep before the swap: NEURON's spike exchange interval (the minimum cross-rank
    # delay) must be the shortened 1.4 ms, not the user's 2.4 ms, or a spike at 5.5 that arrives
    # at 7.9 (captured at 6.9) would reach the capture only at the exchange at 7.2, a row late
    early = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "early.json"), "--maxstep-first",
                  "--ring-delay", "2.4"], env, tmp_path / "early.json")
    assert one["nhost"] == 1 and two["nhost"] == 2 and early["nhost"] == 2
    assert len(one["raster"]) > 10
    assert {g for _, g in one["raster"]} == set(range(6))
    for got, ring_delay in ((one, 1.5), (early, 2.4)):
        expected = _expected_ring_raster(ring_delay)
        assert [g for _, g in got["raster"]] == [g for _, g in expected]
        assert all(abs(a[0] - b[0]) < 1e-9 for a, b in zip(got["raster"], expected))
    assert [7.5, 1] in [[round(t, 6), g] for t, g in early["raster"]]
    assert two["raster"] == one["raster"]


@pytest.mark.mpi
def test_direct_delivery_on_two_ranks_equals_one_rank(tmp_path, ball_path):
    """direct_delivery=True: on 2 ranks the gid-2 links are local (delivered by the runtime), the gid-1 links cross ranks."""
    mpiexec, env = _mpi_setup()
    one = _run([sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "one.json"), "--direct"], env, tmp_path / "one.json")
    two = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "two.json"), "--direct"], env,
               tmp_path / "two.json")
    assert one["direct_connections"] == [12]  # 6 cells x (gid-1, gid-2)
    assert two["direct_connections"] == [3, 3]  # per rank: its 3 cells' gid-2 links
    assert one["relayed_connections"] == [1] and two["relayed_connections"] == [1, 0]  # the NetStim onto gid 0 (rank 0)
    expected = _expected_ring_raster(1.5)
    assert [g for _, g in one["raster"]] == [g for _, g in expected]
    assert all(abs(a[0] - b[0]) < 1e-9 for a, b in zip(one["raster"], expected))
    assert two["raster"] == one["raster"]


@pytest.mark.mpi
@pytest.mark.parametrize("direct", [False, True])
def test_ring_connected_after_the_swap_on_two_ranks(tmp_path, ball_path, direct):
    """Each rank swaps its cells first and then makes the ring's gid_connects and the drive with
    neuron_ann.gid_connect / neuron_ann.NetCon: the raster of the ring connected before the swap."""
    mpiexec, env = _mpi_setup()
    options = ["--connect-after"] + (["--direct"] if direct else [])
    two = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "two.json"), *options], env,
               tmp_path / "two.json")
    expected = _expected_ring_raster(1.5)
    assert two["nhost"] == 2 and len(expected) > 10
    assert [g for _, g in two["raster"]] == [g for _, g in expected]
    assert all(abs(a[0] - b[0]) < 1e-9 for a, b in zip(two["raster"], expected))
    if direct:  # as when connected before the swap: the local gid-2 links delivered directly, the NetStim relayed
        assert two["direct_connections"] == [3, 3] and two["relayed_connections"] == [1, 0]


@pytest.mark.mpi
def test_delay_set_between_two_psolve_on_two_ranks(tmp_path, ball_path):
    """neuron_ann.bridge.set_delay between two pc.psolve calls on the ring's links (local and across ranks):
    the hand-computed raster, on one rank and on two."""
    mpiexec, env = _mpi_setup()
    options = ["--ring-delay-later", "2.6"]
    one = _run([sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "one.json"), *options], env, tmp_path / "one.json")
    two = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "two.json"), *options], env,
               tmp_path / "two.json")
    expected = _expected_ring_raster(1.5, later=2.6)
    assert expected != _expected_ring_raster(1.5) and len(expected) > 10
    for got in (one, two):
        assert [g for _, g in got["raster"]] == [g for _, g in expected]
        assert all(abs(a[0] - b[0]) < 1e-9 for a, b in zip(got["raster"], expected))


@pytest.mark.mpi
def test_cross_rank_delay_of_one_exchange_step_refused(tmp_path, ball_path):
    """Across ranks a delay of exactly dt_ms would be shortened to ~0, which NEURON's spike exchange cannot carry."""
    mpiexec, env = _mpi_setup()
    cmd = [mpiexec, "-n", "2", sys.executable, str(SCRIPT), str(ball_path), str(tmp_path / "x.json"), "--ring-delay", "1.0"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and not (tmp_path / "x.json").exists(), text[-3000:]
    assert "SwapError" in text and "brings spikes of gid" in text, text[-3000:]
    assert "from another MPI rank onto a swapped BallHH with delay 1 ms" in text
    assert "make this delay longer than 1.025 ms" in text
