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
	    "busy_poll = 20\nio_uring = no\n"
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
	ck_assert_str_eq(json_string_value(json_object_get(res,
	    "io_uring_mode")), "no");
	ck_assert_ptr_null(json_object_get(res, "io_uring_unavailable"));
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

/* A port that reaches several hosts (vxlan): static entries say which
 * one; fdb.show says it too. */
START_TEST(test_fdb_remote)
{
	char req[512];
	json_t *r, *e;

	snprintf(req, sizeof(req), REQ("port.add", "{\"name\":\"vx\","
	    "\"settings\":{\"type\":\"vxlan\",\"vni\":\"5\","
	    "\"remote\":\"127.0.0.2, 127.0.0.3\",\"local\":\"127.0.0.1\","
	    "\"dstport\":\"%d\",\"vlan\":\"10\"}}"),
	    20000 + getpid() % 20000);
	r = call(req);
	ok(r);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:51\","
	    "\"port\":\"vx\",\"remote\":\"127.0.0.3\"}"));
	ok(r);
	json_decref(r);
	/* Which remote: required with several, one of the port's. */
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:52\","
	    "\"port\":\"vx\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert_str_eq(err_msg(r), "port vx reaches several hosts: say "
	    "which one the address is behind with remote=ADDRESS");
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:52\","
	    "\"port\":\"vx\",\"remote\":\"127.0.0.9\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert_str_eq(err_msg(r), "127.0.0.9 is not a remote of port vx "
	    "(its remote = lists the hosts it sends to)");
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:52\","
	    "\"port\":\"vx\",\"remote\":7}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:52\","
	    "\"port\":\"a\",\"remote\":\"127.0.0.2\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert_str_eq(err_msg(r), "port a has no remotes: remote= is for "
	    "ports that reach other hosts (type vxlan)");
	json_decref(r);
	r = call(REQ("fdb.show", "{\"port\":\"vx\"}"));
	e = json_array_get(json_object_get(ok(r), "entries"), 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_string_value(json_object_get(e, "remote")),
	    "127.0.0.3");
	json_decref(r);
	/* Ports without remotes say none. */
	r = call(REQ("fdb.add", "{\"mac\":\"02:00:00:00:00:53\","
	    "\"port\":\"a\"}"));
	ok(r);
	json_decref(r);
	r = call(REQ("fdb.show", "{\"port\":\"a\"}"));
	e = json_array_get(json_object_get(ok(r), "entries"), 0);
	ck_assert_ptr_null(json_object_get(e, "remote"));
	json_decref(r);
	r = call(REQ("port.del", "{\"name\":\"vx\"}"));
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
	    sw_port_find(sw, "a")->id, 0, 0, now_sec()), FDB_LEARNED);

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

/* Does fdb entry a sort before b (VLAN, then MAC)? */
static bool
entry_before(json_t *a, json_t *b)
{
	json_int_t va = json_integer_value(json_object_get(a, "vlan"));
	json_int_t vb = json_integer_value(json_object_get(b, "vlan"));

	if (va != vb)
		return va < vb;
	return strcmp(json_string_value(json_object_get(a, "mac")),
	    json_string_value(json_object_get(b, "mac"))) < 0;
}

/* The entries of every page of fdb.show with params (an object's text,
 * without braces) and limit; each page is checked: at most limit
 * entries, sorted, a "next" on every page but the last.  Returns the
 * entries (a new array) and, in *pages, how many pages it took. */
static json_t *
fdb_pages(const char *params, int limit, int *pages)
{
	json_t *all = json_array(), *r, *res, *e, *prev, *next;
	char *after = NULL, req[512];
	size_t i;

	*pages = 0;
	for (;;) {
		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"fdb.show\",\"params\":{%s%s\"limit\":%d%s%s%s}}",
		    params, *params ? "," : "", limit, after ? ",\"after\":\"" :
		    "", after ? after : "", after ? "\"" : "");
		r = call(req);
		res = ok(r);
		(*pages)++;
		ck_assert_int_le(json_array_size(json_object_get(res,
		    "entries")), limit);
		prev = NULL;
		json_array_foreach(json_object_get(res, "entries"), i, e) {
			if (prev)
				ck_assert(entry_before(prev, e));
			json_array_append(all, e);
			prev = e;
		}
		next = json_object_get(res, "next");
		free(after);
		after = next ? strdup(json_string_value(next)) : NULL;
		json_decref(r);
		if (!after)
			return all;
		ck_assert_int_lt(*pages, 1000);
	}
}

static void
fdb_add(const char *mac, const char *port, int vlan)
{
	char req[256];
	json_t *r;

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"fdb.add\",\"params\":{\"mac\":\"%s\",\"port\":\"%s\","
	    "\"vlan\":%d}}", mac, port, vlan);
	r = call(req);
	ok(r);
	json_decref(r);
}

/* How many entries of list have mac. */
static int
count_mac(json_t *list, const char *mac)
{
	json_t *e;
	size_t i;
	int n = 0;

	json_array_foreach(list, i, e)
		n += strcmp(json_string_value(json_object_get(e, "mac")),
		    mac) == 0;
	return n;
}

/* fdb.show in pages: every entry once, whatever the page size and the
 * filters, and changes between pages do not make an entry that stays
 * appear twice or not at all. */
START_TEST(test_fdb_pages)
{
	char mac[32];
	json_t *all, *r;
	int pages, n;

	for (int i = 0; i < 40; i++) {
		snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", i);
		fdb_add(mac, i % 4 ? "a" : "t", i % 4 ? 10 : 20);
	}
	all = fdb_pages("", 1000, &pages);
	ck_assert_int_eq(json_array_size(all), 40);
	ck_assert_int_eq(pages, 1);
	json_decref(all);
	all = fdb_pages("", 7, &pages);
	ck_assert_int_eq(json_array_size(all), 40);
	ck_assert_int_ge(pages, 6);
	for (int i = 0; i < 40; i++) {
		snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", i);
		ck_assert_int_eq(count_mac(all, mac), 1);
	}
	json_decref(all);
	all = fdb_pages("\"vlan\":20", 3, &pages);
	ck_assert_int_eq(json_array_size(all), 10);
	json_decref(all);
	all = fdb_pages("\"port\":\"a\",\"vlan\":20", 1, &pages);
	ck_assert_int_eq(json_array_size(all), 0);
	json_decref(all);

	/* Without "limit": a page of at most 1000. */
	r = call(REQ("fdb.show", "{}"));
	ck_assert_int_eq(json_array_size(json_object_get(ok(r), "entries")),
	    40);
	ck_assert_ptr_null(json_object_get(ok(r), "next"));
	json_decref(r);

	/* Page 1, then half the entries go and others come: each entry that
	 * stayed is listed once. */
	{
		json_t *first, *rest, *res;
		char req[256];
		const char *next;
		size_t k;
		json_t *e;

		r = call(REQ("fdb.show", "{\"limit\":10}"));
		res = ok(r);
		first = json_incref(json_object_get(res, "entries"));
		next = json_string_value(json_object_get(res, "next"));
		ck_assert_ptr_nonnull(next);
		snprintf(req, sizeof(req), "\"after\":\"%s\"", next);
		json_decref(r);
		for (int i = 0; i < 40; i += 2) {
			snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", i);
			ck_assert_uint_eq(fdb_del(sw_fdb(sw), i % 4 ? 10 : 20,
			    (uint8_t[]){ 2, 0, 0, 0, 1, (uint8_t)i }), 0);
		}
		for (int i = 0; i < 10; i++) {
			snprintf(mac, sizeof(mac), "02:00:00:00:02:%02x", i);
			fdb_add(mac, "a", 10);
		}
		rest = fdb_pages(req, 5, &pages);
		for (int i = 1; i < 40; i += 2) {
			snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", i);
			n = count_mac(first, mac) + count_mac(rest, mac);
			ck_assert_msg(n == 1, "%s listed %d times", mac, n);
		}
		json_array_foreach(rest, k, e)
			ck_assert_int_le(count_mac(rest, json_string_value(
			    json_object_get(e, "mac"))), 1);
		json_decref(first);
		json_decref(rest);
	}

	/* Bad params. */
	r = call(REQ("fdb.show", "{\"limit\":0}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert(strstr(err_msg(r), "\"limit\" must be a number of entries "
	    "1..1000") != NULL);
	json_decref(r);
	r = call(REQ("fdb.show", "{\"limit\":1001}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(REQ("fdb.show", "{\"limit\":\"5\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	for (size_t i = 0; i < 5; i++) {
		static const char *const bad[] = {
			"{\"after\":\"x\"}", "{\"after\":\"-1\"}",
			"{\"after\":7}", "{\"after\":\"129\"}", "{\"after\":\"\"}",
		};
		char req[256];

		snprintf(req, sizeof(req), REQ("fdb.show", "%s"), bad[i]);
		r = call(req);
		ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
		ck_assert_msg(strstr(err_msg(r), "\"after\" must be the \"next\" "
		    "of an earlier fdb.show answer") != NULL, "%s", bad[i]);
		json_decref(r);
	}
	/* The end of the table (fdb_size 64: 128 slots) is a last page. */
	r = call(REQ("fdb.show", "{\"after\":\"128\"}"));
	ck_assert_int_eq(json_array_size(json_object_get(ok(r), "entries")),
	    0);
	ck_assert_ptr_null(json_object_get(ok(r), "next"));
	json_decref(r);
}
END_TEST

/* A page looks at a bounded part of a big table, even when the filters
 * match nothing: then it is empty, with a "next". */
START_TEST(test_fdb_pages_big_table)
{
	struct conf *conf;
	struct sw *big;
	struct ctl *bctl;
	char *err = NULL, *resp;
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.show\","
	    "\"params\":{\"vlan\":99}}";
	json_t *r;

	ck_assert_msg(conf_parse_string("[switch]\nqueues = 1\noffload = no\n"
	    "fdb_size = 65536\n[port a]\nvlan = 10\n", "big.conf", &conf,
	    &err) == 0, "%s", err);
	ck_assert_msg(sw_create(conf, NULL, &big, &err) == 0, "%s", err);
	conf_free(conf);
	ctl_create(&bctl);
	sw_ctl_register(big, bctl);
	resp = ctl_handle(bctl, req, strlen(req), 0);
	r = json_loads(resp, 0, NULL);
	free(resp);
	ck_assert_int_eq(json_array_size(json_object_get(json_object_get(r,
	    "result"), "entries")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r,
	    "result"), "next")), "65536");
	json_decref(r);
	req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.show\","
	    "\"params\":{\"vlan\":99,\"after\":\"65536\"}}";
	resp = ctl_handle(bctl, req, strlen(req), 0);
	r = json_loads(resp, 0, NULL);
	free(resp);
	ck_assert_ptr_nonnull(json_object_get(r, "result"));
	ck_assert_ptr_null(json_object_get(json_object_get(r, "result"),
	    "next"));
	json_decref(r);
	ctl_destroy(bctl);
	sw_destroy(big);
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
	    "fdb_size = 64\nfdb_aging = 10\nio_uring = no\n"
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

	/* Nor the data path: the default (auto) is a change from no. */
	ck_assert(conf_parse_string("[switch]\nqueues = 2\noffload = no\n"
	    "fdb_size = 64\n[port z]\n", "test.conf", &conf, &err) == 0);
	ck_assert_int_eq(sw_reload(sw, conf, &res, &err), -EINVAL);
	conf_free(conf);
	ck_assert_msg(strstr(err, "io_uring changed from no to auto") != NULL,
	    "%s", err);
	free(err);
	ck_assert_ptr_null(sw_port_find(sw, "z"));
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
	tcase_add_test(tc, test_fdb_remote);
	tcase_add_test(tc, test_fdb_pages);
	tcase_add_test(tc, test_fdb_pages_big_table);
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
