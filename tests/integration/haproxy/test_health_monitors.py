"""Health monitors through a real HAProxy: a dead member leaves and comes back in time."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

import pytest

from octavia.db import models
from tests.integration.haproxy.backends import NamedHttpServer, echo_server
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy, http_get
from tests.unit.amphorae.haproxy import factory

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8081
DELAY_S = 1
FALL = 2
RISE = 2
# HAProxy spreads the first checks over one interval and the verdict lands on the next tick
SLACK_S = 1.5


def _wait_status(haproxy: RunningHaproxy, member: models.Member, prefix: str, limit_s: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if haproxy.server_status(member).startswith(prefix):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{member.id} not {prefix} after {limit_s} s: {haproxy.server_status(member)}")


@pytest.mark.parametrize("monitor_type", ["HTTP", "TCP"])
def test_killed_member_leaves_and_returns(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy], monitor_type: str
) -> None:
    servers = [NamedHttpServer(f"m{index}", addresses.member(index), MEMBER_PORT) for index in range(2)]
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        listener = factory.listener(lb, port=PORT)
        pool = factory.pool(lb, listener=listener)
        members = [factory.member(pool, addresses.member(index), MEMBER_PORT) for index in range(2)]
        factory.health_monitor(
            pool,
            type=monitor_type,
            delay=DELAY_S,
            timeout=1,
            rise_threshold=RISE,
            fall_threshold=FALL,
            url_path="/healthz",
            expected_codes="200-204",
        )
        haproxy = start_haproxy(lb)
        _wait_status(haproxy, members[1], "UP", DELAY_S * RISE + SLACK_S)

        servers[1].stop()
        elapsed = _wait_status(haproxy, members[1], "DOWN", DELAY_S * FALL + SLACK_S)
        assert elapsed <= DELAY_S * FALL + SLACK_S
        assert collections.Counter(http_get(addresses.vip, PORT).body for _ in range(6)) == {"m0": 6}

        servers[1] = NamedHttpServer("m1", addresses.member(1), MEMBER_PORT)
        _wait_status(haproxy, members[1], "UP", DELAY_S * RISE + SLACK_S)
        assert {http_get(addresses.vip, PORT).body for _ in range(6)} == {"m0", "m1"}
    finally:
        for server in servers:
            server.stop()


def test_http_monitor_uses_path_method_and_host(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
) -> None:
    server = NamedHttpServer("m0", addresses.member(0), MEMBER_PORT)
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        pool = factory.pool(lb, listener=factory.listener(lb, port=PORT))
        member = factory.member(pool, addresses.member(0), MEMBER_PORT)
        factory.health_monitor(
            pool,
            type="HTTP",
            delay=DELAY_S,
            timeout=1,
            url_path="/health?probe=1",
            http_version=1.1,
            domain_name="app.example.com",
        )
        haproxy = start_haproxy(lb)
        _wait_status(haproxy, member, "UP", DELAY_S * 2 + SLACK_S)
        assert {"host": "app.example.com"}.items() <= server.requests[0].items()
    finally:
        server.stop()


def test_monitor_address_and_port_are_checked_instead(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
) -> None:
    """Traffic goes to the member port; checks go to monitor_address:monitor_port."""
    traffic = echo_server("traffic", addresses.member(0), MEMBER_PORT)
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        pool = factory.pool(lb, protocol="TCP", listener=factory.listener(lb, protocol="TCP", port=PORT))
        member = factory.member(
            pool,
            addresses.member(0),
            MEMBER_PORT,
            monitor_address=addresses.member(5),
            monitor_port=MEMBER_PORT + 1,
        )
        factory.health_monitor(pool, type="TCP", delay=DELAY_S, timeout=1, rise_threshold=1, fall_threshold=1)
        haproxy = start_haproxy(lb)
        # nothing listens on the monitor address yet: the member is down although its port answers
        _wait_status(haproxy, member, "DOWN", DELAY_S * 2 + SLACK_S)
        monitor = echo_server("monitor", addresses.member(5), MEMBER_PORT + 1)
        try:
            _wait_status(haproxy, member, "UP", DELAY_S * 2 + SLACK_S)
        finally:
            monitor.stop()
    finally:
        traffic.stop()


def test_ping_monitor_marks_a_reachable_member_up(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
) -> None:
    lb = factory.load_balancer(vip=addresses.vip)
    pool = factory.pool(lb, listener=factory.listener(lb, port=PORT))
    # no server listens on the member port: only ICMP can find it alive
    member = factory.member(pool, addresses.member(0), MEMBER_PORT)
    factory.health_monitor(pool, type="PING", delay=DELAY_S, timeout=1, rise_threshold=1, fall_threshold=1)
    haproxy = start_haproxy(lb)
    _wait_status(haproxy, member, "UP", DELAY_S * 2 + SLACK_S)


def test_disabled_member_gets_no_traffic(addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]):
    servers = [NamedHttpServer(f"m{index}", addresses.member(index), MEMBER_PORT) for index in range(2)]
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        pool = factory.pool(lb, listener=factory.listener(lb, port=PORT))
        factory.member(pool, addresses.member(0), MEMBER_PORT)
        disabled = factory.member(pool, addresses.member(1), MEMBER_PORT, enabled=False)
        haproxy = start_haproxy(lb)
        assert haproxy.server_status(disabled).startswith("MAINT")
        assert {http_get(addresses.vip, PORT).body for _ in range(6)} == {"m0"}
    finally:
        for server in servers:
            server.stop()


def test_backup_member_only_serves_when_primaries_are_down(
    addresses: Addresses, start_haproxy: Callable[..., RunningHaproxy]
):
    servers = [NamedHttpServer(f"m{index}", addresses.member(index), MEMBER_PORT) for index in range(2)]
    try:
        lb = factory.load_balancer(vip=addresses.vip)
        pool = factory.pool(lb, listener=factory.listener(lb, port=PORT))
        primary = factory.member(pool, addresses.member(0), MEMBER_PORT)
        factory.member(pool, addresses.member(1), MEMBER_PORT, backup=True)
        factory.health_monitor(pool, type="TCP", delay=DELAY_S, timeout=1, rise_threshold=1, fall_threshold=1)
        haproxy = start_haproxy(lb)
        assert {http_get(addresses.vip, PORT).body for _ in range(4)} == {"m0"}
        servers[0].stop()
        _wait_status(haproxy, primary, "DOWN", DELAY_S * 2 + SLACK_S)
        assert {http_get(addresses.vip, PORT).body for _ in range(4)} == {"m1"}
    finally:
        for server in servers:
            server.stop()
