/*
 * notify.c - readiness, reload and status notifications to the service
 * manager (sd_notify(3)); see notify.h.
 *
 * This is the only module that includes libsystemd.  Without it
 * (configure --without-systemd, or libsystemd not found) notify_send is a
 * no-op and the daemon runs the same, only without telling anyone.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "tapswitch/log.h"
#include "tapswitch/notify.h"

#ifdef HAVE_SYSTEMD
bool
notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s && *s;
}

/* Send state (newline-separated VAR=value assignments).  $NOTIFY_SOCKET
 * stays set: the daemon notifies again on every reload and at shutdown. */
static int
notify_send(const char *state)
{
	static bool warned;
	int r = sd_notify(0, state);

	/* A service manager that stopped listening will not start again:
	 * say so once, not on every reload. */
	if (r < 0 && !warned) {
		warned = true;
		log_warn("cannot notify the service manager at $NOTIFY_SOCKET "
		    "(%s): %s", getenv("NOTIFY_SOCKET"), strerror(-r));
	}
	return r;
}
#else
bool
notify_enabled(void)
{
	return false;
}

static int
notify_send(const char *state)
{
	(void)state;
	return 0;
}
#endif

/* Format a STATUS= text into buf: one line (line breaks become blanks),
 * cut to NOTIFY_STATUS_MAX bytes. */
static void
status_vformat(char buf[static NOTIFY_STATUS_MAX + 1], const char *fmt,
    va_list ap)
{
	vsnprintf(buf, NOTIFY_STATUS_MAX + 1, fmt, ap);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* Send head (may be empty) followed by STATUS= and the formatted text. */
static int
notify_vstatus(const char *head, const char *fmt, va_list ap)
{
	char status[NOTIFY_STATUS_MAX + 1], msg[NOTIFY_STATUS_MAX + 32];

	if (!notify_enabled())
		return 0;
	status_vformat(status, fmt, ap);
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", head, status);
	return notify_send(msg);
}

int
notify_ready(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = notify_vstatus("READY=1\n", fmt, ap);
	va_end(ap);
	return r;
}

int
notify_status(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = notify_vstatus("", fmt, ap);
	va_end(ap);
	return r;
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	if (!notify_enabled())
		return 0;
	/* systemd 253's Type=notify-reload wants the time the reload began
	 * (CLOCK_MONOTONIC, in microseconds); older managers ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	if (!notify_enabled())
		return 0;
	return notify_send("STOPPING=1\nSTATUS=stopping");
}
