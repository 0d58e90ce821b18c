COMMENT
K_Pst: slowly inactivating ("persistent") K+ current.

Source: Korngreen A & Sakmann B (2000) Voltage-gated K+ channels in layer 5 neocortical
pyramidal neurones from young rats: subtypes and gradients. J Physiol 525:621-639
(slow component, measured at 21 degC), activation and inactivation curves shifted by
-10 mV to correct for the liquid junction potential, as used by Hay E, Hill S,
Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol 7:e1002107.

    i = gbar m^2 h (v - ek)
    m_inf = 1 / (1 + exp(-(v+1)/12))
    tau_m = (1.25 + 175.03 exp(0.026 v)) / qt     for v < -50 mV
            (1.25 + 13 exp(-0.026 v)) / qt        otherwise
    h_inf = 1 / (1 + exp((v+54)/11))
    tau_h = (360 + (1010 + 24 (v+55)) exp(-((v+75)/48)^2)) / qt,  qt = 2.3^((34-21)/10)

Rates fixed at 34 degC. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX K_Pst
    USEION k READ ek WRITE ik
    RANGE gK_Pstbar, gK_Pst
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Pstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gK_Pst (S/cm2)
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
    gK_Pst = gK_Pstbar * m * m * h
    ik = gK_Pst * (v - ek)
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
    LOCAL qt
    UNITSOFF
    qt = 2.3^((34 - 21) / 10)
    mInf = 1 / (1 + exp(-(vm + 1) / 12))
    if (vm < -50) {
        mTau = (1.25 + 175.03 * exp(0.026 * vm)) / qt
    } else {
        mTau = (1.25 + 13 * exp(-0.026 * vm)) / qt
    }
    hInf = 1 / (1 + exp((vm + 54) / 11))
    hTau = (360 + (1010 + 24 * (vm + 55)) * exp(-((vm + 75) / 48)^2)) / qt
    UNITSON
}
