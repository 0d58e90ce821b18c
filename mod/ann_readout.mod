COMMENT
neuron-ann bridge: one readout of a swapped cell (dendritic v, cai, ina, ik, fluorescence).
Its value is interpolated linearly across the exchange interval from v_from (at t_from)
to v_to (at t_from + dt_ann), kept in the RANGE variable `value` (record value_ANNReadout
via `_ref_value`) and, when the POINTER `target` is set, written into that NEURON variable
(e.g. the kept readout section's v or cai) after every step, before recordings are taken.
ENDCOMMENT

NEURON {
    POINT_PROCESS ANNReadout
    RANGE value, dt_ann
    POINTER target, v_from, v_to, t_from
}

PARAMETER {
    dt_ann = 1 (ms)
}

ASSIGNED {
    value
    target
    v_from
    v_to
    t_from (ms)
}

INITIAL {
    value = v_to
    if (nrn_pointing(target)) {
        target = value
    }
}

AFTER SOLVE {
    value = v_from + (v_to - v_from) * (t - t_from) / dt_ann
    if (nrn_pointing(target)) {
        target = value
    }
}
