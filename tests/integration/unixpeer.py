#!/usr/bin/env python3
"""unixpeer.py - a stand-in for a VM on a dgram or stream port, for the
integration tests that need no QEMU.

  unixpeer.py dgram LOCAL REMOTE ACTION...

binds LOCAL (replacing a socket file left there, as QEMU does) and does
each ACTION in turn, sending to REMOTE:

  bad                 send the datagrams no switch may take as frames: 0
                      bytes, 5 bytes, 1600 bytes (over a 1500 MTU) and
                      70000 bytes (over 65535)
  send SRC N          send N broadcast frames of 100 bytes from MAC SRC
                      (aa:bb:cc:dd:ee:ff), ethertype 0x88b5, payload
                      "TSWP" and the frame's number
  recv N SECS         receive until N frames of ethertype 0x0800 arrived
                      or SECS seconds passed; print "got K"
  hold SECS           read nothing for SECS seconds (a stuck VM)

Every run ends within its timeouts; exit status 0, or 1 on an error.
"""
import os
import socket
import stat
import struct
import sys
import time


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def frame(src, n):
    f = b"\xff" * 6 + mac(src) + b"\x88\xb5" + b"TSWP" + struct.pack("!I", n)
    return f + bytes(100 - len(f))


def bind_dgram(path):
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    return s


def dgram(local, remote, actions):
    s = bind_dgram(local)
    while actions:
        a = actions.pop(0)
        if a == "bad":
            for n in (0, 5, 1600, 70000):
                s.sendto(bytes(n), remote)
        elif a == "send":
            src, n = actions.pop(0), int(actions.pop(0))
            for i in range(n):
                s.sendto(frame(src, i), remote)
        elif a == "recv":
            want, secs = int(actions.pop(0)), float(actions.pop(0))
            got, end = 0, time.monotonic() + secs
            while got < want and time.monotonic() < end:
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    f = s.recv(70000)
                except socket.timeout:
                    break
                if len(f) >= 14 and f[12:14] == b"\x08\x00":
                    got += 1
            print("got %d" % got, flush=True)
        elif a == "hold":
            print("holding", flush=True)
            time.sleep(float(actions.pop(0)))
        else:
            sys.exit("unixpeer: unknown action %s" % a)
    s.close()


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    if sys.argv[1] == "dgram":
        dgram(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("unixpeer: unknown mode %s" % sys.argv[1])


if __name__ == "__main__":
    main()
