"""Fixtures for local amphorae on this host: unique names per run, everything removed after.

The agent is the stand-in in this folder: the real `octavia.cmd.amphora_agent` needs
the certificate generator and an mTLS client, which the amphora tests exercise; these
tests check what the compute and network drivers make (namespace, links, addresses,
processes, files), which the stand-in shows just as well.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from octavia.amphorae.drivers import paths
from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models
from octavia.network import netns

STANDIN_AGENT = "tests.integration.compute.standin_agent"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONF = config.CONF


def available_modes() -> list[Any]:
    netns_mark = pytest.mark.skipif(not netns.netns_works(), reason="netns mode needs root and `ip netns`")
    return [pytest.param("netns", marks=netns_mark), "loopback"]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def http_get(host: str, port: int, timeout: float = 2.0) -> bytes | None:
    """One GET over a raw socket (no proxies, works for IPv6 literals); None if refused."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: t\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return data
    except OSError:
        return None


def in_namespace(namespace: str, code: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet inside the namespace."""
    return subprocess.run([*netns.exec_prefix(namespace), sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def local_env(
    state_dir: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A registry DB, a private amphora root and a management bridge unique to this run;
    on teardown every amphora, bridge and redirect made here is removed."""
    mode = getattr(request, "param", "netns")
    engine = db_api.make_engine(f"sqlite:///{state_dir}/octavia.sqlite")
    models.Base.metadata.create_all(engine)
    db_api.set_engine(engine)
    tag = f"{os.getpid() % 100000}{abs(hash(request.node.name)) % 1000}"
    overrides = [
        ("local_amphora_mode", mode, "controller_worker"),
        ("management_bridge", f"o-t{tag}"[:15], "local_network"),
        ("default_vip_network_name", f"lb-vip-network-{tag}", "local_network"),
        ("base_path", os.path.join(state_dir, "amphorae"), "haproxy_amphora"),
        ("bind_port", 9443, "haproxy_amphora"),
    ]
    for name, value, group in overrides:
        CONF.set_override(name, value, group=group)
    monkeypatch.setenv("PYTHONPATH", REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    yield mode
    _teardown(mode)
    db_api.set_engine(None)
    for name, _, group in overrides:
        CONF.clear_override(name, group=group)


def _teardown(mode: str) -> None:
    from octavia.compute.local import LocalComputeDriver

    compute = LocalComputeDriver(agent_module=STANDIN_AGENT)
    root = paths.amphorae_root()
    for entry in os.listdir(root) if os.path.isdir(root) else []:
        if not entry.startswith("."):
            compute.delete(entry)
    compute.remove_management_network()
    if mode == "netns":
        with db_api.session_scope() as session:
            bridges = [r.bridge for r in session.query(models.LocalNetwork) if r.bridge]
        for bridge in bridges:
            netns.delete_link(bridge)
