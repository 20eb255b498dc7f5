#!/usr/bin/env python3
"""vmimage.py - the guest of the VM tests: a Debian kernel and a busybox
initramfs, made once and kept in the build tree.

    vmimage.py DIR

prints "KERNEL INITRD" (paths in DIR) once both exist, making them if
need be:

 - the kernel of Debian's linux-image-amd64 (the version it depends on
   now), fetched with "apt-get download" and unpacked with "dpkg -x" into
   DIR -- never installed on the host.  The uncompressed vmlinux is taken
   out of the bzImage (its XZ payload): QEMU boots it through its PVH
   entry, without the slow decompression under TCG.
 - an initramfs (newc cpio, gzip) with /bin/busybox (busybox-static),
   the modules virtio_ring, virtio, virtio_pci_modern_dev,
   virtio_pci_legacy_dev, virtio_pci, failover, net_failover and
   virtio_net of that kernel, and an /init that loads them in that order
   (each after what it depends on), configures eth0 from the kernel
   command line (tsw.ip=ADDR/LEN), runs the shell script base64-encoded in
   tsw.cmd=, prints "TSW-EXIT <status>" and powers off.

Exit status 0; 77 when the kernel cannot be had (no network, no apt):
the tests skip then; 1 on any other failure.  Several tests may call it
at once: an flock on DIR/.lock makes one of them build.
"""
import fcntl
import glob
import gzip
import lzma
import os
import shutil
import stat
import subprocess
import sys

MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev",
           "virtio_pci_legacy_dev", "virtio_pci", "failover", "net_failover",
           "virtio_net"]

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in %s; do insmod /lib/modules/$m.ko || echo "TSW-INSMOD-FAILED $m"; done
for w in $(cat /proc/cmdline); do
	case $w in
	tsw.ip=*) ip=${w#tsw.ip=} ;;
	tsw.cmd=*) cmd=${w#tsw.cmd=} ;;
	esac
done
ip link set lo up
ip link set eth0 up
[ -n "$ip" ] && ip addr add "$ip" dev eth0
echo "$cmd" | base64 -d > /cmd.sh
echo "TSW-GUEST-UP"
sh /cmd.sh
echo "TSW-EXIT $?"
poweroff -f
""" % " ".join(MODULES)


def die(msg, code=1):
    print("vmimage: " + msg, file=sys.stderr)
    sys.exit(code)


def cpio_newc(files, out):
    """files: list of (name, mode, data); directories have data None."""
    buf = bytearray()
    for ino, (name, mode, data) in enumerate(files + [("TRAILER!!!", 0, b"")],
                                             1):
        data = data or b""
        fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0,
                  len(data), 0, 0, 0, 0, len(name) + 1, 0)
        b = ("070701" + "".join("%08X" % v for v in fields)).encode()
        b += name.encode() + b"\0"
        b += b"\0" * (-len(b) % 4)
        b += data + b"\0" * (-len(data) % 4)
        buf += b
    with open(out + ".tmp", "wb") as f:
        f.write(gzip.compress(bytes(buf), 6))
    os.rename(out + ".tmp", out)


def fetch_kernel(d):
    """Download and unpack the kernel package; return its root dir."""
    root = os.path.join(d, "root")
    if glob.glob(os.path.join(root, "boot", "vmlinuz-*")):
        return root
    try:
        dep = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        die("apt-cache: %s" % e, 77)
    pkgs = [l.split()[1] for l in dep.stdout.splitlines()
            if l.strip().startswith("Depends: linux-image-")]
    if not pkgs:
        die("linux-image-amd64 depends on no linux-image package", 77)
    for old in glob.glob(os.path.join(d, "*.deb")):
        os.unlink(old)
    r = subprocess.run(["apt-get", "download", "-q", pkgs[0]], cwd=d,
                       capture_output=True, text=True)
    debs = glob.glob(os.path.join(d, "linux-image-*.deb"))
    if r.returncode != 0 or not debs:
        die("apt-get download %s failed: %s" % (pkgs[0], r.stderr.strip()),
            77)
    shutil.rmtree(root + ".tmp", ignore_errors=True)
    subprocess.run(["dpkg", "-x", debs[0], root + ".tmp"], check=True)
    os.rename(root + ".tmp", root)
    os.unlink(debs[0])
    return root


def main():
    if len(sys.argv) != 2:
        die("usage: vmimage.py DIR", 2)
    d = os.path.abspath(sys.argv[1])
    os.makedirs(d, exist_ok=True)
    kernel = os.path.join(d, "vmlinux")
    initrd = os.path.join(d, "initrd.gz")
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (os.path.exists(kernel) and os.path.exists(initrd)):
            busybox = shutil.which("busybox") or "/bin/busybox"
            if not os.path.exists(busybox):
                die("busybox is missing (apt-get install busybox-static)",
                    77)
            root = fetch_kernel(d)
            vmlinuz = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))[0]
            blob = open(vmlinuz, "rb").read()
            at = blob.find(b"\xfd7zXZ\x00")
            if at < 0:
                die("%s has no XZ payload" % vmlinuz)
            elf = lzma.LZMADecompressor().decompress(blob[at:])
            if elf[:4] != b"\x7fELF":
                die("the payload of %s is no ELF file" % vmlinuz)
            with open(kernel + ".tmp", "wb") as f:
                f.write(elf)
            os.rename(kernel + ".tmp", kernel)
            files = [(n, stat.S_IFDIR | 0o755, None) for n in
                     ("bin", "dev", "proc", "sys", "lib", "lib/modules")]
            files.append(("bin/busybox", stat.S_IFREG | 0o755,
                          open(busybox, "rb").read()))
            files.append(("init", stat.S_IFREG | 0o755, INIT.encode()))
            for m in MODULES:
                ko = glob.glob(os.path.join(root, "lib", "modules", "*",
                                            "kernel", "**", m + ".ko*"),
                               recursive=True)
                if not ko:
                    die("module %s is not in the kernel package" % m)
                data = open(ko[0], "rb").read()
                if ko[0].endswith(".xz"):
                    data = lzma.decompress(data)
                files.append(("lib/modules/%s.ko" % m,
                              stat.S_IFREG | 0o644, data))
            cpio_newc(files, initrd)
            # What the images were made of may go (the kernel's modules
            # are most of its 400 MB unpacked).
            shutil.rmtree(root, ignore_errors=True)
    print(kernel, initrd)


if __name__ == "__main__":
    main()
