/*
 * rawframe.c - send and capture raw Ethernet frames for the integration
 * tests, so they can check switching and 802.1Q tagging without VLAN
 * interfaces (which the test kernels may lack).
 *
 *   rawframe send IFACE DST SRC [--vlan VID[:PCP]] [--type 0xXXXX]
 *                 [--len N] [--count N] [--interval MS] [--payload HEX]
 *   rawframe recv IFACE --timeout MS [--count N] [--src MAC] [--dst MAC]
 *                 [--vlan VID|untagged] [--type 0xXXXX] [--wait]
 *                 [--ready FILE]
 *
 * send writes --count frames (default 1) of --len bytes (default 60, the
 * whole frame including any tag) to IFACE with an AF_PACKET socket.  The
 * payload after the ethertype is "TSWF", a 32-bit sequence number and then
 * bytes (seq + offset) & 0xff, so a receiver can tell a damaged frame.
 * --payload HEX (pairs of hex digits) puts those bytes right after the
 * ethertype instead, for frames a test builds itself (ARP, IP); zeros
 * pad the frame to --len, which grows to fit.
 *
 * recv captures frames arriving on IFACE (frames the host itself sends are
 * ignored) and prints one line for each frame that passes the filters:
 *
 *	DST SRC vlan=VID|untagged len=N
 *
 * len is the frame as it was on the wire, tag included.  Linux hands a
 * received 802.1Q tag to packet sockets out of band (PACKET_AUXDATA); it is
 * put back in the report, as is a tag still inline.  A frame carrying the
 * send pattern with wrong bytes gets " corrupt" at the end of its line and
 * does not count.  recv exits 0 as soon as --count matching frames (default
 * 1) arrived, or at the timeout (with --wait, only at the timeout) when
 * enough arrived; 1 when too few arrived.  Once it is capturing it writes
 * "rawframe: ready" to stderr and creates the --ready FILE.
 *
 * Both exit 2 on a usage or system error, so a test never mistakes a
 * broken tool for "no frame arrived".  Plain libc; nothing from the
 * tapswitch library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NOTENOUGH 1
#define EXIT_ERR 2

#define ETH_ALEN_ 6
#define HDR_LEN 14
#define TAG_LEN 4
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define DEFAULT_TYPE 0x88b5	/* IEEE 802 local experimental ethertype 1 */
#define DEFAULT_LEN 60
#define MAGIC "TSWF"
#define MAGIC_LEN 4
#define PATTERN_HDR (MAGIC_LEN + 4)
#define BUF_SIZE (65536 + 64)
#define MAX_FRAME 65535
#define VID_MAX 4095
#define VLAN_ANY (-2)
#define VLAN_UNTAGGED (-1)

static const char *prog = "rawframe";

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: %s send IFACE DST SRC [--vlan VID[:PCP]] [--type 0xXXXX]\n"
	    "                [--len N] [--count N] [--interval MS] "
	    "[--payload HEX]\n"
	    "       %s recv IFACE --timeout MS [--count N] [--src MAC]\n"
	    "                [--dst MAC] [--vlan VID|untagged] [--type 0xXXXX]\n"
	    "                [--wait] [--ready FILE]\n", prog, prog);
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

static void
format_mac(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

/* A whole decimal (or 0x hex with base 0) number in [min, max]. */
static long
parse_num(const char *what, const char *s, int base, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, base);
	if (errno || end == s || *end || v < min || v > max)
		die("bad %s \"%s\" (expected %ld..%ld)", what, s, min, max);
	return v;
}

static const char *
need_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	return argv[++*i];
}

static int
iface_index(const char *name)
{
	unsigned idx = if_nametoindex(name);

	if (!idx)
		die("interface %s: %s", name, strerror(errno));
	if (idx > INT_MAX)
		die("interface %s: index out of range", name);
	return (int)idx;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Fill the payload of frame seq: magic, sequence number, then counting
 * bytes.  Payloads shorter than the pattern header get what fits. */
static void
fill_payload(uint8_t *p, size_t n, uint32_t seq)
{
	uint8_t hdr[PATTERN_HDR];

	memcpy(hdr, MAGIC, MAGIC_LEN);
	hdr[4] = (uint8_t)(seq >> 24);
	hdr[5] = (uint8_t)(seq >> 16);
	hdr[6] = (uint8_t)(seq >> 8);
	hdr[7] = (uint8_t)seq;
	for (size_t i = 0; i < n; i++)
		p[i] = i < PATTERN_HDR ? hdr[i] : (uint8_t)(seq + i);
}

/* False when p[0..n) starts with the pattern header but the bytes after
 * it are not what fill_payload wrote; true otherwise (including frames
 * that are not ours at all). */
static bool
payload_ok(const uint8_t *p, size_t n)
{
	uint32_t seq;

	if (n < PATTERN_HDR || memcmp(p, MAGIC, MAGIC_LEN) != 0)
		return true;
	seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
	for (size_t i = PATTERN_HDR; i < n; i++)
		if (p[i] != (uint8_t)(seq + i))
			return false;
	return true;
}

static int
cmd_send(int argc, char **argv)
{
	uint8_t dst[ETH_ALEN_], src[ETH_ALEN_];
	static uint8_t frame[MAX_FRAME];
	struct sockaddr_ll sll;
	long vid = -1, pcp = 0, type = DEFAULT_TYPE, len = DEFAULT_LEN;
	long count = 1, interval = 0;
	static uint8_t payload[MAX_FRAME];
	long payload_len = -1;
	size_t hdr;
	int fd, ifindex;

	if (argc < 5)
		usage();
	if (parse_mac(argv[3], dst) < 0)
		die("bad destination MAC \"%s\"", argv[3]);
	if (parse_mac(argv[4], src) < 0)
		die("bad source MAC \"%s\"", argv[4]);
	for (int i = 5; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--vlan") == 0) {
			char buf[32], *colon;

			snprintf(buf, sizeof(buf), "%s",
			    need_arg(argc, argv, &i));
			colon = strchr(buf, ':');
			if (colon) {
				*colon = '\0';
				pcp = parse_num("PCP", colon + 1, 10, 0, 7);
			}
			vid = parse_num("VID", buf, 10, 0, VID_MAX);
		} else if (strcmp(opt, "--type") == 0) {
			type = parse_num("ethertype", need_arg(argc, argv, &i),
			    0, 0, 0xffff);
		} else if (strcmp(opt, "--len") == 0) {
			len = parse_num("length", need_arg(argc, argv, &i), 10,
			    HDR_LEN, MAX_FRAME);
		} else if (strcmp(opt, "--count") == 0) {
			count = parse_num("count", need_arg(argc, argv, &i), 10,
			    1, 1000000);
		} else if (strcmp(opt, "--interval") == 0) {
			interval = parse_num("interval",
			    need_arg(argc, argv, &i), 10, 0, 10000);
		} else if (strcmp(opt, "--payload") == 0) {
			const char *hex = need_arg(argc, argv, &i);
			size_t n = strlen(hex);

			if (n % 2 || n / 2 > MAX_FRAME - HDR_LEN - TAG_LEN)
				die("bad --payload: pairs of hex digits");
			for (size_t k = 0; k < n / 2; k++) {
				char byte[3] = { hex[2 * k], hex[2 * k + 1], 0 };

				payload[k] = (uint8_t)parse_num("payload byte",
				    byte, 16, 0, 255);
			}
			payload_len = (long)(n / 2);
		} else {
			usage();
		}
	}
	hdr = HDR_LEN + (vid >= 0 ? TAG_LEN : 0);
	if (payload_len >= 0 && len < (long)hdr + payload_len)
		len = (long)hdr + payload_len;
	if ((size_t)len < hdr)
		die("length %ld is shorter than the header (%zu)", len, hdr);

	ifindex = iface_index(argv[2]);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_halen = ETH_ALEN_;
	memcpy(sll.sll_addr, dst, ETH_ALEN_);

	memcpy(frame, dst, ETH_ALEN_);
	memcpy(frame + ETH_ALEN_, src, ETH_ALEN_);
	if (vid >= 0) {
		put16(frame + 12, TPID_8021Q);
		put16(frame + 14, (unsigned)(pcp << 13 | vid));
	}
	put16(frame + hdr - 2, (unsigned)type);

	for (long n = 0; n < count; n++) {
		int tries = 0;
		ssize_t r;

		if (payload_len >= 0)
			memcpy(frame + hdr, payload, (size_t)payload_len);
		else
			fill_payload(frame + hdr, (size_t)len - hdr,
			    (uint32_t)n);
		for (;;) {
			r = sendto(fd, frame, (size_t)len, 0,
			    (struct sockaddr *)&sll, sizeof(sll));
			if (r >= 0 || (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) || ++tries > 100)
				break;
			sleep_ms(10);	/* queue full: bounded retry */
		}
		if (r < 0)
			die("send on %s: %s", argv[2], strerror(errno));
		if (r != len)
			die("send on %s: short write (%zd of %ld)", argv[2], r,
			    len);
		if (interval && n + 1 < count)
			sleep_ms(interval);
	}
	close(fd);
	return 0;
}

struct filter {
	bool has_src, has_dst;
	uint8_t src[ETH_ALEN_], dst[ETH_ALEN_];
	int vlan;		/* VLAN_ANY, VLAN_UNTAGGED or a VID */
	long type;		/* -1: any */
};

/* Report (and count) one captured frame; returns true when it matched. */
static bool
handle_frame(const struct filter *f, const uint8_t *buf, size_t len,
    const struct tpacket_auxdata *aux)
{
	char dbuf[18], sbuf[18], vbuf[24];
	size_t off = 12, wire_len = len;
	int vid = VLAN_UNTAGGED;
	unsigned type;
	bool ok;

	if (len < HDR_LEN)
		return false;
	if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
		vid = aux->tp_vlan_tci & 0xfff;
		wire_len += TAG_LEN;
	} else if (len >= HDR_LEN + TAG_LEN &&
	    (get16(buf + 12) == TPID_8021Q || get16(buf + 12) == TPID_8021AD)) {
		vid = (int)(get16(buf + 14) & 0xfff);
		off += TAG_LEN;
	}
	type = get16(buf + off);
	off += 2;

	if (f->has_dst && memcmp(buf, f->dst, ETH_ALEN_) != 0)
		return false;
	if (f->has_src && memcmp(buf + ETH_ALEN_, f->src, ETH_ALEN_) != 0)
		return false;
	if (f->vlan != VLAN_ANY && f->vlan != vid)
		return false;
	if (f->type >= 0 && (unsigned)f->type != type)
		return false;

	ok = payload_ok(buf + off, len - off);
	format_mac(buf, dbuf);
	format_mac(buf + ETH_ALEN_, sbuf);
	if (vid == VLAN_UNTAGGED)
		snprintf(vbuf, sizeof(vbuf), "untagged");
	else
		snprintf(vbuf, sizeof(vbuf), "%d", vid);
	printf("%s %s vlan=%s len=%zu%s\n", dbuf, sbuf, vbuf, wire_len,
	    ok ? "" : " corrupt");
	fflush(stdout);
	return ok;
}

static int
cmd_recv(int argc, char **argv)
{
	static uint8_t buf[BUF_SIZE];
	struct filter f = { .vlan = VLAN_ANY, .type = -1 };
	struct sockaddr_ll sll;
	const char *ready = NULL;
	long timeout = -1, count = 1, got = 0;
	bool wait_all = false;
	int64_t deadline;
	int fd, one = 1;

	if (argc < 3)
		usage();
	for (int i = 3; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--timeout") == 0) {
			timeout = parse_num("timeout", need_arg(argc, argv, &i),
			    10, 0, 600000);
		} else if (strcmp(opt, "--count") == 0) {
			count = parse_num("count", need_arg(argc, argv, &i), 10,
			    0, 1000000);
		} else if (strcmp(opt, "--src") == 0) {
			const char *s = need_arg(argc, argv, &i);

			if (parse_mac(s, f.src) < 0)
				die("bad MAC \"%s\"", s);
			f.has_src = true;
		} else if (strcmp(opt, "--dst") == 0) {
			const char *s = need_arg(argc, argv, &i);

			if (parse_mac(s, f.dst) < 0)
				die("bad MAC \"%s\"", s);
			f.has_dst = true;
		} else if (strcmp(opt, "--vlan") == 0) {
			const char *s = need_arg(argc, argv, &i);

			f.vlan = strcmp(s, "untagged") == 0 ? VLAN_UNTAGGED :
			    (int)parse_num("VID", s, 10, 0, VID_MAX);
		} else if (strcmp(opt, "--type") == 0) {
			f.type = parse_num("ethertype", need_arg(argc, argv, &i),
			    0, 0, 0xffff);
		} else if (strcmp(opt, "--wait") == 0) {
			wait_all = true;
		} else if (strcmp(opt, "--ready") == 0) {
			ready = need_arg(argc, argv, &i);
		} else {
			usage();
		}
	}
	if (timeout < 0)
		die("recv needs --timeout MS");

	/* Protocol 0 until bound: no frame of another interface can be
	 * queued before the bind picks this one. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		die("PACKET_AUXDATA: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = iface_index(argv[2]);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind to %s: %s", argv[2], strerror(errno));

	deadline = now_ms() + timeout;
	fprintf(stderr, "%s: ready\n", prog);
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);

		if (rfd < 0)
			die("%s: %s", ready, strerror(errno));
		close(rfd);
	}

	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} cbuf;
		const struct tpacket_auxdata *aux = NULL;
		struct sockaddr_ll from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf,
			.msg_controllen = sizeof(cbuf.buf),
		};
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left;
		ssize_t r;

		if (got >= count && !wait_all)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		r = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recv on %s: %s", argv[2], strerror(errno));
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;	/* sent by this host, not received */
		if ((size_t)r > sizeof(buf))
			r = sizeof(buf);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
		    c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_PACKET &&
			    c->cmsg_type == PACKET_AUXDATA &&
			    c->cmsg_len >= CMSG_LEN(sizeof(*aux)))
				aux = (const void *)CMSG_DATA(c);
		if (handle_frame(&f, buf, (size_t)r, aux))
			got++;
	}
	close(fd);
	return got >= count ? 0 : EXIT_NOTENOUGH;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc, argv);
	if (strcmp(argv[1], "recv") == 0)
		return cmd_recv(argc, argv);
	usage();
}
