/*
 * port.c - port objects and the port table (see port.h for the lifecycle).
 *
 * Talks to: the port backends (TAP or the test dummy) to open and close
 * queue fds, and to qsbr for grace periods before anything unpublished is
 * freed.  Main thread only, except the lock-free readers in port.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tapswitch/frame.h"
#include "tapswitch/port.h"

struct port *
port_new(const struct conf_port *cp, unsigned nqueues,
    const struct port_backend *backend)
{
	struct port *p = xcalloc(1, sizeof(*p));

	conf_port_copy(&p->conf, cp);
	p->id = UINT32_MAX;
	p->nqueues = nqueues;
	p->fds = xmalloc(nqueues * sizeof(*p->fds));
	for (unsigned q = 0; q < nqueues; q++)
		p->fds[q] = -1;
	/* A tagged frame may carry 4 bytes more than the MTU allows for an
	 * untagged one; the data path adds them when it sees a tag. */
	p->max_frame = cp->mtu + ETH_HDR_LEN;
	p->backend = backend;
	p->queues = xaligned_alloc(CACHE_LINE, nqueues * sizeof(*p->queues));
	return p;
}

int
port_open(struct port *p, struct priv *pv, bool vnet_hdr, char **err)
{
	p->pv = pv;
	return p->backend->open(p, vnet_hdr, err);
}

void
port_free(struct port *p)
{
	bool open = false;

	if (!p)
		return;
	for (unsigned q = 0; q < p->nqueues; q++)
		if (p->fds[q] >= 0)
			open = true;
	if (open)
		p->backend->close(p);
	conf_port_destroy(&p->conf);
	free(p->fds);
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
	__atomic_store_n(&pt->by_id[id], p, __ATOMIC_RELEASE);
	/* Nobody can hold the old set of an insert for long, but a worker
	 * may be walking it right now: free it after a grace period. */
	struct port_set *old = port_table_republish(pt, p, NULL);
	qsbr_synchronize(pt->qs);
	free(old);
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
