"""The Nova driver through a real openstacksdk Connection against recorded Compute v2.1
and Image v2 response shapes."""

from __future__ import annotations

import base64

import pytest

from octavia.compute import base
from octavia.compute.nova import NovaComputeDriver
from tests.unit.network.fake_cloud import FakeCloud

SERVER = "9d7e6e62-1b7e-4a3a-9c55-2e4f7d0f5a11"
MGMT_NET = "mgmt-net"


def server_body(status: str, **extra: object) -> dict[str, object]:
    server = {"id": SERVER, "name": "amphora-x", "status": status, "OS-EXT-AZ:availability_zone": "az-2",
              "image": {"id": "img-1", "links": []}, "flavor": {"id": "flavor-1", "links": []},
              "addresses": {}, "metadata": {}}
    server.update(extra)
    return {"server": server}


@pytest.fixture
def cloud() -> FakeCloud:
    cloud = FakeCloud()
    cloud.on("GET", r"/image/v2/images", (200, {"images": [
        {"id": "img-1", "name": "amphora", "status": "active", "tags": ["amphora"],
         "created_at": "2024-05-01T00:00:00Z"}], "schema": "/v2/schemas/images"}))
    cloud.on("GET", rf"/compute/v2.1/servers/{SERVER}/os-interface", (200, {"interfaceAttachments": [
        {"port_id": "p-vip", "net_id": "vip-net", "mac_addr": "fa:16:3e:00:00:02", "port_state": "ACTIVE",
         "fixed_ips": [{"subnet_id": "s-vip", "ip_address": "10.0.0.7"}]},
        {"port_id": "p-mgmt", "net_id": MGMT_NET, "mac_addr": "fa:16:3e:00:00:01", "port_state": "ACTIVE",
         "fixed_ips": [{"subnet_id": "s-mgmt", "ip_address": "172.31.0.9"}]}]}))
    return cloud


@pytest.fixture
def driver(cloud: FakeCloud) -> NovaComputeDriver:
    return NovaComputeDriver(connection=cloud.connection())


def test_build_boots_the_tagged_image_with_files_and_hints(
    cloud: FakeCloud, driver: NovaComputeDriver
) -> None:
    cloud.on("POST", r"/compute/v2.1/servers", (202, {"server": {"id": SERVER, "adminPass": "x"}}))
    compute_id = driver.build(
        name="amphora-x", amphora_flavor="flavor-1", image_tag="amphora", key_name="ops",
        sec_groups=["lb-mgmt-sec-grp"], network_ids=[MGMT_NET],
        config_drive_files={"/etc/octavia/certs/server.pem": "PEM"}, user_data="#cloud-config",
        server_group_id="sg-1", availability_zone="az-2",
    )
    assert compute_id == SERVER
    (image_url,) = [u for m, u, _ in cloud.requests if m == "GET" and "/images?" in u]
    assert "tag=amphora" in image_url and "status=active" in image_url
    (sent,) = cloud.calls("POST", "/compute/v2.1/servers")
    server = sent["server"]
    assert server["imageRef"] == "img-1" and server["flavorRef"] == "flavor-1"
    assert server["networks"] == [{"uuid": MGMT_NET}] and server["config_drive"] is True
    assert server["personality"] == [{"path": "/etc/octavia/certs/server.pem",
                                      "contents": base64.b64encode(b"PEM").decode()}]
    assert base64.b64decode(server["user_data"]) == b"#cloud-config"
    assert server["security_groups"] == [{"name": "lb-mgmt-sec-grp"}] and server["key_name"] == "ops"
    assert server["availability_zone"] == "az-2"
    assert sent["OS-SCH-HNT:scheduler_hints"] == {"group": "sg-1"}


def test_build_without_an_image_fails_cleanly(cloud: FakeCloud, driver: NovaComputeDriver) -> None:
    cloud.on("GET", r"/image/v2/images", (200, {"images": []}))
    with pytest.raises(base.ComputeBuildException, match="no active image"):
        driver.build(name="amphora-x", amphora_flavor="flavor-1", image_tag="missing")
    assert cloud.calls("POST", "/servers") == []


def test_get_amphora_reads_status_zone_and_management_address(
    cloud: FakeCloud, driver: NovaComputeDriver
) -> None:
    cloud.on("GET", rf"/compute/v2.1/servers/{SERVER}", (200, server_body("ACTIVE")))
    amphora, fault = driver.get_amphora(SERVER, management_network_id=MGMT_NET)
    assert fault is None
    assert amphora == base.ComputeAmphora(compute_id=SERVER, status=base.COMPUTE_ACTIVE,
                                          lb_network_ip="172.31.0.9", cached_zone="az-2",
                                          image_id="img-1", compute_flavor="flavor-1")


def test_error_and_missing_servers(cloud: FakeCloud, driver: NovaComputeDriver) -> None:
    cloud.on("GET", rf"/compute/v2.1/servers/{SERVER}",
             (200, server_body("ERROR", fault={"code": 500, "message": "No valid host was found."})))
    amphora, fault = driver.get_amphora(SERVER)
    assert amphora.status == base.COMPUTE_ERROR and fault == "No valid host was found."
    assert driver.status("0e0e0e0e-0000-4000-8000-000000000000") == base.COMPUTE_DELETED


def test_validation_of_flavors_and_zones(cloud: FakeCloud, driver: NovaComputeDriver) -> None:
    cloud.on("GET", r"/compute/v2.1/flavors/flavor-1", (200, {"flavor": {"id": "flavor-1", "name": "amp"}}))
    cloud.on("GET", r"/compute/v2.1/os-availability-zone", (200, {"availabilityZoneInfo": [
        {"zoneName": "az-2", "zoneState": {"available": True}, "hosts": None},
        {"zoneName": "az-down", "zoneState": {"available": False}, "hosts": None}]}))
    driver.validate_flavor("flavor-1")
    with pytest.raises(base.ComputeFlavorNotFound) as err:
        driver.validate_flavor("flavor-9")
    assert err.value.code == 400 and str(err.value) == "Nova flavor flavor-9 not found."
    driver.validate_availability_zone("az-2")
    with pytest.raises(base.ComputeZoneNotFound):
        driver.validate_availability_zone("az-down")


def test_server_groups_and_interfaces(cloud: FakeCloud, driver: NovaComputeDriver) -> None:
    cloud.on("POST", r"/compute/v2.1/os-server-groups", (200, {"server_group": {
        "id": "sg-1", "name": "octavia-lb-1", "policies": ["anti-affinity"], "members": [], "metadata": {}}}))
    group = driver.create_server_group("octavia-lb-1", "anti-affinity")
    assert group == base.ServerGroup(id="sg-1", name="octavia-lb-1", policy="anti-affinity")
    # the cloud offers microversion 2.79, so openstacksdk sends 2.64's singular `policy`
    assert cloud.calls("POST", "os-server-groups")[0]["server_group"]["policy"] == "anti-affinity"
    cloud.on("POST", rf"/compute/v2.1/servers/{SERVER}/os-interface", (200, {"interfaceAttachment": {
        "port_id": "p-new", "net_id": "member-net", "mac_addr": "fa:16:3e:00:00:03", "port_state": "ACTIVE",
        "fixed_ips": [{"subnet_id": "s-m", "ip_address": "10.1.0.4"}]}}))
    iface = driver.attach_network_or_port(SERVER, network_id="member-net", ip_address="10.1.0.4")
    assert iface.port_id == "p-new" and iface.fixed_ips[0]["ip_address"] == "10.1.0.4"
    assert cloud.calls("POST", "os-interface")[0] == {"interfaceAttachment": {
        "net_id": "member-net", "fixed_ips": [{"ip_address": "10.1.0.4"}]}}
