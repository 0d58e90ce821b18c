COMMENT
Delayed-rectifier potassium current of the Wang-Buzsaki fast-spiking interneuron
(Wang & Buzsaki 1996, J Neurosci 16:6402, equations 5-6):
    I_K = gbar n^4 (v - ek),  dn/dt = phi (alpha_n (1-n) - beta_n n),
    alpha_n = 0.01 (v+34) / (1 - exp(-(v+34)/10)),  beta_n = 0.125 exp(-(v+44)/80),  phi = 5
Defaults: gbar 9 mS/cm2; the paper uses ek = -90 mV (set it on the section).
Written for neuron-ann.
ENDCOMMENT

NEURON {
    SUFFIX wbk
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    GLOBAL phi
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.009 (S/cm2)
    phi = 5 (1)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    alpha_n (/ms)
    beta_n (/ms)
}

STATE { n }

INITIAL {
    rates(v)
    n = alpha_n / (alpha_n + beta_n)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * n * n * n * n
    ik = g * (v - ek)
}

DERIVATIVE states {
    rates(v)
    n' = phi * (alpha_n * (1 - n) - beta_n * n)
}

PROCEDURE rates(v (mV)) {
    LOCAL x
    x = v + 34
    if (fabs(x) < 1e-6) {
        alpha_n = 0.1 : limit of 0.01 x / (1 - exp(-x/10)) as x -> 0
    } else {
        alpha_n = 0.01 * x / (1 - exp(-x / 10))
    }
    beta_n = 0.125 * exp(-(v + 44) / 80)
}
