/*
 * ctl.c - the control socket: JSON-RPC 2.0 framing, the command registry
 * and the Unix-socket server (see ctl.h for the protocol and its limits).
 *
 * Talks to: libevent (listener and one bufferevent per client), jansson,
 * and the handlers that other modules register.  ctl_handle() is the
 * whole request/response logic without any socket, so the unit tests and
 * the fuzzer exercise exactly what clients reach.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "tapswitch/ctl.h"
#include "tapswitch/log.h"

struct ctl_cmd {
	const char *name;
	const char *params;
	const char *help;
	enum ctl_flags flags;
	ctl_handler fn;			/* or: */
	ctl_text_handler text_fn;
	void *arg;
};

/*
 * The answers of a client that are queued and not yet freed.  An answer
 * is one malloc'd string in the output buffer (evbuffer_add_reference),
 * freed as a whole once its last byte is sent: that is the memory to
 * count, not the bytes left to send.  Its free callback may run after the
 * client is gone (libevent finishes freeing a bufferevent from the loop),
 * so this record lives until the last of them.
 */
struct ctl_answers {
	struct ctl_client *c;	/* NULL once the client is gone */
	size_t refs;		/* queued answers, + 1 while c lives */
};

struct ctl_client {
	struct ctl_client *prev, *next;
	struct ctl *ctl;
	struct bufferevent *bev;
	struct evbuffer_cb_entry *in_cb;
	struct ctl_answers *answers;
	uid_t uid;
	pid_t pid;
	size_t held;		/* its input buffer and queued answers */
	uint64_t held_since;	/* ctl->ticks when held last became non-0 */
	bool paused;		/* not read until its answers drain */
	bool eof;		/* half-closed: hang up once it is answered */
	bool closing;		/* free once the output is flushed */
};

struct ctl {
	struct ctl_cmd *cmds;
	size_t n_cmds;
	struct evconnlistener *listener;
	char *path;
	struct ctl_client *clients;
	unsigned n_clients;
	size_t held;		/* sum of the clients' held */
	uint64_t ticks;		/* orders the clients' held_since */
	bool trim;		/* much was held or built: trim when calm */
	struct event *trim_ev;
};

void
ctl_error(struct ctl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	free(err->message);
	err->code = code;
	va_start(ap, fmt);
	err->message = xvasprintf(fmt, ap);
	va_end(ap);
}

static json_t *
ctl_help(void *arg, json_t *params, struct ctl_err *err)
{
	struct ctl *ctl = arg;
	json_t *list = json_array();

	for (size_t i = 0; i < ctl->n_cmds; i++) {
		const struct ctl_cmd *c = &ctl->cmds[i];

		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}",
		    "method", c->name, "params", c->params, "help", c->help,
		    "mutating", c->flags & CTL_MUTATING));
	}
	return json_pack("{s:o}", "methods", list);
}

void
ctl_create(struct ctl **out)
{
	struct ctl *ctl = xcalloc(1, sizeof(*ctl));

	ctl_register(ctl, "help", "", "list the methods",
	    CTL_READONLY, ctl_help, ctl);
	*out = ctl;
}

void
ctl_register(struct ctl *ctl, const char *name, const char *params,
    const char *help, enum ctl_flags flags, ctl_handler fn, void *arg)
{
	ctl->cmds = xrealloc(ctl->cmds, (ctl->n_cmds + 1) * sizeof(*ctl->cmds));
	ctl->cmds[ctl->n_cmds++] = (struct ctl_cmd){
		.name = name, .params = params, .help = help,
		.flags = flags, .fn = fn, .arg = arg,
	};
}

void
ctl_register_text(struct ctl *ctl, const char *name, const char *params,
    const char *help, enum ctl_flags flags, ctl_text_handler fn, void *arg)
{
	ctl_register(ctl, name, params, help, flags, NULL, arg);
	ctl->cmds[ctl->n_cmds - 1].text_fn = fn;
}

/*
 * The params of a method are declared in its registration as a list of
 * names, optional ones in brackets: "mac, port, [vlan]".  Walk it: call
 * fn for every name until it returns true.  Names are at most 31 bytes.
 */
static bool
spec_walk(const char *spec, bool (*fn)(const char *name, bool required,
    void *arg), void *arg)
{
	while (*spec) {
		char name[32];
		bool required = true;
		size_t n = 0;

		while (*spec == ' ' || *spec == ',')
			spec++;
		if (*spec == '[') {
			required = false;
			spec++;
		}
		while (*spec && *spec != ',' && *spec != ']' && *spec != ' ')
			if (n < sizeof(name) - 1)
				name[n++] = *spec++;
			else
				spec++;
		while (*spec == ']' || *spec == ' ')
			spec++;
		name[n] = '\0';
		if (n && fn(name, required, arg))
			return true;
	}
	return false;
}

struct spec_check {
	json_t *params;
	const char *key;	/* spec_has: looking for it */
	char *missing;		/* spec_missing: first required one absent */
};

static bool
spec_has(const char *name, bool required, void *arg)
{
	return strcmp(name, ((struct spec_check *)arg)->key) == 0;
}

static bool
spec_missing(const char *name, bool required, void *arg)
{
	struct spec_check *c = arg;

	if (!required || json_object_get(c->params, name))
		return false;
	c->missing = xstrdup(name);
	return true;
}

/* Do params carry exactly what cmd declares?  NULL, or a message to
 * free. */
static char *
ctl_params_mismatch(const struct ctl_cmd *cmd, json_t *params)
{
	struct spec_check c = { .params = params };
	json_t *v;
	char *m;

	json_object_foreach(params, c.key, v) {
		if (!spec_walk(cmd->params, spec_has, &c))
			return xasprintf("unknown parameter \"%s\" for %s%s%s",
			    c.key, cmd->name, *cmd->params ? "; it takes " :
			    ", which takes none", cmd->params);
	}
	if (spec_walk(cmd->params, spec_missing, &c)) {
		m = xasprintf("missing parameter \"%s\" for %s (it takes %s)",
		    c.missing, cmd->name, cmd->params);
		free(c.missing);
		return m;
	}
	return NULL;
}

static const struct ctl_cmd *
ctl_find(const struct ctl *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->n_cmds; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			return &ctl->cmds[i];
	return NULL;
}

/*
 * The answer line for id (or null), with result or, when result is NULL,
 * the error code and message.  rawid, when not NULL, is the id's text as
 * the client wrote it, in place of id (see ctl_handle).
 */
static char *
ctl_respond(json_t *id, const char *rawid, json_t *result, int code,
    const char *message)
{
	json_t *resp;
	char *s, *r;

	if (result)
		resp = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id",
		    id ? id : json_null(), "result", result);
	else
		resp = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0",
		    "id", id ? id : json_null(), "error", "code", code,
		    "message", message);
	if (!resp)
		abort();	/* only on out-of-memory */
	if (rawid) {
		/* Objects keep their order: {"jsonrpc":..,"id":..,...}. */
		json_object_del(resp, "jsonrpc");
		json_object_del(resp, "id");
	}
	s = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	if (!s)
		abort();
	if (!rawid)
		return s;
	r = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,%s", rawid, s + 1);
	free(s);
	return r;
}

/* The answer line for id (rawid, as in ctl_respond) whose result is the
 * JSON text result. */
static char *
ctl_respond_text(json_t *id, const char *rawid, const char *result)
{
	char *idtext = NULL, *s;

	if (!rawid) {
		idtext = json_dumps(id ? id : json_null(), JSON_ENCODE_ANY);
		if (!idtext)
			abort();
	}
	s = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}",
	    rawid ? rawid : idtext, result);
	free(idtext);
	return s;
}

/*
 * A scanner for the one thing jansson cannot decode that we must answer:
 * an integer id beyond 64 bits.  JSON-RPC allows any number as an id, and
 * the answer must carry the same id, so we keep the id's text.  These
 * functions find the text of the value of the top-level member "id" (the
 * last one, as jansson keeps the last of duplicate keys); values are
 * skipped by their quotes and brackets, not checked: jansson checks the
 * whole request afterwards.
 */
static void
scan_ws(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' ||
	    s[*i] == '\r'))
		(*i)++;
}

/* s[*i] is '"': move past the closing quote. */
static bool
scan_string(const char *s, size_t len, size_t *i)
{
	for ((*i)++; *i < len; (*i)++) {
		if (s[*i] == '\\')
			(*i)++;
		else if (s[*i] == '"') {
			(*i)++;
			return true;
		}
	}
	return false;
}

/* Move past the value at s[*i]: a string, an object or array (to its
 * closing bracket), or anything else up to the next delimiter. */
static bool
scan_value(const char *s, size_t len, size_t *i)
{
	size_t depth = 0, start = *i;

	while (*i < len) {
		char ch = s[*i];

		if (ch == '"') {
			if (!scan_string(s, len, i))
				return false;
			if (depth == 0)
				return true;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return *i > start;
			if (--depth == 0) {
				(*i)++;
				return true;
			}
		} else if (depth == 0 && memchr(", \t\n\r", ch, 5)) {
			return *i > start;
		}
		(*i)++;
	}
	return false;
}

/* Is the quoted key at s (quotes included) "id", however escaped? */
static bool
key_is_id(const char *s, size_t len)
{
	json_t *k;
	bool is;

	if (len == 4 && memcmp(s, "\"id\"", 4) == 0)
		return true;
	if (!memchr(s, '\\', len))
		return false;
	k = json_loadb(s, len, JSON_DECODE_ANY, NULL);
	is = json_is_string(k) && json_string_length(k) == 2 &&
	    memcmp(json_string_value(k), "id", 2) == 0;
	json_decref(k);
	return is;
}

static bool
find_id(const char *s, size_t len, size_t *off, size_t *vlen)
{
	size_t i = 0, ks, vs;
	bool found = false, is_id;

	scan_ws(s, len, &i);
	if (i >= len || s[i++] != '{')
		return false;
	scan_ws(s, len, &i);
	if (i < len && s[i] == '}')
		return false;
	for (;;) {
		scan_ws(s, len, &i);
		if (i >= len || s[i] != '"')
			return false;
		ks = i;
		if (!scan_string(s, len, &i))
			return false;
		is_id = key_is_id(s + ks, i - ks);
		scan_ws(s, len, &i);
		if (i >= len || s[i++] != ':')
			return false;
		scan_ws(s, len, &i);
		vs = i;
		if (!scan_value(s, len, &i))
			return false;
		if (is_id) {
			*off = vs;
			*vlen = i - vs;
			found = true;
		}
		scan_ws(s, len, &i);
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		return i < len && s[i] == '}' && found;
	}
}

/* An integer in JSON's grammar, too big for jansson (64 bits)? */
static bool
is_big_integer(const char *s, size_t len)
{
	size_t i = s[0] == '-', digits = len - i;

	if (digits == 0 || (s[i] == '0' && digits > 1))
		return false;
	for (size_t j = i; j < len; j++)
		if (s[j] < '0' || s[j] > '9')
			return false;
	/* 2^63 has 19 digits: fewer always fit; more never do. */
	if (digits != 19)
		return digits > 19;
	return memcmp(s + i, i ? "9223372036854775808" :
	    "9223372036854775807", 19) > 0;
}

static bool
is_overflow(const json_error_t *jerr)
{
#if JANSSON_VERSION_HEX >= 0x020b00
	return json_error_code(jerr) == json_error_numeric_overflow;
#else
	return strstr(jerr->text, "too big") || strstr(jerr->text, "overflow");
#endif
}

/*
 * Parse a request line.  An id beyond 64 bits is replaced by 0 (padded
 * with blanks, so columns in later errors stay right) and its text goes to
 * *rawid (malloc'd) for the answer.  The request, or NULL with jerr set.
 */
static json_t *
parse_request(const char *line, size_t len, char **rawid,
    json_error_t *jerr)
{
	json_t *req = json_loadb(line, len, JSON_DECODE_ANY, jerr);
	size_t off = 0, vlen = 0;
	char *copy;

	*rawid = NULL;
	if (req || !is_overflow(jerr) || !find_id(line, len, &off, &vlen) ||
	    !is_big_integer(line + off, vlen))
		return req;
	copy = xmalloc(len);
	memcpy(copy, line, len);
	copy[off] = '0';
	memset(copy + off + 1, ' ', vlen - 1);
	req = json_loadb(copy, len, JSON_DECODE_ANY, jerr);
	free(copy);
	if (req)
		*rawid = xasprintf("%.*s", (int)vlen, line + off);
	return req;
}

char *
ctl_handle(struct ctl *ctl, const char *line, size_t len, uid_t uid)
{
	struct ctl_err err = { 0 };
	const struct ctl_cmd *cmd;
	json_t *req, *id, *method, *version, *params, *result;
	json_error_t jerr;
	char *resp, *mismatch, *rawid;
	bool notify;

	req = parse_request(line, len, &rawid, &jerr);
	if (!req) {
		char *m = xasprintf("parse error at column %d: %s", jerr.column,
		    is_overflow(&jerr) ? "a number out of range (integers "
		    "must fit in 64 bits)" : "send one JSON object per line");

		resp = ctl_respond(NULL, NULL, NULL, CTL_E_PARSE, m);
		free(m);
		return resp;
	}
	if (!json_is_object(req)) {
		bool batch = json_is_array(req);

		json_decref(req);
		return ctl_respond(NULL, NULL, NULL, CTL_E_REQUEST, batch ?
		    "batch requests are not supported; send one request "
		    "object per line" : "a request must be a JSON object");
	}
	id = json_object_get(req, "id");
	notify = id == NULL;
	if (id && !json_is_string(id) && !json_is_integer(id) &&
	    !json_is_null(id)) {
		json_decref(req);
		return ctl_respond(NULL, NULL, NULL, CTL_E_REQUEST,
		    "\"id\" must be a string, an integer or null");
	}
	version = json_object_get(req, "jsonrpc");
	method = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (!json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0") != 0) {
		resp = ctl_respond(id, rawid, NULL, CTL_E_REQUEST,
		    "\"jsonrpc\" must be \"2.0\"");
		goto out;
	}
	if (!json_is_string(method)) {
		resp = ctl_respond(id, rawid, NULL, CTL_E_REQUEST,
		    "\"method\" must be a string such as \"status.get\"");
		goto out;
	}
	cmd = ctl_find(ctl, json_string_value(method));
	if (!cmd) {
		char *m = xasprintf("unknown method \"%s\"; the \"help\" method "
		    "lists them", json_string_value(method));

		resp = ctl_respond(id, rawid, NULL, CTL_E_METHOD, m);
		free(m);
		goto out;
	}
	if (params && !json_is_object(params)) {
		resp = ctl_respond(id, rawid, NULL, CTL_E_PARAMS,
		    "\"params\" must be an object");
		goto out;
	}
	if ((cmd->flags & CTL_MUTATING) && uid != 0 && uid != geteuid()) {
		char *m = xasprintf("permission denied: %s changes the switch; "
		    "run it as root or as the daemon's user", cmd->name);

		resp = ctl_respond(id, rawid, NULL, CTL_E_PERM, m);
		free(m);
		goto out;
	}
	params = params ? json_incref(params) : json_object();
	if ((mismatch = ctl_params_mismatch(cmd, params)) != NULL) {
		json_decref(params);
		resp = ctl_respond(id, rawid, NULL, CTL_E_PARAMS, mismatch);
		free(mismatch);
		goto out;
	}
	if (cmd->text_fn) {
		char *text = cmd->text_fn(cmd->arg, params, &err);

		json_decref(params);
		if (text) {
			resp = ctl_respond_text(id, rawid, text);
			free(text);
			goto out;
		}
		result = NULL;
	} else {
		result = cmd->fn(cmd->arg, params, &err);
		json_decref(params);
	}
	if (result) {
		resp = ctl_respond(id, rawid, result, 0, NULL);
		json_decref(result);
	} else {
		resp = ctl_respond(id, rawid, NULL, err.code ? err.code :
		    CTL_E_INTERNAL, err.message ? err.message :
		    "internal error");
		free(err.message);
	}
out:
	json_decref(req);
	free(rawid);
	if (notify) {
		free(resp);
		return NULL;
	}
	return resp;
}

/*
 * The server.  Each client is a bufferevent.  What it holds (ctl.h,
 * "Memory") is counted as its input buffer changes (a callback) and as
 * its answers are queued and freed (struct ctl_answers).  A client is
 * read only while its unread answers are at most CTL_OUTPUT_HIGH bytes
 * (the write callback fires when they drain to that, and serving
 * resumes), and at most CTL_LINE_MAX + 2 bytes of its requests are taken
 * into its input buffer at a time (a longest line and its CR LF).
 */

/* More than this held, or an answer this long built: trim once calm. */
#define CTL_TRIM_AT (1024 * 1024)
#define CTL_TRIM_ANSWER (64 * 1024)
/* Calm: the clients hold at most this. */
#define CTL_TRIM_CALM (256 * 1024)

static void
ctl_want_trim(struct ctl *ctl)
{
	struct timeval second = { .tv_sec = 1 };

	ctl->trim = true;
	if (ctl->trim_ev && !evtimer_pending(ctl->trim_ev, NULL))
		evtimer_add(ctl->trim_ev, &second);
}

/* Once a second after heavy use: while the clients hold little, give the
 * memory that answers and buffers took back to the system.  malloc keeps
 * freed memory for reuse, and pieces of it between live blocks would stay
 * counted in RSS for good; malloc_trim releases every free page. */
static void
ctl_trim(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;

	if (ctl->held > CTL_TRIM_CALM) {
		ctl_want_trim(ctl);
		return;
	}
	ctl->trim = false;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void
client_held(struct ctl_client *c, size_t add, size_t sub)
{
	struct ctl *ctl = c->ctl;
	size_t was = c->held;

	c->held = c->held + add - sub;
	ctl->held = ctl->held + add - sub;
	if (!was && c->held)
		c->held_since = ++ctl->ticks;
	if (ctl->held > CTL_TRIM_AT && !ctl->trim)
		ctl_want_trim(ctl);
}

/* What the input buffer holds. */
static void
client_count(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	client_held(arg, info->n_added, info->n_deleted);
}

/* An answer is sent (or dropped with its client): free and uncount it. */
static void
free_answer(const void *data, size_t len, void *arg)
{
	struct ctl_answers *a = arg;

	free((void *)data);
	if (a->c)
		client_held(a->c, 0, len);
	if (--a->refs == 0)
		free(a);
}

static void
client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;
	struct evbuffer *in, *out;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_clients--;
	ctl->held -= c->held;
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	c->answers->c = NULL;
	/* Free what it holds now: libevent frees the rest of a bufferevent
	 * from the loop, and until then the memory would still be taken
	 * although no longer counted.  (A bufferevent keeps the start of
	 * its output frozen: only its writes may drain it.) */
	in = bufferevent_get_input(c->bev);
	out = bufferevent_get_output(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_unfreeze(out, 1);
	evbuffer_drain(out, evbuffer_get_length(out));
	if (--c->answers->refs == 0)
		free(c->answers);
	bufferevent_free(c->bev);
	free(c);
}

/*
 * Keep what all clients hold within CTL_MEM_MAX: while it is over, drop
 * the client that has held data longest, but not cur (the one just
 * served, whose answer is what pushed the total up: it gets its chance
 * to read it).
 */
static void
ctl_enforce(struct ctl *ctl, struct ctl_client *cur)
{
	struct ctl_client *c, *v;

	while (ctl->held > CTL_MEM_MAX) {
		v = NULL;
		for (c = ctl->clients; c; c = c->next)
			if (c != cur && c->held &&
			    (!v || c->held_since < v->held_since))
				v = c;
		if (!v)
			return;
		log_rl(LOG_LVL_INFO, "control clients hold more than %d MiB; "
		    "disconnecting the one that has not read its answers for "
		    "longest (pid %ld, %zu bytes)", CTL_MEM_MAX >> 20,
		    (long)v->pid, v->held);
		client_free(v);
	}
}

/* Send what is queued, then hang up. */
static void
client_close_after_flush(struct ctl_client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* The write callback, from now on when everything is sent. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

/* Queue resp (malloc'd, no newline; the output buffer frees it once
 * sent). */
static void
client_send(struct ctl_client *c, char *resp)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = strlen(resp);

	/* The newline in the same string: an evbuffer_add() after a
	 * reference would allocate a chain as long as the answer for it. */
	resp = xrealloc(resp, len + 2);
	resp[len++] = '\n';
	resp[len] = '\0';
	client_held(c, len, 0);
	c->answers->refs++;
	if (evbuffer_add_reference(out, resp, len, free_answer,
	    c->answers) < 0)
		abort();	/* only on out-of-memory */
	if (len >= CTL_TRIM_ANSWER && !c->ctl->trim)
		ctl_want_trim(c->ctl);
}

/*
 * Answer the complete request lines that c sent, one after the other,
 * until its unread answers pass CTL_OUTPUT_HIGH: then stop reading it
 * (client_write resumes).  May free c.
 */
static void
client_serve(struct ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line, *resp;
	size_t n;

	while (!c->closing) {
		if (evbuffer_get_length(out) > CTL_OUTPUT_HIGH) {
			c->paused = true;
			bufferevent_disable(c->bev, EV_READ);
			break;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (!line)
			break;
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n > CTL_LINE_MAX) {
			free(line);
			evbuffer_drain(in, evbuffer_get_length(in));
			goto too_long;
		}
		resp = n > 0 ? ctl_handle(c->ctl, line, n, c->uid) : NULL;
		free(line);
		if (resp)
			client_send(c, resp);
	}
	ctl_enforce(c->ctl, c);
	if (c->closing || c->paused)
		return;
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		evbuffer_drain(in, evbuffer_get_length(in));
		goto too_long;
	}
	/* Half-closed after its requests: all of them are answered now. */
	if (c->eof)
		client_close_after_flush(c);
	return;
too_long:
	client_send(c, ctl_respond(NULL, NULL, NULL, CTL_E_REQUEST,
	    "request line longer than 65536 bytes; disconnecting"));
	ctl_enforce(c->ctl, c);
	client_close_after_flush(c);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	client_serve(arg);
}

/* The output drained to CTL_OUTPUT_HIGH (or, when closing, to empty). */
static void
client_write(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			client_free(c);
		return;
	}
	if (c->paused) {
		c->paused = false;
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		client_serve(c);
	}
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		/* The client may half-close after its requests: answer
		 * them (client_serve hangs up after the last one). */
		c->eof = true;
		if (!c->closing && !c->paused)
			client_serve(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control client (pid %ld) %s; disconnecting",
		    (long)c->pid, what & BEV_EVENT_WRITING ? "does not read "
		    "its answers" : "idle");
	client_free(c);
}

static void
ctl_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl *ctl = arg;
	struct timeval idle = { .tv_sec = CTL_IDLE_TIMEOUT };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_client *c;

	if (ctl->n_clients >= CTL_CLIENTS_MAX) {
		log_rl(LOG_LVL_WARN, "control socket: %u clients connected; "
		    "refusing more", ctl->n_clients);
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev),
	    client_count, c);
	if (!c->in_cb)
		abort();	/* only on out-of-memory */
	c->answers = xcalloc(1, sizeof(*c->answers));
	c->answers->c = c;
	c->answers->refs = 1;
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	/* Idle (no request) or not reading its answers: both time out. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_LINE_MAX + 2);
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_OUTPUT_HIGH, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	ctl->n_clients++;
}

/* Is something answering on path?  Then it is not ours to replace. */
static int
ctl_check_stale(const char *path, char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		*err = xasprintf("control socket %s exists and is not a "
		    "socket; remove it or choose another control_socket",
		    path);
		return -EEXIST;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		*err = xasprintf("another tapswitchd is answering on %s; "
		    "stop it or use another control_socket", path);
		return -EADDRINUSE;
	}
	/* Nobody listens: a dead daemon's socket. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	log_info("removed stale control socket %s", path);
	return 0;
}

int
ctl_listen(struct ctl *ctl, struct event_base *base, const char *path,
    gid_t gid, char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *dir, *slash;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = xasprintf("control socket path %s is too long (at most "
		    "%zu bytes)", path, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	/* The runtime directory (systemd makes it; by hand we may). */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			*err = xasprintf("cannot create %s: %s", dir,
			    strerror(-r));
			free(dir);
			return r;
		}
	}
	free(dir);
	r = ctl_check_stale(path, err);
	if (r < 0) {
		if (!*err)
			*err = xasprintf("control socket %s: %s", path,
			    strerror(-r));
		return r;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* Never let the socket exist with wider permissions than 0660. */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(path, 0660) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		unlink(path);
		goto fail;
	}
	/* Backlog 0: "already listening"; -1 would listen() again with
	 * libevent's default of 128 instead of SOMAXCONN. */
	ctl->listener = evconnlistener_new(base, ctl_accept, ctl,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (!ctl->listener) {
		r = -ENOMEM;
		close(fd);
		unlink(path);
		goto fail;
	}
	ctl->trim_ev = evtimer_new(base, ctl_trim, ctl);
	if (!ctl->trim_ev)
		abort();	/* only on out-of-memory */
	ctl->path = xstrdup(path);
	return 0;
fail:
	*err = xasprintf("cannot listen on %s: %s", path, strerror(-r));
	return r;
}

void
ctl_destroy(struct ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	if (ctl->listener)
		evconnlistener_free(ctl->listener);
	if (ctl->trim_ev)
		event_free(ctl->trim_ev);
	if (ctl->path) {
		unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl->cmds);
	free(ctl);
}
