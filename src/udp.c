/*
 * udp.c - the sockets of a tunnel's underlay endpoint (see udp.h), and
 * the address helpers of the vxlan configuration.
 *
 * Runs where the sockets are made: the privileged helper, inside the
 * underlay's namespace (priv.c), or the daemon itself without one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tapswitch/udp.h"

#define UDP_BUF (4 << 20)	/* socket buffers: a few 64 KiB bursts */
#define UDP_TX_RCVBUF 4096	/* send sockets: ICMP errors only */

unsigned
udp_sockaddr(const struct in6_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (udp_addr_is_v4(a)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, &a->s6_addr[12], 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	s6->sin6_addr = *a;
	return sizeof(*s6);
}

const char *
udp_addr_str(const struct in6_addr *a, char *buf)
{
	if (udp_addr_is_v4(a))
		return inet_ntop(AF_INET, &a->s6_addr[12], buf,
		    INET6_ADDRSTRLEN);
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

int
udp_addr_parse(const char *s, struct in6_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1 && !IN6_IS_ADDR_V4MAPPED(a))
		return 0;
	return -EINVAL;
}

/* Raise a buffer as far as we may: past the sysctl limit with
 * CAP_NET_ADMIN, else to it. */
static void
set_buf(int fd, int force, int plain, int size)
{
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

static int
open_one(const struct udp_endpoint *ep, bool rx, bool reuseport)
{
	struct sockaddr_storage ss;
	unsigned len = udp_sockaddr(&ep->addr, rx ? ep->port : 0, &ss);
	int fd, one = 1, err;

	fd = socket(ep->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ep->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (rx) {
		set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, UDP_BUF);
		/* A tunnel's IPv6 datagrams may come without a checksum
		 * (RFC 6935); IPv4 ones may anyway. */
		if (ep->family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_RX,
			    &one, sizeof(one));
	} else {
		int pmtu = ep->family == AF_INET ? IP_PMTUDISC_DO :
		    IPV6_PMTUDISC_DO;
		int small = UDP_TX_RCVBUF;

		set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, UDP_BUF);
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof(small));
		if (ep->family == AF_INET ?
		    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) < 0 :
		    (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) < 0 || setsockopt(fd, IPPROTO_IPV6,
		    IPV6_DONTFRAG, &one, sizeof(one)) < 0))
			goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int
udp_open(const struct udp_endpoint *ep, unsigned nrx, unsigned ntx, int *fds)
{
	unsigned i;
	int fd;

	if (nrx < 1 || nrx > 16 || ntx > UDP_TX_SOCKS ||
	    (ep->family != AF_INET && ep->family != AF_INET6) ||
	    (ep->family == AF_INET) != !!udp_addr_is_v4(&ep->addr) ||
	    ep->port == 0)
		return -EINVAL;
	for (i = 0; i < nrx + ntx; i++) {
		fd = open_one(ep, i < nrx, i < nrx && nrx > 1);
		if (fd < 0) {
			while (i > 0)
				close(fds[--i]);
			return fd;
		}
		fds[i] = fd;
	}
	return 0;
}
