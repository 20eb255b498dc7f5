#!/usr/bin/env bash
# policy-spoof.sh - port security and BPDU guard with frames from the
# wire.  Port a has allowed_macs and allowed_ips; from its namespace:
#   - its own traffic passes (ping to b, which needs its ARP);
#   - raw frames with another source MAC, an ARP with another sender
#     address or hardware address, IPv4 from another address, IPv6 from
#     another address and a neighbour advertisement for another target are
#     all dropped, each counted exactly by rx_spoof_mac / rx_spoof_ip, and
#     none reaches b (captured there);
#   - a DHCP DISCOVER from 0.0.0.0, IPv6 from its own address and a
#     duplicate address detection probe from :: reach b.
# A reload that only widens allowed_macs takes effect on the running
# port: the port keeps its counters (it was not re-created) and the
# other MAC passes.  Then port c, added at run time with bpdu_guard =
# yes, gets a BPDU: it is err-disabled (bpdu), counted, shown so by port
# list/show and /metrics, logged once, nothing goes in or out while a
# and b go on; "port enable c" brings it back.
TEST_TAG=pspf
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq curl
require_ctl
require_rawframe

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_C; new_ns NS_C
MAC_A=52:54:00:7a:00:01
MAC_OTHER=52:54:00:7a:00:99
MAC_C=52:54:00:7a:00:03
MPORT=$((20000 + $$ % 20000))

write_main() {
	cat >"$TMP_DIR/main.conf" <<EOF
[switch]
control_socket = $CTL_SOCK
metrics_listen = 127.0.0.1:$MPORT

[port a]
ifname = $IF_A
netns = $NS_A
allowed_macs = $1
allowed_ips = 10.7.0.1, fd00:7::1

[port b]
ifname = $IF_B
netns = $NS_B
EOF
}
write_main "$MAC_A"
start_daemon "$TMP_DIR/main.conf"
ip -n "$NS_A" link set "$IF_A" address "$MAC_A" || fail "cannot set $IF_A's MAC"
addr_add "$NS_A" "$IF_A" 10.7.0.1/24
addr_add "$NS_B" "$IF_B" 10.7.0.2/24
ctl_json J port show a
IFINDEX_A=$(json_get "$J" .ifindex)
json_ok "$J" '.allowed_macs == ["'$MAC_A'"] and .allowed_ips == ["10.7.0.1", "fd00:7::1"]' \
    "port show lists the policy keys"

wait_until 10 nsx "$NS_A" ping -q -n -c 1 -W 1 10.7.0.2 >/dev/null ||
	fail "a cannot reach b with its own addresses"
ping_ok "$NS_A" 10.7.0.2

counter() { # PORT NAME
	local j
	j=$(ctl --json port show "$1") || return 1
	jq -r ".counters.$2" <<<"$j"
}

# Frames (after the EtherType) in hex.  ip4 SRC DST PROTO: an IPv4 header
# and 8 bytes of UDP from port 68 to 67.
hexip() { printf '%02x' ${1//./ }; }
ip4() { echo "45000024000000004011""0000$(hexip "$1")$(hexip "$2")00440043001000000000000000000000"; }
arp() { # SHA SPA TPA
	echo "0001080006040001${1//:/}$(hexip "$2")000000000000$(hexip "$3")"
}
FD7_1=fd000007000000000000000000000001
FD7_99=fd000007000000000000000000000099
UNSPEC=00000000000000000000000000000000
ALLNODES=ff020000000000000000000000000001
ip6() { # SRC NEXT PAYLOAD
	printf '60000000%04x%s40%s%s%s' $((${#3} / 2)) "$2" "$1" "$ALLNODES" "$3"
}
na() { echo "88000000a0000000$1"; }	# neighbour advertisement for $1
nsol() { echo "8700000000000000$1"; }	# solicitation for $1

BCAST=ff:ff:ff:ff:ff:ff
# The capture on b: everything from the two source MACs, told apart by
# length (each kind of frame below has its own).
rf_recv CAP "$NS_B" "$IF_B" --timeout 3000 --wait --count 1000

send() { # SRC TYPE LEN PAYLOAD [COUNT]
	rf_send "$NS_A" "$IF_A" "$BCAST" "$1" --type "$2" --len "$3" \
	    --payload "$4" --count "${5:-5}"
}
send "$MAC_OTHER" 0x88b5 101 00                          # other MAC
send "$MAC_A" 0x0806 102 "$(arp "$MAC_A" 10.7.0.99 10.7.0.2)"  # ARP, other IP
send "$MAC_A" 0x0806 103 "$(arp "$MAC_OTHER" 10.7.0.1 10.7.0.2)" # ARP, other MAC
send "$MAC_A" 0x0800 104 "$(ip4 10.7.0.99 10.7.0.2)"     # IPv4, other source
send "$MAC_A" 0x86dd 105 "$(ip6 "$FD7_99" 11 00000000)"  # IPv6, other source
send "$MAC_A" 0x86dd 106 "$(ip6 "$FD7_1" 3a "$(na "$FD7_99")")" # NA, other target
# What passes: DHCP from 0.0.0.0, IPv6 from its own address, DAD from ::
# and an advertisement for its own address.
send "$MAC_A" 0x0800 301 "$(ip4 0.0.0.0 255.255.255.255)" 1
send "$MAC_A" 0x86dd 302 "$(ip6 "$FD7_1" 11 00000000)" 1
send "$MAC_A" 0x86dd 303 "$(ip6 "$UNSPEC" 3a "$(nsol "$FD7_1")")" 1
send "$MAC_A" 0x86dd 304 "$(ip6 "$FD7_1" 3a "$(na "$FD7_1")")" 1
rf_wait "$CAP" || true

for len in 101 102 103 104 105 106; do
	! rf_out "$CAP" | grep -q " len=$len\$" ||
		fail "a spoofed frame (len $len) reached b: $(rf_out "$CAP" | grep " len=$len\$")"
done
for len in 301 302 303 304; do
	rf_out "$CAP" | grep -q "^ff:ff:ff:ff:ff:ff $MAC_A .* len=$len\$" ||
		fail "the legitimate frame of length $len did not reach b; b got: $(rf_out "$CAP")"
done
[[ $(counter a rx_spoof_mac) == 10 ]] ||
	fail "rx_spoof_mac is $(counter a rx_spoof_mac), want 10 (other MAC, ARP with other MAC)"
[[ $(counter a rx_spoof_ip) == 20 ]] ||
	fail "rx_spoof_ip is $(counter a rx_spoof_ip), want 20"
log "spoofed frames dropped and counted; DHCP, own IPv6, DAD pass"

# A reload that changes only the policy: the port stays, counters too.
write_main "$MAC_A, $MAC_OTHER"
ctl_status 0 reload
ctl_json J port show a
json_ok "$J" ".ifindex == $IFINDEX_A and .counters.rx_spoof_mac == 10 and (.allowed_macs | length) == 2" \
    "port a kept (ifindex, counters) with its new allowed_macs"
rf_recv CAP "$NS_B" "$IF_B" --timeout 5000 --src "$MAC_OTHER" --count 3
send "$MAC_OTHER" 0x88b5 110 00 3
rf_wait "$CAP" || fail "after the reload, frames from $MAC_OTHER do not reach b"
[[ $(counter a rx_spoof_mac) == 10 ]] || fail "rx_spoof_mac grew after the reload"

# BPDU guard on a port added at run time.
ctl_status 0 port add c ifname="$IF_C" netns="$NS_C" bpdu_guard=yes
wait_until 10 link_exists "$NS_C" "$IF_C" || fail "port c's TAP did not appear"
ip -n "$NS_C" link set "$IF_C" address "$MAC_C" || fail "cannot set $IF_C's MAC"
addr_add "$NS_C" "$IF_C" 10.7.0.3/24
wait_until 10 nsx "$NS_C" ping -q -n -c 1 -W 1 10.7.0.2 >/dev/null ||
	fail "c cannot reach b before the BPDU"
# An RSTP BPDU: 802.3 length, LLC 42 42 03, then the BPDU.
rf_send "$NS_C" "$IF_C" 01:80:c2:00:00:00 "$MAC_C" --type 0x0027 \
    --payload 424203000002023c8000525400000001000000008000525400000001800100001400020000
wait_until 10 eval '[[ $(ctl --json port show c | jq -r .state) == err-disabled ]]' ||
	fail "port c is not err-disabled after a BPDU"
ctl_json J port show c
json_ok "$J" '.err_disabled == "bpdu" and .counters.rx_bpdu == 1' "port c err-disabled (bpdu), counted"
ctl_status 0 port list
grep -qE "^c .*err-disabled \(bpdu\)" <<<"$CTL_OUT" ||
	fail "port list does not show c as err-disabled (bpdu): $CTL_OUT"
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$TMP_DIR/metrics" ||
	fail "cannot read /metrics"
grep -q "^tapswitch_port_err_disabled{port=\"c\"} 1\$" "$TMP_DIR/metrics" ||
	fail "/metrics does not say c is err-disabled: $(grep err_disabled "$TMP_DIR/metrics")"
grep -q "^tapswitch_port_rx_bpdu_total{port=\"c\"} 1\$" "$TMP_DIR/metrics" ||
	fail "/metrics does not count the BPDU"
ping_fails "$NS_C" 10.7.0.2
ping_ok "$NS_A" 10.7.0.2
# More frames, BPDUs too: dropped as from an err-disabled port, and
# nothing more is logged.
rf_send "$NS_C" "$IF_C" 01:80:c2:00:00:00 "$MAC_C" --type 0x0027 \
    --payload 424203000002023c8000525400000001000000008000525400000001800100001400020000 --count 3
wait_until 10 eval '(($(counter c rx_err_disabled) >= 3))' ||
	fail "frames from err-disabled c are not counted as rx_err_disabled"
[[ $(grep -c "port c: err-disabled (bpdu)" "$DAEMON_LOG") == 1 ]] ||
	fail "err-disabled (bpdu) is not logged exactly once"
ctl_json J port enable c
json_ok "$J" '.was_err_disabled == true' "port enable says c was err-disabled"
ctl_json J port show c
json_ok "$J" '.state == "up" and .err_disabled == null' "port c up again"
wait_until 10 nsx "$NS_C" ping -q -n -c 1 -W 1 10.7.0.2 >/dev/null ||
	fail "c cannot reach b after port enable"
ctl_status 0 port enable c
ctl_status 1 port enable nosuchport
pass "port c: err-disabled \(bpdu\)"
