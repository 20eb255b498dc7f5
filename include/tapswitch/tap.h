/*
 * tap.h - the character-device side of multiqueue TAP interfaces.
 *
 * A port with N queues owns N file descriptors of one TAP, each attached
 * with TUNSETIFF(IFF_TAP|IFF_NO_PI|IFF_MULTI_QUEUE[|IFF_VNET_HDR]).  Queue
 * q belongs to worker q.  The kernel deletes a non-persistent TAP when its
 * last descriptor closes; a persistent one (TUNSETPERSIST) outlives its
 * descriptors, keeps its namespace, addresses and routes, and is attached
 * to again by the next TUNSETIFF with its name.  Whoever holds a queue fd
 * may clear the persistence again without any capability, which is how a
 * persistent TAP is removed: clear it, then close the fds.
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
 * Open queue fds of the TAP called ifname in the calling thread's network
 * namespace, creating it if it does not exist.  On success returns 0, fills
 * fds[0..nqueues) with non-blocking, close-on-exec descriptors, and sets
 * *created when the interface did not exist before.  With vnet_hdr, each fd
 * gets IFF_VNET_HDR, TUNSETVNETHDRSZ and TUNSETOFFLOAD (checksum, TSO4/6,
 * ECN, and UDP segmentation when the kernel knows it); without, the TAP's
 * offloads are switched off (a persistent TAP keeps those of an earlier
 * run).  With persist the TAP is made persistent; without, an existing
 * TAP keeps whatever persistence it had and a new one is not persistent.
 *
 * Attaching to an existing TAP that has no queue attached (a persistent
 * TAP after a restart) applies our flags to it: the kernel takes the
 * feature flags (IFF_VNET_HDR, ...) from the first queue, so a TAP made
 * with another offload setting simply follows the new one.
 *
 * Returns -errno on failure (-EBUSY: an existing interface of that name is
 * not a multiqueue TAP, is in use with other flags, or has no free queue)
 * and opens nothing; a TAP it created is removed again.
 */
int tap_open(const char *ifname, unsigned nqueues, bool vnet_hdr,
    bool persist, int *fds, bool *created);

/* Make the TAP that queue fd is attached to persistent or not.  Needs no
 * capability.  0 or -errno (-EBADFD: the TAP is gone). */
int tap_set_persist(int fd, bool persist);

/* Whether queue fd is still attached to its TAP: true when the TAP
 * exists, wherever it is now (another namespace); false once it was
 * deleted.  Needs no capability. */
bool tap_attached(int fd);

/* Close the n fds (entries < 0 are skipped) and set them to -1. */
void tap_close(int *fds, unsigned n);

#endif
