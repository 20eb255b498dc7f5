/*
 * log.h - levelled logging to stderr or syslog.
 *
 * Three destinations, chosen once by log_init(): syslog (facility daemon);
 * the systemd journal, when stderr is the stream systemd connected to the
 * journal (JOURNAL_STREAM names its device and inode), as lines with a
 * "<N>" syslog priority prefix (sd-daemon(3)); or plain lines on stderr,
 * "IDENT: MESSAGE", with "error: " or "warning: " before the message at
 * those levels.  A message of several lines gets the priority prefix on
 * every line in the journal and is logged line by line to syslog.
 *
 * Any thread may log.  Messages caused by frames from the wire must use the
 * rate-limited form (log_rl), so a flood of bad frames cannot flood the log:
 * each call site owns a struct log_rl that lets through at most
 * LOG_RL_BURST messages per window of LOG_RL_INTERVAL seconds (a window
 * begins with the first message after the last one ended) and counts the
 * rest; the first message of the next window is preceded by "(N similar
 * messages suppressed)".  A message above the current level is neither
 * written nor counted.
 */
#ifndef TAPSWITCH_LOG_H
#define TAPSWITCH_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tapswitch/util.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Choose the destination: syslog when use_syslog, otherwise stderr, with
 * journal priority prefixes when stderr is the journal.  ident (which must
 * outlive the process's logging) names the program in messages.  May be
 * called again to switch (e.g. after parsing --syslog).  Main thread,
 * before any other thread starts. */
void log_init(const char *ident, bool use_syslog);
/* The level in force: messages above it are not written.  Any thread. */
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

#define LOG_RL_BURST 5
#define LOG_RL_INTERVAL 5	/* seconds */

/* Rate limit state of one call site; zero-initialised (static). */
struct log_rl {
	uint32_t window_start;	/* now_sec() when the window began; 0: none */
	uint32_t in_window;	/* messages asked for in this window */
	uint32_t suppressed;	/* not written since the last report */
};

void log_rl_msg(struct log_rl *rl, enum log_level level, const char *fmt, ...)
    PRINTF_FMT(3, 4);
/* log_rl_msg at time now (seconds, as now_sec() counts them), for callers
 * that have the time at hand and for tests that need a clock of their
 * own. */
void log_rl_msg_at(struct log_rl *rl, uint32_t now, enum log_level level,
    const char *fmt, ...) PRINTF_FMT(4, 5);

/* Rate-limited logging; declares the limiter for the call site. */
#define log_rl(level, ...) do { \
	static struct log_rl rl__; \
	log_rl_msg(&rl__, level, __VA_ARGS__); \
} while (0)

/*
 * Test hook: write what would go to stderr to f instead (NULL: back to
 * stderr); the caller keeps f open until it calls this again.  Only while
 * no other thread logs.
 */
void log_set_stream(FILE *f);

/* Register the log.get and log.set control methods (log_ctl.c). */
struct ctl;
void log_ctl_register(struct ctl *ctl);

#endif
