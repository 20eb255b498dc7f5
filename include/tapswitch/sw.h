/*
 * sw.h - the switch: ports, MAC table and workers put together.
 *
 * The main thread owns a struct sw: it builds it from a struct conf, adds
 * and removes ports, runs MAC aging from a timer, follows link state
 * through netlink monitors (when given an event base), and sums the
 * statistics.  Nothing here runs on a worker thread.
 */
#ifndef TAPSWITCH_SW_H
#define TAPSWITCH_SW_H

#include <stdbool.h>
#include <stdint.h>

#include "tapswitch/conf.h"
#include "tapswitch/fdb.h"
#include "tapswitch/fwd.h"
#include "tapswitch/port.h"

struct event_base;
struct priv;
struct sw;

/*
 * Build and start a switch from conf (copied): MAC table, one worker per
 * queue, and every port of conf, each opened by its type.  With a non-NULL
 * base, link monitors and the aging timer are registered on it.
 * 0, or -errno with a malloc'd message in *err; nothing is left behind on
 * failure (interfaces it created are removed again).  What needs
 * privileges is done in this process.
 */
int sw_create(const struct conf *conf, struct event_base *base,
    struct sw **out, char **err);

/* As sw_create, with what needs privileges done through pv (priv.h: the
 * privileged helper; NULL: in this process), now and for ports added
 * later.  pv is not owned and must outlive the switch. */
int sw_create_with(const struct conf *conf, struct priv *pv,
    struct event_base *base, struct sw **out, char **err);

/* Stop the workers, close every port and free everything.  Persistent
 * interfaces (persist = yes) stay, for the next start to attach to; the
 * others disappear. */
void sw_destroy(struct sw *sw);

/* Add a port while the switch runs.  0, or -errno with *err (-EEXIST when
 * the name or the interface is taken).  A port whose interface is absent
 * is added, down, and opened when the interface appears (port.h). */
int sw_port_add(struct sw *sw, const struct conf_port *cp, char **err);
/* Remove a port and its MAC entries, and its interface, persistent or
 * not.  0 or -ENOENT. */
int sw_port_del(struct sw *sw, const char *name);
struct port *sw_port_find(const struct sw *sw, const char *name);
/* Take the port called name out of err-disabled state (*was: it was
 * err-disabled).  0 or -ENOENT. */
int sw_port_enable(struct sw *sw, const char *name, bool *was);

/* Act on the port events the workers posted (worker.h): a port whose fd
 * failed is closed, down, with the reason.  The main loop calls it when
 * the workers wake it; without an event base, call it yourself. */
void sw_events(struct sw *sw);

/* Age the MAC table now (the timer calls this every second). */
void sw_age(struct sw *sw);

/* Sum of the switch-wide counters of every worker, plus aged. */
void sw_counters(const struct sw *sw, struct sw_counters *out);

/* What a reload changed (names are malloc'd; free with
 * sw_reload_result_free).  n_unchanged counts the ports whose settings
 * did not change; reopened names those of them that were closed and are
 * open again. */
struct sw_reload_result {
	char **added, **removed, **changed, **reopened;
	size_t n_added, n_removed, n_changed, n_unchanged, n_reopened;
};

/*
 * Make the switch follow a new version of its configuration file.  The
 * [switch] settings that cannot change while running (queues, offload,
 * fdb_size, control_socket, control_group) must be unchanged, or nothing
 * is done and -EINVAL is returned with *err naming them.  Otherwise every
 * port of the new file exists afterwards with the file's settings (ports
 * whose settings did not change are left alone and lose nothing; a port
 * whose settings changed is re-created, on the same interface when it is
 * persistent before and after, with the same ifname and netns), ports
 * that the old file had and the new one does not are removed, ports added
 * at runtime and never in a file are kept, and fdb_aging applies at once.
 * A port of the file whose settings did not change but which is closed
 * (its interface or its namespace was deleted, or is absent) is opened
 * again: a tap port makes its TAP again, a system port attaches if its
 * interface is there (else it waits for it, which is no failure).  If a
 * port cannot be created or opened again (its namespace does not exist,
 * for one), the rest is still applied and -EIO is returned with *err
 * listing the failures, one "port NAME: ..." line each; a port that could
 * not be created does not exist afterwards, one that could not be opened
 * again stays, down.  *res is filled in both cases.
 */
int sw_reload(struct sw *sw, const struct conf *conf,
    struct sw_reload_result *res, char **err);
void sw_reload_result_free(struct sw_reload_result *res);

/* Register the port.*, fdb.*, stats.get and status.get control methods. */
struct ctl;
void sw_ctl_register(struct sw *sw, struct ctl *ctl);

/* The configuration in force: [switch] settings and the ports of the last
 * file loaded (not the ports added at runtime: see sw_ports). */
const struct conf *sw_conf(const struct sw *sw);
/* Whether the workers read and write through io_uring.  When they do
 * not although io_uring = auto or yes, *why says why (owned by sw; valid
 * until sw_destroy); otherwise *why is NULL.  Main thread. */
bool sw_io_uring(const struct sw *sw, const char **why);
/* Seconds since sw_create. */
uint32_t sw_uptime(const struct sw *sw);
struct fdb *sw_fdb(const struct sw *sw);
const struct port_set *sw_ports(const struct sw *sw);
const struct dp *sw_dp(const struct sw *sw);

#endif
