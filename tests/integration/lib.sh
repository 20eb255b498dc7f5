# shellcheck shell=bash
# tests/integration/lib.sh - what every integration test sources.
#
# A test script sets TEST_TAG (exactly 4 characters of [a-z0-9]: it goes
# into interface names) and sources this file:
#
#	TEST_TAG=vlan
#	. "$(dirname "$0")/lib.sh"
#	require_root
#
# It gets a private temp dir ($TMP_DIR), unique short names, namespaces and
# a daemon that are all cleaned up by an EXIT trap (which kills only the
# processes the test started, by PID), and helpers to wait, fail and check
# the daemon log.  Exit status: 0 pass, 1 fail, 77 skip.
#
# Environment: TSW_BUILDDIR (where src/tapswitchd and
# tests/integration/rawframe are) and TSW_SRCDIR; make check sets both.
# Run one by hand as:
#
#	TSW_BUILDDIR=$PWD/build TSW_SRCDIR=$PWD bash tests/integration/NAME.sh
#
# TSW_KEEP=1 keeps the temp dir (and prints where it is).
#
# A daemon built with ThreadSanitizer (configure --enable-tsan, see
# scripts/tsan) writes its reports to $TMP_DIR/tsan.PID, goes on after
# one and exits with status 66 if it made any; the suppressions of
# tests/tsan.supp apply.  A test with a report fails (check_log_clean),
# and fail shows the reports.  Other builds ignore TSAN_OPTIONS.
#
# TSW_VALGRIND=yes runs the daemon under valgrind's memcheck (see
# scripts/valgrind): its reports go to $TMP_DIR/valgrind.PID, an error
# makes it exit with status 67 and fails the test as a TSan report does,
# and start_daemon and stop_daemon wait longer.
#
# The data path is the daemon's default (io_uring = auto: io_uring where
# the kernel allows it, read/write otherwise).  TSW_IO_URING=no runs the
# test on the read/write data path: write_conf adds "io_uring = no" to the
# [switch] section, start_daemon checks that the daemon says it runs so,
# and the last character of TEST_TAG becomes "r" so that names differ
# from those of the plain run.  The *-read-write.sh tests are such runs
# of the data-path tests.  TSW_IO_URING=yes does the same with
# "io_uring = yes" (and "u").
#
# DAEMON_WRAP, an array, is a command that start_daemon runs the daemon
# under (it must exec it, so that DAEMON_PID is the daemon's): e.g. the
# test helper nouring, which takes io_uring away from it.

# The tests are bash scripts; should a shell other than bash run them
# (make uses $(SHELL)), start again under bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

set -u -o pipefail

if [[ ! ${TEST_TAG:-} =~ ^[a-z0-9]{4}$ ]]; then
	echo "lib.sh: set TEST_TAG to 4 characters of [a-z0-9] first" >&2
	exit 99
fi

TEST_NAME=$(basename "$0" .sh)
TSW_IO_URING=${TSW_IO_URING:-}
DAEMON_WRAP=()
TSW_VALGRIND=${TSW_VALGRIND:-no}
# Seconds start_daemon waits for the pidfile, stop_daemon for the exit.
DAEMON_START_WAIT=10
DAEMON_STOP_WAIT=5
if [[ $TSW_VALGRIND == yes ]]; then
	DAEMON_START_WAIT=60
	DAEMON_STOP_WAIT=30
fi
case $TSW_IO_URING in
yes)	TEST_TAG=${TEST_TAG:0:3}u
	TEST_NAME=$TEST_NAME-io-uring ;;
no)	TEST_TAG=${TEST_TAG:0:3}r
	TEST_NAME=$TEST_NAME-read-write ;;
esac
TSW_SRCDIR=${TSW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [[ -z ${TSW_BUILDDIR:-} ]]; then
	# scripts/check builds in build/; otherwise assume an in-tree build.
	TSW_BUILDDIR=$TSW_SRCDIR
	[[ -x $TSW_SRCDIR/build/src/tapswitchd ]] && TSW_BUILDDIR=$TSW_SRCDIR/build
fi
TSWD=$TSW_BUILDDIR/src/tapswitchd
TSWCTL=$TSW_BUILDDIR/src/tapswitchctl
RAWFRAME=$TSW_BUILDDIR/tests/integration/rawframe
NOURING=$TSW_BUILDDIR/tests/integration/nouring

# Everything the EXIT trap undoes.
TMP_DIR=""
CLEANUP_PIDS=()		# background processes this test started
CLEANUP_NETNS=()	# namespaces this test created
CLEANUP_LINKS=()	# link names this test handed out (root namespace)
NAME_SEQ=0
DAEMON_PID=""
DAEMON_LOG=""
DAEMON_PIDFILE=""
DAEMON_STARTS=0
RF_SEQ=0
declare -A RF_PID=()

log() {
	printf '%s: %s\n' "$TEST_NAME" "$*"
}

# fail MSG - say what went wrong, show the daemon log (its last 100
# lines) and exit 1; the EXIT trap cleans up.
fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	if [[ -n $DAEMON_LOG && -s $DAEMON_LOG ]]; then
		echo "---- daemon log ($DAEMON_LOG):" >&2
		tail -n 100 "$DAEMON_LOG" >&2
		echo "----" >&2
	fi
	tsan_reports >&2
	valgrind_reports >&2
	exit 1
}

# tsan_reports - print the ThreadSanitizer reports of this test's daemons
# (see the top); false when there are none.
tsan_reports() {
	local f found=1
	[[ -n $TMP_DIR ]] || return 1
	for f in "$TMP_DIR"/tsan.*; do
		[[ -e $f ]] || continue
		echo "---- ThreadSanitizer ($f):"
		cat "$f"
		echo "----"
		found=0
	done
	return "$found"
}

# valgrind_reports - print the memcheck logs of this test's daemons that
# count errors (TSW_VALGRIND=yes); false when there are none.
valgrind_reports() {
	local f found=1
	[[ -n $TMP_DIR ]] || return 1
	for f in "$TMP_DIR"/valgrind.*; do
		[[ -e $f ]] || continue
		grep -q "ERROR SUMMARY: [1-9]" "$f" || continue
		echo "---- valgrind ($f):"
		cat "$f"
		echo "----"
		found=0
	done
	return "$found"
}

skip() {
	printf '%s: SKIP: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# Skip unless root with /dev/net/tun and the given extra tools (ip and
# timeout are always needed).
require_root() {
	local tool
	((EUID == 0)) || skip "needs root (network namespaces, TAP devices)"
	[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
	for tool in ip timeout "$@"; do
		command -v "$tool" >/dev/null || skip "$tool is not installed"
	done
	ip netns list >/dev/null 2>&1 || skip "ip netns does not work here"
	require_daemon
}

# The daemon must have been built: its absence is an error, not a skip.
require_daemon() {
	[[ -x $TSWD ]] || fail "$TSWD not found: build it first (TSW_BUILDDIR=$TSW_BUILDDIR)"
	if [[ $TSW_IO_URING == yes ]] &&
	    "$TSWD" -n -f /dev/stdin <<<$'[switch]\nio_uring = yes' 2>&1 |
	    grep -q "built without io_uring"; then
		skip "tapswitchd was built without io_uring"
	fi
}

# The CLI too, for the tests that drive the control socket.
require_ctl() {
	[[ -x $TSWCTL ]] || fail "$TSWCTL not found: build it first (TSW_BUILDDIR=$TSW_BUILDDIR)"
}

require_rawframe() {
	[[ -x $RAWFRAME ]] ||
		fail "$RAWFRAME not found: make tests/integration/rawframe"
}

cleanup() {
	local rc=$? pid ns name i
	trap - EXIT
	set +e
	# Our processes first: they hold TAPs and namespace references.
	if [[ -n $DAEMON_PID ]] && pid_alive "$DAEMON_PID"; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for ((i = 0; i < 20; i++)); do
			pid_alive "$DAEMON_PID" || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	for pid in "${CLEANUP_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${CLEANUP_PIDS[@]}"; do
		for ((i = 0; i < 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	# TAPs are persistent by default (persist = yes) and outlive the
	# daemon: those in a namespace go with it, those in the root
	# namespace by name below.
	for ns in "${CLEANUP_NETNS[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	for name in "${CLEANUP_LINKS[@]}"; do
		if ip link show dev "$name" >/dev/null 2>&1; then
			ip link delete dev "$name" 2>/dev/null
		fi
	done
	if [[ -n $TMP_DIR ]]; then
		if [[ -n ${TSW_KEEP:-} ]]; then
			echo "$TEST_NAME: kept $TMP_DIR" >&2
		else
			rm -rf "$TMP_DIR"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsw-$TEST_NAME.XXXXXX") ||
	fail "cannot create a temp dir"
# Every configuration a test writes sets control_socket = $CTL_SOCK, so
# tests never touch /run/tapswitch or each other.
CTL_SOCK=$TMP_DIR/ctl.sock

# True while process $1 exists and is not a zombie.
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Microseconds since the epoch.
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$((10#$t))"
}

# wait_until TIMEOUT CMD... - run CMD every 0.1 s until it succeeds (0) or
# TIMEOUT seconds (may be fractional: 0.5) passed (1).
wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$(($(now_us) + $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')))
	while :; do
		"$@" && return 0
		(($(now_us) >= deadline)) && return 1
		sleep 0.1
	done
}

# new_name VAR - set VAR to a fresh interface name of this test,
# "t<tag><pid%1000><n>" (at most 10 characters, IFNAMSIZ is 16); a link
# of that name left in the root namespace is deleted at exit.
new_name() {
	NAME_SEQ=$((NAME_SEQ + 1))
	printf -v "$1" 't%s%03d%d' "$TEST_TAG" $(($$ % 1000)) "$NAME_SEQ"
	CLEANUP_LINKS+=("${!1}")
}

# ns_add NAME - create network namespace NAME (deleted at exit) with lo up
# and IPv6 off, so the kernel sends nothing on its own (no router
# solicitations or MLD reports) while the tests count frames.
ns_add() {
	ip netns add "$1" || fail "cannot create namespace $1"
	CLEANUP_NETNS+=("$1")
	ip -n "$1" link set lo up || fail "cannot set lo up in $1"
	ip netns exec "$1" sh -c '
		echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 &&
		echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null ||
		log "note: cannot disable IPv6 in $1"
}

# new_ns VAR - ns_add a fresh namespace "tsw-<name>" and set VAR to it.
new_ns() {
	local n
	new_name n
	printf -v "$1" 'tsw-%s' "$n"
	ns_add "${!1}"
}

# nsx NS CMD... - run CMD in namespace NS ("" = the root namespace).
nsx() {
	local ns=$1
	shift
	if [[ -n $ns ]]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# link_exists NS IFNAME
link_exists() {
	if [[ -n $1 ]]; then
		ip -n "$1" link show dev "$2" >/dev/null 2>&1
	else
		ip link show dev "$2" >/dev/null 2>&1
	fi
}

# link_gone NS IFNAME - the opposite, for wait_until.
link_gone() {
	! link_exists "$@"
}

# link_mtu NS IFNAME - print its MTU.
link_mtu() {
	local out
	out=$(nsx "$1" cat "/sys/class/net/$2/mtu" 2>/dev/null) || return 1
	echo "$out"
}

# link_is_up NS IFNAME - administratively up.
link_is_up() {
	local flags
	flags=$(nsx "$1" cat "/sys/class/net/$2/flags" 2>/dev/null) || return 1
	(((flags & 1) != 0))
}

# link_stat NS IFNAME COUNTER - print /sys/class/net/IF/statistics/COUNTER
# as seen inside NS.
link_stat() {
	nsx "$1" cat "/sys/class/net/$2/statistics/$3"
}

# link_mac NS IFNAME
link_mac() {
	nsx "$1" cat "/sys/class/net/$2/address"
}

# addr_add NS IFNAME CIDR
addr_add() {
	ip -n "$1" addr add "$3" dev "$2" || fail "cannot add $3 to $2 in $1"
}

# start_daemon CONF [ARGS...] - run tapswitchd -f CONF in the background,
# its stderr appended to $DAEMON_LOG, and wait (up to $DAEMON_START_WAIT s)
# until it wrote its pidfile, i.e. every port is up.  Fails the test if it
# exits instead.
start_daemon() {
	local conf=$1
	shift
	[[ -z $DAEMON_PID ]] || fail "start_daemon: a daemon is already running"
	grep -qE "^control_socket *= *$CTL_SOCK\$" "$conf" ||
		fail "start_daemon: $conf must set control_socket = $CTL_SOCK"
	DAEMON_STARTS=$((DAEMON_STARTS + 1))
	DAEMON_LOG=$TMP_DIR/daemon.log
	DAEMON_PIDFILE=$TMP_DIR/tapswitchd.pid
	rm -f "$DAEMON_PIDFILE"
	printf -- '--- start %d: tapswitchd -f %s %s\n' "$DAEMON_STARTS" \
	    "$conf" "$*" >>"$DAEMON_LOG"
	local wrap=("${DAEMON_WRAP[@]}")
	[[ $TSW_VALGRIND == no ]] ||
		wrap+=(valgrind --tool=memcheck --error-exitcode=67
		    --track-origins=yes --log-file="$TMP_DIR/valgrind.%p")
	TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }halt_on_error=0 exitcode=66 log_path=$TMP_DIR/tsan suppressions=$TSW_SRCDIR/tests/tsan.supp" \
	    "${wrap[@]}" "$TSWD" -f "$conf" --pidfile "$DAEMON_PIDFILE" "$@" \
	    </dev/null >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	if ! wait_until "$DAEMON_START_WAIT" daemon_started; then
		if ! pid_alive "$DAEMON_PID"; then
			local rc=0
			wait "$DAEMON_PID" || rc=$?
			DAEMON_PID=""
			fail "tapswitchd exited with status $rc during start-up"
		fi
		fail "tapswitchd did not write its pidfile within $DAEMON_START_WAIT s"
	fi
	[[ $(<"$DAEMON_PIDFILE") == "$DAEMON_PID" ]] ||
		fail "pidfile holds $(<"$DAEMON_PIDFILE"), not $DAEMON_PID"
	case $TSW_IO_URING in
	yes)	wait_until 5 grep -q "running: .*, io_uring$" "$DAEMON_LOG" ||
			fail "tapswitchd does not say it runs with io_uring" ;;
	no)	wait_until 5 grep -q "running: .*, read/write$" "$DAEMON_LOG" ||
			fail "tapswitchd does not say it runs with read/write" ;;
	esac
}

daemon_started() {
	[[ -s $DAEMON_PIDFILE ]] || ! pid_alive "$DAEMON_PID"
}

daemon_alive() {
	[[ -n $DAEMON_PID ]] && pid_alive "$DAEMON_PID"
}

daemon_gone() {
	! pid_alive "$DAEMON_PID"
}

# pid_gone PID - the opposite of pid_alive, for wait_until.
pid_gone() {
	! pid_alive "$1"
}

# helper_pid - print the PID of the daemon's privileged helper (its child
# called tapswitchd-priv, see tapswitchd(8)), or nothing.
helper_pid() {
	local pid children
	[[ -n $DAEMON_PID ]] || return 0
	# Space-separated PIDs, one list per thread.
	children=$(cat "/proc/$DAEMON_PID/task/"*/children 2>/dev/null)
	for pid in $children; do
		if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == tapswitchd-priv ]]; then
			echo "$pid"
			return 0
		fi
	done
}

# proc_status PID FIELD - print FIELD of /proc/PID/status ("Uid", "CapEff",
# ...), tabs turned into spaces.
proc_status() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' \
	    "/proc/$1/status"
}

# stop_daemon [SIGNAL] - send SIGTERM (or SIGNAL) to the daemon, wait up
# to $DAEMON_STOP_WAIT s for it to exit, and fail unless it exited with
# status 0.  Sets STOP_ELAPSED_MS to how long that took.
# shellcheck disable=SC2034 # for the tests to report
STOP_ELAPSED_MS=0
stop_daemon() {
	local sig=${1:-TERM} start rc=0
	[[ -n $DAEMON_PID ]] || fail "stop_daemon: no daemon running"
	daemon_alive || {
		wait "$DAEMON_PID" || rc=$?
		DAEMON_PID=""
		fail "tapswitchd died before it was stopped (status $rc)"
	}
	start=$(now_us)
	kill "-$sig" "$DAEMON_PID" || fail "cannot signal tapswitchd"
	if ! wait_until "$DAEMON_STOP_WAIT" daemon_gone; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=""
		fail "tapswitchd still running $DAEMON_STOP_WAIT s after SIG$sig (killed)"
	fi
	# shellcheck disable=SC2034 # for the tests to report
	STOP_ELAPSED_MS=$((($(now_us) - start) / 1000))
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	((rc != 66)) || ! tsan_reports >/dev/null ||
		fail "tapswitchd exited with status 66 after SIG$sig: ThreadSanitizer reported races"
	((rc != 67)) || ! valgrind_reports >/dev/null ||
		fail "tapswitchd exited with status 67 after SIG$sig: valgrind reported errors"
	((rc == 0)) ||
		fail "tapswitchd exited with status $rc after SIG$sig (want 0)"
	[[ ! -e $DAEMON_PIDFILE ]] || fail "tapswitchd left its pidfile behind"
}

# Daemons besides the main one (tests of several "hosts"), by name.
declare -A HOST_PID=()

# start_host NAME CONF - run another tapswitchd, for "host" NAME, with
# CONF (which sets its own control_socket), its log in
# $TMP_DIR/NAME.log and its pidfile in $TMP_DIR/NAME.pid; wait until it
# wrote its pidfile.  It is killed at exit; stop_host stops it cleanly.
start_host() {
	local name=$1 conf=$2 pidfile=$TMP_DIR/$1.pid pid
	rm -f "$pidfile"
	TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }halt_on_error=0 exitcode=66 log_path=$TMP_DIR/tsan suppressions=$TSW_SRCDIR/tests/tsan.supp" \
	    "$TSWD" -f "$conf" --pidfile "$pidfile" </dev/null \
	    >>"$TMP_DIR/$name.log" 2>&1 &
	pid=$!
	HOST_PID[$name]=$pid
	CLEANUP_PIDS+=("$pid")
	wait_until "$DAEMON_START_WAIT" test -s "$pidfile" ||
		fail "tapswitchd of host $name did not start: $(tail -n 5 "$TMP_DIR/$name.log")"
}

# stop_host NAME - SIGTERM the daemon of host NAME; fail unless it exits
# with status 0 and logged no warning or error but those matching the
# extended regular expressions given after NAME.
stop_host() {
	local name=$1 pid=${HOST_PID[$1]} rc=0 bad re line
	shift
	kill -TERM "$pid" 2>/dev/null || fail "host $name: tapswitchd is gone"
	wait_until "$DAEMON_STOP_WAIT" pid_gone "$pid" ||
		fail "host $name: tapswitchd did not stop"
	wait "$pid" || rc=$?
	((rc == 0)) || fail "host $name: tapswitchd exited with status $rc"
	bad=$(grep -iE 'warning:|error:|sanitizer' "$TMP_DIR/$name.log" |
	    while IFS= read -r line; do
		for re in "$@"; do
			[[ $line =~ $re ]] && continue 2
		done
		printf '%s\n' "$line"
	done)
	[[ -z $bad ]] || fail "unexpected lines in the log of host $name:
$bad"
}

# check_log_clean [REGEX...] - fail if the daemon log has a warning or
# error line (or sanitizer report) that matches none of the extended
# regular expressions given.
check_log_clean() {
	local bad re line
	[[ -n $DAEMON_LOG && -f $DAEMON_LOG ]] || return 0
	bad=$(grep -iE 'warning:|error:|sanitizer' "$DAEMON_LOG" |
	    while IFS= read -r line; do
		for re in "$@"; do
			[[ $line =~ $re ]] && continue 2
		done
		printf '%s\n' "$line"
	done)
	[[ -z $bad ]] || fail "unexpected lines in the daemon log:
$bad"
	! tsan_reports >/dev/null ||
		fail "ThreadSanitizer reported a race (tests/tsan.supp says which reports are known to be benign)"
	! valgrind_reports >/dev/null || fail "valgrind reported errors"
}

# write_conf NAME <<EOF ... EOF - write a daemon configuration to
# $TMP_DIR/NAME.conf and print its path.
write_conf() {
	local f=$TMP_DIR/$1.conf
	cat >"$f" || fail "cannot write $f"
	if [[ -n $TSW_IO_URING ]]; then
		sed -i "/^\\[switch\\]\$/a io_uring = $TSW_IO_URING" "$f" ||
			fail "cannot add io_uring to $f"
	fi
	echo "$f"
}

# ping_ok NS ADDR [ARGS...] - bounded ping that must succeed.
ping_ok() {
	local ns=$1 addr=$2
	shift 2
	nsx "$ns" timeout 20 ping -q -n -c 2 -W 1 -i 0.2 "$@" "$addr" \
	    >"$TMP_DIR/ping.out" 2>&1 ||
		fail "ping from ${ns:-root} to $addr failed: $(cat "$TMP_DIR/ping.out")"
}

# ping_fails NS ADDR [ARGS...] - bounded ping that must get no reply.
ping_fails() {
	local ns=$1 addr=$2
	shift 2
	if nsx "$ns" timeout 20 ping -q -n -c 2 -W 1 -i 0.2 "$@" "$addr" \
	    >"$TMP_DIR/ping.out" 2>&1; then
		fail "ping from ${ns:-root} to $addr worked but must not: $(cat "$TMP_DIR/ping.out")"
	fi
}

# rf_recv VAR NS IFACE RECV-ARGS... - start "rawframe recv IFACE ..." in
# the background in NS and wait until it captures; sets VAR to a handle
# for rf_wait.  Its output goes to $TMP_DIR/rf-<handle>.out.
rf_recv() {
	local var=$1 ns=$2 ifname=$3 id ms=0 i
	shift 3
	require_rawframe
	RF_SEQ=$((RF_SEQ + 1))
	id=$RF_SEQ
	for ((i = 1; i <= $#; i++)); do
		[[ ${!i} == --timeout ]] && { i=$((i + 1)); ms=${!i}; }
	done
	nsx "$ns" timeout $((ms / 1000 + 5)) "$RAWFRAME" recv "$ifname" "$@" \
	    --ready "$TMP_DIR/rf-$id.ready" \
	    >"$TMP_DIR/rf-$id.out" 2>"$TMP_DIR/rf-$id.err" &
	RF_PID[$id]=$!
	CLEANUP_PIDS+=("$!")
	wait_until 5 test -e "$TMP_DIR/rf-$id.ready" ||
		fail "rawframe recv on $ifname did not start: $(cat "$TMP_DIR/rf-$id.err")"
	printf -v "$var" '%s' "$id"
}

# rf_wait HANDLE - wait for a receiver; returns its exit status (0: got
# its count, 1: too few frames).  Any other status fails the test.
rf_wait() {
	local rc=0
	wait "${RF_PID[$1]}" || rc=$?
	((rc <= 1)) ||
		fail "rawframe recv $1 failed (status $rc): $(cat "$TMP_DIR/rf-$1.err")"
	return "$rc"
}

# rf_out HANDLE - the lines it captured.
rf_out() {
	cat "$TMP_DIR/rf-$1.out"
}

# rf_send NS IFACE DST SRC [ARGS...] - send raw frames; must succeed.
rf_send() {
	local ns=$1
	shift
	require_rawframe
	nsx "$ns" timeout 10 "$RAWFRAME" send "$@" 2>"$TMP_DIR/rf-send.err" ||
		fail "rawframe send $*: $(cat "$TMP_DIR/rf-send.err")"
}

# pass - stop the daemon if it runs (must exit 0), check its log with the
# given allowed patterns, and exit 0.
pass() {
	if [[ -n $DAEMON_PID ]]; then
		stop_daemon
	fi
	check_log_clean "$@"
	log "PASS"
	exit 0
}

# ---- The control socket: tapswitchctl and its JSON output.
#
# Helpers that can fail the test set variables instead of printing, so
# that they never run in a $(...) subshell, where "fail" would only end
# the subshell.

# ctl ARGS... - run tapswitchctl against this test's daemon ($CTL_SOCK),
# bounded in time; its exit status is tapswitchctl's.
ctl() {
	timeout 40 "$TSWCTL" -s "$CTL_SOCK" "$@"
}

# ctl_json VAR ARGS... - run "tapswitchctl --json ARGS..." and set VAR to
# what it printed.  Fails the test unless it exits 0 with one JSON value
# on stdout and nothing on stderr.
ctl_json() {
	local var=$1 out rc=0
	shift
	out=$(ctl --json "$@" 2>"$TMP_DIR/ctl.err") || rc=$?
	((rc == 0)) ||
		fail "tapswitchctl $*: exit status $rc: $(cat "$TMP_DIR/ctl.err")"
	[[ ! -s $TMP_DIR/ctl.err ]] ||
		fail "tapswitchctl $*: unexpected stderr: $(cat "$TMP_DIR/ctl.err")"
	jq -e . >/dev/null 2>&1 <<<"$out" ||
		fail "tapswitchctl $*: output is not JSON: $out"
	printf -v "$var" '%s' "$out"
}

# ctl_status WANT ARGS... - run "tapswitchctl ARGS..." and fail unless it
# exits with status WANT.  Sets CTL_OUT and CTL_ERR to its stdout and
# stderr.  A failing command (WANT > 0) must print nothing on stdout and
# something on stderr.
CTL_OUT=""
CTL_ERR=""
ctl_status() {
	local want=$1 rc=0
	shift
	ctl "$@" >"$TMP_DIR/ctl.out" 2>"$TMP_DIR/ctl.err" || rc=$?
	CTL_OUT=$(<"$TMP_DIR/ctl.out")
	CTL_ERR=$(<"$TMP_DIR/ctl.err")
	((rc == want)) ||
		fail "tapswitchctl $*: exit status $rc, want $want; stdout: $CTL_OUT; stderr: $CTL_ERR"
	if ((want > 0)); then
		[[ -z $CTL_OUT ]] ||
			fail "tapswitchctl $*: exit $rc but printed on stdout: $CTL_OUT"
		[[ -n $CTL_ERR ]] ||
			fail "tapswitchctl $*: exit $rc without a message on stderr"
	fi
}

# json_ok JSON FILTER [WHAT] - fail unless the jq FILTER yields true for
# JSON (WHAT says what was checked).
json_ok() {
	jq -e "$2" >/dev/null 2>&1 <<<"$1" ||
		fail "${3:-jq check $2} failed on:
$1"
}

# json_get JSON FILTER - print jq -r FILTER of JSON (for $(...): it does
# not fail the test; check what it printed).
json_get() {
	jq -r "$2" <<<"$1"
}
