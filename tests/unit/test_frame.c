/*
 * test_frame.c - unit tests of Ethernet/802.1Q classification and of the
 * MAC helpers (frame.h, frame.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tapswitch/frame.h"

#include "unit.h"

static const uint8_t dst[ETH_ADDR_LEN] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t src[ETH_ADDR_LEN] = { 2, 0, 0, 0, 0, 2 };

/* Build a frame: addresses, an optional tag with tci, the ethertype, then
 * filler bytes up to len. */
static void
build(uint8_t *buf, size_t len, bool tagged, uint16_t tci, uint16_t type)
{
	size_t off = 12;

	memset(buf, 0xee, len);
	memcpy(buf, dst, ETH_ADDR_LEN);
	memcpy(buf + 6, src, ETH_ADDR_LEN);
	if (tagged) {
		buf[off++] = ETH_TYPE_VLAN >> 8;
		buf[off++] = ETH_TYPE_VLAN & 0xff;
		buf[off++] = tci >> 8;
		buf[off++] = tci & 0xff;
	}
	buf[off++] = type >> 8;
	buf[off++] = type & 0xff;
}

START_TEST(test_untagged)
{
	uint8_t buf[64];
	struct frame_info fi;

	build(buf, sizeof(buf), false, 0, 0x0800);
	ck_assert_int_eq(frame_parse(buf, 64, &fi), 0);
	ck_assert_ptr_eq(fi.dst, buf);
	ck_assert_ptr_eq(fi.src, buf + 6);
	ck_assert(!fi.tagged);
	ck_assert_uint_eq(fi.vid, 0);
	ck_assert_uint_eq(fi.pcp, 0);
	ck_assert_uint_eq(fi.l2_len, 14);
	ck_assert_uint_eq(fi.ethertype, 0x0800);

	/* Exactly a header, no payload. */
	ck_assert_int_eq(frame_parse(buf, 14, &fi), 0);
	ck_assert_uint_eq(fi.l2_len, 14);

	/* 802.1ad is just another ethertype here. */
	build(buf, sizeof(buf), false, 0, 0x88a8);
	ck_assert_int_eq(frame_parse(buf, 64, &fi), 0);
	ck_assert(!fi.tagged);
	ck_assert_uint_eq(fi.ethertype, 0x88a8);
}
END_TEST

START_TEST(test_tagged)
{
	uint8_t buf[64];
	struct frame_info fi;

	build(buf, sizeof(buf), true, 0x0064, 0x86dd);	/* VID 100 */
	ck_assert_int_eq(frame_parse(buf, 64, &fi), 0);
	ck_assert(fi.tagged);
	ck_assert_uint_eq(fi.vid, 100);
	ck_assert_uint_eq(fi.pcp, 0);
	ck_assert_uint_eq(fi.l2_len, 18);
	ck_assert_uint_eq(fi.ethertype, 0x86dd);
	ck_assert_ptr_eq(fi.dst, buf);
	ck_assert_ptr_eq(fi.src, buf + 6);

	/* Exactly a tagged header. */
	ck_assert_int_eq(frame_parse(buf, 18, &fi), 0);
	ck_assert_uint_eq(fi.vid, 100);

	/* VID 4095 is reported as is; the caller drops it. */
	build(buf, sizeof(buf), true, 0x0fff, 0x0800);
	ck_assert_int_eq(frame_parse(buf, 64, &fi), 0);
	ck_assert_uint_eq(fi.vid, 4095);

	/* QinQ: only the outer 0x8100 tag is looked at. */
	build(buf, sizeof(buf), true, 0x000a, ETH_TYPE_VLAN);
	ck_assert_int_eq(frame_parse(buf, 64, &fi), 0);
	ck_assert_uint_eq(fi.vid, 10);
	ck_assert_uint_eq(fi.l2_len, 18);
	ck_assert_uint_eq(fi.ethertype, ETH_TYPE_VLAN);
}
END_TEST

START_TEST(test_priority_tagged)
{
	uint8_t buf[60];
	struct frame_info fi;

	build(buf, sizeof(buf), true, 5 << 13, 0x0806);	/* PCP 5, VID 0 */
	ck_assert_int_eq(frame_parse(buf, 60, &fi), 0);
	ck_assert(fi.tagged);
	ck_assert_uint_eq(fi.vid, 0);
	ck_assert_uint_eq(fi.pcp, 5);
	ck_assert_uint_eq(fi.l2_len, 18);
	ck_assert_uint_eq(fi.ethertype, 0x0806);
}
END_TEST

START_TEST(test_pcp)
{
	uint8_t buf[60];
	struct frame_info fi;

	for (unsigned pcp = 0; pcp < 8; pcp++) {
		/* DEI set too: it must not leak into VID or PCP. */
		build(buf, sizeof(buf), true,
		    (uint16_t)(pcp << 13 | 1 << 12 | 42), 0x0800);
		ck_assert_int_eq(frame_parse(buf, 60, &fi), 0);
		ck_assert_uint_eq(fi.pcp, pcp);
		ck_assert_uint_eq(fi.vid, 42);
	}
}
END_TEST

START_TEST(test_runts)
{
	uint8_t buf[64];
	struct frame_info fi;

	build(buf, sizeof(buf), false, 0, 0x0800);
	ck_assert_int_eq(frame_parse(buf, 0, &fi), -EINVAL);
	ck_assert_int_eq(frame_parse(buf, 1, &fi), -EINVAL);
	ck_assert_int_eq(frame_parse(buf, 13, &fi), -EINVAL);

	build(buf, sizeof(buf), true, 10, 0x0800);
	ck_assert_int_eq(frame_parse(buf, 13, &fi), -EINVAL);
	ck_assert_int_eq(frame_parse(buf, 14, &fi), -EINVAL);
	ck_assert_int_eq(frame_parse(buf, 17, &fi), -EINVAL);
	ck_assert_int_eq(frame_parse(buf, 18, &fi), 0);
}
END_TEST

START_TEST(test_runt_reads_nothing_beyond)
{
	/* Heap buffers of the exact length, so ASan catches any overread. */
	for (size_t len = 0; len <= 18; len++) {
		uint8_t *buf = malloc(len ? len : 1);
		struct frame_info fi;
		int r;

		ck_assert_ptr_nonnull(buf);
		memset(buf, 0, len);
		if (len >= 14) {
			buf[12] = ETH_TYPE_VLAN >> 8;
			buf[13] = ETH_TYPE_VLAN & 0xff;
		}
		r = frame_parse(buf, len, &fi);
		ck_assert_int_eq(r, len == 18 ? 0 : -EINVAL);
		free(buf);
	}
}
END_TEST

START_TEST(test_mac_classes)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t ucast[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	static const uint8_t ll0[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };
	static const uint8_t ll_f[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0f };
	static const uint8_t ll_10[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x10 };
	static const uint8_t ll_other[6] = { 0x01, 0x80, 0xc2, 0, 0x01, 0 };

	ck_assert(mac_is_broadcast(bcast));
	ck_assert(mac_is_multicast(bcast));
	ck_assert(!mac_is_broadcast(almost));
	ck_assert(mac_is_multicast(almost));
	ck_assert(mac_is_multicast(mcast));
	ck_assert(!mac_is_broadcast(mcast));
	ck_assert(!mac_is_multicast(ucast));
	ck_assert(!mac_is_link_local(ucast));
	ck_assert(!mac_is_link_local(bcast));

	ck_assert(mac_is_link_local(ll0));
	ck_assert(mac_is_link_local(ll_f));
	ck_assert(!mac_is_link_local(ll_10));
	ck_assert(!mac_is_link_local(ll_other));
	ck_assert(mac_is_multicast(ll0));
}
END_TEST

START_TEST(test_mac_u64)
{
	static const uint8_t m[6] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };
	uint8_t back[6];

	ck_assert_uint_eq(mac_to_u64(m), UINT64_C(0x0123456789ab));
	mac_from_u64(UINT64_C(0x0123456789ab), back);
	ck_assert_mem_eq(back, m, 6);
}
END_TEST

START_TEST(test_mac_parse_good)
{
	static const uint8_t want[6] = { 0xaa, 0xbb, 0xcc, 0x0d, 0xe0, 0xff };
	static const char *const good[] = {
		"aa:bb:cc:0d:e0:ff",
		"AA:BB:CC:0D:E0:FF",
		"aA:Bb:cC:0d:E0:fF",
		"aa-bb-cc-0d-e0-ff",
	};
	uint8_t mac[6];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(mac, 0, sizeof(mac));
		ck_assert_msg(mac_parse(good[i], mac) == 0, "%s", good[i]);
		ck_assert_mem_eq(mac, want, 6);
	}
	ck_assert_int_eq(mac_parse("00:00:00:00:00:00", mac), 0);
	ck_assert_int_eq(mac_to_u64(mac), 0);
	ck_assert_int_eq(mac_parse("ff:ff:ff:ff:ff:ff", mac), 0);
	ck_assert(mac_is_broadcast(mac));
}
END_TEST

START_TEST(test_mac_parse_bad)
{
	static const char *const bad[] = {
		"",
		"a",
		"aa",
		"aa:",
		"aa:bb:cc:dd:ee:f",
		"aa:bb:cc:dd:ee",
		"aa:bb:cc:dd:ee:",
		"gg:bb:cc:dd:ee:ff",
		"aa:bb:cc:dd:ee:fg",
		"aa:bb:cc:dd:ee:ff:",
		"aa:bb:cc:dd:ee:ff:00",
		"aa:bb:cc:dd:ee:ff ",
		" aa:bb:cc:dd:ee:ff",
		"aa:bb:cc:dd:ee:ffx",
		"aa:bb-cc:dd:ee:ff",
		"aa.bb.cc.dd.ee.ff",
		"aabb.ccdd.eeff",
		"aabbccddeeff",
		"a:b:c:d:e:f",
		"aa::bb:cc:dd:ee",
		"+a:bb:cc:dd:ee:ff",
	};
	static const uint8_t untouched[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t mac[6];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, untouched, 6);
		ck_assert_msg(mac_parse(bad[i], mac) == -EINVAL, "\"%s\"",
		    bad[i]);
		ck_assert_mem_eq(mac, untouched, 6);
	}
}
END_TEST

START_TEST(test_mac_format)
{
	static const uint8_t m[6] = { 0x0a, 0xbc, 0xde, 0xf0, 0x01, 0xff };
	char buf[MAC_STR_LEN];
	uint8_t back[6];

	ck_assert_ptr_eq(mac_format(m, buf), buf);
	ck_assert_str_eq(buf, "0a:bc:de:f0:01:ff");
	ck_assert_int_eq(mac_parse(buf, back), 0);
	ck_assert_mem_eq(back, m, 6);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_untagged);
	tcase_add_test(tc, test_tagged);
	tcase_add_test(tc, test_priority_tagged);
	tcase_add_test(tc, test_pcp);
	tcase_add_test(tc, test_runts);
	tcase_add_test(tc, test_runt_reads_nothing_beyond);
	suite_add_tcase(s, tc);

	tc = tcase_create("mac");
	tcase_add_test(tc, test_mac_classes);
	tcase_add_test(tc, test_mac_u64);
	tcase_add_test(tc, test_mac_parse_good);
	tcase_add_test(tc, test_mac_parse_bad);
	tcase_add_test(tc, test_mac_format);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(frame_suite());
}
