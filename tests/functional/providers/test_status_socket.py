"""The status socket against a real database, driven by octavia-lib's own DriverLibrary."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from octavia_lib.api.drivers import driver_lib
from octavia_lib.api.drivers import exceptions as lib_exceptions
from sqlalchemy import func, select

from octavia.db import api as db_api
from octavia.db import models
from octavia.providers.agent_client import DriverAgentClient, socket_paths
from octavia.providers.driver_agent import DriverAgent, framing

from .helpers import Tree, build_tree, status_of


@pytest.fixture
def tree(agent: DriverAgent) -> Tree:
    with db_api.session_scope(write=True) as session:
        return build_tree(session, status="PENDING_UPDATE")


def _count(model: Any, *where: Any) -> int:
    with db_api.session_scope() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _raw(path: str, data: bytes) -> Any:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return framing.read_frame(sock, timeout=5)


def test_stock_octavia_lib_client_updates_statuses(tree: Tree) -> None:
    """The exact client a third-party provider uses (byte-at-a-time reader and all)."""
    paths = socket_paths()
    lib = driver_lib.DriverLibrary(status_socket=paths.status, stats_socket=paths.stats, get_socket=paths.get)
    lib.update_loadbalancer_status({
        "loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE", "operating_status": "ONLINE"}],
        "members": [{"id": tree.members[0], "operating_status": "ERROR"}],
    })
    assert status_of(models.LoadBalancer, tree.lb) == ("ACTIVE", "ONLINE")
    assert status_of(models.Member, tree.members[0]) == ("PENDING_UPDATE", "ERROR")
    with db_api.session_scope() as session:
        assert session.get(models.LoadBalancer, tree.lb).updated_at is not None
        assert session.get(models.Member, tree.members[1]).updated_at is None


def test_a_bad_record_rejects_the_whole_message(tree: Tree, client: DriverAgentClient) -> None:
    with pytest.raises(lib_exceptions.UpdateStatusError) as err:
        client.update_loadbalancer_status({
            "loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}],
            "pools": [{"id": tree.pool, "provisioning_status": "FINISHED"}],
        })
    assert "Invalid provisioning_status 'FINISHED'" in err.value.fault_string
    assert (err.value.status_object, err.value.status_object_id) == ("pools", tree.pool)
    assert status_of(models.LoadBalancer, tree.lb) == ("PENDING_UPDATE", "OFFLINE")


@pytest.mark.parametrize("payload", ["ACTIVE", [1, 2], {"members": {"id": "x"}}, {"members": [{"id": None}]}])
def test_malformed_messages_get_an_error_reply(
    agent: DriverAgent, client: DriverAgentClient, payload: Any
) -> None:
    with pytest.raises(lib_exceptions.UpdateStatusError):
        client.update_loadbalancer_status(payload)


@pytest.mark.parametrize("raw", [b"hello\n", b"4\nnull", b"7\n{broken", b"x" * 100])
def test_garbage_frames_do_not_kill_the_server(tree: Tree, raw: bytes) -> None:
    reply = _raw(socket_paths().status, raw)
    assert reply["status_code"] == 500 and reply["fault_string"]
    # The server still serves well-formed requests afterwards.
    DriverAgentClient().update_loadbalancer_status(
        {"loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}]}
    )
    assert status_of(models.LoadBalancer, tree.lb) == ("ACTIVE", "OFFLINE")


def test_records_for_missing_objects_are_skipped(tree: Tree, client: DriverAgentClient) -> None:
    client.update_loadbalancer_status({
        "members": [{"id": "no-such-member", "provisioning_status": "DELETED"},
                    {"id": "no-such-member-either", "provisioning_status": "ACTIVE"}],
        "loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}],
    })
    assert status_of(models.LoadBalancer, tree.lb) == ("ACTIVE", "OFFLINE")


def test_member_deleted_removes_the_row_and_its_tags(tree: Tree, client: DriverAgentClient) -> None:
    with db_api.session_scope(write=True) as session:
        session.add(models.Tag(resource_id=tree.members[0], tag="blue"))
    client.update_loadbalancer_status(
        {"members": [{"id": tree.members[0], "provisioning_status": "DELETED"}]}
    )
    assert status_of(models.Member, tree.members[0]) is None
    assert status_of(models.Member, tree.members[1]) is not None
    assert _count(models.Tag, models.Tag.resource_id == tree.members[0]) == 0


def test_listener_deleted_takes_its_policies_rules_and_statistics(
    tree: Tree, client: DriverAgentClient
) -> None:
    with db_api.session_scope(write=True) as session:
        session.add(models.ListenerStatistics(listener_id=tree.listener, amphora_id="a", bytes_in=1))
    client.update_loadbalancer_status(
        {"listeners": [{"id": tree.listener, "provisioning_status": "DELETED"}]}
    )
    assert status_of(models.Listener, tree.listener) is None
    assert status_of(models.L7Policy, tree.policy) is None
    assert status_of(models.L7Rule, tree.rule) is None
    assert _count(models.ListenerStatistics) == 0
    # Pools belong to the load balancer, not to the listener.
    assert status_of(models.Pool, tree.pool) is not None


def test_pool_deleted_takes_members_and_monitor_and_clears_default_pool(
    tree: Tree, client: DriverAgentClient
) -> None:
    client.update_loadbalancer_status({"pools": [{"id": tree.pool, "provisioning_status": "DELETED"}]})
    assert status_of(models.Pool, tree.pool) is None
    assert all(status_of(models.Member, m) is None for m in tree.members)
    assert status_of(models.HealthMonitor, tree.hm) is None
    with db_api.session_scope() as session:
        assert session.get(models.Listener, tree.listener).default_pool_id is None


def test_pool_still_used_by_a_redirect_cannot_be_deleted(tree: Tree, client: DriverAgentClient) -> None:
    with pytest.raises(lib_exceptions.UpdateStatusError) as err:
        client.update_loadbalancer_status({
            "pools": [{"id": tree.redirect_pool, "provisioning_status": "DELETED"}],
            "loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}],
        })
    assert err.value.status_object == "pools"
    assert status_of(models.Pool, tree.redirect_pool) is not None
    assert status_of(models.LoadBalancer, tree.lb) == ("PENDING_UPDATE", "OFFLINE")


def test_policy_deleted_renumbers_the_remaining_policies(tree: Tree, client: DriverAgentClient) -> None:
    with db_api.session_scope(write=True) as session:
        for position in (2, 3):
            session.add(models.L7Policy(project_id="proj", listener_id=tree.listener, action="REJECT",
                                        position=position, provisioning_status="ACTIVE",
                                        operating_status="ONLINE"))
    client.update_loadbalancer_status({"l7policies": [{"id": tree.policy, "provisioning_status": "DELETED"}]})
    assert status_of(models.L7Rule, tree.rule) is None
    with db_api.session_scope() as session:
        positions = session.execute(
            select(models.L7Policy.position).where(models.L7Policy.listener_id == tree.listener)
            .order_by(models.L7Policy.position)
        ).scalars().all()
    assert positions == [1, 2]


def test_load_balancer_deleted_keeps_the_row_and_removes_everything_under_it(
    tree: Tree, client: DriverAgentClient
) -> None:
    with db_api.session_scope(write=True) as session:
        other = build_tree(session)
    client.update_loadbalancer_status(
        {"loadbalancers": [{"id": tree.lb, "provisioning_status": "DELETED", "operating_status": "OFFLINE"}]}
    )
    assert status_of(models.LoadBalancer, tree.lb) == ("DELETED", "OFFLINE")
    # Only the other load balancer's tree is left.
    remaining = {model.__name__: _count(model) for model in (
        models.Listener, models.Pool, models.Member, models.HealthMonitor, models.L7Policy, models.L7Rule)}
    assert remaining == {
        "Listener": 1, "Pool": 2, "Member": 2, "HealthMonitor": 1, "L7Policy": 1, "L7Rule": 1
    }
    assert status_of(models.Listener, other.listener) == ("ACTIVE", "OFFLINE")
    # A DELETED load balancer cannot be brought back by a late report.
    client.update_loadbalancer_status({"loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}]})
    assert status_of(models.LoadBalancer, tree.lb) == ("DELETED", "OFFLINE")


def test_a_burst_of_connections_waits_in_the_backlog(tmp_path: Any) -> None:
    """octavia-lib connects with a timeout, so a full backlog fails at once (EAGAIN):
    the sockets must queue a burst of completions, not refuse it."""
    from octavia.providers.driver_agent import server

    path = str(tmp_path / "burst.sock")
    listener = server._UnixServer("status", path, lambda message: {}, lambda fault: {})
    clients: list[socket.socket] = []
    try:
        for _ in range(64):  # nothing accepts meanwhile: every connection waits in the backlog
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(driver_lib.SOCKET_TIMEOUT)
            client.connect(path)
            clients.append(client)
    finally:
        for client in clients:
            client.close()
        listener.server_close()
    assert len(clients) == 64
