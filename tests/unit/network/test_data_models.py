"""Neutron v2.0 JSON shapes and Neutron's list filter semantics."""

from __future__ import annotations

from octavia.network import base
from octavia.network import data_models as n


def _port() -> n.Port:
    return n.Port(id="p1", network_id="net1", fixed_ips=[n.FixedIP("s1", "10.9.0.5")],
                  device_id="lb-1", mac_address="fa:16:3e:00:00:01")


def test_port_has_neutron_fields() -> None:
    body = _port().to_neutron_dict()
    assert body["fixed_ips"] == [{"subnet_id": "s1", "ip_address": "10.9.0.5"}]
    assert body["tenant_id"] == body["project_id"] == ""
    assert {"device_owner", "admin_state_up", "status", "security_groups"} <= body.keys()


def test_subnet_and_network_fields() -> None:
    subnet = n.Subnet(id="s1", network_id="net1", cidr="10.9.0.0/24", ip_version=4, gateway_ip="10.9.0.1",
                      allocation_pools=[{"start": "10.9.0.2", "end": "10.9.0.254"}])
    body = subnet.to_neutron_dict()
    assert body["cidr"] == "10.9.0.0/24" and body["gateway_ip"] == "10.9.0.1"
    assert body["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.254"}]
    net = n.Network(id="net1", name="x", subnets=["s1"]).to_neutron_dict()
    assert net["subnets"] == ["s1"] and net["router:external"] is False


def test_filters_match_scalars_lists_and_fixed_ips() -> None:
    body = _port().to_neutron_dict()
    assert base.matches_filters(body, {"id": ["p2", "p1"]})
    assert not base.matches_filters(body, {"id": ["p2"]})
    assert base.matches_filters(body, {"fixed_ips": ["ip_address=10.9.0.5"]})
    assert not base.matches_filters(body, {"fixed_ips": ["ip_address=10.9.0.6"]})
    assert base.matches_filters(body, {"admin_state_up": ["True"]})
    assert not base.matches_filters(body, {"admin_state_up": ["false"]})
    net = n.Network(id="net1", subnets=["s1", "s2"]).to_neutron_dict()
    assert base.matches_filters(net, {"subnets": ["s2"]})


def test_vip_maps_to_load_balancer_columns() -> None:
    vip = n.Vip(ip_address="10.9.0.5", port_id="p1", subnet_id="s1", network_id="net1")
    assert vip.as_load_balancer_columns() == {
        "vip_address": "10.9.0.5", "vip_port_id": "p1", "vip_subnet_id": "s1",
        "vip_network_id": "net1", "vip_qos_policy_id": None,
    }
