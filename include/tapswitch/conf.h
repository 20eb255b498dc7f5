/*
 * conf.h - the configuration file (tapswitch.conf(5)).
 *
 * The whole file is parsed into a struct conf and validated before anything
 * is applied: callers either get a complete, consistent configuration or
 * an error message and nothing else.  The same per-key setter serves the
 * file parser and runtime "port add NAME key=value..." requests, so a key
 * means the same thing everywhere.
 *
 * Everything here runs on the main thread; a struct conf is immutable once
 * returned (the data path gets its own copies of what it needs).
 */
#ifndef TAPSWITCH_CONF_H
#define TAPSWITCH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapswitch/log.h"
#include "tapswitch/vlan.h"

#define CONF_DEFAULT_PATH "/etc/tapswitch/tapswitch.conf"
#define CONF_DEFAULT_SOCKET "/run/tapswitch/tapswitchd.sock"
#define CONF_QUEUES_MAX 16
#define CONF_FDB_SIZE_DEFAULT 8192
#define CONF_FDB_SIZE_MAX (1u << 24)
#define CONF_FDB_AGING_DEFAULT 300
#define CONF_BUSY_POLL_DEFAULT 50	/* microseconds */
#define CONF_BUSY_POLL_MAX 1000
#define CONF_MTU_MIN 68
#define CONF_MTU_MAX 65535
#define CONF_MTU_DEFAULT 1500
#define CONF_IFNAME_MAX 15		/* IFNAMSIZ - 1 */
#define CONF_NETNS_MAX 64		/* longest netns = name */
#define CONF_LOOP_HOLDDOWN_DEFAULT 30	/* seconds */
#define CONF_LOOP_HOLDDOWN_MAX 86400
#define CONF_ALLOWED_MAX 16		/* entries of each allowed_* list */
#define CONF_RATE_MIN 8000		/* bits per second */
#define CONF_RATE_MAX 1000000000000ULL	/* 1T */
#define CONF_BURST_MAX (1ULL << 32)	/* bytes */
#define CONF_STORM_MAX 100000000	/* frames per second */

/*
 * Port keys.  The keys every port has (type, mtu, vlan, trunk, native,
 * mac_limit) are conf.c's; each port type (port.h) brings a table of its
 * own.  A key's entry also says where its value lives (off, size, str),
 * so copying, freeing and comparing a port follow the tables: a key that
 * exists is compared by conf_port_equal, there is no second list to
 * forget it in.
 */
enum conf_key_base {
	CONF_IN_PORT,		/* off is into struct conf_port */
	CONF_IN_TYPE,		/* off is into the type's settings */
};

struct conf_key {
	const char *name;
	/* Parse value into obj (the struct conf_port, or its settings for
	 * CONF_IN_TYPE); or -EINVAL with a static explanation in *why. */
	int (*set)(void *obj, const char *value, const char **why);
	enum conf_key_base base;
	size_t off, size;
	bool str;		/* the value is a malloc'd char * */
};

#define CONF_KEY(name, set, base, type, field) \
	{ name, set, base, offsetof(type, field), sizeof(((type *)0)->field), \
	  false }
#define CONF_KEY_STR(name, set, base, type, field) \
	{ name, set, base, offsetof(type, field), sizeof(char *), true }

/* The interface keys, for the tables of the types that have one: their
 * values are the port's own ifname and netns, which the core copies,
 * frees and compares itself. */
int conf_set_ifname(void *obj, const char *value, const char **why);
int conf_set_netns(void *obj, const char *value, const char **why);
#define CONF_KEY_IFNAME { "ifname", conf_set_ifname, CONF_IN_PORT, 0, 0, false }
#define CONF_KEY_NETNS { "netns", conf_set_netns, CONF_IN_PORT, 0, 0, false }

struct conf_port;

/* A problem found by a cross-key check: msg (malloc'd) is about key, or
 * about key and key2, whichever was set later; NULL: the port as a
 * whole.  The file parser reports it at that key's line. */
struct conf_problem {
	const char *key, *key2;
	char *msg;
};

#define CONF_PROBLEMS_MAX 6

/* The configuration side of a port type (port.h has the rest). */
struct conf_type {
	const char *name;
	const char *summary;	/* "an existing interface, through AF_PACKET" */
	const struct conf_key *keys;
	size_t n_keys;
	size_t size;		/* bytes of its settings (may be 0) */
	/* Defaults of the type for p, whose settings are zeroed and whose
	 * ifname/netns are unset; may be NULL. */
	void (*init)(struct conf_port *p);
	/* Cross-key checks of the type: add problems to pr[*n] (at most
	 * CONF_PROBLEMS_MAX in all); may be NULL. */
	void (*check)(const struct conf_port *p, struct conf_problem *pr,
	    size_t *n);
	/* Whether ports a and b of this type cannot both exist (they
	 * would use one resource the same way): a malloc'd message about
	 * b, or NULL.  May be NULL. */
	char *(*conflict)(const struct conf_port *a, const struct conf_port *b);
	bool netdev;		/* p->ifname (and netns) name an interface */
};

/* The type called name; NULL when there is none.  The table is port.c's. */
const struct conf_type *conf_type_find(const char *name);
/* The i-th type (from 0), NULL past the last. */
const struct conf_type *conf_type_find_nth(size_t i);
/* The names of the types, ", "-separated (for messages; static). */
const char *conf_type_names(void);
/* The type of a port without type = (tap). */
const struct conf_type *conf_type_default(void);

/*
 * The ingress/egress policy of a port (DESIGN.md, "Forwarding rules" step
 * 3; policy.h applies it).  Fixed-size lists, zeroed past n, so that a
 * port's keys compare with memcmp like any other.
 */
struct conf_mac_list {
	uint8_t n;
	uint8_t mac[CONF_ALLOWED_MAX][6];
};

struct conf_ip_prefix {
	uint8_t v6;		/* 0: IPv4 in addr[0..4) */
	uint8_t plen;		/* prefix length: 32 or 128 for one address */
	uint8_t addr[16];	/* network order, zero past plen */
};

struct conf_ip_list {
	uint8_t n;
	struct conf_ip_prefix ip[CONF_ALLOWED_MAX];
};

/* EtherType 0 in the list stands for 802.3 frames with a length
 * (LLC). */
struct conf_ethertype_list {
	uint16_t n;
	uint16_t type[CONF_ALLOWED_MAX];
};

struct conf_policy {
	struct conf_mac_list allowed_macs;	/* n == 0: any */
	struct conf_ip_list allowed_ips;	/* n == 0: any */
	struct conf_ethertype_list allowed_ethertypes;	/* n == 0: any */
	uint64_t rate_limit;		/* ingress, bits/s; 0: none */
	uint64_t egress_rate_limit;	/* bits/s; 0: none */
	uint64_t burst;			/* bytes; 0: the default */
	uint32_t storm_limit;		/* frames/s; 0: none */
	bool bpdu_guard;
};

/* The keys of struct conf_policy, as bits of conf_port.given. */
extern const uint32_t conf_policy_keys;

struct conf_port {
	char *name;		/* section name, [A-Za-z0-9_.-]{1,64} */
	const struct conf_type *type;
	void *settings;		/* the type's; type->size bytes */
	char *ifname;		/* interface, for a netdev type; else NULL */
	char *netns;		/* its namespace; NULL = the daemon's */
	unsigned mtu;
	uint16_t vlan;		/* access VLAN; 0 on a trunk */
	bool trunk;		/* trunk = given */
	struct vlan_set trunk_vlans;
	uint16_t native;	/* native VLAN of a trunk; 0 = none */
	uint32_t mac_limit;	/* 0 = no limit */
	unsigned line;		/* line of the [port] header; 0 if not from a file */
	/* Which keys were given: bit i of the common table, of the type's. */
	uint32_t given, type_given;
	struct conf_policy pol;	/* last: large, and not on the data path */
};

/* Whether key was given for p (common or the type's). */
bool conf_port_given(const struct conf_port *p, const char *key);

/* io_uring = auto | yes | no: auto (the default) uses io_uring where the
 * kernel lets the daemon, and read/write otherwise; yes does not start
 * without it. */
enum conf_io_uring {
	CONF_IO_URING_AUTO = 0,
	CONF_IO_URING_YES,
	CONF_IO_URING_NO,
};

/* "auto", "yes" or "no". */
const char *conf_io_uring_name(enum conf_io_uring v);

struct conf_switch {
	unsigned queues;	/* 1..16; default online CPUs clamped */
	bool offload;		/* default yes */
	uint32_t fdb_size;	/* default 8192 */
	uint32_t fdb_aging;	/* seconds, default 300 */
	char *control_socket;	/* default CONF_DEFAULT_SOCKET */
	char *control_group;	/* NULL = the daemon's group */
	char *user;		/* run as this user; NULL = stay root */
	enum log_level log_level;	/* default info */
	char *metrics_listen;	/* "ADDR:PORT"; NULL = no metrics */
	uint32_t busy_poll;	/* microseconds, default 50; 0 = never poll */
	enum conf_io_uring io_uring;	/* default auto */
	bool loop_protect;	/* default yes: err-disable a looping port */
	uint32_t loop_holddown;	/* seconds, default 30 */
};

struct conf {
	char *path;		/* file it came from (for messages) */
	struct conf_switch sw;
	struct conf_port *ports;
	size_t n_ports;
};

/*
 * Read and validate the file at path.  On success returns 0 and a new
 * struct conf in *out (free with conf_free).  On failure returns -EINVAL
 * (or -errno when the file cannot be read) and a malloc'd message in *err:
 * one "FILE:LINE: what is wrong" line per problem, '\n'-separated, without
 * a trailing newline; the caller frees it.
 */
int conf_load(const char *path, struct conf **out, char **err);

/* As conf_load, but parse text (NUL-terminated) and name it 'name' in
 * messages.  Used by tests and the fuzzer. */
int conf_parse_string(const char *text, const char *name, struct conf **out,
    char **err);

void conf_free(struct conf *conf);

/* A deep copy of conf. */
struct conf *conf_dup(const struct conf *conf);

/* Deep-copy / free the strings of the [switch] settings. */
void conf_switch_copy(struct conf_switch *dst, const struct conf_switch *src);
void conf_switch_destroy(struct conf_switch *sw);

struct sockaddr_storage;
/* Parse "A.B.C.D:PORT" or "[IPV6]:PORT" (PORT 1..65535) into *ss and
 * *len.  0 or -EINVAL. */
int conf_listen_parse(const char *text, struct sockaddr_storage *ss,
    unsigned *len);

/* Defaults of a port called name: the default type (tap: ifname =
 * name), mtu 1500, access VLAN 1. */
void conf_port_init(struct conf_port *p, const char *name);
void conf_port_destroy(struct conf_port *p);
void conf_port_copy(struct conf_port *dst, const struct conf_port *src);

/*
 * Set one key of a port from its text value, exactly as in a [port]
 * section.  Returns 0, or -EINVAL with a malloc'd message in *err that has
 * no location prefix (e.g. "unknown key \"vlna\" (did you mean \"vlan\"?)").
 * "type" starts the port's type settings afresh, so it goes first (the
 * file parser and "port add" see to that).
 */
int conf_port_set(struct conf_port *p, const char *key, const char *value,
    char **err);

/* Check the keys of one port against each other (vlan with trunk, native
 * without trunk, the type's own checks).  Same contract as conf_port_set. */
int conf_port_check(const struct conf_port *p, char **err);

/* The same checks, each problem with the key(s) it is about; returns
 * how many (at most CONF_PROBLEMS_MAX). */
size_t conf_port_problems(const struct conf_port *p,
    struct conf_problem pr[CONF_PROBLEMS_MAX]);

/* Whether a and b use the same interface (ifname and netns); false
 * when either has none. */
bool conf_port_same_link(const struct conf_port *a, const struct conf_port *b);

/* "yes"/"no" (true/false, on/off, 1/0, any case) into *out.  0 or
 * -EINVAL. */
int conf_parse_bool(const char *s, bool *out);

/* Port name syntax check: 1..64 of [A-Za-z0-9_.-]. */
bool conf_port_name_valid(const char *name);
/* Interface name syntax check, as for ifname = (1..15 bytes, no '/', ':',
 * blank or control character, not "." or ".."). */
bool conf_ifname_valid(const char *ifname);
/* Namespace name syntax check, as for netns = (1..64 of [A-Za-z0-9_.-],
 * not "." or ".."). */
bool conf_netns_valid(const char *netns);

/* Whether a and b cannot both exist by their type's rules
 * (conf_type.conflict): a malloc'd message about b, or NULL. */
char *conf_port_conflict(const struct conf_port *a, const struct conf_port *b);

/* True when two ports would be set up identically (reload keeps them). */
bool conf_port_equal(const struct conf_port *a, const struct conf_port *b);
/* True when a and b differ at most in their policy keys, which a running
 * port can take without being re-created. */
bool conf_port_equal_but_policy(const struct conf_port *a,
    const struct conf_port *b);
/* Whether p has any policy key. */
bool conf_port_has_policy(const struct conf_port *p);

/* "RATE" (bits per second, with an optional k, M or G: powers of 1000)
 * into *bps, CONF_RATE_MIN..CONF_RATE_MAX.  0 or -EINVAL. */
int conf_parse_rate(const char *s, uint64_t *bps);
/* An address or prefix ("10.0.0.5", "fd00::/64") into *ip.  0 or
 * -EINVAL. */
int conf_parse_ip_prefix(const char *s, struct conf_ip_prefix *ip);

const struct conf_port *conf_find_port(const struct conf *conf,
    const char *name);

/* The default number of queues: online CPUs clamped to 1..16. */
unsigned conf_default_queues(void);

#endif
