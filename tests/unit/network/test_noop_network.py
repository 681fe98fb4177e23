"""The noop network driver: any UUID exists, results are stable, VIP requests are honoured."""

from __future__ import annotations

import ipaddress
import uuid

import pytest

from octavia.network import base
from octavia.network.noop import NoopNetworkDriver
from tests.unit.network.fakes import FakeAmphora, FakeLoadBalancer


@pytest.fixture
def driver() -> NoopNetworkDriver:
    return NoopNetworkDriver()


def test_subnet_lookup_is_stable_and_plausible(driver: NoopNetworkDriver) -> None:
    subnet_id = str(uuid.uuid4())
    first, second = driver.get_subnet(subnet_id), driver.get_subnet(subnet_id)
    assert first == second
    assert ipaddress.ip_address(first.gateway_ip or "") in ipaddress.ip_network(first.cidr)
    assert driver.get_network(first.network_id).id == first.network_id


@pytest.mark.parametrize(
    ("getter", "message"),
    [("get_subnet", "Subnet"), ("get_network", "Network"), ("get_port", "Port"),
     ("get_qos_policy", "QoS Policy"), ("get_security_group", "Security Group")],
)
def test_malformed_ids_are_not_found_as_400(driver: NoopNetworkDriver, getter: str, message: str) -> None:
    with pytest.raises(base.NetworkException) as err:
        getattr(driver, getter)("not-a-uuid")
    assert err.value.code == 400
    assert str(err.value) == f"{message} not-a-uuid not found."


def test_allocate_vip_honours_requested_address(driver: NoopNetworkDriver) -> None:
    subnet_id = str(uuid.uuid4())
    lb = FakeLoadBalancer(vip_subnet_id=subnet_id, vip_address="203.0.113.9",
                          additional_vips=[{"subnet_id": str(uuid.uuid4())}])
    vip, additional = driver.allocate_vip(lb)
    assert vip.ip_address == "203.0.113.9"
    assert vip.subnet_id == subnet_id and vip.octavia_owned
    assert len(additional) == 1 and additional[0].port_id == vip.port_id
    assert ipaddress.ip_address(additional[0].ip_address)


def test_allocate_vip_on_a_user_port_uses_its_address(driver: NoopNetworkDriver) -> None:
    port_id = str(uuid.uuid4())
    vip, _ = driver.allocate_vip(FakeLoadBalancer(vip_port_id=port_id))
    port = driver.get_port(port_id)
    assert vip.port_id == port_id and not vip.octavia_owned
    assert vip.ip_address == port.fixed_ips[0].ip_address


def test_plug_vip_gives_amphora_fields(driver: NoopNetworkDriver) -> None:
    lb = FakeLoadBalancer(vip_subnet_id=str(uuid.uuid4()), vip_address="198.51.100.7")
    plug = driver.plug_vip(lb, FakeAmphora())
    columns = plug.as_amphora_columns()
    assert columns["ha_ip"] == "198.51.100.7"
    assert ipaddress.ip_address(columns["vrrp_ip"]) in ipaddress.ip_network(plug.subnet_cidr)


def test_listing_returns_only_objects_asked_for_by_id(driver: NoopNetworkDriver) -> None:
    wanted = str(uuid.uuid4())
    assert [s.id for s in driver.list_subnets({"id": [wanted, "junk"]})] == [wanted]
    assert driver.list_subnets({"name": ["anything"]}) == []
