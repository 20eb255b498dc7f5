/*
 * priv.h - privilege separation: a small privileged helper process and
 * the few operations that still need privileges after start-up.
 *
 * Theory of operation.  tapswitchd started as root forks the helper
 * first, before it does anything privileged and before any other thread
 * exists (priv_start).  The helper keeps uid 0 (for /dev/net/tun, mode
 * 0600) and exactly CAP_NET_ADMIN (create and attach TAPs, set MTU and
 * up) and CAP_SYS_ADMIN (setns into /run/netns/NAME), in its effective,
 * permitted and bounding sets; it names itself "tapswitchd-priv", dies
 * with the main process (PR_SET_PDEATHSIG) or when its socket reaches
 * end-of-file, holds no descriptor but its socket and stdin/out/err, and
 * ignores the signals the main process handles.  Over a SOCK_SEQPACKET
 * socketpair it serves one fixed-size request at a time:
 *
 *   OPEN_PORT  {ifname, netns, nqueues, mtu, vnet_hdr, persist}
 *              -> {err, message, created, ifindex, up} + nqueues TAP fds
 *   OPEN_PACKET {ifname, netns, nqueues, vnet_hdr}
 *              -> {err, message, ifindex, mtu, up} + nqueues packet sockets
 *   OPEN_UDP   {netns, family, addr, port, nrx, ntx}
 *              -> {err, message} + nrx + ntx UDP sockets (udp.h)
 *   LINK_STATE {ifname, netns} -> {err (-ENODEV: no such link), ifindex,
 *              mtu, up}
 *   MONITOR    {netns} -> {err} + a NETLINK_ROUTE socket made in netns
 *   BIND_UNIX  {path, type, uid, gid, mode} -> {err, message} + a Unix
 *              socket bound there (listening, for a stream), the file
 *              given to uid:gid with mode (unixsock.h)
 *   STOP       {} -> {err}; removes the files named at priv_start and exits
 *
 * and re-validates every field of every request (sizes, NUL termination,
 * ifname and netns syntax as tapswitch.conf(5) has it, bounded queue
 * counts and MTUs, no descriptors passed in): the main process handles
 * input from the network and the control socket, so the helper assumes it
 * may be compromised.  What a compromised main process can still do is
 * what these requests do: open and attach TAP interfaces by name, and
 * open packet sockets on existing interfaces, and UDP sockets bound to
 * an address and port (what any process may open, but in a namespace it
 * could not enter), in the daemon's namespace or in any namespace under
 * /run/netns.
 *
 * The main process drops every capability, its bounding set included,
 * sets no_new_privs and, with user =, becomes that user with its groups
 * (priv_drop) -- still single-threaded, so the whole process is covered.
 * The TAP queue fds and netlink sockets it gets from the helper keep
 * working without privileges; removing a TAP needs no request at all
 * (whoever holds a queue fd may clear TUNSETPERSIST, see tap.h).
 *
 * One code path: every operation takes a struct priv *, and NULL means
 * "no helper": the same functions then run in the calling process (unit
 * tests with the dummy backend, tapswitchd started as another user).
 *
 * If the helper dies or stops answering (PRIV_TIMEOUT_MS), the request
 * fails with -EPIPE (or -ETIMEDOUT, -EPROTO) and a message saying so,
 * every later one fails at once, and the owner is told (priv_on_lost).
 * A helper that dies between requests is found as soon as its socket
 * turns readable (priv_socket, priv_check): nothing else comes on it
 * then.  No other helper can be started: the main process has no
 * privilege left to start one with.  So tapswitchd, told, stops with a
 * failure status, to be started again by its service manager; persistent
 * TAPs, and their addresses, outlive it (tapswitchd(8), PRIVILEGES).
 *
 * Main thread only.
 */
#ifndef TAPSWITCH_PRIV_H
#define TAPSWITCH_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "tapswitch/udp.h"

#define PRIV_COMM "tapswitchd-priv"	/* the helper's comm (ps, top) */
#define PRIV_TIMEOUT_MS 10000		/* most a request may take */
#define PRIV_MESSAGE_MAX 512		/* bytes of an error message */

struct priv;

/* The user the daemon runs as (user = in [switch], or --user). */
struct priv_user {
	char *name;
	uid_t uid;
	gid_t gid;			/* its primary group */
};

/* Look name up (getpwnam).  0, or -ENOENT/-errno with a malloc'd message
 * in *err.  Free with priv_user_destroy. */
int priv_user_lookup(const char *name, struct priv_user *out, char **err);
void priv_user_destroy(struct priv_user *u);

/*
 * Fork the privileged helper.  Call it as root, before any other thread
 * exists.  cleanup (NULL-terminated, may be NULL; copied) lists files
 * the helper removes on an orderly priv_stop -- the pidfile and the
 * control socket, which a main process running as another user cannot
 * remove from their root-owned directories.  0, or -errno with a
 * malloc'd message in *err.
 */
int priv_start(const char *const *cleanup, struct priv **out, char **err);

/* Ask the helper to exit -- after removing its cleanup files when
 * remove_files (false when start-up failed before those files were this
 * daemon's: they may belong to another tapswitchd) -- wait for it (it is
 * killed if it does not exit within a second), and free pv.  NULL: no-op. */
void priv_stop(struct priv *pv, bool remove_files);

/* The helper's process id; 0 for NULL or when it is known to be gone. */
pid_t priv_pid(const struct priv *pv);

/*
 * Call cb(arg, what) once, when the helper is found gone: dead, or
 * killed because it hung or answered wrongly.  what says which (such as
 * "was killed by signal 9 (Killed)") and lives as long as pv.  cb runs
 * inside whichever call found it (a request, priv_check, priv_stop) and
 * must not free pv.  cb NULL: tell no one.
 */
void priv_on_lost(struct priv *pv, void (*cb)(void *arg, const char *what),
    void *arg);

/* The descriptor to watch for the helper's end: between requests it turns
 * readable only when the helper is gone; then call priv_check.  -1 once
 * the helper is known to be gone. */
int priv_socket(const struct priv *pv);

/* Whether the helper is still there, without waiting: 0, or the error
 * every request now fails with (-EPIPE: it is dead), the owner having
 * been told (priv_on_lost).  Main thread, between requests. */
int priv_check(struct priv *pv);

/*
 * Give up the main process's privileges for good.  With a helper (pv not
 * NULL): clear the bounding set, set no_new_privs, become user if given
 * (initgroups, setgid, setuid, in that order), and clear every
 * capability.  Without one, the process keeps CAP_NET_ADMIN, CAP_NET_RAW
 * and CAP_SYS_ADMIN if it has them (it does the privileged work itself), drops
 * every other capability, and user must be NULL.  Call it while the
 * process has a single thread.  0, or -errno with a malloc'd message in
 * *err; the caller should then exit.
 */
int priv_drop(struct priv *pv, const struct priv_user *user, char **err);

/* OPEN_PORT: what to open. */
struct priv_port_req {
	const char *ifname;
	const char *netns;		/* NULL: the daemon's namespace */
	unsigned nqueues;		/* 1..CONF_QUEUES_MAX */
	unsigned mtu;			/* CONF_MTU_MIN..CONF_MTU_MAX */
	bool vnet_hdr;
	bool persist;
};

/* OPEN_PORT: what was opened. */
struct priv_port_res {
	int ifindex;
	bool created;			/* the interface did not exist */
	bool up;
};

/*
 * Open (creating it if needed) the TAP req->ifname directly inside
 * req->netns, with req->nqueues queues (tap_open), set its MTU and bring
 * it up there (nl_link_setup), and look up its ifindex and state.  A TAP
 * that already lives in that namespace -- a persistent one left by an
 * earlier run -- is attached to again and keeps its addresses.  On
 * success fills fds[0..nqueues) (the caller owns them) and *res.  On
 * failure returns -errno with a malloc'd message in *msg that says what
 * failed and what to do, without the port's name; nothing is left open,
 * and a TAP this call created is removed again.
 */
int priv_open_port(struct priv *pv, const struct priv_port_req *req,
    int *fds, struct priv_port_res *res, char **msg);

/* OPEN_PACKET: the packet sockets of a system port. */
struct priv_packet_req {
	const char *ifname;
	const char *netns;		/* NULL: the daemon's namespace */
	unsigned nqueues;		/* 1..CONF_QUEUES_MAX */
	bool vnet_hdr;
};

struct priv_packet_res {
	int ifindex;
	unsigned mtu;			/* the interface's */
	bool up;
};

/*
 * Open req->nqueues packet sockets (packet.h) on the existing interface
 * req->ifname of req->netns.  Refused: a loopback interface (-EINVAL),
 * one enslaved to a bridge or bond (-EBUSY).  On success fills
 * fds[0..nqueues) (the caller owns them) and *res.  On failure returns
 * -errno (-ENODEV: no such interface) with a malloc'd message in *msg.
 * Nothing is created, moved or changed.
 */
int priv_open_packet(struct priv *pv, const struct priv_packet_req *req,
    int *fds, struct priv_packet_res *res, char **msg);

/* OPEN_UDP: the sockets of a tunnel endpoint (udp.h). */
struct priv_udp_req {
	const char *netns;		/* NULL: the daemon's namespace */
	struct udp_endpoint ep;
	unsigned nrx;			/* 1..CONF_QUEUES_MAX */
	unsigned ntx;			/* 0..UDP_TX_SOCKS */
};

/*
 * Open the nrx receive and ntx send sockets of req->ep inside
 * req->netns (udp_open) into fds[0..nrx+ntx), which the caller owns.
 * On failure returns -errno with a malloc'd message in *msg that says
 * what failed and what to do; nothing is left open.
 */
int priv_open_udp(struct priv *pv, const struct priv_udp_req *req, int *fds,
    char **msg);

/* BIND_UNIX: a socket file for a stream or dgram port. */
struct priv_unix_req {
	const char *path;
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	uid_t uid;			/* -1: the daemon's */
	gid_t gid;			/* -1: the daemon's */
	mode_t mode;
};

/*
 * Make the socket of req (unixsock_bind) into *fd, owned by the caller.
 * The helper makes it only in a directory the main process's user (as
 * it is now, from the request's SCM_CREDENTIALS) may write, and gives
 * only that new file away: what a compromised main process can do with
 * it is make socket files where it could anyway, owned by anyone.  On
 * failure -errno with a malloc'd message in *msg.
 */
int priv_bind_unix(struct priv *pv, const struct priv_unix_req *req, int *fd,
    char **msg);

/* LINK_STATE: what a link is now. */
struct priv_link {
	int ifindex;
	unsigned mtu;
	bool up;			/* IFF_UP */
};

/* The state of ifname in netns into *out.  0, -ENODEV when there is no
 * such link, or -errno. */
int priv_link_state(struct priv *pv, const char *netns, const char *ifname,
    struct priv_link *out);

/* MONITOR: a link-monitor socket of netns (nl_mon_socket) in *fd, owned
 * by the caller.  0, or -errno (-ENOENT: no such namespace) with a
 * malloc'd message in *msg. */
int priv_monitor(struct priv *pv, const char *netns, int *fd, char **msg);

/*
 * The helper's request loop on sock: serve requests until end-of-file or
 * STOP (which removes the cleanup files first), then return.  Runs with
 * whatever credentials the caller has: priv_start's child narrows them
 * before it calls this; tests call it in a plain child process and talk
 * to it through priv_connect.
 */
void priv_serve(int sock, const char *const *cleanup);

/* A handle that sends requests on sock (takes it over) to a helper
 * process pid serving its other end. */
struct priv *priv_connect(int sock, pid_t pid);

/* Whether buf (len bytes, fds_passed descriptors attached) is a valid
 * request; the helper's check, exported for the fuzzer.  0 or -EINVAL. */
int priv_request_check(const void *buf, size_t len, unsigned fds_passed);

#endif
