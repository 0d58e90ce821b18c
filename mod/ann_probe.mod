COMMENT
neuron-ann bridge: writes `value`, or the variable its POINTER `source` points at when set,
into the NEURON variable its POINTER `target` points at, each time NEURON computes currents
(its BREAKPOINT), which is after NEURON has zeroed the ion currents (an initialization
handler or an INITIAL block writes too early for an ion current).
- Probing recordings: one per probed variable with a sentinel `value`, for one h.finitialize;
  a Vector whose sample at t = 0 is a sentinel records that variable.
- An ion current readout (ina, ik) of a swapped cell: `source` is its ANNReadout's value, so
  that the sample NEURON records at t = 0 is the readout's (the ANNReadout writes the
  variable after every step, after this).
Its current is always 0: it changes nothing else.
ENDCOMMENT

NEURON {
    POINT_PROCESS ANNProbe
    THREADSAFE : before POINTER: nocmodl reads the block in order
    RANGE value
    NONSPECIFIC_CURRENT i
    POINTER target, source
}

UNITS {
    (nA) = (nanoamp)
}

PARAMETER {
    value = 0
}

ASSIGNED {
    i (nA)
    target
    source
}

BREAKPOINT {
    i = 0
    if (nrn_pointing(target)) {
        if (nrn_pointing(source)) {
            target = source
        } else {
            target = value
        }
    }
}
