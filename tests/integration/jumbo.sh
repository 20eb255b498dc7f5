#!/usr/bin/env bash
# jumbo.sh - port MTUs: with mtu = 9000 on every port the TAPs in the
# namespaces get MTU 9000 and 9000-byte IP packets (ping -M "do" -s 8972)
# cross the switch unfragmented; when one port keeps mtu 1500, the same
# ping to it fails while a 1500-byte one still works.  The TAPs are
# persistent (the default): the second daemon attaches to them again,
# sets the new MTU, and the namespaces keep their addresses.
TEST_TAG=jmbo
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping

ports=(a b c)
declare -A IF NS ADDR MTU
i=0
for p in "${ports[@]}"; do
	i=$((i + 1))
	new_name "IF[$p]"
	new_ns "NS[$p]"
	ADDR[$p]=10.4.0.$i
done

# run_switch NAME - start the daemon with the MTUs in MTU[]; address the
# TAPs the first time, check the addresses are still there afterwards.
run_switch() {
	local conf p
	conf=$(write_conf "$1" <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
$(for p in "${ports[@]}"; do
	printf '\n[port %s]\nifname = %s\nnetns = %s\nmtu = %s\n' \
	    "$p" "${IF[$p]}" "${NS[$p]}" "${MTU[$p]}"
done)
EOF
)
	start_daemon "$conf"
	for p in "${ports[@]}"; do
		got=$(link_mtu "${NS[$p]}" "${IF[$p]}") ||
			fail "${IF[$p]} is missing in ${NS[$p]}"
		[[ $got == "${MTU[$p]}" ]] ||
			fail "${IF[$p]} has MTU $got in ${NS[$p]}, want ${MTU[$p]}"
		if ((DAEMON_STARTS == 1)); then
			addr_add "${NS[$p]}" "${IF[$p]}" "${ADDR[$p]}/24"
		else
			ip -n "${NS[$p]}" -4 addr show dev "${IF[$p]}" |
			    grep -qF "inet ${ADDR[$p]}/24" ||
				fail "${IF[$p]} lost its address across the restart"
		fi
	done
	log "ok: MTUs in the namespaces: a ${MTU[a]}, b ${MTU[b]}, c ${MTU[c]}"
	wait_until 5 nsx "${NS[a]}" ping -q -n -c 1 -W 1 "${ADDR[b]}" \
	    >/dev/null || fail "a cannot reach b"
}

# jumbo_ok FROM TO / jumbo_fails FROM TO - 9000-byte IP packets, DF set.
jumbo_ok() {
	nsx "${NS[$1]}" timeout 10 ping -q -n -M "do" -s 8972 -c 3 -i 0.2 -W 1 \
	    "${ADDR[$2]}" >"$TMP_DIR/ping.out" 2>&1 ||
		fail "9000-byte ping $1 -> $2 failed: $(cat "$TMP_DIR/ping.out")"
	log "ok: 9000-byte ping $1 -> $2"
}
jumbo_fails() {
	if nsx "${NS[$1]}" timeout 10 ping -q -n -M "do" -s 8972 -c 3 -i 0.2 \
	    -W 1 "${ADDR[$2]}" >"$TMP_DIR/ping.out" 2>&1; then
		fail "9000-byte ping $1 -> $2 worked but must not: $(cat "$TMP_DIR/ping.out")"
	fi
	log "ok: 9000-byte ping $1 -> $2 fails"
}

MTU=([a]=9000 [b]=9000 [c]=9000)
run_switch jumbo
jumbo_ok a b
jumbo_ok b c
jumbo_ok c a
stop_daemon

MTU=([a]=9000 [b]=9000 [c]=1500)
run_switch mixed
jumbo_ok a b
# c's address resolves and small packets work ...
ping_ok "${NS[a]}" "${ADDR[c]}" -M "do" -s 1472
log "ok: 1500-byte ping a -> c"
# ... but a 9000-byte frame does not fit port c.
jumbo_fails a c

pass
