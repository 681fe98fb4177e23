"""A pre-started amphora agent process, so that a new amphora answers without waiting
for Python to start and import the agent.

Starting the agent costs a Python start plus ~0.3 s of CPU for imports (more on a busy
host), on the critical path of every load balancer create. The local compute driver
therefore keeps one spare: a process that has already imported the agent (and, in
netns mode, the netlink library it uses to plug networks) and waits on a UNIX socket.
`take()` hands it an amphora: the spare enters the amphora's network namespace, moves
into its directory, sends its output to the amphora's log, replies with its pid and
runs the agent's `main(argv)`. A fresh spare is started for the next amphora.

A spare runs in its own session like a cold-started agent; its command line names its
spare directory, which the compute driver records as the marker that guards the pid
against reuse. A spare whose controller went away exits (it polls its parent pid).

    python -m octavia.compute.warm_agent <spare_dir> <agent_module> [<preload_module> ...]
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

SOCKET_NAME = "activate.sock"
SPARE_LOG = "spare.log"
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
PARENT_POLL_S = 0.5
ACTIVATION_TIMEOUT_S = 5.0


@dataclass
class StartedAgent:
    pid: int
    marker: str


class WarmAgents:
    """The compute driver's side: one spare agent at a time, replaced when taken."""

    def __init__(self, root: str, agent_module: str, preload: Sequence[str] = ()) -> None:
        self.root = os.path.join(root, ".spares")
        self.agent_module = agent_module
        self.preload = list(preload)
        self._lock = threading.Lock()
        self._spare: tuple[subprocess.Popen[bytes], str] | None = None

    def start_spare(self) -> None:
        """Start a spare unless one is already waiting or starting."""
        with self._lock:
            if self._spare is not None and self._spare[0].poll() is None:
                return
            self._spare = self._spawn()

    def _spawn(self) -> tuple[subprocess.Popen[bytes], str]:
        spare_dir = os.path.join(self.root, uuid.uuid4().hex)
        os.makedirs(spare_dir, mode=0o700)
        argv = [sys.executable, "-m", __name__, spare_dir, self.agent_module, *self.preload]
        with open(os.path.join(spare_dir, SPARE_LOG), "ab") as log:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=spare_dir, start_new_session=True, close_fds=True)
        return process, spare_dir

    def take(self, argv: Sequence[str], namespace: str | None, log_path: str, cwd: str,
             wait: float = ACTIVATION_TIMEOUT_S) -> StartedAgent | None:
        """Turn the spare into the amphora's agent; None when there is no usable spare
        (the caller starts the agent cold). A new spare is started either way."""
        with self._lock:
            spare, self._spare = self._spare, None
        try:
            if spare is None:
                return None
            process, spare_dir = spare
            try:
                pid = _activate(process, spare_dir, {"argv": list(argv), "namespace": namespace,
                                                    "log_path": log_path, "cwd": cwd}, wait)
            except (OSError, ValueError, RuntimeError) as exc:
                LOG.warning("spare agent %s unusable (%s); starting the agent cold", process.pid, exc)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                shutil.rmtree(spare_dir, ignore_errors=True)
                return None
            return StartedAgent(pid, spare_dir)
        finally:
            self.start_spare()

    def stop(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare[0].terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                spare[0].wait(timeout=5)
            shutil.rmtree(spare[1], ignore_errors=True)


def _activate(process: subprocess.Popen[bytes], spare_dir: str, request: dict[str, object],
              wait: float) -> int:
    path = os.path.join(spare_dir, SOCKET_NAME)
    deadline = time.monotonic() + wait
    while not os.path.exists(path):
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError("not ready in time")
        time.sleep(0.005)
    directory = os.open(spare_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(max(0.5, deadline - time.monotonic()))
            # UNIX socket paths are limited to 107 bytes; the directory's fd names it in a few.
            sock.connect(f"/proc/self/fd/{directory}/{SOCKET_NAME}")
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = json.loads(sock.makefile("rb").readline() or b"{}")
    finally:
        os.close(directory)
    if "pid" not in reply:
        raise RuntimeError(str(reply.get("error", "no reply")))
    return int(reply["pid"])


# --- the spare process ---------------------------------------------------------------


def _enter_namespace(namespace: str) -> None:
    """setns(2) into a named network namespace (Python 3.11 has no os.setns)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join(NETNS_DIR, namespace), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns {namespace}: {os.strerror(errno)}")
    finally:
        os.close(fd)


def _become(request: dict[str, object]) -> None:
    """Take the amphora's place: namespace, directory and log (stdout and stderr)."""
    if request.get("namespace"):
        _enter_namespace(str(request["namespace"]))
    os.chdir(str(request["cwd"]))
    log = os.open(str(request["log_path"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for fd in (1, 2):
        os.dup2(log, fd)
    os.close(log)


def _wait_for_amphora(listener: socket.socket, parent: int) -> tuple[socket.socket, dict[str, Any]]:
    listener.settimeout(PARENT_POLL_S)
    while True:
        if os.getppid() != parent:
            raise SystemExit(0)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(ACTIVATION_TIMEOUT_S)
        line = conn.makefile("rb").readline()
        try:
            return conn, dict(json.loads(line))
        except ValueError:
            conn.close()


def serve(spare_dir: str, agent_module: str, preload: Sequence[str]) -> int:
    parent = os.getppid()
    agent = importlib.import_module(agent_module)
    for name in preload:
        importlib.import_module(name)
    os.chdir(spare_dir)  # bound by relative name: UNIX socket paths are limited to 107 bytes
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(SOCKET_NAME + ".tmp")
            listener.listen(1)
            os.replace(SOCKET_NAME + ".tmp", SOCKET_NAME)
            conn, request = _wait_for_amphora(listener, parent)
    except BaseException:
        shutil.rmtree(spare_dir, ignore_errors=True)
        raise
    with conn:
        try:
            _become(request)
        except OSError as exc:
            conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
            return 1
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    shutil.rmtree(spare_dir, ignore_errors=True)
    result = agent.main([str(arg) for arg in request["argv"]])
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], sys.argv[2], sys.argv[3:]))
