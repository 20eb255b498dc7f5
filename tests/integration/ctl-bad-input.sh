#!/usr/bin/env bash
# ctl-bad-input.sh - the control socket against bad and hostile clients.
# After each of these the daemon must still answer "status" and still
# forward (a ping between two namespaces):
#   malformed JSON and bytes that are not text; JSON that is not an
#   object; an array (batch); an unknown method; missing params; params,
#   method and id of the wrong type; bad MAC addresses; bad VLANs (0,
#   4095, 99999, "x", ...); a line of exactly 64 KiB (served) and one
#   longer (an error, then a disconnect); a client that sends half a line
#   and stalls while others are served (then finishes it, or just goes);
#   200 clients connected at once (all 200 answered); clients that
#   connect and vanish (500 times), that vanish mid-request, and that
#   never read their reply.  The daemon holds no more descriptors than
#   before once they are gone.
# Permissions: methods that change the switch are refused to other users
# (-32001) while read-only ones are served.  The socket is 0660 and
# belongs to the daemon's group, so to let an unprivileged user reach it
# at all the daemon runs with "control_group = nogroup" (the documented
# way to open the socket to a group), the test's temp dir is made
# searchable (0711), and the client runs as nobody:nogroup; as
# nobody with another group it cannot even connect (tapswitchctl exits 3).
# Raw clients are small python3 programs (no modules beyond the standard
# library).
TEST_TAG=ctlb
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq python3 setpriv stat
require_ctl

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B
getent group nogroup >/dev/null || skip "no group nogroup"
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOBODY_UID=$(id -u nobody)

conf=$(write_conf ctlb <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
control_group = nogroup

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)

# The raw client.  Subcommands:
#   send SOCK N [eof]  send stdin as is, print the first N reply lines
#                      (exit 1 if fewer come within 10 s); with "eof",
#                      then require the daemon to hang up (exit 3 if not)
#   many SOCK N        connect N clients, then send status.get on each,
#                      then read every reply: prints how many were right
#   churn SOCK N       N times connect and close at once, N/2 times send
#                      half a request and close, N/5 times send a whole
#                      request and close without reading the reply
#   stall SOCK READY GO  send half a request, create READY, wait for GO
#                      (at most 30 s), send the rest, print the reply
#   stall SOCK READY -   the same, but close instead of finishing
#   long SOCK LEN [eof]  send one request line of LEN bytes (padded
#                      with blanks), print the reply line; with "eof",
#                      then "EOF" if the daemon hangs up
CLIENT=$TMP_DIR/client.py
cat >"$CLIENT" <<'PYEOF'
import os, socket, sys, time

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)    # blocking, like tapswitchctl: waits for the backlog
    s.settimeout(10)
    return s

def lines(s, n):
    buf, out = b"", []
    while len(out) < n:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            # The daemon hung up on unread input of ours.
            d = b""
        if not d:
            break
        buf += d
        while b"\n" in buf and len(out) < n:
            l, buf = buf.split(b"\n", 1)
            out.append(l.decode())
    return out, buf

def eof(s, buf):
    if buf:
        return False
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False

REQ = b'{"jsonrpc":"2.0","id":%d,"method":"status.get"}\n'
cmd, path = sys.argv[1], sys.argv[2]
if cmd == "send":
    n = int(sys.argv[3])
    s = conn(path)
    s.sendall(sys.stdin.buffer.read())
    out, buf = lines(s, n)
    for l in out:
        print(l)
    if len(out) < n:
        sys.exit(1)
    if len(sys.argv) > 4 and not eof(s, buf):
        sys.exit(3)
elif cmd == "many":
    n = int(sys.argv[3])
    socks = [conn(path) for _ in range(n)]
    for i, s in enumerate(socks):
        s.sendall(REQ % i)
    ok = 0
    import json
    for i, s in enumerate(socks):
        out, _ = lines(s, 1)
        if out:
            r = json.loads(out[0])
            if r.get("id") == i and "version" in r.get("result", {}):
                ok += 1
    for s in socks:
        s.close()
    print(ok)
elif cmd == "churn":
    n = int(sys.argv[3])
    for _ in range(n):
        conn(path).close()
    for i in range(n // 2):
        s = conn(path)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"meth')
        s.close()
    for i in range(n // 5):
        s = conn(path)
        s.sendall(REQ % i)
        s.close()
    print("done")
elif cmd == "stall":
    ready, go = sys.argv[3], sys.argv[4]
    s = conn(path)
    s.sendall(b'{"jsonrpc":"2.0","id":42,"method":"sta')
    open(ready, "w").close()
    if go == "-":
        time.sleep(1)
        s.close()
        sys.exit(0)
    deadline = time.time() + 30
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    s.sendall(b'tus.get"}\n')
    out, _ = lines(s, 1)
    for l in out:
        print(l)
    sys.exit(0 if out else 1)
elif cmd == "long":
    n = int(sys.argv[3])
    head = b'{"jsonrpc":"2.0","id":7,"method":"status.get"}'
    s = conn(path)
    try:
        s.sendall(head + b" " * (n - len(head)) + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        print("SEND-FAILED")
    out, buf = lines(s, 1)
    for l in out:
        print(l)
    if len(sys.argv) > 4 and eof(s, buf):
        print("EOF")
else:
    sys.exit(2)
PYEOF

# The interpreter itself, not a wrapper that finds it on every call.
PY=$(python3 -c 'import sys; print(sys.executable)')
[[ -x $PY ]] || fail "cannot find the python3 executable"

# rpc VAR N [eof] <<<DATA - send DATA (printf %s: no newline is added)
# on a fresh connection, set VAR to the N reply lines.
rpc() {
	local var=$1 n=$2 out rc=0
	shift 2
	out=$(timeout 20 "$PY" "$CLIENT" send "$CTL_SOCK" "$n" "$@") || rc=$?
	case $rc in
	0) ;;
	1) fail "raw client: fewer than $n replies (got: $out)" ;;
	3) fail "raw client: the daemon did not hang up after: $out" ;;
	*) fail "raw client failed with status $rc" ;;
	esac
	printf -v "$var" '%s' "$out"
}

# expect_error NAME CODE REGEX [ID] LINE - send LINE (a newline is added),
# expect one error reply with CODE, a message matching REGEX and id ID
# (default null).
expect_error() {
	local name=$1 code=$2 re=$3 id=$4 line=$5 r
	rpc r 1 < <(printf '%s\n' "$line")
	jq -e --argjson code "$code" --arg re "$re" --argjson id "$id" \
	    '.error.code == $code and .jsonrpc == "2.0" and .id == $id and
	    (.error.message | test($re)) and has("result") == false' \
	    >/dev/null 2>&1 <<<"$r" ||
		fail "$name: want error $code, message /$re/, id $id; got: $r"
}

# still_ok AFTER - the daemon answers status and a pings b.
still_ok() {
	local j
	daemon_alive || fail "after $1: tapswitchd died"
	ctl_json j status
	json_ok "$j" '.ports == 2' "after $1: status"
	ping_ok "$NS_A" 10.40.0.2 -c 1
	log "ok: $1"
}

nfds() {
	find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# shellcheck disable=SC2317 # called through wait_until
fds_back() {
	(($(nfds) == FDS0))
}

start_daemon "$conf"
addr_add "$NS_A" "$IF_A" 10.40.0.1/24
addr_add "$NS_B" "$IF_B" 10.40.0.2/24
wait_until 5 nsx "$NS_A" ping -q -n -c 1 -W 1 10.40.0.2 >/dev/null ||
	fail "a cannot reach b"
FDS0=$(nfds)

# A good request, for reference: one line back, with our id.
rpc R 1 <<<'{"jsonrpc":"2.0","id":"x1","method":"status.get"}'
json_ok "$R" '.id == "x1" and .result.ports == 2 and has("error") == false' \
    "a good request"

# ---- Not JSON
expect_error "malformed JSON" -32700 '^parse error' null \
    '{"jsonrpc":"2.0","id":1,"method":'
expect_error "unterminated string" -32700 '^parse error' null \
    '{"jsonrpc":"2.0","id":1,"method":"status.get}'
rpc R 1 < <(printf '\xff\xfe\x00\x01garbage\n')
json_ok "$R" '.error.code == -32700 and .id == null' "binary garbage"
rpc R 1 < <(printf '{"jsonrpc":"2.0","id":1,"method":"status.get"} trailing\n')
json_ok "$R" '.error.code == -32700' "JSON followed by garbage"
still_ok "malformed JSON"

# ---- JSON that is not an object
for v in 42 '"status.get"' null true; do
	expect_error "the value $v" -32600 'must be a JSON object' null "$v"
done
still_ok "JSON values that are not objects"

# ---- Batches
expect_error "a batch" -32600 'batch requests are not supported' null \
    '[{"jsonrpc":"2.0","id":1,"method":"status.get"}]'
expect_error "an empty batch" -32600 'batch' null '[]'
still_ok "batches"

# ---- Unknown method; what a request must have
expect_error "unknown method" -32601 'unknown method "nosuch.get"' 5 \
    '{"jsonrpc":"2.0","id":5,"method":"nosuch.get"}'
expect_error "empty method" -32601 'unknown method' 5 \
    '{"jsonrpc":"2.0","id":5,"method":""}'
expect_error "no method" -32600 '"method" must be a string' 6 \
    '{"jsonrpc":"2.0","id":6}'
expect_error "no jsonrpc" -32600 '"jsonrpc" must be "2.0"' 7 \
    '{"id":7,"method":"status.get"}'
expect_error "jsonrpc 1.0" -32600 '"jsonrpc" must be "2.0"' 7 \
    '{"jsonrpc":"1.0","id":7,"method":"status.get"}'
still_ok "unknown methods"

# A notification (no id) gets no reply; the request after it does.
rpc R 1 <<<'{"jsonrpc":"2.0","method":"nosuch.get"}
{"jsonrpc":"2.0","method":"status.get"}
{"jsonrpc":"2.0","id":9,"method":"status.get"}'
json_ok "$R" '.id == 9 and .result.ports == 2' \
    "notifications get no reply, the request after them does"
still_ok "notifications"

# ---- Missing params
expect_error "port.show without params" -32602 'missing parameter "name"' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.show"}'
expect_error "fdb.add without mac" -32602 'missing parameter "mac"' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"fdb.add","params":{"port":"a"}}'
expect_error "fdb.add without port" -32602 'missing parameter "port"' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"fdb.add","params":{"mac":"02:00:00:00:00:01"}}'
expect_error "port.add without name" -32602 'missing parameter "name"' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.add","params":{}}'
still_ok "missing params"

# ---- Wrong types
expect_error "params an array" -32602 '"params" must be an object' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"status.get","params":[]}'
expect_error "params a string" -32602 '"params" must be an object' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.list","params":"a"}'
expect_error "name a number" -32602 '"name" must be a string' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.show","params":{"name":5}}'
expect_error "name null" -32602 '"name" must be a string' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.del","params":{"name":null}}'
expect_error "queues a string" -32602 '"queues" must be true or false' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"stats.get","params":{"queues":"yes"}}'
expect_error "settings a string" -32602 '"settings" must be an object' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.add","params":{"name":"x","settings":"vlan=3"}}'
expect_error "a setting an object" -32602 'must be a string or a number' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.add","params":{"name":"x","settings":{"vlan":{}}}}'
expect_error "an unknown parameter" -32602 'unknown parameter "nmae"' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.show","params":{"nmae":"a"}}'
expect_error "method a number" -32600 '"method" must be a string' 1 \
    '{"jsonrpc":"2.0","id":1,"method":5}'
expect_error "id an object" -32600 '"id" must be' null \
    '{"jsonrpc":"2.0","id":{},"method":"status.get"}'
expect_error "id a float" -32600 '"id" must be' null \
    '{"jsonrpc":"2.0","id":1.5,"method":"status.get"}'
expect_error "a bad port name" -32602 'bad port name' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.add","params":{"name":"a/b"}}'
ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b"]' "no port added by the bad requests"
still_ok "wrongly typed params"

# ---- Bad MAC addresses
for mac in zz 02:00:00:00:00 02:00:00:00:00:0g 02:00:00:00:00:00:01 \
    002:00:00:00:00:01 '' ' 02:00:00:00:00:01'; do
	expect_error "fdb.add mac \"$mac\"" -32602 'bad MAC address' 1 \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.add\",\"params\":{\"mac\":\"$mac\",\"port\":\"a\"}}"
	expect_error "fdb.del mac \"$mac\"" -32602 'bad MAC address' 1 \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.del\",\"params\":{\"mac\":\"$mac\"}}"
done
expect_error "mac a number" -32602 '"mac" must be a string' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"fdb.add","params":{"mac":2,"port":"a"}}'
expect_error "a multicast MAC" -32602 'multicast' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"fdb.add","params":{"mac":"01:00:5e:00:00:01","port":"a"}}'
still_ok "bad MAC addresses"

# ---- Bad VLANs
for vlan in 0 4095 99999 -1 1.5 true '"x"' '"0"' '"4095"' '""' '"10 "'; do
	expect_error "fdb.show vlan $vlan" -32602 'must be a VLAN number 1..4094' 1 \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.show\",\"params\":{\"vlan\":$vlan}}"
	expect_error "fdb.add vlan $vlan" -32602 'must be a VLAN number 1..4094' 1 \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fdb.add\",\"params\":{\"mac\":\"02:00:00:00:00:01\",\"port\":\"a\",\"vlan\":$vlan}}"
done
expect_error "port.add vlan 4095" -32602 'bad value "4095" for vlan' 1 \
    '{"jsonrpc":"2.0","id":1,"method":"port.add","params":{"name":"x","settings":{"vlan":4095}}}'
ctl_json F fdb show
json_ok "$F" 'all(.entries[]; .static == false)' "no static entry added by the bad requests"
still_ok "bad VLANs"

# ---- Long lines
rpc_long() {
	local out
	out=$(timeout 30 "$PY" "$CLIENT" long "$CTL_SOCK" "$1" ${3:+"$3"}) ||
		fail "long line client failed"
	printf -v "$2" '%s' "$out"
}
rpc_long 65536 R
[[ $(head -n 1 <<<"$R") =~ ^\{ ]] || fail "a 65536-byte line: no reply: $R"
json_ok "$(head -n 1 <<<"$R")" '.id == 7 and .result.ports == 2' \
    "a line of exactly 65536 bytes is served"
rpc_long 65537 R eof
json_ok "$(head -n 1 <<<"$R")" '.error.code == -32600 and .id == null and
    (.error.message | test("longer than 65536 bytes; disconnecting"))' \
    "a 65537-byte line: an error"
[[ $(tail -n 1 <<<"$R") == EOF && $(wc -l <<<"$R") == 2 ]] ||
	fail "a 65537-byte line: one error, then a hang-up, want; got: $R"
still_ok "a line one byte over 64 KiB"
rpc_long 1000000 R eof
json_ok "$(grep '^{' <<<"$R" | head -n 1)" '.error.code == -32600' \
    "a 1 MB line: an error"
[[ $(tail -n 1 <<<"$R") == EOF ]] || fail "a 1 MB line: no hang-up: $R"
still_ok "a 1 MB line"

# ---- A client that stalls mid-line
timeout 40 "$PY" "$CLIENT" stall "$CTL_SOCK" "$TMP_DIR/stall.ready" \
    "$TMP_DIR/stall.go" >"$TMP_DIR/stall.out" 2>&1 &
STALL_PID=$!
CLEANUP_PIDS+=("$STALL_PID")
timeout 40 "$PY" "$CLIENT" stall "$CTL_SOCK" "$TMP_DIR/stall2.ready" - \
    >/dev/null 2>&1 &
STALL2_PID=$!
CLEANUP_PIDS+=("$STALL2_PID")
wait_until 5 test -e "$TMP_DIR/stall.ready" -a -e "$TMP_DIR/stall2.ready" ||
	fail "the stalling clients did not start"
for i in 1 2 3; do
	ctl_json J port list
	json_ok "$J" '(.ports | length) == 2' "port list while a client stalls"
	rpc R 1 <<<"{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"fdb.show\"}"
	json_ok "$R" ".id == $i and (.result.entries | type) == \"array\"" \
	    "fdb.show while a client stalls"
done
still_ok "other clients while one stalls mid-line"
wait "$STALL2_PID" || fail "the client that gave up mid-line failed"
: >"$TMP_DIR/stall.go"
rc=0
wait "$STALL_PID" || rc=$?
((rc == 0)) || fail "the stalled client got no reply once it finished its line (status $rc): $(cat "$TMP_DIR/stall.out")"
json_ok "$(cat "$TMP_DIR/stall.out")" '.id == 42 and .result.ports == 2' \
    "the stalled client's request, finished late"
still_ok "stalled clients, finished and gone"

# ---- 200 clients at once
n=$(timeout 60 "$PY" "$CLIENT" many "$CTL_SOCK" 200) ||
	fail "the 200-client run failed"
[[ $n == 200 ]] || fail "only $n of 200 simultaneous clients got their answer"
still_ok "200 clients at once, all 200 served"

# ---- Clients that vanish
out=$(timeout 60 "$PY" "$CLIENT" churn "$CTL_SOCK" 500) ||
	fail "the churn client failed"
[[ $out == "done" ]] || fail "churn client: $out"
still_ok "500 connect+close, 250 half requests, 100 unread replies"

# Every connection is gone again: no descriptor is left behind.
wait_until 5 fds_back ||
	fail "tapswitchd holds $(nfds) descriptors, $FDS0 before the clients"
log "ok: descriptors back to $FDS0"

# ---- Permissions
[[ $(stat -c %a:%U:%g "$CTL_SOCK") == "660:root:$NOGROUP_GID" ]] ||
	fail "socket is $(stat -c %a:%U:%G "$CTL_SOCK"), want 660:root:nogroup"
chmod 0711 "$TMP_DIR" || fail "cannot open $TMP_DIR to others"
chmod 0644 "$CLIENT"
as_nobody() {
	timeout 40 setpriv --reuid="$NOBODY_UID" --regid="$NOGROUP_GID" \
	    --clear-groups "$@"
}
# A python3 that nobody may run (one under /root may not be).
PY_NOBODY=""
for py in $(type -ap python3) /usr/bin/python3; do
	if as_nobody "$py" -c 'pass' 2>/dev/null; then
		PY_NOBODY=$py
		break
	fi
done

ctl_json J fdb add 02:00:00:77:00:01 port=a
rc=0
as_nobody "$TSWCTL" -s "$CTL_SOCK" --json status >"$TMP_DIR/nb.out" \
    2>"$TMP_DIR/nb.err" || rc=$?
((rc == 0)) || fail "status as nobody: exit $rc: $(cat "$TMP_DIR/nb.err")"
json_ok "$(cat "$TMP_DIR/nb.out")" '.ports == 2' "status as nobody"
for args in 'port del a' 'fdb flush' 'fdb del 02:00:00:77:00:01' \
    'port add x' 'fdb add 02:00:00:77:00:02 port=a' reload; do
	rc=0
	# shellcheck disable=SC2086 # split the words on purpose
	as_nobody "$TSWCTL" -s "$CTL_SOCK" $args >"$TMP_DIR/nb.out" \
	    2>"$TMP_DIR/nb.err" || rc=$?
	((rc == 1)) || fail "$args as nobody: exit $rc, want 1"
	grep -qE '^tapswitchctl: permission denied: [a-z]+\.[a-z]+ changes the switch; run it as root or as the daemon.s user$' \
	    "$TMP_DIR/nb.err" || fail "$args as nobody: $(cat "$TMP_DIR/nb.err")"
done
if [[ -n $PY_NOBODY ]]; then
	for m in port.add port.del fdb.add fdb.del fdb.flush config.reload; do
		out=$(printf '{"jsonrpc":"2.0","id":3,"method":"%s","params":{"name":"a","mac":"02:00:00:77:00:01","port":"a"}}\n' "$m" |
		    as_nobody "$PY_NOBODY" "$CLIENT" send "$CTL_SOCK" 1) ||
			fail "$m as nobody: the raw client failed"
		json_ok "$out" ".id == 3 and .error.code == -32001 and
		    (.error.message | test(\"permission denied: $m\"))" \
		    "$m as nobody: error -32001"
	done
	for m in help status.get port.list fdb.show stats.get; do
		out=$(printf '{"jsonrpc":"2.0","id":4,"method":"%s"}\n' "$m" |
		    as_nobody "$PY_NOBODY" "$CLIENT" send "$CTL_SOCK" 1) ||
			fail "$m as nobody: the raw client failed"
		json_ok "$out" '.id == 4 and (.result | type) == "object"' \
		    "$m as nobody: served"
	done
	out=$(printf '{"jsonrpc":"2.0","id":4,"method":"port.show","params":{"name":"a"}}\n' |
	    as_nobody "$PY_NOBODY" "$CLIENT" send "$CTL_SOCK" 1) ||
		fail "port.show as nobody: the raw client failed"
	json_ok "$out" '.result.name == "a"' "port.show as nobody: served"
else
	log "note: no python3 that nobody may run; checked with tapswitchctl only"
fi
ctl_json J port list
json_ok "$J" '[.ports[].name] == ["a","b"]' "the ports after nobody's attempts"
ctl_json F fdb show
json_ok "$F" 'any(.entries[]; .mac == "02:00:00:77:00:01" and .static)
    and all(.entries[]; .mac != "02:00:00:77:00:02")' \
    "the MAC table after nobody's attempts"
# Without the socket's group, nobody cannot connect at all.
rc=0
timeout 40 setpriv --reuid="$NOBODY_UID" --regid=12345 --clear-groups \
    "$TSWCTL" -s "$CTL_SOCK" status >"$TMP_DIR/nb.out" 2>"$TMP_DIR/nb.err" ||
	rc=$?
((rc == 3)) || fail "status as nobody outside the group: exit $rc, want 3"
grep -qF "cannot connect to $CTL_SOCK: Permission denied" "$TMP_DIR/nb.err" ||
	fail "status as nobody outside the group: $(cat "$TMP_DIR/nb.err")"
chmod 0700 "$TMP_DIR"
still_ok "mutating methods refused to nobody, read-only ones served"

pass
