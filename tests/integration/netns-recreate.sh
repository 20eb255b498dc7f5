#!/usr/bin/env bash
# netns-recreate.sh - a namespace is deleted and made again under the same
# name, and the daemon follows the namespace, not the name.  Namespace NS
# holds tap port t (10.74.0.1) and system port s (one end of a veth pair
# whose other end is in NS_U); tap port r, 10.74.0.2, is in NS_R.
#   1. "ip netns del NS": t and s go down with a reason naming NS, and NS
#      is released (the veth end in NS_U disappears with it).
#   2. "ip netns add NS" again: t comes up by itself on a new TAP in the
#      new NS, and forwards (ping r); s comes up once its veth is made
#      again there.
#   3. In the new NS, "ip link set down" of either interface makes its
#      port down, "up" up again, and "ip link del" makes it down with a
#      reason: the link monitor is that of the new namespace.
#   4. Once more with the daemon stopped (SIGSTOP) while NS is deleted
#      and made again, so that it sees both at once and the name already
#      stands for the new namespace: t follows to the new one, and its
#      link changes there are seen.
# The log may hold warnings about ports t and s, and nothing else.
TEST_TAG=nsrc
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq
require_ctl

new_name IF_T
new_name IF_S
new_name IF_U
new_name IF_R
new_ns NS
new_ns NS_U
new_ns NS_R

conf=$(write_conf nsrc <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port t]
ifname = $IF_T
netns = $NS

[port s]
type = system
ifname = $IF_S
netns = $NS

[port r]
ifname = $IF_R
netns = $NS_R
EOF
)

# veth_create - the system port's interface in NS, its peer in NS_U.
veth_create() {
	ip -n "$NS" link add "$IF_S" type veth peer name "$IF_U" netns "$NS_U" ||
		fail "cannot create the veth pair $IF_S / $IF_U"
	ip -n "$NS" link set "$IF_S" up || fail "cannot set $IF_S up"
	ip -n "$NS_U" link set "$IF_U" up || fail "cannot set $IF_U up"
}

# port_is NAME JQ-CONDITION - for wait_until: port show NAME satisfies it.
# shellcheck disable=SC2317 # called through wait_until
port_is() {
	ctl --json port show "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

# want_port NAME JQ-CONDITION WHAT - wait until port NAME satisfies it.
want_port() {
	wait_until 10 port_is "$1" "$2" ||
		fail "$3: port $1 is not as it should be ($2): $(ctl --json port show "$1")"
}

# want_up NAME WHAT - port NAME is up on the interface that its
# namespace has now.
want_up() {
	local ifname=$1 idx
	[[ $1 == t ]] && ifname=$IF_T
	[[ $1 == s ]] && ifname=$IF_S
	wait_until 10 link_exists "$NS" "$ifname" || fail "$2: no $ifname in $NS"
	idx=$(nsx "$NS" cat "/sys/class/net/$ifname/ifindex") ||
		fail "$2: no ifindex for $ifname"
	want_port "$1" ".state == \"up\" and .ifindex == $idx" "$2"
}

# want_down NAME TEXT WHAT - port NAME is down with a reason containing
# TEXT.
want_down() {
	want_port "$1" ".state == \"down\" and (.reason | type) == \"string\"
	    and (.reason | contains(\"$2\"))" "$3"
}

# follows WHAT - the link monitor of the NS of now: t follows its TAP
# going down, up and away; s its veth.
follows() {
	ip -n "$NS" link set "$IF_T" down || fail "cannot set $IF_T down"
	want_port t '.state == "down"' "$1: $IF_T set down"
	ip -n "$NS" link set "$IF_T" up || fail "cannot set $IF_T up"
	want_up t "$1: $IF_T set up"
	ip -n "$NS" link set "$IF_S" down || fail "cannot set $IF_S down"
	want_port s '.state == "down"' "$1: $IF_S set down"
	ip -n "$NS" link set "$IF_S" up || fail "cannot set $IF_S up"
	want_up s "$1: $IF_S set up"
	ip -n "$NS" link del "$IF_T" || fail "cannot delete $IF_T"
	want_down t "$IF_T" "$1: $IF_T deleted"
	ip -n "$NS" link del "$IF_S" || fail "cannot delete $IF_S"
	want_down s "$IF_S" "$1: $IF_S deleted"
}

veth_create
start_daemon "$conf"
want_up t "at start"
want_up s "at start"
addr_add "$NS_R" "$IF_R" 10.74.0.2/24
addr_add "$NS" "$IF_T" 10.74.0.1/24
wait_until 10 nsx "$NS" ping -q -n -c 1 -W 1 10.74.0.2 >/dev/null ||
	fail "t cannot reach r at start"
log "ok: t and s up, t reaches r"

# 1. Deleted.
ip netns del "$NS" || fail "cannot delete $NS"
want_down t "namespace $NS was deleted" "$NS deleted"
want_down s "namespace $NS was deleted" "$NS deleted"
wait_until 20 link_gone "$NS_U" "$IF_U" ||
	fail "$NS is still alive after ip netns del ($IF_U is left in $NS_U)"
log "ok: $NS deleted: t and s down, the namespace released"

# 2. Made again: t by itself, s with its interface.
ns_add "$NS"
want_up t "$NS made again"
want_down s "$IF_S" "$NS made again, no $IF_S yet"
addr_add "$NS" "$IF_T" 10.74.0.1/24
wait_until 10 nsx "$NS" ping -q -n -c 1 -W 1 10.74.0.2 >/dev/null ||
	fail "t cannot reach r in the new $NS"
veth_create
want_up s "$IF_S made again in the new $NS"
log "ok: $NS made again: t is back and reaches r, s is back with its veth"

# 3. Link changes in the new namespace.
follows "new $NS"
log "ok: link changes in the new $NS are followed"

# 4. Deleted and made again while the daemon does not look (t's TAP and
# s's veth are gone already: the new namespace gives t a new TAP).
kill -STOP "$DAEMON_PID" || fail "cannot stop tapswitchd"
ip netns del "$NS" || { kill -CONT "$DAEMON_PID"; fail "cannot delete $NS"; }
ns_add "$NS"
kill -CONT "$DAEMON_PID" || fail "cannot continue tapswitchd"
want_up t "$NS deleted and made again while the daemon was stopped"
want_down s "$IF_S" "$NS deleted and made again while the daemon was stopped"
veth_create
want_up s "$IF_S made again"
follows "new $NS, seen at once"
log "ok: $NS deleted and made again unseen: t and s follow the new one"

pass '^tapswitchd: warning: port [ts][: ]'
