#!/usr/bin/env bash
# helper-death.sh - the switch recovers from losing its privileged helper
# (tapswitchd(8), PRIVILEGES).  The daemon cannot start another helper
# once it has dropped its privileges, so it stops with status 1, to be
# started again (as systemd does), and persistent TAPs outlive it:
#   1. kill -9 of the helper, with nothing asked of it: the daemon notices
#      by itself, says why, and exits 1; the helper is gone, the pidfile
#      and the control socket are removed, and the TAPs stay in their
#      namespaces with their addresses.  Started again, the daemon takes
#      them up again: the namespaces ping each other, with no address set
#      again.
#   2. SIGSTOP of the helper: the next "port add" waits for it up to its
#      timeout (10 s), fails with a message that names the helper, and the
#      daemon kills the stopped helper and exits 1, leaving nothing of the
#      port it could not add.  Started again, "port add" works.
TEST_TAG=hdth
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping
require_ctl

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
CONF=$(write_conf hdth <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)

# daemon_exits WHY - wait (generously) for the daemon to exit by itself,
# and fail unless it exited with status 1.
daemon_exits() {
	local rc=0
	wait_until 40 daemon_gone ||
		fail "$1: tapswitchd still runs 40 s later"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	((rc == 1)) || fail "$1: tapswitchd exited with status $rc, want 1"
}

# nothing_left HELPER WHY - the helper, the pidfile and the control
# socket are gone; the persistent TAPs and their addresses are not.
nothing_left() {
	wait_until 5 pid_gone "$1" || fail "$2: the helper $1 is still there"
	[[ ! -e $DAEMON_PIDFILE ]] || fail "$2: the pidfile is left behind"
	[[ ! -e $CTL_SOCK ]] || fail "$2: the control socket is left behind"
	ip -n "$NS_A" -o addr show dev "$IF_A" 2>/dev/null | grep -q ' 10\.34\.0\.1/24 ' ||
		fail "$2: $IF_A in $NS_A lost its address (or is gone)"
	ip -n "$NS_B" -o addr show dev "$IF_B" 2>/dev/null | grep -q ' 10\.34\.0\.2/24 ' ||
		fail "$2: $IF_B in $NS_B lost its address (or is gone)"
}

start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.34.0.1/24
addr_add "$NS_B" "$IF_B" 10.34.0.2/24
ping_ok "$NS_A" 10.34.0.2

# ---- 1. kill -9, nothing asked of the helper.
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no tapswitchd-priv child of $DAEMON_PID"
kill -KILL "$HELPER" || fail "cannot kill the helper"
daemon_exits "helper killed"
grep -q '^tapswitchd: error: the privileged helper process tapswitchd-priv was killed by signal 9' \
    "$DAEMON_LOG" || fail "helper killed: the log does not say so"
grep -q '^tapswitchd: error: stopping: tapswitchd cannot work without its privileged helper' \
    "$DAEMON_LOG" || fail "helper killed: the log does not say why tapswitchd stops"
nothing_left "$HELPER" "helper killed"
log "ok: helper killed: tapswitchd exited 1 by itself, left nothing but the persistent TAPs and their addresses"

start_daemon "$CONF"
ping_ok "$NS_A" 10.34.0.2
ping_ok "$NS_B" 10.34.0.1
log "ok: started again, the ports are back and ping with the addresses they kept"

# ---- 2. SIGSTOP: found by the next request that needs the helper.
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no tapswitchd-priv child of $DAEMON_PID"
kill -STOP "$HELPER" || fail "cannot stop the helper"
new_name IF_C; new_ns NS_C
rc=0
ctl port add c "ifname=$IF_C" "netns=$NS_C" >"$TMP_DIR/add.out" 2>&1 || rc=$?
((rc == 1)) || fail "port add with the helper stopped: exit $rc, want 1: $(cat "$TMP_DIR/add.out")"
grep -q 'privileged helper process tapswitchd-priv did not answer within 10 s and was killed' \
    "$TMP_DIR/add.out" || fail "port add with the helper stopped: $(cat "$TMP_DIR/add.out")"
daemon_exits "helper stopped"
grep -q '^tapswitchd: error: stopping: tapswitchd cannot work without its privileged helper' \
    "$DAEMON_LOG" || fail "helper stopped: the log does not say why tapswitchd stops"
nothing_left "$HELPER" "helper stopped"
! link_exists "$NS_C" "$IF_C" || fail "helper stopped: $IF_C was made"
log "ok: helper stopped: port add failed with \"$(cat "$TMP_DIR/add.out")\"; tapswitchd killed the helper and exited 1"

start_daemon "$CONF"
ping_ok "$NS_A" 10.34.0.2
ctl_status 0 port add c "ifname=$IF_C" "netns=$NS_C" persist=no
link_exists "$NS_C" "$IF_C" || fail "port add c after the restart: no $IF_C in $NS_C"
addr_add "$NS_C" "$IF_C" 10.34.0.3/24
ping_ok "$NS_C" 10.34.0.1
log "ok: started again, port add works"

pass '^tapswitchd: error: the privileged helper process tapswitchd-priv (was killed by signal 9|did not answer within 10 s and was killed)' \
    '^tapswitchd: error: stopping: tapswitchd cannot work without its privileged helper'
