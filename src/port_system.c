/*
 * port_system.c - the "system" port type: an interface that exists
 * without tapswitchd (the host's uplink NIC, a veth, the TAP of a VM that
 * QEMU or libvirt made), reached through AF_PACKET sockets (packet.h)
 * that the privileged helper opens (priv.h).
 *
 * The daemon never creates, deletes, moves, renames or reconfigures the
 * interface and never brings it up or down: it only opens and closes its
 * sockets, which make it promiscuous for as long as they are open.  The
 * MTU is the interface's (mtu = is refused), read when the port opens.
 *
 * An interface that is not there is no error: open says -ENODEV, the port
 * is down with that reason, and sw.c opens it again when the link monitor
 * sees an interface of that name appear in the namespace.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tapswitch/packet.h"
#include "tapswitch/port.h"
#include "tapswitch/priv.h"
#include "tapswitch/util.h"

static const struct conf_key system_keys[] = {
	CONF_KEY_IFNAME,
	CONF_KEY_NETNS,
};

static void
system_conf_check(const struct conf_port *p, struct conf_problem *pr,
    size_t *n)
{
	if (conf_port_given(p, "mtu") && *n < CONF_PROBLEMS_MAX)
		pr[(*n)++] = (struct conf_problem){ "mtu", NULL, xasprintf(
		    "[port %s] sets mtu, but a system port takes the MTU of "
		    "its interface (change that with \"ip link set %s mtu "
		    "N\")", p->name, p->ifname ? p->ifname : "IFNAME") };
}

static int
system_open(struct port *p, bool vnet_hdr, unsigned *mtu, char **errp)
{
	(void)vnet_hdr;
	/* Always with a virtio-net header: without offload = yes the
	 * worker reads it apart and finishes what it announces (a partial
	 * checksum, a super-frame) in software, for the host's stack and a
	 * VM's TAP hand over frames that way whatever the switch does. */
	struct priv_packet_req req = {
		.ifname = p->conf.ifname,
		.netns = p->conf.netns,
		.nqueues = p->nqueues,
		.vnet_hdr = true,
	};
	struct priv_packet_res res;
	char *msg = NULL;
	int err;

	err = priv_open_packet(p->pv, &req, p->fds, &res, &msg);
	if (err < 0) {
		/* An absent interface is the port's state, not a failure:
		 * the message is its reason, without the port's name. */
		*errp = err == -ENODEV ? xstrdup(msg ? msg : strerror(-err)) :
		    xasprintf("port %s: %s", p->conf.name,
		    msg ? msg : strerror(-err));
		free(msg);
		return err;
	}
	p->ifindex = res.ifindex;
	/* Workers read vnet whenever they see the port, also while it is
	 * opened again after its interface came back: written once. */
	if (!p->vnet)
		p->vnet = true;
	p->created = false;
	*mtu = res.mtu;
	port_set_up(p, res.up);
	return 0;
}

static void
system_close(struct port *p)
{
	for (unsigned q = 0; q < p->nqueues; q++) {
		if (p->fds[q] >= 0)
			close(p->fds[q]);
		p->fds[q] = -1;
	}
}

static int
system_link_state(struct port *p, bool *up, unsigned *mtu)
{
	struct priv_link l;
	int r = priv_link_state(p->pv, p->conf.netns, p->conf.ifname, &l);

	*up = l.up;
	*mtu = l.mtu;
	return r;
}

const struct port_type port_type_system = {
	.conf = {
		.name = "system",
		.summary = "an existing interface, attached through "
		    "AF_PACKET",
		.keys = system_keys,
		.n_keys = ARRAY_SIZE(system_keys),
		.check = system_conf_check,
		.netdev = true,
	},
	.caps = PORT_CAP_MULTIQUEUE | PORT_CAP_MMSG,
	.open = system_open,
	.close = system_close,
	.link_state = system_link_state,
};
