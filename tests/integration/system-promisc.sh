#!/usr/bin/env bash
# system-promisc.sh - a "system" port makes its interface promiscuous
# while it is attached, and only then.  Port s is one end of a veth pair
# in a namespace (netns =), port r one in the daemon's own namespace.
# "Promiscuous" is the interface's promiscuity count (ip -d link show):
# the daemon's packet sockets hold a membership that the kernel drops when
# they close, so it must go back to what it was after
#   - SIGTERM,
#   - kill -9 (the helper dies too),
#   - port del s (r stays promiscuous; port add s makes s so again),
# and a promiscuous mode the administrator set before stays set.  The
# daemon never deletes the interfaces, nor sets them down, nor changes
# their MTU (s has 1400: port show says so).
TEST_TAG=sprm
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root jq
require_ctl

new_name IF_S; new_ns NS_S	# port s's end of a veth
new_name IF_P; new_ns NS_P	# its peer
new_name IF_R			# port r's end, in the root namespace
new_name IF_Q; new_ns NS_Q	# its peer

ip -n "$NS_S" link add "$IF_S" mtu 1400 type veth peer name "$IF_P" \
    netns "$NS_P" || fail "cannot create the veth pair $IF_S / $IF_P"
ip link add "$IF_R" type veth peer name "$IF_Q" netns "$NS_Q" ||
	fail "cannot create the veth pair $IF_R / $IF_Q"
# No IPv6 chatter from the root namespace on r.
sysctl -q -w "net.ipv6.conf.$IF_R.disable_ipv6=1" 2>/dev/null ||
	log "note: cannot disable IPv6 on $IF_R"
for l in "$NS_S:$IF_S" "$NS_P:$IF_P" ":$IF_R" "$NS_Q:$IF_Q"; do
	IFS=: read -r ns ifname <<<"$l"
	nsx "$ns" ip link set dev "$ifname" up || fail "cannot set $ifname up"
done

# promiscuity NS IFNAME - print the interface's promiscuity count.
promiscuity() {
	nsx "$1" ip -d link show dev "$2" |
	    sed -n 's/.* promiscuity \([0-9][0-9]*\) .*/\1/p'
}

# promisc_is NS IFNAME N - for wait_until: the count is N.
# shellcheck disable=SC2317 # called through wait_until
promisc_is() {
	[[ $(promiscuity "$1" "$2") == "$3" ]]
}

# promisc_above NS IFNAME N - for wait_until: the count is above N.
promisc_above() {
	local n
	n=$(promiscuity "$1" "$2")
	[[ -n $n ]] && ((n > $3))
}

# intact WHAT - both interfaces exist, are up and s has MTU 1400.
intact() {
	link_exists "$NS_S" "$IF_S" || fail "$1: $IF_S is gone"
	link_exists "" "$IF_R" || fail "$1: $IF_R is gone"
	link_is_up "$NS_S" "$IF_S" || fail "$1: $IF_S is down"
	link_is_up "" "$IF_R" || fail "$1: $IF_R is down"
	[[ $(link_mtu "$NS_S" "$IF_S") == 1400 ]] ||
		fail "$1: $IF_S has MTU $(link_mtu "$NS_S" "$IF_S"), want 1400"
}

# attached WHAT - after a start: s and r are promiscuous (above their
# counts before, in P0_S and P0_R).
attached() {
	wait_until 2 promisc_above "$NS_S" "$IF_S" "$P0_S" ||
		fail "$1: $IF_S is not promiscuous: promiscuity $(promiscuity "$NS_S" "$IF_S"), $P0_S before"
	wait_until 2 promisc_above "" "$IF_R" "$P0_R" ||
		fail "$1: $IF_R is not promiscuous: promiscuity $(promiscuity "" "$IF_R"), $P0_R before"
	log "ok: $1: $IF_S and $IF_R promiscuous (promiscuity" \
	    "$(promiscuity "$NS_S" "$IF_S") and $(promiscuity "" "$IF_R"))"
}

# released WHAT - s and r are back to their counts before.
released() {
	wait_until 2 promisc_is "$NS_S" "$IF_S" "$P0_S" ||
		fail "$1: $IF_S still has promiscuity $(promiscuity "$NS_S" "$IF_S"), want $P0_S"
	wait_until 2 promisc_is "" "$IF_R" "$P0_R" ||
		fail "$1: $IF_R still has promiscuity $(promiscuity "" "$IF_R"), want $P0_R"
	intact "$1"
	log "ok: $1: promiscuity back to $P0_S and $P0_R, interfaces intact"
}

CONF=$(write_conf sprm <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port s]
type = system
ifname = $IF_S
netns = $NS_S

[port r]
type = system
ifname = $IF_R
EOF
)

P0_S=$(promiscuity "$NS_S" "$IF_S")
P0_R=$(promiscuity "" "$IF_R")
[[ $P0_S == 0 && $P0_R == 0 ]] ||
	fail "the new veths are promiscuous already ($P0_S, $P0_R)"

# --- SIGTERM.
start_daemon "$CONF"
attached "start"
ctl_json J port show s
json_ok "$J" '.type == "system" and .state == "up" and .mtu == 1400' \
    "port show s: up, MTU 1400 as its interface has"
ctl_json J port show r
json_ok "$J" ".type == \"system\" and .state == \"up\" and .netns == null and
    .ifname == \"$IF_R\"" "port show r: in the daemon's namespace"
intact "start"

# --- port del, port add.
ctl_status 0 port del s
wait_until 2 promisc_is "$NS_S" "$IF_S" "$P0_S" ||
	fail "port del s: $IF_S still has promiscuity $(promiscuity "$NS_S" "$IF_S")"
promisc_above "" "$IF_R" "$P0_R" || fail "port del s: $IF_R is no longer promiscuous"
intact "port del s"
log "ok: port del s: $IF_S is not promiscuous and still there, $IF_R still is"
ctl_json J port add s type=system "ifname=$IF_S" "netns=$NS_S"
json_ok "$J" '.type == "system" and .state == "up"' "port add s: up"
attached "port add s"

stop_daemon
released "SIGTERM"

# --- kill -9.
start_daemon "$CONF"
attached "start after SIGTERM"
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no privileged helper process"
kill -KILL "$DAEMON_PID" || fail "cannot kill tapswitchd"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
wait_until 2 pid_gone "$HELPER" ||
	fail "the privileged helper $HELPER outlived the daemon"
released "kill -9"

# --- The administrator's promiscuous mode stays.
ip -n "$NS_S" link set dev "$IF_S" promisc on ||
	fail "cannot set $IF_S promisc"
P0_S=$(promiscuity "$NS_S" "$IF_S")
((P0_S > 0)) || fail "ip link set promisc on made no promiscuity on $IF_S"
start_daemon "$CONF"
attached "start after kill -9, $IF_S promisc by hand"
stop_daemon
released "SIGTERM, $IF_S promisc by hand"
ip -n "$NS_S" link show dev "$IF_S" | grep -q PROMISC ||
	fail "the daemon cleared the promiscuous mode set by hand on $IF_S"

pass
