/*
 * log.c - levelled logging to stderr (plain, or with <N> priority prefixes
 * when stderr is the systemd journal) or to syslog, and the rate limiter
 * for messages caused by frames from the wire.  See log.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "tapswitch/log.h"

/* Set by log_init() before other threads run; read-only afterwards. */
static const char *log_ident = "tapswitchd";
static bool to_syslog;
static bool journal_prefix;
static FILE *log_stream;		/* NULL: stderr */

static enum log_level cur_level = LOG_LVL_INFO;	/* atomic */
static uint64_t warn_count;			/* atomic */

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

/*
 * Is stderr the stream systemd connected to the journal?  JOURNAL_STREAM
 * ("DEVICE:INODE") says so only if it names stderr itself: a program
 * started from a shell in a systemd service inherits the variable with a
 * terminal or a file as its stderr (systemd.exec(5)).
 */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    env[n] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, bool use_syslog)
{
	log_ident = ident;
	if (to_syslog && !use_syslog)
		closelog();
	to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	/* Under systemd, stderr goes to the journal, which understands a
	 * <N> prefix as the message priority. */
	journal_prefix = !use_syslog && stderr_is_journal();
}

void
log_set_stream(FILE *f)
{
	log_stream = f;
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

/* Every message asked for at warning level or worse counts, written,
 * filtered or suppressed. */
static void
count_warning(enum log_level level)
{
	if (level <= LOG_LVL_WARN)
		__atomic_add_fetch(&warn_count, 1, __ATOMIC_RELAXED);
}

/* Write one formatted message to the destination. */
static void
log_write(enum log_level level, const char *msg)
{
	FILE *f = log_stream ? log_stream : stderr;
	const char *line, *nl;

	if (to_syslog) {
		for (line = msg; ; line = nl + 1) {
			nl = strchr(line, '\n');
			syslog(level_prio[level], "%.*s",
			    nl ? (int)(nl - line) : (int)strlen(line), line);
			if (!nl || nl[1] == '\0')
				break;
		}
	} else if (journal_prefix) {
		/* Every line is a journal entry of its own and needs the
		 * prefix; build them all and write them at once, so lines
		 * of different threads do not interleave. */
		char out[2048];
		size_t len = 0;
		int n;

		for (line = msg; len < sizeof(out); line = nl + 1) {
			nl = strchr(line, '\n');
			n = snprintf(out + len, sizeof(out) - len, "<%d>%.*s\n",
			    level_prio[level], nl ? (int)(nl - line) :
			    (int)strlen(line), line);
			if (n < 0)
				break;
			len += (size_t)n;
			if (!nl || nl[1] == '\0')
				break;
		}
		if (len >= sizeof(out)) {
			len = sizeof(out) - 1;
			out[len - 1] = '\n';
		}
		fwrite(out, 1, len, f);
	} else if (level <= LOG_LVL_WARN) {
		fprintf(f, "%s: %s: %s\n", log_ident, level_names[level], msg);
	} else {
		fprintf(f, "%s: %s\n", log_ident, msg);
	}
	if (f != stderr)
		fflush(f);
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	count_warning(level);
	if (level > log_get_level())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_write(level, buf);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static void
log_rl_vmsg(struct log_rl *rl, uint32_t now, enum log_level level,
    const char *fmt, va_list ap)
{
	uint32_t start, suppressed;

	/* Below the level in force: nothing to write or to limit. */
	if (level > log_get_level()) {
		count_warning(level);
		return;
	}
	/* Racy between threads by design: at worst a few more messages get
	 * through at a window boundary; the count can never flood.  0 is
	 * "no window yet", so a window never starts at 0. */
	if (now == 0)
		now = 1;
	start = __atomic_load_n(&rl->window_start, __ATOMIC_RELAXED);
	if (start == 0 || now - start >= LOG_RL_INTERVAL) {
		__atomic_store_n(&rl->window_start, now, __ATOMIC_RELAXED);
		__atomic_store_n(&rl->in_window, 0, __ATOMIC_RELAXED);
		suppressed = __atomic_exchange_n(&rl->suppressed, 0,
		    __ATOMIC_RELAXED);
		if (suppressed)
			log_msg(level, "(%u similar message%s suppressed)",
			    suppressed, suppressed == 1 ? "" : "s");
	}
	if (__atomic_add_fetch(&rl->in_window, 1, __ATOMIC_RELAXED) >
	    LOG_RL_BURST) {
		__atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
		count_warning(level);
		return;
	}
	log_vmsg(level, fmt, ap);
}

void
log_rl_msg(struct log_rl *rl, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_rl_vmsg(rl, now_sec(), level, fmt, ap);
	va_end(ap);
}

void
log_rl_msg_at(struct log_rl *rl, uint32_t now, enum log_level level,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_rl_vmsg(rl, now, level, fmt, ap);
	va_end(ap);
}
