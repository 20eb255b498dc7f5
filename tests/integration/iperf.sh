#!/usr/bin/env bash
# iperf.sh - bulk TCP through the switch with offload = yes and no, and
# with 1 and 2 queues: a 3-second iperf3 run between two namespaces must
# move at least MIN_MB megabytes.  The TAPs are persistent (the default),
# so from the second run on the daemon attaches to the TAPs of the run
# before, made with other offload and queue settings, and the namespaces
# keep their addresses.  The throughput figures are printed for
# people (no assertion on speed: benchmarks live in bench/).
TEST_TAG=iprf
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping iperf3 jq ss

MIN_MB=10
new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B

# run OFFLOAD QUEUES
run() {
	local offload=$1 queues=$2 conf name json bytes gbits srv rc=0
	name=offload-$offload-q$queues
	conf=$(write_conf "$name" <<EOF
[switch]
queues = $queues
offload = $offload
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)
	start_daemon "$conf"
	if ((DAEMON_STARTS == 1)); then
		addr_add "$NS_A" "$IF_A" 10.5.0.1/24
		addr_add "$NS_B" "$IF_B" 10.5.0.2/24
	else
		ip -n "$NS_A" -4 addr show dev "$IF_A" | grep -qF 10.5.0.1/24 ||
			fail "$name: $IF_A lost its address across the restart"
	fi
	wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.5.0.2 >/dev/null ||
		fail "$name: a cannot reach b"

	# One-off server, bounded in time like everything else.
	nsx "$NS_B" timeout 20 iperf3 -s -1 -B 10.5.0.2 -p 5201 \
	    >"$TMP_DIR/$name.server" 2>&1 &
	srv=$!
	CLEANUP_PIDS+=("$srv")
	wait_until 5 eval "nsx \"\$NS_B\" ss -Hltn 'sport = :5201' | grep -q ." ||
		fail "$name: iperf3 server did not start: $(cat "$TMP_DIR/$name.server")"
	json=$TMP_DIR/$name.json
	nsx "$NS_A" timeout 15 iperf3 -c 10.5.0.2 -p 5201 -t 3 -J >"$json" \
	    2>"$TMP_DIR/$name.client.err" ||
		fail "$name: iperf3 client failed: $(jq -r '.error // empty' "$json" 2>/dev/null) $(cat "$TMP_DIR/$name.client.err")"
	wait "$srv" || rc=$?
	((rc == 0)) || fail "$name: iperf3 server exited with $rc: $(cat "$TMP_DIR/$name.server")"

	bytes=$(jq -e '.end.sum_received.bytes' "$json") ||
		fail "$name: no .end.sum_received.bytes in the iperf3 output"
	gbits=$(jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | floor / 100' "$json")
	log "$name: $((bytes / 1000000)) MB received in 3 s = $gbits Gbit/s" \
	    "(retransmits: $(jq -r '.end.sum_sent.retransmits // "?"' "$json"))"
	((bytes > MIN_MB * 1000000)) ||
		fail "$name: only $bytes bytes received, want more than $MIN_MB MB"
	stop_daemon
}

run yes 1
run no 1
run yes 2
run no 2

pass
