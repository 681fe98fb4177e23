"""ORM rows (built in memory) -> octavia-lib provider data models."""

from __future__ import annotations

import datetime

import pytest
from octavia_lib.api.drivers import data_models as dm

from octavia.db import models
from octavia.providers import convert

T0 = datetime.datetime(2024, 1, 1)


def _status() -> dict[str, str]:
    return {"provisioning_status": "ACTIVE", "operating_status": "ONLINE"}


@pytest.fixture
def lb() -> models.LoadBalancer:
    lb = models.LoadBalancer(
        id="lb-1", project_id="proj", name="web", description="front", enabled=True,
        vip_address="203.0.113.10", vip_network_id="net-1", vip_port_id="port-1", vip_subnet_id="sub-1",
        vip_qos_policy_id="qos-1", vip_sg_ids=["sg-1"],
        additional_vips=[{"subnet_id": "sub-2", "ip_address": "2001:db8::10", "port_id": "port-1"}],
        flavor_id=None, availability_zone=None, **_status(),
    )
    pool = models.Pool(
        id="pool-1", project_id="proj", load_balancer_id="lb-1", name="p", description="pd",
        protocol="HTTP", lb_algorithm="ROUND_ROBIN", enabled=True,
        session_persistence={"type": "APP_COOKIE", "cookie_name": "sid"}, tls_enabled=False,
        tls_versions=["TLSv1.2"], alpn_protocols=["http/1.1"], created_at=T0, **_status(),
    )
    pool.members = [
        models.Member(
            id="m-1", project_id="proj", pool_id="pool-1", name="a", ip_address="192.0.2.10",
            protocol_port=8080,
            weight=5, backup=True, subnet_id="sub-1", monitor_address="192.0.2.11", monitor_port=9000,
            enabled=False, vnic_type="normal", **_status(),
        )
    ]
    pool.health_monitor = models.HealthMonitor(
        id="hm-1", project_id="proj", pool_id="pool-1", name="hm", type="HTTP", delay=5, timeout=3,
        rise_threshold=4, fall_threshold=2, http_method="GET", url_path="/health", expected_codes="200-204",
        http_version=1.1, domain_name="example.com", enabled=True, **_status(),
    )
    spare = models.Pool(id="pool-2", project_id="proj", load_balancer_id="lb-1", protocol="TCP",
                        lb_algorithm="SOURCE_IP", enabled=True, created_at=T0, **_status())
    listener = models.Listener(
        id="l-1", project_id="proj", load_balancer_id="lb-1", name="http", protocol="HTTP", protocol_port=80,
        connection_limit=-1, enabled=True, default_pool_id="pool-1", default_pool=pool,
        insert_headers={"X-Forwarded-For": "true"}, allowed_cidrs=["10.0.0.0/8"], sni_container_refs=[],
        client_authentication="NONE", timeout_client_data=50000, hsts_include_subdomains=False,
        hsts_preload=False, created_at=T0, **_status(),
    )
    policy = models.L7Policy(
        id="pol-1", project_id="proj", listener_id="l-1", name="r", action="REDIRECT_TO_POOL",
        redirect_pool_id="pool-2", position=1, enabled=True, **_status(),
    )
    policy.rules = [
        models.L7Rule(id="rule-1", project_id="proj", l7policy_id="pol-1", type="PATH",
                      compare_type="STARTS_WITH", key=None, value="/api", invert=False, enabled=True,
                      **_status())
    ]
    listener.l7policies = [policy]
    lb.listeners = [listener]
    lb.pools = [pool, spare]
    return lb


def test_load_balancer_fields_use_octavia_lib_names(lb: models.LoadBalancer) -> None:
    out = convert.loadbalancer(lb)
    assert isinstance(out, dm.LoadBalancer)
    assert out.loadbalancer_id == "lb-1"
    assert out.admin_state_up is True
    vip = (out.vip_address, out.vip_network_id, out.vip_port_id, out.vip_subnet_id, out.vip_qos_policy_id)
    assert vip == ("203.0.113.10", "net-1", "port-1", "sub-1", "qos-1")
    assert out.vip_sg_ids == ["sg-1"]
    assert out.additional_vips == [{"subnet_id": "sub-2", "ip_address": "2001:db8::10", "port_id": "port-1"}]
    assert out.project_id == "proj"
    # No flavor / AZ and no session to look them up: Unset, not None.
    assert out.flavor is dm.Unset
    assert out.availability_zone is dm.Unset


def test_flavor_and_zone_metadata_given_explicitly(lb: models.LoadBalancer) -> None:
    out = convert.loadbalancer(lb, flavor={"amp_image_tag": "x"}, availability_zone={"compute_zone": "az1"})
    assert out.flavor == {"amp_image_tag": "x"}
    assert out.availability_zone == {"compute_zone": "az1"}


def test_the_tree_is_fully_populated(lb: models.LoadBalancer) -> None:
    out = convert.loadbalancer(lb)
    (listener,) = out.listeners
    assert listener.loadbalancer_id == "lb-1"
    assert listener.default_pool_id == "pool-1"
    assert listener.default_pool.pool_id == "pool-1"
    assert listener.default_pool.members[0].address == "192.0.2.10"
    assert listener.insert_headers == {"X-Forwarded-For": "true"}
    assert listener.allowed_cidrs == ["10.0.0.0/8"]
    (policy,) = listener.l7policies
    assert (policy.l7policy_id, policy.listener_id, policy.redirect_pool_id) == ("pol-1", "l-1", "pool-2")
    assert policy.rules[0].value == "/api"
    assert policy.rules[0].l7policy_id == "pol-1"
    pools = {p.pool_id: p for p in out.pools}
    assert pools["pool-1"].listener_id == "l-1"
    assert pools["pool-2"].listener_id is None
    assert pools["pool-2"].members == []
    assert pools["pool-2"].healthmonitor is dm.Unset


def test_member_fields(lb: models.LoadBalancer) -> None:
    out = convert.member(lb.pools[0].members[0])
    assert out.to_dict() == {
        "address": "192.0.2.10", "admin_state_up": False, "member_id": "m-1", "monitor_address": "192.0.2.11",
        "monitor_port": 9000, "name": "a", "pool_id": "pool-1", "protocol_port": 8080, "subnet_id": "sub-1",
        "weight": 5, "backup": True, "project_id": "proj", "vnic_type": "normal",
    }


def test_health_monitor_maps_thresholds_to_retries(lb: models.LoadBalancer) -> None:
    out = convert.healthmonitor(lb.pools[0].health_monitor)
    assert (out.max_retries, out.max_retries_down) == (4, 2)
    assert (out.healthmonitor_id, out.pool_id, out.type, out.http_version) == ("hm-1", "pool-1", "HTTP", 1.1)
    assert out.url_path == "/health" and out.expected_codes == "200-204"


def test_pool_fields(lb: models.LoadBalancer) -> None:
    out = convert.pool(lb.pools[0])
    assert out.session_persistence == {"type": "APP_COOKIE", "cookie_name": "sid"}
    assert out.listener_id == "l-1"
    assert out.healthmonitor.healthmonitor_id == "hm-1"
    assert (out.lb_algorithm, out.protocol, out.tls_versions) == ("ROUND_ROBIN", "HTTP", ["TLSv1.2"])


def test_to_dict_is_json_ready(lb: models.LoadBalancer) -> None:
    """What the get socket sends: nested dicts, Unset rendered as None."""
    data = convert.loadbalancer(lb).to_dict(recurse=True, render_unsets=True)
    assert data["flavor"] is None
    assert data["listeners"][0]["default_pool"]["healthmonitor"]["max_retries"] == 4
    assert data["listeners"][0]["l7policies"][0]["rules"][0]["l7rule_id"] == "rule-1"
    assert data["listeners"][0]["default_tls_container_data"] is None


def test_update_dict_sets_only_the_changed_fields(lb: models.LoadBalancer) -> None:
    new = convert.update_dict("loadbalancer", lb, {"name": "renamed", "admin_state_up": False, "tags": ["x"]})
    assert new.to_dict() == {"loadbalancer_id": "lb-1", "name": "renamed", "admin_state_up": False}
    assert new.description is dm.Unset


def test_update_dict_accepts_storage_names(lb: models.LoadBalancer) -> None:
    member = lb.pools[0].members[0]
    new = convert.update_dict("member", member, {"ip_address": "192.0.2.99", "enabled": True, "weight": 0})
    assert new.to_dict() == {"member_id": "m-1", "address": "192.0.2.99", "admin_state_up": True, "weight": 0}
    hm_row = lb.pools[0].health_monitor
    hm = convert.update_dict("healthmonitor", hm_row, {"rise_threshold": 7, "max_retries_down": 3})
    assert hm.to_dict() == {"healthmonitor_id": "hm-1", "max_retries": 7, "max_retries_down": 3}


def test_update_dict_keeps_explicit_nulls(lb: models.LoadBalancer) -> None:
    listener = lb.listeners[0]
    new = convert.update_dict("listener", listener, {"default_pool_id": None, "provisioning_status": "X"})
    assert new.to_dict() == {"listener_id": "l-1", "default_pool_id": None}
