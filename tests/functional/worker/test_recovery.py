"""Operations a crash cut short, as the database shows them, finished by `recovery`
(the amphora provider with the noop drivers; the worker runs on the in-process transport)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from octavia.common import constants as c
from octavia.controller.worker import recovery
from octavia.controller.worker.controller_worker import ControllerWorker
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.conftest import ApiClient


def _populated(api: ApiClient) -> dict[str, Any]:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "listeners": [{
        "protocol": "HTTP", "protocol_port": 80, "default_pool": {
            "name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "192.0.2.10", "protocol_port": 80},
                        {"address": "192.0.2.11", "protocol_port": 80}]}}]}}
    resp = api.post("/v2/lbaas/loadbalancers", json=body)
    assert resp.status_code == 201, resp.text
    return api.wait_lb(resp.json()["loadbalancer"]["id"])


def _set_status(model: type[models.Base], object_id: str, status: str) -> None:
    with session_scope(write=True) as session:
        row: Any = session.get(model, object_id)
        row.provisioning_status = status


def _amphora_statuses(lb_id: str) -> list[str]:
    with session_scope() as session:
        query = select(models.Amphora.status).where(models.Amphora.load_balancer_id == lb_id)
        return sorted(session.execute(query).scalars())


def _status(model: type[models.Base], object_id: str) -> str | None:
    with session_scope() as session:
        row: Any = session.get(model, object_id)
        return None if row is None else str(row.provisioning_status)


def test_recovery_finishes_each_kind_of_cut_operation(amphora_api: ApiClient) -> None:
    assert recovery.applies()
    updating, building, deleting, noop = (_populated(amphora_api) for _ in range(4))
    listener_id = updating["listeners"][0]["id"]
    pool_id = updating["pools"][0]["id"]
    members = amphora_api.get(f"/v2/lbaas/pools/{pool_id}/members").json()["members"]
    gone, changed = members[0]["id"], members[1]["id"]

    # What the API leaves when a member delete and a member update are in flight...
    _set_status(models.LoadBalancer, updating["id"], c.PENDING_UPDATE)
    _set_status(models.Listener, listener_id, c.PENDING_UPDATE)
    _set_status(models.Pool, pool_id, c.PENDING_UPDATE)
    _set_status(models.Member, gone, c.PENDING_DELETE)
    _set_status(models.Member, changed, c.PENDING_UPDATE)
    # ...a build cut after its amphora booted, a cascade delete cut before it ran...
    _set_status(models.LoadBalancer, building["id"], c.PENDING_CREATE)
    with session_scope(write=True) as session:
        for amp in session.execute(select(models.Amphora).where(
                models.Amphora.load_balancer_id == building["id"])).scalars():
            amp.status = c.AMPHORA_BOOTING
    _set_status(models.LoadBalancer, deleting["id"], c.PENDING_DELETE)
    # ...and a load balancer of another provider, which is not this worker's to finish.
    with session_scope(write=True) as session:
        row: Any = session.get(models.LoadBalancer, noop["id"])
        row.provider, row.provisioning_status = "noop_driver", c.PENDING_UPDATE

    assert recovery.resume_interrupted(ControllerWorker()) == 3

    assert _status(models.LoadBalancer, updating["id"]) == c.ACTIVE
    assert _status(models.Listener, listener_id) == c.ACTIVE
    assert _status(models.Pool, pool_id) == c.ACTIVE
    assert _status(models.Member, gone) is None
    assert _status(models.Member, changed) == c.ACTIVE
    assert _amphora_statuses(updating["id"]) == [c.AMPHORA_ALLOCATED]

    assert _status(models.LoadBalancer, building["id"]) == c.ACTIVE
    assert _amphora_statuses(building["id"]) == [c.AMPHORA_ALLOCATED, c.DELETED]

    assert _status(models.LoadBalancer, deleting["id"]) == c.DELETED
    assert _amphora_statuses(deleting["id"]) == [c.DELETED]

    assert _status(models.LoadBalancer, noop["id"]) == c.PENDING_UPDATE
    _set_status(models.LoadBalancer, noop["id"], c.ACTIVE)


def test_a_failover_cut_mid_build_fails_over_again(amphora_api: ApiClient) -> None:
    lb = _populated(amphora_api)
    _set_status(models.LoadBalancer, lb["id"], c.PENDING_UPDATE)
    with session_scope(write=True) as session:
        session.add(models.Amphora(status=c.AMPHORA_BOOTING, load_balancer_id=lb["id"]))
    assert recovery.resume_interrupted(ControllerWorker()) == 1
    assert _status(models.LoadBalancer, lb["id"]) == c.ACTIVE
    assert _amphora_statuses(lb["id"]) == [c.AMPHORA_ALLOCATED, c.DELETED, c.DELETED]
