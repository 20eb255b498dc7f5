/*
 * log_ctl.c - the control methods of the log module: log.get shows the
 * level in force, log.set changes it while the daemon runs.
 *
 * Kept apart from log.c so that the logging core depends on neither
 * jansson nor the control socket: every program links log.c, only the
 * daemon (and the tests) link this.  The result fields are documented in
 * tapswitchctl(8).
 *
 * Main thread (called from the control socket).
 */
#include "config.h"

#include <string.h>

#include "tapswitch/ctl.h"
#include "tapswitch/log.h"

static json_t *
h_log_get(void *arg, json_t *params, struct ctl_err *err)
{
	return json_pack("{s:s}", "level", log_level_name(log_get_level()));
}

static json_t *
h_log_set(void *arg, json_t *params, struct ctl_err *err)
{
	json_t *v = json_object_get(params, "level");
	enum log_level old = log_get_level(), level;

	if (!json_is_string(v) ||
	    log_level_parse(json_string_value(v), &level) < 0) {
		ctl_error(err, CTL_E_PARAMS, "bad log level %s%s%s: use "
		    "error, warning, info or debug",
		    json_is_string(v) ? "\"" : "",
		    json_is_string(v) ? json_string_value(v) : "(not a string)",
		    json_is_string(v) ? "\"" : "");
		return NULL;
	}
	/* Say so while the more verbose of the two levels is in force, so
	 * that the line is there whichever way the level went. */
	if (level > old)
		log_set_level(level);
	if (level != old)
		log_info("log level changed from %s to %s", log_level_name(old),
		    log_level_name(level));
	log_set_level(level);
	return json_pack("{s:s, s:s}", "level", log_level_name(level),
	    "previous", log_level_name(old));
}

void
log_ctl_register(struct ctl *ctl)
{
	ctl_register(ctl, "log.get", "", "the log level in force",
	    CTL_READONLY, h_log_get, NULL);
	ctl_register(ctl, "log.set", "level",
	    "set the log level (error, warning, info, debug) until the next "
	    "reload", CTL_MUTATING, h_log_set, NULL);
}
