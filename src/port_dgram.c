/*
 * port_dgram.c - the "dgram" port type: a VM's network card on a Unix
 * datagram socket, one frame per datagram, as QEMU's
 * -netdev dgram,local.type=unix,...,remote.type=unix,... has it (and
 * libkrun and gvisor-tap-vsock with their unixgram modes).
 *
 * The daemon binds path = (through the privileged helper, which gives
 * the file owner =, group = and mode =: unixsock.h) and sends every
 * frame to remote = by name (sendmmsg with the address), so no
 * connection is kept: a peer that restarts and binds its path anew is
 * reached again with its first datagram, and one that is away makes the
 * frames sent meanwhile count tx_down (ECONNREFUSED, ENOENT) rather than
 * fail anything.  A peer that is slower than the traffic fills its
 * socket's queue: tx_full.  A stale socket file at path (the previous
 * run was killed) is replaced at open; at close the file is removed if
 * the daemon may.
 *
 * The socket is one channel for all queues (port.h, "Queues and fds"):
 * its owner worker reads it with recvmmsg(2) (PORT_CAP_MMSG), every
 * worker sends to it; each datagram is a whole frame, so nothing needs
 * serialising.  The peer takes no virtio-net header: with offload = yes
 * the port is bare (PORT_IO_BARE) and offloads are finished in software
 * for it.  A datagram that is no Ethernet frame (shorter than 14 bytes,
 * longer than the MTU allows) is dropped and counted by the forwarding
 * code like any other (rx_runt, rx_oversize).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "tapswitch/port.h"
#include "tapswitch/priv.h"
#include "tapswitch/unixsock.h"
#include "tapswitch/util.h"

/* The type's settings.  remote_sa is remote's address, made by its
 * setter: immutable for the port's life, so workers may send to it. */
struct dgram_conf {
	char *path;
	char *remote;
	struct unixsock_perm perm;
	struct sockaddr_un remote_sa;
	uint32_t remote_len;
};

static const struct dgram_conf *
dgram_conf(const struct conf_port *cp)
{
	return cp->settings;
}

static int
dgram_conf_path(void *obj, const char *value, const char **why)
{
	return unixsock_conf_path(&((struct dgram_conf *)obj)->path, value,
	    why);
}

static int
dgram_conf_remote(void *obj, const char *value, const char **why)
{
	struct dgram_conf *c = obj;
	socklen_t len;
	int r = unixsock_conf_path(&c->remote, value, why);

	if (r == 0) {
		unixsock_addr(c->remote, &c->remote_sa, &len);
		c->remote_len = len;
	}
	return r;
}

static int
dgram_conf_owner(void *obj, const char *value, const char **why)
{
	return unixsock_conf_name(&((struct dgram_conf *)obj)->perm.owner,
	    value, why);
}

static int
dgram_conf_group(void *obj, const char *value, const char **why)
{
	return unixsock_conf_name(&((struct dgram_conf *)obj)->perm.group,
	    value, why);
}

static int
dgram_conf_mode(void *obj, const char *value, const char **why)
{
	return unixsock_conf_mode(&((struct dgram_conf *)obj)->perm.mode,
	    value, why);
}

static const struct conf_key dgram_keys[] = {
	CONF_KEY_STR("path", dgram_conf_path, CONF_IN_TYPE, struct dgram_conf,
	    path),
	CONF_KEY_STR("remote", dgram_conf_remote, CONF_IN_TYPE,
	    struct dgram_conf, remote),
	CONF_KEY_STR("owner", dgram_conf_owner, CONF_IN_TYPE,
	    struct dgram_conf, perm.owner),
	CONF_KEY_STR("group", dgram_conf_group, CONF_IN_TYPE,
	    struct dgram_conf, perm.group),
	CONF_KEY("mode", dgram_conf_mode, CONF_IN_TYPE, struct dgram_conf,
	    perm.mode),
};

static void
add_problem(struct conf_problem *pr, size_t *n, const char *key,
    const char *key2, char *msg)
{
	if (*n < CONF_PROBLEMS_MAX)
		pr[(*n)++] = (struct conf_problem){ key, key2, msg };
	else
		free(msg);
}

static void
dgram_conf_check(const struct conf_port *p, struct conf_problem *pr,
    size_t *n)
{
	const struct dgram_conf *c = dgram_conf(p);

	if (!c->path)
		add_problem(pr, n, NULL, NULL, xasprintf("[port %s] needs "
		    "path = FILE: the socket the daemon binds, where the VM "
		    "sends its frames (QEMU: remote.path=)", p->name));
	if (!c->remote)
		add_problem(pr, n, NULL, NULL, xasprintf("[port %s] needs "
		    "remote = FILE: the VM's socket, where the daemon sends "
		    "(QEMU: local.path=)", p->name));
	if (c->path && c->remote && strcmp(c->path, c->remote) == 0)
		add_problem(pr, n, "path", "remote", xasprintf("[port %s] has "
		    "the same path and remote: the daemon would send to "
		    "itself", p->name));
}

static char *
dgram_conflict(const struct conf_port *a, const struct conf_port *b)
{
	const struct dgram_conf *x = dgram_conf(a), *y = dgram_conf(b);

	if (!x->path || !y->path || strcmp(x->path, y->path) != 0)
		return NULL;
	return xasprintf("[port %s] has path %s, like [port %s]: a socket "
	    "file is one port's", b->name, y->path, a->name);
}

/* What the open port keeps: the file it made, to remove it. */
struct dgram_port {
	struct unixsock_file file;
};

static int
dgram_open(struct port *p, bool vnet_hdr, unsigned *mtu, char **errp)
{
	const struct dgram_conf *c = dgram_conf(&p->conf);
	struct priv_unix_req req = { .path = c->path, .type = SOCK_DGRAM };
	struct dgram_port *dp;
	char *msg = NULL;
	int r, fd;

	(void)vnet_hdr;
	(void)mtu;
	if ((r = unixsock_ids(&c->perm, &req.uid, &req.gid, &req.mode,
	    &msg)) < 0 ||
	    (r = priv_bind_unix(p->pv, &req, &fd, &msg)) < 0) {
		*errp = xasprintf("port %s: %s", p->conf.name,
		    msg ? msg : strerror(-r));
		free(msg);
		return r;
	}
	dp = xcalloc(1, sizeof(*dp));
	unixsock_file_at(c->path, &dp->file);
	p->priv = dp;
	p->fds[0] = fd;
	p->tx_name = &c->remote_sa;
	p->tx_namelen = c->remote_len;
	p->vnet = false;
	p->created = true;
	port_set_up(p, true);
	return 0;
}

static void
dgram_close(struct port *p)
{
	struct dgram_port *dp = p->priv;

	if (p->fds[0] >= 0)
		close(p->fds[0]);
	p->fds[0] = -1;
	if (dp)
		unixsock_unlink(dgram_conf(&p->conf)->path, &dp->file);
	free(dp);
	p->priv = NULL;
}

static void
dgram_show(const struct port *p, json_t *o)
{
	const struct dgram_conf *c = dgram_conf(&p->conf);

	json_object_set_new(o, "path", json_string(c->path));
	json_object_set_new(o, "remote", json_string(c->remote));
}

const struct port_type port_type_dgram = {
	.conf = {
		.name = "dgram",
		.summary = "a Unix datagram socket, one frame per datagram "
		    "(QEMU -netdev dgram)",
		.keys = dgram_keys,
		.n_keys = ARRAY_SIZE(dgram_keys),
		.size = sizeof(struct dgram_conf),
		.check = dgram_conf_check,
		.conflict = dgram_conflict,
	},
	.caps = PORT_CAP_MMSG,
	.open = dgram_open,
	.close = dgram_close,
	.show = dgram_show,
};
