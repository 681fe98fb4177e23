"""What the noop provider reports for each operation (states.md §4, §5)."""

from __future__ import annotations

from typing import Any

import pytest
from octavia_lib.api.drivers import data_models as dm

from octavia.providers import noop_completion as nc


def _tree() -> dict[str, Any]:
    """LB with: l-1 (default pool p-1, policy pol-1 -> p-2, rule r-1), l-2 (no pool),
    p-1 (members m-1, m-2 and an enabled HM), p-2 (member m-3, no HM), p-3 (disabled HM)."""
    p1 = dm.Pool(pool_id="p-1", loadbalancer_id="lb", admin_state_up=True,
                 healthmonitor=dm.HealthMonitor(healthmonitor_id="hm-1", pool_id="p-1", admin_state_up=True),
                 members=[dm.Member(member_id="m-1", pool_id="p-1", address="10.0.0.1", protocol_port=80),
                          dm.Member(member_id="m-2", pool_id="p-1", address="10.0.0.2", protocol_port=80)])
    p2 = dm.Pool(pool_id="p-2", loadbalancer_id="lb", admin_state_up=True, members=[
        dm.Member(member_id="m-3", pool_id="p-2", address="10.0.0.3", protocol_port=81)])
    p3 = dm.Pool(pool_id="p-3", loadbalancer_id="lb", admin_state_up=True, members=[
        dm.Member(member_id="m-4", pool_id="p-3", address="10.0.0.4", protocol_port=80)],
        healthmonitor=dm.HealthMonitor(healthmonitor_id="hm-3", pool_id="p-3", admin_state_up=False))
    rule = dm.L7Rule(l7rule_id="r-1", l7policy_id="pol-1", admin_state_up=True)
    disabled_rule = dm.L7Rule(l7rule_id="r-2", l7policy_id="pol-1", admin_state_up=False)
    policy = dm.L7Policy(l7policy_id="pol-1", listener_id="l-1", redirect_pool_id="p-2", admin_state_up=False,
                         rules=[rule, disabled_rule])
    l1 = dm.Listener(listener_id="l-1", loadbalancer_id="lb", default_pool_id="p-1", default_pool=p1,
                     l7policies=[policy])
    l2 = dm.Listener(listener_id="l-2", loadbalancer_id="lb", default_pool_id=None, l7policies=[])
    lb = dm.LoadBalancer(loadbalancer_id="lb", listeners=[l1, l2], pools=[p1, p2, p3])
    return lb.to_dict(recurse=True, render_unsets=True)


def _by_id(message: dict[str, list[dict[str, str]]]) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (kind, r["id"]): {k: v for k, v in r.items() if k != "id"} for kind, rs in message.items() for r in rs
    }


def test_load_balancer_created_activates_everything_with_noop_operating_statuses() -> None:
    got = _by_id(nc.load_balancer_created(_tree()))
    assert got[("loadbalancers", "lb")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert got[("listeners", "l-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert got[("pools", "p-2")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    # Member health is unknown without an HM, not yet reported with one.
    assert got[("members", "m-3")]["operating_status"] == "NO_MONITOR"
    assert got[("members", "m-1")]["operating_status"] == "OFFLINE"
    assert got[("members", "m-4")]["operating_status"] == "NO_MONITOR"  # its HM is disabled
    assert got[("healthmonitors", "hm-1")] == {"provisioning_status": "ACTIVE", "operating_status": "ONLINE"}
    assert got[("healthmonitors", "hm-3")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert got[("l7policies", "pol-1")]["operating_status"] == "OFFLINE"
    assert got[("l7rules", "r-1")]["operating_status"] == "ONLINE"
    assert got[("l7rules", "r-2")]["operating_status"] == "OFFLINE"
    assert all(v["provisioning_status"] == "ACTIVE" for v in got.values())


def test_load_balancer_delete_update_and_failover() -> None:
    assert nc.load_balancer_deleted("lb") == {
        "loadbalancers": [{"id": "lb", "provisioning_status": "DELETED", "operating_status": "OFFLINE"}]}
    assert nc.load_balancer_settled("lb") == {
        "loadbalancers": [{"id": "lb", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}]}


def test_member_created_unlocks_pool_its_listeners_and_the_lb() -> None:
    got = _by_id(nc.member_done(_tree(), "p-2", "m-3", "created"))
    assert got[("members", "m-3")] == {"provisioning_status": "ACTIVE", "operating_status": "NO_MONITOR"}
    assert got[("pools", "p-2")] == {"provisioning_status": "ACTIVE"}
    # l-1 redirects to p-2 through its policy; l-2 has nothing to do with p-2.
    assert got[("listeners", "l-1")] == {"provisioning_status": "ACTIVE"}
    assert ("listeners", "l-2") not in got
    assert got[("loadbalancers", "lb")] == {"provisioning_status": "ACTIVE"}


def test_member_deleted() -> None:
    got = _by_id(nc.member_done(_tree(), "p-1", "m-2", "deleted"))
    assert got[("members", "m-2")] == {"provisioning_status": "DELETED"}
    assert got[("listeners", "l-1")] == {"provisioning_status": "ACTIVE"}


def test_member_batch_keeps_wanted_members_and_deletes_the_rest() -> None:
    wanted = [{"member_id": "m-1"}, {"address": "10.0.0.2", "protocol_port": 80}]
    got = _by_id(nc.members_batch_done(_tree(), "p-1", wanted))
    assert got[("members", "m-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert got[("members", "m-2")]["provisioning_status"] == "ACTIVE"
    got = _by_id(nc.members_batch_done(_tree(), "p-1", [{"member_id": "m-2"}]))
    assert got[("members", "m-1")] == {"provisioning_status": "DELETED"}
    assert got[("pools", "p-1")] == {"provisioning_status": "ACTIVE"}


def test_health_monitor_delete_leaves_members_unmonitored() -> None:
    got = _by_id(nc.health_monitor_done(_tree(), "p-1", "hm-1", "deleted"))
    assert got[("healthmonitors", "hm-1")] == {"provisioning_status": "DELETED"}
    assert got[("members", "m-1")] == {"operating_status": "NO_MONITOR"}
    assert got[("members", "m-2")] == {"operating_status": "NO_MONITOR"}
    assert got[("pools", "p-1")] == {"provisioning_status": "ACTIVE"}


def test_health_monitor_update_uses_the_new_state_not_the_tree() -> None:
    got = _by_id(nc.health_monitor_done(_tree(), "p-1", "hm-1", "updated", {"admin_state_up": False}))
    assert got[("healthmonitors", "hm-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert got[("members", "m-1")] == {"operating_status": "NO_MONITOR"}


def test_health_monitor_created_on_a_pool_with_members() -> None:
    got = _by_id(nc.health_monitor_done(_tree(), "p-1", "hm-1", "created"))
    assert got[("healthmonitors", "hm-1")]["operating_status"] == "ONLINE"
    assert got[("members", "m-1")] == {"operating_status": "OFFLINE"}


def test_listener_outcomes() -> None:
    created = _by_id(nc.listener_done(_tree(), "l-1", "created"))
    assert created[("listeners", "l-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert created[("l7policies", "pol-1")]["provisioning_status"] == "ACTIVE"
    assert created[("l7rules", "r-2")]["provisioning_status"] == "ACTIVE"
    assert created[("pools", "p-1")]["provisioning_status"] == "ACTIVE"
    deleted = _by_id(nc.listener_done(_tree(), "l-2", "deleted"))
    assert deleted == {("loadbalancers", "lb"): {"provisioning_status": "ACTIVE"},
                       ("listeners", "l-2"): {"provisioning_status": "DELETED"}}


def test_pool_created_and_deleted() -> None:
    created = _by_id(nc.pool_done(_tree(), "p-1", "created"))
    assert created[("pools", "p-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert created[("healthmonitors", "hm-1")]["provisioning_status"] == "ACTIVE"
    assert created[("listeners", "l-1")] == {"provisioning_status": "ACTIVE"}
    deleted = _by_id(nc.pool_done(_tree(), "p-3", "deleted"))
    assert deleted == {("loadbalancers", "lb"): {"provisioning_status": "ACTIVE"},
                       ("pools", "p-3"): {"provisioning_status": "DELETED"}}


def test_l7_policy_and_rule_outcomes() -> None:
    created = _by_id(nc.l7policy_done(_tree(), "l-1", "pol-1", "created"))
    active_offline = {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert created[("l7policies", "pol-1")] == active_offline
    assert created[("l7rules", "r-1")] == {"provisioning_status": "ACTIVE", "operating_status": "ONLINE"}
    assert created[("listeners", "l-1")] == {"provisioning_status": "ACTIVE"}
    updated = _by_id(nc.l7policy_done(_tree(), "l-1", "pol-1", "updated", {"admin_state_up": True}))
    assert updated[("l7policies", "pol-1")]["operating_status"] == "ONLINE"
    assert ("l7rules", "r-1") not in updated
    rule = _by_id(nc.l7rule_done(_tree(), "l-1", "pol-1", "r-1", "updated", {"admin_state_up": False}))
    assert rule[("l7rules", "r-1")] == {"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"}
    assert rule[("l7policies", "pol-1")] == {"provisioning_status": "ACTIVE"}
    gone = _by_id(nc.l7rule_done(_tree(), "l-1", "pol-1", "r-2", "deleted"))
    assert gone[("l7rules", "r-2")] == {"provisioning_status": "DELETED"}


@pytest.mark.parametrize("pool_id, expected", [("p-1", ["l-1"]), ("p-2", ["l-1"]), ("p-3", [])])
def test_pool_listener_ids(pool_id: str, expected: list[str]) -> None:
    assert nc.pool_listener_ids(_tree(), pool_id) == expected


def test_status_report_merges_records_of_one_object() -> None:
    report = nc.StatusReport()
    report.add("members", "m", "ACTIVE")
    report.add("members", "m", None, "OFFLINE")
    assert report.message() == {"members": [{"id": "m", "provisioning_status": "ACTIVE",
                                             "operating_status": "OFFLINE"}]}
