#!/usr/bin/env bash
# metrics.sh - the Prometheus endpoint (metrics_listen) of a live daemon
# with two ports in namespaces, on a free port of 127.0.0.1:
#   GET /metrics is 200 in the text format 0.0.4: every line is a HELP, a
#   TYPE or a sample; names match [a-zA-Z_:][a-zA-Z0-9_:]*; HELP and TYPE
#   come before a metric's samples, which are not split; label values are
#   escaped; there is a counter per port for every counter that
#   "tapswitchctl stats" shows, and rx_packets rises with a ping;
#   /other is 404 and POST is 405;
#   a client that sends half a request and stalls does not hold up the
#   next scrape, and is dropped after the timeout;
#   a reload moves the listener; a reload to a port that is taken fails
#   and keeps the old one; a reload without metrics_listen closes it;
#   a taken port at start-up stops the daemon with a message naming it.
TEST_TAG=mtrc
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root ping jq python3 curl
require_ctl

new_name IF_A; new_ns NS_A
new_name IF_B; new_ns NS_B

# A helper in python3: hold a port, stall a client, or scrape and check.
cat >"$TMP_DIR/prom.py" <<'EOF'
"""prom.py free | hold PORT READY | stall PORT READY OUT | check URL OUT"""
import re, socket, sys, time, urllib.request

def free():
    # A random high port that nothing uses on 127.0.0.1 right now.
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

def hold(port, ready):
    s = socket.socket()
    s.bind(("127.0.0.1", int(port)))
    s.listen(1)
    open(ready, "w").close()
    time.sleep(300)

def stall(port, ready, out):
    # Half a request line, then silence; report when the server hangs up.
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(b"GET /met")
    t0 = time.monotonic()
    open(ready, "w").close()
    s.settimeout(60)
    try:
        got = "closed" if s.recv(4096) == b"" else "answered"
    except socket.timeout:
        got = "open"
    except ConnectionResetError:
        got = "closed"
    with open(out, "w") as f:
        f.write("%.1f %s\n" % (time.monotonic() - t0, got))

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*,?\})? (\S+)$" % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) ((?:[^\\\n]|\\[\\n])*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)

def check(url, out):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        text = r.read().decode("utf-8")
    if not ctype.startswith("text/plain; version=0.0.4"):
        sys.exit("Content-Type is %r" % ctype)
    if not text.endswith("\n"):
        sys.exit("the text does not end with a newline")
    helped, typed, done, cur, samples = set(), {}, set(), None, []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = HELP.match(line) or TYPE.match(line)
        if m:
            name = m.group(1)
            if line.startswith("# HELP"):
                if name in helped:
                    sys.exit("line %d: second HELP: %s" % (n, line))
                helped.add(name)
            else:
                if name in typed:
                    sys.exit("line %d: second TYPE: %s" % (n, line))
                typed[name] = m.group(2)
        else:
            m = SAMPLE.match(line)
            if not m:
                sys.exit("line %d is not HELP, TYPE or a sample: %r" % (n, line))
            name = m.group(1)
            if name not in helped or name not in typed:
                sys.exit("line %d: sample before HELP and TYPE: %s" % (n, line))
            float(m.group(3))
            if typed[name] == "counter" and not name.endswith("_total"):
                sys.exit("line %d: counter not named *_total: %s" % (n, line))
            samples.append(line)
        if name != cur:
            if name in done:
                sys.exit("line %d: %s continues after another metric" % (n, name))
            if cur:
                done.add(cur)
            cur = name
    for name in helped | set(typed):
        if name not in helped or name not in typed:
            sys.exit("%s lacks HELP or TYPE" % name)
    with open(out, "w") as f:
        f.write("\n".join(samples) + "\n")

cmd = sys.argv[1]
{"free": free, "hold": hold, "stall": stall, "check": check}[cmd](*sys.argv[2:])
EOF

free_port() {
	python3 "$TMP_DIR/prom.py" free
}

# scrape PORT - fetch and check http://127.0.0.1:PORT/metrics; its
# samples go to $TMP_DIR/samples.
scrape() {
	timeout 20 python3 "$TMP_DIR/prom.py" check \
	    "http://127.0.0.1:$1/metrics" "$TMP_DIR/samples" \
	    2>"$TMP_DIR/prom.err" ||
		fail "scrape of port $1: $(cat "$TMP_DIR/prom.err")"
}

# value SAMPLE - print the value of the sample "name{labels}" of the
# last scrape (nothing when it is missing).
value() {
	awk -v s="$1" 'substr($0, 1, length(s) + 1) == s " " { print $2 }' \
	    "$TMP_DIR/samples"
}

# http_code PORT [CURL-ARGS...] PATH - the status code of a request.
http_code() {
	local port=$1
	shift
	local path=${!#}
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    "${@:1:$#-1}" "http://127.0.0.1:$port$path"
}

# shellcheck disable=SC2317 # called through wait_until
port_refuses() {
	! curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$1/metrics"
}

# conf [METRICS-ADDR] - the configuration, with metrics_listen if given.
CONF=""
conf() {
	CONF=$(write_conf mtrc <<EOF
[switch]
queues = 2
control_socket = $CTL_SOCK
${1:+metrics_listen = $1}

[port a]
ifname = $IF_A
netns = $NS_A

[port b]
ifname = $IF_B
netns = $NS_B
EOF
)
}

# A random free port (prom.py free tries others while they are taken).
P1=$(free_port) || fail "no free port on 127.0.0.1"
conf "127.0.0.1:$P1"
start_daemon "$CONF"
addr_add "$NS_A" "$IF_A" 10.31.0.1/24
addr_add "$NS_B" "$IF_B" 10.31.0.2/24

# ---- Well-formed, complete.
scrape "$P1"
[[ $(value 'tapswitch_build_info{version="'"$(json_get "$(ctl --json status)" .version)"'"}') == 1 ]] ||
	fail "no tapswitch_build_info with the daemon's version"
for m in tapswitch_uptime_seconds tapswitch_fdb_entries tapswitch_fdb_size \
    tapswitch_learned_total tapswitch_moved_total tapswitch_aged_total \
    tapswitch_fdb_full_total tapswitch_flooded_total \
    tapswitch_wakeups_total tapswitch_polled_total; do
	[[ -n $(value "$m") ]] || fail "no $m"
done
[[ $(value tapswitch_fdb_size) == 8192 ]] || fail "tapswitch_fdb_size is not 8192"
stats=""
ctl_json stats stats
mapfile -t counters < <(json_get "$stats" '.ports[0].counters | keys[]')
((${#counters[@]} >= 10)) || fail "stats shows only ${#counters[@]} counters"
for p in a b; do
	[[ $(value "tapswitch_port_up{port=\"$p\"}") == 1 ]] ||
		fail "tapswitch_port_up{port=\"$p\"} is not 1"
	[[ -n $(value "tapswitch_port_macs{port=\"$p\"}") ]] ||
		fail "no tapswitch_port_macs{port=\"$p\"}"
	for c in "${counters[@]}"; do
		[[ -n $(value "tapswitch_port_${c}_total{port=\"$p\"}") ]] ||
			fail "no tapswitch_port_${c}_total{port=\"$p\"}"
	done
done
log "ok: well-formed, ${#counters[@]} counters per port"

# ---- Counters follow traffic.
rx0=$(value 'tapswitch_port_rx_packets_total{port="a"}')
ping_ok "$NS_A" 10.31.0.2
scrape "$P1"
rx1=$(value 'tapswitch_port_rx_packets_total{port="a"}')
((rx1 >= rx0 + 2)) || fail "rx_packets of a went from $rx0 to $rx1 after a ping"
(($(value tapswitch_learned_total) >= 2)) || fail "tapswitch_learned_total < 2"
(($(value tapswitch_fdb_entries) >= 2)) || fail "tapswitch_fdb_entries < 2"
log "ok: rx_packets of a $rx0 -> $rx1"

# ---- Other paths and methods.
code=$(http_code "$P1" /other)
[[ $code == 404 ]] || fail "GET /other: $code, want 404"
code=$(http_code "$P1" -X POST -d x /metrics)
[[ $code == 405 ]] || fail "POST /metrics: $code, want 405"
code=$(http_code "$P1" -X PUT -d x /metrics)
[[ $code == 405 ]] || fail "PUT /metrics: $code, want 405"
code=$(http_code "$P1" /metrics)
[[ $code == 200 ]] || fail "GET /metrics: $code, want 200"
log "ok: 404, 405"

# ---- A stalled client blocks no one and is dropped.
timeout 90 python3 "$TMP_DIR/prom.py" stall "$P1" "$TMP_DIR/stall.ready" \
    "$TMP_DIR/stall.out" 2>"$TMP_DIR/stall.err" &
STALL_PID=$!
CLEANUP_PIDS+=("$STALL_PID")
wait_until 5 test -e "$TMP_DIR/stall.ready" ||
	fail "the stalled client did not connect: $(cat "$TMP_DIR/stall.err")"
start=$(now_us)
scrape "$P1"
ms=$((($(now_us) - start) / 1000))
# Answered while the stalled client still waited: it did not hold it up.
[[ ! -s $TMP_DIR/stall.out ]] ||
	fail "the scrape was answered only after the stalled client was dropped"
ctl_status 0 status
wait_until 30 test -s "$TMP_DIR/stall.out" ||
	fail "the stalled client was not dropped within 30 s"
read -r secs got <"$TMP_DIR/stall.out"
[[ $got == closed ]] ||
	fail "the stalled client was $got after $secs s, want closed"
log "ok: a scrape took $ms ms beside a stalled client, which was dropped after $secs s"

# ---- Reload: move, refuse a taken port, close.
P2=$(free_port)
conf "127.0.0.1:$P2"
ctl_status 0 reload
scrape "$P2"
wait_until 5 port_refuses "$P1" || fail "port $P1 still answers after the move"
log "ok: moved from $P1 to $P2"

P3=$(free_port)
timeout 120 python3 "$TMP_DIR/prom.py" hold "$P3" "$TMP_DIR/hold.ready" &
CLEANUP_PIDS+=("$!")
wait_until 5 test -e "$TMP_DIR/hold.ready" || fail "cannot hold port $P3"
conf "127.0.0.1:$P3"
ctl_status 1 reload
[[ $CTL_ERR == *"127.0.0.1:$P3"* && $CTL_ERR == *"metrics stay on 127.0.0.1:$P2"* ]] ||
	fail "reload to a taken port: unexpected message: $CTL_ERR"
scrape "$P2"
log "ok: a taken port keeps the old listener"

conf ""
ctl_status 0 reload
wait_until 5 port_refuses "$P2" || fail "port $P2 still answers without metrics_listen"
log "ok: closed by a reload"

# ---- A taken port at start-up: a clear error, nothing left behind.
cat >"$TMP_DIR/second.conf" <<EOF
[switch]
control_socket = $TMP_DIR/second.sock
metrics_listen = 127.0.0.1:$P3
EOF
rc=0
timeout 10 "$TSWD" -f "$TMP_DIR/second.conf" 2>"$TMP_DIR/second.err" || rc=$?
((rc == 1)) || fail "start-up with a taken port: exit $rc, want 1"
grep -q "metrics_listen 127.0.0.1:$P3: cannot listen: Address already in use" \
    "$TMP_DIR/second.err" ||
	fail "start-up with a taken port: $(cat "$TMP_DIR/second.err")"
[[ ! -e $TMP_DIR/second.sock ]] || fail "the failed start left its socket"
log "ok: start-up refuses a taken port"

pass 'reload: metrics_listen'
