/*
 * fdb_bench.c - how many MAC table lookups one core does per second, with
 * and without a worker learning (refreshing and moving addresses) at the
 * same time, at the default table size and at a million entries.
 *
 * Lookup threads behave like workers: registered QSBR readers that look up
 * batches of 32 addresses and pass a quiescent point after each batch.
 * Addresses are drawn at random over the whole table (no locality: the
 * worst case for the caches).  The learner is a reader as well; it
 * refreshes random known addresses with the real clock, and moves one in
 * 64 to another port, which takes the writer mutex.  Not a test: it prints
 * figures and never fails.  See bench/README-fdb.md for how to build it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tapswitch/fdb.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/util.h"

#define BATCH 32
#define MAX_THREADS 64
#define NPORTS 64

struct bench {
	struct fdb *fdb;
	struct qsbr *qs;
	uint32_t n;		/* entries in the table */
	bool miss;		/* look up addresses that are not there */
	int stop;
};

/* One per thread, a cache line each; the thread keeps its counters in
 * locals and stores them here when it stops. */
struct worker {
	pthread_t tid;
	struct bench *b;
	uint64_t seed;
	uint64_t ops;
	uint64_t sink;		/* keeps the lookups from being optimised out */
	double cpu;		/* CPU seconds the thread used */
} __attribute__((aligned(CACHE_LINE)));

/* Entry i: VLAN 1..8 and a MAC of one vendor, differing in the low bytes
 * (the common case on a hypervisor host).  Misses use another vendor. */
static void
key_of(uint32_t i, bool miss, uint16_t *vid, uint8_t mac[ETH_ADDR_LEN])
{
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = miss ? 0x01 : 0x00;
	mac[3] = (i >> 16) & 0xff;
	mac[4] = (i >> 8) & 0xff;
	mac[5] = i & 0xff;
	*vid = (uint16_t)(1 + (i & 7));
}

static inline uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Uniform in [0, n) without a division. */
static inline uint32_t
pick(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((xorshift(s) & 0xffffffff) * n) >> 32);
}

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
lookup_thread(void *p)
{
	struct worker *w = p;
	struct bench *b = w->b;
	struct qsbr_reader *r = qsbr_register(b->qs);
	uint64_t seed = w->seed, ops = 0, sink = 0;
	double cpu0 = thread_cpu();
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t vid;

	while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < BATCH; i++) {
			key_of(pick(&seed, b->n), b->miss, &vid, mac);
			sink += fdb_lookup(b->fdb, vid, mac, NULL);
		}
		ops += BATCH;
		qsbr_quiescent(r);
	}
	qsbr_unregister(r);
	w->ops = ops;
	w->sink = sink;
	w->cpu = thread_cpu() - cpu0;
	return NULL;
}

static void *
learn_thread(void *p)
{
	struct worker *w = p;
	struct bench *b = w->b;
	struct qsbr_reader *r = qsbr_register(b->qs);
	uint8_t mac[ETH_ADDR_LEN];
	uint64_t seed = w->seed, ops = 0, sink = 0;
	double cpu0 = thread_cpu();
	uint32_t i, port, now;
	uint16_t vid;

	while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
		now = now_sec();
		for (int k = 0; k < BATCH; k++) {
			i = pick(&seed, b->n);
			key_of(i, false, &vid, mac);
			/* The port the address is on now, or, one time in
			 * 64, another one. */
			port = fdb_lookup(b->fdb, vid, mac, NULL);
			if ((xorshift(&seed) & 63) == 0)
				port = (port + 1) % NPORTS;
			sink += fdb_learn(b->fdb, vid, mac, port, 0, 0, now);
		}
		ops += BATCH;
		qsbr_quiescent(r);
	}
	qsbr_unregister(r);
	w->ops = ops;
	w->sink = sink;
	w->cpu = thread_cpu() - cpu0;
	return NULL;
}

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* One run: nlookup lookup threads (and a learner when learner) for
 * duration seconds.  Prints lookups per second of one lookup thread, per
 * second of wall time and per second of CPU time it got (the latter does
 * not drop when other processes share the cores), and the learner's
 * rate. */
static void
run(struct bench *b, int nlookup, bool learner, double duration)
{
	struct worker w[MAX_THREADS + 1];
	struct timespec t0, t1, ts;
	uint64_t lookups = 0;
	double cpu = 0;
	int nthreads = nlookup + (learner ? 1 : 0);
	double secs;

	memset(w, 0, sizeof(w));
	b->stop = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nthreads; i++) {
		w[i].b = b;
		w[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		pthread_create(&w[i].tid, NULL,
		    i < nlookup ? lookup_thread : learn_thread, &w[i]);
	}
	ts.tv_sec = (time_t)duration;
	ts.tv_nsec = (long)((duration - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = elapsed(&t0, &t1);
	for (int i = 0; i < nlookup; i++) {
		lookups += w[i].ops;
		cpu += w[i].cpu;
	}
	printf("%9u  %-4s  %-7s  %9.1f  %9.1f", b->n, b->miss ? "miss" : "hit",
	    learner ? "yes" : "no", (double)lookups / secs / nlookup / 1e6,
	    (double)lookups / cpu / 1e6);
	if (learner)
		printf("  %9.1f", (double)w[nlookup].ops / secs / 1e6);
	printf("\n");
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fdb_bench [-d seconds] [-t lookup-threads]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 8192, 1u << 20 };
	double duration = 1.0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nlookup, c;

	nlookup = ncpu > 1 ? (int)ncpu - 1 : 1;
	while ((c = getopt(argc, argv, "d:t:")) != -1) {
		switch (c) {
		case 'd':
			duration = atof(optarg);
			if (duration <= 0)
				usage();
			break;
		case 't':
			nlookup = atoi(optarg);
			if (nlookup < 1 || nlookup > MAX_THREADS)
				usage();
			break;
		default:
			usage();
		}
	}
	printf("fdb_bench: %d lookup thread(s), %ld CPU(s), %.1f s per run\n",
	    nlookup, ncpu, duration);
	printf("%9s  %-4s  %-7s  %9s  %9s  %9s\n", "", "", "",
	    "Mlookup/s", "Mlookup/s", "Mlearn/s");
	printf("%9s  %-4s  %-7s  %9s  %9s  %9s\n", "entries", "kind",
	    "learner", "/thread", "/CPU-s", "learner");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct bench b = { .n = sizes[s] };
		uint8_t mac[ETH_ADDR_LEN];
		uint16_t vid;
		uint32_t now = now_sec();
		int err;

		qsbr_create(&b.qs);
		if ((err = fdb_create(b.n, b.qs, &b.fdb)) != 0) {
			fprintf(stderr, "fdb_create: %s\n", strerror(-err));
			return 1;
		}
		for (uint32_t i = 0; i < b.n; i++) {
			key_of(i, false, &vid, mac);
			if (fdb_learn(b.fdb, vid, mac, i % NPORTS, 0, 0, now) !=
			    FDB_LEARNED) {
				fprintf(stderr, "fill: entry %u not learned\n",
				    i);
				return 1;
			}
		}
		for (int m = 0; m < 2; m++) {
			b.miss = m;
			run(&b, nlookup, false, duration);
			run(&b, nlookup, true, duration);
		}
		fdb_destroy(b.fdb);
		qsbr_destroy(b.qs);
	}
	return 0;
}
