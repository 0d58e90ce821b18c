COMMENT
neuron-ann bridge: captures the events of the user's NetCons that targeted a synapse of a
swapped cell. Each delivered event adds its NetCon weight (uS) to one slot of a contiguous
input buffer (a hoc Vector) through a POINTER; the bridge reads and zeros the buffer at
every exchange step. Capturing in NMODL keeps the per-event cost in C++.
ENDCOMMENT

NEURON {
    ARTIFICIAL_CELL ANNInput
    THREADSAFE : before POINTER: nocmodl reads the block in order
    POINTER acc
}

ASSIGNED {
    acc
}

NET_RECEIVE(w) {
    acc = acc + w
}
