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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
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

struct metrics {
	struct event_base *base;
	struct sw *sw;			/* NULL: not yet */
	struct evhttp *http;		/* NULL: not listening */
	char *addr;			/* what http listens on */
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
	struct evbuffer *body;
	int code;

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

/* Open a listening socket on addr and an evhttp serving it. */
static int
metrics_bind(struct metrics *m, const char *addr, struct evhttp **out,
    char **err)
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

static void
metrics_close(struct metrics *m)
{
	if (m->http)
		evhttp_free(m->http);
	m->http = NULL;
	free(m->addr);
	m->addr = NULL;
}

void
metrics_destroy(struct metrics *m)
{
	if (!m)
		return;
	metrics_close(m);
	free(m);
}

int
metrics_listen(struct metrics *m, const char *addr, char **err)
{
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
	r = metrics_bind(m, addr, &http, err);
	if (r == -EADDRINUSE && m->http &&
	    listen_port(addr) == listen_port(m->addr)) {
		/* The new address overlaps the one served (same port, e.g.
		 * 0.0.0.0 -> 127.0.0.1): the old listener must go first,
		 * and comes back if the new one still cannot be had. */
		free(*err);
		*err = NULL;
		evhttp_free(m->http);
		m->http = NULL;
		r = metrics_bind(m, addr, &http, err);
		if (r < 0 && metrics_bind(m, m->addr, &m->http, &e2) < 0) {
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
		evhttp_free(m->http);
	}
	free(m->addr);
	m->http = http;
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
