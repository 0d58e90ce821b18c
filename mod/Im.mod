COMMENT
Im: muscarinic (M-type, KCNQ) slow non-inactivating K+ current.

Source: Adams PR, Brown DA & Constanti A (1982) M-currents and other potassium currents
in bullfrog sympathetic neurones. J Physiol 330:537-572 (rates at 21 degC), as used
by Hay E, Hill S, Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol 7:e1002107.

    i = gbar m (v - ek)
    alpha_m = 3.3e-3 exp( 0.1 (v+35))   (/ms)
    beta_m  = 3.3e-3 exp(-0.1 (v+35))   (/ms)
    m_inf = alpha/(alpha+beta), tau_m = 1/(alpha+beta)/qt,  qt = 2.3^((34-21)/10)

Rates fixed at 34 degC. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX Im
    USEION k READ ek WRITE ik
    RANGE gImbar, gIm
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gImbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gIm (S/cm2)
    mInf (1)
    mTau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gIm = gImbar * m
    ik = gIm * (v - ek)
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
    LOCAL qt, a, b
    UNITSOFF
    qt = 2.3^((34 - 21) / 10)
    a = 3.3e-3 * exp(0.1 * (vm + 35))
    b = 3.3e-3 * exp(-0.1 * (vm + 35))
    mInf = a / (a + b)
    mTau = 1 / (a + b) / qt
    UNITSON
}
