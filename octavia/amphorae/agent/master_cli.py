"""HAProxy's master CLI (`-S master.sock`): commands and the `show proc` table.

The master CLI is how a reload is both triggered and verified: HAProxy 2.6 keeps the
old worker running when a reload fails, and only `show proc` (reload counter, failed
counter, worker pids) tells the two outcomes apart.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field

_MASTER_LINE = re.compile(r"^(\d+)\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?")
_WORKER_LINE = re.compile(r"^(\d+)\s+worker\s+(\d+)")


class MasterCLIError(OSError):
    """The master socket did not answer."""


@dataclass(frozen=True)
class ProcTable:
    """The part of `show proc` the agent needs."""

    master_pid: int
    reloads: int
    failed_reloads: int
    workers: dict[int, int] = field(default_factory=dict)
    """worker pid -> number of reloads it has survived (0 for the current generation)."""

    @property
    def current_workers(self) -> set[int]:
        return {pid for pid, reloads in self.workers.items() if reloads == 0}


def parse_show_proc(text: str) -> ProcTable:
    master: tuple[int, int, int] | None = None
    workers: dict[int, int] = {}
    for line in text.splitlines():
        line = line.strip()
        if match := _MASTER_LINE.match(line):
            master = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        elif match := _WORKER_LINE.match(line):
            workers[int(match.group(1))] = int(match.group(2))
    if master is None:
        raise MasterCLIError(f"unexpected 'show proc' output: {text[:200]!r}")
    return ProcTable(master_pid=master[0], reloads=master[1], failed_reloads=master[2], workers=workers)


def send_command(socket_path: str, command: str, timeout: float = 2.0) -> str:
    """Run one command on a master or stats socket; closing our write side makes HAProxy
    answer and hang up."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(command.encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
    except OSError as exc:
        raise MasterCLIError(f"master CLI {socket_path}: {exc}") from exc
    return b"".join(chunks).decode(errors="replace")


def show_proc(socket_path: str, timeout: float = 2.0) -> ProcTable:
    return parse_show_proc(send_command(socket_path, "show proc", timeout))
