/*
 * gso_bench.c - the CPU cost of software segmentation (gso.h): what a
 * worker spends cutting TCP super-frames for a port that takes no
 * virtio-net header (a dgram port, a VM on a socket), in CPU seconds per
 * Gbit of TCP payload, with nothing else measured.
 *
 * It builds a 64 KiB TCP/IPv4 super-frame (MSS 1448, as the kernel's TSO
 * hands one over), then calls gso_segment() on it for -d seconds of CPU
 * time and divides.  -s SIZE sets the super-frame's payload, -m MSS.
 *
 *	cc -O2 -I include -I build bench/gso_bench.c src/gso.c src/frame.c \
 *	    src/util.c src/log.c -o gso_bench
 *	./gso_bench [-d SECONDS] [-s BYTES] [-m MSS]
 *
 * Not part of the build or the tests: a figure for bench/README.md.
 */
#include "config.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tapswitch/gso.h"

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static uint8_t frame[65536 + 128], out[65536 * 2];
	size_t lens[256], payload = 65536 - 54 - 12, mss = 1448, len;
	double secs = 2, t0, t;
	unsigned long long calls = 0, bytes = 0;
	struct virtio_net_hdr vh = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "d:s:m:")) != -1) {
		switch (opt) {
		case 'd': secs = atof(optarg); break;
		case 's': payload = strtoul(optarg, NULL, 10); break;
		case 'm': mss = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: gso_bench [-d SECONDS] "
			    "[-s BYTES] [-m MSS]\n");
			return 2;
		}
	}
	if (payload < 1 || payload > 65535 - 52 || mss < 1 || mss > 9000) {
		fprintf(stderr, "gso_bench: bad size\n");
		return 2;
	}
	/* Ethernet, IPv4 (20), TCP with timestamps (32), payload. */
	len = 14 + 20 + 32 + payload;
	memset(frame, 0, sizeof(frame));
	memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	frame[14] = 0x45;
	frame[16] = (uint8_t)((len - 14) >> 8);
	frame[17] = (uint8_t)(len - 14);
	frame[20] = 0x40;		/* DF */
	frame[22] = 64;
	frame[23] = 6;
	memcpy(frame + 26, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	frame[34] = 0x13;
	frame[35] = 0x89;
	frame[46] = 8 << 4;		/* data offset: 32 bytes */
	frame[47] = 0x18;		/* PSH ACK */
	for (size_t i = 66; i < len; i++)
		frame[i] = (uint8_t)(i * 7);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = htole16(66);
	vh.gso_size = htole16((uint16_t)mss);
	vh.csum_start = htole16(34);
	vh.csum_offset = htole16(16);

	t0 = cpu_now();
	do {
		for (int k = 0; k < 100; k++) {
			int n = gso_segment(frame, len, &vh, out, sizeof(out),
			    lens, 256);

			if (n < 0) {
				fprintf(stderr, "gso_bench: gso_segment: %d\n",
				    n);
				return 1;
			}
			calls++;
			bytes += payload;
		}
		t = cpu_now() - t0;
	} while (t < secs);
	printf("%zu-byte super-frames, MSS %zu: %.0f per second, "
	    "%.2f Gbit/s of payload, %.4f CPU s/Gbit\n", payload, mss,
	    (double)calls / t, (double)bytes * 8 / t / 1e9,
	    t / ((double)bytes * 8 / 1e9));
	return 0;
}
