"""The local network driver in netns mode with real amphora namespaces: VIP links,
addresses and routes, reachability both ways, members on another local network, and
removal of everything it made."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from octavia.compute.local import LocalComputeDriver
from octavia.network import base, netns
from octavia.network.local import VIP_PORT_PREFIX, LocalNetworkDriver
from tests.integration.compute.harness import STANDIN_AGENT, http_get, in_namespace, wait_for
from tests.unit.network.fakes import FakeAmphora, FakeLoadBalancer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not netns.netns_works(), reason="netns mode needs root and `ip netns`"),
]
PORT = 8080


@pytest.fixture
def drivers(local_env: str) -> tuple[LocalComputeDriver, LocalNetworkDriver]:
    return LocalComputeDriver(agent_module=STANDIN_AGENT), LocalNetworkDriver()


@pytest.fixture
def host_backend() -> Iterator[int]:
    """An HTTP backend on the host listening on every IPv4 and IPv6 address."""
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("::", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nhost")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    server.close()


def _serve_in_namespace(namespace: str, address: str, body: str) -> subprocess.Popen[bytes]:
    code = (
        "import socket\n"
        f"s=socket.socket(socket.AF_INET6 if ':' in '{address}' else socket.AF_INET)\n"
        f"s.bind(('{address}', {PORT})); s.listen(16)\n"
        "while True:\n"
        "    c,_=s.accept(); c.recv(4096)\n"
        f"    c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: {len(body)}\\r\\n\\r\\n{body}'); c.close()\n"
    )
    return subprocess.Popen(
        [*netns.exec_prefix(namespace), sys.executable, "-c", code], start_new_session=True
    )


def _fetch_from(namespace: str, host: str, port: int) -> str:
    code = (
        "import socket,sys\n"
        f"s=socket.create_connection(('{host}',{port}),timeout=3)\n"
        "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); d=b''\n"
        "while (c:=s.recv(4096)): d+=c\n"
        "sys.stdout.write(d.decode())\n"
    )
    result = in_namespace(namespace, code)
    return result.stdout + result.stderr


def _subnet(network: LocalNetworkDriver, version: int) -> Any:
    default = network.get_network(network.default_network_id)
    return next(s for s in map(network.get_subnet, default.subnets) if s.ip_version == version)


@pytest.mark.parametrize("version", [4, 6])
def test_vip_plugged_into_an_amphora_is_reachable_and_reaches_the_host(
    drivers: tuple[LocalComputeDriver, LocalNetworkDriver], host_backend: int, version: int
) -> None:
    compute, network = drivers
    subnet = _subnet(network, version)
    amphora_id = compute.build(name=f"amphora-{uuid.uuid4()}")
    namespace = netns.namespace_name(amphora_id)
    lb = FakeLoadBalancer(vip_subnet_id=subnet.id)
    vip, _ = network.allocate_vip(lb)
    lb.vip_address, lb.vip_port_id = vip.ip_address, vip.port_id
    plug = network.plug_vip(lb, FakeAmphora(id=amphora_id, compute_id=amphora_id))

    # the amphora sees an interface with the port's MAC, its vrrp address and a default route
    link = netns.run(["-o", "link", "show", plug.interface or ""], namespace=namespace)
    assert plug.mac_address in link and "UP" in link
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen
    assert f"{plug.vrrp_ip}/{prefix}" in netns.run(["-o", "addr", "show"], namespace=namespace)
    family = "-6" if version == 6 else "-4"
    assert f"default via {subnet.gateway_ip}" in netns.run([family, "route"], namespace=namespace)
    bridge = network.get_network(subnet.network_id)
    assert bridge.id == subnet.network_id

    # what the agent's /plug/vip does: the VIP on that interface; then serve on it
    netns.add_address(plug.interface or "", f"{vip.ip_address}/{prefix}", namespace)
    server = _serve_in_namespace(namespace, vip.ip_address, "amphora")
    try:
        answer = wait_for(lambda: http_get(vip.ip_address, PORT), timeout=10)
        assert answer and answer.endswith(b"amphora")
        # ...and from inside, a backend on the host is a member at the gateway address
        assert _fetch_from(namespace, subnet.gateway_ip, host_backend).endswith("host")
    finally:
        server.kill()
        server.wait()

    host_link = netns.host_ifname(VIP_PORT_PREFIX, plug.vrrp_port_id)
    assert netns.link_exists(host_link)
    network.unplug_vip(lb, FakeAmphora(id=amphora_id, compute_id=amphora_id, vrrp_port_id=plug.vrrp_port_id))
    assert not netns.link_exists(host_link)
    assert not netns.link_exists(plug.interface or "", namespace)
    network.deallocate_vip(vip)
    assert network.list_ports() == []
    compute.delete(amphora_id)
    assert not netns.namespace_exists(namespace)


def test_members_on_another_local_network_are_routed_through_the_host(
    drivers: tuple[LocalComputeDriver, LocalNetworkDriver],
) -> None:
    compute, network = drivers
    subnet = _subnet(network, 4)
    members_net = network.networks.create_network(f"members-{os.getpid()}")
    taken = netns.host_routes() + [ipaddress.ip_network(s.cidr) for s in network.list_subnets()]
    cidr = netns.pick_free_cidr("198.18.128.0/24", "198.18.0.0/15", taken)
    members_subnet = network.networks.create_subnet(members_net.id, cidr)

    amphora_id = compute.build(name=f"amphora-{uuid.uuid4()}")
    lb = FakeLoadBalancer(vip_subnet_id=subnet.id)
    vip, _ = network.allocate_vip(lb)
    lb.vip_address = vip.ip_address
    network.plug_vip(lb, FakeAmphora(id=amphora_id, compute_id=amphora_id))

    member_host = compute.build(name=f"amphora-{uuid.uuid4()}")
    member_port = network.plug_network(member_host, members_net.id)
    member_ip = member_port.ip_in_subnet(members_subnet.id) or ""
    member_ns = netns.namespace_name(member_host)
    links = json.loads(netns.run(["-j", "link", "show"], namespace=member_ns))
    member_if = next(link["ifname"] for link in links if link.get("address") == member_port.mac_address)
    netns.set_default_route(member_ns, member_if, members_subnet.gateway_ip or "")
    server = _serve_in_namespace(member_ns, member_ip, "member")
    try:
        wait_for(lambda: "member" in _fetch_from(member_ns, member_ip, PORT), timeout=10)
        assert _fetch_from(netns.namespace_name(amphora_id), member_ip, PORT).endswith("member")
    finally:
        server.kill()
        server.wait()
    assert [p.id for p in network.get_plugged_networks(member_host)] == [member_port.id]
    network.unplug_network(member_host, members_net.id)
    assert network.get_plugged_networks(member_host) == []
    compute.delete(member_host)
    compute.delete(amphora_id)
    with pytest.raises(base.InvalidVipRequest, match="has ports in use"):
        network.networks.delete_network(subnet.network_id)
    network.networks.delete_subnet(members_subnet.id)
    network.networks.delete_network(members_net.id)
    assert network.list_networks({"id": [members_net.id]}) == []


def test_a_subnet_overlapping_a_host_route_is_refused(
    drivers: tuple[LocalComputeDriver, LocalNetworkDriver],
) -> None:
    _, network = drivers
    host_net = next(n for n in netns.host_routes() if n.version == 4)
    other = network.networks.create_network(f"clash-{os.getpid()}")
    with pytest.raises(base.InvalidVipRequest, match="overlaps"):
        network.networks.create_subnet(other.id, str(host_net))
