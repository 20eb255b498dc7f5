/*
 * test_policy.c - the port policy's decisions: port security (MAC, IPv4,
 * ARP, IPv6 and neighbour advertisements, DHCP and DAD exceptions),
 * EtherTypes, BPDU guard, the rate meters with a clock of our own, the
 * bytes a super-frame stands for, the policy keys' syntax, and what
 * fwd_decide makes of all that (err-disabled ports, storm control, loops
 * seen through MAC flaps).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tapswitch/conf.h"
#include "tapswitch/fwd.h"
#include "tapswitch/policy.h"
#include "tapswitch/qsbr.h"

#include "unit.h"

static const uint8_t MAC_A[6] = { 0x52, 0x54, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x52, 0x54, 0, 0, 0, 0x0b };
static const uint8_t MAC_X[6] = { 0x52, 0x54, 0, 0, 0, 0x99 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t STP[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };

#define inet_pton_4(s, d) inet_pton(AF_INET, (s), (d))
#define inet_pton_6(s, d) inet_pton(AF_INET6, (s), (d))

static void
set(struct conf_port *cp, const char *key, const char *value)
{
	char *err = NULL;

	ck_assert_msg(conf_port_set(cp, key, value, &err) == 0, "%s=%s: %s",
	    key, value, err ? err : "");
}

static bool
set_fails(const char *key, const char *value)
{
	struct conf_port cp;
	char *err = NULL;
	int r;

	conf_port_init(&cp, "p");
	r = conf_port_set(&cp, key, value, &err);
	if (r < 0) {
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strstr(err, key) != NULL, "%s", err);
		free(err);
	}
	conf_port_destroy(&cp);
	return r < 0;
}

static struct policy *
pol_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct conf_port cp;
	struct policy *p;

	conf_port_init(&cp, "p");
	if (k1)
		set(&cp, k1, v1);
	if (k2)
		set(&cp, k2, v2);
	p = policy_new(&cp);
	conf_port_destroy(&cp);
	return p;
}

/* An Ethernet header; returns its length. */
static size_t
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static size_t
ipv4(uint8_t *f, const uint8_t *src_mac, const char *src, uint8_t proto,
    uint16_t sport, uint16_t dport)
{
	size_t o = eth(f, BCAST, src_mac, 0x0800);
	uint8_t *ip = f + o;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[9] = proto;
	ck_assert_int_eq(inet_pton_4(src, ip + 12), 1);
	ip[20] = (uint8_t)(sport >> 8);
	ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	return o + 28 + 32;
}

static size_t
arp(uint8_t *f, const uint8_t *src_mac, const uint8_t *sha, const char *spa)
{
	size_t o = eth(f, BCAST, src_mac, 0x0806);
	uint8_t *a = f + o;

	memset(a, 0, 28);
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;
	memcpy(a + 8, sha, 6);
	ck_assert_int_eq(inet_pton_4(spa, a + 14), 1);
	return o + 28 + 4;
}

/* IPv6 with next header nh; for ICMPv6, type and (NA) target. */
static size_t
ipv6(uint8_t *f, const char *src, uint8_t nh, uint8_t icmp_type,
    const char *target)
{
	size_t o = eth(f, BCAST, MAC_A, 0x86dd);
	uint8_t *ip = f + o;

	memset(ip, 0, 40 + 24);
	ip[0] = 0x60;
	ip[6] = nh;
	ck_assert_int_eq(inet_pton_6(src, ip + 8), 1);
	if (nh == 58) {
		ip[40] = icmp_type;
		if (target)
			ck_assert_int_eq(inet_pton_6(target, ip + 48), 1);
	}
	return o + 40 + 24;
}

static enum policy_verdict
rx(struct policy *p, const uint8_t *f, size_t len)
{
	struct frame_info fi;

	ck_assert_int_eq(frame_parse(f, len, &fi), 0);
	return policy_rx(p, f, len, &fi, len, 1000000000);
}

START_TEST(test_no_key_no_policy)
{
	struct conf_port cp;

	conf_port_init(&cp, "p");
	set(&cp, "vlan", "10");
	ck_assert_ptr_null(policy_new(&cp));
	ck_assert(!conf_port_has_policy(&cp));
	set(&cp, "bpdu_guard", "no");
	ck_assert(conf_port_has_policy(&cp));
	conf_port_destroy(&cp);
}
END_TEST

START_TEST(test_allowed_macs)
{
	struct policy *p = pol_of("allowed_macs",
	    "52:54:00:00:00:0a, 52:54:00:00:00:0c", NULL, NULL);
	uint8_t f[128];

	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.0.0.1", 6, 1, 2)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_B, "10.0.0.1", 6, 1, 2)),
	    POLICY_SPOOF_MAC);
	/* An ARP claiming another hardware address, from an allowed one. */
	ck_assert_int_eq(rx(p, f, arp(f, MAC_A, MAC_A, "10.0.0.1")),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, arp(f, MAC_A, MAC_X, "10.0.0.1")),
	    POLICY_SPOOF_MAC);
	free(p);
}
END_TEST

START_TEST(test_allowed_ipv4_arp_dhcp)
{
	struct policy *p = pol_of("allowed_ips", "10.0.10.5, 10.1.0.0/16",
	    NULL, NULL);
	uint8_t f[128];

	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.0.10.5", 6, 1, 2)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.1.200.3", 6, 1, 2)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.0.10.6", 6, 1, 2)),
	    POLICY_SPOOF_IP);
	/* DHCP from 0.0.0.0: client to server only. */
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "0.0.0.0", 17, 68, 67)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "0.0.0.0", 17, 67, 68)),
	    POLICY_SPOOF_IP);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "0.0.0.0", 6, 68, 67)),
	    POLICY_SPOOF_IP);
	/* ARP: sender address; a probe from 0.0.0.0 claims nothing. */
	ck_assert_int_eq(rx(p, f, arp(f, MAC_A, MAC_A, "10.0.10.5")),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, arp(f, MAC_A, MAC_A, "0.0.0.0")),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, arp(f, MAC_A, MAC_A, "10.0.10.1")),
	    POLICY_SPOOF_IP);
	/* Truncated: cannot be checked, so it does not pass. */
	ck_assert_int_eq(rx(p, f, 14 + 10), POLICY_SPOOF_IP);
	/* Another EtherType passes (no allowed_ethertypes). */
	eth(f, BCAST, MAC_A, 0x88cc);
	ck_assert_int_eq(rx(p, f, 60), POLICY_PASS);
	free(p);
}
END_TEST

START_TEST(test_allowed_ipv6_nd)
{
	struct policy *p = pol_of("allowed_ips",
	    "fd00:10::5, fe80::/64", NULL, NULL);
	uint8_t f[160];

	ck_assert_int_eq(rx(p, f, ipv6(f, "fd00:10::5", 6, 0, NULL)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv6(f, "fe80::1234", 17, 0, NULL)),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv6(f, "fd00:10::6", 6, 0, NULL)),
	    POLICY_SPOOF_IP);
	/* DAD: a neighbour solicitation from ::. */
	ck_assert_int_eq(rx(p, f, ipv6(f, "::", 58, 135, "fd00:10::5")),
	    POLICY_PASS);
	/* Neighbour advertisements: the target counts. */
	ck_assert_int_eq(rx(p, f, ipv6(f, "fe80::1", 58, 136, "fd00:10::5")),
	    POLICY_PASS);
	ck_assert_int_eq(rx(p, f, ipv6(f, "fe80::1", 58, 136, "fd00:10::9")),
	    POLICY_SPOOF_IP);
	/* Hidden behind a hop-by-hop header: still seen. */
	ipv6(f, "fe80::1", 0, 0, NULL);
	f[14 + 40] = 58;	/* next: ICMPv6, length 0 (8 bytes) */
	f[14 + 48] = 136;
	ck_assert_int_eq(inet_pton_6("fd00:10::9", f + 14 + 48 + 8), 1);
	ck_assert_int_eq(rx(p, f, 14 + 40 + 8 + 24 + 8), POLICY_SPOOF_IP);
	ck_assert_int_eq(inet_pton_6("fd00:10::5", f + 14 + 48 + 8), 1);
	ck_assert_int_eq(rx(p, f, 14 + 40 + 8 + 24 + 8), POLICY_PASS);
	/* IPv4 is not allowed at all here. */
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.0.10.5", 6, 1, 2)),
	    POLICY_SPOOF_IP);
	free(p);
}
END_TEST

START_TEST(test_bpdu_and_ethertypes)
{
	struct policy *p = pol_of("bpdu_guard", "yes", "allowed_ethertypes",
	    "ipv4, arp, 0x88cc");
	uint8_t f[128];
	size_t n;

	memset(f, 0, sizeof(f));
	n = eth(f, STP, MAC_A, 39);	/* 802.3 length */
	f[n] = 0x42;
	f[n + 1] = 0x42;
	f[n + 2] = 0x03;
	ck_assert_int_eq(rx(p, f, 60), POLICY_BPDU);
	/* Not LLC 42 42 03: not a BPDU; llc is not allowed. */
	f[n] = 0xaa;
	ck_assert_int_eq(rx(p, f, 60), POLICY_ETHERTYPE);
	ck_assert_int_eq(rx(p, f, ipv4(f, MAC_A, "10.0.0.1", 6, 1, 2)),
	    POLICY_PASS);
	eth(f, BCAST, MAC_A, 0x88cc);
	ck_assert_int_eq(rx(p, f, 60), POLICY_PASS);
	eth(f, BCAST, MAC_A, 0x86dd);
	ck_assert_int_eq(rx(p, f, 60), POLICY_ETHERTYPE);
	free(p);
	/* bpdu_guard = no: a BPDU is just a frame. */
	p = pol_of("bpdu_guard", "no", NULL, NULL);
	n = eth(f, STP, MAC_A, 39);
	f[n] = 0x42;
	f[n + 1] = 0x42;
	f[n + 2] = 0x03;
	ck_assert_int_eq(rx(p, f, 60), POLICY_PASS);
	free(p);
}
END_TEST

START_TEST(test_meter)
{
	struct policy_meter m;
	uint64_t t = 5000000000ull, passed = 0;

	/* 1000 bytes/s, burst 100 bytes: 1 ms per byte. */
	policy_meter_init(&m, 1000, 100);
	ck_assert(policy_meter_take(&m, 60, t));
	ck_assert(policy_meter_take(&m, 60, t));	/* 60 ms ahead: ok */
	ck_assert(!policy_meter_take(&m, 60, t));	/* 120 ms: no */
	ck_assert(policy_meter_take(&m, 60, t + 20000000));
	/* Over 10 s of offers of 10 bytes every ms (10x the rate), about
	 * the rate passes. */
	policy_meter_init(&m, 1000, 100);
	for (unsigned i = 0; i < 10000; i++)
		passed += policy_meter_take(&m, 10, t + i * 1000000ull) * 10;
	ck_assert_msg(passed >= 10000 && passed <= 10000 + 120, "%llu",
	    (unsigned long long)passed);
	/* A frame larger than the burst still passes a rested meter. */
	policy_meter_init(&m, 1000, 100);
	ck_assert(policy_meter_take(&m, 65536, t));
	ck_assert(!policy_meter_take(&m, 1, t + 1000000000ull));
	ck_assert(policy_meter_take(&m, 1, t + 65536000000ull));
}
END_TEST

START_TEST(test_rate_and_storm_policies)
{
	struct policy *p = pol_of("rate_limit", "8k", "storm_limit", "20");
	uint8_t f[128];
	struct frame_info fi;
	size_t n = ipv4(f, MAC_A, "10.0.0.1", 6, 1, 2);
	unsigned ok = 0;

	ck_assert_int_eq(frame_parse(f, n, &fi), 0);
	/* 1000 bytes/s with the default burst (64 KiB). */
	ck_assert_int_eq(policy_rx(p, f, n, &fi, 60000, 0), POLICY_PASS);
	ck_assert_int_eq(policy_rx(p, f, n, &fi, 60000, 0), POLICY_PASS);
	ck_assert_int_eq(policy_rx(p, f, n, &fi, 60000, 0), POLICY_POLICED);
	/* 20 frames/s, bursts of 2. */
	for (unsigned i = 0; i < 100; i++)
		ok += policy_storm_ok(p, i * 10000000ull);	/* 1 s */
	ck_assert_msg(ok >= 18 && ok <= 24, "%u", ok);
	ck_assert(policy_tx_ok(p, 1000000, 0));	/* no egress limit */
	free(p);
	p = pol_of("egress_rate_limit", "1M", "burst", "1k");
	ck_assert(policy_tx_ok(p, 1500, 0));
	ck_assert(!policy_tx_ok(p, 1500, 0));
	ck_assert(policy_tx_ok(p, 1500, 12000000));	/* 12 ms later */
	free(p);
}
END_TEST

START_TEST(test_wire_len)
{
	uint8_t f[200];
	struct frame_info fi;
	size_t n = eth(f, MAC_B, MAC_A, 0x0800);

	memset(f + n, 0, 60);
	f[n] = 0x45;
	f[n + 9] = 6;
	f[n + 20 + 12] = 8 << 4;	/* TCP header of 32 bytes */
	ck_assert_int_eq(frame_parse(f, 150, &fi), 0);
	ck_assert_uint_eq(policy_wire_len(f, 150, &fi, false, 0, 1514), 150);
	/* 14 + 20 + 32 = 66 bytes of headers; 10000 bytes of payload in
	 * segments of 1000: 10 frames, 9 more headers. */
	ck_assert_uint_eq(policy_wire_len(f, 10066, &fi, true, 1000, 0),
	    10066 + 9 * 66);
	/* From the MTU: 1514 - 66 = 1448 bytes a segment. */
	ck_assert_uint_eq(policy_wire_len(f, 66 + 1448 * 3 + 1, &fi, true, 0,
	    1514), 66 + 1448 * 3 + 1 + 3 * 66);
}
END_TEST

START_TEST(test_policy_keys_syntax)
{
	struct conf_port cp;
	char *err = NULL;

	ck_assert(set_fails("allowed_macs", "52:54:00:00:00"));
	ck_assert(set_fails("allowed_macs", "01:00:5e:00:00:01"));
	ck_assert(set_fails("allowed_macs", "52:54:00:00:00:01,"));
	ck_assert(set_fails("allowed_macs", ""));
	ck_assert(set_fails("allowed_ips", "10.0.0.256"));
	ck_assert(set_fails("allowed_ips", "10.0.0.5/24"));
	ck_assert(set_fails("allowed_ips", "fd00::/129"));
	{
		char list[17 * 12] = "";

		for (unsigned i = 0; i < 17; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s10.0.0.%u", i ? "," : "", i + 1);
		ck_assert(set_fails("allowed_ips", list));
		list[strlen(list) - 10] = '\0';	/* 16 of them */
		conf_port_init(&cp, "p");
		set(&cp, "allowed_ips", list);
		ck_assert_uint_eq(cp.pol.allowed_ips.n, 16);
		conf_port_destroy(&cp);
	}
	ck_assert(set_fails("allowed_ethertypes", "0x8100"));
	ck_assert(set_fails("allowed_ethertypes", "0x05dc"));
	ck_assert(set_fails("allowed_ethertypes", "ip"));
	ck_assert(set_fails("rate_limit", "0"));
	ck_assert(set_fails("rate_limit", "200Mbit"));
	ck_assert(set_fails("rate_limit", "2T"));
	ck_assert(set_fails("rate_limit", "-1M"));
	ck_assert(set_fails("egress_rate_limit", "1x"));
	ck_assert(set_fails("burst", "0"));
	ck_assert(set_fails("burst", "5G"));
	ck_assert(set_fails("storm_limit", "0"));
	ck_assert(set_fails("bpdu_guard", "maybe"));

	conf_port_init(&cp, "p");
	set(&cp, "allowed_ips", " 10.0.0.5 ,fd00::/8 ");
	ck_assert_uint_eq(cp.pol.allowed_ips.n, 2);
	set(&cp, "rate_limit", "200M");
	ck_assert_uint_eq(cp.pol.rate_limit, 200000000);
	set(&cp, "egress_rate_limit", "1G");
	ck_assert_uint_eq(cp.pol.egress_rate_limit, 1000000000);
	set(&cp, "burst", "512k");
	ck_assert_uint_eq(cp.pol.burst, 512 * 1024);
	ck_assert_int_eq(conf_port_check(&cp, &err), 0);
	conf_port_destroy(&cp);
	/* burst alone means nothing. */
	conf_port_init(&cp, "p");
	set(&cp, "burst", "1M");
	ck_assert_int_eq(conf_port_check(&cp, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "burst"));
	free(err);
	conf_port_destroy(&cp);
}
END_TEST

START_TEST(test_policy_file_errors)
{
	static const char text[] =
	    "[switch]\n"
	    "loop_holddown = 0\n"
	    "loop_protect = sometimes\n"
	    "[port a]\n"
	    "allowed_macs = nope\n"
	    "rate_limit = 10\n"
	    "[port b]\n"
	    "burst = 10k\n"
	    "[port c]\n"
	    "allowed_ips = 10.0.0.1/8\n"
	    "allowed_ethertypes = 0x88a8\n"
	    "egress_rate_limit = 1.5G\n"
	    "storm_limit = 100000001\n"
	    "bpdu_guard = 2\n"
	    "burst = 0\n";
	struct conf *c = NULL;
	char *err = NULL;

	ck_assert_int_eq(conf_parse_string(text, "t.conf", &c, &err),
	    -EINVAL);
	ck_assert_msg(strstr(err, "t.conf:2:") && strstr(err, "t.conf:3:") &&
	    strstr(err, "t.conf:5:") && strstr(err, "t.conf:6:") &&
	    strstr(err, "t.conf:8:") && strstr(err, "t.conf:10: bad value "
	    "\"10.0.0.1/8\" for allowed_ips in [port c]") &&
	    strstr(err, "t.conf:11: bad value \"0x88a8\" for "
	    "allowed_ethertypes") &&
	    strstr(err, "t.conf:12: bad value \"1.5G\" for egress_rate_limit") &&
	    strstr(err, "t.conf:13: bad value \"100000001\" for storm_limit") &&
	    strstr(err, "t.conf:14: bad value \"2\" for bpdu_guard") &&
	    strstr(err, "t.conf:15: bad value \"0\" for burst"), "%s", err);
	free(err);
	ck_assert_int_eq(conf_parse_string("[switch]\nloop_protect = no\n"
	    "loop_holddown = 5\n", "t.conf", &c, &err), 0);
	ck_assert(!c->sw.loop_protect);
	ck_assert_uint_eq(c->sw.loop_holddown, 5);
	conf_free(c);
	ck_assert_int_eq(conf_parse_string("", "t.conf", &c, &err), 0);
	ck_assert(c->sw.loop_protect);
	ck_assert_uint_eq(c->sw.loop_holddown, CONF_LOOP_HOLDDOWN_DEFAULT);
	conf_free(c);
}
END_TEST

START_TEST(test_equal_but_policy)
{
	struct conf_port a, b;

	conf_port_init(&a, "p");
	conf_port_init(&b, "p");
	set(&a, "vlan", "10");
	set(&b, "vlan", "10");
	set(&b, "rate_limit", "1M");
	ck_assert(!conf_port_equal(&a, &b));
	ck_assert(conf_port_equal_but_policy(&a, &b));
	set(&b, "mtu", "9000");
	ck_assert(!conf_port_equal_but_policy(&a, &b));
	conf_port_destroy(&a);
	conf_port_destroy(&b);
}
END_TEST

/* fwd_decide with policies: ports that are never opened. */

static struct qsbr *qs;
static struct fdb *fdb;
static struct port_table *pt;
static struct dp dp;
static struct sw_counters swc;

static struct port *
add_port(const char *name, const char *k1, const char *v1)
{
	struct conf_port cp;
	struct port *p;

	conf_port_init(&cp, name);
	if (k1)
		set(&cp, k1, v1);
	p = port_new(&cp, 1);
	conf_port_destroy(&cp);
	ck_assert_int_eq(port_table_insert(pt, p), 0);
	port_set_up(p, true);
	return p;
}

static void
dp_setup(void)
{
	qsbr_create(&qs);
	ck_assert_int_eq(fdb_create(64, qs, &fdb), 0);
	port_table_create(qs, &pt);
	dp = (struct dp){ .fdb = fdb, .ports = pt, .qs = qs,
	    .loop_protect = true };
	memset(&swc, 0, sizeof(swc));
}

static void
dp_teardown(void)
{
	const struct port_set *set;

	while ((set = port_table_set(pt))->n > 0) {
		struct port *p = set->ports[0];

		port_table_remove(pt, p);
		port_free(p);
	}
	port_table_destroy(pt);
	fdb_destroy(fdb);
	qsbr_destroy(qs);
}

static void
decide(struct port *in, const uint8_t *f, size_t len, uint32_t now,
    struct fwd_decision *d)
{
	fwd_decide(&dp, in, 0, f, len, false, 0, now, &swc, d);
}

START_TEST(test_fwd_spoof_and_bpdu_guard)
{
	struct port *a, *b;
	struct fwd_decision d;
	uint8_t f[128];
	size_t n;

	dp_setup();
	a = add_port("a", "allowed_macs", "52:54:00:00:00:0a");
	b = add_port("b", "bpdu_guard", "yes");
	decide(a, f, ipv4(f, MAC_X, "10.0.0.1", 6, 1, 2), 100, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_spoof_mac, 1);
	/* Such a port learns only its allowed addresses. */
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_X, NULL), FDB_PORT_NONE);
	decide(a, f, ipv4(f, MAC_A, "10.0.0.1", 6, 1, 2), 100, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_A, NULL), a->id);

	/* A BPDU on b: err-disabled, once; then nothing comes in. */
	memset(f, 0, sizeof(f));
	n = eth(f, STP, MAC_B, 39);
	f[n] = f[n + 1] = 0x42;
	f[n + 2] = 0x03;
	decide(b, f, 60, 100, &d);
	ck_assert_int_eq(d.action, FWD_DISABLED);
	ck_assert_uint_eq(b->queues[0].ctr.rx_bpdu, 1);
	ck_assert_uint_eq(port_err_disabled(b), PORT_ERRDIS_BPDU);
	ck_assert(!port_forwards(b));
	decide(b, f, 60, 100, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	decide(b, f, ipv4(f, MAC_B, "10.0.0.2", 6, 1, 2), 100, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(b->queues[0].ctr.rx_err_disabled, 2);
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_B, NULL), FDB_PORT_NONE);
	dp_teardown();
}
END_TEST

START_TEST(test_fwd_storm)
{
	struct port *a;
	struct fwd_decision d;
	uint8_t f[128];
	unsigned flooded = 0;

	dp_setup();
	a = add_port("a", "storm_limit", "10");
	add_port("b", NULL, NULL);
	/* The meter runs on the real clock: 200 back to back, at most the
	 * burst (1) and what a second of clock adds passes. */
	for (unsigned i = 0; i < 200; i++) {
		decide(a, f, ipv4(f, MAC_A, "10.0.0.1", 6, 1, 2), 100, &d);
		flooded += d.action == FWD_FLOOD;
	}
	ck_assert_msg(flooded >= 1 && flooded < 30, "%u", flooded);
	ck_assert_uint_eq(a->queues[0].ctr.rx_storm, 200 - flooded);
	dp_teardown();
}
END_TEST

START_TEST(test_fwd_loop)
{
	struct port *a, *b, *c, *d4;
	struct fwd_decision d;
	uint8_t f[128];
	unsigned i;

	dp_setup();
	a = add_port("a", NULL, NULL);
	b = add_port("b", NULL, NULL);
	c = add_port("c", NULL, NULL);
	/* X on c, then its frames come back through a and b in turn. */
	decide(c, f, ipv4(f, MAC_X, "10.0.0.9", 6, 1, 2), 100, &d);
	for (i = 0; i < 20 && d.action != FWD_DISABLED; i++)
		decide(i % 2 ? b : a, f, ipv4(f, MAC_X, "10.0.0.9", 6, 1, 2),
		    100, &d);
	ck_assert_int_eq(d.action, FWD_DISABLED);
	ck_assert_uint_eq(swc.mac_flaps, 1);
	ck_assert_uint_le(i, FDB_FLAPS + 3);
	ck_assert(port_err_disabled(i % 2 ? a : b) == PORT_ERRDIS_LOOP);
	ck_assert(!port_err_disabled(i % 2 ? b : a));
	ck_assert(!port_err_disabled(c));
	/* Moves that are not back and forth within a second are no loop. */
	decide(c, f, ipv4(f, MAC_A, "10.0.0.9", 6, 1, 2), 200, &d);
	for (i = 0; i < 20; i++)
		decide(i % 2 ? c : (i % 4 ? b : a), f,
		    ipv4(f, MAC_A, "10.0.0.9", 6, 1, 2), 200 + 2 * i, &d);
	ck_assert_uint_eq(swc.mac_flaps, 1);
	/* loop_protect = no: counted, nothing disabled.  The address flaps
	 * between its home c (where it was learned first: a host answering
	 * its looping frames) and d: the loop is reported on d only. */
	dp.loop_protect = false;
	d4 = add_port("d", NULL, NULL);
	decide(c, f, ipv4(f, MAC_B, "10.0.0.9", 6, 1, 2), 300, &d);
	for (i = 0; i < 24; i++) {
		decide(i % 2 ? c : d4, f, ipv4(f, MAC_B, "10.0.0.9", 6, 1, 2),
		    300, &d);
		ck_assert_int_ne(d.action, FWD_DISABLED);
	}
	ck_assert_uint_ge(swc.mac_flaps, 2);
	ck_assert(!port_err_disabled(c) && !port_err_disabled(d4));
	/* With protection, d is the one cut, never c. */
	dp.loop_protect = true;
	for (i = 0; i < 24 && !port_err_disabled(d4); i++)
		decide(i % 2 ? c : d4, f, ipv4(f, MAC_B, "10.0.0.9", 6, 1, 2),
		    300, &d);
	ck_assert_uint_eq(port_err_disabled(d4), PORT_ERRDIS_LOOP);
	ck_assert(!port_err_disabled(c));
	dp_teardown();
}
END_TEST

START_TEST(test_policy_swap)
{
	struct conf_port cp;
	struct port *a;
	struct fwd_decision d;
	uint8_t f[128];

	dp_setup();
	a = add_port("a", NULL, NULL);
	ck_assert_ptr_null(port_policy(a));
	conf_port_init(&cp, "a");
	set(&cp, "allowed_macs", "52:54:00:00:00:0a");
	port_set_policy(a, &cp, qs);
	conf_port_destroy(&cp);
	ck_assert(conf_port_given(&a->conf, "allowed_macs"));
	decide(a, f, ipv4(f, MAC_X, "10.0.0.1", 6, 1, 2), 100, &d);
	ck_assert_uint_eq(a->queues[0].ctr.rx_spoof_mac, 1);
	conf_port_init(&cp, "a");
	port_set_policy(a, &cp, qs);
	conf_port_destroy(&cp);
	ck_assert_ptr_null(port_policy(a));
	decide(a, f, ipv4(f, MAC_X, "10.0.0.1", 6, 1, 2), 100, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	qsbr_reclaim(qs);
	dp_teardown();
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_no_key_no_policy);
	tcase_add_test(tc, test_allowed_macs);
	tcase_add_test(tc, test_allowed_ipv4_arp_dhcp);
	tcase_add_test(tc, test_allowed_ipv6_nd);
	tcase_add_test(tc, test_bpdu_and_ethertypes);
	tcase_add_test(tc, test_meter);
	tcase_add_test(tc, test_rate_and_storm_policies);
	tcase_add_test(tc, test_wire_len);
	tcase_add_test(tc, test_policy_keys_syntax);
	tcase_add_test(tc, test_policy_file_errors);
	tcase_add_test(tc, test_equal_but_policy);
	tcase_add_test(tc, test_fwd_spoof_and_bpdu_guard);
	tcase_add_test(tc, test_fwd_storm);
	tcase_add_test(tc, test_fwd_loop);
	tcase_add_test(tc, test_policy_swap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(policy_suite());
}
