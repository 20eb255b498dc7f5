#!/usr/bin/env bash
# ctl-memory.sh - what clients of the control socket may cost the daemon.
# With 10000 static entries in the MAC table (added through the socket):
#   tapswitchctl fdb show (table and --json) lists all of them, sorted,
#   each once, although the daemon answers in pages;
#   a client that sends 20 fdb.show requests and an fdb.add and reads
#   nothing: the fdb.add waits until it reads (backpressure);
#   40 clients each send 20 fdb.show requests and never read, then 200
#   more: the daemon's peak RSS stays within the documented bound of the
#   control socket (CTL_MEM_MAX, 16 MiB, plus bookkeeping; 16 MiB of
#   slack) of where it was, some of the 240 are disconnected for it,
#   "status" from another client is answered meanwhile (5 s is the
#   failure bound, not a measurement), and a client that read nothing for
#   a while and then reads gets every answer it asked for, in order;
#   once they are gone the daemon's RSS comes back to within 4 MiB of
#   where it was (malloc_trim).
# Raw clients are small python3 programs (standard library only).
TEST_TAG=ctlm
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root jq python3
require_ctl

ENTRIES=10000
HOGS=40
HOG_REQS=20
READER_REQS=5
MEM_MAX_KB=$((16 * 1024))	# CTL_MEM_MAX, ctl.h and tapswitchd(8)
# What else the clients may cost: the answer being made, a few KiB of
# bookkeeping per client, what malloc keeps between blocks.
SLACK_KB=$((16 * 1024))
BACK_KB=$((4 * 1024))

# Under valgrind or a sanitizer RSS measures the tool, not the daemon:
# everything else is checked, memory is not.
MEASURE=yes
if [[ ${TSW_VALGRIND:-no} != no ]] ||
    ldd "$TSWD" 2>/dev/null | grep -qE 'lib(a|t)san'; then
	MEASURE=no
	log "note: the daemon runs under valgrind or a sanitizer; its memory is not checked"
fi

new_name IF_A; new_ns NS_A
conf=$(write_conf ctlm <<EOF
[switch]
queues = 1
fdb_size = 16384
control_socket = $CTL_SOCK

[port a]
ifname = $IF_A
netns = $NS_A
EOF
)

# The raw client.  Subcommands:
#   fill SOCK N PORT   add N static entries 02:00:00:xx:xx:xx on PORT,
#                      500 requests at a time; prints N
#   hog SOCK C R READY GO  C clients each send R fdb.show requests and
#                      read nothing; READY once all are sent; at GO (at
#                      most 120 s) close them all
#   marker SOCK R MAC READY GO  send R fdb.show requests, then an
#                      fdb.add of MAC on port a; READY; at GO (at most
#                      120 s) read the answers and print the last
#   reader SOCK R READY GO  send R fdb.show requests with limit 1000,
#                      READY, wait for GO (at most 120 s), then read the
#                      R answers: prints "ids ENTRIES..." (the ids in
#                      order, then the number of entries of each)
CLIENT=$TMP_DIR/client.py
cat >"$CLIENT" <<'PYEOF'
import json, os, socket, sys, time

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(60)
    return s

def wait_for(f):
    deadline = time.time() + 120
    while not os.path.exists(f) and time.time() < deadline:
        time.sleep(0.05)

def show(i, limit):
    req = {"jsonrpc": "2.0", "id": i, "method": "fdb.show"}
    if limit:
        req["params"] = {"limit": limit}
    return json.dumps(req).encode() + b"\n"

cmd, path = sys.argv[1], sys.argv[2]
if cmd == "fill":
    n, port = int(sys.argv[3]), sys.argv[4]
    s = conn(path)
    f = s.makefile("rb")
    done = 0
    while done < n:
        k = min(500, n - done)
        reqs = []
        for i in range(done, done + k):
            mac = "02:00:00:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255,
                                               i & 255)
            reqs.append(json.dumps({"jsonrpc": "2.0", "id": i,
                                    "method": "fdb.add",
                                    "params": {"mac": mac, "port": port}}))
        s.sendall(("\n".join(reqs) + "\n").encode())
        for i in range(k):
            r = json.loads(f.readline())
            if "result" not in r:
                print(r)
                sys.exit(1)
        done += k
    print(done)
elif cmd == "hog":
    c, r, ready, go = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], \
        sys.argv[6]
    socks = [conn(path) for _ in range(c)]
    for s in socks:
        s.sendall(b"".join(show(i, 0) for i in range(r)))
    open(ready, "w").close()
    wait_for(go)
    for s in socks:
        s.close()
elif cmd == "marker":
    r, mac, ready, go = int(sys.argv[3]), sys.argv[4], sys.argv[5], \
        sys.argv[6]
    s = conn(path)
    s.sendall(b"".join(show(i, 0) for i in range(r)) +
              json.dumps({"jsonrpc": "2.0", "id": r, "method": "fdb.add",
                          "params": {"mac": mac, "port": "a"}}).encode() +
              b"\n")
    open(ready, "w").close()
    wait_for(go)
    f = s.makefile("rb")
    for _ in range(r):
        f.readline()
    print(json.loads(f.readline()))
elif cmd == "reader":
    r, ready, go = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    s = conn(path)
    s.sendall(b"".join(show(i, 1000) for i in range(r)))
    open(ready, "w").close()
    wait_for(go)
    f = s.makefile("rb")
    ids, sizes = [], []
    for _ in range(r):
        a = json.loads(f.readline())
        ids.append(str(a.get("id")))
        sizes.append(str(len(a.get("result", {}).get("entries", []))))
    print(",".join(ids), " ".join(sizes))
else:
    sys.exit(2)
PYEOF

PY=$(python3 -c 'import sys; print(sys.executable)')
[[ -x $PY ]] || fail "cannot find the python3 executable"

rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status"
}

hwm_kb() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$DAEMON_PID/status"
}

# The main thread's CPU ticks; it has settled when two looks 0.5 s apart
# see the same.
# shellcheck disable=SC2317 # called through wait_until
main_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' \
	    "/proc/$DAEMON_PID/task/$DAEMON_PID/stat"
}
LAST_TICKS=-1
# shellcheck disable=SC2317 # called through wait_until
main_settled() {
	local t
	t=$(main_ticks)
	[[ $t == "$LAST_TICKS" ]] && return 0
	LAST_TICKS=$t
	sleep 0.4
	return 1
}
settle() {
	LAST_TICKS=-1
	wait_until 120 main_settled || fail "the daemon's main thread is still busy after 120 s ($1)"
}

# status_answers WHEN - "tapswitchctl status" must answer within 5 s.
status_answers() {
	local t0 out rc=0
	t0=$(now_us)
	out=$(timeout 5 "$TSWCTL" -s "$CTL_SOCK" --json status 2>&1) || rc=$?
	((rc == 0)) || fail "status $1: no answer within 5 s (status $rc): $out"
	json_ok "$out" ".fdb_entries == $ENTRIES" "status $1"
	log "status $1: answered in $((($(now_us) - t0) / 1000)) ms"
}

start_daemon "$conf"

n=$(timeout 120 "$PY" "$CLIENT" fill "$CTL_SOCK" "$ENTRIES" a) ||
	fail "filling the MAC table failed: $n"
ctl_json J status
json_ok "$J" ".fdb_entries == $ENTRIES" "$ENTRIES static entries"

# ---- The CLI lists every entry once, sorted, over as many pages as it
# takes.
ctl_json F fdb show
json_ok "$F" "(.entries | length) == $ENTRIES and
    ([.entries[] | [.vlan, .mac]] | . == sort and . == unique) and
    all(.entries[]; .static and .port == \"a\" and .vlan == 1)" \
    "fdb show --json: $ENTRIES entries, sorted, each once"
ctl_status 0 fdb show
[[ $(wc -l <<<"$CTL_OUT") == $((ENTRIES + 1)) ]] ||
	fail "fdb show: $(wc -l <<<"$CTL_OUT") lines, want $((ENTRIES + 1))"
[[ $(sed -n 2p <<<"$CTL_OUT") =~ ^02:00:00:00:00:00\ +1\ +a\ +-\ +yes$ &&
    $(tail -n 1 <<<"$CTL_OUT") =~ ^02:00:00:00:27:0f\ +1\ +a ]] ||
	fail "fdb show: first and last rows: $(sed -n '2p;$p' <<<"$CTL_OUT")"
ctl_json F fdb show vlan=2
json_ok "$F" '.entries == []' "fdb show vlan=2: none"
log "ok: fdb show of $ENTRIES entries"

# ---- Backpressure: a client that does not read its answers does not
# get its next request served, or even read: the fdb.add after its 20
# fdb.show requests happens only once it reads their answers.
MARK=02:00:00:ff:ff:01
timeout 150 "$PY" "$CLIENT" marker "$CTL_SOCK" "$HOG_REQS" "$MARK" \
    "$TMP_DIR/marker.ready" "$TMP_DIR/marker.go" >"$TMP_DIR/marker.out" 2>&1 &
MARKER_PID=$!
CLEANUP_PIDS+=("$MARKER_PID")
wait_until 30 test -e "$TMP_DIR/marker.ready" ||
	fail "the marker client did not send its requests: $(cat "$TMP_DIR/marker.out")"
settle "with a client that does not read"
ctl_json J status
json_ok "$J" ".fdb_entries == $ENTRIES" \
    "the request after $HOG_REQS unread answers is not served yet"
: >"$TMP_DIR/marker.go"
rc=0
wait "$MARKER_PID" || rc=$?
((rc == 0)) || fail "the marker client failed (status $rc): $(cat "$TMP_DIR/marker.out")"
grep -q "'result': {}" "$TMP_DIR/marker.out" ||
	fail "the marker's fdb.add, once its answers were read: $(cat "$TMP_DIR/marker.out")"
ctl_json J status
json_ok "$J" ".fdb_entries == $((ENTRIES + 1))" "the marker, once read"
ctl_json J fdb del "$MARK"
log "ok: no request is served while a client leaves its answers unread"

settle "before the clients"
RSS0=$(rss_kb)
echo 5 >"/proc/$DAEMON_PID/clear_refs" || fail "cannot reset VmHWM"
log "RSS before the clients: $RSS0 kB"

# ---- Clients that do not read their answers.
# hogs NAME COUNT - start COUNT clients that send HOG_REQS requests each
# and read nothing, and wait until they sent them.
hogs() {
	timeout 150 "$PY" "$CLIENT" hog "$CTL_SOCK" "$2" "$HOG_REQS" \
	    "$TMP_DIR/$1.ready" "$TMP_DIR/go" >"$TMP_DIR/$1.out" 2>&1 &
	CLEANUP_PIDS+=("$!")
	printf -v "${1^^}_PID" '%s' "$!"
	wait_until 30 test -e "$TMP_DIR/$1.ready" ||
		fail "the $2 clients did not send their requests: $(cat "$TMP_DIR/$1.out")"
}

# check_peak WHEN - the peak RSS since RSS0 is within the bound.
check_peak() {
	local peak
	peak=$(hwm_kb)
	log "RSS $1: $(rss_kb) kB, peak $peak kB (before: $RSS0 kB)"
	[[ $MEASURE == no ]] || ((peak - RSS0 <= MEM_MAX_KB + SLACK_KB)) ||
		fail "$1: peak RSS grew by $((peak - RSS0)) kB, more than the bound $MEM_MAX_KB kB + $SLACK_KB kB slack"
}

hogs hog1 "$HOGS"
status_answers "while $HOGS clients send $HOG_REQS requests each and read nothing"
settle "with $HOGS clients"
check_peak "with $HOGS clients"

# Five times as many more: together they would hold more than the bound.
hogs hog2 $((5 * HOGS))
status_answers "while $((6 * HOGS)) clients do not read"
settle "with $((6 * HOGS)) clients"
daemon_alive || fail "tapswitchd died"
grep -q "control clients hold more than 16 MiB; disconnecting" "$DAEMON_LOG" ||
	fail "$((6 * HOGS)) clients that do not read: none was disconnected"
check_peak "with $((6 * HOGS)) clients"

# A client that reads late gets everything it asked for, in order.
timeout 150 "$PY" "$CLIENT" reader "$CTL_SOCK" "$READER_REQS" \
    "$TMP_DIR/reader.ready" "$TMP_DIR/go" >"$TMP_DIR/reader.out" 2>&1 &
READER_PID=$!
CLEANUP_PIDS+=("$READER_PID")
wait_until 30 test -e "$TMP_DIR/reader.ready" ||
	fail "the reader did not send its requests: $(cat "$TMP_DIR/reader.out")"
settle "with the reader"
status_answers "with the clients and a reader that do not read"
check_peak "with the clients and the reader"

# ---- They read (the reader) or go (the others).
: >"$TMP_DIR/go"
rc=0
wait "$READER_PID" || rc=$?
((rc == 0)) || fail "the reader failed (status $rc): $(cat "$TMP_DIR/reader.out")"
# Each answer is the first page: up to 1000 entries (a page ends between
# slots of the table), the same every time.
read -r ids sizes <"$TMP_DIR/reader.out"
first=${sizes%% *}
want=0
for ((i = 1; i < READER_REQS; i++)); do want+=",$i"; done
good=no
if [[ $ids == "$want" && $first =~ ^[0-9]+$ ]] &&
    ((first > 900 && first <= 1000)) &&
    [[ $(tr ' ' '\n' <<<"$sizes" | sort -u) == "$first" ]]; then
	good=yes
fi
[[ $good == yes ]] ||
	fail "the reader got: $(cat "$TMP_DIR/reader.out"); want ids $want, each a page of up to 1000 entries"
log "ok: the late reader got its $READER_REQS answers"
for pid in "$HOG1_PID" "$HOG2_PID"; do
	rc=0
	wait "$pid" || rc=$?
	((rc == 0)) || fail "the clients failed (status $rc): $(cat "$TMP_DIR"/hog*.out)"
done

# shellcheck disable=SC2317 # called through wait_until
rss_back() {
	(($(rss_kb) <= RSS0 + BACK_KB))
}
[[ $MEASURE == no ]] || wait_until 20 rss_back ||
	fail "RSS $(rss_kb) kB 20 s after the clients left, $RSS0 kB before them"
log "RSS after the clients left: $(rss_kb) kB (before: $RSS0 kB)"
status_answers "after the clients left"

pass
