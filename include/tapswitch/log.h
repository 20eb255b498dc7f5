/*
 * log.h - levelled logging to stderr or syslog.
 *
 * Any thread may log.  Messages caused by frames from the wire must use the
 * rate-limited form (log_rl), so a flood of bad frames cannot flood the log:
 * each call site owns a struct log_rl that allows a burst and then one
 * message per interval, reporting how many were suppressed.
 */
#ifndef TAPSWITCH_LOG_H
#define TAPSWITCH_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "tapswitch/util.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Choose the destination; syslog when use_syslog, stderr otherwise.
 * Main thread, before any other thread starts. */
void log_init(const char *ident, bool use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "error", "warning", "info", "debug" <-> level; -EINVAL when unknown. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Number of messages logged at warning level or worse since start;
 * used by tests to detect unexpected warnings. */
uint64_t log_warn_count(void);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF_FMT(2, 3);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Rate limit state of one call site: up to 'burst' messages, then one per
 * 'interval' seconds.  Zero-initialised fields mean 5 messages / 5 s. */
struct log_rl {
	uint32_t window_start;
	uint32_t in_window;
	uint32_t suppressed;
};

void log_rl_msg(struct log_rl *rl, enum log_level level, const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* Rate-limited logging; declares the limiter for the call site. */
#define log_rl(level, ...) do { \
	static struct log_rl rl__; \
	log_rl_msg(&rl__, level, __VA_ARGS__); \
} while (0)

#endif
