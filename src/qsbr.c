/*
 * qsbr.c - quiescent-state-based reclamation: lets the main thread free
 * what the workers may still be reading (MAC table entries, ports) without
 * the workers taking a lock or paying a fence per frame.
 *
 * A domain holds one grace-period counter and a fixed array of reader
 * slots, one cache line each.  A slot holds 0 while its reader is offline
 * (or the slot is free), otherwise the last counter value its reader has
 * observed at a quiescent point.  qsbr_synchronize() advances the counter
 * to a new value G and waits until every slot holds 0 or a value >= G.
 * The counter is 64 bits wide and starts at 1, so it never wraps and never
 * reads as "offline".
 *
 * Memory ordering, with W = writer and R = reader:
 *
 *  - W unlinks an object (a release store, under the owner's lock), then
 *    advances the counter with a seq_cst read-modify-write followed by a
 *    seq_cst fence, then reads the slots with acquire loads, then frees.
 *  - qsbr_quiescent: R loads the counter with acquire and stores it in its
 *    slot with release.  The release orders every read R made of protected
 *    data before the store, so once W's acquire load sees a value >= G
 *    those reads happen-before the free.  If R saw G, its acquire load
 *    synchronised with W's increment, so everything R reads afterwards
 *    already sees the unlink: R cannot pick the object up again.
 *  - qsbr_offline: a release store of 0, for the same reason (R's reads
 *    happen before W frees), preceded by a full fence so that going
 *    offline and online are both full barriers; next to the system call
 *    R is about to block in, the fence costs nothing.
 *  - qsbr_online (and registration): R stores the counter in its slot and
 *    then issues a seq_cst fence before it reads protected data.  Against
 *    W's "unlink; fence; read slot" this is the store-buffering pattern:
 *    with a fence on both sides, either W sees R online (and waits for a
 *    later quiescent point) or R's reads see the unlink.
 *
 * Readers thus pay at most one store per pass (a plain mov on x86, stlr on
 * ARMv8) and none when no grace period started since the last one; only
 * going offline and online cost full fences, and those surround a blocking
 * system call anyway.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tapswitch/log.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/util.h"

#define QSBR_OFFLINE 0
#define SPIN_ROUNDS 128		/* busy polls before yielding the CPU */
#define YIELD_ROUNDS 32		/* sched_yield()s before sleeping */
#define SLEEP_NS 50000		/* then poll every 50 us */

struct qsbr_reader {
	uint64_t seen;		/* QSBR_OFFLINE or last counter observed */
	struct qsbr *qs;
	bool in_use;		/* protected by qs->lock */
} __attribute__((aligned(CACHE_LINE)));

/* The slot the calling thread registered last, to catch a reader that
 * would wait for itself in qsbr_synchronize(). */
static __thread struct qsbr_reader *self;

/* Work deferred to the end of a grace period (qsbr_defer). */
struct qsbr_cb {
	struct qsbr_cb *next;
	uint64_t target;
	void (*fn)(void *arg);
	void *arg;
};

struct qsbr {
	uint64_t gp __attribute__((aligned(CACHE_LINE)));
	/* Deferred work, oldest first; the main thread's only. */
	struct qsbr_cb *cbs, **cbs_tail;
	pthread_mutex_t lock __attribute__((aligned(CACHE_LINE)));
	unsigned nreaders;	/* protected by lock */
	struct qsbr_reader readers[QSBR_READERS_MAX];
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

void
qsbr_create(struct qsbr **out)
{
	struct qsbr *qs;

	qs = xaligned_alloc(CACHE_LINE, sizeof(*qs));
	qs->gp = 1;
	qs->cbs = NULL;
	qs->cbs_tail = &qs->cbs;
	pthread_mutex_init(&qs->lock, NULL);
	for (size_t i = 0; i < QSBR_READERS_MAX; i++)
		qs->readers[i].qs = qs;
	*out = qs;
}

/*
 * Free the domain.  Every reader must have unregistered and no thread may
 * be in qsbr_synchronize().  Main thread.
 */
void
qsbr_destroy(struct qsbr *qs)
{
	if (!qs)
		return;
	if (qs->nreaders)
		log_warn("qsbr: domain destroyed with %u readers registered",
		    qs->nreaders);
	/* No reader is left to wait for. */
	while (qs->cbs) {
		struct qsbr_cb *cb = qs->cbs;

		qs->cbs = cb->next;
		cb->fn(cb->arg);
		free(cb);
	}
	pthread_mutex_destroy(&qs->lock);
	free(qs);
}

/*
 * Take a free slot for the calling thread and put it online.  NULL when all
 * QSBR_READERS_MAX slots are taken.  Any thread, once per reader thread.
 */
struct qsbr_reader *
qsbr_register(struct qsbr *qs)
{
	struct qsbr_reader *r = NULL;

	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; i < QSBR_READERS_MAX; i++) {
		if (!qs->readers[i].in_use) {
			r = &qs->readers[i];
			r->in_use = true;
			qs->nreaders++;
			break;
		}
	}
	pthread_mutex_unlock(&qs->lock);
	if (r) {
		self = r;
		qsbr_online(r);
	}
	return r;
}

/*
 * Go offline for good and give the slot back.  The calling thread must not
 * hold protected pointers any more.  The reader's own thread.
 */
void
qsbr_unregister(struct qsbr_reader *r)
{
	struct qsbr *qs;

	if (!r)
		return;
	qs = r->qs;
	qsbr_offline(r);
	if (self == r)
		self = NULL;
	pthread_mutex_lock(&qs->lock);
	r->in_use = false;
	qs->nreaders--;
	pthread_mutex_unlock(&qs->lock);
}

/*
 * Announce that the calling reader holds no protected pointer.  One acquire
 * load and at most one release store: plain moves on x86, ldar/stlr on
 * ARMv8.
 * The reader's own thread, while online.
 */
void
qsbr_quiescent(struct qsbr_reader *r)
{
	uint64_t gp = __atomic_load_n(&r->qs->gp, __ATOMIC_ACQUIRE);

	/* Skip the store, and the cache-line transfer it costs, when no
	 * grace period started since the last pass. */
	if (__atomic_load_n(&r->seen, __ATOMIC_RELAXED) != gp)
		__atomic_store_n(&r->seen, gp, __ATOMIC_RELEASE);
}

/*
 * The reader is about to block: it holds no protected pointer until
 * qsbr_online().  The reader's own thread.
 */
void
qsbr_offline(struct qsbr_reader *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->seen, QSBR_OFFLINE, __ATOMIC_RELEASE);
}

/*
 * The reader is back and may read protected data again after this returns.
 * The reader's own thread.
 */
void
qsbr_online(struct qsbr_reader *r)
{
	__atomic_store_n(&r->seen,
	    __atomic_load_n(&r->qs->gp, __ATOMIC_ACQUIRE), __ATOMIC_RELAXED);
	/* Pairs with the fence in qsbr_synchronize(): see the top of the
	 * file. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Wait until slot r is offline or has observed target. */
static void
wait_reader(struct qsbr_reader *r, uint64_t target)
{
	struct timespec ts = { 0, SLEEP_NS };
	unsigned rounds = 0;
	uint64_t seen;

	for (;;) {
		seen = __atomic_load_n(&r->seen, __ATOMIC_ACQUIRE);
		if (seen == QSBR_OFFLINE || seen >= target)
			return;
		if (rounds < SPIN_ROUNDS)
			cpu_relax();
		else if (rounds < SPIN_ROUNDS + YIELD_ROUNDS)
			sched_yield();
		else
			nanosleep(&ts, NULL);
		rounds++;
	}
}

/*
 * Start a grace period and wait for its end: every reader online when the
 * call began has passed a quiescent point or gone offline.  Readers that
 * are offline, or register later, are not waited for.  Any thread that is
 * not an online reader; several may call it at once.
 */
static uint64_t grace_start(struct qsbr *qs);

void
qsbr_synchronize(struct qsbr *qs)
{
	uint64_t target;

	/* An online reader waiting for itself would wait forever. */
	if (self && self->qs == qs &&
	    __atomic_load_n(&self->seen, __ATOMIC_RELAXED) != QSBR_OFFLINE) {
		log_error("qsbr: qsbr_synchronize() called by an online "
		    "reader");
		abort();
	}
	/* The fence in grace_start orders the caller's unlink stores
	 * before the slot loads below; it pairs with the fence in
	 * qsbr_online(). */
	target = grace_start(qs);
	for (size_t i = 0; i < QSBR_READERS_MAX; i++)
		wait_reader(&qs->readers[i], target);
}

/* Start a grace period; returns the value every reader must reach. */
static uint64_t
grace_start(struct qsbr *qs)
{
	uint64_t target = __atomic_add_fetch(&qs->gp, 1, __ATOMIC_SEQ_CST);

	/* As in qsbr_synchronize. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return target;
}

/* Whether the grace period of target is over, without waiting. */
static bool
grace_done(struct qsbr *qs, uint64_t target)
{
	for (size_t i = 0; i < QSBR_READERS_MAX; i++) {
		uint64_t seen = __atomic_load_n(&qs->readers[i].seen,
		    __ATOMIC_ACQUIRE);

		if (seen != QSBR_OFFLINE && seen < target)
			return false;
	}
	return true;
}

void
qsbr_defer(struct qsbr *qs, void (*fn)(void *arg), void *arg)
{
	struct qsbr_cb *cb = xmalloc(sizeof(*cb));

	cb->next = NULL;
	cb->target = grace_start(qs);
	cb->fn = fn;
	cb->arg = arg;
	*qs->cbs_tail = cb;
	qs->cbs_tail = &cb->next;
}

size_t
qsbr_reclaim(struct qsbr *qs)
{
	size_t n = 0;

	/* Targets grow along the list: stop at the first still running. */
	while (qs->cbs && grace_done(qs, qs->cbs->target)) {
		struct qsbr_cb *cb = qs->cbs;

		qs->cbs = cb->next;
		if (!qs->cbs)
			qs->cbs_tail = &qs->cbs;
		cb->fn(cb->arg);
		free(cb);
		n++;
	}
	return n;
}

size_t
qsbr_pending(const struct qsbr *qs)
{
	size_t n = 0;

	for (const struct qsbr_cb *cb = qs->cbs; cb; cb = cb->next)
		n++;
	return n;
}
