#!/usr/bin/env bash
# vxlan-ovs.sh - a vxlan port talks to an implementation we did not
# write: Open vSwitch's userspace datapath (datapath_type=netdev) with a
# vxlan interface, as the other host.
#
# Host 1 is tapswitchd: a vxlan port in underlay namespace U1
# (10.99.0.1), a TAP into A1 (10.98.0.1).  Host 2 is ovs-vswitchd in
# U2: bridge br-phy holds the underlay veth and the address 10.99.0.2,
# bridge br-int holds a vxlan interface (remote_ip 10.99.0.1, key =
# the VNI) and a TAP that goes to A2 (10.98.0.2).  One OVS start-up (it
# is slow) serves every check: ping both ways, TCP both ways, and
# tapswitchd learning A2's address behind 10.99.0.2.
TEST_TAG=vxov
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root iperf3 jq ethtool ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl \
    ovs-appctl
require_ctl
js=""	# ctl_json sets it
OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[[ -r $OVS_SCHEMA ]] || skip "no $OVS_SCHEMA"

VNI=5151
new_ns U1; new_ns U2; new_ns A1; new_ns A2
new_name UL1; new_name UL2; new_name IA1; new_name IA2
ip link add "$UL1" mtu 1600 netns "$U1" type veth peer name "$UL2" \
    mtu 1600 netns "$U2" || fail "cannot create the underlay veths"
ip -n "$U1" link set "$UL1" up
ip -n "$U2" link set "$UL2" up
addr_add "$U1" "$UL1" 10.99.0.1/24
# OVS reads its ports with AF_PACKET and takes neither super-frames nor
# checksums left to the device (its FAQ: turn the veth's transmit
# offloads off at the sending end).
nsx "$U1" ethtool -K "$UL1" tx off >/dev/null ||
	fail "cannot turn off the tx offloads of $UL1"

conf=$(write_conf h1 <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port vx]
type = vxlan
vni = $VNI
local = 10.99.0.1
remote = 10.99.0.2
netns = $U1

[port a]
ifname = $IA1
netns = $A1
EOF
)
start_daemon "$conf"
addr_add "$A1" "$IA1" 10.98.0.1/24

# ---- Open vSwitch, everything of it in the temp dir.
d=$TMP_DIR/ovs
mkdir "$d"
export OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d
vsctl() {
	ovs-vsctl --db="unix:$d/db.sock" --timeout=20 "$@"
}
ovsctl() {
	ovs-appctl -t "$d/ovs-vswitchd.ctl" --timeout=20 "$@"
}
ovsdb-tool create "$d/conf.db" "$OVS_SCHEMA" || fail "ovsdb-tool create failed"
ip netns exec "$U2" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
    --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
    --no-chdir --log-file="$d/ovsdb-server.log" -vconsole:off \
    </dev/null >/dev/null 2>&1 &
CLEANUP_PIDS+=("$!")
wait_until 20 test -S "$d/db.sock" || fail "ovsdb-server did not start"
vsctl --no-wait init || fail "ovs-vsctl init failed"
ip netns exec "$U2" ovs-vswitchd "unix:$d/db.sock" --pidfile="$d/ovs-vswitchd.pid" \
    --unixctl="$d/ovs-vswitchd.ctl" --no-chdir \
    --log-file="$d/ovs-vswitchd.log" -vconsole:off --disable-system \
    </dev/null >/dev/null 2>&1 &
CLEANUP_PIDS+=("$!")
ovs_fail() {
	fail "$1: $(tail -n 20 "$d/ovs-vswitchd.log")"
}
vsctl add-br br-phy -- set bridge br-phy datapath_type=netdev \
    -- add-port br-phy "$UL2" ||
	ovs_fail "cannot make the underlay bridge"
vsctl set interface br-phy mtu_request=1600 || ovs_fail "cannot set br-phy's MTU"
wait_until 20 link_exists "$U2" br-phy || ovs_fail "OVS made no br-phy"
ip -n "$U2" link set br-phy up
addr_add "$U2" br-phy 10.99.0.2/24
vsctl add-br br-int -- set bridge br-int datapath_type=netdev \
    -- add-port br-int vx0 -- set interface vx0 type=vxlan \
    options:remote_ip=10.99.0.1 options:key="$VNI" \
    -- add-port br-int "$IA2" -- set interface "$IA2" type=tap ||
	ovs_fail "cannot make the overlay bridge"
wait_until 20 link_exists "$U2" "$IA2" || ovs_fail "OVS made no TAP $IA2"
ip -n "$U2" link set "$IA2" netns "$A2" || fail "cannot move $IA2 to $A2"
ip -n "$A2" link set "$IA2" up
addr_add "$A2" "$IA2" 10.98.0.2/24
# Where 10.99.0.1 is, so that the first datagrams do not wait for OVS's
# own ARP.
ovsctl tnl/neigh/set br-phy 10.99.0.1 "$(link_mac "$U1" "$UL1")" >/dev/null ||
	ovs_fail "cannot set OVS's tunnel neighbour"
log "Open vSwitch $(ovs-vswitchd --version | head -n 1 | awk '{print $NF}') up"

# ---- Both ways.
wait_until 20 nsx "$A1" ping -q -n -c 1 -W 1 10.98.0.2 >/dev/null ||
	ovs_fail "A1 cannot reach A2 behind OVS"
ping_ok "$A1" 10.98.0.2
ping_ok "$A2" 10.98.0.1
MAC_A2=$(link_mac "$A2" "$IA2")
ctl_json js fdb show port=vx
json_ok "$js" ".entries | map(select(.mac == \"$MAC_A2\")) |
    .[0].remote == \"10.99.0.2\"" "A2 ($MAC_A2) learned behind 10.99.0.2"
log "ping tapswitchd <-> Open vSwitch over VXLAN, both ways: ok"

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
iperf_run to-ovs
iperf_run from-ovs -R
log "TCP tapswitchd <-> Open vSwitch over VXLAN, both ways: ok"

pass
