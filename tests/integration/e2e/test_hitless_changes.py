"""Member changes through the API under load lose no request: every change reloads
HAProxy in the amphora (master-worker, listening sockets handed over)."""

from __future__ import annotations

import collections
import time

import pytest

from tests.integration.e2e.harness import AllInOne, populated_lb_body
from tests.integration.e2e.traffic import LoadLoop, NamedBackend, answers

pytestmark = pytest.mark.slow

SLOT_S = 1.0
# (operation, backend, weight): 20 changes that always leave a member with weight > 0.
CHANGES = [
    ("add", "b3", None), ("weight", "b1", 5), ("add", "b4", None), ("weight", "b2", 0),
    ("remove", "b3", None), ("weight", "b2", 1), ("weight", "b1", 1), ("add", "b3", None),
    ("remove", "b4", None), ("weight", "b3", 3), ("add", "b4", None), ("remove", "b1", None),
    ("weight", "b4", 2), ("add", "b1", None), ("remove", "b2", None), ("weight", "b3", 1),
    ("add", "b2", None), ("remove", "b3", None), ("weight", "b1", 0), ("weight", "b1", 1),
]


def test_twenty_member_changes_under_load_lose_no_request(
    aio: AllInOne, backends: list[NamedBackend]
) -> None:
    by_name = {b.name: b for b in backends}
    subnet = aio.vip_subnet()
    initial = [(by_name[n].address, by_name[n].port) for n in ("b1", "b2")]
    lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=populated_lb_body(subnet["id"], initial, "hitless"),
                  expect=201).json()["loadbalancer"]
    aio.wait_lb(lb["id"])
    pool_id, vip = lb["pools"][0]["id"], lb["vip_address"]
    members = {
        name: m["id"] for m in aio.get(f"/v2/lbaas/pools/{pool_id}/members")["members"]
        for name, b in by_name.items() if (m["address"], m["protocol_port"]) == (b.address, b.port)
    }
    assert sorted(members) == ["b1", "b2"]
    url = f"/v2/lbaas/pools/{pool_id}/members"

    with LoadLoop(vip, threads=6, max_seconds=90) as load:
        time.sleep(SLOT_S)
        for operation, name, weight in CHANGES:
            slot_end = time.monotonic() + SLOT_S
            if operation == "add":
                backend = by_name[name]
                created = aio.call("POST", url, expect=201, json={
                    "member": {"address": backend.address, "protocol_port": backend.port}})
                members[name] = created.json()["member"]["id"]
            elif operation == "remove":
                aio.call("DELETE", f"{url}/{members.pop(name)}", expect=204)
            else:
                aio.call("PUT", f"{url}/{members[name]}", json={"member": {"weight": weight}})
            aio.wait_lb(lb["id"])
            time.sleep(max(0.0, slot_end - time.monotonic()))
        time.sleep(SLOT_S)
        result = load.stop()

    print(f"\n{aio.mode}: {result.ok} requests, {result.failed} failed, across {len(CHANGES)} changes: "
          f"{dict(result.names)}")
    assert result.failed == 0, f"{result.failed} failed of {result.failed + result.ok}: {result.errors}"
    assert result.ok > 20 * len(CHANGES), result
    assert set(result.names) == {"b1", "b2", "b3", "b4"}, result.names
    assert answers(vip, 8) == collections.Counter({"b1": 2, "b2": 2, "b4": 4})
    aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}", params={"cascade": "true"}, expect=204)
    aio.wait_lb_gone(lb["id"])
