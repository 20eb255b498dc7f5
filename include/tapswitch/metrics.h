/*
 * metrics.h - Prometheus metrics over HTTP (metrics_listen in
 * tapswitch.conf(5)).
 *
 * A small HTTP server (libevent's evhttp) in the main loop answers
 * "GET /metrics" with the switch's counters in the Prometheus text
 * exposition format, version 0.0.4; every other path gets 404 and every
 * method but GET and HEAD gets 405.  It never blocks the loop: evhttp is
 * non-blocking, the text is built in memory from counters that are read
 * without locks (port.h), and request headers and bodies are bounded.
 *
 * Nor can clients take what the rest of the daemon needs (descriptors
 * above all: the control socket's clients and every port's queues share
 * the process's limit).  A connection has METRICS_TIMEOUT seconds from
 * its accept, or from its last request, to send a whole request; then it
 * is closed, however slowly it keeps sending.  At most
 * METRICS_CONNECTIONS_MAX connections wait at once: the next one closes
 * the one that has waited longest.  A closed connection holds its
 * descriptor until evhttp has freed it, in the loop's next pass, and
 * libevent closes the descriptor one pass later still; with
 * METRICS_FDS_MAX connections not yet freed, none is accepted until some
 * are (the kernel keeps up to METRICS_BACKLOG more waiting).
 *
 * The listener is bound at start-up, before privileges are dropped, and
 * may move on reload: metrics_listen() opens the new address before it
 * closes the old one, so a failed bind leaves the old listener serving.
 *
 * Main thread only.
 */
#ifndef TAPSWITCH_METRICS_H
#define TAPSWITCH_METRICS_H

#define METRICS_TIMEOUT 10		/* seconds for a whole request */
#define METRICS_CONNECTIONS_MAX 32	/* connections waiting at once */
#define METRICS_FDS_MAX (2 * METRICS_CONNECTIONS_MAX)	/* held at most */
#define METRICS_HEADERS_MAX 8192	/* bytes of request line and headers */
#define METRICS_BODY_MAX 1024		/* bytes of request body */
#define METRICS_BACKLOG 64

struct evbuffer;
struct event_base;
struct metrics;
struct sw;

/* A metrics server on base that is not listening yet. */
void metrics_create(struct event_base *base, struct metrics **out);

/* Stop listening, drop the clients and free m (NULL is fine). */
void metrics_destroy(struct metrics *m);

/*
 * Serve on addr ("A.B.C.D:PORT" or "[IPV6]:PORT", as conf_listen_parse
 * takes it), or stop serving when addr is NULL.  Nothing happens when addr
 * is what m already serves.  On failure the previous listener (if any)
 * keeps serving and -errno is returned with a malloc'd message in *err
 * that names the address and what to do.
 */
int metrics_listen(struct metrics *m, const char *addr, char **err);

/* The address served (as given to metrics_listen), or NULL. */
const char *metrics_address(const struct metrics *m);

/* The switch whose metrics are served; until it is set, /metrics answers
 * 503.  The switch must outlive m or be unset (NULL) first. */
void metrics_set_switch(struct metrics *m, struct sw *sw);

/*
 * Append the exposition text for sw to out: for each metric a "# HELP"
 * and a "# TYPE" line, then its samples.  Works without a server, for
 * tests.
 */
void metrics_render(struct sw *sw, struct evbuffer *out);

#endif
