"""A fully populated load balancer built by the default all-in-one carries real traffic,
follows member changes, reports health and statistics from heartbeats, and leaves
nothing on the host once deleted."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from tests.integration.e2e import host
from tests.integration.e2e.harness import AllInOne, populated_lb_body, wait_for
from tests.integration.e2e.traffic import NamedBackend, answers, get

pytestmark = pytest.mark.slow


def _members(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pool = tree["listeners"][0]["pools"][0]
    return {f"{m['address']}:{m['protocol_port']}": m for m in pool["members"]}


def _all_online(tree: dict[str, Any]) -> bool:
    listener = tree["listeners"][0]
    pool = listener["pools"][0]
    statuses = [tree["operating_status"], listener["operating_status"], pool["operating_status"]]
    statuses += [m["operating_status"] for m in pool["members"]]
    return all(status == "ONLINE" for status in statuses)


def _key(backend: NamedBackend) -> str:
    return f"{backend.address}:{backend.port}"


def test_populated_lb_serves_follows_changes_and_leaves_nothing(
    aio: AllInOne, backends: list[NamedBackend]
) -> None:
    b1, b2, b3, _ = backends
    subnet = aio.vip_subnet()
    body = populated_lb_body(subnet["id"], [(b1.address, b1.port), (b2.address, b2.port)])
    created = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
    lb_id, vip = created["id"], created["vip_address"]
    pool_id = created["pools"][0]["id"]
    assert created["provider"] == "amphora"
    aio.wait_lb(lb_id)

    # Round robin over both members, from the host to the VIP.
    assert answers(vip, 10) == collections.Counter({"b1": 5, "b2": 5})

    # Operating statuses come from the amphora's heartbeats (creation leaves them OFFLINE).
    assert wait_for(lambda: _all_online(aio.status_tree(lb_id)), 30), aio.status_tree(lb_id)

    # Statistics grow with the traffic, also through heartbeats.
    before = aio.stats(lb_id)
    answers(vip, 8)
    assert wait_for(lambda: aio.stats(lb_id)["total_connections"] >= before["total_connections"] + 8, 15)
    after = aio.stats(lb_id)
    assert after["bytes_in"] > before["bytes_in"] and after["bytes_out"] > before["bytes_out"]

    # A member added through the API takes its share.
    aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
             json={"member": {"address": b3.address, "protocol_port": b3.port}})
    aio.wait_lb(lb_id)
    assert answers(vip, 9) == collections.Counter({"b1": 3, "b2": 3, "b3": 3})

    # A member removed gets no more requests.
    member_b1 = _members(aio.status_tree(lb_id))[_key(b1)]
    aio.call("DELETE", f"/v2/lbaas/pools/{pool_id}/members/{member_b1['id']}", expect=204)
    aio.wait_lb(lb_id)
    assert answers(vip, 6) == collections.Counter({"b2": 3, "b3": 3})

    # A member that dies is reported ERROR (pool DEGRADED) and taken out of rotation.
    b3.stop()

    def b3_down() -> bool:
        tree = aio.status_tree(lb_id)
        return bool(_members(tree)[_key(b3)]["operating_status"] == "ERROR"
                    and tree["listeners"][0]["pools"][0]["operating_status"] == "DEGRADED")

    assert wait_for(b3_down, 30), aio.status_tree(lb_id)
    assert answers(vip, 4) == collections.Counter({"b2": 4})

    # Deleting the load balancer removes its amphora and everything the amphora had.
    amphorae = aio.amphorae(lb_id)
    assert len(amphorae) == 1
    compute_id = amphorae[0]["compute_id"]
    pids = host.amphora_pids(aio.state_path, compute_id)
    assert len(pids) >= 3, pids  # the agent, the HAProxy master and its worker
    aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb_id}", params={"cascade": "true"}, expect=204)
    aio.wait_lb_gone(lb_id)
    vrrp_port_id = amphorae[0]["vrrp_port_id"]
    assert host.amphora_leftovers(aio.state_path, compute_id, vrrp_port_id, aio.mode, pids) == []
    if aio.mode == "netns":
        for bridge in [aio.management_bridge, *aio.bridges()]:
            assert host.bridge_ports(bridge) == [], bridge
    ports = aio.get("/v2.0/ports")["ports"]
    assert [p for p in ports if p["fixed_ips"] and any(f["ip_address"] == vip for f in p["fixed_ips"])] == []
    with pytest.raises(OSError):
        get(vip, timeout=1.0)
