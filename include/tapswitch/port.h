/*
 * port.h - switch ports, their types and the port table.
 *
 * Theory of operation (port lifecycle).  Everything about a port's life is
 * here and in port.c; what differs between kinds of port is in one file
 * per type (port_<type>.c), reached through struct port_type.
 *
 *   config ---> port_new ---> port_open ---> port_table_insert --> workers
 *   (conf.h)    (closed)      (type opens     (id, published)      attach
 *                              its fds)
 *
 * A port is made by the main thread from its struct conf_port.  Its type
 * opens its fds, through the privileged helper where that takes
 * privileges (priv.h).  An interface that is not there (yet) is no error
 * for a type that attaches to existing ones: port_open says -ENODEV,
 * the port is inserted closed and down with a reason, and sw.c opens it
 * when the link monitor sees an interface of that name appear (or a
 * reload asks); one that goes away, or whose fds a worker finds dead
 * (port events, worker.h), is closed again (port_close_deferred), and
 * the port stays configured.  port_table_insert gives the port an id (the value the MAC
 * table stores) and publishes it to the workers in two forms: by id, for
 * known-unicast forwarding, and in an immutable "port set" array that
 * flooding walks.  Both are RCU-style pointers: workers load them without
 * locks.  Removal unpublishes the port, then waits for a QSBR grace
 * period (qsbr.h) before anything is freed, so no worker can hold a stale
 * pointer; the MAC entries of the port are flushed after that, and only
 * then can its id be used again.  Old port sets and the fds of a closed
 * port are freed after a grace period too, but without waiting for it
 * (qsbr_defer): inserting a port never blocks the main loop.
 *
 * Whether an interface outlives its port is the type's business (tap:
 * persist =, port_tap.c).  port_free closes with p->keep set by the
 * caller: true when the daemon stops or a reload re-creates the port on
 * the same interface, false when the port is deleted.
 *
 * Queues and fds.  Worker q reads and writes fd q of each port.  A
 * multiqueue type (PORT_CAP_MULTIQUEUE: tap, system) opens one fd per
 * worker.  A type with a single channel opens fds[0] only; port_open then
 * puts that fd in every fds[q], so every worker sends to it directly, and
 * only its owner worker (port_reads) reads it.  That is safe for a channel
 * whose writes keep message boundaries (a datagram or seqpacket socket:
 * each write(2) is one whole frame, and the kernel serialises concurrent
 * writers).  A byte-stream type must keep the frames of its several
 * writers from interleaving and finish partial writes later: it does
 * that in its tx hook (the data-path hooks below), as its file explains.
 *
 * The type opens and closes p->fds, which only the main thread touches.
 * Workers use a copy, p->qfds, through port_fd(): port_open publishes it
 * once the fds are open, and closing sets it to -1 before any fd is
 * closed, both with atomic stores, since a worker may be using the port
 * at that moment (a port is closed while published when its interface
 * goes away, and opened again when it comes back).  So a worker that
 * found the port up may still get -1: its read or write then fails with
 * EBADF, which it takes for "closed meanwhile" (nothing to read, a frame
 * dropped as to a port that is down).  An fd it did get stays open until
 * its next quiescent point (port_close_deferred), so it never reaches
 * another file.
 *
 * struct port is visible because the data path reads its fields on every
 * frame.  Fields marked "immutable" never change while the port is
 * published; 'up', 'max_frame' and qfds[] are written by the main thread
 * and read by workers; ctr[q] is written only by worker q.
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
	X(tx_full,      "dropped: the egress queue or send buffer was full") \
	X(learn_limit,  "sources not learned because of mac_limit") \
	X(rx_sw_csum,   "received with a partial checksum, completed in software") \
	X(rx_sw_gso,    "super-frames received, cut into frames in software") \
	X(rx_bad_offload, "dropped: offload header that does not fit the frame") \
	X(tx_sw_csum,   "sent with a partial checksum completed in software") \
	X(tx_sw_gso,    "super-frames cut into frames in software to send") \
	X(rx_tunnel_short, "dropped: datagram shorter than a VXLAN header") \
	X(rx_tunnel_flags, "dropped: VXLAN header without the I flag") \
	X(rx_tunnel_vni, "dropped: VXLAN datagram with a VNI no port has") \
	X(rx_tunnel_remote, "dropped: VXLAN datagram from an address not in remote") \
	X(tx_remote_errors, "flooded copies a remote did not get (sent to others)") \
	X(rx_err_disabled, "dropped: the port is err-disabled") \
	X(rx_spoof_mac, "dropped: source MAC not in allowed_macs") \
	X(rx_spoof_ip,  "dropped: source IP not in allowed_ips") \
	X(rx_bpdu,      "dropped: BPDU on a bpdu_guard port (err-disables it)") \
	X(rx_ethertype, "dropped: EtherType not in allowed_ethertypes") \
	X(rx_policed,   "dropped: over rate_limit") \
	X(rx_storm,     "dropped: broadcast/multicast/unknown unicast over storm_limit") \
	X(tx_policed,   "dropped: over the egress port's egress_rate_limit")

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
struct policy;
struct json_t;

/* Why a port is err-disabled (port_err_disabled). */
enum port_errdis {
	PORT_ERRDIS_NONE,
	PORT_ERRDIS_BPDU,	/* a BPDU came in on a bpdu_guard port */
	PORT_ERRDIS_LOOP,	/* loop_protect saw a MAC flap to it */
};

/* Capabilities of a type. */
#define PORT_CAP_MULTIQUEUE	0x1u	/* one fd per queue (else one fd) */
#define PORT_CAP_MMSG		0x2u	/* fds are datagram-like sockets:
					 * the worker reads a batch with one
					 * recvmmsg(2) */
#define PORT_CAP_IO		0x4u	/* the type moves frames itself:
					 * rx/tx hooks (see below) */
/* Not a capability of the type but of an open port (p->io): its fds
 * carry no virtio-net header while the switch's frames do. */
#define PORT_IO_BARE		0x100u

/*
 * Data-path hooks, for a type whose channel is not "one read(2) or
 * recvmmsg(2) message = one frame, one write(2) = one frame" (a byte
 * stream with a length before each frame, a tunnel with a header of its
 * own and several remotes).  TAPs and packet sockets do not use them:
 * the worker reads and writes those itself, and tests p->io once per
 * batch and per egress frame to know that (0 for them).
 *
 * Frames cross the hooks without a virtio-net header, in either
 * direction: a port of such a type is always bare (PORT_IO_BARE when
 * offload = yes).  The worker puts an empty header in front of what rx
 * gives it, and finishes in software what a frame's header leaves to do
 * (a GSO super-frame cut into frames, a partial checksum completed)
 * before it calls tx, so a type never sees an offload.
 *
 * struct port_rxb: the worker's buffer slots for one rx call.  A type
 * that needs to say more about each frame (which remote it came from)
 * adds a field indexed like len[].
 */
#define PORT_RX_BATCH 32
#define PORT_TX_BATCHED 1	/* tx: taken, tx_flush sends and counts it */

struct port_rxb {
	unsigned want;			/* read at most this many frames */
	size_t room;			/* bytes frame[i] has room for */
	uint8_t *frame[PORT_RX_BATCH];	/* where frame i goes */
	size_t len[PORT_RX_BATCH];	/* out: frame i's length */
	/* out, for a type that reaches several hosts (vxlan): the index
	 * of the remote frame i came from, which learning remembers
	 * (fdb.h); the worker sets 0 before the call. */
	uint16_t remote[PORT_RX_BATCH];
	/* out, for a type whose ports share a channel (vxlan ports on one
	 * endpoint): the port frame i came in on, when it is not the one
	 * read; a published port (of the port table's set, held until the
	 * worker's next quiescent point).  The worker sets NULL before the
	 * call. */
	struct port *in[PORT_RX_BATCH];
};

/* One frame for tx: iov[0..niov) hold its len bytes (Ethernet header
 * first; no virtio-net header).  A type that sends to one of several
 * remotes adds the remote here. */
struct iovec;
struct port_txf {
	const struct iovec *iov;
	int niov;
	size_t len;
	/* For a type that reaches several hosts (vxlan): flooded, the
	 * frame goes to every one; else to the one the MAC table says the
	 * destination is behind (remote, fdb.h). */
	bool flood;
	uint16_t remote;
};

/*
 * A port type: one of these per port_<type>.c, listed in port_types[]
 * (port.c).  Main thread.
 */
struct port_type {
	struct conf_type conf;	/* name, keys and checks (conf.h) */
	unsigned caps;		/* PORT_CAP_* */
	/* Open the port's fds into p->fds (all nqueues of them, or fds[0]
	 * without PORT_CAP_MULTIQUEUE) as p->conf says, with privileged
	 * steps through p->pv; set p->ifindex, p->vnet and the link state
	 * (port_set_up), and *mtu when the MTU is the interface's rather
	 * than p->conf.mtu.  0; -ENODEV when the interface to attach to is
	 * not there (the port then waits for it, with the malloc'd message
	 * *err as its reason); or -errno with a malloc'd message in *err.
	 * Nothing is left open on failure. */
	int (*open)(struct port *p, bool vnet_hdr, unsigned *mtu, char **err);
	/* Close the fds (set them to -1).  With p->keep, an interface the
	 * type can keep for the next start stays. */
	void (*close)(struct port *p);
	/* For a type with an interface (conf.netdev): its state now: 0,
	 * *up and *mtu (0: unknown); -ENODEV when it is gone, or -errno. */
	int (*link_state)(struct port *p, bool *up, unsigned *mtu);
	/* May a port changed from a to b keep its interface across the
	 * re-creation (close with keep, then open again)?  NULL: no. */
	bool (*keep)(const struct conf_port *a, const struct conf_port *b);
	/* The link monitor saw the interface leave the port's namespace:
	 * do the port's fds still hold it (a TAP moved elsewhere, alive)?
	 * Then the port keeps them, down, so that port del still removes
	 * the interface wherever it went; else it is closed.  NULL: no. */
	bool (*holds)(struct port *p);
	/* Give up for good the interface the fds hold (one that moved
	 * away, when the port is opened anew elsewhere): closing the fds
	 * then removes it (tap: persistence cleared).  NULL: nothing. */
	void (*release)(struct port *p);
	/* Add what is particular to the type to the port's JSON object
	 * (port show); NULL: nothing. */
	void (*show)(const struct port *p, struct json_t *o);
	/* For a type that reaches several hosts (vxlan): the index (the
	 * MAC table's remote, fdb.h) of the remote whose address is addr:
	 * 0; or -errno with a malloc'd message in *err.  NULL: the type
	 * has no remotes. */
	int (*remote_index)(const struct port *p, const char *addr,
	    uint16_t *idx, char **err);
	/* The address of remote idx, written into buf (46 bytes), or NULL
	 * when there is none such.  NULL: no remotes. */
	const char *(*remote_name)(const struct port *p, uint16_t idx,
	    char *buf);

	/* Data path (PORT_CAP_IO only; see the data-path hooks above). */

	/* Read up to b->want frames of queue q's channel into b->frame[],
	 * their lengths into b->len[].  Returns how many (0: none now), or
	 * -errno when the channel failed for good: the worker then stops
	 * watching it and posts PORT_EV_FD_FAILED with that error (log it
	 * first if it says more than strerror; -EPIPE: the peer left).
	 * What the type itself drops (bad framing) it counts on queue q.
	 * The fd may be -1 (closed meanwhile): return 0.  Worker q only:
	 * a single-channel type is read by its owner worker alone. */
	int (*rx)(struct port *p, unsigned q, struct port_rxb *b);
	/* Send one frame from worker q, or take it to send later.  0: sent
	 * or taken; -EAGAIN: no room (counted tx_full); -EBADF: closed
	 * meanwhile (tx_down); any other -errno: tx_errors.
	 * PORT_TX_BATCHED: copied into the type's batch of queue q, which
	 * tx_flush sends, and counts, when the worker's batch ends.  Every
	 * worker calls it, at the same time on a single-channel type, which
	 * serialises as its file explains. */
	int (*tx)(struct port *p, unsigned q, const struct port_txf *f);
	/* Send what tx batched on queue q, and count it (sent or dropped,
	 * one counter per frame, on queue q).  Worker q, at the end of each
	 * batch it read, before the buffers of the frames are reused (they
	 * were copied).  NULL: tx never batches. */
	void (*tx_flush)(struct port *p, unsigned q);
	/* Queue q's channel has room again after the type asked for it
	 * (port_want_room): send what it kept.  The reading worker of q.
	 * NULL: the type never keeps frames. */
	void (*tx_room)(struct port *p, unsigned q);
};

/* The types, NULL-terminated; the first is the default. */
extern const struct port_type *const port_types[];
extern const struct port_type port_type_tap;
extern const struct port_type port_type_system;
extern const struct port_type port_type_dgram;
extern const struct port_type port_type_vxlan;

/*
 * Test type "dummy" (tests only: port_type_register_test): each queue is a
 * SOCK_SEQPACKET socketpair; the test holds the other end
 * (port_dummy_peer).  "dummy1" is the same with one channel for all
 * queues (no PORT_CAP_MULTIQUEUE).
 */
extern const struct port_type port_type_dummy;
extern const struct port_type port_type_dummy1;
/* "dummy_bare": as dummy, without a virtio-net header whatever offload
 * says; "dummy_io": as dummy1, without one, through the data-path
 * hooks (PORT_CAP_IO). */
extern const struct port_type port_type_dummy_bare;
extern const struct port_type port_type_dummy_io;
/* Make t known to the configuration (conf_type_find) too, and with
 * as_default the type of ports that do not say.  Tests, before anything
 * else. */
void port_type_register_test(const struct port_type *t, bool as_default);

/* The port type of a config's type. */
static inline const struct port_type *
port_type_of(const struct conf_port *cp)
{
	return (const struct port_type *)cp->type;
}

struct port {
	uint32_t id;			/* immutable; index in the port table */
	uint32_t gen;			/* immutable; no other port of this
					 * process has it (port events) */
	struct conf_port conf;		/* immutable; name, VLANs, MTU, ... */
	const struct port_type *type;	/* immutable */
	unsigned nqueues;		/* immutable: workers */
	int *fds;			/* [nqueues] main thread: the type's;
					 * see "Queues and fds" */
	int *qfds;			/* [nqueues] atomic: what workers
					 * use (port_fd); -1: closed */
	size_t max_frame;		/* atomic: mtu + Ethernet header */
	void *priv;			/* the type's data */
	void *qpriv;			/* the type's data per queue, for
					 * workers, or NULL: one block that
					 * port_free frees with the port */
	struct priv *pv;		/* privileged operations (priv.h) */
	struct port_table *pt;		/* immutable: the table it is in,
					 * from port_table_insert on */
	struct qsbr *defer_qs;		/* main thread: set while the type
					 * closes it from port_close_deferred;
					 * what workers may still use must
					 * wait for a grace period of it */
	int ifindex;			/* main thread */
	bool created;			/* main thread: open made the interface */
	bool keep;			/* main thread: close leaves it if
					 * the type can (daemon exit, reload) */
	bool opened;			/* main thread: fds are open */
	bool away;			/* main thread: open on an interface
					 * that left its namespace (holds) */
	bool vnet;			/* immutable while open: its fds carry
					 * a virtio-net header (a type may
					 * add one when the switch's frames
					 * do not, for PORT_CAP_MMSG ports
					 * only; one without it while they
					 * do is bare: PORT_IO_BARE) */
	unsigned io;			/* immutable while open: what the
					 * data path must do other than
					 * read(2)/write(2) a TAP's way:
					 * PORT_CAP_MMSG, PORT_CAP_IO,
					 * PORT_IO_BARE; 0 for a TAP */
	const void *tx_name;		/* immutable while open: the address
					 * a PORT_CAP_MMSG type's frames go
					 * to (sendmmsg msg_name); NULL:
					 * the fds are connected */
	unsigned tx_namelen;
	int *epfds;			/* [nqueues] main thread
					 * (worker_attach): the epoll set of
					 * worker q, if it reads fd q
					 * (port_want_room); else -1 */
	bool mtu_follows;		/* main thread: the MTU is the
					 * interface's (system) */
	bool attached;			/* main thread: workers watch the fds */
	char *reason;			/* main thread: why it is down, or NULL */
	bool up;			/* main writes, workers read (atomic) */
	uint8_t pflags;			/* atomic: PORT_F_*: what the data
					 * path must look at beyond the
					 * defaults, in one load */
	uint8_t errdis_seen;		/* main thread: errdis it acted on */
	uint32_t errdis_until;		/* main thread: now_sec() to enable
					 * again (loop); 0: never */
	struct policy *policy;		/* atomic pointer; NULL: no policy
					 * key (policy.h) */
	struct port_queue *queues;	/* [nqueues]; [q] written by worker q */
};

/* Allocate a port of cp's type from its config (copied), with nqueues
 * closed fds.  Main thread. */
struct port *port_new(const struct conf_port *cp, unsigned nqueues);
/* Open it through its type (see struct port_type).  pv (NULL: do
 * privileged steps in this process) is kept for close and link_state.
 * -ENODEV: the interface is absent, p->reason says so and the port can
 * be opened again later. */
int port_open(struct port *p, struct priv *pv, bool vnet_hdr, char **err);
/* Close the port's fds now (it must be unpublished or detached from the
 * workers and past a grace period). */
void port_close(struct port *p);
/* Close the fds of a published port whose interface is gone: it goes
 * down, and its fds are closed after a grace period (qs), without waiting
 * for it.  The caller has detached it from the workers.  reason is
 * copied. */
void port_close_deferred(struct port *p, struct qsbr *qs, const char *reason);
/* Set the largest frame the port sends and receives (untagged, without
 * the Ethernet header).  Main thread; workers see it at once. */
void port_set_mtu(struct port *p, unsigned mtu);
/* Set why the port is down (NULL: it is not).  Main thread. */
void port_set_reason(struct port *p, const char *reason);
/* Close (if open) and free: see p->keep.  The port must be unpublished
 * and past a grace period. */
void port_free(struct port *p);

/* The worker that reads fd q of p: q for a multiqueue type, else the
 * port's owner.  Whether worker q watches p's fds. */
static inline bool
port_reads(const struct port *p, unsigned q)
{
	return (p->type->caps & PORT_CAP_MULTIQUEUE) ||
	    q == p->id % p->nqueues;
}

/* The fd worker q reads and writes for p: -1 when p is closed (and may
 * have been closed after the worker found it up).  Workers load it once
 * per system call. */
static inline int
port_fd(const struct port *p, unsigned q)
{
	return __atomic_load_n(&p->qfds[q], __ATOMIC_RELAXED);
}

static inline bool
port_is_up(const struct port *p)
{
	return __atomic_load_n(&p->up, __ATOMIC_ACQUIRE);
}

static inline void
port_set_up(struct port *p, bool up)
{
	__atomic_store_n(&p->up, up, __ATOMIC_RELEASE);
}

static inline struct policy *
port_policy(const struct port *p)
{
	return __atomic_load_n(&p->policy, __ATOMIC_ACQUIRE);
}

/*
 * p->pflags: nonzero when frames of the port need more than the default
 * path, so that a port without policy costs the data path one load and
 * a branch per direction.  PORT_F_POLICY: the main thread set p->policy
 * (the pointer is published before the flag is set and cleared after
 * the flag is; a worker that saw the flag may still find NULL).  The
 * err-disabled reason: set by workers (port_err_disable), cleared by the
 * main thread (port_err_clear).
 */
#define PORT_F_POLICY		0x01u
#define PORT_F_ERRDIS_SHIFT	1
#define PORT_F_ERRDIS_MASK	0x06u

static inline unsigned
port_flags(const struct port *p)
{
	return __atomic_load_n(&p->pflags, __ATOMIC_RELAXED);
}

static inline unsigned
port_err_disabled(const struct port *p)
{
	return (port_flags(p) & PORT_F_ERRDIS_MASK) >> PORT_F_ERRDIS_SHIFT;
}

/* Err-disable p for why (a worker): true when this call did it, false
 * when it was already.  The caller tells the main thread (port events). */
static inline bool
port_err_disable(struct port *p, enum port_errdis why)
{
	uint8_t f = __atomic_load_n(&p->pflags, __ATOMIC_RELAXED);

	do {
		if (f & PORT_F_ERRDIS_MASK)
			return false;
	} while (!__atomic_compare_exchange_n(&p->pflags, &f,
	    (uint8_t)(f | (unsigned)why << PORT_F_ERRDIS_SHIFT), true,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/* Take p out of err-disabled state.  Main thread. */
static inline void
port_err_clear(struct port *p)
{
	__atomic_fetch_and(&p->pflags, (uint8_t)~PORT_F_ERRDIS_MASK,
	    __ATOMIC_RELAXED);
}

/* Does p take frames to send: up, and not err-disabled? */
static inline bool
port_forwards(const struct port *p)
{
	return port_is_up(p) && !port_err_disabled(p);
}

/* "bpdu", "loop": why p is err-disabled; NULL if it is not. */
const char *port_errdis_name(unsigned why);

/* Publish the policy of settings cp for p (NULL when cp has none), and
 * copy cp's policy keys into p->conf; the old policy is freed after a
 * grace period of qs (NULL: p is not published, free now).  Main
 * thread. */
void port_set_policy(struct port *p, const struct conf_port *cp,
    struct qsbr *qs);

static inline size_t
port_max_frame(const struct port *p)
{
	return __atomic_load_n(&p->max_frame, __ATOMIC_RELAXED);
}

/* A PORT_CAP_IO type that keeps frames of queue q to send later asks
 * (on) to have its tx_room hook called when the channel has room, or
 * (off) no longer.  Any worker; the type serialises on and off with
 * what it keeps (worker.c). */
void port_want_room(struct port *p, unsigned q, bool on);

/* Sum the per-queue counters of p into *sum.  Any thread. */
void port_counters_sum(const struct port *p, struct port_counters *sum);

/* The dummy type's test-side fd of queue q. */
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

/* Give p a free id and publish it, without waiting (the old port set
 * is freed after a grace period: qsbr_defer).  0, or -ENOSPC when
 * PORT_MAX ports exist. */
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
