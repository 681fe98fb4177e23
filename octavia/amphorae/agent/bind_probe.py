"""Finding the addresses of a new HAProxy configuration that HAProxy could not bind.

`haproxy -c` does not bind. A reload whose new process then fails to bind (a port
another process listens on, an address this amphora does not have) is worse than a
refused upload: the new process pauses the running worker's listeners (SIGTTOU) while
it retries for about two seconds before it gives up, and every listener of the load
balancer refuses connections meanwhile. Binding the addresses a configuration adds
first, here in the amphora (same namespace, same `ip_nonlocal_bind`), turns that into
a refused upload that leaves the running HAProxy alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket

# `bind ipv4@a:port`, `bind ipv6@a:b::c:port`, `bind [a::b]:port`, `bind a:port`, `bind *:port`
_BIND = re.compile(r"^\s*bind\s+(?:(?:ipv4|ipv6)@)?\[?([0-9A-Fa-f:.*]*?)\]?:(\d+)(?=\s|$)", re.MULTILINE)


def bind_addresses(text: bytes) -> set[tuple[str, int]]:
    """(IP address, port) of every TCP `bind` line naming an IP address (or `*`)."""
    found = set()
    for address, port in _BIND.findall(text.decode(errors="replace")):
        if address in ("", "*"):
            address = "0.0.0.0"
        try:
            found.add((ipaddress.ip_address(address).compressed, int(port)))
        except ValueError:
            continue
    return found


def _bind_error(address: str, port: int) -> str | None:
    """Why a listener like HAProxy's (SO_REUSEADDR, no SO_REUSEPORT) cannot bind, if it cannot."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    with contextlib.closing(probe):
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
            probe.listen(1)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def unbindable(candidate: bytes, current: bytes | None) -> list[str]:
    """`address:port (reason)` of the binds `candidate` adds to `current` (whose own
    binds the running HAProxy holds) that cannot be bound here."""
    added = bind_addresses(candidate) - bind_addresses(current or b"")
    found = []
    for address, port in sorted(added):
        error = _bind_error(address, port)
        if error is not None:
            found.append(f"{address}:{port} ({error})")
    return found
