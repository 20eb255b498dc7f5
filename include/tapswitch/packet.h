/*
 * packet.h - AF_PACKET sockets on an existing interface, for system
 * ports (port_system.c).
 *
 * A system port with N queues owns N packet sockets bound to the
 * interface, one per worker, joined in one PACKET_FANOUT group (by flow
 * hash, so a flow stays on one worker and in order).  Each socket:
 *
 *   - reads and writes whole frames, one per message, with a
 *     virtio-net header in front when vnet_hdr (PACKET_VNET_HDR): GSO
 *     super-frames and partial checksums pass as on a TAP;
 *   - reports with each frame what the kernel knows of it apart
 *     (PACKET_AUXDATA): above all an 802.1Q tag that the interface or
 *     the stack took off the frame, which the reader must put back;
 *   - does not see what it, or anyone else on this host, sends out of
 *     the interface (PACKET_IGNORE_OUTGOING, and for the fanout group
 *     its IGNORE_OUTGOING flag, or a socket filter on kernels before
 *     5.1): frames the switch sent never come back in, and neither
 *     does the host's own traffic;
 *   - holds a PACKET_MR_PROMISC membership (the first socket only): the
 *     interface is promiscuous while the port is open, and the kernel
 *     drops the membership when the socket closes, however the daemon
 *     ends (kill -9 included).  The interface's own IFF_PROMISC setting
 *     is never touched, so "ip link" shows no PROMISC flag; "ip -d link"
 *     shows the promiscuity count.
 *
 * Opening needs CAP_NET_RAW (and CAP_NET_ADMIN for the larger socket
 * buffers); the privileged helper does it (priv.h).  Using the sockets
 * afterwards needs nothing.
 */
#ifndef TAPSWITCH_PACKET_H
#define TAPSWITCH_PACKET_H

#include <stdbool.h>

/*
 * Open nqueues packet sockets on interface ifindex of the calling
 * thread's network namespace into fds[0..nqueues): non-blocking,
 * close-on-exec, as above.  0 or -errno (nothing is left open).
 */
int packet_open(int ifindex, unsigned nqueues, bool vnet_hdr, int *fds);

#endif
