/*
 * worker.c - the data-path threads (see worker.h for the model).
 *
 * Talks to: the queue fds of every port (epoll, read, write), fwd for
 * decisions, the port table for egress ports, and qsbr to tell writers
 * when it holds no pointer into shared state.
 *
 * Epoll events carry a port id, not a pointer: an event can be collected
 * while the worker is offline in epoll_wait, so the port it names may have
 * been removed by the time the worker looks; the id is resolved through
 * the port table only once the worker is online again.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#endif

#include "tapswitch/gso.h"
#include "tapswitch/log.h"
#include "tapswitch/policy.h"
#include "tapswitch/tap.h"
#include "tapswitch/worker.h"

/* Largest frame a TAP hands over: a 64 KiB GSO super-frame plus headers. */
#define FRAME_BUF_SIZE (65536 + 256)
/*
 * A buffer slot: the frame starts FRAME_HEAD bytes in, and the virtio-net
 * header, when there is one, lies right before it.  So one read(2) takes
 * both, and a frame forwarded unchanged leaves with one write(2) from the
 * same bytes: no iovec array for the kernel to import on either side.
 */
#define FRAME_HEAD 64
#define SLOT_SIZE (FRAME_HEAD + FRAME_BUF_SIZE)
#define EPOLL_EVENTS 64
#define EV_STOP UINT64_MAX

_Static_assert(sizeof(struct virtio_net_hdr) == TAP_VNET_HDR_LEN,
    "virtio-net header size");
_Static_assert(PORT_RX_BATCH == WORKER_BATCH, "port_rxb fits a batch");

/* One frame on its way out: the iovecs for write(v), pointing at the
 * received slot; only when the addresses + tag or the virtio-net header
 * change are they rebuilt in the tx slot's scratch. */
struct tx_slot {
	struct port *out;
	size_t len;			/* bytes of the frame, as sent */
	bool flood;			/* PORT_CAP_IO: port_txf */
	uint16_t remote;
	int niov;
	struct iovec iov[3];
	struct virtio_net_hdr vh;
	uint8_t hdr[ETH_ADDR_LEN * 2 + VLAN_TAG_LEN];
};

/* PORT_CAP_IO ports a batch may leave frames with (more are flushed at
 * once). */
#define IO_BATCH_PORTS 16

/* Writes queued per io_uring submission (epoll mode uses slot 0 only). */
#define TX_SLOTS 128

/* Software segmentation: the pseudo-slot of a segment, and room for the
 * segments of a 64 KiB super-frame cut as small as it may be (headers of
 * at most 138 bytes each). */
#define SEG_SLOT WORKER_BATCH
#define SEG_MAX 256
#define SEG_BUF_SIZE (SEG_MAX * 138 + 65536)

struct worker {
	struct sw_counters ctr;		/* first: its own cache lines */
	const struct dp *dp;
	unsigned q;
	int epfd;
	int stopfd;
	pthread_t thread;
	bool started;
	bool stopping;			/* atomic: worker_stop() was called;
					 * stopfd only wakes the thread */
	struct qsbr_reader *qr;
	/* Port events (worker.h): ev[] and ev_head written by this worker,
	 * ev_tail by the main thread; both atomic. */
	struct port_ev ev[PORT_EV_RING];
	uint32_t ev_head;
	uint32_t ev_tail __attribute__((aligned(CACHE_LINE)));
	uint64_t ev_lost;
	size_t vnet_len;		/* 0 or TAP_VNET_HDR_LEN */
	uint8_t *bufs;			/* WORKER_BATCH * SLOT_SIZE */
	/* Indexed by buffer slot; rx[] lists the slots that hold a frame,
	 * in the order they were read.  frame[i] is where slot i's frame
	 * starts: FRAME_HEAD bytes in, or up to VLAN_TAG_LEN before when a
	 * tag the kernel took off was put back (moved says so). */
	uint8_t *frame[WORKER_BATCH + 1];	/* [SEG_SLOT]: see split */
	size_t len[WORKER_BATCH + 1];
	struct fwd_decision dec[WORKER_BATCH + 1];
	unsigned rx[WORKER_BATCH];
	bool moved;
	struct tx_slot *tx;		/* TX_SLOTS */
	unsigned ntx;			/* queued in tx (io_uring mode) */
	/*
	 * PORT_CAP_MMSG ports.  Reads: one recvmmsg(2) message per slot,
	 * with a control buffer for PACKET_AUXDATA and, for a port whose fds
	 * carry a virtio-net header when the switch's frames do not, a
	 * second iovec that takes the header apart (rx_vh).  Writes: queued
	 * in mtx and sent with sendmmsg(2) at the end of the batch, in
	 * either mode.
	 */
	struct mmsghdr mmsg[WORKER_BATCH];
	struct iovec mmsg_iov[WORKER_BATCH][2];
	struct iovec mmsg_bare_iov[WORKER_BATCH];	/* bare ports' */
	struct virtio_net_hdr rx_vh[WORKER_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} mmsg_ctl[WORKER_BATCH];
	struct tx_slot *mtx;		/* TX_SLOTS */
	unsigned nmtx;
	struct mmsghdr mmsg_tx[TX_SLOTS];
	struct iovec mmsg_txiov[TX_SLOTS][4];
	struct port_rxb rxb;		/* PORT_CAP_IO ports' reads */
	/* What rxb said of frame i besides its length: its remote, and
	 * the port it came in on when that is not the port read (NULL
	 * otherwise; other_in: some frame of the batch has one). */
	uint16_t remote[WORKER_BATCH];
	struct port *in[WORKER_BATCH];
	bool other_in;
	/* PORT_CAP_IO ports with frames batched by their type (tx_flush);
	 * each is published and held until the end of the batch. */
	struct port *io_batch[IO_BATCH_PORTS];
	unsigned nio_batch;
	/*
	 * Super-frames to finish in software (rx_vh says GSO, the switch's
	 * frames have no header): split[i] marks them, nsplit counts them in
	 * this batch.  Each is cut into segbuf and its segments go through
	 * the switch one by one as slot SEG_SLOT.  When the switch's frames
	 * have a header, no frame is split on the way in, and segbuf holds
	 * instead the frames made for a bare egress port (worker_send_sw).
	 */
	bool split[WORKER_BATCH];
	unsigned nsplit;
	uint8_t *segbuf;		/* SEG_BUF_SIZE */
	size_t seglen[SEG_MAX];
#ifdef HAVE_LIBURING
	bool uring;
	bool uring_off;			/* atomic: uring turned off running */
	struct io_uring ring;
	int32_t res[TX_SLOTS];		/* results of one submission */
#endif
};

/*
 * read(2), write(2) and writev(2) of frames, without the C library's
 * cancellation bookkeeping: in a process with threads, each cancellable
 * call switches the thread to asynchronous cancellation and back, two
 * atomic updates per frame and per direction, about 3% of the CPU time of
 * 60-byte frames.  Workers are never cancelled; worker_stop() asks them
 * to return through an eventfd.
 */
static inline ssize_t
frame_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

static inline ssize_t
frame_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static inline ssize_t
frame_writev(int fd, const struct iovec *iov, int n)
{
	return syscall(SYS_writev, fd, iov, n);
}

/* Where buffer slot i's frame starts when nothing moved it. */
static inline uint8_t *
slot_base(const struct worker *w, unsigned i)
{
	return w->bufs + (size_t)i * SLOT_SIZE + FRAME_HEAD;
}

/* The frame in buffer slot i, and the virtio-net header before it (when
 * w->vnet_len). */
static inline uint8_t *
slot_frame(const struct worker *w, unsigned i)
{
	return w->frame[i];
}

/* Every slot's frame at its start again, before reading into them. */
static inline void
slots_reset(struct worker *w)
{
	w->nsplit = 0;
	if (UNLIKELY(w->moved)) {
		for (unsigned i = 0; i < WORKER_BATCH; i++)
			w->frame[i] = slot_base(w, i);
		w->moved = false;
	}
}

static inline struct virtio_net_hdr *
slot_vh(const struct worker *w, unsigned i)
{
	return (struct virtio_net_hdr *)(slot_frame(w, i) - TAP_VNET_HDR_LEN);
}

#ifdef HAVE_LIBURING
/* Set up a ring of a worker's size.  Older kernels lack the flags: retry
 * without. */
static int
ring_setup(struct io_uring *ring)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
	};
	int r = io_uring_queue_init_params(TX_SLOTS + WORKER_BATCH, ring, &p);

	if (r == -EINVAL)
		r = io_uring_queue_init(TX_SLOTS + WORKER_BATCH, ring, 0);
	return r;
}

static int
worker_ring_init(struct worker *w)
{
	int r = ring_setup(&w->ring);

	if (r < 0)
		return r;
	w->uring = true;
	return 0;
}
#endif

int
worker_uring_probe(char **why)
{
#ifdef HAVE_LIBURING
	static const unsigned char ops[] = {
		IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_WRITEV,
	};
	struct io_uring ring;
	struct io_uring_probe *probe;
	struct io_uring_cqe *cqe;
	const char *hint;
	int r = ring_setup(&ring);

	if (r < 0) {
		/* EPERM: kernel.io_uring_disabled, or a seccomp filter (a
		 * container runtime's); ENOSYS: a kernel built without it,
		 * or a filter that says so. */
		hint = r == -EPERM ? " (kernel.io_uring_disabled, or a seccomp "
		    "filter)" : r == -ENOSYS ? " (a kernel without io_uring, or "
		    "a seccomp filter)" : "";
		*why = xasprintf("io_uring_setup: %s%s", strerror(-r), hint);
		return r;
	}
	/* A filter may let the ring be made and refuse to use it. */
	io_uring_prep_nop(io_uring_get_sqe(&ring));
	r = io_uring_submit_and_wait(&ring, 1);
	if (r >= 0 && (r = io_uring_peek_cqe(&ring, &cqe)) == 0) {
		r = cqe->res < 0 ? cqe->res : 0;
		io_uring_cqe_seen(&ring, cqe);
	}
	if (r < 0) {
		*why = xasprintf("io_uring_enter: %s", strerror(-r));
		io_uring_queue_exit(&ring);
		return r;
	}
	probe = io_uring_get_probe_ring(&ring);
	for (size_t i = 0; probe && i < ARRAY_SIZE(ops); i++)
		if (!io_uring_opcode_supported(probe, ops[i])) {
			*why = xasprintf("the kernel's io_uring cannot do "
			    "operation %u (Linux 5.6 or later can)", ops[i]);
			r = -EOPNOTSUPP;
			break;
		}
	if (probe)
		io_uring_free_probe(probe);
	else {
		*why = xstrdup("io_uring_register: cannot probe the operations");
		r = -EOPNOTSUPP;
	}
	io_uring_queue_exit(&ring);
	return r;
#else
	*why = xstrdup("this tapswitchd was built without io_uring");
	return -EOPNOTSUPP;
#endif
}

int
worker_create(const struct dp *dp, unsigned q, struct worker **out)
{
	struct worker *w = xaligned_alloc(CACHE_LINE, sizeof(*w));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_STOP };
	int err;

	w->dp = dp;
	w->q = q;
	w->vnet_len = dp->vnet_hdr ? TAP_VNET_HDR_LEN : 0;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->stopfd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
#ifdef HAVE_LIBURING
	if (dp->io_uring && (err = worker_ring_init(w)) < 0)
		goto fail;
#endif
	/* Pages are touched only as frames that large arrive. */
	w->bufs = xmalloc((size_t)WORKER_BATCH * SLOT_SIZE);
	w->tx = xcalloc(TX_SLOTS, sizeof(*w->tx));
	w->mtx = xcalloc(TX_SLOTS, sizeof(*w->mtx));
	w->segbuf = xmalloc(SEG_BUF_SIZE);
	w->moved = true;
	slots_reset(w);
	for (unsigned i = 0; i < WORKER_BATCH; i++) {
		w->mmsg_iov[i][0].iov_base = &w->rx_vh[i];
		w->mmsg_iov[i][0].iov_len = sizeof(w->rx_vh[i]);
		w->mmsg_iov[i][1].iov_base = slot_base(w, i) - w->vnet_len;
		w->mmsg_iov[i][1].iov_len = w->vnet_len + FRAME_BUF_SIZE;
		w->mmsg_bare_iov[i].iov_base = slot_base(w, i);
		w->mmsg_bare_iov[i].iov_len = FRAME_BUF_SIZE;
	}
	*out = w;
	return 0;
fail:
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	free(w);
	return err;
}

/* Account for one write that is done: r is what write(v) returned, or
 * -errno. */
static void
worker_tx_done(struct worker *w, const struct tx_slot *t, ssize_t r)
{
	struct port_counters *c = &t->out->queues[w->q].ctr;

	if (LIKELY(r >= 0)) {
		ctr_add(&c->tx_packets, 1);
		ctr_add(&c->tx_bytes, t->len);
		return;
	}
	if (r == -EBADF || r == -ECONNREFUSED || r == -ENOENT ||
	    r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN) {
		/* The port was closed after worker_send found it up: its
		 * fd is -1 (port.h, "Queues and fds").  Or the socket's
		 * peer is not there (now): a dgram peer's socket file is
		 * absent or nobody reads it, a stream peer has left. */
		ctr_add(&c->tx_down, 1);
		return;
	}
	if (r == -EAGAIN || r == -ENOBUFS) {
		/* The queue (a TAP's, a socket's) or the type's send
		 * buffer is full: the receiver is slower than the sender. */
		ctr_add(&c->tx_full, 1);
		return;
	}
	if (r == -EMSGSIZE) {
		/* A tunnel's datagram would be longer than its path
		 * allows, and it is never fragmented. */
		ctr_add(&c->tx_oversize, 1);
		return;
	}
	ctr_add(&c->tx_errors, 1);
	/* An interface that was just deleted or went down is ordinary
	 * (EBADFD, ENXIO, ENETDOWN: the link monitor reports it and takes
	 * the port down); anything else is worth a (rate-limited) word. */
	if (r != -EIO && r != -EBADFD && r != -ENETDOWN && r != -ENXIO)
		log_rl(LOG_LVL_WARN, "port %s queue %u: write: %s",
		    t->out->conf.name, w->q, strerror((int)-r));
}

#ifdef HAVE_LIBURING
/* The kernel's TAP driver cannot take non-blocking io_uring requests
 * (RWF_NOWAIT fails with EOPNOTSUPP; older kernels): go on with plain
 * reads and writes. */
static void
worker_ring_off(struct worker *w)
{
	w->uring = false;
	__atomic_store_n(&w->uring_off, true, __ATOMIC_RELAXED);
	log_warn("worker %u: this kernel cannot do non-blocking io_uring "
	    "reads and writes on a TAP; using read/write instead", w->q);
}

/* Submit the n requests prepared (user_data = their index) and wait
 * until all n are complete; w->res[i] is the result of request i. */
static void
worker_ring_run(struct worker *w, unsigned n)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	while (seen < n) {
		unsigned k = 0;
		int r = io_uring_submit_and_wait(&w->ring, n - seen);

		/* EAGAIN / EBUSY: the kernel is short of memory, or of room
		 * for completions, for now. */
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			log_error("worker %u: io_uring_enter: %s", w->q,
			    strerror(-r));
			abort();
		}
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			w->res[cqe->user_data] = cqe->res;
			k++;
		}
		io_uring_cq_advance(&w->ring, k);
		seen += k;
	}
}

static void worker_tx_now(struct worker *w, struct tx_slot *t);
static void worker_flush(struct worker *w);

/*
 * Submit the queued writes and wait for them.  Every request carries
 * RWF_NOWAIT, so the kernel completes it while we submit, as a write(2)
 * on the non-blocking fd would: a full queue fails with EAGAIN instead of
 * parking the request, and the frame buffers are free again when this
 * returns.
 */
static void
worker_tx_flush(struct worker *w)
{
	unsigned n;

	if (!w->ntx)
		return;
	for (unsigned i = 0; i < w->ntx; i++) {
		struct tx_slot *t = &w->tx[i];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

		if (t->niov == 1)
			io_uring_prep_write(sqe, port_fd(t->out, w->q),
			    t->iov[0].iov_base, (unsigned)t->iov[0].iov_len,
			    (uint64_t)-1);
		else
			io_uring_prep_writev(sqe, port_fd(t->out, w->q),
			    t->iov, (unsigned)t->niov, (uint64_t)-1);
		sqe->rw_flags = RWF_NOWAIT;
		io_uring_sqe_set_data64(sqe, i);
	}
	worker_ring_run(w, w->ntx);
	n = w->ntx;
	w->ntx = 0;
	for (unsigned i = 0; i < n; i++) {
		if (UNLIKELY(w->res[i] == -EOPNOTSUPP)) {
			/* Refused before writing: write it the old way. */
			if (w->uring)
				worker_ring_off(w);
			worker_tx_now(w, &w->tx[i]);
			continue;
		}
		worker_tx_done(w, &w->tx[i], w->res[i]);
	}
}
#endif

/* Send slot t now, with one write(2) or writev(2). */
static void
worker_tx_now(struct worker *w, struct tx_slot *t)
{
	ssize_t r;

	do
		r = t->niov == 1 ?
		    frame_write(port_fd(t->out, w->q), t->iov[0].iov_base,
		    t->iov[0].iov_len) :
		    frame_writev(port_fd(t->out, w->q), t->iov, t->niov);
	while (r < 0 && errno == EINTR);
	worker_tx_done(w, t, r < 0 ? -errno : r);
}

static const struct virtio_net_hdr zero_vh;

/*
 * Send the frames queued for PORT_CAP_MMSG ports (mtx[0..nmtx)): for
 * each port, all of its frames of the batch with sendmmsg(2), in order,
 * behind an empty virtio-net header when the port's fds take one and
 * the switch's frames have none.  A frame the kernel refuses is counted
 * and the rest go on after it, unless the refusal is the port's (its
 * queue is full, its peer away): the rest are then counted alike.
 */
static void
worker_tx_flush_mmsg(struct worker *w)
{
	unsigned n = w->nmtx;
	bool sent[TX_SLOTS] = { false };

	w->nmtx = 0;
	for (unsigned i = 0; i < n; i++) {
		struct port *out = w->mtx[i].out;
		bool own_vh = out->vnet && !w->vnet_len;
		unsigned idx[TX_SLOTS], k = 0, done = 0;

		if (sent[i])
			continue;
		for (unsigned j = i; j < n; j++) {
			struct tx_slot *t = &w->mtx[j];
			struct iovec *iov = t->iov;
			size_t niov = (size_t)t->niov;

			if (sent[j] || t->out != out)
				continue;
			sent[j] = true;
			if (own_vh) {
				iov = w->mmsg_txiov[k];
				iov[0].iov_base = (void *)&zero_vh;
				iov[0].iov_len = sizeof(zero_vh);
				memcpy(iov + 1, t->iov, niov * sizeof(*iov));
				niov++;
			}
			w->mmsg_tx[k].msg_hdr = (struct msghdr){
				.msg_name = (void *)out->tx_name,
				.msg_namelen = out->tx_namelen,
				.msg_iov = iov, .msg_iovlen = niov };
			idx[k++] = j;
		}
		while (done < k) {
			int r = (int)syscall(SYS_sendmmsg, port_fd(out, w->q),
			    w->mmsg_tx + done, k - done, MSG_DONTWAIT);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				int e = r < 0 ? -errno : -EIO;
				/* The first of the rest failed: count it.
				 * A full queue, a peer that is away or a
				 * closed fd fails the rest alike: count
				 * them too, without a system call each
				 * (a stuck peer would cost one per frame). */
				bool all = e == -EAGAIN || e == -ENOBUFS ||
				    e == -ECONNREFUSED || e == -ENOENT ||
				    e == -EBADF;

				do
					worker_tx_done(w, &w->mtx[idx[done++]],
					    e);
				while (all && done < k);
				continue;
			}
			for (int m = 0; m < r; m++, done++)
				worker_tx_done(w, &w->mtx[idx[done]],
				    w->mmsg_tx[done].msg_len);
		}
	}
}

/* The ports whose type batched frames (PORT_TX_BATCHED): their
 * tx_flush sends them. */
static void
worker_io_flush(struct worker *w)
{
	for (unsigned i = 0; i < w->nio_batch; i++)
		w->io_batch[i]->type->tx_flush(w->io_batch[i], w->q);
	w->nio_batch = 0;
}

/* Give slot t to its port's type (PORT_CAP_IO), now. */
static __attribute__((noinline)) void
worker_tx_io(struct worker *w, struct tx_slot *t)
{
	const struct port_txf f = {
		.iov = t->iov, .niov = t->niov, .len = t->len,
		.flood = t->flood, .remote = t->remote,
	};
	int r = t->out->type->tx(t->out, w->q, &f);

	if (r == PORT_TX_BATCHED) {
		/* Flushed at the end of the batch; a port already listed
		 * last is not listed again (a flush of nothing is cheap). */
		if (!w->nio_batch || w->io_batch[w->nio_batch - 1] != t->out) {
			if (w->nio_batch == IO_BATCH_PORTS)
				worker_io_flush(w);
			w->io_batch[w->nio_batch++] = t->out;
		}
		return;
	}
	worker_tx_done(w, t, r < 0 ? r : (ssize_t)t->len);
}

/* Send slot t now (epoll mode), or queue it: for the sendmmsg(2) of its
 * port at the end of the batch, or for the next io_uring submission; a
 * PORT_CAP_IO type's tx takes it now.  tap: t->out->io is 0 (the
 * caller knows it, and the test goes). */
static inline __attribute__((always_inline)) void
worker_tx(struct worker *w, struct tx_slot *t, bool tap)
{
	if (!tap && (t->out->io & (PORT_CAP_MMSG | PORT_CAP_IO))) {
		if (t->out->io & PORT_CAP_IO)
			worker_tx_io(w, t);
		else if (++w->nmtx == TX_SLOTS)
			worker_tx_flush_mmsg(w);
		return;
	}
#ifdef HAVE_LIBURING
	if (w->uring) {
		if (++w->ntx == TX_SLOTS)
			worker_tx_flush(w);
		return;
	}
#endif
	worker_tx_now(w, t);
}

/*
 * The frame buf[0..len), decided as d says, as it leaves on port out, in
 * the next free tx slot: unchanged, one iovec over the header and frame
 * as they were read; otherwise the addresses + tag and perhaps the
 * virtio-net header are rebuilt in the slot's scratch and the rest still
 * points at the frame.  vh is the header before buf, sent with it, or
 * NULL: none is sent (a bare port, or the frames worker_send_sw made).
 * tap: out->io is 0 and vh is not NULL, which the compiler then knows:
 * the TAP's path is inlined apart, without the tests for other ports.
 */
static inline __attribute__((always_inline)) void
worker_send_frame(struct worker *w, const struct fwd_decision *d,
    struct port *out, const uint8_t *buf, size_t len,
    const struct virtio_net_hdr *vh, bool tap)
{
	const struct frame_info *fi = &d->fi;
	size_t vlen = tap || vh ? w->vnet_len : 0;
	bool tag = fwd_egress_tagged(out, d->vid);
	/* Where the frame continues after the addresses and any tag: the
	 * (inner) ethertype. */
	size_t rest = ETH_ADDR_LEN * 2 + (fi->tagged ? VLAN_TAG_LEN : 0);
	struct tx_slot *t = !tap && (out->io & PORT_CAP_MMSG) ?
	    &w->mtx[w->nmtx] : &w->tx[w->ntx];
	int n = 0, delta;

	delta = (tag ? VLAN_TAG_LEN : 0) - (fi->tagged ? VLAN_TAG_LEN : 0);
	t->out = out;
	t->len = len + delta;
	if (!tap) {
		t->flood = d->action == FWD_FLOOD;
		t->remote = d->remote;
	}
	if (tag == fi->tagged && (!tag || fi->vid == d->vid)) {
		/* The common case: nothing to rewrite. */
		t->iov[n].iov_base = (void *)(buf - vlen);
		t->iov[n++].iov_len = vlen + len;
	} else {
		if (vlen) {
			t->iov[n].iov_base = (void *)vh;
			t->iov[n++].iov_len = vlen;
		}
		memcpy(t->hdr, buf, ETH_ADDR_LEN * 2);
		if (tag) {
			/* Keep the priority the frame came with. */
			uint16_t tci = (uint16_t)(fi->tagged ?
			    fi->pcp << 13 : 0) | d->vid;

			t->hdr[12] = ETH_TYPE_VLAN >> 8;
			t->hdr[13] = ETH_TYPE_VLAN & 0xff;
			t->hdr[14] = tci >> 8;
			t->hdr[15] = tci & 0xff;
		}
		if (vlen && delta) {
			/* Offsets into the frame move with the tag. */
			t->vh = *vh;
			if (t->vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				t->vh.csum_start = htole16(
				    le16toh(t->vh.csum_start) + delta);
			if (t->vh.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
			    t->vh.hdr_len)
				t->vh.hdr_len = htole16(
				    le16toh(t->vh.hdr_len) + delta);
			t->iov[0].iov_base = &t->vh;
		}
		t->iov[n].iov_base = t->hdr;
		t->iov[n++].iov_len = ETH_ADDR_LEN * 2 +
		    (tag ? VLAN_TAG_LEN : 0);
		t->iov[n].iov_base = (void *)(buf + rest);
		t->iov[n++].iov_len = len - rest;
	}
	t->niov = n;
	worker_tx(w, t, tap);
}

/*
 * Frame i, whose virtio-net header leaves work to the device, for a bare
 * port (PORT_IO_BARE), which takes no header: what the header asks is
 * done in software for this port only (gso.h), into segbuf -- a
 * super-frame cut into the frames a NIC would send, a partial checksum
 * completed in a copy -- and those frames are sent.  The received frame
 * stays as it is for the other ports.  What was queued is sent before
 * segbuf is used again.
 */
static __attribute__((noinline, cold)) void
worker_send_sw(struct worker *w, unsigned i, struct port *out)
{
	const struct fwd_decision *d = &w->dec[i];
	const struct virtio_net_hdr *vh = slot_vh(w, i);
	struct port_counters *c = &out->queues[w->q].ctr;
	size_t off = 0, tag = d->fi.tagged ? VLAN_TAG_LEN : 0;
	int n = gso_segment(slot_frame(w, i), w->len[i], vh, w->segbuf,
	    SEG_BUF_SIZE, w->seglen, SEG_MAX);

	if (n < 0) {
		/* The sender's header does not fit its frame. */
		ctr_add(&c->tx_errors, 1);
		log_rl(LOG_LVL_WARN, "port %s: cannot finish a frame's "
		    "offload in software: %s", out->conf.name,
		    strerror(-n));
		return;
	}
	ctr_add(vh->gso_type != VIRTIO_NET_HDR_GSO_NONE ? &c->tx_sw_gso :
	    &c->tx_sw_csum, 1);
	for (int k = 0; k < n; k++) {
		const uint8_t *f = w->segbuf + off;

		off += w->seglen[k];
		if (w->seglen[k] - tag > port_max_frame(out)) {
			ctr_add(&c->tx_oversize, 1);
			continue;
		}
		worker_send_frame(w, d, out, f, w->seglen[k], NULL, false);
	}
	worker_flush(w);
}

/* worker_send for a port that is not a TAP (out->io not 0). */
static __attribute__((noinline)) void
worker_send_other(struct worker *w, unsigned i, struct port *out)
{
	const struct fwd_decision *d = &w->dec[i];
	struct port_counters *c = &out->queues[w->q].ctr;
	const struct virtio_net_hdr *vh = slot_vh(w, i);
	size_t len = w->len[i];
	bool gso = w->vnet_len && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;

	/* PORT_IO_BARE is set only when the switch's frames have a
	 * header, so vh is the frame's. */
	if (out->io & PORT_IO_BARE) {
		if (gso || (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			worker_send_sw(w, i, out);
			return;
		}
		vh = NULL;
	}
	if (UNLIKELY(!gso && len - (d->fi.tagged ? VLAN_TAG_LEN : 0) >
	    port_max_frame(out))) {
		ctr_add(&c->tx_oversize, 1);
		return;
	}
	worker_send_frame(w, d, out, slot_frame(w, i), len, vh, false);
}

/* Frame i to a port with flags (port.h): err-disabled, the frame is
 * dropped as to a port that is down; else its egress policy
 * (egress_rate_limit) says.  False when it is dropped (counted).  A
 * super-frame counts as the frames it stands for. */
static __attribute__((noinline)) bool
worker_tx_policy(struct worker *w, unsigned i, struct port *out)
{
	const struct virtio_net_hdr *vh = slot_vh(w, i);
	bool gso = w->vnet_len && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	struct policy *pol = port_policy(out);

	if (port_err_disabled(out)) {
		ctr_add(&out->queues[w->q].ctr.tx_down, 1);
		return false;
	}
	if (!pol || policy_tx_ok(pol, policy_wire_len(slot_frame(w, i),
	    w->len[i], &w->dec[i].fi, gso, gso ? le16toh(vh->gso_size) : 0,
	    port_max_frame(out)), policy_now()))
		return true;
	ctr_add(&out->queues[w->q].ctr.tx_policed, 1);
	return false;
}

/* Send frame i to port out, or count why not. */
static void
worker_send(struct worker *w, unsigned i, struct port *out)
{
	const struct fwd_decision *d = &w->dec[i];
	struct port_counters *c = &out->queues[w->q].ctr;
	const struct virtio_net_hdr *vh = slot_vh(w, i);
	size_t len = w->len[i];
	bool gso;

	if (UNLIKELY(!port_is_up(out))) {
		ctr_add(&c->tx_down, 1);
		return;
	}
	if (UNLIKELY(port_flags(out)) && !worker_tx_policy(w, i, out))
		return;
	if (UNLIKELY(out->io)) {
		worker_send_other(w, i, out);
		return;
	}
	gso = w->vnet_len && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	if (UNLIKELY(!gso && len - (d->fi.tagged ? VLAN_TAG_LEN : 0) >
	    port_max_frame(out))) {
		ctr_add(&c->tx_oversize, 1);
		return;
	}
	worker_send_frame(w, d, out, slot_frame(w, i), len, vh, true);
}

/* Post an event about p for the main thread (worker.h). */
static void
worker_post(struct worker *w, const struct port *p, unsigned kind, int err)
{
	uint32_t head = w->ev_head;
	uint64_t one = 1;

	if (head - __atomic_load_n(&w->ev_tail, __ATOMIC_ACQUIRE) >=
	    PORT_EV_RING) {
		__atomic_store_n(&w->ev_lost, w->ev_lost + 1, __ATOMIC_RELAXED);
		return;
	}
	w->ev[head % PORT_EV_RING] = (struct port_ev){
		.id = p->id, .gen = p->gen, .kind = (uint16_t)kind,
		.q = (uint16_t)w->q, .err = err,
	};
	__atomic_store_n(&w->ev_head, head + 1, __ATOMIC_RELEASE);
	if (w->dp->evfd >= 0 && write(w->dp->evfd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_rl(LOG_LVL_WARN, "worker %u: cannot wake the main thread: "
		    "%s", w->q, strerror(errno));
}

bool
worker_event_take(struct worker *w, struct port_ev *ev)
{
	uint32_t tail = w->ev_tail;

	if (tail == __atomic_load_n(&w->ev_head, __ATOMIC_ACQUIRE))
		return false;
	*ev = w->ev[tail % PORT_EV_RING];
	__atomic_store_n(&w->ev_tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t
worker_events_lost(const struct worker *w)
{
	return __atomic_load_n(&w->ev_lost, __ATOMIC_RELAXED);
}

/* The queue fd of port p failed for good (its TAP was deleted, its peer
 * closed): stop watching it so it cannot spin the loop, and tell the main
 * thread, which closes the port; it stays configured. */
static void
worker_drop_fd(struct worker *w, struct port *p, int err)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, port_fd(p, w->q), NULL);
	log_rl(LOG_LVL_WARN, "port %s queue %u: %s; no longer reading it",
	    p->conf.name, w->q, err ? strerror(err) : "interface gone");
	worker_post(w, p, PORT_EV_FD_FAILED, err);
}

/* What one read into slot i gave (read's result, or -errno); adds the
 * slot to w->rx[*n] when it holds a frame.  False when the fd is done
 * for now (drained, or dropped for good). */
static bool
worker_rx_done(struct worker *w, struct port *in, unsigned i, ssize_t r,
    unsigned *n)
{
	if (r < 0) {
		/* ENETDOWN: a packet socket reports, once, that its
		 * interface went down (or was down when it was bound); it
		 * works again when the link comes up.  EBADF: the port was
		 * closed, and its fds taken from the workers' epoll sets,
		 * after this event was collected (port.h, "Queues and
		 * fds").  Anything else means the fd is done for (a deleted
		 * TAP: EBADFD). */
		if (r != -EAGAIN && r != -ENETDOWN && r != -EBADF)
			worker_drop_fd(w, in, (int)-r);
		return false;
	}
	if (UNLIKELY(r == 0)) {
		/* End of file: the other side is gone (a TAP never does
		 * this; a closed dummy peer does). */
		worker_drop_fd(w, in, 0);
		return false;
	}
	if (UNLIKELY((size_t)r < w->vnet_len)) {
		/* Cannot happen with a TAP; a dummy peer can do it. */
		ctr_add(&in->queues[w->q].ctr.rx_packets, 1);
		ctr_add(&in->queues[w->q].ctr.rx_runt, 1);
		ctr_add(&in->queues[w->q].ctr.rx_errors, 1);
		return true;
	}
	w->len[i] = (size_t)r - w->vnet_len;
	w->rx[(*n)++] = i;
	return true;
}

/* got of the want reads of the last visit to queue pq returned data:
 * double its rx_want while every read finds a frame, fall to what the
 * last visit found. */
static void
worker_rx_adapt(struct port_queue *pq, unsigned want, unsigned got)
{
	if (got < want)
		pq->rx_want = got ? got : 1;
	else if (want < WORKER_BATCH)
		pq->rx_want = 2 * want < WORKER_BATCH ? 2 * want : WORKER_BATCH;
}

#ifdef HAVE_LIBURING
/* worker_rx with one submission of want reads, each RWF_NOWAIT so that it
 * completes now, with a frame or EAGAIN. */
static unsigned
worker_rx_ring(struct worker *w, struct port *in, unsigned want)
{
	const int32_t *res = w->res;
	unsigned n = 0, got = 0;
	bool gone = false;
	int fd = port_fd(in, w->q);

	for (unsigned i = 0; i < want; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

		io_uring_prep_read(sqe, fd,
		    slot_frame(w, i) - w->vnet_len,
		    (unsigned)(w->vnet_len + FRAME_BUF_SIZE), (uint64_t)-1);
		sqe->rw_flags = RWF_NOWAIT;
		io_uring_sqe_set_data64(sqe, i);
	}
	worker_ring_run(w, want);
	if (UNLIKELY(res[0] == -EOPNOTSUPP)) {
		/* Refused before reading anything. */
		worker_ring_off(w);
		return 0;
	}
	/* In slot order, which is the order of the requests and so of the
	 * frames.  After an EAGAIN a later request may still have found a
	 * frame that arrived meanwhile: keep it. */
	for (unsigned i = 0; i < want; i++) {
		got += res[i] > 0;
#ifdef HAVE_VALGRIND_MEMCHECK_H
		/* Memcheck cannot see a completion write the buffer. */
		if (res[i] > 0)
			VALGRIND_MAKE_MEM_DEFINED(slot_frame(w, i) - w->vnet_len,
			    (size_t)res[i]);
#endif
		if (gone && res[i] <= 0)
			continue;	/* dropped already */
		if (!worker_rx_done(w, in, i, res[i], &n) && res[i] != -EAGAIN)
			gone = true;
	}
	worker_rx_adapt(&in->queues[w->q], want, got);
	return n;
}
#endif

/* The 802.1Q tag the kernel took off frame i (PACKET_AUXDATA), put
 * back: the virtio-net header and the addresses move VLAN_TAG_LEN bytes
 * towards the slot's head room, and the header's offsets into the frame
 * grow with the tag.  vh is frame i's header (NULL: none). */
static void
worker_rx_untag(struct worker *w, unsigned i, const struct tpacket_auxdata *aux,
    struct virtio_net_hdr *vh)
{
	uint16_t tpid = aux->tp_status & TP_STATUS_VLAN_TPID_VALID ?
	    aux->tp_vlan_tpid : ETH_TYPE_VLAN;
	size_t head = w->vnet_len + ETH_ADDR_LEN * 2;
	uint8_t *f = w->frame[i] - VLAN_TAG_LEN;

	memmove(f - w->vnet_len, w->frame[i] - w->vnet_len, head);
	f[12] = tpid >> 8;
	f[13] = tpid & 0xff;
	f[14] = aux->tp_vlan_tci >> 8;
	f[15] = aux->tp_vlan_tci & 0xff;
	w->frame[i] = f;
	w->len[i] += VLAN_TAG_LEN;
	w->moved = true;
	if (w->vnet_len)
		vh = slot_vh(w, i);
	if (!vh)
		return;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		vh->csum_start = htole16(le16toh(vh->csum_start) +
		    VLAN_TAG_LEN);
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && vh->hdr_len)
		vh->hdr_len = htole16(le16toh(vh->hdr_len) + VLAN_TAG_LEN);
}

/* What frame i's own virtio-net header (rx_vh) leaves to do, done: a
 * partial checksum completed, a super-frame marked for splitting.  False
 * when the header cannot be right for the frame: dropped, counted. */
static bool
worker_rx_offload(struct worker *w, struct port *in, unsigned i)
{
	const struct virtio_net_hdr *vh = &w->rx_vh[i];
	struct port_counters *c = &in->queues[w->q].ctr;

	w->split[i] = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	if (w->split[i]) {
		w->nsplit++;
		return true;
	}
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return true;
	if (gso_csum_complete(w->frame[i], w->len[i], vh) == 0) {
		ctr_add(&c->rx_sw_csum, 1);
		return true;
	}
	ctr_add(&c->rx_packets, 1);
	ctr_add(&c->rx_bad_offload, 1);
	return false;
}

/*
 * worker_rx for PORT_CAP_MMSG ports: one recvmmsg(2) for the batch.
 * The kernel hands over a received frame's 802.1Q tag apart from it
 * (PACKET_AUXDATA), as NICs and veths strip it: it goes back into the
 * frame, so a trunk sees its tags.  A port whose fds carry a virtio-net
 * header when the switch's frames do not (in->vnet, !w->vnet_len) has it
 * read into rx_vh.
 */
static unsigned
worker_rx_mmsg(struct worker *w, struct port *in, unsigned want)
{
	bool own_vh = in->vnet && !w->vnet_len;
	bool bare = in->io & PORT_IO_BARE;
	size_t vlen = in->vnet ? TAP_VNET_HDR_LEN : 0;
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < want; i++) {
		struct msghdr *mh = &w->mmsg[i].msg_hdr;

		mh->msg_iov = own_vh ? w->mmsg_iov[i] : bare ?
		    &w->mmsg_bare_iov[i] : &w->mmsg_iov[i][1];
		mh->msg_iovlen = own_vh ? 2 : 1;
		mh->msg_control = w->mmsg_ctl[i].buf;
		mh->msg_controllen = sizeof(w->mmsg_ctl[i].buf);
	}
	r = (int)syscall(SYS_recvmmsg, port_fd(in, w->q), w->mmsg, want,
	    MSG_DONTWAIT, NULL);
	if (r < 0) {
		worker_rx_done(w, in, 0, -errno, &n);
		r = 0;
	}
	for (int k = 0; k < r; k++) {
		unsigned i = (unsigned)k;
		struct msghdr *mh = &w->mmsg[i].msg_hdr;
		const struct tpacket_auxdata *aux = NULL;
		struct cmsghdr *c;

		if (UNLIKELY(w->mmsg[i].msg_len < vlen)) {
			ctr_add(&in->queues[w->q].ctr.rx_packets, 1);
			ctr_add(&in->queues[w->q].ctr.rx_runt, 1);
			ctr_add(&in->queues[w->q].ctr.rx_errors, 1);
			continue;
		}
		w->len[i] = w->mmsg[i].msg_len - vlen;
		if (bare)
			memset(slot_vh(w, i), 0, TAP_VNET_HDR_LEN);
		for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
			if (c->cmsg_level == SOL_PACKET &&
			    c->cmsg_type == PACKET_AUXDATA)
				aux = (const void *)CMSG_DATA(c);
		/* A runt keeps its shape: fwd_decide counts it. */
		if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID) &&
		    w->len[i] >= ETH_ADDR_LEN * 2)
			worker_rx_untag(w, i, aux,
			    own_vh ? &w->rx_vh[i] : NULL);
		if (own_vh && !worker_rx_offload(w, in, i))
			continue;
		w->rx[n++] = i;
	}
	worker_rx_adapt(&in->queues[w->q], want, (unsigned)r);
	return n;
}

/*
 * Read up to rx_want frames from fd q of port in into the slots; returns
 * how many, listed in w->rx.  The fd need not be drained: epoll is level
 * triggered and reports it again if frames are left, and rx_want grows.
 * Under steady traffic that saves the read that would end in EAGAIN;
 * for request/response traffic, rx_want stays near 1.  Each queue of
 * each port has its own rx_want: a worker serves busy and quiet ports.
 */
/*
 * worker_rx for a PORT_CAP_IO port: its type's rx hook reads into the
 * slots, and an empty virtio-net header goes before each frame when the
 * switch's frames have one.  A type says when its channel failed for
 * good, and has logged why if that is worth a word (a peer leaving is
 * not): no warning here.
 */
static __attribute__((noinline)) unsigned
worker_rx_io(struct worker *w, struct port *in, unsigned want)
{
	struct port_rxb *b = &w->rxb;
	unsigned n = 0;
	int r;

	b->want = want;
	b->room = FRAME_BUF_SIZE;
	for (unsigned i = 0; i < want; i++) {
		b->frame[i] = slot_frame(w, i);
		b->remote[i] = 0;
		b->in[i] = NULL;
	}
	r = in->type->rx(in, w->q, b);
	if (r < 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, port_fd(in, w->q), NULL);
		worker_post(w, in, PORT_EV_FD_FAILED, -r);
		return 0;
	}
	for (unsigned i = 0; i < (unsigned)r; i++) {
		w->len[i] = b->len[i];
		w->remote[i] = b->remote[i];
		if (UNLIKELY(b->in[i] != NULL)) {
			w->in[i] = b->in[i];
			w->other_in = true;
		}
		if (w->vnet_len)
			memset(slot_vh(w, i), 0, TAP_VNET_HDR_LEN);
		w->rx[n++] = i;
	}
	worker_rx_adapt(&in->queues[w->q], want, (unsigned)r);
	return n;
}

/* worker_rx for a bare port of a type read the TAP's way (a test
 * type): the frame is read alone, and an empty header goes before it. */
static __attribute__((noinline, cold)) unsigned
worker_rx_bare(struct worker *w, struct port *in, unsigned want)
{
	unsigned n = 0, got = 0;

	for (unsigned i = 0; i < want; i++) {
		ssize_t r;

		do
			r = frame_read(port_fd(in, w->q), slot_frame(w, i),
			    FRAME_BUF_SIZE);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			memset(slot_vh(w, i), 0, TAP_VNET_HDR_LEN);
		if (!worker_rx_done(w, in, i, r < 0 ? -errno :
		    r ? r + (ssize_t)w->vnet_len : 0, &n))
			break;
		got++;
	}
	worker_rx_adapt(&in->queues[w->q], want, got);
	return n;
}

static unsigned
worker_rx(struct worker *w, struct port *in)
{
	struct port_queue *pq = &in->queues[w->q];
	unsigned want = pq->rx_want ? pq->rx_want : 1, n = 0, got = 0;

	slots_reset(w);
	if (UNLIKELY(in->io)) {
		if (in->io & PORT_CAP_MMSG)
			return worker_rx_mmsg(w, in, want);
		if (in->io & PORT_CAP_IO)
			return worker_rx_io(w, in, want);
		return worker_rx_bare(w, in, want);
	}
#ifdef HAVE_LIBURING
	if (w->uring)
		return worker_rx_ring(w, in, want);
#endif
	for (unsigned i = 0; i < want; i++) {
		ssize_t r;

		do
			r = frame_read(port_fd(in, w->q),
			    slot_frame(w, i) - w->vnet_len,
			    w->vnet_len + FRAME_BUF_SIZE);
		while (r < 0 && errno == EINTR);
		if (!worker_rx_done(w, in, i, r < 0 ? -errno : r, &n))
			break;
		got++;
	}
	worker_rx_adapt(pq, want, got);
	return n;
}

/* A frame err-disabled port in: the main thread logs it and forgets the
 * port's addresses. */
static __attribute__((noinline, cold)) void
worker_disabled(struct worker *w, struct port *in)
{
	worker_post(w, in, PORT_EV_ERR_DISABLED, (int)port_err_disabled(in));
}

/* Send the frame in slot i, decided, where its decision says.  Inlined
 * into the loop, as it is small and runs for every frame. */
static inline __attribute__((always_inline)) void
worker_forward(struct worker *w, struct port *in, unsigned i)
{
	const struct fwd_decision *d = &w->dec[i];

	if (d->action == FWD_UNICAST) {
		worker_send(w, i, d->out);
	} else if (d->action == FWD_FLOOD) {
		const struct port_set *set = port_table_set(w->dp->ports);

		for (unsigned j = 0; j < set->n; j++) {
			struct port *out = set->ports[j];

			if (out != in && port_is_up(out) &&
			    fwd_port_in_vlan(out, d->vid))
				worker_send(w, i, out);
		}
	} else if (UNLIKELY(d->action == FWD_DISABLED)) {
		worker_disabled(w, in);
	}
}

/* Send what is queued for io_uring and for sendmmsg(2). */
static void
worker_flush(struct worker *w)
{
#ifdef HAVE_LIBURING
	if (w->uring)
		worker_tx_flush(w);
#endif
	if (w->nmtx)
		worker_tx_flush_mmsg(w);
	if (w->nio_batch)
		worker_io_flush(w);
}

/*
 * The super-frame in slot i, from a port whose header the switch's
 * frames do not carry: cut into the frames a NIC would have sent
 * (gso.h), each decided and sent in turn as slot SEG_SLOT.  What was
 * queued is sent before segbuf is used again.
 */
static void
worker_split(struct worker *w, struct port *in, unsigned i, uint32_t now)
{
	struct port_counters *c = &in->queues[w->q].ctr;
	size_t off = 0;
	int n = gso_segment(w->frame[i], w->len[i], &w->rx_vh[i], w->segbuf,
	    SEG_BUF_SIZE, w->seglen, SEG_MAX);

	if (n < 0) {
		ctr_add(&c->rx_packets, 1);
		ctr_add(&c->rx_bad_offload, 1);
		return;
	}
	ctr_add(&c->rx_sw_gso, 1);
	for (int s = 0; s < n; s++) {
		w->frame[SEG_SLOT] = w->segbuf + off;
		w->len[SEG_SLOT] = w->seglen[s];
		off += w->seglen[s];
		fwd_decide(w->dp, in, w->q, w->frame[SEG_SLOT],
		    w->len[SEG_SLOT], false, 0, now, &w->ctr,
		    &w->dec[SEG_SLOT]);
		worker_forward(w, in, SEG_SLOT);
	}
	worker_flush(w);
}

/*
 * The frames of a PORT_CAP_IO port's batch that came in on other ports
 * sharing its channel (port_rxb.in): decided and sent as theirs.  The
 * others are left for the common path (w->in[i] NULL).
 */
static __attribute__((noinline, cold)) void
worker_serve_shared(struct worker *w, unsigned n, uint32_t now)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned i = w->rx[k];
		struct port *src = w->in[i];

		if (!src)
			continue;
		fwd_decide(w->dp, src, w->q, slot_frame(w, i), w->len[i],
		    false, w->remote[i], now, &w->ctr, &w->dec[i]);
		worker_forward(w, src, i);
	}
}

static void
worker_serve(struct worker *w, struct port *in, uint32_t now)
{
	const struct dp *dp = w->dp;
	unsigned n;

	bool io;

	n = worker_rx(w, in);
	policy_clock_reset();	/* the meters read the clock once a batch */
	io = in->io & PORT_CAP_IO;
	if (UNLIKELY(w->other_in)) {
		unsigned m = 0;

		worker_serve_shared(w, n, now);
		/* What is left is in's, as below. */
		for (unsigned k = 0; k < n; k++) {
			unsigned i = w->rx[k];

			if (!w->in[i])
				w->rx[m++] = i;
			w->in[i] = NULL;
		}
		n = m;
		w->other_in = false;
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = w->rx[k];

		if (UNLIKELY(w->nsplit && w->split[i]))
			continue;	/* decided segment by segment */
		fwd_decide(dp, in, w->q, slot_frame(w, i), w->len[i],
		    w->vnet_len &&
		    slot_vh(w, i)->gso_type != VIRTIO_NET_HDR_GSO_NONE,
		    io ? w->remote[i] : 0, now, &w->ctr, &w->dec[i]);
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = w->rx[k];

		if (UNLIKELY(w->nsplit && w->split[i]))
			worker_split(w, in, i, now);
		else
			worker_forward(w, in, i);
	}
	worker_flush(w);
}


static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The busy-poll score of this worker's queue of port id; NULL if gone. */
static unsigned *
worker_poll_score(struct worker *w, uint32_t id)
{
	struct port *p = port_table_get(w->dp->ports, id);

	return p ? &p->queues[w->q].poll_score : NULL;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[EPOLL_EVENTS];
	struct busy_poll bp = { 0, 0 };	/* see worker.h */
	uint32_t last = PORT_MAX;	/* the port served last */

	w->qr = qsbr_register(w->dp->qs);
	if (!w->qr) {
		log_error("worker %u: too many reader threads", w->q);
		abort();
	}

	while (!__atomic_load_n(&w->stopping, __ATOMIC_RELAXED)) {
		uint64_t budget = (uint64_t)__atomic_load_n(
		    &w->dp->busy_poll_us, __ATOMIC_RELAXED) * 1000;
		bool poll = false;
		int n;

		if (budget) {
			uint64_t t = now_ns();

			if (!bp.idle_at) {
				const unsigned *s = worker_poll_score(w, last);

				busy_poll_idle(&bp, t, budget, s ? *s : 0);
			}
			poll = t < bp.until;
		}
		if (poll) {
			n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, 0);
		} else {
			qsbr_offline(w->qr);
			n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, -1);
			qsbr_online(w->qr);
		}
		if (n > 0) {
			ctr_add(poll ? &w->ctr.polled : &w->ctr.wakeups, 1);
			if (budget)
				busy_poll_woke(&bp, now_ns(), budget,
				    worker_poll_score(w, last));
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("worker %u: epoll_wait: %s", w->q,
			    strerror(errno));
			abort();
		}
		uint32_t now = now_sec();

		for (int i = 0; i < n; i++) {
			uint64_t id = evs[i].data.u64;
			struct port *p;

			if (id == EV_STOP)
				continue;	/* the wake-up of worker_stop() */
			p = port_table_get(w->dp->ports, (uint32_t)id);
			if (!p)
				continue;	/* removed meanwhile */
			if (evs[i].events & (EPOLLIN | EPOLLERR)) {
				/* A pending error comes out of the read,
				 * which says whether it is for good. */
				worker_serve(w, p, now);
				last = p->id;
			} else if (evs[i].events & EPOLLHUP)
				worker_drop_fd(w, p, 0);
			/* Only a type that asked for it (port_want_room). */
			if (UNLIKELY(evs[i].events & EPOLLOUT) &&
			    p->type->tx_room)
				p->type->tx_room(p, w->q);
			/* Nothing of p is held past its batch.  A pass over
			 * many ports that all flood to many ports can take
			 * seconds: grace periods and a stop wait for one
			 * port's batch, not for the whole pass. */
			qsbr_quiescent(w->qr);
			if (__atomic_load_n(&w->stopping, __ATOMIC_RELAXED))
				break;
		}
		qsbr_quiescent(w->qr);
	}
	qsbr_unregister(w->qr);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int err = pthread_create(&w->thread, NULL, worker_main, w);

	if (err)
		return -err;
	w->started = true;
	return 0;
}

void
worker_stop(struct worker *w)
{
	uint64_t one = 1;

	if (!w->started)
		return;
	__atomic_store_n(&w->stopping, true, __ATOMIC_RELAXED);
	if (write(w->stopfd, &one, sizeof(one)) < 0)
		log_error("worker %u: cannot signal stop: %s", w->q,
		    strerror(errno));
	pthread_join(w->thread, NULL);
	w->started = false;
}

void
worker_destroy(struct worker *w)
{
	if (!w)
		return;
	worker_stop(w);
	close(w->epfd);
	close(w->stopfd);
#ifdef HAVE_LIBURING
	if (w->uring)
		io_uring_queue_exit(&w->ring);
#endif
	free(w->bufs);
	free(w->segbuf);
	free(w->mtx);
	free(w->tx);
	free(w);
}

int
worker_attach(struct worker *w, struct port *p)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = p->id };

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, p->fds[w->q], &ev) < 0)
		return -errno;
	__atomic_store_n(&p->epfds[w->q], w->epfd, __ATOMIC_RELAXED);
	return 0;
}

void
port_want_room(struct port *p, unsigned q, bool on)
{
	unsigned r = p->type->caps & PORT_CAP_MULTIQUEUE ? q :
	    p->id % p->nqueues;
	struct epoll_event ev = {
		.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = p->id,
	};
	int epfd = __atomic_load_n(&p->epfds[r], __ATOMIC_RELAXED);
	int fd = port_fd(p, q);

	/* ENOENT: the reader stopped watching the fd (it failed, or the
	 * port is detached); nothing to wait for then. */
	if (epfd >= 0 && fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

void
worker_detach(struct worker *w, struct port *p)
{
	/* ENOENT when the worker already dropped a dead fd: fine. */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, p->fds[w->q], NULL);
}

bool
worker_uring_off(const struct worker *w)
{
#ifdef HAVE_LIBURING
	return __atomic_load_n(&w->uring_off, __ATOMIC_RELAXED);
#else
	(void)w;
	return false;
#endif
}

const struct sw_counters *
worker_counters(const struct worker *w)
{
	return &w->ctr;
}
