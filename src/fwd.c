/*
 * fwd.c - the forwarding decision for one frame (see fwd.h).
 *
 * The rules, in the order DESIGN.md gives them: length, ingress VLAN,
 * source address and learning, the 802.1D link-local filter, then lookup
 * or flood.  Each drop is counted by exactly one counter of the ingress
 * port's queue.
 */
#include "config.h"

#include "tapswitch/fwd.h"

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

void
fwd_decide(const struct dp *dp, struct port *in, unsigned q,
    const uint8_t *buf, size_t len, bool gso, uint16_t remote, uint32_t now,
    struct sw_counters *swc, struct fwd_decision *d)
{
	struct port_counters *c = &in->queues[q].ctr;
	struct frame_info *fi = &d->fi;
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
	d->action = FWD_FLOOD;
	ctr_add(&swc->flooded, 1);
}
