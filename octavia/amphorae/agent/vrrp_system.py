"""What VRRP needs from the amphora's system, apart from keepalived itself.

- The HAProxy check script keepalived runs (`vrrp_script`): it fails when an HAProxy
  that should run (its `haproxy.enabled` marker is present) has no live master.
  keepalived's `vrrp_track_process` cannot be used: the kernel's process connector
  only reports to the root network namespace.
- Non-local binds, so that the BACKUP's HAProxy listens on a VIP it does not hold.
  The agent only changes them in the amphora's own network namespace, never the
  host's (an agent outside an `ip netns` namespace must find them set already).
- The VIP addresses named in keepalived.conf, for removing them when keepalived was
  killed without its clean stop (it would otherwise leave them on this amphora while
  the peer takes them too).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import logging
import os
import re
import socket
import struct
from dataclasses import dataclass

from octavia.amphorae.agent.layout import write_atomically
from octavia.amphorae.keepalived.layout import VrrpPaths

LOG = logging.getLogger(__name__)

NETNS_RUN_DIR = "/run/netns"
NONLOCAL_BIND_SYSCTLS = ("/proc/sys/net/ipv4/ip_nonlocal_bind", "/proc/sys/net/ipv6/ip_nonlocal_bind")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./-]+$")
_SIOCGIFFLAGS = 0x8913
_IFF_UP = 0x1
_IFF_RUNNING = 0x40

CHECK_SCRIPT = """#!/bin/sh
# Written by the amphora agent: fails while an HAProxy that should run is not running.
for marker in {base_path}/*/haproxy.enabled; do
    [ -e "$marker" ] || continue
    pid=$(cat "${{marker%/haproxy.enabled}}/haproxy.pid" 2>/dev/null) || exit 1
    kill -0 "$pid" 2>/dev/null || exit 1
done
exit 0
"""


class VrrpSystemError(RuntimeError):
    """The amphora cannot run VRRP as asked (the message says why)."""


@dataclass(frozen=True)
class ConfiguredVip:
    address: str
    prefixlen: int
    interface: str


def write_check_script(paths: VrrpPaths, base_path: str) -> None:
    """(Re)write the check script; keepalived's script security wants it root-owned and
    not writable by others, as is every directory above it."""
    if not _SAFE_PATH.match(base_path):
        raise VrrpSystemError(f"base path {base_path!r} cannot be named in a shell script")
    os.makedirs(paths.directory, mode=0o755, exist_ok=True)
    os.chmod(paths.directory, 0o755)
    write_atomically(paths.check_script, CHECK_SCRIPT.format(base_path=base_path).encode(), mode=0o755)


def _in_named_namespace() -> bool:
    """Whether this process runs in a namespace made with `ip netns` (an amphora's own),
    rather than in the host's (or an unknown) network namespace."""
    try:
        own = os.stat("/proc/self/ns/net")
        names = os.listdir(NETNS_RUN_DIR)
    except OSError:
        return False
    for name in names:
        with contextlib.suppress(OSError):
            found = os.stat(os.path.join(NETNS_RUN_DIR, name))
            if (found.st_dev, found.st_ino) == (own.st_dev, own.st_ino):
                return True
    return False


def enable_nonlocal_bind() -> None:
    """Set the non-local bind sysctls in this amphora's namespace (see module doc)."""
    own_namespace = _in_named_namespace()
    for path in NONLOCAL_BIND_SYSCTLS:
        try:
            with open(path) as handle:
                if handle.read().strip() == "1":
                    continue
        except FileNotFoundError:
            continue  # no IPv6 in this kernel
        if not own_namespace:
            raise VrrpSystemError(
                f"{path} is 0 and this agent does not run in an amphora namespace: set it to 1 "
                "on the amphora (the BACKUP's HAProxy must bind VIPs it does not hold)"
            )
        with open(path, "w") as handle:
            handle.write("1")
        LOG.info("Enabled %s in the amphora's namespace", path)


def _block_lines(text: str, name: str) -> list[str]:
    match = re.search(rf"^\s*{name}\s*\{{(.*?)\}}", text, re.S | re.M)
    return [line.strip() for line in match.group(1).splitlines() if line.strip()] if match else []


def configured_vips(text: str) -> list[ConfiguredVip]:
    """The addresses keepalived adds (virtual_ipaddress and virtual_ipaddress_excluded)."""
    found = []
    for line in _block_lines(text, "virtual_ipaddress") + _block_lines(text, "virtual_ipaddress_excluded"):
        words = line.split()
        interface = words[words.index("dev") + 1] if "dev" in words[:-1] else vrrp_interface(text)
        try:
            network = ipaddress.ip_interface(words[0])
        except ValueError:
            continue
        if interface:
            found.append(ConfiguredVip(str(network.ip), network.network.prefixlen, interface))
    return found


def vrrp_interface(text: str) -> str | None:
    match = re.search(r"^\s*interface\s+(\S+)\s*$", text, re.M)
    return match.group(1) if match else None


def preload() -> None:
    """Import netlink support ahead of need: its first import costs ~0.4 s, which must
    not delay the removal of a dead keepalived's VIP."""
    from pyroute2 import IPRoute  # noqa: F401


def remove_addresses(vips: list[ConfiguredVip]) -> list[str]:
    """Delete the addresses that are present; returns those removed."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    removed = []
    with IPRoute() as ipr:
        for vip in vips:
            indexes = ipr.link_lookup(ifname=vip.interface)
            if not indexes:
                continue
            try:
                ipr.addr("del", index=indexes[0], address=vip.address, prefixlen=vip.prefixlen)
            except NetlinkError as exc:
                if exc.code not in (errno.EADDRNOTAVAIL, errno.ENOENT, errno.ENODEV):
                    raise
                continue
            removed.append(f"{vip.address}/{vip.prefixlen}")
    return removed


def interface_up(name: str) -> bool:
    """Administratively up with a carrier (a link set down on either end is not)."""
    request = struct.pack("16sH", name.encode()[:15], 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            flags = struct.unpack("16sH", fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, request)[:18])[1]
        except OSError:
            return False
    return bool(flags & _IFF_UP) and bool(flags & _IFF_RUNNING)


def read_config(paths: VrrpPaths) -> str:
    with contextlib.suppress(FileNotFoundError), open(paths.config) as handle:
        return handle.read()
    return ""
