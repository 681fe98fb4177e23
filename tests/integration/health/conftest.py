"""A real HAProxy named the way the renderer names things, real backends, a real database."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from octavia.amphorae.agent import heartbeat_sender
from octavia.db import api as db_api
from octavia.db import models

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)


class _Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"hello from " + str(self.server.server_address[1]).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Health checks hang up before reading the body: not worth a traceback."""


class Backend:
    """An HTTP member on 127.0.0.1 that the test can kill and bring back on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self._server: _Server | None = None
        self.start()

    def start(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Quiet)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Ids:
    lb: str
    listener: str
    pool: str
    members: list[str]


def run_haproxy(base_path: str, lb_id: str, config_text: str) -> subprocess.Popen[bytes]:
    """Start haproxy on a rendered configuration; returns once its stats socket exists."""
    assert HAPROXY is not None
    lb_dir = Path(base_path) / lb_id
    lb_dir.mkdir(parents=True, exist_ok=True)
    config = lb_dir / "haproxy.cfg"
    config.write_text(config_text)
    log = lb_dir / "haproxy.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [HAPROXY, "-W", "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 10
    while not os.path.exists(lb_dir / heartbeat_sender.SOCKET_NAME):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"haproxy did not start: {log.read_text()}")
        time.sleep(0.02)
    return proc


class Haproxy:
    """haproxy -W (master-worker) for one LB: hand-written (one frontend, one backend, a
    server per member, named like the renderer names them) unless `config_text` is given."""

    def __init__(
        self, base_path: str, ids: Ids, backends: list[Backend], config_text: str | None = None
    ) -> None:
        self.ids = ids
        self.port = free_tcp_port()
        self.socket = str(Path(base_path) / ids.lb / heartbeat_sender.SOCKET_NAME)
        servers = "\n".join(
            f"    server {mid} 127.0.0.1:{b.port} check inter 100 fall 1 rise 1"
            for mid, b in zip(ids.members, backends, strict=True)
        )
        if config_text is None:
            config_text = (
                "global\n"
                f"    stats socket {self.socket} mode 600 level user\n"
                "    maxconn 1000\n"
                "defaults\n    mode http\n    timeout connect 1s\n"
                "    timeout client 5s\n    timeout server 5s\n"
                f"frontend {ids.listener}\n    bind 127.0.0.1:{self.port}\n"
                f"    default_backend {ids.pool}:{ids.listener}\n"
                f"backend {ids.pool}:{ids.listener}\n    option httpchk GET /\n{servers}\n"
            )
        self.proc = run_haproxy(base_path, ids.lb, config_text)

    def worker_pid(self) -> int | None:
        status = heartbeat_sender.read_haproxy(self.socket)
        return status.pid if status else None

    def reload(self) -> None:
        """Seamless reload: a new worker with zeroed counters replaces the old one."""
        old = self.worker_pid()
        self.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while self.worker_pid() in (old, None):
            assert time.monotonic() < deadline, "haproxy did not reload"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def base_path() -> Iterator[str]:
    # Short path under /tmp: a unix socket path must fit in 108 bytes.
    path = tempfile.mkdtemp(prefix=f"hb{os.getpid()}-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def backends() -> Iterator[list[Backend]]:
    servers = [Backend(), Backend()]
    yield servers
    for server in servers:
        server.stop()


def new_ids() -> Ids:
    return Ids(
        str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), [str(uuid.uuid4()), str(uuid.uuid4())]
    )


@pytest.fixture
def haproxy_factory(base_path: str, backends: list[Backend]) -> Iterator[Any]:
    if HAPROXY is None:
        pytest.skip("haproxy binary not installed")
    started: list[Haproxy] = []

    def start(ids: Ids, config_text: str | None = None) -> Haproxy:
        proxy = Haproxy(base_path, ids, backends, config_text)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def sqlite_db(state_dir: str) -> Iterator[Any]:
    engine = db_api.make_engine(f"sqlite:///{state_dir}/health.sqlite")
    models.Base.metadata.create_all(engine)
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)
