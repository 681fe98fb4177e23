"""One tuned all-in-one per amphora mode (SINGLE topology), member servers, and one
populated load balancer shared by the package's failure tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.active_standby.harness import TunedAllInOne
from tests.integration.e2e.harness import populated_lb_body
from tests.integration.e2e.traffic import NamedBackend


def _mode_params() -> list[object]:
    haproxy = CONF.haproxy_amphora.haproxy_cmd
    haproxy_mark = pytest.mark.skipif(shutil.which(haproxy) is None, reason=f"{haproxy} is not installed")
    netns_mark = pytest.mark.skipif(not netns.netns_works(), reason="netns mode needs root and `ip netns`")
    return [
        pytest.param("netns", marks=[haproxy_mark, netns_mark], id="netns"),
        pytest.param("loopback", marks=[haproxy_mark], id="loopback"),
    ]


@pytest.fixture(scope="package", params=_mode_params())
def aio(request: pytest.FixtureRequest) -> Iterator[TunedAllInOne]:
    root = Path(tempfile.mkdtemp(prefix=f"fo-{request.param}-"))
    service = TunedAllInOne(root, request.param)
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
def single_lb(aio: TunedAllInOne, backends: list[NamedBackend]) -> Iterator[dict[str, Any]]:
    body = populated_lb_body(aio.vip_subnet()["id"], [(b.address, b.port) for b in backends], name="single")
    created = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    aio.wait_lb(created["id"])
    try:
        yield created
    finally:
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{created['id']}?cascade=true", expect=(204, 404))
        aio.wait_lb_gone(created["id"])
