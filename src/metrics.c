/*
 * metrics.c - Prometheus metrics over HTTP: renders the switch's counters
 * (port.h, fwd.h), MAC table sizes (fdb.h) and uptime (sw.h) in the text
 * exposition format and serves them with libevent's evhttp from the main
 * loop.  See metrics.h.
 *
 * Main thread only.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "tapswitch/conf.h"
#include "tapswitch/fdb.h"
#include "tapswitch/log.h"
#include "tapswitch/metrics.h"
#include "tapswitch/sw.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

/*
 * A client connection, from its accept until evhttp frees it.  evhttp
 * (libevent 2.1) says nothing about a connection before a whole request
 * is in, so the server makes each one's bufferevent itself
 * (evhttp_set_bevcb: conn_new), which is where a connection is counted
 * and the cap applied.  Once evhttp has set the connection up (later in
 * the same pass of the loop: conn_adopt) it is found from the
 * bufferevent, and evhttp's close callback (conn_closed) says when it
 * goes.  A reference on the bufferevent keeps it valid for as long as
 * the connection is listed here, adopted or not.
 */
struct metrics_conn {
	struct metrics *m;
	struct metrics_conn *prev, *next; /* m->head, oldest wait first */
	struct bufferevent *bev;	/* evhttp's; one reference is ours */
	struct evhttp_connection *evcon; /* NULL until conn_adopt */
	struct event *timer;		/* conn_adopt, then the deadline */
	bool closing;			/* shut down: no longer waits */
};

struct metrics {
	struct event_base *base;
	struct sw *sw;			/* NULL: not yet */
	struct evhttp *http;		/* NULL: not listening */
	struct evconnlistener *listener; /* http's; NULL with it */
	char *addr;			/* what http listens on */
	/* Every connection evhttp has not freed, in the order in which
	 * their current wait began (accept, or their last request): the
	 * head has waited longest.  n_conns counts them (each holds a
	 * descriptor), n_waiting those not closing. */
	struct metrics_conn *head, *tail;
	unsigned n_conns, n_waiting;
	bool paused;			/* listener disabled: METRICS_FDS_MAX */
};

/* ---- Rendering ---- */

/* A HELP text: backslash and newline escaped. */
static void
put_help_text(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_label_value(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*s == '"')
			evbuffer_add(out, "\\\"", 2);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

/* The "# HELP" and "# TYPE" lines of metric name. */
static void
put_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s ", name);
	put_help_text(out, help);
	evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* "name value" */
static void
put_sample(struct evbuffer *out, const char *name, uint64_t value)
{
	evbuffer_add_printf(out, "%s %" PRIu64 "\n", name, value);
}

/* "name{label="value"} v" */
static void
put_labelled(struct evbuffer *out, const char *name, const char *label,
    const char *lvalue, uint64_t value)
{
	evbuffer_add_printf(out, "%s{%s=\"", name, label);
	put_label_value(out, lvalue);
	evbuffer_add_printf(out, "\"} %" PRIu64 "\n", value);
}

static int
port_cmp(const void *a, const void *b)
{
	const struct port *const *pa = a, *const *pb = b;

	return strcmp((*pa)->conf.name, (*pb)->conf.name);
}

/* One per-port counter family: the counter at byte offset off of each
 * port's sum. */
static void
put_port_counter(struct evbuffer *out, const char *name, const char *help,
    struct port **ports, const struct port_counters *sums, unsigned n,
    size_t off)
{
	put_family(out, name, "counter", help);
	for (unsigned i = 0; i < n; i++)
		put_labelled(out, name, "port", ports[i]->conf.name,
		    *(const uint64_t *)((const char *)&sums[i] + off));
}

void
metrics_render(struct sw *sw, struct evbuffer *out)
{
	const struct port_set *set = sw_ports(sw);
	const struct conf *conf = sw_conf(sw);
	struct fdb *fdb = sw_fdb(sw);
	struct port_counters *sums;
	struct port **ports;
	struct sw_counters swc;
	unsigned n = set->n;

	/* The port set cannot change under us: only the main thread
	 * publishes a new one.  Sorted, so the output is stable. */
	ports = xcalloc(n ? n : 1, sizeof(*ports));
	if (n)
		memcpy(ports, set->ports, n * sizeof(*ports));
	qsort(ports, n, sizeof(*ports), port_cmp);
	/* Cache-line aligned type: not calloc's alignment. */
	sums = xaligned_alloc(CACHE_LINE, (n ? n : 1) * sizeof(*sums));
	for (unsigned i = 0; i < n; i++)
		port_counters_sum(ports[i], &sums[i]);
	sw_counters(sw, &swc);

	put_family(out, "tapswitch_build_info", "gauge",
	    "tapswitchd version, as the label; always 1");
	put_labelled(out, "tapswitch_build_info", "version", PACKAGE_VERSION,
	    1);
	put_family(out, "tapswitch_uptime_seconds", "gauge",
	    "seconds since the switch started");
	put_sample(out, "tapswitch_uptime_seconds", sw_uptime(sw));
	put_family(out, "tapswitch_fdb_entries", "gauge",
	    "entries in the MAC table (learned and static)");
	put_sample(out, "tapswitch_fdb_entries", fdb_count(fdb));
	put_family(out, "tapswitch_fdb_size", "gauge",
	    "most entries the MAC table holds (fdb_size)");
	put_sample(out, "tapswitch_fdb_size", conf->sw.fdb_size);

#define X(cname, help) \
	put_family(out, "tapswitch_" #cname "_total", "counter", help); \
	put_sample(out, "tapswitch_" #cname "_total", swc.cname);
	SW_COUNTERS(X)
#undef X

	put_family(out, "tapswitch_port_info", "gauge",
	    "always 1; the labels say the port's type and interface");
	for (unsigned i = 0; i < n; i++) {
		const struct conf_port *c = &ports[i]->conf;

		evbuffer_add_printf(out, "tapswitch_port_info{port=\"");
		put_label_value(out, c->name);
		evbuffer_add_printf(out, "\",type=\"");
		put_label_value(out, ports[i]->type->conf.name);
		evbuffer_add_printf(out, "\",ifname=\"");
		put_label_value(out, c->ifname ? c->ifname : "");
		evbuffer_add_printf(out, "\"} 1\n");
	}
	put_family(out, "tapswitch_port_up", "gauge",
	    "1 when the port's link is up, 0 when it is down");
	for (unsigned i = 0; i < n; i++)
		put_labelled(out, "tapswitch_port_up", "port",
		    ports[i]->conf.name, port_is_up(ports[i]));
	put_family(out, "tapswitch_port_err_disabled", "gauge",
	    "0, or why the port is err-disabled: 1 bpdu (bpdu_guard), "
	    "2 loop (loop_protect)");
	for (unsigned i = 0; i < n; i++)
		put_labelled(out, "tapswitch_port_err_disabled", "port",
		    ports[i]->conf.name, port_err_disabled(ports[i]));
	put_family(out, "tapswitch_port_macs", "gauge",
	    "addresses learned on the port that are in the MAC table");
	for (unsigned i = 0; i < n; i++)
		put_labelled(out, "tapswitch_port_macs", "port",
		    ports[i]->conf.name, fdb_port_count(fdb, ports[i]->id));
#define X(cname, help) \
	put_port_counter(out, "tapswitch_port_" #cname "_total", help, ports, \
	    sums, n, offsetof(struct port_counters, cname));
	PORT_COUNTERS(X)
#undef X

	free(sums);
	free(ports);
}

/* ---- Connections ---- */

static void
conn_unlink(struct metrics *m, struct metrics_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		m->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		m->tail = c->prev;
	c->prev = c->next = NULL;
}

static void
conn_append(struct metrics *m, struct metrics_conn *c)
{
	c->prev = m->tail;
	c->next = NULL;
	if (m->tail)
		m->tail->next = c;
	else
		m->head = c;
	m->tail = c;
}

/* A wait of the adopted c begins: it goes last, with METRICS_TIMEOUT
 * seconds to run. */
static void
conn_wait(struct metrics *m, struct metrics_conn *c)
{
	static const struct timeval timeout = { METRICS_TIMEOUT, 0 };

	conn_unlink(m, c);
	conn_append(m, c);
	event_add(c->timer, &timeout);
}

/*
 * End c: shut its socket down, so that evhttp reads end-of-file (or
 * fails its write) in the loop's next pass and frees the connection as
 * if the client had hung up.  c holds its descriptor until then.
 */
static void
conn_close(struct metrics *m, struct metrics_conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	if (c->evcon)
		event_del(c->timer);	/* not before conn_adopt */
	c->closing = true;
	m->n_waiting--;
}

/* c is gone: forget it and let go of its bufferevent.  With room again
 * for descriptors, the listener accepts again. */
static void
conn_forget(struct metrics *m, struct metrics_conn *c)
{
	conn_unlink(m, c);
	m->n_conns--;
	if (!c->closing)
		m->n_waiting--;
	event_free(c->timer);
	bufferevent_decref(c->bev);
	free(c);
	if (m->paused && m->n_conns < METRICS_FDS_MAX) {
		evconnlistener_enable(m->listener);
		m->paused = false;
	}
}

/* evhttp's close callback: it is freeing the connection (it still has
 * its bufferevent, which it frees next). */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct metrics_conn *c = arg;

	conn_forget(c->m, c);
}

/*
 * Find the connection evhttp made around c->bev -- the bufferevent's
 * callback argument, as evhttp sets it -- and ask to be told when it
 * goes.  When evhttp has let go of the bufferevent already (setting the
 * connection up failed), c is forgotten.
 */
static void
conn_adopt(struct metrics *m, struct metrics_conn *c)
{
	bufferevent_event_cb eventcb = NULL;
	void *arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, &arg);
	if (!eventcb || !arg ||
	    evhttp_connection_get_bufferevent(arg) != c->bev) {
		conn_forget(m, c);
		return;
	}
	c->evcon = arg;
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	if (!c->closing)
		conn_wait(m, c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conn *c = arg;

	if (!c->evcon) {
		conn_adopt(c->m, c);
		return;
	}
	/* Clients choose how often this runs: limit it like frames. */
	log_rl(LOG_LVL_DEBUG, "metrics: closing a connection that sent no "
	    "whole request within %d s", METRICS_TIMEOUT);
	conn_close(c->m, c);
}

/*
 * evhttp's bufferevent callback: a client was accepted; make the
 * bufferevent evhttp will talk to it through, as evhttp would (it sets
 * the descriptor afterwards).  With METRICS_CONNECTIONS_MAX clients
 * waiting already, the one that has waited longest is closed; at
 * METRICS_FDS_MAX descriptors (those closed but not yet freed included)
 * the listener stops accepting until conn_forget makes room.  NULL when
 * out of memory: evhttp then tries to make one itself, which would go
 * uncounted.
 */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct metrics_conn *c = xcalloc(1, sizeof(*c)), *old;

	c->m = m;
	c->timer = event_new(base, -1, 0, on_timer, c);
	if (c->timer)
		c->bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		if (c->timer)
			event_free(c->timer);
		free(c);
		return NULL;
	}
	bufferevent_incref(c->bev);
	/* Adopted once evhttp is done with the accept. */
	event_active(c->timer, EV_TIMEOUT, 1);
	if (m->n_waiting >= METRICS_CONNECTIONS_MAX) {
		for (old = m->head; old->closing; old = old->next)
			;
		log_rl(LOG_LVL_WARN, "metrics: more than %d clients at "
		    "once: closing the one that waited longest; scrape from "
		    "fewer places, or keep others from reaching "
		    "metrics_listen", METRICS_CONNECTIONS_MAX);
		conn_close(m, old);
	}
	conn_append(m, c);
	m->n_conns++;
	m->n_waiting++;
	if (m->n_conns >= METRICS_FDS_MAX && !m->paused) {
		evconnlistener_disable(m->listener);
		m->paused = true;
	}
	return c->bev;
}

/* The connection req came on, when it is one of m's and not closing. */
static struct metrics_conn *
conn_of(struct metrics *m, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	for (struct metrics_conn *c = m->head; evcon && c; c = c->next)
		if (c->evcon == evcon && !c->closing)
			return c;
	return NULL;
}

/* ---- HTTP ---- */

/*
 * Send the reply with body (may be NULL) and its Content-Type.  A HEAD
 * request gets the headers alone: libevent 2.1 would send the body
 * anyway, so the body is left out here and its length given by hand.
 */
static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	if (body && evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[32];

		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(h, "Content-Length", len);
		body = NULL;
	}
	evhttp_send_reply(req, code, reason, body);
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *body = evbuffer_new();

	if (!body) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(body, text, strlen(text));
	reply(req, code, reason, CONTENT_TYPE_TEXT, body);
	evbuffer_free(body);
}

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct metrics_conn *c = conn_of(m, req);
	struct evbuffer *body;
	int code;

	/* A whole request is in: the answer and the next request (on a
	 * connection kept alive) are a new wait. */
	if (c)
		conn_wait(m, c);

	if (!path || strcmp(path, "/metrics") != 0) {
		code = HTTP_NOTFOUND;
		reply_text(req, code, "Not Found",
		    "Not found: the metrics are at /metrics\n");
	} else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		code = 405;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, code, "Method Not Allowed",
		    "Method not allowed: use GET\n");
	} else if (!m->sw) {
		code = HTTP_SERVUNAVAIL;
		reply_text(req, code, "Service Unavailable",
		    "The switch is starting; try again\n");
	} else if (!(body = evbuffer_new())) {
		code = HTTP_INTERNAL;
		evhttp_send_error(req, code, NULL);
	} else {
		code = HTTP_OK;
		metrics_render(m->sw, body);
		reply(req, code, "OK", CONTENT_TYPE_METRICS, body);
		evbuffer_free(body);
	}
	/* Clients choose how often this runs: limit it like frames. */
	log_rl(LOG_LVL_DEBUG, "metrics: %s %s: %d", method_name(cmd),
	    path ? path : "?", code);
}

/* Open a listening socket on addr and an evhttp serving it, into *http
 * and its *listener (which it owns); nothing is stored on failure. */
static int
metrics_bind(struct metrics *m, const char *addr, struct evhttp **out,
    struct evconnlistener **lout, char **err)
{
	const int one = 1;
	struct evconnlistener *listener;
	struct sockaddr_storage ss;
	struct evhttp *http;
	unsigned len;
	int fd, e;

	if (conf_listen_parse(addr, &ss, &len) < 0) {
		*err = xasprintf("metrics_listen: bad address \"%s\": use "
		    "A.B.C.D:PORT or [IPV6]:PORT", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		e = errno;
		*err = xasprintf("metrics_listen %s: cannot create a socket: "
		    "%s", addr, strerror(e));
		return -e;
	}
	/* A restart must not wait for the connections of the last run to
	 * leave TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, METRICS_BACKLOG) < 0) {
		e = errno;
		close(fd);
		*err = xasprintf("metrics_listen %s: cannot listen: %s%s", addr,
		    strerror(e),
		    e == EADDRINUSE ? " (another program has this port: "
		    "choose another one)" :
		    e == EACCES ? " (a port below 1024 needs root or "
		    "CAP_NET_BIND_SERVICE: choose a higher one)" :
		    e == EADDRNOTAVAIL ? " (no interface has this address)" :
		    "");
		return -e;
	}
	http = evhttp_new(m->base);
	if (!http) {
		close(fd);
		*err = xasprintf("metrics_listen %s: cannot create the HTTP "
		    "server", addr);
		return -ENOMEM;
	}
	/* Idle time between reads and writes; the connection deadline
	 * (conn_wait) bounds the whole request and answer. */
	evhttp_set_timeout(http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(http, METRICS_BODY_MAX);
	/* Let every method through to metrics_request, which answers 405;
	 * evhttp itself would say 501 to the ones not allowed. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(http, CONTENT_TYPE_TEXT);
	evhttp_set_gencb(http, metrics_request, m);
	evhttp_set_bevcb(http, conn_new, m);
	listener = evconnlistener_new(m->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);	/* 0: listen() was called */
	if (!listener)
		close(fd);
	/* From here the listener owns fd, and then evhttp the listener. */
	if (!listener || !evhttp_bind_listener(http, listener)) {
		if (listener)
			evconnlistener_free(listener);
		evhttp_free(http);
		*err = xasprintf("metrics_listen %s: cannot accept "
		    "connections", addr);
		return -ENOMEM;
	}
	*out = http;
	*lout = listener;
	return 0;
}

/* The port of a valid listen address; 0 when invalid. */
static unsigned
listen_port(const char *addr)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (!addr || conf_listen_parse(addr, &ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void
metrics_create(struct event_base *base, struct metrics **out)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->base = base;
	*out = m;
}

/*
 * Free m's evhttp with its listener and its connections (the address
 * stays); conn_closed forgets them.  Those not yet adopted are forgotten
 * by conn_adopt, in this pass of the loop.
 */
static void
metrics_unserve(struct metrics *m)
{
	if (!m->http)
		return;
	evhttp_free(m->http);
	m->http = NULL;
	m->listener = NULL;
	m->paused = false;
}

static void
metrics_close(struct metrics *m)
{
	metrics_unserve(m);
	free(m->addr);
	m->addr = NULL;
}

void
metrics_destroy(struct metrics *m)
{
	if (!m)
		return;
	metrics_close(m);
	/* Not adopted yet; evhttp has let go of them. */
	while (m->head)
		conn_forget(m, m->head);
	free(m);
}

int
metrics_listen(struct metrics *m, const char *addr, char **err)
{
	struct evconnlistener *listener = NULL;
	struct evhttp *http = NULL;
	char *e2 = NULL;
	int r;

	if ((!addr && !m->addr) || (addr && m->addr &&
	    strcmp(addr, m->addr) == 0))
		return 0;
	if (!addr) {
		log_info("metrics: no longer serving on %s", m->addr);
		metrics_close(m);
		return 0;
	}
	r = metrics_bind(m, addr, &http, &listener, err);
	if (r == -EADDRINUSE && m->http &&
	    listen_port(addr) == listen_port(m->addr)) {
		/* The new address overlaps the one served (same port, e.g.
		 * 0.0.0.0 -> 127.0.0.1): the old listener must go first,
		 * and comes back if the new one still cannot be had. */
		free(*err);
		*err = NULL;
		metrics_unserve(m);
		r = metrics_bind(m, addr, &http, &listener, err);
		if (r < 0 && metrics_bind(m, m->addr, &m->http, &m->listener,
		    &e2) < 0) {
			char *t = xasprintf("%s; and %s could not be served "
			    "again (%s)", *err, m->addr, e2);

			free(*err);
			free(e2);
			*err = t;
			metrics_close(m);
			return r;
		}
	}
	if (r < 0)
		return r;
	if (m->http) {
		log_info("metrics: moving from %s to %s", m->addr, addr);
		metrics_unserve(m);
	}
	free(m->addr);
	m->http = http;
	m->listener = listener;
	m->addr = xstrdup(addr);
	log_info("metrics: serving on http://%s/metrics", addr);
	return 0;
}

const char *
metrics_address(const struct metrics *m)
{
	return m->addr;
}

void
metrics_set_switch(struct metrics *m, struct sw *sw)
{
	m->sw = sw;
}
