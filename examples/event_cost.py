"""What one NetCon event costs NEURON itself, with no surrogate running: the target of the
bench's inputs after a swap (ANNInput, which only adds the weight to a buffer slot).

    python examples/event_cost.py [POOL] [--stamped]

300 empty sections stand in for swapped somas; 60,000 ANNInputs (200 per section) each get
one NetCon (delay 1 ms) from a pool of POOL Poisson NetStims at 12.5 Hz, as in
``neuron-ann bench``. Runs 1 s at dt 0.025 ms and prints the wall time per delivered event
(the sections' own steps, about 0.2 s here, included). Compare ``examples/connectivity_cost.py``,
which measures the same cost per event inside the swapped bench network. With ``--stamped``
each NetCon carries its address and delay as the bridge's captured NetCons do, so that each
event also compares the NetCon's delay with the one stamped (``ANNInput.stamp``).
"""
import sys
import time

import numpy as np
from neuron import h

from neuron_ann import mechanisms
from neuron_ann.bridge.inputs import delay_alarm

N_SECTIONS, PER_SECTION, RATE_HZ = 300, 200, 12.5


def main(pool: int, stamped: bool = False) -> None:
    mechanisms.load()
    h.load_file("stdrun.hoc")
    rng = np.random.default_rng(1)
    alarm = delay_alarm()  # also points the ANNInputs' alarm at it, so that they compare delays
    sections = [h.Section(name=f"soma{i}") for i in range(N_SECTIONS)]
    buffer = h.Vector(N_SECTIONS * PER_SECTION)
    stims = []
    for i in range(pool):
        stim = h.NetStim()
        stim.interval, stim.number, stim.start, stim.noise = 1000.0 / RATE_HZ, 1e9, 0, 1
        stim.noiseFromRandom123(1, i, 0)
        stims.append(stim)
    keep = []
    for slot in range(N_SECTIONS * PER_SECTION):
        target = h.ANNInput()
        h.setpointer(buffer._ref_x[slot], "acc", target)
        nc = h.NetCon(stims[int(rng.integers(pool))], target)
        nc.delay, nc.weight[0] = 1.0, 1e-4
        if stamped:
            target.stamp(nc)
        keep += [target, nc]
    fired = h.Vector()
    counters = [h.NetCon(stim, None) for stim in stims]
    for nc in counters:
        nc.record(fired)
    h.dt = 0.025
    h.finitialize(-65)
    start = time.perf_counter()
    h.continuerun(1000)
    wall = time.perf_counter() - start
    events = fired.size() * len(keep) / 2 / pool
    if stamped:
        assert alarm[0] == 0.0, "an ANNInput saw a delay other than the stamped one"
    print(f"{len(keep) // 2}{' stamped' if stamped else ''} NetCons from {pool} NetStims: {wall:.2f} s for about {events / 1e6:.2f} M events, "
          f"{wall / events * 1e9:.0f} ns per event")
    del sections


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--stamped"]
    main(int(args[0]) if args else 50, "--stamped" in sys.argv[1:])
