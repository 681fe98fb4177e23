"""Starting and ending the process tree of a local amphora.

An amphora's agent runs detached (its own session, so it survives a controller
restart and its HAProxy children share its process group). Ending an amphora must
leave nothing behind, even processes that left the group: so the victims are the
agent's group, every process in the amphora's namespace, and every process whose
command line names the amphora's directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence

TERM_GRACE_S = 3.0
KILL_GRACE_S = 2.0
_POLL_S = 0.02
_EXEC_RETRIES = 10


def start_detached(argv: Sequence[str], log_path: str, pid_path: str, cwd: str) -> int:
    """Start argv in a new session with stdout/stderr to log_path; record its pid."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    with open(pid_path, "w") as f:
        f.write(f"{proc.pid}\n")
    return proc.pid


def read_pid(pid_path: str) -> int | None:
    try:
        with open(pid_path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _proc_read(pid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _state_and_pgid(pid: int) -> tuple[str, int] | None:
    stat = _proc_read(pid, "stat").decode(errors="replace")
    if not stat:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[2])


def is_running(pid: int | None, marker: str) -> bool:
    """True if pid is a live (not zombie) process whose command line contains marker,
    which guards against a recycled pid."""
    if not pid:
        return False
    info = _state_and_pgid(pid)
    if info is None or info[0] in ("Z", "X"):
        reap(pid)
        return False
    cmdline = _proc_read(pid, "cmdline")
    for _ in range(_EXEC_RETRIES):
        if cmdline:
            break
        time.sleep(_POLL_S)  # empty while the process is inside execve()
        cmdline = _proc_read(pid, "cmdline")
    return marker.encode() in cmdline


def reap(pid: int) -> None:
    """Collect the exit status of a child of ours so it does not stay a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def processes_of(group_leader: int | None, path_marker: str, extra: Iterable[int] = ()) -> set[int]:
    """The agent's process group, processes naming path_marker, and the extra pids."""
    me = os.getpid()
    found = set(extra)
    needle = path_marker.encode()
    for pid in _all_pids():
        if pid == me:
            continue
        info = _state_and_pgid(pid)
        if info is None or info[0] in ("Z", "X"):
            continue
        if group_leader and info[1] == group_leader:
            found.add(pid)
        elif needle and needle in _proc_read(pid, "cmdline"):
            found.add(pid)
    found.discard(me)
    return found


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            reap(pid)
            info = _state_and_pgid(pid)
            if info is None or info[0] in ("Z", "X"):
                pids.discard(pid)
        if pids:
            time.sleep(_POLL_S)
    return pids


def terminate(pids: Iterable[int]) -> set[int]:
    """SIGTERM, then SIGKILL what is left; returns pids that still would not die."""
    remaining = set(pids)
    _signal_all(remaining, signal.SIGTERM)
    remaining = _wait_gone(remaining, TERM_GRACE_S)
    if remaining:
        _signal_all(remaining, signal.SIGKILL)
        remaining = _wait_gone(remaining, KILL_GRACE_S)
    return remaining


def log_tail(log_path: str, max_bytes: int = 2000) -> str:
    try:
        with open(log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""
