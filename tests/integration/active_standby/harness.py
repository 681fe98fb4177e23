"""An all-in-one tuned for fast failover, a 10 ms probe that measures loss windows, and
the ways an amphora is broken on purpose (HAProxy, agent or keepalived killed, VRRP
link down, namespace deleted). Shared with tests/integration/failover and bench/failover.py.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from octavia.network import netns
from tests.integration.e2e.harness import AllInOne, wait_for

PROBE_INTERVAL_S = 0.01
PROBE_TIMEOUT_S = 0.1
# Tuned heartbeats: a silent amphora is failed over about 2.5 s after its last heartbeat.
FAST_HEALTH = {"heartbeat_interval": "0.5", "heartbeat_timeout": "2", "health_check_interval": "0.5"}


class TunedAllInOne(AllInOne):
    """The e2e all-in-one with fast heartbeats and, optionally, ACTIVE_STANDBY by default."""

    def __init__(self, root: Path, mode: str, topology: str = "SINGLE") -> None:
        super().__init__(root, mode)
        self.topology = topology

    def write_config(self) -> Path:
        path = super().write_config()
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(path)
        conf["controller_worker"]["loadbalancer_topology"] = self.topology
        for name, value in FAST_HEALTH.items():
            conf["health_manager"][name] = value
        with open(path, "w") as handle:
            conf.write(handle)
        return path

    def amphora_dir(self, amphora_id: str) -> Path:
        return self.state_path / "amphorae" / amphora_id


# --- the probe ----------------------------------------------------------------------------


@dataclass
class ProbeResult:
    ok: int = 0
    failed: int = 0
    successes: list[float] = field(default_factory=list)

    def loss_window(self, since: float, until: float) -> float:
        """Longest time without a successful answer in [since, until], less one probe
        interval (the gap between two healthy probes)."""
        times = [since] + [t for t in self.successes if since <= t <= until] + [until]
        return max(0.0, max(b - a for a, b in zip(times, times[1:], strict=False)) - PROBE_INTERVAL_S)


class Probe:
    """One HTTP GET on a new connection every 10 ms, bounded in time."""

    def __init__(self, host: str, port: int = 80, max_seconds: float = 120.0) -> None:
        self.host, self.port = host, port
        self.deadline = time.monotonic() + max_seconds
        self.result = ProbeResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> ProbeResult:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.result

    def _once(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=PROBE_TIMEOUT_S) as sock:
                sock.settimeout(PROBE_TIMEOUT_S)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                return sock.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            started = time.monotonic()
            if self._once():
                self.result.ok += 1
                self.result.successes.append(time.monotonic())
            else:
                self.result.failed += 1
            self._stop.wait(max(0.0, PROBE_INTERVAL_S - (time.monotonic() - started)))

    def measure(self, break_it: Any, settle: float) -> float:
        """Run `break_it()`, keep probing `settle` seconds, return the loss window."""
        assert self._thread.is_alive(), "the probe is not running"
        since = time.monotonic()
        break_it()
        time.sleep(settle)
        return self.result.loss_window(since, time.monotonic())


# --- amphorae seen from the host ------------------------------------------------------------


def namespace(amphora_id: str) -> str:
    return netns.namespace_name(amphora_id)


def holds_address(amphora_id: str, address: str) -> bool:
    out = netns.run(["-j", "addr", "show"], namespace=namespace(amphora_id), check=False)
    for link in json.loads(out or "[]"):
        if any(info.get("local") == address for info in link.get("addr_info", [])):
            return True
    return False


def vip_holders(amphora_ids: list[str], vip: str) -> list[str]:
    return [amphora_id for amphora_id in amphora_ids if holds_address(amphora_id, vip)]


def _pids_naming(text: str, program: str) -> list[int]:
    needle = text.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            if argv and os.path.basename(argv[0]) == program.encode() and any(needle in arg for arg in argv):
                found.append(int(entry))
    return found


def _kill(pids: list[int]) -> None:
    assert pids, "nothing to kill"
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def haproxy_pids(amp_dir: Path) -> list[int]:
    return _pids_naming(str(amp_dir.resolve()), "haproxy")


def keepalived_pids(amp_dir: Path) -> list[int]:
    return _pids_naming(str(amp_dir.resolve()), "keepalived")


def kill_haproxy(amp_dir: Path) -> None:
    _kill(haproxy_pids(amp_dir))


def kill_agent(amp_dir: Path) -> None:
    _kill([int((amp_dir / "agent.pid").read_text())])


def kill_keepalived(amp_dir: Path) -> None:
    _kill(keepalived_pids(amp_dir))


def link_down(amphora_id: str, interface: str) -> None:
    netns.run(["link", "set", interface, "down"], namespace=namespace(amphora_id))


def destroy_namespace(amphora_id: str) -> None:
    """The amphora's whole namespace gone: every process in it killed, then the namespace."""
    name = namespace(amphora_id)
    with contextlib.suppress(netns.PlumbingError):
        _kill(netns.namespace_pids(name))
    netns.run(["netns", "delete", name], check=False)


def healthy_pair(aio: AllInOne, lb_id: str, vip: str, gone: str | None) -> list[str] | None:
    """The amphora ids, VIP holder first, when the LB is ACTIVE with two ALLOCATED
    amphorae (without `gone`), one holding the VIP, both running keepalived."""
    if aio.lb(lb_id)["provisioning_status"] != "ACTIVE":
        return None
    amphorae = aio.amphorae(lb_id)
    ids = [a["id"] for a in amphorae if a["status"] == "ALLOCATED"]
    if len(amphorae) != 2 or len(ids) != 2 or gone in ids:
        return None
    holders = vip_holders(ids, vip)
    if len(holders) != 1 or not all(keepalived_pids(aio.state_path / "amphorae" / i) for i in ids):
        return None
    return holders + [i for i in ids if i not in holders]


def wait_pair(aio: AllInOne, lb_id: str, vip: str, gone: str | None, timeout: float = 30.0) -> list[str]:
    found = wait_for(lambda: healthy_pair(aio, lb_id, vip, gone), timeout, interval=0.1)
    assert found, f"pair of {lb_id} not healthy: {aio.amphorae(lb_id)}\n{aio.log_tail()}"
    return list(found)
