#!/usr/bin/env bash
# soak.sh - a long run of tapswitchd under churn, not part of make check:
# run it with scripts/soak [MINUTES] (default 3).
#
# The switch: ports a and b (TAPs in namespaces, 10.77.0.1 and .2) are the
# untouched pair; port "up" is a system port on a veth whose other end is
# namespace U (10.77.0.100); metrics_listen is on a free high port of
# 127.0.0.1.  For the whole run a -> b carries an iperf3 TCP stream at
# SOAK_IPERF_RATE (default 100M, bits/s) and a ping every 0.2 s; U pings a
# once a second (reported, not asserted).  Meanwhile, for MINUTES, a loop
# does one random thing at a time, a fraction of a second apart:
#   - port add / port del of ports c0-c3 in namespaces of their own, tap
#     (persist yes or no) or system (a veth inside the namespace); port
#     add into a namespace that is missing, which must be refused;
#   - ip netns delete of those namespaces, with or without a port in them,
#     and their re-creation under the same name: with the port still
#     there (it must come back by itself), or before the next port add;
#   - fdb flush (all, or one port);
#   - reload with a valid file (port r0 coming, going, changing VLAN,
#     log_level = debug) and with broken ones (unknown key, bad value,
#     duplicate port, queues changed, a port in a missing namespace); the
#     same through SIGHUP;
#   - log level error, warning, info or debug;
#   - behind the daemon's back, on the TAPs of c0-c3: ip link set down,
#     set up, delete, move to another namespace;
#   - 6 control clients at once that flood requests for 2-9 s and never
#     read the answers, then hold the connection 5-19 s;
#   - slow metrics clients: 40 connections sending a request one byte
#     every 2-5 seconds, for 90 seconds (a closed one is opened again);
#   - a normal scrape of /metrics;
# and before each, a "tapswitchctl status", timed.  The first two things
# are always the slow metrics clients and the control clients.
# Then the churn stops: the clients are stopped, c0-c3 deleted, the base
# file reloaded, and after the traffic has ended, a settle period of up
# to SOAK_SETTLE seconds (default 30) lets fds and memory come back.
#
# Assertions (all are checked; the failure message lists each failed one
# with its numbers):
#   alive       the daemon is alive and answers "status" within 10 s;
#   helper      its helper tapswitchd-priv is the process it was at start;
#   ping        a -> b lost no ping over the whole run, and sent at least
#               90% of the pings planned (it ran throughout);
#   iperf3      a -> b ran to the end (exit 0, one 1-second interval per
#               planned second, less one) and never received 0 bytes in
#               more than 3 consecutive intervals (receiver side);
#   fds         open fds of the daemon, after the settle period, at most
#               5 more than before the churn; the helper's likewise;
#   netns       of those, the sockets opened in other network namespaces
#               (the ports' and their namespaces' link monitors; each one
#               keeps a namespace alive): exactly as many as before;
#   rss         RSS of the daemon, after the settle period, at most
#               max(10 MiB, 20%) more than before the churn;
#   peak        RSS of the daemon during the churn (sampled every 0.5 s)
#               at most 64 MiB more than before it;
#   slow        no slow metrics connection stayed open more than 60 s
#               (the daemon must close a client that takes that long to
#               send one request);
#   log         no error-level line but the expected refusals of the
#               broken files: "error: reload failed; nothing was changed:"
#               (then FILE:LINE lines), "error: reload refused: FILE:
#               queues changed ...", "error: reload: some ports could not
#               be set up:" (then: network namespace "...-missing" does
#               not exist); and no sanitizer report;
#   commands    every command of the churn had the outcome expected of
#               it (exit status 0, or 1 with a message for the refusals)
#               and took effect: a port added is up within 10 s, the TAP
#               of a deleted port is gone from wherever it was (its
#               namespace, or the one it was moved to);
#   links       within 10 s a port's state follows its TAP set down, up,
#               deleted or moved away behind the daemon's back, and its
#               namespace: down when it is deleted, up again when it is
#               made again;
#   ports       after the churn, port list is a, b and up again;
#   metrics     a scrape after the churn answers 200 with the metrics;
#   stop        SIGTERM stops the daemon with status 0.
#
# Environment: SOAK_MINUTES (if no argument), SOAK_SECONDS (the churn time
# in seconds instead, to try the test itself), SOAK_SETTLE, SOAK_IPERF_RATE,
# SOAK_SEED (the random choices: the same seed makes the same choices;
# printed at start), and those of tests/integration/lib.sh (TSW_BUILDDIR,
# TSW_SRCDIR, TSW_KEEP=1 keeps the temp dir with the daemon log and the
# event log).
TEST_TAG=soak
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
require_root ping iperf3 jq ss python3 curl
require_ctl

MINUTES=${1:-${SOAK_MINUTES:-3}}
[[ $MINUTES =~ ^[1-9][0-9]*$ ]] ||
	fail "MINUTES must be a whole number of minutes, not \"$MINUTES\""
DURATION=${SOAK_SECONDS:-$((MINUTES * 60))}
[[ $DURATION =~ ^[1-9][0-9]*$ ]] ||
	fail "SOAK_SECONDS must be a whole number of seconds, not \"$DURATION\""
SETTLE=${SOAK_SETTLE:-30}
IPERF_RATE=${SOAK_IPERF_RATE:-100M}
SEED=${SOAK_SEED:-$$}
RANDOM=$SEED

# The bounds of the assertions.
FD_SLACK=5
RSS_SLACK_MIB=10
RSS_SLACK_PCT=20
STATUS_BOUND_MS=10000
IPERF_MAX_ZERO_RUN=3
LINK_WAIT=10			# seconds for a port to follow its link
PEAK_SLACK_MIB=64
SLOW_MAX_AGE=60
# The misbehaving clients.
FLOOD_BURST=6			# control clients that never read, at once
SLOW_CONNS=40			# slow metrics connections at once
SLOW_SECONDS=90			# how long a batch of those goes on
# The traffic runs through a warm-up, the churn and the clean-up after it.
WARMUP=5
TAIL=30
TRAFFIC=$((WARMUP + DURATION + TAIL))

# On the way out, before lib.sh's cleanup: what this script started in
# the background (CLEANUP_PIDS) runs its program as a child (timeout(1),
# a subshell), so that lib.sh's kill of the PID alone could leave iperf3
# or ping running, orphaned; TERM their descendants too, deepest first,
# then KILL what is left 2 s later.  Only processes descending from our
# own background jobs are touched.
descendants() {
	local c kids=()
	read -ra kids < <(cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ')
	for c in "${kids[@]}"; do
		descendants "$c"
		echo "$c"
	done
}
none_alive() {
	local pid
	for pid; do
		pid_alive "$pid" && return 1
	done
	return 0
}
soak_cleanup() {
	local rc=$? pid all=()
	for pid in "${CLEANUP_PIDS[@]}"; do
		mapfile -t -O "${#all[@]}" all < <(descendants "$pid")
	done
	if ((${#all[@]})); then
		kill -TERM "${all[@]}" 2>/dev/null
		wait_until 2 none_alive "${all[@]}" ||
			kill -KILL "${all[@]}" 2>/dev/null
	fi
	(exit "$rc")
	cleanup
}
trap soak_cleanup EXIT

CLIENTS=$TSW_SRCDIR/tests/soak/clients.py
[[ -f $CLIENTS ]] || fail "$CLIENTS not found (TSW_SRCDIR=$TSW_SRCDIR)"
EVLOG=$TMP_DIR/events.log	# one line per event, for people
T0=$SECONDS

say() {
	log "$*"
	printf '%5d %s\n' $((SECONDS - T0)) "$*" >>"$EVLOG"
}

# ---- Topology.

# soak_ns VAR SUFFIX - create namespace tsw-soak-<pid>-SUFFIX.
soak_ns() {
	printf -v "$1" 'tsw-soak-%s-%s' "$$" "$2"
	ns_add "${!1}"
}

new_name IF_A; soak_ns NS_A a
new_name IF_B; soak_ns NS_B b
new_name IF_S; soak_ns NS_S s	# the system port's end of the veth
new_name IF_U; soak_ns NS_U u	# the other end
new_name IF_R; soak_ns NS_R r	# port r0, made and removed by reloads
new_name IF_R1			# port r1: its namespace never exists
NS_MISSING=tsw-soak-$$-missing
soak_ns NS_X x			# where TAPs are moved behind the back

NSLOT=4
declare -a C_NS C_TAP C_VETH C_PEER C_NSUP C_PORT C_LINK C_GEN C_PERSIST C_MOVED
for ((i = 0; i < NSLOT; i++)); do
	C_NS[i]=tsw-soak-$$-c$i
	new_name "C_TAP[$i]"
	new_name "C_VETH[$i]"
	new_name "C_PEER[$i]"
	C_NSUP[i]=0		# the namespace exists
	C_PORT[i]=""		# "", tap or system: port c$i exists
	C_LINK[i]=""		# its interface: up, down, gone, moved, nsgone
	C_PERSIST[i]=""		# of a tap port: yes or no
	C_MOVED[i]=""		# when its TAP was moved away (seconds)
	C_GEN[i]=0		# how many times the namespace was made
	CLEANUP_NETNS+=("${C_NS[i]}")
done

ip -n "$NS_S" link add "$IF_S" type veth peer name "$IF_U" netns "$NS_U" ||
	fail "cannot create the veth pair $IF_S / $IF_U"
ip -n "$NS_S" link set "$IF_S" up || fail "cannot set $IF_S up"
ip -n "$NS_U" link set "$IF_U" up || fail "cannot set $IF_U up"
addr_add "$NS_U" "$IF_U" 10.77.0.100/24

MPORT=$(python3 "$CLIENTS" freeport) || fail "no free port on 127.0.0.1"
CONF=$TMP_DIR/soak.conf

# conf_text VARIANT - print a configuration: valid ones "base", "r0",
# "debug"; broken ones "unknown-key", "bad-value", "duplicate", "queues",
# "missing-netns".
conf_text() {
	local v=$1 queues=2
	[[ $v == queues ]] && queues=1
	cat <<EOF
[switch]
queues = $queues
control_socket = $CTL_SOCK
metrics_listen = 127.0.0.1:$MPORT
EOF
	[[ $v == debug ]] && echo "log_level = debug"
	cat <<EOF

[port a]
ifname = $IF_A
netns = $NS_A
EOF
	[[ $v == unknown-key ]] && echo "colour = blue"
	cat <<EOF

[port b]
ifname = $IF_B
netns = $NS_B

[port up]
type = system
ifname = $IF_S
netns = $NS_S
EOF
	case $v in
	r0 | debug)
		printf '\n[port r0]\nifname = %s\nnetns = %s\nvlan = %d\n' \
		    "$IF_R" "$NS_R" $((RANDOM % 2 + 1))
		;;
	bad-value) printf '\n[port r0]\nifname = %s\nvlan = 5000\n' "$IF_R" ;;
	duplicate) printf '\n[port b]\nifname = %s\n' "$IF_R" ;;
	missing-netns)
		printf '\n[port r1]\nifname = %s\nnetns = %s\n' "$IF_R1" \
		    "$NS_MISSING"
		;;
	esac
}

# conf_write VARIANT - replace $CONF with that variant, in one rename.
conf_write() {
	conf_text "$1" >"$CONF.new" || fail "cannot write $CONF.new"
	mv -f "$CONF.new" "$CONF" || fail "cannot rename $CONF.new"
}

conf_write base
start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.77.0.1/24
addr_add "$NS_B" "$IF_B" 10.77.0.2/24
wait_until 10 nsx "$NS_A" ping -q -n -c 1 -W 1 10.77.0.2 >/dev/null ||
	fail "a cannot reach b"
wait_until 10 nsx "$NS_U" ping -q -n -c 1 -W 1 10.77.0.1 >/dev/null ||
	fail "U cannot reach a through the system port"
HELPER0=$(helper_pid)
[[ -n $HELPER0 ]] || fail "no helper process tapswitchd-priv"

# ---- Measurements.

# nfds PID - its open descriptors.
nfds() {
	local fds
	fds=(/proc/"$1"/fd/*)
	[[ -e ${fds[0]} ]] || { echo 0; return; }
	echo "${#fds[@]}"
}

# fds_quiet PID - the least of three counts 0.3 s apart: a control
# client that just closed may still be counted once.
fds_quiet() {
	local n min=999999 i
	for ((i = 0; i < 3; i++)); do
		n=$(nfds "$1")
		((n < min)) && min=$n
		((i < 2)) && sleep 0.3
	done
	echo "$min"
}

# nthreads PID
nthreads() {
	local tasks=(/proc/"$1"/task/*)
	echo "${#tasks[@]}"
}

# fd_kinds PID - its descriptors by kind, one "kind=count" a line:
# sockets by family as the daemon's namespace lists them (netlink, unix,
# tcp, udp, packet), or "socket-other-netns" for one opened in another
# namespace; pipes; anon_inode:[...]; device paths; "file" for the rest.
fd_kinds() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f"
	done 2>/dev/null | awk -v d="/proc/$1/net" '
	function load(file, col, kind,   line, a) {
		while ((getline line < (d "/" file)) > 0)
			if (split(line, a, " ") >= col)
				ino[a[col]] = kind
		close(d "/" file)
	}
	BEGIN {
		load("netlink", 10, "netlink"); load("unix", 7, "unix")
		load("tcp", 10, "tcp"); load("tcp6", 10, "tcp")
		load("udp", 10, "udp"); load("udp6", 10, "udp")
		load("packet", 9, "packet")
	}
	{
		k = $0
		if (k ~ /^socket:\[/) {
			i = substr(k, 9, length(k) - 9)
			k = (i in ino) ? ino[i] : "socket-other-netns"
		} else if (k ~ /^pipe:/)
			k = "pipe"
		else if (k !~ /^(anon_inode:|\/dev\/)/)
			k = "file"
		n[k]++
	}
	END { for (k in n) printf "%s=%d\n", k, n[k] }' | sort
}

# fd_diff BEFORE AFTER - the kinds whose count changed, "kind a->b".
fd_diff() {
	awk -F= 'NR == FNR { a[$1] = $2; next } { b[$1] = $2 }
	    END {
		for (k in a) if (!(k in b)) b[k] = 0
		for (k in b) if (b[k] != a[k] + 0) printf "%s %d->%d, ", k, a[k], b[k]
	    }' "$1" "$2" | sed 's/, $//'
}

# rss_kib PID
rss_kib() {
	awk '$1 == "VmRSS:" { print $2; exit }' "/proc/$1/status" 2>/dev/null
}

# ---- Traffic, for the whole run.

ip netns exec "$NS_B" timeout -k 5 $((TRAFFIC + 60)) \
    iperf3 -s -1 -J -B 10.77.0.2 -p 5201 \
    >"$TMP_DIR/iperf.server.json" 2>"$TMP_DIR/iperf.server.err" &
IPERF_SRV=$!
CLEANUP_PIDS+=("$IPERF_SRV")
wait_until 10 eval "nsx \"\$NS_B\" ss -Hltn 'sport = :5201' | grep -q ." ||
	fail "iperf3 server did not start: $(cat "$TMP_DIR/iperf.server.err")"
ip netns exec "$NS_A" timeout -k 5 $((TRAFFIC + 60)) \
    iperf3 -c 10.77.0.2 -p 5201 \
    -t "$TRAFFIC" -b "$IPERF_RATE" -i 1 --connect-timeout 5000 -J \
    >"$TMP_DIR/iperf.client.json" 2>"$TMP_DIR/iperf.client.err" &
IPERF_CLI=$!
CLEANUP_PIDS+=("$IPERF_CLI")
PING_PLANNED=$((TRAFFIC * 5))
ip netns exec "$NS_A" timeout -k 5 $((TRAFFIC + 60)) \
    ping -q -n -i 0.2 -W 2 \
    -c "$PING_PLANNED" 10.77.0.2 >"$TMP_DIR/ping.ab" 2>&1 &
PING_AB=$!
CLEANUP_PIDS+=("$PING_AB")
ip netns exec "$NS_U" timeout -k 5 $((TRAFFIC + 60)) \
    ping -q -n -i 1 -W 2 -c "$TRAFFIC" \
    10.77.0.1 >"$TMP_DIR/ping.ua" 2>&1 &
PING_UA=$!
CLEANUP_PIDS+=("$PING_UA")
wait_until 10 eval "nsx \"\$NS_B\" ss -Htn state established 'sport = :5201' |
    grep -q ." || fail "iperf3 did not connect: $(cat "$TMP_DIR/iperf.client.err")"
sleep "$WARMUP"

# Frames the kernel dropped on the pair's TAPs because the daemon did not
# take them in time (reported, not asserted).
tap_drops() {
	echo "$(link_stat "$NS_A" "$IF_A" tx_dropped) $(link_stat "$NS_B" "$IF_B" tx_dropped)"
}
read -r DROP_A0 DROP_B0 < <(tap_drops)
FDS0=$(fds_quiet "$DAEMON_PID")
fd_kinds "$DAEMON_PID" >"$TMP_DIR/fds.before"
fd_kinds "$HELPER0" >"$TMP_DIR/hfds.before"
RSS0=$(rss_kib "$DAEMON_PID")
HFDS0=$(fds_quiet "$HELPER0")
THREADS0=$(nthreads "$DAEMON_PID")
FD_CHANGES="" HFD_CHANGES="" SLOW_WHAT="" PAIR_DROPS=""
say "seed $SEED; $MINUTES min of churn; before: daemon $FDS0 fds, RSS $RSS0 KiB, $THREADS0 threads; helper pid $HELPER0, $HFDS0 fds; metrics on 127.0.0.1:$MPORT"

# ---- What the churn does, and what it saw go wrong.

declare -A EVENTS=()
PROBLEMS_CMD=()		# a command with an unexpected outcome or effect
PROBLEMS_LINK=()	# a port that did not follow its link
STATUS_MAX_MS=0 STATUS_N=0 STATUS_FAILED=0
SCRAPE_OK=0 SCRAPE_FAILED=0
FLOOD_PIDS=() SLOW_PIDS=()
BROKEN_RELOADS=0

count() {
	EVENTS[$1]=$((${EVENTS[$1]:-0} + 1))
}

# The PIDs of background processes of this script that still run: the
# others leave CLEANUP_PIDS, so that the EXIT trap can never signal a PID
# that was reused meanwhile.
prune_pids() {
	local running pid keep=() k=()
	running=" $(jobs -pr | tr '\n' ' ') "
	for pid in "${CLEANUP_PIDS[@]}"; do
		[[ $running == *" $pid "* ]] && keep+=("$pid")
	done
	CLEANUP_PIDS=("${keep[@]}")
	for pid in "${FLOOD_PIDS[@]}"; do
		[[ $running == *" $pid "* ]] && k+=("$pid")
	done
	FLOOD_PIDS=("${k[@]}")
	k=()
	for pid in "${SLOW_PIDS[@]}"; do
		[[ $running == *" $pid "* ]] && k+=("$pid")
	done
	SLOW_PIDS=("${k[@]}")
}

problem_cmd() {
	PROBLEMS_CMD+=("t=$((SECONDS - T0))s: $*")
	say "PROBLEM: $*"
}

problem_link() {
	PROBLEMS_LINK+=("t=$((SECONDS - T0))s: $*")
	say "PROBLEM: $*"
}

# expect WANT WHAT ARGS... - run tapswitchctl ARGS; its exit status must
# be WANT (and a failure must say why on stderr).
expect() {
	local want=$1 what=$2 rc=0 err
	shift 2
	ctl "$@" >"$TMP_DIR/cmd.out" 2>"$TMP_DIR/cmd.err" || rc=$?
	err=$(head -c 300 "$TMP_DIR/cmd.err")
	if ((rc != want)); then
		problem_cmd "$what: tapswitchctl $*: exit $rc, want $want: $err"
		return 1
	fi
	if ((want != 0)) && [[ -z $err ]]; then
		problem_cmd "$what: tapswitchctl $*: exit $rc without a message"
		return 1
	fi
	return 0
}

# port_state NAME - print "up", "down" or "none" (no such port).
port_state() {
	ctl --json port show "$1" 2>/dev/null | jq -r '.state // "none"' ||
		echo none
}

port_is() {
	[[ $(port_state "$1") == "$2" ]]
}

# wait_port NAME STATE WHAT - wait until the port is in STATE.
wait_port() {
	local name=$1 want=$2 what=$3 st
	wait_until "$LINK_WAIT" port_is "$name" "$want" && return 0
	st=$(ctl --json port show "$name" 2>&1 | jq -c '{state, reason}' 2>&1)
	if [[ $what == port_add* ]]; then
		problem_cmd "$what: port $name not $want after $LINK_WAIT s: $st"
	else
		problem_link "$what: port $name (namespace ${C_NS[${name#c}]} made ${C_GEN[${name#c}]} times) not $want after $LINK_WAIT s: $st"
	fi
	return 1
}

# slot_with TEST - set SLOT to a random slot i for which the bash
# expression TEST (of $i) is true; false if there is none.
SLOT=0
slot_with() {
	local i
	local -a ok=()
	for ((i = 0; i < NSLOT; i++)); do
		eval "$1" && ok+=("$i")
	done
	((${#ok[@]} > 0)) || return 1
	SLOT=${ok[RANDOM % ${#ok[@]}]}
}

ns_create() {
	local i=$1
	ip netns add "${C_NS[i]}" || { problem_cmd "ip netns add ${C_NS[i]} failed"; return 1; }
	ip -n "${C_NS[i]}" link set lo up
	ip netns exec "${C_NS[i]}" sh -c '
		echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 &&
		echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null
	C_NSUP[i]=1
	C_GEN[i]=$((C_GEN[i] + 1))
	count ns_create
}

ev_port_add() {
	local i type args persist
	slot_with '[[ -z ${C_PORT[i]} ]]' || return 1
	i=$SLOT
	if ((C_NSUP[i] == 0)); then
		if ((RANDOM % 4 == 0)); then
			# Into a namespace that is not there: refused.
			count port_add_nons
			say "port add c$i into missing ${C_NS[i]} (must be refused)"
			expect 1 port_add_nons port add "c$i" \
			    ifname="${C_TAP[i]}" netns="${C_NS[i]}" || return 0
			[[ $(port_state "c$i") == none ]] ||
				problem_cmd "port_add_nons: c$i exists after a refused add"
			return 0
		fi
		ns_create "$i" || return 0
	fi
	if ((RANDOM % 10 < 3)); then
		type=system
		veth_make "$i" || return 0
		args=(type=system ifname="${C_VETH[i]}" netns="${C_NS[i]}")
	else
		type=tap
		persist=yes
		((RANDOM % 2)) && persist=no
		args=(ifname="${C_TAP[i]}" netns="${C_NS[i]}" "persist=$persist")
		C_PERSIST[i]=$persist
	fi
	count "port_add_$type"
	say "port add c$i ${args[*]}"
	expect 0 "port_add_$type" port add "c$i" "${args[@]}" || return 0
	C_PORT[i]=$type
	C_LINK[i]=up
	wait_port "c$i" up "port_add_$type"
	return 0
}

# veth_make I - the veth of slot I's system port, in its namespace, up.
veth_make() {
	local i=$1
	link_exists "${C_NS[i]}" "${C_VETH[i]}" && return 0
	ip -n "${C_NS[i]}" link add "${C_VETH[i]}" type veth \
	    peer name "${C_PEER[i]}" &&
	    ip -n "${C_NS[i]}" link set "${C_VETH[i]}" up &&
	    ip -n "${C_NS[i]}" link set "${C_PEER[i]}" up && return 0
	problem_cmd "cannot make veth ${C_VETH[i]} in ${C_NS[i]}"
	return 1
}

ev_port_del() {
	slot_with '[[ -n ${C_PORT[i]} ]]' || return 1
	count port_del
	port_del "$SLOT" port_del
	return 0
}

# port_del I WHAT - delete port c$I.  Its TAP must be gone, from its
# namespace, and from $NS_X if it was moved there ("removes its TAP
# wherever it is by then"); a system port's veth stays.
port_del() {
	local i=$1 what=$2
	say "port del c$i (${C_PORT[i]}${C_PERSIST[i]:+ persist=${C_PERSIST[i]}}, link ${C_LINK[i]})"
	if expect 0 "$what" port del "c$i" && [[ ${C_PORT[i]} == tap ]]; then
		if [[ ${C_LINK[i]} == @(up|down) ]] &&
		    ! wait_until 5 link_gone "${C_NS[i]}" "${C_TAP[i]}"; then
			problem_cmd "$what: the TAP ${C_TAP[i]} of c$i (persist=${C_PERSIST[i]}) is still in ${C_NS[i]}"
			ip -n "${C_NS[i]}" link del "${C_TAP[i]}" 2>/dev/null
		fi
		if [[ -n ${C_MOVED[i]} ]] &&
		    ! wait_until 5 link_gone "$NS_X" "${C_TAP[i]}"; then
			problem_cmd "$what: the TAP ${C_TAP[i]} of c$i (persist=${C_PERSIST[i]}), moved to $NS_X behind the daemon's back at t=${C_MOVED[i]}s, is still there"
			ip -n "$NS_X" link del "${C_TAP[i]}" 2>/dev/null
		fi
	fi
	C_PORT[i]="" C_LINK[i]="" C_PERSIST[i]="" C_MOVED[i]=""
}

# A namespace deleted under a port: the port goes down (and comes back
# when the namespace is made again, see ev_ns_recreate).
ev_ns_delete() {
	local i
	slot_with '((C_NSUP[i] == 1))' || return 1
	i=$SLOT
	count ns_delete
	say "ip netns delete ${C_NS[i]} (port c$i: ${C_PORT[i]:-none})"
	ip netns delete "${C_NS[i]}" ||
		{ problem_cmd "ip netns delete ${C_NS[i]} failed"; return 0; }
	C_NSUP[i]=0
	if [[ -n ${C_PORT[i]} ]]; then
		C_LINK[i]=nsgone
		wait_port "c$i" down ns_delete
	fi
	return 0
}

# The namespace of a port made again: the port comes back up by itself,
# a tap port with a new TAP, a system port once its interface is there.
ev_ns_recreate() {
	local i
	slot_with '((C_NSUP[i] == 0)) && [[ -n ${C_PORT[i]} ]]' || return 1
	i=$SLOT
	count ns_recreate
	say "ip netns add ${C_NS[i]} again (port c$i: ${C_PORT[i]})"
	ns_create "$i" || return 0
	if [[ ${C_PORT[i]} == system ]]; then
		veth_make "$i" || return 0
	fi
	C_LINK[i]=up
	wait_port "c$i" up ns_recreate
	return 0
}

ev_fdb_flush() {
	local p
	count fdb_flush
	if ((RANDOM % 3 == 0)); then
		p=$(printf 'a\nb\nup' | sed -n "$((RANDOM % 3 + 1))p")
		say "fdb flush port=$p"
		expect 0 fdb_flush fdb flush port="$p"
	else
		say "fdb flush"
		expect 0 fdb_flush fdb flush
	fi
	return 0
}

VALID=(base r0 r0 debug)
BROKEN=(unknown-key bad-value duplicate queues missing-netns)

ev_reload() {
	local v want
	if ((RANDOM % 2)); then
		v=${VALID[RANDOM % ${#VALID[@]}]}
		count reload_valid
		conf_write "$v"
		say "reload ($v)"
		expect 0 reload_valid reload
	else
		v=${BROKEN[RANDOM % ${#BROKEN[@]}]}
		count reload_broken
		BROKEN_RELOADS=$((BROKEN_RELOADS + 1))
		conf_write "$v"
		say "reload ($v, must be refused)"
		expect 1 reload_broken reload || return 0
		# It names the file, or for a port that cannot be set up, why.
		want=$CONF
		[[ $v == missing-netns ]] && want=$NS_MISSING
		grep -qF "$want" "$TMP_DIR/cmd.err" ||
			problem_cmd "reload_broken ($v): the message does not name $want: $(head -c 300 "$TMP_DIR/cmd.err")"
	fi
	return 0
}

# The daemon's reloads so far: lines that end one, as the log says.
reloads_logged() {
	grep -cE '^tapswitchd: (reloaded |error: reload)' "$DAEMON_LOG"
}

ev_sighup() {
	local v n kind
	if ((RANDOM % 2)); then
		v=${VALID[RANDOM % ${#VALID[@]}]}
		kind=sighup_valid
	else
		v=${BROKEN[RANDOM % ${#BROKEN[@]}]}
		kind=sighup_broken
		BROKEN_RELOADS=$((BROKEN_RELOADS + 1))
	fi
	count "$kind"
	conf_write "$v"
	n=$(reloads_logged)
	say "SIGHUP ($v)"
	kill -HUP "$DAEMON_PID" || { problem_cmd "cannot send SIGHUP"; return 0; }
	wait_until 10 eval '(($(reloads_logged) > n))' ||
		problem_cmd "$kind ($v): no reload logged within 10 s of SIGHUP"
	return 0
}

ev_log_level() {
	local levels=(error warning info debug) l
	l=${levels[RANDOM % 4]}
	count log_level
	say "log level $l"
	expect 0 log_level log level "$l"
	return 0
}

# Behind the daemon's back, on a TAP of a port whose namespace is there.
ev_tap_down() {
	local i
	slot_with '[[ ${C_PORT[i]} == tap && ${C_LINK[i]} == up ]]' || return 1
	i=$SLOT
	count tap_down
	say "ip link set ${C_TAP[i]} down (c$i)"
	ip -n "${C_NS[i]}" link set "${C_TAP[i]}" down ||
		{ problem_cmd "cannot set ${C_TAP[i]} down"; return 0; }
	C_LINK[i]=down
	wait_port "c$i" down tap_down
	return 0
}

ev_tap_up() {
	local i
	slot_with '[[ ${C_PORT[i]} == tap && ${C_LINK[i]} == down ]]' || return 1
	i=$SLOT
	count tap_up
	say "ip link set ${C_TAP[i]} up (c$i)"
	ip -n "${C_NS[i]}" link set "${C_TAP[i]}" up ||
		{ problem_cmd "cannot set ${C_TAP[i]} up"; return 0; }
	C_LINK[i]=up
	wait_port "c$i" up tap_up
	return 0
}

ev_tap_delete() {
	local i
	slot_with '[[ ${C_PORT[i]} == tap && ${C_LINK[i]} == @(up|down) ]]' ||
		return 1
	i=$SLOT
	count tap_delete
	say "ip link del ${C_TAP[i]} (c$i)"
	ip -n "${C_NS[i]}" link del "${C_TAP[i]}" ||
		{ problem_cmd "cannot delete ${C_TAP[i]}"; return 0; }
	C_LINK[i]=gone
	wait_port "c$i" down tap_delete
	return 0
}

ev_tap_move() {
	local i
	slot_with '[[ ${C_PORT[i]} == tap && ${C_LINK[i]} == @(up|down) &&
	    -z ${C_MOVED[i]} ]]' ||
		return 1
	i=$SLOT
	count tap_move
	say "ip link set ${C_TAP[i]} netns $NS_X (c$i)"
	ip -n "${C_NS[i]}" link set "${C_TAP[i]}" netns "$NS_X" ||
		{ problem_cmd "cannot move ${C_TAP[i]} to $NS_X"; return 0; }
	C_LINK[i]=moved
	C_MOVED[i]=$((SECONDS - T0))
	wait_port "c$i" down tap_move
	return 0
}

ev_ctl_flood() {
	local secs hold k
	prune_pids
	((${#FLOOD_PIDS[@]} == 0)) || return 1
	count ctl_flood
	say "$FLOOD_BURST control clients flooding requests for 2-9 s, then holding the connection 5-19 s, never reading"
	for ((k = 0; k < FLOOD_BURST; k++)); do
		secs=$((RANDOM % 8 + 2)) hold=$((RANDOM % 15 + 5))
		timeout -k 5 $((secs + hold + 60)) python3 "$CLIENTS" flood \
		    "$CTL_SOCK" "$secs" "$hold" >>"$TMP_DIR/flood.out" \
		    2>>"$TMP_DIR/flood.err" &
		FLOOD_PIDS+=("$!")
		CLEANUP_PIDS+=("$!")
	done
	return 0
}

ev_metrics_slow() {
	prune_pids
	((${#SLOW_PIDS[@]} == 0)) || return 1
	count metrics_slow
	say "$SLOW_CONNS slow metrics clients for $SLOW_SECONDS s"
	timeout -k 5 $((SLOW_SECONDS + 60)) python3 "$CLIENTS" slow "$MPORT" \
	    "$SLOW_CONNS" "$SLOW_SECONDS" >>"$TMP_DIR/slow.out" \
	    2>>"$TMP_DIR/slow.err" &
	SLOW_PIDS+=("$!")
	CLEANUP_PIDS+=("$!")
	return 0
}

# scrape - GET /metrics: 200 with the uptime metric in it.
scrape() {
	local code
	code=$(curl -s -o "$TMP_DIR/scrape.out" -w '%{http_code}' \
	    --max-time 10 "http://127.0.0.1:$MPORT/metrics")
	[[ $code == 200 ]] && grep -q '^tapswitch_uptime_seconds ' \
	    "$TMP_DIR/scrape.out"
}

ev_scrape() {
	count scrape
	if scrape; then
		SCRAPE_OK=$((SCRAPE_OK + 1))
	else
		SCRAPE_FAILED=$((SCRAPE_FAILED + 1))
		say "note: a scrape failed"
	fi
	return 0
}

# status_probe - time one "tapswitchctl status".
status_probe() {
	local t0 ms
	t0=$(now_us)
	if ctl status >/dev/null 2>"$TMP_DIR/status.err"; then
		ms=$((($(now_us) - t0) / 1000))
		STATUS_N=$((STATUS_N + 1))
		((ms > STATUS_MAX_MS)) && STATUS_MAX_MS=$ms
	else
		STATUS_FAILED=$((STATUS_FAILED + 1))
		problem_cmd "status: $(head -c 300 "$TMP_DIR/status.err")"
	fi
}

# Weights of the events, out of their sum.
WEIGHTS=(
	port_add 14 port_del 10 ns_delete 5 ns_recreate 4 fdb_flush 6 reload 9
	sighup 4
	log_level 5 tap_down 4 tap_up 3 tap_delete 3 tap_move 3 ctl_flood 3
	metrics_slow 2 scrape 4
)
WEIGHT_SUM=0
for ((k = 1; k < ${#WEIGHTS[@]}; k += 2)); do
	WEIGHT_SUM=$((WEIGHT_SUM + WEIGHTS[k]))
done

# pick_event - set EVENT to one at random, by weight.  (Not in a $(...)
# subshell: that would leave this shell's RANDOM where it was.)
EVENT=""
pick_event() {
	local r=$((RANDOM % WEIGHT_SUM)) k
	for ((k = 0; k < ${#WEIGHTS[@]}; k += 2)); do
		r=$((r - WEIGHTS[k + 1]))
		if ((r < 0)); then
			EVENT=${WEIGHTS[k]}
			return
		fi
	done
}

# ---- The churn.

# The daemon's fds and RSS, every 0.5 s while the churn lasts: "seconds
# fds rss_kib" lines in $TMP_DIR/samples.  Stops when the churn is over
# or the daemon is gone (or by the EXIT trap).
sampler() {
	while [[ ! -e $TMP_DIR/sampler.stop ]] && pid_alive "$DAEMON_PID"; do
		printf '%d %s %s\n' $((SECONDS - T0)) "$(nfds "$DAEMON_PID")" \
		    "$(rss_kib "$DAEMON_PID")"
		sleep 0.5
	done >>"$TMP_DIR/samples"
}
sampler &
SAMPLER=$!
CLEANUP_PIDS+=("$SAMPLER")

DIED=""
END=$((SECONDS + DURATION))
# Every run has misbehaving clients from the start; then chance decides.
FIRST=(metrics_slow ctl_flood)
while ((SECONDS < END)); do
	if ! daemon_alive; then
		DIED="the daemon died at t=$((SECONDS - T0)) s"
		say "PROBLEM: $DIED"
		break
	fi
	status_probe
	if ((${#FIRST[@]})); then
		"ev_${FIRST[0]}"
		FIRST=("${FIRST[@]:1}")
	else
		for ((try = 0; try < 10; try++)); do
			pick_event
			"ev_$EVENT" && break
		done
	fi
	sleep "0.$((RANDOM % 5 + 1))"
done
touch "$TMP_DIR/sampler.stop"
wait "$SAMPLER" 2>/dev/null
read -r FDS_MAX RSS_MAX < <(awk -v f="$FDS0" -v r="$RSS0" '
    $2 > f { f = $2 } $3 > r { r = $3 } END { print f, r }' "$TMP_DIR/samples")
say "churn over: $(for k in "${!EVENTS[@]}"; do printf '%s=%s ' "$k" "${EVENTS[$k]}"; done)"

# ---- Back to where it started.

prune_pids
for pid in "${FLOOD_PIDS[@]}" "${SLOW_PIDS[@]}"; do
	kill -TERM "$pid" 2>/dev/null
done
for pid in "${FLOOD_PIDS[@]}" "${SLOW_PIDS[@]}"; do
	wait "$pid" 2>/dev/null
done
prune_pids
if [[ -z $DIED ]]; then
	for ((i = 0; i < NSLOT; i++)); do
		[[ -n ${C_PORT[i]} ]] && port_del "$i" cleanup
	done
	for ((i = 0; i < NSLOT; i++)); do
		((C_NSUP[i] == 1)) && ip netns delete "${C_NS[i]}"
		C_NSUP[i]=0
	done
	conf_write base
	expect 0 cleanup reload
	say "clean-up done: churn ports deleted, base file reloaded"
fi

# ---- Wait for the traffic, then for fds and memory to settle.

wait_until $((TRAFFIC + 90)) eval '! pid_alive "$IPERF_CLI" && ! pid_alive "$PING_AB"' ||
	say "PROBLEM: the traffic did not end"
IPERF_RC=0 PING_RC=0
wait "$IPERF_CLI" || IPERF_RC=$?
wait "$PING_AB" || PING_RC=$?
wait_until 30 eval '! pid_alive "$IPERF_SRV" && ! pid_alive "$PING_UA"'
wait "$IPERF_SRV" 2>/dev/null
wait "$PING_UA" 2>/dev/null
prune_pids

RSS_BOUND=$((RSS0 + RSS0 * RSS_SLACK_PCT / 100))
((RSS_BOUND < RSS0 + RSS_SLACK_MIB * 1024)) &&
	RSS_BOUND=$((RSS0 + RSS_SLACK_MIB * 1024))
FDS_BOUND=$((FDS0 + FD_SLACK))
HFDS_BOUND=$((HFDS0 + FD_SLACK))
# netns_sockets KINDS-FILE - the sockets in other namespaces in it.
netns_sockets() {
	awk -F= '$1 == "socket-other-netns" { n = $2 } END { print n + 0 }' "$1"
}
settled() {
	daemon_alive && (($(nfds "$DAEMON_PID") <= FDS_BOUND)) &&
	    (($(rss_kib "$DAEMON_PID") <= RSS_BOUND)) &&
	    (($(fd_kinds "$DAEMON_PID" | netns_sockets /dev/stdin) <=
	    $(netns_sockets "$TMP_DIR/fds.before")))
}
if daemon_alive; then
	t_settle=$SECONDS
	wait_until "$SETTLE" settled
	t_settle=$((SECONDS - t_settle))
fi

# ---- The assertions.

RESULTS=()
FAILED=()
check() {
	local name=$1 passed=$2 what=$3
	if [[ $passed == yes ]]; then
		RESULTS+=("PASS $name: $what")
	else
		RESULTS+=("FAIL $name: $what")
		FAILED+=("$name: $what")
	fi
}
yes_if() {
	if "$@"; then echo yes; else echo no; fi
}

# alive
if daemon_alive; then
	t=$(now_us)
	rc=0
	ctl status >/dev/null 2>"$TMP_DIR/status.err" || rc=$?
	ms=$((($(now_us) - t) / 1000))
	check alive "$(yes_if eval '((rc == 0 && ms <= STATUS_BOUND_MS))')" \
	    "status answered in $ms ms (exit $rc; bound $STATUS_BOUND_MS ms); during the churn: $STATUS_N answered, slowest $STATUS_MAX_MS ms, $STATUS_FAILED failed"
else
	check alive no "${DIED:-the daemon is not running}"
fi

# helper
H=$(helper_pid)
check helper "$(yes_if [ "$H" = "$HELPER0" ])" \
    "helper pid ${H:-none} at the end, $HELPER0 at start"

# ping
read -r p_tx p_rx < <(awk '/packets transmitted/ { print $1, $4 }' \
    "$TMP_DIR/ping.ab")
p_tx=${p_tx:-0} p_rx=${p_rx:-0}
check ping "$(yes_if eval '((p_tx > 0 && p_tx == p_rx && p_tx * 10 >= PING_PLANNED * 9))')" \
    "a -> b: $((p_tx - p_rx)) lost of $p_tx sent ($PING_PLANNED planned, exit $PING_RC)"
read -r u_tx u_rx < <(awk '/packets transmitted/ { print $1, $4 }' \
    "$TMP_DIR/ping.ua")

# iperf3: the receiver's 1-second intervals.
IPERF_WHAT=""
if jq -e '.intervals | length > 0' "$TMP_DIR/iperf.server.json" >/dev/null 2>&1; then
	# Throughput figures (for people) leave out a last partial interval.
	read -r n_int zeros zrun mn med mean < <(jq -r '
	    [.intervals[].sum.bytes] as $b |
	    ([.intervals[].sum | select(.seconds >= 0.5) |
	      .bits_per_second / 1e6] | sort) as $m |
	    (reduce $b[] as $x ({run: 0, max: 0};
	        if $x == 0 then .run += 1 | .max = ([.max, .run] | max)
	        else .run = 0 end)) as $z |
	    [($b | length), ($b | map(select(. == 0)) | length), $z.max,
	     ($m[0] | floor), ($m[($m | length) / 2 | floor] | floor),
	     (($m | add) / ($m | length) | floor)] | @tsv' \
	    "$TMP_DIR/iperf.server.json")
	retr=$(jq -r '.end.sum_sent.retransmits // "?"' "$TMP_DIR/iperf.client.json" 2>/dev/null)
	IPERF_WHAT="$n_int intervals ($TRAFFIC planned), $zeros with 0 bytes, longest run of those $zrun (bound $IPERF_MAX_ZERO_RUN); Mbit/s min $mn, median $med, mean $mean; ${retr:-?} retransmits; exit $IPERF_RC"
	check iperf3 "$(yes_if eval '((IPERF_RC == 0 && n_int >= TRAFFIC - 1 && zrun <= IPERF_MAX_ZERO_RUN))')" \
	    "$IPERF_WHAT"
else
	check iperf3 no "no intervals from the iperf3 server (client exit $IPERF_RC): $(head -c 300 "$TMP_DIR/iperf.server.err") $(jq -r '.error // empty' "$TMP_DIR/iperf.client.json" 2>/dev/null)"
fi

# fds, rss
if daemon_alive; then
	FDS1=$(fds_quiet "$DAEMON_PID")
	RSS1=$(rss_kib "$DAEMON_PID")
	THREADS1=$(nthreads "$DAEMON_PID")
	HFDS1=$( [[ -n $H ]] && fds_quiet "$H" || echo "?")
	fd_kinds "$DAEMON_PID" >"$TMP_DIR/fds.after"
	FD_CHANGES=$(fd_diff "$TMP_DIR/fds.before" "$TMP_DIR/fds.after")
	HFD_CHANGES=""
	if [[ -n $H ]]; then
		fd_kinds "$H" >"$TMP_DIR/hfds.after"
		HFD_CHANGES=$(fd_diff "$TMP_DIR/hfds.before" "$TMP_DIR/hfds.after")
	fi
	check fds "$(yes_if eval '((FDS1 <= FDS_BOUND)) && [[ $HFDS1 != "?" ]] && ((HFDS1 <= HFDS_BOUND))')" \
	    "daemon $FDS0 fds before, $FDS_MAX at most during the churn, $FDS1 after ${t_settle} s of settling (bound $FDS_BOUND)${FD_CHANGES:+: $FD_CHANGES}; helper $HFDS0 before, $HFDS1 after (bound $HFDS_BOUND)${HFD_CHANGES:+: $HFD_CHANGES}"
	# Sockets opened in other namespaces belong to ports and to the
	# monitors of their namespaces: with the churn ports gone, as many
	# as before (each one keeps a namespace alive in the kernel).
	NETNS0=$(netns_sockets "$TMP_DIR/fds.before")
	NETNS1=$(netns_sockets "$TMP_DIR/fds.after")
	check netns "$(yes_if [ "$NETNS1" -eq "$NETNS0" ])" \
	    "sockets of the daemon in other network namespaces: $NETNS0 before, $NETNS1 after (want as many)"
	check rss "$(yes_if eval '((RSS1 <= RSS_BOUND))')" \
	    "daemon RSS $RSS0 KiB before, $RSS1 after (bound $RSS_BOUND: +max($RSS_SLACK_MIB MiB, $RSS_SLACK_PCT%)); threads $THREADS0 before, $THREADS1 after"
else
	check fds no "the daemon is not running"
	check netns no "the daemon is not running"
	check rss no "the daemon is not running"
fi
PEAK_BOUND=$((RSS0 + PEAK_SLACK_MIB * 1024))
check peak "$(yes_if eval '((RSS_MAX <= PEAK_BOUND))')" \
    "daemon RSS at most $RSS_MAX KiB during the churn (bound $PEAK_BOUND: +$PEAK_SLACK_MIB MiB), with bursts of $FLOOD_BURST control clients that never read"

# slow metrics clients
if [[ -s $TMP_DIR/slow.out ]]; then
	read -r S_CONN S_CLOSED S_REFUSED S_LONGEST < <(awk '
	    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	      c += v["connects"]; d += v["closed_by_daemon"]; r += v["refused"]
	      if (v["longest"] > l) l = v["longest"] }
	    END { print c + 0, d + 0, r + 0, l + 0 }' "$TMP_DIR/slow.out")
	SLOW_WHAT="$S_CONN connections, $S_CLOSED closed by the daemon, $S_REFUSED refused; the longest open $S_LONGEST s (bound $SLOW_MAX_AGE s)"
	check slow "$(yes_if eval '((S_LONGEST <= SLOW_MAX_AGE))')" "$SLOW_WHAT"
else
	check slow no "no slow metrics clients ran: $(head -c 300 "$TMP_DIR/slow.err" 2>/dev/null)"
fi

# ports, metrics
if daemon_alive; then
	names=$(ctl --json port list 2>/dev/null | jq -r '[.ports[].name] | join(" ")')
	check ports "$(yes_if [ "$names" = "a b up" ])" "port list: \"$names\", want \"a b up\""
	check metrics "$(yes_if scrape)" \
	    "a scrape after the churn; during it: $SCRAPE_OK ok, $SCRAPE_FAILED failed"
	# The drop counters of a and b that are not 0 (reported).
	PAIR_DROPS=$(ctl --json stats 2>/dev/null | jq -c '[.ports[] |
	    select(.name == "a" or .name == "b") | {(.name): (.counters |
	    with_entries(select(.value > 0 and
	    (.key | test("^(rx|tx)_(packets|bytes)$") | not))))}] | add')
fi

# commands, links
check commands "$(yes_if [ ${#PROBLEMS_CMD[@]} -eq 0 ])" \
    "${#PROBLEMS_CMD[@]} unexpected outcomes$( ((${#PROBLEMS_CMD[@]})) && printf '\n      %s' "${PROBLEMS_CMD[@]:0:10}")"
check links "$(yes_if [ ${#PROBLEMS_LINK[@]} -eq 0 ])" \
    "${#PROBLEMS_LINK[@]} link changes not followed within $LINK_WAIT s$( ((${#PROBLEMS_LINK[@]})) && printf '\n      %s' "${PROBLEMS_LINK[@]:0:10}")"

# stop, then log (so that the log includes the shutdown).
if daemon_alive; then
	kill -TERM "$DAEMON_PID"
	rc=0
	if wait_until 10 daemon_gone; then
		wait "$DAEMON_PID" || rc=$?
		check stop "$(yes_if [ $rc -eq 0 ])" "exit status $rc after SIGTERM"
	else
		kill -KILL "$DAEMON_PID" 2>/dev/null
		check stop no "still running 10 s after SIGTERM (killed)"
	fi
	DAEMON_PID=""
fi

# The log: error-level messages are "tapswitchd: error: ..." lines and
# the lines that follow them without a "tapswitchd: " prefix.
awk -v conf="$CONF" -v missing="$NS_MISSING" '
	function flush() {
		if (msg == "") return
		ok = 0
		if (first == "tapswitchd: error: reload failed; nothing was changed:" &&
		    rest != "" && bad_rest == 0) ok = 1
		else if (index(first, "tapswitchd: error: reload refused: " conf ": queues changed from 2 to 1") == 1 && rest == "") ok = 1
		else if (first == "tapswitchd: error: reload: some ports could not be set up:" &&
		    rest ~ ("network namespace \"" missing "\" does not exist")) ok = 1
		if (ok) expected++
		else { unexpected++; print msg > "/dev/stderr" }
		msg = ""
	}
	/^tapswitchd: / { flush() }
	/^tapswitchd: error: / { msg = $0; first = $0; rest = ""; bad_rest = 0; next }
	/^tapswitchd: / { if ($0 ~ /warning: /) warnings++; next }
	/[Ss]anitizer/ { flush(); unexpected++; print > "/dev/stderr"; next }
	msg != "" {
		msg = msg "\n" $0; rest = rest $0
		if (first ~ /reload failed/ && index($0, conf ":") != 1) bad_rest = 1
		next
	}
	END { flush(); printf "%d %d %d\n", expected + 0, unexpected + 0, warnings + 0 }
' "$DAEMON_LOG" >"$TMP_DIR/logcheck" 2>"$TMP_DIR/log.unexpected"
read -r L_EXP L_UNEXP L_WARN <"$TMP_DIR/logcheck"
check log "$(yes_if [ "$L_UNEXP" -eq 0 ])" \
    "$L_UNEXP unexpected error-level messages, $L_EXP expected refusals (of $BROKEN_RELOADS broken reloads), $L_WARN warnings$( ((L_UNEXP)) && printf '\n      %s' "$(head -n 20 "$TMP_DIR/log.unexpected")")"

# ---- The report.

echo
echo "== soak: $MINUTES min, seed $SEED, tapswitchd $TSWD"
echo "events:"
for k in $(printf '%s\n' "${!EVENTS[@]}" | sort); do
	printf '  %-16s %s\n' "$k" "${EVENTS[$k]}"
done
echo "fds:      daemon $FDS0 -> ${FDS1:-?} (max $FDS_MAX during the churn)${FD_CHANGES:+: $FD_CHANGES}; helper $HFDS0 -> ${HFDS1:-?}"
echo "rss:      $RSS0 KiB -> ${RSS1:-?} KiB (max $RSS_MAX KiB during the churn)"
echo "ping:     a -> b $p_rx/$p_tx; U -> a (system port, not asserted) ${u_rx:-?}/${u_tx:-?}"
echo "iperf3:   ${IPERF_WHAT:-none}"
read -r DROP_A1 DROP_B1 < <(tap_drops)
echo "drops:    the switch's counters of a and b: ${PAIR_DROPS:-?}; the kernel dropped $((DROP_A1 - DROP_A0)) frames a sent and $((DROP_B1 - DROP_B0)) b sent (TX dropped of their TAPs: the daemon did not take them in time)"
echo "status:   $STATUS_N probes, slowest $STATUS_MAX_MS ms, $STATUS_FAILED failed"
echo "metrics:  $SCRAPE_OK scrapes ok, $SCRAPE_FAILED failed during the churn"
if [[ -s $TMP_DIR/flood.out ]]; then
	echo "flood:    $(wc -l <"$TMP_DIR/flood.out") clients, hung up by the daemon: $(grep -c 'hangup=yes' "$TMP_DIR/flood.out"); requests sent: $(awk -F'requests=' '{ split($2, a, " "); s += a[1] } END { print s + 0 }' "$TMP_DIR/flood.out")"
fi
echo "slow:     ${SLOW_WHAT:-none}"
echo "results:"
printf '  %s\n' "${RESULTS[@]}"
if [[ -n ${SOAK_REPORT:-} ]]; then
	{ cat "$EVLOG"; printf '%s\n' "${RESULTS[@]}"; } >"$SOAK_REPORT"
fi

if ((${#FAILED[@]})); then
	fail "$((${#FAILED[@]})) of ${#RESULTS[@]} assertions failed:
$(printf '  %s\n' "${FAILED[@]}")"
fi
log "PASS"
exit 0
