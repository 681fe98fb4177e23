"""The agent's keepalived endpoints and guard with a real keepalived and HAProxy in a
namespace: validation at upload, actions, VIP handed over when HAProxy dies and taken
again when it is back, VIP removed at once when keepalived is SIGKILLed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from octavia.amphorae.keepalived.layout import agent_vrrp_paths
from octavia.amphorae.keepalived.render import VipNetwork, render_keepalived_config
from octavia.db import models
from tests.integration.agent.conftest import (
    PKI,
    Agent,
    haproxy_pids_under,
    pki,
    start_agent,
    stop_agent,
    tiny_config,
)
from tests.integration.e2e.harness import wait_for

__all__ = ["pki"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not installed"),
]

VIP = "100.126.0.100"


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


@dataclass
class Amphora:
    namespace: str
    agent: Agent

    def holds_vip(self) -> bool:
        return f"{VIP}/32" in _ip("-n", self.namespace, "-br", "addr", "show", "dev", "vip0")

    def put(self, path: str, content: bytes | str = b"") -> tuple[int, dict[str, str]]:
        response = self.agent.request("PUT", f"/1.0{path}", content=content)
        return response.status_code, response.json()

    def keepalived_pid(self) -> int | None:
        paths = agent_vrrp_paths(self.agent.base_path)
        try:
            pid = int(open(paths.pid_file).read())
        except (OSError, ValueError):
            return None
        return pid if os.path.exists(f"/proc/{pid}") else None


@pytest.fixture
def amphora(pki: PKI) -> Iterator[Amphora]:
    """An agent in its own namespace with a VRRP interface vip0 (no peer: it elects itself)."""
    tag = f"{os.getpid() % 100000}"
    namespace, host_if = f"oak{tag}", f"oak{tag}h"
    subnet = f"100.125.{os.getpid() % 250}"
    _ip("netns", "add", namespace)
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", "mgmt0", "netns", namespace)
        _ip("addr", "add", f"{subnet}.1/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        for command in (["addr", "add", f"{subnet}.2/30", "dev", "mgmt0"], ["link", "set", "mgmt0", "up"],
                        ["link", "set", "lo", "up"],
                        ["link", "add", "vip0", "type", "veth", "peer", "name", "peer0"],
                        ["addr", "add", "100.126.0.11/24", "dev", "vip0"],
                        ["link", "set", "vip0", "up"], ["link", "set", "peer0", "up"]):
            _ip("-n", namespace, *command)
        agent = start_agent(pki, netns=namespace, host=f"{subnet}.2")
        try:
            yield Amphora(namespace, agent)
        finally:
            stop_agent(agent)
    finally:
        subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, check=False)
        for pid in subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True,
                                  check=False).stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _keepalived_conf(amphora: Amphora) -> str:
    amp = models.Amphora(id=amphora.agent.amphora_id, status="ALLOCATED", vrrp_ip="100.126.0.11",
                         vrrp_interface="vip0", vrrp_id=1, vrrp_priority=100)
    lb = models.LoadBalancer(id=str(uuid.uuid4()), amphorae=[amp])
    check = agent_vrrp_paths(amphora.agent.base_path).check_script
    return render_keepalived_config(lb, amp, [VipNetwork(VIP, "100.126.0.0/24", "100.126.0.1")],
                                    check_script=check)


def test_upload_is_validated(amphora: Amphora) -> None:
    code, body = amphora.put("/vrrp/start")
    assert code == 500 and "No keepalived configuration" in body["details"]
    code, body = amphora.put("/vrrp/upload", "vrrp_instance broken {\n    interface no-such-if\n}\n")
    assert code == 400, body
    assert not os.path.exists(agent_vrrp_paths(amphora.agent.base_path).config)
    assert amphora.put("/vrrp/dance")[0] == 400
    answer = amphora.put("/vrrp/upload", _keepalived_conf(amphora))
    assert answer == (200, {"message": "OK"}), answer
    nonlocal_bind = _ip("netns", "exec", amphora.namespace, "cat", "/proc/sys/net/ipv4/ip_nonlocal_bind")
    assert nonlocal_bind.strip() == "1", "set inside the amphora's namespace"


def test_guard_follows_haproxy_and_keepalived(amphora: Amphora) -> None:
    agent = amphora.agent
    lb_id = str(uuid.uuid4())
    assert amphora.put("/vrrp/upload", _keepalived_conf(amphora))[0] == 200
    assert amphora.put(f"/loadbalancer/{agent.amphora_id}/{lb_id}/haproxy",
                       tiny_config(agent, lb_id, 8080, "up", bind_host=VIP))[0] == 202
    assert amphora.put(f"/loadbalancer/{lb_id}/start")[0] == 202, "binds the VIP it does not hold yet"
    assert amphora.put("/vrrp/start")[0] == 202
    assert wait_for(amphora.holds_vip, 5), "alone, keepalived becomes MASTER"

    # HAProxy dies: the guard stops keepalived at once, which removes the VIP.
    killed = time.monotonic()
    for pid in haproxy_pids_under(agent.directory):
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not amphora.holds_vip(), 2, interval=0.01)
    assert time.monotonic() - killed < 0.5
    assert wait_for(lambda: amphora.keepalived_pid() is None, 5)
    # HAProxy back: keepalived starts again (BACKUP, then MASTER as it is alone).
    assert amphora.put(f"/loadbalancer/{lb_id}/start")[0] == 202
    assert wait_for(amphora.holds_vip, 5)

    # keepalived SIGKILLed: the VIP it leaves behind is removed at once, keepalived restarted.
    pid = amphora.keepalived_pid()
    assert pid is not None
    vrrp_child = int(open(agent_vrrp_paths(agent.base_path).vrrp_pid_file).read())
    killed = time.monotonic()
    os.kill(vrrp_child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not amphora.holds_vip(), 2, interval=0.01)
    assert time.monotonic() - killed < 0.5
    assert wait_for(lambda: amphora.keepalived_pid() not in (None, pid), 5), "restarted"
    assert wait_for(amphora.holds_vip, 5)

    assert amphora.put("/vrrp/stop")[0] == 202
    assert not amphora.holds_vip()
    assert wait_for(lambda: amphora.keepalived_pid() is None, 5)
    assert "keepalived died" in agent.log()
