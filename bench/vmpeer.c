/*
 * vmpeer.c - the network card of a VM that sits on a Unix datagram
 * socket (QEMU -netdev dgram), played by a TAP: every frame read from the
 * TAP is sent as one datagram to the switch's socket, every datagram
 * received is written to the TAP.  The TAP takes no virtio-net header and
 * announces no offloads, as such a card does, so the switch must finish
 * super-frames and partial checksums in software for it.
 *
 *	vmpeer -r READY LOCAL REMOTE IFNAME
 *
 * binds LOCAL (a stale socket file there is replaced), sends to REMOTE,
 * creates the TAP IFNAME (not persistent: it goes when vmpeer exits) and,
 * once both are open, writes its process id to READY.  One thread, epoll,
 * up to 32 frames per ready fd per pass, like the switches it is measured
 * against.  SIGINT and SIGTERM stop it.
 *
 * Used by bench/run (tsw-dgram); not part of the build.  Compile with
 *	cc -O2 -Wall -Wextra bench/vmpeer.c -o vmpeer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/if_tun.h>

#define BATCH 32

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static socklen_t
addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "vmpeer: %s: path too long\n", path);
		exit(2);
	}
	strcpy(sa->sun_path, path);
	return (socklen_t)sizeof(*sa);
}

int
main(int argc, char **argv)
{
	static char buf[65536 + 256];
	struct sockaddr_un local, remote;
	socklen_t rlen;
	struct epoll_event ev = { .events = EPOLLIN }, evs[2];
	struct ifreq ifr;
	const char *ready = NULL;
	unsigned long long up = 0, down = 0;
	int opt, tap, sock, ep;
	FILE *f;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: vmpeer -r READY LOCAL REMOTE "
			    "IFNAME\n");
			return 2;
		}
		ready = optarg;
	}
	if (argc - optind != 3 || !ready) {
		fprintf(stderr, "usage: vmpeer -r READY LOCAL REMOTE IFNAME\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket");
	unlink(argv[optind]);
	if (bind(sock, (struct sockaddr *)&local,
	    addr(&local, argv[optind])) < 0)
		die("bind");
	rlen = addr(&remote, argv[optind + 1]);
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &(int){ 4 << 20 },
	    sizeof(int));
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 },
	    sizeof(int));

	tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[optind + 2]);
	if (ioctl(tap, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = tap;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tap, &ev) < 0)
		die("epoll_ctl");
	ev.data.fd = sock;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev) < 0)
		die("epoll_ctl");
	if (!(f = fopen(ready, "w")) || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0)
		die(ready);

	while (!stop) {
		int n = epoll_wait(ep, evs, 2, 500);

		for (int i = 0; i < n; i++) {
			for (int k = 0; k < BATCH; k++) {
				ssize_t r;

				if (evs[i].data.fd == tap) {
					r = read(tap, buf, sizeof(buf));
					if (r <= 0)
						break;
					/* A full switch socket drops it,
					 * as a NIC's full ring would. */
					if (sendto(sock, buf, (size_t)r,
					    MSG_DONTWAIT,
					    (struct sockaddr *)&remote,
					    rlen) > 0)
						up++;
				} else {
					r = recv(sock, buf, sizeof(buf),
					    MSG_DONTWAIT);
					if (r <= 0)
						break;
					if (write(tap, buf, (size_t)r) > 0)
						down++;
				}
			}
		}
	}
	unlink(argv[optind]);
	fprintf(stderr, "vmpeer: %llu frames to the switch, %llu from it\n",
	    up, down);
	return 0;
}
