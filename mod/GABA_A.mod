COMMENT
Inhibitory GABA_A synapse: a difference-of-exponentials conductance (rise 0.5 ms,
decay 8 ms, reversal -75 mV), values in the range measured for fast-spiking
interneuron to pyramidal cell synapses in neocortex (Gupta, Wang & Markram 2000,
Science 287:273; Hay & Segev 2015, Cereb Cortex 25:3561). The NetCon weight is the
peak conductance in uS.
Written for neuron-ann.
ENDCOMMENT

NEURON {
    POINT_PROCESS GABA_A
    RANGE tau_r, tau_d, e, i, g
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau_r = 0.5 (ms)
    tau_d = 8 (ms)
    e = -75 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor (1)
}

STATE {
    A (uS)
    B (uS)
}

INITIAL {
    LOCAL t_peak
    A = 0
    B = 0
    t_peak = (tau_r * tau_d) / (tau_d - tau_r) * log(tau_d / tau_r)
    factor = 1 / (-exp(-t_peak / tau_r) + exp(-t_peak / tau_d))
}

BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    g = B - A
    i = g * (v - e)
}

DERIVATIVE kinetics {
    A' = -A / tau_r
    B' = -B / tau_d
}

NET_RECEIVE(weight (uS)) {
    A = A + weight * factor
    B = B + weight * factor
}
