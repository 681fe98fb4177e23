"""Rows and a live receiver for the health manager's functional tests.

The database is the shared `db` fixture (migrated SQLite, or a PostgreSQL or MySQL schema
when OCTAVIA_TEST_DB_URL is set), so the SQL runs on each.
"""

from __future__ import annotations

import datetime
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from octavia.common import constants as c
from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.health_updater import apply_heartbeat
from octavia.controller.health.heartbeat_receiver import HeartbeatReceiver
from octavia.db import models
from octavia.db.api import session_scope

KEY = b"functional-heartbeat-key"


@dataclass
class LbRows:
    lb: str
    listener: str
    pool: str
    members: list[str]
    amphora: str
    extra_amphorae: list[str] = field(default_factory=list)


def make_lb(
    *,
    provisioning: str = c.ACTIVE,
    members: int = 2,
    with_monitor: bool = True,
    amphora_status: str = c.AMPHORA_ALLOCATED,
    health_age: float | None = 0.0,
) -> LbRows:
    """An LB with one listener, one pool (+HM), members and one amphora, all operating OFFLINE."""
    with session_scope(write=True) as s:
        lb = models.LoadBalancer(
            project_id="p",
            provisioning_status=provisioning,
            operating_status=c.OFFLINE,
            enabled=True,
            topology=c.TOPOLOGY_SINGLE,
            provider="amphora",
        )
        s.add(lb)
        s.flush()
        pool = models.Pool(
            project_id="p",
            load_balancer_id=lb.id,
            protocol=c.PROTOCOL_HTTP,
            lb_algorithm="ROUND_ROBIN",
            provisioning_status=c.ACTIVE,
            operating_status=c.OFFLINE,
        )
        s.add(pool)
        s.flush()
        listener = models.Listener(
            project_id="p",
            load_balancer_id=lb.id,
            protocol=c.PROTOCOL_HTTP,
            protocol_port=80,
            default_pool_id=pool.id,
            provisioning_status=c.ACTIVE,
            operating_status=c.OFFLINE,
        )
        s.add(listener)
        if with_monitor:
            s.add(
                models.HealthMonitor(
                    project_id="p",
                    pool_id=pool.id,
                    type="HTTP",
                    delay=1,
                    timeout=1,
                    rise_threshold=1,
                    fall_threshold=1,
                    provisioning_status=c.ACTIVE,
                    operating_status=c.ONLINE,
                )
            )
        member_rows = [
            models.Member(
                project_id="p",
                pool_id=pool.id,
                ip_address="127.0.0.1",
                protocol_port=8000 + i,
                provisioning_status=c.ACTIVE,
                operating_status=c.OFFLINE if with_monitor else c.NO_MONITOR,
            )
            for i in range(members)
        ]
        s.add_all(member_rows)
        amphora = models.Amphora(status=amphora_status, load_balancer_id=lb.id, role=c.ROLE_STANDALONE)
        s.add(amphora)
        s.flush()
        if health_age is not None:
            s.add(models.AmphoraHealth(amphora_id=amphora.id, last_update=ago(health_age), busy=False))
        return LbRows(lb.id, listener.id, pool.id, [m.id for m in member_rows], amphora.id)


def ago(seconds: float) -> datetime.datetime:
    return models.utcnow() - datetime.timedelta(seconds=seconds)


def operating(model: Any, obj_id: str) -> str:
    with session_scope() as s:
        return str(s.scalar(select(model.operating_status).where(model.id == obj_id)))


def provisioning(model: Any, obj_id: str) -> str:
    with session_scope() as s:
        return str(s.scalar(select(model.provisioning_status).where(model.id == obj_id)))


def amphora_status(amphora_id: str) -> str:
    with session_scope() as s:
        return str(s.scalar(select(models.Amphora.status).where(models.Amphora.id == amphora_id)))


def health_row(amphora_id: str) -> models.AmphoraHealth | None:
    with session_scope() as s:
        return s.get(models.AmphoraHealth, amphora_id)


def snapshot() -> dict[str, Any]:
    """Every status, health and statistics value in the database, for before/after comparisons."""
    with session_scope() as s:
        out: dict[str, Any] = {}
        for model in (models.LoadBalancer, models.Listener, models.Pool, models.Member):
            for row in s.execute(select(model.id, model.operating_status, model.provisioning_status)):
                out[f"{model.__tablename__}:{row.id}"] = (row.operating_status, row.provisioning_status)
        for amp in s.scalars(select(models.Amphora)):
            out[f"amphora:{amp.id}"] = amp.status
        for h in s.scalars(select(models.AmphoraHealth)):
            out[f"health:{h.amphora_id}"] = (h.last_update, h.busy)
        for st in s.scalars(select(models.ListenerStatistics)):
            out[f"stats:{st.listener_id}:{st.amphora_id}"] = (st.bytes_in, st.total_connections)
        return out


class Seq:
    """Increasing sequence numbers for packets a test builds."""

    def __init__(self) -> None:
        self.value = int(time.time() * 1000)

    def __call__(self) -> int:
        self.value += 1
        return self.value


def heartbeat(
    rows: LbRows,
    seq: int,
    *,
    listener: str | None = hb.LISTENER_OPEN,
    pool: str | None = hb.POOL_UP,
    members: dict[str, str] | None = None,
    counters: dict[str, int] | None = None,
    timestamp: float | None = None,
    amphora_id: str | None = None,
) -> hb.Heartbeat:
    member_status = members if members is not None else dict.fromkeys(rows.members, hb.MEMBER_UP)
    return hb.Heartbeat(
        amphora_id=amphora_id or rows.amphora,
        seq=seq,
        timestamp=time.time() if timestamp is None else timestamp,
        listeners={rows.listener: hb.ListenerReport(status=listener, **(counters or {}))} if listener else {},
        pools={rows.pool: hb.PoolReport(status=pool, members=member_status)} if pool else {},
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class LiveReceiver:
    def __init__(self, receiver: HeartbeatReceiver) -> None:
        self.receiver = receiver
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, packet: bytes) -> None:
        self.sock.sendto(packet, self.receiver.address)

    def count(self, name: str) -> int:
        return self.receiver.counters().get(name, 0)

    def send_and_wait(self, packet: bytes, counter: str) -> None:
        """Send one datagram and wait until the receiver has finished with it under `counter`."""
        before = self.count(counter)
        self.send(packet)
        wait_until(lambda: self.count(counter) > before, what=f"counter {counter}")


@pytest.fixture
def live_receiver(db: Any) -> Iterator[LiveReceiver]:
    receiver = HeartbeatReceiver(
        KEY, "127.0.0.1", 0, apply_heartbeat, max_skew=30.0, log_window=1.0, workers=2
    )
    receiver.start()
    live = LiveReceiver(receiver)
    yield live
    live.sock.close()
    receiver.stop()
