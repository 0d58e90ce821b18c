COMMENT
neuron-ann bridge: captures the events of the user's NetCons that targeted a synapse of a
swapped cell. Each delivered event adds its NetCon weight (uS) to one slot of a contiguous
input buffer (a hoc Vector) through a POINTER; the bridge reads and zeros the buffer at
every exchange step. Capturing in NMODL keeps the per-event cost in C++.

A delay set on such a NetCon during a run (plain nc.delay = d, of which NEURON tells nobody)
is seen at that NetCon's next event: the bridge stamps each captured NetCon's weight vector
with the NetCon's address (weight[1], by stamp()) and the delay the bridge set on it
(weight[2]); an event whose NetCon now has another delay raises the alarm (a one-element
Vector named by alarm_to()), and the bridge takes up the new delay at its next exchange.
NEURON zeroes the weights past the first at finitialize unless NET_RECEIVE has an INITIAL
block, hence the empty one. libnrniv exports nrn_netcon_get_delay and nrn_netcon_weight but
the wheel installs no header declaring them: they are declared here.
ENDCOMMENT

NEURON {
    ARTIFICIAL_CELL ANNInput
    THREADSAFE : before POINTER: nocmodl reads the block in order
    POINTER acc
}

ASSIGNED {
    acc
}

VERBATIM
#include <stdint.h>
class NetCon;
extern double nrn_netcon_get_delay(NetCon*);
extern int nrn_netcon_weight(NetCon*, double**);
/* the alarm: element 0 of a hoc Vector the bridge keeps for the process's life (alarm_to) */
static double* ann_input_alarm_;
ENDVERBATIM

NET_RECEIVE(w, netcon, delay_set) {
    INITIAL {
        netcon = netcon : keep the stamp over finitialize
    }
    acc = acc + w
VERBATIM
    /* a stamp holds an address: its bits read as a double have exponent 0 (user-space addresses are
       below 2^52); so a number written there by hand (weight[1] = 0.5) is never taken for one */
    uint64_t bits;
    memcpy(&bits, &_args[1], sizeof bits);
    if (bits != 0 && (bits >> 52) == 0 && ann_input_alarm_) {
        NetCon* nc;
        memcpy(&nc, &_args[1], sizeof nc);
        if (nrn_netcon_get_delay(nc) != _args[2]) {
            ann_input_alarm_[0] = 1.0;
        }
    }
ENDVERBATIM
}

FUNCTION stamp() {
VERBATIM
    /* stamp(nc): nc targets an ANNInput; weight[1] = its address, weight[2] = its delay now */
    {
        Object* ob = *hoc_objgetarg(1);
        if (!is_obj_type(ob, "NetCon")) {
            hoc_execerror("ANNInput.stamp() takes a NetCon", 0);
        }
        NetCon* nc = (NetCon*) ob->u.this_pointer;
        double* w;
        if (nrn_netcon_weight(nc, &w) != 3) {
            hoc_execerror("ANNInput.stamp(): the NetCon does not target an ANNInput", 0);
        }
        memcpy(&w[1], &nc, sizeof nc);
        w[2] = nrn_netcon_get_delay(nc);
    }
ENDVERBATIM
    stamp = 1
}

FUNCTION alarm_to() {
VERBATIM
    /* alarm_to(vec): events of NetCons whose delay changed set vec.x[0] to 1; alarm_to(): none */
    ann_input_alarm_ = ifarg(1) ? vector_vec(vector_arg(1)) : (double*) 0;
ENDVERBATIM
    alarm_to = 1
}
