/*
 * nouring - run a program without io_uring, as a container runtime's
 * seccomp filter or a kernel without io_uring would have it.
 *
 *   nouring ERRNO PROGRAM [ARGS...]
 *
 * Installs a seccomp filter in which io_uring_setup(2), io_uring_enter(2)
 * and io_uring_register(2) fail with ERRNO (EPERM, as Docker's default
 * profile and kernel.io_uring_disabled make them; ENOSYS, as a kernel
 * built without io_uring does) and every other system call is allowed,
 * then execs PROGRAM, which inherits the filter with its children and
 * threads.  Exit status: 2 for a usage error, 77 when this architecture
 * or kernel cannot filter system calls (a test skips), 127 when the
 * program cannot be run.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#endif

/* The io_uring calls have the same numbers on every architecture. */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

int
main(int argc, char **argv)
{
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: nouring EPERM|ENOSYS PROGRAM [ARGS...]\n");
		return 2;
	}
	if (strcmp(argv[1], "EPERM") == 0)
		err = EPERM;
	else if (strcmp(argv[1], "ENOSYS") == 0)
		err = ENOSYS;
	else {
		fprintf(stderr, "nouring: %s: expected EPERM or ENOSYS\n",
		    argv[1]);
		return 2;
	}
#ifdef NATIVE_ARCH
	struct sock_filter f[] = {
		/* Calls of another architecture's ABI: allowed. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register,
		    1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	/* The daemon drops privileges by itself; no_new_privs only keeps
	 * an exec from gaining any, as NoNewPrivileges= in its unit. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "nouring: cannot install the filter: %s\n",
		    strerror(errno));
		return 77;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "nouring: %s: %s\n", argv[2], strerror(errno));
	return 127;
#else
	fprintf(stderr, "nouring: no seccomp filter for this architecture\n");
	return 77;
#endif
}
