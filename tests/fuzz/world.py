"""A populated API for the fuzzer to work on, and the schemathesis config pointing at it.

Random ids only ever reach the 404 branch of a route. So before fuzzing, a few complete
load balancer trees (listener, pools, member, health monitor, L7 policy and rule) and
the admin objects (flavor, flavor profile, availability zone and profile) are built
through the API, and schemathesis "dictionaries" make most generated path ids and
parent references one of these real ids (the rest stay random).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

PROBABILITY = 0.8


class Builder:
    def __init__(self, client: httpx.Client, admin_headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.admin_headers = admin_headers
        self.ids: dict[str, list[str]] = defaultdict(list)

    def post(self, path: str, key: str, body: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        headers = self.admin_headers if admin else None
        resp = self.client.post(path, json={key: body}, headers=headers)
        assert resp.status_code == 201, resp.text
        return dict(resp.json()[key])

    def wait_lb(self, lb_id: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lb = self.client.get(f"/v2/lbaas/loadbalancers/{lb_id}").json()["loadbalancer"]
            if lb["provisioning_status"] == "ACTIVE":
                return
            time.sleep(0.02)
        raise AssertionError(f"load balancer {lb_id} never became ACTIVE")

    def tree(self, n: int) -> None:
        lb = self.post("/v2/lbaas/loadbalancers", "loadbalancer",
                       {"name": f"fuzz-{n}", "vip_subnet_id": str(uuid.uuid4())})
        lb_id = lb["id"]
        self.wait_lb(lb_id)
        listener = self.post("/v2/lbaas/listeners", "listener",
                             {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 80})
        self.wait_lb(lb_id)
        pool = self.post("/v2/lbaas/pools", "pool", {"listener_id": listener["id"], "protocol": "HTTP",
                                                     "lb_algorithm": "ROUND_ROBIN"})
        self.wait_lb(lb_id)
        spare = self.post("/v2/lbaas/pools", "pool", {"loadbalancer_id": lb_id, "protocol": "HTTP",
                                                      "lb_algorithm": "LEAST_CONNECTIONS"})
        self.wait_lb(lb_id)
        member = self.post(f"/v2/lbaas/pools/{pool['id']}/members", "member",
                           {"address": f"192.0.2.{10 + n}", "protocol_port": 8080})
        self.wait_lb(lb_id)
        hm = self.post("/v2/lbaas/healthmonitors", "healthmonitor",
                       {"pool_id": pool["id"], "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3})
        self.wait_lb(lb_id)
        policy = self.post("/v2/lbaas/l7policies", "l7policy",
                           {"listener_id": listener["id"], "action": "REDIRECT_TO_POOL",
                            "redirect_pool_id": spare["id"]})
        self.wait_lb(lb_id)
        rule = self.post(f"/v2/lbaas/l7policies/{policy['id']}/rules", "rule",
                         {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"})
        self.wait_lb(lb_id)
        for kind, value in (("lb", lb_id), ("listener", listener["id"]), ("pool", pool["id"]),
                            ("pool", spare["id"]), ("member", member["id"]), ("hm", hm["id"]),
                            ("policy", policy["id"]), ("rule", rule["id"])):
            self.ids[kind].append(value)

    def admin_objects(self) -> None:
        fp = self.post("/v2/lbaas/flavorprofiles", "flavorprofile",
                       {"name": "fuzz", "provider_name": "noop_driver", "flavor_data": "{}"}, admin=True)
        flavor = self.post("/v2/lbaas/flavors", "flavor", {"name": "fuzz", "flavor_profile_id": fp["id"]},
                           admin=True)
        azp = self.post("/v2/lbaas/availabilityzoneprofiles", "availability_zone_profile",
                        {"name": "fuzz", "provider_name": "noop_driver", "availability_zone_data": "{}"},
                        admin=True)
        az = self.post("/v2/lbaas/availabilityzones", "availability_zone",
                       {"name": "fuzz-az", "availability_zone_profile_id": azp["id"]}, admin=True)
        self.ids["profile"] += [fp["id"], azp["id"]]
        self.ids["flavor"].append(flavor["id"])
        self.ids["az"].append(az["name"])


# Kinds of ids that belong to a project (flavors and availability zones are everyone's).
PROJECT_KINDS = ("lb", "listener", "pool", "member", "hm", "policy", "rule")


def build(base_url: str, headers: dict[str, str], trees: int = 3,
          admin_headers: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Create the world through the API (admin objects with `admin_headers`); ids by kind."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        builder = Builder(client, admin_headers)
        for n in range(trees):
            builder.tree(n)
        builder.admin_objects()
    return dict(builder.ids)


# parameter binding -> dictionary (kind of id)
BINDINGS = {
    "path.lb_id": "lb", "path.listener_id": "listener", "path.pool_id": "pool",
    "path.member_id": "member", "path.hm_id": "hm", "path.policy_id": "policy", "path.rule_id": "rule",
    "path.profile_id": "profile", "path.flavor_id": "flavor", "path.name": "az",
    "path.provider": "provider", "path.project_id": "project",
    "body.listener.loadbalancer_id": "lb", "body.listener.default_pool_id": "pool",
    "body.pool.loadbalancer_id": "lb", "body.pool.listener_id": "listener",
    "body.healthmonitor.pool_id": "pool", "body.l7policy.listener_id": "listener",
    "body.l7policy.redirect_pool_id": "pool", "body.loadbalancer.flavor_id": "flavor",
    "body.loadbalancer.availability_zone": "az", "body.loadbalancer.provider": "provider",
    "body.flavor.flavor_profile_id": "profile",
    "body.availability_zone.availability_zone_profile_id": "profile",
    "body.flavorprofile.provider_name": "provider",
    "body.availability_zone_profile.provider_name": "provider",
    "body.flavorprofile.flavor_data": "json", "body.availability_zone_profile.availability_zone_data": "json",
}


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def write_config(path: Path, ids: dict[str, list[str]], project: str) -> Path:
    """A schemathesis.toml binding path ids and parent references to the world's ids."""
    kinds = dict(ids, provider=["noop_driver"], project=[project], json=["{}"])
    lines = []
    for kind, values in sorted(kinds.items()):
        lines += [f"[dictionaries.{kind}]", f"values = {_toml_list(values)}", ""]
    lines.append("[parameters]")
    for binding, kind in BINDINGS.items():
        lines.append(f'"{binding}" = {{ dictionary = "{kind}", probability = {PROBABILITY} }}')
    path.write_text("\n".join(lines) + "\n")
    return path
