/*
 * port_vxlan.c - the "vxlan" port type: the switch's VLANs carried to
 * other hosts over UDP (RFC 7348).
 *
 * Underlay.  A port sends from and receives on an endpoint (udp.h):
 * local = and dstport = in netns = (the underlay's namespace).  Ports
 * with different VNIs on one endpoint share its sockets: the first port
 * opens them through the privileged helper (priv.h) and the others take
 * a reference.  Each port holds dups of the receive sockets as its fds
 * (one per worker, SO_REUSEPORT), so every port of an endpoint is read
 * by the workers, and a datagram read through one port that carries the
 * VNI of another is that other port's frame (vxlan_rx: the frame's
 * ingress port is said per frame).  The reader finds that port in the
 * port table's current set, which holds only published ports, so no
 * port that is going away is ever followed.
 *
 * Sending.  A frame goes to one remote (the one the MAC table says its
 * destination is behind) or, flooded, to every remote (head-end
 * replication), behind the VXLAN header, from one of the endpoint's send
 * sockets: the one the inner flow hash picks, so that each flow has an
 * outer UDP source port of its own and the underlay's ECMP and the
 * receiver's RSS spread the flows.  The send sockets never fragment: a
 * frame whose datagram the path cannot carry fails with EMSGSIZE and is
 * counted tx_oversize.
 *
 * Receiving.  Only datagrams from an address in remote =, with a valid
 * header (I flag) and the VNI of a port of the endpoint, are frames;
 * the rest are dropped, each reason with its counter (rx_tunnel_*).
 * Which remote a frame came from goes with it, so that learning
 * remembers where each MAC is.
 *
 * State that workers read (struct vxlan_port) is immutable while the
 * port is open and freed a grace period after it closes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "tapswitch/log.h"
#include "tapswitch/port.h"
#include "tapswitch/priv.h"
#include "tapswitch/udp.h"
#include "tapswitch/util.h"
#include "tapswitch/vxlan.h"

#define VXLAN_REMOTES_MAX 64	/* remote = addresses of one port */
#define VXLAN_SHARE_MAX 64	/* ports on one endpoint */
/* The largest inner MTU: an IPv4 datagram of 65535 bytes, less the
 * IPv4, UDP and VXLAN headers and an Ethernet header with a tag. */
#define VXLAN_MTU_MAX (65535 - 20 - 8 - VXLAN_HDR_LEN - ETH_HDR_LEN - \
	VLAN_TAG_LEN)

/* The remote = list.  Unused entries are zero, so that ports compare
 * (conf_port_equal) by their bytes. */
struct vxlan_remotes {
	uint32_t n;
	struct in6_addr a[VXLAN_REMOTES_MAX];
};

/* The type's settings. */
struct vxlan_conf {
	uint32_t vni;
	uint32_t dstport;
	struct in6_addr local;	/* zero until given: any */
	struct vxlan_remotes remote;
};

static const struct vxlan_conf *
vxlan_conf(const struct conf_port *cp)
{
	return cp->settings;
}

static int
vxlan_conf_vni(void *obj, const char *value, const char **why)
{
	struct vxlan_conf *c = obj;
	unsigned long v;

	if (parse_uint(value, 1, VXLAN_VNI_MAX, &v) < 0) {
		*why = "a VNI is an integer 1..16777215";
		return -EINVAL;
	}
	c->vni = (uint32_t)v;
	return 0;
}

static int
vxlan_conf_dstport(void *obj, const char *value, const char **why)
{
	struct vxlan_conf *c = obj;
	unsigned long v;

	if (parse_uint(value, 1, 65535, &v) < 0) {
		*why = "a UDP port is an integer 1..65535";
		return -EINVAL;
	}
	c->dstport = (uint32_t)v;
	return 0;
}

/* One address of remote = or local =. */
static int
vxlan_parse_addr(const char *s, struct in6_addr *a, const char **why)
{
	if (udp_addr_parse(s, a) < 0) {
		*why = "expected an IPv4 or IPv6 address (192.0.2.1, "
		    "2001:db8::1)";
		return -EINVAL;
	}
	if (udp_addr_is_v4(a) ? a->s6_addr[12] >= 224 && a->s6_addr[12] < 240 :
	    IN6_IS_ADDR_MULTICAST(a)) {
		*why = "a multicast address: tapswitch floods by sending to "
		    "every remote (head-end replication); list the hosts' "
		    "own addresses";
		return -EINVAL;
	}
	return 0;
}

static bool
addr_unspecified(const struct in6_addr *a)
{
	static const uint8_t v4any[16] = { [10] = 0xff, [11] = 0xff };

	return IN6_IS_ADDR_UNSPECIFIED(a) || memcmp(a, v4any, 16) == 0;
}

static int
vxlan_conf_local(void *obj, const char *value, const char **why)
{
	struct vxlan_conf *c = obj;

	return vxlan_parse_addr(value, &c->local, why);
}

static int
vxlan_conf_remote(void *obj, const char *value, const char **why)
{
	struct vxlan_conf *c = obj;
	struct vxlan_remotes r;
	char *copy = xstrdup(value), *save = NULL, *tok;
	int err = 0;

	memset(&r, 0, sizeof(r));
	for (tok = strtok_r(copy, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		struct in6_addr a;

		if ((err = vxlan_parse_addr(tok, &a, why)) < 0)
			break;
		if (addr_unspecified(&a)) {
			*why = "0.0.0.0 and :: are no host's address";
			err = -EINVAL;
			break;
		}
		if (r.n && !udp_addr_is_v4(&a) != !udp_addr_is_v4(&r.a[0])) {
			*why = "IPv4 and IPv6 remotes mixed: the remotes of a "
			    "port are all of one family (make two ports)";
			err = -EINVAL;
			break;
		}
		for (uint32_t i = 0; i < r.n && !err; i++)
			if (memcmp(&r.a[i], &a, sizeof(a)) == 0) {
				*why = "an address is listed twice";
				err = -EINVAL;
			}
		if (err)
			break;
		if (r.n == VXLAN_REMOTES_MAX) {
			*why = "more than 64 remotes";
			err = -EINVAL;
			break;
		}
		r.a[r.n++] = a;
	}
	free(copy);
	if (!err && r.n == 0) {
		*why = "expected one or more addresses, separated by commas";
		err = -EINVAL;
	}
	if (!err)
		c->remote = r;
	return err;
}

static const struct conf_key vxlan_keys[] = {
	CONF_KEY("vni", vxlan_conf_vni, CONF_IN_TYPE, struct vxlan_conf, vni),
	CONF_KEY("remote", vxlan_conf_remote, CONF_IN_TYPE, struct vxlan_conf,
	    remote),
	CONF_KEY("local", vxlan_conf_local, CONF_IN_TYPE, struct vxlan_conf,
	    local),
	CONF_KEY("dstport", vxlan_conf_dstport, CONF_IN_TYPE,
	    struct vxlan_conf, dstport),
	CONF_KEY_NETNS,
};

static void
vxlan_conf_init(struct conf_port *p)
{
	struct vxlan_conf *c = p->settings;

	c->dstport = VXLAN_PORT;
}

static void
add_problem(struct conf_problem *pr, size_t *n, const char *key,
    const char *key2, char *msg)
{
	if (*n < CONF_PROBLEMS_MAX)
		pr[(*n)++] = (struct conf_problem){ key, key2, msg };
	else
		free(msg);
}

static void
vxlan_conf_check(const struct conf_port *p, struct conf_problem *pr,
    size_t *n)
{
	const struct vxlan_conf *c = vxlan_conf(p);
	char a[INET6_ADDRSTRLEN];

	if (!conf_port_given(p, "vni"))
		add_problem(pr, n, NULL, NULL, xasprintf("[port %s] needs "
		    "vni = (1..16777215): the VXLAN network identifier that "
		    "the other hosts use for this network too", p->name));
	if (!conf_port_given(p, "remote"))
		add_problem(pr, n, NULL, NULL, xasprintf("[port %s] needs "
		    "remote = ADDRESS[, ADDRESS...]: the underlay addresses "
		    "of the other hosts", p->name));
	if (p->mtu > VXLAN_MTU_MAX)
		add_problem(pr, n, "mtu", NULL, xasprintf("[port %s] has mtu "
		    "%u, but a VXLAN datagram carries at most %u", p->name,
		    p->mtu, VXLAN_MTU_MAX));
	if (!conf_port_given(p, "local") || !c->remote.n)
		return;
	if (!udp_addr_is_v4(&c->local) != !udp_addr_is_v4(&c->remote.a[0]))
		add_problem(pr, n, "local", "remote", xasprintf("[port %s] "
		    "has local %s, but its remotes are IPv%c addresses",
		    p->name, udp_addr_str(&c->local, a),
		    udp_addr_is_v4(&c->remote.a[0]) ? '4' : '6'));
	for (uint32_t i = 0; i < c->remote.n; i++)
		if (memcmp(&c->remote.a[i], &c->local, sizeof(c->local)) == 0)
			add_problem(pr, n, "local", "remote", xasprintf(
			    "[port %s] lists its own local %s as a remote",
			    p->name, udp_addr_str(&c->local, a)));
}

/* The endpoint of a port: its family is the remotes'. */
static void
vxlan_endpoint(const struct conf_port *cp, struct udp_endpoint *ep)
{
	const struct vxlan_conf *c = vxlan_conf(cp);

	memset(ep, 0, sizeof(*ep));
	ep->family = c->remote.n && !udp_addr_is_v4(&c->remote.a[0]) ?
	    AF_INET6 : AF_INET;
	ep->port = (uint16_t)c->dstport;
	if (conf_port_given(cp, "local"))
		ep->addr = c->local;
	else if (ep->family == AF_INET)
		ep->addr.s6_addr[10] = ep->addr.s6_addr[11] = 0xff;
}

/* Do a and b receive on the same sockets, or on overlapping ones (one
 * binds any address, the other one of the same family)? */
static bool
vxlan_same_underlay(const struct conf_port *a, const struct conf_port *b,
    bool overlap)
{
	struct udp_endpoint x, y;

	vxlan_endpoint(a, &x);
	vxlan_endpoint(b, &y);
	if (!str_equal_null(a->netns, b->netns) || x.family != y.family ||
	    x.port != y.port)
		return false;
	return memcmp(&x.addr, &y.addr, sizeof(x.addr)) == 0 ||
	    (overlap && (addr_unspecified(&x.addr) ||
	    addr_unspecified(&y.addr)));
}

static char *
vxlan_conflict(const struct conf_port *a, const struct conf_port *b)
{
	char addr[INET6_ADDRSTRLEN];
	struct udp_endpoint ep;

	/* A port without a VNI or remotes is reported already. */
	if (!vxlan_conf(a)->vni || !vxlan_conf(a)->remote.n ||
	    !vxlan_conf(b)->remote.n ||
	    vxlan_conf(a)->vni != vxlan_conf(b)->vni ||
	    !vxlan_same_underlay(a, b, true))
		return NULL;
	vxlan_endpoint(b, &ep);
	return xasprintf("[port %s] has vni %u on %s port %u%s%s, like [port "
	    "%s]: a datagram could not tell them apart (give one another "
	    "vni, local or dstport)", b->name, vxlan_conf(b)->vni,
	    addr_unspecified(&ep.addr) ? "any address" :
	    udp_addr_str(&ep.addr, addr), ep.port,
	    b->netns ? " in namespace " : "", b->netns ? b->netns : "",
	    a->name);
}

/*
 * Run time.
 */

struct vxlan_port;

/* An endpoint's sockets, shared by the ports on it.  Main thread;
 * workers use the fds only. */
struct vxlan_ul {
	struct vxlan_ul *next;
	char *netns;
	struct udp_endpoint ep;
	unsigned refs;		/* the states that use it */
	unsigned nrx, ntx;
	int fds[CONF_QUEUES_MAX + UDP_TX_SOCKS];	/* rx, then tx */
	struct vxlan_port *members[VXLAN_SHARE_MAX];	/* the open ports */
};

/* A port's state: immutable while it is open. */
struct vxlan_port {
	uint32_t vni;
	uint8_t hdr[VXLAN_HDR_LEN];		/* what every frame gets */
	struct vxlan_ul *ul;
	const int *tx;				/* ul's send sockets */
	unsigned ntx;
	unsigned slot;				/* in ul->members */
	const char *name;			/* the port's */
	unsigned nremotes;
	struct in6_addr remote[VXLAN_REMOTES_MAX];
	struct sockaddr_storage sa[VXLAN_REMOTES_MAX];
	socklen_t salen[VXLAN_REMOTES_MAX];
};

static struct vxlan_ul *uls;	/* main thread */

static struct vxlan_ul *
ul_find(const struct conf_port *cp)
{
	struct udp_endpoint ep;

	vxlan_endpoint(cp, &ep);
	for (struct vxlan_ul *u = uls; u; u = u->next)
		if (str_equal_null(u->netns, cp->netns) &&
		    u->ep.family == ep.family && u->ep.port == ep.port &&
		    memcmp(&u->ep.addr, &ep.addr, sizeof(ep.addr)) == 0)
			return u;
	return NULL;
}

static void
ul_put(struct vxlan_ul *u)
{
	struct vxlan_ul **pp;

	if (--u->refs)
		return;
	for (pp = &uls; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	for (unsigned i = 0; i < u->nrx + u->ntx; i++)
		close(u->fds[i]);
	free(u->netns);
	free(u);
}

static void
vxlan_port_free(void *arg)
{
	struct vxlan_port *st = arg;

	ul_put(st->ul);
	free(st);
}

static void vxlan_txq_alloc(struct port *p);

static int
vxlan_open(struct port *p, bool vnet_hdr, unsigned *mtu, char **errp)
{
	const struct vxlan_conf *c = vxlan_conf(&p->conf);
	struct vxlan_ul *u = ul_find(&p->conf);
	struct vxlan_port *st;
	unsigned slot = VXLAN_SHARE_MAX;
	char *msg = NULL;
	int err;

	(void)vnet_hdr;		/* frames cross the hooks without one */
	(void)mtu;		/* mtu = is the inner MTU */
	if (u) {
		for (unsigned i = 0; i < VXLAN_SHARE_MAX; i++) {
			const struct vxlan_port *o = u->members[i];

			if (!o) {
				if (slot == VXLAN_SHARE_MAX)
					slot = i;
				continue;
			}
			if (o->vni == c->vni) {
				*errp = xasprintf("port %s: port %s has vni %u "
				    "on the same local address and port",
				    p->conf.name, o->name, c->vni);
				return -EEXIST;
			}
		}
		if (slot == VXLAN_SHARE_MAX) {
			*errp = xasprintf("port %s: %u ports share its local "
			    "address and port already", p->conf.name,
			    VXLAN_SHARE_MAX);
			return -ENOSPC;
		}
	} else {
		struct priv_udp_req req = {
			.netns = p->conf.netns,
			.nrx = p->nqueues,
			.ntx = UDP_TX_SOCKS,
		};

		vxlan_endpoint(&p->conf, &req.ep);
		u = xcalloc(1, sizeof(*u));
		err = priv_open_udp(p->pv, &req, u->fds, &msg);
		if (err < 0) {
			*errp = xasprintf("port %s: %s", p->conf.name,
			    msg ? msg : strerror(-err));
			free(msg);
			free(u);
			return err == -ENODEV ? -ENXIO : err;
		}
		u->netns = xstrdup_null(p->conf.netns);
		u->ep = req.ep;
		u->nrx = req.nrx;
		u->ntx = req.ntx;
		u->next = uls;
		uls = u;
		slot = 0;
	}
	for (unsigned q = 0; q < p->nqueues; q++) {
		p->fds[q] = fcntl(u->fds[q % u->nrx], F_DUPFD_CLOEXEC, 0);
		if (p->fds[q] < 0) {
			err = -errno;
			while (q > 0)
				close(p->fds[--q]), p->fds[q] = -1;
			*errp = xasprintf("port %s: dup: %s", p->conf.name,
			    strerror(-err));
			u->refs++;
			ul_put(u);
			return err;
		}
	}
	st = xcalloc(1, sizeof(*st));
	st->vni = c->vni;
	vxlan_encode(st->hdr, c->vni);
	st->ul = u;
	st->tx = u->fds + u->nrx;
	st->ntx = u->ntx;
	st->slot = slot;
	st->name = p->conf.name;
	st->nremotes = c->remote.n;
	for (unsigned i = 0; i < c->remote.n; i++) {
		st->remote[i] = c->remote.a[i];
		st->salen[i] = udp_sockaddr(&c->remote.a[i],
		    (uint16_t)c->dstport, &st->sa[i]);
	}
	vxlan_txq_alloc(p);
	u->refs++;
	u->members[slot] = st;
	__atomic_store_n(&p->priv, st, __ATOMIC_RELEASE);
	p->vnet = false;
	p->created = false;
	port_set_up(p, true);
	return 0;
}

static struct vxlan_port *
vxlan_state(const struct port *p)
{
	return __atomic_load_n((struct vxlan_port *const *)&p->priv,
	    __ATOMIC_ACQUIRE);
}

/*
 * Data path.
 */

/* The port of p's endpoint whose VNI is vni, published and open; NULL
 * if none.  Only datagrams that are not p's own come here. */
static struct port *
vxlan_sibling(const struct port *p, const struct vxlan_port *st, uint32_t vni)
{
	const struct port_set *set = port_table_set(p->pt);

	for (unsigned i = 0; i < set->n; i++) {
		struct port *o = set->ports[i];
		const struct vxlan_port *so;

		if (o->type == &port_type_vxlan && o != p &&
		    (so = vxlan_state(o)) != NULL && so->ul == st->ul &&
		    so->vni == vni)
			return o;
	}
	return NULL;
}

/* The index of the remote with address a, or -1. */
static int
vxlan_remote_of(const struct vxlan_port *st, const struct in6_addr *a)
{
	for (unsigned i = 0; i < st->nremotes; i++)
		if (memcmp(&st->remote[i], a, sizeof(*a)) == 0)
			return (int)i;
	return -1;
}

/* A datagram of len bytes, refused: counted received, and why not. */
static void
vxlan_drop(struct port *p, unsigned q, size_t len, size_t off)
{
	struct port_counters *c = &p->queues[q].ctr;

	ctr_add(&c->rx_packets, 1);
	ctr_add(&c->rx_bytes, len);
	ctr_add((uint64_t *)((char *)c + off), 1);
}

#define DROP(p, q, len, name) \
	vxlan_drop(p, q, len, offsetof(struct port_counters, name))

/*
 * Read up to b->want datagrams with one recvmmsg(2): the VXLAN header
 * into a scratch, the frame straight into its slot.  Datagrams that are
 * refused are counted, and the frames after them move down a slot (only
 * bad input pays for that copy).  A runt inner frame is handed on as it
 * is: the forwarding decision counts it (rx_runt).  Errors of the socket
 * are not the port's end: an unconnected UDP socket reports nothing
 * lasting.
 */
static int
vxlan_rx(struct port *p, unsigned q, struct port_rxb *b)
{
	struct vxlan_port *st = vxlan_state(p);
	struct mmsghdr mm[PORT_RX_BATCH];
	struct iovec iov[PORT_RX_BATCH][2];
	uint8_t hdr[PORT_RX_BATCH][VXLAN_HDR_LEN];
	struct sockaddr_in6 from[PORT_RX_BATCH];
	int fd = port_fd(p, q), r, n = 0;

	if (fd < 0 || !st)
		return 0;
	for (unsigned i = 0; i < b->want; i++) {
		iov[i][0] = (struct iovec){ hdr[i], VXLAN_HDR_LEN };
		iov[i][1] = (struct iovec){ b->frame[i], b->room };
		mm[i].msg_hdr = (struct msghdr){
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = iov[i], .msg_iovlen = 2,
		};
	}
	do
		r = recvmmsg(fd, mm, b->want, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN && errno != EBADF)
			log_rl(LOG_LVL_WARN, "port %s queue %u: recvmmsg: %s",
			    p->conf.name, q, strerror(errno));
		return 0;
	}
	for (int k = 0; k < r; k++) {
		size_t len = mm[k].msg_len;
		struct port *in = p;
		const struct vxlan_port *ist = st;
		struct in6_addr a;
		uint32_t vni = 0;
		int ri;

		switch (vxlan_decode(hdr[k], len, &vni)) {
		case VXLAN_RX_SHORT:
			DROP(p, q, len, rx_tunnel_short);
			continue;
		case VXLAN_RX_FLAGS:
			DROP(p, q, len, rx_tunnel_flags);
			continue;
		case VXLAN_RX_OK:
		case VXLAN_RX_RUNT:
			break;
		}
		if (vni != st->vni) {
			in = vxlan_sibling(p, st, vni);
			if (!in || !(ist = vxlan_state(in))) {
				DROP(p, q, len, rx_tunnel_vni);
				continue;
			}
		}
		if (from[k].sin6_family == AF_INET) {
			memset(&a, 0, sizeof(a));
			a.s6_addr[10] = a.s6_addr[11] = 0xff;
			memcpy(&a.s6_addr[12], &((struct sockaddr_in *)
			    (void *)&from[k])->sin_addr, 4);
		} else {
			a = from[k].sin6_addr;
		}
		if ((ri = vxlan_remote_of(ist, &a)) < 0) {
			DROP(in, q, len, rx_tunnel_remote);
			continue;
		}
		if (n != k)
			memmove(b->frame[n], b->frame[k], len - VXLAN_HDR_LEN);
		b->len[n] = len - VXLAN_HDR_LEN;
		b->remote[n] = (uint16_t)ri;
		if (in != p)
			b->in[n] = in;
		n++;
	}
	return n;
}

/* The flow hash of the frame in f->iov: over its first bytes,
 * gathered. */
static uint32_t
vxlan_txf_hash(const struct port_txf *f)
{
	uint8_t head[96];
	size_t got = 0;

	for (int i = 0; i < f->niov && got < sizeof(head); i++) {
		size_t n = f->iov[i].iov_len < sizeof(head) - got ?
		    f->iov[i].iov_len : sizeof(head) - got;

		memcpy(head + got, f->iov[i].iov_base, n);
		got += n;
	}
	return vxlan_flow_hash(head, got);
}

static int
vxlan_send_one(const struct vxlan_port *st, int fd, struct msghdr *mh,
    unsigned r)
{
	ssize_t n;

	mh->msg_name = (void *)&st->sa[r];
	mh->msg_namelen = st->salen[r];
	do
		n = sendmsg(fd, mh, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/*
 * Sending in batches.  Frames of queue q are copied, each behind its
 * VXLAN header, into the queue's batch (struct vxlan_txq, in p->qpriv,
 * which lives as long as the port), and the worker calls tx_flush at the
 * end of its batch.  A run of frames of one flow to one destination --
 * the segments of a TCP super-frame above all -- that are all as long as
 * the first but the last leaves with one sendmsg(2) and UDP_SEGMENT: the
 * kernel cuts it into one datagram per frame (UDP GSO), at the NIC or,
 * without the NIC's help, once for all of them.  A frame that cannot join
 * the run sends the run first.
 */
#define VXLAN_TXB_BYTES 65000	/* UDP payload of one send */
#define VXLAN_TXB_SEGS 64	/* the kernel's UDP_MAX_SEGMENTS (6.x: 128) */
#define VXLAN_TXB_ALL UINT16_MAX	/* remote: every one (flooded) */

/*
 * Send frame f at once, alone, behind the port's VXLAN header: to its
 * remote, or to every remote (VXLAN_TXB_ALL).  A flood that some remotes
 * did not get is sent if any got it, and the copies lost are counted
 * (tx_remote_errors).
 */
static int
vxlan_tx_now(const struct vxlan_port *st, const struct port_txf *f,
    unsigned sock, uint16_t remote, struct port *p, unsigned q)
{
	struct iovec iov[8];
	struct msghdr mh = { .msg_iov = iov };
	int fd = st->tx[sock], r, first = 0;
	unsigned sent = 0;

	if (f->niov > 7)
		return -EINVAL;
	iov[0] = (struct iovec){ (void *)st->hdr, VXLAN_HDR_LEN };
	memcpy(iov + 1, f->iov, (size_t)f->niov * sizeof(*iov));
	mh.msg_iovlen = (size_t)f->niov + 1;
	if (remote != VXLAN_TXB_ALL)
		return vxlan_send_one(st, fd, &mh, remote);
	for (unsigned i = 0; i < st->nremotes; i++) {
		if ((r = vxlan_send_one(st, fd, &mh, i)) == 0)
			sent++;
		else if (!first)
			first = r;
	}
	if (sent && sent < st->nremotes)
		ctr_add(&p->queues[q].ctr.tx_remote_errors,
		    st->nremotes - sent);
	return sent ? 0 : first;
}

struct vxlan_txq {
	size_t used;		/* bytes in buf */
	size_t seglen;		/* of the first datagram */
	unsigned nseg;
	unsigned sock;		/* index of the send socket */
	uint16_t remote;	/* or VXLAN_TXB_ALL */
	bool closed;		/* a shorter datagram ended the run */
	uint8_t *buf;		/* VXLAN_TXB_BYTES */
} __attribute__((aligned(CACHE_LINE)));

/* Bytes of one queue's batch, its buffer included: a whole number of
 * cache lines, so that each queue's struct is aligned. */
#define VXLAN_TXQ_STRIDE \
	((sizeof(struct vxlan_txq) + VXLAN_TXB_BYTES + CACHE_LINE - 1) / \
	CACHE_LINE * CACHE_LINE)

/* The batches of p's queues, made at the first open. */
static void
vxlan_txq_alloc(struct port *p)
{
	size_t one = VXLAN_TXQ_STRIDE;
	uint8_t *b;

	if (p->qpriv)
		return;
	b = xaligned_alloc(CACHE_LINE, p->nqueues * one);
	for (unsigned q = 0; q < p->nqueues; q++) {
		struct vxlan_txq *t = (struct vxlan_txq *)(b + q * one);

		t->buf = (uint8_t *)(t + 1);
	}
	p->qpriv = b;
}

static struct vxlan_txq *
vxlan_txq(const struct port *p, unsigned q)
{
	return (struct vxlan_txq *)((uint8_t *)p->qpriv + q *
	    VXLAN_TXQ_STRIDE);
}

/* Count n frames of len bytes (without their VXLAN headers) as sent, or
 * as dropped for err. */
static void
vxlan_count(struct port *p, unsigned q, unsigned n, size_t len, int err)
{
	struct port_counters *c = &p->queues[q].ctr;

	switch (err) {
	case 0:
		ctr_add(&c->tx_packets, n);
		ctr_add(&c->tx_bytes, len);
		return;
	case -EBADF:
		ctr_add(&c->tx_down, n);
		return;
	case -EAGAIN:
	case -ENOBUFS:
		ctr_add(&c->tx_full, n);
		return;
	case -EMSGSIZE:
		ctr_add(&c->tx_oversize, n);
		return;
	default:
		ctr_add(&c->tx_errors, n);
		if (err != -ENETUNREACH && err != -EHOSTUNREACH &&
		    err != -ENETDOWN)
			log_rl(LOG_LVL_WARN, "port %s queue %u: sendmsg: %s",
			    p->conf.name, q, strerror(-err));
	}
}

static void
vxlan_tx_flush(struct port *p, unsigned q)
{
	struct vxlan_port *st = vxlan_state(p);
	struct vxlan_txq *t = vxlan_txq(p, q);
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { t->buf, t->used };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t inner = t->used - (size_t)t->nseg * VXLAN_HDR_LEN;
	unsigned first, last, sent = 0;
	int err = 0, r;

	if (!t->nseg)
		return;
	if (!st || port_fd(p, q) < 0) {
		vxlan_count(p, q, t->nseg, 0, -EBADF);
		goto out;
	}
	if (t->nseg > 1) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)(void *)CMSG_DATA(c) = (uint16_t)t->seglen;
	}
	first = t->remote == VXLAN_TXB_ALL ? 0 : t->remote;
	last = t->remote == VXLAN_TXB_ALL ? st->nremotes : first + 1;
	for (unsigned i = first; i < last && i < st->nremotes; i++) {
		r = vxlan_send_one(st, st->tx[t->sock % st->ntx], &mh, i);
		/* A run longer than the path allows: EMSGSIZE, or EINVAL
		 * from UDP GSO (a segment over the MTU). */
		if (r == -EINVAL && t->nseg > 1)
			r = -EMSGSIZE;
		if (r == 0)
			sent++;
		else if (!err)
			err = r;
	}
	if (sent && sent < last - first)
		ctr_add(&p->queues[q].ctr.tx_remote_errors,
		    (uint64_t)(last - first - sent) * t->nseg);
	vxlan_count(p, q, t->nseg, inner, sent ? 0 : err);
out:
	t->nseg = 0;
	t->used = 0;
}

/*
 * Take frame f into queue q's batch, behind the port's VXLAN header, for
 * its remote, or every remote when flooded; the send socket (the outer
 * source port) is the one the inner flow hash picks.  A frame too long
 * for a batch goes at once, alone.
 */
static int
vxlan_tx(struct port *p, unsigned q, const struct port_txf *f)
{
	struct vxlan_port *st = vxlan_state(p);
	struct vxlan_txq *t = vxlan_txq(p, q);
	size_t len = f->len + VXLAN_HDR_LEN;
	uint16_t remote;
	unsigned sock;
	uint8_t *d;

	if (!st || port_fd(p, q) < 0)
		return -EBADF;
	sock = st->ntx > 1 ? vxlan_txf_hash(f) % st->ntx : 0;
	remote = !f->flood && f->remote < st->nremotes ? f->remote :
	    VXLAN_TXB_ALL;
	if (t->nseg && (t->sock != sock || t->remote != remote ||
	    t->closed || len > t->seglen || t->nseg == VXLAN_TXB_SEGS ||
	    t->used + len > VXLAN_TXB_BYTES))
		vxlan_tx_flush(p, q);
	if (len > VXLAN_TXB_BYTES)
		return vxlan_tx_now(st, f, sock, remote, p, q);
	if (!t->nseg) {
		t->sock = sock;
		t->remote = remote;
		t->seglen = len;
		t->closed = false;
	}
	d = t->buf + t->used;
	memcpy(d, st->hdr, VXLAN_HDR_LEN);
	d += VXLAN_HDR_LEN;
	for (int i = 0; i < f->niov; i++) {
		memcpy(d, f->iov[i].iov_base, f->iov[i].iov_len);
		d += f->iov[i].iov_len;
	}
	t->used += len;
	t->nseg++;
	t->closed = len < t->seglen;
	return PORT_TX_BATCHED;
}

static void
vxlan_close(struct port *p)
{
	struct vxlan_port *st = p->priv;

	for (unsigned q = 0; q < p->nqueues; q++) {
		if (p->fds[q] >= 0)
			close(p->fds[q]);
		p->fds[q] = -1;
	}
	if (!st)
		return;
	st->ul->members[st->slot] = NULL;
	__atomic_store_n(&p->priv, NULL, __ATOMIC_RELEASE);
	/* Workers may still be sending through st and its endpoint's
	 * sockets when the port is closed while published; otherwise it
	 * is unpublished and past a grace period (port_free). */
	if (p->defer_qs)
		qsbr_defer(p->defer_qs, vxlan_port_free, st);
	else
		vxlan_port_free(st);
}

static void
vxlan_show(const struct port *p, json_t *o)
{
	const struct vxlan_conf *c = vxlan_conf(&p->conf);
	json_t *r = json_array();
	char a[INET6_ADDRSTRLEN];
	struct udp_endpoint ep;

	vxlan_endpoint(&p->conf, &ep);
	json_object_set_new(o, "vni", json_integer(c->vni));
	for (uint32_t i = 0; i < c->remote.n; i++)
		json_array_append_new(r, json_string(udp_addr_str(
		    &c->remote.a[i], a)));
	json_object_set_new(o, "remote", r);
	json_object_set_new(o, "local", json_string(udp_addr_str(&ep.addr,
	    a)));
	json_object_set_new(o, "dstport", json_integer(c->dstport));
}

static int
vxlan_remote_index(const struct port *p, const char *addr, uint16_t *idx,
    char **err)
{
	const struct vxlan_conf *c = vxlan_conf(&p->conf);
	struct in6_addr a;

	if (udp_addr_parse(addr, &a) < 0) {
		*err = xasprintf("remote must be an IPv4 or IPv6 address");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c->remote.n; i++)
		if (memcmp(&c->remote.a[i], &a, sizeof(a)) == 0) {
			*idx = (uint16_t)i;
			return 0;
		}
	*err = xasprintf("%s is not a remote of port %s (its remote = "
	    "lists the hosts it sends to)", addr, p->conf.name);
	return -ENOENT;
}

static const char *
vxlan_remote_name(const struct port *p, uint16_t idx, char *buf)
{
	const struct vxlan_conf *c = vxlan_conf(&p->conf);

	if (idx >= c->remote.n)
		return NULL;
	return udp_addr_str(&c->remote.a[idx], buf);
}

const struct port_type port_type_vxlan = {
	.conf = {
		.name = "vxlan",
		.summary = "other hosts, over VXLAN (RFC 7348)",
		.keys = vxlan_keys,
		.n_keys = ARRAY_SIZE(vxlan_keys),
		.size = sizeof(struct vxlan_conf),
		.init = vxlan_conf_init,
		.check = vxlan_conf_check,
		.conflict = vxlan_conflict,
	},
	.caps = PORT_CAP_MULTIQUEUE | PORT_CAP_IO,
	.open = vxlan_open,
	.close = vxlan_close,
	.show = vxlan_show,
	.remote_index = vxlan_remote_index,
	.remote_name = vxlan_remote_name,
	.rx = vxlan_rx,
	.tx = vxlan_tx,
	.tx_flush = vxlan_tx_flush,
};
