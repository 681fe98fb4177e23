#!/usr/bin/env python3
"""HAProxy external check for PING health monitors: one ICMP echo, exit 0 when answered.

HAProxy runs this as `<script> <proxy addr> <proxy port> <server addr> <server port>`
with a clean environment, once per check. It uses a raw ICMP socket when it may (root
or CAP_NET_RAW) and an unprivileged ICMP datagram socket otherwise (allowed when the
group is in net.ipv4.ping_group_range); without either, every member reads as down.
Standard library only: it runs under the system Python, outside any virtualenv.
"""

import ipaddress
import os
import socket
import struct
import sys
import time

DEADLINE_S = 1.0
PAYLOAD = b"octavia-health-check"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _open(family: int) -> tuple[socket.socket, bool]:
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    try:
        return socket.socket(family, socket.SOCK_RAW, proto), True
    except PermissionError:
        return socket.socket(family, socket.SOCK_DGRAM, proto), False


def ping(address: str) -> bool:
    target = ipaddress.ip_address(address)
    family = socket.AF_INET if target.version == 4 else socket.AF_INET6
    request, reply = (8, 0) if target.version == 4 else (128, 129)
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", request, 0, 0, ident, 1)
    packet = struct.pack("!BBHHH", request, 0, _checksum(header + PAYLOAD), ident, 1) + PAYLOAD
    sock, raw = _open(family)
    with sock:
        sock.sendto(packet, (str(target), 0))
        deadline = time.monotonic() + DEADLINE_S
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                return False
            if raw and family == socket.AF_INET:
                data = data[(data[0] & 0x0F) * 4 :]
            if len(data) < 8 or ipaddress.ip_address(peer[0].split("%")[0]) != target:
                continue
            kind, _code, _sum, answer_id, _seq = struct.unpack("!BBHHH", data[:8])
            if kind == reply and (answer_id == ident or not raw) and data[8:] == PAYLOAD:
                return True
    return False


if __name__ == "__main__":
    server = os.environ.get("HAPROXY_SERVER_ADDR") or sys.argv[3]
    sys.exit(0 if ping(server) else 1)
