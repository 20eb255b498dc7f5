/*
 * unit.h - the main() of every Check suite: run it, and exit non-zero
 * when a test failed.
 */
#ifndef TAPSWITCH_TESTS_UNIT_H
#define TAPSWITCH_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
