/*
 * log.c - levelled logging to stderr (plain, or with <N> priority prefixes
 * when stderr is the systemd journal) or to syslog.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tapswitch/log.h"

#define RL_BURST 5
#define RL_INTERVAL 5

static enum log_level cur_level = LOG_LVL_INFO;
static bool to_syslog;
static bool journal_prefix;
static uint64_t warn_count;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static const int level_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

void
log_init(const char *ident, bool use_syslog)
{
	to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	/* Under systemd, stderr goes to the journal, which understands a
	 * <N> prefix as the message priority. */
	journal_prefix = !use_syslog && getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&cur_level, level, __ATOMIC_RELAXED);
}

enum log_level
log_get_level(void)
{
	return __atomic_load_n(&cur_level, __ATOMIC_RELAXED);
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

const char *
log_level_name(enum log_level level)
{
	return level < ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

uint64_t
log_warn_count(void)
{
	return __atomic_load_n(&warn_count, __ATOMIC_RELAXED);
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	if (level <= LOG_LVL_WARN)
		__atomic_add_fetch(&warn_count, 1, __ATOMIC_RELAXED);
	if (level > log_get_level())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (to_syslog)
		syslog(level_prio[level], "%s", buf);
	else if (journal_prefix)
		fprintf(stderr, "<%d>%s\n", level_prio[level], buf);
	else if (level <= LOG_LVL_WARN)
		fprintf(stderr, "tapswitchd: %s: %s\n", level_names[level], buf);
	else
		fprintf(stderr, "tapswitchd: %s\n", buf);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_rl_msg(struct log_rl *rl, enum log_level level, const char *fmt, ...)
{
	uint32_t now = now_sec();
	uint32_t start = __atomic_load_n(&rl->window_start, __ATOMIC_RELAXED);
	uint32_t suppressed;
	va_list ap;

	/* Racy between threads by design: at worst a few more messages get
	 * through at a window boundary; the count can never flood. */
	if (now - start >= RL_INTERVAL || start == 0) {
		__atomic_store_n(&rl->window_start, now ? now : 1,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&rl->in_window, 0, __ATOMIC_RELAXED);
		suppressed = __atomic_exchange_n(&rl->suppressed, 0,
		    __ATOMIC_RELAXED);
		if (suppressed)
			log_msg(level, "(%u similar messages suppressed)",
			    suppressed);
	}
	if (__atomic_add_fetch(&rl->in_window, 1, __ATOMIC_RELAXED) >
	    RL_BURST) {
		__atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
