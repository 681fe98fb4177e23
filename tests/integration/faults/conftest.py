"""One fault-tuned all-in-one per amphora mode for the package, and member servers.

As root, the amphorae live on a small tmpfs of their own, so a test can fill the
disk of an amphora directory without touching the host's disks.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.aio import member_servers, mode_params, started, temp_root
from tests.integration.e2e.traffic import NamedBackend
from tests.integration.faults.harness import FaultAllInOne

AMPHORAE_DISK = "64m"


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


@pytest.fixture(scope="package", params=mode_params())
def aio(request: pytest.FixtureRequest) -> Iterator[FaultAllInOne]:
    with temp_root(f"faults-{request.param}-") as root:
        service = FaultAllInOne(root, request.param)
        amphorae = service.state_path / "amphorae"
        service.amphorae_on_tmpfs = _mount_tmpfs(amphorae)
        try:
            with started(service):
                yield service
        finally:
            if service.amphorae_on_tmpfs:
                _unmount(amphorae)


@pytest.fixture
def backends(aio: FaultAllInOne) -> Iterator[list[NamedBackend]]:
    """Three members on the VIP subnet's gateway address (the host), named b1..b3."""
    with member_servers(aio, 3) as servers:
        yield servers
