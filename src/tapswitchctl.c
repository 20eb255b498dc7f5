/*
 * tapswitchctl.c - main() of the control CLI.
 *
 * A thin client of the control socket (ctl.h): it turns the command line
 * into one JSON-RPC request, sends it as one line, reads one reply line
 * and prints the result, as aligned tables for people or as the raw
 * "result" object with --json.  "fdb show" is the one command whose
 * answer comes in pages: it asks for them one after the other on the
 * same connection, keeps the entries in a compact form and prints them
 * sorted, in the same shapes as a one-page answer.  Every command is one row of the cmds[]
 * table: the words that name it, the arguments it takes, the method it
 * calls and the function that prints its result; the parameters are built
 * from that row alone.  The CLI checks the shape of the command line
 * (exit 2); everything about meaning (does the port exist, is the MAC
 * valid, is a port key known) is the daemon's to say (exit 1).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tapswitch/conf.h"
#include "tapswitch/ctl.h"
#include "tapswitch/frame.h"
#include "tapswitch/util.h"
#include "tapswitch/vlan.h"

#define EXIT_FAIL	1	/* the daemon said no, or the exchange failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOCONN	3	/* nothing answers on the socket */

#define OPT_JSON	256	/* --json has no short form */

#define REPLY_TIMEOUT	30	/* seconds for one request and its reply */
#define FDB_PAGE	1000	/* entries per fdb.show page: the most the
				 * daemon gives */
#define REQUEST_ID	1

enum arg_type {
	ARG_STRING,
	ARG_VLAN,		/* 1..4094, sent as a number */
};

/* A key=value argument that a command accepts; name is also the params
 * key it fills. */
struct cmd_key {
	const char *name;
	enum arg_type type;
	bool required;
	const char *meta;	/* "NAME", "N": for messages */
};

typedef void (*cmd_printer)(json_t *result);

/*
 * One command.  Its arguments are, in any order: at most one positional
 * word (min_args..max_args of them), key=value words, and the flags
 * --json (every command) and --queues (commands with 'queues').
 */
struct cmd {
	const char *noun;
	const char *verb;		/* NULL: the noun alone is a command */
	const char *synopsis;		/* arguments, for usage messages */
	const char *help;
	const char *method;		/* NULL: answered locally */
	const char *method_arg;		/* instead, when the positional
					 * argument is given */
	unsigned min_args, max_args;	/* positional words */
	const char *arg_param;		/* params key of the positional arg */
	const char *arg_meta;		/* its name in messages */
	const struct cmd_key *keys;	/* key=value args allowed, or NULL */
	const char *settings;		/* or: any key=value, in this object */
	bool queues;			/* accepts --queues */
	bool paged;			/* the answer comes in pages */
	cmd_printer print;		/* NULL: print nothing on success */
};

static void print_status(json_t *);
static void print_port_list(json_t *);
static void print_port(json_t *);
static void print_flushed(json_t *);
static void print_stats(json_t *);
static void print_reload(json_t *);
static void print_log_level(json_t *);

static const struct cmd_key fdb_show_keys[] = {
	{ "port", ARG_STRING, false, "NAME" },
	{ "vlan", ARG_VLAN, false, "N" },
	{ NULL, 0, false, NULL },
};

static const struct cmd_key fdb_add_keys[] = {
	{ "port", ARG_STRING, true, "NAME" },
	{ "vlan", ARG_VLAN, false, "N" },
	{ "remote", ARG_STRING, false, "ADDRESS" },
	{ NULL, 0, false, NULL },
};

static const struct cmd_key fdb_del_keys[] = {
	{ "vlan", ARG_VLAN, false, "N" },
	{ NULL, 0, false, NULL },
};

static const struct cmd_key fdb_flush_keys[] = {
	{ "port", ARG_STRING, false, "NAME" },
	{ NULL, 0, false, NULL },
};

static const struct cmd cmds[] = {
	{ .noun = "status", .synopsis = "",
	  .help = "show the state of the switch",
	  .method = "status.get", .print = print_status },
	{ .noun = "port", .verb = "list", .synopsis = "",
	  .help = "list the ports",
	  .method = "port.list", .print = print_port_list },
	{ .noun = "port", .verb = "show", .synopsis = "NAME",
	  .help = "show one port and its counters",
	  .method = "port.show", .min_args = 1, .max_args = 1,
	  .arg_param = "name", .arg_meta = "NAME", .print = print_port },
	{ .noun = "port", .verb = "add", .synopsis = "NAME [key=value...]",
	  .help = "add a port; keys as in tapswitch.conf(5)",
	  .method = "port.add", .min_args = 1, .max_args = 1,
	  .arg_param = "name", .arg_meta = "NAME", .settings = "settings" },
	{ .noun = "port", .verb = "del", .synopsis = "NAME",
	  .help = "remove a port",
	  .method = "port.del", .min_args = 1, .max_args = 1,
	  .arg_param = "name", .arg_meta = "NAME" },
	{ .noun = "port", .verb = "enable", .synopsis = "NAME",
	  .help = "take an err-disabled port back into service",
	  .method = "port.enable", .min_args = 1, .max_args = 1,
	  .arg_param = "name", .arg_meta = "NAME" },
	{ .noun = "fdb", .verb = "show", .synopsis = "[port=NAME] [vlan=N]",
	  .help = "show the MAC table",
	  .method = "fdb.show", .keys = fdb_show_keys, .paged = true },
	{ .noun = "fdb", .verb = "add",
	  .synopsis = "MAC port=NAME [vlan=N] [remote=ADDRESS]",
	  .help = "add a static MAC entry",
	  .method = "fdb.add", .min_args = 1, .max_args = 1,
	  .arg_param = "mac", .arg_meta = "MAC", .keys = fdb_add_keys },
	{ .noun = "fdb", .verb = "del", .synopsis = "MAC [vlan=N]",
	  .help = "remove a MAC entry",
	  .method = "fdb.del", .min_args = 1, .max_args = 1,
	  .arg_param = "mac", .arg_meta = "MAC", .keys = fdb_del_keys },
	{ .noun = "fdb", .verb = "flush", .synopsis = "[port=NAME]",
	  .help = "forget learned MAC addresses",
	  .method = "fdb.flush", .keys = fdb_flush_keys,
	  .print = print_flushed },
	{ .noun = "stats", .synopsis = "[NAME] [--queues]",
	  .help = "show port and switch counters",
	  .method = "stats.get", .max_args = 1,
	  .arg_param = "port", .arg_meta = "NAME", .queues = true,
	  .print = print_stats },
	{ .noun = "reload", .synopsis = "",
	  .help = "re-read the configuration file",
	  .method = "config.reload", .print = print_reload },
	{ .noun = "log", .verb = "level", .synopsis = "[LEVEL]",
	  .help = "show or set the level of the daemon's log",
	  .method = "log.get", .method_arg = "log.set", .max_args = 1,
	  .arg_param = "level", .arg_meta = "LEVEL",
	  .print = print_log_level },
	{ .noun = "help", .synopsis = "",
	  .help = "show this help" },
};

static const char *progname = "tapswitchctl";

/* Options that may also follow the command. */
struct flags {
	bool json;
	bool queues;
};

/*
 * Messages and usage.
 */

static void PRINTF_FMT(1, 2)
complain(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The words of a command with its arguments: "fdb add MAC port=NAME". */
static char *
cmd_line(const struct cmd *c)
{
	return xasprintf("%s%s%s%s%s", c->noun, c->verb ? " " : "",
	    c->verb ? c->verb : "", *c->synopsis ? " " : "", c->synopsis);
}

static void
print_help(FILE *f)
{
	size_t i, w = 0;
	char *s;

	fprintf(f,
	    "usage: %s [-s SOCKET] [--json] COMMAND [ARG...]\n"
	    "\n"
	    "Options:\n"
	    "  -s, --socket SOCKET  the daemon's control socket (default:\n"
	    "                       $TAPSWITCH_SOCKET, else %s)\n"
	    "      --json           print the result as JSON, for scripts\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        show the version\n"
	    "\n"
	    "Commands:\n", progname, CONF_DEFAULT_SOCKET);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		s = cmd_line(&cmds[i]);
		if (strlen(s) > w)
			w = strlen(s);
		free(s);
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		s = cmd_line(&cmds[i]);
		fprintf(f, "  %-*s  %s\n", (int)w, s, cmds[i].help);
		free(s);
	}
}

static void __attribute__((noreturn))
usage_general(void)
{
	fprintf(stderr, "usage: %s [-s SOCKET] [--json] COMMAND [ARG...]; "
	    "see \"%s help\"\n", progname, progname);
	exit(EXIT_USAGE);
}

/* The one-line hint after a message about one command. */
static void __attribute__((noreturn))
usage_cmd(const struct cmd *c)
{
	char *s = cmd_line(c);

	fprintf(stderr, "usage: %s %s\n", progname, s);
	free(s);
	exit(EXIT_USAGE);
}

/* The hint for a noun with verbs: "port list | show NAME | ...". */
static void __attribute__((noreturn))
usage_noun(const char *noun)
{
	const char *sep = "";
	size_t i;

	fprintf(stderr, "usage: %s %s ", progname, noun);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].noun, noun) != 0)
			continue;
		fprintf(stderr, "%s%s%s%s", sep, cmds[i].verb,
		    *cmds[i].synopsis ? " " : "", cmds[i].synopsis);
		sep = " | ";
	}
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* Edit distance counting a swap of neighbours as one edit (optimal string
 * alignment), for "did you mean"; the words here are short. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, cost, best;
	size_t d[32][32];

	if (la >= ARRAY_SIZE(d) || lb >= ARRAY_SIZE(d))
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] != b[j - 1];
			best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The closest noun (noun == NULL) or verb of noun to word, if close. */
static const char *
suggest(const char *noun, const char *word)
{
	const char *best = NULL, *cand;
	size_t i, d, bestd = 3;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (noun && strcmp(cmds[i].noun, noun) != 0)
			continue;
		cand = noun ? cmds[i].verb : cmds[i].noun;
		d = distance(word, cand);
		if (d < bestd && d < strlen(cand)) {
			bestd = d;
			best = cand;
		}
	}
	return best;
}

/*
 * Command line -> request.
 */

static const struct cmd *
find_cmd(int argc, char **argv, int *used)
{
	const char *s;
	bool noun_known = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].noun, argv[0]) != 0)
			continue;
		noun_known = true;
		if (!cmds[i].verb) {
			*used = 1;
			return &cmds[i];
		}
		if (argc > 1 && strcmp(cmds[i].verb, argv[1]) == 0) {
			*used = 2;
			return &cmds[i];
		}
	}
	if (!noun_known) {
		if ((s = suggest(NULL, argv[0])))
			complain("unknown command \"%s\" "
			    "(did you mean \"%s\"?)", argv[0], s);
		else
			complain("unknown command \"%s\"", argv[0]);
		usage_general();
	}
	if (argc < 2)
		complain("%s: missing subcommand", argv[0]);
	else if ((s = suggest(argv[0], argv[1])))
		complain("%s: unknown subcommand \"%s\" (did you mean \"%s\"?)",
		    argv[0], argv[1], s);
	else
		complain("%s: unknown subcommand \"%s\"", argv[0], argv[1]);
	usage_noun(argv[0]);
}

static const struct cmd_key *
find_key(const struct cmd_key *keys, const char *name, size_t len)
{
	for (; keys && keys->name; keys++)
		if (strlen(keys->name) == len &&
		    strncmp(keys->name, name, len) == 0)
			return keys;
	return NULL;
}

/* "port=NAME or vlan=N" for the message about an unknown key. */
static char *
keys_expected(const struct cmd_key *keys)
{
	char *s = xstrdup(""), *t;
	const struct cmd_key *k;

	for (k = keys; k->name; k++) {
		t = xasprintf("%s%s%s=%s", s,
		    k == keys ? "" : k[1].name ? ", " : " or ",
		    k->name, k->meta);
		free(s);
		s = t;
	}
	return s;
}

/* params[key] = value, or a usage error when value is not UTF-8 (JSON
 * strings must be). */
static void
set_string(const struct cmd *c, const char *cmdname, json_t *obj,
    const char *key, const char *value)
{
	if (json_object_set_new(obj, key, json_string(value)) < 0) {
		complain("%s: \"%s\" is not valid UTF-8", cmdname, value);
		usage_cmd(c);
	}
}

/*
 * Check the arguments of c and build its params object.  Exits with
 * EXIT_USAGE (and a message) when they do not fit.
 */
static json_t *
build_params(const struct cmd *c, int argc, char **argv, struct flags *fl)
{
	json_t *params = json_object(), *settings = NULL, *target;
	const struct cmd_key *k;
	bool opts_done = false, takes_keys;
	unsigned long vlan;
	unsigned npos = 0;
	char *cmdname, *key, *s;
	const char *a, *eq;
	int i;

	/* The command's words, without the arguments, for messages. */
	cmdname = c->verb ? xasprintf("%s %s", c->noun, c->verb) :
	    xstrdup(c->noun);
	if (c->settings) {
		settings = json_object();
		json_object_set_new(params, c->settings, settings);
	}
	takes_keys = settings || (c->keys && c->keys->name);
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (!opts_done && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0)
				opts_done = true;
			else if (strcmp(a, "--json") == 0)
				fl->json = true;
			else if (strcmp(a, "--queues") == 0 && c->queues)
				fl->queues = true;
			else {
				complain("%s: unknown option \"%s\"%s", cmdname,
				    a, c->max_args && a[1] != '-' ?
				    " (put \"--\" before a name that starts "
				    "with '-')" : "");
				usage_cmd(c);
			}
			continue;
		}
		eq = strchr(a, '=');
		if (!eq || !takes_keys) {
			if (npos == c->max_args) {
				if (takes_keys)
					complain("%s: \"%s\" is not key=value",
					    cmdname, a);
				else
					complain("%s: unexpected argument "
					    "\"%s\"", cmdname, a);
				usage_cmd(c);
			}
			set_string(c, cmdname, params, c->arg_param, a);
			npos++;
			continue;
		}
		if (eq == a) {
			complain("%s: \"%s\" has no key before '='",
			    cmdname, a);
			usage_cmd(c);
		}
		key = xasprintf("%.*s", (int)(eq - a), a);
		target = settings ? settings : params;
		if (json_object_get(target, key)) {
			complain("%s: %s= given twice", cmdname, key);
			usage_cmd(c);
		}
		if (settings) {
			/* Any key: the daemon knows which are valid and
			 * says "did you mean" better than we could. */
			set_string(c, cmdname, settings, key, eq + 1);
			free(key);
			continue;
		}
		k = find_key(c->keys, a, (size_t)(eq - a));
		if (!k) {
			s = keys_expected(c->keys);
			complain("%s: unknown key \"%s\" (expected %s)",
			    cmdname, key, s);
			free(s);
			usage_cmd(c);
		}
		if (k->type == ARG_VLAN) {
			if (parse_uint(eq + 1, VLAN_MIN, VLAN_MAX, &vlan) < 0) {
				complain("%s: vlan must be a number from %d to "
				    "%d, not \"%s\"", cmdname, VLAN_MIN,
				    VLAN_MAX, eq + 1);
				usage_cmd(c);
			}
			json_object_set_new(params, key,
			    json_integer((json_int_t)vlan));
		} else {
			if (eq[1] == '\0') {
				complain("%s: %s= needs a %s", cmdname, key,
				    k->meta);
				usage_cmd(c);
			}
			set_string(c, cmdname, params, key, eq + 1);
		}
		free(key);
	}
	if (npos < c->min_args) {
		complain("%s: missing %s", cmdname, c->arg_meta);
		usage_cmd(c);
	}
	for (k = c->keys; k && k->name; k++) {
		if (k->required && !json_object_get(params, k->name)) {
			complain("%s: missing %s=%s", cmdname, k->name,
			    k->meta);
			usage_cmd(c);
		}
	}
	if (fl->queues)
		json_object_set_new(params, "queues", json_true());
	free(cmdname);
	return params;
}

/*
 * The socket.
 */

static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Wait until fd is ready for events; 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&pfd, 1, ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Connect to path; the fd, or -errno. */
static int
connect_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects at once or fails: no EINPROGRESS here. */
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		return -e;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int
send_all(int fd, const char *buf, size_t len, const struct timespec *deadline)
{
	ssize_t n;
	int r;

	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that went away is an error to
		 * report, not a SIGPIPE. */
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
				return r;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read up to the first newline.  Returns the line (malloc'd, NUL in place
 * of the newline) in *line and its length in *len, and 0; or 1 when the
 * daemon closed the connection after some bytes but before a newline (the
 * line is what came); -ECONNRESET when it closed without sending anything,
 * -EMSGSIZE when the reply outgrows what the daemon may ever queue,
 * -ETIMEDOUT, or -errno.
 */
static int
recv_line(int fd, char **line, size_t *len, const struct timespec *deadline)
{
	size_t cap = 4096, used = 0;
	char *buf = xmalloc(cap), *nl;
	ssize_t n;
	int r;

	for (;;) {
		if (cap - used < 2048) {
			if (cap > CTL_ANSWER_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = recv(fd, buf + used, cap - used - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				r = -errno;
				free(buf);
				return r;
			}
			if ((r = wait_fd(fd, POLLIN, deadline)) < 0) {
				free(buf);
				return r;
			}
			continue;
		}
		if (n == 0 && used == 0) {
			free(buf);
			return -ECONNRESET;
		}
		if (n == 0) {
			buf[used] = '\0';
			*line = buf;
			*len = used;
			return 1;
		}
		nl = memchr(buf + used, '\n', (size_t)n);
		used += (size_t)n;
		if (nl) {
			*nl = '\0';
			*line = buf;
			*len = (size_t)(nl - buf);
			return 0;
		}
	}
}

/* A connection to the daemon, for one request or several in a row. */
struct conn {
	const char *path;
	int fd;
};

/* Connect to the daemon at path; on failure print why and exit. */
static void
conn_open(struct conn *cn, const char *path)
{
	cn->path = path;
	cn->fd = connect_socket(path);
	if (cn->fd == -ENAMETOOLONG) {
		complain("socket path too long (at most %zu bytes): %s",
		    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1, path);
		exit(EXIT_USAGE);
	}
	if (cn->fd < 0) {
		complain("cannot connect to %s: %s (%s)", path,
		    strerror(-cn->fd), cn->fd == -EACCES || cn->fd == -EPERM ?
		    "only root and the daemon's group may use it" :
		    "is tapswitchd running?");
		exit(EXIT_NOCONN);
	}
}

static void
conn_close(struct conn *cn)
{
	close(cn->fd);
	cn->fd = -1;
}

/*
 * Send request and return the daemon's reply (a new reference: an object
 * with "result" or an "error" object); on failure print why and exit with
 * the right status.
 */
static json_t *
conn_call(struct conn *cn, json_t *request)
{
	struct timespec deadline;
	json_error_t jerr;
	char *enc, *req, *line = NULL;
	json_t *reply;
	size_t len = 0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += REPLY_TIMEOUT;
	/* Compact output escapes any newline inside strings: one line. */
	enc = json_dumps(request, JSON_COMPACT);
	if (!enc) {
		complain("cannot encode the request");
		exit(EXIT_FAIL);
	}
	req = xasprintf("%s\n", enc);
	free(enc);
	r = send_all(cn->fd, req, strlen(req), &deadline);
	free(req);
	if (r == 0)
		r = recv_line(cn->fd, &line, &len, &deadline);
	if (r == -ECONNRESET || r == -EPIPE) {
		complain("daemon closed the connection without a reply (%s)",
		    cn->path);
		exit(EXIT_FAIL);
	}
	if (r == -ETIMEDOUT) {
		complain("no reply from the daemon on %s within %d seconds",
		    cn->path, REPLY_TIMEOUT);
		exit(EXIT_FAIL);
	}
	if (r == -EMSGSIZE) {
		complain("reply from the daemon longer than %d bytes",
		    CTL_ANSWER_MAX);
		exit(EXIT_FAIL);
	}
	if (r < 0) {
		complain("talking to the daemon on %s: %s", cn->path,
		    strerror(-r));
		exit(EXIT_FAIL);
	}
	reply = json_loadb(line, len, 0, &jerr);
	free(line);
	/* A whole reply without its newline is accepted; a cut one is not. */
	if (!reply && r == 1) {
		complain("daemon closed the connection in the middle of a "
		    "reply (%s)", cn->path);
		exit(EXIT_FAIL);
	}
	if (!reply || !json_is_object(reply) ||
	    (!json_object_get(reply, "result") &&
	    !json_is_object(json_object_get(reply, "error")))) {
		complain("invalid reply from the daemon: %s",
		    reply ? "not a JSON-RPC response" : jerr.text);
		exit(EXIT_FAIL);
	}
	return reply;
}

/* One request on a connection of its own. */
static json_t *
call(const char *path, json_t *request)
{
	struct conn cn;
	json_t *reply;

	conn_open(&cn, path);
	reply = conn_call(&cn, request);
	conn_close(&cn);
	return reply;
}

/* The daemon's error: its message, one "tapswitchctl: " line per line (a
 * failed reload lists one "FILE:LINE: ..." per problem). */
static void
print_error(json_t *error)
{
	const char *msg = json_string_value(json_object_get(error, "message"));
	const char *p, *nl;

	if (!msg || !*msg) {
		complain("error %" JSON_INTEGER_FORMAT " from the daemon",
		    json_integer_value(json_object_get(error, "code")));
		return;
	}
	for (p = msg; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			complain("%s", p);
			break;
		}
		complain("%.*s", (int)(nl - p), p);
	}
}

/*
 * Formatting values.
 */

/* VLAN ids as the config writes them: "10,20-23". */
static char *
fmt_vlans(json_t *list)
{
	json_int_t first, last, v;
	char *s = xstrdup(""), *t;
	size_t i, n = json_array_size(list);

	i = 0;
	while (i < n) {
		first = last = json_integer_value(json_array_get(list, i));
		for (i++; i < n; i++) {
			v = json_integer_value(json_array_get(list, i));
			if (v != last + 1)
				break;
			last = v;
		}
		if (first == last)
			t = xasprintf("%s%s%" JSON_INTEGER_FORMAT, s,
			    *s ? "," : "", first);
		else
			t = xasprintf("%s%s%" JSON_INTEGER_FORMAT "-%"
			    JSON_INTEGER_FORMAT, s, *s ? "," : "", first,
			    last);
		free(s);
		s = t;
	}
	return s;
}

/* A JSON value for a table cell: "-" when missing or null. */
static char *
fmt(json_t *v)
{
	char *s;

	if (!v || json_is_null(v))
		return xstrdup("-");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_integer(json_array_get(v, 0)))
		return fmt_vlans(v);
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : xstrdup("?");
}

static char *
fmt_key(json_t *obj, const char *key)
{
	return fmt(json_object_get(obj, key));
}

/* A port's VLAN membership in one cell: "10", or "trunk 10,20 native 30". */
static char *
fmt_port_vlan(json_t *port)
{
	json_t *trunk = json_object_get(port, "trunk");
	json_t *native = json_object_get(port, "native");
	char *t, *s;

	if (!json_is_array(trunk))
		return fmt_key(port, "vlan");
	t = fmt_vlans(trunk);
	if (json_is_integer(native))
		s = xasprintf("trunk %s native %" JSON_INTEGER_FORMAT, t,
		    json_integer_value(native));
	else
		s = xasprintf("trunk %s", t);
	free(t);
	return s;
}

static char *
fmt_duration(json_int_t s)
{
	if (s < 60)
		return xasprintf("%llds", (long long)s);
	if (s < 3600)
		return xasprintf("%lldm %llds", (long long)s / 60,
		    (long long)s % 60);
	if (s < 86400)
		return xasprintf("%lldh %lldm %llds", (long long)s / 3600,
		    (long long)s % 3600 / 60, (long long)s % 60);
	return xasprintf("%lldd %lldh %lldm", (long long)s / 86400,
	    (long long)s % 86400 / 3600, (long long)s % 3600 / 60);
}

/*
 * Frames that came in or were meant to go out on a port and were dropped.
 * rx_errors already counts rx_runt and rx_oversize; learn_limit counts
 * sources not learned, whose frames are still forwarded.
 */
static const char *const drop_counters[] = {
	"rx_errors", "rx_vlan", "rx_src_mcast", "rx_link_local",
	"rx_hairpin", "tx_oversize", "tx_down", "tx_errors", "tx_full",
	"rx_bad_offload",
	"rx_err_disabled", "rx_spoof_mac", "rx_spoof_ip", "rx_bpdu",
	"rx_ethertype", "rx_policed", "rx_storm", "tx_policed",
};

/* A port's state: "up", "down", or "err-disabled (bpdu)". */
static char *
fmt_port_state(json_t *port)
{
	json_t *why = json_object_get(port, "err_disabled");

	if (json_is_string(why))
		return xasprintf("err-disabled (%s)", json_string_value(why));
	return fmt_key(port, "state");
}

static char *
fmt_drops(json_t *counters)
{
	json_int_t sum = 0;
	size_t i;

	if (!json_is_object(counters))
		return xstrdup("-");
	for (i = 0; i < ARRAY_SIZE(drop_counters); i++)
		sum += json_integer_value(json_object_get(counters,
		    drop_counters[i]));
	return xasprintf("%" JSON_INTEGER_FORMAT, sum);
}

/*
 * Tables: cells are added row by row; widths come from the data.
 */

struct table {
	size_t ncols;
	const char *const *heads;	/* NULL: no header line */
	const char *align;		/* 'l' or 'r' per column */
	char **cells;			/* owned */
	size_t n, cap;
};

static void
table_init(struct table *t, size_t ncols, const char *const *heads,
    const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
	t->align = align;
}

/* Append a cell; the table owns s. */
static void
table_add(struct table *t, char *s)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
	}
	t->cells[t->n++] = s;
}

static void
table_print_row(const struct table *t, const size_t *w, const char *indent,
    const char *const *row)
{
	size_t c, len;

	fputs(indent, stdout);
	for (c = 0; c < t->ncols; c++) {
		len = strlen(row[c]);
		if (c > 0)
			fputs("  ", stdout);
		if (t->align[c] == 'r')
			printf("%*s", (int)(w[c] - len), "");
		fputs(row[c], stdout);
		/* No trailing blanks after the last column. */
		if (t->align[c] != 'r' && c + 1 < t->ncols)
			printf("%*s", (int)(w[c] - len), "");
	}
	fputc('\n', stdout);
}

/* Print and free the table. */
static void
table_print(struct table *t, const char *indent)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	size_t i, len;

	for (i = 0; t->heads && i < t->ncols; i++)
		w[i] = strlen(t->heads[i]);
	for (i = 0; i < t->n; i++) {
		len = strlen(t->cells[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	if (t->heads)
		table_print_row(t, w, indent, t->heads);
	for (i = 0; i + t->ncols <= t->n; i += t->ncols)
		table_print_row(t, w, indent, (const char *const *)
		    &t->cells[i]);
	for (i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
}

/* "key: value" lines, values aligned. */
static void
kv_init(struct table *t)
{
	table_init(t, 2, NULL, "ll");
}

static void
kv_add(struct table *t, const char *key, char *value)
{
	table_add(t, xasprintf("%s:", key));
	table_add(t, value);
}

/* Every member of obj not in known[], as "key: value". */
static void
kv_add_rest(struct table *t, json_t *obj, const char *const *known)
{
	const char *key, *const *k;
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (k = known; *k; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (!*k)
			kv_add(t, key, fmt(v));
	}
}

/*
 * Printers: one per command that prints something.
 */

static void
print_status(json_t *r)
{
	static const char *const known[] = {
		"version", "uptime_s", "config", "log_level", "queues",
		"offload", "io_uring", "io_uring_mode", "io_uring_unavailable",
		"busy_poll_us", "ports", "fdb_entries", "fdb_size", "fdb_aging",
		NULL,
	};
	json_t *why = json_object_get(r, "io_uring_unavailable");
	json_t *up = json_object_get(r, "uptime_s");
	struct table t;
	char *a, *b;

	kv_init(&t);
	kv_add(&t, "version", fmt_key(r, "version"));
	kv_add(&t, "uptime", json_is_integer(up) ?
	    fmt_duration(json_integer_value(up)) : fmt(up));
	kv_add(&t, "config", fmt_key(r, "config"));
	kv_add(&t, "log level", fmt_key(r, "log_level"));
	kv_add(&t, "queues", fmt_key(r, "queues"));
	kv_add(&t, "offload", fmt_key(r, "offload"));
	/* What the workers use; why not io_uring when it was wanted. */
	a = fmt_key(r, "io_uring");
	kv_add(&t, "io_uring", json_is_string(why) ?
	    xasprintf("%s (not available: %s)", a, json_string_value(why)) :
	    xstrdup(a));
	free(a);
	a = fmt_key(r, "busy_poll_us");
	kv_add(&t, "busy poll", strcmp(a, "0") ? xasprintf("%s us", a) :
	    xstrdup("off"));
	free(a);
	kv_add(&t, "ports", fmt_key(r, "ports"));
	a = fmt_key(r, "fdb_entries");
	b = fmt_key(r, "fdb_size");
	kv_add(&t, "fdb entries", xasprintf("%s of %s", a, b));
	free(a);
	free(b);
	a = fmt_key(r, "fdb_aging");
	kv_add(&t, "fdb aging", xasprintf("%s s", a));
	free(a);
	kv_add_rest(&t, r, known);
	table_print(&t, "");
}

static void
print_port_list(json_t *r)
{
	static const char *const heads[] = {
		"NAME", "TYPE", "IFNAME", "NETNS", "STATE", "VLAN", "MTU",
		"RX_PKTS", "TX_PKTS", "DROPS",
	};
	json_t *ports = json_object_get(r, "ports"), *p, *ctr;
	struct table t;
	size_t i;

	table_init(&t, ARRAY_SIZE(heads), heads, "llllllrrrr");
	json_array_foreach(ports, i, p) {
		ctr = json_object_get(p, "counters");
		table_add(&t, fmt_key(p, "name"));
		table_add(&t, fmt_key(p, "type"));
		table_add(&t, fmt_key(p, "ifname"));
		table_add(&t, fmt_key(p, "netns"));
		table_add(&t, fmt_port_state(p));
		table_add(&t, fmt_port_vlan(p));
		table_add(&t, fmt_key(p, "mtu"));
		table_add(&t, fmt_key(ctr, "rx_packets"));
		table_add(&t, fmt_key(ctr, "tx_packets"));
		table_add(&t, fmt_drops(ctr));
	}
	table_print(&t, "");
}

static void
print_port(json_t *p)
{
	static const char *const known[] = {
		"name", "type", "ifname", "ifindex", "netns", "state",
		"reason", "mtu", "vlan", "trunk", "native", "mac_limit",
		"queues", "macs", "counters", "err_disabled", NULL,
	};
	json_t *ctr = json_object_get(p, "counters"), *v;
	json_t *limit = json_object_get(p, "mac_limit");
	struct table t;
	const char *key;

	kv_init(&t);
	kv_add(&t, "name", fmt_key(p, "name"));
	kv_add(&t, "type", fmt_key(p, "type"));
	kv_add(&t, "ifname", fmt_key(p, "ifname"));
	kv_add(&t, "ifindex", fmt_key(p, "ifindex"));
	kv_add(&t, "netns", fmt_key(p, "netns"));
	kv_add(&t, "state", fmt_port_state(p));
	if (json_is_string(json_object_get(p, "reason")))
		kv_add(&t, "reason", fmt_key(p, "reason"));
	kv_add(&t, "mtu", fmt_key(p, "mtu"));
	if (json_is_array(json_object_get(p, "trunk"))) {
		kv_add(&t, "trunk", fmt_vlans(json_object_get(p, "trunk")));
		kv_add(&t, "native", json_is_integer(json_object_get(p,
		    "native")) ? fmt_key(p, "native") : xstrdup("none"));
	} else
		kv_add(&t, "vlan", fmt_key(p, "vlan"));
	kv_add(&t, "mac_limit", json_is_integer(limit) &&
	    json_integer_value(limit) == 0 ? xstrdup("none") : fmt(limit));
	kv_add(&t, "macs", fmt_key(p, "macs"));
	kv_add(&t, "queues", fmt_key(p, "queues"));
	kv_add_rest(&t, p, known);
	table_print(&t, "");
	if (!json_is_object(ctr))
		return;
	printf("counters:\n");
	kv_init(&t);
	json_object_foreach(ctr, key, v)
		kv_add(&t, key, fmt(v));
	table_print(&t, "  ");
}

static void
print_flushed(json_t *r)
{
	json_int_t n = json_integer_value(json_object_get(r, "flushed"));

	printf("flushed %" JSON_INTEGER_FORMAT " entr%s\n", n,
	    n == 1 ? "y" : "ies");
}

static void
stats_row(struct table *t, json_t *port, json_t *queue, json_t *ctr)
{
	table_add(t, fmt_key(port, "name"));
	if (queue)
		table_add(t, fmt_key(queue, "queue"));
	table_add(t, fmt_key(ctr, "rx_packets"));
	table_add(t, fmt_key(ctr, "rx_bytes"));
	table_add(t, fmt_key(ctr, "tx_packets"));
	table_add(t, fmt_key(ctr, "tx_bytes"));
	table_add(t, fmt_drops(ctr));
}

static void
print_stats(json_t *r)
{
	static const char *const heads[] = {
		"PORT", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS",
	};
	static const char *const qheads[] = {
		"PORT", "QUEUE", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES",
		"DROPS",
	};
	json_t *ports = json_object_get(r, "ports"), *p, *q, *sw, *v;
	struct table t;
	const char *key;
	size_t i, j;
	bool queues = false;

	json_array_foreach(ports, i, p)
		if (json_is_array(json_object_get(p, "queues")))
			queues = true;
	if (queues)
		table_init(&t, ARRAY_SIZE(qheads), qheads, "lrrrrrr");
	else
		table_init(&t, ARRAY_SIZE(heads), heads, "lrrrrr");
	json_array_foreach(ports, i, p) {
		if (!queues) {
			stats_row(&t, p, NULL, json_object_get(p, "counters"));
			continue;
		}
		json_array_foreach(json_object_get(p, "queues"), j, q)
			stats_row(&t, p, q, json_object_get(q, "counters"));
	}
	table_print(&t, "");

	sw = json_object_get(r, "switch");
	if (!json_is_object(sw))
		return;
	printf("\nswitch:\n");
	kv_init(&t);
	json_object_foreach(sw, key, v)
		kv_add(&t, key, fmt(v));
	table_print(&t, "  ");
}

static void
print_reload(json_t *r)
{
	static const char *const lists[] = { "added", "removed", "changed",
	    "reopened" };
	json_t *names, *v;
	struct table t;
	size_t i, j;
	char *s, *u;

	kv_init(&t);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		names = json_object_get(r, lists[i]);
		if (json_array_size(names) == 0)
			continue;
		s = xstrdup("");
		json_array_foreach(names, j, v) {
			u = xasprintf("%s%s%s", s, j ? " " : "",
			    json_string_value(v) ? json_string_value(v) : "?");
			free(s);
			s = u;
		}
		kv_add(&t, lists[i], s);
	}
	kv_add(&t, "unchanged", fmt_key(r, "unchanged"));
	table_print(&t, "");
}

/* log.get and log.set: the level, and what it was before a change. */
static void
print_log_level(json_t *r)
{
	const char *level = json_string_value(json_object_get(r, "level"));
	const char *prev = json_string_value(json_object_get(r, "previous"));

	if (prev && level && strcmp(prev, level) != 0)
		printf("log level: %s (was %s)\n", level, prev);
	else
		printf("log level: %s\n", level ? level : "-");
}

/*
 * fdb show: every page of fdb.show, sorted as one list.  A MAC table may
 * hold millions of entries, so they are kept as rows of a few bytes, with
 * the port names kept once each, rather than as JSON.
 */

struct fdb_row {
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t vlan;
	uint32_t port;			/* index into fdb_list.names */
	uint32_t remote;		/* the same + 1; 0: none */
	uint32_t age;
	bool is_static;
};

struct fdb_list {
	struct fdb_row *rows;
	size_t n, cap;
	char **names;			/* port names */
	char **names_json;		/* the same as JSON strings */
	size_t n_names;
	uint32_t *index;		/* hash of names: index + 1, 0 free */
	size_t index_size;		/* a power of two */
	bool remotes;			/* some entry has a remote */
};

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void
names_index(struct fdb_list *l, uint32_t i)
{
	size_t mask = l->index_size - 1, b;

	for (b = name_hash(l->names[i]) & mask; l->index[b]; b = (b + 1) & mask)
		;
	l->index[b] = i + 1;
}

/* The index of port name in l->names, added if new. */
static uint32_t
fdb_port_name(struct fdb_list *l, const char *name)
{
	size_t mask, b;
	json_t *j;

	if (2 * (l->n_names + 1) > l->index_size) {
		free(l->index);
		l->index_size = l->index_size ? 2 * l->index_size : 64;
		l->index = xcalloc(l->index_size, sizeof(*l->index));
		for (uint32_t i = 0; i < l->n_names; i++)
			names_index(l, i);
	}
	mask = l->index_size - 1;
	for (b = name_hash(name) & mask; l->index[b]; b = (b + 1) & mask)
		if (strcmp(l->names[l->index[b] - 1], name) == 0)
			return l->index[b] - 1;
	l->names = xrealloc(l->names, (l->n_names + 1) * sizeof(*l->names));
	l->names_json = xrealloc(l->names_json, (l->n_names + 1) *
	    sizeof(*l->names_json));
	l->names[l->n_names] = xstrdup(name);
	j = json_string(name);
	l->names_json[l->n_names] = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!l->names_json[l->n_names])
		l->names_json[l->n_names] = xstrdup("\"?\"");
	names_index(l, (uint32_t)l->n_names);
	return (uint32_t)l->n_names++;
}

/* Take the entries of one page; false when one is not what tapswitchctl(8)
 * says an entry is. */
static bool
fdb_take_page(struct fdb_list *l, json_t *entries)
{
	json_t *e, *mac, *vlan, *port, *age, *st, *rem;
	struct fdb_row *r;
	size_t i;

	if (!json_is_array(entries))
		return false;
	json_array_foreach(entries, i, e) {
		mac = json_object_get(e, "mac");
		vlan = json_object_get(e, "vlan");
		port = json_object_get(e, "port");
		age = json_object_get(e, "age_s");
		st = json_object_get(e, "static");
		rem = json_object_get(e, "remote");
		if ((rem && !json_is_string(rem)) || !json_is_string(mac) || !json_is_integer(vlan) ||
		    !json_is_string(port) || !json_is_integer(age) ||
		    !json_is_boolean(st) || json_integer_value(vlan) < 0 ||
		    json_integer_value(vlan) > 4095 ||
		    json_integer_value(age) < 0 ||
		    json_integer_value(age) > UINT32_MAX)
			return false;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 1024;
			l->rows = xrealloc(l->rows, l->cap * sizeof(*l->rows));
		}
		r = &l->rows[l->n];
		if (mac_parse(json_string_value(mac), r->mac) < 0)
			return false;
		r->vlan = (uint16_t)json_integer_value(vlan);
		r->port = fdb_port_name(l, json_string_value(port));
		r->remote = rem ? fdb_port_name(l, json_string_value(rem)) + 1 :
		    0;
		l->remotes |= rem != NULL;
		r->age = (uint32_t)json_integer_value(age);
		r->is_static = json_is_true(st);
		l->n++;
	}
	return true;
}

static int
fdb_row_cmp(const void *a, const void *b)
{
	const struct fdb_row *x = a, *y = b;

	if (x->vlan != y->vlan)
		return x->vlan < y->vlan ? -1 : 1;
	return memcmp(x->mac, y->mac, ETH_ADDR_LEN);
}

/* The cells of a row, for table_print_row. */
struct fdb_cells {
	char mac[MAC_STR_LEN], vlan[8], age[16];
	const char *row[6];
};

static void
fdb_cells(const struct fdb_list *l, const struct fdb_row *r,
    struct fdb_cells *c)
{
	mac_format(r->mac, c->mac);
	snprintf(c->vlan, sizeof(c->vlan), "%u", r->vlan);
	/* A static entry does not age: its age_s is always 0. */
	if (r->is_static)
		strcpy(c->age, "-");
	else
		snprintf(c->age, sizeof(c->age), "%u", r->age);
	c->row[0] = c->mac;
	c->row[1] = c->vlan;
	c->row[2] = l->names[r->port];
	c->row[3] = c->age;
	c->row[4] = r->is_static ? "yes" : "no";
	c->row[5] = r->remote ? l->names[r->remote - 1] : "-";
}

/* The table, as table_print() would print it, without a cell per string. */
static void
fdb_print_table(const struct fdb_list *l)
{
	/* REMOTE only when a port has remotes (vxlan). */
	static const char *const heads[] = {
		"MAC", "VLAN", "PORT", "AGE", "STATIC", "REMOTE",
	};
	size_t ncol = l->remotes ? 6 : 5;
	struct table t;
	struct fdb_cells c;
	size_t w[ARRAY_SIZE(heads)], i, k, len;

	table_init(&t, ncol, heads, "lrlrll");
	for (k = 0; k < ncol; k++)
		w[k] = strlen(heads[k]);
	for (i = 0; i < l->n; i++) {
		fdb_cells(l, &l->rows[i], &c);
		for (k = 0; k < ncol; k++) {
			len = strlen(c.row[k]);
			if (len > w[k])
				w[k] = len;
		}
	}
	table_print_row(&t, w, "", heads);
	for (i = 0; i < l->n; i++) {
		fdb_cells(l, &l->rows[i], &c);
		table_print_row(&t, w, "", c.row);
	}
}

/* The result object {"entries": [...]}, as --json prints one (indent 2). */
static void
fdb_print_json(const struct fdb_list *l)
{
	char mac[MAC_STR_LEN];

	if (l->n == 0) {
		printf("{\n  \"entries\": []\n}\n");
		return;
	}
	printf("{\n  \"entries\": [\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct fdb_row *r = &l->rows[i];

		printf("    {\n      \"mac\": \"%s\",\n      \"vlan\": %u,\n"
		    "      \"port\": %s,\n", mac_format(r->mac, mac), r->vlan,
		    l->names_json[r->port]);
		if (r->remote)
			printf("      \"remote\": %s,\n",
			    l->names_json[r->remote - 1]);
		printf("      \"age_s\": %u,\n      \"static\": %s\n    }%s\n",
		    r->age, r->is_static ? "true" : "false",
		    i + 1 < l->n ? "," : "");
	}
	printf("  ]\n}\n");
}

static void
fdb_list_free(struct fdb_list *l)
{
	for (size_t i = 0; i < l->n_names; i++) {
		free(l->names[i]);
		free(l->names_json[i]);
	}
	free(l->names);
	free(l->names_json);
	free(l->index);
	free(l->rows);
}

/*
 * Ask for every page of method (fdb.show) with params on one connection
 * and print the entries.  Returns the exit status.
 */
static int
run_paged(const char *sock, const char *method, json_t *params,
    const struct flags *fl)
{
	struct fdb_list l = { .rows = NULL };
	json_t *request, *reply, *result, *next;
	char *after = NULL;
	struct conn cn;
	int status = 0;

	conn_open(&cn, sock);
	json_object_set_new(params, "limit", json_integer(FDB_PAGE));
	for (;;) {
		if (after)
			json_object_set_new(params, "after",
			    json_string(after));
		request = json_pack("{s:s, s:i, s:s, s:O}", "jsonrpc", "2.0",
		    "id", REQUEST_ID, "method", method, "params", params);
		reply = conn_call(&cn, request);
		json_decref(request);
		result = json_object_get(reply, "result");
		if (!result) {
			print_error(json_object_get(reply, "error"));
			json_decref(reply);
			status = EXIT_FAIL;
			break;
		}
		if (!fdb_take_page(&l, json_object_get(result, "entries"))) {
			complain("invalid reply from the daemon: an entry of "
			    "%s is not what tapswitchctl(8) describes",
			    method);
			exit(EXIT_FAIL);
		}
		next = json_object_get(result, "next");
		if (!next) {
			json_decref(reply);
			break;
		}
		/* A cursor that does not move would never end. */
		if (!json_is_string(next) || (after &&
		    strcmp(after, json_string_value(next)) == 0)) {
			complain("invalid reply from the daemon: a \"next\" "
			    "page that does not follow the last one");
			exit(EXIT_FAIL);
		}
		free(after);
		after = xstrdup(json_string_value(next));
		json_decref(reply);
	}
	conn_close(&cn);
	free(after);
	if (status == 0) {
		if (l.n)
			qsort(l.rows, l.n, sizeof(*l.rows), fdb_row_cmp);
		if (fl->json)
			fdb_print_json(&l);
		else
			fdb_print_table(&l);
	}
	fdb_list_free(&l);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("TAPSWITCH_SOCKET");
	struct flags fl = { .json = false };
	const struct cmd *c;
	const char *method;
	json_t *params, *request, *reply, *result;
	int ch, used, status = 0;

	if (!sock || !*sock)
		sock = CONF_DEFAULT_SOCKET;
	/* '+': stop at the command, whose own arguments may start with
	 * '-' (--queues, --json).  ':': our messages, not getopt's. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case OPT_JSON:
			fl.json = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", progname, PACKAGE_VERSION);
			return 0;
		case ':':
			complain("option %s needs an argument",
			    argv[optind - 1]);
			usage_general();
		default:
			/* A long option: optind is past it; a short one
			 * may sit in a cluster (-Vx), so name optopt. */
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				complain("invalid option \"%s\"",
				    argv[optind - 1]);
			else
				complain("unknown option \"-%c\"", optopt);
			usage_general();
		}
	}
	argc -= optind;
	argv += optind;
	if (!*sock) {
		complain("-s: empty socket path");
		usage_general();
	}
	if (argc == 0) {
		complain("no command given");
		usage_general();
	}
	c = find_cmd(argc, argv, &used);
	params = build_params(c, argc - used, argv + used, &fl);
	if (!c->method) {
		json_decref(params);
		print_help(stdout);
		return 0;
	}

	method = c->method_arg && json_object_get(params, c->arg_param) ?
	    c->method_arg : c->method;
	if (c->paged) {
		status = run_paged(sock, method, params, &fl);
		json_decref(params);
		goto out;
	}
	request = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0",
	    "id", REQUEST_ID, "method", method, "params", params);
	reply = call(sock, request);
	json_decref(request);

	result = json_object_get(reply, "result");
	if (!result) {
		print_error(json_object_get(reply, "error"));
		status = EXIT_FAIL;
	} else if (fl.json) {
		json_dumpf(result, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
		putchar('\n');
	} else if (c->print)
		c->print(result);
	json_decref(reply);
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		complain("cannot write the output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}
