#!/usr/bin/env bash
# config-check.sh - "tapswitchd -n" accepts a good configuration (exit 0),
# rejects bad ones with exit 1 and exactly the "FILE:LINE: message" lines
# on stderr, and touches nothing: no TAP, no control socket, no pidfile.
# Needs no root (when run as root, the good file is also checked as
# nobody).  The files are in tests/integration/conf/.
TEST_TAG=ccfg
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_daemon

CONF_DIR=$TSW_SRCDIR/tests/integration/conf
# Every interface and socket the files name.
IFNAMES=(tswcc-web1 tswcc-web2 tswcc-up tswcc-db)
SOCKET=/run/tapswitch/tswcc-check.sock

# Nothing of what the files name may exist after a check.
check_untouched() {
	local ifn
	for ifn in "${IFNAMES[@]}"; do
		[[ ! -e /sys/class/net/$ifn ]] ||
			fail "$1: interface $ifn exists after tapswitchd -n"
	done
	[[ ! -e $SOCKET ]] || fail "$1: $SOCKET exists after tapswitchd -n"
	[[ ! -e $TMP_DIR/pid ]] || fail "$1: tapswitchd -n wrote a pidfile"
}

# check_bad FILE EXPECTED-LINE... - tapswitchd -n FILE must exit 1 and
# print exactly these lines on stderr (each is prefixed with FILE:).
check_bad() {
	local name=$1 f rc=0 want line
	shift
	f=$CONF_DIR/$name
	[[ -f $f ]] || fail "missing $f"
	want=""
	for line in "$@"; do
		want+="$f:$line"$'\n'
	done
	"$TSWD" -n -f "$f" --pidfile "$TMP_DIR/pid" \
	    >"$TMP_DIR/out" 2>"$TMP_DIR/err" || rc=$?
	((rc == 1)) || fail "$name: exit status $rc, want 1; stderr:
$(cat "$TMP_DIR/err")"
	if [[ $(cat "$TMP_DIR/err"; echo x) != "${want}x" ]]; then
		fail "$name: wrong messages.
want:
${want}got:
$(cat "$TMP_DIR/err")"
	fi
	[[ ! -s $TMP_DIR/out ]] ||
		fail "$name: unexpected output on stdout: $(cat "$TMP_DIR/out")"
	check_untouched "$name"
	log "ok: $name rejected"
}

# The good file: accepted, nothing on stderr.
good=$CONF_DIR/good.conf
rc=0
"$TSWD" -n -f "$good" --pidfile "$TMP_DIR/pid" >"$TMP_DIR/out" \
    2>"$TMP_DIR/err" || rc=$?
((rc == 0)) || fail "good.conf: exit status $rc, want 0; stderr:
$(cat "$TMP_DIR/err")"
[[ ! -s $TMP_DIR/err ]] || fail "good.conf: stderr is not empty:
$(cat "$TMP_DIR/err")"
check_untouched good.conf
log "ok: good.conf accepted: $(cat "$TMP_DIR/out")"

# As root, show that the check needs no privileges.
if ((EUID == 0)) && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1; then
	rc=0
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$TSWD" -n -f "$good" >/dev/null 2>"$TMP_DIR/err" || rc=$?
	((rc == 0)) || fail "good.conf as nobody: exit status $rc; stderr:
$(cat "$TMP_DIR/err")"
	check_untouched "good.conf as nobody"
	log "ok: good.conf accepted as nobody"
fi

check_bad bad-unknown-key.conf \
    '4: unknown key "vlna" in [port web1] (did you mean "vlan"?)'
check_bad bad-vlan-trunk.conf \
    '5: [port web1] sets both vlan and trunk; an access port has vlan =, a trunk has trunk ='
check_bad bad-vlan-range.conf \
    '4: bad value "5000" for vlan in [port web1]: VLAN must be 1..4094'
check_bad bad-mtu.conf \
    '4: bad value "50" for mtu in [port web1]: expected an integer 68..65535'
check_bad bad-dup-port.conf \
    '5: duplicate port "web1" (first defined at line 2)'
check_bad bad-dup-ifname.conf \
    '6: ifname "tswcc-web1" of [port web2] is already used by [port web1]'
check_bad bad-many.conf \
    '4: bad value "0" for queues in [switch]: expected an integer 1..16' \
    '5: bad value "maybe" for offload in [switch]: expected yes or no (or true/false, on/off, 1/0)' \
    '10: [port web1] sets native without trunk'
check_bad bad-vxlan.conf \
    '2: [port dc1] needs vni = (1..16777215): the VXLAN network identifier that the other hosts use for this network too' \
    '6: [port dc2] needs vni = (1..16777215): the VXLAN network identifier that the other hosts use for this network too' \
    '6: [port dc2] needs remote = ADDRESS[, ADDRESS...]: the underlay addresses of the other hosts' \
    '8: bad value "16777216" for vni in [port dc2]: a VNI is an integer 1..16777215' \
    '9: bad value "192.0.2.2, 192.0.2.300" for remote in [port dc2]: expected an IPv4 or IPv6 address (192.0.2.1, 2001:db8::1)' \
    '17: [port dc4] has vni 7 on 192.0.2.1 port 4789, like [port dc3]: a datagram could not tell them apart (give one another vni, local or dstport)'

# A file that cannot be read is an error too (exit 1, one message).
rc=0
"$TSWD" -n -f "$TMP_DIR/missing.conf" >/dev/null 2>"$TMP_DIR/err" || rc=$?
((rc == 1)) || fail "missing file: exit status $rc, want 1"
grep -qxF "$TMP_DIR/missing.conf: cannot open: No such file or directory" \
    "$TMP_DIR/err" || fail "missing file: wrong message: $(cat "$TMP_DIR/err")"
log "ok: a missing file is rejected"

log "PASS"
