/*
 * tapholder.c - a stand-in for QEMU in the integration tests: it creates a
 * TAP, holds it open and plays a tiny guest behind it, so a test can
 * attach that TAP to the switch as a "system" port and ping the "guest".
 *
 *   tapholder IFNAME --ip A.B.C.D --mac MAC --timeout MS [--ready FILE]
 *
 * It creates the TAP IFNAME (IFF_TAP | IFF_NO_PI, not persistent: the
 * interface goes when the process exits) in the current network namespace
 * and leaves it down, as QEMU does: setting it up is someone else's job.
 * Frames the host sends on the TAP are what the guest receives; the guest
 * has the address --ip and the MAC --mac, and answers
 *
 *   - ARP requests for --ip (with an ARP reply from --mac), and
 *   - ICMP echo requests to --ip sent to --mac (with an echo reply),
 *
 * and ignores everything else.  Once the TAP exists it writes "tapholder:
 * ready" to stderr and creates the --ready FILE.  It exits 0 at the
 * timeout or on SIGTERM / SIGINT, after printing one line to stdout:
 *
 *	frames=N arp_replies=N echo_replies=N
 *
 * and 2 on a usage or system error.  Plain libc; nothing from the
 * tapswitch library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define EXIT_ERR 2

#define ETH_ALEN_ 6
#define ETH_HLEN_ 14
#define ETHERTYPE_IP_ 0x0800
#define ETHERTYPE_ARP_ 0x0806
#define ARP_LEN 28		/* Ethernet/IPv4 ARP */
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define IP_MIN_HLEN 20
#define IPPROTO_ICMP_ 1
#define ICMP_ECHOREPLY_ 0
#define ICMP_ECHO_ 8
#define ICMP_HLEN 8
#define BUF_SIZE 65600
#define DEFAULT_TTL 64

static const char *prog = "tapholder";
static volatile sig_atomic_t stop;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s IFNAME --ip A.B.C.D --mac MAC "
	    "--timeout MS [--ready FILE]\n", prog);
	exit(EXIT_ERR);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERR);
}

static void
on_signal(int sig)
{
	stop = 1;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[ETH_ALEN_];
	char c;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &c) != ETH_ALEN_)
		return -1;
	for (int i = 0; i < ETH_ALEN_; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static const char *
need_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	return argv[++*i];
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum of p[0..n), in host order, ready for put16. */
static unsigned
csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

struct guest {
	uint8_t mac[ETH_ALEN_];
	uint8_t ip[4];
	unsigned long frames, arp_replies, echo_replies;
};

/* Turn the ARP request in f (len bytes) into our reply in place; true
 * when f is a request for our address. */
static int
arp_answer(struct guest *g, uint8_t *f, size_t len)
{
	uint8_t *a = f + ETH_HLEN_;

	if (len < ETH_HLEN_ + ARP_LEN || get16(a) != 1 ||
	    get16(a + 2) != ETHERTYPE_IP_ || a[4] != ETH_ALEN_ || a[5] != 4 ||
	    get16(a + 6) != ARP_REQUEST || memcmp(a + 24, g->ip, 4) != 0)
		return 0;
	/* Target <- sender; sender <- us. */
	memcpy(a + 18, a + 8, ETH_ALEN_);
	memcpy(a + 24, a + 14, 4);
	memcpy(a + 8, g->mac, ETH_ALEN_);
	memcpy(a + 14, g->ip, 4);
	put16(a + 6, ARP_REPLY);
	memcpy(f, a + 18, ETH_ALEN_);
	memcpy(f + ETH_ALEN_, g->mac, ETH_ALEN_);
	return 1;
}

/* Turn the ICMP echo request in f into our echo reply in place; true when
 * f is an unfragmented echo request to our MAC and address. */
static int
echo_answer(struct guest *g, uint8_t *f, size_t len)
{
	uint8_t *ip = f + ETH_HLEN_, *icmp, tmp[4];
	size_t hlen, tot;

	if (len < ETH_HLEN_ + IP_MIN_HLEN || memcmp(f, g->mac, ETH_ALEN_) != 0)
		return 0;
	hlen = (size_t)(ip[0] & 0xf) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || hlen < IP_MIN_HLEN || tot < hlen + ICMP_HLEN ||
	    ETH_HLEN_ + tot > len || (get16(ip + 6) & 0x3fff) != 0 ||
	    ip[9] != IPPROTO_ICMP_ || memcmp(ip + 16, g->ip, 4) != 0 ||
	    csum(ip, hlen) != 0)
		return 0;
	icmp = ip + hlen;
	if (icmp[0] != ICMP_ECHO_ || csum(icmp, tot - hlen) != 0)
		return 0;

	icmp[0] = ICMP_ECHOREPLY_;
	put16(icmp + 2, 0);
	put16(icmp + 2, csum(icmp, tot - hlen));
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[8] = DEFAULT_TTL;
	put16(ip + 10, 0);
	put16(ip + 10, csum(ip, hlen));
	memcpy(f, f + ETH_ALEN_, ETH_ALEN_);
	memcpy(f + ETH_ALEN_, g->mac, ETH_ALEN_);
	return 1;
}

static void
handle_frame(struct guest *g, int fd, uint8_t *f, size_t len)
{
	size_t out_len = len;
	unsigned type;

	g->frames++;
	if (len < ETH_HLEN_)
		return;
	type = get16(f + 12);
	if (type == ETHERTYPE_ARP_ && arp_answer(g, f, len)) {
		out_len = ETH_HLEN_ + ARP_LEN;
		g->arp_replies++;
	} else if (type == ETHERTYPE_IP_ && echo_answer(g, f, len)) {
		out_len = ETH_HLEN_ + get16(f + ETH_HLEN_ + 2);
		g->echo_replies++;
	} else {
		return;
	}
	/* A TAP write takes the whole frame or fails: nothing to retry
	 * that a guest would retry either. */
	if (write(fd, f, out_len) < 0 && errno != EIO && errno != EAGAIN)
		die("write to the TAP: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	static uint8_t buf[BUF_SIZE];
	struct guest g = { 0 };
	struct sigaction sa;
	struct ifreq ifr;
	const char *ifname, *ready = NULL;
	long timeout = -1;
	int have_ip = 0, have_mac = 0, fd;
	int64_t deadline;

	if (argc < 2 || argv[1][0] == '-')
		usage();
	ifname = argv[1];
	if (strlen(ifname) >= IFNAMSIZ)
		die("interface name \"%s\" is too long", ifname);
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i], *v;
		char *end;

		if (strcmp(opt, "--ip") == 0) {
			v = need_arg(argc, argv, &i);
			if (inet_pton(AF_INET, v, g.ip) != 1)
				die("bad IPv4 address \"%s\"", v);
			have_ip = 1;
		} else if (strcmp(opt, "--mac") == 0) {
			v = need_arg(argc, argv, &i);
			if (parse_mac(v, g.mac) < 0 || (g.mac[0] & 1))
				die("bad unicast MAC \"%s\"", v);
			have_mac = 1;
		} else if (strcmp(opt, "--timeout") == 0) {
			v = need_arg(argc, argv, &i);
			errno = 0;
			timeout = strtol(v, &end, 10);
			if (errno || end == v || *end || timeout < 0 ||
			    timeout > 600000)
				die("bad timeout \"%s\" (expected 0..600000)", v);
		} else if (strcmp(opt, "--ready") == 0) {
			ready = need_arg(argc, argv, &i);
		} else {
			usage();
		}
	}
	if (!have_ip || !have_mac || timeout < 0)
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF %s: %s", ifname, strerror(errno));

	deadline = now_ms() + timeout;
	fprintf(stderr, "%s: ready\n", prog);
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);

		if (rfd < 0)
			die("%s: %s", ready, strerror(errno));
		close(rfd);
	}

	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		/* Drain what is there. */
		while (!stop) {
			r = read(fd, buf, sizeof(buf));
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				die("read from the TAP: %s", strerror(errno));
			}
			if (r == 0)
				break;
			handle_frame(&g, fd, buf, (size_t)r);
		}
	}
	printf("frames=%lu arp_replies=%lu echo_replies=%lu\n", g.frames,
	    g.arp_replies, g.echo_replies);
	close(fd);
	return 0;
}
