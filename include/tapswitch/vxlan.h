/*
 * vxlan.h - the VXLAN header of RFC 7348: build it, check it, and the
 * flow hash the outer UDP source port comes from.
 *
 * Pure functions over bytes: no I/O, no state, safe from any thread.
 * The vxlan port type (port_vxlan.c) puts the header before every frame
 * it sends and checks it on every datagram it receives; the rest of the
 * switch never sees it.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     VXLAN Network Identifier (VNI)            |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Reserved bits are sent as zero and ignored on receipt (RFC 7348, 5);
 * a header whose I flag is clear carries no valid VNI and is refused.
 */
#ifndef TAPSWITCH_VXLAN_H
#define TAPSWITCH_VXLAN_H

#include <stddef.h>
#include <stdint.h>

#define VXLAN_HDR_LEN 8
#define VXLAN_FLAG_I 0x08
#define VXLAN_VNI_MAX 0xffffffu		/* 24 bits; 0 is not used here */
#define VXLAN_PORT 4789			/* IANA */
/* What encapsulation adds to an inner frame of MTU m on the underlay's
 * own MTU: inner Ethernet header (14) + UDP (8) + VXLAN (8) + the outer
 * IP header (20 for IPv4, 40 for IPv6).  So the underlay's MTU must be
 * at least m + 50 (IPv4) or m + 70 (IPv6); an 802.1Q tag of a trunk
 * adds 4 more. */
#define VXLAN_OVERHEAD_IPV4 50
#define VXLAN_OVERHEAD_IPV6 70

/* Why a datagram is refused (vxlan_decode). */
enum vxlan_rx {
	VXLAN_RX_OK = 0,
	VXLAN_RX_SHORT,		/* shorter than the VXLAN header */
	VXLAN_RX_FLAGS,		/* the I flag is clear */
	VXLAN_RX_RUNT,		/* the inner frame is shorter than an
				 * Ethernet header */
};

/* Write the header for vni (1..VXLAN_VNI_MAX) into hdr. */
static inline void
vxlan_encode(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni)
{
	hdr[0] = VXLAN_FLAG_I;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(vni >> 16);
	hdr[5] = (uint8_t)(vni >> 8);
	hdr[6] = (uint8_t)vni;
	hdr[7] = 0;
}

/*
 * Check the datagram buf[0..len) (UDP payload): VXLAN_RX_OK with its VNI
 * in *vni, the inner frame being buf + VXLAN_HDR_LEN; or why not.  *vni
 * is set whenever the header is whole (also for VXLAN_RX_RUNT).
 */
enum vxlan_rx vxlan_decode(const uint8_t *buf, size_t len, uint32_t *vni);

/*
 * A hash of the flow of the Ethernet frame buf[0..len): its addresses,
 * VLAN tag and ethertype and, for IPv4 and IPv6, the IP addresses, the
 * protocol and the TCP/UDP/SCTP ports (of a first fragment or an
 * unfragmented packet).  Every frame of one flow has the same hash;
 * whatever is too short to hold a field leaves it out.
 */
uint32_t vxlan_flow_hash(const uint8_t *buf, size_t len);

#endif
