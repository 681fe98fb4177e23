"""One tuned all-in-one building ACTIVE_STANDBY pairs (netns mode only), member servers,
and one populated pair shared by the module's failure tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.active_standby.harness import TunedAllInOne, wait_pair
from tests.integration.e2e.harness import populated_lb_body
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
    root = Path(tempfile.mkdtemp(prefix="as-"))
    service = TunedAllInOne(root, "netns", topology="ACTIVE_STANDBY")
    try:
        service.start()
        yield service
    finally:
        service.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="package")
def backends(aio: TunedAllInOne) -> Iterator[list[NamedBackend]]:
    gateway = aio.vip_subnet()["gateway_ip"]
    servers = [NamedBackend(f"b{i}", gateway) for i in (1, 2)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="package")
def pair_lb(aio: TunedAllInOne, backends: list[NamedBackend]) -> Iterator[dict[str, Any]]:
    """An ACTIVE_STANDBY LB (HTTP:80 over both members), deleted at the end."""
    body = populated_lb_body(aio.vip_subnet()["id"], [(b.address, b.port) for b in backends], name="pair")
    created = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    aio.wait_lb(created["id"])
    wait_pair(aio, created["id"], created["vip_address"], gone=None)
    try:
        yield created
    finally:
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{created['id']}?cascade=true", expect=(204, 404))
        aio.wait_lb_gone(created["id"])
