"""Real database outages a test can start and end: a SQLite write lock held by another
process, or a TCP proxy between the service and its database server (PostgreSQL, MySQL) that
the test cuts.

Both are what production sees: another process (a backup, a migration, a stuck
writer) holding SQLite's write lock, or the network path to the database server gone.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import subprocess
import sys
import threading
from typing import Protocol

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


class Outage(Protocol):
    name: str

    def cut(self) -> None: ...

    def restore(self) -> None: ...

    def close(self) -> None: ...


class SqliteWriteLock:
    """Another process holds `BEGIN EXCLUSIVE` on the database file until `restore()`.

    In WAL mode readers keep reading; every writer waits the busy timeout, then fails
    with "database is locked".
    """

    name = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._holder: subprocess.Popen[str] | None = None

    def cut(self) -> None:
        self._holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, self.path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._holder.stdout is not None
        line = self._holder.stdout.readline()
        if line.strip() != "locked":
            self.restore()
            raise RuntimeError(f"the lock holder did not take the lock: {line!r}")

    def restore(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        assert holder.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            holder.stdin.close()
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()

    def close(self) -> None:
        self.restore()


class CuttableProxy:
    """A loopback TCP proxy to `target`; `cut()` drops every connection and refuses new
    ones (the port is closed), `restore()` listens on the same port again."""

    def __init__(self, target_host: str, target_port: int, name: str = "postgresql") -> None:
        self.name = name
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.restore()

    def _listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        return listener

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            self._listener = self._listen()
            self._thread = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
            self._thread.start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select():
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            with self._lock:
                if (client, upstream) in self._pairs:
                    self._pairs.remove((client, upstream))
            client.close()
            upstream.close()
