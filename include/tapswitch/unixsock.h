/*
 * unixsock.h - Unix domain socket files for the port types that reach a
 * VM through one (stream, dgram): their config keys, and making the
 * socket a peer connects or sends to.
 *
 * Who may use a socket file is its owner, group and mode (owner =,
 * group =, mode =).  The daemon has dropped its privileges by the time
 * it opens most ports, and giving a file to another user or to a group
 * the daemon's user is not in takes CAP_CHOWN; so the privileged helper
 * makes the socket (priv.h, BIND_UNIX: unixsock_bind runs there) and
 * passes it back.  It does only what the daemon's user could do itself
 * plus the chown: the socket goes only into a directory that user may
 * write (unixsock_bind checks), and only a socket file the helper has
 * just made is given away.  Without a helper, the daemon runs
 * unixsock_bind itself, with whatever it may do.
 *
 * A socket file that is left at the path (the previous run was killed,
 * a peer left it behind) is replaced when nothing listens on it any
 * more (a connect is refused); one that something still uses, and any
 * file that is not a socket, is an error.
 *
 * Main thread (or the helper).
 */
#ifndef TAPSWITCH_UNIXSOCK_H
#define TAPSWITCH_UNIXSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* Longest path: sun_path less its NUL. */
#define UNIXSOCK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define UNIXSOCK_MODE_DEFAULT 0660

/* Who may use the socket: a type's settings hold these (conf keys
 * owner =, group =, mode =).  owner and group are names or numbers;
 * NULL: the daemon's own. */
struct unixsock_perm {
	char *owner;
	char *group;
	uint32_t mode;		/* 01000 | the mode, when given;
				 * 0: UNIXSOCK_MODE_DEFAULT */
};

/* Key setters (conf.h's contract): an absolute path that fits a
 * sockaddr_un; a user or group name (or number); an octal mode. */
int unixsock_conf_path(char **dst, const char *value, const char **why);
int unixsock_conf_name(char **dst, const char *value, const char **why);
int unixsock_conf_mode(uint32_t *dst, const char *value, const char **why);

/* The ids for perm (names looked up; -1: the daemon's own, unchanged)
 * and the mode.  0, or -ENOENT with a malloc'd message in *err. */
int unixsock_ids(const struct unixsock_perm *perm, uid_t *uid, gid_t *gid,
    mode_t *mode, char **err);

/* path (at most UNIXSOCK_PATH_MAX bytes) as an address. */
void unixsock_addr(const char *path, struct sockaddr_un *sa, socklen_t *len);

/*
 * Make a socket of type (SOCK_STREAM: listening, or SOCK_DGRAM),
 * non-blocking and close-on-exec, bound to path, owned by uid:gid (-1:
 * unchanged) with mode; into *fd.  requester/rgid: the user the daemon
 * runs as, who must be able to create a file in path's directory.  On
 * failure -errno and a malloc'd message in *msg (what and what to do);
 * nothing is left behind.
 */
int unixsock_bind(int type, const char *path, uid_t uid, gid_t gid,
    mode_t mode, uid_t requester, gid_t rgid, int *fd, char **msg);

/* Which file is at path now (after a bind), to remove it later. */
struct unixsock_file {
	dev_t dev;
	ino_t ino;
	bool known;
};
void unixsock_file_at(const char *path, struct unixsock_file *f);

/* Remove the socket file at path if it is still f (nobody replaced it
 * meanwhile); what cannot be removed (the daemon's user may not write
 * the directory) stays, and the next bind replaces it. */
void unixsock_unlink(const char *path, const struct unixsock_file *f);

#endif
