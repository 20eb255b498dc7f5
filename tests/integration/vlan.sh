#!/usr/bin/env bash
# vlan.sh - 802.1Q VLANs: ports a and b are access ports of VLAN 10, c of
# VLAN 20, t is a trunk of 10 and 20 without a native VLAN.
#   - a pings b; a cannot ping c, and c captures nothing from a meanwhile
#     (all three share one IPv4 subnet, so only the VLANs keep them apart);
#   - raw broadcasts: from a they reach b untagged and t tagged 10, from c
#     t tagged 20; tagged 20 from t reaches c untagged, tagged 10 reaches
#     a and b; priority-tagged frames on an access port belong to its VLAN;
#   - dropped: tagged frames on an access port, untagged frames on a trunk
#     without native VLAN, and tags of VLANs the trunk does not carry.
TEST_TAG=vlan
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping
require_rawframe

ports=(a b c t)
declare -A IF NS
for p in "${ports[@]}"; do
	new_name "IF[$p]"
	new_ns "NS[$p]"
done

conf=$(write_conf vlan <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = ${IF[a]}
netns = ${NS[a]}
vlan = 10

[port b]
ifname = ${IF[b]}
netns = ${NS[b]}
vlan = 10

[port c]
ifname = ${IF[c]}
netns = ${NS[c]}
vlan = 20

[port t]
ifname = ${IF[t]}
netns = ${NS[t]}
trunk = 10,20
EOF
)
start_daemon "$conf"

addr_add "${NS[a]}" "${IF[a]}" 10.3.0.1/24
addr_add "${NS[b]}" "${IF[b]}" 10.3.0.2/24
addr_add "${NS[c]}" "${IF[c]}" 10.3.0.3/24
MAC_A=$(link_mac "${NS[a]}" "${IF[a]}") || fail "no MAC for ${IF[a]}"

# --- IP: same VLAN works, across VLANs nothing gets through.
wait_until 5 nsx "${NS[a]}" ping -q -n -c 1 -W 1 10.3.0.2 >/dev/null ||
	fail "a cannot reach b (both in VLAN 10)"
ping_ok "${NS[a]}" 10.3.0.2
log "ok: a -> b (VLAN 10)"
rf_recv CAP "${NS[c]}" "${IF[c]}" --timeout 4000 --src "$MAC_A"
ping_fails "${NS[a]}" 10.3.0.3
rc=0
rf_wait "$CAP" || rc=$?
((rc == 1)) || fail "c (VLAN 20) captured frames from a (VLAN 10):
$(rf_out "$CAP")"
log "ok: a -> c (VLAN 10 -> 20) fails, c captured nothing from a"

# --- Raw frames.  Every port captures for the whole round; each kind of
# frame has its own source address, so the checks below can tell them
# apart.
src() {
	printf '02:00:00:71:00:%02x' "$1"
}
BCAST=ff:ff:ff:ff:ff:ff
declare -A R
for p in "${ports[@]}"; do
	rf_recv "R[$p]" "${NS[$p]}" "${IF[$p]}" --timeout 2500 --wait --count 0
done

# send PORT SRC-NUMBER [rawframe send options] - two broadcasts from PORT.
send() {
	local p=$1 n=$2
	shift 2
	rf_send "${NS[$p]}" "${IF[$p]}" "$BCAST" "$(src "$n")" --count 2 "$@"
}
send a 1			# untagged on access 10
send c 2			# untagged on access 20
send t 3 --vlan 20 --len 64	# tagged 20 on the trunk
send t 4 --vlan 10 --len 64	# tagged 10 on the trunk
send a 5 --vlan 10 --len 64	# tagged on an access port: drop
send a 6 --vlan 20 --len 64	# tagged on an access port: drop
send t 7			# untagged on a trunk without native: drop
send t 8 --vlan 30 --len 64	# a VLAN the trunk does not carry: drop
send a 9 --vlan 0:5 --len 64	# priority-tagged on access 10

for p in "${ports[@]}"; do
	rf_wait "${R[$p]}"
done

# expect N PORT COUNT [VLAN LEN] - port got COUNT frames from source N
# (all of them "vlan=VLAN len=LEN" when given).
expect() {
	local n=$1 p=$2 want=$3 s lines got
	s=$(src "$n")
	lines=$(rf_out "${R[$p]}" | grep -F " $s ")
	got=$(grep -c . <<<"$lines")
	if (($# > 3)); then
		got=$(grep -cx "$BCAST $s vlan=$4 len=$5" <<<"$lines")
	fi
	((got == want)) ||
		fail "frames from $s at port $p: want $want${4:+ with vlan=$4 len=$5}, got:
${lines:-(none)}"
}

expect 1 b 2 untagged 60; expect 1 t 2 10 64; expect 1 c 0; expect 1 a 0
log "ok: a's broadcast reaches b untagged and t tagged 10, not c"
expect 2 t 2 20 64; expect 2 a 0; expect 2 b 0; expect 2 c 0
log "ok: c's broadcast reaches t tagged 20 only"
expect 3 c 2 untagged 60; expect 3 a 0; expect 3 b 0; expect 3 t 0
log "ok: VLAN 20 from t reaches c untagged only"
expect 4 a 2 untagged 60; expect 4 b 2 untagged 60; expect 4 c 0
expect 4 t 0
log "ok: VLAN 10 from t reaches a and b untagged only"
for n in 5 6; do
	for p in b c t; do
		expect "$n" "$p" 0
	done
done
log "ok: tagged frames on an access port are dropped"
for n in 7 8; do
	for p in a b c; do
		expect "$n" "$p" 0
	done
done
log "ok: untagged frames and VLAN 30 on the trunk are dropped"
expect 9 b 2 untagged 60; expect 9 t 2 10 64; expect 9 c 0
log "ok: priority-tagged frames on a belong to VLAN 10"

pass
