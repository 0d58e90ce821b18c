COMMENT
Excitatory synapse: AMPA and NMDA conductances, each a difference of exponentials,
driven by the same presynaptic event. NMDA carries a voltage-dependent Mg2+ block
(Jahr & Stevens 1990, J Neurosci 10:3178):
    B(v) = 1 / (1 + exp(-0.062 v) [Mg]o / 3.57)
AMPA kinetics (rise 0.2 ms, decay 1.7 ms) and NMDA kinetics (rise 2 ms, decay 43 ms)
are in the range used for cortical pyramidal cells by Hay & Segev 2015 (Cereb Cortex
25:3561). The NetCon weight is the peak AMPA conductance in uS; NMDA peaks at
NMDA_ratio times that (before the Mg block).
Written for neuron-ann.
ENDCOMMENT

NEURON {
    POINT_PROCESS AMPA_NMDA
    RANGE tau_r_AMPA, tau_d_AMPA, tau_r_NMDA, tau_d_NMDA, NMDA_ratio, e, mg
    RANGE i, i_AMPA, i_NMDA, g_AMPA, g_NMDA
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
    (mM) = (milli/liter)
}

PARAMETER {
    tau_r_AMPA = 0.2 (ms)
    tau_d_AMPA = 1.7 (ms)
    tau_r_NMDA = 2 (ms)
    tau_d_NMDA = 43 (ms)
    NMDA_ratio = 0.7 (1)
    e = 0 (mV)
    mg = 1 (mM)
}

ASSIGNED {
    v (mV)
    i (nA)
    i_AMPA (nA)
    i_NMDA (nA)
    g_AMPA (uS)
    g_NMDA (uS)
    factor_AMPA (1)
    factor_NMDA (1)
}

STATE {
    A_AMPA (uS)
    B_AMPA (uS)
    A_NMDA (uS)
    B_NMDA (uS)
}

INITIAL {
    A_AMPA = 0
    B_AMPA = 0
    A_NMDA = 0
    B_NMDA = 0
    factor_AMPA = peak_factor(tau_r_AMPA, tau_d_AMPA)
    factor_NMDA = peak_factor(tau_r_NMDA, tau_d_NMDA)
}

BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    g_AMPA = B_AMPA - A_AMPA
    g_NMDA = (B_NMDA - A_NMDA) * mg_block(v)
    i_AMPA = g_AMPA * (v - e)
    i_NMDA = g_NMDA * (v - e)
    i = i_AMPA + i_NMDA
}

DERIVATIVE kinetics {
    A_AMPA' = -A_AMPA / tau_r_AMPA
    B_AMPA' = -B_AMPA / tau_d_AMPA
    A_NMDA' = -A_NMDA / tau_r_NMDA
    B_NMDA' = -B_NMDA / tau_d_NMDA
}

FUNCTION peak_factor(tau_r (ms), tau_d (ms)) (1) {
    : scale so that a unit event gives a conductance peak of exactly 1
    LOCAL t_peak
    t_peak = (tau_r * tau_d) / (tau_d - tau_r) * log(tau_d / tau_r)
    peak_factor = 1 / (-exp(-t_peak / tau_r) + exp(-t_peak / tau_d))
}

FUNCTION mg_block(v (mV)) (1) {
    mg_block = 1 / (1 + exp(-0.062 (/mV) * v) * (mg / 3.57 (mM)))
}

NET_RECEIVE(weight (uS)) {
    A_AMPA = A_AMPA + weight * factor_AMPA
    B_AMPA = B_AMPA + weight * factor_AMPA
    A_NMDA = A_NMDA + weight * NMDA_ratio * factor_NMDA
    B_NMDA = B_NMDA + weight * NMDA_ratio * factor_NMDA
}
