noinst_LIBRARIES += src/libtapswitch.a

src_libtapswitch_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBNL_CFLAGS) \
	$(CAPNG_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(LIBURING_CFLAGS)
src_libtapswitch_a_SOURCES = \
	include/tapswitch/util.h src/util.c \
	include/tapswitch/log.h src/log.c src/log_ctl.c \
	include/tapswitch/vlan.h src/vlan.c \
	include/tapswitch/conf.h src/conf.c \
	include/tapswitch/frame.h src/frame.c \
	include/tapswitch/gso.h src/gso.c \
	include/tapswitch/vxlan.h src/vxlan.c \
	include/tapswitch/qsbr.h src/qsbr.c \
	include/tapswitch/fdb.h src/fdb.c \
	include/tapswitch/tap.h src/tap.c \
	include/tapswitch/packet.h src/packet.c \
	include/tapswitch/udp.h src/udp.c \
	include/tapswitch/unixsock.h src/unixsock.c \
	include/tapswitch/nl.h src/nl.c \
	include/tapswitch/port.h src/port.c src/port_tap.c \
	src/port_system.c src/port_vxlan.c src/port_dgram.c \
	src/port_dummy.c \
	include/tapswitch/policy.h src/policy.c \
	include/tapswitch/fwd.h src/fwd.c \
	include/tapswitch/worker.h src/worker.c \
	include/tapswitch/sw.h src/sw.c src/sw_ctl.c \
	include/tapswitch/ctl.h src/ctl.c \
	include/tapswitch/priv.h src/priv.c \
	include/tapswitch/metrics.h src/metrics.c \
	include/tapswitch/notify.h src/notify.c

TSW_LIBS = src/libtapswitch.a $(LIBEVENT_LIBS) $(LIBNL_LIBS) $(CAPNG_LIBS) \
	$(INIH_LIBS) $(JANSSON_LIBS) $(SYSTEMD_LIBS) $(LIBURING_LIBS)

sbin_PROGRAMS += src/tapswitchd
src_tapswitchd_SOURCES = src/tapswitchd.c
src_tapswitchd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
src_tapswitchd_LDADD = $(TSW_LIBS)

bin_PROGRAMS += src/tapswitchctl
src_tapswitchctl_SOURCES = src/tapswitchctl.c
src_tapswitchctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_tapswitchctl_LDADD = src/libtapswitch.a $(JANSSON_LIBS)
