#!/usr/bin/env python3
"""Run a command with bpf(2) refused by a seccomp filter, as a container
runtime's default profile refuses it: the call fails with EPERM, every
other system call goes through. Standard library only (prctl by ctypes).

  deny_bpf.py COMMAND [ARG]...

The filter is installed with no_new_privs in this process, then COMMAND
replaces it: what texporter-read sees is what it would see in a container.
"""
import ctypes
import errno
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000

# (audit arch, bpf syscall number) of the machines the tests run on
ARCHES = {
    "x86_64": (0xC000003E, 321),
    "aarch64": (0xC00000B7, 280),
}

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06


def instruction(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def filter_program(arch, nr):
    """seccomp_data: nr at offset 0, arch at 4. Another arch: allow."""
    return b"".join([
        instruction(BPF_LD_W_ABS, 0, 0, 4),
        instruction(BPF_JEQ_K, 0, 3, arch),
        instruction(BPF_LD_W_ABS, 0, 0, 0),
        instruction(BPF_JEQ_K, 0, 1, nr),
        instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),
        instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ])


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_bpf():
    machine = platform.machine()
    if machine not in ARCHES:
        sys.exit(f"deny_bpf.py: no bpf(2) number known for {machine}")
    program = filter_program(*ARCHES[machine])
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0):
        sys.exit(f"deny_bpf.py: no_new_privs: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                  ctypes.byref(fprog), 0, 0):
        sys.exit(f"deny_bpf.py: seccomp: {os.strerror(ctypes.get_errno())}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    deny_bpf()
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
