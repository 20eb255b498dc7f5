#!/usr/bin/env bash
# system-uplink.sh - a "system" port as the uplink: one end of a veth pair
# (in a namespace of its own, named by netns =) is a port of the switch,
# the other end is the "upstream" with 10.70.0.100; tap ports a and b are
# two namespaces behind the switch.  Run with offload = yes and no, and
# with 1 and 2 queues (restarting the daemon; the TAPs are persistent):
#   - port show: type "system", up, no reason, the veth's ifname, ifindex,
#     namespace and MTU, the configured queues; one AF_PACKET socket per
#     queue on the veth; the tap ports say type "tap";
#   - a and b ping the upstream and the upstream pings them;
#   - the MAC table has the upstream MAC on the system port, a's and b's
#     on their tap ports, and nothing ever moved (the switch does not
#     receive again what it sent on the veth);
#   - iperf3 TCP both ways between a and the upstream: 2-second runs
#     that must move at least MIN_MB megabytes each (a floor far below
#     any working path: the figures are not timed); with offload = yes
#     TSO super-frames cross the system port unsegmented both ways
#     (average frame > 1514 bytes);
#   - no frame was dropped as oversize or failed to be sent; with
#     offload = no the upstream's super-frames and partial checksums were
#     finished in software (rx_sw_gso, rx_sw_csum), with yes passed on;
#   - the daemon leaves the veth as it found it: there, up, same MTU.
# The figures are printed for people; nothing is timed.
TEST_TAG=supl
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping iperf3 jq ss
require_ctl

UP_ADDR=10.70.0.100
IPERF_SECONDS=2
MIN_MB=10
new_name IF_S; new_ns NS_S	# the system port's end of the veth
new_name IF_U; new_ns NS_U	# the upstream end
new_name IF_A; new_ns NS_A	# tap port a, 10.70.0.1
new_name IF_B; new_ns NS_B	# tap port b, 10.70.0.2

ip -n "$NS_S" link add "$IF_S" type veth peer name "$IF_U" netns "$NS_U" ||
	fail "cannot create the veth pair $IF_S / $IF_U"
# The daemon never sets a system interface up: that is the test's job.
ip -n "$NS_S" link set "$IF_S" up || fail "cannot set $IF_S up"
ip -n "$NS_U" link set "$IF_U" up || fail "cannot set $IF_U up"
addr_add "$NS_U" "$IF_U" "$UP_ADDR/24"
MAC_U=$(link_mac "$NS_U" "$IF_U") || fail "no MAC for $IF_U"
IFINDEX_S=$(nsx "$NS_S" cat "/sys/class/net/$IF_S/ifindex") ||
	fail "no ifindex for $IF_S"

# packet_sockets NS IFINDEX - how many AF_PACKET sockets in NS are bound
# to the interface IFINDEX.
packet_sockets() {
	nsx "$1" cat /proc/net/packet |
	    awk -v i="$2" 'NR > 1 && $5 == i { n++ } END { print n + 0 }'
}

# counter JSON NAME - a counter of a "port show" answer.
counter() {
	json_get "$1" ".counters.$2"
}

# drops - the non-zero drop counters of every port, for failure messages.
drops() {
	ctl --json stats 2>/dev/null | jq -c '[.ports[] | {(.name): (.counters |
	    with_entries(select(.value > 0 and (.key | test("^(rx|tx)_(packets|bytes)$") | not))))}] | add'
}

# iperf NAME [-R] - a short TCP run between a (client) and the
# upstream (server); -R: the upstream sends.  Sets IPERF_AVG to the
# average frame size, in bytes, that the system port sent (a -> upstream)
# or received (-R) meanwhile.
IPERF_AVG=0
iperf() {
	local name=$1 json srv rc=0 bytes p0 p1 dir=tx what="a -> upstream"
	shift
	if [[ ${1:-} == -R ]]; then
		dir=rx
		what="upstream -> a"
	fi
	nsx "$NS_U" timeout 40 iperf3 -s -1 -B "$UP_ADDR" -p 5201 \
	    >"$TMP_DIR/$name.server" 2>&1 &
	srv=$!
	CLEANUP_PIDS+=("$srv")
	wait_until 5 eval "nsx \"\$NS_U\" ss -Hltn 'sport = :5201' | grep -q ." ||
		fail "$name: iperf3 server did not start: $(cat "$TMP_DIR/$name.server")"
	ctl_json p0 port show uplink
	json=$TMP_DIR/$name.json
	nsx "$NS_A" timeout 30 iperf3 -c "$UP_ADDR" -p 5201 -t "$IPERF_SECONDS" \
	    --connect-timeout 5000 \
	    -J "$@" >"$json" 2>"$TMP_DIR/$name.client.err" || rc=$?
	# With -J, iperf3 may exit 0 and say what went wrong in .error.
	if ((rc != 0)) || ! jq -e '.error == null' "$json" >/dev/null 2>&1; then
		fail "$name: iperf3 $what did not complete (status $rc): $(jq -r '.error // empty' "$json" 2>/dev/null) $(cat "$TMP_DIR/$name.client.err"); drops: $(drops)"
	fi
	wait "$srv" || rc=$?
	((rc == 0)) || fail "$name: iperf3 server exited with $rc: $(cat "$TMP_DIR/$name.server")"
	ctl_json p1 port show uplink
	bytes=$(jq -e '.end.sum_received.bytes' "$json") ||
		fail "$name: no .end.sum_received.bytes in the iperf3 output"
	((bytes > MIN_MB * 1000000)) ||
		fail "$name: $what: only $bytes bytes received, want more than $MIN_MB MB; drops: $(drops)"
	IPERF_AVG=$((($(counter "$p1" "${dir}_bytes") - $(counter "$p0" "${dir}_bytes")) /
	    ($(counter "$p1" "${dir}_packets") - $(counter "$p0" "${dir}_packets") + 1)))
	log "$name: $what: $((bytes / 1000000)) MB at" \
	    "$(jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | floor / 100' "$json")" \
	    "Gbit/s, the system port's average $dir frame $IPERF_AVG bytes"
}

# run OFFLOAD QUEUES
run() {
	local offload=$1 queues=$2 conf name J F S n p
	name=offload-$offload-q$queues
	conf=$(write_conf "$name" <<EOF
[switch]
queues = $queues
offload = $offload
control_socket = $CTL_SOCK

[port uplink]
type = system
ifname = $IF_S
netns = $NS_S

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
		addr_add "$NS_A" "$IF_A" 10.70.0.1/24
		addr_add "$NS_B" "$IF_B" 10.70.0.2/24
		MAC_A=$(link_mac "$NS_A" "$IF_A") || fail "no MAC for $IF_A"
		MAC_B=$(link_mac "$NS_B" "$IF_B") || fail "no MAC for $IF_B"
	fi

	ctl_json J port show uplink
	json_ok "$J" ".name == \"uplink\" and .type == \"system\" and
	    .state == \"up\" and .reason == null and .ifname == \"$IF_S\" and
	    .netns == \"$NS_S\" and .ifindex == $IFINDEX_S and .mtu == 1500 and
	    .queues == $queues" "$name: port show uplink"
	ctl_json J port show a
	json_ok "$J" '.type == "tap" and .state == "up" and .reason == null' \
	    "$name: port show a"
	ctl_status 0 port list
	grep -qE '(^| )TYPE( |$)' <<<"$CTL_OUT" ||
		fail "$name: port list (table): no TYPE column in:
$CTL_OUT"
	grep -qE "^uplink .* system( |$)" <<<"$CTL_OUT" ||
		fail "$name: port list (table): no type system for uplink in:
$CTL_OUT"
	grep -qE "^a .* tap( |$)" <<<"$CTL_OUT" ||
		fail "$name: port list (table): no type tap for a in:
$CTL_OUT"
	n=$(packet_sockets "$NS_S" "$IFINDEX_S")
	((n == queues)) ||
		fail "$name: $n AF_PACKET sockets on $IF_S, want one per queue ($queues)"

	for p in "$NS_A" "$NS_B"; do
		wait_until 5 nsx "$p" ping -q -n -c 1 -W 1 "$UP_ADDR" >/dev/null ||
			fail "$name: $p cannot reach the upstream"
		ping_ok "$p" "$UP_ADDR"
	done
	ping_ok "$NS_U" 10.70.0.1
	ping_ok "$NS_U" 10.70.0.2
	log "ok: $name: a and b <-> upstream through the system port"

	ctl_json F fdb show
	json_ok "$F" "any(.entries[]; .mac == \"$MAC_U\" and .port == \"uplink\"
	    and .vlan == 1 and .static == false)" \
	    "$name: fdb show: the upstream MAC $MAC_U learned on uplink"
	json_ok "$F" "any(.entries[]; .mac == \"$MAC_A\" and .port == \"a\") and
	    any(.entries[]; .mac == \"$MAC_B\" and .port == \"b\")" \
	    "$name: fdb show: a's and b's MACs on their ports"

	iperf "$name-tx"
	[[ $offload == no ]] || ((IPERF_AVG > 1514)) ||
		fail "$name: TCP a -> upstream left the system port in frames of $IPERF_AVG bytes on average: no TSO super-frames with offload = yes"
	iperf "$name-rx" -R
	[[ $offload == no ]] || ((IPERF_AVG > 1514)) ||
		fail "$name: TCP upstream -> a came in on the system port in frames of $IPERF_AVG bytes on average: no TSO super-frames with offload = yes"
	log "ok: $name: iperf3 both ways"

	ctl_json S stats
	json_ok "$S" '.switch.moved == 0' \
	    "$name: no MAC moved (the switch got back what it sent?)"
	json_ok "$S" 'all(.ports[]; .counters.rx_errors == 0 and
	    .counters.tx_errors == 0 and .counters.tx_oversize == 0 and
	    .counters.tx_down == 0 and .counters.rx_bad_offload == 0)' \
	    "$name: no frame dropped as malformed, oversize or unsendable"
	# The upstream's stack hands its TCP to the veth as super-frames
	# with partial checksums: with offload = no the switch finishes
	# them itself, with offload = yes it passes them on as they are.
	if [[ $offload == no ]]; then
		json_ok "$S" '.ports[] | select(.name == "uplink") |
		    .counters.rx_sw_gso > 0 and .counters.rx_sw_csum > 0' \
		    "$name: super-frames and partial checksums from the upstream finished in software"
	else
		json_ok "$S" 'all(.ports[]; .counters.rx_sw_gso == 0 and
		    .counters.rx_sw_csum == 0)' \
		    "$name: nothing finished in software with offload = yes"
	fi
	ctl_json F fdb show
	json_ok "$F" "[.entries[] | select(.mac == \"$MAC_U\" or
	    .mac == \"$MAC_A\") | .port] | sort == [\"a\", \"uplink\"]" \
	    "$name: after the bulk traffic, the upstream MAC is still on uplink and a's on a"
	stop_daemon

	link_exists "$NS_S" "$IF_S" || fail "$name: $IF_S is gone after the stop"
	link_is_up "$NS_S" "$IF_S" || fail "$name: $IF_S is down after the stop"
	[[ $(link_mtu "$NS_S" "$IF_S") == 1500 ]] ||
		fail "$name: $IF_S has MTU $(link_mtu "$NS_S" "$IF_S") after the stop"
	[[ $(nsx "$NS_S" cat "/sys/class/net/$IF_S/ifindex") == "$IFINDEX_S" ]] ||
		fail "$name: $IF_S was re-created"
	log "ok: $name: $IF_S left as it was"
}

run yes 1
run yes 2
run no 2
run no 1

pass
