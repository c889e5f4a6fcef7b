#!/usr/bin/python3
"""Ends the unix stream connection between two running processes as a
broken link ends: the socket of process A whose peer socket is held by
process B is copied into this process (pidfd_getfd, Linux 5.6; needs ptrace
rights over A: root) and shut down both ways, so both ends see the
connection end while both processes go on running.

usage: cut_link.py PID_A PID_B   (run in the processes' network namespace:
ss lists the unix sockets of the current one)"""
import ctypes
import os
import re
import socket
import subprocess
import sys

SYS_PIDFD_GETFD = 438  # x86_64 and every other architecture since 5.6


def socket_inodes(pid):
    """fd number -> socket inode of process pid."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            out[int(fd)] = int(m.group(1))
    return out


def main():
    a, b = int(sys.argv[1]), int(sys.argv[2])
    held_by_b = set(socket_inodes(b).values())
    peer = {}
    ss = subprocess.run(["ss", "-xH"], capture_output=True, text=True, check=True).stdout
    for line in ss.splitlines():
        f = line.split()  # u_str ESTAB 0 0 * LOCAL_INODE * PEER_INODE
        if len(f) >= 8 and f[0] == "u_str" and f[5].isdigit() and f[7].isdigit():
            peer[int(f[5])] = int(f[7])
    fds = sorted(fd for fd, ino in socket_inodes(a).items() if peer.get(ino) in held_by_b)
    if not fds:
        print("cut_link: no stream socket of %d is connected to %d" % (a, b), file=sys.stderr)
        return 1
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(a)
    try:
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, fds[0], 0)
        if fd < 0:
            e = ctypes.get_errno()
            print("cut_link: pidfd_getfd: %s" % os.strerror(e), file=sys.stderr)
            return 1
    finally:
        os.close(pidfd)
    s = socket.socket(fileno=fd)
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    print("cut_link: shut down fd %d of %d (connected to %d)" % (fds[0], a, b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
