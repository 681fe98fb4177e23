"""One tuned all-in-one building ACTIVE_STANDBY pairs (netns mode only), member servers,
and one populated pair shared by the module's failure tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.active_standby.harness import TunedAllInOne, wait_pair
from tests.integration.aio import live_lb, member_servers, started, temp_root
from tests.integration.e2e.traffic import NamedBackend


def _skip_reason() -> str | None:
    if not netns.netns_works():
        return "ACTIVE_STANDBY needs root and `ip netns` (keepalived refuses loopback)"
    for binary in (CONF.haproxy_amphora.haproxy_cmd, "keepalived"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed"
    return None


@pytest.fixture(scope="package")
def aio() -> Iterator[TunedAllInOne]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with temp_root("as-") as root:
        with started(TunedAllInOne(root, "netns", topology="ACTIVE_STANDBY")) as service:
            yield service


@pytest.fixture(scope="package")
def backends(aio: TunedAllInOne) -> Iterator[list[NamedBackend]]:
    with member_servers(aio, 2) as servers:
        yield servers


@pytest.fixture(scope="package")
def pair_lb(aio: TunedAllInOne, backends: list[NamedBackend]) -> Iterator[dict[str, Any]]:
    """An ACTIVE_STANDBY LB (HTTP:80 over both members), deleted at the end."""
    with live_lb(aio, backends, "pair") as created:
        wait_pair(aio, created["id"], created["vip_address"], gone=None)
        yield created
