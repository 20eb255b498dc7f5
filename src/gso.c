/*
 * gso.c - software GSO and checksum completion for frames described by a
 * virtio-net header.
 *
 * What the kernel does, and so what this does (Linux 6.x):
 *
 *  - Checksum completion is skb_checksum_help() (net/core/dev.c): the
 *    one's-complement sum from csum_start to the end of the frame, whose
 *    checksum field already holds the pseudo-header sum, folded,
 *    complemented, 0 stored as 0xffff (CSUM_MANGLED_0).
 *
 *  - TCP segmentation is tcp_gso_segment() (net/ipv4/tcp_offload.c) over
 *    skb_segment(): every segment gets a copy of all headers, options
 *    included; segment i's sequence number is seq + i * gso_size; FIN and
 *    PSH stay only on the last segment, CWR only on the first (with or
 *    without SKB_GSO_TCP_ECN, which is what VIRTIO_NET_HDR_GSO_ECN maps
 *    to); URG and the urgent pointer are copied as they are.
 *
 *  - UDP segmentation is __udp_gso_segment() (net/ipv4/udp_offload.c):
 *    each segment is a datagram of its own with its own length and
 *    checksum, a checksum of 0 sent as 0xffff.
 *
 *  - IPv4 is inet_gso_segment() (net/ipv4/af_inet.c): tot_len per
 *    segment, the header checksum recomputed, and the id of segment i is
 *    id + i (mod 2^16): the kernel increments it unless the skb is
 *    SKB_GSO_TCP_FIXEDID, which a virtio-net header cannot say.  DF,
 *    TOS/ECN bits, TTL and options are copied.  IPv6 is
 *    ipv6_gso_segment() (net/ipv6/ip6_offload.c): payload_len per segment,
 *    the rest copied.
 *
 * test_gso.c checks the output byte for byte against segments the kernel
 * made of the same super-frames.
 *
 * Where this differs from the kernel, on purpose:
 *
 *  - L4 checksums of segments are computed in full from the segment (the
 *    pseudo-header included).  The kernel adjusts the pseudo-header sum
 *    it finds in the super-frame instead, so a sender that put a wrong one
 *    there gets wrong checksums from the kernel and right ones here; for
 *    a right one the result is the same.
 *
 *  - A super-frame whose payload fits in one gso_size yields one frame;
 *    the kernel drops it (tcp_gso_segment() and __udp_gso_segment() fail
 *    with -EINVAL when skb->len <= mss), a NIC would send it.
 *
 *  - The headers are parsed and checked more strictly than the kernel's
 *    GSO does: IPv4 tot_len, IPv6 payload_len and the UDP length must
 *    match the frame, IPv4 fragments and IPv6 extension headers are
 *    refused, and with NEEDS_CSUM, csum_start/csum_offset must point at
 *    the TCP or UDP checksum.  (The kernel takes the transport header
 *    from csum_start and ignores the length fields.)  A frame failing
 *    these is malformed and should be dropped, not guessed at.
 *
 *  - Not implemented: UFO (VIRTIO_NET_HDR_GSO_UDP), which the kernel still
 *    fragments for old guests; tunnels, SCTP, GSO_PARTIAL and AccECN,
 *    which a virtio-net header cannot ask for anyway.
 *
 * The Internet checksum is summed over native-endian words and stored in
 * native order, which gives the same bytes as the big-endian definition
 * (RFC 1071, "byte order independence").
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tapswitch/frame.h"
#include "tapswitch/gso.h"
#include "tapswitch/util.h"

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* The parsed headers of a frame to segment. */
struct gso_hdrs {
	size_t l3;		/* IP header offset */
	size_t l4;		/* TCP/UDP header offset */
	size_t end;		/* end of the TCP/UDP header: payload offset */
	bool ipv6;
	bool tcp;
};

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Add the bytes p[0..n) to the one's-complement sum, as native-endian
 * 16-bit words (an odd last byte padded with a zero).  p must be an even
 * number of bytes into what is being summed.  The 64-bit accumulator takes
 * 2^32 32-bit words before it could overflow: no frame comes near.
 */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint32_t w[4];
	uint8_t tail[4] = { 0 };

	for (; n >= sizeof(w); p += sizeof(w), n -= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
	}
	for (; n >= 4; p += 4, n -= 4) {
		memcpy(w, p, 4);
		sum += w[0];
	}
	memcpy(tail, p, n);
	memcpy(w, tail, 4);
	return sum + w[0];
}

/* Fold to 16 bits and complement: the value to store, in native order. */
static uint16_t
csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
csum_store(uint8_t *p, uint16_t c)
{
	memcpy(p, &c, sizeof(c));
}

int
gso_csum_complete(uint8_t *frame, size_t len,
    const struct virtio_net_hdr *vh)
{
	size_t start = le16toh(vh->csum_start);
	size_t field = start + le16toh(vh->csum_offset);
	uint16_t c;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (field + 2 > len)
		return -EINVAL;
	c = csum_fold(csum_add(0, frame + start, len - start));
	csum_store(frame + field, c ? c : 0xffff);
	return 0;
}

/* Parse and check the headers of a GSO frame of the IP version and L4
 * protocol gso_type names (see gso_segment() for what is refused). */
static int
parse(const uint8_t *f, size_t len, const struct virtio_net_hdr *vh,
    unsigned type, struct gso_hdrs *h)
{
	struct frame_info fi;

	if (frame_parse(f, len, &fi) < 0)
		return -EINVAL;
	h->l3 = fi.l2_len;
	h->tcp = type != VIRTIO_NET_HDR_GSO_UDP_L4;
	if (fi.ethertype == ETH_TYPE_IPV4 &&
	    type != VIRTIO_NET_HDR_GSO_TCPV6) {
		const uint8_t *ip = f + h->l3;
		size_t ihl;

		if (len < h->l3 + IPV4_HDR_MIN || ip[0] >> 4 != 4)
			return -EINVAL;
		ihl = (size_t)(ip[0] & 15) * 4;
		/* No fragments (MF or an offset): segmenting one makes no
		 * sense, and the kernel's TCP never sends one. */
		if (ihl < IPV4_HDR_MIN || get_be16(ip + 2) != len - h->l3 ||
		    (get_be16(ip + 6) & 0x3fff) != 0 ||
		    ip[9] != (h->tcp ? PROTO_TCP : PROTO_UDP))
			return -EINVAL;
		h->ipv6 = false;
		h->l4 = h->l3 + ihl;
	} else if (fi.ethertype == ETH_TYPE_IPV6 &&
	    type != VIRTIO_NET_HDR_GSO_TCPV4) {
		const uint8_t *ip = f + h->l3;

		/* The next header must be TCP or UDP itself: extension
		 * headers are refused. */
		if (len < h->l3 + IPV6_HDR_LEN || ip[0] >> 4 != 6 ||
		    get_be16(ip + 4) != len - h->l3 - IPV6_HDR_LEN ||
		    ip[6] != (h->tcp ? PROTO_TCP : PROTO_UDP))
			return -EINVAL;
		h->ipv6 = true;
		h->l4 = h->l3 + IPV6_HDR_LEN;
	} else {
		return -EINVAL;
	}
	if (h->tcp) {
		size_t doff;

		if (len < h->l4 + TCP_HDR_MIN)
			return -EINVAL;
		doff = (size_t)(f[h->l4 + 12] >> 4) * 4;
		if (doff < TCP_HDR_MIN || len < h->l4 + doff)
			return -EINVAL;
		h->end = h->l4 + doff;
	} else {
		if (len < h->l4 + UDP_HDR_LEN ||
		    get_be16(f + h->l4 + 4) != len - h->l4)
			return -EINVAL;
		h->end = h->l4 + UDP_HDR_LEN;
	}
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (le16toh(vh->csum_start) != h->l4 || le16toh(vh->csum_offset) !=
	    (h->tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF)))
		return -EINVAL;
	return 0;
}

/* The sum of the TCP/UDP pseudo-header of segment s for l4_len bytes. */
static uint64_t
pseudo_sum(const uint8_t *s, const struct gso_hdrs *h, size_t l4_len)
{
	uint8_t ph[8] = { 0 };
	uint64_t sum;

	if (h->ipv6) {
		/* Source and destination, then 32-bit length, 3 zero bytes
		 * and the next header. */
		sum = csum_add(0, s + h->l3 + 8, 32);
		put_be32(ph, (uint32_t)l4_len);
	} else {
		/* Source and destination, then zero, protocol, length. */
		sum = csum_add(0, s + h->l3 + 12, 8);
		put_be16(ph + 6, (uint16_t)l4_len);
	}
	ph[h->ipv6 ? 7 : 5] = h->tcp ? PROTO_TCP : PROTO_UDP;
	return csum_add(sum, ph, sizeof(ph));
}

/* Fix up the headers of segment i of nseg, s[0..seg_len), whose payload
 * starts at payload offset off of the super-frame's, and compute its
 * checksums. */
static void
fix_segment(uint8_t *s, size_t seg_len, const struct gso_hdrs *h,
    size_t i, size_t nseg, size_t off)
{
	uint8_t *ip = s + h->l3, *l4 = s + h->l4;
	size_t l4_len = seg_len - h->l4;
	uint16_t c;

	if (h->ipv6) {
		put_be16(ip + 4, (uint16_t)(seg_len - h->l3 - IPV6_HDR_LEN));
	} else {
		put_be16(ip + 2, (uint16_t)(seg_len - h->l3));
		put_be16(ip + 4, (uint16_t)(get_be16(ip + 4) + i));
		put_be16(ip + 10, 0);
		csum_store(ip + 10, csum_fold(csum_add(0, ip,
		    (size_t)(ip[0] & 15) * 4)));
	}
	if (h->tcp) {
		put_be32(l4 + 4, get_be32(l4 + 4) + (uint32_t)off);
		if (i + 1 < nseg)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		put_be16(l4 + TCP_CSUM_OFF, 0);
		csum_store(l4 + TCP_CSUM_OFF, csum_fold(csum_add(
		    pseudo_sum(s, h, l4_len), l4, l4_len)));
	} else {
		put_be16(l4 + 4, (uint16_t)l4_len);
		put_be16(l4 + UDP_CSUM_OFF, 0);
		c = csum_fold(csum_add(pseudo_sum(s, h, l4_len), l4, l4_len));
		csum_store(l4 + UDP_CSUM_OFF, c ? c : 0xffff);
	}
}

int
gso_segment(const uint8_t *frame, size_t len,
    const struct virtio_net_hdr *vh, uint8_t *out, size_t out_size,
    size_t *lens, size_t max_segs)
{
	unsigned type = vh->gso_type & (unsigned)~VIRTIO_NET_HDR_GSO_ECN;
	size_t mss = le16toh(vh->gso_size);
	size_t payload, nseg, o = 0;
	struct gso_hdrs h;
	int r;

	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    (size_t)le16toh(vh->csum_start) +
		    le16toh(vh->csum_offset) + 2 > len)
			return -EINVAL;
		if (max_segs < 1 || out_size < len)
			return -ENOSPC;
		memcpy(out, frame, len);
		/* Cannot fail: checked above, before out was written. */
		gso_csum_complete(out, len, vh);
		lens[0] = len;
		return 1;
	}
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		break;
	case VIRTIO_NET_HDR_GSO_NONE:
		/* The ECN bit alone: the kernel refuses it too. */
		return -EINVAL;
	default:
		return -EOPNOTSUPP;
	}
	if (mss == 0 || le16toh(vh->hdr_len) > len)
		return -EINVAL;
	if ((r = parse(frame, len, vh, type, &h)) < 0)
		return r;

	payload = len - h.end;
	nseg = payload ? (payload + mss - 1) / mss : 1;
	/* nseg * h.end cannot overflow: both are below 2^17. */
	if (nseg > max_segs || nseg * h.end + payload > out_size)
		return -ENOSPC;
	for (size_t i = 0, off = 0; i < nseg; i++, off += mss) {
		size_t n = payload - off < mss ? payload - off : mss;

		memcpy(out + o, frame, h.end);
		memcpy(out + o + h.end, frame + h.end + off, n);
		lens[i] = h.end + n;
		fix_segment(out + o, lens[i], &h, i, nseg, off);
		o += lens[i];
	}
	return (int)nseg;
}
