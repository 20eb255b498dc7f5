/*
 * ctl.h - the control socket: JSON-RPC 2.0 over a Unix stream socket.
 *
 * One JSON object per line in each direction, served from the libevent
 * main loop with bufferevents.  Commands are registered by the module that
 * owns them, in one table of name, parameter summary, help and whether
 * they change anything.  Changing commands are allowed only to root and
 * the daemon's own user (SO_PEERCRED); read-only ones to anyone who can
 * open the socket.
 *
 * Limits that keep one client from hurting the others: a request line may
 * be at most CTL_LINE_MAX bytes (longer: error, then disconnect); a client
 * that stalls mid-line only holds its own buffer and is dropped after
 * CTL_IDLE_TIMEOUT seconds of silence; at most CTL_CLIENTS_MAX clients are
 * served at once.
 *
 * Memory.  What the server holds for its clients is their input buffers
 * and the answers queued for them, and it is bounded three ways:
 *  - Backpressure: while more than CTL_OUTPUT_HIGH bytes of answers wait
 *    for a client, its next request is not read, let alone served; it is
 *    once the client has read them down to CTL_OUTPUT_HIGH.  Requests
 *    wait in the client's socket, where they cost the daemon nothing.
 *  - Every answer is bounded: long listings come in pages (fdb.show).
 *  - All clients together hold at most CTL_MEM_MAX bytes, plus what the
 *    client being served holds (its input, at most CTL_LINE_MAX, and what
 *    answers it has not read: CTL_OUTPUT_HIGH and one answer).  Above it,
 *    the client that has held data longest (one that does not read its
 *    answers, or sends half a line and stalls) is disconnected, and the
 *    next, until the total is back under.  A client that reads what it
 *    asked for holds data only for moments, so it is not the one to go.
 *    A client that does not read for CTL_IDLE_TIMEOUT seconds is
 *    disconnected in any case.
 * After an episode of heavy use the server hands freed memory back to the
 * system (malloc_trim on the GNU C library), at most once a second, once
 * its clients hold little again.
 *
 * Main thread only.
 */
#ifndef TAPSWITCH_CTL_H
#define TAPSWITCH_CTL_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "tapswitch/util.h"

#define CTL_LINE_MAX (64 * 1024)
#define CTL_IDLE_TIMEOUT 300
#define CTL_CLIENTS_MAX 1024
#define CTL_OUTPUT_HIGH (64 * 1024)
#define CTL_MEM_MAX (16 * 1024 * 1024)
/* The longest answer a client has to expect (stats.get with every queue
 * of thousands of ports comes nearest). */
#define CTL_ANSWER_MAX (64 * 1024 * 1024)

/* JSON-RPC error codes: the standard ones, and ours in the server range. */
#define CTL_E_PARSE		(-32700)	/* not JSON */
#define CTL_E_REQUEST		(-32600)	/* not a valid request */
#define CTL_E_METHOD		(-32601)	/* unknown method */
#define CTL_E_PARAMS		(-32602)	/* missing/wrong params */
#define CTL_E_INTERNAL		(-32603)
#define CTL_E_PERM		(-32001)	/* not allowed for this user */
#define CTL_E_NOTFOUND		(-32002)	/* no such port / entry */
#define CTL_E_EXISTS		(-32003)	/* already exists */
#define CTL_E_FAILED		(-32004)	/* the operation failed */
#define CTL_E_CONFIG		(-32005)	/* invalid configuration */

struct event_base;
struct ctl;

/* What a handler reports on failure: a code above and a message that says
 * what was wrong and what to do (set with ctl_error). */
struct ctl_err {
	int code;
	char *message;		/* malloc'd */
};

void ctl_error(struct ctl_err *err, int code, const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* A handler returns the result (a new reference, usually an object) or
 * NULL after ctl_error().  params is always an object (empty when the
 * request had none). */
typedef json_t *(*ctl_handler)(void *arg, json_t *params, struct ctl_err *err);

/* A handler whose result is a long, regular listing may write it as JSON
 * text instead, which costs a fraction of a tree of json_t: it returns
 * the text of the result (malloc'd; one JSON value with no newline
 * outside strings, usually an object), or NULL after ctl_error(). */
typedef char *(*ctl_text_handler)(void *arg, json_t *params,
    struct ctl_err *err);

enum ctl_flags {
	CTL_READONLY = 0,
	CTL_MUTATING = 1,	/* root or the daemon's user only */
};

/* Create the registry (no socket yet).  Main thread. */
void ctl_create(struct ctl **out);
void ctl_destroy(struct ctl *ctl);	/* closes clients, removes socket */

/* Register method name ("noun.verb").  params declares its parameters,
 * optional ones in brackets ("mac, port, [vlan]"; "" for none): requests
 * with other keys, or without a required one, are refused before fn is
 * called.  params and help are also the "help" output; the strings must
 * outlive ctl. */
void ctl_register(struct ctl *ctl, const char *name, const char *params,
    const char *help, enum ctl_flags flags, ctl_handler fn, void *arg);
/* The same for a method whose handler writes its result as text. */
void ctl_register_text(struct ctl *ctl, const char *name,
    const char *params, const char *help, enum ctl_flags flags,
    ctl_text_handler fn, void *arg);

/*
 * Listen on path: mode 0660, group gid (or unchanged when gid is -1).  A
 * stale socket left by a dead daemon is replaced; a live one (something
 * answers) is an error (-EADDRINUSE).  0, or -errno with *err.
 */
int ctl_listen(struct ctl *ctl, struct event_base *base, const char *path,
    gid_t gid, char **err);

/*
 * Handle one request line (without the newline) from a client with uid,
 * and return the response line (malloc'd, no newline), or NULL when the
 * request was a notification (no id) and needs no answer.  An integer id
 * beyond 64 bits, which jansson cannot hold but JSON-RPC allows, comes
 * back as the client wrote it.  This is the whole protocol without
 * sockets: tests and the fuzzer call it directly.
 */
char *ctl_handle(struct ctl *ctl, const char *line, size_t len, uid_t uid);

#endif
