"""A full disk in an amphora directory: the configuration upload fails cleanly (the
change ends in ERROR with the agent's reason logged, no partial file is left), the
previous configuration keeps serving, and once space is back changes apply again."""

from __future__ import annotations

import collections
import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.e2e.harness import wait_for
from tests.integration.e2e.traffic import NamedBackend, answers
from tests.integration.faults import harness
from tests.integration.faults.harness import FaultAllInOne

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def disk_filled(directory: Path) -> Iterator[int]:
    """Fill the filesystem of `directory` to the last byte; yields the bytes written."""
    filler = directory / f".filler-{os.getpid()}"
    written = 0
    try:
        with open(filler, "wb", buffering=0) as f:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        written += f.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        yield written
    finally:
        with contextlib.suppress(FileNotFoundError):
            filler.unlink()


def _member(aio: FaultAllInOne, lb_id: str, backend: NamedBackend) -> dict[str, object]:
    tree = aio.status_tree(lb_id)
    members = tree["listeners"][0]["pools"][0]["members"]
    return next(m for m in members if m["protocol_port"] == backend.port)


def test_full_disk_fails_the_upload_cleanly_and_the_old_config_keeps_serving(
    aio: FaultAllInOne, backends: list[NamedBackend]
) -> None:
    if not aio.amphorae_on_tmpfs:
        pytest.skip("filling an amphora's disk needs the amphorae on their own tmpfs (root)")
    b1, b2, b3 = backends
    created = harness.create_lb(aio, [b1, b2], "disk")
    lb_id, vip, pool_id = created["id"], created["vip_address"], created["pools"][0]["id"]
    try:
        amphora = harness.local_amphora(aio, lb_id)
        lb_dir = amphora.lbs_dir() / lb_id
        before = amphora.haproxy_cfg(lb_id)
        files_before = sorted(os.listdir(lb_dir))
        log_offset = aio.log_size()

        with disk_filled(aio.state_path / "amphorae") as filled:
            aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
                     json={"member": {"address": b3.address, "protocol_port": b3.port}})
            aio.wait_lb(lb_id)
            assert wait_for(lambda: _member(aio, lb_id, b3)["provisioning_status"] == "ERROR", 15)
            print(f"\n{aio.mode}: disk filled with {filled >> 20} MiB; member create ended in ERROR")
            assert amphora.haproxy_cfg(lb_id) == before
            assert sorted(os.listdir(lb_dir)) == files_before
            assert answers(vip, 4) == collections.Counter({"b1": 2, "b2": 2})
        log = aio.log_since(log_offset)
        assert "No space left on device" in log, log[-3000:]

        # Space is back: the failed member is removed and added again, and it serves.
        bad = _member(aio, lb_id, b3)
        aio.call("DELETE", f"/v2/lbaas/pools/{pool_id}/members/{bad['id']}", expect=204)
        aio.wait_lb(lb_id)
        aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
                 json={"member": {"address": b3.address, "protocol_port": b3.port}})
        aio.wait_lb(lb_id)
        assert _member(aio, lb_id, b3)["provisioning_status"] == "ACTIVE"
        assert answers(vip, 6) == collections.Counter({"b1": 2, "b2": 2, "b3": 2})
    finally:
        harness.delete_lb(aio, lb_id)
