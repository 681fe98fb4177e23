"""What plugging a VIP or a member network configures (pure planning, no netlink)."""

from __future__ import annotations

import pytest

from octavia.amphorae.agent.network_plug import (
    VIP_TABLE,
    PlugError,
    Route,
    Rule,
    loopback_vips,
    on_loopback_network,
    plan_network,
    plan_vip,
)

BODY = {
    "subnet_cidr": "10.0.0.0/24",
    "gateway": "10.0.0.1",
    "mac_address": "fa:16:3e:00:00:01",
    "vrrp_ip": "10.0.0.5",
    "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}],
    "mtu": 1450,
    "additional_vips": [],
}


def test_single_topology_owns_the_vip_and_routes_it_by_source() -> None:
    plan = plan_vip("10.0.0.10", BODY, "SINGLE")
    assert plan.mac_address == "fa:16:3e:00:00:01" and plan.mtu == 1450
    assert plan.addresses == [("10.0.0.5", 24), ("10.0.0.10", 32)]
    assert Route(dst="0.0.0.0/0", gateway="10.0.0.1") in plan.routes
    assert Route(dst="0.0.0.0/0", gateway="10.0.0.1", table=VIP_TABLE) in plan.routes
    assert Route(dst="10.0.0.0/24", table=VIP_TABLE, prefsrc="10.0.0.10", scope_link=True) in plan.routes
    assert Route(dst="192.168.0.0/16", gateway="10.0.0.254") in plan.routes
    assert Route(dst="192.168.0.0/16", gateway="10.0.0.254", table=VIP_TABLE) in plan.routes
    assert plan.rules == [Rule(src="10.0.0.10", src_len=32, table=VIP_TABLE)]


def test_active_standby_leaves_the_vip_to_keepalived() -> None:
    plan = plan_vip("10.0.0.10", BODY, "ACTIVE_STANDBY")
    assert plan.addresses == [("10.0.0.5", 24)]
    assert plan.rules == []
    assert all(route.table is None for route in plan.routes)


def test_ipv6_and_additional_vips() -> None:
    body = {
        **BODY,
        "additional_vips": [
            {"ip_address": "2001:db8::10", "subnet_cidr": "2001:db8::/64", "gateway": "2001:db8::1",
             "host_routes": []}
        ],
    }
    plan = plan_vip("10.0.0.10", body, "SINGLE")
    assert ("2001:db8::10", 128) in plan.addresses
    assert Route(dst="::/0", gateway="2001:db8::1", table=VIP_TABLE) in plan.routes
    assert Rule(src="2001:db8::10", src_len=128, table=VIP_TABLE) in plan.rules


@pytest.mark.parametrize(
    ("vip", "changes"),
    [
        ("10.0.1.10", {}),
        ("not-an-ip", {}),
        ("10.0.0.10", {"subnet_cidr": "10.0.0.0/33"}),
        ("10.0.0.10", {"gateway": "gateway"}),
        ("10.0.0.10", {"vrrp_ip": "10.0.0.300"}),
        ("10.0.0.10", {"host_routes": [{"destination": "x", "nexthop": "10.0.0.1"}]}),
    ],
)
def test_bad_vip_requests(vip: str, changes: dict[str, object]) -> None:
    with pytest.raises(PlugError):
        plan_vip(vip, {**BODY, **changes}, "SINGLE")


def test_member_network_plan() -> None:
    plan = plan_network(
        {"interface": "eth2", "mtu": None,
         "fixed_ips": [{"ip_address": "10.1.0.5", "subnet_cidr": "10.1.0.0/24",
                        "host_routes": [{"destination": "10.2.0.0/16", "nexthop": "10.1.0.1"}]}]}
    )
    assert plan.interface == "eth2"
    assert plan.addresses == [("10.1.0.5", 24)]
    assert plan.routes == [Route(dst="10.2.0.0/16", gateway="10.1.0.1")]
    with pytest.raises(PlugError):
        plan_network({"fixed_ips": [{"ip_address": "10.9.0.5", "subnet_cidr": "10.1.0.0/24"}]})


def test_loopback_detection() -> None:
    assert loopback_vips("127.1.2.3", {})
    assert not loopback_vips("10.0.0.1", {})
    with pytest.raises(PlugError):
        loopback_vips("127.1.2.3", {"additional_vips": [{"ip_address": "10.0.0.1"}]})
    assert on_loopback_network("127.9.9.9", "127.0.0.1/8")
    assert not on_loopback_network("10.0.0.1", "10.0.0.2/24")
