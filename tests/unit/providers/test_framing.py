"""octavia-lib's length-prefixed JSON frames, read and written over a socket pair."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from octavia.providers.driver_agent import framing


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_round_trip(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    framing.write_frame(a, {"loadbalancers": [{"id": "x", "provisioning_status": "ACTIVE"}]})
    assert framing.read_frame(b) == {"loadbalancers": [{"id": "x", "provisioning_status": "ACTIVE"}]}


def test_header_and_body_in_separate_writes(pair: tuple[socket.socket, socket.socket]) -> None:
    """octavia-lib sends the length with send() and the JSON with sendall()."""
    a, b = pair
    a.send(b"11\n")
    a.sendall(b'{"id": "x"}')
    assert framing.read_frame(b) == {"id": "x"}


def test_large_frame(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    value = {"members": [{"id": str(i), "provisioning_status": "ACTIVE"} for i in range(3000)]}
    writer = threading.Thread(target=framing.write_frame, args=(a, value))
    writer.start()
    assert framing.read_frame(b) == value
    writer.join()


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"abc\n{}", "is not a number"),
        (b"-1\n", "out of range"),
        (b"%d\n" % (framing.MAX_FRAME_BYTES + 1), "out of range"),
        (b"9999999999999999999999999", "not a length followed by a newline"),
        (b"5\nnope!", "not valid JSON"),
        (b"2\n{}}", "More bytes"),
    ],
)
def test_malformed_frames(pair: tuple[socket.socket, socket.socket], raw: bytes, reason: str) -> None:
    a, b = pair
    a.sendall(raw)
    with pytest.raises(framing.FrameError, match=reason):
        framing.read_frame(b, timeout=0.5)


def test_peer_closing_early(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.sendall(b"10\n{")
    a.close()
    with pytest.raises(framing.FrameError, match="closed"):
        framing.read_frame(b, timeout=0.5)


def test_silent_peer_times_out(pair: tuple[socket.socket, socket.socket]) -> None:
    _, b = pair
    with pytest.raises(framing.FrameError, match="Timed out"):
        framing.read_frame(b, timeout=0.05)
