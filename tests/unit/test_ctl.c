/*
 * test_ctl.c - the control protocol and every handler, through
 * ctl_handle() on a switch with dummy ports: no socket, no root.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tapswitch/ctl.h"
#include "tapswitch/log.h"
#include "tapswitch/sw.h"

#include "unit.h"

static struct sw *sw;
static struct ctl *ctl;

static void
setup(void)
{
	struct conf *conf;
	char *err = NULL;

	ck_assert_msg(conf_parse_string(
	    "[switch]\nqueues = 2\noffload = no\nfdb_size = 64\n"
	    "busy_poll = 20\n"
	    "[port a]\nvlan = 10\n"
	    "[port b]\nvlan = 10\nmac_limit = 5\n"
	    "[port t]\ntrunk = 10,20\nnative = 20\n",
	    "test.conf", &conf, &err) == 0, "%s", err);
	ck_assert_msg(sw_create(conf, NULL, &sw, &err)
	    == 0, "%s", err);
	conf_free(conf);
	ctl_create(&ctl);
	sw_ctl_register(sw, ctl);
}

static void
teardown(void)
{
	ctl_destroy(ctl);
	sw_destroy(sw);
}

/* Send one request as uid (root by default) and parse the reply. */
static json_t *
call_as(uid_t uid, const char *req)
{
	char *resp = ctl_handle(ctl, req, strlen(req), uid);
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_null(strchr(resp, '\n'));
	j = json_loads(resp, 0, &jerr);
	ck_assert_msg(j != NULL, "reply is not JSON: %s", resp);
	ck_assert_str_eq(json_string_value(json_object_get(j, "jsonrpc")),
	    "2.0");
	free(resp);
	return j;
}

static json_t *
call(const char *req)
{
	return call_as(0, req);
}

/* The result of a successful call (borrowed from *reply). */
static json_t *
ok(json_t *reply)
{
	json_t *r = json_object_get(reply, "result");

	ck_assert_msg(r != NULL, "error: %s", json_string_value(json_object_get(
	    json_object_get(reply, "error"), "message")));
	return r;
}

static int
err_code(json_t *reply)
{
	json_t *e = json_object_get(reply, "error");

	ck_assert_msg(e != NULL, "call did not fail");
	return (int)json_integer_value(json_object_get(e, "code"));
}

static const char *
err_msg(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply,
	    "error"), "message"));
}

#define REQ(method, params) \
	"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"" method "\",\"params\":" \
	params "}"

START_TEST(test_framing_errors)
{
	json_t *r;

	r = call("{not json");
	ck_assert_int_eq(err_code(r), CTL_E_PARSE);
	ck_assert(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = call("[1,2]");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	json_decref(r);
	r = call("42");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	json_decref(r);
	r = call("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status.get\"}");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = call("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	json_decref(r);
	r = call("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status.get\"}");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	json_decref(r);
	r = call(REQ("nope.nothing", "{}"));
	ck_assert_int_eq(err_code(r), CTL_E_METHOD);
	ck_assert(strstr(err_msg(r), "nope.nothing") != NULL);
	json_decref(r);
	r = call(REQ("status.get", "[]"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("status.get", "{\"bogus\":1}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	/* A notification (no id) gets no answer. */
	{
		const char *n = "{\"jsonrpc\":\"2.0\",\"method\":\"status.get\"}";

		ck_assert_ptr_null(ctl_handle(ctl, n, strlen(n), 0));
	}
	/* A string id comes back as is; params may be left out. */
	r = call("{\"jsonrpc\":\"2.0\",\"id\":\"x1\",\"method\":\"status.get\"}");
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "x1");
	ok(r);
	json_decref(r);
	/* Embedded NUL and invalid UTF-8 are parse errors, not crashes. */
	{
		char *resp = ctl_handle(ctl, "{\"a\0\":1}", 8, 0);

		ck_assert(strstr(resp, "-32700") != NULL);
		free(resp);
		resp = ctl_handle(ctl, "{\"\xff\":1}", 7, 0);
		ck_assert(strstr(resp, "-32700") != NULL);
		free(resp);
	}
}
END_TEST

/* The raw answer to req (as root), for checks on its text. */
static char *
raw(const char *req)
{
	char *resp = ctl_handle(ctl, req, strlen(req), 0);

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_null(strchr(resp, '\n'));
	return resp;
}

/* Ids beyond 64 bits come back as they were written (JSON-RPC allows any
 * number); a number out of range elsewhere is a parse error that says
 * so. */
START_TEST(test_big_ids)
{
	static const struct {
		const char *req, *want;
	} round_trip[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		  "\"method\":\"status.get\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		  "\"result\":{" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"status.get\",\"id\": "
		  "9223372036854775808 }",
		  "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775808,"
		  "\"result\":{" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775809,"
		  "\"method\":\"status.get\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775809,"
		  "\"result\":{" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,"
		  "\"method\":\"fdb.show\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,"
		  "\"result\":{\"entries\":[]}}" },
		/* An error answer carries the id too. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		  "\"method\":\"nope\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		  "\"error\":{\"code\":-32601," },
		/* However its key is written, and the last of two ids. */
		{ "{\"jsonrpc\":\"2.0\",\"\\u0069d\":18446744073709551616,"
		  "\"method\":\"status.get\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616," },
		{ "{\"id\":1,\"params\":{\"id\":[\"}\",{}]},\"jsonrpc\":\"2.0\","
		  "\"id\":18446744073709551616,\"method\":\"port.list\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		  "\"error\":{\"code\":-32602," },
		/* In range: jansson's, as ever. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,"
		  "\"method\":\"status.get\"}",
		  "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,"
		  "\"result\":{" },
	};
	static const char *const out_of_range[] = {
		/* Elsewhere than the id. */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.show\","
		"\"params\":{\"vlan\":18446744073709551616}}",
		/* Both. */
		"{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,"
		"\"method\":\"fdb.show\",\"params\":{\"vlan\":"
		"18446744073709551616}}",
		/* A nested id is not the request's. */
		"{\"jsonrpc\":\"2.0\",\"params\":{\"id\":18446744073709551616},"
		"\"method\":\"status.get\",\"id\":3}",
	};
	char *resp;
	json_t *r;

	for (size_t i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]);
	    i++) {
		resp = raw(round_trip[i].req);
		ck_assert_msg(strncmp(resp, round_trip[i].want,
		    strlen(round_trip[i].want)) == 0, "%s\ngave %s",
		    round_trip[i].req, resp);
		/* jansson reads such ids only as reals. */
		r = json_loads(resp, JSON_DECODE_INT_AS_REAL, NULL);
		ck_assert_msg(r != NULL, "not JSON: %s", resp);
		json_decref(r);
		free(resp);
	}
	for (size_t i = 0; i < sizeof(out_of_range) /
	    sizeof(out_of_range[0]); i++) {
		r = call(out_of_range[i]);
		ck_assert_int_eq(err_code(r), CTL_E_PARSE);
		ck_assert(json_is_null(json_object_get(r, "id")));
		ck_assert_msg(strstr(err_msg(r), "out of range (integers must "
		    "fit in 64 bits)") != NULL, "%s", err_msg(r));
		json_decref(r);
	}
	/* Not integers: refused as before, whatever their size. */
	r = call("{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"status.get\"}");
	ck_assert_int_eq(err_code(r), CTL_E_PARSE);
	json_decref(r);
	r = call("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"status.get\"}");
	ck_assert_int_eq(err_code(r), CTL_E_REQUEST);
	json_decref(r);
	/* Leading zeros are not JSON, whatever the size. */
	resp = raw("{\"jsonrpc\":\"2.0\",\"id\":00018446744073709551616,"
	    "\"method\":\"status.get\"}");
	ck_assert(strstr(resp, "-32700") != NULL);	/* leading zeros */
	free(resp);
}
END_TEST

START_TEST(test_status_and_help)
{
	json_t *r = call(REQ("status.get", "{}")), *res = ok(r);

	ck_assert_str_eq(json_string_value(json_object_get(res, "version")),
	    PACKAGE_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "queues")), 2);
	ck_assert(json_is_false(json_object_get(res, "offload")));
	ck_assert(json_is_false(json_object_get(res, "io_uring")));
	ck_assert_int_eq(json_integer_value(json_object_get(res,
	    "busy_poll_us")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "ports")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(res,
	    "fdb_entries")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "fdb_size")),
	    64);
	ck_assert(json_is_integer(json_object_get(res, "uptime_s")));
	json_decref(r);

	r = call(REQ("help", "{}"));
	ck_assert_int_ge(json_array_size(json_object_get(ok(r), "methods")),
	    11);
	json_decref(r);
}
END_TEST

START_TEST(test_port_list_show)
{
	json_t *r = call(REQ("port.list", "{}")), *ports, *t;

	ports = json_object_get(ok(r), "ports");
	ck_assert_int_eq(json_array_size(ports), 3);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(ports, 0), "name")), "a");
	t = json_array_get(ports, 2);
	ck_assert_str_eq(json_string_value(json_object_get(t, "name")), "t");
	ck_assert(json_is_null(json_object_get(t, "vlan")));
	ck_assert_int_eq(json_array_size(json_object_get(t, "trunk")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(t, "native")), 20);
	ck_assert_str_eq(json_string_value(json_object_get(t, "state")), "up");
	ck_assert_int_eq(json_integer_value(json_object_get(t, "queues")), 2);
	ck_assert(json_is_integer(json_object_get(json_object_get(t,
	    "counters"), "rx_packets")));
	json_decref(r);

	r = call(REQ("port.show", "{\"name\":\"b\"}"));
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r), "vlan")),
	    10);
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r),
	    "mac_limit")), 5);
	ck_assert(json_is_null(json_object_get(ok(r), "netns")));
	json_decref(r);
	r = call(REQ("port.show", "{\"name\":\"zz\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_NOTFOUND);
	json_decref(r);
	r = call(REQ("port.show", "{}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("port.show", "{\"name\":3}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
}
END_TEST

START_TEST(test_port_add_del)
{
	json_t *r;

	r = call(REQ("port.add", "{\"name\":\"c\",\"settings\":{\"vlan\":\"20\","
	    "\"mtu\":9000}}"));
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r), "mtu")),
	    9000);
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r), "vlan")),
	    20);
	json_decref(r);
	ck_assert_ptr_nonnull(sw_port_find(sw, "c"));

	r = call(REQ("port.add", "{\"name\":\"c\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_EXISTS);
	json_decref(r);
	r = call(REQ("port.add", "{\"name\":\"d\",\"settings\":{\"vlna\":\"2\"}}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert(strstr(err_msg(r), "vlna") != NULL);
	json_decref(r);
	r = call(REQ("port.add", "{\"name\":\"d\",\"settings\":{\"vlan\":\"5000\"}}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("port.add", "{\"name\":\"d\",\"settings\":{\"vlan\":\"2\","
	    "\"trunk\":\"3\"}}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("port.add", "{\"name\":\"d\",\"settings\":[1]}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("port.add", "{\"name\":\"bad/name\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	ck_assert_ptr_null(sw_port_find(sw, "d"));

	r = call(REQ("port.del", "{\"name\":\"c\"}"));
	ok(r);
	json_decref(r);
	ck_assert_ptr_null(sw_port_find(sw, "c"));
	r = call(REQ("port.del", "{\"name\":\"c\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_NOTFOUND);
	json_decref(r);
}
END_TEST

START_TEST(test_permissions)
{
	uid_t other = getuid() == 0 ? 4242 : 0;
	json_t *r;

	if (other == 0)
		other = getuid() + 1;	/* not root, not us */
	/* Read-only methods: anyone. */
	r = call_as(other, REQ("port.list", "{}"));
	ok(r);
	json_decref(r);
	/* Changing methods: root or the daemon's user only. */
	r = call_as(other, REQ("port.del", "{\"name\":\"a\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PERM);
	json_decref(r);
	ck_assert_ptr_nonnull(sw_port_find(sw, "a"));
	r = call_as(other, REQ("fdb.flush", "{}"));
	ck_assert_int_eq(err_code(r), CTL_E_PERM);
	json_decref(r);
	r = call_as(geteuid(), REQ("fdb.flush", "{}"));
	ok(r);
	json_decref(r);
}
END_TEST

START_TEST(test_fdb_methods)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	json_t *r, *entries, *e;

	/* A learned entry, through the real learning path. */
	ck_assert_int_eq(fdb_learn(sw_fdb(sw), 10, mac,
	    sw_port_find(sw, "a")->id, 0, now_sec()), FDB_LEARNED);

	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:99\",\"port\":\"b\"}"));
	ok(r);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:98\",\"port\":\"t\","
	    "\"vlan\":10}"));
	ok(r);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:97\",\"port\":\"a\","
	    "\"vlan\":20}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);	/* a is not in 20 */
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"zz:00:00:00:00:97\",\"port\":\"a\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert(strstr(err_msg(r), "zz:00") != NULL);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"01:00:5e:00:00:01\",\"port\":\"a\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:97\",\"port\":\"a\","
	    "\"vlan\":9999}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);

	r = call(REQ("fdb.show", "{}"));
	entries = json_object_get(ok(r), "entries");
	ck_assert_int_eq(json_array_size(entries), 3);
	e = json_array_get(entries, 0);		/* sorted: vlan, mac */
	ck_assert_str_eq(json_string_value(json_object_get(e, "mac")),
	    "02:00:00:00:00:42");
	ck_assert_str_eq(json_string_value(json_object_get(e, "port")), "a");
	ck_assert(json_is_false(json_object_get(e, "static")));
	ck_assert_int_ge(json_integer_value(json_object_get(e, "age_s")), 0);
	ck_assert(json_is_true(json_object_get(json_array_get(entries, 2),
	    "static")));
	json_decref(r);
	r = call(REQ("fdb.show", "{\"port\":\"b\"}"));
	ck_assert_int_eq(json_array_size(json_object_get(ok(r), "entries")), 1);
	json_decref(r);
	r = call(REQ("fdb.show", "{\"vlan\":\"20\"}"));
	ck_assert_int_eq(json_array_size(json_object_get(ok(r), "entries")), 0);
	json_decref(r);

	/* Flush keeps static entries. */
	r = call(REQ("fdb.flush", "{}"));
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r), "flushed")),
	    1);
	json_decref(r);
	r = call(REQ("fdb.del", "{\"mac\":\"02:00:00:00:00:99\"}"));
	ck_assert_int_eq(json_integer_value(json_object_get(ok(r), "removed")),
	    1);
	json_decref(r);
	r = call(REQ("fdb.del", "{\"mac\":\"02:00:00:00:00:99\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_NOTFOUND);
	json_decref(r);
	r = call(REQ("fdb.del", "{\"mac\":\"02:00:00:00:00:98\",\"vlan\":20}"));
	ck_assert_int_eq(err_code(r), CTL_E_NOTFOUND);
	json_decref(r);
	r = call(REQ("fdb.flush", "{\"port\":\"nope\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_NOTFOUND);
	json_decref(r);
	ck_assert_uint_eq(fdb_count(sw_fdb(sw)), 1);
}
END_TEST

START_TEST(test_stats)
{
	json_t *r, *ports, *q;

	r = call(REQ("stats.get", "{}"));
	ports = json_object_get(ok(r), "ports");
	ck_assert_int_eq(json_array_size(ports), 3);
	ck_assert_ptr_null(json_object_get(json_array_get(ports, 0), "queues"));
	ck_assert(json_is_integer(json_object_get(json_object_get(ok(r),
	    "switch"), "flooded")));
	json_decref(r);
	r = call(REQ("stats.get", "{\"port\":\"a\",\"queues\":true}"));
	ports = json_object_get(ok(r), "ports");
	ck_assert_int_eq(json_array_size(ports), 1);
	q = json_object_get(json_array_get(ports, 0), "queues");
	ck_assert_int_eq(json_array_size(q), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_array_get(q, 1), "queue")), 1);
	json_decref(r);
	r = call(REQ("stats.get", "{\"queues\":\"yes\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
}
END_TEST

START_TEST(test_reload_diff)
{
	struct sw_reload_result res;
	struct conf *conf;
	char *err = NULL;

	/* a unchanged, b changed, t removed, c added; "rt" added at
	 * runtime stays. */
	json_decref(call(REQ("port.add", "{\"name\":\"rt\"}")));
	ck_assert(conf_parse_string("[switch]\nqueues = 2\noffload = no\n"
	    "fdb_size = 64\nfdb_aging = 10\n"
	    "[port a]\nvlan = 10\n[port b]\nvlan = 20\n[port c]\n",
	    "test.conf", &conf, &err) == 0);
	ck_assert_int_eq(sw_reload(sw, conf, &res, &err), 0);
	conf_free(conf);
	ck_assert_int_eq(res.n_added, 1);
	ck_assert_str_eq(res.added[0], "c");
	ck_assert_int_eq(res.n_removed, 1);
	ck_assert_str_eq(res.removed[0], "t");
	ck_assert_int_eq(res.n_changed, 1);
	ck_assert_str_eq(res.changed[0], "b");
	ck_assert_int_eq(res.n_unchanged, 1);
	sw_reload_result_free(&res);
	ck_assert_int_eq(sw_port_find(sw, "b")->conf.vlan, 20);
	ck_assert_ptr_nonnull(sw_port_find(sw, "rt"));
	ck_assert_ptr_null(sw_port_find(sw, "t"));
	ck_assert_int_eq(sw_conf(sw)->sw.fdb_aging, 10);

	/* queues cannot change live: refused, nothing changes. */
	ck_assert(conf_parse_string("[switch]\nqueues = 3\noffload = no\n"
	    "fdb_size = 64\n[port z]\n", "test.conf", &conf, &err) == 0);
	ck_assert_int_eq(sw_reload(sw, conf, &res, &err), -EINVAL);
	conf_free(conf);
	ck_assert_msg(strstr(err, "queues changed from 2 to 3") != NULL, "%s",
	    err);
	free(err);
	ck_assert_ptr_null(sw_port_find(sw, "z"));
	ck_assert_ptr_nonnull(sw_port_find(sw, "a"));
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("handlers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_framing_errors);
	tcase_add_test(tc, test_big_ids);
	tcase_add_test(tc, test_status_and_help);
	tcase_add_test(tc, test_port_list_show);
	tcase_add_test(tc, test_port_add_del);
	tcase_add_test(tc, test_permissions);
	tcase_add_test(tc, test_fdb_methods);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_reload_diff);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(LOG_LVL_ERROR);	/* the tests provoke warnings */
	/* Ports are socketpairs: no root, no interfaces. */
	port_type_register_test(&port_type_dummy, true);
	return unit_run(ctl_suite());
}
