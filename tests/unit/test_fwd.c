/*
 * test_fwd.c - frame classification, the forwarding decision and the
 * worker data path, without root: ports are of the dummy types
 * (socketpairs), so frames go through the worker's real read(2), decide
 * and write(2)/writev(2) code.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "tapswitch/conf.h"
#include "tapswitch/fwd.h"
#include "tapswitch/log.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/sw.h"
#include "tapswitch/tap.h"
#include "tapswitch/worker.h"

#include "unit.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
static const uint8_t MAC_STP[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };
static const uint8_t MAC_LLDP[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };

#define NO_TAG (-1)

/* Build an Ethernet frame of len bytes: dst, src, an optional 802.1Q tag
 * (tci >= 0), ethertype 0x0800 and a counting payload. */
static size_t
make_frame(uint8_t *buf, size_t len, const uint8_t *dst, const uint8_t *src,
    int tci)
{
	size_t off = 12;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tci >= 0) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = (uint8_t)(tci >> 8);
		buf[off++] = (uint8_t)tci;
	}
	buf[off++] = 0x08;
	buf[off++] = 0x00;
	for (size_t i = off; i < len; i++)
		buf[i] = (uint8_t)i;
	return len;
}

static void
port_conf(struct conf_port *cp, const char *name, const char *key1,
    const char *val1, const char *key2, const char *val2)
{
	char *err = NULL;

	conf_port_init(cp, name);
	if (key1)
		ck_assert_msg(conf_port_set(cp, key1, val1, &err) == 0, "%s",
		    err);
	if (key2)
		ck_assert_msg(conf_port_set(cp, key2, val2, &err) == 0, "%s",
		    err);
}

/*
 * Part 1: fwd_decide() directly, on ports that are never opened.
 */

static struct qsbr *qs;
static struct fdb *fdb;
static struct port_table *pt;
static struct dp dp;
static struct sw_counters swc;

static struct port *
add_port(const char *name, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	struct conf_port cp;
	struct port *p;

	port_conf(&cp, name, k1, v1, k2, v2);
	p = port_new(&cp, 1);
	conf_port_destroy(&cp);
	ck_assert_int_eq(port_table_insert(pt, p), 0);
	port_set_up(p, true);
	return p;
}

static void
dp_setup(uint32_t fdb_size)
{
	qsbr_create(&qs);
	ck_assert_int_eq(fdb_create(fdb_size, qs, &fdb), 0);
	port_table_create(qs, &pt);
	dp = (struct dp){ .fdb = fdb, .ports = pt, .qs = qs };
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
decide(struct port *in, const uint8_t *buf, size_t len, bool gso,
    struct fwd_decision *d)
{
	fwd_decide(&dp, in, 0, buf, len, gso, 0, 100, &swc, d);
}

START_TEST(test_untagged_access_learn_and_forward)
{
	struct port *a, *b, *c;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	a = add_port("a", "vlan", "10", NULL, NULL);
	b = add_port("b", "vlan", "10", NULL, NULL);
	c = add_port("c", "vlan", "20", NULL, NULL);

	/* Unknown destination: flood, and A's source is learned in VLAN 10. */
	decide(a, f, make_frame(f, 60, MAC_B, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 10);
	ck_assert_uint_eq(fdb_lookup(fdb, 10, MAC_A, NULL), a->id);
	ck_assert_uint_eq(fdb_lookup(fdb, 20, MAC_A, NULL), FDB_PORT_NONE);
	ck_assert_uint_eq(swc.learned, 1);
	ck_assert_uint_eq(swc.flooded, 1);

	/* B answers: known unicast to A. */
	decide(b, f, make_frame(f, 60, MAC_A, MAC_B, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_UNICAST);
	ck_assert_ptr_eq(d.out, a);

	/* The flood set of VLAN 10 excludes C (VLAN 20). */
	ck_assert(fwd_port_in_vlan(b, 10));
	ck_assert(!fwd_port_in_vlan(c, 10));
	ck_assert(!fwd_egress_tagged(a, 10));

	/* C in VLAN 20 does not reach A's VLAN-10 entry: flood in 20. */
	decide(c, f, make_frame(f, 60, MAC_A, MAC_C, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 20);

	ck_assert_uint_eq(a->queues[0].ctr.rx_packets, 1);
	ck_assert_uint_eq(a->queues[0].ctr.rx_bytes, 60);
	dp_teardown();
}
END_TEST

START_TEST(test_hairpin_move_broadcast)
{
	struct port *a, *b;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	a = add_port("a", NULL, NULL, NULL, NULL);
	b = add_port("b", NULL, NULL, NULL, NULL);

	decide(a, f, make_frame(f, 60, MAC_BCAST, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 1);	/* default: access VLAN 1 */
	decide(a, f, make_frame(f, 60, MAC_BCAST, MAC_B, NO_TAG), false, &d);
	/* B's address seen on A; a frame to B from A is a hairpin. */
	decide(a, f, make_frame(f, 60, MAC_B, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_hairpin, 1);

	/* B's address moves to port b. */
	decide(b, f, make_frame(f, 60, MAC_MCAST, MAC_B, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_uint_eq(swc.moved, 1);
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_B, NULL), b->id);
	decide(a, f, make_frame(f, 60, MAC_B, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_UNICAST);
	ck_assert_ptr_eq(d.out, b);
	dp_teardown();
}
END_TEST

START_TEST(test_runt_and_oversize)
{
	struct port *a;
	struct fwd_decision d;
	uint8_t f[9100];

	dp_setup(64);
	a = add_port("a", NULL, NULL, NULL, NULL);	/* mtu 1500 */
	make_frame(f, 60, MAC_BCAST, MAC_A, NO_TAG);
	decide(a, f, 13, false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	decide(a, f, 0, false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_runt, 2);
	decide(a, f, 14, false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);

	/* A tag needs 18 bytes. */
	make_frame(f, 60, MAC_BCAST, MAC_A, 1);
	decide(a, f, 17, false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_runt, 3);

	/* 1500 bytes of payload fit, 1501 do not; a tag adds 4. */
	decide(a, f, make_frame(f, 1514, MAC_BCAST, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	decide(a, f, make_frame(f, 1515, MAC_BCAST, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_oversize, 1);
	decide(a, f, make_frame(f, 1518, MAC_BCAST, MAC_A, 0), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	decide(a, f, make_frame(f, 1519, MAC_BCAST, MAC_A, 0), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_oversize, 2);
	ck_assert_uint_eq(a->queues[0].ctr.rx_errors, 5);
	/* A GSO super-frame may exceed the MTU. */
	decide(a, f, make_frame(f, 9000, MAC_BCAST, MAC_A, NO_TAG), true, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_uint_eq(a->queues[0].ctr.rx_packets, 9);
	dp_teardown();
}
END_TEST

START_TEST(test_access_port_tags)
{
	struct port *a;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	a = add_port("a", "vlan", "10", NULL, NULL);
	/* Priority-tagged (VID 0) belongs to the access VLAN. */
	decide(a, f, make_frame(f, 60, MAC_BCAST, MAC_A, 5 << 13), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 10);
	ck_assert(d.fi.tagged);
	ck_assert_int_eq(d.fi.pcp, 5);
	/* Any other tag is dropped, even the access VLAN's own. */
	decide(a, f, make_frame(f, 60, MAC_BCAST, MAC_A, 10), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	decide(a, f, make_frame(f, 60, MAC_BCAST, MAC_A, 20), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_vlan, 2);
	dp_teardown();
}
END_TEST

START_TEST(test_trunk_and_native)
{
	struct port *t, *tn, *acc;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	t = add_port("t", "trunk", "10,20", NULL, NULL);
	tn = add_port("tn", "trunk", "10,20", "native", "30");
	acc = add_port("acc", "vlan", "20", NULL, NULL);

	decide(t, f, make_frame(f, 60, MAC_BCAST, MAC_A, 20), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 20);
	decide(t, f, make_frame(f, 60, MAC_BCAST, MAC_A, 30), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	/* Untagged on a trunk without native: dropped. */
	decide(t, f, make_frame(f, 60, MAC_BCAST, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	/* VID 4095 is reserved. */
	decide(t, f, make_frame(f, 60, MAC_BCAST, MAC_A, 4095), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(t->queues[0].ctr.rx_vlan, 3);

	/* With native 30: untagged and priority-tagged are VLAN 30, and a
	 * tagged 30 is accepted too. */
	decide(tn, f, make_frame(f, 60, MAC_BCAST, MAC_B, NO_TAG), false, &d);
	ck_assert_int_eq(d.vid, 30);
	decide(tn, f, make_frame(f, 60, MAC_BCAST, MAC_B, 0), false, &d);
	ck_assert_int_eq(d.vid, 30);
	decide(tn, f, make_frame(f, 60, MAC_BCAST, MAC_B, 30), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_int_eq(d.vid, 30);

	/* Egress: tagged except for the native VLAN and on access ports. */
	ck_assert(fwd_egress_tagged(tn, 10));
	ck_assert(!fwd_egress_tagged(tn, 30));
	ck_assert(fwd_port_in_vlan(tn, 30));
	ck_assert(!fwd_port_in_vlan(t, 30));
	ck_assert(!fwd_egress_tagged(acc, 20));
	dp_teardown();
}
END_TEST

START_TEST(test_link_local_and_mcast_source)
{
	struct port *a;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	a = add_port("a", NULL, NULL, NULL, NULL);
	decide(a, f, make_frame(f, 60, MAC_STP, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	decide(a, f, make_frame(f, 60, MAC_LLDP, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_link_local, 2);
	/* The source of a link-local frame is still learned. */
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_A, NULL), a->id);
	/* 01:80:c2:00:00:10 is outside the reserved block. */
	uint8_t gvrp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x10 };
	decide(a, f, make_frame(f, 60, gvrp, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);

	decide(a, f, make_frame(f, 60, MAC_B, MAC_MCAST, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_DROP);
	ck_assert_uint_eq(a->queues[0].ctr.rx_src_mcast, 1);
	ck_assert_uint_eq(fdb_lookup(fdb, 1, MAC_MCAST, NULL), FDB_PORT_NONE);
	dp_teardown();
}
END_TEST

START_TEST(test_full_table_and_mac_limit)
{
	struct port *a, *b;
	struct fwd_decision d;
	uint8_t f[64], src[6] = { 0x02, 1, 0, 0, 0, 0 };

	dp_setup(4);
	a = add_port("a", NULL, NULL, NULL, NULL);
	b = add_port("b", "mac_limit", "2", NULL, NULL);
	for (int i = 0; i < 4; i++) {
		src[5] = (uint8_t)i;
		decide(b, f, make_frame(f, 60, MAC_A, src, NO_TAG), false, &d);
	}
	ck_assert_uint_eq(fdb_port_count(fdb, b->id), 2);
	ck_assert_uint_eq(b->queues[0].ctr.learn_limit, 2);
	/* Not learned, but forwarded all the same. */
	ck_assert_int_eq(d.action, FWD_FLOOD);

	for (int i = 0; i < 3; i++) {
		src[4] = 1;
		src[5] = (uint8_t)i;
		decide(a, f, make_frame(f, 60, MAC_B, src, NO_TAG), false, &d);
	}
	ck_assert_uint_eq(fdb_count(fdb), 4);
	ck_assert_uint_eq(swc.fdb_full, 1);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	ck_assert_uint_eq(swc.learned, 4);
	dp_teardown();
}
END_TEST

START_TEST(test_removed_port_entry_floods)
{
	struct port *a, *b;
	struct fwd_decision d;
	uint8_t f[64];

	dp_setup(64);
	a = add_port("a", NULL, NULL, NULL, NULL);
	b = add_port("b", NULL, NULL, NULL, NULL);
	decide(b, f, make_frame(f, 60, MAC_BCAST, MAC_B, NO_TAG), false, &d);
	port_table_remove(pt, b);
	/* The entry still names b's id, but the port is gone: flood. */
	decide(a, f, make_frame(f, 60, MAC_B, MAC_A, NO_TAG), false, &d);
	ck_assert_int_eq(d.action, FWD_FLOOD);
	fdb_flush(fdb, b->id, true);
	port_free(b);
	dp_teardown();
}
END_TEST

/*
 * Part 2: the whole data path through worker threads.
 */

static struct sw *sw;
static bool vnet;

static uint32_t busy_poll;	/* for the next sw_up */
static bool io_uring;		/* set by the io_uring test case's fixture */

static void
sw_up(unsigned queues, bool offload, struct conf_port *ports, size_t n)
{
	struct conf conf = { 0 };
	char *err = NULL;
	int r;

	conf.sw.queues = queues;
	conf.sw.offload = offload;
	conf.sw.fdb_size = 1024;
	conf.sw.fdb_aging = 300;
	conf.sw.busy_poll = busy_poll;
	conf.sw.io_uring = io_uring ? CONF_IO_URING_YES : CONF_IO_URING_NO;
	conf.ports = ports;
	conf.n_ports = n;
	vnet = offload;
	r = sw_create(&conf, NULL, &sw, &err);
	ck_assert_msg(r == 0, "sw_create: %s", err ? err : "?");
	for (size_t i = 0; i < n; i++)
		conf_port_destroy(&ports[i]);
}

static int
peer(const char *name, unsigned q)
{
	struct port *p = sw_port_find(sw, name);

	ck_assert_ptr_nonnull(p);
	return port_dummy_peer(p, q);
}

static void
inject(const char *name, unsigned q, const struct virtio_net_hdr *vh,
    const uint8_t *buf, size_t len)
{
	struct virtio_net_hdr zero = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = (void *)(vh ? vh : &zero),
		  .iov_len = TAP_VNET_HDR_LEN },
		{ .iov_base = (void *)buf, .iov_len = len },
	};

	ck_assert_int_eq(writev(peer(name, q), vnet ? iov : iov + 1,
	    vnet ? 2 : 1), (ssize_t)(len + (vnet ? TAP_VNET_HDR_LEN : 0)));
}

/* Receive one frame from port name, queue q, waiting at most 2 s.
 * Returns its length (virtio-net header stripped into *vh), or -1. */
static ssize_t
collect(const char *name, unsigned q, struct virtio_net_hdr *vh,
    uint8_t *buf, size_t size)
{
	struct virtio_net_hdr dummy;
	struct pollfd pfd = { .fd = peer(name, q), .events = POLLIN };
	struct iovec iov[2] = {
		{ .iov_base = vh ? vh : &dummy, .iov_len = TAP_VNET_HDR_LEN },
		{ .iov_base = buf, .iov_len = size },
	};
	ssize_t r;

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	r = readv(pfd.fd, vnet ? iov : iov + 1, vnet ? 2 : 1);
	if (r < 0)
		return -1;
	return vnet ? r - TAP_VNET_HDR_LEN : r;
}

/* The counters of port name, once the workers are through the passes that
 * delivered what the test collected: a worker counts a write after it
 * returns (with io_uring, after its whole batch), and a grace period
 * waits for every pass in progress. */
static void
counters(const char *name, struct port_counters *pc)
{
	qsbr_synchronize(sw_dp(sw)->qs);
	port_counters_sum(sw_port_find(sw, name), pc);
}

/* Nothing is waiting on port name, queue q (call after a sentinel frame
 * that took the same path has arrived). */
static bool
quiet(const char *name, unsigned q)
{
	struct pollfd pfd = { .fd = peer(name, q), .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

START_TEST(test_worker_flood_then_unicast)
{
	struct conf_port ports[3];
	uint8_t f[256], g[256];
	unsigned q = (unsigned)_i;	/* queue under test */

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "c", NULL, NULL, NULL, NULL);
	sw_up(2, false, ports, 3);

	/* A's first frame floods to B and C (on the same queue). */
	make_frame(f, 100, MAC_B, MAC_A, NO_TAG);
	inject("a", q, NULL, f, 100);
	ck_assert_int_eq(collect("b", q, NULL, g, sizeof(g)), 100);
	ck_assert_mem_eq(g, f, 100);
	ck_assert_int_eq(collect("c", q, NULL, g, sizeof(g)), 100);
	ck_assert(quiet("a", q));

	/* B answers A: unicast, C sees nothing. */
	make_frame(f, 80, MAC_A, MAC_B, NO_TAG);
	inject("b", q, NULL, f, 80);
	ck_assert_int_eq(collect("a", q, NULL, g, sizeof(g)), 80);
	ck_assert_mem_eq(g, f, 80);
	/* Now A -> B is unicast too; a broadcast sentinel from A follows it
	 * on the same path, so when the sentinel reaches C, anything for C
	 * before it would have arrived already. */
	make_frame(f, 90, MAC_B, MAC_A, NO_TAG);
	inject("a", q, NULL, f, 90);
	make_frame(f, 70, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", q, NULL, f, 70);
	ck_assert_int_eq(collect("b", q, NULL, g, sizeof(g)), 90);
	ck_assert_int_eq(collect("b", q, NULL, g, sizeof(g)), 70);
	ck_assert_int_eq(collect("c", q, NULL, g, sizeof(g)), 70);
	ck_assert(quiet("c", q));
	ck_assert(quiet("c", 1 - q));

	struct port_counters pc;
	counters("c", &pc);
	ck_assert_uint_eq(pc.tx_packets, 2);
	ck_assert_uint_eq(pc.tx_bytes, 170);
	counters("a", &pc);
	ck_assert_uint_eq(pc.rx_packets, 3);
	ck_assert_uint_eq(sw_port_find(sw, "a")->queues[q].ctr.rx_packets, 3);
	/* busy_poll = 0: every batch woke a sleeping worker. */
	struct sw_counters all;
	sw_counters(sw, &all);
	ck_assert_uint_ge(all.wakeups, 3);
	ck_assert_uint_eq(all.polled, 0);
	sw_destroy(sw);
}
END_TEST

/*
 * A worker whose port fd fails for good (here: the other end closed, as a
 * VM's socket would) tells the main thread through its event ring; the
 * main thread closes the port, down with the reason, and the others go
 * on.  Events about a port that is gone, or that another port has the id
 * of now, change nothing.
 */
START_TEST(test_worker_port_event)
{
	struct conf_port ports[2];
	uint8_t f[128], g[128];
	struct port *a;
	unsigned gen;

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	sw_up(2, false, ports, 2);
	a = sw_port_find(sw, "a");
	gen = a->gen;
	ck_assert(a->opened && port_is_up(a));
	close(port_dummy_peer(a, 1));
	for (int i = 0; i < 2000 && a->opened; i++) {
		struct timespec ts = { 0, 1000000 };

		sw_events(sw);
		nanosleep(&ts, NULL);
	}
	ck_assert(!a->opened);
	ck_assert(!port_is_up(a));
	ck_assert_str_eq(a->reason, "queue 1 failed: end of file");
	ck_assert_uint_eq(a->gen, gen);
	ck_assert_ptr_eq(sw_port_find(sw, "a"), a);	/* still configured */
	/* b still forwards: its frames to a count as tx_down. */
	make_frame(f, 64, MAC_BCAST, MAC_B, NO_TAG);
	inject("b", 0, NULL, f, 64);
	struct port_counters pc;
	for (int i = 0; i < 2000; i++) {
		struct timespec ts = { 0, 1000000 };

		counters("b", &pc);
		if (pc.rx_packets)
			break;
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_eq(pc.rx_packets, 1);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), -1);
	sw_destroy(sw);
}
END_TEST

/*
 * A single-channel type (dummy1) under 2 workers: frames that arrive on
 * either queue of the others reach its one socket (every worker writes
 * to it), and what it sends is read by its owner worker alone and
 * forwarded on that worker's queue of the others.
 */
START_TEST(test_worker_single_channel)
{
	struct conf_port ports[3];
	uint8_t f[256], g[256];
	struct port_counters pc;
	struct port *s;
	unsigned owner, other;

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "s", "type", "dummy1", NULL, NULL);
	sw_up(2, false, ports, 3);
	s = sw_port_find(sw, "s");
	ck_assert_int_eq(peer("s", 0), peer("s", 1));
	for (owner = 0; owner < 2 && !port_reads(s, owner); owner++)
		;
	ck_assert_uint_lt(owner, 2);
	other = 1 - owner;
	ck_assert(!port_reads(s, other));
	ck_assert(port_reads(sw_port_find(sw, "a"), other));

	/* Broadcasts from A on both queues reach S. */
	for (unsigned q = 0; q < 2; q++) {
		make_frame(f, 100 + q, MAC_BCAST, MAC_A, NO_TAG);
		inject("a", q, NULL, f, 100 + q);
		ck_assert_int_eq(collect("s", 0, NULL, g, sizeof(g)),
		    100 + (int)q);
		ck_assert_mem_eq(g, f, 100 + q);
		ck_assert_int_eq(collect("b", q, NULL, g, sizeof(g)),
		    100 + (int)q);
	}
	/* S answers A: read by the owner, sent on the owner's queue of A. */
	make_frame(f, 90, MAC_A, MAC_C, NO_TAG);
	inject("s", 0, NULL, f, 90);
	ck_assert_int_eq(collect("a", owner, NULL, g, sizeof(g)), 90);
	ck_assert_mem_eq(g, f, 90);
	ck_assert(quiet("a", other));
	/* Learned: A -> S is unicast from either worker. */
	for (unsigned q = 0; q < 2; q++) {
		make_frame(f, 80, MAC_C, MAC_A, NO_TAG);
		inject("a", q, NULL, f, 80);
		ck_assert_int_eq(collect("s", 0, NULL, g, sizeof(g)), 80);
	}
	ck_assert(quiet("b", 0) && quiet("b", 1));
	counters("s", &pc);
	ck_assert_uint_eq(pc.tx_packets, 4);
	ck_assert_uint_eq(pc.rx_packets, 1);
	ck_assert_uint_eq(s->queues[other].ctr.tx_packets, 2);
	sw_destroy(sw);
}
END_TEST

START_TEST(test_worker_vlan_push_pop)
{
	struct conf_port ports[3];
	uint8_t f[256], g[256], want[256];

	port_conf(&ports[0], "a", "vlan", "10", NULL, NULL);
	port_conf(&ports[1], "b", "vlan", "20", NULL, NULL);
	port_conf(&ports[2], "t", "trunk", "10,20", "native", "20");
	sw_up(1, false, ports, 3);

	/* Access VLAN 10 -> trunk: tag 10 pushed, payload untouched. */
	make_frame(f, 100, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 100);
	make_frame(want, 104, MAC_BCAST, MAC_A, 10);
	memcpy(want + 18, f + 14, 86);
	ck_assert_int_eq(collect("t", 0, NULL, g, sizeof(g)), 104);
	ck_assert_mem_eq(g, want, 104);
	/* VLAN 20's access port heard nothing. */

	/* Trunk tagged 10 (priority 3) -> access port a: tag popped. */
	make_frame(f, 104, MAC_A, MAC_C, (3 << 13) | 10);
	inject("t", 0, NULL, f, 104);
	ck_assert_int_eq(collect("a", 0, NULL, g, sizeof(g)), 100);
	ck_assert_mem_eq(g, MAC_A, 6);
	ck_assert_mem_eq(g + 12, f + 16, 88);

	/* Trunk untagged = native 20 -> b, untagged; a hears nothing. */
	make_frame(f, 64, MAC_BCAST, MAC_C, NO_TAG);
	inject("t", 0, NULL, f, 64);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 64);
	ck_assert_mem_eq(g, f, 64);

	/* b's VLAN-20 broadcast leaves the trunk untagged (native). */
	make_frame(f, 64, MAC_BCAST, MAC_B, NO_TAG);
	inject("b", 0, NULL, f, 64);
	ck_assert_int_eq(collect("t", 0, NULL, g, sizeof(g)), 64);
	ck_assert_mem_eq(g, f, 64);

	/* A tagged-20 frame on the trunk is native too: popped for b. */
	make_frame(f, 68, MAC_B, MAC_C, 20);
	inject("t", 0, NULL, f, 68);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 64);
	ck_assert(quiet("a", 0));
	sw_destroy(sw);
}
END_TEST

START_TEST(test_worker_vnet_header_offsets)
{
	struct conf_port ports[2];
	struct virtio_net_hdr vh = { 0 }, got;
	uint8_t f[256], g[256];

	port_conf(&ports[0], "a", "vlan", "10", NULL, NULL);
	port_conf(&ports[1], "t", "trunk", "10", NULL, NULL);
	sw_up(1, true, ports, 2);

	/* A partial-checksum frame gets a tag: the checksum start moves. */
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = htole16(34);
	vh.csum_offset = htole16(16);
	make_frame(f, 120, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, &vh, f, 120);
	ck_assert_int_eq(collect("t", 0, &got, g, sizeof(g)), 124);
	ck_assert_int_eq(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_int_eq(le16toh(got.csum_start), 38);
	ck_assert_int_eq(le16toh(got.csum_offset), 16);

	/* And back: a GSO frame from the trunk loses its tag. */
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = htole16(1448);
	vh.hdr_len = htole16(70);
	vh.csum_start = htole16(38);
	make_frame(f, 200, MAC_A, MAC_C, 10);
	inject("t", 0, &vh, f, 200);
	ck_assert_int_eq(collect("a", 0, &got, g, sizeof(g)), 196);
	ck_assert_int_eq(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_int_eq(le16toh(got.gso_size), 1448);
	ck_assert_int_eq(le16toh(got.hdr_len), 66);
	ck_assert_int_eq(le16toh(got.csum_start), 34);
	sw_destroy(sw);
}
END_TEST

/* A frame that leaves as it came (no tag to push, pop or rewrite) goes out
 * with its virtio-net header and every byte as they were read: untagged
 * between access ports, and tagged between trunks of its VLAN. */
START_TEST(test_worker_vnet_header_unchanged)
{
	static const int tci[] = { NO_TAG, 10 };
	struct conf_port ports[2];
	struct virtio_net_hdr vh = { 0 }, got;
	uint8_t f[3000], g[3000];
	size_t len = 2964;

	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = htole16(66);
	vh.gso_size = htole16(1448);
	vh.csum_start = htole16(34);
	vh.csum_offset = htole16(16);
	for (size_t k = 0; k < sizeof(tci) / sizeof(tci[0]); k++) {
		if (tci[k] == NO_TAG) {
			port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
			port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
		} else {
			port_conf(&ports[0], "a", "trunk", "10", NULL, NULL);
			port_conf(&ports[1], "b", "trunk", "10", NULL, NULL);
		}
		sw_up(1, true, ports, 2);
		make_frame(f, len, MAC_BCAST, MAC_C, tci[k]);
		inject("a", 0, &vh, f, len);
		memset(&got, 0xff, sizeof(got));
		memset(g, 0, sizeof(g));
		ck_assert_int_eq(collect("b", 0, &got, g, sizeof(g)),
		    (ssize_t)len);
		ck_assert_mem_eq(&got, &vh, sizeof(vh));
		ck_assert_mem_eq(g, f, len);
		sw_destroy(sw);
	}
}
END_TEST

START_TEST(test_worker_port_del_and_egress_mtu)
{
	struct conf_port ports[3], extra;
	uint8_t f[2100], g[2100];
	struct port_counters pc;
	char *err = NULL;

	port_conf(&ports[0], "a", "mtu", "2000", NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "c", "mtu", "2000", NULL, NULL);
	sw_up(1, false, ports, 3);

	/* 2014 bytes fit a and c (MTU 2000) but not b (1500). */
	make_frame(f, 2014, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 2014);
	ck_assert_int_eq(collect("c", 0, NULL, g, sizeof(g)), 2014);
	ck_assert(quiet("b", 0));
	counters("b", &pc);
	ck_assert_uint_eq(pc.tx_oversize, 1);

	/* Learn C on c, then delete c: its entry goes, and frames for C
	 * flood to the ports that remain. */
	make_frame(f, 60, MAC_BCAST, MAC_C, NO_TAG);
	inject("c", 0, NULL, f, 60);
	ck_assert_int_eq(collect("a", 0, NULL, g, sizeof(g)), 60);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 60);
	ck_assert_uint_eq(fdb_lookup(sw_fdb(sw), 1, MAC_C, NULL),
	    sw_port_find(sw, "c")->id);
	ck_assert_int_eq(sw_port_del(sw, "c"), 0);
	ck_assert_int_eq(sw_port_del(sw, "c"), -ENOENT);
	ck_assert_ptr_null(sw_port_find(sw, "c"));
	ck_assert_uint_eq(fdb_lookup(sw_fdb(sw), 1, MAC_C, NULL), FDB_PORT_NONE);
	make_frame(f, 60, MAC_C, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 60);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 60);

	/* A port added at runtime takes part at once. */
	port_conf(&extra, "d", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(sw_port_add(sw, &extra, &err), 0);
	ck_assert_int_eq(sw_port_add(sw, &extra, &err), -EEXIST);
	free(err);
	conf_port_destroy(&extra);
	inject("a", 0, NULL, f, 60);
	ck_assert_int_eq(collect("d", 0, NULL, g, sizeof(g)), 60);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 60);
	sw_destroy(sw);
}
END_TEST

START_TEST(test_worker_survives_bad_peers)
{
	struct conf_port ports[3];
	uint8_t f[64], g[64];
	struct port_counters pc;

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "c", NULL, NULL, NULL, NULL);
	sw_up(1, true, ports, 3);

	/* Shorter than the virtio-net header, and a runt after it. */
	ck_assert_int_eq(write(peer("a", 0), f, 5), 5);
	memset(f, 0, sizeof(f));
	ck_assert_int_eq(write(peer("a", 0), f, TAP_VNET_HDR_LEN + 3),
	    TAP_VNET_HDR_LEN + 3);
	/* c's peer hangs up: its queue is dropped, the rest carries on. */
	close(peer("c", 0));
	((int *)sw_port_find(sw, "c")->priv)[0] = -1;
	make_frame(f, 60, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 60);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 60);
	counters("a", &pc);
	ck_assert_uint_eq(pc.rx_runt, 2);
	ck_assert_uint_eq(pc.rx_packets, 3);
	sw_destroy(sw);
}
END_TEST

/*
 * A port closed after a worker found it up (its interface went away:
 * port_close_deferred) has fd -1 for the workers (port.h, "Queues and
 * fds"): the frame the worker was sending it counts as dropped because
 * the port is down, not as a failed write, and the rest of the flood
 * goes out.  The test holds that window open.
 */
START_TEST(test_worker_port_closed_meanwhile)
{
	struct conf_port ports[3];
	uint8_t f[128], g[128];
	struct port_counters pc;
	struct port *c;

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "c", NULL, NULL, NULL, NULL);
	sw_up(1, false, ports, 3);
	c = sw_port_find(sw, "c");
	ck_assert(port_is_up(c));
	__atomic_store_n(&c->qfds[0], -1, __ATOMIC_RELAXED);

	make_frame(f, 100, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 100);
	ck_assert_int_eq(collect("b", 0, NULL, g, sizeof(g)), 100);
	counters("c", &pc);
	ck_assert_uint_eq(pc.tx_down, 1);
	ck_assert_uint_eq(pc.tx_errors, 0);
	ck_assert_uint_eq(pc.tx_packets, 0);
	ck_assert(quiet("c", 0));
	__atomic_store_n(&c->qfds[0], c->fds[0], __ATOMIC_RELAXED);
	sw_destroy(sw);
}
END_TEST

START_TEST(test_worker_busy_poll)
{
	struct conf_port ports[3], extra;
	struct sw_counters all;
	uint8_t f[128], g[128];
	char *err = NULL;
	int seq = 0;

	/* Polling workers forward, and let port removal's grace periods
	 * end.  Frames come back to back, so after the first ones a worker
	 * polls (busy_poll is adaptive, see worker.h) and the port add and
	 * delete after them start while it does. */
	busy_poll = 1000;
	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", NULL, NULL, NULL, NULL);
	port_conf(&ports[2], "c", NULL, NULL, NULL, NULL);
	sw_up(2, false, ports, 3);
	busy_poll = 0;
	ck_assert_uint_eq(sw_dp(sw)->busy_poll_us, 1000);
	for (int round = 0; round < 50; round++) {
		unsigned q = (unsigned)round & 1;

		for (int k = 0; k < 4; k++, seq++) {
			make_frame(f, 100, MAC_BCAST, MAC_A, NO_TAG);
			f[99] = (uint8_t)seq;
			inject("a", q, NULL, f, 100);
			ck_assert_int_eq(collect("b", q, NULL, g, sizeof(g)),
			    100);
			ck_assert_int_eq(g[99], (uint8_t)seq);
			ck_assert_int_eq(collect("c", q, NULL, g, sizeof(g)),
			    100);
		}
		/* Each add and delete waits for a grace period. */
		port_conf(&extra, "d", NULL, NULL, NULL, NULL);
		ck_assert_int_eq(sw_port_add(sw, &extra, &err), 0);
		conf_port_destroy(&extra);
		ck_assert_int_eq(sw_port_del(sw, "d"), 0);
	}
	sw_counters(sw, &all);
	ck_assert_uint_gt(all.polled, 0);
	ck_assert_uint_gt(all.wakeups, 0);
	sw_destroy(sw);
}
END_TEST

/* Bursts flooded to many ports arrive complete and in order, however
 * the worker splits them into reads and writes; a peer that stops reading
 * loses frames (counted), the others lose none. */
START_TEST(test_worker_bursts)
{
	enum { N = 20, BURST = 9, ROUNDS = 20, EXTRA = 15 };
	struct conf_port ports[N];
	uint8_t f[BURST][100], g[128];
	struct iovec iov[BURST];
	struct mmsghdr mm[BURST];
	char name[N][8];
	struct port_counters pc;
	unsigned seq = 0;

	for (int i = 0; i < N; i++) {
		snprintf(name[i], sizeof(name[i]), "p%02d", i);
		port_conf(&ports[i], name[i], NULL, NULL, NULL, NULL);
	}
	sw_up(1, false, ports, N);
	memset(mm, 0, sizeof(mm));
	for (int k = 0; k < BURST; k++) {
		iov[k] = (struct iovec){ .iov_base = f[k], .iov_len = 100 };
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	for (int round = 0; round < ROUNDS + EXTRA / 5; round++) {
		/* The last rounds: 5 frames each, and port N - 1 no longer
		 * reads; the switch's end of its queue gets the smallest send
		 * buffer, room for a handful of frames. */
		bool last = round >= ROUNDS;
		int burst = last ? 5 : BURST;
		unsigned first = seq;

		if (round == ROUNDS)
			ck_assert_int_eq(setsockopt(sw_port_find(sw,
			    name[N - 1])->fds[0], SOL_SOCKET, SO_SNDBUF,
			    &(int){ 1 }, sizeof(int)), 0);

		for (int k = 0; k < burst; k++) {
			make_frame(f[k], 100, MAC_BCAST, MAC_A, NO_TAG);
			f[k][98] = (uint8_t)(seq >> 8);
			f[k][99] = (uint8_t)seq++;
		}
		ck_assert_int_eq(sendmmsg(peer("p00", 0), mm,
		    (unsigned)burst, 0), burst);
		for (int i = 1; i < N - (last ? 1 : 0); i++)
			for (int k = 0; k < burst; k++) {
				unsigned want = first + (unsigned)k;

				ck_assert_int_eq(collect(name[i], 0, NULL, g,
				    sizeof(g)), 100);
				ck_assert_msg(g[98] == (uint8_t)(want >> 8) &&
				    g[99] == (uint8_t)want,
				    "port %s: frame %u arrived as frame %u",
				    name[i], want, g[98] << 8 | g[99]);
			}
	}
	/* Port N - 1: what was written plus what failed is everything, and
	 * its full queue failed some. */
	counters(name[N - 1], &pc);
	ck_assert_uint_eq(pc.tx_packets + pc.tx_full, seq);
	ck_assert_uint_gt(pc.tx_full, 0);
	ck_assert_uint_eq(pc.tx_errors, 0);
	counters(name[1], &pc);
	ck_assert_uint_eq(pc.tx_packets, seq);
	ck_assert_uint_eq(pc.tx_errors, 0);
	ck_assert_uint_eq(pc.tx_bytes, (uint64_t)seq * 100);
	sw_destroy(sw);
}
END_TEST

/*
 * Bare ports (PORT_IO_BARE): with offload = yes, a port whose channel
 * takes no virtio-net header gets what the others get as super-frames or
 * with a partial checksum finished in software, for it alone.  The
 * frames are the kernel's own (gso_data.h): what a bare port receives
 * must be, byte for byte, what the kernel made of the same frame with
 * offloads off.
 */
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

static struct virtio_net_hdr
case_vh(const struct gso_case *c, size_t shift)
{
	return (struct virtio_net_hdr){
		.flags = (uint8_t)c->vh.flags,
		.gso_type = (uint8_t)c->vh.gso_type,
		.hdr_len = htole16((uint16_t)(c->vh.hdr_len ?
		    c->vh.hdr_len + shift : 0)),
		.gso_size = htole16((uint16_t)c->vh.gso_size),
		.csum_start = htole16((uint16_t)(c->vh.csum_start + shift)),
		.csum_offset = htole16((uint16_t)c->vh.csum_offset),
	};
}

/* f[0..len) with the 802.1Q tag tci after the addresses, into dst. */
static size_t
tag_into(uint8_t *dst, const uint8_t *f, size_t len, uint16_t tci)
{
	memcpy(dst, f, 12);
	dst[12] = 0x81;
	dst[13] = 0x00;
	dst[14] = (uint8_t)(tci >> 8);
	dst[15] = (uint8_t)tci;
	memcpy(dst + 16, f + 12, len - 12);
	return len + 4;
}

/* One frame from a bare port's peer (no header), at most 2 s away. */
static ssize_t
collect_bare(const char *name, unsigned q, uint8_t *buf, size_t size)
{
	struct pollfd pfd = { .fd = peer(name, q), .events = POLLIN };

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	return read(pfd.fd, buf, size);
}

/* The kernel's frames of case c, as the bare port called name must
 * receive them: tagged with tci, or untagged (tci < 0). */
static void
expect_kernel_frames(const char *name, const struct gso_case *c, int tci)
{
	static uint8_t g[70000], want[2048];
	size_t o = 0;

	for (size_t k = 0; k < c->nseg; k++) {
		size_t n = c->lens[k];
		const uint8_t *w = c->out + o;

		if (tci >= 0) {
			n = tag_into(want, w, n, (uint16_t)tci);
			w = want;
		}
		ck_assert_int_eq(collect_bare(name, 0, g, sizeof(g)),
		    (ssize_t)n);
		ck_assert_msg(memcmp(g, w, n) == 0, "%s: frame %zu of %s "
		    "differs from the kernel's", name, k, c->name);
		o += c->lens[k];
	}
}

static const struct gso_case *
kernel_case(const char *name)
{
	static const struct {
		const struct gso_case *c;
		size_t n;
	} groups[] = {
		{ tcp4_cases, ARRAY_SIZE(tcp4_cases) },
		{ tcp4opt_cases, ARRAY_SIZE(tcp4opt_cases) },
		{ tcp6_cases, ARRAY_SIZE(tcp6_cases) },
		{ udp4_cases, ARRAY_SIZE(udp4_cases) },
		{ udp6_cases, ARRAY_SIZE(udp6_cases) },
		{ tcp4cwr_cases, ARRAY_SIZE(tcp4cwr_cases) },
	};

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++)
		for (size_t i = 0; i < groups[g].n; i++)
			if (strcmp(groups[g].c[i].name, name) == 0)
				return &groups[g].c[i];
	ck_abort_msg("no case %s", name);
	return NULL;
}

/*
 * TCP over IPv4 and IPv6 super-frames, untagged from an access port and
 * tagged from a trunk: a bare access port gets the kernel's segments, a
 * bare trunk the same tagged; the ports with a header get the
 * super-frame itself, once.
 */
START_TEST(test_worker_bare_sw_gso)
{
	static const char *const names[] = { "tcp4_1", "tcp4opt_0",
	    "tcp6_1", "tcp4cwr_0" };
	struct conf_port ports[4];
	static uint8_t f[70000], g[70000];
	struct virtio_net_hdr vh, got;
	struct port_counters pc;
	uint64_t segs = 0;

	port_conf(&ports[0], "a", "vlan", "10", NULL, NULL);
	port_conf(&ports[1], "t", "trunk", "10", NULL, NULL);
	port_conf(&ports[2], "b", "type", "dummy_bare", "vlan", "10");
	port_conf(&ports[3], "bt", "type", "dummy_bare", "trunk", "10");
	sw_up(1, true, ports, 4);

	for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
		const struct gso_case *c = kernel_case(names[n]);
		size_t len;

		ck_assert_uint_ne(c->vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		segs += c->nseg;
		/* Untagged, from the access port. */
		vh = case_vh(c, 0);
		inject("a", 0, &vh, c->in, c->in_len);
		expect_kernel_frames("b", c, NO_TAG);
		expect_kernel_frames("bt", c, 10);
		ck_assert_int_eq(collect("t", 0, &got, g, sizeof(g)),
		    (ssize_t)c->in_len + 4);
		ck_assert_uint_eq(got.gso_type, c->vh.gso_type);
		ck_assert_uint_eq(le16toh(got.csum_start),
		    c->vh.csum_start + 4);
		/* Tagged (priority 5), from the trunk. */
		len = tag_into(f, c->in, c->in_len, 0xa00a);
		vh = case_vh(c, 4);
		inject("t", 0, &vh, f, len);
		expect_kernel_frames("b", c, NO_TAG);
		expect_kernel_frames("bt", c, 0xa00a);
		ck_assert_int_eq(collect("a", 0, &got, g, sizeof(g)),
		    (ssize_t)c->in_len);
		ck_assert_mem_eq(g, c->in, c->in_len);
		ck_assert_uint_eq(le16toh(got.gso_size), c->vh.gso_size);
	}
	ck_assert(quiet("b", 0) && quiet("bt", 0));
	counters("b", &pc);
	ck_assert_uint_eq(pc.tx_sw_gso, 2 * ARRAY_SIZE(names));
	ck_assert_uint_eq(pc.tx_packets, 2 * segs);
	ck_assert_uint_eq(pc.tx_sw_csum, 0);
	counters("t", &pc);
	ck_assert_uint_eq(pc.tx_sw_gso, 0);
	ck_assert_uint_eq(pc.tx_packets, ARRAY_SIZE(names));
	counters("a", &pc);
	ck_assert_uint_eq(pc.tx_sw_gso, 0);
	ck_assert_uint_eq(pc.tx_packets, ARRAY_SIZE(names));
	sw_destroy(sw);
}
END_TEST

/* A partial checksum (TCP over IPv4 and IPv6): completed for the bare
 * port as the kernel completed it; the other port still gets it
 * partial, unchanged.  A bare port's own frames reach the others behind
 * an empty header. */
START_TEST(test_worker_bare_sw_csum)
{
	static const char *const names[] = { "tcp4_0", "tcp6_0" };
	struct conf_port ports[2];
	static uint8_t g[2048];
	struct virtio_net_hdr vh, got;
	struct port_counters pc;
	uint8_t f[256];

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", "type", "dummy_bare", NULL, NULL);
	sw_up(1, true, ports, 2);
	for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
		const struct gso_case *c = kernel_case(names[n]);

		ck_assert_uint_eq(c->nseg, 1);
		vh = case_vh(c, 0);
		inject("a", 0, &vh, c->in, c->in_len);
		expect_kernel_frames("b", c, NO_TAG);
	}
	/* From the bare port: the other gets it behind a zeroed header. */
	make_frame(f, 100, MAC_BCAST, MAC_B, NO_TAG);
	ck_assert_int_eq(write(peer("b", 0), f, 100), 100);
	memset(&got, 0xee, sizeof(got));
	ck_assert_int_eq(collect("a", 0, &got, g, sizeof(g)), 100);
	ck_assert_mem_eq(g, f, 100);
	ck_assert_uint_eq(got.flags, 0);
	ck_assert_uint_eq(got.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_eq(got.csum_start, 0);
	/* Plain frames cross to the bare port as they are. */
	make_frame(f, 64, MAC_B, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 64);
	ck_assert_int_eq(collect_bare("b", 0, g, sizeof(g)), 64);
	ck_assert_mem_eq(g, f, 64);
	counters("b", &pc);
	ck_assert_uint_eq(pc.tx_sw_csum, 2);
	ck_assert_uint_eq(pc.tx_sw_gso, 0);
	ck_assert_uint_eq(pc.tx_packets, 3);
	ck_assert_uint_eq(pc.rx_packets, 1);
	sw_destroy(sw);
}
END_TEST

/* A header that does not fit its frame is counted on the bare port and
 * hurts nothing else; segments over the bare port's MTU are counted
 * too. */
START_TEST(test_worker_bare_bad_offload)
{
	const struct gso_case *c = kernel_case("tcp4_1");
	struct conf_port ports[3];
	static uint8_t g[2048];
	struct virtio_net_hdr vh;
	struct port_counters pc;
	uint8_t f[256];

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "b", "type", "dummy_bare", NULL, NULL);
	port_conf(&ports[2], "small", "type", "dummy_bare", "mtu", "100");
	sw_up(1, true, ports, 3);
	vh = case_vh(c, 0);
	vh.csum_start = htole16(20);	/* not the TCP checksum */
	inject("a", 0, &vh, c->in, c->in_len);
	/* Segments of 88 bytes of payload and 66 of headers: over 100. */
	vh = case_vh(c, 0);
	inject("a", 0, &vh, c->in, c->in_len);
	expect_kernel_frames("b", c, NO_TAG);
	make_frame(f, 80, MAC_BCAST, MAC_A, NO_TAG);
	inject("a", 0, NULL, f, 80);
	ck_assert_int_eq(collect_bare("b", 0, g, sizeof(g)), 80);
	/* The last segment fits (44 bytes of payload). */
	ck_assert_int_eq(collect_bare("small", 0, g, sizeof(g)),
	    (ssize_t)c->lens[c->nseg - 1]);
	{
		size_t o = 0;

		for (size_t k = 0; k + 1 < c->nseg; k++)
			o += c->lens[k];
		ck_assert_mem_eq(g, c->out + o, c->lens[c->nseg - 1]);
	}
	ck_assert_int_eq(collect_bare("small", 0, g, sizeof(g)), 80);
	ck_assert(quiet("b", 0) && quiet("small", 0));
	counters("b", &pc);
	ck_assert_uint_eq(pc.tx_errors, 1);
	ck_assert_uint_eq(pc.tx_sw_gso, 1);
	counters("small", &pc);
	ck_assert_uint_eq(pc.tx_errors, 1);
	ck_assert_uint_eq(pc.tx_oversize, c->nseg - 1);
	ck_assert_uint_eq(pc.tx_packets, 2);	/* the last segment, f */
	sw_destroy(sw);
}
END_TEST

/*
 * The data-path hooks (PORT_CAP_IO), through dummy_io, with and without
 * offload and with 2 workers: frames cross in both directions without a
 * header on the hook side, a super-frame is cut before tx sees it, and
 * a full channel counts tx_full; the peer leaving closes the port.
 */
START_TEST(test_worker_io_hooks)
{
	bool offload = _i;
	const struct gso_case *c = kernel_case("tcp6_1");
	struct conf_port ports[2];
	static uint8_t g[2048], sf[70000];
	struct virtio_net_hdr vh, got;
	struct port_counters pc;
	struct timespec ts = { 0, 10000000 };
	uint8_t f[256];
	struct port *io;
	int i;

	port_conf(&ports[0], "a", NULL, NULL, NULL, NULL);
	port_conf(&ports[1], "io", "type", "dummy_io", NULL, NULL);
	sw_up(2, offload, ports, 2);
	io = sw_port_find(sw, "io");
	ck_assert_uint_eq(io->io & PORT_CAP_IO, PORT_CAP_IO);
	ck_assert_uint_eq(!!(io->io & PORT_IO_BARE), offload);
	for (unsigned q = 0; q < 2; q++) {
		make_frame(f, 100 + q, MAC_BCAST, MAC_A, NO_TAG);
		inject("a", q, NULL, f, 100 + q);
		ck_assert_int_eq(collect_bare("io", 0, g, sizeof(g)),
		    100 + (ssize_t)q);
		ck_assert_mem_eq(g, f, 100 + q);
	}
	make_frame(f, 90, MAC_A, MAC_C, NO_TAG);
	ck_assert_int_eq(write(peer("io", 0), f, 90), 90);
	memset(&got, 0xee, sizeof(got));
	ck_assert_int_eq(collect("a", io->id % 2, &got, g, sizeof(g)), 90);
	ck_assert_mem_eq(g, f, 90);
	if (offload) {
		ck_assert_uint_eq(got.gso_type, 0);
		ck_assert_uint_eq(got.flags, 0);
		/* To C, learned behind io: segmented before tx. */
		vh = case_vh(c, 0);
		memcpy(sf, c->in, c->in_len);
		memcpy(sf, MAC_C, 6);
		inject("a", 0, &vh, sf, c->in_len);
		for (size_t k = 0, o = 0; k < c->nseg; k++) {
			ck_assert_int_eq(collect_bare("io", 0, g, sizeof(g)),
			    (ssize_t)c->lens[k]);
			ck_assert_mem_eq(g + 6, c->out + o + 6,
			    c->lens[k] - 6);
			o += c->lens[k];
		}
	}
	/* The peer stops reading: its channel fills, drops are tx_full. */
	ck_assert_int_eq(setsockopt(io->fds[0], SOL_SOCKET, SO_SNDBUF,
	    &(int){ 1 }, sizeof(int)), 0);
	for (i = 0; i < 40; i++) {
		make_frame(f, 200, MAC_C, MAC_A, NO_TAG);
		inject("a", 0, NULL, f, 200);
	}
	for (i = 0; i < 300; i++) {
		counters("io", &pc);
		if (pc.tx_full > 0 && pc.tx_full + pc.tx_packets ==
		    40 + 2 + (offload ? c->nseg : 0))
			break;
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_gt(pc.tx_full, 0);
	ck_assert_uint_eq(pc.tx_errors, 0);
	/* The peer goes: the port closes. */
	close(port_dummy_peer(io, 0));
	((int *)io->priv)[0] = -1;
	for (i = 0; i < 300 && io->opened; i++) {
		sw_events(sw);
		nanosleep(&ts, NULL);
	}
	ck_assert(!io->opened);
	ck_assert(!port_is_up(io));
	sw_destroy(sw);
}
END_TEST

static void
io_uring_on(void)
{
	io_uring = true;
}

/*
 * The busy-poll policy against a model of the worker's wait loop: frame i
 * arrives at at[i] (ns) on port port[i] (0 or 1), each handled at once.
 * When idle, the worker polls until bp.until and catches the frame if it
 * comes by then; otherwise it polls in vain until then and sleeps.
 * Returns the number of times it slept; *wasted gets the time it polled in
 * vain.
 */
static unsigned
simulate_waits(const uint64_t *at, const unsigned *port, unsigned n,
    uint64_t budget, uint64_t *wasted)
{
	struct busy_poll bp = { 0, 0 };
	unsigned score[2] = { 0, 0 }, *last = NULL, sleeps = 0;
	uint64_t t = 1;

	*wasted = 0;
	for (unsigned i = 0; i < n; i++) {
		busy_poll_idle(&bp, t, budget, last ? *last : 0);
		if (t < bp.until && at[i] > bp.until) {
			*wasted += bp.until - t;
			t = bp.until;
		}
		if (t >= bp.until)
			sleeps++;
		t = at[i] > t ? at[i] : t;
		busy_poll_woke(&bp, t, budget, last);
		last = &score[port[i]];
	}
	return sleeps;
}

#define US 1000u

START_TEST(test_busy_poll_policy)
{
	uint64_t at[100], wasted;
	unsigned port[100], i;

	/* Ping-pong between ports 0 and 1, a frame every 20 us.  The first
	 * frame of each port wakes the worker; from then on it polls and
	 * catches every frame, wasting nothing. */
	for (i = 0; i < 100; i++) {
		at[i] = 1000 * US + i * 20 * US;
		port[i] = i % 2;
	}
	ck_assert_uint_eq(simulate_waits(at, port, 100, 50 * US, &wasted), 3);
	ck_assert_uint_eq(wasted, 0);
	/* Off: it sleeps for every frame. */
	ck_assert_uint_eq(simulate_waits(at, port, 100, 0, &wasted), 100);
	ck_assert_uint_eq(wasted, 0);
	/* A budget shorter than the gaps never pays: never poll. */
	ck_assert_uint_eq(simulate_waits(at, port, 100, 10 * US, &wasted),
	    100);
	ck_assert_uint_eq(wasted, 0);

	/* Slow request/response: a request on port 0 every 1 ms, its
	 * response on port 1 20 us later.  The worker polls after requests
	 * and catches every response but the first; it sleeps after
	 * responses, so it never polls in vain. */
	for (i = 0; i < 100; i++) {
		at[i] = 1000 * US + (i / 2) * 1000 * US + (i % 2) * 20 * US;
		port[i] = i % 2;
	}
	ck_assert_uint_eq(simulate_waits(at, port, 100, 50 * US, &wasted),
	    51);
	ck_assert_uint_eq(wasted, 0);

	/* Traffic sparser than the budget (1 ms apart): no polling. */
	for (i = 0; i < 100; i++) {
		at[i] = 1000 * US + i * 1000 * US;
		port[i] = 0;
	}
	ck_assert_uint_eq(simulate_waits(at, port, 100, 50 * US, &wasted),
	    100);
	ck_assert_uint_eq(wasted, 0);

	/* A stream of 50 frames 5 us apart, a pause of 10 ms, another
	 * stream: the pause costs one budget and one wake-up, and the
	 * worker goes on polling into the second stream. */
	for (i = 0; i < 100; i++)
		at[i] = 1000 * US + i * 5 * US + (i >= 50 ? 10000 * US : 0);
	ck_assert_uint_eq(simulate_waits(at, port, 100, 50 * US, &wasted), 3);
	ck_assert_uint_eq(wasted, 50 * US);

	/* The stream, then 50 frames 1 ms apart: polling stops after
	 * BUSY_POLL_SCORE_MAX wasted budgets. */
	for (i = 0; i < 100; i++)
		at[i] = 1000 * US + (i < 50 ? i * 5 * US :
		    250 * US + (i - 49) * 1000 * US);
	ck_assert_uint_eq(simulate_waits(at, port, 100, 50 * US, &wasted),
	    52);
	ck_assert_uint_eq(wasted, BUSY_POLL_SCORE_MAX * 50 * US);
}
END_TEST

static void
worker_tests(TCase *tc)
{
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_worker_flood_then_unicast, 0, 2);
	tcase_add_test(tc, test_worker_single_channel);
	tcase_add_test(tc, test_worker_port_event);
	tcase_add_test(tc, test_worker_vlan_push_pop);
	tcase_add_test(tc, test_worker_vnet_header_offsets);
	tcase_add_test(tc, test_worker_vnet_header_unchanged);
	tcase_add_test(tc, test_worker_port_del_and_egress_mtu);
	tcase_add_test(tc, test_worker_survives_bad_peers);
	tcase_add_test(tc, test_worker_port_closed_meanwhile);
	tcase_add_test(tc, test_worker_busy_poll);
	tcase_add_test(tc, test_worker_bursts);
	tcase_add_test(tc, test_worker_bare_sw_gso);
	tcase_add_test(tc, test_worker_bare_sw_csum);
	tcase_add_test(tc, test_worker_bare_bad_offload);
	tcase_add_loop_test(tc, test_worker_io_hooks, 0, 2);
}

static Suite *
fwd_suite(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, test_untagged_access_learn_and_forward);
	tcase_add_test(tc, test_hairpin_move_broadcast);
	tcase_add_test(tc, test_runt_and_oversize);
	tcase_add_test(tc, test_access_port_tags);
	tcase_add_test(tc, test_trunk_and_native);
	tcase_add_test(tc, test_link_local_and_mcast_source);
	tcase_add_test(tc, test_full_table_and_mac_limit);
	tcase_add_test(tc, test_removed_port_entry_floods);
	suite_add_tcase(s, tc);

	tc = tcase_create("busy_poll");
	tcase_add_test(tc, test_busy_poll_policy);
	suite_add_tcase(s, tc);

	tc = tcase_create("worker");
	worker_tests(tc);
	suite_add_tcase(s, tc);
#ifdef HAVE_LIBURING
	/* The same, with the workers' reads and writes through io_uring. */
	tc = tcase_create("worker-io_uring");
	tcase_add_checked_fixture(tc, io_uring_on, NULL);
	worker_tests(tc);
	suite_add_tcase(s, tc);
#endif
	return s;
}

int
main(void)
{
	log_set_level(LOG_LVL_ERROR);	/* the tests provoke warnings */
	/* Ports are socketpairs: no root, no interfaces. */
	port_type_register_test(&port_type_dummy, true);
	port_type_register_test(&port_type_dummy1, false);
	port_type_register_test(&port_type_dummy_bare, false);
	port_type_register_test(&port_type_dummy_io, false);
	return unit_run(fwd_suite());
}
