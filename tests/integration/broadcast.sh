#!/usr/bin/env bash
# broadcast.sh - flooding and the frames that must not be forwarded, with
# raw frames sent from port A while B, C and A itself capture:
#   broadcast and multicast destinations reach B and C, never A again;
#   802.1D link-local destinations (01:80:c2:00:00:00, ...:0e) reach
#   nobody; a frame with a multicast source address reaches nobody.
TEST_TAG=bcst
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_rawframe

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
new_name IF_C; new_ns NS_C

SRC=02:00:00:bc:00:0a		# A's (made-up) address
MCAST_SRC=03:00:00:bc:00:0a	# the same with the group bit set
BCAST=ff:ff:ff:ff:ff:ff
MCAST=01:00:5e:00:00:fb
STP=01:80:c2:00:00:00
LLDP=01:80:c2:00:00:0e

conf=$(write_conf bcst <<EOF
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
start_daemon "$conf"

# Capture everything on each port for 2 s (nothing else sends: the
# namespaces have no addresses and IPv6 is off).
rf_recv RA "$NS_A" "$IF_A" --timeout 2000 --wait --count 0
rf_recv RB "$NS_B" "$IF_B" --timeout 2000 --wait --count 0
rf_recv RC "$NS_C" "$IF_C" --timeout 2000 --wait --count 0

rf_send "$NS_A" "$IF_A" "$BCAST" "$SRC" --count 3
rf_send "$NS_A" "$IF_A" "$STP" "$SRC" --count 2
rf_send "$NS_A" "$IF_A" "$LLDP" "$SRC" --count 2
rf_send "$NS_A" "$IF_A" "$BCAST" "$MCAST_SRC" --count 2
rf_send "$NS_A" "$IF_A" "$MCAST" "$SRC" --count 1 --len 80
# Last, so a switch that was merely slow cannot pass the checks above.
rf_send "$NS_A" "$IF_A" "$BCAST" "$SRC" --count 1 --len 100

rf_wait "$RA"; rf_wait "$RB"; rf_wait "$RC"

# count HANDLE REGEX - how many captured lines match.
count() {
	rf_out "$1" | grep -cE -- "$2"
}

for r in RB RC; do
	h=${!r}
	port=${r#R}
	got=$(count "$h" "^$BCAST $SRC vlan=untagged len=60\$")
	((got == 3)) || fail "${port,,} got $got of 3 broadcast frames:
$(rf_out "$h")"
	got=$(count "$h" "^$BCAST $SRC vlan=untagged len=100\$")
	((got == 1)) || fail "${port,,} got $got of 1 final broadcast frame:
$(rf_out "$h")"
	got=$(count "$h" "^$MCAST $SRC vlan=untagged len=80\$")
	((got == 1)) || fail "${port,,} got $got of 1 multicast frame:
$(rf_out "$h")"
	got=$(count "$h" "^01:80:c2:00:00:0")
	((got == 0)) || fail "${port,,} got $got link-local frames:
$(rf_out "$h")"
	got=$(count "$h" " $MCAST_SRC ")
	((got == 0)) || fail "${port,,} got $got frames with a multicast source:
$(rf_out "$h")"
	got=$(count "$h" " ($SRC|$MCAST_SRC) ")
	((got == 5)) || fail "${port,,} got $got frames from A, want 5:
$(rf_out "$h")"
	log "ok: $port got the 5 flooded frames and nothing else"
done
[[ -z $(rf_out "$RA") ]] || fail "A got frames back (hairpin):
$(rf_out "$RA")"
log "ok: A got nothing back"

pass
