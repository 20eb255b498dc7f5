/*
 * packet.c - AF_PACKET sockets for system ports (see packet.h).
 *
 * Talks to the kernel only; called by priv.c inside the interface's
 * namespace.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "tapswitch/packet.h"
#include "tapswitch/util.h"

/* Since Linux 5.1; older headers lack it. */
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000
#endif

/* Socket buffers: a burst of 64 KiB super-frames must fit (the kernel
 * doubles the value for its bookkeeping). */
#define PACKET_BUF (4 << 20)

static int
sockopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ?
	    -errno : 0;
}

/* One socket, bound to ifindex; promisc on the first.  fanout: the
 * group's id and mode word, 0 for a single socket. */
static int
packet_one(int ifindex, bool vnet_hdr, bool promisc, int *out)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	int fd, err;

	/* Protocol 0: nothing is queued to the socket before it is bound
	 * to the interface. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((vnet_hdr && (err = sockopt(fd, SOL_PACKET, PACKET_VNET_HDR,
	    1)) < 0) ||
	    (err = sockopt(fd, SOL_PACKET, PACKET_AUXDATA, 1)) < 0 ||
	    (err = sockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) < 0)
		goto fail;
	/* Larger buffers where allowed (CAP_NET_ADMIN); the defaults work,
	 * with more drops under bursts. */
	if (sockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, PACKET_BUF) < 0)
		sockopt(fd, SOL_SOCKET, SO_RCVBUF, PACKET_BUF);
	if (sockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, PACKET_BUF) < 0)
		sockopt(fd, SOL_SOCKET, SO_SNDBUF, PACKET_BUF);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		goto fail;
	}
	if (promisc && setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) < 0) {
		err = -errno;
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	return err;
}

/*
 * Members of a fanout group receive through the group, which ignores the
 * members' PACKET_IGNORE_OUTGOING: the group needs the flag of its own.
 * Kernels without that flag get a socket filter that drops outgoing
 * frames instead (each is still copied to the group, then dropped).
 */
static int
drop_outgoing_filter(int fd)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) < 0 ? -errno : 0;
}

/* Join fd to the fanout group (mode word as for PACKET_FANOUT, flags
 * included). */
static int
fanout_join(int fd, int mode, bool filter)
{
	int err;

	if (filter && (err = drop_outgoing_filter(fd)) < 0)
		return err;
	return sockopt(fd, SOL_PACKET, PACKET_FANOUT, mode);
}

int
packet_open(int ifindex, unsigned nqueues, bool vnet_hdr, int *fds)
{
	int err, fanout = 0;
	socklen_t len = sizeof(fanout);
	bool filter = false;
	unsigned q;

	for (q = 0; q < nqueues; q++)
		fds[q] = -1;
	for (q = 0; q < nqueues; q++) {
		if ((err = packet_one(ifindex, vnet_hdr, q == 0, &fds[q])) < 0)
			goto fail;
		if (nqueues == 1)
			break;
		if (q == 0) {
			/* The kernel picks a group id free in this
			 * namespace; the others join it. */
			int flags = PACKET_FANOUT_FLAG_IGNORE_OUTGOING;

			err = fanout_join(fds[0], PACKET_FANOUT_HASH |
			    ((flags | PACKET_FANOUT_FLAG_UNIQUEID) << 16),
			    false);
			if (err == -EINVAL) {
				flags = 0;
				filter = true;
				err = fanout_join(fds[0], PACKET_FANOUT_HASH |
				    (PACKET_FANOUT_FLAG_UNIQUEID << 16), true);
			}
			if (err < 0)
				goto fail;
			if (getsockopt(fds[0], SOL_PACKET, PACKET_FANOUT,
			    &fanout, &len) < 0) {
				err = -errno;
				goto fail;
			}
			/* The id, and the mode and flags without
			 * UNIQUEID, which only the first member gives. */
			fanout = (fanout & 0xffff) |
			    ((PACKET_FANOUT_HASH | flags) << 16);
		} else if ((err = fanout_join(fds[q], fanout, filter)) < 0) {
			goto fail;
		}
	}
	return 0;
fail:
	for (q = 0; q < nqueues; q++)
		if (fds[q] >= 0) {
			close(fds[q]);
			fds[q] = -1;
		}
	return err;
}
