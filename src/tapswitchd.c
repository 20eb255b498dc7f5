/*
 * tapswitchd.c - main() of the switch daemon.
 *
 * Parses the command line and the configuration, forks the privileged
 * helper (priv.h), listens on the control socket, drops every privilege
 * (and becomes user =), builds the switch (which starts the workers and
 * opens every port through the helper), then runs the libevent main
 * loop: signals, the MAC aging timer and the netlink monitors.  On SIGTERM
 * or SIGINT it tears everything down and exits 0; when the privileged
 * helper is gone, which it cannot replace, it does the same and exits 1,
 * to be started again.
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
#include "tapswitch/metrics.h"
#include "tapswitch/notify.h"
#include "tapswitch/priv.h"
#include "tapswitch/sw.h"

#define EXIT_USAGE 2
#define OPT_SYSLOG 256		/* --syslog has no short form */
#define OPT_USER 257		/* --user neither */

struct daemon {
	struct event_base *base;
	struct sw *sw;
	struct ctl *ctl;
	struct metrics *metrics;	/* metrics_listen (metrics.h) */
	const char *conf_path;
	const char *pidfile;
	const char *socket_path;	/* -s: overrides control_socket */
	const char *user;		/* --user: overrides user */
	struct priv *pv;		/* privileged helper; NULL: none */
	struct event *ev_helper;	/* its socket, readable when it is gone */
	bool helper_lost;		/* so: stopping, to exit 1 */
	bool verbose;			/* -v: debug, whatever log_level says */
	bool stopping;
	/* Service manager status (notify.h): the STATUS= text last sent,
	 * what the last failed reload said (NULL after a good one), and
	 * the timer that keeps the text current as ports change. */
	char status[NOTIFY_STATUS_MAX + 1];
	char *reload_note;
	struct event *ev_status;
};

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: tapswitchd [-nv] [-f FILE] [-s SOCKET] [--pidfile PATH] "
	    "[--syslog]\n                  [--user NAME]\n"
	    "  -f, --config FILE   configuration file (default %s)\n"
	    "  -s, --socket PATH   control socket (overrides control_socket)\n"
	    "  -n, --check         check the configuration and exit\n"
	    "  -v, --verbose       log at debug level (overrides log_level)\n"
	    "      --pidfile PATH  write the process id to PATH once running\n"
	    "      --syslog        log to syslog instead of stderr\n"
	    "      --user NAME     run as NAME (overrides user)\n"
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
	if (r == 0 && d->user) {
		free((*conf)->sw.user);
		(*conf)->sw.user = xstrdup(d->user);
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

/* The one-line summary that "systemctl status" shows. */
static void
daemon_summary(const struct daemon *d, char *buf, size_t size)
{
	const struct port_set *set = sw_ports(d->sw);
	const struct conf_switch *cs = &sw_conf(d->sw)->sw;
	const char *why;
	bool uring = sw_io_uring(d->sw, &why);
	unsigned up = 0;

	for (unsigned i = 0; i < set->n; i++)
		up += port_is_up(set->ports[i]);
	snprintf(buf, size, "%u port%s (%u up), %u queue%s, offload %s%s%s%s",
	    set->n, set->n == 1 ? "" : "s", up, cs->queues,
	    cs->queues == 1 ? "" : "s", cs->offload ? "on" : "off",
	    uring ? ", io_uring" : why ? ", read/write (io_uring not "
	    "available)" : "", d->reload_note ? "; " : "",
	    d->reload_note ? d->reload_note : "");
}

/* Tell the service manager the current summary: with READY=1 when ready
 * (start-up or a reload is complete), otherwise only when it changed. */
static void
daemon_notify(struct daemon *d, bool ready)
{
	char buf[sizeof(d->status)];

	daemon_summary(d, buf, sizeof(buf));
	if (ready)
		notify_ready("%s", buf);
	else if (strcmp(buf, d->status) != 0)
		notify_status("%s", buf);
	memcpy(d->status, buf, sizeof(buf));
}

/* Ports come and go (port add/del) and links go up and down between
 * reloads: keep STATUS= current, checked once a second. */
static void
on_status_timer(evutil_socket_t fd, short what, void *arg)
{
	daemon_notify(arg, false);
}

/* Re-read the file and apply the difference.  On success returns the
 * result object; otherwise NULL with err set (the switch is unchanged
 * when the file is invalid). */
static json_t *
daemon_reload_apply(struct daemon *d, struct ctl_err *err)
{
	struct sw_reload_result res;
	struct conf *conf;
	json_t *result;
	char *e = NULL, *me = NULL;
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
	if (r != -EINVAL &&
	    metrics_listen(d->metrics, conf->sw.metrics_listen, &me) < 0) {
		const char *addr = metrics_address(d->metrics);
		char *t = addr ? xasprintf("%s; metrics stay on %s", me, addr) :
		    xasprintf("%s; metrics are off", me);

		free(me);
		me = t;
		log_error("reload: %s", me);
	}
	conf_free(conf);
	if (r == -EINVAL) {
		log_error("reload refused: %s", e);
		ctl_error(err, CTL_E_CONFIG, "%s", e);
		free(e);
		return NULL;
	}
	log_info("reloaded %s: %zu added, %zu removed, %zu changed, %zu "
	    "unchanged, %zu reopened", d->conf_path, res.n_added,
	    res.n_removed, res.n_changed, res.n_unchanged, res.n_reopened);
	if (r < 0 || me) {
		if (r < 0)
			log_error("reload: some ports could not be set up:\n%s",
			    e);
		ctl_error(err, CTL_E_FAILED, "the new configuration was "
		    "applied except:\n%s%s%s", r < 0 ? e : "",
		    r < 0 && me ? "\n" : "", me ? me : "");
		free(e);
		free(me);
		sw_reload_result_free(&res);
		return NULL;
	}
	result = json_pack("{s:o, s:o, s:o, s:I, s:o}",
	    "added", names_json(res.added, res.n_added),
	    "removed", names_json(res.removed, res.n_removed),
	    "changed", names_json(res.changed, res.n_changed),
	    "unchanged", (json_int_t)res.n_unchanged,
	    "reopened", names_json(res.reopened, res.n_reopened));
	sw_reload_result_free(&res);
	return result;
}

/* daemon_reload_apply, announced to the service manager: RELOADING=1,
 * then READY=1 with the new summary, which says whether it failed. */
static json_t *
daemon_reload(struct daemon *d, struct ctl_err *err)
{
	json_t *result;

	notify_reloading();
	result = daemon_reload_apply(d, err);
	free(d->reload_note);
	d->reload_note = NULL;
	if (!result && err->code == CTL_E_FAILED)
		d->reload_note = xstrdup("last reload applied in part (see "
		    "the log)");
	else if (!result)
		d->reload_note = xasprintf("last reload refused: %.*s",
		    (int)strcspn(err->message ? err->message : "", "\n"),
		    err->message ? err->message : "");
	daemon_notify(d, true);
	return result;
}

static json_t *
h_reload(void *arg, json_t *params, struct ctl_err *err)
{
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
	notify_stopping();
	d->stopping = true;
	event_base_loopbreak(d->base);
}

/*
 * The privileged helper is gone (priv_on_lost), and this process cannot
 * start another: it has no privilege left.  Without a helper no port can
 * be added, nor opened again in a namespace made again, so the daemon
 * stops, to exit 1 for its service manager to start it again
 * (Restart=on-failure): persistent TAPs, and their addresses, outlive it.
 * The loop runs a moment longer, so that the answer to the request that
 * found the helper gone reaches its client.
 */
static void
on_helper_lost(void *arg, const char *what)
{
	static const struct timeval grace = { 0, 200 * 1000 };
	struct daemon *d = arg;

	log_error("stopping: tapswitchd cannot work without its privileged "
	    "helper, nor start another without privileges; start tapswitchd "
	    "again to get a new one (systemd does so by itself)");
	notify_stopping();
	notify_status("stopping: the privileged helper %s", what);
	d->helper_lost = true;
	if (d->ev_helper)
		event_del(d->ev_helper);
	if (d->ev_status)
		event_del(d->ev_status);	/* keep that status */
	event_base_loopexit(d->base, &grace);
}

/* The helper's socket is readable: it is gone (or talks out of turn). */
static void
on_helper_readable(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	priv_check(d->pv);
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

/* Create the pidfile while still privileged: with user = its directory
 * need not be writable by that user.  Written by write_pidfile once
 * running (and removed on exit by the privileged helper). */
static int
pidfile_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}

static int
write_pidfile(int fd)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		int e = errno ? errno : EIO;

		close(fd);
		return -e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/*
 * Give up privileges for good (priv_drop).  With user =, the control
 * socket is first handed to that user, so that it stays "the daemon's
 * own" (its group stays control_group when one is set).
 */
static int
daemon_drop_privileges(struct daemon *d, const struct conf *conf,
    const struct priv_user *user)
{
	char *err = NULL;

	if (user && chown(conf->sw.control_socket, user->uid,
	    conf->sw.control_group ? (gid_t)-1 : user->gid) < 0) {
		int e = errno;

		log_error("cannot give the control socket %s to user %s: %s",
		    conf->sw.control_socket, user->name, strerror(e));
		return -e;
	}
	if (priv_drop(d->pv, user, &err) < 0) {
		log_error("cannot drop privileges: %s", err);
		free(err);
		return -EPERM;
	}
	if (d->pv)
		log_info("running as %s without capabilities; the privileged "
		    "helper (pid %ld) keeps CAP_NET_ADMIN, CAP_NET_RAW, "
		    "CAP_SYS_ADMIN and CAP_CHOWN",
		    user ? user->name : "root", (long)priv_pid(d->pv));
	return 0;
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
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "user", required_argument, NULL, OPT_USER },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .conf_path = CONF_DEFAULT_PATH };
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	struct priv_user user = { 0 };
	struct conf *conf;
	bool check_only = false, use_syslog = false;
	int verbose = 0, c, r, pidfd = -1, status = 1;
	bool owned = false;	/* control socket and pidfile are ours */
	gid_t gid;
	char *err = NULL;
	const char *why;	/* why no io_uring (unused here) */

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
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_USER:
			d.user = optarg;
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
	/* -n answers on the terminal, whatever --syslog says. */
	if (use_syslog && !check_only)
		log_init("tapswitchd", true);
	if (verbose) {
		d.verbose = true;
		log_set_level(LOG_LVL_DEBUG);
	}

	r = daemon_load(&d, &conf, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		if (use_syslog && !check_only)
			log_error("%s", err);
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

	/*
	 * Privilege separation (priv.h), first of all: the user must exist,
	 * and as root the privileged helper is forked now, while this is
	 * the only thread and before anything privileged is done.  It
	 * removes the pidfile and the control socket on an orderly stop,
	 * which this process may no longer be allowed to do by then.
	 */
	if (conf->sw.user && priv_user_lookup(conf->sw.user, &user, &err) < 0)
		goto fail;
	if (geteuid() == 0) {
		const char *cleanup[] = { conf->sw.control_socket, d.pidfile,
		    NULL };

		if (priv_start(cleanup, &d.pv, &err) < 0)
			goto fail;
	} else if (conf->sw.user) {
		err = xasprintf("user = %s: tapswitchd must be started as root "
		    "to change to another user", conf->sw.user);
		goto fail;
	}

	/* A write to a closed socket must fail, not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	d.base = event_base_new();
	if (!d.base) {
		err = xstrdup("cannot create the event loop");
		goto fail;
	}
	ev_term = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	ev_int = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	ev_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	/* From here on, losing the helper stops the daemon; found between
	 * requests by watching its socket, from the loop's start. */
	if (d.pv) {
		priv_on_lost(d.pv, on_helper_lost, &d);
		d.ev_helper = event_new(d.base, priv_socket(d.pv),
		    EV_READ | EV_PERSIST, on_helper_readable, &d);
		event_add(d.ev_helper, NULL);
	}

	/*
	 * The control socket first: a second tapswitchd started with the
	 * same file must stop at "another tapswitchd is answering" before
	 * it opens any TAP, since opening a live multiqueue TAP again
	 * attaches more queues to it and takes a share of its frames.
	 * Nothing is served before the main loop runs, by which time every
	 * method is registered.
	 */
	ctl_create(&d.ctl);
	if (control_gid(conf, &gid) < 0)
		goto fail;	/* logged */
	if (ctl_listen(d.ctl, d.base, conf->sw.control_socket, gid, &err) < 0)
		goto fail;
	owned = true;	/* the socket is ours; the pidfile is next */
	/* The metrics port too, before any TAP is opened and while the
	 * daemon may still bind any port; /metrics is served once the
	 * switch exists (the loop runs only then anyway). */
	metrics_create(d.base, &d.metrics);
	if (metrics_listen(d.metrics, conf->sw.metrics_listen, &err) < 0) {
		char *e = xasprintf("%s: %s", conf->path, err);

		free(err);
		err = e;
		goto fail;
	}
	/*
	 * Nothing privileged is left for this process: opening ports,
	 * following links in namespaces and removing the pidfile and the
	 * socket at the end go through the helper.  Drop everything now,
	 * before the workers start (capabilities are per thread).
	 */
	if (d.pidfile && (pidfd = pidfile_open(d.pidfile)) < 0) {
		err = xasprintf("cannot write %s: %s", d.pidfile,
		    strerror(-pidfd));
		goto fail;
	}
	if (daemon_drop_privileges(&d, conf, user.name ? &user : NULL) < 0)
		goto fail;	/* logged */
	if (sw_create_with(conf, d.pv, d.base, &d.sw,
	    &err) < 0)
		goto fail;
	metrics_set_switch(d.metrics, d.sw);
	sw_ctl_register(d.sw, d.ctl);
	log_ctl_register(d.ctl);
	ctl_register(d.ctl, "config.reload", "",
	    "re-read the configuration file and apply the difference",
	    CTL_MUTATING, h_reload, &d);
	if (d.pidfile && (r = write_pidfile(pidfd)) < 0) {
		pidfd = -1;	/* closed by write_pidfile */
		err = xasprintf("cannot write %s: %s", d.pidfile,
		    strerror(-r));
		goto fail;
	}
	pidfd = -1;
	/* Lost during start-up: stop now, rather than say ready first. */
	if (d.helper_lost)
		goto fail;	/* logged */
	log_info("running: %zu port%s, %u queue%s, offload %s, %s",
	    conf->n_ports, conf->n_ports == 1 ? "" : "s", conf->sw.queues,
	    conf->sw.queues == 1 ? "" : "s", conf->sw.offload ? "on" : "off",
	    sw_io_uring(d.sw, &why) ? "io_uring" : "read/write");

	/* Ready: every port is up and the control socket listens.  Last
	 * thing before the loop, so nothing that start-up still does can
	 * come after it. */
	if (notify_enabled()) {
		static const struct timeval second = { 1, 0 };

		d.ev_status = event_new(d.base, -1, EV_PERSIST,
		    on_status_timer, &d);
		event_add(d.ev_status, &second);
	}
	daemon_notify(&d, true);

	event_base_dispatch(d.base);
	status = d.helper_lost ? 1 : 0;
	goto out;
fail:
	if (err)
		log_error("%s", err);
	free(err);
	if (pidfd >= 0)
		close(pidfd);
out:
	/* Undo start-up in reverse; each step copes with "never done".  A
	 * helper found gone from here on stops nothing more. */
	if (d.pv)
		priv_on_lost(d.pv, NULL, NULL);
	if (d.ev_helper)
		event_free(d.ev_helper);
	ctl_destroy(d.ctl);		/* removes the socket if it can */
	metrics_destroy(d.metrics);	/* before the switch it reads */
	sw_destroy(d.sw);
	if (d.pidfile && owned)
		unlink(d.pidfile);
	/* After everything that may still ask it; removes what this user
	 * cannot, if it is ours. */
	priv_stop(d.pv, owned);
	priv_user_destroy(&user);
	conf_free(conf);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (d.ev_status)
		event_free(d.ev_status);
	free(d.reload_note);
	if (d.base)
		event_base_free(d.base);
	if (status == 0)
		log_info("stopped");
	return status;
}
