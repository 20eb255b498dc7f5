/*
 * port_tap.c - the TAP port backend: a port is a multiqueue TAP whose
 * queue fds, MTU, namespace and link state come from priv.c (through the
 * privileged helper when there is one: priv.h).
 *
 * Lifetime of the interface.  With persist = yes the TAP is persistent: it
 * outlives the daemon (stop, crash, upgrade) with its namespace,
 * addresses and routes, and the next start attaches to it again.  With
 * persist = no a TAP the daemon creates goes with its last queue fd,
 * and an existing TAP is only detached from.  Removing a port (port del,
 * or a reload that drops it) removes its TAP in both cases, wherever it
 * is by then: clearing TUNSETPERSIST on our own queue fd needs no
 * privilege, and closing the last fd then deletes the interface.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tapswitch/port.h"
#include "tapswitch/priv.h"
#include "tapswitch/tap.h"
#include "tapswitch/util.h"

static int
tap_port_open(struct port *p, bool vnet_hdr, char **errp)
{
	struct priv_port_req req = {
		.ifname = p->conf.ifname,
		.netns = p->conf.netns,
		.nqueues = p->nqueues,
		.mtu = p->conf.mtu,
		.vnet_hdr = vnet_hdr,
		.persist = p->conf.persist,
	};
	struct priv_port_res res;
	char *msg = NULL;
	int err;

	err = priv_open_port(p->pv, &req, p->fds, &res, &msg);
	if (err < 0) {
		*errp = xasprintf("port %s: %s", p->conf.name,
		    msg ? msg : strerror(-err));
		free(msg);
		return err;
	}
	p->ifindex = res.ifindex;
	p->created = res.created;
	port_set_up(p, res.up);
	return 0;
}

static void
tap_port_close(struct port *p)
{
	/* -EBADFD: the interface was deleted under us; nothing to do. */
	if (!p->keep && p->fds[0] >= 0)
		tap_set_persist(p->fds[0], false);
	tap_close(p->fds, p->nqueues);
	port_set_up(p, false);
}

static int
tap_port_link_state(struct port *p, bool *up)
{
	return priv_link_state(p->pv, p->conf.netns, p->conf.ifname, NULL,
	    up);
}

const struct port_backend port_backend_tap = {
	.name = "tap",
	.open = tap_port_open,
	.close = tap_port_close,
	.link_state = tap_port_link_state,
};
