#!/usr/bin/env bash
# reload-reconcile.sh - a reload opens again the ports of the file whose
# settings did not change but which are closed.  Tap ports a (10.75.0.1)
# and b (10.75.0.2) and c are in namespaces of their own.
#   1. a's TAP is deleted behind the daemon's back: a is down.
#      "tapswitchctl --json reload" says reopened ["a"] (and 3 unchanged),
#      a has a new TAP, up, and a and b forward again.
#   2. Again, without --json: tapswitchctl prints "reopened: a".  A reload
#      with nothing closed reopens nothing.
#   3. a's TAP deleted once more and c's namespace deleted: the reload
#      fails (exit 1) with a line for port c that says its namespace does
#      not exist and how to make it, and a is reopened all the same; c
#      stays configured, down.  Once the namespace is made again, c comes
#      back by itself.
# The log may hold warnings about ports a and c and the failed reload,
# and nothing else.
TEST_TAG=rrec
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq
require_ctl

new_name IF_A
new_name IF_B
new_name IF_C
new_ns NS_A
new_ns NS_B
new_ns NS_C

conf=$(write_conf rrec <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B

[port c]
ifname = $IF_C
netns = $NS_C
EOF
)

# port_is NAME JQ-CONDITION - for wait_until: port show NAME satisfies it.
# shellcheck disable=SC2317 # called through wait_until
port_is() {
	ctl --json port show "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

# a_reaches_b WHAT - a's TAP has its address, and a and b forward.
a_reaches_b() {
	addr_add "$NS_A" "$IF_A" 10.75.0.1/24
	wait_until 10 nsx "$NS_A" ping -q -n -c 1 -W 1 10.75.0.2 >/dev/null ||
		fail "$1: a cannot reach b"
	ping_ok "$NS_B" 10.75.0.1
}

# delete_a - delete a's TAP and wait until the daemon has seen it.
delete_a() {
	ip -n "$NS_A" link del "$IF_A" || fail "cannot delete $IF_A"
	wait_until 10 port_is a '.state == "down" and (.reason | type) == "string"' ||
		fail "port a is not down after $IF_A was deleted: $(ctl --json port show a)"
}

# a_is_back WHAT - a has a TAP again, and is up on it.
a_is_back() {
	local idx
	link_exists "$NS_A" "$IF_A" || fail "$1: no $IF_A in $NS_A"
	idx=$(nsx "$NS_A" cat "/sys/class/net/$IF_A/ifindex")
	wait_until 10 port_is a ".state == \"up\" and .ifindex == $idx" ||
		fail "$1: port a is not up on $IF_A: $(ctl --json port show a)"
}

start_daemon "$conf"
addr_add "$NS_B" "$IF_B" 10.75.0.2/24
a_reaches_b "at start"
log "ok: a reaches b"

# 1. TAP deleted, reload.
delete_a
ctl_json res reload
a_is_back "reload"
json_ok "$res" '.reopened == ["a"] and .unchanged == 3 and .added == []
    and .removed == [] and .changed == []' "reload after $IF_A was deleted"
a_reaches_b "after the reload"
log "ok: reload re-created a's TAP and a forwards again"

# 2. The text output, and a reload with nothing to reopen.
delete_a
ctl_status 0 reload
grep -qE '^reopened: +a$' <<<"$CTL_OUT" ||
	fail "tapswitchctl reload does not say \"reopened: a\": $CTL_OUT"
a_is_back "reload (text)"
ctl_json res reload
json_ok "$res" '.reopened == [] and .unchanged == 3' "reload with nothing closed"
log "ok: tapswitchctl reload prints what it reopened"

# 3. A namespace that is gone: the rest is applied, the failure said.
delete_a
ip netns del "$NS_C" || fail "cannot delete $NS_C"
wait_until 10 port_is c '.state == "down"' ||
	fail "port c is not down after $NS_C was deleted: $(ctl --json port show c)"
ctl_status 1 reload
grep -qF "port c: network namespace \"$NS_C\" does not exist" <<<"$CTL_ERR" &&
    grep -qF "ip netns add $NS_C" <<<"$CTL_ERR" ||
	fail "the failed reload does not say why port c is not open: $CTL_ERR"
grep -q "port a" <<<"$CTL_ERR" && fail "the reload lists port a as failed: $CTL_ERR"
a_is_back "reload with $NS_C missing"
ctl_json res port show c
json_ok "$res" '.state == "down"' "port c stays configured, down"
grep -qF "reloaded $conf: 0 added, 0 removed, 0 changed, 3 unchanged, 1 reopened" \
    "$DAEMON_LOG" || fail "no \"1 reopened\" in the log"
ns_add "$NS_C"
wait_until 10 port_is c '.state == "up"' ||
	fail "port c is not up once $NS_C is back: $(ctl --json port show c)"
log "ok: a reload with a namespace missing reopens a and says why c is not"

pass '^tapswitchd: warning: port [ac][: ]' \
    '^tapswitchd: error: reload: some ports could not be set up'
