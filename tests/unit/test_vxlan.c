/*
 * test_vxlan.c - unit tests of the VXLAN header and the inner flow hash
 * (vxlan.h, vxlan.c).
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "tapswitch/frame.h"
#include "tapswitch/vxlan.h"

#include "unit.h"

START_TEST(test_encode)
{
	uint8_t h[VXLAN_HDR_LEN];
	static const uint8_t want[] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };

	memset(h, 0xff, sizeof(h));
	vxlan_encode(h, 0x123456);
	ck_assert_mem_eq(h, want, sizeof(want));
	vxlan_encode(h, VXLAN_VNI_MAX);
	ck_assert_uint_eq(h[4], 0xff);
	ck_assert_uint_eq(h[6], 0xff);
	ck_assert_uint_eq(h[7], 0);
}
END_TEST

START_TEST(test_decode)
{
	uint8_t d[VXLAN_HDR_LEN + 64];
	uint32_t vni = 0;

	memset(d, 0, sizeof(d));
	vxlan_encode(d, 100);
	ck_assert_int_eq(vxlan_decode(d, sizeof(d), &vni), VXLAN_RX_OK);
	ck_assert_uint_eq(vni, 100);
	/* Exactly a header and an Ethernet header. */
	ck_assert_int_eq(vxlan_decode(d, VXLAN_HDR_LEN + ETH_HDR_LEN, &vni),
	    VXLAN_RX_OK);
	/* Reserved bits are ignored on receipt (RFC 7348, 5). */
	d[0] = 0xff;
	d[1] = d[2] = d[3] = d[7] = 0xaa;
	vni = 0;
	ck_assert_int_eq(vxlan_decode(d, sizeof(d), &vni), VXLAN_RX_OK);
	ck_assert_uint_eq(vni, 100);
	/* The I flag clear. */
	d[0] = 0xf7;
	ck_assert_int_eq(vxlan_decode(d, sizeof(d), &vni), VXLAN_RX_FLAGS);
	d[0] = VXLAN_FLAG_I;
	/* A runt inner frame, the header whole. */
	vni = 0;
	ck_assert_int_eq(vxlan_decode(d, VXLAN_HDR_LEN + ETH_HDR_LEN - 1, &vni),
	    VXLAN_RX_RUNT);
	ck_assert_uint_eq(vni, 100);
	ck_assert_int_eq(vxlan_decode(d, VXLAN_HDR_LEN, &vni), VXLAN_RX_RUNT);
	/* Truncated headers, down to one byte and nothing. */
	for (size_t n = 0; n < VXLAN_HDR_LEN; n++)
		ck_assert_int_eq(vxlan_decode(d, n, &vni), VXLAN_RX_SHORT);
}
END_TEST

/* An IPv4 TCP frame from sport to dport, len bytes. */
static size_t
tcp4(uint8_t *f, size_t len, uint16_t sport, uint16_t dport, uint8_t last)
{
	memset(f, 0, len);
	memcpy(f, (uint8_t[]){ 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0 }, 14);
	f[14] = 0x45;
	f[23] = 6;
	memcpy(f + 26, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, last }, 8);
	f[34] = sport >> 8;
	f[35] = sport & 0xff;
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	for (size_t i = 54; i < len; i++)
		f[i] = (uint8_t)i;
	return len;
}

START_TEST(test_hash_flows)
{
	uint8_t a[200], b[200];
	uint32_t h;

	/* The payload does not matter, the ports do. */
	tcp4(a, 200, 1000, 5201, 2);
	tcp4(b, 200, 1000, 5201, 2);
	b[100] ^= 0xff;
	b[16] = 0x12;		/* the IP length, not part of the flow */
	h = vxlan_flow_hash(a, 200);
	ck_assert_uint_eq(h, vxlan_flow_hash(b, 200));
	ck_assert_uint_eq(h, vxlan_flow_hash(a, 60));
	tcp4(b, 200, 1001, 5201, 2);
	ck_assert_uint_ne(h, vxlan_flow_hash(b, 200));
	tcp4(b, 200, 1000, 5201, 3);
	ck_assert_uint_ne(h, vxlan_flow_hash(b, 200));
	/* A later fragment hashes as the first one does. */
	tcp4(a, 200, 1000, 5201, 2);
	a[20] = 0x20;		/* MF */
	tcp4(b, 200, 9, 9, 2);
	b[21] = 0x10;		/* offset 128 */
	ck_assert_uint_eq(vxlan_flow_hash(a, 200), vxlan_flow_hash(b, 200));
	/* Ports spread: 256 flows give many different low bits. */
	{
		unsigned seen[16] = { 0 }, used = 0;

		for (unsigned p = 0; p < 256; p++) {
			tcp4(a, 64, (uint16_t)(40000 + p), 5201, 2);
			seen[vxlan_flow_hash(a, 64) & 15]++;
		}
		for (unsigned i = 0; i < 16; i++)
			used += seen[i] > 0;
		ck_assert_uint_ge(used, 14);
	}
}
END_TEST

START_TEST(test_hash_short)
{
	uint8_t f[80];

	/* Anything too short for a field just leaves it out: no read past
	 * the end (ASan checks), and the same result for the same bytes. */
	tcp4(f, sizeof(f), 1, 2, 3);
	for (size_t n = 0; n <= sizeof(f); n++)
		ck_assert_uint_eq(vxlan_flow_hash(f, n),
		    vxlan_flow_hash(f, n));
	/* IPv6 with UDP. */
	memset(f, 0, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	f[20] = 17;
	f[54] = 1;
	uint32_t h = vxlan_flow_hash(f, 80);
	f[55] = 1;
	ck_assert_uint_ne(h, vxlan_flow_hash(f, 80));
	ck_assert_uint_eq(vxlan_flow_hash(f, 57), vxlan_flow_hash(f, 54));
}
END_TEST

static Suite *
vxlan_suite(void)
{
	Suite *s = suite_create("vxlan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_hash_flows);
	tcase_add_test(tc, test_hash_short);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(vxlan_suite());
}
