/*
 * fuzz_conf.c - libFuzzer target for the config parser.
 *
 * The input becomes a NUL-terminated config text for conf_parse_string();
 * whatever it returns is freed, so the sanitizers see every leak, overread
 * and overflow the parser could be driven into.  Seeds live in
 * tests/fuzz/corpus/conf/.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapswitch/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = NULL;
	char *text, *err = NULL;

	/* conf_parse_string takes a C string: an embedded NUL ends it, as
	 * it would for any caller. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (conf_parse_string(text, "fuzz.conf", &conf, &err) == 0) {
		/* Exercise the helpers callers use on a good config. */
		for (size_t i = 0; i < conf->n_ports; i++) {
			struct conf_port copy;
			char *msg = NULL;

			conf_port_copy(&copy, &conf->ports[i]);
			if (!conf_port_equal(&copy, &conf->ports[i]) ||
			    conf_port_check(&copy, &msg) != 0 ||
			    conf_find_port(conf, copy.name) != &conf->ports[i])
				abort();
			conf_port_destroy(&copy);
		}
		if (err)
			abort();
	} else if (!err || conf) {
		abort();
	}
	free(err);
	conf_free(conf);
	free(text);
	return 0;
}
