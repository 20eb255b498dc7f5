/*
 * vxlan.c - the VXLAN header and the inner flow hash (see vxlan.h).
 *
 * Both run once per frame on the data path: they read a bounded number of
 * bytes (the header; at most the inner L2, L3 and L4 port fields) and
 * never fail on anything but length.
 */
#include "config.h"

#include "tapswitch/frame.h"
#include "tapswitch/vxlan.h"

enum vxlan_rx
vxlan_decode(const uint8_t *buf, size_t len, uint32_t *vni)
{
	if (len < VXLAN_HDR_LEN)
		return VXLAN_RX_SHORT;
	*vni = (uint32_t)buf[4] << 16 | (uint32_t)buf[5] << 8 | buf[6];
	if (!(buf[0] & VXLAN_FLAG_I))
		return VXLAN_RX_FLAGS;
	if (len - VXLAN_HDR_LEN < ETH_HDR_LEN)
		return VXLAN_RX_RUNT;
	return VXLAN_RX_OK;
}

static inline uint32_t
get_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* One round of a multiplicative mix (murmur3's 32-bit step). */
static inline uint32_t
mix(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = k << 15 | k >> 17;
	k *= 0x1b873593u;
	h ^= k;
	h = h << 13 | h >> 19;
	return h * 5 + 0xe6546b64u;
}

static inline uint32_t
mix_bytes(uint32_t h, const uint8_t *p, size_t n)
{
	for (; n >= 4; p += 4, n -= 4)
		h = mix(h, get_be32(p));
	if (n)
		h = mix(h, n == 3 ? get_be16(p) << 8 | p[2] :
		    n == 2 ? get_be16(p) : p[0]);
	return h;
}

static inline uint32_t
has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

uint32_t
vxlan_flow_hash(const uint8_t *buf, size_t len)
{
	uint32_t h = 0x7a15u;
	size_t off = 12, l4 = 0;
	uint32_t type;
	uint8_t proto = 0;

	if (len < ETH_HDR_LEN)
		return mix_bytes(h, buf, len);
	h = mix_bytes(h, buf, 12);
	type = get_be16(buf + off);
	if (type == ETH_TYPE_VLAN && len >= ETH_HDR_LEN + VLAN_TAG_LEN) {
		h = mix(h, get_be16(buf + off + 2) & 0xfff);
		off += VLAN_TAG_LEN;
		type = get_be16(buf + off);
	}
	h = mix(h, type);
	off += 2;
	if (type == 0x0800 && len >= off + 20) {
		const uint8_t *ip = buf + off;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;

		proto = ip[9];
		h = mix_bytes(h, ip + 12, 8);
		/* Later fragments have no ports: leave them out of every
		 * fragment, so that the whole packet hashes alike. */
		if (ihl >= 20 && !(get_be16(ip + 6) & 0x3fff))
			l4 = off + ihl;
		else
			proto = 0;
		h = mix(h, ip[9]);
	} else if (type == 0x86dd && len >= off + 40) {
		const uint8_t *ip = buf + off;

		proto = ip[6];
		h = mix_bytes(h, ip + 8, 32);
		h = mix(h, proto);
		l4 = off + 40;
	}
	if (l4 && has_ports(proto) && len >= l4 + 4)
		h = mix(h, get_be32(buf + l4));
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}
