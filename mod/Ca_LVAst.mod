COMMENT
Ca_LVAst: low-voltage-activated (T-type) Ca2+ current.

Sources: Avery RB & Johnston D (1996) Multiple channel types contribute to the low-
voltage-activated calcium current in hippocampal CA3 pyramidal neurons. J Neurosci
16:5567-5582 (steady state); Randall AD & Tsien RW (1997) Contrasting biophysical and
pharmacological properties of T-type and R-type calcium channels. Neuropharmacology
36:879-893 (time constants). Shifted by -10 mV for the liquid junction potential and
scaled from 21 to 34 degC with q10 = 2.3, as used by Hay E, Hill S, Schuermann F,
Markram H & Segev I (2011) PLoS Comput Biol 7:e1002107.

    i = gbar m^2 h (v - eca);  with u = v + 10 mV:
    m_inf = 1 / (1 + exp(-(u+30)/6))     tau_m = (5 + 20 / (1 + exp((u+25)/5))) / qt
    h_inf = 1 / (1 + exp((u+80)/6.4))    tau_h = (20 + 50 / (1 + exp((u+40)/7))) / qt
    qt = 2.3^((34-21)/10)

Rates fixed at 34 degC. Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX Ca_LVAst
    USEION ca READ eca WRITE ica
    RANGE gCa_LVAstbar, gCa_LVAst
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gCa_LVAstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
    gCa_LVAst (S/cm2)
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
    gCa_LVAst = gCa_LVAstbar * m * m * h
    ica = gCa_LVAst * (v - eca)
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
    LOCAL qt, u
    UNITSOFF
    qt = 2.3^((34 - 21) / 10)
    u = vm + 10
    mInf = 1 / (1 + exp(-(u + 30) / 6))
    mTau = (5 + 20 / (1 + exp((u + 25) / 5))) / qt
    hInf = 1 / (1 + exp((u + 80) / 6.4))
    hTau = (20 + 50 / (1 + exp((u + 40) / 7))) / qt
    UNITSON
}
