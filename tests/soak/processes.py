"""What a soak watches on the host: memory and open files of processes, network
namespaces, amphora directories."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Usage:
    rss_kib: int
    fds: int
    processes: int

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.rss_kib + other.rss_kib, self.fds + other.fds, self.processes + other.processes)


NOTHING = Usage(0, 0, 0)


def usage(pid: int) -> Usage:
    """Resident memory and open file descriptors of one live process (NOTHING if gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            rss = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return NOTHING
    return Usage(rss, fds, 1)


def total(pids: list[int]) -> Usage:
    result = NOTHING
    for pid in pids:
        result = result + usage(pid)
    return result


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def amphora_directories(state_path: Path) -> set[str]:
    root = state_path / "amphorae"
    return {name for name in os.listdir(root) if not name.startswith(".")} if root.is_dir() else set()
