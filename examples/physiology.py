"""Print each bundled cell's resting potential, input resistance and f-I points.

    python examples/physiology.py [BallHH PVBasket L5PC]

Each cell runs at its own temperature (``cls.celsius``); f-I points are mean rates over
1 s somatic current steps. L5PC's dendritic protocols (bAP, Ca spike, BAC firing) are in
``python -m neuron_ann.cells.l5pc --physiology``.
"""

import sys

from neuron import h

from neuron_ann import physiology
from neuron_ann.cells import get_cell_class

#: step amplitudes (nA) per cell type, spanning rheobase to strong drive
FI_AMPS = {"BallHH": [0.1, 0.15, 0.2, 0.3, 0.5], "PVBasket": [0.05, 0.1, 0.2, 0.4, 0.8], "L5PC": [0.4, 0.6, 0.8, 1.0, 1.5]}
V_INIT = {"BallHH": -65.0, "PVBasket": -65.0, "L5PC": -75.0}


def main(names):
    h.load_file("stdrun.hoc")
    for name in names:
        cls = get_cell_class(name)
        h.celsius = cls.celsius
        cell = cls()
        rest = physiology.resting_potential(cell, v_init=V_INIT[name])
        r_in = physiology.input_resistance(cell, amp_nA=-0.05 if name == "L5PC" else -0.01, v_init=V_INIT[name])
        rates = physiology.fi_curve(cell, FI_AMPS[name], dur_ms=1000.0, v_init=V_INIT[name])
        points = ", ".join(f"{a:g} nA: {r:.0f} Hz" for a, r in zip(FI_AMPS[name], rates))
        print(f"{name} ({cls.celsius:g} degC): rest {rest:.2f} mV, input resistance {r_in:.1f} MOhm, f-I {points}", flush=True)
        del cell
        for sec in list(h.allsec()):
            h.delete_section(sec=sec)


if __name__ == "__main__":
    main(sys.argv[1:] or ["BallHH", "PVBasket", "L5PC"])
