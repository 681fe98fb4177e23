"""A real `octavia-amphora-agent` process on a 127.x.y.z address, with real certificates."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from octavia.certificates.generator.local import LocalCertGenerator
from octavia.common.config import CONF

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
_SUBNETS = itertools.count(int.from_bytes(os.urandom(1), "big"))

pytestmark = pytest.mark.slow


def _require_haproxy() -> None:
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("haproxy binary not installed")


def unique_prefix() -> str:
    """A 127.A.B.0/24 no other test process uses at the same time."""
    return f"127.{200 + os.getpid() % 50}.{next(_SUBNETS) % 256}"


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class PKI:
    """The service CA, a controller client cert, and a second, unrelated CA."""

    directory: str
    generator: LocalCertGenerator
    ca_file: str
    client_cert: str
    rogue_client_cert: str

    def server_pem(self, amphora_id: str, validity: int = 3600) -> bytes:
        return self.generator.generate_cert_key_pair(amphora_id, validity).pem


@pytest.fixture(scope="session")
def pki() -> Iterator[PKI]:
    directory = tempfile.mkdtemp(prefix="oa-pki-")
    CONF.set_override("storage_path", os.path.join(directory, "service"), group="certificates")
    try:
        generator = LocalCertGenerator()
        client = generator.get_client_cert()
        # A client certificate from another CA: must be refused by the agent.
        CONF.set_override("storage_path", os.path.join(directory, "rogue"), group="certificates")
        rogue = LocalCertGenerator().get_client_cert()
    finally:
        CONF.clear_override("storage_path", group="certificates")
    yield PKI(directory, generator, client.ca_file, client.cert_file, rogue.cert_file)
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Agent:
    """One running agent and what a test needs to talk to it."""

    process: subprocess.Popen[bytes]
    amphora_id: str
    host: str
    port: int
    directory: str
    base_path: str
    config_file: str
    cert_file: str
    log_file: str
    prefix: str
    pki: PKI
    _ports: itertools.count[int] = field(default_factory=lambda: itertools.count(10))

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def client_context(self, cert_file: str | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.pki.ca_file)
        if cert_file:
            context.load_cert_chain(cert_file)
        return context

    def client(self, cert_file: str | None, timeout: float = 30.0) -> httpx.Client:
        """An httpx client presenting `cert_file` (None: no client certificate)."""
        return httpx.Client(base_url=self.url, verify=self.client_context(cert_file), timeout=timeout)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A request as the controller, checking the agent's certificate names this amphora."""
        with self.client(self.pki.client_cert) as client:
            return client.request(method, path, extensions={"sni_hostname": self.amphora_id}, **kwargs)  # type: ignore[arg-type]

    def address(self, index: int) -> str:
        return f"{self.prefix}.{index}"

    def lb_dir(self, lb_id: str) -> str:
        return os.path.join(self.base_path, lb_id)

    def log(self) -> str:
        with open(self.log_file, errors="replace") as handle:
            return handle.read()


def _wait_listening(agent: Agent, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.process.poll() is not None:
            raise AssertionError(f"agent exited with {agent.process.returncode}:\n{agent.log()}")
        with contextlib.suppress(OSError, httpx.TransportError):
            if agent.request("GET", "/1.0/info").status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"agent did not answer within {timeout} s:\n{agent.log()}")


def haproxy_pids_under(path: str) -> set[int]:
    """HAProxy processes whose command line names a file under `path` (only ours)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if "haproxy" in cmdline and path in cmdline and state != b"Z":
            found.add(int(entry))
    return found


def _launch(config_file: str, directory: str, log_file: str, netns: str | None) -> subprocess.Popen[bytes]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [*prefix, sys.executable, "-m", "octavia.cmd.amphora_agent", "--config-file", config_file],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            cwd=directory,
        )


def restart_agent(agent: Agent) -> None:
    """A new agent process on the same configuration and directory (the old one has exited)."""
    assert agent.process.poll() is not None
    agent.process = _launch(agent.config_file, agent.directory, agent.log_file, None)
    _wait_listening(agent)


def start_agent(
    pki: PKI,
    extra_conf: str = "",
    netns: str | None = None,
    host: str | None = None,
    amphora_id: str | None = None,
    base_path: str | None = None,
) -> Agent:
    """An agent on a fresh 127.A.B.1, or inside network namespace `netns` listening on `host`."""
    _require_haproxy()
    amphora_id = amphora_id or str(uuid.uuid4())
    directory = tempfile.mkdtemp(prefix="oa-")
    prefix = unique_prefix()
    host = host or f"{prefix}.1"
    port = 9443 if netns else free_port(host)
    base_path = base_path or os.path.join(directory, "lbs")
    cert_file = os.path.join(directory, "server.pem")
    with open(cert_file, "wb") as handle:
        handle.write(pki.server_pem(amphora_id))
    config_file = os.path.join(directory, "agent.conf")
    with open(config_file, "w") as handle:
        handle.write(
            "[amphora_agent]\n"
            f"agent_server_ca = {pki.ca_file}\n"
            f"agent_server_cert = {cert_file}\n"
            f"bind_host = {host}\nbind_port = {port}\namphora_id = {amphora_id}\n"
            f"base_path = {base_path}\nhaproxy_cmd = {HAPROXY}\nhaproxy_check_interval = 0.2\n"
            "[health_manager]\ncontroller_ip_port_list = 127.0.0.1:9\nheartbeat_interval = 3600\n"
            + extra_conf
        )
    log_file = os.path.join(directory, "agent.log")
    process = _launch(config_file, directory, log_file, netns)
    agent = Agent(
        process, amphora_id, host, port, directory, base_path, config_file, cert_file, log_file, prefix, pki
    )
    try:
        _wait_listening(agent)
    except BaseException:
        stop_agent(agent)
        raise
    return agent


def stop_agent(agent: Agent) -> None:
    if agent.process.poll() is None:
        agent.process.send_signal(signal.SIGTERM)
        try:
            agent.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            agent.process.kill()
            agent.process.wait()
    for pid in haproxy_pids_under(agent.directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(agent.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def agent(pki: PKI) -> Iterator[Agent]:
    running = start_agent(pki)
    yield running
    stop_agent(running)


def http_get(host: str, port: int, path: str = "/", timeout: float = 5.0) -> tuple[int, bytes]:
    """One request on a new connection."""
    import http.client

    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def tiny_config(agent: Agent, lb_id: str, port: int, body: str, bind_host: str | None = None) -> str:
    """A frontend answering `body` itself (no backend), with the fixed per-LB socket layout."""
    lb_dir = agent.lb_dir(lb_id)
    return (
        "global\n"
        f"    stats socket {lb_dir}/haproxy.sock mode 600 level admin\n"
        "    maxconn 1000\n"
        "    hard-stop-after 30s\n"
        "defaults\n"
        "    mode http\n"
        "    option idle-close-on-response\n"
        "    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n"
        f"frontend {lb_id}-fe\n"
        f"    bind {bind_host or agent.address(2)}:{port}\n"
        f"    http-request return status 200 content-type text/plain string {body}\n"
    )
