COMMENT
neuron-ann bridge: integrates a current source on a swapped soma (an IClamp's i, through
a POINTER) into one slot of the bridge's current buffer, once per NEURON step:
acc += i * dt (nA ms). The bridge divides by the exchange step to get the mean current.
ENDCOMMENT

NEURON {
    POINT_PROCESS ANNCurrent
    THREADSAFE : before POINTER: nocmodl reads the block in order
    POINTER src, acc
}

UNITS {
    (nA) = (nanoamp)
}

ASSIGNED {
    src (nA)
    dt (ms)
    acc
}

AFTER SOLVE {
    acc = acc + src * dt
}
