/*
 * test_gso.c - unit tests of software GSO and checksum completion
 * (gso.h, gso.c).
 *
 * The reference is the kernel itself: gso_data.h holds frames a Linux
 * TCP/UDP stack sent with offloads on (GSO super-frames and frames with
 * a partial checksum, with the virtio-net header a packet socket with
 * PACKET_VNET_HDR gave for them) and the frames the kernel made of each
 * when it had to segment it and complete its checksums in software.  The
 * module's output must equal those byte for byte, and so must the tagged
 * versions (one 802.1Q tag inserted into the input and into each of the
 * kernel's frames).  No field is exempt: the IPv4 id rule (id + i for
 * segment i) is the kernel's.
 *
 * To regenerate gso_data.h (root; namespaces and veths of its own):
 *
 *	make check    # builds tests/unit/gso_capture
 *	sudo TSW_BUILDDIR=$PWD bash $SRCDIR/tests/unit/gso_capture.sh \
 *	    $SRCDIR/tests/unit/gso_data.h
 *
 * gso_capture.sh says how the frames are made.  The rest of the tests
 * cover every error path and what the kernel data cannot: every gso_size,
 * wrap-around of ids and sequence numbers, odd checksum ranges.
 */
#include "config.h"

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tapswitch/frame.h"
#include "tapswitch/gso.h"

#include "unit.h"

struct gso_case {
	const char *name;
	struct {
		unsigned flags, gso_type, hdr_len, gso_size, csum_start,
		    csum_offset;
	} vh;
	const uint8_t *in;
	size_t in_len;
	const uint8_t *out;	/* the kernel's frames, back to back */
	const size_t *lens;
	size_t nseg;
};

#include "gso_data.h"

#define CASES(x) { x, sizeof(x) / sizeof(x[0]) }
static const struct {
	const struct gso_case *c;
	size_t n;
} groups[] = {
	CASES(tcp4_cases), CASES(tcp4opt_cases), CASES(tcp4cwr_cases),
	CASES(tcp6_cases), CASES(udp4_cases), CASES(udp6_cases),
};

#define OUT_SIZE (128 * 1024)
#define MAX_SEGS 512
#define TCI 0xa064		/* PCP 5, VID 100 */

static uint8_t out[OUT_SIZE];
static size_t lens[MAX_SEGS];

static struct virtio_net_hdr
vh_of(const struct gso_case *c)
{
	return (struct virtio_net_hdr){
		.flags = (uint8_t)c->vh.flags,
		.gso_type = (uint8_t)c->vh.gso_type,
		.hdr_len = htole16((uint16_t)c->vh.hdr_len),
		.gso_size = htole16((uint16_t)c->vh.gso_size),
		.csum_start = htole16((uint16_t)c->vh.csum_start),
		.csum_offset = htole16((uint16_t)c->vh.csum_offset),
	};
}

/* A case by name, so the tests that change frames start from a known
 * one. */
static const struct gso_case *
find_case(const char *name)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g].n; i++)
			if (strcmp(groups[g].c[i].name, name) == 0)
				return &groups[g].c[i];
	ck_abort_msg("no case %s", name);
	return NULL;
}

/* Copy frame f[0..len) to dst with an 802.1Q tag after the addresses. */
static size_t
insert_tag(uint8_t *dst, const uint8_t *f, size_t len)
{
	memcpy(dst, f, 12);
	dst[12] = ETH_TYPE_VLAN >> 8;
	dst[13] = ETH_TYPE_VLAN & 0xff;
	dst[14] = TCI >> 8;
	dst[15] = TCI & 0xff;
	memcpy(dst + 16, f + 12, len - 12);
	return len + VLAN_TAG_LEN;
}

/* Assert that the n frames in out/lens are the expected ones. */
static void
check_frames(const char *what, int n, const uint8_t *exp,
    const size_t *exp_lens, size_t exp_n)
{
	size_t o = 0;

	ck_assert_msg(n == (int)exp_n, "%s: %d frames, the kernel made %zu",
	    what, n, exp_n);
	for (size_t i = 0; i < exp_n; i++) {
		ck_assert_msg(lens[i] == exp_lens[i],
		    "%s: frame %zu is %zu bytes, the kernel's %zu", what, i,
		    lens[i], exp_lens[i]);
		for (size_t b = 0; b < lens[i]; b++)
			ck_assert_msg(out[o + b] == exp[o + b],
			    "%s: frame %zu byte %zu is %#04x, the kernel's "
			    "%#04x", what, i, b, out[o + b], exp[o + b]);
		o += lens[i];
	}
}

/* Each case as the kernel saw it. */
START_TEST(test_kernel_frames)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (size_t i = 0; i < groups[g].n; i++) {
			const struct gso_case *c = &groups[g].c[i];
			struct virtio_net_hdr vh = vh_of(c);
			int n;

			size_t total = 0;

			memset(out, 0xa5, sizeof(out));
			n = gso_segment(c->in, c->in_len, &vh, out, OUT_SIZE,
			    lens, MAX_SEGS);
			check_frames(c->name, n, c->out, c->lens, c->nseg);
			/* Nothing written past the frames. */
			for (size_t s = 0; s < c->nseg; s++)
				total += c->lens[s];
			ck_assert_uint_eq(out[total], 0xa5);
		}
	}
}
END_TEST

/* Each case with a tag inserted: the kernel's frames, tagged. */
START_TEST(test_kernel_frames_tagged)
{
	static uint8_t in[70000], exp[OUT_SIZE];
	size_t exp_lens[MAX_SEGS];

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (size_t i = 0; i < groups[g].n; i++) {
			const struct gso_case *c = &groups[g].c[i];
			struct virtio_net_hdr vh = vh_of(c);
			size_t len, o = 0, eo = 0;
			int n;

			len = insert_tag(in, c->in, c->in_len);
			vh.csum_start = htole16((uint16_t)(c->vh.csum_start +
			    VLAN_TAG_LEN));
			if (c->vh.hdr_len)
				vh.hdr_len = htole16((uint16_t)(c->vh.hdr_len +
				    VLAN_TAG_LEN));
			for (size_t s = 0; s < c->nseg; s++) {
				exp_lens[s] = insert_tag(exp + eo, c->out + o,
				    c->lens[s]);
				o += c->lens[s];
				eo += exp_lens[s];
			}
			n = gso_segment(in, len, &vh, out, OUT_SIZE, lens,
			    MAX_SEGS);
			check_frames(c->name, n, exp, exp_lens, c->nseg);
		}
	}
}
END_TEST

/* The frames with a partial checksum and no GSO: completed in place as
 * the kernel completed them. */
START_TEST(test_kernel_csum)
{
	static uint8_t f[2048];
	static const char *const names[] = { "tcp4_0", "tcp6_0", "udp4_0" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct gso_case *c = find_case(names[i]);
		struct virtio_net_hdr vh = vh_of(c);

		ck_assert_uint_eq(c->vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		ck_assert_uint_eq(c->nseg, 1);
		memcpy(f, c->in, c->in_len);
		ck_assert_int_eq(gso_csum_complete(f, c->in_len, &vh), 0);
		ck_assert_msg(memcmp(f, c->out, c->in_len) == 0, "%s",
		    c->name);
	}
}
END_TEST

/* --- an independent reader of frames, for the tests below ------------ */

struct parsed {
	size_t l3, l4, end;	/* offsets of IP, L4 header, payload */
	bool v6, tcp;
};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static void
parse(const uint8_t *f, struct parsed *p)
{
	p->l3 = be16(f + 12) == ETH_TYPE_VLAN ? 18 : 14;
	p->v6 = (f[p->l3] >> 4) == 6;
	p->l4 = p->l3 + (p->v6 ? 40 : (size_t)(f[p->l3] & 15) * 4);
	p->tcp = f[p->l3 + (p->v6 ? 6 : 9)] == 6;
	p->end = p->l4 + (p->tcp ? (size_t)(f[p->l4 + 12] >> 4) * 4 : 8);
}

/* The one's-complement sum of big-endian words, byte by byte. */
static uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Whether frame f[0..len)'s IPv4 header and L4 checksums verify. */
static bool
csums_ok(const uint8_t *f, size_t len)
{
	struct parsed p;
	uint32_t sum;
	size_t l4_len;

	parse(f, &p);
	l4_len = len - p.l4;
	if (p.v6) {
		sum = ref_sum(0, f + p.l3 + 8, 32);
	} else {
		if (ref_fold(ref_sum(0, f + p.l3, p.l4 - p.l3)) != 0xffff)
			return false;
		sum = ref_sum(0, f + p.l3 + 12, 8);
	}
	sum += (uint32_t)l4_len + (p.tcp ? 6 : 17);
	return ref_fold(ref_sum(sum, f + p.l4, l4_len)) == 0xffff;
}

/* Every gso_size from 1 to past the payload: the frames carry the
 * payload in order, their headers follow the rules, their checksums
 * verify. */
START_TEST(test_every_gso_size)
{
	static const char *const names[] = {
		"tcp4_1", "tcp4cwr_0", "tcp6_1", "udp4_1", "udp6_0",
	};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const struct gso_case *c = find_case(names[k]);
		const uint8_t *in = c->in;
		struct parsed p;
		size_t payload;

		parse(in, &p);
		payload = c->in_len - p.end;
		for (size_t mss = 1; mss <= payload + 1; mss++) {
			struct virtio_net_hdr vh = vh_of(c);
			size_t exp_n = (payload + mss - 1) / mss, o = 0;
			int n;

			vh.gso_size = htole16((uint16_t)mss);
			n = gso_segment(in, c->in_len, &vh, out, OUT_SIZE,
			    lens, MAX_SEGS);
			ck_assert_int_eq(n, (int)exp_n);
			for (size_t i = 0; i < exp_n; i++) {
				const uint8_t *s = out + o;
				size_t pl = i + 1 < exp_n ? mss :
				    payload - (exp_n - 1) * mss;

				ck_assert_uint_eq(lens[i], p.end + pl);
				ck_assert(memcmp(s + p.end, in + p.end + i * mss,
				    pl) == 0);
				ck_assert_msg(csums_ok(s, lens[i]), "%s mss %zu "
				    "frame %zu", c->name, mss, i);
				/* Addresses, tag, IP addresses untouched. */
				ck_assert(memcmp(s, in, 12) == 0);
				if (!p.v6)
					ck_assert_uint_eq(be16(s + p.l3 + 4),
					    (uint16_t)(be16(in + p.l3 + 4) + i));
				if (p.tcp) {
					uint8_t fl = in[p.l4 + 13];

					ck_assert_uint_eq(be32(s + p.l4 + 4),
					    be32(in + p.l4 + 4) + i * mss);
					if (i + 1 < exp_n)
						fl &= (uint8_t)~0x09;
					if (i > 0)
						fl &= (uint8_t)~0x80;
					ck_assert_uint_eq(s[p.l4 + 13], fl);
				} else {
					ck_assert_uint_eq(be16(s + p.l4 + 4),
					    8 + pl);
				}
				o += lens[i];
			}
		}
	}
}
END_TEST

/* A copy of case name in buf, its header in *vh, its parsed headers. */
static size_t
load(const char *name, uint8_t *buf, struct virtio_net_hdr *vh,
    struct parsed *p)
{
	const struct gso_case *c = find_case(name);

	memcpy(buf, c->in, c->in_len);
	*vh = vh_of(c);
	if (p)
		parse(buf, p);
	return c->in_len;
}

static int
seg(const uint8_t *f, size_t len, const struct virtio_net_hdr *vh)
{
	return gso_segment(f, len, vh, out, OUT_SIZE, lens, MAX_SEGS);
}

/* The IPv4 id and the TCP sequence number wrap around. */
START_TEST(test_wrap)
{
	uint8_t f[2048];
	struct virtio_net_hdr vh;
	struct parsed p;
	size_t len = load("tcp4_1", f, &vh, &p), o = 0;
	uint32_t mss = le16toh(vh.gso_size);
	int n;

	f[p.l3 + 4] = 0xff;
	f[p.l3 + 5] = 0xfe;
	memset(f + p.l4 + 4, 0xff, 4);
	n = seg(f, len, &vh);
	ck_assert_int_eq(n, (int)find_case("tcp4_1")->nseg);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(be16(out + o + p.l3 + 4),
		    (uint16_t)(0xfffe + i));
		ck_assert_uint_eq(be32(out + o + p.l4 + 4),
		    (uint32_t)(0xffffffffu + (uint32_t)i * mss));
		ck_assert(csums_ok(out + o, lens[i]));
		o += lens[i];
	}
}
END_TEST

/* The checksums do not depend on what the super-frame's checksum fields
 * held (the kernel would trust the pseudo-header sum there). */
START_TEST(test_csum_field_ignored)
{
	static const char *const names[] = { "tcp4_1", "tcp6_1", "udp4_1" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const struct gso_case *c = find_case(names[k]);
		uint8_t f[2048];
		struct virtio_net_hdr vh;
		struct parsed p;
		size_t len = load(names[k], f, &vh, &p);

		f[p.l4 + (p.tcp ? 16 : 6)] ^= 0x5a;
		if (!p.v6)
			f[p.l3 + 10] ^= 0xa5;
		check_frames(c->name, seg(f, len, &vh), c->out, c->lens,
		    c->nseg);
	}
}
END_TEST

/* A UDP segment whose checksum comes out 0 gets 0xffff (0 would mean "no
 * checksum"), a TCP one keeps 0: both as the kernel does. */
START_TEST(test_zero_csum)
{
	static const char *const names[] = { "udp4_1", "udp6_0", "tcp4_1",
	    "tcp6_1" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		uint8_t f[2048];
		struct virtio_net_hdr vh;
		struct parsed p;
		size_t len = load(names[k], f, &vh, &p);
		size_t field = p.l4 + (p.tcp ? 16 : 6);
		uint32_t w;

		ck_assert_int_gt(seg(f, len, &vh), 1);
		/* Adding the first segment's checksum to a word of its
		 * payload makes its sum 0xffff, its checksum 0. */
		w = be16(f + p.end) + (uint32_t)be16(out + field);
		w = (w & 0xffff) + (w >> 16);
		f[p.end] = (uint8_t)(w >> 8);
		f[p.end + 1] = (uint8_t)w;
		ck_assert_int_gt(seg(f, len, &vh), 1);
		ck_assert_uint_eq(be16(out + field), p.tcp ? 0 : 0xffff);
		ck_assert(csums_ok(out, lens[0]));
	}
}
END_TEST

/* A super-frame whose payload fits in one gso_size (or is empty) makes
 * one frame, flags kept, checksums complete. */
START_TEST(test_one_segment)
{
	uint8_t f[2048];
	struct virtio_net_hdr vh;
	struct parsed p;
	size_t len = load("tcp4cwr_0", f, &vh, &p);

	vh.gso_size = htole16((uint16_t)(len - p.end));
	ck_assert_int_eq(seg(f, len, &vh), 1);
	ck_assert_uint_eq(lens[0], len);
	ck_assert_uint_eq(out[p.l4 + 13], f[p.l4 + 13]);
	ck_assert(csums_ok(out, len));

	/* Only headers: a frame of headers. */
	len = p.end;
	f[p.l3 + 2] = 0;
	f[p.l3 + 3] = (uint8_t)(len - p.l3);
	ck_assert_int_eq(seg(f, len, &vh), 1);
	ck_assert_uint_eq(lens[0], len);
	ck_assert(csums_ok(out, len));

	len = load("udp6_0", f, &vh, &p);
	vh.gso_size = htole16(65535);
	ck_assert_int_eq(seg(f, len, &vh), 1);
	ck_assert(csums_ok(out, len));
}
END_TEST

/* Odd checksum ranges and offsets, against the byte-wise reference:
 * the complement of the sum of the range as it was (0 as 0xffff). */
START_TEST(test_csum_complete_ranges)
{
	uint8_t f[300], g[300];
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };

	srand(7);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 2 + (size_t)rand() % 250;
		size_t start = (size_t)rand() % (len - 1);
		size_t off = (size_t)rand() % (len - 1 - start);
		uint16_t want;

		for (size_t i = 0; i < len; i++)
			f[i] = (uint8_t)rand();
		memcpy(g, f, len);
		vh.csum_start = htole16((uint16_t)start);
		vh.csum_offset = htole16((uint16_t)off);
		want = (uint16_t)~ref_fold(ref_sum(0, f + start, len - start));
		if (want == 0)
			want = 0xffff;
		ck_assert_int_eq(gso_csum_complete(f, len, &vh), 0);
		/* The value goes in as it is, even at an odd offset (as
		 * the kernel stores it); nothing else changes. */
		ck_assert_uint_eq(be16(f + start + off), want);
		ck_assert(memcmp(f, g, start + off) == 0);
		ck_assert(memcmp(f + start + off + 2, g + start + off + 2,
		    len - start - off - 2) == 0);
	}
}
END_TEST

/* A sum of 0 is stored as 0xffff; no flag, nothing done. */
START_TEST(test_csum_complete_zero_and_noflag)
{
	uint8_t f[64] = { 0 }, g[64];
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .csum_start = htole16(20), .csum_offset = htole16(6) };

	/* All zeros: the sum is 0, its complement 0xffff; with 0xffff in
	 * the field the complement is 0, sent as 0xffff. */
	ck_assert_int_eq(gso_csum_complete(f, 64, &vh), 0);
	ck_assert_uint_eq(be16(f + 26), 0xffff);
	ck_assert_int_eq(gso_csum_complete(f, 64, &vh), 0);
	ck_assert_uint_eq(be16(f + 26), 0xffff);

	memset(f, 0x33, sizeof(f));
	memcpy(g, f, sizeof(f));
	vh.flags = 0;
	vh.csum_start = htole16(1000);
	ck_assert_int_eq(gso_csum_complete(f, 64, &vh), 0);
	ck_assert(memcmp(f, g, sizeof(f)) == 0);
	vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	ck_assert_int_eq(gso_csum_complete(f, 64, &vh), 0);
	ck_assert(memcmp(f, g, sizeof(f)) == 0);
}
END_TEST

/* Offsets outside the frame: -EINVAL, frame untouched. */
START_TEST(test_csum_complete_bad_offsets)
{
	uint8_t f[64], g[64];
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	static const struct { unsigned start, off; size_t len; } bad[] = {
		{ 64, 0, 64 }, { 63, 0, 64 }, { 62, 1, 64 }, { 0, 63, 64 },
		{ 65535, 65535, 64 }, { 40, 24, 64 }, { 0, 0, 1 }, { 0, 0, 0 },
	};

	memset(f, 0x42, sizeof(f));
	memcpy(g, f, sizeof(f));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vh.csum_start = htole16((uint16_t)bad[i].start);
		vh.csum_offset = htole16((uint16_t)bad[i].off);
		ck_assert_int_eq(gso_csum_complete(f, bad[i].len, &vh),
		    -EINVAL);
		ck_assert(memcmp(f, g, sizeof(f)) == 0);
		/* The same through gso_segment(), without GSO. */
		ck_assert_int_eq(seg(f, bad[i].len, &vh), -EINVAL);
	}
	/* The field's last byte is the frame's last byte: fine. */
	vh.csum_start = htole16(40);
	vh.csum_offset = htole16(22);
	ck_assert_int_eq(gso_csum_complete(f, 64, &vh), 0);
	ck_assert_int_eq(seg(g, 64, &vh), 1);
	ck_assert(memcmp(out, f, 64) == 0);
}
END_TEST

/* Every prefix of every case is refused (the IP length no longer
 * matches, or a header is cut), never read past. */
START_TEST(test_truncated)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (size_t i = 0; i < groups[g].n; i++) {
			const struct gso_case *c = &groups[g].c[i];
			struct virtio_net_hdr vh = vh_of(c);

			if (c->vh.gso_type == VIRTIO_NET_HDR_GSO_NONE)
				continue;
			vh.hdr_len = 0;
			for (size_t len = 0; len < c->in_len; len++) {
				/* A heap copy of exactly len bytes, so that
				 * ASan sees any read past it. */
				uint8_t *t = malloc(len ? len : 1);

				memcpy(t, c->in, len);
				ck_assert_msg(seg(t, len, &vh) == -EINVAL,
				    "%s cut to %zu", c->name, len);
				free(t);
			}
		}
	}
}
END_TEST

/* Malformed headers, one field at a time. */
START_TEST(test_bad_headers)
{
	uint8_t f[2048], t[2048];
	struct virtio_net_hdr vh, v;
	struct parsed p;
	size_t len;
	int good;

	/* IPv4/TCP. */
	len = load("tcp4_1", f, &vh, &p);
	ck_assert_int_gt(good = seg(f, len, &vh), 1);
#define BAD(mod) do { \
		memcpy(t, f, len); \
		v = vh; \
		mod; \
		ck_assert_int_eq(seg(t, len, &v), -EINVAL); \
	} while (0)
	BAD(v.gso_size = 0);
	BAD(v.hdr_len = htole16((uint16_t)(len + 1)));
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4);
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_ECN);
	BAD(v.csum_start = htole16((uint16_t)(p.l4 + 1)));
	BAD(v.csum_start = htole16((uint16_t)(p.l3)));
	BAD(v.csum_offset = htole16(6));
	BAD(t[12] = 0x08; t[13] = 0x06);	/* ARP */
	BAD(t[p.l3] = 0x65);			/* version 6 */
	BAD(t[p.l3] = 0x44);			/* IHL 4 */
	BAD(t[p.l3] = 0x4f);			/* IHL 15: csum_start off */
	BAD(t[p.l3 + 3]++);			/* tot_len */
	BAD(t[p.l3 + 3]--);
	BAD(t[p.l3 + 6] |= 0x20);		/* MF */
	BAD(t[p.l3 + 7] = 1);			/* fragment offset */
	BAD(t[p.l3 + 9] = 17);			/* UDP */
	BAD(t[p.l3 + 9] = 1);			/* ICMP */
	BAD(t[p.l4 + 12] = 0x40);		/* doff 4 */
	BAD(t[p.l4 + 12] = 0x00);
	/* hdr_len is a hint: 0 or short is fine; the flag is optional. */
	v = vh;
	v.hdr_len = 0;
	ck_assert_int_eq(seg(f, len, &v), good);
	v.hdr_len = htole16(14);
	ck_assert_int_eq(seg(f, len, &v), good);
	v.hdr_len = htole16((uint16_t)len);
	ck_assert_int_eq(seg(f, len, &v), good);
	v.flags = 0;
	v.csum_start = v.csum_offset = htole16(7777);
	ck_assert_int_eq(seg(f, len, &v), good);
	/* The IP header checksum and DF are not checked. */
	f[p.l3 + 6] &= (uint8_t)~0x40;
	f[p.l3 + 11] ^= 0xff;
	ck_assert_int_eq(seg(f, len, &vh), good);

	/* Unsupported GSO types. */
	v = vh;
	v.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert_int_eq(seg(f, len, &v), -EOPNOTSUPP);
	v.gso_type = 2;
	ck_assert_int_eq(seg(f, len, &v), -EOPNOTSUPP);
	v.gso_type = 6 | VIRTIO_NET_HDR_GSO_ECN;
	ck_assert_int_eq(seg(f, len, &v), -EOPNOTSUPP);

	/* A second tag (QinQ, or 802.1Q twice). */
	{
		size_t l = insert_tag(t, f, len);
		uint8_t u[2048];

		l = insert_tag(u, t, l);
		v = vh;
		v.csum_start = htole16((uint16_t)(p.l4 + 8));
		ck_assert_int_eq(seg(u, l, &v), -EINVAL);
		u[12] = 0x88;
		u[13] = 0xa8;
		ck_assert_int_eq(seg(u, l, &v), -EINVAL);
		v.csum_start = htole16((uint16_t)(p.l4 + 4));
		l = insert_tag(t, f, len);
		ck_assert_int_eq(seg(t, l, &v), good);
	}

	/* IPv6/TCP. */
	len = load("tcp6_1", f, &vh, &p);
	ck_assert_int_gt(good = seg(f, len, &vh), 1);
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
	BAD(t[p.l3] = 0x45);			/* version 4 */
	BAD(t[p.l3 + 5]++);			/* payload_len */
	BAD(t[p.l3 + 6] = 0);			/* hop-by-hop options */
	BAD(t[p.l3 + 6] = 43);			/* routing header */
	BAD(t[p.l3 + 6] = 44);			/* fragment header */
	BAD(t[p.l3 + 6] = 17);

	/* IPv4/UDP and IPv6/UDP. */
	len = load("udp4_1", f, &vh, &p);
	ck_assert_int_gt(good = seg(f, len, &vh), 1);
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
	BAD(v.csum_offset = htole16(16));
	BAD(t[p.l4 + 5]++);			/* UDP length */
	BAD(t[p.l4 + 5]--);
	BAD(t[p.l3 + 9] = 6);
	/* ECN means nothing to UDP; the kernel lets it pass, so do we. */
	v = vh;
	v.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	ck_assert_int_eq(seg(f, len, &v), good);
	len = load("udp6_0", f, &vh, &p);
	ck_assert_int_gt(good = seg(f, len, &vh), 1);
	BAD(v.gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
	BAD(t[p.l4 + 5]++);
	BAD(t[p.l3 + 6] = 60);			/* destination options */
#undef BAD
}
END_TEST

/* Too little room: -ENOSPC, nothing written; exactly enough: fine. */
START_TEST(test_no_room)
{
	static const char *const names[] = { "tcp4_1", "udp6_0", "tcp4_0" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const struct gso_case *c = find_case(names[k]);
		struct virtio_net_hdr vh = vh_of(c);
		size_t need = 0;
		size_t l[MAX_SEGS];

		for (size_t i = 0; i < c->nseg; i++)
			need += c->lens[i];
		memset(out, 0x5a, OUT_SIZE);
		memset(l, 0x5a, sizeof(l));
		ck_assert_int_eq(gso_segment(c->in, c->in_len, &vh, out,
		    need - 1, l, MAX_SEGS), -ENOSPC);
		ck_assert_int_eq(gso_segment(c->in, c->in_len, &vh, out,
		    need, l, c->nseg - 1), -ENOSPC);
		ck_assert_int_eq(gso_segment(c->in, c->in_len, &vh, out,
		    0, l, 0), -ENOSPC);
		for (size_t i = 0; i < OUT_SIZE; i++)
			ck_assert_uint_eq(out[i], 0x5a);
		for (size_t i = 0; i < sizeof(l); i++)
			ck_assert_uint_eq(((uint8_t *)l)[i], 0x5a);
		ck_assert_int_eq(gso_segment(c->in, c->in_len, &vh, out,
		    need, l, c->nseg), (int)c->nseg);
		ck_assert_uint_eq(out[need], 0x5a);
		ck_assert(memcmp(out, c->out, need) == 0);
	}

	/* 1-byte segments: a frame per payload byte. */
	{
		const struct gso_case *c = find_case("tcp4_1");
		struct virtio_net_hdr vh = vh_of(c);
		struct parsed p;

		parse(c->in, &p);
		vh.gso_size = htole16(1);
		ck_assert_int_eq(gso_segment(c->in, c->in_len, &vh, out,
		    OUT_SIZE, lens, 100), -ENOSPC);
		ck_assert_int_eq(seg(c->in, c->in_len, &vh),
		    (int)(c->in_len - p.end));
	}
}
END_TEST

static Suite *
gso_suite(void)
{
	Suite *s = suite_create("gso");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kernel_frames);
	tcase_add_test(tc, test_kernel_frames_tagged);
	tcase_add_test(tc, test_kernel_csum);
	tcase_add_test(tc, test_every_gso_size);
	tcase_add_test(tc, test_wrap);
	tcase_add_test(tc, test_csum_field_ignored);
	tcase_add_test(tc, test_zero_csum);
	tcase_add_test(tc, test_one_segment);
	tcase_add_test(tc, test_csum_complete_ranges);
	tcase_add_test(tc, test_csum_complete_zero_and_noflag);
	tcase_add_test(tc, test_csum_complete_bad_offsets);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_no_room);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(gso_suite());
}
