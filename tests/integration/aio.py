"""Starting and stopping an all-in-one (and what hangs off it) for the integration conftests.

e2e, failover, active_standby and faults each run a package-scoped all-in-one subprocess
in a temporary root, member servers on the VIP subnet's gateway, and some a populated
load balancer; the start/wait/clean-up steps live here once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.e2e.harness import AllInOne, populated_lb_body
from tests.integration.e2e.traffic import NamedBackend

S = TypeVar("S", bound=AllInOne)


def mode_params() -> list[object]:
    """Both amphora modes, each skipped with a reason when its prerequisites are missing."""
    haproxy = CONF.haproxy_amphora.haproxy_cmd
    haproxy_mark = pytest.mark.skipif(shutil.which(haproxy) is None, reason=f"{haproxy} is not installed")
    netns_mark = pytest.mark.skipif(not netns.netns_works(), reason="netns mode needs root and `ip netns`")
    return [
        pytest.param("netns", marks=[haproxy_mark, netns_mark], id="netns"),
        pytest.param("loopback", marks=[haproxy_mark], id="loopback"),
    ]


@contextmanager
def temp_root(prefix: str) -> Iterator[Path]:
    """A fresh directory for one all-in-one's state, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def started(service: S) -> Iterator[S]:
    """Start the all-in-one and wait for it; close it even if the start failed half-way."""
    try:
        service.start()
        yield service
    finally:
        service.close()


@contextmanager
def member_servers(aio: AllInOne, count: int) -> Iterator[list[NamedBackend]]:
    """`count` members on the VIP subnet's gateway address (the host), named b1..b<count>."""
    gateway = aio.vip_subnet()["gateway_ip"]
    servers = [NamedBackend(f"b{i}", gateway) for i in range(1, count + 1)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextmanager
def live_lb(aio: AllInOne, backends: list[NamedBackend], name: str) -> Iterator[dict[str, Any]]:
    """A populated LB (HTTP:80 over `backends`) once ACTIVE; cascade-deleted and waited out afterwards."""
    body = populated_lb_body(aio.vip_subnet()["id"], [(b.address, b.port) for b in backends], name=name)
    created = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    try:
        aio.wait_lb(created["id"])
        yield created
    finally:
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{created['id']}?cascade=true", expect=(204, 404))
        aio.wait_lb_gone(created["id"])
