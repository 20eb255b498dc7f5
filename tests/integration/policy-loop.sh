#!/usr/bin/env bash
# policy-loop.sh - a real loop, and loop protection cutting it.  Two
# system ports, l1 and l2, are veths whose far ends a Linux bridge (no
# STP) joins in a namespace of its own; tap ports a and b are two
# namespaces that talk to each other.
#   - loop_protect = no: one broadcast from a goes round for ever, seen
#     thousands of times (counted over one second, then the test breaks
#     the loop by taking a bridge port down); the flaps are counted and
#     logged, nothing is disabled;
#   - a reload turns loop_protect on and the loop is closed again: one
#     broadcast from a, and the switch err-disables l1 or l2 (loop) by
#     itself within a few seconds; the loop stops (the loop ports' counters
#     stand still); a and b ping each other all along (one ping may meet
#     the storm of the moment before the cut) and are never cut;
#   - after loop_holddown (2 s here) the port is tried again, by itself.
TEST_TAG=ploo
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq
require_ctl
require_rawframe

new_ns NS_SW			# the switch's ends of the veths
new_ns NS_BR			# the bridge and the far ends
new_name IF_L1; new_name IF_P1
new_name IF_L2; new_name IF_P2
new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
MAC_A=52:54:00:7c:00:01

for i in 1 2; do
	l=IF_L$i p=IF_P$i
	ip -n "$NS_SW" link add "${!l}" type veth peer name "${!p}" \
	    netns "$NS_BR" || fail "cannot create veth ${!l} / ${!p}"
	ip -n "$NS_SW" link set "${!l}" up || fail "cannot set ${!l} up"
done
ip -n "$NS_BR" link add br0 type bridge stp_state 0 ||
	fail "cannot create a bridge in $NS_BR"
for p in "$IF_P1" "$IF_P2"; do
	ip -n "$NS_BR" link set "$p" master br0 || fail "cannot bridge $p"
	ip -n "$NS_BR" link set "$p" up || fail "cannot set $p up"
done
ip -n "$NS_BR" link set br0 up || fail "cannot set br0 up"

write_main() { # LOOP_PROTECT
	cat >"$TMP_DIR/main.conf" <<EOF
[switch]
control_socket = $CTL_SOCK
loop_protect = $1
loop_holddown = 2

[port l1]
type = system
ifname = $IF_L1
netns = $NS_SW

[port l2]
type = system
ifname = $IF_L2
netns = $NS_SW

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
}

# loop_rx - frames the switch received on the loop ports so far.
loop_rx() {
	ctl --json stats | jq '[.ports[] | select(.name == "l1" or .name == "l2")
	    | .counters.rx_packets] | add'
}
state() { # PORT
	ctl --json port show "$1" | jq -r '.state + " " + (.err_disabled // "-")'
}
# still - the loop ports' counters stand still for half a second.
still() {
	local x
	x=$(loop_rx)
	sleep 0.5
	[[ $(loop_rx) == "$x" ]]
}
bcast() {
	rf_send "$NS_A" "$IF_A" ff:ff:ff:ff:ff:ff "$MAC_A" --count 1
}

write_main no
start_daemon "$TMP_DIR/main.conf"
ip -n "$NS_A" link set "$IF_A" address "$MAC_A" || fail "cannot set $IF_A's MAC"
addr_add "$NS_A" "$IF_A" 10.9.0.1/24
addr_add "$NS_B" "$IF_B" 10.9.0.2/24
wait_until 10 nsx "$NS_A" ping -q -n -c 1 -W 1 10.9.0.2 >/dev/null ||
	fail "a cannot reach b"
wait_until 10 eval '[[ $(state l1) == "up -" && $(state l2) == "up -" ]]' ||
	fail "the loop ports are not up: $(state l1), $(state l2)"

# Without protection: one frame, for ever (bounded: one second).  A
# bridge forwards only once it saw its ports' carrier, some time after
# they came up: until then a broadcast does not come back.
before=$(loop_rx)
looping() {
	bcast
	sleep 0.2
	(($(loop_rx) > before))
}
wait_until 10 looping || fail "broadcasts do not come back: the bridge does not forward"
before=$(loop_rx)
sleep 1
during=$(loop_rx)
ip -n "$NS_BR" link set "$IF_P2" down || fail "cannot break the loop"
wait_until 10 still || fail "the storm did not stop with the loop broken"
log "no protection: one broadcast came back $((during - before)) times in 1 s"
((during - before > 1000)) ||
	fail "one broadcast came back only $((during - before)) times: no loop?"
[[ $(state l1) == "up -" && $(state l2) == "up -" ]] ||
	fail "loop_protect = no, yet a port changed: $(state l1), $(state l2)"
ctl_json J stats
json_ok "$J" '.switch.mac_flaps > 0' "mac_flaps counted"
grep -q "keeps moving between port l[12] and another port: a loop (loop_protect = no" \
    "$DAEMON_LOG" || fail "the loop is not logged"
n_warn=$(grep -c "keeps moving" "$DAEMON_LOG")
((n_warn < 50)) || fail "the loop warning is not rate-limited: $n_warn lines"

# With protection, turned on by a reload: the switch cuts the loop.
write_main yes
ctl_status 0 reload
ip -n "$NS_BR" link set "$IF_P2" up || fail "cannot close the loop again"
wait_until 10 eval '[[ $(state l2) == "up -" ]]' || fail "l2 is not up again"
nsx "$NS_A" timeout 30 ping -n -c 25 -i 0.2 -W 2 10.9.0.2 \
    >"$TMP_DIR/ping.out" 2>&1 &
PING=$!
CLEANUP_PIDS+=("$PING")
# A broadcast every 0.3 s until the bridge forwards again and the loop is
# cut (which takes milliseconds once a frame goes round).
cut_seen() {
	bcast
	sleep 0.3
	[[ "$(state l1)$(state l2)" == *"err-disabled loop"* ]]
}
wait_until 10 cut_seen || fail "the loop was not cut: $(state l1), $(state l2)"
cut=l1
[[ $(state l1) == "err-disabled loop" ]] || cut=l2
log "loop_protect: $cut err-disabled (loop)"
wait_until 10 still || fail "the storm goes on with $cut err-disabled"
wait "$PING" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP_DIR/ping.out")
# A ping may meet the storm of the few milliseconds before the cut in a
# full queue; no more.
((received >= 23)) ||
	fail "a and b lost pings while the loop was cut: $(cat "$TMP_DIR/ping.out")"
[[ $(state a) == "up -" && $(state b) == "up -" ]] ||
	fail "a host port was cut instead of the loop: a $(state a), b $(state b)"
grep -q "port $cut: err-disabled (loop)" "$DAEMON_LOG" ||
	fail "err-disabled (loop) is not logged"
# The hold-down is over after 2 s: tried again, by itself.  (The loop is
# still closed; nothing circulates until the next broadcast.)
wait_until 10 grep -q "port $cut: loop hold-down over" "$DAEMON_LOG" ||
	fail "$cut was not tried again after loop_holddown"
ip -n "$NS_BR" link set "$IF_P2" down || fail "cannot break the loop"
wait_until 10 still || fail "the loop ports do not settle"
# Hosts that answer the storm's copies of their own frames flap too (the
# loop is still reported only on a port of it, above).
pass "keeps moving between port [a-z0-9]+ and another port: a loop" \
    "warning: \([0-9]+ similar messages suppressed\)" \
    "port l[12]: err-disabled \(loop\)"
