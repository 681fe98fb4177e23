"""The Neutron v2.0 and Identity v3 look-ups, driven the way the real clients drive them.

A uvicorn server on a free loopback port serves the app; openstacksdk's network proxy,
keystoneclient + python-openstackclient's `find_project`, and the `openstack` CLI
itself talk to it with `auth_type none` and endpoint overrides, as a user would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import openstack
import pytest
import requests
import uvicorn
from keystoneauth1 import noauth, session
from keystoneclient.v3 import client as keystone_client
from openstackclient.identity import common as identity_common
from osc_lib import exceptions as osc_exceptions

from octavia.api import policy
from octavia.network import loader as network_loader

pytestmark = pytest.mark.clients

SUBNET = "6f1d4a7e-3c52-4f4b-9d0a-1b2c3d4e5f60"


@pytest.fixture
def server(driver_agent: Any) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1:<free port>; yields its base URL."""
    from octavia.api.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _sdk(base: str) -> openstack.connection.Connection:
    return openstack.connection.Connection(
        auth_type="none", auth={"endpoint": f"{base}/v3"},
        network_endpoint_override=base, load_balancer_endpoint_override=base,
    )


def test_sdk_finds_network_objects_by_id_through_noop(server):
    conn = _sdk(server)
    subnet = conn.network.find_subnet(SUBNET)
    assert subnet.id == SUBNET and subnet.cidr and subnet.ip_version == 4
    network = conn.network.find_network(subnet.network_id)
    assert network.id == subnet.network_id
    port = conn.network.find_port(SUBNET)
    assert port.id == SUBNET and port.fixed_ips[0]["ip_address"]
    assert [s.id for s in conn.network.subnets(id=SUBNET)] == [SUBNET]
    assert conn.network.find_qos_policy(SUBNET).id == SUBNET
    assert conn.network.find_security_group(SUBNET).id == SUBNET
    # noop has no inventory: names find nothing, malformed ids are 404s, not errors.
    assert conn.network.find_subnet("no-such-subnet") is None
    assert list(conn.network.subnets(name="no-such-subnet")) == []
    assert list(conn.network.qos_policies(id="not-a-uuid")) == []
    conn.close()


def test_sdk_paginates_without_looping(server):
    conn = _sdk(server)
    listed = list(conn.network.subnets(id=[SUBNET, str(uuid.uuid4())], limit=1, paginated=True))
    assert len(listed) == 2
    conn.close()


def test_neutron_paths_fields_and_404_body(server):
    resp = requests.get(f"{server}/v2.0/subnets", params={"id": SUBNET, "fields": ["id", "cidr"]}, timeout=10)
    assert resp.status_code == 200
    (item,) = resp.json()["subnets"]
    assert set(item) == {"id", "cidr"}
    resp = requests.get(f"{server}/v2.0/ports/not-a-port", timeout=10)
    assert resp.status_code == 404
    assert resp.json()["NeutronError"]["type"] == "PortNotFound"
    resp = requests.get(f"{server}/v2/networks/{SUBNET}", params={"fields": "name"}, timeout=10)
    assert resp.json() == {"network": {"name": "noop-network"}}
    # The load-balancing API under the same prefixes is untouched.
    assert requests.get(f"{server}/v2.0/lbaas/loadbalancers", timeout=10).json()["loadbalancers"] == []
    assert requests.get(f"{server}/v2.0", timeout=10).json() == "v2"


def test_sdk_finds_local_network_objects_by_name(server, overrides):
    overrides(group="controller_worker", network_driver="network_local_driver", local_amphora_mode="loopback")
    network_loader.reset()
    try:
        conn = _sdk(server)
        network = conn.network.find_network("lb-vip-network")
        assert network is not None and network.subnet_ids
        subnet = conn.network.find_subnet(network.subnet_ids[0])
        assert conn.network.find_subnet(subnet.name).id == subnet.id
        assert [n.id for n in conn.network.networks(name="lb-vip-network")] == [network.id]
        assert conn.network.find_network("elsewhere") is None
        conn.close()
    finally:
        network_loader.reset()


def _keystone(endpoint: str) -> Any:
    return keystone_client.Client(session=session.Session(auth=noauth.NoAuth(endpoint=endpoint)))


@pytest.mark.parametrize("suffix", ["/v3", ""])
def test_osc_find_project_in_noauth(server, suffix):
    client = _keystone(server + suffix)
    for name_or_id in ("demo", "a" * 32):
        project = identity_common.find_project(client, name_or_id)
        assert project.id == project.name == name_or_id
    resp = requests.get(f"{server}/v3/projects", params={"name": "demo"}, timeout=10)
    assert [p["id"] for p in resp.json()["projects"]] == ["demo"]
    assert requests.get(f"{server}/v3/projects", timeout=10).json()["projects"] == []


def test_identity_lookup_is_not_served_with_real_auth(server, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    headers = {"X-Project-Id": "p", "X-Roles": "admin"}
    assert requests.get(f"{server}/v3/projects/demo", headers=headers, timeout=10).status_code == 404
    assert requests.get(f"{server}/v3/projects?name=demo", headers=headers, timeout=10).status_code == 404
    with pytest.raises(osc_exceptions.CommandError):
        identity_common.find_project(_keystone(f"{server}/v3"), "demo")


CLI = os.path.join(os.path.dirname(sys.executable), "openstack")


@pytest.mark.skipif(not os.access(CLI, os.X_OK), reason="python-openstackclient is not installed in the venv")
def test_unmodified_cli_resolves_subnet_and_project(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_TYPE="none", OS_ENDPOINT=server, OS_LOAD_BALANCER_ENDPOINT_OVERRIDE=server,
               OS_NETWORK_ENDPOINT_OVERRIDE=server)
    out = subprocess.run(
        [CLI, "loadbalancer", "create", "--name", "cli", "--project", "demo", "--vip-subnet-id", SUBNET,
         "-f", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    lb = json.loads(out.stdout)
    assert lb["project_id"] == "demo" and lb["vip_subnet_id"] == SUBNET
    out = subprocess.run([CLI, "loadbalancer", "quota", "set", "--loadbalancer", "3", "demo", "-f", "json"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout)["load_balancer"] == 3
