/*
 * qsbr.h - quiescent-state-based reclamation for the data path.
 *
 * Theory of operation.  Workers (readers) read shared structures - the port
 * table, the published port set, MAC table chains - without locks.  A
 * writer (the main thread) that unpublishes an object must not free it
 * while a worker may still hold a pointer to it.  Each worker therefore
 * announces a quiescent state between passes of its loop, when it holds no
 * such pointer, and goes "offline" while it blocks in epoll_wait.
 * qsbr_synchronize() returns once every reader has been quiescent or
 * offline at least once since the call began; after that, whatever was
 * unpublished before the call can be freed.
 *
 * Readers pay one store per pass and none per frame.
 */
#ifndef TAPSWITCH_QSBR_H
#define TAPSWITCH_QSBR_H

#include <stddef.h>

#define QSBR_READERS_MAX 64

struct qsbr;
struct qsbr_reader;

/* Create / destroy the domain.  Main thread. */
void qsbr_create(struct qsbr **out);
void qsbr_destroy(struct qsbr *qs);

/* Register the calling thread as a reader; it starts online.  Returns
 * NULL when QSBR_READERS_MAX readers exist.  Unregister before exiting. */
struct qsbr_reader *qsbr_register(struct qsbr *qs);
void qsbr_unregister(struct qsbr_reader *r);

/* Reader: "I hold no protected pointer now." */
void qsbr_quiescent(struct qsbr_reader *r);
/* Reader: about to block / back from blocking. */
void qsbr_offline(struct qsbr_reader *r);
void qsbr_online(struct qsbr_reader *r);

/* Writer: wait for a grace period.  Must not be called by a reader that is
 * online.  Any thread that is not a registered reader may call it. */
void qsbr_synchronize(struct qsbr *qs);

/*
 * Writer, without waiting: call fn(arg) once a grace period that starts
 * now has ended, from a later qsbr_reclaim() (or from qsbr_destroy(),
 * when no reader is left).  What was unpublished before the call may be
 * freed by fn.  Main thread, which also runs fn.
 */
void qsbr_defer(struct qsbr *qs, void (*fn)(void *arg), void *arg);
/* Run the deferred work whose grace period has ended; never blocks.
 * Returns how many ran.  Main thread. */
size_t qsbr_reclaim(struct qsbr *qs);
/* How many deferred calls wait for their grace period. */
size_t qsbr_pending(const struct qsbr *qs);

#endif
