/*
 * test_priv.c - the privileged helper's protocol and request checks,
 * without root: the helper's loop (priv_serve) runs in a plain child
 * process, and the requests used need no privilege (link state in our own
 * namespace, a monitor socket of our own namespace) or are refused before
 * anything is done.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tapswitch/log.h"
#include "tapswitch/nl.h"
#include "tapswitch/priv.h"
#include "tapswitch/udp.h"
#include "tapswitch/unixsock.h"

#include "unit.h"

static struct priv *pv;
static pid_t child;
static int raw;			/* a dup of the client's socket */
static char cleanup_path[64];

/* Start a helper loop in a child, with one cleanup file. */
static void
setup(void)
{
	const char *cleanup[2];
	int sv[2], fd;

	log_set_level(LOG_LVL_ERROR);
	snprintf(cleanup_path, sizeof(cleanup_path), "/tmp/test_priv.%ld",
	    (long)getpid());
	fd = open(cleanup_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	cleanup[0] = cleanup_path;
	cleanup[1] = NULL;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(sv[0]);
		priv_serve(sv[1], cleanup);
		_exit(0);
	}
	close(sv[1]);
	raw = dup(sv[0]);
	pv = priv_connect(sv[0], child);
}

static void
teardown(void)
{
	priv_stop(pv, true);
	close(raw);
	unlink(cleanup_path);
}

START_TEST(test_link_state)
{
	struct priv_link l;

	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), 0);
	ck_assert_int_eq(l.ifindex, 1);
	ck_assert_uint_eq(l.mtu, 65536);
	ck_assert(l.up);
	ck_assert_int_eq(priv_link_state(pv, NULL, "tswnosuchif0", &l),
	    -ENODEV);
	/* Local mode gives the same answers. */
	ck_assert_int_eq(priv_link_state(NULL, NULL, "lo", &l), 0);
	ck_assert_int_eq(l.ifindex, 1);
	ck_assert_uint_eq(l.mtu, 65536);
	ck_assert_int_eq(priv_pid(pv), child);
}
END_TEST

/* Names the client sends but the helper must refuse (tapswitch.conf(5)
 * rules), and the helper keeps serving afterwards. */
START_TEST(test_refused_names)
{
	static const char *const bad_if[] = { "a/b", "a:b", "a b", ".", "..",
	    "tab\tx" };
	static const char *const bad_ns[] = { "a/b", "..", ".", "x y",
	    "../../etc" };
	struct priv_link l;

	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++)
		ck_assert_int_eq(priv_link_state(pv, NULL, bad_if[i], &l),
		    -EINVAL);
	for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++)
		ck_assert_int_eq(priv_link_state(pv, bad_ns[i], "lo", &l),
		    -EINVAL);
	/* Too long for the wire form: refused before sending. */
	ck_assert_int_eq(priv_link_state(pv, NULL, "sixteen-chars-xx", &l),
	    -EINVAL);
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), 0);
}
END_TEST

START_TEST(test_open_port_refused)
{
	struct priv_port_req req = {
		.ifname = "tswtest0", .nqueues = 0, .mtu = 1500,
	};
	struct priv_port_res res;
	int fds[17];
	char *msg = NULL;

	/* No queue, too many queues, an MTU out of range: the helper
	 * opens nothing. */
	ck_assert_int_eq(priv_open_port(pv, &req, fds, &res, &msg), -EINVAL);
	ck_assert_ptr_nonnull(msg);
	free(msg);
	msg = NULL;
	req.nqueues = 17;
	ck_assert_int_eq(priv_open_port(pv, &req, fds, &res, &msg), -EINVAL);
	free(msg);
	msg = NULL;
	req.nqueues = 1;
	req.mtu = 67;
	ck_assert_int_eq(priv_open_port(pv, &req, fds, &res, &msg), -EINVAL);
	ck_assert_msg(strstr(msg, "malformed") != NULL, "%s", msg);
	free(msg);
	msg = NULL;
	req.mtu = 65536;
	ck_assert_int_eq(priv_open_port(pv, &req, fds, &res, &msg), -EINVAL);
	free(msg);
}
END_TEST

/* The sockets of a tunnel endpoint, opened by the helper: bound where
 * asked, the send sockets never fragment, and a datagram from a send
 * socket reaches a receive socket. */
static void
check_udp(const char *addr)
{
	struct priv_udp_req req = { .nrx = 2, .ntx = 3 };
	struct sockaddr_storage ss, got;
	socklen_t len = sizeof(got);
	int fds[5], fds2[1], v = 0;
	char *msg = NULL, buf[16];
	ssize_t n = -1;

	ck_assert_int_eq(udp_addr_parse(addr, &req.ep.addr), 0);
	req.ep.family = udp_addr_is_v4(&req.ep.addr) ? AF_INET : AF_INET6;
	req.ep.port = (uint16_t)(20000 + getpid() % 20000);
	ck_assert_msg(priv_open_udp(pv, &req, fds, &msg) == 0, "%s", msg);
	for (int i = 0; i < 5; i++) {
		ck_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		ck_assert(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		len = sizeof(got);
		ck_assert_int_eq(getsockname(fds[i], (struct sockaddr *)&got,
		    &len), 0);
		ck_assert_uint_eq(got.ss_family, req.ep.family);
		if (i < 2)
			ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&got)->
			    sin_port), req.ep.port);
	}
	len = sizeof(v);
	if (req.ep.family == AF_INET)
		ck_assert_int_eq(getsockopt(fds[2], IPPROTO_IP,
		    IP_MTU_DISCOVER, &v, &len), 0);
	else
		ck_assert_int_eq(getsockopt(fds[2], IPPROTO_IPV6,
		    IPV6_DONTFRAG, &v, &len), 0);
	ck_assert_int_eq(v, req.ep.family == AF_INET ? IP_PMTUDISC_DO : 1);
	len = udp_sockaddr(&req.ep.addr, req.ep.port, &ss);
	ck_assert_int_eq(sendto(fds[3], "vx", 2, 0, (struct sockaddr *)&ss,
	    len), 2);
	for (int t = 0; t < 200 && n < 0; t++) {
		n = recv(fds[0], buf, sizeof(buf), 0);
		if (n < 0)
			n = recv(fds[1], buf, sizeof(buf), 0);
		if (n < 0)
			usleep(5000);
	}
	ck_assert_int_eq(n, 2);
	/* The port is taken: said so, nothing open. */
	req.nrx = 1;
	req.ntx = 0;
	ck_assert_int_eq(priv_open_udp(pv, &req, fds2, &msg), -EADDRINUSE);
	ck_assert_msg(strstr(msg, "another program uses that port") != NULL,
	    "%s", msg);
	free(msg);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
}

START_TEST(test_open_udp)
{
	struct priv_udp_req req = { .nrx = 1, .netns = "tsw-no-such-netns" };
	char *msg = NULL;
	int fd;

	check_udp("127.0.0.1");
	check_udp("::1");
	ck_assert_int_eq(udp_addr_parse("127.0.0.1", &req.ep.addr), 0);
	req.ep.family = AF_INET;
	req.ep.port = 4789;
	ck_assert_int_eq(priv_open_udp(pv, &req, &fd, &msg), -ENOENT);
	ck_assert_msg(strstr(msg, "ip netns add tsw-no-such-netns") != NULL,
	    "%s", msg);
	free(msg);
	/* Refused before asking: too many sockets. */
	req.netns = NULL;
	req.nrx = 17;
	ck_assert_int_eq(priv_open_udp(pv, &req, &fd, &msg), -EINVAL);
	free(msg);
}
END_TEST

START_TEST(test_monitor)
{
	struct nl_mon *m;
	char *msg = NULL;
	int fd = -1;

	ck_assert_int_eq(priv_monitor(pv, NULL, &fd, &msg), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* The monitor takes the socket over. */
	ck_assert_int_eq(nl_mon_open(fd, NULL, NULL, NULL, &m), 0);
	nl_mon_close(m);

	ck_assert_int_eq(priv_monitor(pv, "tsw-no-such-netns", &fd, &msg),
	    -ENOENT);
	ck_assert_msg(strstr(msg, "ip netns add tsw-no-such-netns") != NULL,
	    "%s", msg);
	free(msg);
}
END_TEST

/* nl_mon_open refuses what is not a bound NETLINK_ROUTE socket, and
 * closes it. */
START_TEST(test_monitor_bad_fd)
{
	struct nl_mon *m;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(nl_mon_open(sv[0], NULL, NULL, NULL, &m), -EINVAL);
	ck_assert_int_eq(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);
}
END_TEST

/* Raw garbage on the socket: each message gets a refusal, nothing else
 * happens, and the helper keeps serving. */
START_TEST(test_garbage)
{
	char buf[4096];
	struct priv_link l;

	for (size_t len = 1; len < 600; len += 7) {
		memset(buf, (int)len, len);
		ck_assert_int_eq(send(raw, buf, len, 0), (ssize_t)len);
		ck_assert_int_gt(recv(raw, buf, sizeof(buf), 0), 0);
	}
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), 0);
}
END_TEST

/* Descriptors sent to the helper are closed and the request refused. */
START_TEST(test_fds_refused)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	char msgbuf[64] = { 1 }, reply[4096];
	struct iovec iov = { msgbuf, sizeof(msgbuf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fd = open("/dev/null", O_RDONLY);
	struct priv_link l;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	ck_assert_int_eq(sendmsg(raw, &mh, 0), (ssize_t)sizeof(msgbuf));
	close(fd);
	ck_assert_int_gt(recv(raw, reply, sizeof(reply), 0), 0);
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), 0);
}
END_TEST

START_TEST(test_request_check)
{
	unsigned char buf[1024];

	/* Whatever the bytes, a wrong size or a descriptor is refused, and
	 * nothing is read outside the buffer (the sanitizers see that). */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)rand() % sizeof(buf);

		for (size_t k = 0; k < len; k++)
			buf[k] = (unsigned char)rand();
		if (priv_request_check(buf, len, 0) == 0)
			ck_assert_int_eq(priv_request_check(buf, len, 1),
			    -EINVAL);
	}
	ck_assert_int_eq(priv_request_check(buf, 0, 0), -EINVAL);
}
END_TEST

/* BIND_UNIX through the helper: the socket is made with its mode, a
 * stale socket file is replaced, a file that is not a socket and a
 * socket in use are refused and left alone; made in-process for a user
 * who may not write the directory, it is refused. */
START_TEST(test_bind_unix)
{
	char dir[] = "/tmp/test_priv_unix.XXXXXX", path[128], other[128];
	struct priv_unix_req req = { .path = path, .type = SOCK_DGRAM,
	    .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640 };
	struct sockaddr_un sa;
	socklen_t len;
	struct stat st;
	char *msg = NULL;
	int fd = -1, fd2 = -1, s;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	snprintf(other, sizeof(other), "%s/plain", dir);
	/* A stale socket file: bound, then its socket closed. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	unixsock_addr(path, &sa, &len);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, len), 0);
	close(s);
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd, &msg), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	/* It is ours and works: a datagram sent to the path arrives. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(sendto(s, "x", 1, 0, (struct sockaddr *)&sa, len), 1);
	close(s);
	ck_assert_int_eq(recv(fd, dir + sizeof(dir) - 1, 1, MSG_DONTWAIT), 1);
	dir[sizeof(dir) - 1] = '\0';
	/* In use (by fd): refused, whatever the type asked. */
	req.type = SOCK_STREAM;
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd2, &msg), -EADDRINUSE);
	ck_assert_msg(strstr(msg, "another program uses the socket") != NULL,
	    "%s", msg);
	free(msg);
	msg = NULL;
	ck_assert_int_eq(lstat(path, &st), 0);
	/* A plain file: refused and kept. */
	close(open(other, O_WRONLY | O_CREAT, 0600));
	req.path = other;
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd2, &msg), -EEXIST);
	ck_assert_msg(strstr(msg, "not a socket") != NULL, "%s", msg);
	free(msg);
	msg = NULL;
	ck_assert_int_eq(access(other, F_OK), 0);
	/* A stream socket listens once made. */
	snprintf(other, sizeof(other), "%s/s.sock", dir);
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd2, &msg), 0);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	unixsock_addr(other, &sa, &len);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, len), 0);
	close(s);
	close(fd2);
	unlink(other);
	/* A user who may not write the directory (not its owner, no group
	 * or other write bit): refused, in-process as in the helper. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(unixsock_bind(SOCK_DGRAM, other, (uid_t)-1,
	    (gid_t)-1, 0600, geteuid() + 1, 12345, &fd2, &msg), -EACCES);
	ck_assert_msg(strstr(msg, "may not write that directory") != NULL,
	    "%s", msg);
	free(msg);
	msg = NULL;
	ck_assert_int_eq(access(other, F_OK), -1);
	/* Refused before asking: a relative path, a path too long. */
	req.path = "rel.sock";
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd2, &msg), -EINVAL);
	free(msg);
	msg = NULL;
	memset(other, 'a', sizeof(other) - 1);
	other[0] = '/';
	other[sizeof(other) - 1] = '\0';
	req.path = other;
	ck_assert_int_eq(priv_bind_unix(pv, &req, &fd2, &msg), -EINVAL);
	free(msg);
	close(fd);
	unlink(path);
	snprintf(other, sizeof(other), "%s/plain", dir);
	unlink(other);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* STOP removes the cleanup files and ends the helper. */
START_TEST(test_stop)
{
	struct stat st;

	ck_assert_int_eq(stat(cleanup_path, &st), 0);
	priv_stop(pv, true);
	pv = NULL;
	ck_assert_int_eq(stat(cleanup_path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Reaped by priv_stop. */
	ck_assert_int_eq(waitpid(child, NULL, WNOHANG), -1);
}
END_TEST

/* What priv_on_lost reported, and how often. */
static int lost_calls;
static char lost_what[128];

static void
on_lost(void *arg, const char *what)
{
	ck_assert_ptr_eq(arg, &lost_calls);
	lost_calls++;
	snprintf(lost_what, sizeof(lost_what), "%s", what);
}

/* A dead helper: the request fails with a clear message, later ones at
 * once, nothing hangs, and the owner is told once. */
START_TEST(test_helper_dies)
{
	struct priv_port_req req = {
		.ifname = "tswtest0", .nqueues = 1, .mtu = 1500,
	};
	struct priv_port_res res;
	char *msg = NULL;
	int fds[1];
	struct priv_link l;

	lost_calls = 0;
	priv_on_lost(pv, on_lost, &lost_calls);
	kill(child, SIGKILL);
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), -EPIPE);
	ck_assert_int_eq(priv_pid(pv), 0);
	ck_assert_int_eq(lost_calls, 1);
	ck_assert_msg(strstr(lost_what, "killed by signal 9"), "%s",
	    lost_what);
	ck_assert_int_eq(priv_open_port(pv, &req, fds, &res, &msg), -EPIPE);
	ck_assert_msg(strstr(msg, "privileged helper") &&
	    strstr(msg, "killed by signal 9") &&
	    strstr(msg, "tapswitchd cannot go on without it"), "%s", msg);
	free(msg);
	ck_assert_int_eq(priv_monitor(pv, NULL, fds, &msg), -EPIPE);
	free(msg);
	ck_assert_int_eq(priv_check(pv), -EPIPE);
	ck_assert_int_eq(priv_socket(pv), -1);
	ck_assert_int_eq(lost_calls, 1);
}
END_TEST

/* A helper that dies between requests is found without a request: its
 * socket turns readable, and priv_check tells the owner. */
START_TEST(test_helper_dies_idle)
{
	struct pollfd p = { .events = POLLIN };
	struct priv_link l;

	lost_calls = 0;
	priv_on_lost(pv, on_lost, &lost_calls);
	/* Alive and idle: nothing to read, nothing to tell. */
	p.fd = priv_socket(pv);
	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	ck_assert_int_eq(priv_check(pv), 0);
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), 0);
	ck_assert_int_eq(priv_check(pv), 0);
	ck_assert_int_eq(lost_calls, 0);

	kill(child, SIGKILL);
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert_int_eq(priv_check(pv), -EPIPE);
	ck_assert_int_eq(lost_calls, 1);
	ck_assert_msg(strstr(lost_what, "killed by signal 9"), "%s",
	    lost_what);
	ck_assert_int_eq(priv_pid(pv), 0);
	/* Reaped already: nothing is left of it. */
	ck_assert_int_eq(waitpid(child, NULL, WNOHANG), -1);
	ck_assert_int_eq(priv_link_state(pv, NULL, "lo", &l), -EPIPE);
	ck_assert_int_eq(lost_calls, 1);
}
END_TEST

/* Without a helper, dropping keeps at most CAP_NET_ADMIN/CAP_SYS_ADMIN
 * and refuses to change users. */
START_TEST(test_drop_local)
{
	struct priv_user u = { .name = (char *)"nobody", .uid = 65534,
	    .gid = 65534 };
	char *err = NULL;

	ck_assert_int_eq(priv_drop(NULL, &u, &err), -EPERM);
	ck_assert_msg(strstr(err, "root") != NULL, "%s", err);
	free(err);
	err = NULL;
	ck_assert_msg(priv_drop(NULL, NULL, &err) == 0, "%s", err);
}
END_TEST

static void *
read_one(void *arg)
{
	char c;

	return read(*(int *)arg, &c, 1) < 0 ? arg : NULL;
}

/* Capabilities are per thread: with a second thread running, dropping
 * them is refused.  In a ThreadSanitizer build as well: there the check
 * lets TSan's own thread pass (this forked test process has it), not
 * one more. */
START_TEST(test_drop_refuses_threads)
{
	pthread_t t;
	char *err = NULL;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, read_one, &p[0]), 0);
	ck_assert_int_eq(priv_drop(NULL, NULL, &err), -EBUSY);
	ck_assert_msg(strstr(err, "before any thread starts") != NULL, "%s",
	    err);
	free(err);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
}
END_TEST

START_TEST(test_user_lookup)
{
	struct priv_user u;
	char *err = NULL;

	ck_assert_int_eq(priv_user_lookup("root", &u, &err), 0);
	ck_assert_int_eq(u.uid, 0);
	priv_user_destroy(&u);
	ck_assert_int_eq(priv_user_lookup("tsw-no-such-user", &u, &err),
	    -ENOENT);
	ck_assert_msg(strstr(err, "does not exist") != NULL, "%s", err);
	free(err);
}
END_TEST

static Suite *
priv_suite(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("helper");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_link_state);
	tcase_add_test(tc, test_refused_names);
	tcase_add_test(tc, test_open_port_refused);
	tcase_add_test(tc, test_bind_unix);
	tcase_add_test(tc, test_open_udp);
	tcase_add_test(tc, test_monitor);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_fds_refused);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_helper_dies);
	tcase_add_test(tc, test_helper_dies_idle);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_test(tc, test_monitor_bad_fd);
	tcase_add_test(tc, test_request_check);
	tcase_add_test(tc, test_drop_local);
	tcase_add_test(tc, test_drop_refuses_threads);
	tcase_add_test(tc, test_user_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(priv_suite());
}
