#!/usr/bin/env bash
# system-hotplug.sh - the interface of a "system" port comes and goes
# while the daemon runs.  Port up is one end of a veth pair (in its own
# namespace; the other end is the upstream, 10.72.0.100); tap ports a and
# b are namespaces with 10.72.0.1 and .2.
#   1. The veth does not exist at the start: the daemon starts all the
#      same, port up is down with a reason that names the interface, and
#      a and b forward.
#   2. The veth is created: the port comes up by itself (on the new
#      ifindex) and a reaches the upstream.
#   3. It is deleted: the port goes down with a reason, the daemon lives,
#      a and b keep forwarding (pings, 20 broadcasts).
#   4. 10 more rounds of create, ping, delete: the daemon's and its
#      helper's open fds and the daemon's VmRSS do not grow (past a small
#      slack) over the rounds; fds that the daemon closes a moment later
#      (after a grace period) do not count.
#   5. Deleted and re-created at once (no wait in between): the port
#      follows to the new interface and forwarding resumes.
#   6. Refused by port add, with exit status 1, a message and no change
#      to the port list: lo (of the daemon's namespace and of another),
#      an interface enslaved to a Linux bridge, the TAP of tap port a,
#      and up's interface a second time (absent and present).
#   7. Refused at start-up: a configuration with a system port on lo or
#      on a bridge port does not start (exit 1, a message naming the
#      interface); "tapswitchd -n" rejects mtu and persist in a system
#      port at their lines.
# The log may hold warnings about port up, and nothing else.
TEST_TAG=shot
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq
require_ctl
require_rawframe

UP_ADDR=10.72.0.100
# Fixed MACs: a re-created upstream keeps a's neighbour entry valid.
MAC_S=02:00:00:72:00:01
MAC_U=02:00:00:72:00:64
ROUNDS=10
SLACK_FDS=2		# fds the daemon may hold for a moment
SLACK_RSS_KB=1024
new_name IF_S; new_ns NS_S	# the system port's end of the veth
new_name IF_U; new_ns NS_U	# the upstream end
new_name IF_A; new_ns NS_A	# tap port a, 10.72.0.1
new_name IF_B; new_ns NS_B	# tap port b, 10.72.0.2

veth_create() {
	ip -n "$NS_S" link add "$IF_S" address "$MAC_S" type veth \
	    peer name "$IF_U" address "$MAC_U" netns "$NS_U" ||
		fail "cannot create the veth pair $IF_S / $IF_U"
	ip -n "$NS_S" link set "$IF_S" up || fail "cannot set $IF_S up"
	ip -n "$NS_U" link set "$IF_U" up || fail "cannot set $IF_U up"
	addr_add "$NS_U" "$IF_U" "$UP_ADDR/24"
	IFINDEX_S=$(nsx "$NS_S" cat "/sys/class/net/$IF_S/ifindex") ||
		fail "no ifindex for $IF_S"
}

veth_delete() {
	ip -n "$NS_S" link del "$IF_S" || fail "cannot delete $IF_S"
}

# port_is NAME JQ-CONDITION - for wait_until: port show NAME satisfies it.
# shellcheck disable=SC2317 # called through wait_until
port_is() {
	ctl --json port show "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

# wait_port_up / wait_port_down - port up follows its interface.
wait_port_up() {
	wait_until 5 port_is up ".state == \"up\" and .reason == null and
	    .ifindex == $IFINDEX_S" ||
		fail "$1: port up is not up on $IF_S (ifindex $IFINDEX_S): $(ctl --json port show up)"
}
wait_port_down() {
	wait_until 5 port_is up ".state == \"down\" and
	    (.reason | type) == \"string\" and
	    (.reason | contains(\"$IF_S\"))" ||
		fail "$1: port up is not down with a reason naming $IF_S: $(ctl --json port show up)"
}

# reach_upstream WHAT - a reaches the upstream (after a warm-up).
reach_upstream() {
	wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 "$UP_ADDR" >/dev/null ||
		fail "$1: a cannot reach the upstream"
}

# a_b_forward WHAT - a and b ping each other.
a_b_forward() {
	ping_ok "$NS_A" 10.72.0.2
	ping_ok "$NS_B" 10.72.0.1
}

# fds PID / rss_kb PID
fds() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}
# fds_min PID - the fewest open fds PID has over 2 s: the sockets of a
# port whose interface went are closed after a grace period, not at once.
fds_min() {
	local min n i
	min=$(fds "$1")
	for ((i = 0; i < 20; i++)); do
		sleep 0.1
		n=$(fds "$1")
		((n < min)) && min=$n
	done
	echo "$min"
}
# fds_at_most PID N - for wait_until.
# shellcheck disable=SC2317 # called through wait_until
fds_at_most() {
	(($(fds "$1") <= $2))
}
rss_kb() {
	proc_status "$1" VmRSS | awk '{ print $1 }'
}

# refused WHAT ARGS... - "tapswitchctl port add ARGS..." fails with
# status 1 and a message, and the port list stays a, b, up.
refused() {
	local what=$1 J
	shift
	ctl_status 1 port add "$@"
	log "ok: port add refuses $what: $CTL_ERR"
	ctl_json J port list
	json_ok "$J" '[.ports[].name] == ["a","b","up"]' \
	    "port list after the refused port add of $what"
}

CONF=$(write_conf shot <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port up]
type = system
ifname = $IF_S
netns = $NS_S

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)

# --- 1. Absent at the start.
start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.72.0.1/24
addr_add "$NS_B" "$IF_B" 10.72.0.2/24
ctl_json J port show up
json_ok "$J" ".type == \"system\" and .ifname == \"$IF_S\" and
    .netns == \"$NS_S\" and .state == \"down\" and
    (.reason | type) == \"string\" and (.reason | contains(\"$IF_S\"))" \
    "port show up without its interface"
log "ok: started without $IF_S: port up is down: $(json_get "$J" .reason)"
ctl_json J port list
json_ok "$J" '[.ports[] | select(.name != "up") | .state] == ["up","up"]' \
    "a and b are up"
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.72.0.2 >/dev/null ||
	fail "a cannot reach b"
a_b_forward
log "ok: a <-> b forward"

# --- 2. Created.
veth_create
wait_port_up "created"
reach_upstream "created"
ping_ok "$NS_A" "$UP_ADDR"
ping_ok "$NS_U" 10.72.0.2
ctl_json F fdb show port=up
json_ok "$F" "any(.entries[]; .mac == \"$MAC_U\")" \
    "fdb show port=up: the upstream MAC $MAC_U"
log "ok: $IF_S created: port up came up, a and b reach the upstream"

# --- 3. Deleted.
veth_delete
wait_port_down "deleted"
daemon_alive || fail "tapswitchd died when $IF_S was deleted"
a_b_forward
SRC=02:00:00:72:00:aa
rf_recv R "$NS_B" "$IF_B" --timeout 3000 --src "$SRC" --count 20
rf_send "$NS_A" "$IF_A" ff:ff:ff:ff:ff:ff "$SRC" --count 20
rf_wait "$R" || fail "b got $(rf_out "$R" | wc -l) of 20 broadcasts from a"
log "ok: $IF_S deleted: port up down ($(ctl --json port show up | jq -r .reason)), a <-> b forward"

# --- 4. Rounds: nothing grows.
HELPER=$(helper_pid)
[[ -n $HELPER ]] || fail "no privileged helper process"
round() {
	veth_create
	wait_port_up "round $1"
	reach_upstream "round $1"
	veth_delete
	wait_port_down "round $1"
}
round warm-up
FDS_D0=$(fds_min "$DAEMON_PID")
FDS_H0=$(fds_min "$HELPER")
RSS_D0=$(rss_kb "$DAEMON_PID")
for ((i = 1; i <= ROUNDS; i++)); do
	round "$i"
done
wait_until 5 fds_at_most "$DAEMON_PID" $((FDS_D0 + SLACK_FDS)) ||
	fail "the daemon's open fds grew from $FDS_D0 to $(fds "$DAEMON_PID") over $ROUNDS rounds: $(ls -l "/proc/$DAEMON_PID/fd")"
wait_until 5 fds_at_most "$HELPER" $((FDS_H0 + SLACK_FDS)) ||
	fail "the helper's open fds grew from $FDS_H0 to $(fds "$HELPER") over $ROUNDS rounds: $(ls -l "/proc/$HELPER/fd")"
FDS_D1=$(fds "$DAEMON_PID")
FDS_H1=$(fds "$HELPER")
RSS_D1=$(rss_kb "$DAEMON_PID")
log "after $ROUNDS rounds: daemon fds $FDS_D0 -> $FDS_D1, helper fds" \
    "$FDS_H0 -> $FDS_H1, daemon VmRSS $RSS_D0 -> $RSS_D1 kB"
((RSS_D1 <= RSS_D0 + SLACK_RSS_KB)) ||
	fail "the daemon's VmRSS grew from $RSS_D0 to $RSS_D1 kB over $ROUNDS rounds"
log "ok: $ROUNDS rounds of create and delete: no fd or memory growth"

# --- 5. Deleted and re-created at once.
veth_create
wait_port_up "created again"
veth_delete
veth_create
wait_port_up "deleted and re-created at once"
reach_upstream "re-created at once"
ping_ok "$NS_A" "$UP_ADDR"
ping_ok "$NS_U" 10.72.0.1
a_b_forward
log "ok: deleted and re-created at once: port up follows, forwarding resumes"

# --- 6. Refused by port add.
new_name IF_BR; new_name IF_X; new_name IF_Y
ip -n "$NS_S" link add "$IF_BR" type bridge || fail "cannot create bridge $IF_BR"
ip -n "$NS_S" link add "$IF_X" type veth peer name "$IF_Y" ||
	fail "cannot create the veth pair $IF_X / $IF_Y"
ip -n "$NS_S" link set "$IF_X" master "$IF_BR" ||
	fail "cannot enslave $IF_X to $IF_BR"
for l in "$IF_X" "$IF_Y" "$IF_BR"; do
	ip -n "$NS_S" link set "$l" up || fail "cannot set $l up"
done

refused "lo" lo1 type=system ifname=lo
grep -qwE 'lo|loopback' <<<"$CTL_ERR" ||
	fail "the refusal of lo does not name it: $CTL_ERR"
refused "lo of $NS_S" lo2 type=system ifname=lo "netns=$NS_S"
refused "bridge port $IF_X" br1 type=system "ifname=$IF_X" "netns=$NS_S"
grep -qF "$IF_X" <<<"$CTL_ERR" ||
	fail "the refusal of the bridge port does not name $IF_X: $CTL_ERR"
ip -n "$NS_S" -d link show dev "$IF_X" | grep -q "master $IF_BR" ||
	fail "$IF_X left $IF_BR after the refused port add"
refused "tap port a's TAP" t2 type=system "ifname=$IF_A" "netns=$NS_A"
grep -qF "$IF_A" <<<"$CTL_ERR" ||
	fail "the refusal of $IF_A does not name it: $CTL_ERR"
refused "up's interface again" up2 type=system "ifname=$IF_S" "netns=$NS_S"
veth_delete
wait_port_down "deleted before the refusals"
refused "up's absent interface again" up2 type=system "ifname=$IF_S" \
    "netns=$NS_S"
veth_create
wait_port_up "after the refusals"
reach_upstream "after the refusals"
a_b_forward
log "ok: the refusals changed nothing: a, b and up forward"

stop_daemon
check_log_clean '^tapswitchd: warning: port up[: ]'

# --- 7. Refused at start-up, and by tapswitchd -n.
# bad_start NAME IFNAME NETNS - a configuration with a system port on
# IFNAME in NETNS ("" = the daemon's) does not start.
bad_start() {
	local name=$1 ifname=$2 netns=$3 f rc=0
	f=$(write_conf "$name" <<EOF
[switch]
control_socket = $TMP_DIR/$name.sock

[port x]
type = system
ifname = $ifname
${netns:+netns = $netns}
EOF
)
	timeout 10 "$TSWD" -f "$f" --pidfile "$TMP_DIR/$name.pid" \
	    </dev/null >"$TMP_DIR/$name.log" 2>&1 || rc=$?
	((rc == 1)) ||
		fail "$name: a start with a system port on $ifname exited with $rc, want 1: $(cat "$TMP_DIR/$name.log")"
	grep -qF "$ifname" "$TMP_DIR/$name.log" ||
		fail "$name: the failed start does not name $ifname: $(cat "$TMP_DIR/$name.log")"
	[[ ! -e $TMP_DIR/$name.sock && ! -e $TMP_DIR/$name.pid ]] ||
		fail "$name: the failed start left its control socket or pidfile"
	log "ok: $name: does not start: $(grep -F "$ifname" "$TMP_DIR/$name.log" | head -n 1)"
}
bad_start start-lo lo ""
bad_start start-bridge-port "$IF_X" "$NS_S"

# bad_key KEY VALUE - tapswitchd -n rejects KEY in a system port, at its
# line.
bad_key() {
	local key=$1 value=$2 f line rc=0
	f=$(write_conf "key-$key" <<EOF
[switch]
control_socket = $CTL_SOCK

[port up]
type = system
ifname = $IF_S
netns = $NS_S
$key = $value
EOF
)
	line=$(grep -n "^$key = " "$f" | cut -d: -f1)
	"$TSWD" -n -f "$f" >"$TMP_DIR/key.out" 2>"$TMP_DIR/key.err" || rc=$?
	((rc == 1)) ||
		fail "tapswitchd -n with $key in a system port: exit status $rc, want 1: $(cat "$TMP_DIR/key.err")"
	grep -qE "^$f:$line: .*\\b$key\\b.*system" "$TMP_DIR/key.err" ||
		fail "tapswitchd -n with $key in a system port: no \"$f:$line: ...\" message naming $key and the type: $(cat "$TMP_DIR/key.err")"
	log "ok: $key in a system port: $(cat "$TMP_DIR/key.err")"
}
bad_key mtu 1400
bad_key persist no

link_exists "$NS_S" "$IF_S" || fail "$IF_S is gone"
pass '^tapswitchd: warning: port up[: ]'
