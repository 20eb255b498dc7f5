/*
 * unixsock.c - Unix domain socket files of the stream and dgram port
 * types (see unixsock.h): their keys, and making the socket, which the
 * privileged helper does when there is one (priv.c, BIND_UNIX).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tapswitch/unixsock.h"
#include "tapswitch/util.h"

int
unixsock_conf_path(char **dst, const char *value, const char **why)
{
	size_t n = strlen(value);

	if (value[0] != '/' || n < 2 || value[n - 1] == '/') {
		*why = "expected the absolute path of a socket file "
		    "(/run/tapswitch/vm1.sock)";
		return -EINVAL;
	}
	if (n > UNIXSOCK_PATH_MAX) {
		*why = "a socket path is at most 107 bytes long";
		return -EINVAL;
	}
	for (const char *c = value; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			*why = "a control character in the path";
			return -EINVAL;
		}
	free(*dst);
	*dst = xstrdup(value);
	return 0;
}

int
unixsock_conf_name(char **dst, const char *value, const char **why)
{
	size_t n = strlen(value);

	if (n == 0 || n > 32 || value[0] == '-') {
		*why = "expected a user or group name (or number)";
		return -EINVAL;
	}
	for (const char *c = value; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_' && *c != '-' &&
		    *c != '.' && !(*c == '$' && c[1] == '\0')) {
			*why = "expected a user or group name (or number)";
			return -EINVAL;
		}
	free(*dst);
	*dst = xstrdup(value);
	return 0;
}

int
unixsock_conf_mode(uint32_t *dst, const char *value, const char **why)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 8);
	if (!value[0] || *end || errno || v > 0777 || value[0] == '-' ||
	    value[0] == '+' || value[0] == ' ') {
		*why = "expected an octal mode, 0000..0777 (0660: the owner "
		    "and the group may connect)";
		return -EINVAL;
	}
	/* 0 means "not given" in the settings: store it apart. */
	*dst = (uint32_t)v | 01000;
	return 0;
}

/* A number, or the id of a name. */
static int
lookup_id(const char *s, bool user, unsigned *id)
{
	unsigned long v;

	if (parse_uint(s, 0, INT_MAX - 1, &v) == 0) {
		*id = (unsigned)v;
		return 0;
	}
	if (user) {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return -ENOENT;
		*id = pw->pw_uid;
	} else {
		struct group *gr = getgrnam(s);

		if (!gr)
			return -ENOENT;
		*id = gr->gr_gid;
	}
	return 0;
}

int
unixsock_ids(const struct unixsock_perm *perm, uid_t *uid, gid_t *gid,
    mode_t *mode, char **err)
{
	unsigned id;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	*mode = perm->mode ? (mode_t)(perm->mode & 0777) :
	    UNIXSOCK_MODE_DEFAULT;
	if (perm->owner) {
		if (lookup_id(perm->owner, true, &id) < 0) {
			*err = xasprintf("owner %s: no such user", perm->owner);
			return -ENOENT;
		}
		*uid = id;
	}
	if (perm->group) {
		if (lookup_id(perm->group, false, &id) < 0) {
			*err = xasprintf("group %s: no such group", perm->group);
			return -ENOENT;
		}
		*gid = id;
	}
	return 0;
}

void
unixsock_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strnlen(path, UNIXSOCK_PATH_MAX));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(sa->sun_path) + 1);
}

/* May user uid (primary group gid) create a file in path's directory? */
static int
dir_writable(const char *path, uid_t uid, gid_t gid)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int r = 0;

	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	else if (uid != 0 && !((st.st_uid == uid && (st.st_mode & S_IWUSR)) ||
	    (st.st_gid == gid && (st.st_mode & S_IWGRP)) ||
	    (st.st_mode & S_IWOTH)))
		r = -EACCES;
	free(dir);
	return r;
}

/* What is at path: 0 nothing (or a dead socket, removed); -EADDRINUSE a
 * socket something uses; -EEXIST another file; or -errno. */
static int
clear_stale(const char *path)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	unixsock_addr(path, &sa, &len);
	/* Whatever its type: a stream connect to a datagram socket says
	 * EPROTOTYPE when it is alive, ECONNREFUSED when it is not. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
	close(fd);
	if (r == -ECONNREFUSED) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		r = connect(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
		close(fd);
	}
	if (r == -ECONNREFUSED)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	return -EADDRINUSE;
}

int
unixsock_bind(int type, const char *path, uid_t uid, gid_t gid,
    mode_t mode, uid_t requester, gid_t rgid, int *fdp, char **msg)
{
	struct sockaddr_un sa;
	socklen_t len;
	mode_t old;
	int fd, r;

	if (path[0] != '/' || strlen(path) > UNIXSOCK_PATH_MAX ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM) || (mode & ~0777u)) {
		*msg = xasprintf("invalid socket path or type");
		return -EINVAL;
	}
	if ((r = dir_writable(path, requester, rgid)) < 0) {
		*msg = xasprintf("cannot make socket %s: %s%s", path,
		    strerror(-r), r == -EACCES ? " (the daemon's user may "
		    "not write that directory: choose one it may, such as "
		    "/run/tapswitch)" : "");
		return r;
	}
	if ((r = clear_stale(path)) < 0) {
		*msg = xasprintf("cannot make socket %s: %s", path,
		    r == -EADDRINUSE ? "another program uses the socket "
		    "there" : r == -EEXIST ? "a file that is not a socket "
		    "is there (remove it, or choose another path)" :
		    strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		*msg = xasprintf("socket: %s", strerror(-r));
		return r;
	}
	unixsock_addr(path, &sa, &len);
	/* Nobody but its owner may use it until its owner, group and mode
	 * are set (and a stream socket listens only then). */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
	umask(old);
	if (r < 0) {
		*msg = xasprintf("cannot bind %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    lchown(path, uid, gid) < 0) {
		r = -errno;
		*msg = xasprintf("cannot give %s to %d:%d: %s%s", path,
		    uid == (uid_t)-1 ? -1 : (int)uid,
		    gid == (gid_t)-1 ? -1 : (int)gid, strerror(-r),
		    r == -EPERM ? " (owner = and group = need the "
		    "privileged helper: start tapswitchd as root)" : "");
		goto fail;
	}
	if (chmod(path, mode) < 0) {
		r = -errno;
		*msg = xasprintf("cannot set the mode of %s: %s", path,
		    strerror(-r));
		goto fail;
	}
	if (type == SOCK_STREAM && listen(fd, 8) < 0) {
		r = -errno;
		*msg = xasprintf("cannot listen on %s: %s", path, strerror(-r));
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	unlink(path);
	close(fd);
	return r;
}

void
unixsock_file_at(const char *path, struct unixsock_file *f)
{
	struct stat st;

	f->known = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
	f->dev = f->known ? st.st_dev : 0;
	f->ino = f->known ? st.st_ino : 0;
}

void
unixsock_unlink(const char *path, const struct unixsock_file *f)
{
	struct stat st;

	if (f->known && lstat(path, &st) == 0 && st.st_dev == f->dev &&
	    st.st_ino == f->ino)
		(void)unlink(path);
}
