"""Amphora side of health: read HAProxy's stats sockets and send signed UDP heartbeats.

Each load balancer's HAProxy has `{base_path}/{lb_id}/haproxy.sock`. Frontends,
backends and servers are named after listener, pool and member ids; the three
small `*_from_*` functions below are the only place that knows the naming.
Counters are kept growing across HAProxy reloads (a reload starts a worker with
zeroed counters) by folding the old worker's last values into a base.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg

from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.log_throttle import LogThrottle

LOG = logging.getLogger(__name__)

SOCKET_NAME = "haproxy.sock"
SOCKET_TIMEOUT = 2.0
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
GAUGES = ("active_connections",)


def _first_uuid(name: str) -> str | None:
    match = _UUID.search(name)
    return match.group(0).lower() if match else None


def listener_id_from_frontend(name: str) -> str | None:
    """Frontends are named by listener id; other frontends (stats, prometheus) have none."""
    return _first_uuid(name)


def pool_id_from_backend(name: str) -> str | None:
    """Backends are `<pool_id>` or `<pool_id>:<listener_id>`: the pool id comes first."""
    return _first_uuid(name)


def member_id_from_server(name: str) -> str | None:
    return _first_uuid(name)


def member_status(raw: str) -> str:
    """HAProxy server status ("UP 1/3", "MAINT (via x)", "NOLB", ...) to a heartbeat member status."""
    word = raw.strip()
    if word.lower().startswith("no check"):
        return hb.MEMBER_NO_CHECK
    head = word.split(" ", 1)[0].upper()
    if head == "UP":
        return hb.MEMBER_UP
    if head in ("DRAIN", "NOLB"):
        return hb.MEMBER_DRAIN
    if head == "MAINT":
        return hb.MEMBER_MAINT
    return hb.MEMBER_DOWN


def query_stats_socket(path: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(SOCKET_TIMEOUT)
        sock.connect(path)
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@dataclass
class HaproxyStatus:
    """One HAProxy process: its worker pid (changes on reload) and what it reports."""

    pid: int | None = None
    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def parse_info_and_stat(text: str) -> HaproxyStatus:
    """Parse the answer to `show info;show stat`."""
    result = HaproxyStatus()
    info, _, stat = text.partition("# pxname")
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Pid":
            result.pid = _int(value.strip())
    for row in csv.DictReader(io.StringIO("pxname" + stat)):
        _add_row(result, row)
    return result


def _add_row(result: HaproxyStatus, row: dict[str, str]) -> None:
    pxname, svname, status = row.get("pxname") or "", row.get("svname") or "", row.get("status") or ""
    if svname == "FRONTEND":
        lid = listener_id_from_frontend(pxname)
        if lid is None or status not in hb.LISTENER_STATUSES:
            return  # STOP: not serving, reported as missing
        counters = {
            "bytes_in": _int(row.get("bin")),
            "bytes_out": _int(row.get("bout")),
            "active_connections": _int(row.get("scur")),
            "total_connections": _int(row.get("stot")),
            "request_errors": _int(row.get("ereq")),
        }
        entry = result.listeners.setdefault(lid, {"status": status, "stats": dict.fromkeys(counters, 0)})
        if status == hb.LISTENER_FULL:
            entry["status"] = status
        for name, value in counters.items():
            entry["stats"][name] += value
        return
    pid = pool_id_from_backend(pxname)
    if pid is None:
        return
    pool = result.pools.setdefault(pid, {"status": hb.POOL_DOWN, "members": {}})
    if svname == "BACKEND":
        if status.upper().startswith("UP"):
            pool["status"] = hb.POOL_UP
        return
    mid = member_id_from_server(svname)
    if mid is not None:
        pool["members"].setdefault(mid, member_status(status))


def lb_socket_paths(base_path: str) -> dict[str, str]:
    """lb_id -> stats socket path, for every LB directory that has a socket."""
    paths = {}
    try:
        entries = sorted(os.listdir(base_path))
    except FileNotFoundError:
        return {}
    for name in entries:
        path = os.path.join(base_path, name, SOCKET_NAME)
        if os.path.exists(path):
            paths[name] = path
    return paths


def read_haproxy(path: str) -> HaproxyStatus | None:
    try:
        return parse_info_and_stat(query_stats_socket(path, "show info;show stat"))
    except OSError as exc:
        LOG.debug("HAProxy stats socket %s unreadable: %s", path, exc)
        return None


class CounterAccumulator:
    """Keeps counters growing across HAProxy reloads; gauges pass through unchanged."""

    def __init__(self) -> None:
        self._pid: dict[str, int | None] = {}
        self._base: dict[str, dict[str, int]] = {}
        self._last: dict[str, dict[str, int]] = {}

    def apply(self, lb_id: str, status: HaproxyStatus) -> None:
        restarted = lb_id in self._pid and self._pid[lb_id] != status.pid
        self._pid[lb_id] = status.pid
        for lid, entry in status.listeners.items():
            current = entry["stats"]
            last = self._last.get(lid, {})
            base = self._base.setdefault(lid, dict.fromkeys(hb.COUNTER_NAMES, 0))
            for name in hb.COUNTER_NAMES:
                if name in GAUGES:
                    continue
                if restarted or current[name] < last.get(name, 0):
                    base[name] += last.get(name, 0)
            self._last[lid] = dict(current)
            entry["stats"] = {
                name: current[name] + (0 if name in GAUGES else base[name]) for name in hb.COUNTER_NAMES
            }


def collect_status(base_path: str, counters: CounterAccumulator | None = None) -> dict[str, Any]:
    """{"listeners": {id: {"status", "stats"}}, "pools": {id: {"status", "members"}}} of every LB.

    Without `counters`, listener counters are what HAProxy reports now; with them,
    they also include what earlier (reloaded) HAProxy workers counted.
    """
    merged: dict[str, Any] = {"listeners": {}, "pools": {}}
    for lb_id, path in lb_socket_paths(base_path).items():
        status = read_haproxy(path)
        if status is None:
            continue
        if counters is not None:
            counters.apply(lb_id, status)
        merged["listeners"].update(status.listeners)
        merged["pools"].update(status.pools)
    return merged


def build_heartbeat(amphora_id: str, seq: int, status: dict[str, Any], now: float) -> hb.Heartbeat:
    return hb.Heartbeat(
        amphora_id=amphora_id,
        seq=seq,
        timestamp=now,
        listeners={
            lid: hb.ListenerReport(status=entry["status"], **entry["stats"])
            for lid, entry in status["listeners"].items()
        },
        pools={
            pid: hb.PoolReport(status=entry["status"], members=dict(entry["members"]))
            for pid, entry in status["pools"].items()
        },
    )


def parse_destination(text: str) -> tuple[str, int]:
    """"ip:port" or "[v6]:port" to a sendto address."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"controller address {text!r} is not ip:port")
    return host.strip("[]"), int(port)


def _agent_option(conf: cfg.ConfigOpts, name: str, default: Any = None) -> Any:
    try:
        return getattr(conf.amphora_agent, name)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return default


def agent_base_path(conf: cfg.ConfigOpts) -> str:
    path = _agent_option(conf, "base_path") or conf.haproxy_amphora.base_path
    return str(path or os.path.join(conf.state_path, "amphorae"))


class HeartbeatSender(threading.Thread):
    """Every `interval` seconds: collect, sign, send to each controller. Never raises out."""

    def __init__(
        self,
        amphora_id: str,
        base_path: str,
        key: bytes,
        destinations: list[tuple[str, int]],
        interval: float,
        silent: Callable[[], bool] | None = None,
    ) -> None:
        """`silent()` True skips heartbeats: an amphora that knows it cannot serve (its
        VRRP interface is down) goes quiet so that the health manager replaces it."""
        super().__init__(name="heartbeat-sender", daemon=True)
        self.amphora_id = amphora_id
        self._silent = silent
        self.base_path = base_path
        self.interval = interval
        self._key = key
        self._destinations = destinations
        # Starting at wall-clock milliseconds keeps seq increasing across agent restarts.
        self._seq = int(time.time() * 1000)
        self._counters = CounterAccumulator()
        self._stop_event = threading.Event()
        self._throttle = LogThrottle(window=max(interval, 1.0) * 6)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

    def next_packet(self) -> bytes:
        self._seq += 1
        status = collect_status(self.base_path, self._counters)
        return hb.encode(build_heartbeat(self.amphora_id, self._seq, status, time.time()), self._key)

    def send_once(self, sockets: dict[socket.AddressFamily, socket.socket]) -> None:
        packet = self.next_packet()
        for dest in self._destinations:
            try:
                sockets[_family(dest[0])].sendto(packet, dest)
            except OSError as exc:
                if self._throttle.allow(dest):
                    LOG.warning("Heartbeat to %s:%d failed: %s", dest[0], dest[1], exc)

    def run(self) -> None:
        families = {_family(host) for host, _ in self._destinations}
        sockets = {family: socket.socket(family, socket.SOCK_DGRAM) for family in families}
        try:
            while True:
                started = time.monotonic()
                try:
                    if self._silent is None or not self._silent():
                        self.send_once(sockets)
                except Exception:
                    if self._throttle.allow("error"):
                        LOG.exception("Heartbeat failed")
                if self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - started))):
                    return
        finally:
            for sock in sockets.values():
                sock.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def start(conf: cfg.ConfigOpts, silent: Callable[[], bool] | None = None) -> HeartbeatSender:
    """Start heartbeats for the amphora this agent runs (called by the agent's main)."""
    amphora_id = _agent_option(conf, "amphora_id")
    if not amphora_id:
        raise ValueError("[amphora_agent] amphora_id is not set: cannot send heartbeats")
    hm = conf.health_manager
    sender = HeartbeatSender(
        amphora_id=str(amphora_id),
        base_path=agent_base_path(conf),
        key=str(hm.heartbeat_key).encode(),
        destinations=[parse_destination(item) for item in hm.controller_ip_port_list],
        interval=float(hm.heartbeat_interval),
        silent=silent,
    )
    sender.start()
    return sender
