/*
 * fdb.h - the MAC table (filtering database) of the switch.
 *
 * Theory of operation.  The table maps (VLAN, MAC) to a port id and,
 * for a port that reaches several hosts (vxlan), the index of the remote
 * host the address is behind (0 for other ports).  Every
 * worker looks up the destination and learns the source of every frame,
 * so the read side is lock-free: a fixed array of buckets, each the head
 * of a chain of entries taken from a pool preallocated at creation (no
 * malloc after that).  An entry's key never changes while it is linked;
 * its port and last-seen time are single words written atomically.
 *
 *  - Lookup (any thread): walks a chain with acquire loads.  Readers other
 *    than the main thread must be registered QSBR readers.
 *  - Refresh (any thread): a known source on the same port only stores
 *    the last-seen second, and only when it changed: no lock, and no
 *    cache-line write on most frames.
 *  - Learn / move (any thread): take the table's writer mutex.  A move
 *    is one atomic store of the new port.  New entries are linked at a
 *    chain head with a release store, so readers see them whole.
 *  - Delete (aging, flush, del; main thread only): unlink under the mutex,
 *    wait for a QSBR grace period, then return the entries to the pool.
 *
 * The table holds at most 'size' entries.  When full, new sources are not
 * learned (FDB_FULL) and their frames still flood, so a MAC flood cannot
 * exhaust memory.  Each port may also be limited to mac_limit dynamic
 * entries (FDB_LIMIT).  Static entries never age and are never moved.
 */
#ifndef TAPSWITCH_FDB_H
#define TAPSWITCH_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapswitch/frame.h"
#include "tapswitch/qsbr.h"

#define FDB_PORT_MAX 4096		/* port ids are 0..FDB_PORT_MAX-1 */
#define FDB_PORT_NONE UINT32_MAX	/* lookup miss */
#define FDB_PORT_ANY UINT32_MAX		/* flush: every port */

struct fdb;

/* Loop detection (FDB_LOOP): moves of one address, each back to the
 * port it was on before the last move, within a window of this many
 * seconds (1..2 of now_sec()). */
#define FDB_FLAPS 5
#define FDB_FLAP_SECS 1

enum fdb_learn_result {
	FDB_REFRESHED,		/* known on this port: timestamp updated */
	FDB_LEARNED,		/* new entry */
	FDB_MOVED,		/* was on another port, now on this one */
	FDB_LOOP,		/* moved, and it keeps moving back and forth
				 * between the same two ports: more than
				 * FDB_FLAPS moves within FDB_FLAP_SECS
				 * (a loop), and this port is not the one
				 * it was learned on first; the count
				 * starts again */
	FDB_STATIC,		/* static entry for another port: unchanged */
	FDB_FULL,		/* table full: not learned */
	FDB_LIMIT,		/* port's mac_limit reached: not learned */
};

/* One entry as reported by fdb_foreach. */
struct fdb_entry_info {
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t vid;
	uint32_t port;
	uint16_t remote;	/* index of the port's remote; 0 if none */
	uint32_t last_seen;	/* now_sec() of the last frame; 0 for static */
	bool is_static;
};

/* Create a table of at most size entries (1..CONF_FDB_SIZE_MAX) whose
 * deletions wait for grace periods of qs.  Main thread. */
int fdb_create(uint32_t size, struct qsbr *qs, struct fdb **out);
void fdb_destroy(struct fdb *fdb);

/* Port that owns (vid, mac), or FDB_PORT_NONE; and, when remote is not
 * NULL and there is an entry, its remote index in *remote.  Any thread
 * (see above). */
uint32_t fdb_lookup(struct fdb *fdb, uint16_t vid, const uint8_t *mac,
    uint16_t *remote);

/* Learn that (vid, mac) was seen on port, behind its remote number
 * remote (0 for a port without remotes), at time now (now_sec()); at
 * most mac_limit dynamic entries per port (0 = unlimited).  An address
 * seen behind another remote of the same port has moved (FDB_MOVED).
 * Any thread. */
enum fdb_learn_result fdb_learn(struct fdb *fdb, uint16_t vid,
    const uint8_t *mac, uint32_t port, uint16_t remote, uint32_t mac_limit,
    uint32_t now);

/* Add or replace a static entry for port (and its remote index remote;
 * 0 if it has none).  0, or -ENOSPC when the table is full.  Main
 * thread. */
int fdb_add_static(struct fdb *fdb, uint16_t vid, const uint8_t *mac,
    uint32_t port, uint16_t remote);

/* Remove one entry (static or dynamic).  0 or -ENOENT.  Main thread. */
int fdb_del(struct fdb *fdb, uint16_t vid, const uint8_t *mac);

/* Remove the entries of port (or of every port with FDB_PORT_ANY); static
 * ones too when with_static.  Returns how many.  Main thread. */
size_t fdb_flush(struct fdb *fdb, uint32_t port, bool with_static);

/* Remove dynamic entries not seen for more than max_age seconds before
 * now.  Returns how many.  Main thread, from the aging timer. */
size_t fdb_age(struct fdb *fdb, uint32_t now, uint32_t max_age);

/* Call fn for every entry (in no particular order).  fn must not modify
 * the table.  Main thread. */
void fdb_foreach(struct fdb *fdb,
    void (*fn)(const struct fdb_entry_info *e, void *arg), void *arg);

/*
 * Walk the table a piece at a time, for listings too long to make at once.
 * The table is a fixed row of fdb_slots() slots (for its whole lifetime);
 * a walk visits slots from pos on, at most max_slots of them, and calls fn
 * once for each slot that holds entries, with all of that slot's entries
 * (n >= 1, in no particular order).  fn returns false to stop before that
 * slot.  Returns the slot to go on from: pass it as pos to the next call;
 * fdb_slots() when the walk is done.  An entry that stays in the table
 * while a walk goes on is reported exactly once however the walk is cut;
 * one learned or removed meanwhile may or may not be.  fn runs with the
 * writer mutex held: keep it short and leave the table alone.  Main
 * thread.
 */
uint64_t fdb_walk(struct fdb *fdb, uint64_t pos, uint64_t max_slots,
    bool (*fn)(const struct fdb_entry_info *v, size_t n, void *arg),
    void *arg);
uint64_t fdb_slots(const struct fdb *fdb);

/* Number of entries, and of dynamic entries learned on port.  Any thread
 * (the values may be stale by the time they are used). */
size_t fdb_count(const struct fdb *fdb);
uint32_t fdb_port_count(const struct fdb *fdb, uint32_t port);
uint32_t fdb_capacity(const struct fdb *fdb);

#endif
