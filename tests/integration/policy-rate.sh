#!/usr/bin/env bash
# policy-rate.sh - rate limits and storm control under real traffic.
# iperf3 TCP from namespace A to B for 3 s, with (1) rate_limit = 200M on
# a (ingress policing) and (2) egress_rate_limit = 200M on b instead, set
# by a reload of the running switch; then the same with queues = 2 and 4
# parallel streams, which spread over both queues: the limit holds for
# the port as a whole.  Each time the rate iperf3 measured must be within
# 0.7-1.1x the limit (a ratio of two figures of one run, not a timing),
# and the policer must have dropped something (rx_policed / tx_policed).
# Then storm control: port s has storm_limit = 100 and floods a bounded
# number of broadcasts for about 2 s; b receives about 100 a second, the
# rest is counted as rx_storm, and a and b keep talking unicast.
TEST_TAG=prat
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping iperf3 jq ss
require_ctl
require_rawframe

LIMIT=200000000
new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_S; new_ns NS_S
MAC_S=52:54:00:7b:00:05

write_main() { # QUEUES A-KEYS B-KEYS
	cat >"$TMP_DIR/main.conf" <<EOF
[switch]
queues = $1
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A
$2

[port b]
ifname = $IF_B
netns = $NS_B
$3

[port s]
ifname = $IF_S
netns = $NS_S
storm_limit = 100
EOF
}

counter() { # PORT NAME
	local j
	j=$(ctl --json port show "$1") || return 1
	jq -r ".counters.$2" <<<"$j"
}

# measure NAME STREAMS PORT COUNTER - an iperf3 run A -> B; checks the
# ratio of its rate to LIMIT and that PORT's COUNTER grew.
measure() {
	local name=$1 streams=$2 port=$3 ctr=$4 srv rc=0 json bps ratio before
	before=$(counter "$port" "$ctr")
	nsx "$NS_B" timeout 20 iperf3 -s -1 -B 10.8.0.2 -p 5201 \
	    >"$TMP_DIR/$name.server" 2>&1 &
	srv=$!
	CLEANUP_PIDS+=("$srv")
	wait_until 5 eval "nsx \"\$NS_B\" ss -Hltn 'sport = :5201' | grep -q ." ||
		fail "$name: iperf3 server did not start"
	json=$TMP_DIR/$name.json
	nsx "$NS_A" timeout 15 iperf3 -c 10.8.0.2 -p 5201 -t 3 -P "$streams" \
	    -J >"$json" 2>"$TMP_DIR/$name.client.err" ||
		fail "$name: iperf3 client failed: $(jq -r '.error // empty' "$json" 2>/dev/null) $(cat "$TMP_DIR/$name.client.err")"
	wait "$srv" || rc=$?
	((rc == 0)) || fail "$name: iperf3 server exited with $rc"
	bps=$(jq -e '.end.sum_received.bits_per_second' "$json") ||
		fail "$name: no result in the iperf3 output"
	ratio=$(jq -n "$bps / $LIMIT * 1000 | floor / 1000")
	log "$name: $(jq -n "$bps / 1e6 | floor") Mbit/s through a limit of" \
	    "$((LIMIT / 1000000)) Mbit/s: ratio $ratio" \
	    "($ctr +$(($(counter "$port" "$ctr") - before)))"
	jq -en "$ratio >= 0.7 and $ratio <= 1.1" >/dev/null ||
		fail "$name: ratio $ratio to the limit is outside 0.7-1.1"
	(($(counter "$port" "$ctr") > before)) ||
		fail "$name: $port's $ctr did not grow: the limit did not bite"
}

run() { # QUEUES STREAMS
	local q=$1 p=$2
	write_main "$q" "rate_limit = 200M" ""
	start_daemon "$TMP_DIR/main.conf"
	if ((DAEMON_STARTS == 1)); then
		addr_add "$NS_A" "$IF_A" 10.8.0.1/24
		addr_add "$NS_B" "$IF_B" 10.8.0.2/24
		addr_add "$NS_S" "$IF_S" 10.8.0.5/24
	fi
	wait_until 10 nsx "$NS_A" ping -q -n -c 1 -W 1 10.8.0.2 >/dev/null ||
		fail "a cannot reach b"
	measure "ingress-q$q" "$p" a rx_policed
	write_main "$q" "" "egress_rate_limit = 200M"
	ctl_status 0 reload
	measure "egress-q$q" "$p" b tx_policed
}

run 1 1

# Storm control, on the switch of the first run.
ip -n "$NS_S" link set "$IF_S" address "$MAC_S" || fail "cannot set $IF_S's MAC"
SENT=1500
rf_recv CAP "$NS_B" "$IF_B" --timeout 6000 --wait --src "$MAC_S" --count $SENT
start=$(now_us)
nsx "$NS_A" timeout 20 ping -q -n -c 10 -i 0.2 -W 1 10.8.0.2 \
    >"$TMP_DIR/ping-storm.out" 2>&1 &
PING=$!
CLEANUP_PIDS+=("$PING")
rf_send "$NS_S" "$IF_S" ff:ff:ff:ff:ff:ff "$MAC_S" --count $SENT --interval 1
elapsed_ms=$((($(now_us) - start) / 1000))
wait "$PING" || fail "unicast between a and b failed during the storm: $(cat "$TMP_DIR/ping-storm.out")"
rf_wait "$CAP" || true
got=$(rf_out "$CAP" | wc -l)
storm=$(counter s rx_storm)
log "storm: $SENT broadcasts in $elapsed_ms ms from s (storm_limit = 100):" \
    "$got reached b, rx_storm $storm"
((got + storm == SENT)) || fail "storm: $got forwarded + $storm dropped != $SENT sent"
# About 100 a second: at most the burst (10) over what the time allows,
# at least half of it.
((got <= 100 * (elapsed_ms + 1000) / 1000 + 10)) ||
	fail "storm: $got broadcasts in $elapsed_ms ms is over storm_limit = 100"
((got >= 100 * elapsed_ms / 1000 / 2)) ||
	fail "storm: only $got broadcasts passed in $elapsed_ms ms"
stop_daemon

run 2 4
pass
