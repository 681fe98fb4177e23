"""octavia-lib's wire format: `<decimal length>\\n<JSON of that many bytes>`, both ways.

One request and one reply per connection. Reads are bounded in size and time so a
misbehaving client can cost a handler thread at most `FRAME_TIMEOUT` seconds.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

MAX_HEADER_BYTES = 20
MAX_FRAME_BYTES = 64 * 1024 * 1024
FRAME_TIMEOUT = 30.0


class FrameError(Exception):
    """The peer sent something that is not one well-formed frame."""


def read_frame(sock: socket.socket, timeout: float = FRAME_TIMEOUT) -> Any:
    """Read one frame and return its decoded JSON value."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while b"\n" not in buf:
        if len(buf) > MAX_HEADER_BYTES:
            raise FrameError("Frame header is not a length followed by a newline.")
        buf += _recv(sock, deadline)
    header, _, rest = bytes(buf).partition(b"\n")
    try:
        size = int(header)
    except ValueError:
        raise FrameError(f"Frame length {header[:MAX_HEADER_BYTES]!r} is not a number.") from None
    if size < 0 or size > MAX_FRAME_BYTES:
        raise FrameError(f"Frame length {size} is out of range.")
    payload = bytearray(rest)
    while len(payload) < size:
        payload += _recv(sock, deadline)
    if len(payload) > size:
        raise FrameError("More bytes than the frame length announced.")
    try:
        return json.loads(bytes(payload))
    except ValueError as exc:
        raise FrameError(f"Frame is not valid JSON: {exc}") from None


def write_frame(sock: socket.socket, value: Any) -> None:
    data = json.dumps(value).encode("utf-8")
    sock.sendall(f"{len(data)}\n".encode() + data)


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FrameError("Timed out reading the frame.")
    sock.settimeout(remaining)
    try:
        chunk = sock.recv(65536)
    except TimeoutError:
        raise FrameError("Timed out reading the frame.") from None
    if not chunk:
        raise FrameError("Connection closed before the frame was complete.")
    return chunk
