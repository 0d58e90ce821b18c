COMMENT
Nap_Et2: persistent (slowly inactivating) Na+ current of the axon initial segment.

Source: Magistretti J & Alonso A (1999) Biophysical properties and slow voltage-
dependent inactivation of a sustained sodium current in entorhinal cortex layer-II
principal neurons. J Gen Physiol 114:491-509 (steady-state curves and inactivation
rates at 21 degC); activation time constant taken 6x that of the Colbert & Pan
(2002) transient current; as used by Hay E, Hill S, Schuermann F, Markram H &
Segev I (2011) PLoS Comput Biol 7:e1002107.

    i = gbar m^3 h (v - ena)
    m_inf = 1 / (1 + exp(-(v+52.6)/4.6))
    tau_m = 6 / (alpha_m + beta_m) / qt, alpha_m, beta_m of NaTa_t (half point -38 mV)
    h_inf = 1 / (1 + exp((v+48.8)/10))
    alpha_h = 2.88e-6 (-(v+17)) / (1 - exp((v+17)/4.63))
    beta_h  = 6.94e-6 (v+64.4) / (1 - exp(-(v+64.4)/2.63))
    tau_h = 1 / (alpha_h + beta_h) / qt,  qt = 2.3^((34-21)/10)

Rates fixed at 34 degC. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX Nap_Et2
    USEION na READ ena WRITE ina
    RANGE gNap_Et2bar, gNap_Et2
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNap_Et2bar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    gNap_Et2 (S/cm2)
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
    gNap_Et2 = gNap_Et2bar * m * m * m * h
    ina = gNap_Et2 * (v - ena)
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
    mInf = 1 / (1 + exp(-(vm + 52.6) / 4.6))
    a = 0.182 * xexp(vm + 38, 6)
    b = 0.124 * xexp(-(vm + 38), 6)
    mTau = 6 / (a + b) / qt
    hInf = 1 / (1 + exp((vm + 48.8) / 10))
    a = 2.88e-6 * xexp(-(vm + 17), 4.63)
    b = 6.94e-6 * xexp(vm + 64.4, 2.63)
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
