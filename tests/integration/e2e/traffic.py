"""Member servers on the host and a bounded client load loop for end-to-end tests.

Members listen on the VIP subnet's gateway_ip, an address of the host that amphorae
reach in both modes (a bridge address in netns mode, a 127.x address in loopback
mode), and answer every GET with their own name.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any


class _NameHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: NamedBackend

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.hits += 1

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: health checks alone would fill the test output."""


class NamedBackend(http.server.ThreadingHTTPServer):
    """An HTTP member on (address, free port) answering its name."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, name: str, address: str, port: int = 0) -> None:
        self.name = name
        self.hits = 0
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        super().__init__((address, port), _NameHandler)
        self.address, self.port = self.server_address[0], int(self.server_address[1])
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Gone like a killed process: the port refuses and open connections are cut."""
        self.shutdown()
        self.server_close()
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """HAProxy's checks and reloads close connections: that is not an error here."""


def get(host: str, port: int = 80, timeout: float = 5.0) -> tuple[int, str]:
    """One GET on a new connection: (status, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Host": "e2e"})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def answers(host: str, count: int, port: int = 80) -> collections.Counter[str]:
    """Names of the members that answered `count` GETs (non-200s count as 'status N')."""
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(count):
        try:
            status, body = get(host, port)
            seen[body if status == 200 else f"status {status}"] += 1
        except OSError as exc:
            seen[f"error {type(exc).__name__}"] += 1
    return seen


@dataclass
class LoadResult:
    ok: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    names: collections.Counter[str] = field(default_factory=collections.Counter)


class LoadLoop:
    """Client threads GETting the VIP until stopped or `max_seconds` pass.

    Half the threads keep connections alive (reconnecting when HAProxy answers
    `Connection: close`), half open a connection per request: reloads must lose neither.
    """

    def __init__(self, host: str, port: int = 80, threads: int = 6, max_seconds: float = 120.0) -> None:
        self.host, self.port = host, port
        self.deadline = time.monotonic() + max_seconds
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i % 2 == 0,), daemon=True) for i in range(threads)
        ]

    def __enter__(self) -> LoadLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.result

    def _record(self, ok: bool, detail: str) -> None:
        with self._lock:
            if ok:
                self.result.ok += 1
                self.result.names[detail] += 1
            else:
                self.result.failed += 1
                if len(self.result.errors) < 20:
                    self.result.errors.append(detail)

    def _run(self, keep_alive: bool) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            try:
                conn.request("GET", "/", headers={"Host": "e2e"})
                response = conn.getresponse()
                body = response.read().decode(errors="replace")
                self._record(response.status == 200, body if response.status == 200 else
                             f"HTTP {response.status}: {body[:200]}")
            except (OSError, http.client.HTTPException) as exc:
                self._record(False, f"{type(exc).__name__}: {exc}")
                conn.close()
            if not keep_alive:
                conn.close()
        conn.close()

