#!/usr/bin/env bash
# privileges.sh - least privilege (tapswitchd(8), PRIVILEGES).
#   1. With user = nobody: the main process runs as nobody (uid, gid and
#      nobody's groups) with no capability in any set and no_new_privs;
#      its helper "tapswitchd-priv" runs as root with exactly
#      CAP_NET_ADMIN and CAP_SYS_ADMIN and holds no descriptor but its
#      socket and stdin/out/err.  The control socket belongs to nobody,
#      so nobody may use changing commands; root still may.
#   2. Traffic flows; "port add" into a namespace (through the helper)
#      works and carries traffic; "port del" removes the TAP; a reload
#      (read as nobody) adds a port in another namespace.
#   3. SIGTERM: exit 0, and the pidfile and control socket, in a
#      directory nobody cannot write, are removed (by the helper).
#   4. --user overrides user =.
#   5. kill -9 of the helper: the daemon, which cannot start another as
#      nobody, stops by itself with status 1, to be started again
#      (helper-death.sh tests the rest).  kill -9 of the daemon takes the
#      helper with it.
TEST_TAG=priv
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping setpriv
require_ctl

getent passwd nobody >/dev/null || skip "no user nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOBODY_GROUPS=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')
# The daemon re-reads its file as nobody: let it in (the directory stays
# root's and not writable for nobody).
chmod 0755 "$TMP_DIR"

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B

# conf NAME USER [EXTRA] - a, b in namespaces, plus EXTRA.
conf() {
	write_conf "$1" <<EOF
[switch]
queues = 2
user = $2
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A
persist = no

[port b]
ifname = $IF_B
netns = $NS_B
persist = no
${3:-}
EOF
}

# caps PID SET - print the capability set SET (Eff, Prm, Bnd, Inh, Amb).
caps() {
	proc_status "$1" "Cap$2"
}

CONF=$(conf main nobody)
start_daemon "$CONF"

# --- 1. Who runs with what.
MAIN=$DAEMON_PID
[[ $(proc_status "$MAIN" Uid) == "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]] ||
	fail "main process Uid: $(proc_status "$MAIN" Uid), want $NOBODY_UID"
[[ $(proc_status "$MAIN" Gid) == "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" ]] ||
	fail "main process Gid: $(proc_status "$MAIN" Gid), want $NOBODY_GID"
got=$(proc_status "$MAIN" Groups | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
[[ $got == "$NOBODY_GROUPS" ]] ||
	fail "main process Groups: $got, want nobody's: $NOBODY_GROUPS"
for set in Eff Prm Bnd Inh Amb; do
	[[ $(caps "$MAIN" $set) == 0000000000000000 ]] ||
		fail "main process Cap$set: $(caps "$MAIN" $set), want 0"
done
[[ $(proc_status "$MAIN" NoNewPrivs) == 1 ]] || fail "main process lacks no_new_privs"
# Every thread, the workers included.
for task in /proc/"$MAIN"/task/*; do
	[[ $(awk '$1 == "CapEff:" { print $2 }' "$task/status") == 0000000000000000 &&
	   $(awk '$1 == "Uid:" { print $2 }' "$task/status") == "$NOBODY_UID" ]] ||
		fail "thread ${task##*/} is not unprivileged: $(grep -E '^(Uid|CapEff)' "$task/status")"
done
log "ok: main process: uid/gid nobody, nobody's groups, no capabilities, no_new_privs, in every thread"

HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no tapswitchd-priv child of $MAIN"
[[ $(proc_status "$HELPER" Uid) == "0 0 0 0" ]] ||
	fail "helper Uid: $(proc_status "$HELPER" Uid), want 0"
NET_SYS=0000000000203001		# CAP_CHOWN (0) | CAP_NET_ADMIN (12) | CAP_NET_RAW (13) | CAP_SYS_ADMIN (21)
for set in Eff Prm Bnd; do
	[[ $(caps "$HELPER" $set) == "$NET_SYS" ]] ||
		fail "helper Cap$set: $(caps "$HELPER" $set), want $NET_SYS"
done
for set in Inh Amb; do
	[[ $(caps "$HELPER" $set) == 0000000000000000 ]] ||
		fail "helper Cap$set: $(caps "$HELPER" $set), want 0"
done
fds=$(find "/proc/$HELPER/fd" -mindepth 1 -printf '%f\n' | sort -n | tr '\n' ' ')
nfd=$(wc -w <<<"$fds")
((nfd == 4)) || fail "the helper holds descriptors $fds (want 0 1 2 and its socket): $(ls -l "/proc/$HELPER/fd")"
readlink "/proc/$HELPER/fd/$(awk '{ print $4 }' <<<"$fds")" | grep -q '^socket:' ||
	fail "the helper's fourth descriptor is not its socket"
log "ok: helper $HELPER: uid 0, CAP_NET_ADMIN|CAP_SYS_ADMIN|CAP_CHOWN only, descriptors $fds"

[[ $(stat -c '%U %a' "$CTL_SOCK") == "nobody 660" ]] ||
	fail "control socket: $(stat -c '%U %a' "$CTL_SOCK"), want nobody 660"
setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --init-groups \
    "$TSWCTL" -s "$CTL_SOCK" fdb flush >"$TMP_DIR/nobody.out" 2>&1 ||
	fail "nobody (the daemon's user) cannot flush the MAC table: $(cat "$TMP_DIR/nobody.out")"
ctl_status 0 fdb flush
log "ok: the control socket belongs to nobody; nobody and root may change things"

# --- 2. Traffic, runtime ports through the helper, reload as nobody.
addr_add "$NS_A" "$IF_A" 10.42.0.1/24
addr_add "$NS_B" "$IF_B" 10.42.0.2/24
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.42.0.2 >/dev/null ||
	fail "a cannot reach b"

new_name IF_C; new_ns NS_C
ctl_status 0 port add c "ifname=$IF_C" "netns=$NS_C" persist=no
link_exists "$NS_C" "$IF_C" || fail "port add c: no $IF_C in $NS_C"
link_is_up "$NS_C" "$IF_C" || fail "port add c: $IF_C is not up"
addr_add "$NS_C" "$IF_C" 10.42.0.3/24
ping_ok "$NS_C" 10.42.0.1
ping_ok "$NS_A" 10.42.0.3
ctl_status 0 port del c
wait_until 2 link_gone "$NS_C" "$IF_C" || fail "port del c: $IF_C still exists"
log "ok: port add into a namespace through the helper, traffic on it, port del removes it"

new_name IF_D; new_ns NS_D
conf main nobody "
[port d]
ifname = $IF_D
netns = $NS_D
" >/dev/null
ctl_json J reload
json_ok "$J" '.added == ["d"]' "reload adding d"
link_exists "$NS_D" "$IF_D" || fail "reload: no $IF_D in $NS_D"
log "ok: a reload, read as nobody, adds a port in a new namespace"

# --- 3. The helper removes what nobody cannot.
stop_daemon
[[ ! -e $CTL_SOCK ]] || fail "the control socket is left behind"
log "ok: SIGTERM: exit 0, pidfile and socket removed"
# d is persistent (the default); it goes with its namespace at the end.
link_exists "$NS_D" "$IF_D" || fail "the persistent $IF_D did not stay"

# --- 4. --user overrides user =.
start_daemon "$(conf root-user root)" --user nobody
[[ $(proc_status "$DAEMON_PID" Uid) == "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]] ||
	fail "--user nobody: Uid $(proc_status "$DAEMON_PID" Uid)"
log "ok: --user nobody overrides user = root"

# --- 5. Without its helper the daemon stops, to be started again; without
# the daemon the helper ends.
HELPER=$(helper_pid)
kill -KILL "$HELPER" || fail "cannot kill the helper"
wait_until 40 daemon_gone || fail "tapswitchd did not stop without its helper"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
((rc == 1)) || fail "tapswitchd exited with $rc without its helper, want 1"
grep -q '^tapswitchd: error: stopping: tapswitchd cannot work without its privileged helper' \
    "$DAEMON_LOG" || fail "tapswitchd does not say why it stopped without its helper"
# As nobody, with the helper gone, it cannot remove the pidfile and the
# socket from a root-owned directory (tapswitchd(8) says so).
rm -f "$DAEMON_PIDFILE" "$CTL_SOCK"
log "ok: helper killed: tapswitchd, running as nobody, exited 1 by itself"

start_daemon "$CONF"
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no helper"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 2 pid_gone "$HELPER" ||
	fail "the helper $HELPER outlived the daemon"
log "ok: kill -9 of the daemon ends its helper"
rm -f "$DAEMON_PIDFILE" "$CTL_SOCK"

check_log_clean '^tapswitchd: error: the privileged helper process tapswitchd-priv was killed by signal 9' \
    '^tapswitchd: error: stopping: tapswitchd cannot work without its privileged helper'
log "PASS"
exit 0
