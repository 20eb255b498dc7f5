/*
 * priv.c - privilege separation (see priv.h for the theory of operation).
 *
 * Three parts: the operations themselves (*_local: TAP open through tap.c
 * inside the port's namespace, link setup and lookup and monitor sockets
 * through nl.c), which run in the helper -- or in the calling process
 * when there is no helper; the helper (priv_start's child and
 * priv_serve); and the client side (priv_call and the priv_* requests).
 *
 * The wire format is two fixed-size structs, one SOCK_SEQPACKET message
 * each, so a request can be checked field by field before anything is
 * done with it; descriptors travel with SCM_RIGHTS from the helper to the
 * main process only.  Requests are answered in order, one at a time, and
 * every answer carries the sequence number of its request.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>

#include "tapswitch/conf.h"
#include "tapswitch/log.h"
#include "tapswitch/nl.h"
#include "tapswitch/packet.h"
#include "tapswitch/priv.h"
#include "tapswitch/tap.h"
#include "tapswitch/udp.h"
#include "tapswitch/unixsock.h"
#include "tapswitch/util.h"

enum priv_type {
	PRIV_OPEN_PORT = 1,
	PRIV_LINK_STATE,
	PRIV_MONITOR,
	PRIV_STOP,
	PRIV_OPEN_PACKET,
	PRIV_OPEN_UDP,
	PRIV_BIND_UNIX,
};

/* A request.  Strings are NUL-terminated inside their arrays; "" netns
 * is the daemon's namespace; fields a type does not use are zero. */
struct priv_req {
	uint32_t type;
	uint32_t seq;
	uint32_t nqueues;
	uint32_t mtu;
	uint8_t vnet_hdr;
	uint8_t persist;
	char ifname[IFNAMSIZ];
	char netns[CONF_NETNS_MAX + 1];
	/* OPEN_UDP: the endpoint; nqueues receive sockets, ntx send
	 * sockets. */
	uint8_t addr[16];
	uint16_t port;
	uint8_t family;		/* 4 or 6 */
	uint8_t ntx;
	/* BIND_UNIX: the socket file, its type (1 stream, 2 datagram),
	 * owner, group (-1: unchanged) and mode. */
	char path[UNIXSOCK_PATH_MAX + 1];
	uint8_t socktype;
	uint32_t uid, gid, mode;
};

/* An answer; nfds descriptors come with it (SCM_RIGHTS). */
struct priv_resp {
	uint32_t seq;			/* of the request; 0: ready at start */
	int32_t err;			/* 0 or -errno */
	int32_t ifindex;
	uint32_t mtu;			/* OPEN_PACKET */
	uint32_t nfds;
	uint8_t created;
	uint8_t up;
	char message[PRIV_MESSAGE_MAX];	/* on error; NUL-terminated */
};

/* Most descriptors one answer carries. */
#define PRIV_FDS_MAX (CONF_QUEUES_MAX + UDP_TX_SOCKS)

/* How long priv_stop waits for the helper to exit. */
#define PRIV_STOP_WAIT_MS 1000

struct priv {
	int sock;			/* -1 once the helper is gone */
	pid_t pid;
	uint32_t seq;
	int broken;			/* 0, or why requests fail (-errno) */
	char *gone;			/* what happened to the helper */
	void (*lost)(void *, const char *); /* priv_on_lost */
	void *lost_arg;
};

/*
 * The operations.
 */

/* What to do about an error from tap_open, or "". */
static const char *
tap_hint(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return " (tapswitchd needs CAP_NET_ADMIN: start it as root)";
	case -ENOENT:
	case -ENODEV:
		return " (is the tun module loaded? try \"modprobe tun\")";
	case -EBUSY:
		return " (an interface of that name exists and is not a "
		    "multiqueue TAP, or another program has it open with "
		    "other settings)";
	case -EINVAL:
		return " (not a valid interface name?)";
	default:
		return "";
	}
}

/* " in namespace \"NS\"" or "", for messages. */
static char *
in_netns(const char *netns)
{
	return netns ? xasprintf(" in namespace \"%s\"", netns) : xstrdup("");
}

/* The message for a namespace that cannot be opened or entered. */
static char *
netns_error(const char *netns, enum nl_step why, int err)
{
	if (why == NL_STEP_OPEN_NS && err == -ENOENT)
		return xasprintf("network namespace \"%s\" does not exist (no "
		    "/run/netns/%s): create it with \"ip netns add %s\"",
		    netns, netns, netns);
	if (why == NL_STEP_OPEN_NS)
		return xasprintf("cannot open network namespace /run/netns/%s: "
		    "%s", netns, strerror(-err));
	return xasprintf("cannot enter network namespace \"%s\": %s%s", netns,
	    strerror(-err), err == -EPERM ? " (this needs CAP_SYS_ADMIN: "
	    "start tapswitchd as root)" : "");
}

/* The message for a failed nl_link_setup or lookup step. */
static char *
setup_error(const struct priv_port_req *req, enum nl_step why, int err)
{
	char *where = in_netns(req->netns), *msg;

	if (why == NL_STEP_OPEN_NS || why == NL_STEP_ENTER_NS)
		msg = netns_error(req->netns, why, err);
	else if (why == NL_STEP_MTU)
		msg = xasprintf("cannot set the MTU of %s%s to %u: %s%s",
		    req->ifname, where, req->mtu, strerror(-err),
		    err == -EINVAL ? " (a TAP allows 68 to 65521)" : "");
	else if (why == NL_STEP_UP)
		msg = xasprintf("cannot bring %s up%s: %s", req->ifname, where,
		    strerror(-err));
	else
		msg = xasprintf("cannot set up %s%s (%s): %s", req->ifname,
		    where, nl_step_name(why), strerror(-err));
	free(where);
	return msg;
}

struct tap_call {
	const struct priv_port_req *req;
	int *fds;
	bool created;
};

static int
tap_here(void *arg)
{
	struct tap_call *c = arg;

	return tap_open(c->req->ifname, c->req->nqueues, c->req->vnet_hdr,
	    c->req->persist, c->fds, &c->created);
}

static int
open_port_local(const struct priv_port_req *req, int *fds,
    struct priv_port_res *res, char **msg)
{
	struct nl_link_info li;
	struct tap_call c = { .req = req, .fds = fds };
	enum nl_step why = NL_STEP_NONE;
	char *where;
	int err;

	/* Opened from inside the namespace, the clone device creates the
	 * TAP there or finds the one that already lives there: no move,
	 * so a persistent TAP is found again after a restart. */
	err = nl_netns_call(req->netns, tap_here, &c, &why);
	if (err < 0) {
		if (why != NL_STEP_NONE) {
			*msg = netns_error(req->netns, why, err);
		} else {
			where = in_netns(req->netns);
			*msg = xasprintf("cannot create TAP \"%s\"%s: %s%s",
			    req->ifname, where, strerror(-err),
			    tap_hint(err));
			free(where);
		}
		return err;
	}
	if ((err = nl_link_setup(req->netns, req->ifname, req->mtu,
	    c.created, &why)) < 0) {
		*msg = setup_error(req, why, err);
		goto fail;
	}
	if ((err = nl_link_info(req->netns, req->ifname, &li)) < 0) {
		where = in_netns(req->netns);
		*msg = xasprintf("cannot look up %s%s: %s", req->ifname, where,
		    strerror(-err));
		free(where);
		goto fail;
	}
	res->ifindex = li.ifindex;
	res->up = li.up;
	res->created = c.created;
	return 0;

fail:
	/* A TAP made here goes again with its last fd, once it is not
	 * persistent; one that was there before stays as it was. */
	if (c.created && req->persist)
		tap_set_persist(fds[0], false);
	tap_close(fds, req->nqueues);
	return err;
}

struct packet_call {
	const struct priv_packet_req *req;
	int ifindex;
	int *fds;
};

static int
packet_here(void *arg)
{
	struct packet_call *c = arg;

	return packet_open(c->ifindex, c->req->nqueues, c->req->vnet_hdr,
	    c->fds);
}

static int
open_packet_local(const struct priv_packet_req *req, int *fds,
    struct priv_packet_res *res, char **msg)
{
	struct packet_call c = { .req = req, .fds = fds };
	struct nl_link_info li;
	enum nl_step why = NL_STEP_NONE;
	char *where = in_netns(req->netns);
	int err;

	err = nl_link_info(req->netns, req->ifname, &li);
	if (err == -ENOENT && req->netns)
		*msg = netns_error(req->netns, NL_STEP_OPEN_NS, err);
	else if (err == -ENODEV)
		*msg = xasprintf("no interface %s%s", req->ifname, where);
	else if (err < 0)
		*msg = xasprintf("cannot look up %s%s: %s", req->ifname, where,
		    strerror(-err));
	else if (li.loopback)
		err = -EINVAL, *msg = xasprintf("%s%s is a loopback interface, "
		    "which cannot be a switch port", req->ifname, where);
	else if (li.master[0])
		err = -EBUSY, *msg = xasprintf("%s%s is enslaved to %s (a "
		    "bridge or bond); take it out first (\"ip link set %s "
		    "nomaster\")", req->ifname, where, li.master, req->ifname);
	if (err < 0)
		goto out;
	c.ifindex = li.ifindex;
	err = nl_netns_call(req->netns, packet_here, &c, &why);
	if (err < 0) {
		if (why != NL_STEP_NONE)
			*msg = netns_error(req->netns, why, err);
		else
			*msg = xasprintf("cannot open packet sockets on %s%s: "
			    "%s%s", req->ifname, where, strerror(-err),
			    err == -EPERM ? " (this needs CAP_NET_RAW: start "
			    "tapswitchd as root)" : "");
		/* Gone between the lookup and the bind: absent. */
		if (err == -ENODEV || err == -ENXIO)
			err = -ENODEV;
		goto out;
	}
	res->ifindex = li.ifindex;
	res->mtu = li.mtu;
	res->up = li.up;
out:
	free(where);
	return err;
}

struct udp_call {
	const struct priv_udp_req *req;
	int *fds;
};

static int
udp_here(void *arg)
{
	struct udp_call *c = arg;

	return udp_open(&c->req->ep, c->req->nrx, c->req->ntx, c->fds);
}

static int
open_udp_local(const struct priv_udp_req *req, int *fds, char **msg)
{
	struct udp_call c = { .req = req, .fds = fds };
	enum nl_step why = NL_STEP_NONE;
	char *where = in_netns(req->netns);
	char a[INET6_ADDRSTRLEN];
	int err;

	err = nl_netns_call(req->netns, udp_here, &c, &why);
	if (err < 0 && why != NL_STEP_NONE)
		*msg = netns_error(req->netns, why, err);
	else if (err < 0)
		*msg = xasprintf("cannot open UDP sockets on %s%s%s port %u%s: "
		    "%s%s", req->ep.family == AF_INET6 ? "[" : "",
		    udp_addr_str(&req->ep.addr, a),
		    req->ep.family == AF_INET6 ? "]" : "", req->ep.port, where,
		    strerror(-err), err == -EADDRINUSE ? " (another program "
		    "uses that port; see \"ss -ulpn\")" :
		    err == -EADDRNOTAVAIL ? " (local = must be an address of "
		    "that namespace)" : "");
	free(where);
	return err;
}

static int
monitor_local(const char *netns, int *fd, char **msg)
{
	int err = nl_mon_socket(netns, fd);

	if (err == -ENOENT && netns)
		*msg = netns_error(netns, NL_STEP_OPEN_NS, err);
	else if (err < 0)
		*msg = xasprintf("cannot monitor links in %s%s%s: %s%s",
		    netns ? "namespace \"" : "the daemon's namespace",
		    netns ? netns : "", netns ? "\"" : "", strerror(-err),
		    err == -EPERM ? " (this needs CAP_SYS_ADMIN: start "
		    "tapswitchd as root)" : "");
	return err;
}

/*
 * Request checks.
 */

static bool
str_in(const char *a, size_t size)
{
	return memchr(a, '\0', size) != NULL;
}

int
priv_request_check(const void *buf, size_t len, unsigned fds_passed)
{
	struct priv_req rq;
	bool has_if, has_ns, zero, no_udp;

	if (len != sizeof(rq) || fds_passed)
		return -EINVAL;
	memcpy(&rq, buf, sizeof(rq));
	if (!str_in(rq.ifname, sizeof(rq.ifname)) ||
	    !str_in(rq.netns, sizeof(rq.netns)))
		return -EINVAL;
	has_if = rq.ifname[0] != '\0';
	has_ns = rq.netns[0] != '\0';
	if ((has_if && !conf_ifname_valid(rq.ifname)) ||
	    (has_ns && !conf_netns_valid(rq.netns)))
		return -EINVAL;
	if (!str_in(rq.path, sizeof(rq.path)))
		return -EINVAL;
	no_udp = rq.port == 0 && rq.family == 0 && rq.ntx == 0 &&
	    memcmp(rq.addr, (uint8_t[16]){ 0 }, sizeof(rq.addr)) == 0 &&
	    rq.path[0] == '\0' && rq.socktype == 0 && rq.uid == 0 &&
	    rq.gid == 0 && rq.mode == 0;
	zero = rq.nqueues == 0 && rq.mtu == 0 && rq.vnet_hdr == 0 &&
	    rq.persist == 0 && no_udp;
	switch (rq.type) {
	case PRIV_OPEN_PORT:
		if (!has_if || rq.nqueues < 1 ||
		    rq.nqueues > CONF_QUEUES_MAX || rq.mtu < CONF_MTU_MIN ||
		    rq.mtu > CONF_MTU_MAX || rq.vnet_hdr > 1 ||
		    rq.persist > 1 || !no_udp)
			return -EINVAL;
		return 0;
	case PRIV_OPEN_PACKET:
		if (!has_if || rq.nqueues < 1 ||
		    rq.nqueues > CONF_QUEUES_MAX || rq.mtu != 0 ||
		    rq.vnet_hdr > 1 || rq.persist != 0 || !no_udp)
			return -EINVAL;
		return 0;
	case PRIV_OPEN_UDP: {
		struct in6_addr a;

		memcpy(&a, rq.addr, sizeof(a));
		if (has_if || rq.nqueues < 1 ||
		    rq.nqueues > CONF_QUEUES_MAX || rq.ntx > UDP_TX_SOCKS ||
		    rq.mtu != 0 || rq.vnet_hdr != 0 || rq.persist != 0 ||
		    rq.port == 0 || (rq.family != 4 && rq.family != 6) ||
		    (rq.family == 4) != !!udp_addr_is_v4(&a))
			return -EINVAL;
		return 0;
	}
	case PRIV_BIND_UNIX: {
		struct priv_req z = rq;
		char *why_path = NULL;
		const char *why;
		int ok;

		/* Only the unix fields may be set. */
		memset(z.path, 0, sizeof(z.path));
		z.socktype = 0;
		z.uid = z.gid = z.mode = 0;
		ok = unixsock_conf_path(&why_path, rq.path, &why) == 0;
		free(why_path);
		if (!ok || has_if || has_ns || z.nqueues || z.mtu ||
		    z.vnet_hdr || z.persist || z.port || z.family || z.ntx ||
		    memcmp(z.addr, (uint8_t[16]){ 0 }, sizeof(z.addr)) != 0 ||
		    (rq.socktype != 1 && rq.socktype != 2) ||
		    rq.mode > 0777 ||
		    (rq.uid > INT32_MAX && rq.uid != UINT32_MAX) ||
		    (rq.gid > INT32_MAX && rq.gid != UINT32_MAX))
			return -EINVAL;
		return 0;
	}
	case PRIV_LINK_STATE:
		return has_if && zero ? 0 : -EINVAL;
	case PRIV_MONITOR:
		return !has_if && zero ? 0 : -EINVAL;
	case PRIV_STOP:
		return !has_if && !has_ns && zero ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/*
 * The helper.
 */

/* Close the descriptors of every SCM_RIGHTS message in mh (a request
 * must carry none); returns how many there were. */
static unsigned
close_passed_fds(struct msghdr *mh)
{
	struct cmsghdr *c;
	unsigned n = 0;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t i, k;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
			n++;
		}
	}
	return n;
}

/* Send resp with fds[0..resp->nfds); 0 or -errno. */
static int
send_resp(int sock, const struct priv_resp *resp, const int *fds)
{
	union {
		char buf[CMSG_SPACE(PRIV_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)resp,
	    .iov_len = sizeof(*resp) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (resp->nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(resp->nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(resp->nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, resp->nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void
set_message(struct priv_resp *resp, char *msg)
{
	if (msg) {
		snprintf(resp->message, sizeof(resp->message), "%s", msg);
		free(msg);
	}
}

/* Remove the cleanup files; what is already gone is fine. */
static void
remove_files(const char *const *cleanup)
{
	for (; cleanup && *cleanup; cleanup++)
		if (unlink(*cleanup) < 0 && errno != ENOENT)
			log_warn(PRIV_COMM ": cannot remove %s: %s", *cleanup,
			    strerror(errno));
}

/* Handle one checked request from a main process running as
 * uid:gid; returns false after STOP. */
static bool
serve_one(int sock, const struct priv_req *rq, const char *const *cleanup,
    uid_t uid, gid_t gid)
{
	struct priv_resp resp = { .seq = rq->seq };
	const char *netns = rq->netns[0] ? rq->netns : NULL;
	int fds[PRIV_FDS_MAX];
	char *msg = NULL;
	bool more = true;
	int err;

	switch (rq->type) {
	case PRIV_OPEN_PORT: {
		struct priv_port_req req = {
			.ifname = rq->ifname, .netns = netns,
			.nqueues = rq->nqueues, .mtu = rq->mtu,
			.vnet_hdr = rq->vnet_hdr, .persist = rq->persist,
		};
		struct priv_port_res res = { 0 };

		err = open_port_local(&req, fds, &res, &msg);
		if (err == 0) {
			resp.nfds = rq->nqueues;
			resp.ifindex = res.ifindex;
			resp.created = res.created;
			resp.up = res.up;
		}
		break;
	}
	case PRIV_OPEN_PACKET: {
		struct priv_packet_req req = {
			.ifname = rq->ifname, .netns = netns,
			.nqueues = rq->nqueues, .vnet_hdr = rq->vnet_hdr,
		};
		struct priv_packet_res res = { 0 };

		err = open_packet_local(&req, fds, &res, &msg);
		if (err == 0) {
			resp.nfds = rq->nqueues;
			resp.ifindex = res.ifindex;
			resp.mtu = res.mtu;
			resp.up = res.up;
		}
		break;
	}
	case PRIV_OPEN_UDP: {
		struct priv_udp_req req = {
			.netns = netns, .nrx = rq->nqueues, .ntx = rq->ntx,
			.ep = { .family = rq->family == 4 ? AF_INET : AF_INET6,
			    .port = rq->port },
		};

		memcpy(&req.ep.addr, rq->addr, sizeof(req.ep.addr));
		err = open_udp_local(&req, fds, &msg);
		if (err == 0)
			resp.nfds = rq->nqueues + rq->ntx;
		break;
	}
	case PRIV_LINK_STATE: {
		struct nl_link_info li;

		err = nl_link_info(netns, rq->ifname, &li);
		resp.ifindex = li.ifindex;
		resp.mtu = li.mtu;
		resp.up = li.up;
		break;
	}
	case PRIV_MONITOR:
		err = monitor_local(netns, &fds[0], &msg);
		if (err == 0)
			resp.nfds = 1;
		break;
	case PRIV_BIND_UNIX:
		err = unixsock_bind(rq->socktype == 1 ? SOCK_STREAM :
		    SOCK_DGRAM, rq->path, (uid_t)rq->uid, (gid_t)rq->gid,
		    (mode_t)rq->mode, uid, gid, &fds[0], &msg);
		if (err == 0)
			resp.nfds = 1;
		break;
	case PRIV_STOP:
		remove_files(cleanup);
		err = 0;
		more = false;
		break;
	default:
		err = -EINVAL;
		break;
	}
	resp.err = err;
	set_message(&resp, msg);
	if ((err = send_resp(sock, &resp, fds)) < 0 && err != -EPIPE)
		log_warn(PRIV_COMM ": cannot answer: %s", strerror(-err));
	/* The main process has its copies now (or is gone); ours must not
	 * keep a TAP alive. */
	for (uint32_t i = 0; i < resp.nfds; i++)
		close(fds[i]);
	return more;
}

void
priv_serve(int sock, const char *const *cleanup)
{
	/* Each request brings the main process's credentials as they are
	 * now (it drops them after the helper starts): BIND_UNIX does
	 * only what that user could, plus the chown. */
	(void)setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &(int){ 1 },
	    sizeof(int));
	for (;;) {
		union {
			char buf[CMSG_SPACE(PRIV_FDS_MAX * sizeof(int)) +
			    CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} cbuf;
		struct ucred cred = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
		struct cmsghdr *c;
		struct priv_req rq;
		struct iovec iov = { .iov_base = &rq, .iov_len = sizeof(rq) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf,
			.msg_controllen = sizeof(cbuf.buf),
		};
		unsigned passed;
		ssize_t n;

		memset(&rq, 0, sizeof(rq));
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n == 0)
			return;		/* the main process is gone */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error(PRIV_COMM ": reading requests: %s",
			    strerror(errno));
			return;
		}
		passed = close_passed_fds(&mh);
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len == CMSG_LEN(sizeof(cred)))
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		/* Without them (they cannot be missing): nobody's. */
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    priv_request_check(&rq, (size_t)n, passed) < 0) {
			struct priv_resp resp = { .seq = rq.seq,
			    .err = -EINVAL };

			log_warn(PRIV_COMM ": refused a malformed request "
			    "(%zd bytes, type %u)", n, rq.type);
			snprintf(resp.message, sizeof(resp.message),
			    "the privileged helper refused a malformed "
			    "request");
			if (send_resp(sock, &resp, NULL) < 0)
				return;
			continue;
		}
		if (!serve_one(sock, &rq, cleanup, cred.uid, cred.gid))
			return;
	}
}

/* Close every descriptor but stdin/out/err and keep. */
static int
close_other_fds(int keep)
{
	DIR *d;
	struct dirent *e;

	if ((keep <= 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.9: walk /proc/self/fd. */
	if (!(d = opendir("/proc/self/fd")))
		return -errno;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < 3 ||
		    fd == keep || fd == dirfd(d))
			continue;
		close(fd);
	}
	closedir(d);
	return 0;
}

/* The value of "Name:\t<hex>" in /proc/self/status, or -1. */
static long long
status_field(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtoll(line + len + 1, NULL,
			    strncmp(name, "Cap", 3) == 0 ? 16 : 10);
			break;
		}
	}
	fclose(f);
	return v;
}

#define CAP_BIT(c) (1LL << (c))

/* Narrow the helper to uid 0 with CAP_NET_ADMIN, CAP_SYS_ADMIN and,
 * when it has them, CAP_NET_RAW (without, system ports cannot open: they
 * say so) and CAP_CHOWN (for the owner and group of the socket files it
 * makes, BIND_UNIX; without, those fail and say so), and check the
 * result in /proc/self/status. */
static int
helper_narrow(char **err)
{
	long long want = CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_SYS_ADMIN);
	bool raw, chown;

	if (capng_get_caps_process() < 0) {
		*err = xasprintf("cannot read its capabilities");
		return -EIO;
	}
	raw = capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW);
	chown = capng_have_capability(CAPNG_PERMITTED, CAP_CHOWN);
	capng_clear(CAPNG_SELECT_BOTH);
	if (raw)
		want |= CAP_BIT(CAP_NET_RAW);
	if (chown)
		want |= CAP_BIT(CAP_CHOWN);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_NET_ADMIN, CAP_SYS_ADMIN, -1) < 0 ||
	    (raw && capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_NET_RAW, -1) < 0) ||
	    (chown && capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE |
	    CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_CHOWN, -1) < 0)) {
		*err = xasprintf("cannot prepare its capability sets");
		return -EIO;
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	if (capng_apply(CAPNG_SELECT_BOUNDS) < 0 ||
	    capng_apply(CAPNG_SELECT_CAPS) < 0) {
		*err = xasprintf("cannot drop capabilities: %s",
		    strerror(errno));
		return -EPERM;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		*err = xasprintf("cannot clear its ambient capabilities: %s",
		    strerror(errno));
		return -errno;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*err = xasprintf("cannot set no_new_privs: %s",
		    strerror(errno));
		return -errno;
	}
	if (status_field("CapEff") != want || status_field("CapPrm") != want ||
	    status_field("CapBnd") != want || status_field("CapInh") != 0) {
		*err = xasprintf("its capabilities are not CAP_NET_ADMIN, "
		    "CAP_SYS_ADMIN (and CAP_NET_RAW, CAP_CHOWN) after "
		    "dropping the others");
		return -EPERM;
	}
	return 0;
}

static void __attribute__((noreturn))
helper_main(int sock, pid_t parent, const char *const *cleanup)
{
	static const int ignored[] = {
		SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2,
	};
	struct priv_resp ready = { 0 };
	sigset_t none;
	char *err = NULL;
	int r = 0;

	/* Die with the main process, also when it died before this. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, PRIV_COMM, 0, 0, 0);
	/* A syslog socket would be closed below and its number reused by
	 * a TAP fd: let syslog(3) reconnect instead. */
	closelog();
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir("/") < 0) {
		r = -errno;
		err = xasprintf("cannot chdir to /: %s", strerror(-r));
	}
	if (r == 0 && (r = close_other_fds(sock)) < 0)
		err = xasprintf("cannot close inherited descriptors: %s",
		    strerror(-r));
	if (r == 0)
		r = helper_narrow(&err);
	ready.err = r;
	if (err)
		set_message(&ready, xasprintf(PRIV_COMM ": %s", err));
	free(err);
	if (send_resp(sock, &ready, NULL) < 0 || r < 0)
		_exit(1);
	priv_serve(sock, cleanup);
	_exit(0);
}

/*
 * The client side.
 */

struct priv *
priv_connect(int sock, pid_t pid)
{
	struct priv *pv = xcalloc(1, sizeof(*pv));

	pv->sock = sock;
	pv->pid = pid;
	return pv;
}

/* Describe how the helper ended, reaping it if it did within wait_ms. */
static char *
helper_fate(struct priv *pv, int wait_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int status, i;

	for (i = 0; pv->pid > 0; i += 5) {
		if (waitpid(pv->pid, &status, WNOHANG) == pv->pid) {
			pv->pid = 0;
			if (WIFSIGNALED(status))
				return xasprintf("was killed by signal %d "
				    "(%s)", WTERMSIG(status),
				    strsignal(WTERMSIG(status)));
			return xasprintf("exited with status %d",
			    WEXITSTATUS(status));
		}
		if (i >= wait_ms)
			break;
		nanosleep(&ts, NULL);
	}
	return xstrdup("is gone");
}

/* The helper cannot be used any more: say so once, tell the owner, and
 * fail every later request with err at once.  what describes the
 * problem; NULL: ask the kernel how the helper ended. */
static int
priv_break(struct priv *pv, int err, const char *what)
{
	if (pv->broken)
		return pv->broken;
	pv->broken = err;
	free(pv->gone);
	if (what) {
		/* A helper that hangs or talks nonsense is of no use. */
		if (pv->pid > 0)
			kill(pv->pid, SIGKILL);
		pv->gone = xstrdup(what);
		free(helper_fate(pv, 100));
	} else {
		/* It closed its end: it is exiting, or has. */
		pv->gone = helper_fate(pv, 100);
	}
	log_error("the privileged helper process " PRIV_COMM " %s", pv->gone);
	/* The socket last: the owner may still watch it in its loop. */
	if (pv->lost)
		pv->lost(pv->lost_arg, pv->gone);
	close(pv->sock);
	pv->sock = -1;
	return err;
}

/* The message for a request that failed because the helper is gone. */
static char *
gone_message(const struct priv *pv)
{
	return xasprintf("the privileged helper process " PRIV_COMM " %s; "
	    "tapswitchd cannot go on without it and stops, to be started "
	    "again", pv->gone ? pv->gone : "is gone");
}

/* Wait until sock is readable or PRIV_TIMEOUT_MS passed. */
static int
wait_readable(int sock, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* Receive one answer into resp and its descriptors into fds (at most
 * max; more is a protocol error).  0 or -errno; -EPIPE at end-of-file. */
static int
recv_resp(int sock, struct priv_resp *resp, int *fds, unsigned max,
    unsigned *nfds, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(PRIV_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = resp, .iov_len = sizeof(*resp) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *c;
	unsigned n = 0;
	bool bad = false;
	ssize_t len;
	int err;

	*nfds = 0;
	if ((err = wait_readable(sock, timeout_ms)) < 0)
		return err;
	do
		len = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	if (len == 0)
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t i, k;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else {
				close(fd);
				bad = true;
			}
		}
	}
	*nfds = n;
	if (bad || (size_t)len != sizeof(*resp) ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    !str_in(resp->message, sizeof(resp->message)) ||
	    resp->nfds != n) {
		tap_close(fds, n);
		*nfds = 0;
		return -EPROTO;
	}
	return 0;
}

/*
 * Send rq and wait for its answer.  On success the answer's descriptors
 * (exactly want of them when resp->err is 0, none otherwise) are in fds.
 * Returns 0 when an answer came (resp->err says how the request went),
 * or -errno when the helper is unusable.
 */
static int
priv_call(struct priv *pv, struct priv_req *rq, struct priv_resp *resp,
    int *fds, unsigned want)
{
	struct iovec iov = { .iov_base = rq, .iov_len = sizeof(*rq) };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
	struct ucred cred = { getpid(), geteuid(), getegid() };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	unsigned nfds;
	ssize_t n;
	int err;

	/* Who we are now, which the kernel checks: the helper acts for
	 * this user (BIND_UNIX).  Sent explicitly, so that it comes even
	 * if the helper has not turned SO_PASSCRED on yet. */
	memset(&cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	if (pv->broken)
		return pv->broken;
	/* 0 is the helper's "ready" at start. */
	if (++pv->seq == 0)
		pv->seq = 1;
	rq->seq = pv->seq;
	do
		n = sendmsg(pv->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return priv_break(pv, errno == ECONNRESET ? -EPIPE : -errno,
		    NULL);
	err = recv_resp(pv->sock, resp, fds, want, &nfds, PRIV_TIMEOUT_MS);
	if (err == -ETIMEDOUT)
		return priv_break(pv, err, "did not answer within 10 s and was "
		    "killed");
	if (err == -EPROTO)
		return priv_break(pv, err, "sent a malformed answer and was "
		    "killed");
	if (err < 0)
		return priv_break(pv, err, NULL);
	if (resp->seq != rq->seq || resp->err > 0 ||
	    nfds != (resp->err == 0 ? want : 0)) {
		tap_close(fds, nfds);
		return priv_break(pv, -EPROTO, "sent an answer that does not "
		    "fit the request and was killed");
	}
	return 0;
}

/* Fill the wire form of a request. */
static void
req_init(struct priv_req *rq, enum priv_type type, const char *netns,
    const char *ifname)
{
	memset(rq, 0, sizeof(*rq));
	rq->type = type;
	if (netns)
		snprintf(rq->netns, sizeof(rq->netns), "%s", netns);
	if (ifname)
		snprintf(rq->ifname, sizeof(rq->ifname), "%s", ifname);
}

/* Names that do not fit the wire form are refused before sending: the
 * helper would refuse them anyway, and a truncated name is another one. */
static bool
names_fit(const char *netns, const char *ifname)
{
	return (!netns || strlen(netns) <= CONF_NETNS_MAX) &&
	    (!ifname || strlen(ifname) < IFNAMSIZ);
}

/* Send rq (an OPEN_* request for rq->nqueues fds, filled in from names
 * that fit) and take the answer's fds into fds.  0, or -errno with a
 * malloc'd message in *msg. */
static int
open_call(struct priv *pv, struct priv_req *rq, int *fds,
    struct priv_resp *resp, char **msg)
{
	int err;

	if (rq->nqueues < 1 || rq->nqueues > PRIV_FDS_MAX) {
		*msg = xasprintf("invalid queue count %u", rq->nqueues);
		return -EINVAL;
	}
	if ((err = priv_call(pv, rq, resp, fds, rq->nqueues)) < 0) {
		*msg = gone_message(pv);
		return err;
	}
	if (resp->err < 0) {
		*msg = xstrdup(resp->message[0] ? resp->message :
		    strerror(-resp->err));
		return resp->err;
	}
	return 0;
}

int
priv_open_port(struct priv *pv, const struct priv_port_req *req, int *fds,
    struct priv_port_res *res, char **msg)
{
	struct priv_resp resp;
	struct priv_req rq;
	int err;

	memset(res, 0, sizeof(*res));
	if (!pv)
		return open_port_local(req, fds, res, msg);
	if (!names_fit(req->netns, req->ifname)) {
		*msg = xasprintf("invalid interface or namespace name");
		return -EINVAL;
	}
	req_init(&rq, PRIV_OPEN_PORT, req->netns, req->ifname);
	rq.nqueues = req->nqueues;
	rq.mtu = req->mtu;
	rq.vnet_hdr = req->vnet_hdr;
	rq.persist = req->persist;
	if ((err = open_call(pv, &rq, fds, &resp, msg)) < 0)
		return err;
	res->ifindex = resp.ifindex;
	res->created = resp.created;
	res->up = resp.up;
	return 0;
}

int
priv_open_packet(struct priv *pv, const struct priv_packet_req *req, int *fds,
    struct priv_packet_res *res, char **msg)
{
	struct priv_resp resp;
	struct priv_req rq;
	int err;

	memset(res, 0, sizeof(*res));
	if (!pv)
		return open_packet_local(req, fds, res, msg);
	if (!names_fit(req->netns, req->ifname)) {
		*msg = xasprintf("invalid interface or namespace name");
		return -EINVAL;
	}
	req_init(&rq, PRIV_OPEN_PACKET, req->netns, req->ifname);
	rq.nqueues = req->nqueues;
	rq.vnet_hdr = req->vnet_hdr;
	if ((err = open_call(pv, &rq, fds, &resp, msg)) < 0)
		return err;
	res->ifindex = resp.ifindex;
	res->mtu = resp.mtu;
	res->up = resp.up;
	return 0;
}

int
priv_open_udp(struct priv *pv, const struct priv_udp_req *req, int *fds,
    char **msg)
{
	struct priv_resp resp;
	struct priv_req rq;
	int err;

	if (!pv)
		return open_udp_local(req, fds, msg);
	if (!names_fit(req->netns, NULL) || req->nrx < 1 ||
	    req->nrx > CONF_QUEUES_MAX || req->ntx > UDP_TX_SOCKS) {
		*msg = xasprintf("invalid namespace name or socket count");
		return -EINVAL;
	}
	req_init(&rq, PRIV_OPEN_UDP, req->netns, NULL);
	rq.nqueues = req->nrx;
	rq.ntx = (uint8_t)req->ntx;
	rq.family = req->ep.family == AF_INET ? 4 : 6;
	rq.port = req->ep.port;
	memcpy(rq.addr, &req->ep.addr, sizeof(rq.addr));
	if ((err = priv_call(pv, &rq, &resp, fds, req->nrx + req->ntx)) < 0) {
		*msg = gone_message(pv);
		return err;
	}
	if (resp.err < 0) {
		*msg = xstrdup(resp.message[0] ? resp.message :
		    strerror(-resp.err));
		return resp.err;
	}
	return 0;
}

int
priv_link_state(struct priv *pv, const char *netns, const char *ifname,
    struct priv_link *out)
{
	struct priv_resp resp;
	struct priv_req rq;
	struct nl_link_info li;
	int err;

	memset(out, 0, sizeof(*out));
	if (!pv) {
		if ((err = nl_link_info(netns, ifname, &li)) < 0)
			return err;
		*out = (struct priv_link){ li.ifindex, li.mtu, li.up };
		return 0;
	}
	if (!names_fit(netns, ifname))
		return -EINVAL;
	req_init(&rq, PRIV_LINK_STATE, netns, ifname);
	if ((err = priv_call(pv, &rq, &resp, NULL, 0)) < 0)
		return err;
	if (resp.err < 0)
		return resp.err;
	*out = (struct priv_link){ resp.ifindex, resp.mtu, resp.up != 0 };
	return 0;
}

int
priv_monitor(struct priv *pv, const char *netns, int *fd, char **msg)
{
	struct priv_resp resp;
	struct priv_req rq;
	int err;

	if (!pv)
		return monitor_local(netns, fd, msg);
	if (!names_fit(netns, NULL)) {
		*msg = xasprintf("invalid namespace name");
		return -EINVAL;
	}
	req_init(&rq, PRIV_MONITOR, netns, NULL);
	if ((err = priv_call(pv, &rq, &resp, fd, 1)) < 0) {
		*msg = gone_message(pv);
		return err;
	}
	if (resp.err < 0) {
		*msg = xstrdup(resp.message[0] ? resp.message :
		    strerror(-resp.err));
		return resp.err;
	}
	return 0;
}

int
priv_bind_unix(struct priv *pv, const struct priv_unix_req *req, int *fd,
    char **msg)
{
	struct priv_resp resp;
	struct priv_req rq;
	int err;

	if (!pv)
		return unixsock_bind(req->type, req->path, req->uid, req->gid,
		    req->mode, geteuid(), getegid(), fd, msg);
	if (strlen(req->path) > UNIXSOCK_PATH_MAX ||
	    (req->type != SOCK_STREAM && req->type != SOCK_DGRAM)) {
		*msg = xasprintf("invalid socket path or type");
		return -EINVAL;
	}
	req_init(&rq, PRIV_BIND_UNIX, NULL, NULL);
	snprintf(rq.path, sizeof(rq.path), "%s", req->path);
	rq.socktype = req->type == SOCK_STREAM ? 1 : 2;
	rq.uid = req->uid == (uid_t)-1 ? UINT32_MAX : (uint32_t)req->uid;
	rq.gid = req->gid == (gid_t)-1 ? UINT32_MAX : (uint32_t)req->gid;
	rq.mode = req->mode & 0777;
	if ((err = priv_call(pv, &rq, &resp, fd, 1)) < 0) {
		*msg = gone_message(pv);
		return err;
	}
	if (resp.err < 0) {
		*msg = xstrdup(resp.message[0] ? resp.message :
		    strerror(-resp.err));
		return resp.err;
	}
	return 0;
}

pid_t
priv_pid(const struct priv *pv)
{
	return pv && !pv->broken ? pv->pid : 0;
}

void
priv_on_lost(struct priv *pv, void (*cb)(void *arg, const char *what),
    void *arg)
{
	pv->lost = cb;
	pv->lost_arg = arg;
}

int
priv_socket(const struct priv *pv)
{
	return pv->sock;
}

int
priv_check(struct priv *pv)
{
	struct pollfd p = { .fd = pv->sock, .events = POLLIN };
	char c;
	ssize_t n;

	if (pv->broken)
		return pv->broken;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	n = recv(pv->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return priv_break(pv, -EPROTO, "sent an answer to no request "
		    "and was killed");
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return priv_break(pv, -EPIPE, NULL);
}

int
priv_start(const char *const *cleanup, struct priv **out, char **err)
{
	struct priv_resp ready;
	unsigned nfds;
	pid_t parent = getpid(), pid;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		*err = xasprintf("cannot start the privileged helper: "
		    "socketpair: %s", strerror(-r));
		return r;
	}
	/* Whatever stdio holds must not be written twice. */
	fflush(NULL);
	if ((pid = fork()) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		*err = xasprintf("cannot start the privileged helper: fork: %s",
		    strerror(-r));
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], parent, cleanup);
	}
	close(sv[1]);
	r = recv_resp(sv[0], &ready, NULL, 0, &nfds, PRIV_TIMEOUT_MS);
	if (r == 0 && (ready.seq != 0 || ready.err > 0))
		r = -EPROTO;
	if (r == 0 && ready.err < 0) {
		*err = xasprintf("cannot start the privileged helper: %s",
		    ready.message[0] ? ready.message : strerror(-ready.err));
		r = ready.err;
	} else if (r < 0) {
		*err = xasprintf("cannot start the privileged helper: %s",
		    r == -EPIPE ? "it exited at once" : strerror(-r));
	}
	if (r < 0) {
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	*out = priv_connect(sv[0], pid);
	log_debug("privileged helper " PRIV_COMM " started (pid %ld)",
	    (long)pid);
	return 0;
}

void
priv_stop(struct priv *pv, bool remove_files)
{
	struct priv_resp resp;
	struct priv_req rq;
	int status, i;

	if (!pv)
		return;
	/* Without STOP the helper exits at end-of-file, touching nothing. */
	if (!pv->broken && remove_files) {
		req_init(&rq, PRIV_STOP, NULL, NULL);
		if (priv_call(pv, &rq, &resp, NULL, 0) == 0 && resp.err < 0)
			log_warn("the privileged helper could not stop "
			    "cleanly: %s", resp.message);
	}
	if (pv->sock >= 0)
		close(pv->sock);
	/* It exits after its answer, or at end-of-file now. */
	for (i = 0; pv->pid > 0 && i < PRIV_STOP_WAIT_MS / 10; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (waitpid(pv->pid, &status, WNOHANG) == pv->pid) {
			pv->pid = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (pv->pid > 0) {
		log_warn("the privileged helper did not exit; killing it");
		kill(pv->pid, SIGKILL);
		waitpid(pv->pid, NULL, 0);
	}
	free(pv->gone);
	free(pv);
}

/*
 * Users and dropping privileges.
 */

int
priv_user_lookup(const char *name, struct priv_user *out, char **err)
{
	struct passwd *pw;

	errno = 0;
	if (!(pw = getpwnam(name))) {
		int e = errno ? errno : ENOENT;

		*err = e == ENOENT || e == ESRCH || e == EBADF || e == EPERM ?
		    xasprintf("user \"%s\" does not exist: set user = to an "
		    "existing user (or create it)", name) :
		    xasprintf("cannot look up user \"%s\": %s", name,
		    strerror(e));
		return e == ESRCH || e == EBADF || e == EPERM ? -ENOENT : -e;
	}
	out->name = xstrdup(pw->pw_name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return 0;
}

void
priv_user_destroy(struct priv_user *u)
{
	if (u) {
		free(u->name);
		u->name = NULL;
	}
}

/* Without a helper: keep CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN
 * if we have them, drop every other capability. */
static int
drop_local(char **err)
{
	bool net, raw, sys;

	if (capng_get_caps_process() < 0) {
		*err = xasprintf("cannot read the capabilities of tapswitchd");
		return -EIO;
	}
	net = capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN);
	raw = capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW);
	sys = capng_have_capability(CAPNG_PERMITTED, CAP_SYS_ADMIN);
	capng_clear(CAPNG_SELECT_CAPS);
	if (raw)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    CAP_NET_RAW);
	if (net)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    CAP_NET_ADMIN);
	if (sys)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    CAP_SYS_ADMIN);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		*err = xasprintf("cannot drop capabilities: %s",
		    strerror(errno));
		return -EPERM;
	}
	return 0;
}

/*
 * ThreadSanitizer (configure --enable-tsan, scripts/tsan) runs a thread
 * of its own, its "background thread".  It starts it just before the
 * first thread the program creates, and in the child of a fork(): a
 * process that a test harness forked has it before priv_drop.  It is the
 * only thread TSan starts.  So in such a build exactly one thread more
 * than the caller is TSan's, while a thread of the program's (or of a
 * library's) makes the count at least 3.  That thread keeps the
 * capabilities priv_drop clears, which a build for tests can afford;
 * other builds accept no thread but the caller.
 */
#if defined(__SANITIZE_THREAD__)
#define TSAN_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_THREADS 1
#endif
#endif
#ifndef TSAN_THREADS
#define TSAN_THREADS 0
#endif

int
priv_drop(struct priv *pv, const struct priv_user *user, char **err)
{
	long long threads = status_field("Threads");

	if (threads != 1 && threads != 1 + TSAN_THREADS) {
		/* Capabilities are per thread: others would keep theirs. */
		*err = xasprintf("internal error: privileges must be dropped "
		    "before any thread starts (%lld threads)", threads);
		return -EBUSY;
	}
	if (!pv) {
		if (user) {
			*err = xasprintf("user = %s needs tapswitchd to be "
			    "started as root", user->name);
			return -EPERM;
		}
		return drop_local(err);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*err = xasprintf("cannot set no_new_privs: %s",
		    strerror(errno));
		return -errno;
	}
	/* The bounding set while CAP_SETPCAP is still there: afterwards
	 * not even an exec could give anything back. */
	if (capng_get_caps_process() < 0) {
		*err = xasprintf("cannot read the capabilities of tapswitchd");
		return -EIO;
	}
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
		*err = xasprintf("cannot clear the capability bounding set: %s",
		    strerror(errno));
		return -EPERM;
	}
	if (user) {
		if (initgroups(user->name, user->gid) < 0) {
			*err = xasprintf("cannot set the groups of user %s: %s",
			    user->name, strerror(errno));
			return -errno;
		}
		if (setresgid(user->gid, user->gid, user->gid) < 0) {
			*err = xasprintf("cannot change to group %ld: %s",
			    (long)user->gid, strerror(errno));
			return -errno;
		}
		if (setresuid(user->uid, user->uid, user->uid) < 0) {
			*err = xasprintf("cannot change to user %s: %s",
			    user->name, strerror(errno));
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		*err = xasprintf("cannot clear the ambient capabilities: %s",
		    strerror(errno));
		return -errno;
	}
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		*err = xasprintf("cannot drop capabilities: %s",
		    strerror(errno));
		return -EPERM;
	}
	/* Check what the kernel says, not what we asked for. */
	if (status_field("CapEff") != 0 || status_field("CapPrm") != 0 ||
	    status_field("CapInh") != 0 || status_field("CapBnd") != 0 ||
	    (user && (getuid() != user->uid || geteuid() != user->uid ||
	    getgid() != user->gid || getegid() != user->gid ||
	    (user->uid != 0 && setuid(0) == 0)))) {
		*err = xasprintf("privileges are still there after dropping "
		    "them");
		return -EPERM;
	}
	return 0;
}
