/*
 * tap.c - open the queues of a multiqueue TAP through /dev/net/tun.
 *
 * Each queue is one open of the clone device followed by TUNSETIFF with
 * IFF_MULTI_QUEUE; the first TUNSETIFF on a name that does not exist
 * creates the interface.  With a virtio-net header the kernel may hand us
 * GSO super-frames and frames whose checksum is still to be filled in, and
 * accepts the same from us, which is what makes bulk TCP through the
 * switch fast (see DESIGN.md, "Offloads").
 *
 * Only the character-device side lives here; MTU and link state are set
 * through rtnetlink by nl.c.  Which network namespace a TAP is created in
 * (or looked up in) is decided by the namespace of the thread that opens
 * /dev/net/tun: the caller enters it first (priv.c).
 *
 * Throughput notes (what is set here and what is deliberately not):
 *
 *  - Send buffer.  Every skb we write is charged to the queue's socket
 *    until the stack frees it; once the charge passes sk_sndbuf a
 *    non-blocking write fails with EAGAIN.  The kernel starts a new queue
 *    at INT_MAX, but the value is per device and a persistent TAP may have
 *    been given a small one (TUNSETSNDBUF applies to every attached
 *    queue), so we set INT_MAX explicitly: backpressure then comes from
 *    the stack's own queues, as on a physical port, and never from
 *    accounting of frames we already handed over.
 *
 *  - Queue steering.  The kernel sends a flow's frames to the queue that
 *    last wrote that flow (the tun "automq" flow table), so a TCP
 *    connection between two ports stays on one worker in both directions
 *    without a steering eBPF program.
 *
 *  - Not used: IFF_NAPI / IFF_NAPI_FRAGS exist to test the NAPI/GRO
 *    receive path and would put GRO on every write; our writes are already
 *    super-frames.  The per-queue ring towards us holds txqueuelen frames
 *    (1000); with 64 KiB super-frames that is ample, and a longer ring
 *    only adds latency.  A TAP the daemon creates gets noqueue as its root
 *    qdisc (nl_link_setup), as a veth has: a TAP never stops its queue,
 *    so a qdisc would hold nothing, and the kernel side does not
 *    serialise the queues either.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tapswitch/tap.h"

/* UDP segmentation offload (Linux 6.2); older headers lack the names. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define TAP_TUN_DEV "/dev/net/tun"

#define TAP_OFFLOADS \
	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define TAP_OFFLOADS_USO (TUN_F_USO4 | TUN_F_USO6)

/*
 * Flags TUNGETIFF reports that must match what we asked for.  IFF_NO_PI
 * cannot be checked: it shares its bit with the read-only IFF_NOFILTER,
 * which TUNGETIFF sets on every queue without a socket filter.
 */
#define TAP_CHECKED_FLAGS \
	(IFF_TUN | IFF_TAP | IFF_MULTI_QUEUE | IFF_VNET_HDR)

static int
valid_ifname(const char *ifname)
{
	size_t len = strlen(ifname);

	/* '%' would make the kernel pick a name from a template ("tap%d"). */
	if (len == 0 || len >= IFNAMSIZ || strchr(ifname, '%') ||
	    strchr(ifname, '/'))
		return 0;
	return 1;
}

/* Attach one more queue fd to ifname; returns the fd or -errno. */
static int
attach_queue(const char *ifname, short flags)
{
	struct ifreq ifr;
	int fd, err;

	fd = open(TAP_TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The kernel only applies TUNSETIFF's feature flags when the device has no
 * other queue attached; otherwise the device keeps its own, and a TAP
 * without a virtio-net header would silently feed us frames we misparse.
 */
static int
check_flags(int fd, const char *ifname, short want)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	if ((ifr.ifr_flags & TAP_CHECKED_FLAGS) != (want & TAP_CHECKED_FLAGS))
		return -EBUSY;
	if (strncmp(ifr.ifr_name, ifname, IFNAMSIZ) != 0)
		return -EINVAL;
	return 0;
}

/* Device-wide settings; any attached queue fd will do. */
static int
configure(int fd, bool vnet_hdr)
{
	int sndbuf = INT_MAX;
	int hdrlen = TAP_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETSNDBUF, &sndbuf) < 0)
		return -errno;
	if (!vnet_hdr) {
		/* Offloads are device state, not flags of a queue: a
		 * persistent TAP from a run with offload = yes still has
		 * them, and would hand us GSO frames we cannot take. */
		if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0)
			return -errno;
		return 0;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0)
		return -errno;
	/* The kernel refuses the whole request (EINVAL) when it does not
	 * know a bit, so a kernel older than 6.2 needs a second try. */
	if (ioctl(fd, TUNSETOFFLOAD,
	    (unsigned long)(TAP_OFFLOADS | TAP_OFFLOADS_USO)) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TAP_OFFLOADS) < 0)
		return -errno;
	return 0;
}

int
tap_set_persist(int fd, bool persist)
{
	if (ioctl(fd, TUNSETPERSIST, persist ? 1UL : 0UL) < 0)
		return -errno;
	return 0;
}

bool
tap_attached(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return ioctl(fd, TUNGETIFF, &ifr) == 0;
}

int
tap_open(const char *ifname, unsigned nqueues, bool vnet_hdr,
    bool persist, int *fds, bool *created)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
	bool existed;
	unsigned q;
	int fd, err;

	if (nqueues == 0 || !valid_ifname(ifname))
		return -EINVAL;
	if (vnet_hdr)
		flags |= IFF_VNET_HDR;
	for (q = 0; q < nqueues; q++)
		fds[q] = -1;

	existed = if_nametoindex(ifname) != 0;
	for (q = 0; q < nqueues; q++) {
		/* When we create the interface, IFF_TUN_EXCL makes the
		 * creation atomic: someone else creating the same name in
		 * between is EBUSY, not a TAP we share by accident. */
		fd = attach_queue(ifname,
		    q == 0 && !existed ? flags | IFF_TUN_EXCL : flags);
		if (fd < 0) {
			err = fd;
			/* An existing interface that is not a TAP, or a TAP
			 * without IFF_MULTI_QUEUE, is refused with EINVAL;
			 * a single-queue TAP in use is EBUSY already. */
			if (existed && err == -EINVAL)
				err = -EBUSY;
			goto fail;
		}
		fds[q] = fd;
		if (q == 0 && existed && (err = check_flags(fd, ifname,
		    flags)) < 0)
			goto fail;
	}
	if ((err = configure(fds[0], vnet_hdr)) < 0)
		goto fail;
	/* Last, so that a failure before leaves nothing persistent. */
	if (persist && (err = tap_set_persist(fds[0], true)) < 0)
		goto fail;
	*created = !existed;
	return 0;

fail:
	/* Closing the last queue of a TAP we created removes it again. */
	tap_close(fds, nqueues);
	return err;
}

void
tap_close(int *fds, unsigned n)
{
	unsigned q;

	for (q = 0; q < n; q++) {
		if (fds[q] >= 0) {
			close(fds[q]);
			fds[q] = -1;
		}
	}
}
