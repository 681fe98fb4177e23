"""One all-in-one per amphora mode for the whole package, and member servers per test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.e2e.harness import AllInOne
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
def aio(request: pytest.FixtureRequest) -> Iterator[AllInOne]:
    root = Path(tempfile.mkdtemp(prefix=f"e2e-{request.param}-"))
    service = AllInOne(root, request.param)
    try:
        service.start()
        yield service
    finally:
        service.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backends(aio: AllInOne) -> Iterator[list[NamedBackend]]:
    """Four members on the VIP subnet's gateway address (the host), named b1..b4."""
    gateway = aio.vip_subnet()["gateway_ip"]
    servers = [NamedBackend(f"b{i}", gateway) for i in range(1, 5)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
