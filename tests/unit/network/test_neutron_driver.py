"""The Neutron driver through a real openstacksdk Connection against recorded
Networking v2.0 / Compute v2.1 response shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from octavia.network import base
from octavia.network.neutron import NeutronNetworkDriver
from tests.unit.network.fake_cloud import FakeCloud
from tests.unit.network.fakes import FakeAmphora, FakeLoadBalancer

NET, SUBNET, PORT = "net-1", "subnet-1", "port-1"
SUBNET_BODY = {"subnet": {"id": SUBNET, "name": "public-subnet", "network_id": NET, "tenant_id": "p",
                          "project_id": "p", "cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "10.0.0.1",
                          "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}],
                          "host_routes": [], "dns_nameservers": [], "enable_dhcp": True}}
NETWORK_BODY = {"network": {"id": NET, "name": "public", "subnets": [SUBNET], "admin_state_up": True,
                            "status": "ACTIVE", "mtu": 1450, "shared": False, "router:external": False,
                            "tenant_id": "p", "project_id": "p"}}


def port_body(port_id: str, ip: str, device_id: str = "", owner: str = "", **extra: Any) -> dict[str, Any]:
    return {"port": {"id": port_id, "name": extra.get("name", ""), "network_id": NET, "tenant_id": "p",
                     "project_id": "p", "mac_address": "fa:16:3e:11:22:33", "admin_state_up": True,
                     "status": "DOWN", "device_id": device_id, "device_owner": owner,
                     "fixed_ips": extra.get("fixed_ips", [{"subnet_id": SUBNET, "ip_address": ip}]),
                     "allowed_address_pairs": [], "security_groups": [], "qos_policy_id": None}}


@pytest.fixture
def cloud() -> FakeCloud:
    cloud = FakeCloud()
    cloud.on("GET", rf"/network/v2.0/subnets/{SUBNET}", (200, SUBNET_BODY))
    cloud.on("GET", rf"/network/v2.0/networks/{NET}", (200, NETWORK_BODY))
    return cloud


@pytest.fixture
def driver(cloud: FakeCloud) -> NeutronNetworkDriver:
    return NeutronNetworkDriver(connection=cloud.connection())


def test_reads_map_to_typed_objects(driver: NeutronNetworkDriver) -> None:
    subnet = driver.get_subnet(SUBNET)
    assert (subnet.cidr, subnet.gateway_ip, subnet.network_id) == ("10.0.0.0/24", "10.0.0.1", NET)
    assert subnet.to_neutron_dict()["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    network = driver.get_network(NET)
    assert network.subnets == [SUBNET] and network.mtu == 1450


def test_missing_objects_are_400_with_upstream_wording(driver: NeutronNetworkDriver) -> None:
    with pytest.raises(base.SubnetNotFound) as err:
        driver.get_subnet("nope")
    assert err.value.code == 400 and str(err.value) == "Subnet nope not found."


def test_allocate_vip_creates_an_octavia_owned_port(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    lb = FakeLoadBalancer(vip_subnet_id=SUBNET, vip_address="10.0.0.50")
    body = port_body("vip-port", "10.0.0.50", f"lb-{lb.id}", "Octavia")
    cloud.on("POST", r"/network/v2.0/ports", (201, body))
    vip, additional = driver.allocate_vip(lb)
    assert (vip.ip_address, vip.port_id) == ("10.0.0.50", "vip-port")
    assert (vip.subnet_id, vip.network_id) == (SUBNET, NET)
    assert vip.octavia_owned and additional == []
    (sent,) = cloud.calls("POST", "/ports")
    assert sent["port"]["device_owner"] == "Octavia" and sent["port"]["name"] == f"octavia-lb-{lb.id}"
    assert sent["port"]["admin_state_up"] is False
    assert sent["port"]["fixed_ips"] == [{"subnet_id": SUBNET, "ip_address": "10.0.0.50"}]


def test_address_in_use_becomes_a_400(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    cloud.on("POST", r"/network/v2.0/ports", (409, {"NeutronError": {
        "type": "IpAddressAlreadyAllocated", "detail": "",
        "message": "IP address 10.0.0.50 already allocated in subnet subnet-1"}}))
    with pytest.raises(base.VipAddressInUse) as err:
        driver.allocate_vip(FakeLoadBalancer(vip_subnet_id=SUBNET, vip_address="10.0.0.50"))
    assert err.value.code == 400 and "10.0.0.50 already allocated" in str(err.value)


def test_a_bound_user_port_is_refused(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    bound = port_body(PORT, "10.0.0.9", "some-vm", "compute:nova")
    cloud.on("GET", rf"/network/v2.0/ports/{PORT}", (200, bound))
    with pytest.raises(base.InvalidVipRequest, match="already in use by device some-vm"):
        driver.allocate_vip(FakeLoadBalancer(vip_port_id=PORT))


def test_a_free_user_port_is_adopted_and_released(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    cloud.on("GET", rf"/network/v2.0/ports/{PORT}", (200, port_body(PORT, "10.0.0.9")))
    cloud.on("PUT", rf"/network/v2.0/ports/{PORT}",
             lambda _req, _m: (200, port_body(PORT, "10.0.0.9")))
    lb = FakeLoadBalancer(vip_port_id=PORT)
    vip, _ = driver.allocate_vip(lb)
    assert vip.ip_address == "10.0.0.9" and not vip.octavia_owned
    adopted = cloud.calls("PUT", f"/ports/{PORT}")[0]["port"]
    assert adopted == {"device_owner": "Octavia", "device_id": f"lb-{lb.id}"}
    driver.deallocate_vip(vip)
    assert cloud.calls("PUT", f"/ports/{PORT}")[1]["port"] == {"device_owner": "", "device_id": ""}
    assert cloud.calls("DELETE", "/ports") == []


def test_plug_vip_attaches_a_vrrp_port_with_the_vip_as_allowed_pair(
    cloud: FakeCloud, driver: NeutronNetworkDriver
) -> None:
    amp = FakeAmphora(compute_id="server-1")
    cloud.on("POST", r"/network/v2.0/ports", (201, port_body("vrrp-1", "10.0.0.7", owner="compute:octavia")))
    cloud.on("POST", r"/compute/v2.1/servers/server-1/os-interface", (200, {"interfaceAttachment": {
        "port_id": "vrrp-1", "net_id": NET, "mac_addr": "fa:16:3e:11:22:33", "port_state": "ACTIVE",
        "fixed_ips": [{"subnet_id": SUBNET, "ip_address": "10.0.0.7"}]}}))
    lb = FakeLoadBalancer(vip_subnet_id=SUBNET, vip_address="10.0.0.50", vip_port_id="vip-port")
    plug = driver.plug_vip(lb, amp)
    assert (plug.vrrp_ip, plug.ha_ip) == ("10.0.0.7", "10.0.0.50")
    assert (plug.vrrp_port_id, plug.mtu) == ("vrrp-1", 1450)
    assert plug.gateway == "10.0.0.1" and plug.mac_address == "fa:16:3e:11:22:33"
    (port_req,) = cloud.calls("POST", "/network/v2.0/ports")
    assert port_req["port"]["allowed_address_pairs"] == [{"ip_address": "10.0.0.50"}]
    (attach,) = cloud.calls("POST", "/os-interface")
    assert attach == {"interfaceAttachment": {"port_id": "vrrp-1"}}


def test_failed_attach_removes_the_new_port(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    cloud.on("POST", r"/network/v2.0/ports", (201, port_body("vrrp-2", "10.0.0.8")))
    cloud.on("POST", r"/compute/v2.1/servers/server-2/os-interface",
             (409, {"conflictingRequest": {"code": 409, "message": "Instance is locked"}}))
    cloud.on("DELETE", r"/network/v2.0/ports/vrrp-2", (204, None))
    with pytest.raises(base.PlugVIPException):
        driver.plug_vip(FakeLoadBalancer(vip_subnet_id=SUBNET, vip_address="10.0.0.50"),
                        FakeAmphora(compute_id="server-2"))
    assert len(cloud.calls("DELETE", "/ports/vrrp-2")) == 1


def test_list_filters_go_to_neutron(cloud: FakeCloud, driver: NeutronNetworkDriver) -> None:
    cloud.on("GET", r"/network/v2.0/subnets", (200, {"subnets": [SUBNET_BODY["subnet"]]}))
    assert [s.id for s in driver.list_subnets({"name": ["public-subnet"]})] == [SUBNET]
    (url,) = [u for m, u, _ in cloud.requests if m == "GET" and "/subnets?" in u]
    assert "name=public-subnet" in url
    assert json.dumps(driver.get_subnet_by_name("public-subnet").to_neutron_dict())
