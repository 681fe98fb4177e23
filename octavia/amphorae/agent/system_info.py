"""What GET /1.0/info and /1.0/details report about the amphora."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
from typing import Any

API_VERSION = "1.0"


@functools.cache
def haproxy_version(haproxy_cmd: str) -> str | None:
    """`2.6.12-1+deb12u4` from `haproxy -v` (None when the binary cannot run)."""
    try:
        output = subprocess.run(
            [haproxy_cmd, "-v"], capture_output=True, timeout=10, check=False
        ).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    for word_index, word in enumerate(words := output.split()):
        if word == "version" and word_index + 1 < len(words):
            return words[word_index + 1]
    return None


def info(amphora_id: str | None, haproxy_cmd: str) -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "api_version": API_VERSION,
        "haproxy_version": haproxy_version(haproxy_cmd),
        "amphora_id": amphora_id,
    }


def _meminfo() -> dict[str, int]:
    wanted = {
        "MemTotal": "total", "MemFree": "free", "Buffers": "buffers", "Cached": "cached",
        "Shmem": "shared", "Slab": "slab", "Committed_AS": "committed_as",
        "SwapTotal": "swap_total", "SwapFree": "swap_free",
    }
    values: dict[str, int] = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in wanted:
                values[wanted[key]] = int(rest.split()[0])
    values["swap_used"] = values.pop("swap_total", 0) - values.pop("swap_free", 0)
    return values


def _cpu() -> dict[str, int]:
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = (fields + [0] * 7)[:7]
    return {"total": sum(fields), "user": user + nice, "system": system, "idle": idle,
            "iowait": iowait, "irq": irq, "soft_irq": softirq}


def _disk(path: str) -> dict[str, int]:
    stats = os.statvfs(path if os.path.exists(path) else "/")
    return {
        "used": (stats.f_blocks - stats.f_bfree) * stats.f_frsize,
        "available": stats.f_bavail * stats.f_frsize,
    }


def interfaces() -> dict[str, dict[str, Any]]:
    """Per interface of this network namespace: MAC, MTU, state, addresses, byte counters."""
    from pyroute2 import IPRoute  # heavy import, only when asked

    found: dict[str, dict[str, Any]] = {}
    with IPRoute() as ipr:
        names: dict[int, str] = {}
        for link in ipr.get_links():
            name = str(link.get("ifname"))
            names[int(link["index"])] = name
            stats = link.get("stats64")
            found[name] = {
                "mac_address": link.get("address"),
                "mtu": link.get("mtu"),
                "state": link.get("operstate"),
                "addresses": [],
                "rx": stats.get("rx_bytes", 0) if stats else 0,
                "tx": stats.get("tx_bytes", 0) if stats else 0,
            }
        for address in ipr.get_addr():
            owner = names.get(int(address["index"]))
            if owner in found:
                found[owner]["addresses"].append(f"{address.get('address')}/{address['prefixlen']}")
    return found


def details(amphora_id: str | None, haproxy_cmd: str, base_path: str,
            listeners: list[dict[str, Any]], topology: str) -> dict[str, Any]:
    running = [entry for entry in listeners if entry["status"] == "ACTIVE"]
    return {
        **info(amphora_id, haproxy_cmd),
        "haproxy_count": len(running),
        "loadbalancers": [entry["lb_id"] for entry in listeners],
        "listeners": [name for entry in listeners for name in entry["frontends"]],
        "memory": _meminfo(),
        "cpu": _cpu(),
        "disk": _disk(base_path),
        "load": [f"{value:.2f}" for value in os.getloadavg()],
        "topology": topology,
        "interfaces": interfaces(),
    }
