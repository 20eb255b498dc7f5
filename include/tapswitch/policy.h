/*
 * policy.h - a port's ingress and egress policy: port security, rate
 * limits, storm control and BPDU guard (DESIGN.md, "Forwarding rules"
 * step 3; the keys are tapswitch.conf(5)'s).
 *
 * Theory of operation.  A port with no policy key has no struct policy
 * (port->policy is NULL) and the data path pays one predictable branch.
 * Otherwise the main thread builds one from the port's keys
 * (policy_new) and publishes it with an atomic pointer; a reload that
 * changes only policy keys publishes a new one and frees the old after a
 * QSBR grace period, so the port is never re-created for it.  Workers
 * read the lists without locks: they never change once published.
 *
 * Rates are enforced by meters that hold for the port as a whole, whatever
 * the number of queues: each meter is a GCRA ("virtual scheduling")
 * bucket whose whole state is one 64-bit theoretical arrival time, taken
 * by the workers with a compare-and-swap.  A frame conforms when the
 * meter's time is at most 'tolerance' (the burst) ahead of now; it then
 * pushes the time on by what the frame costs.  The meter lives on a cache
 * line of its own, and only frames of ports that have one touch it.
 *
 * Bytes counted are those of Ethernet frames (no preamble or FCS).  A
 * segmentation-offload super-frame counts as all the frames it stands
 * for: each carries the headers again (policy_wire_len).
 *
 * Time is CLOCK_MONOTONIC_COARSE, in nanoseconds: a few ms of resolution,
 * which bursts smaller than that make coarser, but the long-run rate is
 * exact since each frame pushes the meter by exactly its cost.
 */
#ifndef TAPSWITCH_POLICY_H
#define TAPSWITCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapswitch/conf.h"
#include "tapswitch/frame.h"
#include "tapswitch/util.h"

/* What the ingress checks say about a frame: pass, or the counter of the
 * drop. */
enum policy_verdict {
	POLICY_PASS,
	POLICY_SPOOF_MAC,	/* rx_spoof_mac */
	POLICY_SPOOF_IP,	/* rx_spoof_ip */
	POLICY_BPDU,		/* rx_bpdu: and the port is err-disabled */
	POLICY_ETHERTYPE,	/* rx_ethertype */
	POLICY_POLICED,		/* rx_policed */
};

/* One rate meter (see above).  tat is written by every worker that
 * passes a frame through it (atomic CAS). */
struct policy_meter {
	uint64_t tat;		/* ns: theoretical arrival time */
	uint64_t cost_q32;	/* ns per unit (byte or frame), << 32 */
	uint64_t tolerance;	/* ns: the burst */
} __attribute__((aligned(CACHE_LINE)));

struct policy {
	struct policy_meter rx, tx, storm;	/* each used when cost_q32 */
	uint32_t n_macs, n_ip4, n_ip6, n_types;
	uint64_t macs[CONF_ALLOWED_MAX];	/* mac_raw (policy.c) */
	struct { uint32_t addr, mask; } ip4[CONF_ALLOWED_MAX];	/* host order */
	struct { uint8_t addr[16]; uint8_t plen; } ip6[CONF_ALLOWED_MAX];
	uint16_t types[CONF_ALLOWED_MAX];
	bool ips;		/* allowed_ips was given */
	bool bpdu_guard;
};

/* Default burst: POLICY_BURST_MS of the rate, at least
 * POLICY_BURST_MIN bytes. */
#define POLICY_BURST_MS 200
#define POLICY_BURST_MIN (64 * 1024)

/* The policy of a port with settings cp, or NULL when it has no policy
 * key.  Main thread; free with free(). */
struct policy *policy_new(const struct conf_port *cp);

/* Set m up for rate units per second with a burst of 'burst' units. */
void policy_meter_init(struct policy_meter *m, uint64_t rate, uint64_t burst);

/* Take units from m at time now (ns): true when they conform.  Any
 * thread. */
static inline bool
policy_meter_take(struct policy_meter *m, uint64_t units, uint64_t now)
{
	uint64_t cost = (uint64_t)(((unsigned __int128)units * m->cost_q32) >>
	    32);
	uint64_t tat = __atomic_load_n(&m->tat, __ATOMIC_RELAXED);

	for (;;) {
		uint64_t t = tat > now ? tat : now;

		if (t - now > m->tolerance)
			return false;
		if (__atomic_compare_exchange_n(&m->tat, &tat, t + cost, true,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
}

/* Now, for the meters (ns of CLOCK_MONOTONIC_COARSE), read once per
 * batch of frames: a worker calls policy_clock_reset() before each batch
 * (a store, so ports without a meter pay nothing more), and the first
 * frame that needs the time reads the clock for the rest of the batch.
 * Per thread. */
extern __thread uint64_t policy_clock;
uint64_t policy_clock_read(void);

static inline void
policy_clock_reset(void)
{
	policy_clock = 0;
}

static inline uint64_t
policy_now(void)
{
	if (UNLIKELY(!policy_clock))
		policy_clock = policy_clock_read();
	return policy_clock;
}

/*
 * The ingress checks of pol on the frame buf[0..len) classified as fi, in
 * DESIGN.md's order: source MAC, source IP, BPDU, EtherType, rate (wire
 * is the frame's bytes as policy_wire_len counts them).  Any worker.
 */
enum policy_verdict policy_rx(struct policy *pol, const uint8_t *buf,
    size_t len, const struct frame_info *fi, size_t wire, uint64_t now);

/* Whether a broadcast, multicast or unknown-unicast frame may be
 * flooded now (storm_limit).  Any worker. */
static inline bool
policy_storm_ok(struct policy *pol, uint64_t now)
{
	return !pol->storm.cost_q32 || policy_meter_take(&pol->storm, 1, now);
}

/* Whether wire bytes may leave on the port now (egress_rate_limit). */
static inline bool
policy_tx_ok(struct policy *pol, size_t wire, uint64_t now)
{
	return !pol->tx.cost_q32 || policy_meter_take(&pol->tx, wire, now);
}

/*
 * The bytes of the frames a frame stands for: len for an ordinary one;
 * for a segmentation-offload super-frame (gso), its headers (Ethernet,
 * IP, TCP or UDP) once more for each segment after the first, the
 * payload cut in segments of seg bytes (0: as many as fit in max_frame
 * with the headers).  Any thread.
 */
size_t policy_gso_wire_len(const uint8_t *buf, size_t len,
    const struct frame_info *fi, size_t seg, size_t max_frame);

static inline size_t
policy_wire_len(const uint8_t *buf, size_t len, const struct frame_info *fi,
    bool gso, size_t seg, size_t max_frame)
{
	return gso ? policy_gso_wire_len(buf, len, fi, seg, max_frame) : len;
}

/* Is this a spanning-tree BPDU (802.1D, RSTP, MSTP: to
 * 01:80:c2:00:00:00 with the LLC header 42 42 03)? */
bool policy_is_bpdu(const uint8_t *buf, size_t len,
    const struct frame_info *fi);

#endif
