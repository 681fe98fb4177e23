"""openstacksdk's `conn.load_balancer` proxy: load balancers, listeners, pools, members, monitors, L7."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exceptions

from tests.functional.clients.conftest import PROJECT, SUBNET

pytestmark = pytest.mark.clients

# The SDK's own waiting, polled faster than its 2 s default so the suite stays quick.
FAST = {"interval": 0.05, "wait": 30}


def _settled(sdk: Any, lb_id: str) -> Any:
    return sdk.load_balancer.wait_for_load_balancer(lb_id, **FAST)


def test_load_balancer_lifecycle(sdk, http, name):
    lbs = sdk.load_balancer
    lb = lbs.create_load_balancer(name=name, description="sdk", project_id=PROJECT, vip_subnet_id=SUBNET,
                                  tags=["a", "b"])
    assert lb.provisioning_status == "PENDING_CREATE" and lb.id
    lb = _settled(sdk, lb.id)
    assert lb.provisioning_status == "ACTIVE"
    assert (lb.project_id, lb.vip_subnet_id, lb.provider) == (PROJECT, SUBNET, "noop_driver")
    assert lb.vip_address and lb.vip_port_id and lb.is_admin_state_up is True
    assert sorted(lb.tags) == ["a", "b"]

    assert lbs.find_load_balancer(name).id == lb.id
    assert lbs.find_load_balancer(lb.id).name == name
    assert lbs.find_load_balancer(name + "-missing") is None
    assert lbs.get_load_balancer(lb.id).description == "sdk"

    def listed(**query: Any) -> list[str]:
        return [x.id for x in lbs.load_balancers(name=name, **query)]

    assert listed(provisioning_status="ACTIVE", project_id=PROJECT) == [lb.id]
    assert listed(vip_subnet_id=SUBNET, provider="noop_driver") == [lb.id]
    assert listed(tags="a,b") == [lb.id]
    assert listed(is_admin_state_up=False) == []

    lbs.update_load_balancer(lb.id, name=name + "-2", description="", is_admin_state_up=False, tags=["c"])
    lb = _settled(sdk, lb.id)
    assert (lb.name, lb.description, lb.is_admin_state_up, lb.tags) == (name + "-2", "", False, ["c"])

    stats = lbs.get_load_balancer_statistics(lb.id)
    assert (stats.bytes_in, stats.bytes_out, stats.active_connections) == (0, 0, 0)
    assert stats.total_connections == 0

    lbs.failover_load_balancer(lb.id)
    assert _settled(sdk, lb.id).provisioning_status == "ACTIVE"

    lbs.delete_load_balancer(lb.id)
    lbs.wait_for_delete(lb, **FAST)
    with pytest.raises(sdk_exceptions.NotFoundException):
        lbs.get_load_balancer(lb.id)
    assert lbs.find_load_balancer(lb.id) is None


def test_children_and_cascade_delete(sdk, http, name):
    lbs = sdk.load_balancer
    lb = _settled(sdk, lbs.create_load_balancer(name=name, project_id=PROJECT, vip_subnet_id=SUBNET).id)

    listener = lbs.create_listener(name=name, load_balancer_id=lb.id, protocol="HTTP", protocol_port=80,
                                   connection_limit=50, insert_headers={"X-Forwarded-For": "true"},
                                   allowed_cidrs=["10.0.0.0/8"], tags=["web"])
    _settled(sdk, lb.id)
    listener = lbs.get_listener(listener.id)
    assert listener.provisioning_status == "ACTIVE" and listener.connection_limit == 50
    assert listener.insert_headers == {"X-Forwarded-For": "true"} and listener.allowed_cidrs == ["10.0.0.0/8"]
    assert listener.load_balancers == [{"id": lb.id}]
    assert lbs.find_listener(name).id == listener.id
    assert [x.id for x in lbs.listeners(load_balancer_id=lb.id, protocol="HTTP", protocol_port=80)] == [
        listener.id
    ]
    lbs.update_listener(listener.id, connection_limit=None, timeout_client_data=1234)
    _settled(sdk, lb.id)
    listener = lbs.get_listener(listener.id)
    assert listener.connection_limit == -1 and listener.timeout_client_data == 1234
    stats = lbs.get_listener_statistics(listener.id)
    assert stats.bytes_in == 0 and stats.request_errors == 0

    pool = lbs.create_pool(name=name, listener_id=listener.id, protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                           session_persistence={"type": "HTTP_COOKIE"})
    _settled(sdk, lb.id)
    pool = lbs.get_pool(pool.id)
    assert pool.provisioning_status == "ACTIVE" and pool.session_persistence["type"] == "HTTP_COOKIE"
    assert pool.listeners == [{"id": listener.id}] and pool.loadbalancers == [{"id": lb.id}]
    assert lbs.get_listener(listener.id).default_pool_id == pool.id
    assert [x.id for x in lbs.pools(loadbalancer_id=lb.id, lb_algorithm="ROUND_ROBIN")] == [pool.id]
    lbs.update_pool(pool.id, lb_algorithm="LEAST_CONNECTIONS", session_persistence=None)
    _settled(sdk, lb.id)
    pool = lbs.find_pool(name)
    assert pool.lb_algorithm == "LEAST_CONNECTIONS" and not pool.session_persistence

    member = lbs.create_member(pool, address="192.0.2.50", protocol_port=8080, subnet_id=SUBNET, weight=3,
                               name=name)
    _settled(sdk, lb.id)
    member = lbs.get_member(member.id, pool)
    assert (member.address, member.protocol_port, member.weight) == ("192.0.2.50", 8080, 3)
    assert member.provisioning_status == "ACTIVE" and member.operating_status == "NO_MONITOR"
    assert lbs.find_member(name, pool).id == member.id
    assert [m.id for m in lbs.members(pool, protocol_port=8080, address="192.0.2.50")] == [member.id]
    lbs.update_member(member, pool, weight=7, backup=True)
    _settled(sdk, lb.id)
    member = lbs.get_member(member.id, pool)
    assert member.weight == 7 and member.backup is True

    hm = lbs.create_health_monitor(pool_id=pool.id, type="HTTP", delay=3, timeout=2, max_retries=2,
                                   url_path="/live", expected_codes="200-204", name=name)
    _settled(sdk, lb.id)
    hm = lbs.get_health_monitor(hm.id)
    assert (hm.type, hm.delay, hm.url_path, hm.expected_codes) == ("HTTP", 3, "/live", "200-204")
    assert hm.pools == [{"id": pool.id}] and lbs.get_pool(pool.id).health_monitor_id == hm.id
    assert lbs.find_health_monitor(name).id == hm.id
    assert [x.id for x in lbs.health_monitors(pool_id=pool.id, type="HTTP")] == [hm.id]
    lbs.update_health_monitor(hm.id, delay=9, url_path=None)
    _settled(sdk, lb.id)
    hm = lbs.get_health_monitor(hm.id)
    assert hm.delay == 9 and hm.url_path == "/"

    policy = lbs.create_l7_policy(listener_id=listener.id, action="REDIRECT_TO_URL",
                                  redirect_url="https://example.com", name=name)
    _settled(sdk, lb.id)
    rule = lbs.create_l7_rule(policy, type="HOST_NAME", compare_type="ENDS_WITH", rule_value=".example.org")
    _settled(sdk, lb.id)
    policy = lbs.get_l7_policy(policy.id)
    assert policy.redirect_url == "https://example.com" and policy.rules == [{"id": rule.id}]
    assert lbs.find_l7_policy(name).id == policy.id
    assert [p.id for p in lbs.l7_policies(listener_id=listener.id, action="REDIRECT_TO_URL")] == [policy.id]
    rule = lbs.get_l7_rule(rule.id, policy)
    assert (rule.type, rule.compare_type, rule.rule_value) == ("HOST_NAME", "ENDS_WITH", ".example.org")
    assert [r.id for r in lbs.l7_rules(policy, type="HOST_NAME")] == [rule.id]
    lbs.update_l7_rule(rule, policy, rule_value="example.net", compare_type="EQUAL_TO")
    _settled(sdk, lb.id)
    lbs.update_l7_policy(policy.id, position=1, redirect_url="https://example.net/")
    _settled(sdk, lb.id)
    assert lbs.get_l7_rule(rule.id, policy).rule_value == "example.net"
    assert lbs.get_l7_policy(policy.id).redirect_url == "https://example.net/"

    # Deletes bottom-up with the SDK, then a cascade for the rest.
    lbs.delete_l7_rule(rule, policy)
    _settled(sdk, lb.id)
    assert list(lbs.l7_rules(policy)) == []
    lbs.delete_health_monitor(hm)
    _settled(sdk, lb.id)
    assert lbs.find_health_monitor(hm.id) is None
    lbs.delete_member(member, pool)
    _settled(sdk, lb.id)
    assert list(lbs.members(pool)) == []

    with pytest.raises(sdk_exceptions.BadRequestException, match="it has children"):
        lbs.delete_load_balancer(lb.id)
    lbs.delete_load_balancer(lb.id, cascade=True)
    lbs.wait_for_delete(lb, **FAST)
    for path in (f"/v2/lbaas/listeners/{listener.id}", f"/v2/lbaas/pools/{pool.id}",
                 f"/v2/lbaas/l7policies/{policy.id}"):
        assert http.status(path) == 404


def test_errors_carry_the_faultstring(sdk, name):
    lbs = sdk.load_balancer
    with pytest.raises(sdk_exceptions.BadRequestException, match="vip_subnet_id|vip_network_id|vip_port_id"):
        lbs.create_load_balancer(name=name, project_id=PROJECT)
    with pytest.raises(sdk_exceptions.NotFoundException):
        lbs.get_pool("00000000-0000-4000-8000-000000000000")
    lb = lbs.create_load_balancer(name=name, project_id=PROJECT, vip_subnet_id=SUBNET)
    _settled(sdk, lb.id)
    lbs.create_listener(load_balancer_id=lb.id, protocol="TCP", protocol_port=99)
    _settled(sdk, lb.id)
    with pytest.raises(sdk_exceptions.ConflictException, match="already"):
        lbs.create_listener(load_balancer_id=lb.id, protocol="TCP", protocol_port=99)
    with pytest.raises(sdk_exceptions.BadRequestException, match="lb_algorithm"):
        lbs.create_pool(loadbalancer_id=lb.id, protocol="TCP", lb_algorithm="FASTEST")
    lbs.delete_load_balancer(lb.id, cascade=True)
    lbs.wait_for_delete(lb, **FAST)


def test_many_load_balancers_on_one_subnet_and_paginated_listing(sdk, name):
    """40 LBs on one subnet all get a VIP (driver-picked addresses never 409); the SDK pages through them."""
    lbs = sdk.load_balancer
    created = [lbs.create_load_balancer(name=f"{name}-{i}", project_id=PROJECT, vip_subnet_id=SUBNET,
                                        tags=[name]) for i in range(40)]
    try:
        for lb in created:
            _settled(sdk, lb.id)
        paged = list(lbs.load_balancers(tags=name, limit=7, paginated=True))
        assert sorted(lb.id for lb in paged) == sorted(lb.id for lb in created)
    finally:
        for lb in created:
            lbs.delete_load_balancer(lb.id)
        for lb in created:
            lbs.wait_for_delete(lb, **FAST)
