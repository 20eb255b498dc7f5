/*
 * udp.h - the UDP sockets of a tunnel's underlay (vxlan ports,
 * port_vxlan.c).
 *
 * An underlay endpoint is an address and a port in a namespace.  It has
 * nrx receive sockets bound to that address and port, one per worker,
 * joined in one SO_REUSEPORT group when there are several (the kernel
 * spreads flows over them by their addresses and ports, so a flow stays
 * on one worker and in order); and ntx send sockets bound to the same
 * address and a port the kernel picks, one for each outer source port
 * the flows are spread over (a UDP socket sends from its bound port
 * only).  Every socket is non-blocking and close-on-exec.  Send sockets
 * never fragment: IPv4 with DF set (IP_PMTUDISC_DO), IPv6 with
 * IPV6_DONTFRAG, so a datagram longer than the path allows fails with
 * EMSGSIZE instead.  Datagrams go with a UDP checksum, which UDP GSO
 * (UDP_SEGMENT) needs and the kernel leaves to the NIC where it can;
 * IPv6 ones that come without are taken (RFC 6935), IPv4 ones always
 * are (RFC 7348 recommends none for IPv4).  Send sockets
 * take next to no receive buffer: nothing is
 * sent to them but ICMP errors.  Socket buffers are raised past the
 * system's limits when the caller may (CAP_NET_ADMIN: the privileged
 * helper opens them, priv.h); using the sockets needs nothing.
 */
#ifndef TAPSWITCH_UDP_H
#define TAPSWITCH_UDP_H

#include <netinet/in.h>
#include <stdint.h>

#define UDP_TX_SOCKS 8		/* outer source ports of an endpoint */

/* An endpoint: family AF_INET (addr is an IPv4-mapped IPv6 address) or
 * AF_INET6; the unspecified address means any; port 1..65535. */
struct udp_endpoint {
	int family;
	struct in6_addr addr;
	uint16_t port;
};

/* Whether a is an IPv4 address (IPv4-mapped). */
static inline int
udp_addr_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

/*
 * Open the nrx receive sockets (1..16) and ntx send sockets
 * (0..UDP_TX_SOCKS) of ep in the calling thread's namespace, into
 * fds[0..nrx) and fds[nrx..nrx+ntx).  0 or -errno (nothing is left
 * open): -EADDRINUSE when another socket has the address and port,
 * -EADDRNOTAVAIL when the address is not the namespace's.
 */
int udp_open(const struct udp_endpoint *ep, unsigned nrx, unsigned ntx,
    int *fds);

/* The sockaddr for address a and port (network order not needed: host
 * order), as the family of a says; returns its length. */
unsigned udp_sockaddr(const struct in6_addr *a, uint16_t port,
    struct sockaddr_storage *ss);

/* "192.0.2.1" or "2001:db8::1" into buf (INET6_ADDRSTRLEN bytes). */
const char *udp_addr_str(const struct in6_addr *a, char *buf);

/* Parse an IPv4 or IPv6 address (not an IPv4-mapped one) into *a, IPv4
 * as IPv4-mapped.  0 or -EINVAL. */
int udp_addr_parse(const char *s, struct in6_addr *a);

#endif
