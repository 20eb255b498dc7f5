/*
 * port.c - port objects, the table of port types and the port table (see
 * port.h for the lifecycle).
 *
 * Talks to: the port types (port_<type>.c) to open and close fds, and to
 * qsbr for grace periods before anything unpublished is freed.  Main
 * thread only, except the lock-free readers in port.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tapswitch/frame.h"
#include "tapswitch/policy.h"
#include "tapswitch/port.h"

/* The port types; the first is the default.  A new type is a new
 * port_<type>.c and a line here. */
const struct port_type *const port_types[] = {
	&port_type_tap,
	&port_type_system,
	&port_type_vxlan,
	&port_type_dgram,
	NULL,
};

/* Types only tests know (the dummies), and the default they set. */
#define TEST_TYPES_MAX 8
static const struct port_type *test_types[TEST_TYPES_MAX];
static const struct port_type *default_type = &port_type_tap;

const struct conf_type *
conf_type_default(void)
{
	return &default_type->conf;
}

void
port_type_register_test(const struct port_type *t, bool as_default)
{
	size_t i;

	for (i = 0; i < TEST_TYPES_MAX && test_types[i] != t; i++)
		if (!test_types[i]) {
			test_types[i] = t;
			break;
		}
	if (i == TEST_TYPES_MAX)
		abort();
	if (as_default)
		default_type = t;
}

const struct conf_type *
conf_type_find_nth(size_t i)
{
	size_t n = ARRAY_SIZE(port_types) - 1;

	if (i < n)
		return &port_types[i]->conf;
	i -= n;
	return i < TEST_TYPES_MAX && test_types[i] ? &test_types[i]->conf :
	    NULL;
}

const struct conf_type *
conf_type_find(const char *name)
{
	const struct conf_type *t;

	for (size_t i = 0; (t = conf_type_find_nth(i)) != NULL; i++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

const char *
conf_type_names(void)
{
	static char names[128];

	if (!names[0])
		for (size_t i = 0; port_types[i]; i++)
			snprintf(names + strlen(names),
			    sizeof(names) - strlen(names), "%s%s",
			    i ? ", " : "", port_types[i]->conf.name);
	return names;
}

struct port *
port_new(const struct conf_port *cp, unsigned nqueues)
{
	struct port *p = xcalloc(1, sizeof(*p));

	static uint32_t gens;		/* main thread only */

	conf_port_copy(&p->conf, cp);
	p->type = port_type_of(cp);
	p->gen = ++gens;
	p->id = UINT32_MAX;
	p->nqueues = nqueues;
	p->fds = xmalloc(nqueues * sizeof(*p->fds));
	p->qfds = xmalloc(nqueues * sizeof(*p->qfds));
	p->epfds = xmalloc(nqueues * sizeof(*p->epfds));
	for (unsigned q = 0; q < nqueues; q++)
		p->fds[q] = p->qfds[q] = p->epfds[q] = -1;
	/* A tagged frame may carry 4 bytes more than the MTU allows for an
	 * untagged one; the data path adds them when it sees a tag. */
	p->max_frame = cp->mtu + ETH_HDR_LEN;
	p->queues = xaligned_alloc(CACHE_LINE, nqueues * sizeof(*p->queues));
	p->policy = policy_new(cp);
	p->pflags = p->policy ? PORT_F_POLICY : 0;
	return p;
}

const char *
port_errdis_name(unsigned why)
{
	switch (why) {
	case PORT_ERRDIS_BPDU:
		return "bpdu";
	case PORT_ERRDIS_LOOP:
		return "loop";
	}
	return NULL;
}

void
port_set_policy(struct port *p, const struct conf_port *cp, struct qsbr *qs)
{
	struct policy *old = p->policy, *pol = policy_new(cp);

	/* Workers never read p->conf.pol (only the policy), and the other
	 * policy key bits of given are the main thread's. */
	p->conf.pol = cp->pol;
	p->conf.given = (p->conf.given & ~conf_policy_keys) |
	    (cp->given & conf_policy_keys);
	if (pol) {
		__atomic_store_n(&p->policy, pol, __ATOMIC_RELEASE);
		__atomic_fetch_or(&p->pflags, (uint8_t)PORT_F_POLICY,
		    __ATOMIC_RELEASE);
	} else {
		__atomic_fetch_and(&p->pflags, (uint8_t)~PORT_F_POLICY,
		    __ATOMIC_RELEASE);
		__atomic_store_n(&p->policy, NULL, __ATOMIC_RELEASE);
	}
	if (!old)
		return;
	if (qs)
		qsbr_defer(qs, free, old);
	else
		free(old);
}

void
port_set_mtu(struct port *p, unsigned mtu)
{
	__atomic_store_n(&p->max_frame, (size_t)mtu + ETH_HDR_LEN,
	    __ATOMIC_RELAXED);
}

void
port_set_reason(struct port *p, const char *reason)
{
	free(p->reason);
	p->reason = xstrdup_null(reason);
}

/* Give the workers p's fds (open) or -1 (closing): see "Queues and fds"
 * in port.h. */
static void
port_publish_fds(struct port *p, bool open)
{
	for (unsigned q = 0; q < p->nqueues; q++)
		__atomic_store_n(&p->qfds[q], open ? p->fds[q] : -1,
		    __ATOMIC_RELAXED);
}

int
port_open(struct port *p, struct priv *pv, bool vnet_hdr, char **err)
{
	unsigned mtu = 0, io;
	int r;

	p->pv = pv;
	r = p->type->open(p, vnet_hdr, &mtu, err);
	if (r < 0) {
		port_set_up(p, false);
		if (r == -ENODEV)
			port_set_reason(p, *err);
		return r;
	}
	if (!(p->type->caps & PORT_CAP_MULTIQUEUE))
		for (unsigned q = 1; q < p->nqueues; q++)
			p->fds[q] = p->fds[0];
	/* Written before the fds are published, and the same value every
	 * time the port opens (vnet_hdr is the switch's, p->vnet the
	 * type's choice for it): workers may read it at any time. */
	io = (p->type->caps & (PORT_CAP_MMSG | PORT_CAP_IO)) |
	    (vnet_hdr && !p->vnet ? PORT_IO_BARE : 0);
	if (p->io != io)
		p->io = io;
	port_publish_fds(p, true);
	p->mtu_follows = mtu != 0;
	if (mtu)
		port_set_mtu(p, mtu);
	p->opened = true;
	p->away = false;
	port_set_reason(p, NULL);
	return 0;
}

void
port_close(struct port *p)
{
	if (!p->opened)
		return;
	port_publish_fds(p, false);
	/* A single channel's fd is in every slot: the type closes it once
	 * through fds[0]. */
	if (!(p->type->caps & PORT_CAP_MULTIQUEUE))
		for (unsigned q = 1; q < p->nqueues; q++)
			p->fds[q] = -1;
	p->type->close(p);
	port_set_up(p, false);
	p->opened = false;
}

/* Descriptors to close once no worker can use them any more. */
struct dead_fds {
	unsigned n;
	int fds[];
};

static void
dead_fds_close(void *arg)
{
	struct dead_fds *d = arg;

	for (unsigned i = 0; i < d->n; i++)
		close(d->fds[i]);
	free(d);
}

void
port_close_deferred(struct port *p, struct qsbr *qs, const char *reason)
{
	unsigned n = p->type->caps & PORT_CAP_MULTIQUEUE ? p->nqueues : 1;
	struct dead_fds *d;

	port_set_up(p, false);
	port_set_reason(p, reason);
	if (!p->opened)
		return;
	port_publish_fds(p, false);
	/* The interface is gone, so there is nothing for the type to undo:
	 * the fds just go, once no worker that saw the port up (or got an
	 * fd from port_fd before the line above) can still use them. */
	d = xmalloc(sizeof(*d) + n * sizeof(d->fds[0]));
	d->n = n;
	memcpy(d->fds, p->fds, n * sizeof(d->fds[0]));
	for (unsigned q = 0; q < p->nqueues; q++)
		p->fds[q] = -1;
	p->defer_qs = qs;
	p->type->close(p);	/* the type's own state; fds are -1 */
	p->defer_qs = NULL;
	p->opened = false;
	qsbr_defer(qs, dead_fds_close, d);
}

void
port_free(struct port *p)
{
	if (!p)
		return;
	port_close(p);
	conf_port_destroy(&p->conf);
	free(p->policy);
	free(p->reason);
	free(p->qpriv);
	free(p->fds);
	free(p->qfds);
	free(p->epfds);
	free(p->queues);
	free(p);
}

void
port_counters_sum(const struct port *p, struct port_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned q = 0; q < p->nqueues; q++) {
#define X(name, help) sum->name += ctr_read(&p->queues[q].ctr.name);
		PORT_COUNTERS(X)
#undef X
	}
}

/* Port table */

void
port_table_create(struct qsbr *qs, struct port_table **out)
{
	struct port_table *pt = xcalloc(1, sizeof(*pt));

	pt->qs = qs;
	pt->set = xcalloc(1, sizeof(struct port_set));
	*out = pt;
}

void
port_table_destroy(struct port_table *pt)
{
	if (!pt)
		return;
	free(pt->set);
	free(pt);
}

/* Build and publish a new port set: the old one plus add, minus del.
 * Returns the old set, to be freed after a grace period. */
static struct port_set *
port_table_republish(struct port_table *pt, struct port *add,
    struct port *del)
{
	struct port_set *old = pt->set, *set;
	unsigned n = 0;

	set = xmalloc(sizeof(*set) + (old->n + 1) * sizeof(set->ports[0]));
	for (unsigned i = 0; i < old->n; i++)
		if (old->ports[i] != del)
			set->ports[n++] = old->ports[i];
	if (add)
		set->ports[n++] = add;
	set->n = n;
	__atomic_store_n(&pt->set, set, __ATOMIC_RELEASE);
	return old;
}

int
port_table_insert(struct port_table *pt, struct port *p)
{
	uint32_t id;

	for (id = 0; id < PORT_MAX; id++)
		if (!pt->by_id[id])
			break;
	if (id == PORT_MAX)
		return -ENOSPC;
	p->id = id;
	p->pt = pt;
	__atomic_store_n(&pt->by_id[id], p, __ATOMIC_RELEASE);
	/* A worker may be walking the old set right now: it goes after a
	 * grace period, which nobody waits for here. */
	qsbr_defer(pt->qs, free, port_table_republish(pt, p, NULL));
	pt->count++;
	return 0;
}

void
port_table_remove(struct port_table *pt, struct port *p)
{
	struct port_set *old;

	__atomic_store_n(&pt->by_id[p->id], NULL, __ATOMIC_RELEASE);
	old = port_table_republish(pt, NULL, p);
	qsbr_synchronize(pt->qs);
	free(old);
	pt->count--;
}

struct port *
port_table_find(const struct port_table *pt, const char *name)
{
	const struct port_set *set = pt->set;

	for (unsigned i = 0; i < set->n; i++)
		if (strcmp(set->ports[i]->conf.name, name) == 0)
			return set->ports[i];
	return NULL;
}
