/*
 * nl.h - link setup and monitoring through rtnetlink (libnl-route-3).
 *
 * The only module that includes libnl; its NLE_* codes become -errno here.
 * Network namespaces are named as ip-netns(8) does: /run/netns/NAME.  A
 * NULL netns means the daemon's own namespace.  Work inside another
 * namespace is done on a netlink socket opened there (the calling thread
 * enters the namespace just long enough to create the socket), so no
 * thread of the daemon stays in a foreign namespace.  What needs
 * privileges is called by priv.c, in the privileged helper process when
 * there is one; the monitor itself runs unprivileged.
 *
 * Main thread only.
 */
#ifndef TAPSWITCH_NL_H
#define TAPSWITCH_NL_H

#include <stdbool.h>
#include <stdint.h>

/* The step of a namespace or link operation that failed. */
enum nl_step {
	NL_STEP_NONE,
	NL_STEP_SOCKET,		/* open netlink socket */
	NL_STEP_OPEN_NS,	/* open /run/netns/NAME */
	NL_STEP_ENTER_NS,	/* setns into it */
	NL_STEP_FIND,		/* find the link */
	NL_STEP_MTU,		/* set its MTU */
	NL_STEP_UP,		/* set it up */
};

/* A short description of step, for messages ("set MTU"). */
const char *nl_step_name(enum nl_step step);

/* Translate a libnl error (positive or negative NLE_*) to -errno. */
int nl_errno(int nle);

/*
 * Call fn(arg) with the calling thread inside the network namespace netns
 * (NULL: just call it), and return the thread to its own namespace
 * afterwards (it aborts the process if it cannot: the thread would act
 * on the wrong links).  Returns fn's result, or -errno when the
 * namespace cannot be opened or entered; only then *why is set
 * (NL_STEP_OPEN_NS, NL_STEP_ENTER_NS).  Entering needs CAP_SYS_ADMIN.
 */
int nl_netns_call(const char *netns, int (*fn)(void *arg), void *arg,
    enum nl_step *why);

/*
 * Which namespace a name stands for: the device and inode of the nsfs file
 * that "ip netns add" binds at /run/netns/NAME.  A name deleted and made
 * again stands for another namespace, with another identity.  Equal
 * identities mean the same namespace only while that namespace lives: the
 * inode number of one that is freed may be given to a new one (a socket
 * made inside a namespace keeps it alive).
 */
struct nl_netns_id {
	uint64_t dev;
	uint64_t ino;
};

static inline bool
nl_netns_id_equal(const struct nl_netns_id *a, const struct nl_netns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/*
 * The identity of the namespace that netns names now.  0; -ENOENT when
 * there is no such name; -EAGAIN when the name exists but no namespace is
 * bound to it (yet: "ip netns add" creates the file, then binds the
 * namespace onto it); -EINVAL when netns is not one path component; or
 * -errno.  Needs no privilege, and keeps no reference to the namespace.
 */
int nl_netns_id(const char *netns, struct nl_netns_id *out);

/*
 * A watch of the namespace names: inotify on /run/netns, for a main loop.
 * The callback gets the name of each entry created, deleted or renamed
 * there, or NULL when any name may have changed (events were lost, or the
 * directory itself went away: then the watch has ended).  It says that a
 * name changed, not what it names now: ask nl_netns_id.  Binding a
 * namespace onto an existing file ("ip netns add" does that just after
 * creating it) makes no event of its own.
 */
typedef void (*nl_netns_cb)(void *arg, const char *netns);

struct nl_netns_watch;

/* Start watching.  0; -ENOENT when /run/netns does not exist (nobody has
 * made a namespace with ip-netns(8) yet); or -errno (-EMFILE: the user's
 * inotify instances, fs.inotify.max_user_instances, are used up). */
int nl_netns_watch_open(nl_netns_cb cb, void *arg,
    struct nl_netns_watch **out);
/* The descriptor to watch for readability (libevent). */
int nl_netns_watch_fd(const struct nl_netns_watch *w);
/* Read and dispatch what is pending; never blocks.  false once the watch
 * has ended (the directory was removed, moved or unmounted): close it,
 * and open a new one when the directory is back. */
bool nl_netns_watch_dispatch(struct nl_netns_watch *w);
void nl_netns_watch_close(struct nl_netns_watch *w);

/*
 * Bring the link ifname of netns (NULL: the caller's namespace) to the
 * given MTU and set it up; what is already so is left untouched, so an
 * interface attached to again keeps its state.  created: the caller has
 * just made the link (a TAP); it then gets noqueue as its root qdisc
 * before it goes up, as a veth has.  Returns 0 or -errno;
 * *why then says which step failed.
 */
int nl_link_setup(const char *netns, const char *ifname, unsigned mtu,
    bool created, enum nl_step *why);

/* What attaching to an existing link needs to know of it. */
struct nl_link_info {
	int ifindex;
	unsigned mtu;
	bool up;			/* IFF_UP */
	bool loopback;			/* IFF_LOOPBACK */
	char master[16];		/* name of its bridge/bond; "" none */
};

/* Look up ifname in netns.  0, -ENODEV when there is no such link, or
 * -errno. */
int nl_link_info(const char *netns, const char *ifname,
    struct nl_link_info *out);

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
 * removes the name, and the namespace with its links lives on until
 * nl_mon_close (so the monitor's owner watches the name and closes the
 * monitor when the name goes: nl_netns_watch).
 */
typedef void (*nl_link_cb)(void *arg, const char *netns, int ifindex,
    const char *ifname, bool exists, bool up);

struct nl_mon;

/*
 * A NETLINK_ROUTE socket of netns (NULL: the caller's namespace) for
 * nl_mon_open: bound, close-on-exec, with a receive buffer large enough
 * for bursts of events (beyond net.core.rmem_max with CAP_NET_ADMIN).
 * Creating it in another namespace needs CAP_SYS_ADMIN; using it
 * afterwards needs nothing, so the privileged helper makes it and hands
 * it over (priv.h).  0 or -errno.
 */
int nl_mon_socket(const char *netns, int *fd);

/*
 * Start monitoring on fd, a socket from nl_mon_socket (checked: a bound
 * NETLINK_ROUTE socket), of the namespace netns (NULL: the daemon's; used
 * in callbacks and messages).  Takes fd over, also on failure.  0 or
 * -errno.
 */
int nl_mon_open(int fd, const char *netns, nl_link_cb cb, void *arg,
    struct nl_mon **out);
/* The descriptor to watch for readability (libevent). */
int nl_mon_fd(const struct nl_mon *m);
/* Read and dispatch what is pending; never blocks. */
void nl_mon_dispatch(struct nl_mon *m);
void nl_mon_close(struct nl_mon *m);

#endif
