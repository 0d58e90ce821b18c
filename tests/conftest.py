"""Shared fixtures: every test starts from an empty NEURON model."""

import os

import pytest

os.environ.setdefault("NEURON_ANN_LOG", "warning")


#: the bridge's warning when it finds a delay set during a run (SwapHandle._take_up_delays)
DELAY_SET_DURING_RUN = "a delay was set during the run"


@pytest.fixture(autouse=True)
def neuron_state(request, caplog):
    """Reset NEURON's global state around each test and check nothing is left behind; and that the
    bridge saw no delay set during a run where the test set none (marker ``delay_set_during_run``):
    a delay the bridge sets itself must never look like the user's."""
    from neuron import h

    import neuron_ann.mechanisms

    neuron_ann.mechanisms.load()
    h.load_file("stdrun.hoc")
    _reset(h)
    yield h
    _reset(h)
    assert len(list(h.allsec())) == 0, "a test left sections behind"
    if request.node.get_closest_marker("delay_set_during_run") is None:
        assert not [r for r in caplog.get_records("call") if DELAY_SET_DURING_RUN in r.getMessage()], "the bridge saw a delay change"


def _reset(h):
    import gc
    import sys

    # a NetCon kept alive past its test (by a traceback, say) crashes NEURON's next
    # finitialize once its sections are gone: collect such leftovers first
    gc.collect()

    bridge = sys.modules.get("neuron_ann.bridge")
    if bridge is not None and hasattr(bridge, "_reset_for_tests"):
        bridge._reset_for_tests()
    h.CVode().active(0)
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    h.dt = 0.025
    h.celsius = 6.3
    h.tstop = 5
    h.t = 0


@pytest.fixture(scope="session")
def ball_path(tmp_path_factory):
    """A tiny exact BallHH bundle (tests/tiny_bundles.py) that fires when a step's input reaches 0.3."""
    import tiny_bundles as tb

    return tb.ballhh_bundle(tmp_path_factory.mktemp("b") / "ball.onnx", threshold=0.3)
