"""A project never sees, counts against, or changes another project's objects.

`testing` auth: each request's identity is its X-Project-Id / X-Roles headers. Two
projects build the same tree (LB, listener, two pools, member, health monitor, L7
policy and rule, all tagged) as members; then project A tries every endpoint on B's
objects: reads, writes, actions, lists with every filter, marker, `fields`, tag filter
and page link, children under B's parents and references to B's pools. Reads and
writes of B's objects are 403 (upstream: existence first, then policy), lists hold only
A's objects, and B's tree reads back exactly as before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from octavia.db.api import session_scope
from tests.functional.hardening import consistency

FORBIDDEN = "Policy does not allow this request to be performed."
ADMIN = {"X-Project-Id": "admin-project", "X-Roles": "admin"}


@dataclass
class World:
    project: str
    headers: dict[str, str]
    tag: str
    lb: str = ""
    listener: str = ""
    pool: str = ""
    spare_pool: str = ""
    member: str = ""
    hm: str = ""
    policy: str = ""
    rule: str = ""

    def paths(self) -> dict[str, tuple[str, str]]:
        """Every object's URL and envelope key."""
        return {
            "lb": (f"/v2/lbaas/loadbalancers/{self.lb}", "loadbalancer"),
            "listener": (f"/v2/lbaas/listeners/{self.listener}", "listener"),
            "pool": (f"/v2/lbaas/pools/{self.pool}", "pool"),
            "spare_pool": (f"/v2/lbaas/pools/{self.spare_pool}", "pool"),
            "member": (f"/v2/lbaas/pools/{self.pool}/members/{self.member}", "member"),
            "hm": (f"/v2/lbaas/healthmonitors/{self.hm}", "healthmonitor"),
            "policy": (f"/v2/lbaas/l7policies/{self.policy}", "l7policy"),
            "rule": (f"/v2/lbaas/l7policies/{self.policy}/rules/{self.rule}", "rule"),
        }

    def ids(self) -> set[str]:
        return {self.lb, self.listener, self.pool, self.spare_pool, self.member, self.hm, self.policy,
                self.rule}


def wait_active(api: Any, lb_id: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lb = api.get(f"/v2/lbaas/loadbalancers/{lb_id}", headers=headers).json()["loadbalancer"]
        if lb["provisioning_status"] == "ACTIVE":
            return
        time.sleep(0.01)
    raise AssertionError(f"load balancer {lb_id} never became ACTIVE")


def build(api: Any, name: str) -> World:
    project = uuid.uuid4().hex
    world = World(project, {"X-Project-Id": project, "X-Roles": "member"}, f"secret-{name}")

    def make(path: str, key: str, **body: Any) -> str:
        resp = api.post(path, json={key: {"tags": [world.tag], **body}}, headers=world.headers)
        assert resp.status_code == 201, resp.text
        wait_active(api, world.lb or resp.json()[key]["id"], world.headers)
        return str(resp.json()[key]["id"])

    world.lb = make("/v2/lbaas/loadbalancers", "loadbalancer", name=f"lb-{name}",
                    vip_subnet_id=str(uuid.uuid4()))
    world.listener = make("/v2/lbaas/listeners", "listener", loadbalancer_id=world.lb, protocol="HTTP",
                          protocol_port=80)
    world.pool = make("/v2/lbaas/pools", "pool", listener_id=world.listener, protocol="HTTP",
                      lb_algorithm="ROUND_ROBIN")
    world.spare_pool = make("/v2/lbaas/pools", "pool", loadbalancer_id=world.lb, protocol="HTTP",
                            lb_algorithm="ROUND_ROBIN")
    world.member = make(f"/v2/lbaas/pools/{world.pool}/members", "member", address="192.0.2.7",
                        protocol_port=80)
    world.hm = make("/v2/lbaas/healthmonitors", "healthmonitor", pool_id=world.pool, type="HTTP", delay=5,
                    timeout=3, max_retries=3)
    world.policy = make("/v2/lbaas/l7policies", "l7policy", listener_id=world.listener,
                        action="REDIRECT_TO_POOL", redirect_pool_id=world.spare_pool)
    world.rule = make(f"/v2/lbaas/l7policies/{world.policy}/rules", "rule", type="PATH",
                      compare_type="STARTS_WITH", value="/b")
    return world


def snapshot(api: Any, world: World) -> dict[str, Any]:
    """Every object of `world` as its owner reads it (and its status tree and quota)."""
    out: dict[str, Any] = {}
    for kind, (path, key) in world.paths().items():
        resp = api.get(path, headers=world.headers)
        assert resp.status_code == 200, resp.text
        out[kind] = resp.json()[key]
    out["status"] = api.get(f"/v2/lbaas/loadbalancers/{world.lb}/status", headers=world.headers).json()
    out["quota"] = api.get(f"/v2/lbaas/quotas/{world.project}", headers=world.headers).json()
    return out


@pytest.fixture
def worlds(api: Any, overrides: Callable[..., None]) -> tuple[World, World]:
    overrides(group="api_settings", auth_strategy="testing")
    api.headers = {}
    return build(api, "a"), build(api, "b")


def _forbidden(resp: Any, theirs: World) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.json()["faultstring"] == FORBIDDEN
    assert not any(i in resp.text for i in theirs.ids())


UPDATES = {
    "lb": {"loadbalancer": {"name": "hijacked"}}, "listener": {"listener": {"name": "hijacked"}},
    "pool": {"pool": {"name": "hijacked"}}, "spare_pool": {"pool": {"name": "hijacked"}},
    "member": {"member": {"weight": 7}}, "hm": {"healthmonitor": {"delay": 9}},
    "policy": {"l7policy": {"position": 1, "name": "hijacked"}}, "rule": {"rule": {"value": "/hijacked"}},
}


def test_objects_of_another_project_are_forbidden(api: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    before = snapshot(api, theirs)
    as_me = mine.headers
    for kind, (path, _key) in theirs.paths().items():
        _forbidden(api.get(path, headers=as_me), theirs)
        _forbidden(api.get(path, params={"fields": ["id", "name"]}, headers=as_me), theirs)
        _forbidden(api.put(path, json=UPDATES[kind], headers=as_me), theirs)
        _forbidden(api.delete(path, headers=as_me), theirs)
    lb, listener = f"/v2/lbaas/loadbalancers/{theirs.lb}", f"/v2/lbaas/listeners/{theirs.listener}"
    for path in (f"{lb}/stats", f"{lb}/status", f"{lb}/statuses", f"{listener}/stats",
                 f"/v2/lbaas/pools/{theirs.pool}/members", f"/v2/lbaas/l7policies/{theirs.policy}/rules",
                 f"/v2/lbaas/quotas/{theirs.project}", f"/v2/lbaas/quotas/{theirs.project}/default"):
        _forbidden(api.get(path, headers=as_me), theirs)
    _forbidden(api.delete(f"{lb}?cascade=true", headers=as_me), theirs)
    _forbidden(api.put(f"{lb}/failover", headers=as_me), theirs)
    _forbidden(api.put(f"/v2/lbaas/pools/{theirs.pool}/members", headers=as_me,
                       json={"members": [{"address": "192.0.2.99", "protocol_port": 80}]}), theirs)
    _forbidden(api.put(f"/v2/lbaas/quotas/{theirs.project}", json={"quota": {"loadbalancer": 0}},
                       headers=as_me), theirs)
    _forbidden(api.delete(f"/v2/lbaas/quotas/{theirs.project}", headers=as_me), theirs)
    assert snapshot(api, theirs) == before


# (list path, parent filters naming the other project's objects) for each collection.
def _collections(mine: World, theirs: World) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("/v2/lbaas/loadbalancers", "loadbalancers", {"id": theirs.lb, "name": "lb-b"}),
        ("/v2/lbaas/listeners", "listeners", {"id": theirs.listener, "loadbalancer_id": theirs.lb,
                                              "default_pool_id": theirs.pool}),
        ("/v2/lbaas/pools", "pools", {"id": theirs.pool, "loadbalancer_id": theirs.lb,
                                      "healthmonitor_id": theirs.hm}),
        (f"/v2/lbaas/pools/{mine.pool}/members", "members", {"id": theirs.member}),
        ("/v2/lbaas/healthmonitors", "healthmonitors", {"id": theirs.hm, "pool_id": theirs.pool}),
        ("/v2/lbaas/l7policies", "l7policies", {"id": theirs.policy, "listener_id": theirs.listener,
                                                "redirect_pool_id": theirs.spare_pool}),
        (f"/v2/lbaas/l7policies/{mine.policy}/rules", "rules", {"id": theirs.rule}),
    ]


def test_lists_never_show_another_project(api: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    as_me = mine.headers
    for path, key, filters in _collections(mine, theirs):
        everything = api.get(path, headers=as_me).json()[key]
        assert everything and {o["id"] for o in everything} <= mine.ids(), path
        for name, value in filters.items():
            resp = api.get(path, params={name: value}, headers=as_me)
            assert resp.status_code == 200 and resp.json()[key] == [], (path, name)
        for tag_filter in ("tags", "tags-any"):
            resp = api.get(path, params={tag_filter: theirs.tag}, headers=as_me)
            assert resp.json()[key] == [], (path, tag_filter)
        resp = api.get(path, params={"not-tags": mine.tag}, headers=as_me)
        assert resp.json()[key] == [], path
        resp = api.get(path, params={"fields": ["id", "project_id"]}, headers=as_me)
        assert {o.get("project_id") for o in resp.json()[key]} <= {mine.project}, path
        if not (path.startswith("/v2/lbaas/l7policies/") or path.endswith("/members")):
            # Sub-collections are scoped by their parent's policy check, not by project_id.
            _forbidden(api.get(path, params={"project_id": theirs.project}, headers=as_me), theirs)
        # A marker the caller cannot see reads exactly like one that does not exist.
        foreign = api.get(path, params={"marker": filters["id"]}, headers=as_me)
        missing = api.get(path, params={"marker": str(uuid.uuid4())}, headers=as_me)
        assert foreign.status_code == missing.status_code == 400, (path, foreign.text)
        assert foreign.json()["faultstring"] == f"Supplied pagination marker '{filters['id']}' is not valid."


def test_pages_of_a_list_stay_in_the_project(api: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    for _ in range(3):
        assert api.post("/v2/lbaas/loadbalancers", headers=theirs.headers, json={"loadbalancer": {
            "vip_subnet_id": str(uuid.uuid4())}}).status_code == 201
    seen: list[str] = []
    url: str | None = "/v2/lbaas/loadbalancers?limit=1&sort=created_at:asc"
    while url:
        body = api.get(url, headers=mine.headers).json()
        seen += [lb["id"] for lb in body["loadbalancers"]]
        url = next((link["href"] for link in body["loadbalancers_links"] if link["rel"] == "next"), None)
        assert len(seen) < 10
    assert seen == [mine.lb]


def test_children_never_attach_to_another_project(api: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    before = snapshot(api, theirs)
    as_me = mine.headers
    creates = [
        ("/v2/lbaas/listeners", "listener", {"loadbalancer_id": theirs.lb, "protocol": "HTTP",
                                             "protocol_port": 81}),
        ("/v2/lbaas/pools", "pool", {"loadbalancer_id": theirs.lb, "protocol": "HTTP",
                                     "lb_algorithm": "ROUND_ROBIN"}),
        ("/v2/lbaas/pools", "pool", {"listener_id": theirs.listener, "protocol": "HTTP",
                                     "lb_algorithm": "ROUND_ROBIN"}),
        (f"/v2/lbaas/pools/{theirs.pool}/members", "member", {"address": "192.0.2.8", "protocol_port": 80}),
        ("/v2/lbaas/healthmonitors", "healthmonitor", {"pool_id": theirs.spare_pool, "type": "TCP",
                                                       "delay": 5, "timeout": 3, "max_retries": 3}),
        ("/v2/lbaas/l7policies", "l7policy", {"listener_id": theirs.listener, "action": "REJECT"}),
        (f"/v2/lbaas/l7policies/{theirs.policy}/rules", "rule", {"type": "PATH", "compare_type": "EQUAL_TO",
                                                                 "value": "/x"}),
        ("/v2/lbaas/loadbalancers", "loadbalancer", {"project_id": theirs.project,
                                                     "vip_subnet_id": str(uuid.uuid4())}),
    ]
    for path, key, body in creates:
        _forbidden(api.post(path, json={key: body}, headers=as_me), theirs)
    # References from my objects to their pools are refused too (as a missing pool).
    references = [
        ("POST", "/v2/lbaas/l7policies", {"l7policy": {"listener_id": mine.listener,
                                                       "action": "REDIRECT_TO_POOL",
                                                       "redirect_pool_id": theirs.spare_pool}}),
        ("PUT", f"/v2/lbaas/l7policies/{mine.policy}", {"l7policy": {"redirect_pool_id": theirs.spare_pool}}),
        ("PUT", f"/v2/lbaas/listeners/{mine.listener}", {"listener": {"default_pool_id": theirs.spare_pool}}),
        ("POST", "/v2/lbaas/listeners", {"listener": {"loadbalancer_id": mine.lb, "protocol": "HTTP",
                                                      "protocol_port": 82, "default_pool_id": theirs.pool}}),
    ]
    for method, path, body in references:
        resp = api.request(method, path, json=body, headers=as_me)
        assert resp.status_code in (400, 404), (path, resp.text)
        wait_active(api, mine.lb, as_me)
    assert snapshot(api, theirs) == before
    with session_scope() as session:
        assert consistency.problems(session) == []


def test_quota_counts_only_own_objects(api: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    resp = api.put(f"/v2/lbaas/quotas/{mine.project}", json={"quota": {"loadbalancer": 2, "listener": 2}},
                   headers=ADMIN)
    assert resp.status_code == 202, resp.text
    for _ in range(3):
        resp = api.post("/v2/lbaas/loadbalancers", headers=theirs.headers, json={"loadbalancer": {
            "vip_subnet_id": str(uuid.uuid4())}})
        assert resp.status_code == 201, resp.text
    resp = api.post("/v2/lbaas/listeners", headers=mine.headers, json={"listener": {
        "loadbalancer_id": mine.lb, "protocol": "TCP", "protocol_port": 90}})
    assert resp.status_code == 201, resp.text
    created = api.post("/v2/lbaas/loadbalancers", headers=mine.headers, json={"loadbalancer": {
        "vip_subnet_id": str(uuid.uuid4())}})
    assert created.status_code == 201, created.text
    over = api.post("/v2/lbaas/loadbalancers", headers=mine.headers, json={"loadbalancer": {
        "vip_subnet_id": str(uuid.uuid4())}})
    assert over.status_code == 403
    assert over.json()["faultstring"] == "Quota has been met for resources: Load Balancer"
    quotas = api.get("/v2/lbaas/quotas", headers=mine.headers)
    assert theirs.project not in quotas.text
