/*
 * fdb.c - the MAC table: (VLAN, MAC) -> port, read without locks by every
 * worker and changed under one writer mutex (see the theory of operation
 * in fdb.h).  Deleted entries go back to the pool only after a QSBR grace
 * period of the domain given at creation.
 *
 * Layout.  An entry is 32 bytes, two per cache line: the key (VLAN << 48 |
 * MAC, compared with one load), the chain pointer, the location (the port
 * id in the low 16 bits, the remote index above: one word, so a move to
 * another port or another remote is one store and readers never see half
 * of one), the last-seen second, a flag word and a pool link.  The bucket array has a power of two
 * of heads, at least twice the table size, so chains stay short at any
 * load.  Entries live in one array allocated at creation; free ones are
 * chained through their pool link (an index), never through 'next', which
 * readers may still follow after an unlink.
 *
 * Locking.  Readers use acquire loads of bucket heads and 'next' and
 * relaxed loads of key, port and last-seen (single words).  The writer
 * mutex covers chain changes, moves, the free list and the counters;
 * counters are still atomics because learners read them before taking the
 * mutex, to reject frames that cannot be learned without serialising on
 * the lock.  Deletions unlink under the mutex, wait for a grace period
 * with the mutex released (learners may need it meanwhile, and a worker
 * blocked on it could never pass a quiescent point), then return the
 * entries to the free list.  Long scans (flush, aging, foreach) take the
 * mutex per slice of buckets, so a worker learning a new address never
 * waits for a whole-table scan.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tapswitch/conf.h"
#include "tapswitch/fdb.h"
#include "tapswitch/log.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/util.h"

#define FDB_STATIC_FLAG 1u
/* The rest of flags tracks flapping (FDB_LOOP), under the mutex: how many
 * moves in the window (0: none), the port before the current one, and
 * the second the window began (15 bits of now). */
#define FLAP_COUNT_SHIFT 1
#define FLAP_COUNT_MASK 0xfu
#define FLAP_PREV_SHIFT 5
#define FLAP_PREV_MASK 0xfffu
#define FLAP_WIN_SHIFT 17
#define FLAP_WIN_MASK 0x7fffu
_Static_assert(FDB_PORT_MAX - 1 <= FLAP_PREV_MASK, "port ids fit the flags");
_Static_assert(FDB_FLAPS < FLAP_COUNT_MASK, "flap count fits the flags");
#define FDB_IDX_NONE UINT32_MAX
/* Port of an entry on the free list: a reader that broke the QSBR
 * contract sees an impossible port rather than a plausible wrong one. */
#define FDB_PORT_POISON (FDB_PORT_MAX + 0xdeadu)
#define SCAN_SLICE 1024
_Static_assert(FDB_PORT_POISON <= 0xffff, "port ids fit 16 bits");		/* buckets per mutex hold in long scans */

struct fdb_entry {
	uint64_t key;			/* constant while linked */
	struct fdb_entry *next;		/* chain; release store / acquire load */
	uint32_t port;			/* atomic; the location: loc() */
	uint32_t last_seen;		/* atomic; meaningless when static */
	uint32_t flags;			/* atomic; FDB_STATIC_FLAG */
	uint32_t link;			/* under the mutex: while linked, the
					 * port it was learned on first (its
					 * home, for loop protection); else
					 * the free or retire list */
};

struct fdb {
	/* Read-mostly, by every worker on every frame. */
	struct fdb_entry **buckets;
	uint64_t mask;
	uint64_t seed;
	struct fdb_entry *pool;
	uint32_t size;
	struct qsbr *qs;

	/* Written under the mutex, read anywhere. */
	uint32_t count __attribute__((aligned(CACHE_LINE)));
	uint32_t free_head;		/* under the mutex */
	pthread_mutex_t lock;
	uint32_t port_count[FDB_PORT_MAX];	/* dynamic entries per port */
};

/* A chain of unlinked entries waiting for their grace period. */
struct retire_list {
	uint32_t head;
	uint32_t tail;
	size_t n;
};

/* An entry's location word, and its parts. */
static inline uint32_t
loc(uint32_t port, uint16_t remote)
{
	return port | (uint32_t)remote << 16;
}

static inline uint32_t
loc_port(uint32_t l)
{
	return l & 0xffff;
}

static inline uint64_t
fdb_key(uint16_t vid, const uint8_t *mac)
{
	return ((uint64_t)vid << 48) | mac_to_u64(mac);
}

/*
 * Bucket of a key.  Addresses of one vendor differ only in their low
 * bytes and VLANs only in the top ones, so every input bit has to reach
 * the bits we keep: murmur3's 64-bit finaliser does that for two
 * multiplications.  The per-table random seed keeps a sender from
 * choosing addresses that all land in one chain.
 */
static inline uint64_t
fdb_hash(const struct fdb *fdb, uint64_t key)
{
	uint64_t x = key ^ fdb->seed;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x & fdb->mask;
}

static uint64_t
random_seed(void)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* No entropy yet (early boot): the seed only spreads chains, so
	 * anything that differs between runs will do. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
}

static inline uint32_t
ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Counters change under the mutex only, so a load and a store suffice. */
static inline void
counter_add(uint32_t *c, int32_t d)
{
	st32(c, ld32(c) + (uint32_t)d);
}

static inline bool
entry_is_static(const struct fdb_entry *e)
{
	return ld32(&e->flags) & FDB_STATIC_FLAG;
}

static inline uint32_t
entry_index(const struct fdb *fdb, const struct fdb_entry *e)
{
	return (uint32_t)(e - fdb->pool);
}

/* The entry of key, or NULL.  Any thread: readers must be online QSBR
 * readers (or the main thread), and then the entry stays valid until their
 * next quiescent point even if it is unlinked meanwhile. */
static inline struct fdb_entry *
fdb_find(const struct fdb *fdb, uint64_t key)
{
	struct fdb_entry *e;

	e = __atomic_load_n(&fdb->buckets[fdb_hash(fdb, key)],
	    __ATOMIC_ACQUIRE);
	for (; e; e = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE))
		if (__atomic_load_n(&e->key, __ATOMIC_RELAXED) == key)
			return e;
	return NULL;
}

int
fdb_create(uint32_t size, struct qsbr *qs, struct fdb **out)
{
	struct fdb *fdb;
	uint64_t nbuckets;

	if (size == 0 || size > CONF_FDB_SIZE_MAX || !qs)
		return -EINVAL;
	fdb = xaligned_alloc(CACHE_LINE, sizeof(*fdb));
	for (nbuckets = 1; nbuckets < 2 * (uint64_t)size; nbuckets <<= 1)
		;
	fdb->buckets = xcalloc(nbuckets, sizeof(*fdb->buckets));
	fdb->mask = nbuckets - 1;
	fdb->seed = random_seed();
	fdb->pool = xaligned_alloc(CACHE_LINE,
	    (size_t)size * sizeof(*fdb->pool));
	fdb->size = size;
	fdb->qs = qs;
	for (uint32_t i = 0; i < size; i++) {
		fdb->pool[i].port = FDB_PORT_POISON;
		fdb->pool[i].link = i + 1 < size ? i + 1 : FDB_IDX_NONE;
	}
	fdb->free_head = 0;
	pthread_mutex_init(&fdb->lock, NULL);
	*out = fdb;
	return 0;
}

/* Free the table.  No other thread may use it any more.  Main thread. */
void
fdb_destroy(struct fdb *fdb)
{
	if (!fdb)
		return;
	pthread_mutex_destroy(&fdb->lock);
	free(fdb->pool);
	free(fdb->buckets);
	free(fdb);
}

uint32_t
fdb_lookup(struct fdb *fdb, uint16_t vid, const uint8_t *mac,
    uint16_t *remote)
{
	struct fdb_entry *e = fdb_find(fdb, fdb_key(vid, mac));
	uint32_t l;

	if (!e)
		return FDB_PORT_NONE;
	l = ld32(&e->port);
	if (remote)
		*remote = (uint16_t)(l >> 16);
	return loc_port(l);
}

/* Take an entry from the free list, or NULL.  Under the mutex. */
static struct fdb_entry *
pool_get(struct fdb *fdb)
{
	struct fdb_entry *e;

	if (fdb->free_head == FDB_IDX_NONE)
		return NULL;
	e = &fdb->pool[fdb->free_head];
	fdb->free_head = e->link;
	e->link = FDB_IDX_NONE;
	return e;
}

/* Fill a free entry and publish it at the head of its chain.  Under the
 * mutex. */
static void
link_new(struct fdb *fdb, struct fdb_entry *e, uint64_t key, uint32_t port,
    uint16_t remote, uint32_t now, bool is_static)
{
	struct fdb_entry **head = &fdb->buckets[fdb_hash(fdb, key)];

	/* No reader can reach e yet: plain initialisation, then the release
	 * store of the head makes all of it visible at once. */
	__atomic_store_n(&e->key, key, __ATOMIC_RELAXED);
	st32(&e->port, loc(port, remote));
	st32(&e->last_seen, is_static ? 0 : now);
	st32(&e->flags, is_static ? FDB_STATIC_FLAG : 0);
	e->link = port;
	__atomic_store_n(&e->next, *head, __ATOMIC_RELAXED);
	__atomic_store_n(head, e, __ATOMIC_RELEASE);
	counter_add(&fdb->count, 1);
	if (!is_static)
		counter_add(&fdb->port_count[port], 1);
}

/* Would a new dynamic entry on port exceed mac_limit? */
static inline bool
over_limit(const struct fdb *fdb, uint32_t port, uint32_t mac_limit)
{
	return mac_limit != 0 && ld32(&fdb->port_count[port]) >= mac_limit;
}

/* Entry e (dynamic) moved from old to port at now: is it flapping?  A
 * move back to the port it was on before the last move, within the
 * window, counts; any other move starts counting again.  A loop is
 * reported on the port the address moved to, unless that is where it
 * was learned first: a host that answers a storm of its own looping
 * frames flaps between its port and the loop too, and its port is not
 * the one to cut: the count stays at its limit, and the next move, to
 * the other port, reports the loop there. */
static bool
flap(struct fdb_entry *e, uint32_t old, uint32_t port, uint32_t now)
{
	uint32_t f = ld32(&e->flags);
	uint32_t count = (f >> FLAP_COUNT_SHIFT) & FLAP_COUNT_MASK;
	uint32_t prev = (f >> FLAP_PREV_SHIFT) & FLAP_PREV_MASK;
	uint32_t win = (f >> FLAP_WIN_SHIFT) & FLAP_WIN_MASK;
	bool loop = false;

	if (count && prev == port &&
	    ((now - win) & FLAP_WIN_MASK) <= FDB_FLAP_SECS) {
		if (++count <= FDB_FLAPS) {
			/* not yet */
		} else if (port == e->link) {
			count = FDB_FLAPS;	/* armed for the next move */
		} else {
			loop = true;
			count = 0;
		}
	} else {
		count = 1;
		win = now & FLAP_WIN_MASK;
	}
	st32(&e->flags, (f & FDB_STATIC_FLAG) | count << FLAP_COUNT_SHIFT |
	    old << FLAP_PREV_SHIFT | win << FLAP_WIN_SHIFT);
	return loop;
}

/* The slow path of fdb_learn: everything that changes the table.  Under
 * the mutex, so the entry found here cannot be unlinked or moved by
 * anyone else until we return. */
static enum fdb_learn_result
learn_locked(struct fdb *fdb, uint64_t key, uint32_t port, uint16_t remote,
    uint32_t mac_limit, uint32_t now)
{
	struct fdb_entry *e = fdb_find(fdb, key);
	uint32_t old;

	if (e) {
		old = ld32(&e->port);
		if (old == loc(port, remote)) {
			if (!entry_is_static(e))
				st32(&e->last_seen, now);
			return FDB_REFRESHED;
		}
		if (entry_is_static(e))
			return FDB_STATIC;
		/* Behind another remote of the same port: no new entry for
		 * the port's limit. */
		if (loc_port(old) != port && over_limit(fdb, port, mac_limit))
			return FDB_LIMIT;
		st32(&e->last_seen, now);
		st32(&e->port, loc(port, remote));
		counter_add(&fdb->port_count[loc_port(old)], -1);
		counter_add(&fdb->port_count[port], 1);
		/* A move between remotes of one port is no port flap. */
		return loc_port(old) != port && flap(e, loc_port(old), port,
		    now) ? FDB_LOOP : FDB_MOVED;
	}
	if (over_limit(fdb, port, mac_limit))
		return FDB_LIMIT;
	/* The free list, not the count, decides: entries of a deletion that
	 * is waiting for its grace period are in neither. */
	if (!(e = pool_get(fdb)))
		return FDB_FULL;
	link_new(fdb, e, key, port, remote, now, false);
	return FDB_LEARNED;
}

enum fdb_learn_result
fdb_learn(struct fdb *fdb, uint16_t vid, const uint8_t *mac, uint32_t port,
    uint16_t remote, uint32_t mac_limit, uint32_t now)
{
	uint64_t key = fdb_key(vid, mac);
	enum fdb_learn_result res;
	struct fdb_entry *e;

	if (UNLIKELY(port >= FDB_PORT_MAX)) {
		log_error("fdb: learn on port id %u >= %u", port,
		    FDB_PORT_MAX);
		abort();
	}
	e = fdb_find(fdb, key);
	if (LIKELY(e != NULL)) {
		/* Fast path: a known source on the same port.  Write the
		 * timestamp only when the second changed, so the cache line
		 * stays shared between workers on most frames.  A racing
		 * unlink is harmless: the entry is not reused before our next
		 * quiescent point, and a lost refresh costs one relearn. */
		if (LIKELY(ld32(&e->port) == loc(port, remote))) {
			if (!entry_is_static(e) && ld32(&e->last_seen) != now)
				st32(&e->last_seen, now);
			return FDB_REFRESHED;
		}
		if (entry_is_static(e))
			return FDB_STATIC;
	} else if (over_limit(fdb, port, mac_limit)) {
		/* A new source that cannot be learned anyway: do not queue
		 * up on the mutex for it (a MAC flood on one port must not
		 * slow the learners of the others). */
		return FDB_LIMIT;
	} else if (ld32(&fdb->count) >= fdb->size) {
		return FDB_FULL;
	}
	if (e && loc_port(ld32(&e->port)) != port &&
	    over_limit(fdb, port, mac_limit))
		return FDB_LIMIT;

	pthread_mutex_lock(&fdb->lock);
	res = learn_locked(fdb, key, port, remote, mac_limit, now);
	pthread_mutex_unlock(&fdb->lock);
	return res;
}

int
fdb_add_static(struct fdb *fdb, uint16_t vid, const uint8_t *mac,
    uint32_t port, uint16_t remote)
{
	uint64_t key = fdb_key(vid, mac);
	struct fdb_entry *e;
	int ret = 0;

	if (port >= FDB_PORT_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fdb->lock);
	if ((e = fdb_find(fdb, key)) != NULL) {
		if (!entry_is_static(e)) {
			/* Flag first: a learner that still sees the old
			 * port and the dynamic flag only refreshes the
			 * timestamp, which no one reads for a static entry;
			 * moves re-check the flag under the mutex. */
			st32(&e->flags, FDB_STATIC_FLAG);
			counter_add(&fdb->port_count[loc_port(ld32(&e->port))],
			    -1);
			st32(&e->last_seen, 0);
		}
		st32(&e->port, loc(port, remote));
	} else if ((e = pool_get(fdb)) != NULL) {
		link_new(fdb, e, key, port, remote, 0, true);
	} else {
		ret = -ENOSPC;
	}
	pthread_mutex_unlock(&fdb->lock);
	return ret;
}

/* Unlink *pp (an entry of a chain) and queue it on rl.  Under the mutex.
 * e->next is left alone: a reader standing on e still needs it to walk on
 * to the rest of the chain. */
static void
unlink_entry(struct fdb *fdb, struct fdb_entry **pp, struct retire_list *rl)
{
	struct fdb_entry *e = *pp;
	uint32_t idx = entry_index(fdb, e);

	__atomic_store_n(pp, __atomic_load_n(&e->next, __ATOMIC_RELAXED),
	    __ATOMIC_RELEASE);
	counter_add(&fdb->count, -1);
	if (!entry_is_static(e))
		counter_add(&fdb->port_count[loc_port(ld32(&e->port))], -1);
	e->link = FDB_IDX_NONE;
	if (rl->n == 0)
		rl->head = idx;
	else
		fdb->pool[rl->tail].link = idx;
	rl->tail = idx;
	rl->n++;
}

/*
 * Wait until no reader can hold an entry of rl, then give them back to the
 * pool.  Main thread, without the mutex: a worker waiting for the mutex
 * cannot reach a quiescent point.
 */
static void
retire(struct fdb *fdb, struct retire_list *rl)
{
	uint32_t idx;

	if (rl->n == 0)
		return;
	qsbr_synchronize(fdb->qs);
	/* The entries are ours alone now: no reader, not on the free list. */
	for (idx = rl->head; idx != FDB_IDX_NONE; idx = fdb->pool[idx].link)
		st32(&fdb->pool[idx].port, FDB_PORT_POISON);
	pthread_mutex_lock(&fdb->lock);
	fdb->pool[rl->tail].link = fdb->free_head;
	fdb->free_head = rl->head;
	pthread_mutex_unlock(&fdb->lock);
	rl->n = 0;
}

int
fdb_del(struct fdb *fdb, uint16_t vid, const uint8_t *mac)
{
	uint64_t key = fdb_key(vid, mac);
	struct retire_list rl = { FDB_IDX_NONE, FDB_IDX_NONE, 0 };
	struct fdb_entry **pp, *e;

	pthread_mutex_lock(&fdb->lock);
	for (pp = &fdb->buckets[fdb_hash(fdb, key)]; (e = *pp) != NULL;
	    pp = &e->next) {
		if (e->key == key) {
			unlink_entry(fdb, pp, &rl);
			break;
		}
	}
	pthread_mutex_unlock(&fdb->lock);
	if (rl.n == 0)
		return -ENOENT;
	retire(fdb, &rl);
	return 0;
}

/* What a scan removes. */
struct scan_filter {
	enum { SCAN_FLUSH, SCAN_AGE } kind;
	uint32_t port;		/* flush: port or FDB_PORT_ANY */
	bool with_static;	/* flush */
	uint32_t now;		/* age */
	uint32_t max_age;	/* age */
};

static bool
scan_match(const struct scan_filter *f, const struct fdb_entry *e)
{
	uint32_t seen;

	if (f->kind == SCAN_FLUSH) {
		if (entry_is_static(e) && !f->with_static)
			return false;
		return f->port == FDB_PORT_ANY ||
		    loc_port(ld32(&e->port)) == f->port;
	}
	if (entry_is_static(e))
		return false;
	/* A worker may have refreshed the entry after the caller read the
	 * clock: last_seen > now means "just seen", not "very old". */
	seen = ld32(&e->last_seen);
	return seen < f->now && f->now - seen > f->max_age;
}

/* Unlink every entry that matches f, one slice of buckets per mutex hold,
 * then retire them all after one grace period.  Main thread. */
static size_t
scan_remove(struct fdb *fdb, const struct scan_filter *f)
{
	struct retire_list rl = { FDB_IDX_NONE, FDB_IDX_NONE, 0 };
	struct fdb_entry **pp, *e;
	size_t n;

	for (uint64_t b = 0; b <= fdb->mask; ) {
		pthread_mutex_lock(&fdb->lock);
		if (ld32(&fdb->count) == 0) {
			pthread_mutex_unlock(&fdb->lock);
			break;
		}
		for (uint64_t end = b + SCAN_SLICE; b <= fdb->mask && b < end;
		    b++) {
			pp = &fdb->buckets[b];
			while ((e = *pp) != NULL) {
				if (scan_match(f, e))
					unlink_entry(fdb, pp, &rl);
				else
					pp = &e->next;
			}
		}
		pthread_mutex_unlock(&fdb->lock);
	}
	n = rl.n;
	retire(fdb, &rl);
	return n;
}

size_t
fdb_flush(struct fdb *fdb, uint32_t port, bool with_static)
{
	struct scan_filter f = {
		.kind = SCAN_FLUSH,
		.port = port,
		.with_static = with_static,
	};

	return scan_remove(fdb, &f);
}

size_t
fdb_age(struct fdb *fdb, uint32_t now, uint32_t max_age)
{
	struct scan_filter f = {
		.kind = SCAN_AGE,
		.now = now,
		.max_age = max_age,
	};

	if (max_age == 0)
		return 0;
	return scan_remove(fdb, &f);
}

/* The entry's info as fdb_foreach and fdb_walk report it. */
static void
entry_info(const struct fdb_entry *e, struct fdb_entry_info *info)
{
	memset(info, 0, sizeof(*info));
	mac_from_u64(e->key, info->mac);
	info->vid = (uint16_t)(e->key >> 48);
	info->port = loc_port(ld32(&e->port));
	info->remote = (uint16_t)(ld32(&e->port) >> 16);
	info->is_static = entry_is_static(e);
	info->last_seen = info->is_static ? 0 : ld32(&e->last_seen);
}

void
fdb_foreach(struct fdb *fdb,
    void (*fn)(const struct fdb_entry_info *e, void *arg), void *arg)
{
	struct fdb_entry_info info;
	struct fdb_entry *e;

	/* Slices, as in scan_remove(): entries learned or removed during the
	 * walk may or may not be reported, as with any snapshot taken while
	 * the workers run; each entry is reported at most once. */
	for (uint64_t b = 0; b <= fdb->mask; ) {
		pthread_mutex_lock(&fdb->lock);
		for (uint64_t end = b + SCAN_SLICE; b <= fdb->mask && b < end;
		    b++) {
			for (e = fdb->buckets[b]; e; e = e->next) {
				entry_info(e, &info);
				fn(&info, arg);
			}
		}
		pthread_mutex_unlock(&fdb->lock);
	}
}

uint64_t
fdb_walk(struct fdb *fdb, uint64_t pos, uint64_t max_slots,
    bool (*fn)(const struct fdb_entry_info *v, size_t n, void *arg),
    void *arg)
{
	struct fdb_entry_info *v = NULL;
	uint64_t end = pos + max_slots;
	size_t cap = 0, n;
	struct fdb_entry *e;
	bool stop = false;

	if (end > fdb->mask + 1 || end < pos)
		end = fdb->mask + 1;
	/* Slices of buckets per mutex hold, as in fdb_foreach(). */
	while (pos < end && !stop) {
		pthread_mutex_lock(&fdb->lock);
		for (uint64_t s = pos + SCAN_SLICE; pos < end && pos < s; pos++) {
			n = 0;
			for (e = fdb->buckets[pos]; e; e = e->next) {
				if (n == cap) {
					cap = cap ? 2 * cap : 8;
					v = xrealloc(v, cap * sizeof(*v));
				}
				entry_info(e, &v[n++]);
			}
			if (n && !fn(v, n, arg)) {
				stop = true;
				break;
			}
		}
		pthread_mutex_unlock(&fdb->lock);
	}
	free(v);
	return pos;
}

uint64_t
fdb_slots(const struct fdb *fdb)
{
	return fdb->mask + 1;
}

size_t
fdb_count(const struct fdb *fdb)
{
	return ld32(&fdb->count);
}

uint32_t
fdb_port_count(const struct fdb *fdb, uint32_t port)
{
	return port < FDB_PORT_MAX ? ld32(&fdb->port_count[port]) : 0;
}

uint32_t
fdb_capacity(const struct fdb *fdb)
{
	return fdb->size;
}
