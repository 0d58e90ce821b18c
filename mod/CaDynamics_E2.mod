COMMENT
CaDynamics_E2: intracellular Ca2+ in a submembrane shell with buffering and a first-
order pump/diffusion decay to a resting level.

Source: the shell model of Hay E, Hill S, Schuermann F, Markram H & Segev I (2011)
PLoS Comput Biol 7:e1002107 (after Destexhe A, Babloyantz A & Sejnowski TJ (1993)
Biophys J 65:1538-1552): a fraction gamma of the Ca2+ entering through ica stays
free in a shell of depth 0.1 um; free Ca2+ decays to minCai with time constant decay.

    dcai/dt = -10000 gamma ica / (2 F depth) - (cai - minCai) / decay

(10000 converts um to cm.) gamma and decay are the fitted parameters of the paper.
Written for neuron-ann from the published equations.
ENDCOMMENT

NEURON {
    SUFFIX CaDynamics_E2
    USEION ca READ ica WRITE cai
    RANGE gamma, decay, depth, minCai
}

UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    FARADAY = (faraday) (coulombs)
    (molar) = (1/liter)
    (mM) = (millimolar)
    (um) = (micron)
}

PARAMETER {
    gamma = 0.05 (1)
    decay = 80 (ms)
    depth = 0.1 (um)
    minCai = 1e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
}

STATE {
    cai (mM)
}

INITIAL {
    cai = minCai
}

BREAKPOINT {
    SOLVE states METHOD cnexp
}

DERIVATIVE states {
    cai' = -(10000) * (ica * gamma / (2 * FARADAY * depth)) - (cai - minCai) / decay
}
