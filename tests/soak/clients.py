"""clients.py - the misbehaving clients of the soak test (tests/soak/soak.sh).

  clients.py flood SOCKET SECONDS HOLD
      A control client that never reads its answers: it connects to the
      control socket and sends requests (port.list, stats.get, help,
      status.get) as fast as the socket takes them, for SECONDS or until
      the daemon hangs up, then keeps the connection open, still without
      reading, for HOLD seconds and closes it.  Prints one line:
      "flood requests=N bytes=N hangup=yes|no".

  clients.py slow PORT CONNS SECONDS
      Slow metrics clients: CONNS connections to 127.0.0.1:PORT, each
      sending a GET /metrics request one byte at a time, one byte every 2
      to 5 seconds (at random), never reading; a connection that the
      daemon closes is opened again, a second later.  After SECONDS all
      are closed.  Prints one line: "slow connects=N closed_by_daemon=N
      refused=N longest=S", S the most seconds a connection stayed open.

  clients.py freeport
      Print a random high TCP port (20000-60000) that nothing uses on
      127.0.0.1 right now.

Only the standard library; every loop is bounded in time.  The caller
bounds the whole process with timeout(1) as well.
"""
import errno
import json
import os
import random
import select
import signal
import socket
import sys
import time

REQUESTS = ["port.list", "stats.get", "help", "status.get"]


class Stop(Exception):
    """SIGTERM: stop now, but still print what was done."""


def on_term(signum, frame):
    raise Stop()


def flood(path, seconds, hold):
    seconds, hold = float(seconds), float(hold)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(1.0)
    hangup = False
    try:
        hangup = flood_send(s, seconds, hold)
    except Stop:
        pass
    s.close()
    print("flood requests=%d bytes=%d hangup=%s" %
          (STATE["sent"], STATE["bytes"], "yes" if hangup else "no"))


STATE = {"sent": 0, "bytes": 0}     # requests and bytes sent so far


def flood_send(s, seconds, hold):
    """Send, then hold; True when the daemon hung up."""
    hangup = False
    end = time.monotonic() + seconds
    while time.monotonic() < end and not hangup:
        sent = STATE["sent"]
        batch = "".join(
            json.dumps({"jsonrpc": "2.0", "id": sent + i,
                        "method": REQUESTS[(sent + i) % len(REQUESTS)]}) + "\n"
            for i in range(64)).encode()
        try:
            s.sendall(batch)
            STATE["sent"] += 64
            STATE["bytes"] += len(batch)
        except socket.timeout:
            # The daemon stopped reading for a moment; try again.
            continue
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.ECONNRESET):
                hangup = True
            else:
                raise
    # Hold the connection, never reading; watch for the daemon hanging up.
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    end = time.monotonic() + hold
    while not hangup and time.monotonic() < end:
        ev = p.poll(max(0, int((end - time.monotonic()) * 1000)))
        if ev:
            hangup = True
    return hangup


REQUEST = b"GET /metrics HTTP/1.1\r\nHost: soak\r\nUser-Agent: soak\r\n\r\n"


class Slow:
    """CONNS connections that send REQUEST one byte every 2-5 seconds."""

    def __init__(self, port, conns):
        self.port, self.conns = port, conns
        self.connects = self.closed = self.refused = 0
        self.live = {}      # fd -> [socket, bytes sent, time of next byte,
                            #        time of connect]
        self.longest = 0.0  # seconds, of the connections closed so far
        self.poll = select.poll()
        self.reconnect = 0  # no new connection before this time

    def connect(self):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", self.port))
        except OSError:
            self.refused += 1
            s.close()
            return False
        s.setblocking(False)
        self.connects += 1
        now = time.monotonic()
        self.live[s.fileno()] = [s, 0, now + random.uniform(0, 5), now]
        self.poll.register(s, select.POLLRDHUP | select.POLLHUP |
                           select.POLLERR)
        return True

    def drop(self, fd):
        """The daemon closed it (or it failed)."""
        self.poll.unregister(fd)
        self.closed += 1
        self.close_one(self.live.pop(fd))
        self.reconnect = time.monotonic() + 1

    def run(self, end):
        while time.monotonic() < end:
            # Keep CONNS open, but after a refusal or a connection that
            # the daemon closed, wait a second before opening more.
            while (len(self.live) < self.conns and
                   time.monotonic() >= self.reconnect):
                if not self.connect():
                    self.reconnect = time.monotonic() + 1
            for fd, _ in self.poll.poll(500):
                self.drop(fd)
            now = time.monotonic()
            for fd, st in list(self.live.items()):
                if st[2] > now or st[1] >= len(REQUEST):
                    continue
                try:
                    st[0].send(REQUEST[st[1]:st[1] + 1])
                    st[1] += 1
                except OSError:
                    self.drop(fd)
                    continue
                st[2] = now + random.uniform(2, 5)

    def close_one(self, st):
        st[0].close()
        self.longest = max(self.longest, time.monotonic() - st[3])

    def close(self):
        for st in self.live.values():
            self.close_one(st)
        self.live = {}


def slow(port, conns, seconds):
    c = Slow(int(port), int(conns))
    try:
        c.run(time.monotonic() + float(seconds))
    except Stop:
        pass
    c.close()
    print("slow connects=%d closed_by_daemon=%d refused=%d longest=%.0f" %
          (c.connects, c.closed, c.refused, c.longest))


def freeport():
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
    sys.exit("no free port on 127.0.0.1")


def main():
    signal.signal(signal.SIGTERM, on_term)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"flood": flood, "slow": slow, "freeport": freeport}[cmd](*args)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        os._exit(0)
