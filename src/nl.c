/*
 * nl.c - link setup and link monitoring through rtnetlink (libnl-route-3).
 *
 * The only module that includes libnl: every NLE_* code is turned into
 * -errno by nl_errno() before it leaves this file.
 *
 * Requests (MTU, up, lookup, delete) use a short-lived blocking socket
 * per call.  A socket for another namespace is created by entering that
 * namespace with setns(2) just for the socket(2) call and returning at
 * once (nl_netns_call): a netlink socket stays bound to the namespace it
 * was created in, so no thread of the daemon ever lingers in a foreign
 * namespace.  Entering a namespace needs CAP_SYS_ADMIN.
 *
 * The monitor (nl_mon_*) is a non-blocking socket subscribed to
 * RTNLGRP_LINK.  Its socket is made by nl_mon_socket, in the privileged
 * helper when there is one (priv.h): joining the group and reading
 * events on it need no capability afterwards.  It keeps a small table of
 * the links of its namespace so that it can recover from a receive-buffer
 * overrun: the kernel then drops events, so the monitor lists the links
 * again and reports both what exists and what vanished unseen.  The same
 * listing runs right after open, so the callback learns the state it
 * would otherwise have to race for.
 *
 * Namespaces are found by name, and a name may come to stand for another
 * namespace ("ip netns del" and "ip netns add" again).  nl_netns_id says
 * which namespace a name stands for now, and nl_netns_watch (inotify on
 * /run/netns) says when a name may have changed, so that the owner of a
 * monitor can follow the namespace itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "tapswitch/log.h"
#include "tapswitch/nl.h"
#include "tapswitch/util.h"

#define NETNS_DIR "/run/netns/"
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#define SELF_NETNS "/proc/thread-self/ns/net"

/*
 * Monitor receive buffer.  A link change costs a few KiB of skb truesize,
 * so the default 32 KiB overruns after a dozen events; 8 MiB absorbs the
 * burst of a thousand ports created at start-up.  With
 * CAP_NET_ADMIN SO_RCVBUFFORCE passes net.core.rmem_max (nl_mon_socket
 * sets it where the capability is, in the privileged helper).
 */
#define MON_RCVBUF (8 << 20)
/* Datagrams read per nl_mon_dispatch(); the fd stays readable if more
 * are pending, so the event loop comes back without starving others. */
#define MON_BATCH 64

const char *
nl_step_name(enum nl_step step)
{
	static const char *const names[] = {
		[NL_STEP_NONE] = "",
		[NL_STEP_SOCKET] = "open netlink socket",
		[NL_STEP_OPEN_NS] = "open namespace",
		[NL_STEP_ENTER_NS] = "enter namespace",
		[NL_STEP_FIND] = "find link",
		[NL_STEP_MTU] = "set MTU",
		[NL_STEP_UP] = "set up",
	};

	return (unsigned)step < ARRAY_SIZE(names) ? names[step] : "?";
}

int
nl_errno(int nle)
{
	if (nle < 0)
		nle = -nle;
	switch (nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
	case NLE_ATTRSIZE:
	case NLE_IMMUTABLE:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_SRCRT_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		/* libnl turns the kernel's ENOENT into OBJ_NOTFOUND; for
		 * links both mean "no such device". */
		return -ENODEV;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_MSG_OVERFLOW:
		return -ENOBUFS;
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
		return -EBADMSG;
	case NLE_DUMP_INTR:
		/* The listing changed while it was read: try again. */
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/* Whether netns can name /run/netns/NAME: one path component. */
static bool
netns_valid(const char *netns)
{
	return netns[0] != '\0' && !strchr(netns, '/') &&
	    strcmp(netns, ".") != 0 && strcmp(netns, "..") != 0 &&
	    strlen(netns) <= NAME_MAX;
}

/*
 * Open /run/netns/NAME.  A name is one path component, as ip-netns(8)
 * makes them; anything else could point outside /run/netns.
 */
static int
netns_open(const char *netns, int *out)
{
	char path[sizeof(NETNS_DIR) + NAME_MAX];
	int fd;

	if (!netns_valid(netns))
		return -EINVAL;
	snprintf(path, sizeof(path), NETNS_DIR "%s", netns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	*out = fd;
	return 0;
}

int
nl_netns_id(const char *netns, struct nl_netns_id *out)
{
	char path[sizeof(NETNS_DIR) + NAME_MAX];
	struct statfs sfs;
	struct stat st;
	int fd, err = 0;

	if (!netns_valid(netns))
		return -EINVAL;
	snprintf(path, sizeof(path), NETNS_DIR "%s", netns);
	/* O_PATH: no permission needed, and the name is looked up once for
	 * both questions. */
	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return -errno;
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		err = -errno;
	else if (sfs.f_type != NSFS_MAGIC)
		err = -EAGAIN;
	else
		*out = (struct nl_netns_id){ st.st_dev, st.st_ino };
	close(fd);
	return err;
}

/*
 * The watch of /run/netns.
 */

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Reads per nl_netns_watch_dispatch(), as MON_BATCH. */
#define WATCH_BATCH 16

struct nl_netns_watch {
	int fd;
	nl_netns_cb cb;
	void *arg;
};

int
nl_netns_watch_open(nl_netns_cb cb, void *arg, struct nl_netns_watch **out)
{
	struct nl_netns_watch *w;
	int fd, err;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -errno;
	if (inotify_add_watch(fd, NETNS_DIR, WATCH_MASK) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	*out = w;
	return 0;
}

int
nl_netns_watch_fd(const struct nl_netns_watch *w)
{
	return w->fd;
}

bool
nl_netns_watch_dispatch(struct nl_netns_watch *w)
{
	union {
		char buf[4096];
		struct inotify_event align;
	} u;
	const struct inotify_event *ev;
	bool ended = false, lost = false;
	ssize_t n;

	for (int i = 0; i < WATCH_BATCH && !ended; i++) {
		if ((n = read(w->fd, u.buf, sizeof(u.buf))) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("watching %s: %s", NETNS_DIR,
				    strerror(errno));
			break;
		}
		for (size_t off = 0; off < (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(u.buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				lost = true;
			else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_UNMOUNT | IN_IGNORED))
				ended = true;
			else if (ev->len && netns_valid(ev->name))
				w->cb(w->arg, ev->name);
		}
	}
	if (lost || ended)
		w->cb(w->arg, NULL);
	return !ended;
}

void
nl_netns_watch_close(struct nl_netns_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
}

int
nl_netns_call(const char *netns, int (*fn)(void *arg), void *arg,
    enum nl_step *why)
{
	int nsfd, self, err;

	if (!netns)
		return fn(arg);
	if ((err = netns_open(netns, &nsfd)) < 0) {
		*why = NL_STEP_OPEN_NS;
		return err;
	}
	if ((self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC)) < 0) {
		err = -errno;
		close(nsfd);
		*why = NL_STEP_ENTER_NS;
		return err;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(self);
		close(nsfd);
		*why = NL_STEP_ENTER_NS;
		return err;
	}
	close(nsfd);
	err = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* The thread would now run in a container's namespace and
		 * configure the wrong links: nothing sane is left. */
		log_error("cannot return to the daemon's network namespace: "
		    "%s", strerror(errno));
		abort();
	}
	close(self);
	return err;
}

static int
sock_connect_here(void *arg)
{
	int err = nl_connect(arg, NETLINK_ROUTE);

	return err < 0 ? nl_errno(err) : 0;
}

/* A connected, blocking request socket in the namespace netns (NULL:
 * the caller's). */
static int
sock_open(const char *netns, struct nl_sock **out, enum nl_step *why)
{
	struct nl_sock *sk;
	int err;

	*why = NL_STEP_SOCKET;
	if (!(sk = nl_socket_alloc()))
		return -ENOMEM;
	if ((err = nl_netns_call(netns, sock_connect_here, sk, why)) < 0) {
		nl_socket_free(sk);
		return err;
	}
	*out = sk;
	return 0;
}

static void
sock_close(struct nl_sock *sk)
{
	if (sk) {
		nl_close(sk);
		nl_socket_free(sk);
	}
}

/* Apply changes to the link orig; 0 or -errno. */
static int
link_change(struct nl_sock *sk, struct rtnl_link *orig,
    struct rtnl_link *changes)
{
	int err = rtnl_link_change(sk, orig, changes, 0);

	return err < 0 ? nl_errno(err) : 0;
}

static int
link_find(struct nl_sock *sk, const char *ifname, struct rtnl_link **out)
{
	int err = rtnl_link_get_kernel(sk, 0, ifname, out);

	return err < 0 ? nl_errno(err) : 0;
}

/* Set IFF_UP on the link called ifname of sk's namespace. */
static int
link_set_up(struct nl_sock *sk, const char *ifname, enum nl_step *why)
{
	struct rtnl_link *link = NULL, *change;
	int err;

	*why = NL_STEP_FIND;
	if ((err = link_find(sk, ifname, &link)) < 0)
		return err;
	*why = NL_STEP_UP;
	if (!(change = rtnl_link_alloc())) {
		rtnl_link_put(link);
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	err = link_change(sk, link, change);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return err;
}

/*
 * Make noqueue the root qdisc of the link ifindex, which is down.  A TAP
 * never stops its transmit queue (a full ring drops in tun_net_xmit), so
 * the qdisc the kernel would attach when the link goes up only adds an
 * enqueue and a dequeue to every frame; and for a multiqueue TAP it is an
 * mq with a pfifo_fast for each of the 256 possible queues, whose rings
 * make each "up" cost megabytes of memset.  veth links, the bridge's
 * ports, have no qdisc either.
 */
static int
link_set_noqueue(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q;
	int err;

	if (!(q = rtnl_qdisc_alloc()))
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	if ((err = rtnl_tc_set_kind(TC_CAST(q), "noqueue")) == 0)
		err = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	return err < 0 ? nl_errno(err) : 0;
}

int
nl_link_setup(const char *netns, const char *ifname, unsigned mtu,
    bool created, enum nl_step *why)
{
	struct rtnl_link *link = NULL, *change = NULL;
	struct nl_sock *sk = NULL;
	int err;

	if ((err = sock_open(netns, &sk, why)) < 0)
		return err;
	*why = NL_STEP_FIND;
	if ((err = link_find(sk, ifname, &link)) < 0)
		goto out;

	/* A persistent TAP attached to again may be as we want it already;
	 * leave it alone then, so nothing in the namespace notices. */
	if (rtnl_link_get_mtu(link) != mtu) {
		*why = NL_STEP_MTU;
		err = -ENOMEM;
		if (!(change = rtnl_link_alloc()))
			goto out;
		rtnl_link_set_mtu(change, mtu);
		if ((err = link_change(sk, link, change)) < 0)
			goto out;
	}
	/* Only on a TAP made just now, which is down: a qdisc found on an
	 * existing one may be someone's choice (and one made by an earlier
	 * start has noqueue already).  Without it the link still works,
	 * with the kernel's default qdisc. */
	if (created && (err = link_set_noqueue(sk, rtnl_link_get_ifindex(link))) < 0)
		log_debug("%s: keeping the kernel's default qdisc: cannot "
		    "attach noqueue: %s", ifname, strerror(-err));
	err = 0;
	if (!(rtnl_link_get_flags(link) & IFF_UP))
		err = link_set_up(sk, ifname, why);

out:
	if (change)
		rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	sock_close(sk);
	return err;
}

int
nl_link_info(const char *netns, const char *ifname, struct nl_link_info *out)
{
	struct rtnl_link *link, *master;
	struct nl_sock *sk;
	enum nl_step why;
	int err, mi;

	memset(out, 0, sizeof(*out));
	if ((err = sock_open(netns, &sk, &why)) < 0)
		return err;
	if ((err = link_find(sk, ifname, &link)) == 0) {
		out->ifindex = rtnl_link_get_ifindex(link);
		out->up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
		out->loopback = (rtnl_link_get_flags(link) & IFF_LOOPBACK) != 0;
		out->mtu = rtnl_link_get_mtu(link);
		if ((mi = rtnl_link_get_master(link)) > 0) {
			snprintf(out->master, sizeof(out->master), "#%d", mi);
			if (rtnl_link_get_kernel(sk, mi, NULL, &master) >= 0) {
				snprintf(out->master, sizeof(out->master),
				    "%s", rtnl_link_get_name(master));
				rtnl_link_put(master);
			}
		}
		rtnl_link_put(link);
	}
	sock_close(sk);
	return err;
}

/*
 * The monitor.
 */

struct mon_link {
	int ifindex;
	bool stale;			/* not seen since the listing began */
	char name[IFNAMSIZ];
};

struct nl_mon {
	struct nl_sock *sk;
	char *netns;			/* NULL: the daemon's namespace */
	nl_link_cb cb;
	void *arg;
	struct mon_link *links;		/* the namespace's links, unordered */
	size_t n_links, cap_links;
	uint32_t dump_seq;		/* listing in flight; 0: none */
	bool dump_intr;			/* it changed while being read */
	bool resync;			/* list again once the socket is empty */
};

static struct mon_link *
mon_find(struct nl_mon *m, int ifindex)
{
	for (size_t i = 0; i < m->n_links; i++)
		if (m->links[i].ifindex == ifindex)
			return &m->links[i];
	return NULL;
}

static void
mon_forget(struct nl_mon *m, struct mon_link *l)
{
	*l = m->links[--m->n_links];
}

static void
mon_report(struct nl_mon *m, int ifindex, const char *name, bool exists,
    bool up)
{
	m->cb(m->arg, m->netns, ifindex, name, exists, up);
}

/*
 * Ask for every link of the namespace.  The answers come back through
 * nl_mon_dispatch() like events, interleaved with the events in the order
 * the kernel produced them (it builds each part of a listing only when we
 * read the previous one), so handling everything in arrival order leaves
 * the table right; what is still stale when the listing ends has
 * vanished.
 *
 * Only ever called with the socket drained (or new): an event queued
 * before the request but read after it would make a link that has since
 * vanished look fresh, and the sweep would miss it.
 */
static int
mon_dump(struct nl_mon *m)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int err;

	if (!(msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP)))
		return -ENOMEM;
	if ((err = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO)) < 0)
		goto out;
	if ((err = nl_send_auto(m->sk, msg)) < 0)
		goto out;
	m->dump_seq = nlmsg_hdr(msg)->nlmsg_seq;
	m->dump_intr = false;
	for (size_t i = 0; i < m->n_links; i++)
		m->links[i].stale = true;
	err = 0;
out:
	nlmsg_free(msg);
	return err < 0 ? nl_errno(err) : 0;
}

static void
mon_dump_start(struct nl_mon *m)
{
	int err;

	if ((err = mon_dump(m)) < 0)
		log_warn("netlink: cannot list the links of %s: %s",
		    m->netns ? m->netns : "the daemon's namespace",
		    strerror(-err));
}

static bool
mon_is_dump(const struct nl_mon *m, const struct nlmsghdr *nlh)
{
	return m->dump_seq && nlh->nlmsg_seq == m->dump_seq &&
	    nlh->nlmsg_pid == nl_socket_get_local_port(m->sk);
}

static int
mon_valid(struct nl_msg *msg, void *arg)
{
	struct nl_mon *m = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;
	struct mon_link *l;
	char name[IFNAMSIZ];
	bool up;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return NL_OK;
	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return NL_OK;
	ifi = nlmsg_data(nlh);
	/* AF_BRIDGE messages describe bridge-port state, and their
	 * RTM_DELLINK only means "left the bridge". */
	if (ifi->ifi_family != AF_UNSPEC)
		return NL_OK;
	if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_IFNAME])
		return NL_OK;
	nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
	up = (ifi->ifi_flags & IFF_UP) != 0;
	l = mon_find(m, ifi->ifi_index);

	/* A link moved to another namespace is an RTM_DELLINK here. */
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (l)
			mon_forget(m, l);
		mon_report(m, ifi->ifi_index, name, false, up);
		return NL_OK;
	}
	if (!l) {
		if (m->n_links == m->cap_links) {
			m->cap_links = m->cap_links ? 2 * m->cap_links : 16;
			m->links = xrealloc(m->links,
			    m->cap_links * sizeof(*m->links));
		}
		l = &m->links[m->n_links++];
		l->ifindex = ifi->ifi_index;
	}
	memcpy(l->name, name, sizeof(l->name));
	l->stale = false;
	mon_report(m, ifi->ifi_index, name, true, up);
	return NL_OK;
}

static int
mon_dump_intr(struct nl_msg *msg, void *arg)
{
	struct nl_mon *m = arg;

	if (mon_is_dump(m, nlmsg_hdr(msg)))
		m->dump_intr = true;
	return NL_OK;
}

static int
mon_finish(struct nl_msg *msg, void *arg)
{
	struct nl_mon *m = arg;
	struct mon_link gone;
	size_t i;

	if (!mon_is_dump(m, nlmsg_hdr(msg)))
		return NL_OK;
	m->dump_seq = 0;
	if (m->dump_intr) {
		/* The listing may have skipped links: nothing is known to
		 * be gone.  List again. */
		m->resync = true;
		return NL_OK;
	}
	for (i = 0; i < m->n_links;) {
		if (!m->links[i].stale) {
			i++;
			continue;
		}
		gone = m->links[i];
		mon_forget(m, &m->links[i]);
		mon_report(m, gone.ifindex, gone.name, false, false);
	}
	return NL_OK;
}

static int
mon_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_mon *m = arg;

	if (m->dump_seq && e->msg.nlmsg_seq == m->dump_seq) {
		log_warn("netlink: cannot list the links of %s: %s",
		    m->netns ? m->netns : "the daemon's namespace",
		    strerror(-e->error));
		m->dump_seq = 0;
		for (size_t i = 0; i < m->n_links; i++)
			m->links[i].stale = false;
	}
	return NL_SKIP;
}

struct mon_socket_args {
	int fd;
};

static int
mon_socket_here(void *arg)
{
	struct mon_socket_args *a = arg;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int size = MON_RCVBUF, fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Port 0: the kernel picks a free one in the namespace. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		goto fail;
	a->fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

int
nl_mon_socket(const char *netns, int *fd)
{
	struct mon_socket_args a = { .fd = -1 };
	enum nl_step why;
	int err;

	if ((err = nl_netns_call(netns, mon_socket_here, &a, &why)) < 0)
		return err;
	*fd = a.fd;
	return 0;
}

/* Whether fd is a bound NETLINK_ROUTE raw socket, as nl_mon_socket
 * makes them. */
static int
mon_socket_check(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);
	int v;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (len != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid == 0)
		return -EINVAL;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0)
		return -errno;
	return v == NETLINK_ROUTE ? 0 : -EINVAL;
}

int
nl_mon_open(int fd, const char *netns, nl_link_cb cb, void *arg,
    struct nl_mon **out)
{
	struct nl_mon *m;
	int err;

	if ((err = mon_socket_check(fd)) < 0) {
		close(fd);
		return err;
	}
	m = xcalloc(1, sizeof(*m));
	m->cb = cb;
	m->arg = arg;
	m->netns = xstrdup_null(netns);
	if (!(m->sk = nl_socket_alloc())) {
		close(fd);
		err = -ENOMEM;
		goto fail;
	}
	if ((err = nl_socket_set_fd(m->sk, NETLINK_ROUTE, fd)) < 0) {
		/* Not taken over: still ours to close. */
		close(fd);
		err = nl_errno(err);
		goto fail;
	}

	/* Events carry whatever sequence number caused them. */
	nl_socket_disable_seq_check(m->sk);
	nl_socket_disable_auto_ack(m->sk);
	nl_socket_modify_cb(m->sk, NL_CB_VALID, NL_CB_CUSTOM, mon_valid, m);
	nl_socket_modify_cb(m->sk, NL_CB_FINISH, NL_CB_CUSTOM, mon_finish, m);
	nl_socket_modify_cb(m->sk, NL_CB_DUMP_INTR, NL_CB_CUSTOM,
	    mon_dump_intr, m);
	nl_socket_modify_err_cb(m->sk, NL_CB_CUSTOM, mon_error, m);

	if ((err = nl_socket_set_nonblocking(m->sk)) < 0 ||
	    (err = nl_socket_add_membership(m->sk, RTNLGRP_LINK)) < 0) {
		err = nl_errno(err);
		goto fail;
	}
	/* Subscribed first, so nothing falls between listing and events. */
	if ((err = mon_dump(m)) < 0)
		goto fail;
	*out = m;
	return 0;

fail:
	nl_mon_close(m);
	return err;
}

int
nl_mon_fd(const struct nl_mon *m)
{
	return nl_socket_get_fd(m->sk);
}


void
nl_mon_dispatch(struct nl_mon *m)
{
	int i, err;

	for (i = 0; i < MON_BATCH; i++) {
		err = nl_recvmsgs_default(m->sk);
		if (err >= 0)
			continue;
		if (err == -NLE_AGAIN) {
			/* Drained: what was queued before is handled, so
			 * a listing now is newer than every event read. The
			 * kernel runs one dump per socket at a time, so a
			 * listing in flight defers the next to its end. */
			if (m->resync && !m->dump_seq) {
				m->resync = false;
				mon_dump_start(m);
			}
			return;
		}
		if (err == -NLE_NOMEM) {
			/* libnl's name for ENOBUFS: the kernel dropped
			 * events for lack of room in our buffer (or we ran
			 * out of memory parsing; the remedy is the same). */
			log_warn("netlink: link events of %s lost (receive "
			    "buffer overrun); listing links again",
			    m->netns ? m->netns : "the daemon's namespace");
			m->resync = true;
			continue;
		}
		log_warn("netlink: reading link events of %s: %s",
		    m->netns ? m->netns : "the daemon's namespace",
		    strerror(-nl_errno(err)));
		return;
	}
}

void
nl_mon_close(struct nl_mon *m)
{
	if (!m)
		return;
	sock_close(m->sk);
	free(m->links);
	free(m->netns);
	free(m);
}
