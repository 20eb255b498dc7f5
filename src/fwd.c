/*
 * fwd.c - the forwarding decision for one frame (see fwd.h).
 *
 * The rules, in the order DESIGN.md gives them: length, ingress VLAN,
 * the port's policy, source address and learning, the 802.1D link-local
 * filter, then lookup or flood (storm control last: whether a frame
 * floods is known only after the lookup).  Each drop is counted by exactly one counter of the ingress
 * port's queue.
 */
#include "config.h"

#include "tapswitch/fwd.h"
#include "tapswitch/log.h"
#include "tapswitch/policy.h"

/* The VLAN an ingress frame belongs to, or 0 when the port does not accept
 * it.  Untagged and priority-tagged (VID 0) frames are treated alike. */
static uint16_t
ingress_vlan(const struct port *in, const struct frame_info *fi)
{
	const struct conf_port *c = &in->conf;

	if (!fi->tagged || fi->vid == 0) {
		if (!c->trunk)
			return c->vlan;
		return c->native;	/* 0 when the trunk has no native VLAN */
	}
	if (!c->trunk || fi->vid > VLAN_MAX)
		return 0;
	if (fi->vid == c->native || vlan_set_has(&c->trunk_vlans, fi->vid))
		return fi->vid;
	return 0;
}

/* The ingress policy of port in (step 3): false when the frame is
 * dropped (counted).  Only for ports with a policy or err-disabled. */
static __attribute__((noinline)) bool
ingress_policy(struct port *in, struct policy *pol, struct port_counters *c,
    const uint8_t *buf, size_t len, bool gso, struct fwd_decision *d)
{
	const struct frame_info *fi = &d->fi;

	if (port_err_disabled(in)) {
		ctr_add(&c->rx_err_disabled, 1);
		return false;
	}
	if (!pol)
		return true;
	switch (policy_rx(pol, buf, len, fi, pol->rx.cost_q32 ?
	    policy_wire_len(buf, len, fi, gso, 0, port_max_frame(in)) : len,
	    policy_now())) {
	case POLICY_PASS:
		return true;
	case POLICY_SPOOF_MAC:
		ctr_add(&c->rx_spoof_mac, 1);
		break;
	case POLICY_SPOOF_IP:
		ctr_add(&c->rx_spoof_ip, 1);
		break;
	case POLICY_BPDU:
		ctr_add(&c->rx_bpdu, 1);
		if (port_err_disable(in, PORT_ERRDIS_BPDU))
			d->action = FWD_DISABLED;
		break;
	case POLICY_ETHERTYPE:
		ctr_add(&c->rx_ethertype, 1);
		break;
	case POLICY_POLICED:
		ctr_add(&c->rx_policed, 1);
		break;
	}
	return false;
}

/* A loop: the source keeps moving between in and another port. */
static void
loop_seen(const struct dp *dp, struct port *in, struct fwd_decision *d,
    struct sw_counters *swc)
{
	char mac[MAC_STR_LEN];
	bool protect = __atomic_load_n(&dp->loop_protect, __ATOMIC_RELAXED);

	ctr_add(&swc->mac_flaps, 1);
	log_rl(LOG_LVL_WARN, "MAC %s in VLAN %u keeps moving between port %s "
	    "and another port: a loop%s", mac_format(d->fi.src, mac), d->vid,
	    in->conf.name, protect ? "" : " (loop_protect = no: nothing done)");
	if (protect && port_err_disable(in, PORT_ERRDIS_LOOP))
		d->action = FWD_DISABLED;
}

void
fwd_decide(const struct dp *dp, struct port *in, unsigned q,
    const uint8_t *buf, size_t len, bool gso, uint16_t remote, uint32_t now,
    struct sw_counters *swc, struct fwd_decision *d)
{
	struct port_counters *c = &in->queues[q].ctr;
	struct frame_info *fi = &d->fi;
	struct policy *pol = NULL;
	struct port *out;
	uint32_t id;

	d->action = FWD_DROP;
	d->out = NULL;
	d->vid = 0;
	ctr_add(&c->rx_packets, 1);
	ctr_add(&c->rx_bytes, len);

	if (UNLIKELY(frame_parse(buf, len, fi) < 0)) {
		ctr_add(&c->rx_runt, 1);
		ctr_add(&c->rx_errors, 1);
		return;
	}
	/* A segmentation-offload super-frame is longer than the MTU by
	 * design: the kernel cuts it to MTU-sized segments on the way out. */
	if (UNLIKELY(!gso &&
	    len > port_max_frame(in) + (fi->tagged ? VLAN_TAG_LEN : 0))) {
		ctr_add(&c->rx_oversize, 1);
		ctr_add(&c->rx_errors, 1);
		return;
	}
	d->vid = ingress_vlan(in, fi);
	if (UNLIKELY(d->vid == 0)) {
		ctr_add(&c->rx_vlan, 1);
		return;
	}
	if (UNLIKELY(port_flags(in))) {
		pol = port_policy(in);
		if (!ingress_policy(in, pol, c, buf, len, gso, d))
			return;
	}
	if (UNLIKELY(mac_is_multicast(fi->src))) {
		ctr_add(&c->rx_src_mcast, 1);
		return;
	}

	switch (fdb_learn(dp->fdb, d->vid, fi->src, in->id, remote,
	    in->conf.mac_limit, now)) {
	case FDB_REFRESHED:
	case FDB_STATIC:
		break;
	case FDB_LEARNED:
		ctr_add(&swc->learned, 1);
		break;
	case FDB_MOVED:
		ctr_add(&swc->moved, 1);
		break;
	case FDB_LOOP:
		ctr_add(&swc->moved, 1);
		loop_seen(dp, in, d, swc);
		if (d->action == FWD_DISABLED) {
			ctr_add(&c->rx_err_disabled, 1);
			return;
		}
		break;
	case FDB_FULL:
		ctr_add(&swc->fdb_full, 1);
		break;
	case FDB_LIMIT:
		ctr_add(&c->learn_limit, 1);
		break;
	}

	if (UNLIKELY(mac_is_link_local(fi->dst))) {
		ctr_add(&c->rx_link_local, 1);
		return;
	}
	if (!mac_is_multicast(fi->dst)) {
		id = fdb_lookup(dp->fdb, d->vid, fi->dst, &d->remote);
		out = id == FDB_PORT_NONE ? NULL : port_table_get(dp->ports, id);
		/* An entry whose port is going away, or a static entry for a
		 * port outside the VLAN, is as good as no entry. */
		if (out && fwd_port_in_vlan(out, d->vid)) {
			if (out == in) {
				ctr_add(&c->rx_hairpin, 1);
				return;
			}
			d->action = FWD_UNICAST;
			d->out = out;
			return;
		}
	}
	if (UNLIKELY(pol != NULL) && !policy_storm_ok(pol, policy_now())) {
		ctr_add(&c->rx_storm, 1);
		return;
	}
	d->action = FWD_FLOOD;
	ctr_add(&swc->flooded, 1);
}
