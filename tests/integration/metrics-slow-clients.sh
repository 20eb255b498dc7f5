#!/usr/bin/env bash
# metrics-slow-clients.sh - slow clients of the metrics listener
# (tapswitchd(8), METRICS) cannot take what the rest of the daemon needs.
# 300 clients connect to metrics_listen and send a request one byte every
# 3 seconds, which never finishes and never leaves a connection idle long
# enough for a read timeout.  The daemon runs with an open-file limit only
# 100 above what it holds at start.  While they are connected:
#   the daemon holds at most METRICS_FDS_MAX (64) descriptors more than
#   before (METRICS_CONNECTIONS_MAX, 32, waiting; the rest closed and not
#   yet freed), plus a few of its own;
#   a scrape of /metrics is answered, "tapswitchctl status" answers, and
#   two namespaces ping each other through the switch;
# and afterwards every slow client has been closed by the daemon, however
# slowly it kept sending (the newer ones at the request deadline,
# METRICS_TIMEOUT, 10 s), and the daemon is back to the descriptors it had.
TEST_TAG=mslc
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq python3 curl prlimit
require_ctl

CLIENTS=300
FDS_MAX=64	# METRICS_FDS_MAX (metrics.h)
SLACK=8		# the control client, a scrape, descriptors closed late

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B

cat >"$TMP_DIR/slow.py" <<'EOF'
"""slow.py free | PORT N INTERVAL DURATION READY OUT

Connect N clients to 127.0.0.1:PORT; then every INTERVAL seconds send the
next byte of an endless request on each one still open, for at most
DURATION seconds or until the server has closed them all.  READY is
created once all are connected; OUT gets one line:
"connected C closed K open O maxlife SECONDS maxbytes B", where maxlife
and maxbytes are the most seconds and bytes any closed one lasted."""
import selectors, socket, sys, time

def free():
    import random
    for _ in range(100):
        port = random.randint(20000, 60000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        print(port)
        return
    sys.exit("no free port")

def run(port, n, interval, duration, ready, out):
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(30)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        c = {"s": s, "sent": 0, "t0": time.monotonic(), "life": None}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    open(ready, "w").close()

    def closed(c):
        c["life"] = time.monotonic() - c["t0"]
        sel.unregister(c["s"])
        c["s"].close()

    start = time.monotonic()
    due = start
    while time.monotonic() - start < duration:
        now = time.monotonic()
        if now >= due:
            for c in conns:
                if c["life"] is None:
                    try:
                        c["s"].send(req[c["sent"] % len(req):][:1])
                        c["sent"] += 1
                    except OSError:
                        closed(c)
            due = now + interval
        if all(c["life"] is not None for c in conns):
            break
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            try:
                data = c["s"].recv(4096)
            except OSError:
                data = b""
            if not data:
                closed(c)
    done = [c for c in conns if c["life"] is not None]
    with open(out, "w") as f:
        f.write("connected %d closed %d open %d maxlife %.1f maxbytes %d\n" % (
            len(conns), len(done), len(conns) - len(done),
            max([c["life"] for c in done] or [0]),
            max([c["sent"] for c in done] or [0])))

if sys.argv[1] == "free":
    free()
else:
    a = sys.argv[1:]
    run(int(a[0]), int(a[1]), float(a[2]), float(a[3]), a[4], a[5])
EOF

PORT=$(python3 "$TMP_DIR/slow.py" free) || fail "no free port on 127.0.0.1"
CONF=$(write_conf mslc <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
metrics_listen = 127.0.0.1:$PORT

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)
start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.33.0.1/24
addr_add "$NS_B" "$IF_B" 10.33.0.2/24
ping_ok "$NS_A" 10.33.0.2

# daemon_fds - print how many descriptors the daemon holds.
daemon_fds() {
	find "/proc/$DAEMON_PID/fd" -mindepth 1 2>/dev/null | wc -l
}

scrape_ok() {
	[[ $(curl -s -o "$TMP_DIR/scrape" -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$PORT/metrics") == 200 ]] &&
		grep -q '^tapswitch_port_up{port="a"} 1$' "$TMP_DIR/scrape"
}

BASE=$(daemon_fds)
# What the daemon holds now and 100 more: without a cap the slow clients
# alone would exhaust it.
LIMIT=$((BASE + 100))
prlimit --pid "$DAEMON_PID" --nofile="$LIMIT:$LIMIT" ||
	fail "cannot set the daemon's open-file limit"
log "the daemon holds $BASE descriptors; its limit is now $LIMIT"

timeout 120 python3 "$TMP_DIR/slow.py" "$PORT" "$CLIENTS" 3 60 \
    "$TMP_DIR/slow.ready" "$TMP_DIR/slow.out" 2>"$TMP_DIR/slow.err" &
SLOW_PID=$!
CLEANUP_PIDS+=("$SLOW_PID")
wait_until 60 test -e "$TMP_DIR/slow.ready" ||
	fail "the slow clients did not connect: $(cat "$TMP_DIR/slow.err")"

# While they are connected.
max=0
for ((i = 0; i < 10; i++)); do
	n=$(daemon_fds)
	((n > max)) && max=$n
	sleep 0.2
done
wait_until 20 scrape_ok || fail "no answer from /metrics beside the slow clients"
ctl_json STATUS status
json_ok "$STATUS" '.ports == 2' "status beside the slow clients"
ping_ok "$NS_A" 10.33.0.2
ping_ok "$NS_B" 10.33.0.1
n=$(daemon_fds)
((n > max)) && max=$n
((max - BASE <= FDS_MAX + SLACK)) ||
	fail "the daemon held $max descriptors beside $CLIENTS slow clients, $((max - BASE)) more than before (want at most $FDS_MAX + $SLACK)"
log "ok: beside $CLIENTS slow clients the daemon held at most $max descriptors ($((max - BASE)) more); /metrics, status and ping answered"

# Every slow client is closed by the daemon.
wait_until 90 test -s "$TMP_DIR/slow.out" ||
	fail "the slow clients did not finish: $(cat "$TMP_DIR/slow.err")"
read -r _ connected _ closed _ open _ maxlife _ maxbytes <"$TMP_DIR/slow.out"
((connected == CLIENTS)) ||
	fail "only $connected of $CLIENTS slow clients could connect"
((open == 0 && closed == CLIENTS)) ||
	fail "$open of $CLIENTS slow clients were still open after 60 s: $(cat "$TMP_DIR/slow.out")"
log "ok: all $closed slow clients were closed by the daemon, the last after $maxlife s and $maxbytes bytes"

wait_until 20 test "$(daemon_fds)" -le "$BASE" ||
	fail "the daemon holds $(daemon_fds) descriptors after the slow clients left, $BASE before"
scrape_ok || fail "no answer from /metrics after the slow clients"
log "ok: back to $(daemon_fds) descriptors"

pass 'warning: metrics: more than 32 clients at once' \
    'warning: \([0-9]+ similar messages suppressed\)'
