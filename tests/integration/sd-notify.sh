#!/usr/bin/env bash
# sd-notify.sh - what tapswitchd tells systemd (sd_notify(3)) through
# $NOTIFY_SOCKET, here a datagram socket the test listens on (python3),
# which records every message with the sender's pid (SCM_CREDENTIALS).
#   1. READY=1 comes once every port exists, in the root namespace and in
#      a network namespace, and the control socket is there (checked by
#      the listener the moment READY=1 arrives), with
#      STATUS=2 ports (2 up), 2 queues, offload on, and ", io_uring"
#      when the workers use it (what status.get says).
#   2. SIGHUP with a port added to the file: RELOADING=1 (with
#      MONOTONIC_USEC=), then READY=1 and STATUS=3 ports.
#   3. SIGHUP with an invalid file: RELOADING=1, READY=1, and STATUS says
#      the reload was refused and why; nothing changed.
#   4. Between reloads STATUS= follows the ports: "tapswitchctl port add"
#      and a link set down show within a few seconds.
#   5. "tapswitchctl reload" is announced like SIGHUP, and a good reload
#      clears the note of the refused one.
#   6. SIGTERM: STOPPING=1 is the last message.
# Every message must come from the daemon's main process (systemd accepts
# only those: NotifyAccess=main).  Skipped when the build has no
# libsystemd (configure --without-systemd).
TEST_TAG=ntfy
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root python3
require_ctl
grep -q '^#define HAVE_SYSTEMD 1' "$TSW_BUILDDIR/config.h" ||
	skip "tapswitchd was built without libsystemd (sd_notify)"

NSOCK=$TMP_DIR/notify.sock
NLOG=$TMP_DIR/notify.log

# The listener: one line per message, tab-separated: pid=PID,
# check=STATUS of the ready check (for the first READY=1, "-" otherwise),
# then the message's VAR=value lines.  The sender is stopped (SIGSTOP)
# while the ready check runs, so that a READY=1 sent too early cannot be
# excused by the daemon finishing start-up while the check starts.
cat >"$TMP_DIR/listen.py" <<'EOF'
import os, signal, socket, struct, subprocess, sys

path, log_path, ready_path = sys.argv[1:4]
check = sys.argv[4:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
open(ready_path, "w").close()
checked = False
with open(log_path, "a", buffering=1) as log:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = "?"
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        fields = data.decode("utf-8", "replace").rstrip("\n").split("\n")
        rc = "-"
        if "READY=1" in fields and not checked:
            checked = True
            if pid != "?":
                os.kill(pid, signal.SIGSTOP)
            try:
                rc = subprocess.call(check)
            finally:
                if pid != "?":
                    os.kill(pid, signal.SIGCONT)
        log.write("\t".join(["pid=%s" % pid, "check=%s" % rc] + fields) + "\n")
EOF

new_name IF_A; new_ns NS_A		# in a namespace
new_name IF_B				# in the root namespace
new_name IF_C				# added by the reload
new_name IF_D				# added with tapswitchctl

# What must exist when READY=1 arrives.
cat >"$TMP_DIR/ready-check.sh" <<EOF
ip -n "$NS_A" link show dev "$IF_A" >/dev/null &&
ip link show dev "$IF_B" >/dev/null &&
test -S "$CTL_SOCK"
EOF

conf=$(write_conf ntfy <<EOF
[switch]
queues = 2
offload = yes
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
EOF
)

python3 "$TMP_DIR/listen.py" "$NSOCK" "$NLOG" "$TMP_DIR/listen.ready" \
    bash "$TMP_DIR/ready-check.sh" 2>"$TMP_DIR/listen.err" &
CLEANUP_PIDS+=("$!")
wait_until 5 test -e "$TMP_DIR/listen.ready" ||
	fail "the notify listener did not start: $(cat "$TMP_DIR/listen.err")"

MSG="" MSG_N=0

# find_msg AFTER ERE - set MSG to the first message after the first AFTER
# that matches the bash ERE, and MSG_N to its number (from 1).
find_msg() {
	local i lines=()
	[[ -f $NLOG ]] || return 1
	mapfile -t lines <"$NLOG"
	for ((i = $1; i < ${#lines[@]}; i++)); do
		if [[ ${lines[i]} =~ $2 ]]; then
			MSG=${lines[i]} MSG_N=$((i + 1))
			return 0
		fi
	done
	return 1
}

# wait_msg AFTER ERE WHAT - find_msg, waiting up to 5 s; fail if none.
wait_msg() {
	wait_until 5 find_msg "$1" "$2" ||
		fail "no notification with $3 after message $1 within 5 s; got:
$(cat "$NLOG" 2>/dev/null)"
}

# field MSG NAME - print the value of NAME= in MSG (1 if absent).
field() {
	local f x
	IFS=$'\t' read -ra f <<<"$1"
	for x in "${f[@]}"; do
		if [[ $x == "$2="* ]]; then
			printf '%s\n' "${x#*=}"
			return 0
		fi
	done
	return 1
}

# status_is MSG TEXT - its STATUS= must be TEXT.
status_is() {
	local got
	got=$(field "$1" STATUS) || fail "no STATUS= in: $1"
	[[ $got == "$2" ]] || fail "STATUS=$got, want STATUS=$2"
}

n_msgs() {
	local n=0
	[[ -f $NLOG ]] && n=$(wc -l <"$NLOG")
	echo "$n"
}

# --- 1. READY=1 once everything is up.
NOTIFY_SOCKET=$NSOCK start_daemon "$conf"
wait_msg 0 $'\tREADY=1' "READY=1"
first_ready=$MSG_N
# The data path, as the daemon chose it (io_uring = auto).
ctl_json st status
DP=""
[[ $(json_get "$st" .io_uring) == true ]] && DP=", io_uring"
[[ $(json_get "$st" .io_uring_unavailable) == null ]] ||
	DP=", read/write (io_uring not available)"
[[ $(field "$MSG" check) == 0 ]] ||
	fail "READY=1 came before the ports and the control socket existed: $MSG"
status_is "$MSG" "2 ports (2 up), 2 queues, offload on$DP"
find_msg 0 $'\t(RELOADING|STOPPING)=1' &&
	fail "unexpected message before any reload: $MSG"
log "ok: READY=1 after the ports and the control socket: $(field "$MSG" STATUS)"

# --- 2. A good reload.
n=$(n_msgs)
cat >>"$conf" <<EOF

[port c]
ifname = $IF_C
EOF
kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
wait_msg "$n" $'\tRELOADING=1' "RELOADING=1"
reloading=$MSG_N
[[ $(field "$MSG" MONOTONIC_USEC) =~ ^[0-9]+$ ]] ||
	fail "RELOADING=1 without a MONOTONIC_USEC=: $MSG"
status_is "$MSG" "reloading"
wait_msg "$reloading" $'\tREADY=1' "READY=1 after RELOADING=1"
status_is "$MSG" "3 ports (3 up), 2 queues, offload on$DP"
link_exists "" "$IF_C" || fail "$IF_C was not created by the reload"
log "ok: SIGHUP: RELOADING=1, then READY=1: $(field "$MSG" STATUS)"

# --- 3. A refused reload.
n=$(n_msgs)
good=$(cat "$conf")
echo "vlna = 10" >>"$conf"
bad_line=$(wc -l <"$conf")
kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
wait_msg "$n" $'\tRELOADING=1' "RELOADING=1"
wait_msg "$MSG_N" $'\tREADY=1' "READY=1 after a refused reload"
status_is "$MSG" "3 ports (3 up), 2 queues, offload on$DP; last reload refused: $conf:$bad_line: unknown key \"vlna\" in [port c] (did you mean \"vlan\"?)"
log "ok: a refused reload: $(field "$MSG" STATUS)"
printf '%s\n' "$good" >"$conf"

# --- 4. STATUS= between reloads.
n=$(n_msgs)
ctl port add d ifname="$IF_D" >/dev/null ||
	fail "tapswitchctl port add d failed"
wait_msg "$n" $'\tSTATUS=4 ports \\(4 up\\)' "STATUS=4 ports (4 up)"
[[ $MSG != *READY=1* ]] || fail "a port change sent READY=1: $MSG"
log "ok: after tapswitchctl port add: $(field "$MSG" STATUS)"
n=$MSG_N
ip link set dev "$IF_B" down || fail "cannot set $IF_B down"
wait_msg "$n" $'\tSTATUS=4 ports \\(3 up\\)' "STATUS=4 ports (3 up)"
log "ok: after $IF_B went down: $(field "$MSG" STATUS)"

# --- 5. tapswitchctl reload; the note of the refused reload goes.
n=$(n_msgs)
ctl reload >/dev/null || fail "tapswitchctl reload failed"
wait_msg "$n" $'\tRELOADING=1' "RELOADING=1 (tapswitchctl reload)"
wait_msg "$MSG_N" $'\tREADY=1' "READY=1 (tapswitchctl reload)"
status_is "$MSG" "4 ports (3 up), 2 queues, offload on$DP"
log "ok: tapswitchctl reload: RELOADING=1, then READY=1: $(field "$MSG" STATUS)"

# --- 6. SIGTERM.
pid=$DAEMON_PID
n=$(n_msgs)
stop_daemon TERM
wait_msg "$n" $'\tSTOPPING=1' "STOPPING=1"
((MSG_N == $(n_msgs))) || fail "messages after STOPPING=1:
$(tail -n +"$((MSG_N + 1))" "$NLOG")"
log "ok: SIGTERM: STOPPING=1 is the last message"

# Every message from the main process.
while IFS= read -r line; do
	[[ $(field "$line" pid) == "$pid" ]] ||
		fail "a message not from the main process $pid: $line"
done <"$NLOG"
log "ok: all $(n_msgs) messages came from the main process"
((first_ready == 1)) || log "note: $((first_ready - 1)) message(s) before READY=1"

pass 'reload failed; nothing was changed' 'unknown key "vlna"'
