#!/usr/bin/env bash
# sigterm.sh - stopping the daemon.
#   1. Three ports with persist = no, two in namespaces and one in the
#      root namespace: SIGTERM makes tapswitchd exit 0 (within 5 s; the
#      time is printed) and every TAP it created is gone, from every
#      namespace.  (persist = yes, the default, keeps them: persist.sh.)
#   2. A persistent multiqueue TAP made beforehand with "ip tuntap add":
#      the daemon attaches to it and forwards its frames; after SIGINT it
#      exits 0 and leaves that TAP in place (with persist = no it removes
#      only its own).
TEST_TAG=term
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_rawframe

# --- 1. SIGTERM removes what the daemon created.
new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_R			# stays in the root namespace

conf=$(write_conf term <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A
persist = no

[port b]
ifname = $IF_B
netns = $NS_B
persist = no

[port r]
ifname = $IF_R
persist = no
EOF
)
start_daemon "$conf"
link_exists "$NS_A" "$IF_A" || fail "$IF_A is not in $NS_A"
link_exists "$NS_B" "$IF_B" || fail "$IF_B is not in $NS_B"
link_exists "" "$IF_R" || fail "$IF_R is not in the root namespace"
link_exists "" "$IF_A" && fail "$IF_A is still in the root namespace"
log "ok: TAPs $IF_A in $NS_A, $IF_B in $NS_B, $IF_R in the root namespace"

stop_daemon TERM
log "ok: exit status 0, $STOP_ELAPSED_MS ms after SIGTERM"
((STOP_ELAPSED_MS <= 1000)) ||
	log "note: slower than the 1 s tapswitchd(8) promises"
for ns in "$NS_A" "$NS_B" ""; do
	for ifn in "$IF_A" "$IF_B" "$IF_R"; do
		! link_exists "$ns" "$ifn" ||
			fail "$ifn is left in ${ns:-the root namespace} after SIGTERM"
	done
done
[[ ! -e $CTL_SOCK ]] || fail "the control socket is left behind"
log "ok: no TAP left in any namespace"

# --- 2. A TAP that existed before is attached to and left alone.
new_name IF_P			# persistent, root namespace
new_name IF_Q; new_ns NS_Q
ip tuntap add mode tap multi_queue name "$IF_P" ||
	fail "cannot create the persistent TAP $IF_P"
conf=$(write_conf persist <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port p]
ifname = $IF_P
persist = no

[port q]
ifname = $IF_Q
netns = $NS_Q
persist = no
EOF
)
start_daemon "$conf"
link_is_up "" "$IF_P" || fail "the daemon did not bring $IF_P up"
# Frames from the existing TAP cross the switch.
SRC=02:00:00:7e:00:01
rf_recv R "$NS_Q" "$IF_Q" --timeout 3000 --src "$SRC" --count 3
rf_send "" "$IF_P" ff:ff:ff:ff:ff:ff "$SRC" --count 3
rf_wait "$R" || fail "frames sent on $IF_P did not reach $IF_Q:
$(rf_out "$R")"
log "ok: the daemon attached to the existing TAP $IF_P and forwards its frames"

stop_daemon INT
log "ok: exit status 0, $STOP_ELAPSED_MS ms after SIGINT"
link_exists "" "$IF_P" || fail "the daemon deleted the pre-existing TAP $IF_P"
ip -d link show dev "$IF_P" | grep -q 'tun type tap' ||
	fail "$IF_P is no longer a TAP: $(ip -d link show dev "$IF_P")"
! link_exists "$NS_Q" "$IF_Q" || fail "$IF_Q is left in $NS_Q after SIGINT"
! link_exists "" "$IF_Q" || fail "$IF_Q is left in the root namespace"
log "ok: $IF_P is still there, $IF_Q is gone"
ip tuntap del mode tap multi_queue name "$IF_P" ||
	fail "cannot delete $IF_P"

pass
