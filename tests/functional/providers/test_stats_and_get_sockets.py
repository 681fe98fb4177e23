"""The statistics and get sockets against a real database."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from octavia_lib.api.drivers import data_models as dm
from octavia_lib.api.drivers import exceptions as lib_exceptions
from sqlalchemy import select

from octavia.db import api as db_api
from octavia.db import models
from octavia.providers.agent_client import DriverAgentClient, socket_paths
from octavia.providers.driver_agent import DriverAgent, framing

from .helpers import Tree, build_tree


@pytest.fixture
def tree(agent: DriverAgent) -> Tree:
    with db_api.session_scope(write=True) as session:
        return build_tree(session, provider="noop_driver")


def _stats(listener_id: str, **counters: int) -> dict[str, Any]:
    record = {"id": listener_id, "active_connections": 0, "bytes_in": 0, "bytes_out": 0,
              "request_errors": 0, "total_connections": 0}
    record.update(counters)
    return record


def _stat_rows() -> list[tuple[Any, ...]]:
    S = models.ListenerStatistics
    with db_api.session_scope() as session:
        return [tuple(r) for r in session.execute(
            select(S.listener_id, S.amphora_id, S.bytes_in, S.bytes_out, S.active_connections,
                   S.total_connections, S.request_errors)
        ).all()]


def test_statistics_are_stored_under_the_provider_name_and_replaced(
    tree: Tree, client: DriverAgentClient
) -> None:
    client.update_listener_statistics({"listeners": [_stats(tree.listener, bytes_in=10, bytes_out=20,
                                                            active_connections=1, total_connections=3)]})
    assert _stat_rows() == [(tree.listener, "noop_driver", 10, 20, 1, 3, 0)]
    client.update_listener_statistics({"listeners": [_stats(tree.listener, bytes_in=15, request_errors=2)]})
    assert _stat_rows() == [(tree.listener, "noop_driver", 15, 0, 0, 0, 2)]


def test_statistics_for_unknown_listeners_are_skipped(tree: Tree, client: DriverAgentClient) -> None:
    client.update_listener_statistics(
        {"listeners": [_stats("gone", bytes_in=1), _stats(tree.listener, bytes_in=2)]}
    )
    assert _stat_rows() == [(tree.listener, "noop_driver", 2, 0, 0, 0, 0)]


def test_bad_statistics_are_rejected(tree: Tree, client: DriverAgentClient) -> None:
    with pytest.raises(lib_exceptions.UpdateStatisticsError) as err:
        client.update_listener_statistics({"listeners": [_stats(tree.listener, bytes_in=-5)]})
    assert "'bytes_in' must be a non-negative integer" in err.value.fault_string
    assert err.value.stats_object_id == tree.listener
    assert _stat_rows() == []


def test_get_load_balancer_returns_the_whole_tree(tree: Tree, client: DriverAgentClient) -> None:
    lb = client.get_loadbalancer(tree.lb)
    assert isinstance(lb, dm.LoadBalancer)
    assert (lb.loadbalancer_id, lb.vip_address, lb.vip_port_id) == (tree.lb, "203.0.113.5", "port-1")
    (listener,) = lb.listeners
    assert listener["listener_id"] == tree.listener
    assert listener["default_pool"]["healthmonitor"]["healthmonitor_id"] == tree.hm
    assert sorted(m["member_id"] for m in listener["default_pool"]["members"]) == sorted(tree.members)
    assert listener["l7policies"][0]["rules"][0]["l7rule_id"] == tree.rule
    assert {p["pool_id"] for p in lb.pools} == {tree.pool, tree.redirect_pool}
    assert lb.flavor is None and lb.availability_zone is None


def test_get_reads_flavor_and_zone_metadata_from_their_profiles(
    tree: Tree, client: DriverAgentClient
) -> None:
    with db_api.session_scope(write=True) as session:
        fp = models.FlavorProfile(name="fp", provider_name="noop_driver",
                                  flavor_data='{"amp_image_tag": "t"}')
        azp = models.AvailabilityZoneProfile(name="azp", provider_name="noop_driver",
                                             availability_zone_data='{"compute_zone": "nova-1"}')
        session.add_all([fp, azp])
        session.flush()
        flavor = models.Flavor(name="small", flavor_profile_id=fp.id)
        session.add_all([flavor, models.AvailabilityZone(name="zone-1", availability_zone_profile_id=azp.id)])
        session.flush()
        lb = session.get(models.LoadBalancer, tree.lb)
        lb.flavor_id, lb.availability_zone = flavor.id, "zone-1"
    got = client.get_loadbalancer(tree.lb)
    assert got.flavor == {"amp_image_tag": "t"}
    assert got.availability_zone == {"compute_zone": "nova-1"}


def test_get_each_object_type(tree: Tree, client: DriverAgentClient) -> None:
    assert client.get_listener(tree.listener).default_pool_id == tree.pool
    pool = client.get_pool(tree.pool)
    assert (pool.loadbalancer_id, pool.listener_id, len(pool.members)) == (tree.lb, tree.listener, 2)
    assert client.get_member(tree.members[0]).address == "192.0.2.1"
    assert client.get_healthmonitor(tree.hm).max_retries == 3
    assert client.get_l7policy(tree.policy).redirect_pool_id == tree.redirect_pool
    assert client.get_l7rule(tree.rule).value == "/api"


def test_missing_and_deleted_objects_are_none(tree: Tree, client: DriverAgentClient) -> None:
    assert client.get_member("no-such-member") is None
    client.update_loadbalancer_status({"loadbalancers": [{"id": tree.lb, "provisioning_status": "DELETED"}]})
    assert client.get_loadbalancer(tree.lb) is None
    assert client.get_listener(tree.listener) is None


@pytest.mark.parametrize("request_body", [b'{"object": "amphorae", "id": "x"}', b'{"id": "x"}', b'[]',
                                          b"not json at all"])
def test_bad_get_requests_are_answered_empty(agent: DriverAgent, request_body: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_paths().get)
        sock.sendall(f"{len(request_body)}\n".encode() + request_body)
        assert framing.read_frame(sock, timeout=5) == {}


def test_get_replies_are_plain_json(tree: Tree) -> None:
    """The reply is what octavia-lib's from_dict expects: JSON with every field present."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_paths().get)
        body = json.dumps({"object": "members", "id": tree.members[0]}).encode()
        sock.sendall(f"{len(body)}\n".encode() + body)
        reply = framing.read_frame(sock, timeout=5)
    assert reply == dm.Member(**reply).to_dict(render_unsets=True)
    assert reply["pool_id"] == tree.pool and reply["project_id"] == "proj"
