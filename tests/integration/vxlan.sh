#!/usr/bin/env bash
# vxlan.sh - three "hosts", one L2 network over VXLAN (type = vxlan).
#
# Each host is a tapswitchd whose vxlan port lives in an underlay
# namespace of its own (U1..U3, 10.99.0.1..3, joined by a bridge in a
# fourth); the vxlan ports are trunks of VLANs 10 and 20, and each host
# has TAP ports into namespaces: A1, A2, A3 in VLAN 10 (10.98.0.1..3),
# B1, B2 in VLAN 20 (10.98.0.101, .102: the same subnet, so that only
# the VLANs keep them apart).  Host 1 runs with offload = yes, host 2
# with offload = no (its super-frames are cut before they are
# encapsulated), host 3 with offload = yes.  Checked:
#   ping across hosts both ways, in both VLANs, and not across VLANs;
#   hosts 1 and 2 have a second vxlan port with another VNI on the same
#   address and port (sharing its sockets) and a third over IPv6, with
#   an access namespace each (C1, C2 in VLAN 30; D1, D2 in VLAN 40):
#   ping across those, and not into the other VLANs;
#   a broadcast from A1 reaches A2 and A3 once each, and no B;
#   after learning, a unicast flow A1<->A2 is not seen at A3, and host
#   1's fdb show says A2's address is behind remote 10.99.0.2;
#   fdb add remote= puts a static entry behind a remote;
#   tcpdump on the underlay sees VXLAN (UDP 4789, flags I, the VNI);
#   iperf3 TCP A1 -> A2 and back (offload on at one end, off at the
#   other);
#   bad datagrams on the underlay (an address not in remote, another
#   VNI, the I flag clear, a truncated header, 1 byte, a runt inner
#   frame) are dropped, each counted, and forwarding goes on;
#   with an underlay MTU too small for a full frame (1500 + 50), such
#   frames are dropped and counted (tx_oversize), never fragmented.
TEST_TAG=vxln
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root iperf3 tcpdump jq python3
require_ctl
js=""	# ctl_json sets it
require_rawframe

VNI=4242
new_ns UB
ip -n "$UB" link add name br0 type bridge || fail "cannot create the bridge"
ip -n "$UB" link set br0 mtu 1600 up
for h in 1 2 3; do
	new_ns "U$h"
	u=U$h
	new_name "UL$h"
	peer=""
	new_name peer
	ul=UL$h
	ip link add "${!ul}" mtu 1600 netns "${!u}" type veth peer name "$peer" \
	    mtu 1600 netns "$UB" || fail "cannot create the underlay veths"
	ip -n "$UB" link set "$peer" master br0 up
	ip -n "${!u}" link set "${!ul}" up
	addr_add "${!u}" "${!ul}" "10.99.0.$h/24"
	new_ns "A$h"
	new_name "IA$h"
done
for h in 1 2; do
	new_ns "B$h"
	new_name "IB$h"
	new_ns "C$h"
	new_name "IC$h"
	new_ns "D$h"
	new_name "ID$h"
	# An IPv6 underlay too, on the same veths.
	u=U$h ul=UL$h
	nsx "${!u}" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
	    net.ipv6.conf.default.disable_ipv6=0 "net.ipv6.conf.${!ul}.disable_ipv6=0" ||
		fail "cannot enable IPv6 in ${!u}"
	ip -n "${!u}" addr add "fd99::$h/64" dev "${!ul}" nodad ||
		fail "cannot add fd99::$h"
done

# host_conf H OFFLOAD SOCKET REMOTES - the configuration of host H.
# Hosts 1 and 2 have two more vxlan ports: vx2 with another VNI on the
# same address and port (it shares vx's sockets), an access port of
# VLAN 30, and vx6 over IPv6, an access port of VLAN 40.
host_conf() {
	local h=$1 a=A$1 ia=IA$1 b=B$1 ib=IB$1 u=U$1 c=C$1 ic=IC$1 d=D$1 id=ID$1
	cat <<EOF
[switch]
queues = 2
offload = $2
control_socket = $3

[port vx]
type = vxlan
vni = $VNI
local = 10.99.0.$h
remote = $4
netns = ${!u}
trunk = 10, 20

[port a]
ifname = ${!ia}
netns = ${!a}
vlan = 10
EOF
	if ((h < 3)); then
		cat <<EOF

[port b]
ifname = ${!ib}
netns = ${!b}
vlan = 20

[port vx2]
type = vxlan
vni = $((VNI + 1))
local = 10.99.0.$h
remote = 10.99.0.$((3 - h))
netns = ${!u}
vlan = 30

[port c]
ifname = ${!ic}
netns = ${!c}
vlan = 30

[port vx6]
type = vxlan
vni = $((VNI + 2))
local = fd99::$h
remote = fd99::$((3 - h))
netns = ${!u}
vlan = 40

[port d]
ifname = ${!id}
netns = ${!d}
vlan = 40
EOF
	fi
}

conf1=$(host_conf 1 yes "$CTL_SOCK" "10.99.0.2, 10.99.0.3" | write_conf h1)
conf2=$(host_conf 2 no "$TMP_DIR/h2.sock" "10.99.0.1 10.99.0.3" |
    write_conf h2)
conf3=$(host_conf 3 yes "$TMP_DIR/h3.sock" "10.99.0.1,10.99.0.2" |
    write_conf h3)
start_daemon "$conf1"
start_host h2 "$conf2"
start_host h3 "$conf3"

for h in 1 2 3; do
	a=A$h ia=IA$h
	addr_add "${!a}" "${!ia}" "10.98.0.$h/24"
	if ((h < 3)); then
		b=B$h ib=IB$h c=C$h ic=IC$h d=D$h id=ID$h
		addr_add "${!b}" "${!ib}" "10.98.0.10$h/24"
		addr_add "${!c}" "${!ic}" "10.98.0.20$h/24"
		addr_add "${!d}" "${!id}" "10.98.0.21$h/24"
	fi
done

# ---- Across hosts, both ways; VLANs apart.
ping_ok "$A1" 10.98.0.2
ping_ok "$A2" 10.98.0.1
ping_ok "$A3" 10.98.0.1
ping_ok "$A2" 10.98.0.3
ping_ok "$B1" 10.98.0.102
ping_ok "$B2" 10.98.0.101
ping_fails "$A1" 10.98.0.102
ping_fails "$B2" 10.98.0.1
log "ping across three hosts, both ways, VLANs 10 and 20 apart: ok"

# ---- Two VNIs on one socket, and an IPv6 underlay.
ping_ok "$C1" 10.98.0.202
ping_ok "$C2" 10.98.0.201
ping_ok "$D1" 10.98.0.212
ping_ok "$D2" 10.98.0.211
ping_fails "$C1" 10.98.0.2
ping_fails "$D1" 10.98.0.202
ctl_json js stats vx2
json_ok "$js" '.ports[0].counters.rx_packets > 0 and
    .ports[0].counters.rx_tunnel_vni == 0' "vx2 received its own frames"
ctl_json js port show vx6
json_ok "$js" '.remote == ["fd99::2"] and .local == "fd99::1"' \
    "port show vx6: its remote and local"
log "two VNIs on one address and port; an IPv6 underlay: ok"

# ---- Learning: host 1 knows A2 is behind 10.99.0.2.
MAC_A1=$(link_mac "$A1" "$IA1")
MAC_A2=$(link_mac "$A2" "$IA2")
ctl_json js fdb show port=vx vlan=10
json_ok "$js" ".entries | map(select(.mac == \"$MAC_A2\")) |
    .[0].remote == \"10.99.0.2\"" "host 1: A2 ($MAC_A2) behind 10.99.0.2"
ctl_status 0 fdb add 02:00:00:77:00:01 port=vx vlan=10 remote=10.99.0.3
ctl_status 0 fdb show port=vx
grep -qE "^02:00:00:77:00:01 +10 +vx +- +yes +10\.99\.0\.3$" <<<"$CTL_OUT" ||
	fail "fdb show does not list the static entry behind 10.99.0.3:
$CTL_OUT"
ctl_status 1 fdb add 02:00:00:77:00:02 port=vx vlan=10 remote=10.99.0.7
[[ $CTL_ERR == *"10.99.0.7 is not a remote of port vx"* ]] ||
	fail "fdb add with a foreign remote: $CTL_ERR"
log "fdb show: learned and static entries with their remotes: ok"

# ---- Broadcast from A1: A2 and A3 get it once each, no B.
SRC=02:00:00:58:00:0a
rf_recv R2 "$A2" "$IA2" --timeout 3000 --wait --count 0 --src "$SRC"
rf_recv R3 "$A3" "$IA3" --timeout 3000 --wait --count 0 --src "$SRC"
rf_recv RB2 "$B2" "$IB2" --timeout 3000 --wait --count 0 --src "$SRC"
rf_send "$A1" "$IA1" ff:ff:ff:ff:ff:ff "$SRC" --count 3
rf_wait "$R2"; rf_wait "$R3"; rf_wait "$RB2"
for r in R2 R3; do
	got=$(rf_out "${!r}" | grep -c "^ff:ff:ff:ff:ff:ff $SRC vlan=untagged len=60$")
	((got == 3)) || fail "$r: $got of 3 broadcast frames: $(rf_out "${!r}")"
done
[[ -z $(rf_out "$RB2") ]] || fail "VLAN 20 got VLAN 10's broadcast: $(rf_out "$RB2")"
log "broadcast from host 1 reaches hosts 2 and 3 once each, not VLAN 20: ok"

# ---- Unicast A1 <-> A2, learned: A3 does not see it.
rf_recv R3 "$A3" "$IA3" --timeout 3000 --wait --count 0 --dst "$MAC_A2"
R3b=""
rf_recv R3b "$A3" "$IA3" --timeout 3000 --wait --count 0 --dst "$MAC_A1"
ping_ok "$A1" 10.98.0.2 -c 5
rf_wait "$R3"; rf_wait "$R3b"
[[ -z $(rf_out "$R3")$(rf_out "$R3b") ]] ||
	fail "host 3 saw unicast between hosts 1 and 2: $(rf_out "$R3") $(rf_out "$R3b")"
log "learned unicast goes to its host only: ok"

# ---- What the underlay carries: VXLAN, I flag, our VNI, port 4789.
nsx "$U2" timeout 10 tcpdump -i "$UL2" -nn -v -c 2 -l \
    "udp dst port 4789 and src host 10.99.0.1" >"$TMP_DIR/tcpdump.out" \
    2>"$TMP_DIR/tcpdump.err" &
TD=$!
CLEANUP_PIDS+=("$TD")
wait_until 5 grep -q "listening on" "$TMP_DIR/tcpdump.err" ||
	fail "tcpdump did not start: $(cat "$TMP_DIR/tcpdump.err")"
ping_ok "$A1" 10.98.0.2
wait "$TD" || fail "tcpdump saw no VXLAN datagram: $(cat "$TMP_DIR/tcpdump.err")"
grep -q "VXLAN, flags \[I\] (0x08), vni $VNI" "$TMP_DIR/tcpdump.out" ||
	fail "tcpdump does not decode VXLAN with vni $VNI: $(cat "$TMP_DIR/tcpdump.out")"
# The outer source port comes from the flow: not 4789, in the dynamic
# range.
grep -qE "10\.99\.0\.1\.(3[2-9]|[4-6][0-9])[0-9]{3} > 10\.99\.0\.2\.4789: VXLAN" \
    "$TMP_DIR/tcpdump.out" ||
	fail "unexpected outer UDP ports: $(cat "$TMP_DIR/tcpdump.out")"
# DF set on the outer IPv4 header.
grep -q "flags \[DF\], proto UDP" "$TMP_DIR/tcpdump.out" ||
	fail "outer IPv4 without DF: $(cat "$TMP_DIR/tcpdump.out")"
log "tcpdump on the underlay decodes VXLAN, flags I, vni $VNI, DF: ok"

# ---- TCP across hosts, offload on at host 1, off at host 2.
# iperf_run NAME ARGS... - a one-off iperf3 server in A2, a 2-second
# client in A1 with ARGS; at least a megabyte must cross.
iperf_run() {
	local name=$1 bytes
	shift
	nsx "$A2" timeout 30 iperf3 -s -1 -B 10.98.0.2 \
	    >"$TMP_DIR/$name.server" 2>&1 &
	CLEANUP_PIDS+=("$!")
	wait_until 5 eval "nsx \"\$A2\" ss -Hltn 'sport = :5201' | grep -q ." ||
		fail "$name: iperf3 server did not start"
	nsx "$A1" timeout 30 iperf3 -c 10.98.0.2 -t 2 -J "$@" \
	    >"$TMP_DIR/$name.json" 2>&1 ||
		fail "$name: iperf3 failed: $(tail -n 5 "$TMP_DIR/$name.json")"
	bytes=$(jq '.end.sum_received.bytes' "$TMP_DIR/$name.json")
	((bytes > 1000000)) || fail "$name: iperf3 moved only $bytes bytes"
}
iperf_run a1-a2
iperf_run a2-a1 -R
ctl_json js stats vx
json_ok "$js" '.ports[0].counters.tx_sw_gso > 0' \
    "host 1 cut super-frames before it encapsulated them"
log "iperf3 TCP A1 -> A2 and back: ok"

# ---- Bad datagrams to host 1, from host 3's underlay.
addr_add "$U3" "$UL3" 10.99.0.9/24
nsx "$U3" python3 - "$VNI" <<'EOF' || fail "cannot send the bad datagrams"
import socket, struct, sys
vni = int(sys.argv[1])
inner = bytes.fromhex("ffffffffffff02000000bad10800") + bytes(46)
def hdr(flags, v):
    return struct.pack("!B3xI", flags, v << 8)
def send(src, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(data, ("10.99.0.1", 4789))
    s.close()
send("10.99.0.9", hdr(8, vni) + inner)          # not a remote
send("10.99.0.3", hdr(8, vni + 100) + inner)    # a VNI no port has
send("10.99.0.3", hdr(0, vni) + inner)          # I flag clear
send("10.99.0.3", hdr(8, vni)[:5])              # truncated header
send("10.99.0.3", b"\x08")                      # 1 byte
send("10.99.0.3", hdr(8, vni) + inner[:10])     # runt inner frame
EOF
# shellcheck disable=SC2317 # called through wait_until
# What has no VNI of a port (a bad header, a VNI no port has) is counted
# on whichever port of the endpoint read it: vx or vx2.
bad_counted() {
	ctl_json js stats
	jq -e '[.ports[] | select(.name == "vx" or .name == "vx2") |
	    .counters] | (map(.rx_tunnel_vni) | add) == 1 and
	    (map(.rx_tunnel_flags) | add) == 1 and
	    (map(.rx_tunnel_short) | add) == 2 and
	    (.[0] | .rx_tunnel_remote == 1 and .rx_runt == 1)' \
	    >/dev/null <<<"$js"
}
wait_until 10 bad_counted || fail "bad datagrams not counted as expected: $js"
ping_ok "$A3" 10.98.0.1
ping_ok "$A1" 10.98.0.2
log "bad underlay input dropped, each counted; forwarding goes on: ok"

# ---- Never fragmented: with an underlay MTU of 1500, a full-size
# frame does not fit (1500 + 50, + 4 for the tag of the trunk) and is
# dropped and counted; one that just fits goes (1446 + 4 + 50).
ip -n "$U1" link set "$UL1" mtu 1500
ping_fails "$A1" 10.98.0.2 -Mdo -s 1472
ping_fails "$A1" 10.98.0.2 -Mdo -s 1419
ping_ok "$A1" 10.98.0.2 -Mdo -s 1418
ctl_json js stats vx
json_ok "$js" '.ports[0].counters.tx_oversize >= 4' \
    "frames that would not fit the underlay counted tx_oversize"
log "a frame the underlay cannot carry whole is dropped and counted: ok"

stop_host h2
stop_host h3
pass
