#!/usr/bin/env bash
# vm-dgram.sh - a real QEMU guest on a dgram port (QEMU -netdev dgram over
# Unix sockets), and a namespace on a tap port, with offload = yes:
#
#  1. the guest pings the namespace, then fetches 4 MB over TCP (busybox
#     nc) from a server in the namespace; the namespace's TCP stack sends
#     TSO super-frames, which the switch cuts in software for the guest's
#     port (tx_sw_gso) -- the SHA-256 the guest computes must be the
#     file's;
#  2. tapswitchd is restarted under the running guest (its socket file is
#     made again): the guest reaches the namespace again within seconds,
#     by itself;
#  3. QEMU is killed (it leaves its socket file behind) and a second guest
#     is started on the same sockets: it reaches the namespace.
TEST_TAG=vmdg
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm.sh
. "$(dirname "$0")/vm.sh"
require_root
vm_require

new_name IF
new_ns NS
SOCK=$TMP_DIR/sw.sock
VMSOCK=$TMP_DIR/vm.sock
NETDEV="dgram,local.type=unix,local.path=$VMSOCK,remote.type=unix,remote.path=$SOCK"

conf=$(write_conf vmdg <<EOF
[switch]
queues = 2
offload = yes
control_socket = $CTL_SOCK

[port ns]
ifname = $IF
netns = $NS

[port vm]
type = dgram
path = $SOCK
remote = $VMSOCK
mode = 0600
EOF
)
start_daemon "$conf"
addr_add "$NS" "$IF" 10.77.0.1/24
[[ $(stat -c '%a %F' "$SOCK") == "600 socket" ]] ||
	fail "$SOCK: $(stat -c '%a %F' "$SOCK"), want a socket of mode 600"

# 4 MB to fetch, and a server that sends it to whoever connects, twice
# at most, for 60 s at most.
head -c 4194304 /dev/urandom >"$TMP_DIR/blob"
SUM=$(sha256sum "$TMP_DIR/blob" | cut -d' ' -f1)
nsx "$NS" timeout 60 python3 -c '
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 5001))
s.listen(1)
c, _ = s.accept()
c.sendall(data)
c.close()
' "$TMP_DIR/blob" &
CLEANUP_PIDS+=("$!")

# The guest: ping, fetch, then report every 0.5 s whether it reaches the
# namespace (REACH n / LOST n), for 60 s at most.
GUEST='
ping -c 3 -W 5 10.77.0.1 >/dev/null && echo PING-OK || echo PING-FAILED
for i in 1 2 3 4 5 6 7 8 9 10; do
	s=$(nc 10.77.0.1 5001 | sha256sum | cut -d" " -f1)
	[ -n "$s" ] && [ "$s" != e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ] && break
	sleep 1
done
echo "SUM $s"
i=0
while [ $i -lt 120 ]; do
	if ping -c 1 -W 1 10.77.0.1 >/dev/null 2>&1; then echo "REACH $i"; else echo "LOST $i"; fi
	i=$((i + 1))
	sleep 0.5
done
'
vm_start g1 "$NETDEV" 10.77.0.2/24 "$GUEST"
vm_wait g1 '^TSW-GUEST-UP' 60
vm_wait g1 '^PING-(OK|FAILED)' 40
vm_line g1 '^PING-OK' || fail "the guest cannot ping the namespace: $(tail "$TMP_DIR/g1.console")"
log "ok: the guest pings the namespace through the dgram port"
vm_wait g1 '^SUM ' 60
got=$(awk '/^SUM / { print $2; exit }' "$TMP_DIR/g1.console" | tr -d '\r')
[[ $got == "$SUM" ]] || fail "the guest got 4 MB with SHA-256 $got, the file's is $SUM"
ctl_json J port show vm
jq -e '.counters.tx_sw_gso > 0 and .counters.tx_errors == 0' <<<"$J" >/dev/null ||
	fail "no software segmentation counted for the guest: $(jq -c .counters <<<"$J")"
log "ok: 4 MB over TCP reached the guest intact, $(jq .counters.tx_sw_gso <<<"$J") super-frames cut in software"

# 2. Restart the daemon under the guest.
vm_wait g1 '^REACH ' 20
stop_daemon
before=$(grep -c '^REACH ' "$TMP_DIR/g1.console")
[[ ! -e $SOCK ]] || fail "$SOCK is still there after the daemon stopped"
start_daemon "$conf"
reached_again() {
	(($(grep -c '^REACH ' "$TMP_DIR/g1.console") > before + 1))
}
wait_until 15 reached_again ||
	fail "the guest does not reach the namespace again after the restart: $(tail -n 5 "$TMP_DIR/g1.console")"
log "ok: after a restart of tapswitchd the guest reaches the namespace again"

# 3. Kill QEMU: its socket file stays; a new guest replaces it.
vm_kill g1
[[ -S $VMSOCK ]] || fail "QEMU left no socket file (the test needs one)"
vm_start g2 "$NETDEV" 10.77.0.3/24 'ping -c 3 -W 5 10.77.0.1 >/dev/null && echo PING-OK || echo PING-FAILED; sleep 60'
vm_wait g2 '^PING-(OK|FAILED)' 60
vm_line g2 '^PING-OK' || fail "a guest started again cannot ping the namespace: $(tail "$TMP_DIR/g2.console")"
ping_ok "$NS" 10.77.0.3
log "ok: a guest started again on the same sockets reaches the namespace, and back"

ctl_json J port show vm
jq -e '.state == "up" and .counters.rx_errors == 0' <<<"$J" >/dev/null ||
	fail "port vm: $(jq -c . <<<"$J")"
pass
