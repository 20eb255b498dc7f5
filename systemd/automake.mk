# The systemd unit.  It is made from systemd/tapswitchd.service.in by make,
# not by configure, so that it names the sbindir that "make install" uses
# (see "Installation Directory Variables" in the autoconf manual).
# Without libsystemd, Type=notify becomes Type=simple (configure.ac).
systemd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@SYSTEMD_SERVICE_TYPE[@]|$(SYSTEMD_SERVICE_TYPE)|g'

systemd/tapswitchd.service: systemd/tapswitchd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && rm -f $@ $@.tmp && \
	$(systemd_edit) $(srcdir)/systemd/tapswitchd.service.in >$@.tmp && \
	chmod a-w $@.tmp && mv $@.tmp $@

if INSTALL_SYSTEMD_UNIT
# Into systemd's unit directory (configure --with-systemdsystemunitdir).
nodist_systemdsystemunit_DATA = systemd/tapswitchd.service
# distcheck installs into a staging prefix: the unit goes there too.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir=$$dc_install_base/$(systemdsystemunitdir)
else
AM_DISTCHECK_CONFIGURE_FLAGS = --without-systemdsystemunitdir
endif

# make check verifies the unit (tests/integration/systemd-unit.sh), also
# when it is not installed.
check_DATA += systemd/tapswitchd.service
EXTRA_DIST += systemd/tapswitchd.service.in
CLEANFILES += systemd/tapswitchd.service systemd/tapswitchd.service.tmp
