/*
 * port_dummy.c - port types for tests that need no root.
 *
 * "dummy": each queue is a SOCK_SEQPACKET socketpair: the port reads and
 * writes one end exactly as it would a TAP queue fd (one message = one
 * frame, read and write keep the boundaries), and the test holds the
 * other end to inject frames and collect what the switch sends.
 * "dummy1": one socketpair for all queues, the single-channel model of
 * port.h ("Queues and fds"): its owner worker reads it, every worker
 * writes to it.
 * "dummy_bare": as "dummy", but its frames never carry a virtio-net
 * header, whatever offload says (PORT_IO_BARE with offload = yes).
 * "dummy_io": as "dummy1" and bare, with the data-path hooks
 * (PORT_CAP_IO): its rx and tx move one message per frame through them.
 *
 * Tests make them known with port_type_register_test(); a config then
 * says type = dummy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tapswitch/port.h"

static const struct conf_key dummy_keys[] = {
	CONF_KEY_IFNAME,
	CONF_KEY_NETNS,
};

static void
dummy_conf_init(struct conf_port *p)
{
	p->ifname = xstrdup(p->name);
}

static unsigned
dummy_nfds(const struct port *p)
{
	return p->type->caps & PORT_CAP_MULTIQUEUE ? p->nqueues : 1;
}

static int
dummy_open(struct port *p, bool vnet_hdr, unsigned *mtu, char **err)
{
	unsigned n = dummy_nfds(p);
	int *peers = xmalloc(n * sizeof(*peers));
	int sv[2];

	(void)mtu;
	for (unsigned q = 0; q < n; q++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sv) < 0) {
			int e = errno;

			*err = xasprintf("port %s: socketpair: %s",
			    p->conf.name, strerror(e));
			while (q-- > 0) {
				close(p->fds[q]);
				close(peers[q]);
				p->fds[q] = -1;
			}
			free(peers);
			return -e;
		}
		p->fds[q] = sv[0];
		peers[q] = sv[1];
	}
	p->priv = peers;
	p->vnet = vnet_hdr && !(p->type->caps & PORT_CAP_IO) &&
	    p->type != &port_type_dummy_bare;
	/* Distinct and stable, like a real interface's. */
	p->ifindex = 1000 + (int)p->id;
	p->created = true;
	port_set_up(p, true);
	return 0;
}

static void
dummy_close(struct port *p)
{
	int *peers = p->priv;

	for (unsigned q = 0; q < dummy_nfds(p); q++) {
		if (p->fds[q] >= 0)
			close(p->fds[q]);
		if (peers && peers[q] >= 0)
			close(peers[q]);
		p->fds[q] = -1;
	}
	free(peers);
	p->priv = NULL;
}

static int
dummy_link_state(struct port *p, bool *up, unsigned *mtu)
{
	*up = port_is_up(p);
	*mtu = 0;
	return 0;
}

#define DUMMY_CONF(type_name) { \
	.name = type_name, \
	.summary = "a socketpair for tests", \
	.keys = dummy_keys, \
	.n_keys = ARRAY_SIZE(dummy_keys), \
	.init = dummy_conf_init, \
}

const struct port_type port_type_dummy = {
	.conf = DUMMY_CONF("dummy"),
	.caps = PORT_CAP_MULTIQUEUE,
	.open = dummy_open,
	.close = dummy_close,
	.link_state = dummy_link_state,
};

const struct port_type port_type_dummy1 = {
	.conf = DUMMY_CONF("dummy1"),
	.open = dummy_open,
	.close = dummy_close,
	.link_state = dummy_link_state,
};

const struct port_type port_type_dummy_bare = {
	.conf = DUMMY_CONF("dummy_bare"),
	.caps = PORT_CAP_MULTIQUEUE,
	.open = dummy_open,
	.close = dummy_close,
	.link_state = dummy_link_state,
};

static int
dummy_io_rx(struct port *p, unsigned q, struct port_rxb *b)
{
	int fd = port_fd(p, q);
	unsigned n;

	for (n = 0; n < b->want; n++) {
		ssize_t r = read(fd, b->frame[n], b->room);

		if (r < 0 && errno == EINTR) {
			n--;
			continue;
		}
		if (r < 0)
			return n || errno == EAGAIN || errno == EBADF ?
			    (int)n : -errno;
		if (r == 0)
			return n ? (int)n : -EPIPE;
		b->len[n] = (size_t)r;
	}
	return (int)n;
}

static int
dummy_io_tx(struct port *p, unsigned q, const struct port_txf *f)
{
	ssize_t r;

	do
		r = writev(port_fd(p, q), f->iov, f->niov);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

const struct port_type port_type_dummy_io = {
	.conf = DUMMY_CONF("dummy_io"),
	.caps = PORT_CAP_IO,
	.open = dummy_open,
	.close = dummy_close,
	.link_state = dummy_link_state,
	.rx = dummy_io_rx,
	.tx = dummy_io_tx,
};

int
port_dummy_peer(const struct port *p, unsigned q)
{
	const int *peers = p->priv;

	if (!peers || q >= p->nqueues)
		return -1;
	return peers[p->type->caps & PORT_CAP_MULTIQUEUE ? q : 0];
}
