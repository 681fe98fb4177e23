"""Real UDP heartbeats on 127.0.0.1 against a real database."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import zlib
from typing import Any

from sqlalchemy import event, select, update

from octavia.common import constants as c
from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.health_updater import apply_heartbeat
from octavia.db import models
from octavia.db.api import session_scope

from .conftest import (
    KEY,
    LiveReceiver,
    Seq,
    amphora_status,
    health_row,
    heartbeat,
    make_lb,
    operating,
    provisioning,
    snapshot,
)


def test_heartbeat_rolls_statuses_up_and_back(live_receiver: LiveReceiver) -> None:
    rows = make_lb(health_age=30)
    seq = Seq()
    before = health_row(rows.amphora)
    assert before is not None

    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq()), KEY), "applied")
    assert operating(models.LoadBalancer, rows.lb) == c.ONLINE
    assert operating(models.Listener, rows.listener) == c.ONLINE
    assert operating(models.Pool, rows.pool) == c.ONLINE
    assert [operating(models.Member, m) for m in rows.members] == [c.ONLINE, c.ONLINE]
    after = health_row(rows.amphora)
    assert after is not None and after.last_update > before.last_update and after.busy is False

    down = {rows.members[0]: hb.MEMBER_DOWN, rows.members[1]: hb.MEMBER_UP}
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq(), members=down), KEY), "applied")
    assert operating(models.Member, rows.members[0]) == c.ERROR
    assert operating(models.Pool, rows.pool) == c.DEGRADED
    assert operating(models.LoadBalancer, rows.lb) == c.DEGRADED

    all_down = dict.fromkeys(rows.members, hb.MEMBER_DOWN)
    live_receiver.send_and_wait(
        hb.encode(heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=all_down), KEY), "applied"
    )
    assert operating(models.Pool, rows.pool) == c.ERROR
    assert operating(models.LoadBalancer, rows.lb) == c.ERROR

    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq()), KEY), "applied")
    assert operating(models.LoadBalancer, rows.lb) == c.ONLINE
    assert operating(models.Pool, rows.pool) == c.ONLINE
    assert provisioning(models.LoadBalancer, rows.lb) == c.ACTIVE


def test_pending_load_balancer_gets_operating_status_only(live_receiver: LiveReceiver) -> None:
    rows = make_lb(provisioning=c.PENDING_UPDATE)
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, Seq()(), listener=None), KEY), "applied")
    assert provisioning(models.LoadBalancer, rows.lb) == c.PENDING_UPDATE
    assert operating(models.LoadBalancer, rows.lb) == c.ONLINE
    # not ACTIVE, so a listener missing from the report is OFFLINE, not ERROR
    assert operating(models.Listener, rows.listener) == c.OFFLINE


def test_missing_listener_is_error_and_does_not_refresh_health(live_receiver: LiveReceiver) -> None:
    rows = make_lb(health_age=30)
    before = health_row(rows.amphora)
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, Seq()(), listener=None), KEY), "applied")
    assert operating(models.Listener, rows.listener) == c.ERROR
    after = health_row(rows.amphora)
    assert before is not None and after is not None and after.last_update == before.last_update


def test_stats_are_upserted_per_listener_and_amphora(live_receiver: LiveReceiver) -> None:
    rows = make_lb()
    seq = Seq()
    first = {
        "bytes_in": 100,
        "bytes_out": 2000,
        "active_connections": 2,
        "total_connections": 10,
        "request_errors": 1,
    }
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq(), counters=first), KEY), "applied")
    second = {
        "bytes_in": 150,
        "bytes_out": 3000,
        "active_connections": 0,
        "total_connections": 15,
        "request_errors": 1,
    }
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq(), counters=second), KEY), "applied")
    with session_scope() as s:
        stats = s.scalars(select(models.ListenerStatistics)).all()
        assert len(stats) == 1
        row = stats[0]
        assert (row.listener_id, row.amphora_id) == (rows.listener, rows.amphora)
        assert {name: getattr(row, name) for name in hb.COUNTER_NAMES} == second
        assert row.updated_at is not None


def test_amphora_cannot_report_for_another_load_balancer(live_receiver: LiveReceiver) -> None:
    mine, other = make_lb(), make_lb()
    intruding = heartbeat(
        other,
        Seq()(),
        amphora_id=mine.amphora,
        pool=hb.POOL_DOWN,
        members=dict.fromkeys(other.members, hb.MEMBER_DOWN),
        counters={"total_connections": 99},
    )
    live_receiver.send_and_wait(hb.encode(intruding, KEY), "applied")
    assert operating(models.Pool, other.pool) == c.OFFLINE
    assert operating(models.LoadBalancer, other.lb) != c.ERROR
    with session_scope() as s:
        assert s.scalars(select(models.ListenerStatistics)).all() == []


def test_heartbeat_clears_failover_stopped(live_receiver: LiveReceiver) -> None:
    rows = make_lb(amphora_status=c.FAILOVER_STOPPED, health_age=600)
    live_receiver.send_and_wait(
        hb.encode(
            heartbeat(
                rows,
                Seq()(),
            ),
            KEY,
        ),
        "applied",
    )
    assert amphora_status(rows.amphora) == c.AMPHORA_ALLOCATED


def _signed(raw: bytes, key: bytes = KEY) -> bytes:
    body = zlib.compress(raw)
    return body + hmac.new(key, body, hashlib.sha256).digest()


def test_bad_packets_change_nothing_and_the_receiver_keeps_running(live_receiver: LiveReceiver) -> None:
    rows = make_lb(health_age=30)
    seq = Seq()
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq()), KEY), "applied")
    replay_me = hb.encode(heartbeat(rows, seq(), members=dict.fromkeys(rows.members, hb.MEMBER_DOWN)), KEY)
    live_receiver.send_and_wait(replay_me, "applied")
    live_receiver.send_and_wait(hb.encode(heartbeat(rows, seq()), KEY), "applied")
    with session_scope(write=True) as s:  # make any health refresh visible
        s.execute(update(models.AmphoraHealth).values(last_update=models.utcnow().replace(year=2000)))
    state = snapshot()

    down = dict.fromkeys(rows.members, hb.MEMBER_DOWN)
    forged = hb.encode(heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=down), b"guessed-key")
    tampered = bytearray(hb.encode(heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=down), KEY))
    tampered[3] ^= 0xFF
    truncated = hb.encode(heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=down), KEY)[:-7]
    stale = hb.encode(
        heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=down, timestamp=time.time() - 3600), KEY
    )
    future = hb.encode(
        heartbeat(rows, seq(), pool=hb.POOL_DOWN, members=down, timestamp=time.time() + 3600), KEY
    )
    bomb = _signed(b" " * (hb.MAX_PAYLOAD_BYTES + 10))
    malformed = _signed(
        json.dumps(
            {
                "ver": 1,
                "id": rows.amphora,
                "seq": seq(),
                "ts": time.time(),
                "listeners": {},
                "pools": {rows.pool: {"status": "EXPLODED"}},
            }
        ).encode()
    )
    unknown = hb.encode(heartbeat(rows, seq(), amphora_id="00000000-1111-2222-3333-444444444444"), KEY)
    cases = [
        (forged, "dropped_bad_signature"),
        (bytes(tampered), "dropped_bad_signature"),
        (truncated, "dropped_bad_signature"),
        (os.urandom(65507), "dropped_bad_signature"),
        (b"", "dropped_malformed"),
        (stale, "dropped_stale"),
        (future, "dropped_stale"),
        (replay_me, "dropped_replayed"),
        (bomb, "dropped_oversize"),
        (malformed, "dropped_malformed"),
        (unknown, "dropped_unknown_amphora"),
    ]
    for packet, counter in cases:
        live_receiver.send_and_wait(packet, counter)
    assert snapshot() == state
    assert live_receiver.count("errors") == 0

    live_receiver.send_and_wait(
        hb.encode(heartbeat(rows, seq(), members=down, pool=hb.POOL_DOWN), KEY), "applied"
    )
    assert operating(models.Pool, rows.pool) == c.ERROR


def test_statement_count_does_not_grow_with_members(db: Any) -> None:
    """A heartbeat costs a fixed number of SQL statements whatever the number of members."""
    counts = []
    for size in (2, 60):
        rows = make_lb(members=size)
        members = {m: (hb.MEMBER_DOWN if i % 3 == 0 else hb.MEMBER_UP) for i, m in enumerate(rows.members)}
        statements: list[str] = []

        def record(
            _conn: Any, _cursor: Any, statement: str, *_args: Any, sink: list[str] = statements
        ) -> None:
            if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                sink.append(statement)

        event.listen(db, "before_cursor_execute", record)
        try:
            apply_heartbeat(heartbeat(rows, Seq()(), members=members, counters={"total_connections": 3}))
        finally:
            event.remove(db, "before_cursor_execute", record)
        assert operating(models.Member, rows.members[0]) == c.ERROR
        assert operating(models.Member, rows.members[1]) == c.ONLINE
        counts.append(len(statements))
    print(f"\nSQL statements per heartbeat: {counts}")
    assert counts[0] == counts[1] <= 14, counts
