/*
 * frame.h - Ethernet/802.1Q header classification and MAC helpers.
 *
 * Pure functions over bytes: no I/O, no state, safe from any thread.  The
 * data path calls frame_parse() once per received frame; the control plane
 * uses the MAC parse/format helpers.
 */
#ifndef TAPSWITCH_FRAME_H
#define TAPSWITCH_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ETH_ADDR_LEN 6
#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define ETH_TYPE_VLAN 0x8100
#define MAC_STR_LEN 18		/* "aa:bb:cc:dd:ee:ff" + NUL */

struct frame_info {
	const uint8_t *dst;	/* points into the frame */
	const uint8_t *src;
	uint16_t vid;		/* 0: untagged or priority-tagged */
	uint8_t pcp;		/* priority of a tagged frame */
	bool tagged;		/* carried an 802.1Q tag (even with VID 0) */
	uint16_t l2_len;	/* bytes of Ethernet(+tag)+ethertype: 14 or 18 */
	uint16_t ethertype;	/* the type after the tag, if any */
};

/*
 * Classify the frame in buf[0..len).  Returns 0, or -EINVAL for a runt:
 * shorter than 14 bytes, or tagged and shorter than 18.  A VID of 4095
 * (reserved) is reported as is; the caller drops it as "VLAN not allowed".
 */
int frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi);

/* The MAC as a 48-bit integer (network order in the low 48 bits). */
static inline uint64_t
mac_to_u64(const uint8_t *m)
{
	return ((uint64_t)m[0] << 40) | ((uint64_t)m[1] << 32) |
	    ((uint64_t)m[2] << 24) | ((uint64_t)m[3] << 16) |
	    ((uint64_t)m[4] << 8) | (uint64_t)m[5];
}

static inline void
mac_from_u64(uint64_t v, uint8_t *m)
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m[i] = v & 0xff;
}

static inline bool
mac_is_multicast(const uint8_t *m)
{
	return m[0] & 1;
}

static inline bool
mac_is_broadcast(const uint8_t *m)
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

/* 01:80:C2:00:00:00 - 01:80:C2:00:00:0F: 802.1D link-local, never forwarded. */
static inline bool
mac_is_link_local(const uint8_t *m)
{
	return m[0] == 0x01 && m[1] == 0x80 && m[2] == 0xc2 && m[3] == 0 &&
	    m[4] == 0 && (m[5] & 0xf0) == 0;
}

/* Parse "aa:bb:cc:dd:ee:ff" (also '-' separated, any case).  0 / -EINVAL. */
int mac_parse(const char *s, uint8_t mac[ETH_ADDR_LEN]);

/* Format as lower-case "aa:bb:cc:dd:ee:ff"; buf has MAC_STR_LEN bytes. */
char *mac_format(const uint8_t mac[ETH_ADDR_LEN], char *buf);

#endif
