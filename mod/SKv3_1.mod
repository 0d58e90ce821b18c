COMMENT
SKv3_1: fast non-inactivating Kv3.1-type K+ current (Shaw-related).

Source: Rettig J, Wunder F, Stocker M, Lichtinghagen R, Mastiaux F, Beckh S, Kues W,
Pedarzani P, Schroeter KH, Ruppersberg JP, Veh R & Pongs O (1992) Characterization of
a Shaw-related potassium channel family in rat brain. EMBO J 11:2473-2486, with the
fit used by Hay E, Hill S, Schuermann F, Markram H & Segev I (2011) PLoS Comput Biol
7:e1002107 (no temperature correction).

    i = gbar m (v - ek)
    m_inf = 1 / (1 + exp(-(v-18.7)/9.7))
    tau_m = 4 / (1 + exp(-(v+46.56)/44.14))   (ms)

Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX SKv3_1
    USEION k READ ek WRITE ik
    RANGE gSKv3_1bar, gSKv3_1
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gSKv3_1bar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gSKv3_1 (S/cm2)
    mInf (1)
    mTau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gSKv3_1 = gSKv3_1bar * m
    ik = gSKv3_1 * (v - ek)
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
    UNITSOFF
    mInf = 1 / (1 + exp(-(vm - 18.7) / 9.7))
    mTau = 4 / (1 + exp(-(vm + 46.56) / 44.14))
    UNITSON
}
