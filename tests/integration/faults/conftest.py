"""One fault-tuned all-in-one per amphora mode for the package, and member servers.

As root, the amphorae live on a small tmpfs of their own, so a test can fill the
disk of an amphora directory without touching the host's disks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.e2e.traffic import NamedBackend
from tests.integration.faults.harness import FaultAllInOne

AMPHORAE_DISK = "64m"


def _mode_params() -> list[object]:
    haproxy = CONF.haproxy_amphora.haproxy_cmd
    haproxy_mark = pytest.mark.skipif(shutil.which(haproxy) is None, reason=f"{haproxy} is not installed")
    netns_mark = pytest.mark.skipif(not netns.netns_works(), reason="netns mode needs root and `ip netns`")
    return [
        pytest.param("netns", marks=[haproxy_mark, netns_mark], id="netns"),
        pytest.param("loopback", marks=[haproxy_mark], id="loopback"),
    ]


def _mount_tmpfs(path: Path) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={AMPHORAE_DISK},mode=0755"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture(scope="package", params=_mode_params())
def aio(request: pytest.FixtureRequest) -> Iterator[FaultAllInOne]:
    root = Path(tempfile.mkdtemp(prefix=f"faults-{request.param}-"))
    service = FaultAllInOne(root, request.param)
    amphorae = service.state_path / "amphorae"
    service.amphorae_on_tmpfs = _mount_tmpfs(amphorae)
    try:
        service.start()
        yield service
    finally:
        service.close()
        if service.amphorae_on_tmpfs:
            _unmount(amphorae)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backends(aio: FaultAllInOne) -> Iterator[list[NamedBackend]]:
    """Three members on the VIP subnet's gateway address (the host), named b1..b3."""
    gateway = aio.vip_subnet()["gateway_ip"]
    servers = [NamedBackend(f"b{i}", gateway) for i in range(1, 4)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
