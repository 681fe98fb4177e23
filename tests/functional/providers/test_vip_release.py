"""A load balancer reported DELETED gives its VIP back to the (local) network driver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models
from octavia.network import base
from octavia.network import loader as network_loader
from octavia.providers.agent_client import DriverAgentClient
from octavia.providers.driver_agent import DriverAgent

CONF = config.CONF


@pytest.fixture
def network(agent: DriverAgent) -> Iterator[Any]:
    CONF.set_override("network_driver", "network_local_driver", group="controller_worker")
    CONF.set_override("local_amphora_mode", "loopback", group="controller_worker")
    network_loader.reset()
    yield network_loader.get_driver()
    CONF.clear_override("local_amphora_mode", group="controller_worker")
    network_loader.reset()


def _lb_with_vip(driver: Any, subnet_id: str, port_id: str | None = None) -> str:
    """An ACTIVE LB row whose VIP the network driver allocated (as the API does)."""
    with db_api.session_scope(write=True) as session:
        lb = models.LoadBalancer(project_id="proj", provider="noop_driver", vip_subnet_id=subnet_id,
                                 vip_port_id=port_id, provisioning_status="ACTIVE", operating_status="ONLINE")
        session.add(lb)
        session.flush()
        vip, _ = driver.allocate_vip(lb)
        lb.vip_address, lb.vip_port_id, lb.vip_network_id = vip.ip_address, vip.port_id, vip.network_id
        return lb.id


def test_octavia_ports_are_deleted_and_user_ports_only_unbound(
    network: Any, client: DriverAgentClient
) -> None:
    subnet_id = network.get_network(network.default_network_id).subnets[0]
    ours = _lb_with_vip(network, subnet_id)
    user_port = network.create_port(network.default_network_id, name="my-vip",
                                     fixed_ips=[{"subnet_id": subnet_id}])
    theirs = _lb_with_vip(network, subnet_id, port_id=user_port.id)
    with db_api.session_scope() as session:
        our_port = session.get(models.LoadBalancer, ours).vip_port_id
    assert network.get_port(user_port.id).device_id == f"lb-{theirs}"

    client.update_loadbalancer_status({"loadbalancers": [
        {"id": ours, "provisioning_status": "DELETED"},
        {"id": theirs, "provisioning_status": "DELETED"},
    ]})

    with pytest.raises(base.PortNotFound):
        network.get_port(our_port)
    kept = network.get_port(user_port.id)
    assert (kept.name, kept.device_id, kept.device_owner) == ("my-vip", "", "")
