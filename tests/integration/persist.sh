#!/usr/bin/env bash
# persist.sh - persistent TAPs (persist = yes, the default): restarts lose
# nothing that lives in the namespaces.
#   1. Ports a and b in namespaces and r in the root namespace (default
#      persist), n in a namespace with persist = no; addresses in a, b
#      and n.  kill -9: the privileged helper dies with the daemon; a, b
#      and r stay with their addresses, n is gone.  The next start
#      attaches to a, b and r again, and a pings b within 2 s of the
#      start, without re-adding anything.
#      TAPs the daemon creates have noqueue as their root qdisc; one it
#      attaches to again keeps the qdisc it has (b, given pfifo here).
#   2. SIGTERM: the same, a, b and r stay (with their addresses) and n
#      goes.
#   3. The next start has offload = no and b has another MTU: the TAPs
#      follow (no vnet_hdr, the new MTU), keep their addresses, forward.
#   4. A port added at run time is persistent too, and port del removes
#      it.  A reload that changes b's VLAN keeps b's TAP (same ifindex,
#      same address); one that drops b removes its TAP.  port del removes
#      a persistent TAP, in a namespace and in the root namespace.
#   5. A start that fails (a port in a namespace that does not exist)
#      leaves no TAP of its own behind.
TEST_TAG=pers
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping
require_ctl

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_N; new_ns NS_N
new_name IF_R			# root namespace

# conf NAME [OFFLOAD [MTU_B]]
conf() {
	write_conf "$1" <<EOF
[switch]
queues = 2
offload = ${2:-yes}
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
mtu = ${3:-1500}

[port n]
ifname = $IF_N
netns = $NS_N
persist = no

[port r]
ifname = $IF_R
EOF
}

# has_addr NS IFNAME CIDR
has_addr() {
	ip -n "$1" -4 addr show dev "$2" 2>/dev/null | grep -qF "inet $3 "
}

# root_qdisc NS IFNAME - the kind of the link's root qdisc (NS "": the
# root namespace).
root_qdisc() {
	local ns=()
	[[ -n $1 ]] && ns=(-n "$1")
	tc "${ns[@]}" qdisc show dev "$2" root | awk 'NR == 1 { print $2 }'
}

# persistent_left WHAT - a, b and r exist, are persistent TAPs and a and
# b have their addresses; n is gone.
persistent_left() {
	local what=$1
	link_exists "$NS_A" "$IF_A" || fail "$what: $IF_A is gone from $NS_A"
	link_exists "$NS_B" "$IF_B" || fail "$what: $IF_B is gone from $NS_B"
	link_exists "" "$IF_R" || fail "$what: $IF_R is gone"
	ip -n "$NS_A" -d link show dev "$IF_A" | grep -q 'persist on' ||
		fail "$what: $IF_A is not persistent: $(ip -n "$NS_A" -d link show dev "$IF_A")"
	has_addr "$NS_A" "$IF_A" 10.41.0.1/24 ||
		fail "$what: $IF_A lost its address"
	has_addr "$NS_B" "$IF_B" 10.41.0.2/24 ||
		fail "$what: $IF_B lost its address"
	wait_until 2 link_gone "$NS_N" "$IF_N" ||
		fail "$what: $IF_N (persist = no) is still in $NS_N"
}

# start_and_ping CONF WHAT - start the daemon on persistent TAPs and wait
# for a ping a -> b; it must work within 2 s of the start.
start_and_ping() {
	local t0 ms
	t0=$(now_us)
	start_daemon "$1"
	wait_until 2 nsx "$NS_A" ping -q -n -c 1 -W 1 10.41.0.2 >/dev/null ||
		fail "$2: a cannot reach b within 2 s of the start"
	ms=$((($(now_us) - t0) / 1000))
	((ms <= 2000)) || fail "$2: the first ping worked only after $ms ms"
	log "ok: $2: ping a -> b works $ms ms after the start"
}

# --- 1. kill -9 loses nothing.
CONF=$(conf main)
start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.41.0.1/24
addr_add "$NS_B" "$IF_B" 10.41.0.2/24
addr_add "$NS_N" "$IF_N" 10.41.0.3/24
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.41.0.2 >/dev/null ||
	fail "a cannot reach b"
ping_ok "$NS_A" 10.41.0.3
for l in "$NS_A:$IF_A" "$NS_B:$IF_B" "$NS_N:$IF_N" ":$IF_R"; do
	IFS=: read -r ns ifname <<<"$l"
	q=$(root_qdisc "$ns" "$ifname")
	[[ $q == noqueue ]] ||
		fail "$ifname was created with root qdisc \"$q\", want noqueue"
done
log "ok: the created TAPs have noqueue as their root qdisc"
tc -n "$NS_B" qdisc replace dev "$IF_B" root pfifo limit 50 ||
	fail "cannot give $IF_B a pfifo qdisc"
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no privileged helper process"

kill -KILL "$DAEMON_PID" || fail "cannot kill tapswitchd"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 2 pid_gone "$HELPER" ||
	fail "the privileged helper $HELPER outlived the daemon"
persistent_left "after kill -9"
log "ok: after kill -9 the helper is gone, the persistent TAPs and their addresses stay, n is gone"

start_and_ping "$CONF" "restart after kill -9"
if ! has_addr "$NS_A" "$IF_A" 10.41.0.1/24 ||
    ! has_addr "$NS_B" "$IF_B" 10.41.0.2/24; then
	fail "the restart lost addresses"
fi
grep -q "port a: $IF_A, .*existing interface attached" "$DAEMON_LOG" ||
	fail "the restart did not attach to the existing $IF_A"
link_exists "$NS_N" "$IF_N" || fail "$IF_N was not created again"
[[ $(root_qdisc "$NS_B" "$IF_B") == pfifo ]] ||
	fail "attached again, $IF_B lost its qdisc: $(tc -n "$NS_B" qdisc show dev "$IF_B" root)"
[[ $(root_qdisc "$NS_N" "$IF_N") == noqueue ]] ||
	fail "$IF_N, created again, has no noqueue qdisc"
log "ok: attached again, $IF_B keeps its pfifo qdisc; $IF_N, created again, has noqueue"
link_is_up "$NS_A" "$IF_A" || fail "$IF_A is not up"

# --- 2. SIGTERM: the same.
stop_daemon
persistent_left "after SIGTERM"
log "ok: after SIGTERM the persistent TAPs stay with their addresses, n is gone"

# --- 3. Other settings on the same TAPs.
start_and_ping "$(conf offload-off no 1400)" "restart with offload = no"
ip -n "$NS_A" -d link show dev "$IF_A" | grep -q 'vnet_hdr off' ||
	fail "$IF_A still has vnet_hdr with offload = no: $(ip -n "$NS_A" -d link show dev "$IF_A")"
[[ $(link_mtu "$NS_B" "$IF_B") == 1400 ]] ||
	fail "$IF_B has MTU $(link_mtu "$NS_B" "$IF_B"), want 1400"
has_addr "$NS_B" "$IF_B" 10.41.0.2/24 || fail "$IF_B lost its address"
ping_ok "$NS_B" 10.41.0.1 -s 1372
log "ok: offload = no and mtu 1400 applied to the persistent TAPs, addresses kept"
stop_daemon

# --- 4. port del, runtime ports, reload.
start_and_ping "$CONF" "restart with offload = yes"
ip -n "$NS_A" -d link show dev "$IF_A" | grep -q 'vnet_hdr on' ||
	fail "$IF_A has no vnet_hdr with offload = yes again"
new_name IF_C; new_ns NS_C
ctl_status 0 port add c "ifname=$IF_C" "netns=$NS_C"
link_exists "$NS_C" "$IF_C" || fail "port add c: no $IF_C in $NS_C"
ip -n "$NS_C" -d link show dev "$IF_C" | grep -q 'persist on' ||
	fail "a port added at run time is not persistent"
addr_add "$NS_C" "$IF_C" 10.41.0.4/24
ping_ok "$NS_C" 10.41.0.2
ctl_status 0 port del c
wait_until 2 link_gone "$NS_C" "$IF_C" || fail "port del c: $IF_C still exists"
log "ok: a runtime port is persistent, and port del removes it"

IFINDEX_B=$(nsx "$NS_B" cat "/sys/class/net/$IF_B/ifindex")
sed -i "s/^mtu = 1500\$/mtu = 1500\\nvlan = 2/" "$CONF"
grep -q '^vlan = 2$' "$CONF" || fail "cannot edit $CONF"
ctl_json J reload
json_ok "$J" '.changed == ["b"]' "reload changing b's VLAN"
[[ $(nsx "$NS_B" cat "/sys/class/net/$IF_B/ifindex" 2>/dev/null) == "$IFINDEX_B" ]] ||
	fail "the reload re-created $IF_B (ifindex $IFINDEX_B before)"
has_addr "$NS_B" "$IF_B" 10.41.0.2/24 || fail "the reload lost $IF_B's address"
ctl_json J port show b
json_ok "$J" '.vlan == 2 and .state == "up"' "port b after the reload"
log "ok: a reload that changes b keeps its persistent TAP and address"

sed -i "/^\\[port b\\]\$/,/^vlan = 2\$/d" "$CONF"
! grep -q "$IF_B" "$CONF" || fail "cannot edit $CONF"
ctl_json J reload
json_ok "$J" '.removed == ["b"]' "reload dropping b"
wait_until 2 link_gone "$NS_B" "$IF_B" ||
	fail "a reload without b left $IF_B in $NS_B"
log "ok: a reload that drops b removes its persistent TAP"
ctl_status 0 port del a
wait_until 2 link_gone "$NS_A" "$IF_A" ||
	fail "port del a: $IF_A is still in $NS_A"
ctl_status 0 port del r
wait_until 2 link_gone "" "$IF_R" || fail "port del r: $IF_R still exists"
log "ok: port del removes persistent TAPs (in a namespace and in the root namespace)"

stop_daemon

# --- 5. A failed start cleans up after itself.
new_name IF_F; new_ns NS_F
new_name IF_G
BAD=$(write_conf bad <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port f]
ifname = $IF_F
netns = $NS_F

[port g]
ifname = $IF_G
netns = tsw-nonexistent-$$
EOF
)
rc=0
timeout 10 "$TSWD" -f "$BAD" </dev/null >"$TMP_DIR/bad.log" 2>&1 || rc=$?
((rc == 1)) || fail "a start with a missing namespace exited with $rc, want 1: $(cat "$TMP_DIR/bad.log")"
grep -qF "ip netns add tsw-nonexistent-$$" "$TMP_DIR/bad.log" ||
	fail "the failed start does not say what to do: $(cat "$TMP_DIR/bad.log")"
! link_exists "$NS_F" "$IF_F" ||
	fail "the failed start left its new TAP $IF_F in $NS_F"
[[ ! -e $CTL_SOCK ]] || fail "the failed start left its control socket"
log "ok: a failed start removes the TAPs it created"

pass
