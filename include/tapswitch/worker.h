/*
 * worker.h - the data-path threads.
 *
 * Theory of operation.  Worker q owns queue q of every port: it is the only
 * thread that reads or writes fd q of any port, so the data path needs no
 * lock and no hand-off between threads.  One pass of its loop:
 *
 *   epoll_wait (offline for QSBR)
 *   for each ready fd: readv up to rx_want frames (virtio-net header and
 *     frame in separate iovecs; rx_want, kept per port queue, adapts
 *     between 1 and WORKER_BATCH to the traffic, and epoll reports an fd
 *     with frames left again),
 *     decide all of them (fwd_decide), then writev each to its egress
 *     ports, rebuilding only the Ethernet/VLAN header (and the
 *     checksum/GSO offsets of the virtio-net header) in a small per-frame
 *     scratch: the payload is never copied or moved.
 *   announce a quiescent state
 *
 * With io_uring = yes the loop is the same, but the reads of one fd go
 * out as one io_uring submission and the writes of a batch as another.
 * Every request is RWF_NOWAIT, so it completes (or fails with EAGAIN)
 * while it is submitted, just like the non-blocking system call it
 * stands for: no request outlives its batch, and buffers are reused at
 * once.
 *
 * Frame buffers are allocated once per worker at creation.  A queue fd that
 * reports an error (its TAP was deleted) is taken out of the worker's epoll
 * set; the rest of the switch carries on.
 */
#ifndef TAPSWITCH_WORKER_H
#define TAPSWITCH_WORKER_H

#include "tapswitch/fwd.h"
#include "tapswitch/port.h"

#define WORKER_BATCH 32

struct worker;

/* Create worker q (not started).  0 or -errno.  Main thread. */
int worker_create(const struct dp *dp, unsigned q, struct worker **out);
/* Start its thread.  0 or -errno. */
int worker_start(struct worker *w);
/* Ask it to stop and join it.  Safe on a worker that never started. */
void worker_stop(struct worker *w);
void worker_destroy(struct worker *w);

/* Add / remove fd q of port p to / from the worker's epoll set.  Main
 * thread; removal takes effect for sure after the next grace period. */
int worker_attach(struct worker *w, struct port *p);
void worker_detach(struct worker *w, struct port *p);

/* The worker's switch-wide counters (its thread is the only writer). */
const struct sw_counters *worker_counters(const struct worker *w);

#endif
