#!/usr/bin/env bash
# log-level.sh - the daemon's logging, end to end:
#   log_level = warning in the file keeps info lines out of the log;
#   "tapswitchctl log level" shows the level, "log level LEVEL" changes it
#   at once (info lines appear, then debug lines: MAC aging), and a reload
#   puts back what the file says;
#   with JOURNAL_STREAM naming the daemon's stderr every line carries its
#   sd-daemon(3) priority prefix (<6> info, <3> error), and with a
#   JOURNAL_STREAM that names some other stream the lines stay plain;
#   --syslog writes nothing on stderr and sends the messages to syslog
#   (the daemon runs in a mount namespace of its own whose /dev/log is a
#   socket the test reads).
TEST_TAG=logl
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root jq python3 unshare mount
require_ctl
require_rawframe

new_name IF_A
new_ns NS_A

# conf LEVEL [AGING] - the configuration: one port in NS_A.
CONF=""
conf() {
	CONF=$(write_conf logl <<EOF
[switch]
queues = 1
fdb_aging = ${2:-2}
log_level = $1
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A
EOF
)
}

# The log lines of the daemon's last start (after start_daemon's marker).
last_start_log() {
	awk -v m="--- start $DAEMON_STARTS:" 'index($0, m) == 1 { n = NR }
	    n && NR > n' "$DAEMON_LOG"
}

log_has() {
	last_start_log | grep -qE -- "$1"
}

# learn_and_age - make the switch learn one MAC on port a and wait until
# it has aged out again.
MAC_SEQ=0
learn_and_age() {
	local mac
	MAC_SEQ=$((MAC_SEQ + 1))
	printf -v mac '02:00:5e:00:10:%02x' "$MAC_SEQ"
	rf_send "$NS_A" "$IF_A" ff:ff:ff:ff:ff:ff "$mac"
	wait_until 5 fdb_has "$mac" || fail "$mac was not learned"
	wait_until 10 fdb_lacks "$mac" || fail "$mac did not age out"
}

# shellcheck disable=SC2317 # called through wait_until
fdb_has() {
	ctl fdb show 2>/dev/null | grep -qi "^$1 "
}

# shellcheck disable=SC2317 # called through wait_until
fdb_lacks() {
	! ctl fdb show 2>/dev/null | grep -qi "^$1 "
}

# ---- Levels: the file, then tapswitchctl.
conf warning
start_daemon "$CONF"
log_has 'running:' && fail "an info line was logged at level warning"

out=""
ctl_status 0 log level
[[ $CTL_OUT == "log level: warning" ]] ||
	fail "log level printed \"$CTL_OUT\", want \"log level: warning\""
ctl_json out log level
json_ok "$out" '.level == "warning"' "log level --json"
ctl_json out status
json_ok "$out" '.log_level == "warning"' "status shows the level"

# Info: the change itself is the first info line.
ctl_status 0 log level info
[[ $CTL_OUT == "log level: info (was warning)" ]] ||
	fail "log level info printed \"$CTL_OUT\""
wait_until 2 log_has 'log level changed from warning to info' ||
	fail "no line about the change to info"
learn_and_age
log_has 'aged [0-9]+ MAC' && fail "a debug line was logged at level info"

# Debug: MAC aging says so.
ctl_json out log level debug
json_ok "$out" '.level == "debug" and .previous == "info"' \
    "log level debug --json"
learn_and_age
wait_until 3 log_has 'aged [0-9]+ MAC address' ||
	fail "no debug line about aging at level debug"

# Errors are the daemon's to find; the CLI only counts words.
ctl_status 1 log level loud
[[ $CTL_ERR == *'"loud"'* && $CTL_ERR == *'error, warning, info or debug'* ]] ||
	fail "log level loud: unexpected message: $CTL_ERR"
ctl_status 2 log level info debug
ctl_status 0 log level
[[ $CTL_OUT == "log level: debug" ]] || fail "a failed set changed the level"

# A reload applies the file's level again.
ctl_status 0 reload
ctl_status 0 log level
[[ $CTL_OUT == "log level: warning" ]] ||
	fail "after a reload the level is \"$CTL_OUT\", want the file's warning"
# Quieter: the line comes before the change, so it is still written.
ctl_status 0 log level info
ctl_status 0 log level error
wait_until 2 log_has 'log level changed from info to error' ||
	fail "no line about the change to error"
stop_daemon
log "ok: levels"

# ---- The journal: JOURNAL_STREAM naming stderr itself.
conf info 300
JOURNAL_STREAM=$(stat -c '%d:%i' "$DAEMON_LOG") start_daemon "$CONF"
ctl_status 0 log level debug
# An error of two lines: each gets the prefix.
echo "bogus = 1" >>"$CONF"
ctl_status 1 reload
conf info 300
stop_daemon
last_start_log >"$TMP_DIR/journal.out"
grep -qE '^<6>running: 1 port' "$TMP_DIR/journal.out" ||
	fail "no <6>running line: $(cat "$TMP_DIR/journal.out")"
grep -qE '^<6>log level changed from info to debug$' "$TMP_DIR/journal.out" ||
	fail "no <6> line about the level: $(cat "$TMP_DIR/journal.out")"
grep -qE '^<6>stopped$' "$TMP_DIR/journal.out" ||
	fail "no <6>stopped line: $(cat "$TMP_DIR/journal.out")"
bad=$(grep -vE '^<[0-7]>' "$TMP_DIR/journal.out")
[[ -z $bad ]] || fail "lines without a priority prefix: $bad"
for re in '^<3>reload failed; nothing was changed:$' \
    '^<3>.*logl\.conf:[0-9]+: .*"bogus"'; do
	grep -qE "$re" "$TMP_DIR/journal.out" ||
		fail "no line $re (each line of an error has the prefix): $(cat "$TMP_DIR/journal.out")"
done
bad=$(grep -E '^<[0-4]>' "$TMP_DIR/journal.out" |
    grep -vE 'reload failed|logl\.conf:[0-9]+:')
[[ -z $bad ]] || fail "unexpected warnings or errors in the journal: $bad"
log "ok: journal prefixes"

# Inherited from elsewhere: plain lines.
JOURNAL_STREAM=8:1234 start_daemon "$CONF"
stop_daemon
last_start_log | grep -q '^tapswitchd: running: 1 port' ||
	fail "JOURNAL_STREAM=8:1234: want plain lines: $(last_start_log)"
last_start_log | grep -qE '^<[0-9]>' &&
	fail "JOURNAL_STREAM=8:1234: prefixes on a stream that is not the journal"
log "ok: plain lines when JOURNAL_STREAM names another stream"

# ---- syslog: /dev/log is the test's socket, in a mount namespace of the
# daemon's own.
cat >"$TMP_DIR/syslogd.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
with open(sys.argv[3], "a") as out:
    while True:
        out.write(s.recv(65536).decode("utf-8", "replace") + "\n")
        out.flush()
EOF
timeout 120 python3 "$TMP_DIR/syslogd.py" "$TMP_DIR/log.sock" \
    "$TMP_DIR/syslogd.ready" "$TMP_DIR/syslog.out" &
CLEANUP_PIDS+=("$!")
wait_until 5 test -e "$TMP_DIR/syslogd.ready" || fail "the syslog reader did not start"
cat >"$TMP_DIR/tswd-syslog" <<EOF
#!/bin/sh
# tapswitchd with /dev/log pointing at the test's socket.
exec unshare -m --propagation private sh -c '
	mount -t tmpfs tmpfs /dev &&
	mknod -m 666 /dev/null c 1 3 &&
	ln -s "$TMP_DIR/log.sock" /dev/log &&
	exec "\$0" "\$@"' "$TSWD" "\$@"
EOF
chmod +x "$TMP_DIR/tswd-syslog"
conf info 300
# A port needs /dev/net/tun, which that /dev lacks: no ports here.
sed -i '/^\[port a\]/,$d' "$CONF"
TSWD_REAL=$TSWD
TSWD=$TMP_DIR/tswd-syslog
start_daemon "$CONF" --syslog
TSWD=$TSWD_REAL
ctl_status 0 log level debug
wait_until 5 grep -q 'log level changed from info to debug' \
    "$TMP_DIR/syslog.out" ||
	fail "nothing reached syslog: $(cat "$TMP_DIR/syslog.out")"
stop_daemon
[[ -z $(last_start_log) ]] ||
	fail "--syslog wrote on stderr: $(last_start_log)"
# <30> = facility daemon (3) * 8 + info (6).
grep -qE '^<30>.*tapswitchd\[[0-9]+\]: running: 0 ports' "$TMP_DIR/syslog.out" ||
	fail "no <30>tapswitchd[PID]: running line in syslog: $(cat "$TMP_DIR/syslog.out")"
wait_until 5 grep -q 'tapswitchd\[[0-9]*\]: stopped' "$TMP_DIR/syslog.out" ||
	fail "no stopped line in syslog: $(cat "$TMP_DIR/syslog.out")"
log "ok: --syslog"

pass
