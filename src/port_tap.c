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

#include <jansson.h>

#include "tapswitch/port.h"
#include "tapswitch/priv.h"
#include "tapswitch/tap.h"
#include "tapswitch/util.h"

/* What tap ports have besides the common keys and the interface. */
struct tap_conf {
	bool persist;		/* persistent TAP, kept across restarts */
};

#define TAP_MTU_MAX 65521	/* the kernel's limit for a TAP */

static int
tap_conf_persist(void *obj, const char *value, const char **why)
{
	struct tap_conf *t = obj;

	if (conf_parse_bool(value, &t->persist) < 0) {
		*why = "expected yes or no (or true/false, on/off, 1/0)";
		return -EINVAL;
	}
	return 0;
}

static const struct conf_key tap_keys[] = {
	CONF_KEY_IFNAME,
	CONF_KEY_NETNS,
	CONF_KEY("persist", tap_conf_persist, CONF_IN_TYPE, struct tap_conf,
	    persist),
};

static void
tap_conf_init(struct conf_port *p)
{
	struct tap_conf *t = p->settings;

	p->ifname = xstrdup(p->name);
	t->persist = true;
}

static void
tap_conf_check(const struct conf_port *p, struct conf_problem *pr,
    size_t *n)
{
	if (p->mtu > TAP_MTU_MAX && *n < CONF_PROBLEMS_MAX)
		pr[(*n)++] = (struct conf_problem){ "mtu", NULL, xasprintf(
		    "[port %s] has mtu %u, but a TAP allows at most %u",
		    p->name, p->mtu, TAP_MTU_MAX) };
}

static bool
tap_persist(const struct conf_port *cp)
{
	return ((const struct tap_conf *)cp->settings)->persist;
}

static int
tap_port_open(struct port *p, bool vnet_hdr, unsigned *mtu, char **errp)
{
	struct priv_port_req req = {
		.ifname = p->conf.ifname,
		.netns = p->conf.netns,
		.nqueues = p->nqueues,
		.mtu = p->conf.mtu,
		.vnet_hdr = vnet_hdr,
		.persist = tap_persist(&p->conf),
	};
	struct priv_port_res res;
	char *msg = NULL;
	int err;

	(void)mtu;		/* a TAP takes the MTU of its port */
	err = priv_open_port(p->pv, &req, p->fds, &res, &msg);
	if (err < 0) {
		*errp = xasprintf("port %s: %s", p->conf.name,
		    msg ? msg : strerror(-err));
		free(msg);
		/* The TAP is created, not waited for: -ENODEV here means
		 * something else (no tun module). */
		return err == -ENODEV ? -ENXIO : err;
	}
	p->ifindex = res.ifindex;
	p->vnet = vnet_hdr;
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
}

static int
tap_port_link_state(struct port *p, bool *up, unsigned *mtu)
{
	struct priv_link l;
	int r = priv_link_state(p->pv, p->conf.netns, p->conf.ifname, &l);

	*up = l.up;
	*mtu = l.mtu;
	return r;
}

/* Moved to another namespace rather than deleted: the queue fds still
 * work, and clearing persistence through them is how port del removes
 * the TAP, wherever it is. */
static bool
tap_port_holds(struct port *p)
{
	return p->fds[0] >= 0 && tap_attached(p->fds[0]);
}

static void
tap_port_release(struct port *p)
{
	if (p->fds[0] >= 0)
		tap_set_persist(p->fds[0], false);
}

/* A reload that changes a port keeps a persistent TAP that stays the
 * same interface: the namespace keeps its addresses. */
static bool
tap_port_keep(const struct conf_port *a, const struct conf_port *b)
{
	return tap_persist(a) && tap_persist(b) && conf_port_same_link(a, b);
}

static void
tap_port_show(const struct port *p, json_t *o)
{
	json_object_set_new(o, "persist", json_boolean(tap_persist(&p->conf)));
}

const struct port_type port_type_tap = {
	.conf = {
		.name = "tap",
		.summary = "a TAP interface that tapswitchd creates or "
		    "attaches to again",
		.keys = tap_keys,
		.n_keys = ARRAY_SIZE(tap_keys),
		.size = sizeof(struct tap_conf),
		.init = tap_conf_init,
		.check = tap_conf_check,
		.netdev = true,
	},
	.caps = PORT_CAP_MULTIQUEUE,
	.open = tap_port_open,
	.close = tap_port_close,
	.link_state = tap_port_link_state,
	.keep = tap_port_keep,
	.holds = tap_port_holds,
	.release = tap_port_release,
	.show = tap_port_show,
};
