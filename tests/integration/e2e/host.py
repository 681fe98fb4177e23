"""What a local amphora leaves on the host, looked up from its ids alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

from octavia.amphorae.drivers import paths
from octavia.compute import local as local_compute
from octavia.network import local as local_network
from octavia.network import netns


def pids_naming(text: str) -> list[int]:
    """Processes whose command line contains `text`."""
    needle = text.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _links_to(target: str, directory: str) -> list[str]:
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.islink(path) and os.readlink(path).startswith(target):
            found.append(path)
    return found


def amphora_pids(state_path: Path, amphora_id: str) -> list[int]:
    """The amphora's agent and HAProxy processes (read before deleting it)."""
    amp_dir = state_path / "amphorae" / amphora_id
    agent = int((amp_dir / "agent.pid").read_text())
    return [agent, *pids_naming(str(amp_dir))]


def pid_alive(pid: int) -> bool:
    """Running (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def amphora_leftovers(state_path: Path, amphora_id: str, vrrp_port_id: str | None, mode: str,
                      pids: list[int]) -> list[str]:
    """Everything of the amphora still present: namespace, links, processes, files."""
    amp_dir = str(state_path / "amphorae" / amphora_id)
    left = []
    if os.path.exists(amp_dir):
        left.append(f"directory {amp_dir}")
    alive = set(pids_naming(amp_dir)) | {pid for pid in pids if pid_alive(pid)}
    left += [f"process {pid}" for pid in sorted(alive)]
    left += [f"base path link {path}" for path in _links_to(amp_dir, paths.link_directory())]
    if mode == "netns":
        namespace = netns.namespace_name(amphora_id)
        if netns.namespace_exists(namespace):
            left.append(f"namespace {namespace}")
        links = [netns.host_ifname(local_compute.MGMT_VETH_PREFIX, amphora_id)]
        if vrrp_port_id:
            links.append(netns.host_ifname(local_network.VIP_PORT_PREFIX, vrrp_port_id))
        left += [f"link {name}" for name in links if netns.link_exists(name)]
    return left


def bridge_ports(bridge: str) -> list[str]:
    """Interfaces enslaved to a host bridge (veths of amphorae still plugged)."""
    out = netns.run(["-j", "link", "show", "master", bridge], check=False)
    return [link["ifname"] for link in json.loads(out or "[]")]
