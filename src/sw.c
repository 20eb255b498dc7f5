/*
 * sw.c - the switch: builds the MAC table, the port table and the workers
 * from a configuration, adds and removes ports at runtime, ages the MAC
 * table from a main-loop timer and follows link state through netlink
 * monitors (one per network namespace that holds a port).
 *
 * Namespaces.  A port names its namespace (/run/netns/NAME), but what the
 * switch follows is the namespace itself: the monitor of a name records
 * which namespace it was opened in (nl_netns_id), and lives only while a
 * port of a type with an interface (conf.netdev) is configured there --
 * an open monitor keeps its namespace alive in the kernel.  The names are
 * watched through inotify on /run/netns (nl_netns_watch) in the main
 * loop.  When a name goes, or comes to stand for another namespace, the
 * monitor goes and the ports there go down with that reason, their fds
 * closed, still configured; when a namespace of that name is there again,
 * a new monitor opens and the ports open again in it (a tap port creates
 * its TAP there, a system port attaches once its interface exists).
 * "ip netns add" binds the namespace onto its file a moment after making
 * the file, and that makes no event: a name that is a file but not yet a
 * namespace is looked at again on a timer, after 50 ms and then twice as
 * long each time, up to every 5 s, until it is one (or goes).  Without a
 * watch (no inotify instance to be had) the same timer looks at every
 * name, every 5 s at the slowest.
 *
 * Main thread only.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "tapswitch/log.h"
#include "tapswitch/nl.h"
#include "tapswitch/priv.h"
#include "tapswitch/sw.h"
#include "tapswitch/worker.h"

/* Look at namespace names again after this long, doubling up to the
 * most (see "Namespaces" above). */
#define NETNS_RETRY_MIN_MS 50
#define NETNS_RETRY_MAX_MS 5000

struct sw_mon {
	struct sw_mon *next;
	struct sw *sw;
	struct nl_mon *mon;
	struct event *ev;
	char *netns;		/* NULL: the daemon's namespace */
	struct nl_netns_id id;	/* the namespace netns named at open */
};

struct sw {
	struct conf *conf;		/* [switch] settings; ports live in pt */
	struct priv *pv;		/* NULL: privileged work in-process */
	struct event_base *base;
	struct qsbr *qs;
	struct fdb *fdb;
	struct port_table *pt;
	struct dp dp;
	struct worker **workers;
	unsigned n_workers;
	struct event *age_ev;
	int evfd;			/* port events from the workers */
	struct event *ev_ev;
	uint64_t aged;
	struct sw_mon *mons;
	struct nl_netns_watch *nsw;	/* /run/netns; NULL: none (yet) */
	struct event *nsw_ev;
	struct event *retry_ev;		/* look at the names again */
	unsigned retry_ms;		/* the delay after the next one */
	uint32_t started;		/* now_sec() at creation */
	char *uring_why;		/* why io_uring = auto found none */
};

/* " in namespace NS" or "", for messages. */
static const char *
ns_words(const char *netns, char *buf, size_t size)
{
	if (!netns)
		return "";
	snprintf(buf, size, " in namespace %s", netns);
	return buf;
}

/* Let the workers that read p's fds watch them; 0 or -errno with *err. */
static int
sw_port_attach(struct sw *sw, struct port *p, char **err)
{
	for (unsigned q = 0; q < sw->n_workers; q++) {
		int r;

		if (!port_reads(p, q))
			continue;
		if ((r = worker_attach(sw->workers[q], p)) < 0) {
			*err = xasprintf("port %s: cannot watch queue %u: %s",
			    p->conf.name, q, strerror(-r));
			while (q-- > 0)
				if (port_reads(p, q))
					worker_detach(sw->workers[q], p);
			return r;
		}
	}
	p->attached = true;
	return 0;
}

static void
sw_port_detach(struct sw *sw, struct port *p)
{
	if (!p->attached)
		return;
	for (unsigned q = 0; q < sw->n_workers; q++)
		if (port_reads(p, q))
			worker_detach(sw->workers[q], p);
	p->attached = false;
}

/* An interface of p's name appeared, its namespace came back, or p is
 * retried: open p on it.  0; -ENODEV when a type that attaches to an
 * existing interface finds none (p waits for it); or -errno.  p->reason
 * says why p is still closed, logged when it is a new reason. */
static int
sw_port_reopen(struct sw *sw, struct port *p)
{
	char *err = NULL, *old = xstrdup_null(p->reason);
	int r = port_open(p, sw->pv, sw->dp.vnet_hdr, &err);

	if (r == 0 && sw_port_attach(sw, p, &err) < 0) {
		/* Published and up for a moment: a worker may be writing to
		 * the fds, which go after a grace period. */
		port_close_deferred(p, sw->qs, err);
		r = -EIO;
	}
	if (r == 0) {
		log_info("port %s: interface %s is back; port is %s",
		    p->conf.name, p->conf.ifname, port_is_up(p) ? "up" : "down");
	} else {
		/* Say it once per reason, not at every event. */
		if (r != -ENODEV)
			port_set_reason(p, err);
		if (!str_equal_null(old, p->reason))
			log_warn("port %s: %s", p->conf.name, p->reason);
	}
	free(err);
	free(old);
	return r;
}

static void
sw_link_changed(void *arg, const char *netns, int ifindex, const char *ifname,
    bool exists, bool ev_up)
{
	struct sw *sw = arg;
	const struct port_set *set = port_table_set(sw->pt);
	char ns[CONF_NETNS_MAX + 16];

	for (unsigned i = 0; i < set->n; i++) {
		struct port *p = set->ports[i];
		bool was_up = port_is_up(p), up;
		unsigned mtu;
		char *why;
		int r;

		if (!p->conf.type->netdev ||
		    !str_equal_null(p->conf.netns, netns) ||
		    strcmp(p->conf.ifname, ifname) != 0)
			continue;
		if (!p->opened) {
			if (exists) {
				sw_port_reopen(sw, p);
			} else if (p->ifindex == ifindex) {
				/* A worker found its fds dead first (port
				 * events): now the reason is known. */
				why = xasprintf("interface %s left %s%s",
				    ifname, netns ? "namespace " :
				    "the daemon's namespace", netns ? netns : "");
				port_set_reason(p, why);
				free(why);
			}
			continue;
		}
		/* Only news of the port's own interface: one re-created
		 * under the same name (reload, port del and add) has a new
		 * ifindex, and the old one's last events may still be
		 * queued. */
		if (p->ifindex > 0 && p->ifindex != ifindex)
			continue;
		if (!exists) {
			/* Deleted or moved away by someone else: the port
			 * stays configured, down; closed until an interface
			 * of its name comes back, unless its fds still hold
			 * the one that moved (port_type.holds). */
			why = xasprintf("interface %s left %s%s", ifname,
			    netns ? "namespace " : "the daemon's namespace",
			    netns ? netns : "");
			if (p->type->holds && p->type->holds(p)) {
				port_set_up(p, false);
				port_set_reason(p, why);
				p->away = true;
			} else {
				sw_port_detach(sw, p);
				port_close_deferred(p, sw->qs, why);
			}
			log_warn("port %s: %s; port is down", p->conf.name,
			    why);
			free(why);
			continue;
		}
		/* Events queue up while ports are being set up, so an event
		 * may describe a state that is already gone (a new TAP is
		 * "down" before we bring it up): go by the state now. */
		r = p->type->link_state(p, &up, &mtu);
		if (r == -ENODEV)
			continue;
		/* Without an answer (the privileged helper is gone), the
		 * event is the best there is. */
		if (r < 0)
			up = ev_up;
		else if (p->mtu_follows && mtu &&
		    mtu + ETH_HDR_LEN != port_max_frame(p)) {
			log_info("port %s: mtu %u, as %s now has", p->conf.name,
			    mtu, p->conf.ifname);
			port_set_mtu(p, mtu);
		}
		p->ifindex = ifindex;
		p->away = false;	/* back, if it had gone */
		port_set_up(p, up);
		port_set_reason(p, up ? NULL : "link down");
		if (was_up != up)
			log_info("port %s: link %s%s", p->conf.name,
			    up ? "up" : "down", ns_words(netns, ns,
			    sizeof(ns)));
	}
}

static void
sw_mon_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sw_mon *m = arg;

	nl_mon_dispatch(m->mon);
}

static void
push_name(char ***list, size_t *n, const char *name)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(name);
}

static bool
name_in(char **list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static struct sw_mon *
sw_mon_find(const struct sw *sw, const char *netns)
{
	struct sw_mon *m;

	for (m = sw->mons; m; m = m->next)
		if (str_equal_null(m->netns, netns))
			break;
	return m;
}

/* Whether p is a port of netns that the monitor there serves. */
static bool
sw_port_in(const struct port *p, const char *netns)
{
	return p->conf.type->netdev && str_equal_null(p->conf.netns, netns);
}

/* Whether a port needs the monitor of netns. */
static bool
sw_netns_used(const struct sw *sw, const char *netns)
{
	const struct port_set *set = port_table_set(sw->pt);

	for (unsigned i = 0; i < set->n; i++)
		if (sw_port_in(set->ports[i], netns))
			return true;
	return false;
}

/* Whether a port needs the watch of the names: one in a namespace of its
 * own. */
static bool
sw_netns_any(const struct sw *sw)
{
	const struct port_set *set = port_table_set(sw->pt);

	for (unsigned i = 0; i < set->n; i++)
		if (set->ports[i]->conf.type->netdev &&
		    set->ports[i]->conf.netns)
			return true;
	return false;
}

/* What to say when the name netns stands for no namespace (r from
 * nl_netns_id). */
static char *
sw_netns_error(const char *netns, int r)
{
	if (r == -ENOENT)
		return xasprintf("network namespace \"%s\" does not exist (no "
		    "/run/netns/%s): create it with \"ip netns add %s\"",
		    netns, netns, netns);
	if (r == -EAGAIN)
		return xasprintf("/run/netns/%s is not a network namespace "
		    "(not yet?)", netns);
	return xasprintf("cannot look up network namespace /run/netns/%s: "
	    "%s", netns, strerror(-r));
}

static void sw_netns_changed(void *arg, const char *netns);
static bool sw_netns_sync_all(struct sw *sw);

static void
sw_nsw_close(struct sw *sw)
{
	if (!sw->nsw)
		return;
	event_free(sw->nsw_ev);
	nl_netns_watch_close(sw->nsw);
	sw->nsw_ev = NULL;
	sw->nsw = NULL;
}

/* Look at the names again after sw->retry_ms, doubling it for the next
 * time; restart: after the shortest delay, also when a look is planned
 * already. */
static void
sw_retry_arm(struct sw *sw, bool restart)
{
	struct timeval tv;

	if (restart) {
		evtimer_del(sw->retry_ev);
		sw->retry_ms = 0;
	} else if (evtimer_pending(sw->retry_ev, NULL)) {
		return;
	}
	if (!sw->retry_ms)
		sw->retry_ms = NETNS_RETRY_MIN_MS;
	tv.tv_sec = sw->retry_ms / 1000;
	tv.tv_usec = sw->retry_ms % 1000 * 1000;
	evtimer_add(sw->retry_ev, &tv);
	sw->retry_ms = 2 * sw->retry_ms < NETNS_RETRY_MAX_MS ?
	    2 * sw->retry_ms : NETNS_RETRY_MAX_MS;
}

static void
sw_nsw_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sw *sw = arg;

	if (nl_netns_watch_dispatch(sw->nsw))
		return;
	/* /run/netns went away (with every name in it, which the dispatch
	 * has just followed): the timer looks for a new one. */
	log_warn("/run/netns is gone; watching it again when it is back");
	sw_nsw_close(sw);
	sw_retry_arm(sw, false);
}

/* Watch the names in /run/netns, unless that is done already. */
static void
sw_nsw_open(struct sw *sw)
{
	int r;

	if (sw->nsw)
		return;
	r = nl_netns_watch_open(sw_netns_changed, sw, &sw->nsw);
	if (r < 0) {
		/* The timer looks at the names instead (sw_netns_retry). */
		if (r != -ENOENT)
			log_warn("cannot watch /run/netns: %s; namespaces "
			    "deleted or made again are seen within %d s",
			    strerror(-r), NETNS_RETRY_MAX_MS / 1000);
		sw->nsw = NULL;
		sw_retry_arm(sw, false);
		return;
	}
	sw->nsw_ev = event_new(sw->base, nl_netns_watch_fd(sw->nsw),
	    EV_READ | EV_PERSIST, sw_nsw_readable, sw);
	event_add(sw->nsw_ev, NULL);
}

/*
 * Open the monitor of netns (NULL: the daemon's namespace), which has
 * none.  The privileged helper makes its socket inside the namespace,
 * which it finds by name; the name is looked up before and after, and
 * the monitor follows the namespace it named both times.  (For the
 * socket to be elsewhere, the name would have to stand for another
 * namespace and then for the first one again in between.)  0 or -errno
 * with *err.
 */
static int
sw_mon_open(struct sw *sw, const char *netns, char **err)
{
	struct nl_netns_id id = { 0 }, after;
	struct sw_mon *m;
	char *msg = NULL;
	int fd, r, tries = 0;

	/* Watching first: a name that changes from now on makes an event. */
	if (netns)
		sw_nsw_open(sw);
	for (;;) {
		if (netns && (r = nl_netns_id(netns, &id)) < 0) {
			*err = sw_netns_error(netns, r);
			return r;
		}
		/* The socket is made inside netns, which takes privileges;
		 * reading events from it afterwards does not. */
		r = priv_monitor(sw->pv, netns, &fd, &msg);
		if (r < 0) {
			*err = msg;
			return r;
		}
		if (!netns || (nl_netns_id(netns, &after) == 0 &&
		    nl_netns_id_equal(&id, &after)))
			break;
		close(fd);
		if (++tries == 3) {
			*err = xasprintf("network namespace %s is being "
			    "deleted and made again; try again later", netns);
			return -EAGAIN;
		}
	}
	m = xcalloc(1, sizeof(*m));
	r = nl_mon_open(fd, netns, sw_link_changed, sw, &m->mon);
	if (r < 0) {
		*err = xasprintf("cannot monitor links in %s%s: %s",
		    netns ? "namespace " : "the daemon's namespace",
		    netns ? netns : "", strerror(-r));
		free(m);
		return r;
	}
	m->sw = sw;
	m->netns = xstrdup_null(netns);
	m->id = id;
	m->ev = event_new(sw->base, nl_mon_fd(m->mon), EV_READ | EV_PERSIST,
	    sw_mon_readable, m);
	event_add(m->ev, NULL);
	m->next = sw->mons;
	sw->mons = m;
	return 0;
}

/* Close m, and with it (if nothing else holds it) its namespace. */
static void
sw_mon_close(struct sw *sw, struct sw_mon *m)
{
	struct sw_mon **pp;

	for (pp = &sw->mons; *pp != m; pp = &(*pp)->next)
		;
	*pp = m->next;
	event_free(m->ev);
	nl_mon_close(m->mon);
	free(m->netns);
	free(m);
}

/* The namespace that m follows is not the one its name stands for any
 * more (deleted; replaced: another one has the name now).  Its ports go
 * down with that reason, their fds closed, and m goes: nothing of ours
 * keeps the namespace alive. */
static void
sw_netns_gone(struct sw *sw, struct sw_mon *m, bool replaced)
{
	const struct port_set *set = port_table_set(sw->pt);
	char *why = xasprintf("network namespace %s was deleted%s", m->netns,
	    replaced ? " (and made again)" : "");

	for (unsigned i = 0; i < set->n; i++) {
		struct port *p = set->ports[i];

		if (!sw_port_in(p, m->netns))
			continue;
		if (p->away)
			continue;	/* its interface is elsewhere: the fds
					 * stay for port del (port_type.holds) */
		sw_port_detach(sw, p);
		port_close_deferred(p, sw->qs, why);
		log_warn("port %s: %s; port is down%s", p->conf.name, why,
		    replaced ? "" : " until a namespace of that name is made "
		    "again");
	}
	free(why);
	sw_mon_close(sw, m);
}

/* A namespace has the name netns (again): follow it, and open the ports
 * configured there (a tap port makes its TAP, a system port attaches to
 * its interface if it is there).  0, or -errno when it cannot be
 * followed: the ports then stay down with the reason. */
static int
sw_netns_back(struct sw *sw, const char *netns)
{
	const struct port_set *set = port_table_set(sw->pt);
	char *err = NULL;
	int r;

	if ((r = sw_mon_open(sw, netns, &err)) < 0) {
		for (unsigned i = 0; i < set->n; i++) {
			struct port *p = set->ports[i];

			if (!sw_port_in(p, netns) ||
			    str_equal_null(p->reason, err))
				continue;
			port_set_reason(p, err);
			log_warn("port %s: %s", p->conf.name, err);
		}
		free(err);
		return r;
	}
	log_info("network namespace %s is there: opening its ports", netns);
	for (unsigned i = 0; i < set->n; i++) {
		struct port *p = set->ports[i];

		if (!sw_port_in(p, netns))
			continue;
		if (p->away) {
			/* It held an interface that had moved away: the
			 * port is made again in its namespace, and that one
			 * goes with the fds (port_type.release). */
			sw_port_detach(sw, p);
			if (p->type->release)
				p->type->release(p);
			port_close_deferred(p, sw->qs, NULL);
			p->away = false;
		}
		if (!p->opened)
			sw_port_reopen(sw, p);
	}
	return 0;
}

/*
 * Bring the monitor of the name netns in line with the namespace that the
 * name stands for now: nothing changes while it is the same one; the
 * monitor and the ports' fds go when it is gone or another; a new monitor
 * opens, and the ports with it, when one is there.  A monitor that no port
 * needs goes.  Returns whether to look again later (the name is a file
 * that is not a namespace yet, or the namespace could not be followed).
 */
static bool
sw_netns_sync(struct sw *sw, const char *netns)
{
	/* A copy: netns may be the name of the monitor that goes. */
	char *name = xstrdup(netns);
	struct sw_mon *m = sw_mon_find(sw, name);
	struct nl_netns_id id;
	bool again = false;
	int r;

	if (!sw_netns_used(sw, name)) {
		if (m)
			sw_mon_close(sw, m);
		goto out;
	}
	r = nl_netns_id(name, &id);
	if (m && r == 0 && nl_netns_id_equal(&m->id, &id))
		goto out;
	if (m)
		sw_netns_gone(sw, m, r == 0);
	if (r == 0)
		r = sw_netns_back(sw, name);
	/* Absent: its creation makes an event. */
	again = r < 0 && r != -ENOENT;
out:
	free(name);
	return again;
}

/* sw_netns_sync for every name that a monitor follows or a port is
 * configured in.  Returns whether to look again later, as sw_netns_sync
 * does, and also while namespaces are not watched. */
static bool
sw_netns_sync_all(struct sw *sw)
{
	const struct port_set *set;
	struct sw_mon *m;
	char **names = NULL;
	size_t n = 0, i;
	bool again = false;

	/* Names first: a sync may close monitors. */
	for (m = sw->mons; m; m = m->next)
		if (m->netns)
			push_name(&names, &n, m->netns);
	for (i = 0; i < n; i++) {
		again |= sw_netns_sync(sw, names[i]);
		free(names[i]);
	}
	free(names);
	set = port_table_set(sw->pt);
	for (i = 0; i < set->n; i++) {
		const struct port *p = set->ports[i];

		if (p->conf.type->netdev && p->conf.netns &&
		    !sw_mon_find(sw, p->conf.netns))
			again |= sw_netns_sync(sw, p->conf.netns);
	}
	return again || (!sw->nsw && sw_netns_any(sw));
}

/* A name in /run/netns changed (NULL: any may have). */
static void
sw_netns_changed(void *arg, const char *netns)
{
	struct sw *sw = arg;

	if (netns ? sw_netns_sync(sw, netns) : sw_netns_sync_all(sw))
		sw_retry_arm(sw, true);
}

static void
sw_netns_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sw *sw = arg;

	if (!sw->nsw && sw_netns_any(sw))
		sw_nsw_open(sw);
	if (sw_netns_sync_all(sw))
		sw_retry_arm(sw, false);
	else
		sw->retry_ms = 0;
}

/* Make sure link changes in netns are followed, in the namespace that the
 * name stands for now.  No-op without a base. */
static int
sw_mon_ensure(struct sw *sw, const char *netns, char **err)
{
	if (!sw->base)
		return 0;
	if (netns && sw_netns_sync(sw, netns))
		sw_retry_arm(sw, false);
	if (sw_mon_find(sw, netns))
		return 0;
	return sw_mon_open(sw, netns, err);
}

/* A port of netns went (or was never added): close what nothing needs
 * any more, the monitor of netns and, without ports in namespaces, the
 * watch of the names.  The daemon's own namespace is always followed. */
static void
sw_mon_release(struct sw *sw, const char *netns)
{
	struct sw_mon *m;

	if (!sw->base || !netns || sw_netns_used(sw, netns))
		return;
	if ((m = sw_mon_find(sw, netns)) != NULL)
		sw_mon_close(sw, m);
	if (!sw_netns_any(sw)) {
		sw_nsw_close(sw);
		evtimer_del(sw->retry_ev);
		sw->retry_ms = 0;
	}
}

/* Act on p's err-disabled state if it changed since we last looked (the
 * worker's event, or the timer when the event was lost): log it once,
 * forget the addresses learned on the port (they were looping, or are
 * cut off now), and for a loop set the time to try again. */
static void
sw_errdis_check(struct sw *sw, struct port *p)
{
	unsigned why = port_err_disabled(p);

	if (why && fdb_port_count(sw->fdb, p->id))
		fdb_flush(sw->fdb, p->id, false);
	if (why == p->errdis_seen)
		return;
	p->errdis_seen = (uint8_t)why;
	p->errdis_until = 0;
	if (why == PORT_ERRDIS_LOOP) {
		p->errdis_until = now_sec() + sw->conf->sw.loop_holddown;
		log_warn("port %s: err-disabled (loop): an address kept moving "
		    "between it and another port; it is tried again in %u s "
		    "(loop_holddown)", p->conf.name,
		    sw->conf->sw.loop_holddown);
	} else if (why == PORT_ERRDIS_BPDU) {
		log_warn("port %s: err-disabled (bpdu): a spanning-tree BPDU "
		    "came in and bpdu_guard = yes; remove its source, then "
		    "\"tapswitchctl port enable %s\"", p->conf.name,
		    p->conf.name);
	}
}

/* Take p out of err-disabled state.  Main thread. */
static void
sw_errdis_clear(struct port *p)
{
	port_err_clear(p);
	p->errdis_seen = PORT_ERRDIS_NONE;
	p->errdis_until = 0;
}

int
sw_port_enable(struct sw *sw, const char *name, bool *was)
{
	struct port *p = port_table_find(sw->pt, name);
	unsigned why;

	if (!p)
		return -ENOENT;
	why = port_err_disabled(p);
	*was = why != PORT_ERRDIS_NONE;
	sw_errdis_clear(p);
	if (*was)
		log_info("port %s: enabled again (was err-disabled (%s))",
		    p->conf.name, port_errdis_name(why));
	return 0;
}

/* Every second: err-disabled ports (what the events missed), and loop
 * hold-downs that are over. */
static void
sw_errdis_tick(struct sw *sw)
{
	const struct port_set *set = port_table_set(sw->pt);
	uint32_t now = now_sec();

	for (unsigned i = 0; i < set->n; i++) {
		struct port *p = set->ports[i];

		if (!port_err_disabled(p))
			continue;
		sw_errdis_check(sw, p);
		if (p->errdis_until && (int32_t)(now - p->errdis_until) >= 0) {
			sw_errdis_clear(p);
			log_info("port %s: loop hold-down over; forwarding "
			    "again", p->conf.name);
		}
	}
}

/* One event posted by a worker (worker.h). */
static void
sw_event(struct sw *sw, const struct port_ev *ev)
{
	struct port *p = port_table_get(sw->pt, ev->id);
	char *why;

	if (!p || p->gen != ev->gen)
		return;		/* gone, or another port */
	switch (ev->kind) {
	case PORT_EV_ERR_DISABLED:
		sw_errdis_check(sw, p);
		break;
	case PORT_EV_FD_FAILED:
		if (!p->opened)
			break;	/* closed already */
		why = xasprintf("queue %u failed: %s", ev->q, ev->err ?
		    strerror(ev->err) : "end of file");
		sw_port_detach(sw, p);
		port_close_deferred(p, sw->qs, why);
		log_warn("port %s: %s; port is closed until %s", p->conf.name,
		    why, p->conf.type->netdev ? "its interface comes back or "
		    "a reload" : "a reload");
		free(why);
		break;
	}
}

void
sw_events(struct sw *sw)
{
	struct port_ev ev;
	uint64_t n;

	if (read(sw->evfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_rl(LOG_LVL_WARN, "port events: %s", strerror(errno));
	for (unsigned q = 0; q < sw->n_workers; q++)
		while (worker_event_take(sw->workers[q], &ev))
			sw_event(sw, &ev);
}

static void
sw_events_ready(evutil_socket_t fd, short what, void *arg)
{
	sw_events(arg);
}

static void
sw_age_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sw *sw = arg;

	sw_age(sw);
	sw_errdis_tick(sw);
	/* What port changes left for after a grace period. */
	qsbr_reclaim(sw->qs);
}

void
sw_age(struct sw *sw)
{
	size_t n = fdb_age(sw->fdb, now_sec(), sw->conf->sw.fdb_aging);

	if (n)
		log_debug("aged %zu MAC address%s", n, n == 1 ? "" : "es");
	sw->aged += n;
}

/* The port that uses cp's interface already, or NULL. */
static const struct port *
sw_link_user(const struct sw *sw, const struct conf_port *cp)
{
	const struct port_set *set = port_table_set(sw->pt);

	for (unsigned i = 0; i < set->n; i++)
		if (conf_port_same_link(&set->ports[i]->conf, cp))
			return set->ports[i];
	return NULL;
}

int
sw_port_add(struct sw *sw, const struct conf_port *cp, char **err)
{
	const struct port *user;
	struct port *p;
	char ns[CONF_NETNS_MAX + 16];
	int r;

	qsbr_reclaim(sw->qs);
	if (port_table_find(sw->pt, cp->name)) {
		*err = xasprintf("port %s already exists", cp->name);
		return -EEXIST;
	}
	if ((user = sw_link_user(sw, cp)) != NULL) {
		*err = xasprintf("port %s: interface %s%s is already used by "
		    "port %s", cp->name, cp->ifname,
		    ns_words(cp->netns, ns, sizeof(ns)), user->conf.name);
		return -EEXIST;
	}
	if (cp->type->netdev && (r = sw_mon_ensure(sw, cp->netns, err)) < 0) {
		sw_mon_release(sw, cp->netns);
		return r;
	}
	p = port_new(cp, sw->n_workers);
	r = port_open(p, sw->pv, sw->dp.vnet_hdr, err);
	if (r == -ENODEV && cp->type->netdev) {
		/* Waits for its interface (port.h). */
		free(*err);
		*err = NULL;
	} else if (r < 0) {
		port_free(p);
		sw_mon_release(sw, cp->netns);
		return r;
	}
	r = port_table_insert(sw->pt, p);
	if (r < 0) {
		*err = xasprintf("port %s: too many ports (at most %d)",
		    cp->name, PORT_MAX);
		port_free(p);
		sw_mon_release(sw, cp->netns);
		return r;
	}
	if (p->opened && (r = sw_port_attach(sw, p, err)) < 0) {
		port_table_remove(sw->pt, p);
		fdb_flush(sw->fdb, p->id, true);
		port_free(p);
		sw_mon_release(sw, cp->netns);
		return r;
	}
	if (!p->opened)
		log_warn("port %s (%s): %s; it comes up when the interface "
		    "appears", p->conf.name, p->type->conf.name, p->reason);
	else
		log_info("port %s: %s%s%s, %u queue%s, mtu %zu%s%s",
		    p->conf.name, p->conf.ifname ? p->conf.ifname : "",
		    p->conf.ifname ? ", " : "", p->type->conf.name,
		    p->nqueues, p->nqueues == 1 ? "" : "s",
		    port_max_frame(p) - ETH_HDR_LEN,
		    ns_words(p->conf.netns, ns, sizeof(ns)),
		    p->created || !p->type->keep ? "" :
		    ", existing interface attached");
	return 0;
}

/* Unpublish p, wait until no worker can touch it or its MAC entries, and
 * free it: its interface is removed, or with keep a persistent one stays
 * (port.h).  The monitor of its namespace goes with the last port there. */
static void
sw_port_remove(struct sw *sw, struct port *p, bool keep)
{
	char *netns = xstrdup_null(p->conf.netns);

	p->keep = keep;
	sw_port_detach(sw, p);
	port_table_remove(sw->pt, p);
	/* No worker reads p any more, so nothing can learn its id again;
	 * the flush waits for readers of its entries before the id can be
	 * reused. */
	fdb_flush(sw->fdb, p->id, true);
	port_free(p);
	sw_mon_release(sw, netns);
	free(netns);
}

/* Remove the port called name; keep: see sw_port_remove. */
static int
sw_port_del_keep(struct sw *sw, const char *name, bool keep)
{
	struct port *p = port_table_find(sw->pt, name);

	if (!p)
		return -ENOENT;
	/* name may be the port's own, which goes with it. */
	log_info("port %s: removing%s", p->conf.name,
	    keep ? " (its persistent interface stays)" : "");
	sw_port_remove(sw, p, keep);
	return 0;
}

int
sw_port_del(struct sw *sw, const char *name)
{
	return sw_port_del_keep(sw, name, false);
}

struct port *
sw_port_find(const struct sw *sw, const char *name)
{
	return port_table_find(sw->pt, name);
}

void
sw_reload_result_free(struct sw_reload_result *res)
{
	for (size_t i = 0; i < res->n_added; i++)
		free(res->added[i]);
	for (size_t i = 0; i < res->n_removed; i++)
		free(res->removed[i]);
	for (size_t i = 0; i < res->n_changed; i++)
		free(res->changed[i]);
	for (size_t i = 0; i < res->n_reopened; i++)
		free(res->reopened[i]);
	free(res->added);
	free(res->removed);
	free(res->changed);
	free(res->reopened);
	memset(res, 0, sizeof(*res));
}

/* Add "port NAME: what" as a line to *list; what may say "port NAME:"
 * already. */
static void
push_failure(char **list, const char *name, const char *what)
{
	size_t len = strlen(name);
	char *line, *all;

	if (strncmp(what, "port ", 5) == 0 &&
	    strncmp(what + 5, name, len) == 0 && what[5 + len] == ':')
		line = xstrdup(what);
	else
		line = xasprintf("port %s: %s", name, what);
	if (!*list) {
		*list = line;
		return;
	}
	all = xasprintf("%s\n%s", *list, line);
	free(*list);
	free(line);
	*list = all;
}

/*
 * Open p again, a port of the reloaded file that is closed; 0, -ENODEV
 * when it waits for its interface, or -errno with *err.  A port whose
 * namespace is not followed (deleted and not made again, or it cannot be
 * followed) is not tried: sw_netns_sync_all has looked at the name.
 */
static int
sw_reload_reopen(struct sw *sw, struct port *p, char **err)
{
	struct nl_netns_id id;
	int r;

	if (sw->base && p->conf.type->netdev && p->conf.netns &&
	    !sw_mon_find(sw, p->conf.netns)) {
		if ((r = nl_netns_id(p->conf.netns, &id)) < 0) {
			*err = sw_netns_error(p->conf.netns, r);
			return r;
		}
		/* There, but its monitor could not be opened: the port's
		 * reason says why. */
		*err = xstrdup(p->reason ? p->reason : "cannot follow "
		    "its network namespace");
		return -EIO;
	}
	if ((r = sw_port_reopen(sw, p)) < 0 && r != -ENODEV)
		*err = xstrdup(p->reason ? p->reason : strerror(-r));
	return r;
}

int
sw_reload(struct sw *sw, const struct conf *conf, struct sw_reload_result *res,
    char **err)
{
	const struct conf_switch *o = &sw->conf->sw, *n = &conf->sw;
	char *fixed = NULL, *failed = NULL, *tmp;
	char **closed = NULL;
	size_t i, n_closed = 0;

	memset(res, 0, sizeof(*res));
#define FIXED(cond, fmt, ...) do { \
	if (cond) { \
		tmp = xasprintf("%s%s" fmt, fixed ? fixed : "", \
		    fixed ? "; " : "", __VA_ARGS__); \
		free(fixed); \
		fixed = tmp; \
	} \
} while (0)
	FIXED(o->queues != n->queues, "queues changed from %u to %u",
	    o->queues, n->queues);
	FIXED(o->offload != n->offload, "offload changed from %s to %s",
	    o->offload ? "yes" : "no", n->offload ? "yes" : "no");
	FIXED(o->io_uring != n->io_uring, "io_uring changed from %s to %s",
	    conf_io_uring_name(o->io_uring), conf_io_uring_name(n->io_uring));
	FIXED(o->fdb_size != n->fdb_size, "fdb_size changed from %u to %u",
	    o->fdb_size, n->fdb_size);
	FIXED(!str_equal_null(o->control_socket, n->control_socket),
	    "control_socket changed to %s", n->control_socket ?
	    n->control_socket : "the default");
	FIXED(!str_equal_null(o->control_group, n->control_group),
	    "control_group changed to %s", n->control_group ?
	    n->control_group : "the default");
	FIXED(!str_equal_null(o->user, n->user), "user changed to %s",
	    n->user ? n->user : "root");
#undef FIXED
	if (fixed) {
		*err = xasprintf("%s: %s; these take effect only when "
		    "tapswitchd restarts (nothing was changed)",
		    conf->path ? conf->path : "configuration", fixed);
		free(fixed);
		return -EINVAL;
	}

	__atomic_store_n(&sw->dp.busy_poll_us, n->busy_poll,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&sw->dp.loop_protect, n->loop_protect,
	    __ATOMIC_RELAXED);

	/* Ports the old file had and the new one does not. */
	for (i = 0; i < sw->conf->n_ports; i++) {
		const char *name = sw->conf->ports[i].name;

		if (!conf_find_port(conf, name) &&
		    sw_port_del(sw, name) == 0)
			push_name(&res->removed, &res->n_removed, name);
	}
	/* Changed ports go first, so that a port taking over another's
	 * interface name finds it free. */
	for (i = 0; i < conf->n_ports; i++) {
		const struct conf_port *cp = &conf->ports[i];
		struct port *p = port_table_find(sw->pt, cp->name);

		if (p && !conf_port_equal(&p->conf, cp) &&
		    conf_port_equal_but_policy(&p->conf, cp)) {
			/* Only the policy changed: the port stays, with
			 * its interface, its addresses and its state. */
			port_set_policy(p, cp, sw->qs);
			push_name(&res->changed, &res->n_changed, cp->name);
			log_info("port %s: policy changed", cp->name);
		} else if (p && !conf_port_equal(&p->conf, cp)) {
			/* Perhaps the same interface before and after,
			 * attached to again rather than re-created, so the
			 * namespace keeps its addresses (the type says). */
			bool keep = p->type == port_type_of(cp) &&
			    p->type->keep && p->type->keep(&p->conf, cp);

			sw_port_del_keep(sw, cp->name, keep);
			push_name(&res->changed, &res->n_changed, cp->name);
		} else if (p) {
			res->n_unchanged++;
			if (!p->opened)
				push_name(&closed, &n_closed, cp->name);
		}
	}
	for (i = 0; i < conf->n_ports; i++) {
		const struct conf_port *cp = &conf->ports[i];
		char *e = NULL;

		if (port_table_find(sw->pt, cp->name))
			continue;
		if (sw_port_add(sw, cp, &e) < 0) {
			push_failure(&failed, cp->name, e);
			free(e);
			continue;
		}
		if (!name_in(res->changed, res->n_changed, cp->name))
			push_name(&res->added, &res->n_added, cp->name);
	}
	/* Unchanged ports that are closed open again: the namespaces first,
	 * where one is back its ports open with it; then the others. */
	if (sw->base && sw_netns_sync_all(sw))
		sw_retry_arm(sw, false);
	for (i = 0; i < n_closed; i++) {
		struct port *p = port_table_find(sw->pt, closed[i]);
		char *e = NULL;

		if (p && !p->opened && sw_reload_reopen(sw, p, &e) < 0 && e) {
			push_failure(&failed, p->conf.name, e);
			free(e);
		}
		if (p && p->opened)
			push_name(&res->reopened, &res->n_reopened, closed[i]);
		free(closed[i]);
	}
	free(closed);
	conf_free(sw->conf);
	sw->conf = conf_dup(conf);
	if (failed) {
		*err = failed;
		return -EIO;
	}
	return 0;
}

static void sw_free(struct sw *sw, bool drop_created);

/*
 * Whether the workers use io_uring: with io_uring = yes or auto, if the
 * kernel lets the daemon use it (worker_uring_probe).  When it does not,
 * auto says so once and goes on with read/write (the reason stays for
 * status), yes fails.  1: io_uring, 0: read/write, -errno with *err.
 */
static int
sw_uring_choose(struct sw *sw, enum conf_io_uring mode, char **err)
{
	char *why = NULL;
	int r;

	if (mode == CONF_IO_URING_NO)
		return 0;
	r = worker_uring_probe(&why);
	if (r == 0)
		return 1;
	if (mode == CONF_IO_URING_YES) {
		*err = xasprintf("io_uring = yes, but io_uring is not available "
		    "to the daemon: %s; io_uring = auto would use read/write "
		    "instead", why);
		free(why);
		return r;
	}
	log_info("io_uring is not available (%s): the workers use read(2) "
	    "and write(2)", why);
	sw->uring_why = why;
	return 0;
}

int
sw_create(const struct conf *conf, struct event_base *base, struct sw **out,
    char **err)
{
	return sw_create_with(conf, NULL, base, out, err);
}

int
sw_create_with(const struct conf *conf, struct priv *pv,
    struct event_base *base, struct sw **out, char **err)
{
	struct sw *sw = xcalloc(1, sizeof(*sw));
	int r;

	sw->conf = conf_dup(conf);
	sw->started = now_sec();
	sw->pv = pv;
	sw->base = base;
	if (base)
		sw->retry_ev = evtimer_new(base, sw_netns_retry, sw);
	qsbr_create(&sw->qs);
	sw->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sw->evfd < 0) {
		r = -errno;
		*err = xasprintf("cannot make an eventfd: %s", strerror(-r));
		goto fail;
	}
	r = fdb_create(conf->sw.fdb_size, sw->qs, &sw->fdb);
	if (r < 0) {
		*err = xasprintf("cannot create a MAC table of %u entries: %s",
		    conf->sw.fdb_size, strerror(-r));
		goto fail;
	}
	port_table_create(sw->qs, &sw->pt);
	r = sw_uring_choose(sw, conf->sw.io_uring, err);
	if (r < 0)
		goto fail;
	sw->dp = (struct dp){
		.fdb = sw->fdb,
		.ports = sw->pt,
		.qs = sw->qs,
		.vnet_hdr = conf->sw.offload,
		.io_uring = r > 0,
		.busy_poll_us = conf->sw.busy_poll,
		.loop_protect = conf->sw.loop_protect,
		.evfd = sw->evfd,
	};
	sw->workers = xcalloc(conf->sw.queues, sizeof(*sw->workers));
	for (unsigned q = 0; q < conf->sw.queues; q++) {
		r = worker_create(&sw->dp, q, &sw->workers[q]);
		if (r < 0) {
			*err = xasprintf("cannot start worker %u: %s%s", q,
			    strerror(-r), sw->dp.io_uring ? " (io_uring; "
			    "io_uring = no does without)" : "");
			goto fail;
		}
		sw->n_workers++;
	}
	r = sw_mon_ensure(sw, NULL, err);
	if (r < 0)
		goto fail;
	/* The ports of the configuration go in before the workers run: with
	 * no reader yet, publishing a port waits for no grace period, which
	 * would otherwise last as long as a worker's batch, port after port
	 * (while the first ports' traffic, flooded to the others, makes
	 * those batches long).  What arrives meanwhile waits in the TAPs. */
	for (size_t i = 0; i < conf->n_ports; i++) {
		r = sw_port_add(sw, &conf->ports[i], err);
		if (r < 0)
			goto fail;
	}
	for (unsigned q = 0; q < sw->n_workers; q++) {
		r = worker_start(sw->workers[q]);
		if (r < 0) {
			*err = xasprintf("cannot start worker %u: %s", q,
			    strerror(-r));
			goto fail;
		}
	}
	if (base) {
		struct timeval tv = { .tv_sec = 1 };

		sw->age_ev = event_new(base, -1, EV_PERSIST, sw_age_timer, sw);
		event_add(sw->age_ev, &tv);
		sw->ev_ev = event_new(base, sw->evfd, EV_READ | EV_PERSIST,
		    sw_events_ready, sw);
		event_add(sw->ev_ev, NULL);
	}
	*out = sw;
	return 0;
fail:
	/* A start that fails leaves things as they were: interfaces it
	 * created go, persistent ones it found stay. */
	sw_free(sw, true);
	return r;
}

/*
 * Closing the last queue of a TAP unregisters the interface, and the
 * kernel then waits for the device's references and an RCU grace period:
 * about 20 ms per port, which one thread pays port after port (a thousand
 * ports took 20 s to stop).  The wait happens after the RTNL lock is
 * released, so closers running in parallel overlap their waits.
 */
#define CLOSE_THREADS 32

struct closer {
	struct port **ports;
	unsigned n;
	unsigned next;		/* atomic: the next port to free */
};

static void *
closer_main(void *arg)
{
	struct closer *c = arg;
	unsigned i;

	while ((i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED)) < c->n)
		port_free(c->ports[i]);
	return NULL;
}

/* Free every port of the stopped switch, closing them in parallel. */
static void
sw_free_ports(struct sw *sw, bool drop_created)
{
	const struct port_set *set = port_table_set(sw->pt);
	struct closer c = { .n = set->n };
	pthread_t threads[CLOSE_THREADS];
	unsigned i, started = 0;

	c.ports = xcalloc(set->n, sizeof(*c.ports));
	memcpy(c.ports, set->ports, set->n * sizeof(*c.ports));
	for (i = 0; i < c.n; i++) {
		struct port *p = c.ports[i];

		/* With the workers stopped nobody reads the table, the MAC
		 * table goes as a whole, and this costs no waiting. */
		p->keep = !(drop_created && p->created);
		port_table_remove(sw->pt, p);
	}
	for (i = 0; i < CLOSE_THREADS && i < c.n / 4; i++) {
		if (pthread_create(&threads[i], NULL, closer_main, &c) != 0)
			break;
		started++;
	}
	closer_main(&c);	/* and this thread too, if none started */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(c.ports);
}

static void
sw_free(struct sw *sw, bool drop_created)
{
	if (!sw)
		return;
	/* Workers first: with no reader left, removals need no waiting. */
	for (unsigned q = 0; q < sw->n_workers; q++)
		worker_stop(sw->workers[q]);
	if (sw->pt)
		sw_free_ports(sw, drop_created);
	for (unsigned q = 0; q < sw->n_workers; q++)
		worker_destroy(sw->workers[q]);
	free(sw->workers);
	while (sw->mons)
		sw_mon_close(sw, sw->mons);
	sw_nsw_close(sw);
	if (sw->retry_ev)
		event_free(sw->retry_ev);
	if (sw->age_ev)
		event_free(sw->age_ev);
	if (sw->ev_ev)
		event_free(sw->ev_ev);
	if (sw->evfd >= 0)
		close(sw->evfd);
	port_table_destroy(sw->pt);
	fdb_destroy(sw->fdb);
	qsbr_destroy(sw->qs);
	conf_free(sw->conf);
	free(sw->uring_why);
	free(sw);
}

void
sw_destroy(struct sw *sw)
{
	sw_free(sw, false);
}

void
sw_counters(const struct sw *sw, struct sw_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned q = 0; q < sw->n_workers; q++) {
		const struct sw_counters *c = worker_counters(sw->workers[q]);

#define X(name, help) out->name += ctr_read(&c->name);
		SW_COUNTERS(X)
#undef X
	}
	out->aged += sw->aged;
}

bool
sw_io_uring(const struct sw *sw, const char **why)
{
	*why = sw->uring_why;
	if (!sw->dp.io_uring)
		return false;
	for (unsigned q = 0; q < sw->n_workers; q++)
		if (worker_uring_off(sw->workers[q])) {
			*why = "the kernel cannot do non-blocking io_uring reads "
			    "and writes on a TAP";
			return false;
		}
	return true;
}

uint32_t
sw_uptime(const struct sw *sw)
{
	return now_sec() - sw->started;
}

const struct conf *
sw_conf(const struct sw *sw)
{
	return sw->conf;
}

struct fdb *
sw_fdb(const struct sw *sw)
{
	return sw->fdb;
}

const struct port_set *
sw_ports(const struct sw *sw)
{
	return port_table_set(sw->pt);
}

const struct dp *
sw_dp(const struct sw *sw)
{
	return &sw->dp;
}
