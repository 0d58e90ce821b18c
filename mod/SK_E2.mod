COMMENT
SK_E2: small-conductance Ca2+-activated K+ current (SK2), voltage independent.

Source: Koehler M, Hirschberg B, Bond CT, Kinzie JM, Marrion NV, Maylie J & Adelman JP
(1996) Small-conductance, calcium-activated potassium channels from mammalian brain.
Science 273:1709-1714 (Hill fit of the Ca2+ dependence: EC50 0.43 uM, Hill
coefficient 4.8), as used by Hay E, Hill S, Schuermann F, Markram H & Segev I (2011)
PLoS Comput Biol 7:e1002107.

    i = gbar z (v - ek)
    z_inf = 1 / (1 + (0.00043 mM / cai)^4.8),  tau_z = 1 ms

Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX SK_E2
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gSK_E2bar, gSK_E2, zTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
    (mM) = (milli/liter)
}

PARAMETER {
    gSK_E2bar = 0.000001 (S/cm2)
    zTau = 1 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    gSK_E2 (S/cm2)
    zInf (1)
}

STATE {
    z
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gSK_E2 = gSK_E2bar * z
    ik = gSK_E2 * (v - ek)
}

DERIVATIVE states {
    rates(cai)
    z' = (zInf - z) / zTau
}

INITIAL {
    rates(cai)
    z = zInf
}

PROCEDURE rates(ca (mM)) {
    LOCAL c
    UNITSOFF
    c = ca
    if (c < 1e-7) {
        c = c + 1e-7 : keeps the Hill function finite at zero calcium
    }
    zInf = 1 / (1 + (0.00043 / c)^4.8)
    UNITSON
}
