/*
 * port_dummy.c - a port backend for tests that need no root.
 *
 * Each queue is a SOCK_SEQPACKET socketpair: the port reads and writes one
 * end exactly as it would a TAP queue fd (one message = one frame, read
 * and write keep the boundaries), and the test holds the other end to
 * inject frames and collect what the switch sends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tapswitch/port.h"

static int
dummy_open(struct port *p, bool vnet_hdr, char **err)
{
	int *peers = xmalloc(p->nqueues * sizeof(*peers));
	int sv[2];

	for (unsigned q = 0; q < p->nqueues; q++) {
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
	p->ifindex = (int)p->id + 1;
	p->created = true;
	port_set_up(p, true);
	return 0;
}

static void
dummy_close(struct port *p)
{
	int *peers = p->priv;

	for (unsigned q = 0; q < p->nqueues; q++) {
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
dummy_link_state(struct port *p, bool *up)
{
	*up = port_is_up(p);
	return 0;
}

const struct port_backend port_backend_dummy = {
	.name = "dummy",
	.open = dummy_open,
	.close = dummy_close,
	.link_state = dummy_link_state,
};

int
port_dummy_peer(const struct port *p, unsigned q)
{
	const int *peers = p->priv;

	return peers && q < p->nqueues ? peers[q] : -1;
}
