"""Where the driver agent's sockets live, and a client of them for in-tree providers.

Third-party providers use octavia-lib's `DriverLibrary` unchanged. In-tree providers use
`DriverAgentClient`, the same class with one change: octavia-lib reads the reply one byte
at a time and sleeps 10 ms after each read, which makes every call cost ~30 ms. The
subclass reads the same length-prefixed JSON frame in bulk, so a status round trip costs
about a millisecond, and waits seconds rather than minutes for a missing agent; the
wire format and every public method stay octavia-lib's.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, NamedTuple

from octavia_lib.api.drivers import driver_lib
from octavia_lib.api.drivers import exceptions as lib_exceptions

from octavia.common import config

CONF = config.CONF

MAX_HEADER_BYTES = 20
AGENT_WAIT = 10.0


class SocketPaths(NamedTuple):
    status: str
    stats: str
    get: str


def socket_paths() -> SocketPaths:
    """The configured socket paths; an empty option means `<state_path>/<name>.sock`."""
    opts = CONF.driver_agent
    return SocketPaths(
        status=opts.status_socket_path or config.state_path("status.sock"),
        stats=opts.stats_socket_path or config.state_path("stats.sock"),
        get=opts.get_socket_path or config.state_path("get.sock"),
    )


class DriverAgentClient(driver_lib.DriverLibrary):
    """octavia-lib's DriverLibrary pointed at the configured sockets, with a bulk reader."""

    def __init__(self, paths: SocketPaths | None = None) -> None:
        paths = paths or socket_paths()
        super().__init__(status_socket=paths.status, stats_socket=paths.stats, get_socket=paths.get)

    def _check_for_socket_ready(self, path: str) -> None:
        """Wait up to AGENT_WAIT seconds for the socket (octavia-lib retries for minutes)."""
        deadline = time.monotonic() + AGENT_WAIT
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise lib_exceptions.DriverAgentNotFound(
                    fault_string=f"Unable to open the driver agent socket: {path}"
                )
            time.sleep(0.05)

    def _recv(self, sock: socket.socket) -> Any:
        deadline = time.monotonic() + driver_lib.DRIVER_AGENT_TIMEOUT
        buf = bytearray()
        while b"\n" not in buf:
            if len(buf) > MAX_HEADER_BYTES:
                raise lib_exceptions.DriverError(operator_fault_string="Malformed driver agent reply.")
            buf += _recv_some(sock, deadline)
        header, _, body = bytes(buf).partition(b"\n")
        size = int(header)
        payload = bytearray(body)
        while len(payload) < size:
            payload += _recv_some(sock, deadline)
        return json.loads(bytes(payload[:size]))


def _recv_some(sock: socket.socket, deadline: float) -> bytes:
    """One read; socket timeouts are retried until the agent's overall deadline."""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            chunk = None
        if chunk:
            return chunk
        if chunk == b"":
            raise lib_exceptions.DriverError(operator_fault_string="Driver agent closed the connection.")
        if time.monotonic() > deadline:
            raise lib_exceptions.DriverAgentTimeout(
                fault_string=f"The driver agent did not respond in {driver_lib.DRIVER_AGENT_TIMEOUT} seconds."
            )

