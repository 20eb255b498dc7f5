#!/usr/bin/env bash
# link-events.sh - other programs change the daemon's TAPs under it: one
# is deleted, one is set down (and later up again), one is moved to
# another namespace.  The daemon stays alive, the untouched ports keep
# forwarding, the port set down forwards again once it is up, the daemon
# still exits 0 on SIGTERM and, the ports having persist = no, the moved
# TAP disappears with it.  The log may hold warnings about the three
# ports, and nothing else.
TEST_TAG=lnkv
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping
require_rawframe

ports=(gone down moved u1 u2)
declare -A IF NS
for p in "${ports[@]}"; do
	new_name "IF[$p]"
	new_ns "NS[$p]"
done
new_ns NS_OTHER			# where "moved" goes

conf=$(write_conf lnkv <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
$(for p in "${ports[@]}"; do
	printf '\n[port %s]\nifname = %s\nnetns = %s\npersist = no\n' \
	    "$p" "${IF[$p]}" "${NS[$p]}"
done)
EOF
)
start_daemon "$conf"
addr_add "${NS[u1]}" "${IF[u1]}" 10.6.0.1/24
addr_add "${NS[u2]}" "${IF[u2]}" 10.6.0.2/24
addr_add "${NS[down]}" "${IF[down]}" 10.6.0.3/24
addr_add "${NS[moved]}" "${IF[moved]}" 10.6.0.4/24
wait_until 5 nsx "${NS[u1]}" ping -q -n -c 1 -W 1 10.6.0.2 >/dev/null ||
	fail "u1 cannot reach u2"
for a in 10.6.0.3 10.6.0.4; do
	ping_ok "${NS[u1]}" "$a"
done
log "ok: forwarding before the changes"

ip netns exec "${NS[gone]}" ip link del dev "${IF[gone]}" ||
	fail "cannot delete ${IF[gone]}"
ip -n "${NS[down]}" link set dev "${IF[down]}" down ||
	fail "cannot set ${IF[down]} down"
ip -n "${NS[moved]}" link set dev "${IF[moved]}" netns "$NS_OTHER" ||
	fail "cannot move ${IF[moved]}"
log "deleted ${IF[gone]}, set ${IF[down]} down, moved ${IF[moved]} to $NS_OTHER"

# Floods now also go towards the three changed ports; the untouched ones
# must not notice.  Give the daemon a moment to see the events (it says
# so in its log; the checks below do not depend on it).
wait_until 2 eval "grep -q 'interface ${IF[gone]} left' '$DAEMON_LOG' &&
    grep -q 'interface ${IF[moved]} left' '$DAEMON_LOG'" || true
daemon_alive || fail "tapswitchd died after the link changes"
ping_ok "${NS[u1]}" 10.6.0.2
ping_ok "${NS[u2]}" 10.6.0.1
SRC=02:00:00:1e:00:01
rf_recv R "${NS[u2]}" "${IF[u2]}" --timeout 3000 --src "$SRC" --count 20
rf_send "${NS[u1]}" "${IF[u1]}" ff:ff:ff:ff:ff:ff "$SRC" --count 20
rf_wait "$R" || fail "u2 got $(rf_out "$R" | wc -l) of 20 broadcasts from u1"
nsx "${NS[u1]}" timeout 10 ping -q -n -c 50 -i 0.01 -W 1 10.6.0.2 \
    >"$TMP_DIR/ping.out" 2>&1 ||
	fail "50 pings u1 -> u2 failed: $(cat "$TMP_DIR/ping.out")"
daemon_alive || fail "tapswitchd died"
log "ok: u1 <-> u2 still forward (pings, 20 broadcasts)"

# The port that was set down works again once it is up.
ip -n "${NS[down]}" link set dev "${IF[down]}" up ||
	fail "cannot set ${IF[down]} up"
wait_until 5 nsx "${NS[u1]}" ping -q -n -c 1 -W 1 10.6.0.3 >/dev/null ||
	fail "u1 cannot reach port down after it came back up"
ping_ok "${NS[down]}" 10.6.0.1
log "ok: port down forwards again after link up"

stop_daemon
log "ok: exit status 0 after SIGTERM ($STOP_ELAPSED_MS ms)"
! link_exists "$NS_OTHER" "${IF[moved]}" ||
	fail "the moved TAP ${IF[moved]} is left in $NS_OTHER"
for p in "${ports[@]}"; do
	! link_exists "${NS[$p]}" "${IF[$p]}" ||
		fail "${IF[$p]} is left in ${NS[$p]}"
done
log "ok: no TAP left, the moved one included"

pass '^tapswitchd: warning: port (gone|down|moved)[: ]'
