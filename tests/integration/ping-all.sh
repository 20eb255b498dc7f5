#!/usr/bin/env bash
# ping-all.sh - three access ports of VLAN 1, each a TAP in its own
# namespace with an address of 10.1.0.0/24: every namespace pings every
# other one (all 6 ordered pairs), after a first warm-up round.
TEST_TAG=ping
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping

names=(a b c)
declare -A IF NS ADDR
i=0
for p in "${names[@]}"; do
	i=$((i + 1))
	new_name "IF[$p]"
	new_ns "NS[$p]"
	ADDR[$p]=10.1.0.$i
done

conf=$(write_conf ping <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK

[port a]
ifname = ${IF[a]}
netns = ${NS[a]}

[port b]
ifname = ${IF[b]}
netns = ${NS[b]}

[port c]
ifname = ${IF[c]}
netns = ${NS[c]}
EOF
)
start_daemon "$conf"

for p in "${names[@]}"; do
	link_is_up "${NS[$p]}" "${IF[$p]}" ||
		fail "${IF[$p]} is not up in ${NS[$p]}"
	addr_add "${NS[$p]}" "${IF[$p]}" "${ADDR[$p]}/24"
done

# Warm-up: the first ping of a pair waits for ARP; give the switch a few
# seconds to forward anything at all.
for p in "${names[@]}"; do
	for q in "${names[@]}"; do
		[[ $p == "$q" ]] && continue
		wait_until 5 nsx "${NS[$p]}" ping -q -n -c 1 -W 1 \
		    "${ADDR[$q]}" >/dev/null ||
			fail "warm-up: $p cannot reach $q"
	done
done

for p in "${names[@]}"; do
	for q in "${names[@]}"; do
		[[ $p == "$q" ]] && continue
		ping_ok "${NS[$p]}" "${ADDR[$q]}"
		log "ok: $p -> $q"
	done
done

pass
