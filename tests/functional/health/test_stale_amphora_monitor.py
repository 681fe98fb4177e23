"""Stale-amphora detection, exactly-once failover across health managers, circuit breaker."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import update

from octavia.common import constants as c
from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.stale_amphora_monitor import StaleAmphoraMonitor
from octavia.db import models
from octavia.db.api import session_scope

from .conftest import KEY, LiveReceiver, Seq, amphora_status, health_row, heartbeat, make_lb


class Failovers:
    """A failover callback that records what it was asked to do (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, amphora_id: str) -> None:
        with self._lock:
            self.calls[amphora_id] += 1


def monitor(failover: Any, threshold: int | None = None) -> StaleAmphoraMonitor:
    return StaleAmphoraMonitor(
        failover,
        heartbeat_timeout=10.0,
        check_interval=3600.0,
        failover_threshold=threshold,
        failover_threads=2,
    )


def test_silent_amphora_is_failed_over_once_and_marked_busy(db: Any) -> None:
    fresh, stale = make_lb(health_age=1), make_lb(health_age=60)
    failovers = Failovers()
    mon = monitor(failovers)
    first = mon.check_once()
    second = mon.check_once()
    mon.stop()
    assert first.claimed == [stale.amphora]
    assert second.claimed == []
    assert failovers.calls == Counter({stale.amphora: 1})
    row = health_row(stale.amphora)
    assert row is not None and row.busy is True
    fresh_row = health_row(fresh.amphora)
    assert fresh_row is not None and fresh_row.busy is False


def test_two_health_managers_racing_fail_over_each_amphora_exactly_once(db: Any) -> None:
    stale = [make_lb(health_age=60 + i).amphora for i in range(30)]
    failovers = Failovers()
    managers = [monitor(failovers), monitor(failovers)]
    barrier = threading.Barrier(len(managers))
    errors: list[BaseException] = []

    def scan(mon: StaleAmphoraMonitor) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                mon.check_once()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for m in managers:
        m.stop()
    assert errors == []
    assert failovers.calls == Counter(dict.fromkeys(stale, 1))


def test_failed_failover_is_not_retried_by_the_monitor(db: Any) -> None:
    rows = make_lb(health_age=60)
    attempts: list[str] = []

    def broken(amphora_id: str) -> None:
        attempts.append(amphora_id)
        raise RuntimeError("worker exploded")

    mon = monitor(broken)
    mon.check_once()
    mon.check_once()
    mon.stop()
    assert attempts == [rows.amphora]


@pytest.mark.parametrize("lb_status", [c.PENDING_UPDATE, c.PENDING_CREATE, c.PENDING_DELETE])
def test_amphora_of_a_locked_load_balancer_waits(db: Any, lb_status: str) -> None:
    rows = make_lb(provisioning=lb_status, health_age=60)
    failovers = Failovers()
    mon = monitor(failovers)
    result = mon.check_once()
    assert result.silent == [rows.amphora] and result.claimed == []
    with session_scope(write=True) as s:
        s.execute(update(models.LoadBalancer).values(provisioning_status=c.ACTIVE))
    assert mon.check_once().claimed == [rows.amphora]
    mon.stop()
    assert failovers.calls == Counter({rows.amphora: 1})


@pytest.mark.parametrize("status", [c.DELETED, c.PENDING_DELETE])
def test_deleted_amphora_is_ignored(db: Any, status: str) -> None:
    make_lb(amphora_status=status, health_age=600)
    mon = monitor(Failovers())
    assert mon.check_once().silent == []
    mon.stop()


def test_without_a_failover_callback_nothing_is_claimed(db: Any) -> None:
    rows = make_lb(health_age=60)
    mon = monitor(None)
    result = mon.check_once()
    mon.stop()
    assert result.silent == [rows.amphora] and result.claimed == []
    row = health_row(rows.amphora)
    assert row is not None and row.busy is False


def test_circuit_breaker_stops_mass_failover_and_heartbeats_clear_it(
    db: Any, live_receiver: LiveReceiver
) -> None:
    lbs = [make_lb(health_age=60) for _ in range(3)]
    failovers = Failovers()
    mon = monitor(failovers, threshold=2)

    result = mon.check_once()
    assert result.circuit_open and result.claimed == []
    assert [amphora_status(r.amphora) for r in lbs] == [c.FAILOVER_STOPPED] * 3
    assert mon.check_once().circuit_open  # still too many: still stopped
    assert not failovers.calls

    # One amphora comes back: its status is restored and the rest drop to the threshold.
    live_receiver.send_and_wait(hb.encode(heartbeat(lbs[0], Seq()()), KEY), "applied")
    assert amphora_status(lbs[0].amphora) == c.AMPHORA_ALLOCATED
    result = mon.check_once()
    mon.stop()
    assert not result.circuit_open
    assert sorted(result.claimed) == sorted([lbs[1].amphora, lbs[2].amphora])
    assert failovers.calls == Counter({lbs[1].amphora: 1, lbs[2].amphora: 1})


def test_threshold_equal_to_the_stale_count_still_fails_over(db: Any) -> None:
    lbs = [make_lb(health_age=60) for _ in range(2)]
    failovers = Failovers()
    mon = monitor(failovers, threshold=2)
    assert not mon.check_once().circuit_open
    mon.stop()
    assert set(failovers.calls) == {r.amphora for r in lbs}


def test_monitor_thread_scans_on_its_interval(db: Any) -> None:
    rows = make_lb(health_age=60)
    failovers = Failovers()
    done = threading.Event()

    def record(amphora_id: str) -> None:
        failovers(amphora_id)
        done.set()

    started = time.monotonic()
    mon = StaleAmphoraMonitor(record, heartbeat_timeout=0.5, check_interval=0.05).start()
    assert done.wait(5)
    mon.stop()
    # The first scan waits one heartbeat_timeout so live amphorae can report after a restart.
    assert time.monotonic() - started >= 0.5
    assert failovers.calls == Counter({rows.amphora: 1})
