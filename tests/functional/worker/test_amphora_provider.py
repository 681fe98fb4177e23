"""The amphora provider end to end through the real RPC path, with the noop drivers."""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from octavia.compute import base as compute_base
from octavia.compute.noop import NoopComputeDriver
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.conftest import ApiClient
from tests.functional.worker.conftest import NOOP_DRIVERS

LB = "/v2/lbaas/loadbalancers"


def _amphorae(lb_id: str) -> list[models.Amphora]:
    with session_scope() as session:
        return list(
            session.execute(
                select(models.Amphora)
                .where(models.Amphora.load_balancer_id == lb_id)
                .order_by(models.Amphora.created_at)
            ).scalars()
        )


def _full_lb_body() -> dict[str, Any]:
    member = {"address": "192.0.2.10", "protocol_port": 80}
    pool = {
        "name": "p1",
        "protocol": "HTTP",
        "lb_algorithm": "SOURCE_IP_PORT",
        "members": [member],
        "healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 2},
    }
    listener = {"name": "l1", "protocol": "HTTP", "protocol_port": 80, "default_pool": pool}
    return {"vip_subnet_id": str(uuid.uuid4()), "listeners": [listener]}


def _create(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    resp = api.post(LB, json={"loadbalancer": body})
    assert resp.status_code == 201, resp.text
    return resp.json()["loadbalancer"]


def _no_pending(api: ApiClient, lb_id: str) -> None:
    tree = api.get(f"{LB}/{lb_id}/status").json()["statuses"]["loadbalancer"]
    text = repr(tree)
    assert "PENDING_" not in text, text


def test_fully_populated_lb_becomes_active_with_an_allocated_amphora(amphora_api: ApiClient) -> None:
    lb = _create(amphora_api, _full_lb_body())
    assert lb["provider"] == "amphora"
    active = amphora_api.wait_lb(lb["id"])
    assert active["provisioning_status"] == "ACTIVE"
    listener_id = active["listeners"][0]["id"]
    listener = amphora_api.get(f"/v2/lbaas/listeners/{listener_id}").json()["listener"]
    assert listener["provisioning_status"] == "ACTIVE"
    pool = amphora_api.get(f"/v2/lbaas/pools/{listener['default_pool_id']}").json()["pool"]
    assert pool["provisioning_status"] == "ACTIVE"
    assert pool["lb_algorithm"] == "SOURCE_IP_PORT"
    members = amphora_api.get(f"/v2/lbaas/pools/{pool['id']}/members").json()["members"]
    assert [m["provisioning_status"] for m in members] == ["ACTIVE"]
    _no_pending(amphora_api, lb["id"])
    (amp,) = _amphorae(lb["id"])
    assert (amp.status, amp.role) == ("ALLOCATED", "STANDALONE")
    assert amp.compute_id and amp.lb_network_ip and amp.vrrp_ip and amp.cert_expiration
    listed = amphora_api.get(f"/v2/octavia/amphorae?loadbalancer_id={lb['id']}").json()["amphorae"]
    assert [a["id"] for a in listed] == [amp.id]


def test_child_creates_updates_and_deletes_complete(amphora_api: ApiClient) -> None:
    lb_id = amphora_api.create_lb()["id"]
    resp = amphora_api.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 8080}},
    )
    assert resp.status_code == 201, resp.text
    listener_id = resp.json()["listener"]["id"]
    amphora_api.wait_for(f"/v2/lbaas/listeners/{listener_id}", "listener")
    amphora_api.wait_lb(lb_id)
    resp = amphora_api.post(
        "/v2/lbaas/pools",
        json={"pool": {"listener_id": listener_id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}},
    )
    pool_id = resp.json()["pool"]["id"]
    amphora_api.wait_for(f"/v2/lbaas/pools/{pool_id}", "pool")
    amphora_api.wait_lb(lb_id)
    resp = amphora_api.post(
        f"/v2/lbaas/pools/{pool_id}/members", json={"member": {"address": "192.0.2.20", "protocol_port": 80}}
    )
    member_id = resp.json()["member"]["id"]
    member = amphora_api.wait_for(f"/v2/lbaas/pools/{pool_id}/members/{member_id}", "member")
    assert member["operating_status"] == "NO_MONITOR"
    amphora_api.wait_lb(lb_id)
    resp = amphora_api.put(f"/v2/lbaas/pools/{pool_id}/members/{member_id}", json={"member": {"weight": 5}})
    assert resp.status_code == 200, resp.text
    member = amphora_api.wait_for(f"/v2/lbaas/pools/{pool_id}/members/{member_id}", "member")
    assert member["weight"] == 5
    amphora_api.wait_lb(lb_id)
    resp = amphora_api.post(
        "/v2/lbaas/l7policies", json={"l7policy": {"listener_id": listener_id, "action": "REJECT"}}
    )
    policy_id = resp.json()["l7policy"]["id"]
    policy = amphora_api.wait_for(f"/v2/lbaas/l7policies/{policy_id}", "l7policy")
    assert policy["operating_status"] == "ONLINE"
    amphora_api.wait_lb(lb_id)
    assert amphora_api.delete(f"/v2/lbaas/pools/{pool_id}/members/{member_id}").status_code == 204
    amphora_api.wait_for(f"/v2/lbaas/pools/{pool_id}/members/{member_id}", "member", status="DELETED")
    amphora_api.wait_lb(lb_id)
    assert amphora_api.delete(f"/v2/lbaas/listeners/{listener_id}").status_code == 204
    amphora_api.wait_for(f"/v2/lbaas/listeners/{listener_id}", "listener", status="DELETED")
    amphora_api.wait_lb(lb_id)
    _no_pending(amphora_api, lb_id)


def test_l7_policy_on_a_tcp_listener_is_refused(amphora_api: ApiClient) -> None:
    lb_id = amphora_api.create_lb()["id"]
    resp = amphora_api.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb_id, "protocol": "TCP", "protocol_port": 9000}},
    )
    listener_id = resp.json()["listener"]["id"]
    amphora_api.wait_for(f"/v2/lbaas/listeners/{listener_id}", "listener")
    amphora_api.wait_lb(lb_id)
    resp = amphora_api.post(
        "/v2/lbaas/l7policies", json={"l7policy": {"listener_id": listener_id, "action": "REJECT"}}
    )
    assert resp.status_code == 501, resp.text
    assert "HTTP" in resp.json()["faultstring"]
    assert amphora_api.get(f"{LB}/{lb_id}").json()["loadbalancer"]["provisioning_status"] == "ACTIVE"


def test_flavor_profiles_are_validated(amphora_api: ApiClient) -> None:
    resp = amphora_api.post(
        "/v2/lbaas/flavorprofiles",
        json={
            "flavorprofile": {
                "name": "ha",
                "provider_name": "amphora",
                "flavor_data": '{"loadbalancer_topology": "ACTIVE_STANDBY"}',
            }
        },
    )
    assert resp.status_code == 201, resp.text
    resp = amphora_api.post(
        "/v2/lbaas/flavorprofiles",
        json={
            "flavorprofile": {
                "name": "unknown-topology",
                "provider_name": "amphora",
                "flavor_data": '{"loadbalancer_topology": "ACTIVE_ACTIVE"}',
            }
        },
    )
    assert resp.status_code == 501, resp.text
    resp = amphora_api.post(
        "/v2/lbaas/flavorprofiles",
        json={
            "flavorprofile": {
                "name": "bad",
                "provider_name": "amphora",
                "flavor_data": '{"no_such_key": "x"}',
            }
        },
    )
    assert resp.status_code == 501, resp.text
    resp = amphora_api.post(
        "/v2/lbaas/flavorprofiles",
        json={
            "flavorprofile": {
                "name": "single",
                "provider_name": "amphora",
                "flavor_data": '{"loadbalancer_topology": "SINGLE", "compute_flavor": "m1"}',
            }
        },
    )
    assert resp.status_code == 201, resp.text


def test_failover_replaces_the_amphora(amphora_api: ApiClient) -> None:
    lb = _create(amphora_api, {"vip_subnet_id": str(uuid.uuid4())})
    amphora_api.wait_lb(lb["id"])
    (old,) = _amphorae(lb["id"])
    assert amphora_api.put(f"{LB}/{lb['id']}/failover").status_code == 202
    amphora_api.wait_lb(lb["id"])
    amps = {a.id: a for a in _amphorae(lb["id"])}
    assert amps[old.id].status == "DELETED"
    (new,) = [a for a in amps.values() if a.id != old.id]
    assert (new.status, new.role) == ("ALLOCATED", "STANDALONE")
    assert new.compute_id != old.compute_id
    _no_pending(amphora_api, lb["id"])


def test_amphora_failover_through_the_worker_api(amphora_api: ApiClient) -> None:
    lb_id = amphora_api.create_lb()["id"]
    (old,) = _amphorae(lb_id)
    assert amphora_api.put(f"/v2/octavia/amphorae/{old.id}/failover").status_code == 202
    deadline = time.monotonic() + 10
    while len(_amphorae(lb_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    amphora_api.wait_lb(lb_id)
    statuses = sorted(a.status for a in _amphorae(lb_id))
    assert statuses == ["ALLOCATED", "DELETED"]


def test_lb_delete_retires_amphorae(amphora_api: ApiClient) -> None:
    lb = amphora_api.create_lb()
    resp = amphora_api.post("/v2/lbaas/listeners", json={"listener": {
        "loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 22}})
    amphora_api.wait_for(f"/v2/lbaas/listeners/{resp.json()['listener']['id']}", "listener")
    amphora_api.wait_lb(lb["id"])
    assert amphora_api.delete(f"{LB}/{lb['id']}?cascade=true").status_code == 204
    amphora_api.wait_for(f"{LB}/{lb['id']}", "loadbalancer", status="DELETED")
    assert [a.status for a in _amphorae(lb["id"])] == ["DELETED"]
    with session_scope() as session:
        assert session.get(models.LoadBalancer, lb["id"]).provisioning_status == "DELETED"
        assert (
            session.execute(
                select(models.Listener).where(models.Listener.load_balancer_id == lb["id"])
            ).first()
            is None
        )


class FailingComputeDriver(NoopComputeDriver):
    """Builds, then reports the instance as failed; remembers what it was asked to delete."""

    built: ClassVar[list[str]] = []
    deleted: ClassVar[list[str]] = []

    def build(self, *args: Any, **kwargs: Any) -> str:
        compute_id = super().build(*args, **kwargs)
        self.built.append(compute_id)
        return compute_id

    def get_amphora(self, compute_id: str, management_network_id: str | None = None) -> Any:
        found, _ = super().get_amphora(compute_id)
        found.status = compute_base.COMPUTE_ERROR
        return found, "no valid host"

    def delete(self, compute_id: str) -> None:
        self.deleted.append(compute_id)


@pytest.fixture
def failing_compute() -> None:
    FailingComputeDriver.built.clear()
    FailingComputeDriver.deleted.clear()


FAILING = {**NOOP_DRIVERS, "compute_driver": f"{__name__}:FailingComputeDriver"}


@pytest.mark.parametrize("worker_drivers", [pytest.param(FAILING, id="failing-compute")])
def test_failed_build_ends_in_error_and_cleans_up(failing_compute: None, amphora_api: ApiClient) -> None:
    lb = _create(amphora_api, {"vip_subnet_id": str(uuid.uuid4())})
    errored = amphora_api.wait_for(f"{LB}/{lb['id']}", "loadbalancer", status="ERROR")
    assert errored["provisioning_status"] == "ERROR"
    _no_pending(amphora_api, lb["id"])
    assert FailingComputeDriver.built and FailingComputeDriver.deleted == FailingComputeDriver.built
    assert [a.status for a in _amphorae(lb["id"])] == ["DELETED"]
    assert amphora_api.get(f"/v2/octavia/amphorae?loadbalancer_id={lb['id']}").json()["amphorae"] == []


def test_udp_and_sctp_are_refused_cleanly(amphora_api: ApiClient) -> None:
    lb_id = amphora_api.create_lb()["id"]
    for protocol in ("UDP", "SCTP"):
        resp = amphora_api.post(
            "/v2/lbaas/listeners",
            json={"listener": {"loadbalancer_id": lb_id, "protocol": protocol, "protocol_port": 53}},
        )
        assert resp.status_code == 501, resp.text
        assert f"not served by this amphora data plane yet: {protocol}" in resp.json()["faultstring"]
        resp = amphora_api.post(
            "/v2/lbaas/pools",
            json={"pool": {"loadbalancer_id": lb_id, "protocol": protocol, "lb_algorithm": "ROUND_ROBIN"}},
        )
        assert resp.status_code == 501, resp.text
    assert amphora_api.get(f"{LB}/{lb_id}").json()["loadbalancer"]["provisioning_status"] == "ACTIVE"
    assert amphora_api.get("/v2/lbaas/listeners").json()["listeners"] == []
