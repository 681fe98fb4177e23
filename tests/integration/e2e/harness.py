"""The default all-in-one as a subprocess, driven through its API like a user would.

`AllInOne` writes a config file that changes only what a shared test host needs
(state directory, free ports, unique local names, fast heartbeats), starts
`octavia.cmd.all_in_one`, and on `close()` stops it and removes every amphora,
namespace, bridge and redirect it left on the host.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from octavia.common import config
from octavia.network import netns

CONF = config.CONF
PROJECT = "e2e-project"
API_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


class ApiError(AssertionError):
    """An API call answered with an unexpected status."""


class AllInOne:
    """One `octavia-all-in-one` process with its own state directory."""

    def __init__(self, root: Path, mode: str) -> None:
        self.root = root
        self.mode = mode
        self.state_path = root / "state"
        self.log_path = root / "all-in-one.log"
        self.api_port = free_port()
        self.health_port = free_port(socket.SOCK_DGRAM)
        tag = f"{os.getpid() % 10000}{random.randrange(1000):03d}"
        self.management_bridge = f"o-e2e{tag}"[:15]
        third = random.randrange(1, 255)
        self.loopback_vip_cidr = f"127.77.{third}.0/24"
        self.loopback_management_cidr = f"127.78.{third}.0/24"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=30.0, trust_env=False)

    # --- process --------------------------------------------------------------------

    def write_config(self) -> Path:
        path = self.root / "octavia.conf"
        path.write_text(
            "[DEFAULT]\n"
            f"state_path = {self.state_path}\n"
            "[api_settings]\n"
            f"bind_port = {self.api_port}\n"
            "[controller_worker]\n"
            f"local_amphora_mode = {self.mode}\n"
            "[health_manager]\n"
            f"bind_port = {self.health_port}\n"
            f"controller_ip_port_list = 127.0.0.1:{self.health_port}\n"
            "heartbeat_interval = 1\n"
            "heartbeat_key = e2e-heartbeat-key\n"
            "[local_network]\n"
            f"management_bridge = {self.management_bridge}\n"
            f"loopback_vip_cidr = {self.loopback_vip_cidr}\n"
            f"loopback_management_cidr = {self.loopback_management_cidr}\n"
        )
        return path

    def start(self) -> None:
        conf = self.write_config()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "octavia.cmd.all_in_one", "--config-file", str(conf)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(self.root),
            )
        if not wait_for(self._api_answers, API_START_TIMEOUT_S, interval=0.1):
            raise RuntimeError(f"the all-in-one API never answered:\n{self.log_tail()}")

    def _api_answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the all-in-one exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return self.http.get("/v2.0/subnets").status_code == 200
        except httpx.TransportError:
            return False

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def close(self) -> None:
        """Stop the process, then remove whatever it left on the host."""
        self.stop()
        self.http.close()
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        from octavia.compute.local import LocalComputeDriver

        overrides = [
            ("state_path", str(self.state_path), None),
            ("local_amphora_mode", self.mode, "controller_worker"),
            ("management_bridge", self.management_bridge, "local_network"),
        ]
        for name, value, group in overrides:
            CONF.set_override(name, value, group=group)
        try:
            compute = LocalComputeDriver()
            root = self.state_path / "amphorae"
            for entry in sorted(os.listdir(root)) if root.is_dir() else []:
                if not entry.startswith("."):
                    compute.delete(entry)
            if self.mode == "netns":
                netns.remove_redirect(self.management_bridge)
                netns.delete_link(self.management_bridge)
                for bridge in self.bridges():
                    netns.delete_link(bridge)
        finally:
            for name, _, group in overrides:
                CONF.clear_override(name, group=group)

    def bridges(self) -> list[str]:
        """Bridges of this all-in-one's local networks (netns mode)."""
        database = self.state_path / "octavia.sqlite"
        if not database.exists():
            return []
        with contextlib.closing(sqlite3.connect(database)) as db:
            return [row[0] for row in db.execute("SELECT bridge FROM local_network") if row[0]]

    # --- API ------------------------------------------------------------------------

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 202, 204),
             **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in wanted:
            raise ApiError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response

    def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", path, **kwargs).json()
        return body

    def vip_subnet(self) -> dict[str, Any]:
        """The default VIP network's IPv4 subnet."""
        subnets = self.get("/v2.0/subnets", params={"name": "lb-vip-network-subnet"})["subnets"]
        assert subnets, "the default VIP subnet is missing"
        return dict(subnets[0])

    def lb(self, lb_id: str) -> dict[str, Any]:
        return dict(self.get(f"/v2/lbaas/loadbalancers/{lb_id}")["loadbalancer"])

    def wait_lb(self, lb_id: str, status: str = "ACTIVE", timeout: float = 60.0) -> dict[str, Any]:
        """Wait for a provisioning status; a terminal ERROR fails at once."""
        seen: dict[str, Any] = {}

        def reached() -> bool:
            seen.update(self.lb(lb_id))
            if seen["provisioning_status"] == "ERROR" and status != "ERROR":
                raise AssertionError(f"load balancer {lb_id} went ERROR:\n{self.log_tail()}")
            return bool(seen["provisioning_status"] == status)

        if not wait_for(reached, timeout, interval=0.02):
            raise AssertionError(f"load balancer {lb_id} stuck in {seen.get('provisioning_status')}")
        return seen

    def wait_lb_gone(self, lb_id: str, timeout: float = 60.0) -> None:
        def gone() -> bool:
            return self.http.get(f"/v2/lbaas/loadbalancers/{lb_id}").status_code == 404

        assert wait_for(gone, timeout, interval=0.05), f"load balancer {lb_id} was never deleted"

    def status_tree(self, lb_id: str) -> dict[str, Any]:
        return dict(self.get(f"/v2/lbaas/loadbalancers/{lb_id}/status")["statuses"]["loadbalancer"])

    def stats(self, lb_id: str) -> dict[str, int]:
        return dict(self.get(f"/v2/lbaas/loadbalancers/{lb_id}/stats")["stats"])

    def amphorae(self, lb_id: str) -> list[dict[str, Any]]:
        found = self.get("/v2/octavia/amphorae", params={"loadbalancer_id": lb_id})["amphorae"]
        return [a for a in found if a["status"] != "DELETED"]


def populated_lb_body(subnet_id: str, members: list[tuple[str, int]], name: str = "e2e") -> dict[str, Any]:
    """Listener HTTP:80 -> pool ROUND_ROBIN with the members and an HTTP health monitor."""
    return {"loadbalancer": {
        "name": name,
        "project_id": PROJECT,
        "vip_subnet_id": subnet_id,
        "listeners": [{
            "name": f"{name}-http",
            "protocol": "HTTP",
            "protocol_port": 80,
            "default_pool": {
                "name": f"{name}-pool",
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "members": [{"address": address, "protocol_port": port} for address, port in members],
                "healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1,
                                  "max_retries_down": 2, "url_path": "/"},
            },
        }],
    }}
