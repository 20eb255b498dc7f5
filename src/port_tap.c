/*
 * port_tap.c - the TAP port backend: a port is a multiqueue TAP whose
 * queue fds tap.c opens and whose link nl.c configures (MTU, namespace,
 * up).
 *
 * A TAP the daemon creates is not persistent, so the kernel removes it
 * when its last queue fd closes, also after it was moved into another
 * namespace: closing the fds is the whole teardown.  A TAP that existed
 * before (made persistent by an administrator) is only detached from and
 * stays where it is.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tapswitch/nl.h"
#include "tapswitch/port.h"
#include "tapswitch/tap.h"
#include "tapswitch/util.h"

/* What to do about an error from tap_open, or "". */
static const char *
open_hint(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return " (tapswitchd needs CAP_NET_ADMIN)";
	case -ENOENT:
	case -ENODEV:
		return " (is the tun module loaded? try \"modprobe tun\")";
	case -EBUSY:
		return " (an interface of that name exists and is not a "
		    "multiqueue TAP with the same settings, or is in use)";
	case -EINVAL:
		return " (not a valid interface name?)";
	default:
		return "";
	}
}

/*
 * The message for a failed nl_link_setup step.  The step names are
 * nl.c's (nl.h lists "set MTU" and "move to namespace"); one this file
 * does not know still gives a usable message.
 */
static char *
setup_error(const struct port *p, const char *why, int err)
{
	const char *name = p->conf.name, *ifname = p->conf.ifname;
	const char *netns = p->conf.netns, *msg = strerror(-err);

	if (strcmp(why, "set MTU") == 0)
		return xasprintf("port %s: cannot set the MTU of %s to %u: "
		    "%s%s", name, ifname, p->conf.mtu, msg,
		    err == -EINVAL ? " (a TAP allows 68 to 65521)" : "");
	if (netns && strcmp(why, "open namespace") == 0)
		return xasprintf("port %s: cannot move %s into namespace "
		    "\"%s\": %s%s%s%s", name, ifname, netns, msg,
		    err == -ENOENT ? " (create it with \"ip netns add " : "",
		    err == -ENOENT ? netns : "",
		    err == -ENOENT ? "\")" : "");
	if (netns && strcmp(why, "move to namespace") == 0)
		return xasprintf("port %s: cannot move %s into namespace "
		    "\"%s\": %s%s", name, ifname, netns, msg,
		    err == -EEXIST ? " (an interface of that name already "
		    "exists there)" : "");
	if (netns && strcmp(why, "enter namespace") == 0)
		return xasprintf("port %s: cannot enter namespace \"%s\" to "
		    "bring %s up: %s%s", name, netns, ifname, msg,
		    err == -EPERM ? " (this needs CAP_SYS_ADMIN)" : "");
	if (strcmp(why, "set up") == 0)
		return xasprintf("port %s: cannot bring %s up%s%s%s: %s",
		    name, ifname, netns ? " in namespace \"" : "",
		    netns ? netns : "", netns ? "\"" : "", msg);
	return xasprintf("port %s: cannot set up %s (%s): %s", name, ifname,
	    why, msg);
}

static int
tap_port_open(struct port *p, bool vnet_hdr, char **errp)
{
	const char *ifname = p->conf.ifname, *why;
	bool up;
	int err;

	err = tap_open(ifname, p->nqueues, vnet_hdr, p->fds, &p->created);
	if (err < 0) {
		*errp = xasprintf("port %s: cannot create TAP \"%s\": %s%s",
		    p->conf.name, ifname, strerror(-err), open_hint(err));
		return err;
	}
	if ((err = nl_link_setup(ifname, p->conf.mtu, p->conf.netns,
	    &why)) < 0) {
		*errp = setup_error(p, why, err);
		goto fail;
	}
	if ((err = nl_link_get(p->conf.netns, ifname, &p->ifindex,
	    &up)) < 0) {
		*errp = xasprintf("port %s: cannot look up %s%s%s%s: %s",
		    p->conf.name, ifname,
		    p->conf.netns ? " in namespace \"" : "",
		    p->conf.netns ? p->conf.netns : "",
		    p->conf.netns ? "\"" : "", strerror(-err));
		goto fail;
	}
	port_set_up(p, up);
	return 0;

fail:
	/* A TAP we created vanishes with its last fd, wherever it is now. */
	tap_close(p->fds, p->nqueues);
	p->ifindex = 0;
	p->created = false;
	return err;
}

static void
tap_port_close(struct port *p)
{
	tap_close(p->fds, p->nqueues);
	port_set_up(p, false);
}

static int
tap_port_link_state(struct port *p, bool *up)
{
	return nl_link_get(p->conf.netns, p->conf.ifname, NULL, up);
}

const struct port_backend port_backend_tap = {
	.name = "tap",
	.open = tap_port_open,
	.close = tap_port_close,
	.link_state = tap_port_link_state,
};
