"""Algorithms, weights and session persistence, observed through a real HAProxy."""

from __future__ import annotations

import collections
import http.client
from collections.abc import Callable, Iterator

import pytest

from tests.integration.haproxy.backends import NamedHttpServer
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy, http_get
from tests.unit.amphorae.haproxy import factory

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8081


@pytest.fixture
def members(addresses: Addresses) -> Iterator[Callable[..., list[NamedHttpServer]]]:
    servers: list[NamedHttpServer] = []

    def make(count: int, app_cookie: str | None = None) -> list[NamedHttpServer]:
        for index in range(count):
            servers.append(NamedHttpServer(f"m{index}", addresses.member(index), MEMBER_PORT, app_cookie))
        return servers

    yield make
    for server in servers:
        server.stop()


def _lb(
    addresses: Addresses, servers: list[NamedHttpServer], weights: list[int] | None = None, **pool_fields
):
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, protocol="HTTP", port=PORT)
    pool = factory.pool(lb, listener=listener, **pool_fields)
    for index, server in enumerate(servers):
        weight = weights[index] if weights else 1
        factory.member(pool, server.server_address[0], MEMBER_PORT, weight=weight)
    return lb


def _spread(addresses: Addresses, requests: int, **kwargs: object) -> collections.Counter[str]:
    return collections.Counter(http_get(addresses.vip, PORT, **kwargs).body for _ in range(requests))  # type: ignore[arg-type]


def test_round_robin_spreads_evenly(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_lb(addresses, members(3)))
    assert _spread(addresses, 30) == {"m0": 10, "m1": 10, "m2": 10}


def test_weights_are_honoured(addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]):
    start_haproxy(_lb(addresses, members(2), weights=[1, 3]))
    assert _spread(addresses, 40) == {"m0": 10, "m1": 30}


def test_weight_zero_member_gets_no_new_connections(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_lb(addresses, members(3), weights=[0, 1, 1]))
    assert _spread(addresses, 20) == {"m1": 10, "m2": 10}


def test_least_connections_serves_all(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_lb(addresses, members(2), algorithm="LEAST_CONNECTIONS"))
    assert set(_spread(addresses, 10)) == {"m0", "m1"}


@pytest.mark.parametrize(
    "pool_fields",
    [{"algorithm": "SOURCE_IP"}, {"session_persistence": {"type": "SOURCE_IP"}}],
    ids=["algorithm", "persistence"],
)
def test_source_ip_sticks(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy], pool_fields: dict
):
    start_haproxy(_lb(addresses, members(3), **pool_fields))
    seen = {}
    for client in range(10):
        answers = _spread(addresses, 5, source=addresses.client(client))
        assert len(answers) == 1, answers
        seen[client] = next(iter(answers))
    # persistence, not a single member for everyone: new clients are still balanced
    assert len(set(seen.values())) > 1


def test_source_ip_port_hashes_address_and_port(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_lb(addresses, members(3), algorithm="SOURCE_IP_PORT"))
    seen = set()
    for _ in range(12):
        # one connection (one client port): every request on it hashes to the same member
        connection = http.client.HTTPConnection(addresses.vip, PORT, timeout=5)
        try:
            bodies = set()
            for _ in range(4):
                connection.request("GET", "/")
                bodies.add(connection.getresponse().read().decode())
        finally:
            connection.close()
        assert len(bodies) == 1
        seen |= bodies
    # same client address, different ports: more than one member
    assert len(seen) > 1


def test_http_cookie_persistence_sticks(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    start_haproxy(_lb(addresses, members(3), session_persistence={"type": "HTTP_COOKIE"}))
    first = http_get(addresses.vip, PORT)
    cookie = first.headers["set-cookie"].split(";")[0]
    assert cookie.startswith("SRV=")
    answers = _spread(addresses, 9, headers={"Cookie": cookie})
    assert answers == {first.body: 9}


def test_app_cookie_persistence_sticks(
    addresses: Addresses, members, start_haproxy: Callable[..., RunningHaproxy]
):
    servers = members(3, app_cookie="JSESSIONID")
    start_haproxy(
        _lb(addresses, servers, session_persistence={"type": "APP_COOKIE", "cookie_name": "JSESSIONID"})
    )
    first = http_get(addresses.vip, PORT)
    assert first.headers["set-cookie"] == f"JSESSIONID={first.body}"
    answers = _spread(addresses, 9, headers={"Cookie": f"JSESSIONID={first.body}"})
    assert answers == {first.body: 9}
    # without the cookie, requests are balanced again
    assert len(_spread(addresses, 6)) > 1
