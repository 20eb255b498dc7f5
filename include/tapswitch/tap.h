/*
 * tap.h - the character-device side of multiqueue TAP interfaces.
 *
 * A port with N queues owns N file descriptors of one TAP, each attached
 * with TUNSETIFF(IFF_TAP|IFF_NO_PI|IFF_MULTI_QUEUE[|IFF_VNET_HDR]).  Queue
 * q belongs to worker q.  The kernel deletes a non-persistent TAP when its
 * last descriptor closes, which is how the daemon's TAPs disappear on exit.
 *
 * With a virtio-net header every read starts with a struct virtio_net_hdr
 * (TAP_VNET_HDR_LEN bytes) and TUNSETOFFLOAD lets the kernel hand over
 * unsegmented GSO frames and frames with partial checksums.
 *
 * Main thread only (the data path just reads and writes the fds).
 */
#ifndef TAPSWITCH_TAP_H
#define TAPSWITCH_TAP_H

#include <stdbool.h>

#define TAP_VNET_HDR_LEN 10		/* sizeof(struct virtio_net_hdr) */

/*
 * Open queue fds of the TAP called ifname in the caller's network
 * namespace, creating it if it does not exist.  On success returns 0, fills
 * fds[0..nqueues) with non-blocking, close-on-exec descriptors, and sets
 * *created when the interface did not exist before.  With vnet_hdr, each fd
 * gets IFF_VNET_HDR, TUNSETVNETHDRSZ and TUNSETOFFLOAD (checksum, TSO4/6,
 * ECN, and UDP segmentation when the kernel knows it).  Returns -errno on
 * failure (-EBUSY: an existing interface of that name is not a
 * multiqueue TAP or has no free queue) and opens nothing.
 */
int tap_open(const char *ifname, unsigned nqueues, bool vnet_hdr, int *fds,
    bool *created);

/* Close the n fds (entries < 0 are skipped) and set them to -1. */
void tap_close(int *fds, unsigned n);

#endif
