COMMENT
neuron-ann bridge: one readout of a swapped cell (cai, ina, ik, fluorescence; a dendritic v readout is an ANNSoma clamp).
Its value is interpolated linearly across the exchange interval from v_from (at t_from)
to v_to (at t_from + dt_ann), kept in the RANGE variable `value` (record value_ANNReadout
via `_ref_value`) and, when the POINTER `target` is set, written into that NEURON variable
(a kept readout section's cai, ina or ik) after every step, before recordings are taken.
ENDCOMMENT

NEURON {
    POINT_PROCESS ANNReadout
    THREADSAFE : before POINTER: nocmodl reads the block in order
    RANGE value, dt_ann
    POINTER target, v_from, v_to
}

PARAMETER {
    dt_ann = 1 (ms)
}

ASSIGNED {
    value
    target
    v_from
    v_to
    dt (ms)
    vf
    vt
    t_read (ms)
}

INITIAL {
    t_read = -1e9
    value = v_to
    if (nrn_pointing(target)) {
        target = value
    }
}

AFTER SOLVE {
    LOCAL t_from
    : runs at the end of a NEURON step; t_from is the exchange time that starts its interval
    t_from = dt_ann * floor((t - dt/2) / dt_ann)
    if (t_from != t_read) {
        : the bridge writes v_from and v_to only at exchange times: read them once per interval
        t_read = t_from
        vf = v_from
        vt = v_to
    }
    value = vf + (vt - vf) * (t - t_from) / dt_ann
    if (nrn_pointing(target)) {
        target = value
    }
}
