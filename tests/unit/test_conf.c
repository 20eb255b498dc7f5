/*
 * test_conf.c - unit tests of the config parser (conf.c) and of VLAN
 * lists (vlan.c).
 *
 * Good files check every field they set and every default they do not;
 * bad files check the exact, complete error text, because those messages
 * are what an operator sees when tapswitchd refuses to start.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tapswitch/conf.h"
#include "tapswitch/vlan.h"

#include "unit.h"

/* Parse text that must be valid. */
static struct conf *
parse_ok(const char *text)
{
	struct conf *conf = NULL;
	char *err = NULL;
	int r;

	r = conf_parse_string(text, "test.conf", &conf, &err);
	ck_assert_msg(r == 0, "unexpected failure %d: %s", r,
	    err ? err : "(no message)");
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(conf);
	return conf;
}

/* Parse text that must be refused with exactly the message want. */
static void
parse_bad(const char *text, const char *want)
{
	struct conf *conf = (struct conf *)1;
	char *err = NULL;
	int r;

	r = conf_parse_string(text, "test.conf", &conf, &err);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_null(conf);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, want);
	free(err);
}

/* ---- Good files ---- */

static const char design_example[] =
    "[switch]\n"
    "queues = 2            # TAP queues per port = worker threads "
    "(default: online CPUs, 1..16)\n"
    "offload = yes         # virtio-net header + GSO/checksum passthrough\n"
    "fdb_size = 8192       # MAC table bound\n"
    "fdb_aging = 300       # seconds\n"
    "control_socket = /run/tapswitch/tapswitchd.sock\n"
    "\n"
    "[port web1]           # one section per port; the section name is "
    "the port name\n"
    "ifname = tsw-web1     # TAP name (default: the port name)\n"
    "mtu = 9000            # default 1500\n"
    "vlan = 10             # access port of VLAN 10 (default: access "
    "VLAN 1)\n"
    "# trunk = 10,20,30    # tagged VLANs (instead of vlan =)\n"
    "# native = 10         # untagged frames on a trunk belong to VLAN 10\n"
    "mac_limit = 16        # most addresses this port may own (default: "
    "no limit)\n"
    "netns = web1          # move the TAP into /run/netns/web1 and bring "
    "it up there\n";

START_TEST(test_design_example)
{
	struct conf *conf = parse_ok(design_example);
	const struct conf_port *p;

	ck_assert_str_eq(conf->path, "test.conf");
	ck_assert_uint_eq(conf->sw.queues, 2);
	ck_assert(conf->sw.offload);
	ck_assert_uint_eq(conf->sw.fdb_size, 8192);
	ck_assert_uint_eq(conf->sw.fdb_aging, 300);
	ck_assert_str_eq(conf->sw.control_socket,
	    "/run/tapswitch/tapswitchd.sock");
	ck_assert_ptr_null(conf->sw.control_group);
	ck_assert_uint_eq(conf->n_ports, 1);
	p = &conf->ports[0];
	ck_assert_str_eq(p->name, "web1");
	ck_assert_str_eq(p->ifname, "tsw-web1");
	ck_assert_uint_eq(p->mtu, 9000);
	ck_assert_uint_eq(p->vlan, 10);
	ck_assert(!p->trunk);
	ck_assert(vlan_set_empty(&p->trunk_vlans));
	ck_assert_uint_eq(p->native, 0);
	ck_assert_uint_eq(p->mac_limit, 16);
	ck_assert_str_eq(p->netns, "web1");
	ck_assert_uint_eq(p->line, 8);
	ck_assert(conf_port_given(p, "vlan") && conf_port_given(p, "ifname"));
	ck_assert(!conf_port_given(p, "trunk") && !conf_port_given(p, "native"));
	ck_assert_ptr_eq(conf_find_port(conf, "web1"), p);
	ck_assert_ptr_null(conf_find_port(conf, "web2"));
	conf_free(conf);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf *conf = parse_ok("[port a]\n[port b]\nmtu = 68\n");
	const struct conf_port *p = &conf->ports[0];

	ck_assert_uint_eq(conf->sw.queues, conf_default_queues());
	ck_assert_uint_ge(conf->sw.queues, 1);
	ck_assert_uint_le(conf->sw.queues, CONF_QUEUES_MAX);
	ck_assert(conf->sw.offload);
	ck_assert_uint_eq(conf->sw.fdb_size, CONF_FDB_SIZE_DEFAULT);
	ck_assert_uint_eq(conf->sw.fdb_aging, CONF_FDB_AGING_DEFAULT);
	ck_assert_str_eq(conf->sw.control_socket, CONF_DEFAULT_SOCKET);
	ck_assert_ptr_null(conf->sw.control_group);
	ck_assert_uint_eq(conf->sw.busy_poll, 50);
	ck_assert_int_eq(conf->sw.io_uring, CONF_IO_URING_AUTO);

	ck_assert_uint_eq(conf->n_ports, 2);
	ck_assert_str_eq(p->name, "a");
	ck_assert_str_eq(p->ifname, "a");
	ck_assert_uint_eq(p->mtu, CONF_MTU_DEFAULT);
	ck_assert_uint_eq(p->vlan, 1);
	ck_assert(!p->trunk);
	ck_assert_uint_eq(p->native, 0);
	ck_assert_uint_eq(p->mac_limit, 0);
	ck_assert_ptr_null(p->netns);
	ck_assert_uint_eq(p->line, 1);
	ck_assert(!conf_port_given(p, "vlan") && !conf_port_given(p, "trunk") && !conf_port_given(p, "native") &&
	    !conf_port_given(p, "ifname"));
	ck_assert_str_eq(conf->ports[1].name, "b");
	ck_assert_uint_eq(conf->ports[1].mtu, 68);
	ck_assert_uint_eq(conf->ports[1].line, 2);
	conf_free(conf);
}
END_TEST

START_TEST(test_no_ports)
{
	static const char *const texts[] = {
		"",
		"\n\n",
		"# nothing here\n; nor here\n",
		"[switch]\n",
		"[switch]\nqueues = 1\noffload = no",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct conf *conf = parse_ok(texts[i]);

		ck_assert_uint_eq(conf->n_ports, 0);
		ck_assert_ptr_null(conf_find_port(conf, "a"));
		conf_free(conf);
	}
	conf_free(NULL);
}
END_TEST

START_TEST(test_switch_keys)
{
	struct conf *conf = parse_ok(
	    "[switch]\n"
	    "queues = 16\n"
	    "offload = Off\n"
	    "fdb_size = 16777216\n"
	    "fdb_aging = 0\n"
	    "control_socket = /tmp/t.sock\n"
	    "control_group = tapswitch\n"
	    "busy_poll = 1000\n");

	ck_assert_uint_eq(conf->sw.queues, 16);
	ck_assert(!conf->sw.offload);
	ck_assert_uint_eq(conf->sw.fdb_size, CONF_FDB_SIZE_MAX);
	ck_assert_uint_eq(conf->sw.fdb_aging, 0);
	ck_assert_str_eq(conf->sw.control_socket, "/tmp/t.sock");
	ck_assert_str_eq(conf->sw.control_group, "tapswitch");
	ck_assert_uint_eq(conf->sw.busy_poll, 1000);
	conf_free(conf);
}
END_TEST

START_TEST(test_offload_words)
{
	static const struct {
		const char *word;
		bool value;
	} cases[] = {
		{ "yes", true }, { "true", true }, { "on", true },
		{ "1", true }, { "YES", true }, { "no", false },
		{ "false", false }, { "off", false }, { "0", false },
		{ "No", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		struct conf *conf;

		ck_assert_int_ge(asprintf(&text, "[switch]\noffload = %s\n",
		    cases[i].word), 0);
		conf = parse_ok(text);
		ck_assert_msg(conf->sw.offload == cases[i].value, "%s",
		    cases[i].word);
		conf_free(conf);
		free(text);
	}
}
END_TEST

START_TEST(test_io_uring_key)
{
	struct conf *conf = parse_ok("[switch]\nio_uring = no\n");
	char *err = NULL;
	int r;

	ck_assert_int_eq(conf->sw.io_uring, CONF_IO_URING_NO);
	ck_assert_str_eq(conf_io_uring_name(conf->sw.io_uring), "no");
	conf_free(conf);
	conf = parse_ok("[switch]\nio_uring = auto\n");
	ck_assert_int_eq(conf->sw.io_uring, CONF_IO_URING_AUTO);
	ck_assert_str_eq(conf_io_uring_name(conf->sw.io_uring), "auto");
	conf_free(conf);
	r = conf_parse_string("[switch]\nio_uring = yes\n", "test.conf",
	    &conf, &err);
#ifdef HAVE_LIBURING
	ck_assert_msg(r == 0, "%s", err ? err : "");
	ck_assert_int_eq(conf->sw.io_uring, CONF_IO_URING_YES);
	ck_assert_str_eq(conf_io_uring_name(conf->sw.io_uring), "yes");
	conf_free(conf);
#else
	/* A build without liburing says so instead of ignoring it. */
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(err, "test.conf:2: bad value \"yes\" for io_uring "
	    "in [switch]: this tapswitchd was built without io_uring "
	    "(configure --with-io-uring, which needs liburing-dev; "
	    "auto or no does without)");
#endif
	free(err);
}
END_TEST

START_TEST(test_trunk_native)
{
	struct conf *conf = parse_ok(
	    "[port up]\n"
	    "trunk = 10, 20 ,30-32\n"
	    "native = 10\n"
	    "[port t2]\n"
	    "trunk = 4094\n");
	const struct conf_port *p = &conf->ports[0];

	ck_assert(p->trunk && conf_port_given(p, "trunk") && conf_port_given(p, "native"));
	ck_assert_uint_eq(p->vlan, 0);
	ck_assert_uint_eq(p->native, 10);
	ck_assert(vlan_set_has(&p->trunk_vlans, 10));
	ck_assert(vlan_set_has(&p->trunk_vlans, 20));
	ck_assert(vlan_set_has(&p->trunk_vlans, 30));
	ck_assert(vlan_set_has(&p->trunk_vlans, 32));
	ck_assert(!vlan_set_has(&p->trunk_vlans, 33));
	ck_assert(!vlan_set_has(&p->trunk_vlans, 11));
	p = &conf->ports[1];
	ck_assert(p->trunk);
	ck_assert_uint_eq(p->native, 0);
	ck_assert(vlan_set_has(&p->trunk_vlans, 4094));
	conf_free(conf);
}
END_TEST

START_TEST(test_comments_and_layout)
{
	/* BOM, CRLF, indentation, both comment styles, a '#' that is part
	 * of a value, "key=value" without blanks. */
	struct conf *conf = parse_ok(
	    "\xef\xbb\xbf# tapswitch\r\n"
	    "[switch]\t; the switch\r\n"
	    "  queues=3 ;three\r\n"
	    "\tcontrol_socket = /run/a#b.sock\t# hash inside stays\r\n"
	    "\n"
	    "  [ port  p1 ]  # spaced header\n"
	    "    mtu = 1400\n"
	    "    vlan\t=\t7\t#tab\n");

	ck_assert_uint_eq(conf->sw.queues, 3);
	ck_assert_str_eq(conf->sw.control_socket, "/run/a#b.sock");
	ck_assert_uint_eq(conf->n_ports, 1);
	ck_assert_str_eq(conf->ports[0].name, "p1");
	ck_assert_uint_eq(conf->ports[0].line, 6);
	ck_assert_uint_eq(conf->ports[0].mtu, 1400);
	ck_assert_uint_eq(conf->ports[0].vlan, 7);
	conf_free(conf);

	/* A ";" with no blank before it is part of the value. */
	parse_bad("[port p1]\nmtu = 1400;x\n",
	    "test.conf:2: bad value \"1400;x\" for mtu in [port p1]: "
	    "expected an integer 68..65535");
}
END_TEST

START_TEST(test_indented_lines_are_not_continuations)
{
	/* inih's multi-line values would glue "  mtu = 9000" to ifname. */
	struct conf *conf = parse_ok(
	    "[port a]\n"
	    "ifname = tsw-a\n"
	    "   mtu = 9000\n");

	ck_assert_str_eq(conf->ports[0].ifname, "tsw-a");
	ck_assert_uint_eq(conf->ports[0].mtu, 9000);
	conf_free(conf);
}
END_TEST

START_TEST(test_long_lines)
{
	/* Longer than inih's line buffer: a trunk list of 300 VLANs. */
	size_t cap = 4096, len;
	char *text = malloc(cap);
	struct conf *conf;
	char *err = NULL;
	int r;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "[port t]\ntrunk = ");
	for (unsigned v = 100; v < 700; v += 2)
		len += (size_t)snprintf(text + len, cap - len, "%s%u",
		    v == 100 ? "" : ",", v);
	len += (size_t)snprintf(text + len, cap - len,
	    "   # a comment\nmtu = 9000\nnative = 100\n");
	ck_assert_uint_lt(len, cap);
	conf = parse_ok(text);
	ck_assert(vlan_set_has(&conf->ports[0].trunk_vlans, 100));
	ck_assert(vlan_set_has(&conf->ports[0].trunk_vlans, 698));
	ck_assert(!vlan_set_has(&conf->ports[0].trunk_vlans, 699));
	ck_assert_uint_eq(conf->ports[0].mtu, 9000);
	conf_free(conf);

	/* Line numbers after a long line are still right. */
	snprintf(strstr(text, "mtu = 9000"), 20, "mtu = 9\n");
	r = conf_parse_string(text, "test.conf", &conf, &err);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(err, "test.conf:3: bad value \"9\" for mtu in "
	    "[port t]: expected an integer 68..65535");
	free(err);
	free(text);

	/* A long unknown key is shown shortened. */
	text = malloc(300);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "[port t]\n");
	memset(text + 9, 'k', 250);
	strcpy(text + 259, " = 1\n");
	r = conf_parse_string(text, "test.conf", &conf, &err);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(err, "test.conf:2: unknown key \"kkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\" in [port t]");
	free(err);
	free(text);
}
END_TEST

START_TEST(test_port_keys)
{
	struct conf *conf = parse_ok(
	    "[port a.b-c_D]\n"
	    "ifname = x\n"
	    "mtu = 65521\n"
	    "mac_limit = 0\n"
	    "netns = ns-1.a_b\n"
	    "[port x]\n"
	    "ifname = y\n"
	    "mac_limit = 16777216\n"
	    "[port a-port-name-that-is-long]\n"
	    "ifname = z\n");

	ck_assert_str_eq(conf->ports[0].name, "a.b-c_D");
	ck_assert_str_eq(conf->ports[0].ifname, "x");
	ck_assert_uint_eq(conf->ports[0].mtu, 65521);
	ck_assert_str_eq(conf->ports[0].netns, "ns-1.a_b");
	/* Port x is named like port a.b-c_D's interface: that is fine. */
	ck_assert_str_eq(conf->ports[1].ifname, "y");
	ck_assert_uint_eq(conf->ports[1].mac_limit, CONF_FDB_SIZE_MAX);
	ck_assert_str_eq(conf->ports[2].ifname, "z");
	conf_free(conf);
}
END_TEST

/* ---- Bad files ---- */

START_TEST(test_unknown_keys)
{
	parse_bad("[port web1]\nvlna = 10\n",
	    "test.conf:2: unknown key \"vlna\" in [port web1] "
	    "(did you mean \"vlan\"?)");
	parse_bad("[switch]\nx = 1\n",
	    "test.conf:2: unknown key \"x\" in [switch]");
	parse_bad("[switch]\nqueue = 1\n",
	    "test.conf:2: unknown key \"queue\" in [switch] "
	    "(did you mean \"queues\"?)");
	parse_bad("[port a]\nMTU = 1500\n",
	    "test.conf:2: unknown key \"MTU\" in [port a] "
	    "(did you mean \"mtu\"?)");
	parse_bad("[port a]\nmacl_imit = 4\n",
	    "test.conf:2: unknown key \"macl_imit\" in [port a] "
	    "(did you mean \"mac_limit\"?)");
	parse_bad("[port a]\ncolour = blue\n",
	    "test.conf:2: unknown key \"colour\" in [port a]");
	parse_bad("[port a]\nqueues = 2\n",
	    "test.conf:2: unknown key \"queues\" in [port a] "
	    "(queues is a key of [switch])");
	parse_bad("[switch]\nmtu = 9000\n",
	    "test.conf:2: unknown key \"mtu\" in [switch] "
	    "(mtu is a key of [port NAME])");
	parse_bad("[port a]\nif:name = x\n",
	    "test.conf:2: unknown key \"if:name\" in [port a] "
	    "(did you mean \"ifname\"?)");
	parse_bad("[port a]\n\"q\\ \x01 = 1\n",
	    "test.conf:2: unknown key \"\\\"q\\\\ \\x01\" in [port a]");
}
END_TEST

START_TEST(test_bad_values)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[port web1]\nmtu = abc\n",
		  "test.conf:2: bad value \"abc\" for mtu in [port web1]: "
		  "expected an integer 68..65535" },
		{ "[port web1]\nmtu = 67\n",
		  "test.conf:2: bad value \"67\" for mtu in [port web1]: "
		  "expected an integer 68..65535" },
		{ "[port web1]\nmtu =\n",
		  "test.conf:2: bad value \"\" for mtu in [port web1]: "
		  "expected an integer 68..65535" },
		{ "[port web1]\nmtu = 99999999999999999999999\n",
		  "test.conf:2: bad value \"99999999999999999999999\" for mtu "
		  "in [port web1]: expected an integer 68..65535" },
		{ "[port web1]\nmtu = -1500\n",
		  "test.conf:2: bad value \"-1500\" for mtu in [port web1]: "
		  "expected an integer 68..65535" },
		{ "[port web1]\nvlan = 5000\n",
		  "test.conf:2: bad value \"5000\" for vlan in [port web1]: "
		  "VLAN must be 1..4094" },
		{ "[port web1]\nvlan = 0\n",
		  "test.conf:2: bad value \"0\" for vlan in [port web1]: "
		  "VLAN must be 1..4094" },
		{ "[port t]\nnative = 4095\n",
		  "test.conf:2: bad value \"4095\" for native in [port t]: "
		  "VLAN must be 1..4094" },
		{ "[port t]\ntrunk = 10,5000\n",
		  "test.conf:2: bad value \"10,5000\" for trunk in [port t]: "
		  "VLAN 5000 outside 1..4094" },
		{ "[port t]\ntrunk = 40-30\n",
		  "test.conf:2: bad value \"40-30\" for trunk in [port t]: "
		  "range 40-30 is backwards; write the lower VLAN first" },
		{ "[port t]\ntrunk = 10,,20\n",
		  "test.conf:2: bad value \"10,,20\" for trunk in [port t]: "
		  "empty item in the list (a stray comma?)" },
		{ "[port t]\ntrunk =\n",
		  "test.conf:2: bad value \"\" for trunk in [port t]: "
		  "empty list; give VLAN ids like 10,20,30-40" },
		{ "[port t]\ntrunk = 10,abc\n",
		  "test.conf:2: bad value \"10,abc\" for trunk in [port t]: "
		  "\"abc\" is not a VLAN id or a range like 30-40" },
		{ "[port a]\nmac_limit = 16777217\n",
		  "test.conf:2: bad value \"16777217\" for mac_limit in "
		  "[port a]: expected an integer 0..16777216 (0 = no limit)" },
		{ "[port a]\nifname = a/b\n",
		  "test.conf:2: bad value \"a/b\" for ifname in [port a]: "
		  "interface names are 1..15 characters without '/', ':', "
		  "spaces or control characters, and not \".\" or \"..\"" },
		{ "[port a]\nifname = 0123456789abcdef\n",
		  "test.conf:2: bad value \"0123456789abcdef\" for ifname in "
		  "[port a]: interface names are 1..15 characters without "
		  "'/', ':', spaces or control characters, and not \".\" or "
		  "\"..\"" },
		{ "[port a]\nifname = ..\n",
		  "test.conf:2: bad value \"..\" for ifname in [port a]: "
		  "interface names are 1..15 characters without '/', ':', "
		  "spaces or control characters, and not \".\" or \"..\"" },
		{ "[port a]\nifname = tap 0\n",
		  "test.conf:2: bad value \"tap 0\" for ifname in [port a]: "
		  "interface names are 1..15 characters without '/', ':', "
		  "spaces or control characters, and not \".\" or \"..\"" },
		{ "[port a]\nnetns = ../etc\n",
		  "test.conf:2: bad value \"../etc\" for netns in [port a]: "
		  "namespace names are 1..64 characters of A-Z a-z 0-9 _ . -, "
		  "and not \".\" or \"..\"" },
		{ "[port a]\nnetns = ..\n",
		  "test.conf:2: bad value \"..\" for netns in [port a]: "
		  "namespace names are 1..64 characters of A-Z a-z 0-9 _ . -, "
		  "and not \".\" or \"..\"" },
		{ "[switch]\nqueues = 0\n",
		  "test.conf:2: bad value \"0\" for queues in [switch]: "
		  "expected an integer 1..16" },
		{ "[switch]\nqueues = 17\n",
		  "test.conf:2: bad value \"17\" for queues in [switch]: "
		  "expected an integer 1..16" },
		{ "[switch]\noffload = maybe\n",
		  "test.conf:2: bad value \"maybe\" for offload in [switch]: "
		  "expected yes or no (or true/false, on/off, 1/0)" },
		{ "[switch]\nio_uring = sometimes\n",
		  "test.conf:2: bad value \"sometimes\" for io_uring in "
		  "[switch]: expected auto, yes or no (or true/false, "
		  "on/off, 1/0)" },
		{ "[switch]\nfdb_size = 0\n",
		  "test.conf:2: bad value \"0\" for fdb_size in [switch]: "
		  "expected an integer 1..16777216" },
		{ "[switch]\nbusy_poll = 1001\n",
		  "test.conf:2: bad value \"1001\" for busy_poll in "
		  "[switch]: expected microseconds 0..1000 (0 = off)" },
		{ "[switch]\nfdb_aging = 1000001\n",
		  "test.conf:2: bad value \"1000001\" for fdb_aging in "
		  "[switch]: expected seconds 0..1000000 (0 = never age)" },
		{ "[switch]\ncontrol_socket = run/t.sock\n",
		  "test.conf:2: bad value \"run/t.sock\" for control_socket in "
		  "[switch]: expected an absolute path of at most 107 "
		  "characters" },
		{ "[switch]\ncontrol_group = -wheel\n",
		  "test.conf:2: bad value \"-wheel\" for control_group in "
		  "[switch]: group names are 1..32 characters of A-Z a-z 0-9 "
		  "_ . -, not starting with -" },
		{ "[switch]\ncontrol_group =\n",
		  "test.conf:2: bad value \"\" for control_group in "
		  "[switch]: group names are 1..32 characters of A-Z a-z 0-9 "
		  "_ . -, not starting with -" },
		{ "[port a]\nmtu = \x1b[31m\n",
		  "test.conf:2: bad value \"\\x1b[31m\" for mtu in [port a]: "
		  "expected an integer 68..65535" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].text, cases[i].want);
}
END_TEST

START_TEST(test_long_socket_path)
{
	char text[256], path[120];

	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[107] = '\0';
	snprintf(text, sizeof(text), "[switch]\ncontrol_socket = %s\n", path);
	conf_free(parse_ok(text));
	path[107] = 'p';
	path[108] = '\0';
	snprintf(text, sizeof(text), "[switch]\ncontrol_socket = %s\n", path);
	parse_bad(text, "test.conf:2: bad value \"/ppppppppppppppppppppppppppp"
	    "pppppppppppppppppppppppppppppppppppp...\" for control_socket in "
	    "[switch]: expected an absolute path of at most 107 characters");
}
END_TEST

START_TEST(test_structure_errors)
{
	parse_bad("[port web1]\n[port web2]\n[port web1]\n",
	    "test.conf:3: duplicate port \"web1\" (first defined at line 1)");
	parse_bad("[port a]\nifname = tsw-a\n[port b]\nifname = tsw-a\n",
	    "test.conf:4: ifname \"tsw-a\" of [port b] is already used by "
	    "[port a]");
	/* A default ifname (the port name) counts, at the header line. */
	parse_bad("[port a]\nifname = b\n\n[port b]\n",
	    "test.conf:4: ifname \"b\" of [port b] is already used by "
	    "[port a]");
	/* At the line of the second of the two keys, in either order. */
	parse_bad("[port web1]\nvlan = 10\ntrunk = 10,20\n",
	    "test.conf:3: [port web1] sets both vlan and trunk; an access "
	    "port has vlan =, a trunk has trunk =");
	parse_bad("[port web1]\ntrunk = 10,20\nmtu = 9000\nvlan = 10\n",
	    "test.conf:4: [port web1] sets both vlan and trunk; an access "
	    "port has vlan =, a trunk has trunk =");
	parse_bad("[port web1]\n\nnative = 10\n",
	    "test.conf:3: [port web1] sets native without trunk");
	parse_bad("[port web1]\nmtu = 9000\nvlan = 2\nmtu = 1500\n",
	    "test.conf:4: duplicate key \"mtu\" in [port web1] (first set at "
	    "line 2)");
	parse_bad("[switch]\nqueues = 2\nqueues = 2\n",
	    "test.conf:3: duplicate key \"queues\" in [switch] (first set at "
	    "line 2)");
	parse_bad("[foo]\nx = 1\n",
	    "test.conf:1: unknown section [foo]; sections are [switch] and "
	    "[port NAME]");
	parse_bad("[Switch]\n",
	    "test.conf:1: unknown section [Switch]; sections are [switch] "
	    "and [port NAME]");
	parse_bad("[switch]\n[switch]\nqueues = 1\n",
	    "test.conf:2: duplicate section [switch] (first at line 1); use "
	    "one [switch] section");
	parse_bad("\nqueues = 2\n",
	    "test.conf:2: key \"queues\" is outside any section; put it under "
	    "[switch] or [port NAME]");
	parse_bad("[port]\nmtu = 1\n",
	    "test.conf:1: [port] needs a name: write [port NAME]");
	parse_bad("[port web 1]\n",
	    "test.conf:1: bad port name \"web 1\": port names are 1..64 "
	    "characters of A-Z a-z 0-9 _ . -");
	parse_bad("[port a]\n[port "
	    "a123456789a123456789a123456789a123456789a123456789a123456789abcde"
	    "]\n",
	    "test.conf:2: bad port name \"a123456789a123456789a123456789a1234"
	    "56789a123456789a123456789abcd...\": port names are 1..64 "
	    "characters of A-Z a-z 0-9 _ . -");
	parse_bad("[port a\n",
	    "test.conf:1: bad section header \"[port a\": expected [switch] "
	    "or [port NAME]");
	parse_bad("[port a] x\n",
	    "test.conf:1: bad section header \"[port a] x\": expected "
	    "[switch] or [port NAME]");
	parse_bad("[port a]\nmtu 9000\n",
	    "test.conf:2: \"mtu 9000\" is not a setting: expected key = "
	    "value, [switch] or [port NAME]");
	parse_bad("[port a]\n = 9000\n",
	    "test.conf:2: missing key before \"=\"");
	parse_bad("[port a-very-long-port-name]\n",
	    "test.conf:1: [port a-very-long-port-name] needs ifname =: its "
	    "name cannot be an interface name (at most 15 characters, not "
	    "\".\" or \"..\")");
	parse_bad("[port ..]\n",
	    "test.conf:1: [port ..] needs ifname =: its name cannot be an "
	    "interface name (at most 15 characters, not \".\" or \"..\")");
}
END_TEST

START_TEST(test_many_errors_in_one_file)
{
	parse_bad(
	    "[switch]\n"		/* 1 */
	    "queues = 0\n"		/* 2 */
	    "[port a]\n"		/* 3 */
	    "vlna = 3\n"		/* 4 */
	    "vlan = 10\n"		/* 5 */
	    "trunk = 20\n"		/* 6 */
	    "[port a]\n"		/* 7 */
	    "mtu = 1\n"			/* 8 */
	    "[port b]\n"		/* 9 */
	    "native = 5\n"		/* 10 */
	    "ifname = a\n",		/* 11 */
	    "test.conf:2: bad value \"0\" for queues in [switch]: expected an "
	    "integer 1..16\n"
	    "test.conf:4: unknown key \"vlna\" in [port a] (did you mean "
	    "\"vlan\"?)\n"
	    "test.conf:6: [port a] sets both vlan and trunk; an access port "
	    "has vlan =, a trunk has trunk =\n"
	    "test.conf:7: duplicate port \"a\" (first defined at line 3)\n"
	    "test.conf:8: bad value \"1\" for mtu in [port a]: expected an "
	    "integer 68..65535\n"
	    "test.conf:10: [port b] sets native without trunk\n"
	    "test.conf:11: ifname \"a\" of [port b] is already used by "
	    "[port a]");
}
END_TEST

START_TEST(test_too_many_errors)
{
	char text[2048], want[4096];
	size_t t = 0, w = 0;

	t += (size_t)snprintf(text + t, sizeof(text) - t, "[port a]\n");
	for (unsigned i = 0; i < 30; i++)
		t += (size_t)snprintf(text + t, sizeof(text) - t,
		    "bad%u = 1\n", i);
	for (unsigned i = 0; i < 20; i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w,
		    "test.conf:%u: unknown key \"bad%u\" in [port a]\n",
		    i + 2, i);
	snprintf(want + w, sizeof(want) - w,
	    "test.conf:22: too many errors; stopped reading here");
	parse_bad(text, want);
}
END_TEST

START_TEST(test_too_many_ports)
{
	size_t cap = 4100 * 24, len = 0;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	for (unsigned i = 0; i <= 4096; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "[port p%u]\n", i);
	parse_bad(text, "test.conf:4097: too many ports: a switch has at "
	    "most 4096");
	/* 4096 is fine. */
	*strstr(text, "[port p4096]") = '\0';
	conf_free(parse_ok(text));
	free(text);
}
END_TEST

/* ---- conf_port_* directly (the "port add" path) ---- */

START_TEST(test_port_set_and_check)
{
	struct conf_port p;
	char *err = NULL;

	conf_port_init(&p, "vm1");
	ck_assert_int_eq(conf_port_set(&p, "mtu", "9000", &err), 0);
	ck_assert_uint_eq(p.mtu, 9000);
	ck_assert_int_eq(conf_port_set(&p, "vlna", "5", &err), -EINVAL);
	ck_assert_str_eq(err, "unknown key \"vlna\" (did you mean \"vlan\"?)");
	free(err);
	ck_assert_int_eq(conf_port_set(&p, "vlan", "5000", &err), -EINVAL);
	ck_assert_str_eq(err, "bad value \"5000\" for vlan: VLAN must be "
	    "1..4094");
	free(err);
	ck_assert_uint_eq(p.vlan, 1);
	ck_assert(!conf_port_given(&p, "vlan"));
	ck_assert_int_eq(conf_port_check(&p, &err), 0);

	ck_assert_int_eq(conf_port_set(&p, "native", "7", &err), 0);
	ck_assert_int_eq(conf_port_check(&p, &err), -EINVAL);
	ck_assert_str_eq(err, "[port vm1] sets native without trunk");
	free(err);
	ck_assert_int_eq(conf_port_set(&p, "trunk", "7-9", &err), 0);
	ck_assert_int_eq(conf_port_check(&p, &err), 0);
	ck_assert_uint_eq(p.vlan, 0);
	ck_assert(p.trunk);
	ck_assert_int_eq(conf_port_set(&p, "vlan", "3", &err), 0);
	ck_assert_int_eq(conf_port_check(&p, &err), -EINVAL);
	ck_assert_str_eq(err, "[port vm1] sets both vlan and trunk; an access "
	    "port has vlan =, a trunk has trunk =");
	free(err);

	ck_assert_int_eq(conf_port_set(&p, "ifname", "t/x", &err), -EINVAL);
	ck_assert_str_eq(err, "bad value \"t/x\" for ifname: interface names "
	    "are 1..15 characters without '/', ':', spaces or control "
	    "characters, and not \".\" or \"..\"");
	free(err);
	ck_assert_str_eq(p.ifname, "vm1");
	ck_assert_int_eq(conf_port_set(&p, "mtu", NULL, &err), -EINVAL);
	ck_assert_str_eq(err, "mtu needs a value: mtu=VALUE");
	free(err);
	ck_assert_int_eq(conf_port_set(&p, "netns", "blue", &err), 0);
	ck_assert_int_eq(conf_port_set(&p, "netns", "red", &err), 0);
	ck_assert_str_eq(p.netns, "red");
	conf_port_destroy(&p);
	ck_assert_ptr_null(p.name);

	conf_port_init(&p, "a-name-of-sixteen");
	ck_assert_int_eq(conf_port_check(&p, &err), -EINVAL);
	ck_assert_str_eq(err, "[port a-name-of-sixteen] needs ifname =: its "
	    "name cannot be an interface name (at most 15 characters, not "
	    "\".\" or \"..\")");
	free(err);
	ck_assert_int_eq(conf_port_set(&p, "ifname", "short", &err), 0);
	ck_assert_int_eq(conf_port_check(&p, &err), 0);
	conf_port_destroy(&p);
}
END_TEST

START_TEST(test_port_name_valid)
{
	char name[70];

	ck_assert(conf_port_name_valid("web1"));
	ck_assert(conf_port_name_valid("A.b_c-9"));
	ck_assert(!conf_port_name_valid(""));
	ck_assert(!conf_port_name_valid("a b"));
	ck_assert(!conf_port_name_valid("a/b"));
	ck_assert(!conf_port_name_valid("é"));
	memset(name, 'x', 64);
	name[64] = '\0';
	ck_assert(conf_port_name_valid(name));
	name[64] = 'x';
	name[65] = '\0';
	ck_assert(!conf_port_name_valid(name));
}
END_TEST

START_TEST(test_port_equal_and_copy)
{
	struct conf_port a, b;
	char *err = NULL;

	conf_port_init(&a, "p");
	ck_assert_int_eq(conf_port_set(&a, "trunk", "10-20", &err), 0);
	ck_assert_int_eq(conf_port_set(&a, "netns", "ns", &err), 0);
	conf_port_copy(&b, &a);
	ck_assert(conf_port_equal(&a, &b));
	ck_assert_ptr_ne(a.name, b.name);
	ck_assert_ptr_ne(a.ifname, b.ifname);
	ck_assert_ptr_ne(a.netns, b.netns);
	b.line = 42;
	ck_assert(conf_port_equal(&a, &b));

#define CHANGED(stmt) do { \
	conf_port_destroy(&b); \
	conf_port_copy(&b, &a); \
	stmt; \
	ck_assert_msg(!conf_port_equal(&a, &b), "%s", #stmt); \
} while (0)
	CHANGED(b.name[0] = 'q');
	CHANGED(b.ifname[0] = 'q');
	CHANGED(b.mtu = 9000);
	CHANGED(b.vlan = 5);
	CHANGED(b.given = 0);
	CHANGED(b.type = conf_type_find("system"));
	CHANGED(vlan_set_add(&b.trunk_vlans, 30));
	CHANGED(b.native = 10);
	CHANGED(b.mac_limit = 3);
	CHANGED((free(b.netns), b.netns = NULL));
	CHANGED(b.netns[0] = 'x');
#undef CHANGED
	conf_port_destroy(&b);
	conf_port_destroy(&a);
}
END_TEST

/* ---- Port types ---- */

START_TEST(test_port_types)
{
	struct conf *conf = parse_ok(
	    "[port up]\n"
	    "ifname = eth1\n"		/* before its type: fine */
	    "type = system\n"
	    "trunk = 10,20\n"
	    "[port vm]\n"
	    "type = system\n"
	    "ifname = vnet0\n"
	    "netns = hv\n"
	    "[port t]\n"
	    "type = tap\n"
	    "persist = no\n"
	    "[port eth1]\n"		/* a TAP "eth1" in netns x: another one */
	    "netns = x\n");

	ck_assert_str_eq(conf->ports[0].type->name, "system");
	ck_assert_str_eq(conf->ports[0].ifname, "eth1");
	ck_assert_ptr_null(conf->ports[0].netns);
	ck_assert(conf->ports[0].trunk);
	ck_assert(conf_port_given(&conf->ports[0], "type"));
	ck_assert_str_eq(conf->ports[1].type->name, "system");
	ck_assert_str_eq(conf->ports[1].netns, "hv");
	ck_assert_str_eq(conf->ports[2].type->name, "tap");
	ck_assert_str_eq(conf->ports[3].type->name, "tap");
	ck_assert(!conf_port_given(&conf->ports[3], "type"));
	ck_assert_str_eq(conf->ports[3].ifname, "eth1");
	conf_free(conf);

	parse_bad("[port up]\ntype = system\n",
	    "test.conf:2: [port up] needs ifname =: a system port is an "
	    "existing interface, attached through AF_PACKET");
	parse_bad("[port up]\ntype = system\nifname = eth1\nmtu = 9000\n",
	    "test.conf:4: [port up] sets mtu, but a system port takes the "
	    "MTU of its interface (change that with \"ip link set eth1 mtu "
	    "N\")");
	parse_bad("[port up]\npersist = no\nifname = eth1\ntype = system\n",
	    "test.conf:2: \"persist\" is not a key of a system port in "
	    "[port up] (it is one of type tap)");
	parse_bad("[port up]\ntype = sytsem\nifname = eth1\n",
	    "test.conf:2: bad value \"sytsem\" for type in [port up]: the "
	    "port types are tap, system, vxlan, dgram");
	parse_bad("[port up]\ntype = system\nifname = eth1\nnetsn = a\n",
	    "test.conf:4: unknown key \"netsn\" in [port up] (did you mean "
	    "\"netns\"?)");
	parse_bad("[port up]\ntype = system\ntype = tap\nifname = e\n",
	    "test.conf:3: duplicate key \"type\" in [port up] (first set at "
	    "line 2)");
	/* One interface, one port, whatever their types. */
	parse_bad("[port a]\nifname = vnet0\n[port b]\ntype = system\n"
	    "ifname = vnet0\n",
	    "test.conf:5: ifname \"vnet0\" of [port b] is already used by "
	    "[port a]");
	parse_bad("[port a]\nnetns = n\n[port b]\ntype = system\n"
	    "netns = n\nifname = a\n",
	    "test.conf:6: ifname \"a\" (namespace n) of [port b] is already "
	    "used by [port a]");
	/* The TAP's limit is the tap type's check. */
	parse_bad("[port t]\nmtu = 65522\n",
	    "test.conf:2: [port t] has mtu 65522, but a TAP allows at most "
	    "65521");
}
END_TEST

START_TEST(test_port_type_runtime)
{
	struct conf_port a, b;
	char *err = NULL;

	/* As "port add" does it: type first, then the rest. */
	conf_port_init(&a, "up");
	ck_assert_int_eq(conf_port_set(&a, "type", "system", &err), 0);
	ck_assert_ptr_null(a.ifname);
	ck_assert_int_eq(conf_port_check(&a, &err), -EINVAL);
	ck_assert_str_eq(err, "[port up] needs ifname =: a system port is an "
	    "existing interface, attached through AF_PACKET");
	free(err);
	ck_assert_int_eq(conf_port_set(&a, "persist", "no", &err), -EINVAL);
	ck_assert_str_eq(err, "\"persist\" is not a key of a system port (it "
	    "is one of type tap)");
	free(err);
	ck_assert_int_eq(conf_port_set(&a, "ifname", "veth0", &err), 0);
	ck_assert_int_eq(conf_port_check(&a, &err), 0);

	/* Copies compare equal; every key of the type takes part. */
	conf_port_copy(&b, &a);
	ck_assert(conf_port_equal(&a, &b));
	ck_assert_int_eq(conf_port_set(&b, "netns", "n", &err), 0);
	ck_assert(!conf_port_equal(&a, &b));
	conf_port_destroy(&b);

	conf_port_init(&b, "up");
	ck_assert_int_eq(conf_port_set(&b, "ifname", "veth0", &err), 0);
	ck_assert(!conf_port_equal(&a, &b));	/* a tap port */
	ck_assert(conf_port_same_link(&a, &b));
	conf_port_destroy(&b);

	/* A key that lives in the type's settings (tap: persist). */
	conf_port_destroy(&a);
	conf_port_init(&a, "t");
	conf_port_init(&b, "t");
	ck_assert(conf_port_equal(&a, &b));
	ck_assert_int_eq(conf_port_set(&b, "persist", "yes", &err), 0);
	ck_assert(!conf_port_equal(&a, &b));	/* given now */
	ck_assert_int_eq(conf_port_set(&a, "persist", "no", &err), 0);
	ck_assert(!conf_port_equal(&a, &b));
	ck_assert_int_eq(conf_port_set(&a, "persist", "yes", &err), 0);
	ck_assert(conf_port_equal(&a, &b));
	conf_port_destroy(&a);
	conf_port_destroy(&b);
}
END_TEST

/* ---- dgram ports ---- */

START_TEST(test_dgram_keys)
{
	struct conf *conf;

	conf = parse_ok(
	    "[port vm1]\n"
	    "type = dgram\n"
	    "path = /run/tapswitch/vm1.sock\n"
	    "remote = /run/vm1/net.sock\n"
	    "owner = libvirt-qemu\n"
	    "group = 64055\n"
	    "mode = 0620\n"
	    "vlan = 10\n"
	    "[port vm2]\n"
	    "type = dgram\n"
	    "path = /run/tapswitch/vm2.sock\n"
	    "remote = /run/vm2/net.sock\n");
	ck_assert_str_eq(conf->ports[0].type->name, "dgram");
	ck_assert_ptr_null(conf->ports[0].ifname);
	ck_assert(!conf_port_equal(&conf->ports[0], &conf->ports[1]));
	conf_free(conf);

	parse_bad("[port v]\ntype = dgram\n",
	    "test.conf:1: [port v] needs path = FILE: the socket the daemon "
	    "binds, where the VM sends its frames (QEMU: remote.path=)\n"
	    "test.conf:1: [port v] needs remote = FILE: the VM's socket, "
	    "where the daemon sends (QEMU: local.path=)");
	parse_bad("[port v]\ntype = dgram\npath = rel.sock\nremote = /r\n",
	    "test.conf:1: [port v] needs path = FILE: the socket the daemon "
	    "binds, where the VM sends its frames (QEMU: remote.path=)\n"
	    "test.conf:3: bad value \"rel.sock\" for path in [port v]: "
	    "expected the absolute path of a socket file "
	    "(/run/tapswitch/vm1.sock)");
	parse_bad("[port v]\ntype = dgram\npath = /a/b\nremote = /a/b\n",
	    "test.conf:4: [port v] has the same path and remote: the daemon "
	    "would send to itself");
	parse_bad("[port v]\ntype = dgram\npath = /a\nremote = /b\n"
	    "mode = 0800\n",
	    "test.conf:5: bad value \"0800\" for mode in [port v]: expected "
	    "an octal mode, 0000..0777 (0660: the owner and the group may "
	    "connect)");
	parse_bad("[port v]\ntype = dgram\npath = /a\nremote = /b\n"
	    "group = a b\n",
	    "test.conf:5: bad value \"a b\" for group in [port v]: expected a "
	    "user or group name (or number)");
	parse_bad("[port v]\ntype = dgram\npath = /a\nremote = /b\n"
	    "ifname = x\n",
	    "test.conf:5: \"ifname\" is not a key of a dgram port in [port v] (it "
	    "is one of type tap)");
	parse_bad("[port v]\ntype = dgram\npath = /a\nremote = /b\n"
	    "[port w]\ntype = dgram\npath = /a\nremote = /c\n",
	    "test.conf:5: [port w] has path /a, like [port v]: a socket file "
	    "is one port's");
	{
		char text[256], *err = NULL;
		struct conf *c = NULL;

		snprintf(text, sizeof(text), "[port v]\ntype = dgram\n"
		    "path = /%0108d\nremote = /b\n", 0);
		ck_assert_int_eq(conf_parse_string(text, "test.conf", &c,
		    &err), -EINVAL);
		ck_assert_msg(strstr(err, "test.conf:3: bad value") &&
		    strstr(err, "a socket path is at most 107 bytes long"),
		    "%s", err);
		free(err);
	}
}
END_TEST

/* ---- vxlan ports ---- */

START_TEST(test_vxlan_keys)
{
	struct conf *conf;
	struct conf_port a, b;
	char *err = NULL;

	conf = parse_ok(
	    "[port dc2]\n"
	    "type = vxlan\n"
	    "vni = 100\n"
	    "local = 192.0.2.1\n"
	    "remote = 192.0.2.2, 192.0.2.3 192.0.2.4\n"
	    "trunk = 10, 20\n"
	    "netns = underlay\n"
	    "mtu = 9000\n"
	    "[port v6]\n"
	    "type = vxlan\n"
	    "vni = 16777215\n"
	    "remote = 2001:db8::2\n"
	    "dstport = 8472\n"
	    /* The same VNI on another endpoint: fine. */
	    "[port other]\n"
	    "type = vxlan\n"
	    "vni = 100\n"
	    "remote = 192.0.2.2\n"
	    "dstport = 4790\n");
	ck_assert_str_eq(conf->ports[0].type->name, "vxlan");
	ck_assert_ptr_null(conf->ports[0].ifname);
	ck_assert_str_eq(conf->ports[0].netns, "underlay");
	ck_assert_uint_eq(conf->ports[0].mtu, 9000);
	ck_assert(conf->ports[0].trunk);
	conf_free(conf);

	parse_bad("[port v]\ntype = vxlan\nremote = 10.0.0.2\n",
	    "test.conf:1: [port v] needs vni = (1..16777215): the VXLAN "
	    "network identifier that the other hosts use for this network "
	    "too");
	parse_bad("[port v]\ntype = vxlan\nvni = 1\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: the "
	    "underlay addresses of the other hosts");
	parse_bad("[port v]\ntype = vxlan\nvni = 0\nremote = 10.0.0.2\n",
	    "test.conf:1: [port v] needs vni = (1..16777215): the VXLAN "
	    "network identifier that the other hosts use for this network "
	    "too\n"
	    "test.conf:3: bad value \"0\" for vni in [port v]: a VNI is an "
	    "integer 1..16777215");
	parse_bad("[port v]\ntype = vxlan\nvni = 16777216\n"
	    "remote = 10.0.0.2\n",
	    "test.conf:1: [port v] needs vni = (1..16777215): the VXLAN "
	    "network identifier that the other hosts use for this network "
	    "too\n"
	    "test.conf:3: bad value \"16777216\" for vni in [port v]: a VNI "
	    "is an integer 1..16777215");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 10.0.0.256\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: "
	    "the underlay addresses of the other hosts\n"
	    "test.conf:4: bad value \"10.0.0.256\" for remote in [port v]: "
	    "expected an IPv4 or IPv6 address (192.0.2.1, 2001:db8::1)");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\n"
	    "remote = 10.0.0.2, fd00::2\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: "
	    "the underlay addresses of the other hosts\n"
	    "test.conf:4: bad value \"10.0.0.2, fd00::2\" for remote in "
	    "[port v]: IPv4 and IPv6 remotes mixed: the remotes of a port "
	    "are all of one family (make two ports)");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\n"
	    "remote = 10.0.0.2, 10.0.0.2\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: "
	    "the underlay addresses of the other hosts\n"
	    "test.conf:4: bad value \"10.0.0.2, 10.0.0.2\" for remote in "
	    "[port v]: an address is listed twice");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 239.1.1.1\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: "
	    "the underlay addresses of the other hosts\n"
	    "test.conf:4: bad value \"239.1.1.1\" for remote in [port v]: a "
	    "multicast address: tapswitch floods by sending to every remote "
	    "(head-end replication); list the hosts' own addresses");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 0.0.0.0\n",
	    "test.conf:1: [port v] needs remote = ADDRESS[, ADDRESS...]: "
	    "the underlay addresses of the other hosts\n"
	    "test.conf:4: bad value \"0.0.0.0\" for remote in [port v]: "
	    "0.0.0.0 and :: are no host's address");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 10.0.0.2\n"
	    "local = fd00::1\n",
	    "test.conf:5: [port v] has local fd00::1, but its remotes are "
	    "IPv4 addresses");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 10.0.0.2\n"
	    "dstport = 0\n",
	    "test.conf:5: bad value \"0\" for dstport in [port v]: a UDP "
	    "port is an integer 1..65535");
	parse_bad("[port v]\ntype = vxlan\nvni = 5\nremote = 10.0.0.2\n"
	    "ifname = x\n",
	    "test.conf:5: \"ifname\" is not a key of a vxlan port in [port v] "
	    "(it is one of type tap)");
	/* Two ports with one VNI on one endpoint; "any" overlaps every
	 * address of its family. */
	parse_bad("[port a]\ntype = vxlan\nvni = 7\nremote = 10.0.0.2\n"
	    "[port b]\ntype = vxlan\nvni = 7\nremote = 10.0.0.3\n"
	    "local = 10.0.0.1\n",
	    "test.conf:5: [port b] has vni 7 on 10.0.0.1 port 4789, like "
	    "[port a]: a datagram could not tell them apart (give one "
	    "another vni, local or dstport)");
	conf = parse_ok("[port a]\ntype = vxlan\nvni = 7\nremote = 10.0.0.2\n"
	    "[port b]\ntype = vxlan\nvni = 7\nremote = 10.0.0.3\n"
	    "netns = elsewhere\n"
	    "[port c]\ntype = vxlan\nvni = 8\nremote = 10.0.0.3\n");
	conf_free(conf);

	/* port add: the same checks; every key takes part in equality. */
	conf_port_init(&a, "v");
	ck_assert_int_eq(conf_port_set(&a, "type", "vxlan", &err), 0);
	ck_assert_int_eq(conf_port_set(&a, "vni", "9", &err), 0);
	ck_assert_int_eq(conf_port_check(&a, &err), -EINVAL);
	ck_assert_str_eq(err, "[port v] needs remote = ADDRESS[, "
	    "ADDRESS...]: the underlay addresses of the other hosts");
	free(err);
	ck_assert_int_eq(conf_port_set(&a, "remote", "10.1.1.1,10.1.1.2",
	    &err), 0);
	ck_assert_int_eq(conf_port_check(&a, &err), 0);
	conf_port_copy(&b, &a);
	ck_assert(conf_port_equal(&a, &b));
	ck_assert_int_eq(conf_port_set(&b, "remote", "10.1.1.1", &err), 0);
	ck_assert(!conf_port_equal(&a, &b));
	err = conf_port_conflict(&a, &b);
	ck_assert_ptr_nonnull(err);
	free(err);
	ck_assert_int_eq(conf_port_set(&b, "dstport", "4790", &err), 0);
	ck_assert_ptr_null(conf_port_conflict(&a, &b));
	conf_port_destroy(&a);
	conf_port_destroy(&b);
}
END_TEST

/* ---- VLAN lists ---- */

START_TEST(test_vlan_parse)
{
	struct vlan_set s;
	const char *why = NULL;

	ck_assert_int_eq(vlan_set_parse("10", &s, &why), 0);
	ck_assert(vlan_set_has(&s, 10));
	ck_assert(!vlan_set_has(&s, 11));
	ck_assert_int_eq(vlan_set_parse(" 1 , 4094 ,30 - 40", &s, &why), 0);
	ck_assert(vlan_set_has(&s, 1) && vlan_set_has(&s, 4094));
	ck_assert(vlan_set_has(&s, 30) && vlan_set_has(&s, 40));
	ck_assert(!vlan_set_has(&s, 29) && !vlan_set_has(&s, 41));
	ck_assert_int_eq(vlan_set_parse("1-4094", &s, &why), 0);
	for (unsigned v = 1; v <= 4094; v++)
		ck_assert(vlan_set_has(&s, (uint16_t)v));
	ck_assert(!vlan_set_has(&s, 0) && !vlan_set_has(&s, 4095));
	ck_assert_int_eq(vlan_set_parse("63-65,127-128", &s, &why), 0);
	ck_assert(vlan_set_has(&s, 63) && vlan_set_has(&s, 64));
	ck_assert(vlan_set_has(&s, 65) && !vlan_set_has(&s, 66));
	ck_assert(vlan_set_has(&s, 127) && vlan_set_has(&s, 128));
	ck_assert(!vlan_set_has(&s, 126) && !vlan_set_has(&s, 129));
	ck_assert_int_eq(vlan_set_parse("5-5", &s, &why), 0);
	ck_assert(vlan_set_has(&s, 5));

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty list; give VLAN ids like 10,20,30-40" },
		{ "  ", "empty list; give VLAN ids like 10,20,30-40" },
		{ "10,", "empty item in the list (a stray comma?)" },
		{ ",10", "empty item in the list (a stray comma?)" },
		{ "0", "VLAN 0 outside 1..4094" },
		{ "4095", "VLAN 4095 outside 1..4094" },
		{ "99999999999999999999", "VLAN 9999999999999999... outside "
		  "1..4094" },
		{ "1-4095", "range 1-4095 outside 1..4094" },
		{ "20-10", "range 20-10 is backwards; write the lower VLAN "
		  "first" },
		{ "1 0", "\"1 0\" is not a VLAN id or a range like 30-40" },
		{ "10-", "\"10-\" is not a VLAN id or a range like 30-40" },
		{ "-10", "\"-10\" is not a VLAN id or a range like 30-40" },
		{ "1-2-3", "\"1-2-3\" is not a VLAN id or a range like 30-40" },
		{ "+5", "\"+5\" is not a VLAN id or a range like 30-40" },
		{ "a\x01", "\"a?\" is not a VLAN id or a range like 30-40" },
		{ "12345678901234567890x", "\"1234567890123456...\" is not a "
		  "VLAN id or a range like 30-40" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vlan_set_add(&s, 7);
		why = NULL;
		ck_assert_int_eq(vlan_set_parse(bad[i].text, &s, &why),
		    -EINVAL);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(why, bad[i].why);
		ck_assert(vlan_set_empty(&s));
	}
}
END_TEST

START_TEST(test_vlan_format)
{
	struct vlan_set s;
	const char *why;
	char buf[64];

	vlan_set_clear(&s);
	ck_assert_str_eq(vlan_set_format(&s, buf, sizeof(buf)), "");
	ck_assert_int_eq(vlan_set_parse("30-40,10,20,21,4094,1", &s, &why), 0);
	ck_assert_str_eq(vlan_set_format(&s, buf, sizeof(buf)),
	    "1,10,20-21,30-40,4094");
	ck_assert_int_eq(vlan_set_parse("1-4094", &s, &why), 0);
	ck_assert_str_eq(vlan_set_format(&s, buf, sizeof(buf)), "1-4094");
	/* Round trip. */
	ck_assert_int_eq(vlan_set_parse("2,4,6-9,100-200,300", &s, &why), 0);
	{
		struct vlan_set t;

		ck_assert_int_eq(vlan_set_parse(vlan_set_format(&s, buf,
		    sizeof(buf)), &t, &why), 0);
		ck_assert(vlan_set_equal(&s, &t));
	}
	/* Truncation: whole items, then "...", always terminated. */
	ck_assert_str_eq(vlan_set_format(&s, buf, 10), "2,4,...");
	ck_assert_str_eq(vlan_set_format(&s, buf, 4), "...");
	ck_assert_str_eq(vlan_set_format(&s, buf, 3), "..");
	ck_assert_str_eq(vlan_set_format(&s, buf, 1), "");
	buf[0] = 'x';
	vlan_set_format(&s, buf, 0);
	ck_assert_int_eq(buf[0], 'x');
	/* The last item needs no room for "...". */
	ck_assert_int_eq(vlan_set_parse("1000,2000", &s, &why), 0);
	ck_assert_str_eq(vlan_set_format(&s, buf, 10), "1000,2000");
	ck_assert_str_eq(vlan_set_format(&s, buf, 9), "1000,...");
}
END_TEST

/* ---- Files ---- */

static char *
write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/test_conf.XXXXXX");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_load_file)
{
	struct conf *conf = NULL;
	char *path, *err = NULL, *want;

	path = write_temp(design_example, strlen(design_example));
	ck_assert_int_eq(conf_load(path, &conf, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(conf->path, path);
	ck_assert_str_eq(conf->ports[0].ifname, "tsw-web1");
	conf_free(conf);
	unlink(path);
	free(path);

	path = write_temp("[port a]\nvlan = 5000\n", 21);
	ck_assert_int_eq(conf_load(path, &conf, &err), -EINVAL);
	ck_assert_ptr_null(conf);
	ck_assert_int_ge(asprintf(&want, "%s:2: bad value \"5000\" for vlan "
	    "in [port a]: VLAN must be 1..4094", path), 0);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	unlink(path);
	free(path);

	/* A NUL byte: not a text file. */
	path = write_temp("[port a]\nmtu = 1\0 500\n", 20);
	ck_assert_int_eq(conf_load(path, &conf, &err), -EINVAL);
	ck_assert_int_ge(asprintf(&want, "%s:2: contains a NUL byte; is this "
	    "a text file?", path), 0);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_load_errors)
{
	struct conf *conf = (struct conf *)1;
	char *err = NULL;

	ck_assert_int_eq(conf_load("/nonexistent/tapswitch.conf", &conf,
	    &err), -ENOENT);
	ck_assert_ptr_null(conf);
	ck_assert_str_eq(err, "/nonexistent/tapswitch.conf: cannot open: "
	    "No such file or directory");
	free(err);

	ck_assert_int_eq(conf_load("/", &conf, &err), -EISDIR);
	ck_assert_str_eq(err, "/: cannot read: Is a directory");
	free(err);

	/* err may be NULL when the caller only wants the verdict. */
	ck_assert_int_eq(conf_load("/nonexistent/x", &conf, NULL), -ENOENT);
	ck_assert_int_eq(conf_parse_string("[x]", "t", &conf, NULL), -EINVAL);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("good");
	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_no_ports);
	tcase_add_test(tc, test_switch_keys);
	tcase_add_test(tc, test_offload_words);
	tcase_add_test(tc, test_io_uring_key);
	tcase_add_test(tc, test_trunk_native);
	tcase_add_test(tc, test_comments_and_layout);
	tcase_add_test(tc, test_indented_lines_are_not_continuations);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_port_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_long_socket_path);
	tcase_add_test(tc, test_structure_errors);
	tcase_add_test(tc, test_many_errors_in_one_file);
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_too_many_ports);
	suite_add_tcase(s, tc);

	tc = tcase_create("port");
	tcase_add_test(tc, test_port_types);
	tcase_add_test(tc, test_port_type_runtime);
	tcase_add_test(tc, test_vxlan_keys);
	tcase_add_test(tc, test_dgram_keys);
	tcase_add_test(tc, test_port_set_and_check);
	tcase_add_test(tc, test_port_name_valid);
	tcase_add_test(tc, test_port_equal_and_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan");
	tcase_add_test(tc, test_vlan_parse);
	tcase_add_test(tc, test_vlan_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conf_suite());
}
