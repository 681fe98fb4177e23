"""A priority-0 VRRPv3 advertisement sent by the agent for a keepalived that was killed.

keepalived's clean stop tells its peer "I resign" with a priority-0 advertisement, and
the peer takes over after its skew time (0.13 s for priority 90 at advert_int 0.2).
A SIGKILLed keepalived cannot; its peer would wait the full master-down interval
(0.73 s). The agent, which removes the dead keepalived's VIPs anyway, sends that
advertisement in its place from the same VRRP address to the same unicast peers
(RFC 5798 section 5; the IPv4 checksum covers the pseudo-header, as keepalived
checks it by default).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import struct
from dataclasses import dataclass

LOG = logging.getLogger(__name__)

IPPROTO_VRRP = 112
VRRP_TTL = 255
VERSION_3_ADVERTISEMENT = 0x31
_IPV6_CHECKSUM = 7  # IPV6_CHECKSUM socket option: offset of the checksum for the kernel


@dataclass(frozen=True)
class VrrpInstance:
    """What the advertisement must carry to be accepted by the peer."""

    source: str
    peers: list[str]
    vrid: int
    advert_int: float
    vips: list[str]


def _block(text: str, name: str) -> list[str]:
    match = re.search(rf"^\s*{name}\s*\{{(.*?)\}}", text, re.S | re.M)
    return [line.split()[0] for line in match.group(1).splitlines() if line.strip()] if match else []


def _value(text: str, name: str) -> str | None:
    match = re.search(rf"^\s*{name}\s+(\S+)\s*$", text, re.M)
    return match.group(1) if match else None


def parse_instance(text: str) -> VrrpInstance | None:
    """The unicast VRRP instance of a keepalived.conf (None if it has none)."""
    source = _value(text, "unicast_src_ip")
    vrid, advert = _value(text, "virtual_router_id"), _value(text, "advert_int")
    if not source or not vrid or not advert:
        return None
    family = ipaddress.ip_address(source).version
    vips = [str(ipaddress.ip_interface(vip).ip) for vip in _block(text, "virtual_ipaddress")]
    return VrrpInstance(
        source=source,
        peers=_block(text, "unicast_peer"),
        vrid=int(vrid),
        advert_int=float(advert),
        vips=[vip for vip in vips if ipaddress.ip_address(vip).version == family],
    )


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def resignation(instance: VrrpInstance, peer: str) -> bytes:
    """The VRRPv3 advertisement with priority 0 from `instance.source` to `peer`
    (IPv6: checksum left 0 for the kernel to fill in)."""
    centiseconds = max(1, min(0xFFF, round(instance.advert_int * 100)))
    addresses = b"".join(ipaddress.ip_address(vip).packed for vip in instance.vips)
    count = len(instance.vips)
    header = struct.pack("!BBBBH", VERSION_3_ADVERTISEMENT, instance.vrid, 0, count, centiseconds)
    message = header + b"\0\0" + addresses
    if ipaddress.ip_address(instance.source).version == 6:
        return message
    pseudo = (ipaddress.ip_address(instance.source).packed + ipaddress.ip_address(peer).packed
              + struct.pack("!BBH", 0, IPPROTO_VRRP, len(message)))
    return header + struct.pack("!H", _checksum(pseudo + message)) + addresses


def send_resignation(instance: VrrpInstance) -> int:
    """Send the priority-0 advertisement to every peer; returns how many were sent."""
    version = ipaddress.ip_address(instance.source).version
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    sent = 0
    with socket.socket(family, socket.SOCK_RAW, IPPROTO_VRRP) as sock:
        if version == 6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, VRRP_TTL)
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_CHECKSUM, 6)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, VRRP_TTL)
        sock.bind((instance.source, 0))
        for peer in instance.peers:
            try:
                sock.sendto(resignation(instance, peer), (peer, 0))
                sent += 1
            except OSError as exc:
                LOG.warning("Priority-0 advertisement to %s failed: %s", peer, exc)
    return sent
