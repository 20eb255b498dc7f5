#!/usr/bin/env bash
# dgram-peer.sh - a dgram port with queues = 2 and a peer that is not
# QEMU (unixpeer.py), next to a tap port in a namespace:
#
#  - a stale socket file at the port's path (a run that was killed) is
#    replaced; the file gets the group and mode of the configuration;
#    a path that holds another file, or a socket in use, is refused with
#    a message, and nothing else changes;
#  - datagrams that are no frame (0, 5, 1600 and 70000 bytes) are dropped
#    and counted, and the next good frames reach the namespace;
#  - frames of 16 flows from the namespace, which the TAP spreads over
#    both queues, all reach the peer, sent by both workers;
#  - a peer that restarts (binds its path anew) is reached again; frames
#    for a peer that is away count tx_down; a peer that reads nothing
#    makes tx_full, and the other port is not disturbed.
TEST_TAG=dgpr
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_rawframe

PEER=$TSW_SRCDIR/tests/integration/unixpeer.py
new_name IF
new_ns NS
SOCK=$TMP_DIR/sw.sock
VM=$TMP_DIR/vm.sock
VMMAC=02:00:00:00:77:01

# A socket file left behind by a process that is gone.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$SOCK"
[[ -S $SOCK ]] || fail "cannot make a stale socket file"

conf=$(write_conf dgpr <<EOF
[switch]
queues = 2
offload = yes
control_socket = $CTL_SOCK

[port ns]
ifname = $IF
netns = $NS

[port vm]
type = dgram
path = $SOCK
remote = $VM
group = nogroup
mode = 0640
EOF
)
start_daemon "$conf"
addr_add "$NS" "$IF" 10.78.0.1/24
[[ $(stat -c '%a %G %F' "$SOCK") == "640 nogroup socket" ]] ||
	fail "$SOCK: $(stat -c '%a %G %F' "$SOCK"), want a socket, 640, group nogroup"
log "ok: a stale socket file was replaced; group and mode applied"

# Paths that cannot be the port's: a plain file, a socket in use.
: >"$TMP_DIR/plain"
ctl_status 1 port add bad1 type=dgram path="$TMP_DIR/plain" remote="$VM"
[[ $CTL_ERR == *"not a socket"* ]] || fail "port add on a plain file: $CTL_ERR"
ctl_status 1 port add bad2 type=dgram path="$SOCK" remote="$VM"
[[ $CTL_ERR == *"uses the socket"* || $CTL_ERR == *"like [port vm]"* ]] ||
	fail "port add on the socket in use: $CTL_ERR"
ctl_status 1 port add bad3 type=dgram path="$CTL_SOCK" remote="$VM"
[[ $CTL_ERR == *"another program uses the socket"* ]] ||
	fail "port add on the control socket: $CTL_ERR"
[[ -f $TMP_DIR/plain && -S $CTL_SOCK ]] || fail "a refused port add removed a file"
log "ok: a plain file and sockets in use are refused, and left alone"

# Bad datagrams, then 5 good frames: those reach the namespace.
rf_recv R "$NS" "$IF" --timeout 10000 --count 5 --src "$VMMAC"
timeout 20 python3 "$PEER" dgram "$VM" "$SOCK" bad send "$VMMAC" 5 ||
	fail "unixpeer failed"
rf_wait "$R" || fail "the peer's frames did not reach the namespace: $(rf_out "$R")"
ctl_json J port show vm
jq -e '.counters.rx_runt == 2 and .counters.rx_oversize == 2 and
    .counters.rx_errors == 4 and .counters.rx_packets == 9' <<<"$J" >/dev/null ||
	fail "bad datagrams not counted as they should: $(jq -c .counters <<<"$J")"
log "ok: 0, 5, 1600 and 70000-byte datagrams dropped and counted; the port carries on"

# 16 flows x 4 frames from the namespace: both queues, all to the peer.
# Paced: a Unix datagram socket queues net.unix.max_dgram_qlen
# datagrams (10 by default), and the peer is a Python loop, which a
# loaded machine may still leave behind: what it did not get must have
# been counted tx_full (nothing is lost silently).
tx_full() {
	ctl_json J port show vm
	jq .counters.tx_full <<<"$J"
}
# check_got WHAT FULL0: the peer's "got N" plus the tx_full since FULL0
# is all 64, and most arrived.
check_got() {
	local got full
	got=$(sed -n 's/^got //p' "$TMP_DIR/peer.out")
	full=$(tx_full)
	[[ -n $got ]] && ((got + full - $2 == 64 && got >= 32)) ||
		fail "$1: the peer got ${got:-nothing} of 64 frames, tx_full $(($full - $2))"
}
send_flows() {
	nsx "$NS" timeout 20 python3 -c '
import socket, time
for port in range(40000, 40016):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("10.78.0.1", port))
    for i in range(4):
        s.sendto(b"x" * 64, ("10.78.0.255", 9))
        time.sleep(0.003)
'
}
full0=$(tx_full)
timeout 30 python3 "$PEER" dgram "$VM" "$SOCK" recv 64 8 >"$TMP_DIR/peer.out" &
PPID_RECV=$!
CLEANUP_PIDS+=("$PPID_RECV")
sleep 0.5
send_flows || fail "cannot send from the namespace"
wait "$PPID_RECV" || fail "unixpeer recv failed"
check_got "16 flows" "$full0"
ctl_json J stats vm --queues
jq -e '[.ports[] | select(.name == "vm") | .queues[] | .counters.tx_packets > 0] | all and length == 2' \
    <<<"$J" >/dev/null ||
	fail "not both workers sent to the port: $(jq -c '.ports[] | select(.name == "vm") | .queues' <<<"$J")"
log "ok: 64 frames of 16 flows reached the peer (or were counted), from both workers"

# The peer restarted (it binds again, replacing its own file): reached.
full0=$(tx_full)
timeout 30 python3 "$PEER" dgram "$VM" "$SOCK" recv 64 8 >"$TMP_DIR/peer.out" &
PPID_RECV=$!
CLEANUP_PIDS+=("$PPID_RECV")
sleep 0.5
send_flows
wait "$PPID_RECV"
check_got "a restarted peer" "$full0"
log "ok: a peer that restarted is reached again"

# Away: its file is there but nobody reads (refused), then gone.
ctl_json J port show vm
down0=$(jq .counters.tx_down <<<"$J")
send_flows
rm -f "$VM"
send_flows
# The counters of port vm match the jq filter $1 (with $d = down0).
vm_counters() {
	ctl_json J port show vm
	jq -e --argjson d "$down0" "$1" <<<"$J" >/dev/null
}
wait_until 10 vm_counters '.counters.tx_down == $d + 128' ||
	fail "frames for an absent peer: $(jq -c .counters <<<"$J"), tx_down was $down0"
vm_counters '.counters.tx_errors == 0 and .state == "up"' ||
	fail "port vm: $(jq -c . <<<"$J")"
log "ok: frames for a peer that is away count tx_down"

# A peer that reads nothing: its queue fills, tx_full; ns unharmed.
timeout 30 python3 "$PEER" dgram "$VM" "$SOCK" hold 8 >"$TMP_DIR/hold.out" &
CLEANUP_PIDS+=("$!")
wait_until 5 grep -q holding "$TMP_DIR/hold.out" || fail "unixpeer hold did not start"
rf_send "$NS" "$IF" ff:ff:ff:ff:ff:ff 02:00:00:00:78:01 --count 3000
wait_until 10 vm_counters '.counters.tx_full > 0' ||
	fail "a stuck peer made no tx_full: $(jq -c .counters <<<"$J")"
vm_counters '.counters.tx_errors == 0' ||
	fail "a stuck peer made tx_errors: $(jq -c .counters <<<"$J")"
rf_recv R "$NS" "$IF" --timeout 10000 --count 3 --src "$VMMAC"
timeout 20 python3 "$PEER" dgram "$TMP_DIR/vm2.sock" "$SOCK" send "$VMMAC" 3 ||
	fail "unixpeer failed"
rf_wait "$R" || fail "after a stuck peer, frames no longer reach the namespace"
log "ok: a stuck peer counts tx_full; the switch carries on"

pass
