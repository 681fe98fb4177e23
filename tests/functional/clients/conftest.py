"""One all-in-one per test session, driven by the unmodified `openstack` CLI and openstacksdk.

The CLI runs as a subprocess with only the environment a user sets (README, "Using the
openstack CLI"); nothing is patched or imported from the clients' internals.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openstack
import pytest

from octavia.controller.health import heartbeat_packet
from tests.functional.clients.service import Service, running_service

CLI = Path(sys.executable).with_name("openstack")
# Any well-formed id is a subnet/network/port to the noop network driver.
SUBNET = "6f1d4a7e-3c52-4f4b-9d0a-1b2c3d4e5f60"
PROJECT = "demo-project"


def user_environment(url: str) -> dict[str, str]:
    """The shell environment of a user pointing the CLI at the all-in-one in noauth mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(
        OS_AUTH_TYPE="none",
        OS_ENDPOINT=url,
        OS_LOAD_BALANCER_ENDPOINT_OVERRIDE=url,
        OS_NETWORK_ENDPOINT_OVERRIDE=url,
    )
    return env


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    if not os.access(CLI, os.X_OK):
        pytest.skip("python-openstackclient is not installed in the venv")
    # A test's single heartbeat must not make the amphora "stale" (and failed over) while
    # slow CLI commands follow it.
    extra = {"health_manager": {"heartbeat_timeout": "3600"}}
    with running_service(tmp_path_factory.mktemp("all-in-one"), extra) as svc:
        yield svc


class Cli:
    """`openstack loadbalancer <command> <args>` as a subprocess; `-f json` output parsed.

    `cli.json("listener create", "--protocol", "HTTP", ...)` runs
    `openstack loadbalancer listener create --protocol HTTP ... -f json`.
    """

    def __init__(self, url: str) -> None:
        self.env = user_environment(url)

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(CLI), "loadbalancer", *command.split(), *args]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, command: str, *args: str) -> str:
        proc = self.run(command, *args)
        assert proc.returncode == 0, f"loadbalancer {command} {' '.join(args)} failed:\n{proc.stderr}"
        return proc.stdout

    def json(self, command: str, *args: str) -> Any:
        return json.loads(self.ok(command, *args, "-f", "json"))

    def fails(self, command: str, *args: str) -> str:
        """Run a command the server must refuse; return the error the user sees."""
        proc = self.run(command, *args)
        assert proc.returncode != 0, f"loadbalancer {command} {' '.join(args)} succeeded:\n{proc.stdout}"
        return proc.stderr


@pytest.fixture(scope="session")
def cli(service: Service) -> Cli:
    return Cli(service.url)


class Http:
    """Direct reads, for waiting and cross-checking what the clients report."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)

    def get(self, path: str) -> Any:
        resp = self.client.get(path)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def status(self, path: str) -> int:
        return self.client.get(path).status_code

    def wait_for_value(self, path: str, key: str, field: str, value: Any,
                       timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.get(path)[key]
            if last.get(field) == value:
                return dict(last)
            time.sleep(0.02)
        raise AssertionError(f"{path}: {field} never became {value!r}: {last}")

    def wait(self, path: str, key: str, status: str = "ACTIVE", timeout: float = 15.0) -> dict[str, Any]:
        """Poll until provisioning_status == status, or until 404 for status == 'DELETED'."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            resp = self.client.get(path)
            if resp.status_code == 404 and status == "DELETED":
                return {}
            if resp.status_code == 200:
                last = resp.json()[key]
                if last.get("provisioning_status") == status:
                    return dict(last)
            time.sleep(0.02)
        raise AssertionError(f"{path} never reached {status}: {last}")


@pytest.fixture(scope="session")
def http(service: Service) -> Iterator[Http]:
    client = Http(service.url)
    yield client
    client.client.close()


@pytest.fixture(scope="session")
def sdk(service: Service) -> Iterator[openstack.connection.Connection]:
    conn = openstack.connection.Connection(
        auth_type="none",
        auth={"endpoint": service.url},
        load_balancer_endpoint_override=service.url,
        network_endpoint_override=service.url,
    )
    yield conn
    conn.close()


def send_heartbeat(service: Service, amphora_id: str, listener_stats: dict[str, dict[str, int]]) -> None:
    """A signed heartbeat to the all-in-one's health manager, as an amphora agent sends it."""
    heartbeat = heartbeat_packet.Heartbeat(
        amphora_id=amphora_id, seq=int(time.time() * 1000), timestamp=time.time(),
        listeners={lid: heartbeat_packet.ListenerReport(status=heartbeat_packet.LISTENER_OPEN, **counters)
                   for lid, counters in listener_stats.items()},
    )
    packet = heartbeat_packet.encode(heartbeat, service.heartbeat_key.encode())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(packet, ("127.0.0.1", service.heartbeat_port))


def force_amphora_status(service: Service, amphora_id: str, status: str) -> None:
    """Put an amphora in a state only a failure produces (the API cannot), in the service's DB."""
    with sqlite3.connect(service.state_path / "octavia.sqlite", timeout=10) as conn:
        updated = conn.execute("UPDATE amphora SET status = ? WHERE id = ?", (status, amphora_id)).rowcount
    assert updated == 1


@pytest.fixture
def name() -> str:
    """A unique name per test, so list filters see only this test's objects."""
    return f"t{os.getpid()}-{uuid.uuid4().hex[:8]}"
