#!/usr/bin/env bash
# netns-churn.sh - ports come and go in namespaces that come and go, and
# the daemon holds on to nothing of them: neither descriptors (its link
# monitor of a namespace, the TAP's queues) nor, through them, the
# namespaces themselves.
#   1. 20 rounds: a fresh namespace, "port add" of a tap port in it,
#      "port del", "ip netns del".
#   2. 20 rounds: a fresh namespace, "port add", then "ip netns del" under
#      the live port.  Each port goes down with a reason that names its
#      namespace and stays configured; then they are all deleted.
# After each part the daemon has as many open fds as before it (but for
# its one watch of /run/netns while ports in namespaces are configured),
# none of them a namespace (nsfs), and every namespace is gone from the
# kernel: each holds one end of a veth pair whose other end, in the
# daemon's namespace, disappears only when the namespace is destroyed.
# The log may hold the warnings of part 2, and nothing else.
TEST_TAG=nsch
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root jq
require_ctl

ROUNDS=20

conf=$(write_conf nsch <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
EOF
)
start_daemon "$conf"

# fd_count - print how many fds the daemon has open.
fd_count() {
	local fds
	fds=(/proc/"$DAEMON_PID"/fd/*)
	echo "${#fds[@]}"
}

# fds_are N - for wait_until: the daemon has N open fds.
# shellcheck disable=SC2317 # called through wait_until
fds_are() {
	[[ $(fd_count) == "$1" ]]
}

# inotify_fds - print how many inotify instances the daemon has.
inotify_fds() {
	ls -l "/proc/$DAEMON_PID/fd" 2>/dev/null | grep -c 'anon_inode:inotify'
}

# no_nsfs_fd - the daemon holds no namespace open.
no_nsfs_fd() {
	! ls -l "/proc/$DAEMON_PID/fd" 2>/dev/null | grep -q 'net:\['
}

# port_is NAME JQ-CONDITION - for wait_until: port show NAME satisfies it.
# shellcheck disable=SC2317 # called through wait_until
port_is() {
	ctl --json port show "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

# probes_gone NAME... - for wait_until: none of these links is left in
# the daemon's namespace.
# shellcheck disable=SC2317 # called through wait_until
probes_gone() {
	local l
	for l in "$@"; do
		link_exists "" "$l" && return 1
	done
	return 0
}

# round NS IF PROBE - give the fresh namespace NS a veth to PROBE (in the
# daemon's namespace), and tap port p-NS on IF in it, up.
round() {
	local ns=$1 ifname=$2 probe=$3 peer
	peer=p$probe
	ip link add "$probe" type veth peer name "${peer:0:15}" netns "$ns" ||
		fail "cannot create the veth $probe into $ns"
	ctl_status 0 port add "p-$ns" ifname="$ifname" netns="$ns"
	wait_until 10 port_is "p-$ns" '.state == "up"' ||
		fail "port p-$ns is not up: $(ctl --json port show "p-$ns")"
}

base=$(fd_count)
log "the daemon has $base open fds"

# 1. Add, delete, namespace gone.
probes=()
for ((i = 0; i < ROUNDS; i++)); do
	new_ns ns
	new_name ifname
	new_name probe
	round "$ns" "$ifname" "$probe"
	probes+=("$probe")
	ctl_status 0 port del "p-$ns"
	ip netns del "$ns" || fail "cannot delete $ns"
done
wait_until 10 fds_are "$base" ||
	fail "after $ROUNDS rounds of port add/del in fresh namespaces the daemon has $(fd_count) open fds, not $base"
no_nsfs_fd || fail "the daemon holds a namespace open: $(ls -l "/proc/$DAEMON_PID/fd")"
wait_until 20 probes_gone "${probes[@]}" ||
	fail "deleted namespaces are still alive (veth ends left: $(ip -br link | grep -c "^t$TEST_TAG"))"
log "ok: $ROUNDS rounds of port add/del: $(fd_count) fds (was $base), every namespace released"

# 2. The namespace is deleted under a live port.
probes=()
ports=()
for ((i = 0; i < ROUNDS; i++)); do
	new_ns ns
	new_name ifname
	new_name probe
	round "$ns" "$ifname" "$probe"
	probes+=("$probe")
	ports+=("p-$ns")
	ip netns del "$ns" || fail "cannot delete $ns"
done
for p in "${ports[@]}"; do
	wait_until 10 port_is "$p" ".state == \"down\" and
	    (.reason | type) == \"string\" and
	    (.reason | contains(\"${p#p-}\"))" ||
		fail "port $p is not down with a reason naming its deleted namespace: $(ctl --json port show "$p")"
done
# The ports wait for their namespaces: the watch of /run/netns stays.
wait_until 10 fds_are $((base + 1)) ||
	fail "after $ROUNDS namespaces deleted under a live port the daemon has $(fd_count) open fds, not $base + 1 (the watch of /run/netns)"
[[ $(inotify_fds) == 1 ]] ||
	fail "the daemon has $(inotify_fds) inotify instances, not 1: $(ls -l "/proc/$DAEMON_PID/fd")"
no_nsfs_fd || fail "the daemon holds a namespace open: $(ls -l "/proc/$DAEMON_PID/fd")"
wait_until 20 probes_gone "${probes[@]}" ||
	fail "deleted namespaces are still alive (veth ends left: $(ip -br link | grep -c "^t$TEST_TAG"))"
ctl_json list port list
[[ $(json_get "$list" '[.ports[] | select(.name | startswith("p-"))] | length') == "$ROUNDS" ]] ||
	fail "the ports in deleted namespaces must stay configured: $list"
log "ok: $ROUNDS namespaces deleted under live ports: ports down and configured, $(fd_count) fds (was $base; one watches /run/netns), every namespace released"

for p in "${ports[@]}"; do
	ctl_status 0 port del "$p"
done
wait_until 10 fds_are "$base" ||
	fail "after deleting the ports the daemon has $(fd_count) open fds, not $base"
log "ok: ports deleted: $(fd_count) fds"

pass '^tapswitchd: warning: port p-tsw-[a-z0-9]+: network namespace tsw-[a-z0-9]+ was deleted'
