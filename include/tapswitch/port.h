/*
 * port.h - switch ports, their backends and the port table.
 *
 * Theory of operation (port lifecycle).  A port is created by the main
 * thread: its backend opens one fd per queue, then the port is inserted in
 * the port table, which gives it an id (the value the MAC table stores)
 * and publishes it to the workers in two forms: by id, for known-unicast
 * forwarding, and in an immutable "port set" array that flooding walks.
 * Both are RCU-style pointers: workers load them without locks.  Removal
 * unpublishes the port, then waits for a QSBR grace period (qsbr.h) before
 * anything is freed, so no worker can hold a stale pointer; the MAC
 * entries of the port are flushed after that, and only then can its id be
 * used again.
 *
 * struct port is visible because the data path reads its fields on every
 * frame.  Fields marked "immutable" never change while the port is
 * published; 'up' is written by the main thread (link monitor) and read by
 * workers; ctr[q] is written only by worker q.
 */
#ifndef TAPSWITCH_PORT_H
#define TAPSWITCH_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapswitch/conf.h"
#include "tapswitch/fdb.h"
#include "tapswitch/qsbr.h"
#include "tapswitch/util.h"

#define PORT_MAX FDB_PORT_MAX

/*
 * Per-port counters: name and meaning.  Every frame that is not delivered
 * is counted by exactly one drop counter, so nothing is lost silently.
 */
#define PORT_COUNTERS(X) \
	X(rx_packets,   "frames received") \
	X(rx_bytes,     "bytes received (Ethernet frame, no virtio-net header)") \
	X(tx_packets,   "frames sent") \
	X(tx_bytes,     "bytes sent") \
	X(rx_errors,    "malformed frames dropped: rx_runt + rx_oversize") \
	X(rx_runt,      "dropped: shorter than an Ethernet header") \
	X(rx_oversize,  "dropped: longer than the port MTU allows") \
	X(rx_vlan,      "dropped: VLAN not allowed on this port") \
	X(rx_src_mcast, "dropped: multicast source address") \
	X(rx_link_local, "dropped: 802.1D link-local destination") \
	X(rx_hairpin,   "dropped: destination is on the ingress port") \
	X(tx_oversize,  "dropped: longer than the egress port MTU allows") \
	X(tx_down,      "dropped: egress port down") \
	X(tx_errors,    "dropped: write to the egress port failed") \
	X(learn_limit,  "sources not learned because of mac_limit")

struct port_counters {
#define X(name, help) uint64_t name;
	PORT_COUNTERS(X)
#undef X
};

/* What worker q keeps about queue q of a port: only that worker writes
 * it (the counters are read by others), so each queue has cache lines of
 * its own. */
struct port_queue {
	struct port_counters ctr;
	unsigned rx_want;	/* frames to read per visit, 1..WORKER_BATCH;
				 * 0 until the first */
	unsigned poll_score;	/* see struct busy_poll */
} __attribute__((aligned(CACHE_LINE)));

struct port;
struct priv;

/* How a port's queue fds come to be.  Main thread. */
struct port_backend {
	const char *name;
	/* Open p->nqueues fds into p->fds and set up the link as p->conf
	 * says, with privileged steps through p->pv; set p->ifindex and
	 * p->created.  0, or -errno with a malloc'd message in *err. */
	int (*open)(struct port *p, bool vnet_hdr, char **err);
	/* Close the fds and remove the interface, unless p->keep: then a
	 * persistent interface stays for the next start. */
	void (*close)(struct port *p);
	/* Current link state: 0 and *up, or -ENODEV when it is gone. */
	int (*link_state)(struct port *p, bool *up);
};

extern const struct port_backend port_backend_tap;
/* Test backend: each queue is a SOCK_SEQPACKET socketpair; the test holds
 * the other end (port_dummy_peer). */
extern const struct port_backend port_backend_dummy;

struct port {
	uint32_t id;			/* immutable; index in the port table */
	struct conf_port conf;		/* immutable; name, VLANs, MTU, ... */
	unsigned nqueues;		/* immutable */
	int *fds;			/* immutable; [nqueues] */
	size_t max_frame;		/* immutable; mtu + Ethernet header */
	const struct port_backend *backend;
	void *priv;			/* backend data */
	struct priv *pv;		/* privileged operations (priv.h) */
	int ifindex;			/* main thread */
	bool created;			/* main thread: open made it */
	bool keep;			/* main thread: close leaves it if
					 * persistent (daemon exit, reload) */
	bool up;			/* main writes, workers read (atomic) */
	struct port_queue *queues;	/* [nqueues]; [q] written by worker q */
};

/* Allocate a port from its config (copied) with nqueues closed fds.
 * Main thread. */
struct port *port_new(const struct conf_port *cp, unsigned nqueues,
    const struct port_backend *backend);
/* Open it through its backend (see struct port_backend); pv (NULL: do
 * privileged steps in this process) is kept for close and link_state. */
int port_open(struct port *p, struct priv *pv, bool vnet_hdr, char **err);
/* Close (if open) and free: the interface is removed, or with p->keep a
 * persistent one is left in place.  The port must be unpublished and past
 * a grace period. */
void port_free(struct port *p);

static inline bool
port_is_up(const struct port *p)
{
	return __atomic_load_n(&p->up, __ATOMIC_RELAXED);
}

static inline void
port_set_up(struct port *p, bool up)
{
	__atomic_store_n(&p->up, up, __ATOMIC_RELAXED);
}

/* Sum the per-queue counters of p into *sum.  Any thread. */
void port_counters_sum(const struct port *p, struct port_counters *sum);

/* The dummy backend's test-side fd of queue q. */
int port_dummy_peer(const struct port *p, unsigned q);

/* An immutable snapshot of the published ports, for flooding. */
struct port_set {
	unsigned n;
	struct port *ports[];
};

/*
 * The port table.  Insert/remove/find: main thread.  port_table_get and
 * port_table_set: any thread; a worker may use what they return until its
 * next quiescent point.
 */
struct port_table {
	struct port *by_id[PORT_MAX];		/* atomic pointers */
	struct port_set *set;			/* atomic pointer */
	struct qsbr *qs;
	unsigned count;
};

void port_table_create(struct qsbr *qs, struct port_table **out);
/* The table must be empty. */
void port_table_destroy(struct port_table *pt);

/* Give p a free id and publish it.  0, or -ENOSPC when PORT_MAX ports
 * exist. */
int port_table_insert(struct port_table *pt, struct port *p);
/* Unpublish p and wait for a grace period; afterwards no worker holds p. */
void port_table_remove(struct port_table *pt, struct port *p);
struct port *port_table_find(const struct port_table *pt, const char *name);

static inline struct port *
port_table_get(const struct port_table *pt, uint32_t id)
{
	if (id >= PORT_MAX)
		return NULL;
	return __atomic_load_n(&pt->by_id[id], __ATOMIC_ACQUIRE);
}

static inline const struct port_set *
port_table_set(const struct port_table *pt)
{
	return __atomic_load_n(&pt->set, __ATOMIC_ACQUIRE);
}

#endif
