COMMENT
NaTa_t: fast-inactivating (transient) Na+ current of the axon initial segment.

Source of the kinetics: Colbert CM & Pan E (2002) Ion channel properties underlying
axonal action potential initiation in pyramidal neurons. Nat Neurosci 5:533-538
(rate functions measured at 21 degC), as used for the axon of the layer-5 pyramidal
cell model of Hay E, Hill S, Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol
7:e1002107.

    i = gbar m^3 h (v - ena)
    alpha_m =  0.182 (v+38) / (1 - exp(-(v+38)/6))     beta_m = 0.124 (-(v+38)) / (1 - exp((v+38)/6))
    alpha_h =  0.015 (-(v+66)) / (1 - exp((v+66)/6))   beta_h = 0.015 (v+66) / (1 - exp(-(v+66)/6))
    x_inf = alpha/(alpha+beta), tau_x = 1/(alpha+beta) / qt,  qt = 2.3^((34-21)/10)

The rates are fixed at 34 degC (the temperature of Hay et al. 2011) regardless of
NEURON's celsius. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX NaTa_t
    USEION na READ ena WRITE ina
    RANGE gNaTa_tbar, gNaTa_t
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNaTa_tbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    gNaTa_t (S/cm2)
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
    gNaTa_t = gNaTa_tbar * m * m * m * h
    ina = gNaTa_t * (v - ena)
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
    LOCAL qt, a, b
    UNITSOFF
    qt = 2.3^((34 - 21) / 10)
    a = 0.182 * xexp(vm + 38, 6)
    b = 0.124 * xexp(-(vm + 38), 6)
    mInf = a / (a + b)
    mTau = 1 / (a + b) / qt
    a = 0.015 * xexp(-(vm + 66), 6)
    b = 0.015 * xexp(vm + 66, 6)
    hInf = a / (a + b)
    hTau = 1 / (a + b) / qt
    UNITSON
}

FUNCTION xexp(x, k) {
    : x / (1 - exp(-x/k)), continuous at x = 0 where it equals k
    if (fabs(x / k) < 1e-6) {
        xexp = k + x / 2
    } else {
        xexp = x / (1 - exp(-x / k))
    }
}
