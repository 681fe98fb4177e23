"""The driver agent: three unix-socket servers speaking octavia-lib's driver protocol.

* status: `update_loadbalancer_status` messages -> provisioning/operating status in the DB
* stats:  `update_listener_statistics` messages -> ListenerStatistics rows
* get:    `get_loadbalancer` & co. -> provider data models read from the DB

Each connection carries one request and one reply and is served on its own thread,
so a slow database write never blocks a provider's get.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

from octavia.providers.agent_client import SocketPaths, socket_paths
from octavia.providers.driver_agent import framing
from octavia.providers.driver_agent.get_requests import answer_get
from octavia.providers.driver_agent.stats_updates import apply_stats_update
from octavia.providers.driver_agent.status_updates import apply_status_update

LOG = logging.getLogger(__name__)

SOCKET_MODE = 0o660
# How often an idle server checks for shutdown; bounds how long stop() takes.
POLL_INTERVAL = 0.05
MAX_SOCKET_PATH_BYTES = 107  # sun_path is 108 bytes including the NUL

Processor = Callable[[Any], dict[str, Any]]
FaultReply = Callable[[str], dict[str, Any]]


BACKLOG = 1024


class _Handler(socketserver.BaseRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        try:
            request = framing.read_frame(self.request)
        except framing.FrameError as exc:
            LOG.warning("%s socket: bad request frame: %s", self.server.name, exc)
            reply = self.server.on_bad_frame(str(exc))
        else:
            try:
                reply = self.server.process(request)
            except Exception:
                LOG.exception("%s socket: processing a request failed", self.server.name)
                reply = self.server.on_bad_frame("The driver agent failed to process the request.")
        with contextlib.suppress(OSError):
            self.request.settimeout(framing.FRAME_TIMEOUT)
            framing.write_frame(self.request, reply)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    # octavia-lib's clients connect with a timeout, which makes a connect to a full
    # backlog fail at once (EAGAIN) instead of waiting: socketserver's default of 5
    # pending connections lost status updates when many operations completed together.
    request_queue_size = BACKLOG

    def __init__(self, name: str, path: str, process: Processor, on_bad_frame: FaultReply) -> None:
        self.name = name
        self.path = path
        self.process = process
        self.on_bad_frame = on_bad_frame
        _claim_socket_path(path)
        super().__init__(path, _Handler)
        os.chmod(path, SOCKET_MODE)


def _status_error(fault: str) -> dict[str, Any]:
    return {"status_code": 500, "fault_string": fault}


def _claim_socket_path(path: str) -> None:
    """Remove a stale socket file; refuse to steal one another live agent is serving."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise RuntimeError(
            f"Socket path {path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; "
            "use a shorter state_path or set the [driver_agent] *_socket_path options."
        )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if not os.path.exists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise RuntimeError(f"Another driver agent is already serving {path}.")
    finally:
        probe.close()


class DriverAgent:
    """The three servers, each on its own thread; `stop()` closes them and removes the files."""

    def __init__(self, paths: SocketPaths) -> None:
        self.paths = paths
        self._serving: list[tuple[_UnixServer, threading.Thread]] = []

    def start(self) -> None:
        specs: tuple[tuple[str, str, Processor, FaultReply], ...] = (
            ("status", self.paths.status, apply_status_update, _status_error),
            ("stats", self.paths.stats, apply_stats_update, _status_error),
            ("get", self.paths.get, answer_get, lambda _fault: {}),
        )
        try:
            for name, path, process, on_bad_frame in specs:
                server = _UnixServer(name, path, process, on_bad_frame)
                thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                    name=f"driver-agent-{name}", daemon=True,
                )
                try:
                    thread.start()
                except Exception:
                    _close(server)
                    raise
                self._serving.append((server, thread))
        except Exception:
            self.stop()
            raise
        LOG.info("Driver agent listening on %s, %s, %s", *self.paths)

    @property
    def running(self) -> bool:
        return bool(self._serving) and all(t.is_alive() for _, t in self._serving)

    def stop(self) -> None:
        global _agent
        # shutdown() waits up to POLL_INTERVAL for its loop: stop the three in parallel.
        stoppers = [threading.Thread(target=server.shutdown) for server, _ in self._serving]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server, thread in self._serving:
            thread.join(timeout=5)
            _close(server)
        self._serving.clear()
        with _agent_lock:
            if _agent is self:
                _agent = None


def _close(server: _UnixServer) -> None:
    server.server_close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(server.path)


_agent_lock = threading.RLock()
_agent: DriverAgent | None = None


def start_driver_agent() -> DriverAgent:
    """Start the process's driver agent on the configured sockets, or return the running one.

    If the configuration now names other socket paths (tests switching state_path), the
    old agent is stopped and a new one started on the new paths.
    """
    global _agent
    paths = socket_paths()
    with _agent_lock:
        if _agent is not None:
            if _agent.paths == paths and _agent.running:
                return _agent
            _agent.stop()
        agent = DriverAgent(paths)
        agent.start()
        _agent = agent
        return agent
