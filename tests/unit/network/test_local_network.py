"""The local network driver's registry and VIP rules (loopback mode: no host changes)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from octavia.common import constants
from octavia.db import models
from octavia.db.api import session_scope
from octavia.network import base
from octavia.network import data_models as n
from tests.unit.network.fakes import FakeAmphora, FakeLoadBalancer


def _subnet(driver: Any) -> n.Subnet:
    return driver.get_subnet(driver.get_network(driver.default_network_id).subnets[0])


def test_first_use_creates_the_default_vip_network(local_driver: Any) -> None:
    (network,) = local_driver.list_networks({"name": ["lb-vip-network"]})
    subnet = _subnet(local_driver)
    assert subnet.network_id == network.id
    assert ipaddress.ip_network(subnet.cidr).is_loopback
    assert subnet.gateway_ip == str(ipaddress.ip_network(subnet.cidr).network_address + 1)
    again = type(local_driver)()
    assert again.default_network_id == network.id
    assert len(again.list_networks()) == 1


def test_vips_get_the_lowest_free_address_and_are_released(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    start = ipaddress.ip_address(subnet.allocation_pools[0]["start"])
    first, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id))
    second, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id))
    assert [first.ip_address, second.ip_address] == [str(start), str(start + 1)]
    assert first.network_id == subnet.network_id and first.octavia_owned
    local_driver.deallocate_vip(first)
    with pytest.raises(base.PortNotFound):
        local_driver.get_port(first.port_id)
    third, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id))
    assert third.ip_address == first.ip_address


def test_requested_vip_address_is_honoured(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    wanted = str(ipaddress.ip_network(subnet.cidr).network_address + 77)
    vip, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id, vip_address=wanted))
    assert vip.ip_address == wanted
    port = local_driver.get_port(vip.port_id)
    assert port.device_owner == base.DEVICE_OWNER_VIP and port.ip_in_subnet(subnet.id) == wanted


@pytest.mark.parametrize("bad", ["gateway", "outside", "network_address"])
def test_unusable_vip_addresses_are_400(local_driver: Any, bad: str) -> None:
    subnet = _subnet(local_driver)
    net = ipaddress.ip_network(subnet.cidr)
    address = {
        "gateway": subnet.gateway_ip,
        "outside": "192.0.2.200",
        "network_address": str(net.network_address),
    }[bad]
    with pytest.raises(base.InvalidVipRequest) as err:
        local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id, vip_address=address))
    assert err.value.code == 400
    assert address in str(err.value)
    assert local_driver.list_ports() == []


def test_vip_address_in_use_is_a_clear_400(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    vip, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id))
    with pytest.raises(base.VipAddressInUse) as err:
        local_driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=subnet.id, vip_address=vip.ip_address))
    assert err.value.code == 400
    assert str(err.value) == (
        f"Validation failure: IP address {vip.ip_address} already allocated in subnet {subnet.id}."
    )


def test_unknown_subnet_network_and_port_are_400_with_upstream_wording(local_driver: Any) -> None:
    missing = "0f0f0f0f-0000-4000-8000-000000000000"
    for kwargs, text in [
        ({"vip_subnet_id": missing}, "Subnet"),
        ({"vip_network_id": missing}, "Network"),
        ({"vip_port_id": missing}, "Port"),
    ]:
        with pytest.raises(base.NetworkException) as err:
            local_driver.allocate_vip(FakeLoadBalancer(**kwargs))
        assert err.value.code == 400
        assert str(err.value) == f"{text} {missing} not found."


def test_network_only_request_picks_a_subnet_or_the_one_holding_the_address(local_driver: Any) -> None:
    network_id = local_driver.default_network_id
    vip, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_network_id=network_id))
    assert vip.subnet_id == _subnet(local_driver).id
    with pytest.raises(base.InvalidVipRequest, match="not in any subnet"):
        local_driver.allocate_vip(FakeLoadBalancer(vip_network_id=network_id, vip_address="192.0.2.9"))


def test_subnet_of_another_network_is_refused(local_driver: Any) -> None:
    other = local_driver.networks.create_network("other")
    with pytest.raises(base.InvalidVipRequest, match="is not in network"):
        local_driver.allocate_vip(
            FakeLoadBalancer(vip_subnet_id=_subnet(local_driver).id, vip_network_id=other.id)
        )


def test_user_port_must_be_unbound_and_unambiguous(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    extra = local_driver.networks.create_subnet(local_driver.default_network_id, "127.65.0.0/24",
                                                name="second")
    two_ips = local_driver.create_port(
        subnet.network_id, fixed_ips=[{"subnet_id": subnet.id}, {"subnet_id": extra.id}]
    )
    with pytest.raises(base.InvalidVipRequest, match="Multiple VIP IP addresses"):
        local_driver.allocate_vip(FakeLoadBalancer(vip_port_id=two_ips.id))
    vip, _ = local_driver.allocate_vip(FakeLoadBalancer(vip_port_id=two_ips.id, vip_subnet_id=extra.id))
    assert vip.ip_address == two_ips.ip_in_subnet(extra.id) and not vip.octavia_owned
    with pytest.raises(base.InvalidVipRequest, match="already in use by device"):
        local_driver.allocate_vip(FakeLoadBalancer(vip_port_id=two_ips.id, vip_subnet_id=extra.id))
    local_driver.deallocate_vip(vip)
    kept = local_driver.get_port(two_ips.id)
    assert kept.device_id == "" and len(kept.fixed_ips) == 2


def test_additional_vips_go_on_the_vip_port(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    extra = local_driver.networks.create_subnet(local_driver.default_network_id, "127.66.0.0/24")
    vip, additional = local_driver.allocate_vip(
        FakeLoadBalancer(vip_subnet_id=subnet.id, additional_vips=[{"subnet_id": extra.id}])
    )
    assert [a.subnet_id for a in additional] == [extra.id]
    port = local_driver.get_port(vip.port_id)
    assert port.ip_in_subnet(extra.id) == additional[0].ip_address


def test_subnets_may_not_overlap(local_driver: Any) -> None:
    with pytest.raises(base.InvalidVipRequest, match="overlaps"):
        local_driver.networks.create_subnet(local_driver.default_network_id, _subnet(local_driver).cidr)


def test_plug_and_unplug_vip_manage_the_vrrp_port(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    lb = FakeLoadBalancer(vip_subnet_id=subnet.id)
    vip, _ = local_driver.allocate_vip(lb)
    lb.vip_address, lb.vip_port_id = vip.ip_address, None
    amphora = FakeAmphora()
    plug = local_driver.plug_vip(lb, amphora)
    assert plug.ha_ip == vip.ip_address and plug.vrrp_ip != vip.ip_address
    assert plug.subnet_cidr == subnet.cidr and plug.gateway == subnet.gateway_ip
    assert [p.id for p in local_driver.get_plugged_networks(amphora.id)] == [plug.vrrp_port_id]
    amphora.vrrp_port_id = plug.vrrp_port_id
    configs = local_driver.get_network_configs(lb, [amphora])
    assert configs[amphora.id].vrrp_ip == plug.vrrp_ip
    local_driver.unplug_vip(lb, amphora)
    assert local_driver.get_plugged_networks(amphora.id) == []


def test_allocate_vip_joins_the_callers_write_transaction(local_driver: Any) -> None:
    """The API allocates inside its own SQLite write transaction: a second connection
    would wait for that lock forever, so the driver must use the row's session."""
    subnet = _subnet(local_driver)
    with session_scope(write=True) as session:
        lb = models.LoadBalancer(
            project_id="p",
            provisioning_status=constants.PENDING_CREATE,
            operating_status=constants.OFFLINE,
            vip_subnet_id=subnet.id,
        )
        session.add(lb)
        session.flush()
        vip, _ = local_driver.allocate_vip(lb)
        session.rollback()
    with pytest.raises(base.PortNotFound):
        local_driver.get_port(vip.port_id)


def test_qos_and_security_groups_do_not_exist_locally(local_driver: Any) -> None:
    with pytest.raises(base.QosPolicyNotFound):
        local_driver.get_qos_policy("8e0a4d4e-0000-4000-8000-000000000000")
    with pytest.raises(base.SecurityGroupNotFound):
        local_driver.get_security_group("8e0a4d4e-0000-4000-8000-000000000000")


def test_lookups_by_name_and_filters(local_driver: Any) -> None:
    subnet = _subnet(local_driver)
    assert local_driver.get_subnet_by_name(subnet.name).id == subnet.id
    assert local_driver.get_network_by_name("lb-vip-network").id == subnet.network_id
    assert [s.id for s in local_driver.list_subnets({"network_id": [subnet.network_id]})] == [subnet.id]
    assert local_driver.list_subnets({"name": ["nope"]}) == []
    with pytest.raises(base.SubnetNotFound):
        local_driver.get_subnet_by_name("nope")
