#!/usr/bin/env bash
# systemd-unit.sh - the generated systemd/tapswitchd.service is valid.
#   1. "systemd-analyze verify" accepts it with the ExecStart= path pointed
#      at the tapswitchd of this build (verify insists that the binary
#      exists), and says nothing at all about the unit: systemd only warns
#      about unknown keys, bad values and the like, so any line that names
#      the unit fails the test.  Lines about the machine (no systemd as
#      PID 1, a missing unit elsewhere) are shown but do not count.
#   2. Every man page of Documentation= is one of ours, and the unit's
#      Type= is what configure chose (notify with libsystemd).
#   3. "systemd-analyze security --offline" rates it: the exposure score
#      is printed, and a score above 3.0 (systemd's "OK" ends at 4.9)
#      means hardening was lost.
#   4. As root: tapswitchd works inside the unit's limits.  Started the
#      way systemd would start it, with the unit's CapabilityBoundingSet=
#      and NoNewPrivileges= (setpriv), with a port in a network namespace,
#      control_group and user (when the system has the group nogroup and
#      the user nobody), it comes up, adds a port with tapswitchctl,
#      reloads on SIGHUP and stops cleanly, without logging an error.
#      Under strace, it makes no system call outside the unit's
#      SystemCallFilter=, which systemd would refuse with EPERM; the
#      filter allows io_uring, the default data path.
# Parts 1-3 need no root; part 4 is left out without root, /dev/net/tun,
# ip netns or setpriv, and its strace check without a working strace.
# Skipped without systemd-analyze.
TEST_TAG=unit
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_IN=$TSW_BUILDDIR/systemd/tapswitchd.service
MAX_EXPOSURE=3.0

command -v systemd-analyze >/dev/null ||
	skip "systemd-analyze is not installed (Debian package systemd)"
require_daemon
[[ -f $UNIT_IN ]] ||
	fail "$UNIT_IN not found: make systemd/tapswitchd.service"

# --- 1. systemd-analyze verify, against this build's daemon.
dir=$TMP_DIR/units
mkdir "$dir" || fail "cannot create $dir"
unit=$dir/tapswitchd.service
grep -qE '^ExecStart=/[^ ]*/tapswitchd( |$)' "$UNIT_IN" ||
	fail "no ExecStart=/.../tapswitchd line in $UNIT_IN"
sed -E "s#^ExecStart=/[^ ]*/tapswitchd( |\$)#ExecStart=$TSWD\\1#" \
    "$UNIT_IN" >"$unit" || fail "cannot write $unit"
grep -qF "ExecStart=$TSWD" "$unit" || fail "ExecStart= not rewritten in $unit"

rc=0
# --man=no: the pages are not installed yet; part 2 checks them instead.
systemd-analyze verify --man=no "$unit" >"$TMP_DIR/verify.out" 2>&1 || rc=$?
own=$(grep -F 'tapswitchd.service' "$TMP_DIR/verify.out")
other=$(grep -vF 'tapswitchd.service' "$TMP_DIR/verify.out")
[[ -z $other ]] || log "note: systemd-analyze says about this machine:
$other"
((rc == 0)) || fail "systemd-analyze verify: exit status $rc:
$(cat "$TMP_DIR/verify.out")"
[[ -z $own ]] || fail "systemd-analyze verify complains about the unit:
$own"
log "ok: systemd-analyze verify accepts the unit ($(systemd-analyze --version | head -n 1))"

# --- 2. Documentation= and Type=.
docs=$(sed -n 's/^Documentation=//p' "$unit")
[[ -n $docs ]] || fail "the unit has no Documentation= line"
for doc in $docs; do
	[[ $doc =~ ^man:([a-z.]+)\(([1-8])\)$ ]] ||
		fail "Documentation=$doc is not a man:PAGE(N) reference"
	page=$TSW_SRCDIR/man/${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
	[[ -f $page ]] || fail "Documentation=$doc: no $page"
done
log "ok: Documentation= names our man pages: $docs"

if grep -q '^#define HAVE_SYSTEMD 1' "$TSW_BUILDDIR/config.h"; then
	want_type=notify
else
	want_type=simple
fi
type=$(sed -n 's/^Type=//p' "$unit")
[[ $type == "$want_type" ]] ||
	fail "Type=$type, but this build wants Type=$want_type"
log "ok: Type=$type"

# --- 3. Exposure score.
rc=0
systemd-analyze security --offline=yes --no-pager "$unit" \
    >"$TMP_DIR/security.out" 2>&1 || rc=$?
score=$(sed -nE 's/.*Overall exposure level for tapswitchd\.service: ([0-9.]+).*/\1/p' \
    "$TMP_DIR/security.out")
[[ -n $score ]] || fail "systemd-analyze security (exit status $rc) gave no score:
$(cat "$TMP_DIR/security.out")"
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
	fail "exposure level $score is above $MAX_EXPOSURE; what is exposed:
$(grep -E '^✗' "$TMP_DIR/security.out")"
log "ok: exposure level $score (at most $MAX_EXPOSURE)"

# --- 4. The daemon inside the unit's limits.
if ((EUID != 0)) || [[ ! -c /dev/net/tun ]] ||
    ! command -v setpriv >/dev/null || ! command -v ip >/dev/null ||
    ! ip netns list >/dev/null 2>&1; then
	log "note: not run as root with /dev/net/tun, ip netns and setpriv:" \
	    "the daemon was not tried inside the unit's limits"
	pass
fi
require_ctl

# The system calls of a SystemCallFilter= allow list, groups expanded.
syscalls_of() {
	local x
	for x in "$@"; do
		if [[ $x == @* ]]; then
			systemd-analyze syscall-filter "$x" |
			    sed -e '1d' -e 's/#.*//' | awk 'NF { print $1 }' |
			    while read -r y; do syscalls_of "$y"; done
		else
			printf '%s\n' "$x"
		fi
	done
}

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[[ -n $caps ]] || fail "the unit has no CapabilityBoundingSet="
grep -qx 'NoNewPrivileges=yes' "$unit" || fail "the unit lacks NoNewPrivileges=yes"
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset+=",+${c,,}"
done
filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[[ -n $filter && $filter != "~"* ]] ||
	fail "the unit has no SystemCallFilter= allow list: $filter"
# shellcheck disable=SC2086 # one word per group or call
syscalls_of $filter | sort -u >"$TMP_DIR/allowed" ||
	fail "cannot expand SystemCallFilter=$filter"
# The data path's default, io_uring, must not fall back under the unit.
for c in io_uring_setup io_uring_enter io_uring_register; do
	grep -qx "$c" "$TMP_DIR/allowed" ||
		fail "SystemCallFilter=$filter does not allow $c (io_uring)"
done

# strace -D keeps the daemon's pid (start_daemon checks the pidfile
# against it) and works only where the tracer may attach that way.
trace=()
if command -v strace >/dev/null &&
    strace -D -f -qq -o /dev/null true >/dev/null 2>&1; then
	trace=(strace -D -f -qq -o "$TMP_DIR/trace")
else
	log "note: no working strace: system calls not checked"
fi
cat >"$TMP_DIR/sandboxed" <<EOF
#!/bin/sh
exec setpriv --bounding-set=$bset --no-new-privs ${trace[*]} "$TSWD" "\$@"
EOF
chmod +x "$TMP_DIR/sandboxed"

new_name IF_A; new_ns NS_A
new_name IF_B
new_name IF_C			# added with tapswitchctl
new_name IF_D			# added by the reload
extra=""
if getent group nogroup >/dev/null; then
	extra+="control_group = nogroup"$'\n'
fi
if getent passwd nobody >/dev/null &&
    "$TSWD" --help 2>&1 | grep -q -- '--user'; then
	extra+="user = nobody"$'\n'
	# nobody reads the file again on reload.
	chmod 0711 "$TMP_DIR" || fail "cannot chmod $TMP_DIR"
fi
conf=$(write_conf caps <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
$extra
[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
EOF
)
TSWD=$TMP_DIR/sandboxed start_daemon "$conf"
link_exists "$NS_A" "$IF_A" || fail "$IF_A is not in $NS_A"
ctl port add c ifname="$IF_C" >/dev/null ||
	fail "tapswitchctl port add failed inside the unit's limits"
link_exists "" "$IF_C" || fail "$IF_C was not created"
printf '\n[port d]\nifname = %s\n' "$IF_D" >>"$conf"
kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
wait_until 5 link_exists "" "$IF_D" ||
	fail "the reload did not create $IF_D inside the unit's limits"
stop_daemon TERM
check_log_clean
log "ok: start, port add, reload and stop with" \
    "CapabilityBoundingSet=$caps NoNewPrivileges=yes" \
    "$(tr '\n' ' ' <<<"$extra")"

if ((${#trace[@]})); then
	awk '{
		sub(/^[0-9]+ +/, "")
		if (match($0, /^[a-z_0-9]+\(/))
			print substr($0, 1, RLENGTH - 1)
	}' "$TMP_DIR/trace" | sort -u >"$TMP_DIR/used"
	outside=$(comm -23 "$TMP_DIR/used" "$TMP_DIR/allowed")
	[[ -z $outside ]] || fail "system calls outside SystemCallFilter=$filter:
$outside"
	log "ok: all $(wc -l <"$TMP_DIR/used") system calls it made are in" \
	    "SystemCallFilter=$filter"
fi

pass
