"""What the kernel holds in the TCP connections of some ports (Linux's /proc/net/tcp): to tell
a process's own buffers from the sockets' in a test of how much is buffered where."""

from __future__ import annotations

from pathlib import Path

_TCP = Path("/proc/net/tcp")  # IPv4: the tests listen on 127.0.0.1
_ESTABLISHED = "01"


def queued_bytes(ports: set[int]) -> int:
    """The bytes waiting in the send and receive queues of every established IPv4 socket with
    a local or remote port in `ports` (both ends of a connection on this machine count)."""
    total = 0
    for line in _TCP.read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
        if state != _ESTABLISHED:
            continue
        if {int(local.split(":")[1], 16), int(remote.split(":")[1], 16)} & ports:
            send, receive = queues.split(":")
            total += int(send, 16) + int(receive, 16)
    return total
