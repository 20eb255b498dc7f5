/*
 * test_metrics.c - the Prometheus exposition text of a switch with dummy
 * ports, checked line by line against the text format (version 0.0.4),
 * and the HTTP server on loopback driven from the test's own event loop:
 * /metrics, 404, 405, a stalled client, the cap on connections, and moving
 * the listener.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "tapswitch/log.h"
#include "tapswitch/metrics.h"
#include "tapswitch/sw.h"

#include "unit.h"

/* A port name that needs every escape of a label value. */
#define ODD_NAME "q\"b\\c\nd"
#define ODD_ESCAPED "q\\\"b\\\\c\\nd"

static struct sw *sw;

static void
setup(void)
{
	struct conf_port cp;
	struct conf *conf;
	char *err = NULL;

	ck_assert_msg(conf_parse_string(
	    "[switch]\nqueues = 2\noffload = no\nfdb_size = 64\n"
	    "[port a]\n[port b]\n[port t]\ntrunk = 10,20\nnative = 1\n",
	    "test.conf", &conf, &err) == 0, "%s", err);
	ck_assert_msg(sw_create(conf, NULL, &sw, &err)
	    == 0, "%s", err);
	conf_free(conf);
	/* Names from the file are tame; one added at runtime by a program
	 * that skipped the name check must still come out well-formed. */
	conf_port_init(&cp, ODD_NAME);
	free(cp.ifname);
	cp.ifname = strdup("odd");
	ck_assert_msg(sw_port_add(sw, &cp, &err) == 0, "%s", err);
	conf_port_destroy(&cp);
}

static void
teardown(void)
{
	sw_destroy(sw);
}

static char *
render(void)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	metrics_render(sw, b);
	len = evbuffer_get_length(b);
	s = malloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return s;
}

/* ---- A checker of the text format ---- */

#define MAX_FAMILIES 256

struct family {
	char name[128];
	bool help, type, samples, closed;
	char type_name[16];
};

struct exposition {
	struct family fam[MAX_FAMILIES];
	unsigned n;
	int current;		/* family whose samples are being read */
};

static struct family *
family(struct exposition *x, const char *name, size_t len)
{
	for (unsigned i = 0; i < x->n; i++)
		if (strlen(x->fam[i].name) == len &&
		    strncmp(x->fam[i].name, name, len) == 0)
			return &x->fam[i];
	ck_assert_uint_lt(x->n, MAX_FAMILIES);
	ck_assert_uint_lt(len, sizeof(x->fam[0].name));
	memcpy(x->fam[x->n].name, name, len);
	x->fam[x->n].name[len] = '\0';
	return &x->fam[x->n++];
}

static bool
name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static bool
name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* Length of the metric name at s ([a-zA-Z_:][a-zA-Z0-9_:]*), 0 if none. */
static size_t
metric_name_len(const char *s)
{
	size_t n = 0;

	if (!name_start(s[0]))
		return 0;
	while (name_char(s[n]))
		n++;
	return n;
}

/* The family we are in must be fam, and samples of one family must not
 * be split by another's. */
static void
enter(struct exposition *x, struct family *f, const char *line)
{
	int i = (int)(f - x->fam);

	if (x->current != i) {
		ck_assert_msg(!f->closed, "family %s continues after another "
		    "began: %s", f->name, line);
		if (x->current >= 0)
			x->fam[x->current].closed = true;
		x->current = i;
	}
}

/* Check one sample line; returns its value. */
static double
check_sample(struct exposition *x, const char *line)
{
	size_t n = metric_name_len(line);
	const char *p = line + n;
	struct family *f;
	char *end;
	double v;

	ck_assert_msg(n > 0, "sample without a valid name: %s", line);
	f = family(x, line, n);
	ck_assert_msg(f->help && f->type, "sample before HELP and TYPE of "
	    "%s: %s", f->name, line);
	enter(x, f, line);
	f->samples = true;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln = 0;

			ck_assert_msg((p[0] >= 'a' && p[0] <= 'z') ||
			    (p[0] >= 'A' && p[0] <= 'Z') || p[0] == '_',
			    "bad label name: %s", line);
			while (name_char(p[ln]) && p[ln] != ':')
				ln++;
			p += ln;
			ck_assert_msg(p[0] == '=' && p[1] == '"',
			    "label without =\"value\": %s", line);
			for (p += 2; *p != '"'; p++) {
				ck_assert_msg(*p != '\0' && *p != '\n',
				    "unterminated label value: %s", line);
				if (*p == '\\') {
					p++;
					ck_assert_msg(*p == '\\' || *p == '"' ||
					    *p == 'n', "bad escape: %s", line);
				}
			}
			p++;
			if (*p == ',')
				p++;
			else
				ck_assert_msg(*p == '}', "bad label list: %s",
				    line);
		}
		p++;
	}
	ck_assert_msg(*p == ' ', "no space before the value: %s", line);
	errno = 0;
	v = strtod(p + 1, &end);
	ck_assert_msg(end != p + 1 && *end == '\0' && errno == 0,
	    "bad value: %s", line);
	if (strcmp(f->type_name, "counter") == 0) {
		ck_assert_msg(v >= 0, "negative counter: %s", line);
		ck_assert_msg(n > 6 && strncmp(line + n - 6, "_total", 6) == 0,
		    "counter not named *_total: %s", line);
	}
	return v;
}

/* Check the whole text; fills x. */
static void
check_exposition(const char *text, struct exposition *x)
{
	char *copy = strdup(text), *line, *save = NULL;

	memset(x, 0, sizeof(*x));
	x->current = -1;
	ck_assert_msg(text[0] != '\0' && text[strlen(text) - 1] == '\n',
	    "the text must end with a newline");
	for (line = strtok_r(copy, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			bool help = line[2] == 'H';
			size_t n = metric_name_len(line + 7);
			struct family *f;

			ck_assert_msg(n > 0 && line[7 + n] == ' ',
			    "bad metric name: %s", line);
			f = family(x, line + 7, n);
			ck_assert_msg(!f->samples, "HELP/TYPE after samples: "
			    "%s", line);
			enter(x, f, line);
			if (help) {
				ck_assert_msg(!f->help, "second HELP: %s",
				    line);
				f->help = true;
				for (const char *p = line + 8 + n; *p; p++)
					if (*p == '\\')
						ck_assert_msg(p[1] == '\\' ||
						    p[1] == 'n', "bad escape "
						    "in HELP: %s", line);
			} else {
				const char *t = line + 8 + n;

				ck_assert_msg(!f->type, "second TYPE: %s",
				    line);
				ck_assert_msg(strcmp(t, "counter") == 0 ||
				    strcmp(t, "gauge") == 0,
				    "unexpected type: %s", line);
				f->type = true;
				snprintf(f->type_name, sizeof(f->type_name),
				    "%s", t);
			}
			continue;
		}
		ck_assert_msg(line[0] != '#', "unexpected comment: %s", line);
		check_sample(x, line);
	}
	for (unsigned i = 0; i < x->n; i++)
		ck_assert_msg(x->fam[i].help && x->fam[i].type,
		    "%s lacks HELP or TYPE", x->fam[i].name);
	free(copy);
}

/* The value of the sample line that starts with prefix (name and
 * labels); fails when there is none. */
static double
sample(const char *text, const char *prefix)
{
	size_t len = strlen(prefix);
	const char *p = text;

	for (;;) {
		if (strncmp(p, prefix, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
		p = strchr(p, '\n');
		ck_assert_msg(p != NULL, "no sample %s in:\n%.1500s", prefix,
		    text);
		p++;
	}
}

START_TEST(test_render_well_formed)
{
	static const char *const port_names[] = {
		"a", "b", "t", ODD_ESCAPED,
	};
	struct exposition *x = calloc(1, sizeof(*x));
	char *text = render();
	char want[256];

	check_exposition(text, x);

	ck_assert_double_eq(sample(text, "tapswitch_build_info{version=\""
	    PACKAGE_VERSION "\"}"), 1);
	ck_assert_double_ge(sample(text, "tapswitch_uptime_seconds"), 0);
	ck_assert_double_eq(sample(text, "tapswitch_fdb_entries"), 0);
	ck_assert_double_eq(sample(text, "tapswitch_fdb_size"), 64);
#define X(name, help) \
	ck_assert_double_eq(sample(text, "tapswitch_" #name "_total"), 0);
	SW_COUNTERS(X)
#undef X
	for (unsigned i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "tapswitch_port_up{port=\"%s\"}",
		    port_names[i]);
		ck_assert_double_eq(sample(text, want), 1);
		snprintf(want, sizeof(want),
		    "tapswitch_port_macs{port=\"%s\"}", port_names[i]);
		ck_assert_double_eq(sample(text, want), 0);
#define X(name, help) \
		snprintf(want, sizeof(want), "tapswitch_port_" #name \
		    "_total{port=\"%s\"}", port_names[i]); \
		ck_assert_double_eq(sample(text, want), 0);
		PORT_COUNTERS(X)
#undef X
	}
	/* The help strings of the X-macros are the HELP texts. */
	ck_assert_ptr_nonnull(strstr(text,
	    "# HELP tapswitch_port_rx_bytes_total "
	    "bytes received (Ethernet frame, no virtio-net header)\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "# TYPE tapswitch_port_rx_bytes_total counter\n"));
	ck_assert_ptr_nonnull(strstr(text, "# HELP tapswitch_learned_total "
	    "MAC addresses learned\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE tapswitch_port_up gauge\n"));
	/* Ports in name order, so the output is stable. */
	ck_assert(strstr(text, "tapswitch_port_up{port=\"a\"}") <
	    strstr(text, "tapswitch_port_up{port=\"b\"}"));
	free(text);
	free(x);
}
END_TEST

START_TEST(test_render_follows_traffic)
{
	static const uint8_t frame[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x00,
	};
	struct exposition *x = calloc(1, sizeof(*x));
	struct port *a = sw_port_find(sw, "a");
	struct port_counters c;
	char *text;
	int tries;

	ck_assert_int_eq(write(port_dummy_peer(a, 0), frame, sizeof(frame)),
	    (ssize_t)sizeof(frame));
	/* The worker counts rx before it floods; wait for the flood. */
	for (tries = 0; tries < 200; tries++) {
		struct sw_counters swc;

		sw_counters(sw, &swc);
		if (swc.flooded == 1)
			break;
		usleep(10000);
	}
	port_counters_sum(a, &c);
	ck_assert_uint_eq(c.rx_packets, 1);

	text = render();
	check_exposition(text, x);
	ck_assert_double_eq(sample(text,
	    "tapswitch_port_rx_packets_total{port=\"a\"}"), 1);
	ck_assert_double_eq(sample(text,
	    "tapswitch_port_rx_bytes_total{port=\"a\"}"), 60);
	ck_assert_double_eq(sample(text, "tapswitch_learned_total"), 1);
	ck_assert_double_eq(sample(text, "tapswitch_flooded_total"), 1);
	ck_assert_double_eq(sample(text, "tapswitch_fdb_entries"), 1);
	ck_assert_double_eq(sample(text,
	    "tapswitch_port_macs{port=\"a\"}"), 1);
	free(text);

	/* A port that goes away leaves the output. */
	ck_assert_int_eq(sw_port_del(sw, ODD_NAME), 0);
	text = render();
	check_exposition(text, x);
	ck_assert_ptr_null(strstr(text, ODD_ESCAPED));
	free(text);
	free(x);
}
END_TEST

/* ---- HTTP ---- */

static struct event_base *base;
static struct metrics *m;

static void
http_setup(void)
{
	setup();
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	metrics_create(base, &m);
}

static void
http_teardown(void)
{
	metrics_destroy(m);
	event_base_free(base);
	teardown();
}

/* A free port on 127.0.0.1 (as the kernel picks one for port 0). */
static unsigned
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Listen on 127.0.0.1 at a free port; returns the port. */
static unsigned
listen_loopback(char *addr, size_t size)
{
	char *err = NULL;
	unsigned port;

	for (int tries = 0; ; tries++) {
		port = free_port();
		snprintf(addr, size, "127.0.0.1:%u", port);
		if (metrics_listen(m, addr, &err) == 0)
			return port;
		ck_assert_msg(tries < 10, "%s", err);
		free(err);
		err = NULL;
	}
}

static int
connect_to(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_ge(fd, 0);
	ck_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	return fd;
}

/* Send req on a new connection and run the loop until the server closes
 * it (HTTP/1.0) or 5 s passed; returns the response (caller frees). */
static char *
http(unsigned port, const char *req)
{
	int fd = connect_to(port);
	size_t len = 0, cap = 65536;
	char *resp = malloc(cap);
	size_t sent = 0;
	time_t deadline = time(NULL) + 5;

	while (time(NULL) < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (sent < strlen(req)) {
			r = send(fd, req + sent, strlen(req) - sent,
			    MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		if (len + 4096 > cap)
			resp = realloc(resp, cap *= 2);
		r = recv(fd, resp + len, cap - len - 1, 0);
		if (r == 0)
			break;
		if (r > 0)
			len += (size_t)r;
	}
	close(fd);
	resp[len] = '\0';
	return resp;
}

/* The body after the headers. */
static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	ck_assert_msg(b != NULL, "no end of headers in: %s", resp);
	return b + 4;
}

START_TEST(test_http)
{
	struct exposition *x = calloc(1, sizeof(*x));
	char addr[64];
	unsigned port;
	char *r;

	ck_assert_ptr_null(metrics_address(m));
	port = listen_loopback(addr, sizeof(addr));
	ck_assert_str_eq(metrics_address(m), addr);

	/* No switch yet: 503. */
	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.0 503", 12) == 0 ||
	    strncmp(r, "HTTP/1.1 503", 12) == 0, "%.600s", r);
	free(r);
	metrics_set_switch(m, sw);

	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	check_exposition(body_of(r), x);
	free(r);
	/* A query string is fine. */
	r = http(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	free(r);
	r = http(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	ck_assert_msg(*body_of(r) == 0, "HEAD body: %.300s", r);
	ck_assert_msg(strstr(r, "\r\nContent-Length: ") != NULL, "%.300s", r);
	free(r);

	r = http(port, "GET / HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 404 ") != NULL, "%.600s", r);
	free(r);
	r = http(port, "GET /metrics/x HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 404 ") != NULL, "%.600s", r);
	free(r);
	r = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nab");
	ck_assert_msg(strstr(r, " 405 ") != NULL, "%.600s", r);
	ck_assert_ptr_nonnull(strstr(r, "Allow: GET, HEAD\r\n"));
	free(r);
	r = http(port, "DELETE /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 405 ") != NULL, "%.600s", r);
	free(r);
	r = http(port, "OPTIONS /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 405 ") != NULL, "%.600s", r);
	free(r);
	/* Too much body: refused without reading it all. */
	{
		char big[4096];

		snprintf(big, sizeof(big), "POST /metrics HTTP/1.0\r\n"
		    "Content-Length: %d\r\n\r\n", METRICS_BODY_MAX * 2);
		r = http(port, big);
		ck_assert_msg(strstr(r, " 413 ") != NULL ||
		    strstr(r, " 400 ") != NULL, "%.600s", r);
		free(r);
	}
	free(x);
}
END_TEST

START_TEST(test_http_stalled_client)
{
	char addr[64];
	unsigned port;
	int slow;
	char *r;

	metrics_set_switch(m, sw);
	port = listen_loopback(addr, sizeof(addr));
	/* Half a request, then nothing: the next client is still served. */
	slow = connect_to(port);
	ck_assert_int_gt(send(slow, "GET /met", 8, MSG_NOSIGNAL), 0);
	for (int i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	free(r);
	/* Request headers are bounded. */
	{
		size_t n = METRICS_HEADERS_MAX * 2;
		char *big = malloc(n + 64);

		strcpy(big, "GET /metrics HTTP/1.0\r\nX-Big: ");
		memset(big + strlen(big), 'a', n);
		strcpy(big + strlen("GET /metrics HTTP/1.0\r\nX-Big: ") + n,
		    "\r\n\r\n");
		r = http(port, big);
		ck_assert_msg(strstr(r, " 200 ") == NULL, "%.600s", r);
		free(r);
		free(big);
	}
	close(slow);
}
END_TEST

START_TEST(test_listen_changes)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char addr[64], busy[64];
	socklen_t len = sizeof(sin);
	unsigned port, busy_port;
	char *err = NULL, *r;
	int fd;

	metrics_set_switch(m, sw);
	/* Same address again: nothing to do. */
	port = listen_loopback(addr, sizeof(addr));
	ck_assert_int_eq(metrics_listen(m, addr, &err), 0);

	/* A port that another socket holds: refused, the old one serves. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	busy_port = ntohs(sin.sin_port);
	snprintf(busy, sizeof(busy), "127.0.0.1:%u", busy_port);
	ck_assert_int_eq(metrics_listen(m, busy, &err), -EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(err, busy));
	ck_assert_ptr_nonnull(strstr(err, "choose another"));
	free(err);
	err = NULL;
	ck_assert_str_eq(metrics_address(m), addr);
	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	free(r);
	close(fd);

	/* A bad address. */
	ck_assert_int_eq(metrics_listen(m, "localhost:80", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "A.B.C.D:PORT"));
	free(err);
	err = NULL;

	/* Moving: the new one serves, the old one is closed. */
	{
		char addr2[64];
		unsigned port2 = listen_loopback(addr2, sizeof(addr2));

		ck_assert_str_eq(metrics_address(m), addr2);
		r = http(port2, "GET /metrics HTTP/1.0\r\n\r\n");
		ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
		free(r);
		fd = connect_to(port);
		{
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			poll(&pfd, 1, 1000);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			ck_assert_int_eq(soerr, ECONNREFUSED);
		}
		close(fd);
	}

	/* Off. */
	ck_assert_int_eq(metrics_listen(m, NULL, &err), 0);
	ck_assert_ptr_null(metrics_address(m));
}
END_TEST

/* Descriptors this process has open. */
static unsigned
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* d's own */
}

/* Whether the server closed fd (end-of-file or reset), without waiting. */
static bool
closed_by_server(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);

	if (r < 0 && errno != ECONNRESET)
		ck_assert_int_eq(errno, EAGAIN);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* More clients than METRICS_CONNECTIONS_MAX that never finish their
 * request: those that waited longest are closed, the server holds no more
 * than the cap, and a scraper still gets its answer. */
START_TEST(test_http_connection_cap)
{
	enum { EXTRA = 8, N = METRICS_CONNECTIONS_MAX + EXTRA };
	int fds[N];
	char addr[64];
	unsigned port, before, server;
	char *r;

	metrics_set_switch(m, sw);
	port = listen_loopback(addr, sizeof(addr));
	before = fd_count();
	for (int i = 0; i < N; i++) {
		struct pollfd pfd = { .events = POLLOUT };

		pfd.fd = fds[i] = connect_to(port);
		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		ck_assert_int_gt(send(fds[i], "GET /met", 8, MSG_NOSIGNAL), 0);
		/* Accepted before the next one comes. */
		for (int k = 0; k < 5; k++)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	for (int k = 0; k < 10; k++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	for (int i = 0; i < N; i++)
		ck_assert_msg(closed_by_server(fds[i]) == (i < EXTRA),
		    "client %d of %d is %s", i, N,
		    i < EXTRA ? "still open" : "closed");
	server = fd_count() - before - N;
	ck_assert_msg(server <= METRICS_CONNECTIONS_MAX, "the server holds "
	    "%u descriptors for its clients, more than %d", server,
	    METRICS_CONNECTIONS_MAX);

	r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(r, " 200 ") != NULL, "%.600s", r);
	free(r);
	for (int k = 0; k < 10; k++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	/* It took the place of the next that had waited longest. */
	ck_assert(closed_by_server(fds[EXTRA]));
	ck_assert(!closed_by_server(fds[EXTRA + 1]));
	for (int i = 0; i < N; i++)
		close(fds[i]);
	/* Clients that hang up are let go of. */
	for (int k = 0; k < 10; k++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(fd_count(), before);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");
	TCase *th = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_render_well_formed);
	tcase_add_test(tc, test_render_follows_traffic);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(th, http_setup, http_teardown);
	tcase_add_test(th, test_http);
	tcase_add_test(th, test_http_stalled_client);
	tcase_add_test(th, test_listen_changes);
	tcase_add_test(th, test_http_connection_cap);
	tcase_set_timeout(th, 30);
	suite_add_tcase(s, th);
	return s;
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	/* Ports are socketpairs: no root, no interfaces. */
	port_type_register_test(&port_type_dummy, true);
	return unit_run(metrics_suite());
}
