"""One shared world for the RBAC matrix: built once per module by an admin, read by all.

Everything runs with `auth_strategy = testing`, so each request's identity is whatever
headers the test sends. The module builds, as admin with the noop provider:

* `active`: an ACTIVE load balancer of the owner project with a listener, a pool with a
  member and a health monitor, an L7 policy and an L7 rule: what reads are checked on;
* `locked`: the same tree whose load balancer is then left in PENDING_UPDATE (as while a
  provider works on it): a write that passes policy reaches the lock and gets 409, so
  writes are checked without changing anything;
* an amphora of the locked LB with statistics, a flavor and flavor profile, an
  availability zone and profile, a quota record of the owner, and a load balancer of
  another project (so list filtering has something to filter out).
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from octavia.api import policy
from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models
from octavia.db.api import session_scope
from octavia.network import loader as network_loader
from tests.functional import databases
from tests.functional.conftest import ApiClient

CONF = config.CONF
LBS, LISTENERS, POOLS = "/v2/lbaas/loadbalancers", "/v2/lbaas/listeners", "/v2/lbaas/pools"
HMS, L7P = "/v2/lbaas/healthmonitors", "/v2/lbaas/l7policies"

ADMIN_HEADERS = {"X-Roles": "admin,member,reader"}


@dataclass
class Tree:
    lb: str = ""
    listener: str = ""
    pool: str = ""
    member: str = ""
    hm: str = ""
    l7policy: str = ""
    l7rule: str = ""
    bare_pool: str = ""


@dataclass
class World:
    """Ids of everything the matrix talks about, and the projects involved."""

    owner: str
    other: str
    admin_project: str
    active: Tree = field(default_factory=Tree)
    locked: Tree = field(default_factory=Tree)
    other_lb: str = ""
    amphora: str = ""
    flavor: str = ""
    flavor_name: str = ""
    flavor_profile: str = ""
    az: str = ""
    az_profile: str = ""

    def ids(self) -> dict[str, str]:
        """Placeholders for the matrix's path templates."""
        out = {"owner": self.owner, "other": self.other, "other_lb": self.other_lb,
               "amphora": self.amphora, "flavor": self.flavor, "flavor_name": self.flavor_name,
               "flavor_profile": self.flavor_profile,
               "az": self.az, "az_profile": self.az_profile, "missing": str(uuid.uuid4())}
        for prefix, tree in (("", self.active), ("locked_", self.locked)):
            out.update({prefix + k: v for k, v in vars(tree).items()})
        return out


def _module_engine(state: str, template: dict[str, Any]) -> Any:
    """A database for this module, from the session's migrated template (as the `db` fixture)."""
    if "sqlite_template" in template:
        target = os.path.join(state, "octavia.sqlite")
        shutil.copyfile(template["sqlite_template"], target)
        return db_api.make_engine(f"sqlite:///{target}")
    engine = db_api.make_engine(template["server_url"])
    databases.empty_tables(engine, template["tables"])
    return engine


@pytest.fixture(scope="module")
def rbac_client(tmp_path_factory: pytest.TempPathFactory, migrated_template: dict[str, Any]
                ) -> Iterator[ApiClient]:
    """The real app over a migrated database, `testing` auth, noop provider and network."""
    from octavia.api.app import create_app
    from octavia.providers.driver_agent import start_driver_agent

    state = str(tmp_path_factory.mktemp("rbac-state"))
    settings: list[tuple[str, Any, str | None]] = [
        ("state_path", state, None),
        ("default_provider_driver", "noop_driver", "api_settings"),
        ("auth_strategy", "testing", "api_settings"),
        ("network_driver", "network_noop_driver", "controller_worker"),
    ]
    for name, value, group in settings:
        CONF.set_override(name, value, group=group)
    network_loader.reset()
    policy.reset()
    engine = _module_engine(state, migrated_template)
    db_api.set_engine(engine)
    agent = start_driver_agent()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            api = ApiClient(client)
            api.headers = {}
            yield api
    finally:
        agent.stop()
        db_api.set_engine(None)
        engine.dispose()
        for name, _value, group in reversed(settings):
            CONF.clear_override(name, group=group)
        policy.reset()


def _wait_active(api: ApiClient, path: str, key: str, headers: dict[str, str]) -> None:
    """The noop provider completes asynchronously: poll (as admin) until ACTIVE."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        resp = api.get(path, headers=headers)
        if resp.status_code == 200 and resp.json()[key]["provisioning_status"] == "ACTIVE":
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never became ACTIVE")


def _created(api: ApiClient, path: str, key: str, body: dict[str, Any], headers: dict[str, str]) -> str:
    resp = api.post(path, json={key: body}, headers=headers)
    assert resp.status_code == 201, resp.text
    return str(resp.json()[key]["id"])


def _build_tree(api: ApiClient, project: str, admin: dict[str, str]) -> Tree:
    """LB -> listener -> pool (member, HM) and L7 policy -> rule, each waited to ACTIVE."""
    t = Tree()
    lb = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "project_id": project}},
                  headers=admin)
    assert lb.status_code == 201, lb.text
    t.lb = lb.json()["loadbalancer"]["id"]
    wait = f"{LBS}/{t.lb}"

    def settled() -> None:
        _wait_active(api, wait, "loadbalancer", admin)

    settled()
    t.listener = _created(api, LISTENERS, "listener",
                          {"loadbalancer_id": t.lb, "protocol": "HTTP", "protocol_port": 80}, admin)
    settled()
    t.pool = _created(api, POOLS, "pool", {"listener_id": t.listener, "protocol": "HTTP",
                                           "lb_algorithm": "ROUND_ROBIN"}, admin)
    settled()
    t.bare_pool = _created(api, POOLS, "pool", {"loadbalancer_id": t.lb, "protocol": "HTTP",
                                                "lb_algorithm": "ROUND_ROBIN"}, admin)
    settled()
    t.member = _created(api, f"{POOLS}/{t.pool}/members", "member",
                        {"address": "192.0.2.10", "protocol_port": 80}, admin)
    settled()
    t.hm = _created(api, HMS, "healthmonitor", {"pool_id": t.pool, "type": "HTTP", "delay": 5,
                                                "timeout": 3, "max_retries": 3}, admin)
    settled()
    t.l7policy = _created(api, L7P, "l7policy", {"listener_id": t.listener, "action": "REJECT"}, admin)
    settled()
    t.l7rule = _created(api, f"{L7P}/{t.l7policy}/rules", "rule",
                        {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/x"}, admin)
    settled()
    return t


def _amphora_with_stats(lb_id: str, listener_id: str) -> str:
    amp_id = str(uuid.uuid4())
    with session_scope(write=True) as s:
        s.add(models.Amphora(
            id=amp_id, load_balancer_id=lb_id, status="ALLOCATED", compute_id=str(uuid.uuid4()),
            lb_network_ip="192.0.2.20", role="STANDALONE", cert_busy=False,
            cert_expiration=datetime.datetime(2030, 1, 1), vrrp_id=1, vrrp_priority=100,
            image_id=str(uuid.uuid4()), compute_flavor="m1.amp",
        ))
        s.add(models.ListenerStatistics(listener_id=listener_id, amphora_id=amp_id, bytes_in=1,
                                        bytes_out=2, active_connections=0, total_connections=3,
                                        request_errors=0))
    return amp_id


@pytest.fixture(scope="module")
def world(rbac_client: ApiClient) -> World:
    api = rbac_client
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    w = World(owner=uuid.uuid4().hex, other=uuid.uuid4().hex, admin_project=uuid.uuid4().hex)
    admin = {"X-Project-Id": w.admin_project, **ADMIN_HEADERS}
    w.active = _build_tree(api, w.owner, admin)
    w.locked = _build_tree(api, w.owner, admin)
    with session_scope(write=True) as s:
        s.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == w.locked.lb)
                  .values(provisioning_status="PENDING_UPDATE"))
    other = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()),
                                                 "project_id": w.other}}, headers=admin)
    assert other.status_code == 201, other.text
    w.other_lb = other.json()["loadbalancer"]["id"]
    _wait_active(api, f"{LBS}/{w.other_lb}", "loadbalancer", admin)
    w.amphora = _amphora_with_stats(w.locked.lb, w.locked.listener)
    w.flavor_profile = _created(api, "/v2/lbaas/flavorprofiles", "flavorprofile", {
        "name": f"rbac-fp-{tag}", "provider_name": "noop_driver", "flavor_data": "{}"}, admin)
    w.flavor_name = f"rbac-flavor-{tag}"
    w.flavor = _created(api, "/v2/lbaas/flavors", "flavor", {
        "name": w.flavor_name, "flavor_profile_id": w.flavor_profile}, admin)
    w.az_profile = _created(api, "/v2/lbaas/availabilityzoneprofiles", "availability_zone_profile", {
        "name": f"rbac-azp-{tag}", "provider_name": "noop_driver", "availability_zone_data": "{}"}, admin)
    w.az = f"rbac-az-{tag}"
    resp = api.post("/v2/lbaas/availabilityzones", headers=admin, json={"availability_zone": {
        "name": w.az, "availability_zone_profile_id": w.az_profile}})
    assert resp.status_code == 201, resp.text
    resp = api.put(f"/v2/lbaas/quotas/{w.owner}", json={"quota": {"listener": -1}}, headers=admin)
    assert resp.status_code == 202, resp.text
    return w
