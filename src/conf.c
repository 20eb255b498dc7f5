/*
 * conf.c - parse and validate tapswitch.conf(5).
 *
 * libinih splits "key = value" lines; everything its default build cannot
 * do is done by the line reader we hand it (feed_line below): counting
 * lines for messages, '#' comments, section headers (inih reports none,
 * and truncates long section names), lines longer than inih's buffer, and
 * keeping inih's multi-line continuation from ever applying.  The reader
 * gives inih one line per physical line, already normalised, so inih sees
 * nothing it could interpret differently from us.
 *
 * Values go through one table of setters per section.  conf_port_set() is
 * the same setter table, used by the control socket for "port add", so a
 * key means the same thing in the file and at run time.  Every problem
 * is collected with its line; the caller gets all of them or a complete
 * configuration.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "tapswitch/conf.h"
#include "tapswitch/fdb.h"

#define CONF_FILE_MAX (16u << 20)	/* bigger is not a config file */
#define CONF_ERRORS_MAX 20		/* then stop reading */
#define CONF_PORTS_MAX FDB_PORT_MAX
#define CONF_NAME_MAX 64		/* port and netns names */
#define CONF_GROUP_MAX 32
#define CONF_AGING_MAX 1000000
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define SHOWN_MAX 64			/* bytes of user text in a message */

/* Keys (conf.h): a setter parses value into its object, or returns
 * -EINVAL with a static explanation of what is expected in *why.  The
 * [switch] keys use name and set only. */
typedef struct conf_key key_t_;

/* ---- Value syntax ---- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* 1..max bytes of [A-Za-z0-9_.-]. */
static bool
name_valid(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= max || !is_name_char(s[n]))
			return false;
	return n > 0;
}

bool
conf_port_name_valid(const char *name)
{
	return name_valid(name, CONF_NAME_MAX);
}

static bool
is_dot_or_dotdot(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

/* What the kernel accepts as an interface name (dev_valid_name()), minus
 * control characters, which have no place in logs. */
static bool
ifname_valid(const char *s)
{
	size_t n;

	if (is_dot_or_dotdot(s))
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= CONF_IFNAME_MAX || c == '/' || c == ':' || c == ' ' ||
		    c < 0x20 || c == 0x7f)
			return false;
	}
	return n > 0;
}

bool
conf_ifname_valid(const char *ifname)
{
	return ifname_valid(ifname);
}

static bool
netns_valid(const char *s)
{
	return name_valid(s, CONF_NETNS_MAX) && !is_dot_or_dotdot(s);
}

bool
conf_netns_valid(const char *netns)
{
	return netns_valid(netns);
}

int
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_vlan(const char *s, uint16_t *out, const char **why)
{
	unsigned long v;

	if (parse_uint(s, VLAN_MIN, VLAN_MAX, &v) < 0) {
		*why = "VLAN must be 1..4094";
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* ---- [port NAME] keys ---- */

int
conf_set_ifname(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (!ifname_valid(value)) {
		*why = "interface names are 1..15 characters without '/', "
		    "':', spaces or control characters, and not \".\" or "
		    "\"..\"";
		return -EINVAL;
	}
	set_string(&p->ifname, value);
	return 0;
}

static int
port_mtu(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	unsigned long v;

	if (parse_uint(value, CONF_MTU_MIN, CONF_MTU_MAX, &v) < 0) {
		*why = "expected an integer 68..65535";
		return -EINVAL;
	}
	p->mtu = (unsigned)v;
	return 0;
}

static int
port_vlan(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	return parse_vlan(value, &p->vlan, why);
}

static int
port_trunk(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	struct vlan_set s;

	if (vlan_set_parse(value, &s, why) < 0)
		return -EINVAL;
	p->trunk_vlans = s;
	p->trunk = true;
	/* A trunk has no access VLAN; if vlan = is given too, the
	 * cross-key check reports it. */
	if (!conf_port_given(p, "vlan"))
		p->vlan = 0;
	return 0;
}

static int
port_native(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	return parse_vlan(value, &p->native, why);
}

static int
port_mac_limit(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	unsigned long v;

	if (parse_uint(value, 0, CONF_FDB_SIZE_MAX, &v) < 0) {
		*why = "expected an integer 0..16777216 (0 = no limit)";
		return -EINVAL;
	}
	p->mac_limit = (uint32_t)v;
	return 0;
}

int
conf_set_netns(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (!netns_valid(value)) {
		*why = "namespace names are 1..64 characters of A-Z a-z 0-9 "
		    "_ . -, and not \".\" or \"..\"";
		return -EINVAL;
	}
	set_string(&p->netns, value);
	return 0;
}

/* ---- Policy keys ---- */

/* Call fn for each item of a ", "-separated list (blanks around items
 * are ignored); stops at the first failure.  An empty item, or more than
 * max items, is an error. */
static int
list_each(const char *value, size_t max,
    int (*fn)(const char *item, void *arg, size_t i), void *arg)
{
	char buf[64];
	size_t i = 0;
	const char *p = value;

	for (;;) {
		const char *comma = strchr(p, ','), *end;
		size_t len;

		while (is_blank(*p))
			p++;
		end = comma ? comma : p + strlen(p);
		while (end > p && is_blank(end[-1]))
			end--;
		len = (size_t)(end - p);
		if (len == 0 || len >= sizeof(buf) || i >= max)
			return -EINVAL;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (fn(buf, arg, i++) < 0)
			return -EINVAL;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int
mac_item(const char *item, void *arg, size_t i)
{
	struct conf_mac_list *l = arg;

	if (mac_parse(item, l->mac[i]) < 0 || (l->mac[i][0] & 1) ||
	    mac_to_u64(l->mac[i]) == 0)
		return -EINVAL;
	l->n = (uint8_t)(i + 1);
	return 0;
}

static int
port_allowed_macs(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	struct conf_mac_list l;

	memset(&l, 0, sizeof(l));
	if (list_each(value, CONF_ALLOWED_MAX, mac_item, &l) < 0) {
		*why = "expected 1 to 16 unicast MAC addresses, comma-separated "
		    "(e.g. 52:54:00:12:34:56)";
		return -EINVAL;
	}
	p->pol.allowed_macs = l;
	return 0;
}

int
conf_parse_ip_prefix(const char *s, struct conf_ip_prefix *ip)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen, max;

	if (len == 0 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, len);
	addr[len] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, addr, ip->addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, ip->addr) == 1) {
		ip->v6 = 1;
		max = 128;
	} else
		return -EINVAL;
	plen = max;
	if (slash && parse_uint(slash + 1, 1, max, &plen) < 0)
		return -EINVAL;
	ip->plen = (uint8_t)plen;
	/* The bits past the prefix must be 0: 10.0.0.5/24 is a typo for
	 * 10.0.0.5 or 10.0.0.0/24, not something to guess. */
	for (unsigned b = (unsigned)plen; b < max; b++)
		if (ip->addr[b / 8] & (0x80 >> (b % 8)))
			return -EINVAL;
	return 0;
}

static int
ip_item(const char *item, void *arg, size_t i)
{
	struct conf_ip_list *l = arg;

	if (conf_parse_ip_prefix(item, &l->ip[i]) < 0)
		return -EINVAL;
	l->n = (uint8_t)(i + 1);
	return 0;
}

static int
port_allowed_ips(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	struct conf_ip_list l;

	memset(&l, 0, sizeof(l));
	if (list_each(value, CONF_ALLOWED_MAX, ip_item, &l) < 0) {
		*why = "expected 1 to 16 IPv4 or IPv6 addresses or prefixes, "
		    "comma-separated (e.g. 10.0.10.5, fd00:10::5, "
		    "fe80::/64), with no bits set past a prefix";
		return -EINVAL;
	}
	p->pol.allowed_ips = l;
	return 0;
}

static int
ethertype_item(const char *item, void *arg, size_t i)
{
	static const struct {
		const char *name;
		uint16_t type;
	} names[] = {
		{ "ipv4", 0x0800 }, { "arp", 0x0806 }, { "ipv6", 0x86dd },
		{ "llc", 0 },
	};
	struct conf_ethertype_list *l = arg;
	unsigned long v;
	char *end;

	for (size_t k = 0; k < ARRAY_SIZE(names); k++)
		if (strcasecmp(item, names[k].name) == 0) {
			l->type[i] = names[k].type;
			l->n = (uint16_t)(i + 1);
			return 0;
		}
	if (strncasecmp(item, "0x", 2) != 0 || item[2] == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoul(item + 2, &end, 16);
	if (*end != '\0' || errno || v < 0x600 || v > 0xffff ||
	    v == ETH_TYPE_VLAN || v == 0x88a8)
		return -EINVAL;
	l->type[i] = (uint16_t)v;
	l->n = (uint16_t)(i + 1);
	return 0;
}

static int
port_allowed_ethertypes(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	struct conf_ethertype_list l;

	memset(&l, 0, sizeof(l));
	if (list_each(value, CONF_ALLOWED_MAX, ethertype_item, &l) < 0) {
		*why = "expected 1 to 16 of ipv4, arp, ipv6, llc or a hex "
		    "EtherType 0x0600..0xffff (not a VLAN tag type), "
		    "comma-separated";
		return -EINVAL;
	}
	p->pol.allowed_ethertypes = l;
	return 0;
}

/* A number with an optional k, M or G suffix (powers of base) into *out,
 * min..max.  0 or -EINVAL. */
static int
parse_scaled(const char *s, uint64_t base, uint64_t min, uint64_t max,
    uint64_t *out)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end != '\0') {
		switch (*end) {
		case 'k': case 'K': mul = base; break;
		case 'm': case 'M': mul = base * base; break;
		case 'g': case 'G': mul = base * base * base; break;
		default: return -EINVAL;
		}
		if (end[1] != '\0')
			return -EINVAL;
	}
	if (v > max / mul || v * mul < min)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int
conf_parse_rate(const char *s, uint64_t *bps)
{
	return parse_scaled(s, 1000, CONF_RATE_MIN, CONF_RATE_MAX, bps);
}

#define RATE_WHY "expected bits per second 8k..1000G, with an optional " \
	"k, M or G suffix (e.g. 200M)"

static int
port_rate_limit(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (conf_parse_rate(value, &p->pol.rate_limit) < 0) {
		*why = RATE_WHY;
		return -EINVAL;
	}
	return 0;
}

static int
port_egress_rate_limit(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (conf_parse_rate(value, &p->pol.egress_rate_limit) < 0) {
		*why = RATE_WHY;
		return -EINVAL;
	}
	return 0;
}

static int
port_burst(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (parse_scaled(value, 1024, 1, CONF_BURST_MAX, &p->pol.burst) < 0) {
		*why = "expected bytes 1..4G, with an optional k, M or G "
		    "suffix (powers of 1024, e.g. 512k)";
		return -EINVAL;
	}
	return 0;
}

static int
port_storm_limit(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;
	unsigned long v;

	if (parse_uint(value, 1, CONF_STORM_MAX, &v) < 0) {
		*why = "expected frames per second 1..100000000";
		return -EINVAL;
	}
	p->pol.storm_limit = (uint32_t)v;
	return 0;
}

static int
port_bpdu_guard(void *obj, const char *value, const char **why)
{
	struct conf_port *p = obj;

	if (conf_parse_bool(value, &p->pol.bpdu_guard) < 0) {
		*why = "expected yes or no (or true/false, on/off, 1/0)";
		return -EINVAL;
	}
	return 0;
}

/* "type" is set by conf_port_set_type(); its entry is here for lookups,
 * messages and the given bits.  Its field, the type pointer, is compared
 * like any other. */
static int
port_type_key(void *obj, const char *value, const char **why)
{
	(void)obj;
	(void)value;
	*why = "internal: type is set by conf_port_set_type";
	return -EINVAL;
}

static const key_t_ port_keys[] = {
	CONF_KEY("type", port_type_key, CONF_IN_PORT, struct conf_port, type),
	CONF_KEY("mtu", port_mtu, CONF_IN_PORT, struct conf_port, mtu),
	CONF_KEY("vlan", port_vlan, CONF_IN_PORT, struct conf_port, vlan),
	CONF_KEY("trunk", port_trunk, CONF_IN_PORT, struct conf_port,
	    trunk_vlans),
	CONF_KEY("native", port_native, CONF_IN_PORT, struct conf_port,
	    native),
	CONF_KEY("mac_limit", port_mac_limit, CONF_IN_PORT, struct conf_port,
	    mac_limit),
	/* The policy keys: from here on (conf_policy_keys). */
	CONF_KEY("allowed_macs", port_allowed_macs, CONF_IN_PORT,
	    struct conf_port, pol.allowed_macs),
	CONF_KEY("allowed_ips", port_allowed_ips, CONF_IN_PORT,
	    struct conf_port, pol.allowed_ips),
	CONF_KEY("allowed_ethertypes", port_allowed_ethertypes, CONF_IN_PORT,
	    struct conf_port, pol.allowed_ethertypes),
	CONF_KEY("rate_limit", port_rate_limit, CONF_IN_PORT, struct conf_port,
	    pol.rate_limit),
	CONF_KEY("egress_rate_limit", port_egress_rate_limit, CONF_IN_PORT,
	    struct conf_port, pol.egress_rate_limit),
	CONF_KEY("burst", port_burst, CONF_IN_PORT, struct conf_port,
	    pol.burst),
	CONF_KEY("storm_limit", port_storm_limit, CONF_IN_PORT,
	    struct conf_port, pol.storm_limit),
	CONF_KEY("bpdu_guard", port_bpdu_guard, CONF_IN_PORT,
	    struct conf_port, pol.bpdu_guard),
};

#define POLICY_KEY_FIRST 6
#define POLICY_KEY_N 8
_Static_assert(ARRAY_SIZE(port_keys) == POLICY_KEY_FIRST + POLICY_KEY_N,
    "the policy keys are the last of port_keys");
const uint32_t conf_policy_keys =
    ((UINT32_C(1) << POLICY_KEY_N) - 1) << POLICY_KEY_FIRST;

/* ---- [switch] keys ---- */

static int
sw_queues(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	unsigned long v;

	if (parse_uint(value, 1, CONF_QUEUES_MAX, &v) < 0) {
		*why = "expected an integer 1..16";
		return -EINVAL;
	}
	sw->queues = (unsigned)v;
	return 0;
}

static int
sw_offload(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (conf_parse_bool(value, &sw->offload) < 0) {
		*why = "expected yes or no (or true/false, on/off, 1/0)";
		return -EINVAL;
	}
	return 0;
}

static int
sw_fdb_size(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	unsigned long v;

	if (parse_uint(value, 1, CONF_FDB_SIZE_MAX, &v) < 0) {
		*why = "expected an integer 1..16777216";
		return -EINVAL;
	}
	sw->fdb_size = (uint32_t)v;
	return 0;
}

static int
sw_fdb_aging(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	unsigned long v;

	if (parse_uint(value, 0, CONF_AGING_MAX, &v) < 0) {
		*why = "expected seconds 0..1000000 (0 = never age)";
		return -EINVAL;
	}
	sw->fdb_aging = (uint32_t)v;
	return 0;
}

static int
sw_control_socket(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (value[0] != '/' || strlen(value) > SOCKET_PATH_MAX) {
		*why = "expected an absolute path of at most 107 characters";
		return -EINVAL;
	}
	set_string(&sw->control_socket, value);
	return 0;
}

static int
sw_control_group(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (!name_valid(value, CONF_GROUP_MAX) || value[0] == '-') {
		*why = "group names are 1..32 characters of A-Z a-z 0-9 _ . -, "
		    "not starting with -";
		return -EINVAL;
	}
	set_string(&sw->control_group, value);
	return 0;
}

static int
sw_user(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (!name_valid(value, CONF_GROUP_MAX) || value[0] == '-') {
		*why = "user names are 1..32 characters of A-Z a-z 0-9 _ . -, "
		    "not starting with -";
		return -EINVAL;
	}
	set_string(&sw->user, value);
	return 0;
}

static int
sw_log_level(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (log_level_parse(value, &sw->log_level) < 0) {
		*why = "expected error, warning, info or debug";
		return -EINVAL;
	}
	return 0;
}

static int
sw_metrics_listen(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	struct sockaddr_storage ss;
	unsigned len;

	if (conf_listen_parse(value, &ss, &len) < 0) {
		*why = "expected ADDRESS:PORT, e.g. 127.0.0.1:9465 or "
		    "[::1]:9465";
		return -EINVAL;
	}
	set_string(&sw->metrics_listen, value);
	return 0;
}

static int
sw_busy_poll(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	unsigned long v;

	if (parse_uint(value, 0, CONF_BUSY_POLL_MAX, &v) < 0) {
		*why = "expected microseconds 0..1000 (0 = off)";
		return -EINVAL;
	}
	sw->busy_poll = (uint32_t)v;
	return 0;
}

const char *
conf_io_uring_name(enum conf_io_uring v)
{
	return v == CONF_IO_URING_YES ? "yes" : v == CONF_IO_URING_NO ? "no" :
	    "auto";
}

static int
sw_io_uring(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	bool on;

	if (strcmp(value, "auto") == 0) {
		sw->io_uring = CONF_IO_URING_AUTO;
		return 0;
	}
	if (conf_parse_bool(value, &on) < 0) {
		*why = "expected auto, yes or no (or true/false, on/off, 1/0)";
		return -EINVAL;
	}
#ifndef HAVE_LIBURING
	if (on) {
		*why = "this tapswitchd was built without io_uring "
		    "(configure --with-io-uring, which needs liburing-dev; "
		    "auto or no does without)";
		return -EINVAL;
	}
#endif
	sw->io_uring = on ? CONF_IO_URING_YES : CONF_IO_URING_NO;
	return 0;
}

static int
sw_loop_protect(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;

	if (conf_parse_bool(value, &sw->loop_protect) < 0) {
		*why = "expected yes or no (or true/false, on/off, 1/0)";
		return -EINVAL;
	}
	return 0;
}

static int
sw_loop_holddown(void *obj, const char *value, const char **why)
{
	struct conf_switch *sw = obj;
	unsigned long v;

	if (parse_uint(value, 1, CONF_LOOP_HOLDDOWN_MAX, &v) < 0) {
		*why = "expected seconds 1..86400";
		return -EINVAL;
	}
	sw->loop_holddown = (uint32_t)v;
	return 0;
}

static const key_t_ switch_keys[] = {
	{ .name = "queues", .set = sw_queues },
	{ .name = "offload", .set = sw_offload },
	{ .name = "fdb_size", .set = sw_fdb_size },
	{ .name = "fdb_aging", .set = sw_fdb_aging },
	{ .name = "control_socket", .set = sw_control_socket },
	{ .name = "control_group", .set = sw_control_group },
	{ .name = "user", .set = sw_user },
	{ .name = "log_level", .set = sw_log_level },
	{ .name = "metrics_listen", .set = sw_metrics_listen },
	{ .name = "busy_poll", .set = sw_busy_poll },
	{ .name = "io_uring", .set = sw_io_uring },
	{ .name = "loop_protect", .set = sw_loop_protect },
	{ .name = "loop_holddown", .set = sw_loop_holddown },
};

#define N_PORT_KEYS ARRAY_SIZE(port_keys)
#define N_SWITCH_KEYS ARRAY_SIZE(switch_keys)

/* ---- Messages ---- */

/*
 * User text for a message: at most SHOWN_MAX bytes, with '"', '\' and
 * anything unprintable escaped, so a hostile file cannot put escape
 * sequences or megabytes into a terminal or a log.  Caller frees.
 */
static char *
shown(const char *s)
{
	size_t i, n = strlen(s), len = n < SHOWN_MAX ? n : SHOWN_MAX;
	char *out = xmalloc(len * 4 + 4), *o = out;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += sprintf(o, "\\x%02x", c);
		} else {
			*o++ = (char)c;
		}
	}
	if (len < n)
		o += sprintf(o, "...");
	*o = '\0';
	return out;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Edit distance between a and b, ignoring case, counting a swap of two
 * neighbours as one edit (optimal string alignment).  Both are at most
 * 32 bytes; the caller skips longer ones.
 */
static unsigned
edit_distance(const char *a, const char *b)
{
	unsigned d[34][34];
	size_t la = strlen(a), lb = strlen(b), i, j;

	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) != lower(b[j - 1]);
			unsigned v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The known key closest to key, if it is at most 2 edits away. */
static const char *
suggest(const key_t_ *keys, size_t n, const char *key)
{
	const char *best = NULL;
	unsigned best_d = 3;
	size_t len = strlen(key);

	if (len > 32)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i].name);
		unsigned d;

		if (kl > len + 2 || len > kl + 2)
			continue;
		if ((d = edit_distance(key, keys[i].name)) < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best;
}

static int
key_find(const key_t_ *keys, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, key) == 0)
			return (int)i;
	return -1;
}

/*
 * "unknown key "k"<where> (did you mean "x"?)".  where is "" or
 * " in [section]"; other, when given, is the table of the other section,
 * to point at a key that is merely in the wrong place.
 */
static char *
unknown_key_msg(const key_t_ *keys, size_t n, const char *key,
    const char *where, const key_t_ *other, size_t n_other,
    const char *other_section)
{
	const char *hint;
	char *k = shown(key), *msg;

	if (other && key_find(other, n_other, key) >= 0)
		msg = xasprintf("unknown key \"%s\"%s (%s is a key of %s)", k,
		    where, key, other_section);
	else if ((hint = suggest(keys, n, key)) != NULL)
		msg = xasprintf("unknown key \"%s\"%s (did you mean \"%s\"?)",
		    k, where, hint);
	else
		msg = xasprintf("unknown key \"%s\"%s", k, where);
	free(k);
	return msg;
}

static char *
bad_value_msg(const char *key, const char *value, const char *where,
    const char *why)
{
	char *v = shown(value), *msg;

	msg = xasprintf("bad value \"%s\" for %s%s: %s", v, key, where, why);
	free(v);
	return msg;
}

/* ---- Ports ---- */

/* Where entry k of p's common or type table keeps its value. */
static void *
key_obj(const struct conf_port *p, const key_t_ *k)
{
	return k->base == CONF_IN_PORT ? (void *)p : p->settings;
}

/* Every key entry k of p: the common ones, then its type's. */
#define FOR_EACH_KEY(p, k) \
	for (size_t t_ = 0, i_ = 0; t_ < 2; t_++, i_ = 0) \
		for (const key_t_ *k; i_ < (t_ ? (p)->type->n_keys : \
		    N_PORT_KEYS) && (k = (t_ ? (p)->type->keys : port_keys) + \
		    i_, true); i_++)

/* Index of key in p's common table (*type false) or its type's, or -1. */
static int
port_key_find(const struct conf_port *p, const char *key, bool *type)
{
	int i = key_find(port_keys, N_PORT_KEYS, key);

	*type = false;
	if (i >= 0 || !p->type)
		return i;
	*type = true;
	return key_find(p->type->keys, p->type->n_keys, key);
}

bool
conf_port_given(const struct conf_port *p, const char *key)
{
	bool type;
	int i = port_key_find(p, key, &type);

	if (i < 0)
		return false;
	return ((type ? p->type_given : p->given) >> i) & 1;
}

/* Free the strings of p's key values (common or the type's). */
static void
port_free_values(struct conf_port *p)
{
	FOR_EACH_KEY(p, k) {
		if (k->str && key_obj(p, k)) {
			char **f = (char **)((char *)key_obj(p, k) + k->off);

			free(*f);
			*f = NULL;
		}
	}
}

/* Make t the type of p: everything of its old type goes (its settings
 * and the interface keys), t's defaults come.  So "type" goes first. */
static void
conf_port_set_type(struct conf_port *p, const struct conf_type *t)
{
	if (p->type)
		port_free_values(p);
	free(p->settings);
	free(p->ifname);
	free(p->netns);
	p->ifname = p->netns = NULL;
	p->type = t;
	p->settings = t->size ? xcalloc(1, t->size) : NULL;
	p->type_given = 0;
	if (t->init)
		t->init(p);
}

void
conf_port_init(struct conf_port *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->mtu = CONF_MTU_DEFAULT;
	p->vlan = 1;
	conf_port_set_type(p, conf_type_default());
}

void
conf_port_destroy(struct conf_port *p)
{
	if (p->type)
		port_free_values(p);
	free(p->settings);
	free(p->name);
	free(p->ifname);
	free(p->netns);
	p->name = p->ifname = p->netns = NULL;
	p->settings = NULL;
}

void
conf_port_copy(struct conf_port *dst, const struct conf_port *src)
{
	*dst = *src;
	dst->name = xstrdup_null(src->name);
	dst->ifname = xstrdup_null(src->ifname);
	dst->netns = xstrdup_null(src->netns);
	if (src->settings) {
		dst->settings = xmalloc(src->type->size);
		memcpy(dst->settings, src->settings, src->type->size);
	}
	FOR_EACH_KEY(dst, k) {
		if (k->str && key_obj(dst, k)) {
			char **f = (char **)((char *)key_obj(dst, k) + k->off);

			*f = xstrdup_null(*f);
		}
	}
}

/* "persist" given to a port of another type: the types that have it. */
static char *
other_type_key_msg(const struct conf_port *p, const char *key,
    const char *where)
{
	const struct conf_type *t;
	char *msg;

	for (size_t i = 0; (t = conf_type_find_nth(i)) != NULL; i++) {
		if (t == p->type || key_find(t->keys, t->n_keys, key) < 0)
			continue;
		msg = xasprintf("\"%s\" is not a key of a %s port%s (it is "
		    "one of type %s)", key, p->type->name, where, t->name);
		return msg;
	}
	return NULL;
}

/* The unknown-key message for key in a port like p. */
static char *
port_unknown_key_msg(const struct conf_port *p, const char *key,
    const char *where, const key_t_ *other, size_t n_other,
    const char *other_section)
{
	size_t n = N_PORT_KEYS + p->type->n_keys;
	key_t_ *all = xmalloc(n * sizeof(*all));
	char *msg;

	if ((msg = other_type_key_msg(p, key, where)) != NULL) {
		free(all);
		return msg;
	}
	memcpy(all, port_keys, sizeof(port_keys));
	memcpy(all + N_PORT_KEYS, p->type->keys,
	    p->type->n_keys * sizeof(*all));
	msg = unknown_key_msg(all, n, key, where, other, n_other,
	    other_section);
	free(all);
	return msg;
}

/* Set key of p; where is "" or " in [port NAME]" for messages. */
static int
port_set(struct conf_port *p, const char *key, const char *value,
    const char *where, const key_t_ *other, size_t n_other,
    const char *other_section, char **err)
{
	const char *why = NULL;
	const key_t_ *k;
	bool type;
	int i;

	if ((i = port_key_find(p, key, &type)) < 0) {
		*err = port_unknown_key_msg(p, key, where, other, n_other,
		    other_section);
		return -EINVAL;
	}
	if (!value) {
		*err = xasprintf("%s needs a value: %s=VALUE", key, key);
		return -EINVAL;
	}
	k = type ? &p->type->keys[i] : &port_keys[i];
	if (!type && i == 0) {
		const struct conf_type *t = conf_type_find(value);

		if (!t) {
			char *v = shown(value);

			*err = xasprintf("bad value \"%s\" for type%s: the "
			    "port types are %s", v, where, conf_type_names());
			free(v);
			return -EINVAL;
		}
		conf_port_set_type(p, t);
	} else if (k->set(key_obj(p, k), value, &why) < 0) {
		*err = bad_value_msg(key, value, where, why);
		return -EINVAL;
	}
	if (type)
		p->type_given |= UINT32_C(1) << i;
	else
		p->given |= UINT32_C(1) << i;
	return 0;
}

int
conf_port_set(struct conf_port *p, const char *key, const char *value,
    char **err)
{
	return port_set(p, key, value, "", NULL, 0, NULL, err);
}

size_t
conf_port_problems(const struct conf_port *p,
    struct conf_problem pr[CONF_PROBLEMS_MAX])
{
	size_t n = 0;

	if (conf_port_given(p, "vlan") && conf_port_given(p, "trunk"))
		pr[n++] = (struct conf_problem){ "vlan", "trunk", xasprintf(
		    "[port %s] sets both vlan and trunk; an access port has "
		    "vlan =, a trunk has trunk =", p->name) };
	if (conf_port_given(p, "native") && !conf_port_given(p, "trunk"))
		pr[n++] = (struct conf_problem){ "native", NULL, xasprintf(
		    "[port %s] sets native without trunk", p->name) };
	if (conf_port_given(p, "burst") && !p->pol.rate_limit &&
	    !p->pol.egress_rate_limit)
		pr[n++] = (struct conf_problem){ "burst", NULL, xasprintf(
		    "[port %s] sets burst without rate_limit or "
		    "egress_rate_limit", p->name) };
	if (p->type->netdev && (!p->ifname || !ifname_valid(p->ifname))) {
		/* Only a caller that fills the struct by hand gets here
		 * with ifname given: conf_set_ifname() checks what it
		 * stores. */
		if (conf_port_given(p, "ifname"))
			pr[n++] = (struct conf_problem){ "ifname", NULL,
			    xasprintf("[port %s] has an ifname that is not a "
			    "valid interface name; set ifname = again",
			    p->name) };
		else if (p->ifname)
			pr[n++] = (struct conf_problem){ NULL, NULL,
			    xasprintf("[port %s] needs ifname =: its name "
			    "cannot be an interface name (at most 15 "
			    "characters, not \".\" or \"..\")", p->name) };
		else
			pr[n++] = (struct conf_problem){ "type", NULL,
			    xasprintf("[port %s] needs ifname =: a %s port "
			    "is %s", p->name, p->type->name,
			    p->type->summary) };
	}
	if (p->type->check)
		p->type->check(p, pr, &n);
	return n;
}

int
conf_port_check(const struct conf_port *p, char **err)
{
	struct conf_problem pr[CONF_PROBLEMS_MAX];
	size_t n = conf_port_problems(p, pr);

	if (n == 0)
		return 0;
	*err = pr[0].msg;
	for (size_t i = 1; i < n; i++)
		free(pr[i].msg);
	return -EINVAL;
}

/* Generated from the key tables: every key's value, which keys were
 * given, and the interface. */
bool
conf_port_equal(const struct conf_port *a, const struct conf_port *b)
{
	if (!str_equal_null(a->name, b->name) || a->type != b->type ||
	    a->given != b->given || a->type_given != b->type_given ||
	    !str_equal_null(a->ifname, b->ifname) ||
	    !str_equal_null(a->netns, b->netns))
		return false;
	FOR_EACH_KEY(a, k) {
		const char *x = (const char *)key_obj(a, k) + k->off;
		const char *y = (const char *)key_obj(b, k) + k->off;

		if (k->str ? !str_equal_null(*(char *const *)x,
		    *(char *const *)y) : memcmp(x, y, k->size) != 0)
			return false;
	}
	return true;
}

char *
conf_port_conflict(const struct conf_port *a, const struct conf_port *b)
{
	if (a->type != b->type || !a->type->conflict)
		return NULL;
	return a->type->conflict(a, b);
}

bool
conf_port_equal_but_policy(const struct conf_port *a,
    const struct conf_port *b)
{
	struct conf_port t = *a;	/* shallow: only compared */

	t.pol = b->pol;
	t.given = (a->given & ~conf_policy_keys) | (b->given & conf_policy_keys);
	return conf_port_equal(&t, b);
}

bool
conf_port_has_policy(const struct conf_port *p)
{
	return (p->given & conf_policy_keys) != 0;
}

bool
conf_port_same_link(const struct conf_port *a, const struct conf_port *b)
{
	return a->ifname && b->ifname && strcmp(a->ifname, b->ifname) == 0 &&
	    str_equal_null(a->netns, b->netns);
}

const struct conf_port *
conf_find_port(const struct conf *conf, const char *name)
{
	if (!conf)
		return NULL;
	for (size_t i = 0; i < conf->n_ports; i++)
		if (strcmp(conf->ports[i].name, name) == 0)
			return &conf->ports[i];
	return NULL;
}

unsigned
conf_default_queues(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > CONF_QUEUES_MAX ? CONF_QUEUES_MAX : (unsigned)n;
}

void
conf_free(struct conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->n_ports; i++)
		conf_port_destroy(&conf->ports[i]);
	free(conf->ports);
	conf_switch_destroy(&conf->sw);
	free(conf->path);
	free(conf);
}

void
conf_switch_copy(struct conf_switch *dst, const struct conf_switch *src)
{
	*dst = *src;
	dst->control_socket = xstrdup_null(src->control_socket);
	dst->control_group = xstrdup_null(src->control_group);
	dst->user = xstrdup_null(src->user);
	dst->metrics_listen = xstrdup_null(src->metrics_listen);
}

void
conf_switch_destroy(struct conf_switch *sw)
{
	free(sw->control_socket);
	free(sw->control_group);
	free(sw->user);
	free(sw->metrics_listen);
	sw->control_socket = sw->control_group = NULL;
	sw->user = sw->metrics_listen = NULL;
}

struct conf *
conf_dup(const struct conf *conf)
{
	struct conf *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup_null(conf->path);
	conf_switch_copy(&c->sw, &conf->sw);
	c->n_ports = conf->n_ports;
	c->ports = xcalloc(conf->n_ports, sizeof(*c->ports));
	for (size_t i = 0; i < conf->n_ports; i++)
		conf_port_copy(&c->ports[i], &conf->ports[i]);
	return c;
}

int
conf_listen_parse(const char *text, struct sockaddr_storage *ss,
    unsigned *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	unsigned long port;
	size_t hl;

	if (!colon || parse_uint(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	hl = (size_t)(colon - text);
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	}
	return 0;
}

/* ---- The parser ---- */

struct perror {
	unsigned line;		/* 0: about the whole file */
	size_t seq;		/* keeps messages of one line in order */
	char *msg;		/* "FILE:LINE: ..." */
};

/* One "key = value" of a [port] section. */
struct pkey {
	char *key, *value;
	unsigned line;
};

/* A [port] section as read. */
struct pport {
	struct conf_port p;
	char *where;			/* " in [port NAME]" */
	struct pkey *keys;		/* as read; applied at its end */
	size_t n_keys;
	bool dup;			/* duplicate name: reported, dropped */
	bool bad_type;			/* type = unknown: reported, rest not
					 * applied */
};

enum section {
	SEC_NONE,		/* before the first header */
	SEC_SWITCH,
	SEC_PORT,		/* the last of ports[] */
	SEC_SKIP,		/* a bad header, already reported */
};

struct parser {
	const char *name;	/* the file, for messages */
	char *text;		/* our copy, cut into lines as we go */
	char *next;		/* start of the next line; NULL at the end */
	unsigned line;
	bool stopped;		/* too many errors */
	bool checking;		/* past the last line, in check_all() */

	enum section sec;
	struct conf_switch sw;
	unsigned switch_line;	/* first [switch] header */
	unsigned sw_key_line[N_SWITCH_KEYS];

	struct pport *ports;
	size_t n_ports, cap_ports;

	struct perror *errs;
	size_t n_errs, cap_errs;
};

static void
push_error(struct parser *ps, unsigned line, char *msg)
{
	struct perror *e;

	if (ps->n_errs == ps->cap_errs) {
		ps->cap_errs = ps->cap_errs ? ps->cap_errs * 2 : 8;
		ps->errs = xrealloc(ps->errs,
		    ps->cap_errs * sizeof(*ps->errs));
	}
	e = &ps->errs[ps->n_errs];
	e->line = line;
	e->seq = ps->n_errs;
	if (line)
		e->msg = xasprintf("%s:%u: %s", ps->name, line, msg);
	else
		e->msg = xasprintf("%s: %s", ps->name, msg);
	free(msg);
	ps->n_errs++;
}

/*
 * Record a problem at line (0: the file as a whole).  After
 * CONF_ERRORS_MAX of them, say so once and stop: the reader sees
 * ps->stopped and ends the input.
 */
static void PRINTF_FMT(3, 4)
add_error(struct parser *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (ps->stopped)
		return;
	if (ps->n_errs == CONF_ERRORS_MAX) {
		ps->stopped = true;
		if (ps->checking)
			push_error(ps, 0, xasprintf("too many errors; fix "
			    "these first"));
		else
			push_error(ps, ps->line, xasprintf("too many errors; "
			    "stopped reading here"));
		return;
	}
	va_start(ap, fmt);
	push_error(ps, line, xvasprintf(fmt, ap));
	va_end(ap);
}

/*
 * Set key in one section: reject unknown and repeated keys, else call the
 * setter.  key_line records where each key was first set.
 */
static void
section_set(struct parser *ps, const key_t_ *keys, size_t n,
    unsigned *key_line, void *obj, const char *where, const char *key,
    const char *value, const key_t_ *other, size_t n_other,
    const char *other_section)
{
	const char *why = NULL;
	char *msg, *k;
	int i;

	if ((i = key_find(keys, n, key)) < 0) {
		msg = unknown_key_msg(keys, n, key, where, other, n_other,
		    other_section);
		add_error(ps, ps->line, "%s", msg);
		free(msg);
		return;
	}
	if (key_line[i]) {
		k = shown(key);
		add_error(ps, ps->line, "duplicate key \"%s\"%s (first set at "
		    "line %u)", k, where, key_line[i]);
		free(k);
		return;
	}
	key_line[i] = ps->line;
	if (keys[i].set(obj, value, &why) < 0) {
		msg = bad_value_msg(key, value, where, why);
		add_error(ps, ps->line, "%s", msg);
		free(msg);
	}
}

/* One "key = value" of the current line, however it got split. */
static void
handle_key(struct parser *ps, const char *key, const char *value)
{
	struct pport *pp;
	char *k;

	switch (ps->sec) {
	case SEC_NONE:
		k = shown(key);
		add_error(ps, ps->line, "key \"%s\" is outside any section; "
		    "put it under [switch] or [port NAME]", k);
		free(k);
		break;
	case SEC_SWITCH:
		section_set(ps, switch_keys, N_SWITCH_KEYS, ps->sw_key_line,
		    &ps->sw, " in [switch]", key, value, port_keys,
		    N_PORT_KEYS, "[port NAME]");
		break;
	case SEC_PORT:
		/* Kept until the section ends: which keys a port has
		 * depends on its type, which may come last. */
		pp = &ps->ports[ps->n_ports - 1];
		pp->keys = xrealloc(pp->keys, (pp->n_keys + 1) *
		    sizeof(*pp->keys));
		pp->keys[pp->n_keys++] = (struct pkey){ xstrdup(key),
		    xstrdup(value), ps->line };
		break;
	case SEC_SKIP:
		break;
	}
}

/* Line of the first "key" of pp; 0 when it has none. */
static unsigned
pport_key_line(const struct pport *pp, const char *key)
{
	for (size_t i = 0; key && i < pp->n_keys; i++)
		if (strcmp(pp->keys[i].key, key) == 0)
			return pp->keys[i].line;
	return 0;
}

/* Line of a problem: the later of its keys, or the section header. */
static unsigned
problem_line(const struct pport *pp, const struct conf_problem *pr)
{
	unsigned a = pport_key_line(pp, pr->key);
	unsigned b = pport_key_line(pp, pr->key2);
	unsigned l = a > b ? a : b;

	return l ? l : pp->p.line;
}

/* Apply the keys of the last port section: its type first, then the
 * rest in order. */
static void
finish_port(struct parser *ps)
{
	struct pport *pp = &ps->ports[ps->n_ports - 1];
	unsigned type_line = pport_key_line(pp, "type"), line = ps->line;
	char *msg, *k;

	for (size_t i = 0; i < pp->n_keys; i++) {
		const struct pkey *pk = &pp->keys[i];
		unsigned first = pport_key_line(pp, pk->key);

		if (first != pk->line) {
			k = shown(pk->key);
			add_error(ps, pk->line, "duplicate key \"%s\"%s (first "
			    "set at line %u)", k, pp->where, first);
			free(k);
		}
	}
	if (type_line) {
		for (size_t i = 0; i < pp->n_keys; i++) {
			if (pp->keys[i].line != type_line)
				continue;
			if (port_set(&pp->p, "type", pp->keys[i].value,
			    pp->where, switch_keys, N_SWITCH_KEYS, "[switch]",
			    &msg) < 0) {
				add_error(ps, type_line, "%s", msg);
				free(msg);
				pp->bad_type = true;
			}
			break;
		}
	}
	for (size_t i = 0; i < pp->n_keys && !pp->bad_type; i++) {
		const struct pkey *pk = &pp->keys[i];

		if (pk->line == type_line ||
		    pport_key_line(pp, pk->key) != pk->line)
			continue;	/* the type, or a duplicate */
		/* Where reading stops after too many errors. */
		ps->line = pk->line;
		if (port_set(&pp->p, pk->key, pk->value, pp->where,
		    switch_keys, N_SWITCH_KEYS, "[switch]", &msg) < 0) {
			add_error(ps, pk->line, "%s", msg);
			free(msg);
		}
	}
	ps->line = line;
}

static void
start_port(struct parser *ps, const char *name)
{
	struct pport *pp;

	if (ps->n_ports == CONF_PORTS_MAX) {
		add_error(ps, ps->line, "too many ports: a switch has at most "
		    "%u", CONF_PORTS_MAX);
		ps->sec = SEC_SKIP;
		return;
	}
	if (ps->n_ports == ps->cap_ports) {
		ps->cap_ports = ps->cap_ports ? ps->cap_ports * 2 : 8;
		ps->ports = xrealloc(ps->ports,
		    ps->cap_ports * sizeof(*ps->ports));
	}
	pp = &ps->ports[ps->n_ports++];
	memset(pp, 0, sizeof(*pp));
	conf_port_init(&pp->p, name);
	pp->p.line = ps->line;
	pp->where = xasprintf(" in [port %s]", name);
	ps->sec = SEC_PORT;
}

/* A "[...]" line, comment and blanks already removed. */
static void
handle_header(struct parser *ps, char *line, size_t len)
{
	char *s, *name, *show;

	if (ps->sec == SEC_PORT)
		finish_port(ps);
	ps->sec = SEC_SKIP;
	if (line[len - 1] != ']') {
		show = shown(line);
		add_error(ps, ps->line, "bad section header \"%s\": expected "
		    "[switch] or [port NAME]", show);
		free(show);
		return;
	}
	line[len - 1] = '\0';
	for (s = line + 1; is_blank(*s); s++)
		;
	for (len = strlen(s); len > 0 && is_blank(s[len - 1]); len--)
		s[len - 1] = '\0';

	if (strcmp(s, "switch") == 0) {
		if (ps->switch_line) {
			add_error(ps, ps->line, "duplicate section [switch] "
			    "(first at line %u); use one [switch] section",
			    ps->switch_line);
			return;
		}
		ps->switch_line = ps->line;
		ps->sec = SEC_SWITCH;
		return;
	}
	if (strncmp(s, "port", 4) == 0 && (s[4] == '\0' || is_blank(s[4]))) {
		for (name = s + 4; is_blank(*name); name++)
			;
		if (*name == '\0') {
			add_error(ps, ps->line, "[port] needs a name: write "
			    "[port NAME]");
			return;
		}
		if (!conf_port_name_valid(name)) {
			show = shown(name);
			add_error(ps, ps->line, "bad port name \"%s\": port "
			    "names are 1..64 characters of A-Z a-z 0-9 _ . -",
			    show);
			free(show);
			return;
		}
		start_port(ps, name);
		return;
	}
	show = shown(s);
	add_error(ps, ps->line, "unknown section [%s]; sections are [switch] "
	    "and [port NAME]", show);
	free(show);
}

/*
 * Take the next physical line out of the text: count it, drop a UTF-8
 * byte order mark, comments (a line starting with '#' or ';', or one
 * after a blank) and surrounding blanks.  Returns the line and its
 * length in *lenp, or NULL at the end.
 */
static char *
next_line(struct parser *ps, size_t *lenp)
{
	char *line = ps->next, *nl, *c;
	size_t len;

	if (!line || (*line == '\0'))
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		ps->next = nl + 1;
	} else {
		ps->next = NULL;
	}
	if (++ps->line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	while (is_blank(*line))
		line++;
	if (*line == '#' || *line == ';') {
		*line = '\0';
	} else {
		for (c = line; (c = strpbrk(c, "#;")) != NULL; c++) {
			if (is_blank(c[-1])) {
				*c = '\0';
				break;
			}
		}
	}
	for (len = strlen(line); len > 0 && is_blank(line[len - 1]); len--)
		line[len - 1] = '\0';
	*lenp = len;
	return line;
}

/*
 * The ini_reader given to ini_parse_stream(): consume one physical line
 * and hand inih the part it should see, ending in '\n'.  Headers, blank
 * lines and errors are dealt with here and reach inih as an empty line,
 * so inih's line count stays ours.  A key line too long for inih's
 * buffer (num) is handled here too, split exactly as inih would.
 */
static char *
feed_line(char *str, int num, void *stream)
{
	struct parser *ps = stream;
	char *line, *eq, *value, *show;
	size_t len, klen;

	if (ps->stopped || num < 1 || !(line = next_line(ps, &len)))
		return NULL;
	str[0] = '\0';
	if (num >= 2)
		strcpy(str, "\n");
	if (len == 0)
		return str;
	if (line[0] == '[') {
		handle_header(ps, line, len);
		return str;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		show = shown(line);
		add_error(ps, ps->line, "\"%s\" is not a setting: expected "
		    "key = value, [switch] or [port NAME]", show);
		free(show);
		return str;
	}
	for (klen = (size_t)(eq - line); klen > 0 && is_blank(line[klen - 1]);
	    klen--)
		;
	if (klen == 0) {
		add_error(ps, ps->line, "missing key before \"=\"");
		return str;
	}
	/* inih would split "a:b = c" at ':', skip a second byte order
	 * mark, and cannot take lines that do not fit its buffer with the
	 * '\n' we add. */
	if (memchr(line, ':', klen) != NULL || (unsigned char)line[0] >= 0x80 ||
	    len + 2 > (size_t)num) {
		line[klen] = '\0';
		for (value = eq + 1; is_blank(*value); value++)
			;
		handle_key(ps, line, value);
		return str;
	}
	memcpy(str, line, len);
	strcpy(str + len, "\n");
	return str;
}

/* Called by inih for every line feed_line let through. */
static int
got_key(void *user, const char *section, const char *name,
    const char *value)
{
	(void)section;		/* always "": inih never sees a header */
	handle_key(user, name, value);
	return 1;
}

static int
cmp_port_name(const void *a, const void *b)
{
	const struct pport *x = *(struct pport *const *)a;
	const struct pport *y = *(struct pport *const *)b;
	int c = strcmp(x->p.name, y->p.name);

	return c ? c : (x->p.line > y->p.line) - (x->p.line < y->p.line);
}

/* By interface (ifname, then netns; ports without one first), then
 * line. */
static int
cmp_port_link(const void *a, const void *b)
{
	const struct pport *x = *(struct pport *const *)a;
	const struct pport *y = *(struct pport *const *)b;
	int c = strcmp(x->p.ifname ? x->p.ifname : "",
	    y->p.ifname ? y->p.ifname : "");

	if (!c)
		c = strcmp(x->p.netns ? x->p.netns : "",
		    y->p.netns ? y->p.netns : "");
	return c ? c : (x->p.line > y->p.line) - (x->p.line < y->p.line);
}

/*
 * Checks that need the whole file: each port on its own, then duplicate
 * names and interfaces, found by sorting rather than by comparing every
 * pair.  Two ports may not use one interface (the same ifname in the
 * same namespace), whatever their types: sw.c refuses the same at run
 * time with conf_port_same_link.  Then what the types forbid between
 * two of their ports (conf_port_conflict), pair by pair among the ports
 * of a type that has such a rule: few ports have one (vxlan).
 */
static void
check_all(struct parser *ps)
{
	struct conf_problem pr[CONF_PROBLEMS_MAX];
	struct pport **v;
	size_t i, j, n, k;

	ps->checking = true;
	for (i = 0; i < ps->n_ports; i++) {
		struct pport *pp = &ps->ports[i];

		if (pp->bad_type)
			continue;
		n = conf_port_problems(&pp->p, pr);
		for (k = 0; k < n; k++) {
			add_error(ps, problem_line(pp, &pr[k]), "%s",
			    pr[k].msg);
			free(pr[k].msg);
		}
	}
	if (ps->n_ports < 2)
		return;
	v = xmalloc(ps->n_ports * sizeof(*v));
	for (i = 0; i < ps->n_ports; i++)
		v[i] = &ps->ports[i];
	qsort(v, ps->n_ports, sizeof(*v), cmp_port_name);
	for (i = 0; i < ps->n_ports; i = j) {
		for (j = i + 1; j < ps->n_ports &&
		    strcmp(v[j]->p.name, v[i]->p.name) == 0; j++) {
			v[j]->dup = true;
			add_error(ps, v[j]->p.line, "duplicate port \"%s\" "
			    "(first defined at line %u)", v[j]->p.name,
			    v[i]->p.line);
		}
	}
	for (i = n = 0; i < ps->n_ports; i++)
		if (!ps->ports[i].dup && ps->ports[i].p.ifname)
			v[n++] = &ps->ports[i];
	qsort(v, n, sizeof(*v), cmp_port_link);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n &&
		    conf_port_same_link(&v[j]->p, &v[i]->p); j++) {
			const struct conf_port *p = &v[j]->p;
			unsigned line = pport_key_line(v[j], "ifname");
			char *ifn = shown(p->ifname);

			add_error(ps, line ? line : p->line, "ifname \"%s\"%s%s%s "
			    "of [port %s] is already used by [port %s]", ifn,
			    p->netns ? " (namespace " : "",
			    p->netns ? p->netns : "", p->netns ? ")" : "",
			    p->name, v[i]->p.name);
			free(ifn);
		}
	}
	for (i = n = 0; i < ps->n_ports; i++)
		if (!ps->ports[i].dup && !ps->ports[i].bad_type &&
		    ps->ports[i].p.type->conflict)
			v[n++] = &ps->ports[i];
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			char *msg = conf_port_conflict(&v[j]->p, &v[i]->p);

			if (msg) {
				add_error(ps, v[i]->p.line, "%s", msg);
				free(msg);
				break;
			}
		}
	}
	free(v);
}

static int
cmp_error(const void *a, const void *b)
{
	const struct perror *x = a, *y = b;
	/* Messages about the whole file come last. */
	unsigned lx = x->line ? x->line : UINT_MAX;
	unsigned ly = y->line ? y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* All messages in line order, one per line; frees them. */
static char *
join_errors(struct parser *ps)
{
	size_t i, len = 0;
	char *out, *o;

	qsort(ps->errs, ps->n_errs, sizeof(*ps->errs), cmp_error);
	for (i = 0; i < ps->n_errs; i++)
		len += strlen(ps->errs[i].msg) + 1;
	o = out = xmalloc(len + 1);
	for (i = 0; i < ps->n_errs; i++) {
		if (i > 0)
			*o++ = '\n';
		len = strlen(ps->errs[i].msg);
		memcpy(o, ps->errs[i].msg, len);
		o += len;
		free(ps->errs[i].msg);
	}
	*o = '\0';
	ps->n_errs = 0;
	return out;
}

static void
parser_free(struct parser *ps)
{
	for (size_t i = 0; i < ps->n_ports; i++) {
		conf_port_destroy(&ps->ports[i].p);
		free(ps->ports[i].where);
		for (size_t k = 0; k < ps->ports[i].n_keys; k++) {
			free(ps->ports[i].keys[k].key);
			free(ps->ports[i].keys[k].value);
		}
		free(ps->ports[i].keys);
	}
	free(ps->ports);
	for (size_t i = 0; i < ps->n_errs; i++)
		free(ps->errs[i].msg);
	free(ps->errs);
	conf_switch_destroy(&ps->sw);
	free(ps->text);
}

int
conf_parse_string(const char *text, const char *name, struct conf **out,
    char **err)
{
	struct parser ps;
	struct conf *conf;
	int r;

	*out = NULL;
	if (err)
		*err = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.name = name ? name : "(config)";
	ps.text = xstrdup(text);
	ps.next = ps.text;
	ps.sec = SEC_NONE;
	ps.sw.queues = conf_default_queues();
	ps.sw.offload = true;
	ps.sw.fdb_size = CONF_FDB_SIZE_DEFAULT;
	ps.sw.fdb_aging = CONF_FDB_AGING_DEFAULT;
	ps.sw.busy_poll = CONF_BUSY_POLL_DEFAULT;
	ps.sw.loop_protect = true;
	ps.sw.loop_holddown = CONF_LOOP_HOLDDOWN_DEFAULT;
	ps.sw.control_socket = xstrdup(CONF_DEFAULT_SOCKET);
	ps.sw.log_level = LOG_LVL_INFO;

	r = ini_parse_stream(feed_line, &ps, got_key, &ps);
	if (r == -2)
		add_error(&ps, 0, "out of memory reading the file");
	else if (r > 0)
		/* Cannot happen: feed_line lets through only lines inih
		 * parses and got_key never fails.  Do not hide it. */
		add_error(&ps, (unsigned)r, "cannot parse this line");
	if (ps.sec == SEC_PORT)
		finish_port(&ps);
	if (!ps.stopped)
		check_all(&ps);
	if (ps.n_errs > 0) {
		if (err)
			*err = join_errors(&ps);
		parser_free(&ps);
		return -EINVAL;
	}

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(ps.name);
	conf->sw = ps.sw;
	memset(&ps.sw, 0, sizeof(ps.sw));
	conf->ports = xcalloc(ps.n_ports, sizeof(*conf->ports));
	for (size_t i = 0; i < ps.n_ports; i++) {
		conf->ports[i] = ps.ports[i].p;
		memset(&ps.ports[i].p, 0, sizeof(ps.ports[i].p));
	}
	conf->n_ports = ps.n_ports;
	parser_free(&ps);
	*out = conf;
	return 0;
}

int
conf_load(const char *path, struct conf **out, char **err)
{
	char *buf, *nul;
	size_t len = 0, cap = 4096, n;
	unsigned line;
	FILE *f;
	int r;

	*out = NULL;
	if (err)
		*err = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		r = -errno;
		if (err)
			*err = xasprintf("%s: cannot open: %s", path,
			    strerror(-r));
		return r;
	}
	buf = xmalloc(cap + 1);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len > CONF_FILE_MAX)
			break;
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		fclose(f);
		free(buf);
		if (err)
			*err = xasprintf("%s: cannot read: %s", path,
			    strerror(-r));
		return r;
	}
	fclose(f);
	if (len > CONF_FILE_MAX) {
		free(buf);
		if (err)
			*err = xasprintf("%s: larger than %u MiB; is this the "
			    "configuration file?", path, CONF_FILE_MAX >> 20);
		return -EINVAL;
	}
	buf[len] = '\0';
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		line = 1;
		for (char *c = buf; c < nul; c++)
			line += *c == '\n';
		free(buf);
		if (err)
			*err = xasprintf("%s:%u: contains a NUL byte; is this "
			    "a text file?", path, line);
		return -EINVAL;
	}
	r = conf_parse_string(buf, path, out, err);
	free(buf);
	return r;
}
