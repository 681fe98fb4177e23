"""Member states across the reloads that every change makes: a member found DOWN stays
out of rotation through an unrelated change, a member re-enabled or no longer checked
gets traffic again (the agent carries server states over a reload, but not those the
new configuration must reset)."""

from __future__ import annotations

import collections

import pytest

from tests.integration.e2e.harness import AllInOne, populated_lb_body, wait_for
from tests.integration.e2e.traffic import LoadLoop, NamedBackend, answers

pytestmark = pytest.mark.slow


def _member_ids(aio: AllInOne, pool_id: str, backends: list[NamedBackend]) -> dict[str, str]:
    by_port = {b.port: b.name for b in backends}
    listed = aio.get(f"/v2/lbaas/pools/{pool_id}/members")["members"]
    return {by_port[m["protocol_port"]]: m["id"] for m in listed}


def _operating_status(aio: AllInOne, pool_id: str, member_id: str) -> str:
    return str(aio.get(f"/v2/lbaas/pools/{pool_id}/members/{member_id}")["member"]["operating_status"])


def test_member_states_carry_over_reloads_only_while_they_hold(
    aio: AllInOne, backends: list[NamedBackend]
) -> None:
    b1, b2 = backends[:2]
    body = populated_lb_body(aio.vip_subnet()["id"], [(b.address, b.port) for b in (b1, b2)], "states")
    lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    aio.wait_lb(lb["id"])
    vip = lb["vip_address"]
    pool = aio.get(f"/v2/lbaas/pools/{lb['pools'][0]['id']}")["pool"]
    members = _member_ids(aio, pool["id"], [b1, b2])
    url = f"/v2/lbaas/pools/{pool['id']}/members"
    try:
        # b2 dies; once its checks have failed, a reload for an unrelated change keeps
        # sending it nothing.
        b2.stop()
        assert wait_for(lambda: _operating_status(aio, pool["id"], members["b2"]) == "ERROR", 20)
        with LoadLoop(vip, threads=2, max_seconds=30) as load:
            aio.call("PUT", f"{url}/{members['b1']}", json={"member": {"weight": 3}})
            aio.wait_lb(lb["id"])
            result = load.stop()
        assert result.failed == 0, result.errors
        assert set(result.names) == {"b1"}, result.names

        # Its health monitor removed while it is DOWN: nothing checks it any more, so it
        # must start afresh (in rotation), not stay DOWN for good.
        aio.call("DELETE", f"/v2/lbaas/healthmonitors/{pool['healthmonitor_id']}", expect=204)
        aio.wait_lb(lb["id"])
        revived = NamedBackend("b2", b2.address, b2.port)
        try:
            assert wait_for(lambda: answers(vip, 8)["b2"] > 0, 10)

            # Unchecked now: disabled, then enabled again, it is back in rotation.
            aio.call("PUT", f"{url}/{members['b1']}", json={"member": {"admin_state_up": False}})
            aio.wait_lb(lb["id"])
            assert answers(vip, 4) == collections.Counter({"b2": 4})
            aio.call("PUT", f"{url}/{members['b1']}", json={"member": {"admin_state_up": True}})
            aio.wait_lb(lb["id"])
            assert wait_for(lambda: answers(vip, 8)["b1"] > 0, 10)
        finally:
            revived.stop()
    finally:
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}", params={"cascade": "true"}, expect=204)
        aio.wait_lb_gone(lb["id"])
