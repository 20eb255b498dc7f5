#!/usr/bin/env bash
# ctl-commands.sh - every tapswitchctl command against a live daemon, its
# --json output (the names tapswitchctl(8) promises), its tables and its
# exit statuses:
#   status; port list / show (every field, counters rise with traffic);
#   port add with vlan, mtu and netns (the TAP appears in that namespace
#   with that MTU and carries traffic) and port del (the TAP and its MAC
#   entries go); fdb show with port= and vlan=; fdb add (static: survives
#   a flush and is not moved by a frame from another port with that
#   source), fdb del, fdb flush [port=]; stats [NAME] [--queues] (the
#   queues add up to the totals); reload (added, changed, removed) and the
#   same through SIGHUP; exit 0 / 1 (daemon error, message on stderr) /
#   2 (usage) / 3 (no daemon, the message names the socket).
TEST_TAG=ctlc
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq python3
require_ctl
require_rawframe

new_name IF_A; new_ns NS_A	# access VLAN 1, 10.20.0.1
new_name IF_B; new_ns NS_B	# access VLAN 1, 10.20.0.2
new_name IF_V; new_ns NS_V	# access VLAN 7, mac_limit 4, 10.20.7.1
new_name IF_T; new_ns NS_T	# trunk
new_name IF_E; new_ns NS_E	# VLAN changed by reloads
new_name IF_C; new_ns NS_C	# added at runtime: VLAN 7, 10.20.7.3
# In the root namespace (whose IPv6 may send a frame or two):
new_name IF_N1			# added by a reload
new_name IF_N2			# added by SIGHUP

# main_conf E_VLAN [EXTRA-PORT...] - (re)write the configuration: the
# fixed ports, port e in VLAN E_VLAN and the extra ports "name:ifname".
CONF=""
main_conf() {
	local e_vlan=$1 x
	shift
	CONF=$(write_conf ctlc <<EOF
[switch]
queues = 2
fdb_size = 1024
fdb_aging = 120
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B

[port v]
ifname = $IF_V
netns = $NS_V
vlan = 7
mac_limit = 4

[port t]
ifname = $IF_T
netns = $NS_T
trunk = 7,20-22
native = 7

[port e]
ifname = $IF_E
netns = $NS_E
vlan = $e_vlan
$(for x in "$@"; do
	printf '\n[port %s]\nifname = %s\n' "${x%%:*}" "${x#*:}"
done)
EOF
)
}

# out_has WHAT REGEX... - every REGEX matches a line of $CTL_OUT (the
# table tapswitchctl printed for WHAT).
out_has() {
	local what=$1 re
	shift
	for re in "$@"; do
		grep -qE -- "$re" <<<"$CTL_OUT" ||
			fail "$what (table): no line matches /$re/ in:
$CTL_OUT"
	done
}

main_conf 1
start_daemon "$CONF"
START_US=$(now_us)
addr_add "$NS_A" "$IF_A" 10.20.0.1/24
addr_add "$NS_B" "$IF_B" 10.20.0.2/24
addr_add "$NS_V" "$IF_V" 10.20.7.1/24
MAC_A=$(link_mac "$NS_A" "$IF_A")
MAC_B=$(link_mac "$NS_B" "$IF_B")
MAC_V=$(link_mac "$NS_V" "$IF_V")
# Permanent neighbours: no ARP in the background, so the MAC table holds
# exactly what the test's own pings and frames put there.
neigh_pin() {
	ip -n "$1" neigh replace "$3" lladdr "$4" dev "$2" nud permanent ||
		fail "cannot pin $3 in $1"
}
neigh_pin "$NS_A" "$IF_A" 10.20.0.2 "$MAC_B"
neigh_pin "$NS_B" "$IF_B" 10.20.0.1 "$MAC_A"
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.20.0.2 >/dev/null ||
	fail "a cannot reach b"

# ---- status
ctl_json J status
want_version=$("$TSWD" -V) || fail "tapswitchd -V failed"
json_ok "$J" ".version == \"${want_version#tapswitchd }\"" "status .version"
up_max=$((($(now_us) - START_US) / 1000000 + 11))
json_ok "$J" "(.uptime_s | type) == \"number\" and .uptime_s >= 0 and
    .uptime_s <= $up_max" "status .uptime_s in 0..$up_max"
json_ok "$J" '.queues == 2 and .offload == true and
    .io_uring_mode == "auto" and (.io_uring == true or
    (.io_uring == false and (.io_uring_unavailable | type) == "string")) and
    .busy_poll_us == 50 and .ports == 5 and .fdb_size == 1024 and
    .fdb_aging == 120 and .log_level == "info"' \
    "status: queues, offload, io_uring (or why not), busy_poll_us, ports,
    fdb_size, fdb_aging, log_level"
json_ok "$J" ".config == \"$CONF\"" "status .config"
json_ok "$J" '(.fdb_entries | type) == "number" and .fdb_entries >= 2' \
    "status .fdb_entries (a and b learned)"
ctl_json F fdb show
[[ $(json_get "$J" .fdb_entries) == $(json_get "$F" '.entries | length') ]] ||
	fail "status .fdb_entries $(json_get "$J" .fdb_entries) != $(json_get "$F" '.entries | length') entries in fdb show"
ctl_status 0 status
for k in version uptime config 'log level' queues offload io_uring \
    'busy poll' ports 'fdb entries' 'fdb aging'; do
	grep -qE "^$k: +[^ ]" <<<"$CTL_OUT" ||
		fail "status (table): no \"$k:\" line in:
$CTL_OUT"
done
grep -qE '^fdb entries: +[0-9]+ of 1024$' <<<"$CTL_OUT" ||
	fail "status (table): wrong fdb entries line in:
$CTL_OUT"
log "ok: status"

# ---- port list / port show
PORT_FIELDS='["name","type","ifname","ifindex","netns","mtu","vlan","trunk",
    "native","mac_limit","state","reason","queues","macs","counters"]'
COUNTERS='["rx_packets","rx_bytes","tx_packets","tx_bytes","rx_errors",
    "rx_runt","rx_oversize","rx_vlan","rx_src_mcast","rx_link_local",
    "rx_hairpin","tx_oversize","tx_down","tx_errors","learn_limit"]'
# A port object has every documented member, of the documented type.
PORT_SHAPE="($PORT_FIELDS - keys == []) and ($COUNTERS - (.counters | keys)
    == []) and (.counters | all(.[]; type == \"number\" and . >= 0)) and
    (.name | type) == \"string\" and (.ifname | type) == \"string\" and
    (.type == \"tap\" or .type == \"system\") and
    ((.state == \"up\" and .reason == null) or
    (.state == \"down\" and (.reason | type) == \"string\")) and
    (.ifindex | type) == \"number\" and .ifindex > 0 and
    ((.netns | type) == \"string\" or .netns == null) and
    (.mtu | type) == \"number\" and (.mac_limit | type) == \"number\" and
    (.queues | type) == \"number\" and (.macs | type) == \"number\" and
    (.state == \"up\" or .state == \"down\")"

ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b","e","t","v"]' \
    "port list: ports a b e t v, sorted by name"
json_ok "$J" "all(.ports[]; $PORT_SHAPE)" "port list: every field of every port"
json_ok "$J" 'all(.ports[]; .state == "up" and .queues == 2)' \
    "port list: every port up with 2 queues"

ctl_json P port show a
json_ok "$P" "$PORT_SHAPE" "port show a: every field"
ifindex_a=$(nsx "$NS_A" cat "/sys/class/net/$IF_A/ifindex")
json_ok "$P" ".name == \"a\" and .ifname == \"$IF_A\" and
    .ifindex == $ifindex_a and .netns == \"$NS_A\" and .mtu == 1500 and
    .vlan == 1 and .trunk == null and .native == null and .mac_limit == 0 and
    .state == \"up\" and .queues == 2 and .macs >= 1 and .type == \"tap\" and
    .persist == true" "port show a: values"
ctl_json P port show v
json_ok "$P" '.vlan == 7 and .mac_limit == 4 and .trunk == null' \
    "port show v: vlan 7, mac_limit 4"
ctl_json P port show t
json_ok "$P" ".netns == \"$NS_T\" and .ifname == \"$IF_T\" and .vlan == null
    and .trunk == [7,20,21,22] and .native == 7" "port show t: a trunk"
ifindex_t=$(nsx "$NS_T" cat "/sys/class/net/$IF_T/ifindex")
json_ok "$P" ".ifindex == $ifindex_t" "port show t: ifindex"

# Counters rise with traffic.
ctl_json P0 port show a
ping_ok "$NS_A" 10.20.0.2
ctl_json P1 port show a
for k in rx_packets rx_bytes tx_packets tx_bytes; do
	(($(json_get "$P1" ".counters.$k") >= $(json_get "$P0" ".counters.$k") + 2)) ||
		fail "port a: $k went from $(json_get "$P0" ".counters.$k") to $(json_get "$P1" ".counters.$k") over 2 pings"
done
json_ok "$P1" '.counters.rx_errors == 0 and .counters.tx_errors == 0 and
    .counters.tx_down == 0' "port a: no drops"

ctl_status 0 port list
grep -qE '^NAME +TYPE +IFNAME +NETNS +STATE +VLAN +MTU +RX_PKTS +TX_PKTS +DROPS$' \
    <<<"$CTL_OUT" || fail "port list (table): no header line in:
$CTL_OUT"
grep -qE "^a +tap +$IF_A +$NS_A +up +1 +1500 +[0-9]+ +[0-9]+ +0$" <<<"$CTL_OUT" ||
	fail "port list (table): no row for a in:
$CTL_OUT"
grep -qE "^t +tap +$IF_T +$NS_T +up +trunk 7,20-22 native 7 +1500 " <<<"$CTL_OUT" ||
	fail "port list (table): no row for trunk t in:
$CTL_OUT"
ctl_status 0 port show a
out_has "port show a" "^ifname: +$IF_A$" '^counters:$' \
    '^  rx_packets: +[0-9]+$'
log "ok: port list, port show"

# ---- fdb show after learning
ctl_json F fdb show
json_ok "$F" "any(.entries[]; .mac == \"$MAC_A\" and .vlan == 1 and
    .port == \"a\" and .static == false and (.age_s | type) == \"number\"
    and .age_s >= 0 and .age_s <= 5)" "fdb show: $MAC_A learned on a"
json_ok "$F" "any(.entries[]; .mac == \"$MAC_B\" and .port == \"b\")" \
    "fdb show: $MAC_B learned on b"
json_ok "$F" 'all(.entries[]; keys == ["age_s","mac","port","static","vlan"])' \
    "fdb show: the members of an entry"
json_ok "$F" '.entries == (.entries | sort_by(.vlan, .mac))' \
    "fdb show: sorted by VLAN, then MAC"
ctl_json F fdb show port=a
json_ok "$F" "(.entries | length) >= 1 and all(.entries[]; .port == \"a\") and
    any(.entries[]; .mac == \"$MAC_A\")" "fdb show port=a"
ctl_json F fdb show vlan=7
json_ok "$F" '.entries == []' "fdb show vlan=7: empty before VLAN 7 traffic"
ctl_json F fdb show vlan=1 port=b
json_ok "$F" "[.entries[].mac] == [\"$MAC_B\"]" "fdb show vlan=1 port=b"
ctl_status 0 fdb show
out_has "fdb show" '^MAC +VLAN +PORT +AGE +STATIC$' "^$MAC_A +1 +a +[0-9]+ +no$"
log "ok: fdb show with and without filters"

# ---- port add with vlan, mtu and netns; traffic through it
ctl_json P port add c ifname="$IF_C" vlan=7 mtu=9000 netns="$NS_C"
json_ok "$P" "$PORT_SHAPE" "port add c: a port object"
json_ok "$P" ".name == \"c\" and .ifname == \"$IF_C\" and .netns == \"$NS_C\"
    and .vlan == 7 and .mtu == 9000 and .queues == 2" "port add c: values"
link_exists "$NS_C" "$IF_C" || fail "$IF_C is not in $NS_C after port add"
! link_exists "" "$IF_C" || fail "$IF_C is in the root namespace"
[[ $(link_mtu "$NS_C" "$IF_C") == 9000 ]] ||
	fail "$IF_C has MTU $(link_mtu "$NS_C" "$IF_C"), want 9000"
link_is_up "$NS_C" "$IF_C" || fail "$IF_C is not up in $NS_C"
addr_add "$NS_C" "$IF_C" 10.20.7.3/24
MAC_C=$(link_mac "$NS_C" "$IF_C")
neigh_pin "$NS_C" "$IF_C" 10.20.7.1 "$MAC_V"
neigh_pin "$NS_V" "$IF_V" 10.20.7.3 "$MAC_C"
wait_until 5 nsx "$NS_C" ping -q -n -c 1 -W 1 10.20.7.1 >/dev/null ||
	fail "c (added at runtime) cannot reach v in VLAN 7"
ping_ok "$NS_V" 10.20.7.3
ctl_json P port show c
json_ok "$P" '.state == "up" and .counters.rx_packets > 0 and
    .counters.tx_packets > 0 and .macs == 1' "port show c after pings"
ctl_json F fdb show vlan=7
json_ok "$F" "all(.entries[]; .vlan == 7) and
    any(.entries[]; .mac == \"$MAC_C\" and .port == \"c\")" \
    "fdb show vlan=7: c's address"
json_ok "$F" "all(.entries[]; .mac != \"$MAC_A\")" "fdb show vlan=7: no VLAN 1 entry"
log "ok: port add c (vlan 7, mtu 9000, netns $NS_C): TAP there, traffic flows"

# ---- fdb add (static), fdb del, fdb flush
S_MAC=02:00:00:5a:00:01
ctl_json J fdb add "$S_MAC" port=b
json_ok "$J" '. == {}' "fdb add: an empty object"
ctl_json F fdb show
json_ok "$F" "any(.entries[]; .mac == \"$S_MAC\" and .vlan == 1 and
    .port == \"b\" and .static == true and .age_s == 0)" \
    "fdb show: the static entry"
ctl_status 0 fdb show port=b
grep -qE "^$S_MAC +1 +b +- +yes$" <<<"$CTL_OUT" ||
	fail "fdb show (table): no static row in:
$CTL_OUT"

# A frame from a with source S_MAC: the switch sees it (it floods it to
# b), and the entry stays on b.
rf_recv R "$NS_B" "$IF_B" --timeout 3000 --src "$S_MAC" --count 3
rf_send "$NS_A" "$IF_A" ff:ff:ff:ff:ff:ff "$S_MAC" --count 3
rf_wait "$R" || fail "b did not get the broadcasts from a with source $S_MAC"
ctl_json F fdb show
json_ok "$F" "[.entries[] | select(.mac == \"$S_MAC\")] ==
    [{mac: \"$S_MAC\", vlan: 1, port: \"b\", age_s: 0, static: true}]" \
    "the static entry after frames from a with its source"
# Frames from a to S_MAC go to b alone: they are not flooded to e, the
# other port of VLAN 1.
rf_recv R "$NS_B" "$IF_B" --timeout 3000 --dst "$S_MAC" --src "$MAC_A" \
    --count 2
rf_recv RE "$NS_E" "$IF_E" --timeout 1500 --dst "$S_MAC" --wait
rf_send "$NS_A" "$IF_A" "$S_MAC" "$MAC_A" --count 2
rf_wait "$R" || fail "frames to $S_MAC did not reach b"
! rf_wait "$RE" || fail "frames to the static $S_MAC were flooded to e"

ctl_json J fdb flush
json_ok "$J" '(.flushed | type) == "number" and .flushed >= 3' \
    "fdb flush: the learned entries"
ctl_json F fdb show
json_ok "$F" "[.entries[] | select(.static == false)] == [] and
    [.entries[] | select(.static)] == [{mac: \"$S_MAC\", vlan: 1,
    port: \"b\", age_s: 0, static: true}]" \
    "after fdb flush: only the static entry"
ctl_json J status
json_ok "$J" '.fdb_entries == 1' "status .fdb_entries after the flush"

# Learn again, then flush one port.
ping_ok "$NS_A" 10.20.0.2
ping_ok "$NS_C" 10.20.7.1
ctl_json J fdb flush port=a
json_ok "$J" '.flushed == 1' "fdb flush port=a: one entry"
ctl_json F fdb show
json_ok "$F" "all(.entries[]; .port != \"a\") and
    any(.entries[]; .mac == \"$MAC_B\") and any(.entries[]; .mac == \"$MAC_C\")
    and any(.entries[]; .mac == \"$S_MAC\" and .static)" \
    "after fdb flush port=a: only a's entries went"
ctl_status 0 fdb flush port=c
[[ $CTL_OUT == "flushed 1 entry" ]] ||
	fail "fdb flush port=c (table): \"$CTL_OUT\", want \"flushed 1 entry\""

ctl_json J fdb del "$S_MAC"
json_ok "$J" '.removed == 1' "fdb del (static): removed 1"
ctl_json J fdb del "$MAC_B" vlan=1
json_ok "$J" '.removed == 1' "fdb del vlan=1 (learned): removed 1"
ctl_json F fdb show
json_ok "$F" "all(.entries[]; .mac != \"$S_MAC\" and .mac != \"$MAC_B\")" \
    "fdb show after fdb del"
ctl_status 1 fdb del "$S_MAC"
grep -q 'not in the MAC table' <<<"$CTL_ERR" ||
	fail "fdb del of a missing entry: unexpected message: $CTL_ERR"
log "ok: fdb add (static: not moved, not flushed), fdb del, fdb flush [port=]"

# ---- stats
ping_ok "$NS_A" 10.20.0.2
ctl_json S stats
json_ok "$S" '[.ports[].name] == ["a","b","c","e","t","v"] and
    all(.ports[]; .queues == null)' "stats: every port, no queues"
json_ok "$S" "all(.ports[]; ($COUNTERS - (.counters | keys)) == [])" \
    "stats: every counter"
json_ok "$S" '(["learned","moved","aged","fdb_full","flooded","wakeups",
    "polled","fdb_entries"] - (.switch | keys)) == [] and
    all(.switch[]; type == "number") and .switch.learned >= 4 and
    .switch.flooded > 0 and .switch.wakeups > 0' "stats: the switch counters"
ctl_json S stats a
json_ok "$S" '[.ports[].name] == ["a"] and .ports[0].counters.rx_packets > 0' \
    "stats a: only port a"
# The per-queue counters add up to the totals.  One answer holds both,
# read a moment apart, so a frame in between may spoil one answer: retry.
# shellcheck disable=SC2317 # called through wait_until
queues_add_up() {
	local s
	s=$(ctl --json stats "$@" 2>/dev/null) || return 1
	jq -e 'all(.ports[]; . as $p | ($p.queues | length) == 2 and
	    ($p.queues | map(.queue)) == [0, 1] and
	    all($p.counters | keys[]; . as $k |
	        ([$p.queues[].counters[$k]] | add) == $p.counters[$k]))' \
	    >/dev/null <<<"$s"
}
wait_until 3 queues_add_up --queues ||
	fail "stats --queues: the queues do not add up to the totals: $(ctl --json stats --queues)"
wait_until 3 queues_add_up a --queues ||
	fail "stats a --queues: the queues do not add up: $(ctl --json stats a --queues)"
ctl_json S stats a --queues
json_ok "$S" '[.ports[].name] == ["a"]' "stats a --queues: only a"
ctl_status 0 stats
out_has stats '^PORT +RX_PKTS +RX_BYTES +TX_PKTS +TX_BYTES +DROPS$' \
    '^a +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +0$' '^switch:$' '^  learned: +[0-9]+$'
ctl_status 0 stats --queues
out_has "stats --queues" \
    '^PORT +QUEUE +RX_PKTS +RX_BYTES +TX_PKTS +TX_BYTES +DROPS$' \
    '^a +0 +[0-9]+ ' '^a +1 +[0-9]+ '
log "ok: stats, stats NAME, --queues (queues add up to the totals)"

# ---- reload: added, changed, removed; the runtime port c is left alone
ctl_json P port show e
ifindex_e=$(json_get "$P" .ifindex)
main_conf 1 "n1:$IF_N1"
ctl_json J reload
json_ok "$J" '.added == ["n1"] and .removed == [] and .changed == [] and
    .unchanged == 5' "reload (n1 added to the file)"
link_exists "" "$IF_N1" || fail "$IF_N1 does not exist after the reload"
ctl_json P port show n1
json_ok "$P" ".ifname == \"$IF_N1\" and .netns == null and .state == \"up\" and
    .vlan == 1" "port show n1"

main_conf 5 "n1:$IF_N1"
ctl_json J reload
json_ok "$J" '.added == [] and .removed == [] and .changed == ["e"] and
    .unchanged == 5' "reload (vlan of e changed)"
ctl_json P port show e
json_ok "$P" ".vlan == 5 and .state == \"up\" and .ifname == \"$IF_E\"" \
    "port show e after the change"
log "note: e's ifindex $ifindex_e -> $(json_get "$P" .ifindex) (set up again)"

main_conf 5
ctl_status 0 reload
out_has reload '^removed: +n1$' '^unchanged: +5$'
! link_exists "" "$IF_N1" || fail "$IF_N1 still exists after its removal"
ctl_status 1 port show n1
ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b","c","e","t","v"]' \
    "port list after the reloads (c, added at runtime, stays)"
ping_ok "$NS_C" 10.20.7.1
log "ok: reload: added, changed, removed; a runtime port stays"

# The same through SIGHUP.
# shellcheck disable=SC2317 # called through wait_until
port_vlan_is() {
	[[ $(ctl --json port show "$1" 2>/dev/null | jq -r .vlan) == "$2" ]]
}
main_conf 1 "n2:$IF_N2"
kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
wait_until 5 eval "ctl port show n2 >/dev/null 2>&1 && port_vlan_is e 1" ||
	fail "SIGHUP: n2 not added or e not changed back to VLAN 1"
link_exists "" "$IF_N2" || fail "$IF_N2 does not exist after SIGHUP"
wait_until 2 grep -qF "reloaded $CONF: 1 added, 0 removed, 1 changed, 4 unchanged" \
    "$DAEMON_LOG" || fail "SIGHUP: no \"reloaded\" line in the log"
main_conf 1
kill -HUP "$DAEMON_PID" || fail "cannot send SIGHUP"
wait_until 5 eval "! ctl port show n2 >/dev/null 2>&1" ||
	fail "SIGHUP: n2 not removed"
wait_until 2 link_gone "" "$IF_N2" ||
	fail "$IF_N2 still exists after SIGHUP removed it"
log "ok: SIGHUP: added, changed, removed"

# ---- port del: the TAP and its MAC entries go
ping_ok "$NS_C" 10.20.7.1
ctl_json F fdb show port=c
json_ok "$F" "any(.entries[]; .mac == \"$MAC_C\")" "fdb show port=c before port del"
ctl_json J port del c
json_ok "$J" '. == {}' "port del: an empty object"
wait_until 2 link_gone "$NS_C" "$IF_C" ||
	fail "$IF_C still exists in $NS_C after port del"
! link_exists "" "$IF_C" || fail "$IF_C showed up in the root namespace"
ctl_json F fdb show
json_ok "$F" "all(.entries[]; .mac != \"$MAC_C\" and .port != \"c\")" \
    "fdb show after port del c: its entries are gone"
ctl_status 1 port show c
ctl_status 1 fdb show port=c
ctl_json J status
json_ok "$J" '.ports == 5' "status .ports after port del"
log "ok: port del: TAP and MAC entries gone"

# ---- exit statuses
# 1: the daemon said no; the message is on stderr.
ctl_status 1 port show nosuch
grep -qx 'tapswitchctl: no port "nosuch"; "tapswitchctl port list" shows the ports' \
    <<<"$CTL_ERR" || fail "port show nosuch: unexpected message: $CTL_ERR"
ctl_status 1 --json port show nosuch
ctl_status 1 port add a
grep -q 'already exists' <<<"$CTL_ERR" ||
	fail "port add a: unexpected message: $CTL_ERR"
ctl_status 1 port add x vlan=abc
grep -q 'vlan' <<<"$CTL_ERR" || fail "port add x vlan=abc: unexpected message: $CTL_ERR"
ctl_status 1 port add x vlna=3
grep -q 'did you mean "vlan"' <<<"$CTL_ERR" ||
	fail "port add x vlna=3: unexpected message: $CTL_ERR"
ctl_status 1 port add x netns=tsw-no-such-ns-$$
grep -q "tsw-no-such-ns-$$" <<<"$CTL_ERR" ||
	fail "port add with a missing netns: unexpected message: $CTL_ERR"
ctl_status 1 port del nosuch
ctl_status 1 fdb add 02:00:00:00:00:zz port=a
grep -q 'bad MAC address' <<<"$CTL_ERR" ||
	fail "fdb add with a bad MAC: unexpected message: $CTL_ERR"
ctl_status 1 fdb add 02:00:00:00:00:01 port=nosuch
ctl_status 1 fdb add 02:00:00:00:00:01 port=a vlan=7
ctl_status 1 fdb show port=nosuch
ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b","e","t","v"]' \
    "port list after the failed commands"
# 2: a wrong command line, whether or not a daemon listens (nothing is
# sent: with no daemon it would be 3).
for sock in "$CTL_SOCK" "$TMP_DIR/nobody.sock"; do
	for args in 'port' 'port show' 'port frob' 'bogus' 'status extra' \
	    'fdb add 02:00:00:00:00:01' 'fdb show vlan=abc' \
	    'fdb show vlan=0' 'fdb show vlan=4095' 'fdb add 02:00:00:00:00:01 port=a vlan=99999' \
	    'fdb show color=red' 'stats --frob' 'port show a b'; do
		rc=0
		# shellcheck disable=SC2086 # split the words on purpose
		"$TSWCTL" -s "$sock" $args >"$TMP_DIR/ctl.out" \
		    2>"$TMP_DIR/ctl.err" || rc=$?
		((rc == 2)) || fail "tapswitchctl $args: exit status $rc, want 2 (socket $sock)"
		[[ ! -s $TMP_DIR/ctl.out ]] ||
			fail "tapswitchctl $args: output on stdout"
		grep -q '^usage: ' "$TMP_DIR/ctl.err" ||
			fail "tapswitchctl $args: no usage line: $(cat "$TMP_DIR/ctl.err")"
	done
done
# 3: nobody listens, on a path that does not exist and on a socket file
# nobody listens on (left behind); the message names the socket.
rc=0
"$TSWCTL" -s "$TMP_DIR/nobody.sock" status >"$TMP_DIR/ctl.out" \
    2>"$TMP_DIR/ctl.err" || rc=$?
((rc == 3)) || fail "status without a daemon: exit status $rc, want 3"
grep -qF "$TMP_DIR/nobody.sock" "$TMP_DIR/ctl.err" ||
	fail "status without a daemon: the message does not name the socket: $(cat "$TMP_DIR/ctl.err")"
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])' "$TMP_DIR/dead.sock" || fail "cannot make a dead socket"
[[ -S $TMP_DIR/dead.sock ]] || fail "no dead socket"
rc=0
"$TSWCTL" -s "$TMP_DIR/dead.sock" --json port list >"$TMP_DIR/ctl.out" \
    2>"$TMP_DIR/ctl.err" || rc=$?
((rc == 3)) || fail "port list on a dead socket: exit status $rc, want 3"
[[ ! -s $TMP_DIR/ctl.out ]] || fail "port list on a dead socket: output on stdout"
grep -qF "$TMP_DIR/dead.sock" "$TMP_DIR/ctl.err" ||
	fail "dead socket: the message does not name the socket: $(cat "$TMP_DIR/ctl.err")"
# The environment names the socket when -s does not.
TAPSWITCH_SOCKET=$CTL_SOCK timeout 40 "$TSWCTL" status >/dev/null ||
	fail "status with TAPSWITCH_SOCKET=$CTL_SOCK failed"
log "ok: exit statuses 1 (daemon error), 2 (usage), 3 (no daemon)"

daemon_alive || fail "tapswitchd died"
pass
