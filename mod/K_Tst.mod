COMMENT
K_Tst: fast-inactivating ("transient", A-type) K+ current.

Source: Korngreen A & Sakmann B (2000) Voltage-gated K+ channels in layer 5 neocortical
pyramidal neurones from young rats: subtypes and gradients. J Physiol 525:621-639
(fast component, measured at 21 degC), shifted by -10 mV to correct for the liquid
junction potential, as used by Hay E, Hill S, Schuermann F, Markram H & Segev I
(2011) PLoS Comput Biol 7:e1002107.

    i = gbar m^4 h (v - ek)
    m_inf = 1 / (1 + exp(-v/19))
    tau_m = (0.34 + 0.92 exp(-((v+71)/59)^2)) / qt
    h_inf = 1 / (1 + exp((v+66)/10))
    tau_h = (8 + 49 exp(-((v+73)/23)^2)) / qt,  qt = 2.3^((34-21)/10)

Rates fixed at 34 degC. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX K_Tst
    USEION k READ ek WRITE ik
    RANGE gK_Tstbar, gK_Tst
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Tstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gK_Tst (S/cm2)
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
    gK_Tst = gK_Tstbar * m * m * m * m * h
    ik = gK_Tst * (v - ek)
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
    mInf = 1 / (1 + exp(-vm / 19))
    mTau = (0.34 + 0.92 * exp(-((vm + 71) / 59)^2)) / qt
    hInf = 1 / (1 + exp((vm + 66) / 10))
    hTau = (8 + 49 * exp(-((vm + 73) / 23)^2)) / qt
    UNITSON
}
