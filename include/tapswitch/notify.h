/*
 * notify.h - telling the service manager how the daemon is doing.
 *
 * Under systemd with Type=notify, the service manager passes a datagram
 * socket in $NOTIFY_SOCKET and waits for "READY=1" before it considers
 * the service started.  tapswitchd sends READY=1 once every port is up and
 * the control socket listens, RELOADING=1 ... READY=1 around every reload,
 * STOPPING=1 when it begins to shut down, and STATUS= lines with a one-line
 * summary that "systemctl status" shows (sd_notify(3)).
 *
 * Built with libsystemd (configure --with-systemd, the default when it is
 * found) these go through sd_notify(3); without it, or when $NOTIFY_SOCKET
 * is not set, every function here does nothing and returns 0.
 *
 * Main thread only.  Notifications must come from the service's main
 * process (systemd's default NotifyAccess=main), so call these from the
 * daemon process, never from a forked helper.
 */
#ifndef TAPSWITCH_NOTIFY_H
#define TAPSWITCH_NOTIFY_H

#include <stdbool.h>

#include "tapswitch/util.h"

/* The longest STATUS= text sent, in bytes; longer text is cut. */
#define NOTIFY_STATUS_MAX 256

/* True when built with sd_notify support and started with $NOTIFY_SOCKET
 * set, i.e. when the other functions actually send something. */
bool notify_enabled(void);

/*
 * "READY=1" with "STATUS=" and the formatted text: start-up is complete,
 * or a reload (notify_reloading) has finished, successfully or not.
 * Returns 1 when sent, 0 when there is nobody to tell, -errno when
 * sending failed (also logged, once per daemon run, as a warning).
 */
int notify_ready(const char *fmt, ...) PRINTF_FMT(1, 2);

/* "RELOADING=1" with "MONOTONIC_USEC=" (the time the reload began) and
 * "STATUS=reloading".  Follow it with notify_ready.  As notify_ready. */
int notify_reloading(void);

/* "STATUS=" with the formatted text alone.  As notify_ready. */
int notify_status(const char *fmt, ...) PRINTF_FMT(1, 2);

/* "STOPPING=1" with "STATUS=stopping": shutdown has begun.  As
 * notify_ready. */
int notify_stopping(void);

#endif
