"""L7 policies through a real HAProxy: routing, redirect codes, REJECT, order, exact matching."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from octavia.db import models
from tests.integration.haproxy.backends import NamedHttpServer
from tests.integration.haproxy.conftest import Addresses, RunningHaproxy, http_get
from tests.unit.amphorae.haproxy import factory

pytestmark = pytest.mark.slow
PORT = 8080
MEMBER_PORT = 8081


@pytest.fixture
def setup(addresses: Addresses) -> Iterator[tuple[models.LoadBalancer, models.Listener, models.Pool]]:
    """A listener whose default pool answers "default" and a second pool answering "special"."""
    default = NamedHttpServer("default", addresses.member(0), MEMBER_PORT)
    special = NamedHttpServer("special", addresses.member(1), MEMBER_PORT)
    lb = factory.load_balancer(vip=addresses.vip)
    listener = factory.listener(lb, port=PORT)
    factory.member(factory.pool(lb, listener=listener), addresses.member(0), MEMBER_PORT)
    special_pool = factory.pool(lb)
    factory.member(special_pool, addresses.member(1), MEMBER_PORT)
    yield lb, listener, special_pool
    default.stop()
    special.stop()


def _get(addresses: Addresses, path: str = "/", **headers: str):
    return http_get(addresses.vip, PORT, path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_redirect_to_pool_by_path(addresses: Addresses, setup, start_haproxy: Callable[..., RunningHaproxy]):
    lb, listener, special = setup
    policy = factory.l7policy(listener, "REDIRECT_TO_POOL", redirect_pool=special)
    factory.l7rule(policy, "PATH", "STARTS_WITH", "/api")
    start_haproxy(lb)
    assert _get(addresses, "/api/v1").body == "special"
    assert _get(addresses, "/web").body == "default"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_to_url_with_code(addresses: Addresses, setup, start_haproxy, code: int):
    lb, listener, _ = setup
    policy = factory.l7policy(
        listener, "REDIRECT_TO_URL", redirect_url="https://example.com/new%20place", redirect_http_code=code
    )
    factory.l7rule(policy, "HOST_NAME", "EQUAL_TO", "old.example.com")
    start_haproxy(lb)
    reply = _get(addresses, "/x", Host="OLD.example.com")
    assert reply.status == code
    assert reply.headers["location"] == "https://example.com/new%20place"
    assert _get(addresses, "/x", Host="other.example.com").body == "default"


def test_redirect_prefix_keeps_the_path(addresses: Addresses, setup, start_haproxy):
    lb, listener, _ = setup
    policy = factory.l7policy(
        listener, "REDIRECT_PREFIX", redirect_prefix="https://new.example.com", redirect_http_code=308
    )
    factory.l7rule(policy, "PATH", "ENDS_WITH", ".php")
    start_haproxy(lb)
    reply = _get(addresses, "/old/index.php?a=1")
    assert (reply.status, reply.headers["location"]) == (308, "https://new.example.com/old/index.php?a=1")


def test_reject_answers_403(addresses: Addresses, setup, start_haproxy):
    lb, listener, _ = setup
    factory.l7rule(factory.l7policy(listener, "REJECT"), "HEADER", "CONTAINS", "bot", key="User-Agent")
    start_haproxy(lb)
    assert _get(addresses, User_Agent="evil-bot/1.0").status == 403
    assert _get(addresses, User_Agent="curl").body == "default"


def test_first_policy_by_position_wins(addresses: Addresses, setup, start_haproxy):
    lb, listener, special = setup
    reject = factory.l7policy(listener, "REJECT", position=2)
    factory.l7rule(reject, "PATH", "STARTS_WITH", "/")
    to_pool = factory.l7policy(listener, "REDIRECT_TO_POOL", position=1, redirect_pool=special)
    factory.l7rule(to_pool, "PATH", "STARTS_WITH", "/api")
    redirect = factory.l7policy(listener, "REDIRECT_TO_URL", position=0, redirect_url="http://x/")
    factory.l7rule(redirect, "PATH", "EQUAL_TO", "/api/moved")
    start_haproxy(lb)
    assert _get(addresses, "/api/moved").status == 302  # position 0
    assert _get(addresses, "/api/data").body == "special"  # position 1 beats the REJECT at 2
    assert _get(addresses, "/other").status == 403


def test_rules_are_anded_and_invert(addresses: Addresses, setup, start_haproxy):
    lb, listener, special = setup
    policy = factory.l7policy(listener, "REDIRECT_TO_POOL", redirect_pool=special)
    factory.l7rule(policy, "FILE_TYPE", "EQUAL_TO", "jpg")
    factory.l7rule(policy, "COOKIE", "EQUAL_TO", "yes", key="beta", invert=True)
    start_haproxy(lb)
    assert _get(addresses, "/img/a.jpg").body == "special"
    assert _get(addresses, "/img/a.jpg", Cookie="beta=yes").body == "default"
    assert _get(addresses, "/img/a.png").body == "default"
    assert _get(addresses, "/img.jpg/a").body == "default"


@pytest.mark.parametrize(
    "value",
    ["a\"b\\c$HOME#d%[src]'e{}", "-i", "} || {", "${PATH} %% \\x41", "ünï☃"],
)
def test_hostile_header_values_match_exactly(addresses: Addresses, setup, start_haproxy, value: str):
    lb, listener, special = setup
    policy = factory.l7policy(listener, "REDIRECT_TO_POOL", redirect_pool=special)
    factory.l7rule(policy, "HEADER", "EQUAL_TO", value, key="X-Token")
    start_haproxy(lb)
    raw = value.encode().decode("latin-1")  # http.client sends header text as latin-1 bytes
    assert _get(addresses, X_Token=raw).body == "special"
    assert _get(addresses, X_Token=raw + "x").body == "default"
    assert _get(addresses, X_Token="x").body == "default"
