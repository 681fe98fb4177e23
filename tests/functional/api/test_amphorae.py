"""Amphora API (admin): list/show with filters, stats, config, failover and delete."""

from __future__ import annotations

import datetime
import sys
import types
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from octavia.api import policy
from octavia.db import models
from octavia.db.api import session_scope
from octavia.domain import amphorae as domain

AMPS = "/v2/octavia/amphorae"
LBS = "/v2/lbaas/loadbalancers"
FIELDS = {"id", "loadbalancer_id", "compute_id", "lb_network_ip", "vrrp_ip", "ha_ip", "vrrp_port_id",
          "ha_port_id", "cert_expiration", "cert_busy", "role", "status", "vrrp_interface", "vrrp_id",
          "vrrp_priority", "cached_zone", "created_at", "updated_at", "image_id", "compute_flavor"}


def _amphora(lb_id: str | None, status: str = "ALLOCATED", **values: Any) -> str:
    amp_id = str(uuid.uuid4())
    row: dict[str, Any] = {
        "compute_id": str(uuid.uuid4()), "lb_network_ip": "192.0.2.10", "role": "STANDALONE",
        "cert_busy": False, "cert_expiration": datetime.datetime(2030, 1, 2, 3, 4, 5), "vrrp_id": 1,
        "vrrp_priority": 100, "image_id": str(uuid.uuid4()), "compute_flavor": "m1.amp", **values,
    }
    with session_scope(write=True) as s:
        s.add(models.Amphora(id=amp_id, load_balancer_id=lb_id, status=status, **row))
    return amp_id


def _set_lb(lb_id: str, **values: Any) -> None:
    with session_scope(write=True) as s:
        s.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == lb_id).values(**values))


@pytest.fixture
def no_worker(monkeypatch):
    """Run as a deployment without the controller worker API, whatever this tree holds."""
    monkeypatch.setattr(domain, "WORKER_API", "octavia.controller.worker.not_installed")


@pytest.fixture
def worker(monkeypatch):
    """A worker API module that records what the API handed over."""
    calls: list[tuple[str, str]] = []
    module = types.ModuleType("tests_worker_api")
    for action in ("update_amphora_agent_config", "failover_amphora", "delete_amphora"):
        setattr(module, action, lambda amp_id, _a=action: calls.append((_a, amp_id)))
    monkeypatch.setitem(sys.modules, "tests_worker_api", module)
    monkeypatch.setattr(domain, "WORKER_API", "tests_worker_api")
    return calls


def test_list_and_show(api):
    lb = api.create_lb()
    amp_id = _amphora(lb["id"], ha_ip="198.51.100.5")
    (amp,) = api.get(AMPS).json()["amphorae"]
    assert set(amp) == FIELDS
    assert amp["id"] == amp_id and amp["loadbalancer_id"] == lb["id"]
    assert amp["cert_expiration"] == "2030-01-02T03:04:05" and amp["cert_busy"] is False
    assert amp["ha_ip"] == "198.51.100.5" and amp["vrrp_priority"] == 100
    assert api.get(f"{AMPS}/{amp_id}").json() == {"amphora": amp}
    assert api.get(f"/v2.0/octavia/amphorae/{amp_id}").status_code == 200
    only_status = api.get(f"{AMPS}/{amp_id}", params={"fields": "status"}).json()
    assert only_status == {"amphora": {"status": "ALLOCATED"}}
    body = api.get(AMPS).json()
    assert body["amphorae_links"] == []


def test_list_filters_hide_deleted_and_paginate(api):
    lb1, lb2 = api.create_lb(), api.create_lb(project_id="other-project")
    a1 = _amphora(lb1["id"])
    a2 = _amphora(lb2["id"], role="MASTER")
    spare = _amphora(None, status="READY")
    _amphora(lb1["id"], status="DELETED")

    def ids(**params: Any) -> set[str]:
        resp = api.get(AMPS, params=params)
        assert resp.status_code == 200, resp.text
        return {a["id"] for a in resp.json()["amphorae"]}

    assert ids() == {a1, a2, spare}
    assert ids(loadbalancer_id=lb1["id"]) == {a1}
    assert ids(project_id="other-project") == {a2}
    assert ids(role="MASTER") == {a2}
    assert ids(status="READY") == {spare}
    assert ids(cert_busy="false") == {a1, a2, spare}
    page = api.get(AMPS, params={"limit": 2}).json()
    assert len(page["amphorae"]) == 2 and page["amphorae_links"][0]["rel"] == "next"
    rest = api.get(AMPS + "?" + page["amphorae_links"][0]["href"].split("?", 1)[1]).json()["amphorae"]
    assert {a["id"] for a in page["amphorae"] + rest} == {a1, a2, spare}
    assert api.get(AMPS, params={"load_balancer_id": lb1["id"]}).status_code == 400


def test_show_404_for_missing_and_deleted(api):
    gone = _amphora(None, status="DELETED")
    for amp_id in (gone, str(uuid.uuid4())):
        resp = api.get(f"{AMPS}/{amp_id}")
        assert resp.status_code == 404
        assert resp.json()["faultstring"] == f"Amphora {amp_id} not found."


def test_stats_per_listener(api):
    lb = api.create_lb()
    resp = api.post("/v2/lbaas/listeners", json={"listener": {
        "loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 80}})
    assert resp.status_code == 201, resp.text
    listener_id = resp.json()["listener"]["id"]
    amp_id = _amphora(lb["id"])
    resp = api.get(f"{AMPS}/{amp_id}/stats")
    assert resp.status_code == 404
    assert resp.json()["faultstring"] == f"Amphora stats for {amp_id} not found."
    with session_scope(write=True) as s:
        s.add(models.ListenerStatistics(listener_id=listener_id, amphora_id=amp_id, bytes_in=10,
                                        bytes_out=20, active_connections=1, total_connections=5,
                                        request_errors=2))
    assert api.get(f"{AMPS}/{amp_id}/stats").json() == {"amphora_stats": [{
        "id": amp_id, "loadbalancer_id": lb["id"], "listener_id": listener_id, "active_connections": 1,
        "bytes_in": 10, "bytes_out": 20, "request_errors": 2, "total_connections": 5}]}
    assert api.get(f"{AMPS}/{uuid.uuid4()}/stats").status_code == 404


def test_config_202_and_404(api, no_worker):
    amp_id = _amphora(None, status="READY")
    resp = api.put(f"{AMPS}/{amp_id}/config")
    assert resp.status_code == 202 and resp.content == b""
    assert api.put(f"{AMPS}/{uuid.uuid4()}/config").status_code == 404


def test_failover_through_provider_without_worker(api, no_worker):
    lb = api.create_lb()
    amp_id = _amphora(lb["id"])
    resp = api.put(f"{AMPS}/{amp_id}/failover")
    assert resp.status_code == 202 and resp.content == b""
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["provisioning_status"] in (
        "PENDING_UPDATE", "ACTIVE")
    api.wait_lb(lb["id"])
    assert api.put(f"{AMPS}/{uuid.uuid4()}/failover").status_code == 404


def test_failover_requires_active_lb(api, no_worker):
    lb = api.create_lb()
    amp_id = _amphora(lb["id"])
    _set_lb(lb["id"], provisioning_status="PENDING_UPDATE")
    resp = api.put(f"{AMPS}/{amp_id}/failover")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Load Balancer {lb['id']} is immutable and cannot be updated."
    _set_lb(lb["id"], provisioning_status="ERROR")
    assert api.put(f"{AMPS}/{amp_id}/failover").status_code == 409
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["provisioning_status"] == "ERROR"


def test_actions_hand_over_to_worker(api, worker):
    lb = api.create_lb()
    amp_id = _amphora(lb["id"])
    broken = _amphora(None, status="ERROR")
    assert api.put(f"{AMPS}/{amp_id}/config").status_code == 202
    assert api.put(f"{AMPS}/{amp_id}/failover").status_code == 202
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["provisioning_status"] == "PENDING_UPDATE"
    assert api.delete(f"{AMPS}/{broken}").status_code == 204
    assert worker == [("update_amphora_agent_config", amp_id), ("failover_amphora", amp_id),
                      ("delete_amphora", broken)]
    # The worker finishes the delete; until then the amphora is PENDING_DELETE.
    assert api.get(f"{AMPS}/{broken}").json()["amphora"]["status"] == "PENDING_DELETE"


def test_failover_hand_over_failure_puts_lb_in_error(api, monkeypatch, worker):
    def broken(amp_id: str) -> None:
        raise RuntimeError("queue down")

    monkeypatch.setattr(sys.modules["tests_worker_api"], "failover_amphora", broken)
    lb = api.create_lb()
    amp_id = _amphora(lb["id"])
    assert api.put(f"{AMPS}/{amp_id}/failover").status_code == 500
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["provisioning_status"] == "ERROR"


def test_delete_only_in_error(api, no_worker):
    amp_id = _amphora(None, status="READY")
    resp = api.delete(f"{AMPS}/{amp_id}")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Amphora {amp_id} is immutable and cannot be updated."
    assert api.get(f"{AMPS}/{amp_id}").json()["amphora"]["status"] == "READY"
    broken = _amphora(None, status="ERROR")
    resp = api.delete(f"{AMPS}/{broken}")
    assert resp.status_code == 204 and resp.content == b""
    assert api.get(f"{AMPS}/{broken}").status_code == 404
    assert api.delete(f"{AMPS}/{broken}").status_code == 404


def test_admin_only(api, overrides):
    lb = api.create_lb()
    amp_id = _amphora(lb["id"])
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    member = {"X-Project-Id": lb["project_id"], "X-Roles": "member,reader"}
    admin = {"X-Project-Id": "ops", "X-Roles": "admin"}
    for method, path in (("GET", AMPS), ("GET", f"{AMPS}/{amp_id}"), ("GET", f"{AMPS}/{amp_id}/stats"),
                         ("PUT", f"{AMPS}/{amp_id}/config"), ("PUT", f"{AMPS}/{amp_id}/failover"),
                         ("DELETE", f"{AMPS}/{amp_id}")):
        resp = api.request(method, path, headers=member)
        assert resp.status_code == 403, (method, path)
    assert api.get(AMPS, headers=admin).status_code == 200
    assert api.get(f"{AMPS}/{amp_id}", headers=admin).status_code == 200
