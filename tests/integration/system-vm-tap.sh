#!/usr/bin/env bash
# system-vm-tap.sh - a "system" port on a VM's TAP: tapholder (a stand-in
# for QEMU) creates the TAP, holds it open and answers ARP and ping for
# the "guest" 10.71.0.50 behind it; the switch attaches to the TAP by
# name, and tap ports a and b are namespaces with 10.71.0.1 and .2.
#   - The daemon attaches to the TAP but does not set it up: while it is
#     down the port is down; once the test sets it up the port comes up.
#   - a and b ping the guest; the guest's MAC is learned on the system
#     port, a's neighbour entry for the guest has the guest's MAC, and
#     tapholder answered the ARP requests and every ping.
#   - The VM shuts down (tapholder exits, the TAP goes): the port goes
#     down with a reason, a and b keep forwarding.  The VM starts again
#     (a new TAP of that name): the port comes up by itself and the
#     guest answers pings again.
#   - SIGTERM: the daemon exits 0 and leaves the TAP to its owner:
#     still there, still up.
# The log may hold warnings about port vm, and nothing else.
TEST_TAG=svmt
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq
require_ctl

TAPHOLDER=$TSW_BUILDDIR/tests/integration/tapholder
[[ -x $TAPHOLDER ]] ||
	fail "$TAPHOLDER not found: make tests/integration/tapholder"

VM_IP=10.71.0.50
VM_MAC=02:00:00:71:00:50
new_name IF_VM; new_ns NS_VM	# the VM's TAP, made by tapholder
new_name IF_A; new_ns NS_A	# tap port a, 10.71.0.1
new_name IF_B; new_ns NS_B	# tap port b, 10.71.0.2

# vm_start - run tapholder in NS_VM (bounded: 60 s) and wait until its
# TAP exists; sets VM_PID and VM_OUT.
VM_SEQ=0
VM_PID=""
VM_OUT=""
vm_start() {
	VM_SEQ=$((VM_SEQ + 1))
	VM_OUT=$TMP_DIR/vm-$VM_SEQ.out
	# ip netns exec, not nsx: $! must be the process to signal (ip and
	# then timeout exec), not a subshell.
	ip netns exec "$NS_VM" timeout --preserve-status 65 "$TAPHOLDER" "$IF_VM" \
	    --ip "$VM_IP" --mac "$VM_MAC" --timeout 60000 \
	    --ready "$TMP_DIR/vm-$VM_SEQ.ready" \
	    >"$VM_OUT" 2>"$TMP_DIR/vm-$VM_SEQ.err" &
	VM_PID=$!
	CLEANUP_PIDS+=("$VM_PID")
	wait_until 5 test -e "$TMP_DIR/vm-$VM_SEQ.ready" ||
		fail "tapholder did not create $IF_VM: $(cat "$TMP_DIR/vm-$VM_SEQ.err")"
	link_exists "$NS_VM" "$IF_VM" || fail "tapholder made no $IF_VM"
}

# vm_stop - SIGTERM tapholder, which must exit 0; VM_OUT has its
# counters.
vm_stop() {
	local rc=0
	kill -TERM "$VM_PID" || fail "cannot signal tapholder"
	wait "$VM_PID" || rc=$?
	((rc == 0)) || fail "tapholder exited with $rc: $(cat "$TMP_DIR/vm-$VM_SEQ.err")"
	VM_PID=""
}

# vm_count NAME - a counter tapholder printed (frames, arp_replies,
# echo_replies).
vm_count() {
	sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" "$VM_OUT"
}

# port_is NAME JQ-CONDITION - for wait_until: port show NAME satisfies it.
# shellcheck disable=SC2317 # called through wait_until
port_is() {
	ctl --json port show "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

vm_start
link_is_up "$NS_VM" "$IF_VM" && fail "tapholder's $IF_VM is up already"

conf=$(write_conf svmt <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port vm]
type = system
ifname = $IF_VM
netns = $NS_VM

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)
start_daemon "$conf"
addr_add "$NS_A" "$IF_A" 10.71.0.1/24
addr_add "$NS_B" "$IF_B" 10.71.0.2/24

# --- The TAP is down: the daemon leaves it so, the port is down.
IFINDEX_VM=$(nsx "$NS_VM" cat "/sys/class/net/$IF_VM/ifindex")
ctl_json J port show vm
json_ok "$J" ".type == \"system\" and .ifname == \"$IF_VM\" and
    .netns == \"$NS_VM\" and .ifindex == $IFINDEX_VM and
    .state == \"down\"" "port show vm while its TAP is down"
link_is_up "$NS_VM" "$IF_VM" && fail "the daemon set $IF_VM up"
log "ok: the daemon attached to the TAP and left it down; port vm is down"

ip -n "$NS_VM" link set dev "$IF_VM" up || fail "cannot set $IF_VM up"
wait_until 5 port_is vm '.state == "up" and .reason == null' ||
	fail "port vm is not up after $IF_VM came up: $(ctl --json port show vm)"
for ns in "$NS_A" "$NS_B"; do
	wait_until 5 nsx "$ns" ping -q -n -c 1 -W 1 "$VM_IP" >/dev/null ||
		fail "$ns cannot reach the guest $VM_IP"
	ping_ok "$ns" "$VM_IP"
done
ip -n "$NS_A" neigh show "$VM_IP" dev "$IF_A" | grep -qF "lladdr $VM_MAC" ||
	fail "a's neighbour entry for $VM_IP is not the guest's MAC $VM_MAC: $(ip -n "$NS_A" neigh show "$VM_IP")"
ctl_json F fdb show
json_ok "$F" "any(.entries[]; .mac == \"$VM_MAC\" and .port == \"vm\" and
    .vlan == 1)" "fdb show: the guest's MAC $VM_MAC learned on vm"
ctl_json J port show vm
json_ok "$J" '.counters.rx_packets >= 6 and .counters.tx_packets >= 6' \
    "port vm counted the pings both ways"
vm_stop
(($(vm_count echo_replies) >= 6 && $(vm_count arp_replies) >= 1)) ||
	fail "tapholder answered too little: $(cat "$VM_OUT") (want 6 or more echo replies, one ARP reply or more)"
log "ok: a and b ping the guest behind the VM's TAP ($(cat "$VM_OUT"))"

# --- The VM is gone: so is the TAP; the port is down, a and b forward.
wait_until 5 link_gone "$NS_VM" "$IF_VM" || fail "$IF_VM outlived tapholder"
wait_until 5 port_is vm ".state == \"down\" and (.reason | type) == \"string\"
    and (.reason | contains(\"$IF_VM\"))" ||
	fail "port vm is not down with a reason naming $IF_VM: $(ctl --json port show vm)"
daemon_alive || fail "tapswitchd died when the VM's TAP went"
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.71.0.2 >/dev/null ||
	fail "a cannot reach b after the VM's TAP went"
ping_ok "$NS_A" 10.71.0.2
ping_ok "$NS_B" 10.71.0.1
ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b","vm"]' "port vm is still configured"
log "ok: VM gone: port vm down ($(ctl --json port show vm | jq -r .reason)), a <-> b forward"

# --- The VM starts again.
vm_start
ip -n "$NS_VM" link set dev "$IF_VM" up || fail "cannot set the new $IF_VM up"
IFINDEX_VM=$(nsx "$NS_VM" cat "/sys/class/net/$IF_VM/ifindex")
wait_until 5 port_is vm ".state == \"up\" and .reason == null and
    .ifindex == $IFINDEX_VM" ||
	fail "port vm did not come up on the new $IF_VM (ifindex $IFINDEX_VM): $(ctl --json port show vm)"
for ns in "$NS_A" "$NS_B"; do
	wait_until 5 nsx "$ns" ping -q -n -c 1 -W 1 "$VM_IP" >/dev/null ||
		fail "$ns cannot reach the guest after the VM started again"
	ping_ok "$ns" "$VM_IP"
done
log "ok: VM started again: port vm up on the new TAP, the guest answers"

# --- The daemon goes; the TAP stays with its owner.
stop_daemon
link_exists "$NS_VM" "$IF_VM" || fail "$IF_VM is gone after the daemon stopped"
link_is_up "$NS_VM" "$IF_VM" || fail "$IF_VM is down after the daemon stopped"
pid_alive "$VM_PID" || fail "tapholder died with the daemon"
vm_stop
(($(vm_count echo_replies) >= 6)) ||
	fail "the second tapholder answered too little: $(cat "$VM_OUT")"
log "ok: the daemon left the TAP as it was"

pass '^tapswitchd: warning: port vm[: ]'
