COMMENT
Ca_HVA: high-voltage-activated Ca2+ current (L-type like).

Source: Reuveni I, Friedman A, Amitai Y & Gutnick MJ (1993) Stepwise repolarization
from Ca2+ plateaus in neocortical pyramidal cells: evidence for nonhomogeneous
distribution of HVA Ca2+ channels in dendrites. J Neurosci 13:4609-4621, as used by
Hay E, Hill S, Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol 7:e1002107
(no temperature correction).

    i = gbar m^2 h (v - eca)
    alpha_m = 0.055 (-27-v) / (exp((-27-v)/3.8) - 1)    beta_m = 0.94 exp((-75-v)/17)
    alpha_h = 0.000457 exp((-13-v)/50)                 beta_h = 0.0065 / (exp((-v-15)/28) + 1)

Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX Ca_HVA
    USEION ca READ eca WRITE ica
    RANGE gCa_HVAbar, gCa_HVA
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gCa_HVAbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
    gCa_HVA (S/cm2)
    mInf (1)
    mTau (ms)
    hInf (1)
    hTau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gCa_HVA = gCa_HVAbar * m * m * h
    ica = gCa_HVA * (v - eca)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
    h' = (hInf - h) / hTau
}

INITIAL {
    rates(v)
    m = mInf
    h = hInf
}

PROCEDURE rates(vm (mV)) {
    LOCAL a, b, x
    UNITSOFF
    x = -27 - vm
    if (fabs(x / 3.8) < 1e-6) {
        a = 0.055 * (3.8 - x / 2)
    } else {
        a = 0.055 * x / (exp(x / 3.8) - 1)
    }
    b = 0.94 * exp((-75 - vm) / 17)
    mInf = a / (a + b)
    mTau = 1 / (a + b)
    a = 0.000457 * exp((-13 - vm) / 50)
    b = 0.0065 / (exp((-vm - 15) / 28) + 1)
    hInf = a / (a + b)
    hTau = 1 / (a + b)
    UNITSON
}
