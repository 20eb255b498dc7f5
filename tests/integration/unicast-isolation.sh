#!/usr/bin/env bash
# unicast-isolation.sh - once the switch has learned A and B, unicast
# between them goes to its port only: a third port C, which does see what
# A floods (checked first, with an unknown-unicast frame), captures none
# of 50 pings from A to B nor their replies, and its receive counter does
# not move.
TEST_TAG=ucst
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping
require_rawframe

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_C; new_ns NS_C
UNKNOWN=02:00:5e:10:00:99	# owned by nobody

conf=$(write_conf ucst <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B

[port c]
ifname = $IF_C
netns = $NS_C
EOF
)
start_daemon "$conf"

addr_add "$NS_A" "$IF_A" 10.2.0.1/24
addr_add "$NS_B" "$IF_B" 10.2.0.2/24
MAC_A=$(link_mac "$NS_A" "$IF_A") || fail "no MAC for $IF_A"
MAC_B=$(link_mac "$NS_B" "$IF_B") || fail "no MAC for $IF_B"

# Learning: A's ARP request and B's reply teach the switch both ports.
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.2.0.2 >/dev/null ||
	fail "A cannot reach B"

# Control: C does receive what A floods (unknown unicast), so the
# captures below would see A's frames if the switch flooded them.
rf_recv R0 "$NS_C" "$IF_C" --timeout 3000 --src "$MAC_A" --dst "$UNKNOWN"
rf_send "$NS_A" "$IF_A" "$UNKNOWN" "$MAC_A"
rf_wait "$R0" || fail "C did not receive A's unknown-unicast frame"
log "ok: unknown unicast from A is flooded to C"

rx_before=$(link_stat "$NS_C" "$IF_C" rx_packets)
rf_recv R1 "$NS_C" "$IF_C" --timeout 2500 --src "$MAC_A" --dst "$MAC_B"
rf_recv R2 "$NS_C" "$IF_C" --timeout 2500 --src "$MAC_B" --dst "$MAC_A"
nsx "$NS_A" timeout 10 ping -q -n -c 50 -i 0.01 -W 1 10.2.0.2 \
    >"$TMP_DIR/ping.out" 2>&1 ||
	fail "ping A -> B failed: $(cat "$TMP_DIR/ping.out")"
grep -q ' 0% packet loss' "$TMP_DIR/ping.out" ||
	log "note: $(grep 'packet loss' "$TMP_DIR/ping.out")"
rc1=0 rc2=0
rf_wait "$R1" || rc1=$?
rf_wait "$R2" || rc2=$?
rx_after=$(link_stat "$NS_C" "$IF_C" rx_packets)

((rc1 == 1)) || fail "C captured unicast from A to B:
$(rf_out "$R1")"
((rc2 == 1)) || fail "C captured unicast from B to A:
$(rf_out "$R2")"
# Nothing else is sent in these namespaces (IPv6 is off); allow an ARP
# broadcast or two.
((rx_after - rx_before <= 2)) ||
	fail "C received $((rx_after - rx_before)) frames during the A-B flow"
log "ok: 50 pings A -> B, C captured none (rx_packets +$((rx_after - rx_before)))"

pass
