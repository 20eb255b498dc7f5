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
struct sw;

/*
 * Build and start a switch from conf (copied): MAC table, one worker per
 * queue, and every port of conf with the given backend.  With a non-NULL
 * base, link monitors and the aging timer are registered on it.
 * 0, or -errno with a malloc'd message in *err; nothing is left behind on
 * failure.
 */
int sw_create(const struct conf *conf, const struct port_backend *backend,
    struct event_base *base, struct sw **out, char **err);

/* Stop the workers, close every port (TAPs the switch created disappear)
 * and free everything. */
void sw_destroy(struct sw *sw);

/* Add a port while the switch runs.  0, or -errno with *err (-EEXIST when
 * the name or ifname is taken). */
int sw_port_add(struct sw *sw, const struct conf_port *cp, char **err);
/* Remove a port and its MAC entries.  0 or -ENOENT. */
int sw_port_del(struct sw *sw, const char *name);
struct port *sw_port_find(const struct sw *sw, const char *name);

/* Age the MAC table now (the timer calls this every second). */
void sw_age(struct sw *sw);

/* Sum of the switch-wide counters of every worker, plus aged. */
void sw_counters(const struct sw *sw, struct sw_counters *out);

const struct conf *sw_conf(const struct sw *sw);
struct fdb *sw_fdb(const struct sw *sw);
const struct port_set *sw_ports(const struct sw *sw);
const struct dp *sw_dp(const struct sw *sw);

#endif
