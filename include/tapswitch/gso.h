/*
 * gso.h - segmentation and checksum completion in software, for frames
 * whose virtio-net header leaves work to the device.
 *
 * A TAP with IFF_VNET_HDR and TUNSETOFFLOAD, or a packet socket with
 * PACKET_VNET_HDR, hands over frames as the stack left them for a NIC: a
 * checksum that is only the pseudo-header sum (VIRTIO_NET_HDR_F_NEEDS_CSUM)
 * and GSO super-frames of up to 64 KiB (gso_type, gso_size).  When such a
 * frame must leave through a port that takes no offloads, these functions
 * do what the NIC, or the kernel's software GSO, would have done, so that
 * every frame that leaves is complete and correct.
 *
 * Supported: Ethernet with at most one inline 802.1Q tag; IPv4 (options
 * allowed, no fragments) or IPv6 without extension headers; TCP
 * (VIRTIO_NET_HDR_GSO_TCPV4, _TCPV6, either with VIRTIO_NET_HDR_GSO_ECN)
 * and UDP (VIRTIO_NET_HDR_GSO_UDP_L4, i.e. UDP_SEGMENT).  The result
 * is what the kernel makes of the same frame (see gso.c for which kernel
 * code and where it differs).
 *
 * The header's 16-bit fields are little-endian, as virtio 1.0 has them
 * and as the rest of tapswitch reads them (TAPs and packet sockets use
 * the host's order, which is the same on the little-endian hosts
 * tapswitch runs on).
 *
 * Pure functions over caller-owned memory: no allocation, no state, safe
 * from any thread.  No input makes them read or write outside the buffers
 * they are given.
 */
#ifndef TAPSWITCH_GSO_H
#define TAPSWITCH_GSO_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5	/* older uapi headers lack it */
#endif

/*
 * Complete the checksum of frame[0..len) in place: when vh->flags has
 * VIRTIO_NET_HDR_F_NEEDS_CSUM, the Internet checksum of
 * frame[csum_start..len) (whose checksum field holds the pseudo-header
 * sum, as the kernel leaves it for CHECKSUM_PARTIAL) is stored, folded
 * and complemented, at csum_start + csum_offset, 0 sent as 0xffff.
 * Returns 0 (also when the flag is clear: nothing to do), or -EINVAL
 * when the checksum field does not lie inside the frame; the frame is
 * then unchanged.  vh's gso fields are not looked at.
 */
int gso_csum_complete(uint8_t *frame, size_t len,
    const struct virtio_net_hdr *vh);

/*
 * Cut the frame frame[0..len) that vh describes into the frames a device
 * would send, written back to back into out[0..out_size): frame i starts
 * at out + lens[0] + ... + lens[i - 1] and is lens[i] bytes long; at most
 * max_segs frames.  Each is a complete Ethernet frame (same addresses
 * and tag) with its headers fixed up and every checksum computed in
 * full, so nothing is left to offload.
 *
 * A GSO super-frame (gso_type TCPV4, TCPV6, UDP_L4) yields one frame per
 * gso_size bytes of L4 payload, the last one shorter if need be; one
 * whose payload fits in gso_size yields one frame.  A frame without GSO
 * (VIRTIO_NET_HDR_GSO_NONE) is copied as it is, its checksum completed
 * as by gso_csum_complete() if it is flagged, and yields one frame.
 *
 * Returns the number of frames (>= 1), or
 *   -EINVAL      the frame or the header is malformed or inconsistent:
 *                truncated or runt frame, bad IP version, header lengths
 *                or IP/UDP length fields that do not match the frame, an
 *                IPv4 fragment, IPv6 extension headers, an L4 protocol or
 *                IP version that is not the one gso_type names, gso_size
 *                0, hdr_len beyond the frame, NEEDS_CSUM pointing
 *                elsewhere than the TCP or UDP checksum, a second tag;
 *   -EOPNOTSUPP  a gso_type this module does not implement (UFO,
 *                VIRTIO_NET_HDR_GSO_UDP, or unknown);
 *   -ENOSPC      the frames would not fit in out_size bytes or in
 *                max_segs frames.
 * Everything is checked before anything is written: on error out and
 * lens are untouched.
 *
 * hdr_len is only a hint (Linux sets it to the length of the linear part
 * of its buffer, which may be more than the headers): the headers are
 * parsed from the frame.  It is refused only when larger than the frame.
 *
 * Room needed: nseg * (headers) + payload bytes; headers are at most
 * 14 + 4 + 60 + 60 bytes, nseg = ceil(payload / gso_size).  A 64 KiB
 * TCP super-frame with an MSS of 1448 needs 46 frames.
 */
int gso_segment(const uint8_t *frame, size_t len,
    const struct virtio_net_hdr *vh, uint8_t *out, size_t out_size,
    size_t *lens, size_t max_segs);

#endif
