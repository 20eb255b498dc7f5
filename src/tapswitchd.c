/*
 * tapswitchd.c - main() of the switch daemon.
 *
 * Parses the command line and the configuration, builds the switch (which
 * starts the workers and opens every port), then runs the libevent main
 * loop: signals, the MAC aging timer and the netlink monitors.  On SIGTERM
 * or SIGINT it tears everything down and exits 0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "tapswitch/conf.h"
#include "tapswitch/ctl.h"
#include "tapswitch/log.h"
#include "tapswitch/sw.h"

#define EXIT_USAGE 2

struct daemon {
	struct event_base *base;
	struct sw *sw;
	struct ctl *ctl;
	const char *conf_path;
	const char *pidfile;
	const char *socket_path;	/* -s: overrides control_socket */
	bool verbose;			/* -v: debug, whatever log_level says */
	bool stopping;
};

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: tapswitchd [-nv] [-f FILE] [-s SOCKET] [--pidfile PATH]\n"
	    "  -f, --config FILE   configuration file (default %s)\n"
	    "  -s, --socket PATH   control socket (overrides control_socket)\n"
	    "  -n, --check         check the configuration and exit\n"
	    "  -v, --verbose       log more (repeat for debug)\n"
	    "      --pidfile PATH  write the process id to PATH once running\n"
	    "  -h, --help          show this help\n"
	    "  -V, --version       show the version\n",
	    CONF_DEFAULT_PATH);
	exit(status);
}

/* Load the configuration file with the command line's overrides. */
static int
daemon_load(struct daemon *d, struct conf **conf, char **err)
{
	int r = conf_load(d->conf_path, conf, err);

	if (r == 0 && d->socket_path) {
		free((*conf)->sw.control_socket);
		(*conf)->sw.control_socket = xstrdup(d->socket_path);
	}
	return r;
}

static json_t *
names_json(char **names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* Re-read the file and apply the difference.  On success returns the
 * result object; otherwise NULL with err set (the switch is unchanged
 * when the file is invalid). */
static json_t *
daemon_reload(struct daemon *d, struct ctl_err *err)
{
	struct sw_reload_result res;
	struct conf *conf;
	json_t *result;
	char *e = NULL;
	int r;

	r = daemon_load(d, &conf, &e);
	if (r < 0) {
		log_error("reload failed; nothing was changed:\n%s", e);
		ctl_error(err, CTL_E_CONFIG, "%s", e);
		free(e);
		return NULL;
	}
	r = sw_reload(d->sw, conf, &res, &e);
	if (r != -EINVAL && !d->verbose)
		log_set_level(conf->sw.log_level);
	conf_free(conf);
	if (r == -EINVAL) {
		log_error("reload refused: %s", e);
		ctl_error(err, CTL_E_CONFIG, "%s", e);
		free(e);
		return NULL;
	}
	log_info("reloaded %s: %zu added, %zu removed, %zu changed, %zu "
	    "unchanged", d->conf_path, res.n_added, res.n_removed,
	    res.n_changed, res.n_unchanged);
	if (r < 0) {
		log_error("reload: some ports could not be set up:\n%s", e);
		ctl_error(err, CTL_E_FAILED, "the new configuration was applied "
		    "except:\n%s", e);
		free(e);
		sw_reload_result_free(&res);
		return NULL;
	}
	result = json_pack("{s:o, s:o, s:o, s:I}",
	    "added", names_json(res.added, res.n_added),
	    "removed", names_json(res.removed, res.n_removed),
	    "changed", names_json(res.changed, res.n_changed),
	    "unchanged", (json_int_t)res.n_unchanged);
	sw_reload_result_free(&res);
	return result;
}

static json_t *
h_reload(void *arg, json_t *params, struct ctl_err *err)
{
	if (json_object_size(params) != 0) {
		ctl_error(err, CTL_E_PARAMS, "config.reload takes no "
		    "parameters");
		return NULL;
	}
	return daemon_reload(arg, err);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct ctl_err err = { 0 };
	json_t *result;

	log_info("SIGHUP received, reloading");
	result = daemon_reload(arg, &err);
	json_decref(result);
	free(err.message);
}

/* The group that may use the control socket: control_group, or (-1)
 * the daemon's own. */
static int
control_gid(const struct conf *conf, gid_t *gid)
{
	struct group *gr;

	*gid = (gid_t)-1;
	if (!conf->sw.control_group)
		return 0;
	gr = getgrnam(conf->sw.control_group);
	if (!gr) {
		log_error("%s: control_group \"%s\" does not exist",
		    conf->path, conf->sw.control_group);
		return -ENOENT;
	}
	*gid = gr->gr_gid;
	return 0;
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	log_info("%s received, stopping", strsignal((int)sig));
	d->stopping = true;
	event_base_loopbreak(d->base);
}

/* Open-file limit: every port holds one fd per queue, so many ports need
 * more than the usual soft limit of 1024. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open-file limit: %s",
			    strerror(errno));
	}
}

static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		int e = errno ? errno : EIO;

		close(fd);
		return -e;
	}
	return close(fd) < 0 ? -errno : 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .conf_path = CONF_DEFAULT_PATH };
	struct event *ev_term, *ev_int, *ev_hup;
	struct conf *conf;
	bool check_only = false;
	int verbose = 0, c, r;
	char *err = NULL;

	log_init("tapswitchd", false);
	while ((c = getopt_long(argc, argv, "f:s:nvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			d.conf_path = optarg;
			break;
		case 's':
			d.socket_path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'P':
			d.pidfile = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("tapswitchd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EXIT_USAGE);
	if (verbose) {
		d.verbose = true;
		log_set_level(LOG_LVL_DEBUG);
	}

	r = daemon_load(&d, &conf, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	if (!d.verbose)
		log_set_level(conf->sw.log_level);
	if (check_only) {
		printf("%s: configuration OK (%zu port%s)\n", d.conf_path,
		    conf->n_ports, conf->n_ports == 1 ? "" : "s");
		conf_free(conf);
		return 0;
	}

	/* A write to a closed socket must fail, not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	d.base = event_base_new();
	if (!d.base) {
		log_error("cannot create the event loop");
		return 1;
	}
	ev_term = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	ev_int = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	ev_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);

	/*
	 * The control socket first: a second tapswitchd started with the
	 * same file must stop at "another tapswitchd is answering" before
	 * it opens any TAP, since opening a live multiqueue TAP again
	 * attaches more queues to it and takes a share of its frames.
	 * Nothing is served before the main loop runs, by which time every
	 * method is registered.
	 */
	ctl_create(&d.ctl);
	{
		gid_t gid;

		if (control_gid(conf, &gid) < 0 ||
		    ctl_listen(d.ctl, d.base, conf->sw.control_socket, gid,
		    &err) < 0) {
			if (err)
				log_error("%s", err);
			free(err);
			ctl_destroy(d.ctl);
			conf_free(conf);
			return 1;
		}
	}
	r = sw_create(conf, &port_backend_tap, d.base, &d.sw, &err);
	if (r < 0) {
		log_error("%s", err);
		free(err);
		ctl_destroy(d.ctl);	/* removes the socket */
		conf_free(conf);
		return 1;
	}
	sw_ctl_register(d.sw, d.ctl);
	ctl_register(d.ctl, "config.reload", "",
	    "re-read the configuration file and apply the difference",
	    CTL_MUTATING, h_reload, &d);
	log_info("running: %zu port%s, %u queue%s, offload %s",
	    conf->n_ports, conf->n_ports == 1 ? "" : "s", conf->sw.queues,
	    conf->sw.queues == 1 ? "" : "s", conf->sw.offload ? "on" : "off");
	conf_free(conf);
	if (d.pidfile && (r = write_pidfile(d.pidfile)) < 0) {
		log_error("cannot write %s: %s", d.pidfile, strerror(-r));
		ctl_destroy(d.ctl);
		sw_destroy(d.sw);
		return 1;
	}

	event_base_dispatch(d.base);

	ctl_destroy(d.ctl);
	sw_destroy(d.sw);
	if (d.pidfile)
		unlink(d.pidfile);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(d.base);
	log_info("stopped");
	return 0;
}
