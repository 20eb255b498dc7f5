/*
 * rawwire.c - a wire between two TAP interfaces with no switching logic:
 * every frame read from one TAP is written to the other, as it came.
 *
 * It is the ceiling for any switch built on TAPs, tapswitchd included:
 * the same system calls on the same kind of device (multiqueue TAPs,
 * non-blocking fds, epoll, reads in batches of up to 32 frames, then the
 * writes), minus parsing, learning, lookups and counters.  With -v the
 * TAPs carry a virtio-net header and announce checksum and TCP
 * segmentation offloads (TUNSETOFFLOAD), as tapswitchd does with
 * offload = yes, so TCP super-frames of up to 64 KiB cross unsegmented;
 * the header is passed through untouched, which is right because both
 * TAPs have the same settings.
 *
 * One thread per queue (-q N): thread q owns queue q of both TAPs.  The
 * TAPs are created (never persistent), so they disappear when rawwire
 * exits.  Once both are open it writes its process id to the ready file
 * (-r PATH); SIGINT or SIGTERM stop it, and it prints what it moved.
 *
 * Used by bench/run; not part of the build.  Compile with
 *	cc -O2 -Wall -Wextra -pthread bench/rawwire.c -o rawwire
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#define BATCH 32
#define MAX_QUEUES 16
/* A 64 KiB GSO super-frame, its Ethernet header and the vnet header. */
#define FRAME_BUF_SIZE (65536 + 256)

#define OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

struct side {
	const char *ifname;
	int fds[MAX_QUEUES];
};

/* One per queue; only its thread writes the counters, main reads them
 * (relaxed atomics) after the threads were told to stop. */
struct lane {
	pthread_t tid;
	int fd[2];		/* queue q of side 0 and of side 1 */
	uint8_t *bufs;		/* BATCH * FRAME_BUF_SIZE */
	size_t len[BATCH];
	uint64_t frames[2];	/* written to side 0 / side 1 */
	uint64_t drops[2];	/* writes to side 0 / 1 that failed */
};

static void
die(const char *what, int err)
{
	fprintf(stderr, "rawwire: %s: %s\n", what, strerror(err));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rawwire [-v] [-q QUEUES] [-r READYFILE] IFNAME0 IFNAME1\n"
	    "  -v            virtio-net header and TSO/checksum offloads\n"
	    "  -q QUEUES     TAP queues = threads, 1..%d (default 1)\n"
	    "  -r READYFILE  write the process id here once both TAPs are open\n",
	    MAX_QUEUES);
	exit(2);
}

/* Create TAP ifname (or attach to it, for queues after the first) and
 * return the queue fd. */
static int
tap_queue(const char *ifname, bool vnet, bool first)
{
	struct ifreq ifr;
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun", errno);
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE |
	    (vnet ? IFF_VNET_HDR : 0) | (first ? IFF_TUN_EXCL : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die(ifname, errno);
	return fd;
}

static void
tap_open(struct side *s, unsigned nq, bool vnet)
{
	int sndbuf = INT_MAX;
	int hdrlen = sizeof(struct virtio_net_hdr);

	for (unsigned q = 0; q < nq; q++)
		s->fds[q] = tap_queue(s->ifname, vnet, q == 0);
	/* Like tapswitchd: backpressure from the stack's queues, not from
	 * socket accounting of frames already written. */
	if (ioctl(s->fds[0], TUNSETSNDBUF, &sndbuf) < 0)
		die("TUNSETSNDBUF", errno);
	if (!vnet)
		return;
	if (ioctl(s->fds[0], TUNSETVNETHDRSZ, &hdrlen) < 0)
		die("TUNSETVNETHDRSZ", errno);
	if (ioctl(s->fds[0], TUNSETOFFLOAD, (unsigned long)OFFLOADS) < 0)
		die("TUNSETOFFLOAD", errno);
}

/* Read up to BATCH frames from side `from`, then write them all to the
 * other side. */
static void
lane_pass(struct lane *l, int from)
{
	int to = !from;
	unsigned n = 0;
	ssize_t r;

	while (n < BATCH) {
		r = read(l->fd[from], l->bufs + (size_t)n * FRAME_BUF_SIZE,
		    FRAME_BUF_SIZE);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				die("read", errno);
			break;
		}
		l->len[n++] = (size_t)r;
	}
	for (unsigned i = 0; i < n; i++) {
		do
			r = write(l->fd[to], l->bufs + (size_t)i * FRAME_BUF_SIZE,
			    l->len[i]);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			__atomic_store_n(&l->drops[to], l->drops[to] + 1,
			    __ATOMIC_RELAXED);
		else
			__atomic_store_n(&l->frames[to], l->frames[to] + 1,
			    __ATOMIC_RELAXED);
	}
}

static void *
lane_main(void *arg)
{
	struct lane *l = arg;
	struct epoll_event ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die("epoll_create1", errno);
	for (int s = 0; s < 2; s++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = s };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd[s], &e) < 0)
			die("epoll_ctl", errno);
	}
	for (;;) {
		int n = epoll_wait(ep, ev, 2, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait", errno);
		}
		/* Level-triggered: a side with more than a batch waiting
		 * is reported again by the next epoll_wait, so the other
		 * direction gets its turn in between. */
		for (int i = 0; i < n; i++)
			lane_pass(l, (int)ev[i].data.u32);
	}
	return NULL;
}

static void
write_ready(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		die(path, ENAMETOOLONG);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp, errno);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		die(tmp, errno);
	/* Appears complete or not at all. */
	if (rename(tmp, path) < 0)
		die(path, errno);
}

int
main(int argc, char **argv)
{
	static struct lane lanes[MAX_QUEUES];
	struct side sides[2];
	const char *ready = NULL;
	unsigned nq = 1;
	bool vnet = false;
	sigset_t stop;
	int c, sig;

	while ((c = getopt(argc, argv, "vq:r:")) != -1) {
		switch (c) {
		case 'v':
			vnet = true;
			break;
		case 'q': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 1 ||
			    v > MAX_QUEUES)
				usage();
			nq = (unsigned)v;
			break;
		}
		case 'r':
			ready = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	for (int s = 0; s < 2; s++) {
		const char *name = argv[optind + s];

		if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ ||
		    strchr(name, '%') || strchr(name, '/'))
			usage();
		sides[s].ifname = name;
	}

	/* Block the stop signals before any thread exists, so that every
	 * thread inherits the mask and only sigwait below sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	for (int s = 0; s < 2; s++)
		tap_open(&sides[s], nq, vnet);
	for (unsigned q = 0; q < nq; q++) {
		struct lane *l = &lanes[q];
		int err;

		l->fd[0] = sides[0].fds[q];
		l->fd[1] = sides[1].fds[q];
		l->bufs = malloc((size_t)BATCH * FRAME_BUF_SIZE);
		if (!l->bufs)
			die("malloc", ENOMEM);
		err = pthread_create(&l->tid, NULL, lane_main, l);
		if (err)
			die("pthread_create", err);
	}
	if (ready)
		write_ready(ready);

	while (sigwait(&stop, &sig) != 0)
		;
	for (unsigned q = 0; q < nq; q++) {
		struct lane *l = &lanes[q];

		fprintf(stderr, "rawwire: queue %u: %s->%s %llu frames "
		    "(%llu dropped), %s->%s %llu frames (%llu dropped)\n", q,
		    sides[0].ifname, sides[1].ifname,
		    (unsigned long long)__atomic_load_n(&l->frames[1],
			__ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&l->drops[1],
			__ATOMIC_RELAXED),
		    sides[1].ifname, sides[0].ifname,
		    (unsigned long long)__atomic_load_n(&l->frames[0],
			__ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&l->drops[0],
			__ATOMIC_RELAXED));
	}
	if (ready)
		unlink(ready);
	/* Exiting closes every queue fd, which removes the TAPs. */
	return 0;
}
