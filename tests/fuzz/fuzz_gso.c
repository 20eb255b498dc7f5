/*
 * fuzz_gso.c - libFuzzer target for software GSO and checksum completion
 * (gso.h): frames and virtio-net headers come from guests and packet
 * sockets, so both are outside input.
 *
 * Input: the 10-byte virtio-net header as it would be read (little-endian
 * fields), one byte that picks the room given to gso_segment(), then the
 * frame.  The frame, the output buffer and the lengths array are heap
 * copies of exactly their sizes, so ASan catches any access past them.
 * Checked on every input:
 *  - gso_csum_complete() fails exactly when the flagged checksum field is
 *    outside the frame, and changes no byte but that field;
 *  - gso_segment() returns 1..max_segs frames that fit the room, or one
 *    of its documented errors;
 *  - each frame of a GSO result, segmented again as a one-segment
 *    super-frame, comes back unchanged: its headers are consistent and
 *    its checksums already right.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tapswitch/gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VH_LEN sizeof(struct virtio_net_hdr)
#define BIG_ROOM (128 * 1024)

static void
check_csum(const uint8_t *frame, size_t len, const struct virtio_net_hdr *vh)
{
	size_t field = (size_t)le16toh(vh->csum_start) +
	    le16toh(vh->csum_offset);
	bool flagged = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint8_t *f = malloc(len ? len : 1);
	int r;

	memcpy(f, frame, len);
	r = gso_csum_complete(f, len, vh);
	if (r != (flagged && field + 2 > len ? -EINVAL : 0))
		abort();
	for (size_t i = 0; i < len; i++)
		if (f[i] != frame[i] && !(r == 0 && flagged &&
		    (i == field || i == field + 1)))
			abort();
	free(f);
}

/* Segment s[0..len) (one frame of a result) again as a super-frame of
 * the same type that fits in one segment: it must come back unchanged. */
static void
check_stable(const uint8_t *s, size_t len, const struct virtio_net_hdr *vh)
{
	struct virtio_net_hdr v = *vh;
	uint8_t *o = malloc(len ? len : 1);
	size_t l;

	v.flags = 0;
	v.hdr_len = 0;
	v.gso_size = htole16(65535);
	if (gso_segment(s, len, &v, o, len, &l, 1) != 1 || l != len ||
	    memcmp(o, s, len) != 0)
		abort();
	free(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	size_t len, room, max_segs, total = 0, *lens;
	uint8_t *frame, *out, sel;
	int r;

	if (size < VH_LEN + 1)
		return 0;
	memcpy(&vh, data, VH_LEN);
	sel = data[VH_LEN];
	len = size - VH_LEN - 1;
	frame = malloc(len ? len : 1);
	memcpy(frame, data + VH_LEN + 1, len);

	check_csum(frame, len, &vh);

	/* The room: enough for the usual gso_size, or tight in bytes, or
	 * as the data path's (128 KiB) with few frames.  (Allocating 128 KiB
	 * every time would cost three quarters of the speed under ASan.) */
	switch (sel & 3) {
	case 0:
		room = len < BIG_ROOM / 4 ? 4 * len + 1024 : BIG_ROOM;
		max_segs = 1024;
		break;
	case 1:
		room = len + (size_t)(sel >> 2) * 64;
		max_segs = 1024;
		break;
	case 2:
		room = BIG_ROOM;
		max_segs = sel >> 2;
		break;
	default:
		room = (size_t)(sel >> 2) * 16;
		max_segs = (sel >> 2) & 7;
		break;
	}
	out = malloc(room ? room : 1);
	lens = malloc(max_segs ? max_segs * sizeof(*lens) : 1);
	r = gso_segment(frame, len, &vh, out, room, lens, max_segs);
	if (r == 0 || (r < 0 && r != -EINVAL && r != -EOPNOTSUPP &&
	    r != -ENOSPC) || (r > 0 && (size_t)r > max_segs))
		abort();
	for (int i = 0; i < r; i++) {
		if (lens[i] > room - total)
			abort();
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			check_stable(out + total, lens[i], &vh);
		total += lens[i];
	}
	free(lens);
	free(out);
	free(frame);
	return 0;
}
