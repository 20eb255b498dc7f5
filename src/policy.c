/*
 * policy.c - port security, rate limits, storm control and BPDU guard
 * (see policy.h for the model).
 *
 * Talks to nothing: pure decisions over the bytes of a frame and the
 * port's meters, called by fwd (ingress) and the workers (egress).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tapswitch/policy.h"

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV6 0x86dd
#define IPPROTO_UDP_ 17
#define IPPROTO_TCP_ 6
#define IPPROTO_ICMPV6_ 58
#define ND_NEIGHBOR_ADVERT 136

/* A MAC as an integer, in whatever byte order loads it fastest: only
 * compared with others made the same way. */
static inline uint64_t
mac_raw(const uint8_t *m)
{
	uint32_t a;
	uint16_t b;

	memcpy(&a, m, 4);
	memcpy(&b, m + 4, 2);
	return (uint64_t)a | (uint64_t)b << 32;
}

void
policy_meter_init(struct policy_meter *m, uint64_t rate, uint64_t burst)
{
	/* ns per unit in 32.32 fixed point: 1e9 << 32 fits, and rate is at
	 * least 1. */
	m->tat = 0;
	m->cost_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) /
	    rate);
	m->tolerance = (uint64_t)(((unsigned __int128)burst * m->cost_q32) >>
	    32);
}

struct policy *
policy_new(const struct conf_port *cp)
{
	const struct conf_policy *c = &cp->pol;
	struct policy *p;

	if (!conf_port_has_policy(cp))
		return NULL;
	p = xaligned_alloc(CACHE_LINE, sizeof(*p));
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < c->allowed_macs.n; i++)
		p->macs[p->n_macs++] = mac_raw(c->allowed_macs.mac[i]);
	for (unsigned i = 0; i < c->allowed_ips.n; i++) {
		const struct conf_ip_prefix *ip = &c->allowed_ips.ip[i];

		if (!ip->v6) {
			uint32_t a = (uint32_t)ip->addr[0] << 24 |
			    (uint32_t)ip->addr[1] << 16 |
			    (uint32_t)ip->addr[2] << 8 | ip->addr[3];

			p->ip4[p->n_ip4].addr = a;
			p->ip4[p->n_ip4++].mask = ip->plen == 0 ? 0 :
			    UINT32_MAX << (32 - ip->plen);
		} else {
			memcpy(p->ip6[p->n_ip6].addr, ip->addr, 16);
			p->ip6[p->n_ip6++].plen = ip->plen;
		}
	}
	p->ips = c->allowed_ips.n > 0;
	for (unsigned i = 0; i < c->allowed_ethertypes.n; i++)
		p->types[p->n_types++] = c->allowed_ethertypes.type[i];
	p->bpdu_guard = c->bpdu_guard;
	if (c->rate_limit || c->egress_rate_limit) {
		uint64_t rate = c->rate_limit ? c->rate_limit :
		    c->egress_rate_limit;
		uint64_t burst = c->burst;

		if (!burst) {
			burst = rate / 8 * POLICY_BURST_MS / 1000;
			if (burst < POLICY_BURST_MIN)
				burst = POLICY_BURST_MIN;
		}
		if (c->rate_limit)
			policy_meter_init(&p->rx, c->rate_limit / 8, burst);
		if (c->egress_rate_limit) {
			if (!c->burst && c->egress_rate_limit != rate) {
				burst = c->egress_rate_limit / 8 *
				    POLICY_BURST_MS / 1000;
				if (burst < POLICY_BURST_MIN)
					burst = POLICY_BURST_MIN;
			}
			policy_meter_init(&p->tx, c->egress_rate_limit / 8,
			    burst);
		}
	}
	if (c->storm_limit)
		/* Bursts of a tenth of a second's worth. */
		policy_meter_init(&p->storm, c->storm_limit,
		    c->storm_limit / 10 ? c->storm_limit / 10 : 1);
	return p;
}

__thread uint64_t policy_clock;

uint64_t
policy_clock_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static bool
mac_allowed(const struct policy *pol, const uint8_t *mac)
{
	uint64_t m = mac_raw(mac);

	for (uint32_t i = 0; i < pol->n_macs; i++)
		if (pol->macs[i] == m)
			return true;
	return false;
}

static bool
ip4_allowed(const struct policy *pol, uint32_t a)
{
	for (uint32_t i = 0; i < pol->n_ip4; i++)
		if ((a & pol->ip4[i].mask) == pol->ip4[i].addr)
			return true;
	return false;
}

static bool
ip6_allowed(const struct policy *pol, const uint8_t *a)
{
	for (uint32_t i = 0; i < pol->n_ip6; i++) {
		unsigned plen = pol->ip6[i].plen, whole = plen / 8;
		const uint8_t *p = pol->ip6[i].addr;

		if (memcmp(a, p, whole) != 0)
			continue;
		if (plen % 8 && ((a[whole] ^ p[whole]) &
		    (uint8_t)(0xff00 >> (plen % 8))))
			continue;
		return true;
	}
	return false;
}

static bool
ip6_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* IPv4: the source must be allowed; from 0.0.0.0 only a DHCP client's
 * request (UDP 68 -> 67) passes. */
static enum policy_verdict
check_ipv4(const struct policy *pol, const uint8_t *l3, size_t n)
{
	size_t ihl;
	uint32_t src;

	if (n < 20 || (l3[0] >> 4) != 4 || (ihl = (size_t)(l3[0] & 0xf) * 4) <
	    20 || n < ihl)
		return POLICY_SPOOF_IP;
	src = be32(l3 + 12);
	if (ip4_allowed(pol, src))
		return POLICY_PASS;
	if (src == 0 && l3[9] == IPPROTO_UDP_ && n >= ihl + 4 &&
	    (be16(l3 + 6) & 0x1fff) == 0 && be16(l3 + ihl) == 68 &&
	    be16(l3 + ihl + 2) == 67)
		return POLICY_PASS;
	return POLICY_SPOOF_IP;
}

/* ARP: Ethernet/IPv4 only; the sender address must be allowed, or be
 * 0.0.0.0 (an RFC 5227 probe, which claims nothing). */
static enum policy_verdict
check_arp(const struct policy *pol, const uint8_t *l3, size_t n)
{
	uint32_t spa;

	if (n < 28 || be16(l3) != 1 || be16(l3 + 2) != ETH_TYPE_IPV4 ||
	    l3[4] != 6 || l3[5] != 4)
		return POLICY_SPOOF_IP;
	spa = be32(l3 + 14);
	return spa == 0 || ip4_allowed(pol, spa) ? POLICY_PASS :
	    POLICY_SPOOF_IP;
}

/* IPv6: the source must be allowed or :: (duplicate address detection
 * and its MLD reports); a neighbour advertisement must be for an
 * allowed target.  Extension headers before ICMPv6 are walked; a
 * fragment ends the walk (RFC 6980: no neighbour discovery in
 * fragments, receivers drop them). */
static enum policy_verdict
check_ipv6(const struct policy *pol, const uint8_t *l3, size_t n)
{
	uint8_t next;
	size_t off = 40;

	if (n < 40 || (l3[0] >> 4) != 6)
		return POLICY_SPOOF_IP;
	if (!ip6_unspecified(l3 + 8) && !ip6_allowed(pol, l3 + 8))
		return POLICY_SPOOF_IP;
	next = l3[6];
	for (int hops = 0; hops < 8; hops++) {
		if (next == 0 || next == 43 || next == 60) {
			/* hop-by-hop, routing, destination options */
			if (n < off + 8)
				return POLICY_SPOOF_IP;
			next = l3[off];
			off += ((size_t)l3[off + 1] + 1) * 8;
			continue;
		}
		if (next != IPPROTO_ICMPV6_)
			return POLICY_PASS;
		if (n < off + 1)
			return POLICY_SPOOF_IP;
		if (l3[off] != ND_NEIGHBOR_ADVERT)
			return POLICY_PASS;
		if (n < off + 24)
			return POLICY_SPOOF_IP;
		return ip6_allowed(pol, l3 + off + 8) ? POLICY_PASS :
		    POLICY_SPOOF_IP;
	}
	return POLICY_SPOOF_IP;	/* a chain that long hides something */
}

bool
policy_is_bpdu(const uint8_t *buf, size_t len, const struct frame_info *fi)
{
	static const uint8_t bridge_group[ETH_ADDR_LEN] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };

	return memcmp(fi->dst, bridge_group, ETH_ADDR_LEN) == 0 &&
	    fi->ethertype < 0x600 && len >= (size_t)fi->l2_len + 3 &&
	    buf[fi->l2_len] == 0x42 && buf[fi->l2_len + 1] == 0x42 &&
	    buf[fi->l2_len + 2] == 0x03;
}

enum policy_verdict
policy_rx(struct policy *pol, const uint8_t *buf, size_t len,
    const struct frame_info *fi, size_t wire, uint64_t now)
{
	const uint8_t *l3 = buf + fi->l2_len;
	size_t n = len - fi->l2_len;

	if (pol->n_macs) {
		if (!mac_allowed(pol, fi->src))
			return POLICY_SPOOF_MAC;
		/* An ARP sender hardware address is a claim too. */
		if (fi->ethertype == ETH_TYPE_ARP && n >= 14 &&
		    !mac_allowed(pol, l3 + 8))
			return POLICY_SPOOF_MAC;
	}
	if (pol->ips) {
		enum policy_verdict v = POLICY_PASS;

		if (fi->ethertype == ETH_TYPE_IPV4)
			v = check_ipv4(pol, l3, n);
		else if (fi->ethertype == ETH_TYPE_ARP)
			v = check_arp(pol, l3, n);
		else if (fi->ethertype == ETH_TYPE_IPV6)
			v = check_ipv6(pol, l3, n);
		if (v != POLICY_PASS)
			return v;
	}
	if (pol->bpdu_guard && policy_is_bpdu(buf, len, fi))
		return POLICY_BPDU;
	if (pol->n_types) {
		uint16_t t = fi->ethertype < 0x600 ? 0 : fi->ethertype;
		uint32_t i;

		for (i = 0; i < pol->n_types; i++)
			if (pol->types[i] == t)
				break;
		if (i == pol->n_types)
			return POLICY_ETHERTYPE;
	}
	if (pol->rx.cost_q32 && !policy_meter_take(&pol->rx, wire, now))
		return POLICY_POLICED;
	return POLICY_PASS;
}

size_t
policy_gso_wire_len(const uint8_t *buf, size_t len,
    const struct frame_info *fi, size_t seg, size_t max_frame)
{
	const uint8_t *l3 = buf + fi->l2_len;
	size_t n = len - fi->l2_len, hdr = fi->l2_len, l4 = 0, nseg;
	uint8_t proto;

	if (fi->ethertype == ETH_TYPE_IPV4 && n >= 20) {
		l4 = (size_t)(l3[0] & 0xf) * 4;
		proto = l3[9];
	} else if (fi->ethertype == ETH_TYPE_IPV6 && n >= 40) {
		l4 = 40;
		proto = l3[6];
	} else
		return len;
	if (proto == IPPROTO_TCP_ && n >= l4 + 13)
		l4 += (size_t)(l3[l4 + 12] >> 4) * 4;
	else if (proto == IPPROTO_UDP_)
		l4 += 8;
	else
		return len;
	hdr += l4;
	if (len <= hdr)
		return len;
	if (!seg) {
		if (max_frame <= hdr)
			return len;
		seg = max_frame - hdr;
	}
	nseg = (len - hdr + seg - 1) / seg;
	return len + (nseg - 1) * hdr;
}
