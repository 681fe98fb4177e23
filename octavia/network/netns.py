"""Host plumbing for local amphorae: namespaces, bridges, veths and addresses, via iproute2.

Both local drivers use it: the compute driver makes an amphora's namespace and its
management link, the network driver makes VIP and member links. iproute2 is used
rather than netlink bindings because each call is a few milliseconds and its error
text is what an operator would see running the same command.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from octavia.common.config import CONF

LOG = logging.getLogger(__name__)

Mode = Literal["netns", "loopback"]
IP = "ip"
NS_PREFIX = "amp-"
NETNS_ETC = "/etc/netns"
LOCAL_BRIDGE_PREFIX = "olb-"
MAX_IFNAME = 15
NEIGHBOUR_RETRANS_MS = 100
_GUARD_TABLE = "octavia_local"


class PlumbingError(RuntimeError):
    """An iproute2/sysctl/nft command failed; the message holds its stderr."""


def _execute(cmd: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise PlumbingError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
    return proc.stdout


def run(args: Sequence[str], namespace: str | None = None, check: bool = True) -> str:
    """`ip [-n namespace] args...`; its stdout, or PlumbingError with its stderr."""
    return _execute([IP, *(["-n", namespace] if namespace else []), *args], check=check)


def _json(args: Sequence[str], namespace: str | None = None) -> list[dict[str, Any]]:
    out = run(["-j", *args], namespace=namespace, check=False)
    return json.loads(out) if out.strip() else []


# --- mode -------------------------------------------------------------------------


@functools.cache
def netns_works() -> bool:
    """True when this process may create namespaces (root with a working `ip netns`)."""
    if os.geteuid() != 0:
        return False
    probe = f"octavia-probe-{os.getpid()}"
    try:
        run(["netns", "add", probe])
    except (PlumbingError, OSError):
        return False
    run(["netns", "del", probe], check=False)
    return True


def resolve_mode() -> Mode:
    """The amphora mode of this process, from `[controller_worker] local_amphora_mode`."""
    wanted = CONF.controller_worker.local_amphora_mode
    if wanted == "loopback":
        return "loopback"
    if netns_works():
        return "netns"
    if wanted == "netns":
        raise PlumbingError("local_amphora_mode = netns needs root and a working `ip netns`")
    return "loopback"


# --- names ------------------------------------------------------------------------


def short_hex(object_id: str, length: int) -> str:
    """A stable hex digest of the whole id: unique however similar two ids look."""
    return hashlib.sha256(object_id.encode()).hexdigest()[:length]


def namespace_name(amphora_id: str) -> str:
    return NS_PREFIX + short_hex(amphora_id, 12)


def host_ifname(prefix: str, object_id: str) -> str:
    """A host interface name unique per object, within Linux's 15 characters."""
    return prefix + short_hex(object_id, MAX_IFNAME - len(prefix))


# --- namespaces -------------------------------------------------------------------


def namespace_exists(name: str) -> bool:
    return os.path.exists(os.path.join("/run/netns", name))


def _netns_etc(name: str) -> str:
    return os.path.join(NETNS_ETC, name)


def create_namespace(name: str) -> None:
    """A namespace with `lo` up and no DNS: `ip netns exec` mounts /etc/netns/<name>/
    resolv.conf, whose lack of servers makes lookups fail at once on the namespace's
    loopback instead of timing out towards a server amphorae cannot reach."""
    run(["netns", "add", name])
    run(["link", "set", "lo", "up"], namespace=name)
    os.makedirs(_netns_etc(name), exist_ok=True)
    with open(os.path.join(_netns_etc(name), "resolv.conf"), "w") as f:
        f.write("# local amphora: no DNS\noptions timeout:1 attempts:1\n")


def namespace_pids(name: str) -> list[int]:
    if not namespace_exists(name):
        return []
    return [int(p) for p in run(["netns", "pids", name], check=False).split()]


def delete_namespace(name: str) -> None:
    """Remove the namespace and every veth in it (which removes their host ends at once)."""
    if not namespace_exists(name):
        shutil.rmtree(_netns_etc(name), ignore_errors=True)
        return
    for link in _json(["link", "show", "type", "veth"], namespace=name):
        run(["link", "del", link["ifname"]], namespace=name, check=False)
    run(["netns", "del", name], check=False)
    shutil.rmtree(_netns_etc(name), ignore_errors=True)


def exec_prefix(namespace: str | None) -> list[str]:
    """The command prefix that runs a program inside the namespace (with its own /sys)."""
    return [IP, "netns", "exec", namespace] if namespace else []


# --- links and addresses ------------------------------------------------------------


def link_exists(name: str, namespace: str | None = None) -> bool:
    return bool(_json(["link", "show", "dev", name], namespace=namespace)) if name else False


def delete_link(name: str, namespace: str | None = None) -> None:
    if link_exists(name, namespace):
        run(["link", "del", name], namespace=namespace, check=False)


def ensure_bridge(name: str, gateway_cidrs: Iterable[str], forwarding: bool = False) -> None:
    """Create (idempotently) a host bridge holding the given gateway addresses. Several
    processes (the API, each worker) may ensure the same bridge at once: losing the race
    to create it or one of its addresses is not an error."""
    if not link_exists(name):
        try:
            run(["link", "add", name, "type", "bridge"])
        except PlumbingError:
            if not link_exists(name):
                raise
    _sysctl(f"net.ipv6.conf.{name}.accept_dad", "0")
    # The host asks for an address every 1 s by default while it is unanswered: a client
    # that tries a VIP just before the amphora holds it would wait up to a second more.
    for family in ("ipv4", "ipv6"):
        _sysctl(f"net.{family}.neigh.{name}.retrans_time_ms", str(NEIGHBOUR_RETRANS_MS))
    if forwarding and install_forward_guard():
        _sysctl(f"net.ipv4.conf.{name}.forwarding", "1")
    run(["link", "set", name, "up"])
    for cidr in gateway_cidrs:
        add_address(name, cidr)


def add_address(ifname: str, cidr: str, namespace: str | None = None) -> None:
    """Add an address if it is not there yet; IPv6 skips duplicate detection so the
    address is usable at once (nothing else can hold it on these private links)."""
    iface = ipaddress.ip_interface(cidr)
    if _has_address(ifname, iface, namespace):
        return
    extra = ["nodad"] if iface.version == 6 else []
    try:
        run(["addr", "add", cidr, "dev", ifname, *extra], namespace=namespace)
    except PlumbingError:
        if not _has_address(ifname, iface, namespace):
            raise


def _has_address(ifname: str, iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface,
                 namespace: str | None) -> bool:
    present = {
        (a["local"], a["prefixlen"])
        for link in _json(["addr", "show", "dev", ifname], namespace=namespace)
        for a in link.get("addr_info", [])
    }
    return (str(iface.ip), iface.network.prefixlen) in present


def remove_address(ifname: str, cidr: str, namespace: str | None = None) -> None:
    run(["addr", "del", cidr, "dev", ifname], namespace=namespace, check=False)


def attach_veth(namespace: str, host_name: str, inner_name: str, bridge: str,
                mac_address: str | None = None) -> None:
    """A veth pair: `host_name` in `bridge` on the host, `inner_name` inside the namespace."""
    delete_link(host_name)
    run(["link", "add", host_name, "type", "veth", "peer", "name", inner_name, "netns", namespace])
    if mac_address:
        run(["link", "set", inner_name, "address", mac_address], namespace=namespace)
    run(["link", "set", host_name, "master", bridge, "up"])
    _sysctl(f"net.ipv6.conf.{host_name}.disable_ipv6", "1")
    run(["link", "set", inner_name, "up"], namespace=namespace)


def forget_neighbours(addresses: Iterable[str]) -> None:
    """Drop the host's ARP/ND entries for addresses that now belong to a new interface
    (a reused management address, a VIP on a replacement amphora): a stale entry would
    send traffic to the old MAC until it expires, tens of seconds later."""
    for address in addresses:
        if address:
            run(["neigh", "flush", "to", address], check=False)


def free_inner_name(namespace: str, prefix: str = "eth") -> str:
    used = {link["ifname"] for link in _json(["link", "show"], namespace=namespace)}
    return next(f"{prefix}{i}" for i in range(1, 4096) if f"{prefix}{i}" not in used)


def set_default_route(namespace: str, ifname: str, gateway: str) -> None:
    """Default route via the host's gateway address; `onlink` lets it precede the address."""
    family = "-6" if ipaddress.ip_address(gateway).version == 6 else "-4"
    run([family, "route", "replace", "default", "via", gateway, "dev", ifname, "onlink"],
        namespace=namespace)


def _sysctl(key: str, value: str) -> None:
    path = "/proc/sys/" + key.replace(".", "/")
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        LOG.debug("sysctl %s=%s not applied: %s", key, value, exc)


@functools.cache
def install_forward_guard() -> bool:
    """Forwarding is enabled on local network bridges only so amphorae reach members on
    other local networks; this keeps that traffic between our bridges and never lets
    amphora traffic out of (or into) the host's other interfaces. False: not installed,
    and forwarding then stays off."""
    ruleset = (
        f"table inet {_GUARD_TABLE}\n"
        f"delete table inet {_GUARD_TABLE}\n"
        f"table inet {_GUARD_TABLE} {{\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter; policy accept;\n"
        f'    iifname "{LOCAL_BRIDGE_PREFIX}*" oifname != "{LOCAL_BRIDGE_PREFIX}*" drop\n'
        f'    iifname != "{LOCAL_BRIDGE_PREFIX}*" oifname "{LOCAL_BRIDGE_PREFIX}*" drop\n'
        "  }\n"
        "}\n"
    )
    try:
        _execute(["nft", "-f", "-"], stdin=ruleset)
    except (PlumbingError, OSError) as exc:
        LOG.warning("nftables guard not installed, forwarding between local networks stays off: %s", exc)
        return False
    return True


# --- choosing private ranges --------------------------------------------------------


def host_routes(ignore_devices: Iterable[str] = ()) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Destinations the host already routes (except via our own devices and defaults)."""
    ignored = set(ignore_devices)
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for family in ("-4", "-6"):
        for route in _json([family, "route", "show", "table", "all"]):
            dst = route.get("dst", "default")
            if dst == "default" or route.get("dev") in ignored or route.get("type", "unicast") != "unicast":
                continue
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                continue
            if not net.is_loopback and not net.is_link_local and not net.is_multicast:
                nets.append(net)
    return nets


def pick_free_cidr(preferred: str, pool: str, taken: Iterable[Any]) -> str:
    """`preferred` unless it overlaps a taken network, else the first free subnet of the
    same size in `pool`."""
    taken = list(taken)
    want = ipaddress.ip_network(preferred)

    def free(candidate: Any) -> bool:
        return not any(candidate.version == t.version and candidate.overlaps(t) for t in taken)

    if free(want):
        return str(want)
    for candidate in ipaddress.ip_network(pool).subnets(new_prefix=want.prefixlen):
        if free(candidate):
            return str(candidate)
    raise PlumbingError(f"no free /{want.prefixlen} in {pool}: all overlap host routes")


def interface_networks(ifname: str, namespace: str | None = None) -> list[ipaddress.IPv4Interface]:
    """IPv4 addresses (with prefix) held by an interface."""
    return [
        ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}")
        for link in _json(["-4", "addr", "show", "dev", ifname], namespace=namespace)
        for a in link.get("addr_info", [])
    ]


def redirect_to_loopback(bridge: str, gateway: str, targets: Iterable[tuple[str, int]]) -> None:
    """Let amphorae reach controller services bound to 127.x (the heartbeat receiver of
    the all-in-one): packets from the bridge to gateway:port go to loopback:port. Needs
    route_localnet on the bridge, or the kernel drops them as martians."""
    _sysctl(f"net.ipv4.conf.{bridge}.route_localnet", "1")
    table = "octavia_mgmt_" + bridge.replace("-", "_")
    rules = "".join(
        f'    iifname "{bridge}" ip daddr {gateway} udp dport {port} dnat to {host}:{port}\n'
        for host, port in targets
    )
    _execute(["nft", "-f", "-"], stdin=(
        f"table ip {table}\n"
        f"delete table ip {table}\n"
        f"table ip {table} {{\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        f"{rules}"
        "  }\n"
        "}\n"
    ))


def remove_redirect(bridge: str) -> None:
    _execute(["nft", "delete", "table", "ip", "octavia_mgmt_" + bridge.replace("-", "_")], check=False)
