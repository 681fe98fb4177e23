"""The e2e all-in-one tuned for fault tests, and handles on one local amphora's pieces
(agent process, namespace, files) to break them the way production breaks.

Agent calls give up within seconds (`AGENT_GIVE_UP_S`): connecting (TCP + TLS
handshake) times out after CONN_TIMEOUT_S and is retried CONN_RETRIES times. The
health manager's failover is pushed out of the way (heartbeat_timeout 600 s) so that a
test's own failover call is what repairs a load balancer.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from octavia.network import netns
from tests.integration.e2e.harness import AllInOne, populated_lb_body, wait_for
from tests.integration.e2e.host import pid_alive
from tests.integration.e2e.traffic import NamedBackend

REPO_ROOT = str(Path(__file__).resolve().parents[3])
FAKE_AGENT = "tests.integration.faults.fake_agent"
CONN_TIMEOUT_S = 0.5
CONN_RETRY_INTERVAL_S = 0.25
CONN_RETRIES = 20
AGENT_GIVE_UP_S = CONN_RETRIES * (CONN_TIMEOUT_S + CONN_RETRY_INTERVAL_S)
FAULT_CONFIG = (
    "[haproxy_amphora]\n"
    f"rest_request_conn_timeout = {CONN_TIMEOUT_S}\n"
    "rest_request_read_timeout = 10\n"
    f"connection_max_retries = {CONN_RETRIES}\n"
    f"connection_retry_interval = {CONN_RETRY_INTERVAL_S}\n"
    "active_connection_max_retries = 4\n"
    f"active_connection_retry_interval = {CONN_RETRY_INTERVAL_S}\n"
    "[health_manager]\n"
    "heartbeat_timeout = 600\n"
)


class FaultAllInOne(AllInOne):
    """`AllInOne` with FAULT_CONFIG and any `extra` lines appended to its config file."""

    def __init__(self, root: Path, mode: str, extra: str = "") -> None:
        super().__init__(root, mode)
        self.extra = extra
        self.amphorae_on_tmpfs = False

    def write_config(self) -> Path:
        path = super().write_config()
        with open(path, "a") as conf:
            conf.write(FAULT_CONFIG + self.extra)
        return path

    def lb_status_in_db(self, lb_id: str) -> str | None:
        """The LB's provisioning status read from the SQLite file (works while the service is down)."""
        with contextlib.closing(sqlite3.connect(self.state_path / "octavia.sqlite")) as db:
            query = "SELECT provisioning_status FROM load_balancer WHERE id = ?"
            row = db.execute(query, (lb_id,)).fetchone()
        return None if row is None else str(row[0])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        """What the all-in-one logged after `offset` (a `log_size()` taken earlier)."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def create_lb(aio: AllInOne, members: list[NamedBackend], name: str) -> dict[str, Any]:
    """An HTTP:80 load balancer over `members`, ACTIVE (the create response is returned)."""
    body = populated_lb_body(aio.vip_subnet()["id"], [(str(m.address), m.port) for m in members], name=name)
    created: dict[str, Any] = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()
    aio.wait_lb(created["loadbalancer"]["id"])
    return dict(created["loadbalancer"])


def delete_lb_nowait(aio: AllInOne, lb_id: str) -> None:
    aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb_id}", params={"cascade": "true"}, expect=204)


def delete_lb(aio: AllInOne, lb_id: str) -> None:
    aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb_id}", params={"cascade": "true"}, expect=(204, 404, 409))
    aio.wait_lb_gone(lb_id)


@dataclass
class LocalAmphora:
    """The one amphora of a SINGLE load balancer, as the local compute driver laid it out."""

    id: str
    directory: Path
    lb_network_ip: str
    namespace: str | None

    @property
    def agent_pid(self) -> int:
        return int((self.directory / "agent.pid").read_text())

    def agent_conf(self) -> configparser.SectionProxy:
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(self.directory / "agent.conf")
        return conf["amphora_agent"]

    def lbs_dir(self) -> Path:
        return self.directory / "lbs"

    def haproxy_cfg(self, lb_id: str) -> bytes:
        return (self.lbs_dir() / lb_id / "haproxy.cfg").read_bytes()


def local_amphora(aio: AllInOne, lb_id: str) -> LocalAmphora:
    (record,) = aio.amphorae(lb_id)
    directory = aio.state_path / "amphorae" / record["compute_id"]
    state: dict[str, Any] = json.loads((directory / "compute.json").read_text())
    return LocalAmphora(record["id"], directory, record["lb_network_ip"], state.get("namespace"))


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process frozen with SIGSTOP (a hung agent: it accepts TCP, never answers)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def fake_agent(amphora: LocalAmphora, port: int, mode: str) -> Iterator[subprocess.Popen[str]]:
    """Kill the real agent (its HAProxy keeps serving) and start `fake_agent` on its
    address, in its namespace, with its certificates."""
    conf = amphora.agent_conf()
    os.kill(amphora.agent_pid, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(amphora.agent_pid), 10)
    argv = [*netns.exec_prefix(amphora.namespace), sys.executable, "-m", FAKE_AGENT,
            "--host", amphora.lb_network_ip, "--port", str(port), "--mode", mode,
            "--cert", conf["agent_server_cert"], "--ca", conf["agent_server_ca"]]
    process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "PYTHONPATH": REPO_ROOT})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("fake agent"), line + process.stdout.read()
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
