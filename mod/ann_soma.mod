COMMENT
neuron-ann bridge: drives the soma of a swapped cell to the surrogate's voltage.
A stiff electrode (series resistance rs) clamps v to a target that is interpolated
linearly from v_from (at t_from) to v_to (at t_from + dt_ann) over the exchange interval;
t_from, the last exchange time, is the multiple of dt_ann that starts this NEURON step's
exchange interval (computed here: one POINTER fewer per NEURON step).
In the NEURON step that ends at t_spike the target is vpeak instead, so the soma's own
threshold detectors (NetCon on soma v, pc.cell gids) fire at exactly t_spike. Outside
that step the target is capped at vcap (below every threshold), so only predicted spikes
cross thresholds. The POINTERs point into the bridge's per-cell buffers, which the bridge
writes only at exchange times; they are read once per exchange interval (a POINTER read
costs more than the rest of this block). Also drives the kept segment of a v readout
(t_spike then points to -1). A jump in NEURON's time during a run stops NEURON with an error
(refuse_time_jump) at the first step after it, and at each try until finitialize; so does a
change of h.celsius or h.dt after finitialize (refuse_change), which the bridge checks
against the bundle only at finitialize.
ENDCOMMENT

NEURON {
    POINT_PROCESS ANNSoma
    THREADSAFE : before POINTER: nocmodl reads the block in order
    ELECTRODE_CURRENT i
    RANGE rs, vpeak, vcap, dt_ann, vtarget, i
    POINTER v_from, v_to, t_spike
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
}

PARAMETER {
    celsius (degC)
    rs = 1e-9 (megohm)
    vpeak = 40 (mV)
    vcap = 1e9 (mV)
    dt_ann = 1 (ms)
}

ASSIGNED {
    v (mV)
    i (nA)
    vtarget (mV)
    v_from (mV)
    v_to (mV)
    t_spike (ms)
    dt (ms)
    vf (mV)
    vt (mV)
    ts (ms)
    t_read (ms)
    celsius0 (degC)
    dt0 (ms)
}

INITIAL {
    t_read = -1e9
    celsius0 = celsius
    dt0 = dt
}

BREAKPOINT {
    LOCAL tend, t_from
    : BREAKPOINT runs at mid-step; the target is for the end of the step
    tend = t + dt/2
    t_from = dt_ann * floor(t / dt_ann)
    if (t_from != t_read) {
        if (t >= 0 && t_read >= 0 && (t_from < t_read || t_from > t_read + 1.5 * dt_ann)) {
            : NEURON's time jumped back or over an exchange interval (h.t set by hand, SaveState.restore()):
            : the surrogates' state is not NEURON's to save or restore. Negative times are left alone:
            : finitialize (t_read = -1e9) and NEURON's steady-state idiom (big steps at t = -1e10, then t = 0)
            refuse_time_jump(t, t_read + dt_ann)
        }
        if (t >= 0 && (celsius != celsius0 || dt != dt0)) {
            refuse_change(celsius0, dt0)
        }
        t_read = t_from
        vf = v_from
        vt = v_to
        ts = t_spike
    }
    if (ts >= 0 && fabs(tend - ts) < dt/4) {
        vtarget = vpeak
    } else {
        vtarget = vf + (vt - vf) * (tend - t_from) / dt_ann
        if (vtarget > vcap) {
            vtarget = vcap
        }
    }
    i = (vtarget - v) / rs
}

PROCEDURE refuse_time_jump(now (ms), ran_to (ms)) {
VERBATIM
    char message[480];
    snprintf(message, sizeof(message), "neuron_ann: NEURON's time is %g ms, but the swapped cells have run to %g ms: "
             "NEURON's time jumped (SaveState.restore(), or h.t set by hand, after h.finitialize), and the surrogates' "
             "state cannot follow. Call h.finitialize() to start them again from t = 0; a state saved with SaveState "
             "cannot be restored while cells are swapped (swap_back() first, or rerun from h.finitialize).", _lnow, _lran_to);
    hoc_execerror(message, 0);
ENDVERBATIM
}

PROCEDURE refuse_change(celsius_then (degC), dt_then (ms)) {
VERBATIM
    char message[480];
    if (celsius != _lcelsius_then) {
        snprintf(message, sizeof(message), "neuron_ann: h.celsius changed from %g to %g degC after h.finitialize while "
                 "cells are swapped: a surrogate runs at its bundle's temperature only, which the swap checks at "
                 "h.finitialize. Set h.celsius back, or set it before h.finitialize.", _lcelsius_then, celsius);
    } else {
        snprintf(message, sizeof(message), "neuron_ann: h.dt changed from %g to %g ms after h.finitialize while "
                 "cells are swapped: the exchange with the surrogates was set up for the first, and the swap checks "
                 "h.dt at h.finitialize. Set h.dt back, or set it before h.finitialize.", _ldt_then, dt);
    }
    hoc_execerror(message, 0);
ENDVERBATIM
}
