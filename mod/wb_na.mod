COMMENT
Fast sodium current of the Wang-Buzsaki fast-spiking interneuron
(Wang & Buzsaki 1996, J Neurosci 16:6402, equations 2-4):
    I_Na = gbar m_inf^3 h (v - ena),  m instantaneous,
    alpha_m = 0.1 (v+35) / (1 - exp(-(v+35)/10)),  beta_m = 4 exp(-(v+60)/18)
    dh/dt = phi (alpha_h (1-h) - beta_h h),
    alpha_h = 0.07 exp(-(v+58)/20),  beta_h = 1 / (1 + exp(-(v+28)/10)),  phi = 5
Defaults: gbar 35 mS/cm2; the paper uses ena = 55 mV (set it on the section).
Written for neuron-ann.
ENDCOMMENT

NEURON {
    SUFFIX wbna
    USEION na READ ena WRITE ina
    RANGE gbar, g, ina
    GLOBAL phi
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.035 (S/cm2)
    phi = 5 (1)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    g (S/cm2)
    minf (1)
    alpha_h (/ms)
    beta_h (/ms)
}

STATE { h }

INITIAL {
    rates(v)
    h = alpha_h / (alpha_h + beta_h)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * minf * minf * minf * h
    ina = g * (v - ena)
}

DERIVATIVE states {
    rates(v)
    h' = phi * (alpha_h * (1 - h) - beta_h * h)
}

PROCEDURE rates(v (mV)) {
    LOCAL am, bm, x
    x = v + 35
    if (fabs(x) < 1e-6) {
        am = 1 : limit of 0.1 x / (1 - exp(-x/10)) as x -> 0
    } else {
        am = 0.1 * x / (1 - exp(-x / 10))
    }
    bm = 4 * exp(-(v + 60) / 18)
    minf = am / (am + bm)
    alpha_h = 0.07 * exp(-(v + 58) / 20)
    beta_h = 1 / (1 + exp(-(v + 28) / 10))
}
