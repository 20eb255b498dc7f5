/*
 * test_log.c - the log module: levels, the three output formats (plain,
 * journal, and the JOURNAL_STREAM check that chooses between them), the
 * rate limiter with a clock of the test's own (log_rl_msg_at), and the
 * log.get / log.set control methods through ctl_handle().
 *
 * Output is captured with log_set_stream() into a memory stream; the
 * journal tests point stderr itself at a temp file, which is safe since
 * Check runs every test in a child process of its own.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tapswitch/ctl.h"
#include "tapswitch/log.h"

#include "unit.h"

static char *out_buf;
static size_t out_len;
static FILE *out;

static void
setup(void)
{
	out = open_memstream(&out_buf, &out_len);
	ck_assert_ptr_nonnull(out);
	log_set_stream(out);
	log_set_level(LOG_LVL_INFO);
}

static void
teardown(void)
{
	log_set_stream(NULL);
	fclose(out);
	free(out_buf);
}

/* What was logged since the last call (a fresh string; caller frees). */
static char *
take_output(void)
{
	char *s;

	fflush(out);
	s = strndup(out_buf, out_len);
	ck_assert_ptr_nonnull(s);
	rewind(out);
	/* open_memstream: the size follows the position after a flush. */
	fflush(out);
	return s;
}

/* Forget what was logged so far. */
static void
drop_output(void)
{
	free(take_output());
}

static void
expect_output(const char *want)
{
	char *got = take_output();

	ck_assert_msg(strcmp(got, want) == 0,
	    "logged:\n%.1500s---\nwant:\n%.1500s---", got, want);
	free(got);
}

START_TEST(test_level_names)
{
	static const char *const names[] = {
		"error", "warning", "info", "debug",
	};
	enum log_level l;

	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(log_level_parse(names[i], &l), 0);
		ck_assert_int_eq(l, (int)i);
		ck_assert_str_eq(log_level_name(l), names[i]);
	}
	ck_assert_int_eq(log_level_parse("warn", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_WARN);
	ck_assert_int_eq(log_level_parse("verbose", &l), -EINVAL);
	ck_assert_int_eq(log_level_parse("", &l), -EINVAL);
	ck_assert_int_eq(log_level_parse("INFO", &l), -EINVAL);
	ck_assert_str_eq(log_level_name((enum log_level)9), "?");
}
END_TEST

START_TEST(test_plain_format_and_levels)
{
	uint64_t warns = log_warn_count();

	log_error("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
	expect_output("tapswitchd: error: e 1\n"
	    "tapswitchd: warning: w\n"
	    "tapswitchd: i\n");
	ck_assert_uint_eq(log_warn_count(), warns + 2);

	log_set_level(LOG_LVL_DEBUG);
	log_debug("d");
	expect_output("tapswitchd: d\n");
	log_set_level(LOG_LVL_ERROR);
	ck_assert_int_eq(log_get_level(), LOG_LVL_ERROR);
	log_warn("w");
	log_info("i");
	log_error("two\nlines");
	expect_output("tapswitchd: error: two\nlines\n");
	/* A filtered warning still counts. */
	ck_assert_uint_eq(log_warn_count(), warns + 4);
}
END_TEST

/* Point stderr at a fresh temp file and return its path (the caller
 * unlinks it). */
static char *
stderr_to_file(struct stat *st)
{
	char *path = strdup("/tmp/test_log.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	ck_assert_int_eq(fstat(STDERR_FILENO, st), 0);
	return path;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 8192);

	ck_assert_ptr_nonnull(f);
	s[fread(s, 1, 8191, f)] = '\0';
	fclose(f);
	return s;
}

START_TEST(test_journal_prefixes)
{
	struct stat st;
	char env[64], *path, *got;

	path = stderr_to_file(&st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_set_stream(NULL);
	log_init("tapswitchd", false);
	log_set_level(LOG_LVL_DEBUG);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	/* Every line of a message is an entry of its own: each needs the
	 * priority. */
	log_info("first\nsecond");
	log_info("trailing newline\n");
	fflush(stderr);
	got = read_file(path);
	ck_assert_str_eq(got, "<3>e\n<4>w\n<6>i\n<7>d\n<6>first\n<6>second\n"
	    "<6>trailing newline\n");
	free(got);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_journal_stream_elsewhere)
{
	struct stat st;
	char *path, *got;

	/* Inherited from a service, but stderr is not that stream (the
	 * device:inode differ, or the value is malformed): plain lines. */
	path = stderr_to_file(&st);
	log_set_stream(NULL);
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("tapswitchd", false);
	log_info("a");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("tapswitchd", false);
	log_info("b");
	unsetenv("JOURNAL_STREAM");
	log_init("tapswitchd", false);
	log_info("c");
	fflush(stderr);
	got = read_file(path);
	ck_assert_str_eq(got, "tapswitchd: a\ntapswitchd: b\ntapswitchd: c\n");
	free(got);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_rl_burst_then_suppressed)
{
	struct log_rl rl = { 0 };
	uint64_t warns = log_warn_count();
	char want[512] = "";
	int i;

	/* A burst of LOG_RL_BURST goes through, the rest of the window
	 * is counted... */
	for (i = 0; i < LOG_RL_BURST + 3; i++)
		log_rl_msg_at(&rl, 100, LOG_LVL_WARN, "bad frame %d", i);
	for (i = 0; i < LOG_RL_BURST; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "tapswitchd: warning: bad frame %d\n", i);
	expect_output(want);
	log_rl_msg_at(&rl, 100 + LOG_RL_INTERVAL - 1, LOG_LVL_WARN, "late");
	expect_output("");
	/* ...and reported by the first message of the next window. */
	log_rl_msg_at(&rl, 100 + LOG_RL_INTERVAL, LOG_LVL_WARN, "next");
	expect_output("tapswitchd: warning: (4 similar messages suppressed)\n"
	    "tapswitchd: warning: next\n");
	/* Every one asked for counts as a warning. */
	ck_assert_uint_eq(log_warn_count(), warns + LOG_RL_BURST + 4 + 2);

	/* A new window, no suppression: no report. */
	log_rl_msg_at(&rl, 200, LOG_LVL_WARN, "quiet");
	expect_output("tapswitchd: warning: quiet\n");

	/* One suppressed message: singular. */
	for (i = 0; i < LOG_RL_BURST + 1; i++)
		log_rl_msg_at(&rl, 300, LOG_LVL_INFO, "m");
	drop_output();
	log_rl_msg_at(&rl, 400, LOG_LVL_INFO, "after");
	expect_output("tapswitchd: (1 similar message suppressed)\n"
	    "tapswitchd: after\n");
}
END_TEST

START_TEST(test_rl_flood_is_bounded)
{
	struct log_rl rl = { 0 };
	char *got, *p;
	unsigned lines = 0;

	/* 100000 messages over 10 "seconds": at most a burst plus one
	 * report per window. */
	for (unsigned i = 0; i < 100000; i++)
		log_rl_msg_at(&rl, 1000 + i / 10000, LOG_LVL_WARN, "flood");
	got = take_output();
	for (p = got; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_uint_le(lines, (10 / LOG_RL_INTERVAL + 1) *
	    (LOG_RL_BURST + 1));
	ck_assert_ptr_nonnull(strstr(got, "similar messages suppressed"));
	free(got);
}
END_TEST

START_TEST(test_rl_filtered_level)
{
	struct log_rl rl = { 0 };

	/* Below the level: neither written nor counted against the
	 * burst, so nothing is reported as suppressed later. */
	log_set_level(LOG_LVL_INFO);
	for (int i = 0; i < 20; i++)
		log_rl_msg_at(&rl, 50, LOG_LVL_DEBUG, "noise");
	expect_output("");
	log_set_level(LOG_LVL_DEBUG);
	log_rl_msg_at(&rl, 50, LOG_LVL_DEBUG, "now");
	expect_output("tapswitchd: now\n");
	/* The clock at 0 still starts a window. */
	memset(&rl, 0, sizeof(rl));
	for (int i = 0; i < LOG_RL_BURST + 1; i++)
		log_rl_msg_at(&rl, 0, LOG_LVL_INFO, "zero");
	drop_output();
	log_rl_msg_at(&rl, LOG_RL_INTERVAL + 1, LOG_LVL_INFO, "later");
	expect_output("tapswitchd: (1 similar message suppressed)\n"
	    "tapswitchd: later\n");
}
END_TEST

/* log_rl() with the real clock: the macro's own limiter. */
START_TEST(test_rl_macro)
{
	char *got, *p;
	unsigned lines = 0;

	for (int i = 0; i < 50; i++)
		log_rl(LOG_LVL_WARN, "macro %d", i);
	got = take_output();
	for (p = got; (p = strchr(p, '\n')); p++)
		lines++;
	/* A window boundary may fall inside the loop. */
	ck_assert_uint_ge(lines, LOG_RL_BURST);
	ck_assert_uint_le(lines, 2 * LOG_RL_BURST + 1);
	free(got);
}
END_TEST

/* ---- log.get / log.set ---- */

static json_t *
call(struct ctl *ctl, uid_t uid, const char *req)
{
	char *resp = ctl_handle(ctl, req, strlen(req), uid);
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(resp);
	j = json_loads(resp, 0, &jerr);
	ck_assert_msg(j != NULL, "reply is not JSON: %s", resp);
	free(resp);
	return j;
}

static const char *
result_str(json_t *reply, const char *key)
{
	json_t *r = json_object_get(reply, "result");

	ck_assert_msg(r != NULL, "error: %s", json_string_value(
	    json_object_get(json_object_get(reply, "error"), "message")));
	return json_string_value(json_object_get(r, key));
}

static int
err_code(json_t *reply)
{
	json_t *e = json_object_get(reply, "error");

	ck_assert_msg(e != NULL, "call did not fail");
	return (int)json_integer_value(json_object_get(e, "code"));
}

#define REQ(method, params) \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" method "\",\"params\":" \
	params "}"

START_TEST(test_ctl_methods)
{
	struct ctl *ctl;
	json_t *r;
	uid_t other = geteuid() == 4321 ? 4322 : 4321;

	ctl_create(&ctl);
	log_ctl_register(ctl);

	r = call(ctl, 0, REQ("log.get", "{}"));
	ck_assert_str_eq(result_str(r, "level"), "info");
	json_decref(r);
	/* Anyone may look... */
	r = call(ctl, other, REQ("log.get", "{}"));
	ck_assert_str_eq(result_str(r, "level"), "info");
	json_decref(r);
	/* ...only root or the daemon's user may change it. */
	r = call(ctl, other, REQ("log.set", "{\"level\":\"debug\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PERM);
	json_decref(r);
	ck_assert_int_eq(log_get_level(), LOG_LVL_INFO);

	r = call(ctl, 0, REQ("log.set", "{\"level\":\"debug\"}"));
	ck_assert_str_eq(result_str(r, "level"), "debug");
	ck_assert_str_eq(result_str(r, "previous"), "info");
	json_decref(r);
	ck_assert_int_eq(log_get_level(), LOG_LVL_DEBUG);
	expect_output("tapswitchd: log level changed from info to debug\n");
	/* Going quieter: the line is written before the change. */
	r = call(ctl, 0, REQ("log.set", "{\"level\":\"warn\"}"));
	ck_assert_str_eq(result_str(r, "level"), "warning");
	json_decref(r);
	expect_output("tapswitchd: log level changed from debug to warning\n");
	r = call(ctl, 0, REQ("log.get", "{}"));
	ck_assert_str_eq(result_str(r, "level"), "warning");
	json_decref(r);
	/* The same level again: no line. */
	r = call(ctl, 0, REQ("log.set", "{\"level\":\"warning\"}"));
	ck_assert_str_eq(result_str(r, "previous"), "warning");
	json_decref(r);
	expect_output("");

	r = call(ctl, 0, REQ("log.set", "{\"level\":\"loud\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "\"loud\""));
	json_decref(r);
	r = call(ctl, 0, REQ("log.set", "{\"level\":3}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(ctl, 0, REQ("log.set", "{}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(ctl, 0, REQ("log.set", "{\"level\":\"info\",\"x\":1}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	r = call(ctl, 0, REQ("log.get", "{\"level\":\"info\"}"));
	ck_assert_int_eq(err_code(r), CTL_E_PARAMS);
	json_decref(r);
	ck_assert_int_eq(log_get_level(), LOG_LVL_WARN);
	ctl_destroy(ctl);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_level_names);
	tcase_add_test(tc, test_plain_format_and_levels);
	tcase_add_test(tc, test_journal_prefixes);
	tcase_add_test(tc, test_journal_stream_elsewhere);
	tcase_add_test(tc, test_rl_burst_then_suppressed);
	tcase_add_test(tc, test_rl_flood_is_bounded);
	tcase_add_test(tc, test_rl_filtered_level);
	tcase_add_test(tc, test_rl_macro);
	tcase_add_test(tc, test_ctl_methods);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(log_suite());
}
