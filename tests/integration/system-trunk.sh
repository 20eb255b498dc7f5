#!/usr/bin/env bash
# system-trunk.sh - "system" ports as 802.1Q trunks: port t (trunk =
# 10,20, no native VLAN) and port n (trunk = 10,20, native = 20) are each
# one end of a veth pair, whose other ends p and q (in another namespace)
# send and capture raw frames; tap ports a and b are access ports of
# VLAN 10, c of VLAN 20.  The kernel hands a received tag to packet
# sockets out of band, so the ports must put it back.
#   - tagged 10 from p reaches a and b untagged and q tagged, tagged 20
#     reaches c untagged and q untagged (its native VLAN), each nowhere
#     else; a full-size tagged frame (1518 bytes) arrives whole (1514
#     untagged);
#   - a's broadcasts reach p and q tagged 10, c's p tagged 20 and q
#     untagged; a full-size frame from a (1514) reaches p as 1518 tagged;
#   - tagged 10 from q reaches a and b, not c: a tag is not mistaken for
#     the native VLAN; untagged and tagged 20 from q reach c and p (20);
#   - tagged 30 and untagged frames from p, and tagged 30 from q, are
#     dropped, each counted in the port's rx_vlan;
#   - the sources from p are learned on t in their VLANs, and a unicast
#     from a to one of them reaches p tagged 10 and is not flooded to b.
TEST_TAG=strk
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root jq
require_ctl
require_rawframe

new_ns NS_S			# where t's and n's ends of the veths are
new_ns NS_P			# the far ends: raw frames in and out
new_name IF_S; new_name IF_P	# port t's end, its far end p
new_name IF_N; new_name IF_Q	# port n's end, its far end q
ports=(a b c)
declare -A IF NS
for x in "${ports[@]}"; do
	new_name "IF[$x]"
	new_ns "NS[$x]"
done

for l in "$IF_S:$IF_P" "$IF_N:$IF_Q"; do
	IFS=: read -r here there <<<"$l"
	ip -n "$NS_S" link add "$here" type veth peer name "$there" \
	    netns "$NS_P" || fail "cannot create the veth pair $here / $there"
	ip -n "$NS_S" link set "$here" up || fail "cannot set $here up"
	ip -n "$NS_P" link set "$there" up || fail "cannot set $there up"
done

conf=$(write_conf strk <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port t]
type = system
ifname = $IF_S
netns = $NS_S
trunk = 10,20

[port n]
type = system
ifname = $IF_N
netns = $NS_S
trunk = 10,20
native = 20

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
EOF
)
start_daemon "$conf"
ctl_json J port show t
json_ok "$J" '.type == "system" and .state == "up" and .vlan == null and
    .trunk == [10,20] and .native == null' "port show t: a trunk of 10, 20"
RX_VLAN_T0=$(json_get "$J" .counters.rx_vlan)
ctl_json J port show n
json_ok "$J" '.type == "system" and .state == "up" and .trunk == [10,20] and
    .native == 20' "port show n: a trunk of 10, 20, native 20"
RX_VLAN_N0=$(json_get "$J" .counters.rx_vlan)

src() {
	printf '02:00:00:74:00:%02x' "$1"
}
BCAST=ff:ff:ff:ff:ff:ff

# Every end captures for the whole round; each kind of frame has its own
# source address.
declare -A R
rf_recv "R[p]" "$NS_P" "$IF_P" --timeout 8000 --wait --count 0
rf_recv "R[q]" "$NS_P" "$IF_Q" --timeout 8000 --wait --count 0
for x in "${ports[@]}"; do
	rf_recv "R[$x]" "${NS[$x]}" "${IF[$x]}" --timeout 8000 --wait --count 0
done

rf_send "$NS_P" "$IF_P" "$BCAST" "$(src 1)" --vlan 10 --len 64 --count 2
rf_send "$NS_P" "$IF_P" "$BCAST" "$(src 2)" --vlan 20 --len 64 --count 2
rf_send "$NS_P" "$IF_P" "$BCAST" "$(src 3)" --vlan 10 --len 1518 --count 2
rf_send "$NS_P" "$IF_P" "$BCAST" "$(src 4)" --vlan 30 --len 64 --count 2
rf_send "$NS_P" "$IF_P" "$BCAST" "$(src 5)" --count 2	# untagged: drop
rf_send "${NS[a]}" "${IF[a]}" "$BCAST" "$(src 6)" --count 2
rf_send "${NS[c]}" "${IF[c]}" "$BCAST" "$(src 7)" --count 2
rf_send "${NS[a]}" "${IF[a]}" "$BCAST" "$(src 8)" --len 1514 --count 2
rf_send "$NS_P" "$IF_Q" "$BCAST" "$(src 9)" --vlan 10 --len 64 --count 2
rf_send "$NS_P" "$IF_Q" "$BCAST" "$(src 10)" --count 2	# native 20
rf_send "$NS_P" "$IF_Q" "$BCAST" "$(src 11)" --vlan 20 --len 64 --count 2
rf_send "$NS_P" "$IF_Q" "$BCAST" "$(src 12)" --vlan 30 --len 64 --count 2

for x in p q "${ports[@]}"; do
	rf_wait "${R[$x]}"
done

# expect N END COUNT [VLAN LEN] - END got COUNT frames from source N (all
# of them "vlan=VLAN len=LEN" when given).
expect() {
	local n=$1 x=$2 want=$3 s lines got
	s=$(src "$n")
	lines=$(rf_out "${R[$x]}" | grep -F " $s ")
	got=$(grep -c . <<<"$lines")
	if (($# > 3)); then
		got=$(grep -cx "$BCAST $s vlan=$4 len=$5" <<<"$lines")
	fi
	((got == want)) ||
		fail "frames from $s at $x: want $want${4:+ with vlan=$4 len=$5}, got:
${lines:-(none)}"
}

expect 1 a 2 untagged 60; expect 1 b 2 untagged 60; expect 1 c 0
expect 1 q 2 10 64; expect 1 p 0
log "ok: tagged 10 from p reaches a and b untagged and q tagged, not c"
expect 2 c 2 untagged 60; expect 2 q 2 untagged 60; expect 2 a 0
expect 2 b 0; expect 2 p 0
log "ok: tagged 20 from p reaches c and q (native 20) untagged only"
expect 3 a 2 untagged 1514; expect 3 b 2 untagged 1514; expect 3 c 0
expect 3 q 2 10 1518
log "ok: full-size tagged 10 (1518 bytes) from p reaches a and b whole"
for x in a b c p q; do
	expect 4 "$x" 0
	expect 5 "$x" 0
done
log "ok: tagged 30 and untagged frames from p are dropped"
expect 6 p 2 10 64; expect 6 q 2 10 64; expect 6 b 2 untagged 60
expect 6 c 0
log "ok: a's broadcasts reach p and q tagged 10"
expect 7 p 2 20 64; expect 7 q 2 untagged 60; expect 7 a 0; expect 7 b 0
log "ok: c's broadcasts reach p tagged 20 and q untagged (native)"
expect 8 p 2 10 1518; expect 8 q 2 10 1518; expect 8 b 2 untagged 1514
log "ok: a full-size frame from a (1514 bytes) reaches p as 1518 tagged"
expect 9 a 2 untagged 60; expect 9 b 2 untagged 60; expect 9 c 0
expect 9 p 2 10 64
log "ok: tagged 10 from q (native 20) reaches VLAN 10 only"
expect 10 c 2 untagged 60; expect 10 p 2 20 64; expect 10 a 0
expect 10 b 0
expect 11 c 2 untagged 60; expect 11 p 2 20 64; expect 11 a 0
expect 11 b 0
log "ok: untagged and tagged 20 from q reach VLAN 20 only"
for x in a b c p; do
	expect 12 "$x" 0
done
log "ok: tagged 30 from q is dropped"

ctl_json J port show t
rx_vlan=$(($(json_get "$J" .counters.rx_vlan) - RX_VLAN_T0))
((rx_vlan == 4)) ||
	fail "t's rx_vlan rose by $rx_vlan, want 4 (2 of VLAN 30, 2 untagged)"
json_ok "$J" '.counters.rx_errors == 0 and .counters.tx_errors == 0 and
    .counters.tx_oversize == 0' "port t: no other drops"
ctl_json J port show n
rx_vlan=$(($(json_get "$J" .counters.rx_vlan) - RX_VLAN_N0))
((rx_vlan == 2)) ||
	fail "n's rx_vlan rose by $rx_vlan, want 2 (VLAN 30)"
log "ok: t and n counted the frames of other VLANs in rx_vlan"

ctl_json F fdb show port=t
json_ok "$F" "any(.entries[]; .mac == \"$(src 1)\" and .vlan == 10) and
    any(.entries[]; .mac == \"$(src 2)\" and .vlan == 20) and
    all(.entries[]; .mac != \"$(src 4)\" and .mac != \"$(src 5)\")" \
    "fdb show port=t: p's sources in VLANs 10 and 20, not the dropped ones"
ctl_json F fdb show port=n
json_ok "$F" "any(.entries[]; .mac == \"$(src 9)\" and .vlan == 10) and
    any(.entries[]; .mac == \"$(src 10)\" and .vlan == 20) and
    all(.entries[]; .mac != \"$(src 12)\")" \
    "fdb show port=n: q's sources in VLANs 10 and 20 (native), not VLAN 30's"

# Known unicast from a to p's source 1: to p alone, tagged 10.
U=$(src 32)
rf_recv RP "$NS_P" "$IF_P" --timeout 8000 --src "$U" --dst "$(src 1)" \
    --vlan 10 --count 3
rf_recv RB "${NS[b]}" "${IF[b]}" --timeout 1500 --src "$U" --wait
rf_recv RQ "$NS_P" "$IF_Q" --timeout 1500 --src "$U" --wait
rf_send "${NS[a]}" "${IF[a]}" "$(src 1)" "$U" --count 3
rf_wait "$RP" || fail "unicast from a to $(src 1) did not reach p tagged 10: $(rf_out "$RP")"
! rf_wait "$RB" || fail "unicast from a to $(src 1) (learned on t) was flooded to b"
! rf_wait "$RQ" || fail "unicast from a to $(src 1) (learned on t) was flooded to q"
log "ok: unicast to a MAC learned on t goes to p alone, tagged 10"

pass
