"""Fixtures that run the rendered configuration in a real `haproxy -Ws` on 127.x.y.z addresses."""

from __future__ import annotations

import http.client
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.render import render_haproxy_config
from octavia.amphorae.haproxy.validate import validate_config
from octavia.common.config import CONF
from octavia.db import models

_SUBNETS = itertools.count(int.from_bytes(os.urandom(1), "big"))


@dataclass
class Addresses:
    """A private 127.A.B.0/24 for one test: the VIP, members and client sources never collide."""

    prefix: str

    @property
    def vip(self) -> str:
        return f"{self.prefix}.1"

    def member(self, index: int) -> str:
        return f"{self.prefix}.{10 + index}"

    def client(self, index: int) -> str:
        return f"{self.prefix}.{100 + index}"


@pytest.fixture
def addresses() -> Addresses:
    return Addresses(f"127.{100 + os.getpid() % 100}.{next(_SUBNETS) % 256}")


@dataclass
class RunningHaproxy:
    process: subprocess.Popen[bytes]
    socket_path: str
    log_path: Path
    lb: models.LoadBalancer

    def command(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(self.socket_path)
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_status(self, member: models.Member) -> str:
        """The status column of `show stat` for the member's server (UP, DOWN, MAINT, ...)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("svname") == member.id:
                return row["status"]
        raise AssertionError(f"server {member.id} not in show stat")


@pytest.fixture
def amp_base() -> Iterator[Path]:
    """A short directory: HAProxy refuses stats socket paths over 97 bytes."""
    path = Path(tempfile.mkdtemp(prefix="hx", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_haproxy(amp_base: Path) -> Iterator[Callable[..., RunningHaproxy]]:
    """Render `lb`, check it with `haproxy -c`, run it with `haproxy -Ws` until the test ends."""
    binary = CONF.haproxy_amphora.haproxy_cmd
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed")
    started: list[RunningHaproxy] = []

    def start(lb: models.LoadBalancer, **kwargs: object) -> RunningHaproxy:
        text = render_haproxy_config(lb, kwargs.pop("amphora", None), amp_base=str(amp_base), **kwargs)  # type: ignore[arg-type]
        validate_config(text)
        lb_dir = amp_base / lb.id
        lb_dir.mkdir(parents=True, exist_ok=True)
        config = lb_dir / "haproxy.cfg"
        config.write_text(text)
        log_path = lb_dir / "haproxy.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [binary, "-Ws", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        running = RunningHaproxy(process, str(lb_dir / "haproxy.sock"), log_path, lb)
        started.append(running)
        _wait_listening(running, lb)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait(timeout=5)


def _wait_listening(running: RunningHaproxy, lb: models.LoadBalancer) -> None:
    ports = [listener.protocol_port for listener in lb.listeners if listener.enabled]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"haproxy exited: {running.log_path.read_text()}")
        if os.path.exists(running.socket_path) and all(_accepts(lb.vip_address, port) for port in ports):
            return
        time.sleep(0.02)
    raise AssertionError(f"haproxy did not start listening: {running.log_path.read_text()}")


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


def http_get(
    address: str,
    port: int,
    path: str = "/",
    *,
    headers: dict[str, str] | None = None,
    source: str | None = None,
) -> Response:
    """One request on a new connection (so each request is balanced on its own)."""
    connection = http.client.HTTPConnection(
        address, port, timeout=5, source_address=(source, 0) if source else None
    )
    try:
        connection.request("GET", path, headers=headers or {})
        reply = connection.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read().decode())
    finally:
        connection.close()
