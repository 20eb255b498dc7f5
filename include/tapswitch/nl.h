/*
 * nl.h - link setup and monitoring through rtnetlink (libnl-route-3).
 *
 * The only module that includes libnl; its NLE_* codes become -errno here.
 * Network namespaces are named as ip-netns(8) does: /run/netns/NAME.  A
 * NULL netns means the daemon's own namespace.  Work inside another
 * namespace is done on a netlink socket opened there (the calling thread
 * enters the namespace just long enough to create the socket), so no
 * thread of the daemon stays in a foreign namespace.
 *
 * Main thread only.
 */
#ifndef TAPSWITCH_NL_H
#define TAPSWITCH_NL_H

#include <stdbool.h>

/* Translate a libnl error (positive or negative NLE_*) to -errno. */
int nl_errno(int nle);

/*
 * Bring the link ifname of the daemon's namespace to the given MTU, move
 * it into netns when netns is not NULL, and set it up there.  Returns 0
 * or -errno; *why then points to a static description of the step that
 * failed ("set MTU", "move to namespace", ...).
 */
int nl_link_setup(const char *ifname, unsigned mtu, const char *netns,
    const char **why);

/* Look up ifname in netns: its ifindex (> 0) and whether it is up (IFF_UP).
 * Returns -ENODEV when there is no such link. */
int nl_link_get(const char *netns, const char *ifname, int *ifindex,
    bool *up);

/* Delete the link ifindex in netns (used for persistent TAPs and TAPs in
 * other namespaces).  0, -ENODEV, or -errno. */
int nl_link_delete(const char *netns, int ifindex);

/*
 * Link monitor of one namespace.  The callback runs from nl_mon_dispatch()
 * for each RTM_NEWLINK/RTM_DELLINK: exists is false when the link left the
 * namespace (deleted or moved away); up is IFF_UP.
 *
 * Right after nl_mon_open, and again after the socket overran (events
 * lost), the monitor lists the namespace's links: the callback then also
 * reports every existing link (exists true) and every link that vanished
 * while events were lost (exists false).  The callback must not close the
 * monitor.  An open monitor holds its namespace: "ip netns del" then only
 * removes the name, and the links in it live on until nl_mon_close.
 */
typedef void (*nl_link_cb)(void *arg, const char *netns, int ifindex,
    const char *ifname, bool exists, bool up);

struct nl_mon;

int nl_mon_open(const char *netns, nl_link_cb cb, void *arg,
    struct nl_mon **out);
/* The descriptor to watch for readability (libevent). */
int nl_mon_fd(const struct nl_mon *m);
/* Read and dispatch what is pending; never blocks. */
void nl_mon_dispatch(struct nl_mon *m);
void nl_mon_close(struct nl_mon *m);
const char *nl_mon_netns(const struct nl_mon *m);

#endif
