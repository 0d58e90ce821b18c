COMMENT
Ih: hyperpolarisation-activated cation current (HCN), non-specific, reversal -45 mV.

Source: Kole MHP, Hallermann S & Stuart GJ (2006) Single Ih channels in pyramidal
neuron dendrites: properties, distribution, and impact on action potential output.
J Neurosci 26:1677-1687, with the rate functions used by Hay E, Hill S,
Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol 7:e1002107 (no temperature
correction).

    i = gbar m (v - ehcn)
    alpha_m = 0.00643 (v+154.9) / (exp((v+154.9)/11.9) - 1)   (/ms)
    beta_m  = 0.193 exp(v/33.1)                                (/ms)
    m_inf = alpha/(alpha+beta), tau_m = 1/(alpha+beta)

Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX Ih
    NONSPECIFIC_CURRENT ihcn
    RANGE gIhbar, gIh, ehcn
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gIhbar = 0.00001 (S/cm2)
    ehcn = -45.0 (mV)
}

ASSIGNED {
    v (mV)
    ihcn (mA/cm2)
    gIh (S/cm2)
    mInf (1)
    mTau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gIh = gIhbar * m
    ihcn = gIh * (v - ehcn)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
}

INITIAL {
    rates(v)
    m = mInf
}

PROCEDURE rates(vm (mV)) {
    LOCAL a, b, x
    UNITSOFF
    x = vm + 154.9
    if (fabs(x / 11.9) < 1e-6) {
        a = 0.00643 * (11.9 - x / 2)
    } else {
        a = 0.00643 * x / (exp(x / 11.9) - 1)
    }
    b = 0.193 * exp(vm / 33.1)
    mInf = a / (a + b)
    mTau = 1 / (a + b)
    UNITSON
}
