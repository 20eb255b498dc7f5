/*
 * sw_ctl.c - the control methods of the switch: status.get, port.*,
 * fdb.* and stats.get.  Each handler checks its params, acts on the
 * switch through the sw/fdb/port APIs and builds a JSON result whose field
 * names are documented in tapswitchctl(8).
 *
 * Main thread (called from the control socket).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tapswitch/ctl.h"
#include "tapswitch/fdb.h"
#include "tapswitch/log.h"
#include "tapswitch/sw.h"

/* Params */

/* 1: found, 0: absent, -1: wrong (err set). */
static int
param_str(json_t *params, const char *key, bool required, const char **out,
    struct ctl_err *err)
{
	json_t *v = json_object_get(params, key);

	if (!v) {
		if (required) {
			ctl_error(err, CTL_E_PARAMS,
			    "missing parameter \"%s\"", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		ctl_error(err, CTL_E_PARAMS, "parameter \"%s\" must be a string",
		    key);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static int
param_vlan(json_t *params, const char *key, uint16_t *out,
    struct ctl_err *err)
{
	json_t *v = json_object_get(params, key);
	unsigned long n;

	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= VLAN_MIN &&
	    json_integer_value(v) <= VLAN_MAX) {
		*out = (uint16_t)json_integer_value(v);
		return 1;
	}
	if (json_is_string(v) &&
	    parse_uint(json_string_value(v), VLAN_MIN, VLAN_MAX, &n) == 0) {
		*out = (uint16_t)n;
		return 1;
	}
	ctl_error(err, CTL_E_PARAMS, "parameter \"%s\" must be a VLAN "
	    "number 1..4094", key);
	return -1;
}

static int
param_mac(json_t *params, uint8_t *mac, struct ctl_err *err)
{
	const char *s;
	int r = param_str(params, "mac", true, &s, err);

	if (r <= 0)
		return -1;
	if (mac_parse(s, mac) < 0) {
		ctl_error(err, CTL_E_PARAMS, "bad MAC address \"%s\": expected "
		    "six hex pairs like 02:00:00:00:00:01", s);
		return -1;
	}
	return 1;
}

/* The port named by params[key]; NULL with err set when absent/unknown. */
static struct port *
param_port(struct sw *sw, json_t *params, const char *key, bool required,
    bool *absent, struct ctl_err *err)
{
	const char *name;
	struct port *p;
	int r = param_str(params, key, required, &name, err);

	*absent = r == 0;
	if (r <= 0)
		return NULL;
	p = sw_port_find(sw, name);
	if (!p)
		ctl_error(err, CTL_E_NOTFOUND, "no port \"%s\"; \"tapswitchctl "
		    "port list\" shows the ports", name);
	return p;
}

/* Results */

static json_t *
counters_json(const struct port_counters *c)
{
	json_t *o = json_object();

#define X(name, help) json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	PORT_COUNTERS(X)
#undef X
	return o;
}

/* The port's err-disabled state and policy keys (those given). */
static void
policy_json(const struct port *p, json_t *o)
{
	const struct conf_port *c = &p->conf;
	const struct conf_policy *pol = &c->pol;
	const char *why = port_errdis_name(port_err_disabled(p));

	json_object_set_new(o, "err_disabled", why ? json_string(why) :
	    json_null());
	if (pol->allowed_macs.n) {
		json_t *a = json_array();
		char buf[MAC_STR_LEN];

		for (unsigned i = 0; i < pol->allowed_macs.n; i++)
			json_array_append_new(a, json_string(mac_format(
			    pol->allowed_macs.mac[i], buf)));
		json_object_set_new(o, "allowed_macs", a);
	}
	if (pol->allowed_ips.n) {
		json_t *a = json_array();

		for (unsigned i = 0; i < pol->allowed_ips.n; i++) {
			const struct conf_ip_prefix *ip =
			    &pol->allowed_ips.ip[i];
			char buf[INET6_ADDRSTRLEN + 8];
			size_t n;

			inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->addr, buf,
			    INET6_ADDRSTRLEN);
			n = strlen(buf);
			if (ip->plen != (ip->v6 ? 128 : 32))
				snprintf(buf + n, sizeof(buf) - n, "/%u",
				    ip->plen);
			json_array_append_new(a, json_string(buf));
		}
		json_object_set_new(o, "allowed_ips", a);
	}
	if (pol->allowed_ethertypes.n) {
		json_t *a = json_array();

		for (unsigned i = 0; i < pol->allowed_ethertypes.n; i++) {
			uint16_t t = pol->allowed_ethertypes.type[i];
			char buf[8];

			snprintf(buf, sizeof(buf), "0x%04x", t);
			json_array_append_new(a, json_string(t == 0 ? "llc" :
			    t == 0x0800 ? "ipv4" : t == 0x0806 ? "arp" :
			    t == 0x86dd ? "ipv6" : buf));
		}
		json_object_set_new(o, "allowed_ethertypes", a);
	}
	if (pol->rate_limit)
		json_object_set_new(o, "rate_limit",
		    json_integer((json_int_t)pol->rate_limit));
	if (pol->egress_rate_limit)
		json_object_set_new(o, "egress_rate_limit",
		    json_integer((json_int_t)pol->egress_rate_limit));
	if (pol->burst)
		json_object_set_new(o, "burst",
		    json_integer((json_int_t)pol->burst));
	if (pol->storm_limit)
		json_object_set_new(o, "storm_limit",
		    json_integer((json_int_t)pol->storm_limit));
	if (conf_port_given(c, "bpdu_guard"))
		json_object_set_new(o, "bpdu_guard",
		    json_boolean(pol->bpdu_guard));
}

static json_t *
port_json(struct sw *sw, const struct port *p)
{
	const struct conf_port *c = &p->conf;
	struct port_counters sum;
	json_t *o, *trunk = json_null();

	if (c->trunk) {
		trunk = json_array();
		for (unsigned v = VLAN_MIN; v <= VLAN_MAX; v++)
			if (vlan_set_has(&c->trunk_vlans, (uint16_t)v))
				json_array_append_new(trunk, json_integer(v));
	}
	port_counters_sum(p, &sum);
	o = json_pack("{s:s, s:s, s:s?, s:i, s:s?, s:i, s:o, s:o, s:o, s:I, "
	    "s:s, s:s?, s:i, s:I, s:o}",
	    "name", c->name,
	    "type", p->type->conf.name,
	    "ifname", c->ifname,
	    "ifindex", p->ifindex,
	    "netns", c->netns,
	    "mtu", (int)(port_max_frame(p) - ETH_HDR_LEN),
	    "vlan", c->trunk ? json_null() : json_integer(c->vlan),
	    "trunk", trunk,
	    "native", c->trunk && c->native ? json_integer(c->native) :
	    json_null(),
	    "mac_limit", (json_int_t)c->mac_limit,
	    "state", port_err_disabled(p) ? "err-disabled" :
	    port_is_up(p) ? "up" : "down",
	    "reason", port_is_up(p) ? NULL : p->reason ? p->reason :
	    "link down",
	    "queues", (int)p->nqueues,
	    "macs", (json_int_t)fdb_port_count(sw_fdb(sw), p->id),
	    "counters", counters_json(&sum));
	if (o)
		policy_json(p, o);
	if (o && p->type->show)
		p->type->show(p, o);
	return o;
}

static int
port_cmp(const void *a, const void *b)
{
	const struct port *const *pa = a, *const *pb = b;

	return strcmp((*pa)->conf.name, (*pb)->conf.name);
}

/* The published ports sorted by name (caller frees the array). */
static struct port **
ports_sorted(struct sw *sw, unsigned *n)
{
	const struct port_set *set = sw_ports(sw);
	struct port **v = xcalloc(set->n, sizeof(*v));

	if (set->n) {
		memcpy(v, set->ports, set->n * sizeof(*v));
		qsort(v, set->n, sizeof(*v), port_cmp);
	}
	*n = set->n;
	return v;
}

/* Handlers */

static json_t *
h_status(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	const struct conf *conf = sw_conf(sw);
	const char *why;
	bool uring = sw_io_uring(sw, &why);
	json_t *r;

	r = json_pack("{s:s, s:I, s:i, s:b, s:b, s:s, s:I, s:i, s:I, s:I, "
	    "s:I, s:s?, s:s}",
	    "version", PACKAGE_VERSION,
	    "uptime_s", (json_int_t)sw_uptime(sw),
	    "queues", (int)conf->sw.queues,
	    "offload", (int)conf->sw.offload,
	    "io_uring", (int)uring,
	    "io_uring_mode", conf_io_uring_name(conf->sw.io_uring),
	    "busy_poll_us", (json_int_t)conf->sw.busy_poll,
	    "ports", (int)sw_ports(sw)->n,
	    "fdb_entries", (json_int_t)fdb_count(sw_fdb(sw)),
	    "fdb_size", (json_int_t)conf->sw.fdb_size,
	    "fdb_aging", (json_int_t)conf->sw.fdb_aging,
	    "config", conf->path,
	    "log_level", log_level_name(log_get_level()));
	if (r && why)
		json_object_set_new(r, "io_uring_unavailable",
		    json_string(why));
	return r;
}

static json_t *
h_port_list(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct port **v;
	json_t *list;
	unsigned n;

	v = ports_sorted(sw, &n);
	list = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(list, port_json(sw, v[i]));
	free(v);
	return json_pack("{s:o}", "ports", list);
}

static json_t *
h_port_show(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct port *p;
	bool absent;

	p = param_port(sw, params, "name", true, &absent, err);
	return p ? port_json(sw, p) : NULL;
}

static json_t *
h_port_add(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct conf_port cp;
	const char *name, *key;
	json_t *settings, *v, *result = NULL;
	char *e = NULL;
	int r;

	if (param_str(params, "name", true, &name, err) < 0)
		return NULL;
	if (!conf_port_name_valid(name)) {
		ctl_error(err, CTL_E_PARAMS, "bad port name \"%s\": use 1 to "
		    "64 letters, digits, '_', '-' or '.'", name);
		return NULL;
	}
	settings = json_object_get(params, "settings");
	if (settings && !json_is_object(settings)) {
		ctl_error(err, CTL_E_PARAMS, "\"settings\" must be an object "
		    "of port keys, e.g. {\"vlan\": \"10\"}");
		return NULL;
	}
	conf_port_init(&cp, name);
	/* The type first: it says which other keys there are. */
	v = json_object_get(settings, "type");
	if (v && json_is_string(v) &&
	    conf_port_set(&cp, "type", json_string_value(v), &e) < 0)
		goto bad;
	json_object_foreach(settings, key, v) {
		char buf[32];
		const char *value = buf;

		if (strcmp(key, "type") == 0 && json_is_string(v))
			continue;
		if (json_is_string(v))
			value = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld",
			    (long long)json_integer_value(v));
		else {
			ctl_error(err, CTL_E_PARAMS, "setting \"%s\" must be "
			    "a string or a number", key);
			goto out;
		}
		if (conf_port_set(&cp, key, value, &e) < 0)
			goto bad;
	}
	if (conf_port_check(&cp, &e) < 0)
		goto bad;
	r = sw_port_add(sw, &cp, &e);
	if (r < 0) {
		ctl_error(err, r == -EEXIST ? CTL_E_EXISTS : CTL_E_FAILED,
		    "%s", e);
		free(e);
		goto out;
	}
	result = port_json(sw, sw_port_find(sw, name));
	goto out;
bad:
	ctl_error(err, CTL_E_PARAMS, "port %s: %s", name, e);
	free(e);
out:
	conf_port_destroy(&cp);
	return result;
}

static json_t *
h_port_del(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct port *p;
	bool absent;

	p = param_port(sw, params, "name", true, &absent, err);
	if (!p)
		return NULL;
	sw_port_del(sw, p->conf.name);
	return json_object();
}

static json_t *
h_port_enable(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct port *p;
	bool absent, was;

	p = param_port(sw, params, "name", true, &absent, err);
	if (!p)
		return NULL;
	sw_port_enable(sw, p->conf.name, &was);
	return json_pack("{s:b}", "was_err_disabled", was);
}

/*
 * fdb.show answers in pages, so that neither a big table nor many clients
 * asking for it hold up the main loop or its memory: a page looks at no
 * more than FDB_SHOW_SLOTS slots of the table (fdb_walk) and holds at most
 * "limit" entries, sorted by VLAN and MAC.  Its "next" (a position in the
 * table, as a string) is what the client passes back as "after" for the
 * following page; there is none after the last.  Pages end between slots,
 * so an entry that stays in the table is listed exactly once however the
 * table changes between pages (see tapswitchctl(8), which also says what
 * a page may cost).
 */
#define FDB_SHOW_LIMIT 1000	/* entries per page: at most, and without
				 * "limit" */
#define FDB_SHOW_SLOTS 65536

struct fdb_page {
	uint32_t port;		/* FDB_PORT_ANY: all */
	uint16_t vid;		/* 0: all */
	size_t limit;
	struct fdb_entry_info *v;
	size_t n, cap;
};

static bool
fdb_page_wants(const struct fdb_page *pg, const struct fdb_entry_info *e)
{
	return (pg->port == FDB_PORT_ANY || e->port == pg->port) &&
	    (!pg->vid || e->vid == pg->vid);
}

/* fdb_walk: take the matching entries of one slot, unless they would not
 * fit in the page (a page that is still empty takes them all: slots hold
 * a few entries at most, and the walk must move on). */
static bool
fdb_page_slot(const struct fdb_entry_info *v, size_t n, void *arg)
{
	struct fdb_page *pg = arg;
	size_t match = 0;

	for (size_t i = 0; i < n; i++)
		match += fdb_page_wants(pg, &v[i]);
	if (pg->n && pg->n + match > pg->limit)
		return false;
	if (pg->n + match > pg->cap) {
		pg->cap = pg->n + match > pg->limit ? pg->n + match : pg->limit;
		pg->v = xrealloc(pg->v, pg->cap * sizeof(*pg->v));
	}
	for (size_t i = 0; i < n; i++)
		if (fdb_page_wants(pg, &v[i]))
			pg->v[pg->n++] = v[i];
	return true;
}

static int
fdb_entry_cmp(const void *a, const void *b)
{
	const struct fdb_entry_info *x = a, *y = b;

	if (x->vid != y->vid)
		return x->vid < y->vid ? -1 : 1;
	return memcmp(x->mac, y->mac, ETH_ADDR_LEN);
}

/*
 * Append port id's name to the page as a JSON string, and for a port
 * with remotes (vxlan), "remote" with the address of the entry's.  Port
 * names are plain (conf_port_name_valid: letters, digits, '_', '.',
 * '-') and addresses are digits, letters, '.' and ':', so they are
 * copied as they are; anything else would go through jansson.
 */
static void
fdb_put_port(struct sw *sw, uint32_t id, uint16_t remote, FILE *f)
{
	const struct port *p = port_table_get(sw_dp(sw)->ports, id);
	const char *name = p ? p->conf.name : "?", *addr;
	char buf[64];
	json_t *j;

	if (conf_port_name_valid(name)) {
		fputc('"', f);
		fputs(name, f);
		fputc('"', f);
	} else {
		j = json_string(name);
		if (!j || json_dumpf(j, f, JSON_ENCODE_ANY) < 0)
			fputs("\"?\"", f);
		json_decref(j);
	}
	if (p && p->type->remote_name &&
	    (addr = p->type->remote_name(p, remote, buf)) != NULL)
		fprintf(f, ",\"remote\":\"%s\"", addr);
}

/* The page is written as text (ctl_register_text): a tree of json_t
 * objects would cost a dozen allocations per entry. */
static char *
h_fdb_show(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct fdb *fdb = sw_fdb(sw);
	struct fdb_page pg = {
		.port = FDB_PORT_ANY, .limit = FDB_SHOW_LIMIT,
	};
	json_t *limit = json_object_get(params, "limit");
	json_t *after = json_object_get(params, "after");
	char mac[MAC_STR_LEN], *text = NULL;
	uint64_t pos = 0;
	unsigned long ul;
	struct port *p;
	size_t size;
	uint32_t now;
	bool absent;
	FILE *f;

	p = param_port(sw, params, "port", false, &absent, err);
	if (!p && !absent)
		return NULL;
	if (p)
		pg.port = p->id;
	if (param_vlan(params, "vlan", &pg.vid, err) < 0)
		return NULL;
	if (limit) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > FDB_SHOW_LIMIT) {
			ctl_error(err, CTL_E_PARAMS, "parameter \"limit\" must "
			    "be a number of entries 1..%d", FDB_SHOW_LIMIT);
			return NULL;
		}
		pg.limit = (size_t)json_integer_value(limit);
	}
	if (after) {
		if (!json_is_string(after) ||
		    parse_uint(json_string_value(after), 0, fdb_slots(fdb),
		    &ul) < 0) {
			ctl_error(err, CTL_E_PARAMS, "parameter \"after\" must "
			    "be the \"next\" of an earlier fdb.show answer, "
			    "unchanged");
			return NULL;
		}
		pos = ul;
	}

	pos = fdb_walk(fdb, pos, FDB_SHOW_SLOTS, fdb_page_slot, &pg);
	if (pg.n)
		qsort(pg.v, pg.n, sizeof(*pg.v), fdb_entry_cmp);
	now = now_sec();
	f = open_memstream(&text, &size);
	if (!f)
		abort();	/* only on out-of-memory */
	fputs("{\"entries\":[", f);
	for (size_t i = 0; i < pg.n; i++) {
		const struct fdb_entry_info *e = &pg.v[i];

		fprintf(f, "%s{\"mac\":\"%s\",\"vlan\":%u,\"port\":",
		    i ? "," : "", mac_format(e->mac, mac), e->vid);
		fdb_put_port(sw, e->port, e->remote, f);
		fprintf(f, ",\"age_s\":%u,\"static\":%s}",
		    e->is_static || e->last_seen > now ? 0 :
		    now - e->last_seen, e->is_static ? "true" : "false");
	}
	fputc(']', f);
	if (pos < fdb_slots(fdb))
		fprintf(f, ",\"next\":\"%llu\"", (unsigned long long)pos);
	fputc('}', f);
	if (fclose(f) != 0 || !text)
		abort();	/* only on out-of-memory */
	free(pg.v);
	return text;
}

static json_t *
h_fdb_add(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t vid = 0, remote = 0;
	json_t *jr = json_object_get(params, "remote");
	char *msg = NULL, buf[64];
	struct port *p;
	bool absent;
	int r;

	if (param_mac(params, mac, err) < 0)
		return NULL;
	p = param_port(sw, params, "port", true, &absent, err);
	if (!p)
		return NULL;
	if (jr && !json_is_string(jr)) {
		ctl_error(err, CTL_E_PARAMS, "parameter \"remote\" must be an "
		    "address (a string)");
		return NULL;
	}
	if (jr && !p->type->remote_index) {
		ctl_error(err, CTL_E_PARAMS, "port %s has no remotes: remote= "
		    "is for ports that reach other hosts (type vxlan)",
		    p->conf.name);
		return NULL;
	}
	if (jr && p->type->remote_index(p, json_string_value(jr), &remote,
	    &msg) < 0) {
		ctl_error(err, CTL_E_PARAMS, "%s", msg);
		free(msg);
		return NULL;
	}
	if (!jr && p->type->remote_name && p->type->remote_name(p, 1, buf)) {
		ctl_error(err, CTL_E_PARAMS, "port %s reaches several hosts: "
		    "say which one the address is behind with remote=ADDRESS",
		    p->conf.name);
		return NULL;
	}
	r = param_vlan(params, "vlan", &vid, err);
	if (r < 0)
		return NULL;
	if (r == 0) {
		vid = p->conf.trunk ? p->conf.native : p->conf.vlan;
		if (!vid) {
			ctl_error(err, CTL_E_PARAMS, "port %s is a trunk with "
			    "no native VLAN: say which VLAN with vlan=N",
			    p->conf.name);
			return NULL;
		}
	}
	if (!fwd_port_in_vlan(p, vid)) {
		ctl_error(err, CTL_E_PARAMS, "port %s does not carry VLAN %u",
		    p->conf.name, vid);
		return NULL;
	}
	if (mac_is_multicast(mac)) {
		ctl_error(err, CTL_E_PARAMS, "a multicast address cannot be a "
		    "station's address");
		return NULL;
	}
	if (fdb_add_static(sw_fdb(sw), vid, mac, p->id, remote) < 0) {
		ctl_error(err, CTL_E_FAILED, "the MAC table is full (fdb_size "
		    "%u); flush it or raise fdb_size", sw_conf(sw)->sw.fdb_size);
		return NULL;
	}
	return json_object();
}

struct fdb_match_ctx {
	const uint8_t *mac;
	uint16_t vids[4096];
	size_t n;
};

static void
fdb_match_mac(const struct fdb_entry_info *e, void *arg)
{
	struct fdb_match_ctx *c = arg;

	if (memcmp(e->mac, c->mac, ETH_ADDR_LEN) == 0 && c->n < 4096)
		c->vids[c->n++] = e->vid;
}

static json_t *
h_fdb_del(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	uint8_t mac[ETH_ADDR_LEN];
	char buf[MAC_STR_LEN];
	uint16_t vid = 0;
	size_t removed = 0;
	int r;

	if (param_mac(params, mac, err) < 0)
		return NULL;
	r = param_vlan(params, "vlan", &vid, err);
	if (r < 0)
		return NULL;
	if (r > 0) {
		removed = fdb_del(sw_fdb(sw), vid, mac) == 0;
	} else {
		struct fdb_match_ctx *c = xcalloc(1, sizeof(*c));

		c->mac = mac;
		fdb_foreach(sw_fdb(sw), fdb_match_mac, c);
		for (size_t i = 0; i < c->n; i++)
			removed += fdb_del(sw_fdb(sw), c->vids[i], mac) == 0;
		free(c);
	}
	if (!removed) {
		ctl_error(err, CTL_E_NOTFOUND, "%s is not in the MAC table%s",
		    mac_format(mac, buf), r > 0 ? " in that VLAN" : "");
		return NULL;
	}
	return json_pack("{s:I}", "removed", (json_int_t)removed);
}

static json_t *
h_fdb_flush(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct port *p;
	bool absent;
	size_t n;

	p = param_port(sw, params, "port", false, &absent, err);
	if (!p && !absent)
		return NULL;
	n = fdb_flush(sw_fdb(sw), p ? p->id : FDB_PORT_ANY, false);
	return json_pack("{s:I}", "flushed", (json_int_t)n);
}

static json_t *
h_stats(void *arg, json_t *params, struct ctl_err *err)
{
	struct sw *sw = arg;
	struct sw_counters swc;
	struct port **v, *only;
	json_t *ports, *sw_obj, *queues = json_object_get(params, "queues");
	bool absent, per_queue = false;
	unsigned n;

	if (queues && !json_is_boolean(queues)) {
		ctl_error(err, CTL_E_PARAMS, "parameter \"queues\" must be "
		    "true or false");
		return NULL;
	}
	per_queue = json_is_true(queues);
	only = param_port(sw, params, "port", false, &absent, err);
	if (!only && !absent)
		return NULL;

	sw_counters(sw, &swc);
	sw_obj = json_object();
#define X(name, help) json_object_set_new(sw_obj, #name, json_integer((json_int_t)swc.name));
	SW_COUNTERS(X)
#undef X
	json_object_set_new(sw_obj, "fdb_entries",
	    json_integer((json_int_t)fdb_count(sw_fdb(sw))));

	ports = json_array();
	v = ports_sorted(sw, &n);
	for (unsigned i = 0; i < n; i++) {
		struct port_counters sum;
		json_t *po;

		if (only && v[i] != only)
			continue;
		port_counters_sum(v[i], &sum);
		po = json_pack("{s:s, s:o}", "name", v[i]->conf.name,
		    "counters", counters_json(&sum));
		if (per_queue) {
			json_t *ql = json_array();

			for (unsigned q = 0; q < v[i]->nqueues; q++) {
				struct port_counters c;

#define X(name, help) c.name = ctr_read(&v[i]->queues[q].ctr.name);
				PORT_COUNTERS(X)
#undef X
				json_array_append_new(ql, json_pack("{s:i, "
				    "s:o}", "queue", (int)q, "counters",
				    counters_json(&c)));
			}
			json_object_set_new(po, "queues", ql);
		}
		json_array_append_new(ports, po);
	}
	free(v);
	return json_pack("{s:o, s:o}", "switch", sw_obj, "ports", ports);
}

void
sw_ctl_register(struct sw *sw, struct ctl *ctl)
{
	ctl_register(ctl, "status.get", "", "version, uptime and sizes",
	    CTL_READONLY, h_status, sw);
	ctl_register(ctl, "port.list", "", "every port with its counters",
	    CTL_READONLY, h_port_list, sw);
	ctl_register(ctl, "port.show", "name", "one port",
	    CTL_READONLY, h_port_show, sw);
	ctl_register(ctl, "port.add", "name, [settings]",
	    "add a port (keys of a [port] section)",
	    CTL_MUTATING, h_port_add, sw);
	ctl_register(ctl, "port.del", "name", "remove a port and its MACs",
	    CTL_MUTATING, h_port_del, sw);
	ctl_register(ctl, "port.enable", "name",
	    "take an err-disabled port back into service", CTL_MUTATING,
	    h_port_enable, sw);
	ctl_register_text(ctl, "fdb.show", "[port], [vlan], [limit], [after]",
	    "the MAC table, a page at a time",
	    CTL_READONLY, h_fdb_show, sw);
	ctl_register(ctl, "fdb.add", "mac, port, [vlan], [remote]",
	    "add a static MAC entry", CTL_MUTATING, h_fdb_add, sw);
	ctl_register(ctl, "fdb.del", "mac, [vlan]", "remove MAC entries",
	    CTL_MUTATING, h_fdb_del, sw);
	ctl_register(ctl, "fdb.flush", "[port]",
	    "remove learned MAC entries", CTL_MUTATING, h_fdb_flush, sw);
	ctl_register(ctl, "stats.get", "[port], [queues]",
	    "port and switch counters", CTL_READONLY, h_stats, sw);
}
