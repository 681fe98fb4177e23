"""The all-in-one as a user starts it: its own process, a config file, a loopback port.

Shared by the client tests and `bench/api.py`, so both measure and exercise the
service exactly as deployed (uvicorn, the driver agent, the worker) rather than an
in-process TestClient. Everything lives in one temporary state directory: SQLite
database, driver-agent sockets, CA, log.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Noop data plane everywhere: `noop_driver` is the default provider, and the
# `amphora` provider (which the amphora commands need) builds amphorae with the
# noop compute/network/amphora drivers.
BASE_OPTIONS: dict[str, dict[str, str]] = {
    "api_settings": {
        "bind_host": "127.0.0.1",
        "auth_strategy": "noauth",
        "default_provider_driver": "noop_driver",
    },
    "controller_worker": {
        "network_driver": "network_noop_driver",
        "compute_driver": "compute_noop_driver",
        "amphora_driver": "amphora_noop_driver",
        "amp_active_wait_sec": "0.01",
    },
    "health_manager": {"bind_ip": "127.0.0.1"},
}


@dataclass(frozen=True)
class Service:
    url: str
    state_path: Path
    log_path: Path
    pid: int
    heartbeat_port: int
    heartbeat_key: str


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(state_path: Path, port: int, heartbeat_port: int, heartbeat_key: str,
                 extra: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    groups: dict[str, dict[str, str]] = {"DEFAULT": {"state_path": str(state_path)}}
    for source in (BASE_OPTIONS, extra or {}):
        for group, values in source.items():
            groups.setdefault(group, {}).update(values)
    groups["api_settings"]["bind_port"] = str(port)
    groups["health_manager"].update(bind_port=str(heartbeat_port), heartbeat_key=heartbeat_key)
    text = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items()) + "\n"
        for group, values in groups.items()
    )
    path = state_path / "octavia.conf"
    path.write_text(text)
    return path


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the all-in-one exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the all-in-one did not answer GET / within {timeout} s:\n{_tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def running_service(
    state_path: Path, extra: Mapping[str, Mapping[str, str]] | None = None, timeout: float = 90.0
) -> Iterator[Service]:
    """`python -m octavia.cmd.all_in_one --config-file <state>/octavia.conf`, stopped on exit."""
    state_path.mkdir(parents=True, exist_ok=True)
    port, heartbeat_port = free_port(), free_port(socket.SOCK_DGRAM)
    heartbeat_key = secrets.token_hex(16)
    conf = write_config(state_path, port, heartbeat_port, heartbeat_key, extra)
    log_path = state_path / "service.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OCTAVIA_"))}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "octavia.cmd.all_in_one", "--config-file", str(conf)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(state_path),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc, log_path, timeout)
        yield Service(url=url, state_path=state_path, log_path=log_path, pid=proc.pid,
                      heartbeat_port=heartbeat_port, heartbeat_key=heartbeat_key)
    finally:
        _stop(proc)
