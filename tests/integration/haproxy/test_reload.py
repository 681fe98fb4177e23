"""The rendered global section makes master-worker reloads hitless, even with noreuseport."""

from __future__ import annotations

import http.client
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.render import render_haproxy_config
from tests.integration.haproxy.backends import NamedHttpServer
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy
from tests.unit.amphorae.haproxy import factory

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8081
RELOADS = 10
LOAD_S = 4.0


def _load(address: str, keep_alive: bool, stop: threading.Event, counts: dict[str, int]) -> None:
    connection = http.client.HTTPConnection(address, PORT, timeout=3)
    while not stop.is_set():
        try:
            connection.request("GET", "/")
            reply = connection.getresponse()
            reply.read()
            counts["ok" if reply.status == 200 else "errors"] += 1
        except (OSError, http.client.HTTPException) as exc:
            counts["errors"] += 1
            counts.setdefault(repr(exc), 0)
            counts[repr(exc)] += 1
            connection.close()
        if not keep_alive:
            connection.close()


def _weights(haproxy: RunningHaproxy) -> list[int]:
    lines = haproxy.command("show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    by_server = {
        row["svname"]: int(row["weight"]) for row in rows if row["svname"] not in ("FRONTEND", "BACKEND")
    }
    return [by_server[member.id] for member in haproxy.lb.pools[0].members]


def test_reloads_under_load_drop_nothing(
    addresses: Addresses, amp_base: Path, start_haproxy: Callable[..., RunningHaproxy]
) -> None:
    servers = [NamedHttpServer(f"m{index}", addresses.member(index), MEMBER_PORT) for index in range(2)]
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        pool = factory.pool(lb, listener=factory.listener(lb, port=PORT))
        members = [factory.member(pool, addresses.member(index), MEMBER_PORT) for index in range(2)]
        haproxy = start_haproxy(lb)
        config = amp_base / lb.id / "haproxy.cfg"
        stop = threading.Event()
        results = [{"ok": 0, "errors": 0} for _ in range(4)]
        threads = [
            threading.Thread(target=_load, args=(addresses.vip, index % 2 == 0, stop, results[index]))
            for index in range(4)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + LOAD_S
        for reload in range(RELOADS):
            members[reload % 2].weight = 1 + reload  # a real change each time
            config.write_text(render_haproxy_config(lb, None, amp_base=str(amp_base)))
            haproxy.process.send_signal(signal.SIGUSR2)
            time.sleep(max(0.0, (deadline - time.monotonic()) / (RELOADS - reload)))
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        assert sum(result["errors"] for result in results) == 0, results
        assert all(result["ok"] > 0 for result in results)
        # the last configuration is the one running, and no reload failed
        deadline = time.monotonic() + 3
        while _weights(haproxy) != [member.weight for member in members] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _weights(haproxy) == [member.weight for member in members]
        assert "Loading failure" not in haproxy.log_path.read_text()
        assert haproxy.process.poll() is None
    finally:
        for server in servers:
            server.stop()
