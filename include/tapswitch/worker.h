/*
 * worker.h - the data-path threads.
 *
 * Theory of operation.  Worker q owns queue q of every port: it is the only
 * thread that reads or writes fd q of any port, so the data path needs no
 * lock and no hand-off between threads.  One pass of its loop:
 *
 *   epoll_wait (offline for QSBR)
 *   for each ready fd: read up to rx_want frames, one read(2) each, into
 *     buffer slots where the virtio-net header lands right before the
 *     frame (rx_want, kept per port queue, adapts between 1 and
 *     WORKER_BATCH to the traffic, and epoll reports an fd with frames
 *     left again),
 *     decide all of them (fwd_decide), then send each to its egress
 *     ports: with one write(2) of the bytes as read when nothing changes,
 *     else with writev(2), rebuilding only the Ethernet/VLAN header (and
 *     the checksum/GSO offsets of the virtio-net header) in a small
 *     per-frame scratch: the payload is never copied or moved;
 *     announce a quiescent state (nothing of the fd's port is held past
 *     its batch) and leave if worker_stop() was called
 *
 * Ports whose fds are datagram-like sockets (PORT_CAP_MMSG: system
 * ports' packet sockets) are read with one recvmmsg(2) for the batch
 * instead of a read(2) per frame, and what a batch sends to such a port
 * is queued apart and leaves with one sendmmsg(2) per port at the end of
 * the batch, with or without io_uring.  A packet socket costs several
 * times a TAP's system call, and batching makes 60-byte frames between
 * system ports 3.6x faster (bench/results/2026-12-06-0235.md).  The
 * messages also bring what the kernel keeps beside a frame: an 802.1Q
 * tag it took off goes back into the frame; and a virtio-net header the
 * switch's frames do not have (offload = no) is read apart, and what it
 * announces is finished in software.  TAP fds take no mmsg calls and
 * keep the one read/one write path.
 *
 * A port whose channel is not one message per frame (PORT_CAP_IO: a
 * byte stream, a tunnel) is read and written through its type's hooks
 * (port.h), which get the worker's slots and iovecs.  A port whose
 * channel takes no virtio-net header while the switch's frames have one
 * (PORT_IO_BARE) gets an empty header put before what it sends, and what
 * it is sent has no header; a frame for it that leaves work to the
 * device (a GSO super-frame, a partial checksum) is finished in software
 * for it alone, into the segmentation buffer, and sent as the frames a
 * NIC would have made (gso.h).  A TAP is told apart from all of these by
 * one test of p->io, once per batch read and once per frame sent: the
 * TAP's send path is inlined apart without the others' tests
 * (bench/insns: 465 instructions per 60-byte frame, 466 before).
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

#include <stdbool.h>
#include <stdint.h>

#include "tapswitch/fwd.h"
#include "tapswitch/port.h"

#define WORKER_BATCH 32

struct worker;

/*
 * Whether io_uring works for the daemon as workers use it: a ring of a
 * worker's size can be made and used, and the kernel knows the reads and
 * writes.  0, or -errno with *why (malloc'd; the caller frees it) saying
 * what failed and what may be the cause: the sysctl
 * kernel.io_uring_disabled or a seccomp filter (EPERM), a kernel without
 * io_uring (ENOSYS), a build without liburing (EOPNOTSUPP).  Any thread;
 * the main thread calls it once at start.
 */
int worker_uring_probe(char **why);

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

/*
 * Adaptive busy polling (busy_poll = N microseconds).  A worker asleep in
 * epoll_wait when a frame arrives must be woken, a scheduler round trip
 * that dominates the latency of request/response traffic.  Polling for N
 * after a batch avoids it, but pays only when the next frame comes within
 * N.  What comes next depends on what just came: a request is soon
 * followed by its response, a response perhaps by nothing for a long
 * time.  So each port queue keeps a score of the waits that followed its
 * frames: a wait shorter than N (polling would catch or did catch the next
 * frame) adds 2, a longer one takes 1.  After a batch the worker polls if
 * the port it served last has a score above 0, that is while more than one
 * wait in three after that port's frames was short.
 *
 * A stream keeps the worker polling; request/response traffic makes it
 * poll after requests and sleep after responses, at any rate; traffic
 * sparser than N never makes it poll, and when traffic stops at most
 * BUSY_POLL_SCORE_MAX budgets are spent.
 *
 * The worker calls busy_poll_idle() when it first finds nothing to do
 * after a batch, then polls while now < until, and calls busy_poll_woke()
 * when a wait returned events, with the score of the port served before
 * that wait (NULL if it is gone).  Times are nanoseconds of a monotonic
 * clock, never 0.
 */
#define BUSY_POLL_SCORE_MAX 8

struct busy_poll {
	uint64_t idle_at;	/* when the current wait began; 0: none yet */
	uint64_t until;		/* poll instead of sleeping until then */
};

static inline void
busy_poll_idle(struct busy_poll *bp, uint64_t now, uint64_t budget,
    unsigned score)
{
	bp->idle_at = now;
	bp->until = budget && score ? now + budget : 0;
}

static inline void
busy_poll_woke(struct busy_poll *bp, uint64_t now, uint64_t budget,
    unsigned *score)
{
	if (score && now - bp->idle_at < budget)
		*score = *score + 2 < BUSY_POLL_SCORE_MAX ? *score + 2 :
		    BUSY_POLL_SCORE_MAX;
	else if (score && *score)
		(*score)--;
	bp->idle_at = 0;
}

/*
 * Port events: what a worker tells the main thread about a port, without
 * a lock on the data path.  Each worker has a ring of its own that only
 * it writes and only the main thread reads (single producer, single
 * consumer: an index each, release/acquire), and wakes the main loop by
 * writing to the switch's eventfd (dp->evfd, -1: nobody listens; the
 * main thread then calls sw_events itself).  An event names its port by
 * id and generation, so one about a port removed meanwhile, whose id may
 * belong to another port by then, is recognised and ignored.  A full ring
 * drops the event and counts it (worker_events_lost); the port's state
 * then comes from the other sources (link monitor, reload).
 */
enum port_ev_kind {
	PORT_EV_FD_FAILED = 1,	/* fd q failed for good: no longer read */
	PORT_EV_ERR_DISABLED,	/* a worker err-disabled the port: err is
				 * why (enum port_errdis) */
};

struct port_ev {
	uint32_t id, gen;	/* the port */
	uint16_t kind;		/* enum port_ev_kind */
	uint16_t q;		/* the queue (worker) */
	int32_t err;		/* errno; 0: end of file */
};

#define PORT_EV_RING 256	/* events a worker may have pending */

/* Take the oldest event worker w posted into *ev.  False when there is
 * none.  Main thread. */
bool worker_event_take(struct worker *w, struct port_ev *ev);
/* Events worker w dropped because its ring was full.  Any thread. */
uint64_t worker_events_lost(const struct worker *w);

/* Whether worker w, started with io_uring, had to turn it off because
 * the kernel refused a non-blocking read or write on a TAP (it goes on
 * with read/write).  Any thread. */
bool worker_uring_off(const struct worker *w);

/* The worker's switch-wide counters (its thread is the only writer). */
const struct sw_counters *worker_counters(const struct worker *w);

#endif
