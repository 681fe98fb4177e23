"""ACTIVE_STANDBY through the API and the worker's pair flows, with the noop drivers:
roles, VRRP calls, failover of one amphora, LB failover, children and delete."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from octavia.controller.worker import drivers
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.conftest import ApiClient

LB = "/v2/lbaas/loadbalancers"
PAIR_ROLES = [("BACKUP", 90), ("MASTER", 100)]


def _live(lb_id: str) -> list[models.Amphora]:
    with session_scope() as session:
        return list(session.execute(
            select(models.Amphora).where(models.Amphora.load_balancer_id == lb_id,
                                         models.Amphora.status != "DELETED")
            .order_by(models.Amphora.created_at)
        ).scalars())


def _roles(amphorae: list[models.Amphora]) -> list[tuple[str | None, int | None]]:
    return sorted((amp.role, amp.vrrp_priority) for amp in amphorae)


def _calls(method: str) -> list[tuple[Any, ...]]:
    return [ids for name, ids in drivers.amphora().calls if name == method]


def _ha_flavor(api: ApiClient) -> str:
    profile = api.post("/v2/lbaas/flavorprofiles", json={"flavorprofile": {
        "name": "ha", "provider_name": "amphora",
        "flavor_data": '{"loadbalancer_topology": "ACTIVE_STANDBY"}',
    }})
    assert profile.status_code == 201, profile.text
    flavor = api.post("/v2/lbaas/flavors", json={"flavor": {
        "name": "ha", "flavor_profile_id": profile.json()["flavorprofile"]["id"],
    }})
    assert flavor.status_code == 201, flavor.text
    return str(flavor.json()["flavor"]["id"])


@pytest.fixture
def pair_lb(amphora_api: ApiClient) -> dict[str, Any]:
    return amphora_api.create_lb(flavor_id=_ha_flavor(amphora_api))


def _wait_pair(api: ApiClient, lb_id: str, excluded: set[str]) -> list[models.Amphora]:
    """The LB back to ACTIVE with two allocated amphorae, none of them in `excluded`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live = _live(lb_id)
        if len(live) == 2 and all(a.status == "ALLOCATED" and a.id not in excluded for a in live):
            api.wait_lb(lb_id)
            return live
        time.sleep(0.02)
    raise AssertionError(f"no new pair: {[(a.id, a.status, a.role) for a in _live(lb_id)]}")


def test_flavor_builds_a_master_and_a_backup(amphora_api: ApiClient, pair_lb: dict[str, Any]) -> None:
    pair = _live(pair_lb["id"])
    assert [a.status for a in pair] == ["ALLOCATED", "ALLOCATED"]
    assert _roles(pair) == PAIR_ROLES
    assert {a.vrrp_id for a in pair} == {1}
    assert all(a.vrrp_ip for a in pair), "the network driver's VRRP addresses are recorded"
    shown = amphora_api.get("/v2/octavia/amphorae", params={"loadbalancer_id": pair_lb["id"]}).json()
    assert sorted(a["role"] for a in shown["amphorae"]) == ["BACKUP", "MASTER"]
    configured = {ids[1] for ids in _calls("update_vrrp_conf")}
    started = {ids[0] for ids in _calls("start_vrrp_service")}
    assert configured == started == {a.id for a in pair}
    with session_scope() as session:
        assert session.get(models.LoadBalancer, pair_lb["id"]).topology == "ACTIVE_STANDBY"


def test_configured_default_topology(amphora_api: ApiClient, overrides: Callable[..., None]) -> None:
    overrides(group="controller_worker", loadbalancer_topology="ACTIVE_STANDBY")
    lb = amphora_api.create_lb()
    assert _roles(_live(lb["id"])) == PAIR_ROLES


def test_children_are_pushed_to_both(amphora_api: ApiClient, pair_lb: dict[str, Any]) -> None:
    before = len(_calls("update_amphora_listeners"))
    resp = amphora_api.post("/v2/lbaas/listeners", json={"listener": {
        "loadbalancer_id": pair_lb["id"], "protocol": "HTTP", "protocol_port": 80,
    }})
    assert resp.status_code == 201, resp.text
    amphora_api.wait_for(f"/v2/lbaas/listeners/{resp.json()['listener']['id']}", "listener")
    pushed = {ids[1] for ids in _calls("update_amphora_listeners")[before:]}
    assert pushed == {a.id for a in _live(pair_lb["id"])}


@pytest.mark.parametrize("failed_role", ["MASTER", "BACKUP"])
def test_amphora_failover_keeps_a_pair(amphora_api: ApiClient, pair_lb: dict[str, Any],
                                       failed_role: str) -> None:
    lb_id = pair_lb["id"]
    (failed,) = [a for a in _live(lb_id) if a.role == failed_role]
    (survivor,) = [a for a in _live(lb_id) if a.role != failed_role]
    assert amphora_api.put(f"/v2/octavia/amphorae/{failed.id}/failover").status_code == 202
    pair = _wait_pair(amphora_api, lb_id, {failed.id})
    roles = {a.id: a.role for a in pair}
    assert roles.pop(survivor.id) == "MASTER", "the survivor holds the VIP: it is the MASTER"
    assert list(roles.values()) == ["BACKUP"]
    assert (lb_id, failed.id) in _calls("stop_vrrp_service"), "keepalived stopped before the old one goes"
    (replacement,) = roles
    reloaded = [ids for ids in _calls("reload_vrrp_service") if ids[1] == survivor.id]
    assert reloaded, "the survivor re-read its configuration with its new peer"
    assert _calls("start_vrrp_service")[-1] == (replacement,)


def test_lb_failover_replaces_both(amphora_api: ApiClient, pair_lb: dict[str, Any]) -> None:
    lb_id = pair_lb["id"]
    old = {a.id for a in _live(lb_id)}
    assert amphora_api.put(f"{LB}/{lb_id}/failover").status_code == 202
    pair = _wait_pair(amphora_api, lb_id, old)
    assert _roles(pair) == PAIR_ROLES
    stopped = [ids[1] for ids in _calls("stop_vrrp_service") if ids[1] in old]
    backup_first = [a.id for a in sorted(_old_rows(old), key=lambda a: a.role == "MASTER")]
    assert stopped == backup_first, "BACKUP replaced first, so the VIP moves once"


def _old_rows(ids: set[str]) -> list[models.Amphora]:
    with session_scope() as session:
        return list(session.execute(select(models.Amphora).where(models.Amphora.id.in_(ids))).scalars())


def test_delete_retires_both(amphora_api: ApiClient, pair_lb: dict[str, Any]) -> None:
    lb_id = pair_lb["id"]
    pair = {a.id for a in _live(lb_id)}
    assert amphora_api.delete(f"{LB}/{lb_id}").status_code == 204
    amphora_api.wait_for(f"{LB}/{lb_id}", "loadbalancer", status="DELETED")
    assert {a.status for a in _old_rows(pair)} == {"DELETED"}
