"""Heartbeats from a real HAProxy: counters grow with traffic, dead backends show, statuses roll up."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from sqlalchemy import select

from octavia.amphorae.agent import heartbeat_sender
from octavia.common import constants as c
from octavia.controller.health.health_updater import apply_heartbeat
from octavia.controller.health.heartbeat_receiver import HeartbeatReceiver
from octavia.db import models
from octavia.db.api import session_scope

from .conftest import Backend, Haproxy, Ids, new_ids

pytestmark = pytest.mark.slow

KEY = b"integration-heartbeat-key"
INTERVAL = 0.2


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def get(port: int, count: int) -> int:
    """`count` requests, each on a new connection; returns response bytes received."""
    received = 0
    for _ in range(count):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            received += len(resp.read())
    return received


def listener_of(base_path: str, ids: Ids) -> dict[str, Any]:
    return heartbeat_sender.collect_status(base_path)["listeners"].get(ids.listener, {})


def members_of(base_path: str, ids: Ids) -> dict[str, str]:
    pool = heartbeat_sender.collect_status(base_path)["pools"].get(ids.pool)
    return pool["members"] if pool else {}


def test_collect_status_counts_traffic_and_sees_dead_members(
    base_path: str, backends: list[Backend], haproxy_factory: Any
) -> None:
    ids = new_ids()
    proxy: Haproxy = haproxy_factory(ids)
    wait_for(lambda: set(members_of(base_path, ids).values()) == {"UP"}, what="both members UP")

    status = heartbeat_sender.collect_status(base_path)
    assert status["listeners"][ids.listener]["status"] == "OPEN"
    assert status["pools"][ids.pool]["status"] == "UP"
    before = status["listeners"][ids.listener]["stats"]

    received = get(proxy.port, 20)
    after = listener_of(base_path, ids)["stats"]
    assert after["total_connections"] - before["total_connections"] >= 20
    assert after["bytes_out"] - before["bytes_out"] >= received
    assert after["bytes_in"] - before["bytes_in"] >= 20 * len("GET / HTTP/1.1\r\n")

    get(proxy.port, 10)
    assert listener_of(base_path, ids)["stats"]["total_connections"] >= after["total_connections"] + 10

    backends[1].stop()
    wait_for(lambda: members_of(base_path, ids).get(ids.members[1]) == "DOWN", what="member DOWN")
    assert members_of(base_path, ids)[ids.members[0]] == "UP"
    assert heartbeat_sender.collect_status(base_path)["pools"][ids.pool]["status"] == "UP"

    backends[0].stop()
    wait_for(
        lambda: heartbeat_sender.collect_status(base_path)["pools"][ids.pool]["status"] == "DOWN",
        what="pool DOWN",
    )


def _rows(ids: Ids) -> str:
    with session_scope(write=True) as s:
        s.add(models.LoadBalancer(id=ids.lb, provisioning_status=c.ACTIVE, operating_status=c.OFFLINE))
        s.add(
            models.Pool(
                id=ids.pool,
                load_balancer_id=ids.lb,
                protocol="HTTP",
                lb_algorithm="ROUND_ROBIN",
                provisioning_status=c.ACTIVE,
                operating_status=c.OFFLINE,
            )
        )
        s.add(
            models.Listener(
                id=ids.listener,
                load_balancer_id=ids.lb,
                protocol="HTTP",
                protocol_port=80,
                default_pool_id=ids.pool,
                provisioning_status=c.ACTIVE,
                operating_status=c.OFFLINE,
            )
        )
        s.add(
            models.HealthMonitor(
                pool_id=ids.pool,
                type="HTTP",
                delay=1,
                timeout=1,
                rise_threshold=1,
                fall_threshold=1,
                provisioning_status=c.ACTIVE,
                operating_status=c.ONLINE,
            )
        )
        for i, mid in enumerate(ids.members):
            s.add(
                models.Member(
                    id=mid,
                    pool_id=ids.pool,
                    ip_address="127.0.0.1",
                    protocol_port=9000 + i,
                    provisioning_status=c.ACTIVE,
                    operating_status=c.OFFLINE,
                )
            )
        amphora = models.Amphora(status=c.AMPHORA_ALLOCATED, load_balancer_id=ids.lb, role=c.ROLE_STANDALONE)
        s.add(amphora)
        s.flush()
        return amphora.id


def statuses(ids: Ids) -> dict[str, str]:
    with session_scope() as s:
        out = {
            "lb": s.scalar(
                select(models.LoadBalancer.operating_status).where(models.LoadBalancer.id == ids.lb)
            ),
            "listener": s.scalar(
                select(models.Listener.operating_status).where(models.Listener.id == ids.listener)
            ),
            "pool": s.scalar(select(models.Pool.operating_status).where(models.Pool.id == ids.pool)),
        }
        for i, mid in enumerate(ids.members):
            out[f"m{i}"] = s.scalar(select(models.Member.operating_status).where(models.Member.id == mid))
        return {k: str(v) for k, v in out.items()}


def total_connections(listener_id: str, amphora_id: str) -> int:
    with session_scope() as s:
        row = s.get(models.ListenerStatistics, (listener_id, amphora_id))
        return row.total_connections if row else -1


def test_heartbeats_from_haproxy_drive_statuses_and_stats(
    sqlite_db: Any, base_path: str, backends: list[Backend], haproxy_factory: Any
) -> None:
    ids = new_ids()
    amphora_id = _rows(ids)
    proxy: Haproxy = haproxy_factory(ids)
    receiver = HeartbeatReceiver(KEY, "127.0.0.1", 0, apply_heartbeat, log_window=1.0).start()
    sender = heartbeat_sender.HeartbeatSender(amphora_id, base_path, KEY, [receiver.address], INTERVAL)
    sender.start()
    try:
        all_online = {"lb": "ONLINE", "listener": "ONLINE", "pool": "ONLINE", "m0": "ONLINE", "m1": "ONLINE"}
        wait_for(lambda: statuses(ids) == all_online, what="everything ONLINE")

        baseline = total_connections(ids.listener, amphora_id)
        get(proxy.port, 25)
        started = time.monotonic()
        wait_for(lambda: total_connections(ids.listener, amphora_id) >= baseline + 25, what="stats")
        print(f"\nstats visible {time.monotonic() - started:.2f}s after traffic (interval {INTERVAL}s)")

        backends[1].stop()
        degraded = {"lb": "DEGRADED", "listener": "ONLINE", "pool": "DEGRADED", "m0": "ONLINE", "m1": "ERROR"}
        wait_for(lambda: statuses(ids) == degraded, what="member ERROR, pool and LB DEGRADED")

        backends[1].start()
        wait_for(lambda: statuses(ids) == all_online, what="back to ONLINE")

        # A reload zeroes HAProxy's counters; what the controller stores keeps growing.
        before_reload = total_connections(ids.listener, amphora_id)
        proxy.reload()
        get(proxy.port, 5)
        wait_for(
            lambda: total_connections(ids.listener, amphora_id) >= before_reload + 5,
            what="stats after reload",
        )
        with session_scope() as s:
            health = s.get(models.AmphoraHealth, amphora_id)
            assert health is not None and health.busy is False
        assert receiver.counters().get("errors", 0) == 0
        assert not any(k.startswith("dropped_") for k in receiver.counters())
    finally:
        sender.stop()
        receiver.stop()


def test_sender_maps_the_renderers_names_back_to_api_ids(
    sqlite_db: Any, base_path: str, backends: list[Backend], haproxy_factory: Any
) -> None:
    """The renderer's frontend/backend/server names are what collect_status turns back into ids."""
    from sqlalchemy.orm import selectinload

    from octavia.amphorae.haproxy.render import render_haproxy_config

    from .conftest import free_tcp_port

    ids = new_ids()
    _rows(ids)
    port = free_tcp_port()
    with session_scope(write=True) as s:
        lb = s.get(models.LoadBalancer, ids.lb)
        assert lb is not None
        lb.vip_address = "127.0.0.1"
        lb.topology = c.TOPOLOGY_SINGLE
        s.get(models.Listener, ids.listener).protocol_port = port  # type: ignore[union-attr]
        for mid, backend in zip(ids.members, backends, strict=True):
            s.get(models.Member, mid).protocol_port = backend.port  # type: ignore[union-attr]
    with session_scope() as s:
        lb = s.scalars(
            select(models.LoadBalancer)
            .where(models.LoadBalancer.id == ids.lb)
            .options(
                selectinload(models.LoadBalancer.listeners),
                selectinload(models.LoadBalancer.pools).selectinload(models.Pool.members),
                selectinload(models.LoadBalancer.pools).selectinload(models.Pool.health_monitor),
                selectinload(models.LoadBalancer.amphorae),
            )
        ).one()
        text = render_haproxy_config(lb, None, amp_base=base_path)
    haproxy_factory(ids, text)
    wait_for(lambda: set(members_of(base_path, ids).values()) == {"UP"}, what="rendered members UP")
    get(port, 3)
    status = heartbeat_sender.collect_status(base_path)
    assert set(status["listeners"]) == {ids.listener}
    assert set(status["pools"]) == {ids.pool}
    assert set(status["pools"][ids.pool]["members"]) == set(ids.members)
    assert status["listeners"][ids.listener]["stats"]["total_connections"] >= 3
