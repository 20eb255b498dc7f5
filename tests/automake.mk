# Unit tests (Check): one suite per module, linked against the real
# library.  scripts/check also runs them under ASan+UBSan.
UNIT_TESTS = \
	tests/unit/test_conf \
	tests/unit/test_frame \
	tests/unit/test_fdb \
	tests/unit/test_fwd \
	tests/unit/test_ctl

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(TSW_LIBS) $(CHECK_LIBS)

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c
tests_unit_test_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_frame_LDADD = $(UNIT_LDADD)
tests_unit_test_fdb_SOURCES = tests/unit/test_fdb.c
tests_unit_test_fdb_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fdb_LDADD = $(UNIT_LDADD)
tests_unit_test_fwd_SOURCES = tests/unit/test_fwd.c
tests_unit_test_fwd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fwd_LDADD = $(UNIT_LDADD)
tests_unit_test_ctl_SOURCES = tests/unit/test_ctl.c
tests_unit_test_ctl_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctl_LDADD = $(UNIT_LDADD)

# Integration tests: shell scripts in network namespaces.  They need root
# and exit 77 (skip) without it.
INTEGRATION_TESTS = \
	tests/integration/config-check.sh \
	tests/integration/ping-all.sh

# A small AF_PACKET tool the integration tests use to send and capture
# raw (tagged) frames.
tests_integration_rawframe_SOURCES = tests/integration/rawframe.c

check_PROGRAMS += $(UNIT_TESTS) tests/integration/rawframe
TESTS += $(UNIT_TESTS) $(INTEGRATION_TESTS)
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	TSW_BUILDDIR='$(abs_top_builddir)'; export TSW_BUILDDIR; \
	TSW_SRCDIR='$(abs_top_srcdir)'; export TSW_SRCDIR;

EXTRA_DIST += tests/integration/lib.sh $(INTEGRATION_TESTS) \
	tests/integration/conf

# Only the unit tests: "make check-unit" (used for the sanitizer build).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
.PHONY: check-unit
