/*
 * worker.c - the data-path threads (see worker.h for the model).
 *
 * Talks to: the queue fds of every port (epoll, readv, writev), fwd for
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
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "tapswitch/log.h"
#include "tapswitch/tap.h"
#include "tapswitch/worker.h"

/* Largest frame a TAP hands over: a 64 KiB GSO super-frame plus headers. */
#define FRAME_BUF_SIZE (65536 + 256)
#define EPOLL_EVENTS 64
#define EV_STOP UINT64_MAX

_Static_assert(sizeof(struct virtio_net_hdr) == TAP_VNET_HDR_LEN,
    "virtio-net header size");

struct worker {
	struct sw_counters ctr;		/* first: its own cache lines */
	const struct dp *dp;
	unsigned q;
	int epfd;
	int stopfd;
	pthread_t thread;
	bool started;
	struct qsbr_reader *qr;
	size_t vnet_len;		/* 0 or TAP_VNET_HDR_LEN */
	uint8_t *bufs;			/* WORKER_BATCH * FRAME_BUF_SIZE */
	struct virtio_net_hdr vh[WORKER_BATCH];
	size_t len[WORKER_BATCH];
	struct fwd_decision dec[WORKER_BATCH];
};

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
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->stopfd >= 0)
			close(w->stopfd);
		free(w);
		return err;
	}
	/* Pages are touched only as frames that large arrive. */
	w->bufs = xmalloc((size_t)WORKER_BATCH * FRAME_BUF_SIZE);
	*out = w;
	return 0;
}

/* The frame as it leaves on port out: the iovecs for writev, pointing at
 * the received payload; only the addresses + tag and the virtio-net header
 * live in the caller's scratch.  Returns the iovec count, or 0 to drop
 * with the counter already bumped. */
struct egress_scratch {
	struct virtio_net_hdr vh;
	uint8_t hdr[ETH_ADDR_LEN * 2 + VLAN_TAG_LEN];
};

static int
worker_send(struct worker *w, unsigned i, struct port *out)
{
	const struct fwd_decision *d = &w->dec[i];
	const struct frame_info *fi = &d->fi;
	struct port_counters *c = &out->ctr[w->q];
	const uint8_t *buf = w->bufs + (size_t)i * FRAME_BUF_SIZE;
	size_t len = w->len[i];
	bool tag = fwd_egress_tagged(out, d->vid);
	bool gso = w->vnet_len && w->vh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE;
	/* Where the frame continues after the addresses and any tag: the
	 * (inner) ethertype. */
	size_t rest = ETH_ADDR_LEN * 2 + (fi->tagged ? VLAN_TAG_LEN : 0);
	size_t untagged_len = len - (fi->tagged ? VLAN_TAG_LEN : 0);
	struct egress_scratch s;
	struct iovec iov[3];
	int n = 0, delta;
	ssize_t r;

	if (UNLIKELY(!port_is_up(out))) {
		ctr_add(&c->tx_down, 1);
		return 0;
	}
	if (UNLIKELY(!gso && untagged_len > out->max_frame)) {
		ctr_add(&c->tx_oversize, 1);
		return 0;
	}

	delta = (tag ? VLAN_TAG_LEN : 0) - (fi->tagged ? VLAN_TAG_LEN : 0);
	if (w->vnet_len) {
		iov[n].iov_base = &w->vh[i];
		iov[n++].iov_len = w->vnet_len;
	}
	if (!tag && !fi->tagged) {
		/* The common case: nothing to rewrite. */
		iov[n].iov_base = (void *)buf;
		iov[n++].iov_len = len;
	} else if (tag && fi->tagged && fi->vid == d->vid) {
		iov[n].iov_base = (void *)buf;
		iov[n++].iov_len = len;
	} else {
		memcpy(s.hdr, buf, ETH_ADDR_LEN * 2);
		if (tag) {
			/* Keep the priority the frame came with. */
			uint16_t tci = (uint16_t)(fi->tagged ? fi->pcp << 13 : 0) |
			    d->vid;

			s.hdr[12] = ETH_TYPE_VLAN >> 8;
			s.hdr[13] = ETH_TYPE_VLAN & 0xff;
			s.hdr[14] = tci >> 8;
			s.hdr[15] = tci & 0xff;
		}
		if (w->vnet_len && delta) {
			/* Offsets into the frame move with the tag. */
			s.vh = w->vh[i];
			if (s.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				s.vh.csum_start = htole16(
				    le16toh(s.vh.csum_start) + delta);
			if (s.vh.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
			    s.vh.hdr_len)
				s.vh.hdr_len = htole16(
				    le16toh(s.vh.hdr_len) + delta);
			iov[0].iov_base = &s.vh;
		}
		iov[n].iov_base = s.hdr;
		iov[n++].iov_len = ETH_ADDR_LEN * 2 + (tag ? VLAN_TAG_LEN : 0);
		iov[n].iov_base = (void *)(buf + rest);
		iov[n++].iov_len = len - rest;
	}

	do
		r = writev(out->fds[w->q], iov, n);
	while (r < 0 && errno == EINTR);
	if (UNLIKELY(r < 0)) {
		ctr_add(&c->tx_errors, 1);
		/* A full or downed queue is ordinary, and so is a TAP that
		 * was just deleted (EBADFD: the link monitor reports it and
		 * takes the port down); anything else is worth a
		 * (rate-limited) word. */
		if (errno != EAGAIN && errno != ENOBUFS && errno != EIO &&
		    errno != EBADFD)
			log_rl(LOG_LVL_WARN, "port %s queue %u: write: %s",
			    out->conf.name, w->q, strerror(errno));
		return 0;
	}
	ctr_add(&c->tx_packets, 1);
	ctr_add(&c->tx_bytes, len + delta);
	return 1;
}

/* The queue fd of port p failed for good (its TAP was deleted): stop
 * watching it so it cannot spin the loop; the port stays configured. */
static void
worker_drop_fd(struct worker *w, struct port *p, int err)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, p->fds[w->q], NULL);
	log_rl(LOG_LVL_WARN, "port %s queue %u: %s; no longer reading it",
	    p->conf.name, w->q, err ? strerror(err) : "interface gone");
}

static void
worker_serve(struct worker *w, struct port *in, uint32_t now)
{
	const struct dp *dp = w->dp;
	int fd = in->fds[w->q];
	struct iovec iov[2];
	unsigned n = 0;
	ssize_t r;

	while (n < WORKER_BATCH) {
		int k = 0;

		if (w->vnet_len) {
			iov[k].iov_base = &w->vh[n];
			iov[k++].iov_len = w->vnet_len;
		}
		iov[k].iov_base = w->bufs + (size_t)n * FRAME_BUF_SIZE;
		iov[k++].iov_len = FRAME_BUF_SIZE;
		r = readv(fd, iov, k);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				worker_drop_fd(w, in, errno);
			break;
		}
		if (UNLIKELY(r == 0)) {
			/* End of file: the other side is gone (a TAP never
			 * does this; a closed dummy peer does). */
			worker_drop_fd(w, in, 0);
			break;
		}
		if (UNLIKELY((size_t)r < w->vnet_len)) {
			/* Cannot happen with a TAP; a dummy peer can do it. */
			ctr_add(&in->ctr[w->q].rx_packets, 1);
			ctr_add(&in->ctr[w->q].rx_runt, 1);
			ctr_add(&in->ctr[w->q].rx_errors, 1);
			continue;
		}
		w->len[n++] = (size_t)r - w->vnet_len;
	}

	for (unsigned i = 0; i < n; i++)
		fwd_decide(dp, in, w->q, w->bufs + (size_t)i * FRAME_BUF_SIZE,
		    w->len[i], w->vnet_len &&
		    w->vh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE, now,
		    &w->ctr, &w->dec[i]);

	for (unsigned i = 0; i < n; i++) {
		const struct fwd_decision *d = &w->dec[i];

		if (d->action == FWD_UNICAST) {
			worker_send(w, i, d->out);
		} else if (d->action == FWD_FLOOD) {
			const struct port_set *set = port_table_set(dp->ports);

			for (unsigned j = 0; j < set->n; j++) {
				struct port *out = set->ports[j];

				if (out != in && port_is_up(out) &&
				    fwd_port_in_vlan(out, d->vid))
					worker_send(w, i, out);
			}
		}
	}
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[EPOLL_EVENTS];
	bool stop = false;

	w->qr = qsbr_register(w->dp->qs);
	if (!w->qr) {
		log_error("worker %u: too many reader threads", w->q);
		abort();
	}
	uint64_t busy_until = 0;

	while (!stop) {
		uint64_t busy_ns = (uint64_t)__atomic_load_n(
		    &w->dp->busy_poll_us, __ATOMIC_RELAXED) * 1000;
		uint64_t t = busy_ns ? now_ns() : 0;
		int n;

		/*
		 * busy_poll: for a while after the last frame, poll instead
		 * of sleeping.  A worker asleep in epoll_wait costs a wake-up
		 * (a scheduler round trip, ~10 us here) per burst; polling
		 * answers a request/response flow at once, for the price of
		 * a CPU kept busy that long after traffic stops.
		 */
		if (t && t < busy_until) {
			n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, 0);
		} else {
			qsbr_offline(w->qr);
			n = epoll_wait(w->epfd, evs, EPOLL_EVENTS, -1);
			qsbr_online(w->qr);
		}
		if (n > 0 && busy_ns)
			busy_until = (t ? t : now_ns()) + busy_ns;
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

			if (id == EV_STOP) {
				stop = true;
				break;
			}
			p = port_table_get(w->dp->ports, (uint32_t)id);
			if (!p)
				continue;	/* removed meanwhile */
			if (evs[i].events & EPOLLIN)
				worker_serve(w, p, now);
			else if (evs[i].events & (EPOLLERR | EPOLLHUP))
				worker_drop_fd(w, p, 0);
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
	free(w->bufs);
	free(w);
}

int
worker_attach(struct worker *w, struct port *p)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = p->id };

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, p->fds[w->q], &ev) < 0)
		return -errno;
	return 0;
}

void
worker_detach(struct worker *w, struct port *p)
{
	/* ENOENT when the worker already dropped a dead fd: fine. */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, p->fds[w->q], NULL);
}

const struct sw_counters *
worker_counters(const struct worker *w)
{
	return &w->ctr;
}
