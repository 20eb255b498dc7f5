# shellcheck shell=bash
# tests/integration/vm.sh - a real QEMU guest for the integration tests,
# sourced after lib.sh.
#
#	vm_require			# skip (77) without qemu or a kernel
#	vm_start NAME "NETDEV" ADDR/LEN SCRIPT
#	vm_wait NAME REGEX SECONDS	# until the console has a matching line
#	vm_kill NAME
#
# The guest is a Debian kernel and a busybox initramfs (vmimage.py: made
# once, kept in $TSW_BUILDDIR/tests/vm).  QEMU runs with TCG (no KVM
# here), boots the uncompressed vmlinux through its PVH entry and has one
# virtio-net card on the -netdev NETDEV (id n0) with MAC 52:54:00:0a:NN:01;
# its /init configures eth0 with ADDR/LEN and runs SCRIPT (sh), then prints
# "TSW-EXIT <status>" and powers off.  The console goes to
# $TMP_DIR/NAME.console; QEMU's own messages to $TMP_DIR/NAME.qemu.  Each
# QEMU is killed at exit by lib.sh's cleanup (by PID), and its sockets are
# in $TMP_DIR, which goes too.

VM_DIR=$TSW_BUILDDIR/tests/vm
VM_KERNEL=""
VM_INITRD=""
VM_SEQ=0
declare -A VM_PID=()

vm_require() {
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 is missing (scripts/deps installs it)"
	local out rc=0
	out=$(timeout 300 python3 "$TSW_SRCDIR/tests/integration/vmimage.py" \
	    "$VM_DIR" 2>"$TMP_DIR/vmimage.err") || rc=$?
	((rc != 77)) || skip "no guest kernel: $(cat "$TMP_DIR/vmimage.err")"
	((rc == 0)) || fail "vmimage.py: $(cat "$TMP_DIR/vmimage.err")"
	read -r VM_KERNEL VM_INITRD <<<"$out"
}

vm_start() {
	local name=$1 netdev=$2 addr=$3 script=$4 cmd
	VM_SEQ=$((VM_SEQ + 1))
	cmd=$(printf '%s' "$script" | base64 -w0)
	: >"$TMP_DIR/$name.console"
	qemu-system-x86_64 -M pc -accel tcg -nodefaults -m 192 -smp 1 \
	    -display none -monitor none -no-reboot \
	    -serial "file:$TMP_DIR/$name.console" \
	    -kernel "$VM_KERNEL" -initrd "$VM_INITRD" \
	    -append "console=ttyS0 quiet panic=-1 tsw.ip=$addr tsw.cmd=$cmd" \
	    -netdev "$netdev,id=n0" \
	    -device "virtio-net-pci,netdev=n0,mac=52:54:00:0a:$(printf %02x "$VM_SEQ"):01" \
	    </dev/null >"$TMP_DIR/$name.qemu" 2>&1 &
	VM_PID[$name]=$!
	CLEANUP_PIDS+=("$!")
}

# vm_line NAME REGEX - the console of NAME has a line matching REGEX.
vm_line() {
	grep -qE "$2" "$TMP_DIR/$1.console" 2>/dev/null
}

vm_wait() {
	local name=$1 re=$2 secs=$3
	wait_until "$secs" vm_line "$name" "$re" && return 0
	fail "guest $name: no \"$re\" on its console within $secs s; console:
$(tail -n 30 "$TMP_DIR/$name.console")
qemu: $(tail -n 5 "$TMP_DIR/$name.qemu")"
}

vm_kill() {
	local pid=${VM_PID[$1]}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
