/*
 * fuzz_frame.c - libFuzzer target for frames from the wire: the input's
 * first byte picks the ingress port (access, trunk with and without
 * native, small MTU) and whether the virtio-net header announced GSO; the
 * rest is the frame, classified and decided by fwd_decide().  Checks the
 * decision's invariants on every input.  The access port has every
 * policy key (policy.h), so its checks parse what comes from the wire
 * too; one the input err-disables is enabled again at once.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "tapswitch/fwd.h"
#include "tapswitch/log.h"
#include "tapswitch/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qsbr *qs;
static struct fdb *fdb;
static struct port_table *pt;
static struct dp dp;
static struct port *ports[4];
static struct sw_counters swc;

static void
init(void)
{
	static const char *const conf[4][4] = {
		{ "acc", "vlan", "10", NULL },
		{ "trunk", "trunk", "10,20,4094", NULL },
		{ "native", "trunk", "20", "30" },
		{ "small", "mtu", "68", NULL },
	};
	char *err = NULL;

	log_set_level(LOG_LVL_ERROR);
	/* Ports are socketpairs: no root, no interfaces. */
	port_type_register_test(&port_type_dummy, true);
	qsbr_create(&qs);
	if (fdb_create(64, qs, &fdb) < 0)
		abort();
	port_table_create(qs, &pt);
	dp = (struct dp){ .fdb = fdb, .ports = pt, .qs = qs };
	for (int i = 0; i < 4; i++) {
		struct conf_port cp;

		conf_port_init(&cp, conf[i][0]);
		if (conf_port_set(&cp, conf[i][1], conf[i][2], &err) < 0 ||
		    (conf[i][3] && conf_port_set(&cp, "native", conf[i][3],
		    &err) < 0))
			abort();
		if (i == 0 && (conf_port_set(&cp, "allowed_ips",
		    "10.0.0.1, 10.1.0.0/16, fd00::1, fe80::/64", &err) < 0 ||
		    conf_port_set(&cp, "bpdu_guard", "yes", &err) < 0 ||
		    conf_port_set(&cp, "allowed_ethertypes",
		    "ipv4, arp, ipv6, llc", &err) < 0 ||
		    conf_port_set(&cp, "rate_limit", "1G", &err) < 0 ||
		    conf_port_set(&cp, "storm_limit", "1000000", &err) < 0))
			abort();
		if (i == 2 && conf_port_set(&cp, "allowed_macs",
		    "02:00:00:00:00:01, 02:00:00:00:00:02", &err) < 0)
			abort();
		ports[i] = port_new(&cp, 1);
		conf_port_destroy(&cp);
		if (port_table_insert(pt, ports[i]) < 0)
			abort();
		port_set_up(ports[i], true);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t now;
	struct fwd_decision d;
	struct port *in;

	if (!fdb)
		init();
	if (size < 1)
		return 0;
	in = ports[data[0] & 3];
	policy_clock_reset();
	fwd_decide(&dp, in, 0, data + 1, size - 1, data[0] & 4, 0, ++now / 16,
	    &swc, &d);
	switch (d.action) {
	case FWD_DROP:
	case FWD_DISABLED:
		break;
	case FWD_UNICAST:
		if (!d.out || d.out == in || !fwd_port_in_vlan(d.out, d.vid))
			abort();
		/* fallthrough */
	case FWD_FLOOD:
		if (d.vid < 1 || d.vid > 4094 || !fwd_port_in_vlan(in, d.vid) ||
		    size - 1 < ETH_HDR_LEN)
			abort();
		break;
	}
	if (d.action == FWD_DISABLED && !port_err_disabled(in))
		abort();
	port_err_clear(in);
	/* Age now and then so the table keeps changing. */
	if ((now & 1023) == 0)
		fdb_age(fdb, now / 16, 2);
	return 0;
}
