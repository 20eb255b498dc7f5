/*
 * fwd.h - the forwarding decision: 802.1Q bridge rules for one frame.
 *
 * Given the ingress port and the bytes of a frame, fwd_decide() applies the
 * rules of DESIGN.md in order - length, ingress VLAN, source check and
 * learning, link-local filter, lookup - and says whether the frame is
 * dropped (and which counter said so), sent to one port, or flooded to the
 * VLAN.  It does no I/O, so unit tests drive it directly; the worker does
 * the reads and writes around it.
 *
 * Called by worker q for frames read on queue q; it writes only ctr[q] of
 * the ingress port and the worker's own statistics.
 */
#ifndef TAPSWITCH_FWD_H
#define TAPSWITCH_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapswitch/fdb.h"
#include "tapswitch/frame.h"
#include "tapswitch/port.h"
#include "tapswitch/qsbr.h"

/* What the workers share: set up by the switch, read-only afterwards. */
struct dp {
	struct fdb *fdb;
	struct port_table *ports;
	struct qsbr *qs;
	bool vnet_hdr;		/* offload = yes: frames carry a virtio-net header */
	bool io_uring;		/* io_uring = yes: workers batch syscalls */
	uint32_t busy_poll_us;	/* atomic: main writes (reload), workers read */
	bool loop_protect;	/* atomic: main writes (reload), workers read */
	int evfd;		/* eventfd that wakes the main thread for port
				 * events (worker.h); -1: none */
};

/* Switch-wide counters, one set per worker (single writer each). */
#define SW_COUNTERS(X) \
	X(learned,  "MAC addresses learned") \
	X(moved,    "MAC addresses that moved to another port") \
	X(aged,     "MAC addresses aged out") \
	X(fdb_full, "sources not learned because the MAC table was full") \
	X(flooded,  "frames flooded (broadcast, multicast, unknown unicast)") \
	X(mac_flaps, "loops seen: an address moving back and forth between two ports") \
	X(wakeups,  "blocking waits for work: asleep unless work was there") \
	X(polled,   "times a polling worker found work without blocking")

struct sw_counters {
#define X(name, help) uint64_t name;
	SW_COUNTERS(X)
#undef X
} __attribute__((aligned(CACHE_LINE)));

enum fwd_action {
	FWD_DROP,		/* counted on the ingress port */
	FWD_UNICAST,		/* to d->out */
	FWD_FLOOD,		/* to every other up port of d->vid */
	FWD_DISABLED,		/* dropped (counted), and this frame
				 * err-disabled the ingress port: the
				 * worker tells the main thread
				 * (PORT_EV_ERR_DISABLED) */
};

struct fwd_decision {
	enum fwd_action action;
	uint16_t vid;		/* VLAN the frame belongs to */
	uint16_t remote;	/* FWD_UNICAST: the remote of out (fdb.h) */
	struct port *out;	/* FWD_UNICAST */
	struct frame_info fi;
};

/* Does port p carry VLAN vid, and does it send it tagged? */
static inline bool
fwd_port_in_vlan(const struct port *p, uint16_t vid)
{
	if (!p->conf.trunk)
		return p->conf.vlan == vid;
	return p->conf.native == vid || vlan_set_has(&p->conf.trunk_vlans, vid);
}

static inline bool
fwd_egress_tagged(const struct port *p, uint16_t vid)
{
	return p->conf.trunk && p->conf.native != vid;
}

/*
 * Decide the frame buf[0..len) (the Ethernet frame, after any virtio-net
 * header) read from port in on queue q at time now, from its remote
 * number remote (a port that reaches several hosts; else 0).  gso says
 * the virtio-net header announced a segmentation offload frame, which
 * may exceed the MTU.  Counts rx_packets/rx_bytes and any drop on in->ctr[q],
 * learns the source, and counts learned/moved/fdb_full/flooded/mac_flaps
 * in *swc.  The port's policy (policy.h) applies after the ingress VLAN;
 * a BPDU on a bpdu_guard port, or a loop seen with dp->loop_protect,
 * err-disables the port (FWD_DISABLED says when this frame did it).
 */
void fwd_decide(const struct dp *dp, struct port *in, unsigned q,
    const uint8_t *buf, size_t len, bool gso, uint16_t remote, uint32_t now,
    struct sw_counters *swc, struct fwd_decision *d);

#endif
