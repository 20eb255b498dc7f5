/*
 * gso_capture.c - make the test data of test_gso.c from frames the kernel
 * produced itself.  gso_capture.sh drives it in namespaces it creates;
 * read that script first.
 *
 *   gso_capture sink PORT
 *   gso_capture tcp ADDR PORT MSS IPOPTS SIZE...
 *   gso_capture udp ADDR PORT GSO_SIZE SIZE...
 *   gso_capture capture IFACE OUT READY
 *   gso_capture segment IFACE IN NAME [cwr]
 *
 * sink accepts TCP connections on [::]:PORT (IPv4 too) one after another
 * and reads each until EOF; it runs until killed.
 *
 * tcp connects to ADDR:PORT with TCP_MAXSEG MSS and TCP_NODELAY (and, if
 * IPOPTS is 1 and ADDR is IPv4, four bytes of IP options: NOP NOP NOP EOL)
 * and writes SIZE bytes for each SIZE, each once the previous write was
 * acknowledged, so that each write leaves as one frame (a GSO super-frame
 * when it is longer than an MSS).  udp sends one datagram of each SIZE
 * with UDP_SEGMENT GSO_SIZE.
 *
 * capture records, until SIGTERM, the frames IFACE sends that have a TCP
 * or UDP payload and VIRTIO_NET_HDR_F_NEEDS_CSUM, as an AF_PACKET socket
 * with PACKET_VNET_HDR sees them: with the interface's offloads on these
 * are GSO super-frames and small frames whose checksum is still partial.
 * It creates READY once it is capturing.  OUT holds records: a 32-bit
 * length (host order), the 10-byte virtio-net header, the frame.
 *
 * segment sends each record of IN back out of IFACE through a packet
 * socket with PACKET_VNET_HDR.  IFACE has its offloads off (no TSO, no
 * checksum offload), so the kernel itself segments each super-frame and
 * completes each checksum in software (validate_xmit_skb ->
 * skb_gso_segment / skb_checksum_help); a second packet socket records
 * what leaves.  With "cwr" each TCP super-frame gets CWR, ECE and FIN set
 * and VIRTIO_NET_HDR_GSO_ECN first, to see what the kernel does with
 * those flags.  It prints C to stdout: per record NAME_N_in (the frame
 * sent), NAME_N_out (the frames that left, back to back), NAME_N_lens and
 * a struct gso_case initializer line per record in NAME_cases.
 *
 * Exit status 0, or 1 with a message on any error.  Plain libc; nothing
 * from the tapswitch library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define VH_LEN ((int)sizeof(struct virtio_net_hdr))
#define BUF_SIZE (65536 + 256)
#define MAX_SEGS 64
#define MAX_RECORDS 16
#define IDLE_MS 300

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("gso_capture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
packet_socket(const char *ifname, int proto, int vnet)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	if (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &vnet,
	    sizeof(vnet)) < 0)
		die("PACKET_VNET_HDR: %s", strerror(errno));
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0)
		die("%s: no such interface", ifname);
	if (proto && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind %s: %s", ifname, strerror(errno));
	return fd;
}

/* The offset of the L4 payload in the untagged frame f, and its L4
 * protocol in *proto; 0 when it is not TCP or UDP over IPv4/IPv6. */
static size_t
payload_offset(const uint8_t *f, size_t len, int *proto)
{
	size_t l3 = 14, l4;
	int type;

	if (len < l3 + 40)
		return 0;
	type = f[12] << 8 | f[13];
	if (type == ETH_P_IP) {
		l4 = l3 + (size_t)(f[l3] & 15) * 4;
		*proto = f[l3 + 9];
	} else if (type == ETH_P_IPV6) {
		l4 = l3 + 40;
		*proto = f[l3 + 6];
	} else {
		return 0;
	}
	if (*proto == IPPROTO_UDP)
		return l4 + 8;
	if (*proto == IPPROTO_TCP && len >= l4 + 20)
		return l4 + (size_t)(f[l4 + 12] >> 4) * 4;
	return 0;
}

/* --- traffic ------------------------------------------------------------ */

static void
resolve(const char *addr, const char *port, int type, struct addrinfo **ai)
{
	struct addrinfo hints = { .ai_socktype = type,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	int r = getaddrinfo(addr, port, &hints, ai);

	if (r != 0)
		die("%s port %s: %s", addr, port, gai_strerror(r));
}

static int
cmd_sink(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int fd, one = 1, zero = 0;
	char buf[65536];

	if (argc != 1)
		die("usage: sink PORT");
	sa.sin6_port = htons((uint16_t)atoi(argv[0]));
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &zero, sizeof(zero)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0)
		die("sink: %s", strerror(errno));
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			die("accept: %s", strerror(errno));
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

/* Wait until everything written on TCP socket fd was acknowledged. */
static void
wait_acked(int fd)
{
	for (int i = 0; i < 5000; i++) {
		int unacked;

		if (ioctl(fd, SIOCOUTQ, &unacked) < 0)
			die("SIOCOUTQ: %s", strerror(errno));
		if (unacked == 0)
			return;
		sleep_ms(2);
	}
	die("data not acknowledged after 10 s");
}

static void
fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static int
cmd_tcp(int argc, char **argv)
{
	static uint8_t buf[65536];
	static const uint8_t ipopts[4] = { 1, 1, 1, 0 };
	struct addrinfo *ai;
	int fd, one = 1, mss;

	if (argc < 5)
		die("usage: tcp ADDR PORT MSS IPOPTS SIZE...");
	resolve(argv[0], argv[1], SOCK_STREAM, &ai);
	mss = atoi(argv[2]);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
	    sizeof(mss)) < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) < 0)
		die("tcp socket: %s", strerror(errno));
	if (atoi(argv[3]) && ai->ai_family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ipopts, sizeof(ipopts)) < 0)
		die("IP_OPTIONS: %s", strerror(errno));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect %s: %s", argv[0], strerror(errno));
	wait_acked(fd);
	for (int i = 4; i < argc; i++) {
		size_t n = (size_t)atoi(argv[i]);

		fill(buf, n, (unsigned)i);
		if (n > sizeof(buf) || write(fd, buf, n) != (ssize_t)n)
			die("write %zu: %s", n, strerror(errno));
		wait_acked(fd);
	}
	close(fd);
	freeaddrinfo(ai);
	return 0;
}

static int
cmd_udp(int argc, char **argv)
{
	static uint8_t buf[65536];
	struct addrinfo *ai;
	int fd, gso;

	if (argc < 4)
		die("usage: udp ADDR PORT GSO_SIZE SIZE...");
	resolve(argv[0], argv[1], SOCK_DGRAM, &ai);
	gso = atoi(argv[2]);
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso,
	    sizeof(gso)) < 0)
		die("udp socket: %s", strerror(errno));
	for (int i = 3; i < argc; i++) {
		size_t n = (size_t)atoi(argv[i]);

		fill(buf, n, (unsigned)i);
		if (n > sizeof(buf) || sendto(fd, buf, n, 0, ai->ai_addr,
		    ai->ai_addrlen) != (ssize_t)n)
			die("send %zu: %s", n, strerror(errno));
		sleep_ms(50);
	}
	close(fd);
	freeaddrinfo(ai);
	return 0;
}

/* --- capture ------------------------------------------------------------ */

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
put_record(FILE *f, const uint8_t *rec, size_t len)
{
	uint32_t n = (uint32_t)len;

	if (fwrite(&n, sizeof(n), 1, f) != 1 || fwrite(rec, len, 1, f) != 1)
		die("write: %s", strerror(errno));
}

/* Read one record into rec (VH_LEN + frame); its length, 0 at EOF. */
static size_t
get_record(FILE *f, uint8_t *rec)
{
	uint32_t n;

	if (fread(&n, sizeof(n), 1, f) != 1)
		return 0;
	if (n < (uint32_t)VH_LEN || n > BUF_SIZE ||
	    fread(rec, n, 1, f) != 1)
		die("truncated record file");
	return n;
}

static int
cmd_capture(int argc, char **argv)
{
	static uint8_t rec[BUF_SIZE];
	struct sigaction sa = { .sa_handler = on_term };
	int fd, ready;
	FILE *out;

	if (argc != 3)
		die("usage: capture IFACE OUT READY");
	fd = packet_socket(argv[0], ETH_P_ALL, 1);
	out = fopen(argv[1], "wb");
	if (!out)
		die("%s: %s", argv[1], strerror(errno));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ready = open(argv[2], O_WRONLY | O_CREAT, 0644);
	if (ready < 0)
		die("%s: %s", argv[2], strerror(errno));
	close(ready);
	while (!stop) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		const struct virtio_net_hdr *vh = (void *)rec;
		ssize_t r = recvfrom(fd, rec, sizeof(rec), 0,
		    (struct sockaddr *)&from, &fl);
		size_t pl;
		int proto;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("recv: %s", strerror(errno));
		}
		if (from.sll_pkttype != PACKET_OUTGOING || r < VH_LEN ||
		    !(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			continue;
		pl = payload_offset(rec + VH_LEN, (size_t)r - VH_LEN, &proto);
		if (pl == 0 || pl >= (size_t)r - VH_LEN)
			continue;
		put_record(out, rec, (size_t)r);
	}
	if (fclose(out) != 0)
		die("%s: %s", argv[1], strerror(errno));
	return 0;
}

/* --- segment ------------------------------------------------------------ */

static void
print_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s0x%02x,", i % 12 == 0 ? "\n\t" : " ", p[i]);
	printf("\n");
}

/* Set CWR, ECE and FIN on a TCP super-frame and mark it ECN. */
static void
craft_cwr(uint8_t *rec, size_t len)
{
	struct virtio_net_hdr *vh = (void *)rec;
	uint8_t *f = rec + VH_LEN;
	int proto;

	if ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
	    VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
	    VIRTIO_NET_HDR_GSO_TCPV6)
		return;
	if (payload_offset(f, len - VH_LEN, &proto) == 0 ||
	    proto != IPPROTO_TCP)
		return;
	vh->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	/* The flags byte is TCP header byte 13; csum_start is the TCP
	 * header.  The pseudo-header sum in the checksum field covers no
	 * flag, so it stays right. */
	f[vh->csum_start + 13] |= 0x80 | 0x40 | 0x01;
}

static int
cmd_segment(int argc, char **argv)
{
	static uint8_t rec[BUF_SIZE], seg[MAX_SEGS][BUF_SIZE];
	static struct virtio_net_hdr hdrs[MAX_RECORDS];
	size_t seglen[MAX_SEGS];
	const char *name;
	int in_fd, out_fd, nrec = 0;
	FILE *in;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "cwr")))
		die("usage: segment IFACE IN NAME [cwr]");
	name = argv[2];
	in = fopen(argv[1], "rb");
	if (!in)
		die("%s: %s", argv[1], strerror(errno));
	/* Sends with PACKET_VNET_HDR; a socket bound to no protocol receives
	 * nothing.  The second one sees what leaves, segments included. */
	in_fd = packet_socket(argv[0], 0, 1);
	out_fd = packet_socket(argv[0], ETH_P_ALL, 0);
	printf("/* %s: generated by tests/unit/gso_capture.sh; "
	    "do not edit. */\n", name);
	for (size_t len; (len = get_record(in, rec)) != 0; nrec++) {
		struct sockaddr_ll to = { .sll_family = AF_PACKET };
		const struct virtio_net_hdr *vh = (void *)rec;
		uint8_t *f = rec + VH_LEN;
		size_t n = 0, total = 0;

		if (nrec == MAX_RECORDS)
			die("%s: over %d records", argv[1], MAX_RECORDS);
		if (argc == 4)
			craft_cwr(rec, len);
		to.sll_ifindex = (int)if_nametoindex(argv[0]);
		to.sll_protocol = htons((uint16_t)(f[12] << 8 | f[13]));
		to.sll_halen = ETH_ALEN;
		memcpy(to.sll_addr, f, ETH_ALEN);
		if (sendto(in_fd, rec, len, 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)len)
			die("send record %d: %s", nrec, strerror(errno));
		for (;;) {
			struct pollfd pfd = { .fd = out_fd, .events = POLLIN };
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			if (poll(&pfd, 1, IDLE_MS) <= 0)
				break;
			if (n == MAX_SEGS)
				die("record %d: over %d segments", nrec,
				    MAX_SEGS);
			r = recvfrom(out_fd, seg[n], BUF_SIZE, 0,
			    (struct sockaddr *)&from, &fl);
			if (r < 0)
				die("recv: %s", strerror(errno));
			if (from.sll_pkttype != PACKET_OUTGOING)
				continue;
			seglen[n] = (size_t)r;
			total += seglen[n++];
		}
		if (n == 0)
			die("record %d: the kernel sent nothing", nrec);
		printf("\nstatic const uint8_t %s_%d_in[] = {", name, nrec);
		print_bytes(f, len - VH_LEN);
		printf("};\n\nstatic const uint8_t %s_%d_out[] = {", name, nrec);
		for (size_t i = 0; i < n; i++)
			print_bytes(seg[i], seglen[i]);
		printf("};\n\nstatic const size_t %s_%d_lens[] = {", name, nrec);
		for (size_t i = 0; i < n; i++)
			printf("%s%zu", i ? ", " : " ", seglen[i]);
		printf(" };\n");
		fprintf(stderr, "%s_%d: gso_type %u gso_size %u hdr_len %u "
		    "csum %u+%u, %zu bytes -> %zu frames, %zu bytes\n", name,
		    nrec, vh->gso_type, vh->gso_size, vh->hdr_len,
		    vh->csum_start, vh->csum_offset, len - VH_LEN, n, total);
		hdrs[nrec] = *vh;
	}
	printf("\nstatic const struct gso_case %s_cases[] = {\n", name);
	for (int i = 0; i < nrec; i++) {
		const struct virtio_net_hdr *vh = &hdrs[i];

		printf("\t{ \"%s_%d\", { %u, %u, %u, %u, %u, %u }, %s_%d_in, "
		    "sizeof(%s_%d_in),\n\t    %s_%d_out, %s_%d_lens, "
		    "sizeof(%s_%d_lens) / sizeof(size_t) },\n", name, i,
		    vh->flags, vh->gso_type, vh->hdr_len, vh->gso_size,
		    vh->csum_start, vh->csum_offset, name, i, name, i,
		    name, i, name, i, name, i);
	}
	printf("};\n");
	fclose(in);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "sink", cmd_sink }, { "tcp", cmd_tcp }, { "udp", cmd_udp },
		{ "capture", cmd_capture }, { "segment", cmd_segment },
	};

	if (argc >= 2)
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 2, argv + 2);
	die("usage: gso_capture sink|tcp|udp|capture|segment ... "
	    "(see gso_capture.c)");
}
