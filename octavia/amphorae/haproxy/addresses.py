"""IP addresses and ports as HAProxy reads them, validated on the way."""

from __future__ import annotations

import ipaddress

from octavia.amphorae.haproxy.errors import ConfigRenderError


def ip_literal(address: str) -> str:
    """The canonical text of an IP address; anything else is refused."""
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError as exc:
        raise ConfigRenderError(f"{address!r} is not an IP address") from exc


def socket_address(address: str, port: int) -> str:
    """`ipv4@a:port` or `ipv6@a:port`: an explicit family keeps IPv6 colons unambiguous."""
    literal = ip_literal(address)
    family = 6 if ":" in literal else 4
    return f"ipv{family}@{literal}:{int(port)}"
