/*
 * fuzz_ctl.c - libFuzzer target for the control protocol: every input is
 * one request line handed to ctl_handle() of a switch with dummy ports,
 * as root (so mutating methods run too).  Whatever comes in, the answer
 * must be one line of JSON.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tapswitch/ctl.h"
#include "tapswitch/log.h"
#include "tapswitch/sw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw *sw;
static struct ctl *ctl;

static void
init(void)
{
	struct conf *conf;
	char *err = NULL;

	log_set_level(LOG_LVL_ERROR);
	/* Ports are socketpairs: no root, no interfaces. */
	port_type_register_test(&port_type_dummy, true);
	if (conf_parse_string("[switch]\nqueues = 1\noffload = no\n"
	    "fdb_size = 256\n[port a]\nvlan = 10\n[port t]\ntrunk = 10,20\n",
	    "fuzz.conf", &conf, &err) < 0 ||
	    sw_create(conf, NULL, &sw, &err) < 0)
		abort();
	conf_free(conf);
	ctl_create(&ctl);
	sw_ctl_register(sw, ctl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;
	char *resp;

	if (!sw)
		init();
	resp = ctl_handle(ctl, (const char *)data, size, 0);
	if (resp) {
		if (strchr(resp, '\n'))
			abort();
		/* An id beyond 64 bits comes back as it was: jansson reads
		 * it only as a real. */
		j = json_loads(resp, JSON_DECODE_INT_AS_REAL, NULL);
		if (!j)
			abort();
		json_decref(j);
		free(resp);
	}
	/* Keep the port set bounded across runs. */
	/* Keep the port set bounded across runs (each deletion publishes
	 * a new set, so look it up again every time). */
	if (sw_ports(sw)->n > 64)
		while (sw_ports(sw)->n > 2) {
			const struct port_set *set = sw_ports(sw);

			sw_port_del(sw, set->ports[set->n - 1]->conf.name);
		}
	return 0;
}
