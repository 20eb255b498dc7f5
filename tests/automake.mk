# Unit tests (Check): one suite per module, linked against the real
# library.  scripts/check also runs them under ASan+UBSan.
UNIT_TESTS = \
	tests/unit/test_conf \
	tests/unit/test_frame \
	tests/unit/test_gso \
	tests/unit/test_fdb \
	tests/unit/test_fwd \
	tests/unit/test_vxlan \
	tests/unit/test_policy \
	tests/unit/test_ctl \
	tests/unit/test_log \
	tests/unit/test_metrics \
	tests/unit/test_priv

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(TSW_LIBS) $(CHECK_LIBS)

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
EXTRA_DIST += tests/unit/unit.h
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c
tests_unit_test_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_frame_LDADD = $(UNIT_LDADD)
tests_unit_test_gso_SOURCES = tests/unit/test_gso.c tests/unit/gso_data.h
tests_unit_test_gso_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gso_LDADD = $(UNIT_LDADD)
# Regenerates gso_data.h from the kernel's own frames (root; see the
# script).  Built with the tests so that it keeps compiling.
tests_unit_gso_capture_SOURCES = tests/unit/gso_capture.c
EXTRA_DIST += tests/unit/gso_capture.sh
tests_unit_test_fdb_SOURCES = tests/unit/test_fdb.c
tests_unit_test_fdb_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fdb_LDADD = $(UNIT_LDADD)
tests_unit_test_fwd_SOURCES = tests/unit/test_fwd.c
tests_unit_test_fwd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fwd_LDADD = $(UNIT_LDADD)
tests_unit_test_vxlan_SOURCES = tests/unit/test_vxlan.c
tests_unit_test_vxlan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vxlan_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_ctl_SOURCES = tests/unit/test_ctl.c
tests_unit_test_ctl_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctl_LDADD = $(UNIT_LDADD)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_log_LDADD = $(UNIT_LDADD)
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_metrics_LDADD = $(UNIT_LDADD)
tests_unit_test_priv_SOURCES = tests/unit/test_priv.c
tests_unit_test_priv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_priv_LDADD = $(UNIT_LDADD)

# Integration tests: shell scripts in network namespaces.  They need root
# and exit 77 (skip) without it.
INTEGRATION_TESTS = \
	tests/integration/config-check.sh \
	tests/integration/ping-all.sh \
	tests/integration/unicast-isolation.sh \
	tests/integration/broadcast.sh \
	tests/integration/vlan.sh \
	tests/integration/jumbo.sh \
	tests/integration/iperf.sh \
	tests/integration/sigterm.sh \
	tests/integration/link-events.sh \
	tests/integration/systemd-unit.sh \
	tests/integration/sd-notify.sh \
	tests/integration/ctl-commands.sh \
	tests/integration/ctl-reload-bad.sh \
	tests/integration/ctl-bad-input.sh \
	tests/integration/ctl-memory.sh \
	tests/integration/ctl-live-changes.sh \
	tests/integration/log-level.sh \
	tests/integration/metrics.sh \
	tests/integration/metrics-slow-clients.sh \
	tests/integration/persist.sh \
	tests/integration/privileges.sh \
	tests/integration/helper-death.sh \
	tests/integration/system-uplink.sh \
	tests/integration/system-vm-tap.sh \
	tests/integration/system-hotplug.sh \
	tests/integration/system-promisc.sh \
	tests/integration/system-trunk.sh \
	tests/integration/vxlan.sh \
	tests/integration/vxlan-ovs.sh \
	tests/integration/dgram-peer.sh \
	tests/integration/vm-dgram.sh \
	tests/integration/netns-churn.sh \
	tests/integration/netns-recreate.sh \
	tests/integration/reload-reconcile.sh \
	tests/integration/policy-spoof.sh \
	tests/integration/policy-rate.sh \
	tests/integration/policy-loop.sh \
	tests/integration/ping-all-read-write.sh \
	tests/integration/broadcast-read-write.sh \
	tests/integration/vlan-read-write.sh \
	tests/integration/jumbo-read-write.sh \
	tests/integration/iperf-read-write.sh \
	tests/integration/link-events-read-write.sh \
	tests/integration/system-uplink-read-write.sh \
	tests/integration/system-trunk-read-write.sh \
	tests/integration/io-uring-fallback.sh

# A small AF_PACKET tool the integration tests use to send and capture
# raw (tagged) frames.
tests_integration_rawframe_SOURCES = tests/integration/rawframe.c
# A stand-in for QEMU: makes a TAP, holds it open and answers ARP and
# ping behind it (system-vm-tap.sh).
tests_integration_tapholder_SOURCES = tests/integration/tapholder.c
# Runs a program with io_uring refused by a seccomp filter
# (io-uring-fallback.sh).
tests_integration_nouring_SOURCES = tests/integration/nouring.c
# They are tools of the tests, not code under test: no sanitizer, whose
# start-up (a tenth of a second for ThreadSanitizer) would make every
# send and capture slower than the tests' windows allow for.
tests_integration_rawframe_CFLAGS = $(WARN_CFLAGS)
tests_integration_rawframe_LDFLAGS =
tests_integration_tapholder_CFLAGS = $(WARN_CFLAGS)
tests_integration_tapholder_LDFLAGS =
tests_integration_nouring_CFLAGS = $(WARN_CFLAGS)
tests_integration_nouring_LDFLAGS =

check_PROGRAMS += $(UNIT_TESTS) tests/integration/rawframe \
	tests/integration/tapholder tests/integration/nouring \
	tests/unit/gso_capture
TESTS += $(UNIT_TESTS) $(INTEGRATION_TESTS)
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	TSW_BUILDDIR='$(abs_top_builddir)'; export TSW_BUILDDIR; \
	TSW_SRCDIR='$(abs_top_srcdir)'; export TSW_SRCDIR;

EXTRA_DIST += tests/integration/lib.sh $(INTEGRATION_TESTS) \
	tests/integration/vm.sh tests/integration/vmimage.py \
	tests/integration/unixpeer.py \
	tests/integration/conf tests/integration/.shellcheckrc \
	tests/tsan.supp

# The soak test: not in make check; scripts/soak runs it (scripts/check
# for 3 minutes).
EXTRA_DIST += tests/soak/soak.sh tests/soak/clients.py \
	tests/soak/.shellcheckrc

# Only the unit tests: "make check-unit" (used for the sanitizer build).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
.PHONY: check-unit

# libFuzzer targets, one per parser of outside input: the config file,
# control requests, frames from the wire.  "make fuzz-run" runs each for
# FUZZ_SECONDS on a scratch copy of its seed corpus; the VXLAN header,
# a few branches over 8 bytes, is covered in far less.
FUZZ_SECONDS = 30
EXTRA_DIST += tests/fuzz/corpus
if ENABLE_FUZZING
FUZZERS = tests/fuzz/fuzz_conf tests/fuzz/fuzz_ctl tests/fuzz/fuzz_frame \
	tests/fuzz/fuzz_gso tests/fuzz/fuzz_vxlan
noinst_PROGRAMS += $(FUZZERS)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(TSW_LIBS)
tests_fuzz_fuzz_ctl_SOURCES = tests/fuzz/fuzz_ctl.c
tests_fuzz_fuzz_ctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_ctl_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ctl_LDADD = $(TSW_LIBS)
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz_frame.c
tests_fuzz_fuzz_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_frame_LDADD = $(TSW_LIBS)
tests_fuzz_fuzz_gso_SOURCES = tests/fuzz/fuzz_gso.c
tests_fuzz_fuzz_gso_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_gso_LDADD = $(TSW_LIBS)
tests_fuzz_fuzz_vxlan_SOURCES = tests/fuzz/fuzz_vxlan.c
tests_fuzz_fuzz_vxlan_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_vxlan_LDADD = $(TSW_LIBS)

fuzz-run: $(FUZZERS)
	@set -e; for f in conf ctl frame gso vxlan; do \
		t=$(FUZZ_SECONDS); \
		if [ $$f = vxlan ] && [ $$t -gt 5 ]; then t=5; fi; \
		rm -rf fuzz-corpus/$$f; mkdir -p fuzz-corpus/$$f; \
		echo "fuzz_$$f: $$t s"; \
		tests/fuzz/fuzz_$$f -max_total_time=$$t \
		    -max_len=70000 -print_final_stats=1 \
		    fuzz-corpus/$$f $(srcdir)/tests/fuzz/corpus/$$f \
		    2>fuzz-$$f.log || { tail -50 fuzz-$$f.log; exit 1; }; \
		grep -E "stat::number_of_executed_units" fuzz-$$f.log; \
	done
CLEANFILES += fuzz-*.log
clean-local:
	rm -rf fuzz-corpus
endif
.PHONY: fuzz-run
