#!/usr/bin/env bash
# ctl-reload-bad.sh - reloads that must change nothing, and the life of
# the control socket.
#   1. Files with an unknown key, a bad value, a duplicate port, and two
#      errors at once, each also adding a port and changing another:
#      "tapswitchctl reload" exits 1 with exactly the "FILE:LINE: ..."
#      lines on stderr, SIGHUP logs them; the same ports with the same
#      ifindexes stay, and traffic still flows.
#   2. A file that changes queues (or offload) is refused with a message
#      naming it, by tapswitchctl and by SIGHUP; nothing changes.  The
#      good file then reloads as "unchanged".
#   3. The socket is a socket of mode 0660.  A second tapswitchd with the
#      same file fails at once with a message naming the live socket,
#      opens no TAP (it would attach queues to the first one's) and
#      leaves the socket alone; so does one pointed at a path that is not
#      a socket.  After kill -9 the socket file stays behind, tapswitchctl
#      exits 3, and the next start replaces it; the persistent TAPs
#      (persist = yes, the default) stay too, and the next start attaches
#      to them again with their addresses.
TEST_TAG=ctlr
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq stat
require_ctl

new_name IF_R			# root namespace, first in the file
new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_C; new_ns NS_C
new_name IF_D; new_ns NS_D	# only in the broken files

# good_conf [QUEUES [OFFLOAD]] - the configuration the daemon runs with.
good_conf() {
	cat <<EOF
[switch]
queues = ${1:-2}
offload = ${2:-yes}
control_socket = $CTL_SOCK

[port r]
ifname = $IF_R

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B

[port c]
ifname = $IF_C
netns = $NS_C
vlan = 5
EOF
}
CONF=$(good_conf | write_conf main)

# bad_conf NAME EXTRA-FOR-C EXTRA-PORTS - the good file with port c moved
# to VLAN 6, a new port d, and the given lines; written over $CONF.  Were
# any of it applied, c would change and d would appear.
bad_conf() {
	local extra_c=$2 extra=$3
	good_conf | sed 's/^vlan = 5$/vlan = 6/' >"$CONF"
	printf '%s\n' "$extra_c" >>"$CONF"
	cat >>"$CONF" <<EOF

[port d]
ifname = $IF_D
netns = $NS_D
$extra
EOF
	cp "$CONF" "$TMP_DIR/$1.conf"
}

# line_of REGEX - the number of the first line of $CONF that matches.
line_of() {
	grep -nE "$1" "$CONF" | head -n 1 | cut -d: -f1
}

# The ports as the daemon shows them: what a reload must not change.
SNAP=""
snapshot() {
	local j
	ctl_json j port list
	SNAP=$(jq -c '[.ports[] | {name, ifname, ifindex, netns, vlan, mtu,
	    state, queues}]' <<<"$j") || fail "cannot read the port list"
}

# unchanged WHAT - the ports are those of the first snapshot, the TAPs
# are where they were, and a and b still talk.
unchanged() {
	snapshot
	[[ $SNAP == "$SNAP0" ]] || fail "$1: the ports changed:
before: $SNAP0
after:  $SNAP"
	if link_exists "$NS_D" "$IF_D" || link_exists "" "$IF_D"; then
		fail "$1: port d's TAP $IF_D exists"
	fi
	ping_ok "$NS_A" 10.30.0.2
}

log_count() {
	grep -cF -- "$1" "$DAEMON_LOG"
}

# log_grew - more lines with $LOGGED than the $N_LOGGED counted before.
LOGGED=""
N_LOGGED=0
# shellcheck disable=SC2317 # called through wait_until
log_grew() {
	(($(log_count "$LOGGED") > N_LOGGED))
}

# bad_reload NAME WANT-LINE... - after bad_conf: "tapswitchctl reload"
# fails with exactly these stderr lines (each "tapswitchctl: " and the
# message), then SIGHUP logs them; neither changes anything.
bad_reload() {
	local name=$1 want="" line
	shift
	for line in "$@"; do
		want+="tapswitchctl: $line"$'\n'
	done
	ctl_status 1 reload
	[[ "$CTL_ERR"$'\n' == "$want" ]] || fail "$name: reload: wrong messages.
want:
${want}got:
$CTL_ERR"
	unchanged "$name (tapswitchctl reload)"
	# SIGHUP: the same lines in the log, after "reload ...".
	LOGGED=$1
	N_LOGGED=$(log_count "$LOGGED")
	kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
	wait_until 5 log_grew ||
		fail "$name: SIGHUP: \"$LOGGED\" not logged"
	for line in "$@"; do
		grep -qxF -- "$line" "$DAEMON_LOG" ||
			fail "$name: SIGHUP: \"$line\" not logged"
	done
	unchanged "$name (SIGHUP)"
	log "ok: $name: reload and SIGHUP refused it, nothing changed"
}

start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.30.0.1/24
addr_add "$NS_B" "$IF_B" 10.30.0.2/24
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.30.0.2 >/dev/null ||
	fail "a cannot reach b"
snapshot
SNAP0=$SNAP
json_ok "$SNAP0" 'map(.name) == ["a","b","c","r"] and all(.[]; .state == "up")' \
    "the ports at start"

# ---- 1. Broken files
bad_conf unknown-key 'vlna = 7' ''
bad_reload "unknown key" \
    "$CONF:$(line_of '^vlna'): unknown key \"vlna\" in [port c] (did you mean \"vlan\"?)"
bad_conf bad-value '' 'mtu = 50'
bad_reload "bad value" \
    "$CONF:$(line_of '^mtu = 50'): bad value \"50\" for mtu in [port d]: expected an integer 68..65535"
bad_conf dup-port '' "
[port a]
ifname = $IF_D"
bad_reload "duplicate port" \
    "$CONF:$(grep -n '^\[port a\]' "$CONF" | tail -n 1 | cut -d: -f1): duplicate port \"a\" (first defined at line $(line_of '^\[port a\]'))"
bad_conf two-errors 'mtu = 1' 'vlan = 4095'
bad_reload "two errors" \
    "$CONF:$(line_of '^mtu = 1$'): bad value \"1\" for mtu in [port c]: expected an integer 68..65535" \
    "$CONF:$(line_of '^vlan = 4095'): bad value \"4095\" for vlan in [port d]: VLAN must be 1..4094"

# ---- 2. Settings that need a restart
refused() {
	local name=$1 what=$2
	ctl_status 1 reload
	grep -qE "^tapswitchctl: $CONF: .*$what changed from .* \(nothing was changed\)\$" \
	    <<<"$CTL_ERR" || fail "$name: reload: the message does not name $what: $CTL_ERR"
	unchanged "$name (tapswitchctl reload)"
	LOGGED="reload refused: $CONF: "
	N_LOGGED=$(log_count "$LOGGED")
	kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
	wait_until 5 log_grew ||
		fail "$name: SIGHUP: no \"reload refused\" in the log"
	grep -F "$LOGGED" "$DAEMON_LOG" | tail -n 1 | grep -q "$what changed" ||
		fail "$name: SIGHUP: the logged refusal does not name $what"
	unchanged "$name (SIGHUP)"
	log "ok: $name: refused (\"${CTL_ERR#tapswitchctl: }\")"
}
# queues, with a port added too: nothing of it may be applied.
{ good_conf 1; printf '\n[port d]\nifname = %s\nnetns = %s\n' "$IF_D" "$NS_D"; } >"$CONF"
refused "queues 2 -> 1" queues
good_conf 2 no >"$CONF"
refused "offload yes -> no" offload

# The daemon still holds the file it started with: the good one reloads
# as no change at all.
good_conf >"$CONF"
ctl_json J reload
json_ok "$J" '.added == [] and .removed == [] and .changed == [] and
    .unchanged == 4' "reload of the good file after the refusals"
unchanged "good file"
log "ok: the good file reloads unchanged"

# ---- 3. The control socket
[[ -S $CTL_SOCK ]] || fail "$CTL_SOCK is not a socket"
mode=$(stat -c %a "$CTL_SOCK")
[[ $mode == 660 ]] || fail "the control socket has mode $mode, want 660"
owner=$(stat -c %u:%g "$CTL_SOCK")
[[ $owner == "0:0" ]] || fail "the control socket belongs to $owner, want 0:0"
inode=$(stat -c %i "$CTL_SOCK")
log "ok: control socket mode 0660, owner root:root"

# A second daemon with the same file.
rc=0
timeout 10 "$TSWD" -f "$CONF" --pidfile "$TMP_DIR/second.pid" \
    </dev/null >"$TMP_DIR/second.log" 2>&1 || rc=$?
((rc == 1)) || fail "a second tapswitchd exited with status $rc, want 1: $(cat "$TMP_DIR/second.log")"
want="tapswitchd: error: another tapswitchd is answering on $CTL_SOCK; stop it or use another control_socket"
[[ $(<"$TMP_DIR/second.log") == "$want" ]] ||
	fail "a second tapswitchd said (want only \"$want\"):
$(cat "$TMP_DIR/second.log")"
[[ ! -e $TMP_DIR/second.pid ]] || fail "the second tapswitchd wrote its pidfile"
[[ -S $CTL_SOCK && $(stat -c %i "$CTL_SOCK") == "$inode" ]] ||
	fail "the second tapswitchd replaced or removed the socket"
# Had it opened port r's TAP, the kernel would have attached its queues
# to the first daemon's and spread r's frames over them.
nq=$(find "/sys/class/net/$IF_R/queues" -maxdepth 1 -name 'rx-*' | wc -l)
((nq == 2)) || fail "$IF_R has $nq queues, want 2"
unchanged "second daemon"
ctl_json J status
json_ok "$J" '.ports == 4' "status after the second daemon"
log "ok: a second tapswitchd on the live socket fails: \"$want\""

# A path that is not a socket is not ours to remove.
: >"$TMP_DIR/plain"
rc=0
timeout 10 "$TSWD" -f "$CONF" -s "$TMP_DIR/plain" </dev/null \
    >"$TMP_DIR/plain.log" 2>&1 || rc=$?
((rc == 1)) || fail "tapswitchd -s on a plain file exited with status $rc, want 1"
grep -qF "control socket $TMP_DIR/plain exists and is not a socket" \
    "$TMP_DIR/plain.log" || fail "tapswitchd -s on a plain file: $(cat "$TMP_DIR/plain.log")"
[[ -f $TMP_DIR/plain && ! -S $TMP_DIR/plain ]] || fail "the plain file was replaced"
unchanged "socket path on a plain file"
log "ok: a path that is not a socket is refused and left alone"

# kill -9: the socket file stays, nobody answers on it (exit 3), and the
# next start replaces it.
kill -KILL "$DAEMON_PID" || fail "cannot kill tapswitchd"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
[[ -S $CTL_SOCK ]] || fail "no socket left behind after kill -9 (the test needs one)"
ctl_status 3 status
grep -qF "$CTL_SOCK" <<<"$CTL_ERR" ||
	fail "status after kill -9: the message does not name the socket: $CTL_ERR"
link_exists "$NS_A" "$IF_A" ||
	fail "$IF_A is gone after kill -9 (persist = yes must keep it)"
start_daemon "$CONF"
grep -qxF "tapswitchd: removed stale control socket $CTL_SOCK" "$DAEMON_LOG" ||
	fail "the stale socket's removal is not logged"
[[ -S $CTL_SOCK && $(stat -c %a "$CTL_SOCK") == 660 ]] ||
	fail "no socket of mode 0660 after the restart"
ctl_json J status
json_ok "$J" '.ports == 4' "status after the restart"
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.30.0.2 >/dev/null ||
	fail "a cannot reach b after the restart"
log "ok: after kill -9, the next start replaced the stale socket"

pass '^tapswitchd: error: reload failed; nothing was changed:$' \
    "^tapswitchd: error: reload refused: $CONF: (queues|offload) changed"
