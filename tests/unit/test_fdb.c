/*
 * test_fdb.c - unit tests of the MAC table (fdb.c) and of the QSBR domain
 * (qsbr.c) it reclaims entries with: the learning rules, the bounds
 * (table size, mac_limit), deletion and aging, and a stress test in which
 * worker-like threads learn and look up while the main thread deletes, so
 * that an entry reused before its grace period would show up as a wrong
 * answer.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tapswitch/fdb.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/util.h"

#include "unit.h"

static struct qsbr *qs;
static struct fdb *fdb;

/* MAC 02:00:00:hh:mm:ll for i = 0xhhmmll: locally administered unicast,
 * consecutive addresses differing in the last bytes only. */
static void
mac_of(uint32_t i, uint8_t mac[ETH_ADDR_LEN])
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = 0;
	mac[3] = (i >> 16) & 0xff;
	mac[4] = (i >> 8) & 0xff;
	mac[5] = i & 0xff;
}

static void
setup(uint32_t size)
{
	qsbr_create(&qs);
	ck_assert_int_eq(fdb_create(size, qs, &fdb), 0);
}

static void
setup_small(void)
{
	setup(16);
}

static void
teardown(void)
{
	fdb_destroy(fdb);
	qsbr_destroy(qs);
	fdb = NULL;
	qs = NULL;
}

/* Learn address i in vid on port; returns the result. */
static enum fdb_learn_result
learn(uint16_t vid, uint32_t i, uint32_t port, uint32_t limit, uint32_t now)
{
	uint8_t mac[ETH_ADDR_LEN];

	mac_of(i, mac);
	return fdb_learn(fdb, vid, mac, port, 0, limit, now);
}

static uint32_t
lookup(uint16_t vid, uint32_t i)
{
	uint8_t mac[ETH_ADDR_LEN];

	mac_of(i, mac);
	return fdb_lookup(fdb, vid, mac, NULL);
}

static int
add_static(uint16_t vid, uint32_t i, uint32_t port)
{
	uint8_t mac[ETH_ADDR_LEN];

	mac_of(i, mac);
	return fdb_add_static(fdb, vid, mac, port, 0);
}

static int
del(uint16_t vid, uint32_t i)
{
	uint8_t mac[ETH_ADDR_LEN];

	mac_of(i, mac);
	return fdb_del(fdb, vid, mac);
}

/* Collects what fdb_foreach reports. */
struct collect {
	struct fdb_entry_info e[64];
	size_t n;
};

static void
collect_fn(const struct fdb_entry_info *e, void *arg)
{
	struct collect *c = arg;

	ck_assert_uint_lt(c->n, ARRAY_SIZE(c->e));
	c->e[c->n++] = *e;
}

static const struct fdb_entry_info *
collect_find(const struct collect *c, uint16_t vid, uint32_t i)
{
	uint8_t mac[ETH_ADDR_LEN];

	mac_of(i, mac);
	for (size_t k = 0; k < c->n; k++)
		if (c->e[k].vid == vid && memcmp(c->e[k].mac, mac, 6) == 0)
			return &c->e[k];
	return NULL;
}

START_TEST(test_create_bounds)
{
	struct qsbr *q;
	struct fdb *f;

	qsbr_create(&q);
	ck_assert_int_eq(fdb_create(0, q, &f), -EINVAL);
	ck_assert_int_eq(fdb_create((1u << 24) + 1, q, &f), -EINVAL);
	ck_assert_int_eq(fdb_create(1, q, &f), 0);
	ck_assert_uint_eq(fdb_capacity(f), 1);
	ck_assert_uint_eq(fdb_count(f), 0);
	fdb_destroy(f);
	qsbr_destroy(q);
}
END_TEST

START_TEST(test_learn_lookup)
{
	ck_assert_uint_eq(lookup(1, 1), FDB_PORT_NONE);
	ck_assert_int_eq(learn(1, 1, 3, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(1, 1), 3);
	ck_assert_uint_eq(lookup(1, 2), FDB_PORT_NONE);
	ck_assert_int_eq(learn(1, 2, 0, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(1, 2), 0);
	ck_assert_uint_eq(lookup(1, 1), 3);
	ck_assert_uint_eq(fdb_count(fdb), 2);
}
END_TEST

START_TEST(test_vlans_independent)
{
	ck_assert_int_eq(learn(10, 7, 1, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(20, 7), FDB_PORT_NONE);
	ck_assert_int_eq(learn(20, 7, 2, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(10, 7), 1);
	ck_assert_uint_eq(lookup(20, 7), 2);
	/* VID 0 and the top VID are keys like any other. */
	ck_assert_int_eq(learn(0, 7, 3, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(4095, 7, 4, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(0, 7), 3);
	ck_assert_uint_eq(lookup(4095, 7), 4);
	ck_assert_int_eq(del(10, 7), 0);
	ck_assert_uint_eq(lookup(10, 7), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(20, 7), 2);
	ck_assert_uint_eq(fdb_count(fdb), 3);
}
END_TEST

START_TEST(test_refresh)
{
	struct collect c = { .n = 0 };

	ck_assert_int_eq(learn(1, 1, 3, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 1, 3, 0, 100), FDB_REFRESHED);
	ck_assert_int_eq(learn(1, 1, 3, 0, 150), FDB_REFRESHED);
	fdb_foreach(fdb, collect_fn, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.e[0].last_seen, 150);
	ck_assert_uint_eq(c.e[0].port, 3);
	ck_assert_uint_eq(fdb_count(fdb), 1);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 1);
	/* The refresh keeps the entry from aging. */
	ck_assert_uint_eq(fdb_age(fdb, 200, 60), 0);
	ck_assert_uint_eq(lookup(1, 1), 3);
}
END_TEST

START_TEST(test_move)
{
	ck_assert_int_eq(learn(1, 1, 3, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 1, 4, 0, 101), FDB_MOVED);
	ck_assert_uint_eq(lookup(1, 1), 4);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 4), 1);
	ck_assert_uint_eq(fdb_count(fdb), 1);
	ck_assert_int_eq(learn(1, 1, 4, 0, 102), FDB_REFRESHED);
}
END_TEST

/* Entries of a port with remotes (vxlan) say which remote. */
START_TEST(test_remote)
{
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t r = 99;
	struct collect c = { .n = 0 };

	mac_of(1, mac);
	ck_assert_int_eq(fdb_learn(fdb, 10, mac, 3, 2, 1, 100), FDB_LEARNED);
	ck_assert_uint_eq(fdb_lookup(fdb, 10, mac, &r), 3);
	ck_assert_uint_eq(r, 2);
	ck_assert_int_eq(fdb_learn(fdb, 10, mac, 3, 2, 1, 100),
	    FDB_REFRESHED);
	/* Another remote of the same port: a move that is no new entry for
	 * the port's limit (1, reached). */
	ck_assert_int_eq(fdb_learn(fdb, 10, mac, 3, 5, 1, 101), FDB_MOVED);
	ck_assert_uint_eq(fdb_lookup(fdb, 10, mac, &r), 3);
	ck_assert_uint_eq(r, 5);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 1);
	/* To another port: remote 0. */
	ck_assert_int_eq(fdb_learn(fdb, 10, mac, 4, 0, 0, 102), FDB_MOVED);
	ck_assert_uint_eq(fdb_lookup(fdb, 10, mac, &r), 4);
	ck_assert_uint_eq(r, 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 0);
	/* A static entry keeps its remote; learning cannot move it. */
	mac_of(2, mac);
	ck_assert_int_eq(fdb_add_static(fdb, 10, mac, 3, 7), 0);
	ck_assert_int_eq(fdb_learn(fdb, 10, mac, 3, 1, 0, 103), FDB_STATIC);
	ck_assert_uint_eq(fdb_lookup(fdb, 10, mac, &r), 3);
	ck_assert_uint_eq(r, 7);
	/* The highest remote index and port id fit. */
	mac_of(3, mac);
	ck_assert_int_eq(fdb_learn(fdb, 1, mac, FDB_PORT_MAX - 1, UINT16_MAX,
	    0, 104), FDB_LEARNED);
	ck_assert_uint_eq(fdb_lookup(fdb, 1, mac, &r), FDB_PORT_MAX - 1);
	ck_assert_uint_eq(r, UINT16_MAX);
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_MAX - 1, false), 1);
	fdb_foreach(fdb, collect_fn, &c);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(collect_find(&c, 10, 2)->remote, 7);
	ck_assert_uint_eq(collect_find(&c, 10, 2)->port, 3);
	ck_assert_uint_eq(collect_find(&c, 10, 1)->remote, 0);
}
END_TEST

START_TEST(test_static)
{
	struct collect c = { .n = 0 };

	ck_assert_int_eq(add_static(1, 1, 5), 0);
	ck_assert_uint_eq(lookup(1, 1), 5);
	ck_assert_int_eq(learn(1, 1, 6, 0, 100), FDB_STATIC);
	ck_assert_uint_eq(lookup(1, 1), 5);
	ck_assert_int_eq(learn(1, 1, 5, 0, 100), FDB_REFRESHED);
	/* Static entries count in the table, not against mac_limit. */
	ck_assert_uint_eq(fdb_count(fdb), 1);
	ck_assert_uint_eq(fdb_port_count(fdb, 5), 0);
	ck_assert_int_eq(learn(1, 2, 5, 1, 100), FDB_LEARNED);
	fdb_foreach(fdb, collect_fn, &c);
	ck_assert_uint_eq(c.n, 2);
	ck_assert(collect_find(&c, 1, 1)->is_static);
	ck_assert_uint_eq(collect_find(&c, 1, 1)->last_seen, 0);
	ck_assert(!collect_find(&c, 1, 2)->is_static);

	/* Never aged. */
	ck_assert_uint_eq(fdb_age(fdb, 100000, 10), 1);
	ck_assert_uint_eq(lookup(1, 1), 5);
	ck_assert_uint_eq(lookup(1, 2), FDB_PORT_NONE);

	/* Replacing a static entry moves it. */
	ck_assert_int_eq(add_static(1, 1, 7), 0);
	ck_assert_uint_eq(lookup(1, 1), 7);
	ck_assert_uint_eq(fdb_count(fdb), 1);

	/* A static entry replaces a dynamic one, which stops counting
	 * against its port. */
	ck_assert_int_eq(learn(1, 3, 8, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(fdb_port_count(fdb, 8), 1);
	ck_assert_int_eq(add_static(1, 3, 9), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 8), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 9), 0);
	ck_assert_uint_eq(lookup(1, 3), 9);
	ck_assert_int_eq(learn(1, 3, 8, 0, 200), FDB_STATIC);
	ck_assert_uint_eq(fdb_count(fdb), 2);

	/* Survives a flush of dynamic entries, not a full one. */
	ck_assert_int_eq(learn(1, 4, 7, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_ANY, false), 1);
	ck_assert_uint_eq(lookup(1, 1), 7);
	ck_assert_uint_eq(lookup(1, 3), 9);
	ck_assert_uint_eq(fdb_flush(fdb, 7, false), 0);
	ck_assert_uint_eq(fdb_flush(fdb, 7, true), 1);
	ck_assert_uint_eq(lookup(1, 1), FDB_PORT_NONE);
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_ANY, true), 1);
	ck_assert_uint_eq(lookup(1, 3), FDB_PORT_NONE);
	ck_assert_uint_eq(fdb_count(fdb), 0);
	ck_assert_int_eq(add_static(1, 1, FDB_PORT_MAX), -EINVAL);
}
END_TEST

START_TEST(test_del)
{
	ck_assert_int_eq(del(1, 1), -ENOENT);
	ck_assert_int_eq(learn(1, 1, 3, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(add_static(1, 2, 3), 0);
	ck_assert_int_eq(del(2, 1), -ENOENT);
	ck_assert_int_eq(del(1, 1), 0);
	ck_assert_uint_eq(lookup(1, 1), FDB_PORT_NONE);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 0);
	ck_assert_int_eq(del(1, 1), -ENOENT);
	ck_assert_int_eq(del(1, 2), 0);
	ck_assert_uint_eq(lookup(1, 2), FDB_PORT_NONE);
	ck_assert_uint_eq(fdb_count(fdb), 0);
	/* The address can be learned again. */
	ck_assert_int_eq(learn(1, 1, 4, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(lookup(1, 1), 4);
}
END_TEST

START_TEST(test_age)
{
	ck_assert_int_eq(learn(1, 1, 1, 0, 1000), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 2, 1, 0, 1050), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 3, 2, 0, 1090), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 4, 2, 0, 1100), FDB_LEARNED);
	/* Entries exactly max_age old stay. */
	ck_assert_uint_eq(fdb_age(fdb, 1100, 100), 0);
	ck_assert_uint_eq(fdb_age(fdb, 1101, 100), 1);
	ck_assert_uint_eq(lookup(1, 1), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(1, 2), 1);
	ck_assert_uint_eq(fdb_age(fdb, 1195, 100), 2);
	ck_assert_uint_eq(lookup(1, 2), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(1, 3), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(1, 4), 2);
	ck_assert_uint_eq(fdb_count(fdb), 1);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 2), 1);
	/* Seen "after" now (a worker raced the timer): not old. */
	ck_assert_uint_eq(fdb_age(fdb, 50, 10), 0);
	ck_assert_uint_eq(lookup(1, 4), 2);
	/* max_age 0: aging disabled. */
	ck_assert_uint_eq(fdb_age(fdb, 1000000, 0), 0);
	ck_assert_uint_eq(lookup(1, 4), 2);
}
END_TEST

START_TEST(test_full)
{
	uint32_t n = fdb_capacity(fdb);

	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(learn(1, i, i % 3, 0, 100 + i), FDB_LEARNED);
	ck_assert_uint_eq(fdb_count(fdb), n);
	ck_assert_int_eq(learn(1, n, 0, 0, 500), FDB_FULL);
	ck_assert_int_eq(learn(2, 0, 0, 0, 500), FDB_FULL);
	ck_assert_int_eq(add_static(1, n, 0), -ENOSPC);
	ck_assert_uint_eq(lookup(1, n), FDB_PORT_NONE);
	/* Known addresses still refresh, move and resolve. */
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(lookup(1, i), i % 3);
	ck_assert_int_eq(learn(1, 0, 0, 0, 500), FDB_REFRESHED);
	ck_assert_int_eq(learn(1, 1, 0, 0, 500), FDB_MOVED);
	/* A static entry can replace a dynamic one in a full table. */
	ck_assert_int_eq(add_static(1, 2, 1), 0);
	ck_assert_uint_eq(fdb_count(fdb), n);

	/* Aging makes room: entries 3..7 were last seen at 103..107. */
	ck_assert_uint_eq(fdb_age(fdb, 208, 100), 5);
	ck_assert_uint_eq(fdb_count(fdb), n - 5);
	for (uint32_t i = 0; i < 5; i++)
		ck_assert_int_eq(learn(1, n + i, 0, 0, 500), FDB_LEARNED);
	ck_assert_int_eq(learn(1, n + 5, 0, 0, 500), FDB_FULL);
	ck_assert_uint_eq(lookup(1, n + 4), 0);

	/* So does a flush. */
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_ANY, true), n);
	ck_assert_uint_eq(fdb_count(fdb), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(learn(3, i, 1, 0, 600), FDB_LEARNED);
	ck_assert_int_eq(learn(3, n, 1, 0, 600), FDB_FULL);
}
END_TEST

START_TEST(test_mac_limit)
{
	ck_assert_int_eq(learn(1, 1, 1, 2, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 2, 1, 2, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 3, 1, 2, 100), FDB_LIMIT);
	ck_assert_uint_eq(lookup(1, 3), FDB_PORT_NONE);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 2);
	/* Known addresses of the port still refresh. */
	ck_assert_int_eq(learn(1, 1, 1, 2, 101), FDB_REFRESHED);
	/* Other ports are not affected. */
	ck_assert_int_eq(learn(1, 3, 2, 2, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 4, 2, 2, 100), FDB_LEARNED);
	/* A move into a full port is refused like a new address... */
	ck_assert_int_eq(learn(1, 4, 1, 2, 100), FDB_LIMIT);
	ck_assert_uint_eq(lookup(1, 4), 2);
	/* ...and a move out of it frees a slot. */
	ck_assert_int_eq(learn(1, 2, 3, 2, 100), FDB_MOVED);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 1);
	ck_assert_int_eq(learn(1, 5, 1, 2, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 6, 1, 2, 100), FDB_LIMIT);
	/* 0 means no limit, and a static entry does not use a slot. */
	ck_assert_int_eq(learn(1, 6, 1, 0, 100), FDB_LEARNED);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 3);
	ck_assert_int_eq(add_static(1, 7, 3), 0);
	ck_assert_int_eq(learn(1, 8, 3, 2, 100), FDB_LEARNED);
	ck_assert_uint_eq(fdb_port_count(fdb, 3), 2);
	/* Deleting frees a slot too. */
	ck_assert_int_eq(del(1, 8), 0);
	ck_assert_int_eq(learn(1, 9, 3, 2, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 10, 3, 2, 100), FDB_LIMIT);
}
END_TEST

START_TEST(test_flush_port)
{
	ck_assert_int_eq(learn(1, 1, 1, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(2, 1, 1, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 2, 2, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 3, 3, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(add_static(1, 4, 1), 0);
	ck_assert_uint_eq(fdb_flush(fdb, 1, false), 2);
	ck_assert_uint_eq(lookup(1, 1), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(2, 1), FDB_PORT_NONE);
	ck_assert_uint_eq(lookup(1, 4), 1);
	ck_assert_uint_eq(lookup(1, 2), 2);
	ck_assert_uint_eq(lookup(1, 3), 3);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 2), 1);
	ck_assert_uint_eq(fdb_flush(fdb, 9, true), 0);
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_ANY, false), 2);
	ck_assert_uint_eq(fdb_count(fdb), 1);
}
END_TEST

START_TEST(test_counts)
{
	ck_assert_uint_eq(fdb_count(fdb), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, 0), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, FDB_PORT_MAX), 0);
	ck_assert_uint_eq(fdb_port_count(fdb, FDB_PORT_MAX - 1), 0);
	for (uint32_t i = 0; i < 6; i++)
		ck_assert_int_eq(learn(1, i, i & 1, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(learn(1, 6, FDB_PORT_MAX - 1, 0, 100), FDB_LEARNED);
	ck_assert_int_eq(add_static(1, 7, 0), 0);
	ck_assert_uint_eq(fdb_count(fdb), 8);
	ck_assert_uint_eq(fdb_port_count(fdb, 0), 3);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 3);
	ck_assert_uint_eq(fdb_port_count(fdb, FDB_PORT_MAX - 1), 1);
	ck_assert_int_eq(learn(1, 0, 1, 0, 100), FDB_MOVED);
	ck_assert_uint_eq(fdb_port_count(fdb, 0), 2);
	ck_assert_uint_eq(fdb_port_count(fdb, 1), 4);
	ck_assert_uint_eq(fdb_count(fdb), 8);
	ck_assert_uint_eq(fdb_capacity(fdb), 16);
}
END_TEST

START_TEST(test_foreach)
{
	struct collect c = { .n = 0 };
	const struct fdb_entry_info *e;

	fdb_foreach(fdb, collect_fn, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(learn(1, 0xabcdef, 4, 0, 1234), FDB_LEARNED);
	ck_assert_int_eq(learn(4095, 0xabcdef, 5, 0, 1235), FDB_LEARNED);
	ck_assert_int_eq(add_static(7, 1, 6), 0);
	fdb_foreach(fdb, collect_fn, &c);
	ck_assert_uint_eq(c.n, 3);
	e = collect_find(&c, 1, 0xabcdef);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->mac[0], 0x02);
	ck_assert_uint_eq(e->mac[3], 0xab);
	ck_assert_uint_eq(e->mac[5], 0xef);
	ck_assert_uint_eq(e->port, 4);
	ck_assert_uint_eq(e->last_seen, 1234);
	ck_assert(!e->is_static);
	e = collect_find(&c, 4095, 0xabcdef);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->port, 5);
	ck_assert_uint_eq(e->last_seen, 1235);
	e = collect_find(&c, 7, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->port, 6);
	ck_assert(e->is_static);
	ck_assert_uint_eq(e->last_seen, 0);
}
END_TEST

/* Many entries: chains with several entries, unlinking in the middle and
 * at the head of chains, entries reused after deletion. */
START_TEST(test_many)
{
	const uint32_t n = 4096;
	size_t aged = 0, left;

	teardown();
	setup(n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(learn(1 + (i & 1), i, i % 100, 0, i),
		    FDB_LEARNED);
	for (uint32_t i = 0; i < n; i += 3)
		ck_assert_int_eq(del(1 + (i & 1), i), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(lookup(1 + (i & 1), i),
		    i % 3 == 0 ? FDB_PORT_NONE : i % 100);
	/* At 2000 with max_age 1, what was last seen before 1999 goes. */
	for (uint32_t i = 0; i < 1999; i++)
		if (i % 3 != 0)
			aged++;
	ck_assert_uint_eq(fdb_age(fdb, 2000, 1), aged);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(lookup(1 + (i & 1), i),
		    i % 3 == 0 || i < 1999 ? FDB_PORT_NONE : i % 100);
	left = fdb_count(fdb);
	ck_assert_uint_eq(left, n - (n + 2) / 3 - aged);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(learn(3, i, 7, 0, 5000),
		    i < n - left ? FDB_LEARNED : FDB_FULL);
}
END_TEST

/*
 * QSBR.
 */

struct qs_reader_arg {
	struct qsbr *qs;
	int registered;		/* reader -> test: online */
	int go_offline;		/* test -> reader */
	int offline;		/* reader -> test */
	int go_online;		/* test -> reader */
	int online_again;	/* reader -> test */
	int go_quiesce;		/* test -> reader */
	int passed;		/* reader: set just before qsbr_quiescent */
	int stop;		/* test -> reader */
};

struct qs_sync_arg {
	struct qsbr *qs;
	int *passed;
	int done;
	int passed_at_return;	/* value of *passed when sync returned */
};

static int
aload(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
astore(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
wait_flag(const int *p)
{
	struct timespec ts = { 0, 100000 };

	while (!aload(p))
		nanosleep(&ts, NULL);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void *
qs_reader(void *p)
{
	struct qs_reader_arg *a = p;
	struct qsbr_reader *r = qsbr_register(a->qs);

	astore(&a->registered, r ? 1 : 2);
	if (!r)
		return NULL;
	wait_flag(&a->go_offline);
	qsbr_offline(r);
	astore(&a->offline, 1);
	wait_flag(&a->go_online);
	qsbr_online(r);
	astore(&a->online_again, 1);
	wait_flag(&a->go_quiesce);
	astore(&a->passed, 1);
	qsbr_quiescent(r);
	wait_flag(&a->stop);
	qsbr_unregister(r);
	return NULL;
}

static void *
qs_syncer(void *p)
{
	struct qs_sync_arg *a = p;

	qsbr_synchronize(a->qs);
	astore(&a->passed_at_return, aload(a->passed));
	astore(&a->done, 1);
	return NULL;
}

static void
count_call(void *arg)
{
	(*(int *)arg)++;
}

/* Deferred work runs once its grace period is over, never before, and
 * reclaiming never waits. */
START_TEST(test_qsbr_defer)
{
	struct qs_reader_arg ra;
	pthread_t rt;
	struct qsbr *q;
	int calls = 0;

	qsbr_create(&q);
	memset(&ra, 0, sizeof(ra));
	ra.qs = q;
	pthread_create(&rt, NULL, qs_reader, &ra);
	wait_flag(&ra.registered);
	ck_assert_int_eq(ra.registered, 1);

	/* The reader is online and has not passed a quiescent point. */
	qsbr_defer(q, count_call, &calls);
	ck_assert_uint_eq(qsbr_pending(q), 1);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	ck_assert_int_eq(calls, 0);
	/* Offline: the grace period is over. */
	astore(&ra.go_offline, 1);
	wait_flag(&ra.offline);
	ck_assert_uint_eq(qsbr_reclaim(q), 1);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(qsbr_pending(q), 0);
	/* Online again: a new one waits for the quiescent point. */
	astore(&ra.go_online, 1);
	wait_flag(&ra.online_again);
	qsbr_defer(q, count_call, &calls);
	qsbr_defer(q, count_call, &calls);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	astore(&ra.go_quiesce, 1);
	while (qsbr_reclaim(q) == 0)
		sleep_ms(1);
	ck_assert_int_eq(calls, 3);
	astore(&ra.stop, 1);
	pthread_join(rt, NULL);
	/* What is left runs when the domain goes. */
	qsbr_defer(q, count_call, &calls);
	qsbr_destroy(q);
	ck_assert_int_eq(calls, 4);
}
END_TEST

START_TEST(test_qsbr_sync)
{
	struct qs_reader_arg ra;
	struct qs_sync_arg sa;
	pthread_t rt, st;
	struct qsbr *q;

	qsbr_create(&q);
	/* No readers: returns at once (a hang fails by timeout). */
	qsbr_synchronize(q);

	memset(&ra, 0, sizeof(ra));
	ra.qs = q;
	pthread_create(&rt, NULL, qs_reader, &ra);
	wait_flag(&ra.registered);
	ck_assert_int_eq(ra.registered, 1);

	/* Offline readers are not waited for. */
	astore(&ra.go_offline, 1);
	wait_flag(&ra.offline);
	qsbr_synchronize(q);
	qsbr_synchronize(q);

	/* Back online: a grace period must wait for its quiescent point.
	 * The reader sets 'passed' just before qsbr_quiescent(), and only
	 * after we let it; the syncer records 'passed' when it returns. */
	astore(&ra.go_online, 1);
	wait_flag(&ra.online_again);
	memset(&sa, 0, sizeof(sa));
	sa.qs = q;
	sa.passed = &ra.passed;
	pthread_create(&st, NULL, qs_syncer, &sa);
	/* Give a broken qsbr_synchronize() time to return early. */
	sleep_ms(50);
	ck_assert_int_eq(aload(&sa.done), 0);
	astore(&ra.go_quiesce, 1);
	pthread_join(st, NULL);
	ck_assert_int_eq(sa.passed_at_return, 1);

	/* An unregistered reader is not waited for. */
	astore(&ra.stop, 1);
	pthread_join(rt, NULL);
	qsbr_synchronize(q);
	qsbr_destroy(q);
}
END_TEST

START_TEST(test_qsbr_register_limit)
{
	struct qsbr_reader *r[QSBR_READERS_MAX];
	struct qsbr *q;

	qsbr_create(&q);
	/* One thread may hold several slots; enough to exhaust them. */
	for (size_t i = 0; i < QSBR_READERS_MAX; i++) {
		r[i] = qsbr_register(q);
		ck_assert_ptr_nonnull(r[i]);
		qsbr_offline(r[i]);
	}
	ck_assert_ptr_null(qsbr_register(q));
	qsbr_unregister(r[5]);
	r[5] = qsbr_register(q);
	ck_assert_ptr_nonnull(r[5]);
	qsbr_offline(r[5]);
	/* All offline: a grace period needs nothing from them. */
	qsbr_synchronize(q);
	for (size_t i = 0; i < QSBR_READERS_MAX; i++)
		qsbr_unregister(r[i]);
	qsbr_destroy(q);
}
END_TEST

/* An online reader that starts a grace period would wait for itself
 * forever: qsbr_synchronize() aborts instead. */
START_TEST(test_qsbr_self_sync)
{
	struct qsbr_reader *r;
	struct qsbr *q;

	qsbr_create(&q);
	r = qsbr_register(q);
	ck_assert_ptr_nonnull(r);
	qsbr_offline(r);
	qsbr_synchronize(q);
	qsbr_online(r);
	/* Keep the expected message out of the test output. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	qsbr_synchronize(q);
}
END_TEST

/*
 * Stress: workers learn and look up while the main thread deletes.
 *
 * Key k (0 <= k < NKEYS) is address k in VLAN 1 + k % 3 and may only ever
 * be on port 2k or 2k + 1; NEVER more addresses are never inserted.  An
 * entry reused before its grace period ends (or a chain broken by an
 * unlink) would make a reader return a port of another key, or the pool's
 * poison port, or find a key that was never inserted.
 */
#define NKEYS 256
#define NEVER 64
#define SIZE 128
#define NREADERS 3
#define MAIN_ITERS 3000		/* at least this many deletions etc. */
#define MAIN_ITERS_MAX 2000000	/* and at most this many */
#define READER_OPS 10000000	/* until the readers did this much */
#define QUIESCE_EVERY 64

struct stress {
	int stop;
	uint32_t now;
	int ready;
	uint64_t ops;		/* of all readers */
};

struct stress_reader {
	struct stress *s;
	uint64_t seed;
	uint64_t ops;
	uint64_t bad_port;
	uint64_t never_found;
	uint64_t bad_result;
	uint64_t bad_count;
	uint64_t results[FDB_LIMIT + 1];
};

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint16_t
key_vid(uint32_t k)
{
	return (uint16_t)(1 + k % 3);
}

static bool
port_ok(uint32_t k, uint32_t port)
{
	return port == FDB_PORT_NONE || port == 2 * k || port == 2 * k + 1;
}

static void *
stress_reader(void *p)
{
	struct stress_reader *a = p;
	struct qsbr_reader *r = qsbr_register(qs);
	uint8_t mac[ETH_ADDR_LEN];
	enum fdb_learn_result res;
	uint32_t k = 0, port, now;
	uint64_t x;

	if (!r) {
		a->bad_result++;
		__atomic_add_fetch(&a->s->ready, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_add_fetch(&a->s->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->s->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < QUIESCE_EVERY; i++) {
			x = xorshift(&a->seed);
			k = (uint32_t)(x >> 8) % NKEYS;
			mac_of(k, mac);
			switch (x & 7) {
			case 0:
				mac_of(NKEYS + (uint32_t)(x >> 8) % NEVER,
				    mac);
				if (fdb_lookup(fdb, key_vid(k), mac, NULL) !=
				    FDB_PORT_NONE)
					a->never_found++;
				break;
			case 1:
			case 2:
				now = __atomic_load_n(&a->s->now,
				    __ATOMIC_RELAXED);
				port = 2 * k + ((x >> 4) & 1);
				res = fdb_learn(fdb, key_vid(k), mac, port,
				    (uint16_t)((x >> 5) & 1), (x & 8) ? 1 : 0, now);
				if (res > FDB_LIMIT)
					a->bad_result++;
				else
					a->results[res]++;
				break;
			default:
				port = fdb_lookup(fdb, key_vid(k), mac, NULL);
				if (!port_ok(k, port))
					a->bad_port++;
				break;
			}
			a->ops++;
		}
		if (fdb_count(fdb) > SIZE ||
		    fdb_port_count(fdb, 2 * k) > 1 ||
		    fdb_port_count(fdb, 2 * k + 1) > 1)
			a->bad_count++;
		__atomic_add_fetch(&a->s->ops, QUIESCE_EVERY,
		    __ATOMIC_RELAXED);
		qsbr_quiescent(r);
		/* Now and then block, as a worker in epoll_wait does. */
		if ((a->ops & 4095) == 0) {
			qsbr_offline(r);
			sched_yield();
			qsbr_online(r);
		}
	}
	qsbr_unregister(r);
	return NULL;
}

struct stress_check {
	uint8_t seen[NKEYS];
	uint32_t port_count[2 * NKEYS];
	size_t n;
	size_t bad;
};

static void
stress_check_fn(const struct fdb_entry_info *e, void *arg)
{
	struct stress_check *c = arg;
	uint32_t k = (uint32_t)mac_to_u64(e->mac) & 0xffffff;

	c->n++;
	if (k >= NKEYS || e->vid != key_vid(k) || c->seen[k] ||
	    !port_ok(k, e->port) || e->port == FDB_PORT_NONE) {
		c->bad++;
		return;
	}
	c->seen[k] = 1;
	if (!e->is_static)
		c->port_count[e->port]++;
}

START_TEST(test_stress)
{
	static struct stress_reader rd[NREADERS];
	static struct stress_check chk;
	struct stress s = { 0, 1, 0, 0 };
	pthread_t t[NREADERS];
	uint8_t mac[ETH_ADDR_LEN];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint64_t learned = 0, ops = 0;
	size_t n;
	uint32_t k;

	teardown();
	setup(SIZE);
	for (int i = 0; i < NREADERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].s = &s;
		rd[i].seed = 0x1234567ULL * (uint64_t)(i + 1);
		pthread_create(&t[i], NULL, stress_reader, &rd[i]);
	}
	while (__atomic_load_n(&s.ready, __ATOMIC_ACQUIRE) < NREADERS)
		sched_yield();

	/* Bounded both ways: enough reader work overlaps the deletions even
	 * when one side runs much faster than the other. */
	for (int it = 0; it < MAIN_ITERS_MAX && (it < MAIN_ITERS ||
	    __atomic_load_n(&s.ops, __ATOMIC_RELAXED) < READER_OPS); it++) {
		x = xorshift(&x);
		k = (uint32_t)(x >> 16) % NKEYS;
		mac_of(k, mac);
		__atomic_store_n(&s.now, (uint32_t)(it / 8 + 1),
		    __ATOMIC_RELAXED);
		switch (x & 15) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			fdb_del(fdb, key_vid(k), mac);
			break;
		case 5:
		case 6:
		case 7:
			ck_assert_int_le(fdb_add_static(fdb, key_vid(k), mac,
			    2 * k + ((x >> 8) & 1), (uint16_t)((x >> 9) & 1)), 0);
			break;
		case 8:
			/* Flush the two ports of a key. */
			fdb_flush(fdb, 2 * k, (x >> 8) & 1);
			fdb_flush(fdb, 2 * k + 1, (x >> 9) & 1);
			break;
		case 9:
			if ((x >> 8) % 16 == 0)
				fdb_flush(fdb, FDB_PORT_ANY, (x >> 12) & 1);
			break;
		case 10:
		case 11:
			fdb_age(fdb, (uint32_t)(it / 8 + 1), 2);
			break;
		default:
			/* The main thread learns too (it is not a reader,
			 * but it is the only deleter). */
			fdb_learn(fdb, key_vid(k), mac, 2 * k, 0, 0,
			    (uint32_t)(it / 8 + 1));
			ck_assert_uint_le(fdb_count(fdb), SIZE);
			break;
		}
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NREADERS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_eq(rd[i].bad_port, 0);
		ck_assert_uint_eq(rd[i].never_found, 0);
		ck_assert_uint_eq(rd[i].bad_result, 0);
		ck_assert_uint_eq(rd[i].bad_count, 0);
		ops += rd[i].ops;
		learned += rd[i].results[FDB_LEARNED];
	}
	/* The readers did run concurrently with the deletions. */
	ck_assert_uint_gt(ops, 0);
	ck_assert_uint_gt(learned, 0);

	/* The table is consistent: counts match the chains, no key twice,
	 * every port allowed for its key, per-port counts exact. */
	memset(&chk, 0, sizeof(chk));
	fdb_foreach(fdb, stress_check_fn, &chk);
	ck_assert_uint_eq(chk.bad, 0);
	ck_assert_uint_eq(chk.n, fdb_count(fdb));
	ck_assert_uint_le(chk.n, SIZE);
	for (uint32_t p = 0; p < 2 * NKEYS; p++)
		ck_assert_uint_eq(chk.port_count[p], fdb_port_count(fdb, p));
	for (k = 0; k < NKEYS; k++) {
		mac_of(k, mac);
		ck_assert(port_ok(k, fdb_lookup(fdb, key_vid(k), mac, NULL)));
		ck_assert_int_eq(fdb_lookup(fdb, key_vid(k), mac, NULL) !=
		    FDB_PORT_NONE, chk.seen[k]);
	}

	/* No entry was lost or duplicated in the pool: after a full flush
	 * exactly SIZE new addresses fit. */
	n = fdb_count(fdb);
	ck_assert_uint_eq(fdb_flush(fdb, FDB_PORT_ANY, true), n);
	ck_assert_uint_eq(fdb_count(fdb), 0);
	for (uint32_t p = 0; p < 2 * NKEYS; p++)
		ck_assert_uint_eq(fdb_port_count(fdb, p), 0);
	for (uint32_t i = 0; i < SIZE; i++)
		ck_assert_int_eq(learn(9, 0x100000 + i, 1, 0, 1), FDB_LEARNED);
	ck_assert_int_eq(learn(9, 0x100000 + SIZE, 1, 0, 1), FDB_FULL);
}
END_TEST

static Suite *
fdb_suite(void)
{
	Suite *s = suite_create("fdb");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup_small, teardown);
	tcase_add_test(tc, test_create_bounds);
	tcase_add_test(tc, test_learn_lookup);
	tcase_add_test(tc, test_vlans_independent);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_static);
	tcase_add_test(tc, test_remote);
	tcase_add_test(tc, test_del);
	tcase_add_test(tc, test_age);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_mac_limit);
	tcase_add_test(tc, test_flush_port);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("qsbr");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_qsbr_sync);
	tcase_add_test(tc, test_qsbr_defer);
	tcase_add_test(tc, test_qsbr_register_limit);
	tcase_add_test_raise_signal(tc, test_qsbr_self_sync, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup_small, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stress);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(fdb_suite());
}
